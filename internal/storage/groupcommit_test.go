package storage_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func groupWrite(db *storage.DB, i int) error {
	return storage.InGroupTxForTest(db, context.Background(), func(add func(audit.Event) error) error {
		return add(audit.Event{Action: "contact.create", ObjectType: "contact", ObjectID: fmt.Sprint(i)})
	})
}

// A write after Close is refused, at once, whether the group-commit writer
// ran before Close or never started; none waits forever.
func TestGroupCommitAfterClose(t *testing.T) {
	for _, e := range storagetest.Engines() {
		for _, started := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/started=%v", e.Name, started), func(t *testing.T) {
				ctx := context.Background()
				db, err := storage.Open(ctx, e.DSN(t))
				if err != nil {
					t.Fatal(err)
				}
				if _, err := db.Migrate(ctx); err != nil {
					t.Fatal(err)
				}
				if started {
					if err := groupWrite(db, 0); err != nil {
						t.Fatal(err)
					}
				}
				db.Close()
				done := make(chan error, 1)
				go func() {
					var errs []error
					for i := range 200 {
						if err := groupWrite(db, i); err == nil {
							errs = append(errs, fmt.Errorf("write %d after Close succeeded", i))
						}
					}
					if len(errs) > 0 {
						done <- errs[0]
						return
					}
					done <- nil
				}()
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("a write after Close hangs")
				}
			})
		}
	}
}

// A request whose work panics fails alone, with an internal error: its
// events are rolled back, the others in its batch commit, and the writer
// goes on serving.
func TestGroupCommitPanicFailsOneRequest(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		const n = 24
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = storage.InGroupTxForTest(db, ctx, func(add func(audit.Event) error) error {
					if err := add(audit.Event{ActorUserID: int64(i + 1), Action: "contact.create", ObjectType: "contact",
						ObjectID: fmt.Sprint(i)}); err != nil {
						return err
					}
					if i%5 == 0 {
						panic("boom")
					}
					return nil
				})
			})
		}
		wg.Wait()
		kept := 0
		for i, err := range errs {
			switch {
			case i%5 == 0 && apperr.CodeOf(err) != apperr.Internal:
				t.Errorf("request %d panicked: %v, want an internal error", i, err)
			case i%5 != 0 && err != nil:
				t.Errorf("request %d: %v", i, err)
			case i%5 != 0:
				kept++
			}
		}
		if err := groupWrite(db, n); err != nil {
			t.Fatalf("after the panic: %v", err)
		}
		kept++
		if got := verify(t, db); got != (verdict{checked: int64(kept)}) {
			t.Fatalf("VerifyAudit = %+v, want %d checked and whole", got, kept)
		}
		if es, err := db.AuditEvents(ctx, storage.AuditFilter{ActorUserID: 1, Limit: 10}); err != nil || len(es) != 0 {
			t.Errorf("the panicking request left %d events (%v)", len(es), err)
		}
	})
}

// A stalled database (here: the audit chain's head locked by another
// connection) fails the waiting batch with Unavailable once the batch's
// deadline passes, instead of holding it for as long as the stall lasts;
// once the stall ends, writes go through again.
func TestGroupCommitStalledDatabase(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			dsn := e.DSN(t)
			db := storagetest.Open(t, dsn, storage.WithBatchTimeout(300*time.Millisecond))
			if err := groupWrite(db, 0); err != nil {
				t.Fatal(err)
			}
			driver, lock := "pgx", `SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE`
			if e.Name == storage.SQLite {
				driver, lock = "sqlite", `UPDATE audit_head SET seq = seq WHERE id = 1`
			}
			other, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			tx, err := other.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.ExecContext(ctx, lock); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			err = groupWrite(db, 1)
			if took := time.Since(start); apperr.CodeOf(err) != apperr.Unavailable || took > 5*time.Second {
				t.Errorf("stalled write: %v after %v, want unavailable after about 300ms", err, took)
			}
			if err := tx.Rollback(); err != nil {
				t.Fatal(err)
			}
			if err := groupWrite(db, 2); err != nil {
				t.Fatalf("after the stall: %v", err)
			}
		})
	}
}
