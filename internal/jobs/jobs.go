// Package jobs runs Dayaq's periodic background work (delivering the
// outbox, escalating overdue work) inside `dayaq serve`. With several
// replicas on one PostgreSQL, the Locker lets only one replica run a job at
// a time and skips a run another replica did moments ago; on SQLite the one
// writer makes that trivial. Time comes from an injected clock.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Job is one periodic job.
type Job struct {
	Name  string        // unique; names the lock
	Every time.Duration // how often it runs, across all replicas
	Run   func(ctx context.Context, now time.Time) error
}

// Locker runs fn only if no other replica is running the job named name
// and none started it within the last every/2; ran says whether fn ran.
// storage.DB is one.
type Locker interface {
	RunExclusive(ctx context.Context, name string, every time.Duration, fn func(ctx context.Context) error) (ran bool, err error)
}

// Runner runs jobs until stopped.
type Runner struct {
	locker Locker
	now    func() time.Time
	log    *slog.Logger
	jobs   []Job

	mu     sync.Mutex
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New returns a runner of jobs; now is the clock they read.
func New(locker Locker, now func() time.Time, log *slog.Logger, jobs ...Job) *Runner {
	return &Runner{locker: locker, now: now, log: log, jobs: jobs}
}

// Start starts one goroutine per job; each runs the job at once and then
// every Job.Every, until ctx ends or Stop is called.
func (r *Runner) Start(ctx context.Context) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		return
	}
	ctx, r.cancel = context.WithCancel(ctx)
	for _, j := range r.jobs {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			t := time.NewTicker(j.Every)
			defer t.Stop()
			for {
				r.RunOnce(ctx, j)
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
}

// Stop stops the jobs and waits for runs in progress to end.
func (r *Runner) Stop() {
	r.mu.Lock()
	cancel := r.cancel
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	r.wg.Wait()
}

// RunOnce runs j now if the locker lets it, logging a failure; it reports
// whether it ran.
func (r *Runner) RunOnce(ctx context.Context, j Job) bool {
	ran, err := r.locker.RunExclusive(ctx, j.Name, j.Every, func(ctx context.Context) error {
		return j.Run(ctx, r.now())
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		r.log.ErrorContext(ctx, "job failed", "job", j.Name, "err", err)
	}
	return ran
}
