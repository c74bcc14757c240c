package storage_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"dayaq/internal/audit"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// Statements filed to run later (pipelined on PostgreSQL, ADR 0027) still
// belong to their request: one that fails there fails only its request,
// whose audit events are rolled back with it; a request that fails before
// any awaited statement leaves nothing; the others commit, their
// arguments (text, times, NULLs, quotes) arrive intact, and the audit
// chain stays whole. On SQLite the same statements run at once.
func TestGroupCommitLaterStatements(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		const n = 60
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = storage.InGroupTxLaterForTest(db, ctx, func(add func(audit.Event) error, later func(string, ...any) error) error {
					switch i % 4 {
					case 1: // fails in a statement nobody awaited
						if err := add(audit.Event{ActorUserID: int64(i + 1), Action: "contact.create", ObjectType: "contact", ObjectID: fmt.Sprint(i)}); err != nil {
							return err
						}
						return later(`INSERT INTO no_such_table (x) VALUES (?)`, i)
					case 2: // refused before any awaited statement
						if err := later(`UPDATE audit_head SET seq = seq WHERE id = ?`, 1); err != nil {
							return err
						}
						return boom
					}
					return add(audit.Event{ActorUserID: int64(i + 1), Action: "contact.create", ObjectType: "contact",
						ObjectID: fmt.Sprint(i), IP: "127.0.0.1", Reason: "it's \"quoted\"; -- and $1 ?", Details: `{"n":` + fmt.Sprint(i) + `}`})
				})
			})
		}
		wg.Wait()
		kept := 0
		for i, err := range errs {
			switch i % 4 {
			case 1:
				if err == nil || !strings.Contains(err.Error(), "no_such_table") {
					t.Errorf("request %d: %v, want its own failure", i, err)
				}
			case 2:
				if !errors.Is(err, boom) {
					t.Errorf("request %d: %v, want boom", i, err)
				}
			default:
				if err != nil {
					t.Errorf("request %d: %v", i, err)
				}
				kept++
			}
		}
		if got := verify(t, db); got != (verdict{checked: int64(kept)}) {
			t.Fatalf("VerifyAudit = %+v, want %d checked and whole", got, kept)
		}
		for i := range n {
			es, err := db.AuditEvents(ctx, storage.AuditFilter{ActorUserID: int64(i + 1), Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			want := 0
			if i%4 == 0 || i%4 == 3 {
				want = 1
			}
			if len(es) != want {
				t.Fatalf("request %d left %d events, want %d", i, len(es), want)
			}
			if want == 1 && (es[0].Reason != `it's "quoted"; -- and $1 ?` || es[0].Details != `{"n":`+fmt.Sprint(i)+`}`) {
				t.Errorf("request %d: reason %q details %q", i, es[0].Reason, es[0].Details)
			}
		}
	})
}
