package jobs_test

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"dayaq/internal/jobs"
	"dayaq/internal/storage/storagetest"
)

func TestMain(m *testing.M) { storagetest.Main(m) }

// The runner runs each job at start and then periodically, keeps going
// after a failure, and stops when asked, waiting for a run in progress.
func TestRunnerRunsAndStops(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	var ticks, fails atomic.Int32
	var inRun atomic.Bool
	r := jobs.New(db, db.Now, slog.New(slog.DiscardHandler),
		jobs.Job{Name: "tick", Every: 20 * time.Millisecond, Run: func(ctx context.Context, now time.Time) error {
			inRun.Store(true)
			defer inRun.Store(false)
			if now.IsZero() {
				return errors.New("no clock")
			}
			ticks.Add(1)
			time.Sleep(5 * time.Millisecond)
			return nil
		}},
		jobs.Job{Name: "fail", Every: 20 * time.Millisecond, Run: func(context.Context, time.Time) error {
			fails.Add(1)
			return errors.New("always fails")
		}},
	)
	r.Start(context.Background())
	deadline := time.Now().Add(10 * time.Second)
	for ticks.Load() < 3 || fails.Load() < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("after 10 s: %d ticks, %d failing runs; want 3 each", ticks.Load(), fails.Load())
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.Stop()
	if inRun.Load() {
		t.Error("Stop returned during a run")
	}
	n := ticks.Load()
	time.Sleep(100 * time.Millisecond)
	if ticks.Load() != n {
		t.Error("the job ran after Stop")
	}
	runs, err := db.JobRuns(context.Background())
	if err != nil || len(runs) != 2 || runs[0].Name != "fail" || runs[0].LastError != "always fails" {
		t.Errorf("job runs %+v, %v", runs, err)
	}
}
