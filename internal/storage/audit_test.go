package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// recordN appends n events and returns them as AuditEvents reads them back,
// oldest first.
func recordN(t testing.TB, db *storage.DB, n int) []audit.Event {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		e := audit.Event{ActorUserID: int64(1 + i%3), ActorOrgID: 9, Action: "child.read", ObjectType: "child",
			ObjectID: fmt.Sprint(100 + i), ChildID: int64(100 + i), IP: "192.0.2.1", RequestID: fmt.Sprintf("req-%d", i),
			Details: `{"n":` + fmt.Sprint(i) + `}`}
		if i%4 == 3 {
			e.BreakGlass, e.Reason = true, "urgent safeguarding call"
		}
		if err := db.RecordAudit(ctx, e); err != nil {
			t.Fatalf("RecordAudit %d: %v", i, err)
		}
	}
	es, err := db.AuditEvents(ctx, storage.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

// allowTampering drops the triggers that keep audit_events append-only, as
// someone with full access to the database could.
func allowTampering(t testing.TB, db *storage.DB) {
	t.Helper()
	stmts := []string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`}
	if db.Engine() == storage.Postgres {
		stmts = []string{`DROP TRIGGER audit_events_no_change ON audit_events`}
	}
	for _, s := range stmts {
		if err := db.ExecRaw(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

type verdict struct {
	checked, firstBad int64
	reason            string
}

func verify(t testing.TB, db *storage.DB) verdict {
	t.Helper()
	checked, firstBad, reason, err := db.VerifyAudit(context.Background())
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	return verdict{checked, firstBad, reason}
}

func TestAuditChainVerifies(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		if got := verify(t, db); got != (verdict{}) {
			t.Fatalf("empty trail: VerifyAudit = %+v, want whole and nothing checked", got)
		}
		es := recordN(t, db, 12)
		if len(es) != 12 {
			t.Fatalf("AuditEvents gave %d events, want 12", len(es))
		}
		for i, e := range es {
			if e.Seq != int64(i+1) || e.At.IsZero() || e.At.Location() != time.UTC || len(e.Hash) != 64 ||
				(i == 0) != (e.PrevHash == "") || i > 0 && e.PrevHash != es[i-1].Hash {
				t.Fatalf("event %d = %+v", i, e)
			}
			if e.BreakGlass != (i%4 == 3) || e.Details != fmt.Sprintf(`{"n":%d}`, i) {
				t.Fatalf("event %d did not round-trip: %+v", i, e)
			}
		}
		head, err := db.AuditHead(context.Background())
		if err != nil || head != (audit.Head{Seq: 12, Hash: es[11].Hash}) {
			t.Fatalf("AuditHead = %+v, %v", head, err)
		}
		if got := verify(t, db); got != (verdict{checked: 12}) {
			t.Fatalf("VerifyAudit = %+v, want 12 checked and whole", got)
		}
	})
}

func TestAuditAppendOnly(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		recordN(t, db, 3)
		for _, q := range []string{`UPDATE audit_events SET action = 'x' WHERE seq = 2`, `DELETE FROM audit_events WHERE seq = 3`} {
			if err := db.ExecRaw(ctx, q); err == nil {
				t.Errorf("%s succeeded; audit_events must be append-only", q)
			}
		}
		if got := verify(t, db); got != (verdict{checked: 3}) {
			t.Fatalf("VerifyAudit = %+v, want whole", got)
		}
	})
}

func TestAuditTamperingDetected(t *testing.T) {
	for _, tc := range []struct {
		name  string
		stmts []string
		want  verdict
	}{
		{"action changed", []string{`UPDATE audit_events SET action = 'child.list' WHERE seq = 5`},
			verdict{5, 5, string(audit.ReasonHash)}},
		{"object changed", []string{`UPDATE audit_events SET object_id = '999' WHERE seq = 7`},
			verdict{7, 7, string(audit.ReasonHash)}},
		{"break-glass flag cleared", []string{`UPDATE audit_events SET break_glass = FALSE WHERE seq = 4`},
			verdict{4, 4, string(audit.ReasonHash)}},
		{"time changed", []string{`UPDATE audit_events SET at = ? WHERE seq = 2`},
			verdict{2, 2, string(audit.ReasonHash)}},
		{"middle deleted", []string{`DELETE FROM audit_events WHERE seq = 6`},
			verdict{6, 7, string(audit.ReasonGap)}},
		{"first deleted", []string{`DELETE FROM audit_events WHERE seq = 1`},
			verdict{1, 2, string(audit.ReasonGap)}},
		{"newest deleted", []string{`DELETE FROM audit_events WHERE seq = 10`},
			verdict{9, 10, string(audit.ReasonHead)}},
		{"all deleted", []string{`DELETE FROM audit_events`},
			verdict{0, 1, string(audit.ReasonHead)}},
		{"head rewound", []string{`UPDATE audit_head SET seq = 8`},
			verdict{10, 9, string(audit.ReasonHead)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storagetest.Each(t, func(t *testing.T, db *storage.DB) {
				recordN(t, db, 10)
				allowTampering(t, db)
				for _, s := range tc.stmts {
					var args []any
					if tc.name == "time changed" {
						args = append(args, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC))
					}
					if err := db.ExecRaw(context.Background(), s, args...); err != nil {
						t.Fatalf("%s: %v", s, err)
					}
				}
				if got := verify(t, db); got != tc.want {
					t.Fatalf("VerifyAudit = %+v, want %+v", got, tc.want)
				}
			})
		})
	}
}

// An event appended in a transaction that then fails is rolled back with it.
func TestAuditRolledBackWithTransaction(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		recordN(t, db, 2)
		boom := errors.New("boom")
		err := storage.InTxForTest(db, ctx, func(add func(audit.Event) error) error {
			if err := add(audit.Event{Action: "child.update", ObjectType: "child", ObjectID: "1", ChildID: 1}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("transaction error = %v, want boom", err)
		}
		es, err := db.AuditEvents(ctx, storage.AuditFilter{})
		if err != nil || len(es) != 2 {
			t.Fatalf("after the rollback there are %d events (err %v), want 2", len(es), err)
		}
		if err := db.RecordAudit(ctx, audit.Event{Action: "child.read"}); err != nil {
			t.Fatal(err)
		}
		if got := verify(t, db); got != (verdict{checked: 3}) {
			t.Fatalf("VerifyAudit = %+v, want 3 checked and whole", got)
		}
	})
}

func TestAuditConcurrentAppends(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		const writers, each = 8, 50
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					if err := db.RecordAudit(ctx, audit.Event{ActorUserID: int64(w + 1), Action: "child.read",
						ObjectType: "child", ObjectID: fmt.Sprint(i)}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if got := verify(t, db); got != (verdict{checked: writers * each}) {
			t.Fatalf("VerifyAudit = %+v, want %d checked and whole", got, writers*each)
		}
		for w := range writers {
			es, err := db.AuditEvents(ctx, storage.AuditFilter{ActorUserID: int64(w + 1), Limit: 1000})
			if err != nil || len(es) != each {
				t.Fatalf("writer %d has %d events (err %v), want %d", w+1, len(es), err, each)
			}
		}
	})
}

// In a group-commit batch the audit head is read once and written before
// the commit; a request that fails after appending rolls its events back
// and the head with them. Many concurrent requests, every third failing
// after its second event, a plain transaction interleaved: the chain holds
// exactly the kept events and verifies.
func TestAuditInGroupCommit(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		const n = 48
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Go(func() {
				errs[i] = storage.InGroupTxForTest(db, ctx, func(add func(audit.Event) error) error {
					for j := range 2 {
						if err := add(audit.Event{ActorUserID: int64(i + 1), Action: "contact.create",
							ObjectType: "contact", ObjectID: fmt.Sprint(i, "-", j)}); err != nil {
							return err
						}
					}
					if i%3 == 0 {
						return boom
					}
					return nil
				})
			})
			if i == n/2 {
				if err := db.RecordAudit(ctx, audit.Event{Action: "child.read"}); err != nil {
					t.Fatal(err)
				}
			}
		}
		wg.Wait()
		kept := 1 // the plain one
		for i, err := range errs {
			switch {
			case i%3 == 0 && !errors.Is(err, boom):
				t.Errorf("request %d: %v, want boom", i, err)
			case i%3 != 0 && err != nil:
				t.Errorf("request %d: %v", i, err)
			case i%3 != 0:
				kept += 2
			}
		}
		if got := verify(t, db); got != (verdict{checked: int64(kept)}) {
			t.Fatalf("VerifyAudit = %+v, want %d checked and whole", got, kept)
		}
		es, err := db.AuditEvents(ctx, storage.AuditFilter{ActorUserID: 1, Limit: 10})
		if err != nil || len(es) != 0 {
			t.Errorf("request 0 failed yet left %d events (%v)", len(es), err)
		}
	})
}

// Verification pages through the events; a chain longer than a page, with
// a break past the first page, is read whole and the break found.
func TestAuditVerifyAcrossPages(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 5,200 events")
	}
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		const n = 5200
		err := storage.InTxForTest(db, ctx, func(add func(audit.Event) error) error {
			for i := range n {
				if err := add(audit.Event{Action: "child.list", ObjectID: fmt.Sprint(i)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := verify(t, db); got != (verdict{checked: n}) {
			t.Fatalf("VerifyAudit = %+v, want %d checked and whole", got, n)
		}
		allowTampering(t, db)
		if err := db.ExecRaw(ctx, `DELETE FROM audit_events WHERE seq = ?`, 5100); err != nil {
			t.Fatal(err)
		}
		if got := verify(t, db); got != (verdict{5100, 5101, string(audit.ReasonGap)}) {
			t.Fatalf("VerifyAudit = %+v, want the gap at 5101", got)
		}
	})
}

func TestAuditEventsFilter(t *testing.T) {
	for _, eng := range storagetest.Engines() {
		t.Run(string(eng.Name), func(t *testing.T) { testAuditEventsFilter(t, eng) })
	}
}

func testAuditEventsFilter(t *testing.T, eng storagetest.Engine) {
	ctx := context.Background()
	clock := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
	db := storagetest.Open(t, eng.DSN(t), storage.WithClock(func() time.Time { return clock }))
	{
		for i := range 10 {
			clock = clock.Add(time.Minute)
			e := audit.Event{ActorUserID: int64(1 + i%2), ChildID: int64(1 + i%3), Action: "child.read", BreakGlass: i == 4 || i == 8}
			if i%5 == 0 {
				e.Action = "child.update"
			}
			if err := db.RecordAudit(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		seqs := func(f storage.AuditFilter) []int64 {
			es, err := db.AuditEvents(ctx, f)
			if err != nil {
				t.Fatalf("AuditEvents(%+v): %v", f, err)
			}
			var s []int64
			for _, e := range es {
				s = append(s, e.Seq)
			}
			return s
		}
		t0 := time.Date(2025, 9, 1, 9, 0, 0, 0, time.UTC)
		baku := time.FixedZone("AZT", 4*3600)
		for _, tc := range []struct {
			name string
			f    storage.AuditFilter
			want []int64
		}{
			{"all, newest first", storage.AuditFilter{}, []int64{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
			{"limit", storage.AuditFilter{Limit: 3}, []int64{10, 9, 8}},
			{"next page", storage.AuditFilter{Limit: 3, Before: 8}, []int64{7, 6, 5}},
			{"actor", storage.AuditFilter{ActorUserID: 2}, []int64{10, 8, 6, 4, 2}},
			{"child", storage.AuditFilter{ChildID: 3}, []int64{9, 6, 3}},
			{"action", storage.AuditFilter{Action: "child.update"}, []int64{6, 1}},
			{"break glass", storage.AuditFilter{BreakGlassOnly: true}, []int64{9, 5}},
			{"from, to", storage.AuditFilter{From: t0.Add(3 * time.Minute), To: t0.Add(6 * time.Minute)}, []int64{5, 4, 3}},
			{"from, to in another zone", storage.AuditFilter{From: t0.Add(3 * time.Minute).In(baku), To: t0.Add(6 * time.Minute).In(baku)}, []int64{5, 4, 3}},
			{"combined", storage.AuditFilter{ActorUserID: 1, ChildID: 1, From: t0.Add(2 * time.Minute)}, []int64{7}},
		} {
			if got := seqs(tc.f); fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s: seqs %v, want %v", tc.name, got, tc.want)
			}
		}
	}
}

// Strings neither engine would store as given are sanitized before hashing,
// so the event is stored and still verifies.
func TestAuditSanitizes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if err := db.RecordAudit(ctx, audit.Event{Action: "auth.signin_failed", RequestID: "a\x00b", IP: "\xff\xfe"}); err != nil {
			t.Fatal(err)
		}
		if err := db.RecordAudit(ctx, audit.Event{}); err == nil {
			t.Error("an event without an action was recorded")
		}
		if got := verify(t, db); got != (verdict{checked: 1}) {
			t.Fatalf("VerifyAudit = %+v, want whole", got)
		}
	})
}

func BenchmarkRecordAudit(b *testing.B) {
	db := storagetest.Open(b, storagetest.SQLiteDSN(b))
	ctx := context.Background()
	e := audit.Event{ActorUserID: 17, ActorOrgID: 4, Action: "child.read", ObjectType: "child", ObjectID: "123456",
		ChildID: 123456, IP: "203.0.113.9", RequestID: "01J8ZQ3K5V6W7X8Y9Z0ABCDEF", Details: `{"fields":["risk","plan"]}`}
	b.ReportAllocs()
	for b.Loop() {
		if err := db.RecordAudit(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendAudit measures what appendAudit adds to a transaction that
// is being committed anyway (the usual case: a child read or write): every
// iteration appends within one transaction, so no commit is timed.
func BenchmarkAppendAudit(b *testing.B) {
	db := storagetest.Open(b, storagetest.SQLiteDSN(b))
	e := audit.Event{ActorUserID: 17, ActorOrgID: 4, Action: "child.read", ObjectType: "child", ObjectID: "123456",
		ChildID: 123456, IP: "203.0.113.9", RequestID: "01J8ZQ3K5V6W7X8Y9Z0ABCDEF", Details: `{"fields":["risk","plan"]}`}
	b.ReportAllocs()
	err := storage.InTxForTest(db, context.Background(), func(add func(audit.Event) error) error {
		for b.Loop() {
			if err := add(e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}
