package main

import (
	"context"
	"log/slog"
	"time"

	"dayaq/internal/blob"
	"dayaq/internal/jobs"
	"dayaq/internal/storage"
)

// sweepEvery is how often the orphaned attachments are swept (and once at
// start).
const sweepEvery = 6 * time.Hour

// sweepJobs is the job that removes blobs no attachment row points at and
// the temporary files a crash left behind (ADR 0028); none when
// attachments are off.
func sweepJobs(db *storage.DB, blobs *blob.Dir, log *slog.Logger) []jobs.Job {
	if blobs == nil {
		return nil
	}
	return []jobs.Job{{Name: "sweep_attachments", Every: sweepEvery, Run: func(ctx context.Context, now time.Time) error {
		n, err := blobs.Sweep(ctx, now, db.ReferencedBlobKeys)
		if n > 0 {
			log.InfoContext(ctx, "removed orphaned attachment files", "files", n)
		}
		return err
	}}}
}
