package storage_test

import (
	"context"
	"testing"
	"time"

	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// A job stopped by shutdown (its context cancelled while it ran) that
// still finished its work reports success, and its end is recorded.
func TestRunExclusiveRecordsEndAfterShutdown(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)}
			db := storagetest.Open(t, e.DSN(t), storage.WithClock(clk.Now))
			ctx, cancel := context.WithCancel(context.Background())
			ran, err := db.RunExclusive(ctx, "test", time.Minute, func(context.Context) error {
				cancel() // shutdown arrives while the job runs; the job's own work is done
				return nil
			})
			if !ran || err != nil {
				t.Fatalf("ran %v, err %v; want a good run", ran, err)
			}
			rs, err := db.JobRuns(context.Background())
			if err != nil || len(rs) != 1 || rs[0].FinishedAt.IsZero() || rs[0].LastError != "" {
				t.Errorf("job runs %+v (%v), want the run's end recorded", rs, err)
			}
		})
	}
}
