// Package rosterrun runs roster imports for the web UI and the API in the
// background: it spools the upload to a file in the data directory (mode
// 0600, removed when the import ends), checks its header
// while the request waits (a file that cannot be used is refused at once),
// records the run, and imports it after the request has been answered. The
// run's progress, counts and rejects live in the database (roster_imports),
// so any replica can show them and they outlive the process. A Runner
// belongs to the server's lifecycle: shutdown waits for the imports in
// flight, then cancels those still running (they end failed), so none is
// cut off midway by the process exiting or left writing to a closed
// database.
package rosterrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/roster"
	"dayaq/internal/storage"
)

// MaxBytes is the largest roster accepted from the web or the API: about
// 1.5 million rows.
const MaxBytes = 128 << 20

// Store is what an import needs of storage.
type Store interface {
	Now() time.Time
	StartRosterImport(ctx context.Context, a audit.Actor, fileName string) (int64, error)
	ImportRoster(ctx context.Context, a audit.Actor, id int64, src storage.RosterSource, o storage.RosterImportOptions) (storage.RosterCounts, error)
}

// Runner runs the imports of one server. Its zero value is not usable;
// make one with NewRunner.
type Runner struct {
	st    Store
	log   *slog.Logger
	spool string // where uploads wait for their import
	ctx   context.Context
	stop  context.CancelFunc
	mu    sync.Mutex // orders Start's wg.Add against Close
	wg    sync.WaitGroup
	done  bool
}

// NewRunner returns a runner importing into st that spools uploads in
// spoolDir (created 0700 if missing). Give it a directory beside the data
// (serve uses the data directory's "spool"): an upload holds children's
// names and birth dates, and the system temp directory is shared and
// outlives a crash. "" spools in the system temp directory (tests).
func NewRunner(st Store, log *slog.Logger, spoolDir string) *Runner {
	ctx, stop := context.WithCancel(context.Background())
	return &Runner{st: st, log: log, spool: spoolDir, ctx: ctx, stop: stop}
}

// errClosed refuses an import started after Close.
var errClosed = apperr.New(apperr.Unavailable, "error.unavailable")

// Close waits for the imports in flight until ctx ends, then cancels those
// still running (storage marks them failed) and waits for them to stop.
// Imports started after Close are refused.
func (rn *Runner) Close(ctx context.Context) {
	rn.mu.Lock()
	rn.done = true
	rn.mu.Unlock()
	idle := make(chan struct{})
	go func() { rn.wg.Wait(); close(idle) }()
	select {
	case <-idle:
	case <-ctx.Done():
		rn.stop()
		<-idle
	}
	rn.stop()
}

// Wait waits for the imports in flight (tests).
func (rn *Runner) Wait() { rn.wg.Wait() }

// Start takes the roster in body (at most MaxBytes) for a, and returns the
// ID of the import, which goes on in the background.
func (rn *Runner) Start(ctx context.Context, a audit.Actor, fileName string, body io.Reader) (int64, error) {
	if !access.CanAddChildren(a.Principal) {
		return 0, apperr.New(apperr.Forbidden, "roster.error.role")
	}
	rn.mu.Lock()
	if rn.done {
		rn.mu.Unlock()
		return 0, errClosed
	}
	rn.wg.Add(1)
	rn.mu.Unlock()
	started := false
	defer func() {
		if !started {
			rn.wg.Done()
		}
	}()
	if rn.spool != "" {
		if err := os.MkdirAll(rn.spool, 0o700); err != nil {
			return 0, fmt.Errorf("rosterrun: spool: %w", err)
		}
	}
	f, err := os.CreateTemp(rn.spool, "roster-*.csv")
	if err != nil {
		return 0, fmt.Errorf("rosterrun: spool: %w", err)
	}
	cleanup := func() { f.Close(); os.Remove(f.Name()) }
	n, err := io.Copy(f, io.LimitReader(body, MaxBytes+1))
	if err != nil {
		cleanup()
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return 0, apperr.Validation(apperr.Field("file", "roster.error.too_large", MaxBytes>>20))
		}
		return 0, fmt.Errorf("rosterrun: read upload: %w", err)
	}
	if n > MaxBytes {
		cleanup()
		return 0, apperr.Validation(apperr.Field("file", "roster.error.too_large", MaxBytes>>20))
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		cleanup()
		return 0, err
	}
	if _, err := roster.NewReader(f, rn.st.Now()); err != nil {
		cleanup()
		if e := apperr.As(err); e.Code == apperr.Invalid {
			return 0, apperr.Validation(apperr.Field("file", e.Key, e.Args...))
		}
		return 0, err
	}
	id, err := rn.st.StartRosterImport(ctx, a, fileName)
	if err != nil {
		cleanup()
		return 0, err
	}
	started = true
	go func() {
		defer rn.wg.Done()
		defer cleanup()
		// The request's values (its ID for the logs) but the runner's
		// lifetime: the request ends now, the import when it is done or
		// the server stops.
		ctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		stop := context.AfterFunc(rn.ctx, cancel)
		defer stop()
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			rn.log.ErrorContext(ctx, "roster import failed", "import", id, "err", err)
			return
		}
		rd, err := roster.NewReader(f, rn.st.Now())
		if err == nil {
			_, err = rn.st.ImportRoster(ctx, a, id, rd, storage.RosterImportOptions{KeepRejects: true})
		}
		if err != nil {
			// The run is marked failed by storage; the error names no child.
			rn.log.ErrorContext(ctx, "roster import failed", "import", id, "err", err)
		}
	}()
	return id, nil
}

// SpoolDir is where serve spools uploads: beside the data.
func SpoolDir(dataDir string) string { return filepath.Join(dataDir, "spool") }
