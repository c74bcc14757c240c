// Package rosterrun runs roster imports for the web UI and the API in the
// background: it spools the upload to a temporary file, checks its header
// while the request waits (a file that cannot be used is refused at once),
// records the run, and imports it after the request has been answered. The
// run's progress, counts and rejects live in the database (roster_imports),
// so any replica can show them and they outlive the process.
package rosterrun

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
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

// CanImport reports whether p may import rosters at all; storage decides
// for each row's school.
func CanImport(p access.Principal) bool {
	return p.HasAny(access.CityAdmin, access.CitySpecialist, access.SchoolHead, access.SchoolPsychologist)
}

// Start takes the roster in body (at most MaxBytes) for a, and returns the
// ID of the import, which goes on in the background. done, if not nil, is
// called when it ends (tests wait on it).
func Start(ctx context.Context, st Store, log *slog.Logger, a audit.Actor, fileName string, body io.Reader, done func()) (int64, error) {
	if !CanImport(a.Principal) {
		return 0, apperr.New(apperr.Forbidden, "roster.error.role")
	}
	f, err := os.CreateTemp("", "dayaq-roster-*.csv")
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
	if _, err := roster.NewReader(f, st.Now()); err != nil {
		cleanup()
		if e := apperr.As(err); e.Code == apperr.Invalid {
			return 0, apperr.Validation(apperr.Field("file", e.Key, e.Args...))
		}
		return 0, err
	}
	id, err := st.StartRosterImport(ctx, a, fileName)
	if err != nil {
		cleanup()
		return 0, err
	}
	go func() {
		defer cleanup()
		if done != nil {
			defer done()
		}
		ctx := context.WithoutCancel(ctx)
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			log.ErrorContext(ctx, "roster import failed", "import", id, "err", err)
			return
		}
		rd, err := roster.NewReader(f, st.Now())
		if err == nil {
			_, err = st.ImportRoster(ctx, a, id, rd, storage.RosterImportOptions{KeepRejects: true})
		}
		if err != nil {
			// The run is marked failed by storage; the error names no child.
			log.ErrorContext(ctx, "roster import failed", "import", id, "err", err)
		}
	}()
	return id, nil
}
