package storage_test

import (
	"context"
	"testing"
	"time"

	"dayaq/internal/casework"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// The navigation's one statement counts what the separate counts count,
// for every role (the policy's filter in its SQL), and a write shows in
// the next page's counts at once.
func TestNavCountsOneStatement(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			admin := f.users["city_admin"]
			sevs := casework.Severities()
			for i := range 12 {
				n := report(f, matrixChildren[i%len(matrixChildren)])
				n.Severity = sevs[i%len(sevs)]
				if _, err := f.db.CreateCase(ctx, admin, n); err != nil {
					t.Fatal(err)
				}
			}
			f.clock.t = f.clock.t.Add(25 * time.Hour) // some deadlines have passed
			check := func(key string) storage.NavCounts {
				t.Helper()
				a := f.users[key]
				nc, err := f.db.NavCounts(ctx, a)
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				qc, err := f.db.CaseQueueCounts(ctx, a)
				if err != nil {
					t.Fatal(err)
				}
				unread, err := f.db.UnreadCount(ctx, a.UserID)
				if err != nil {
					t.Fatal(err)
				}
				reg, err := f.db.RegisterAwaiting(ctx, a)
				if err != nil {
					t.Fatal(err)
				}
				if nc.Queues != qc || nc.Unread != unread || nc.Register != reg {
					t.Errorf("%s: one statement %+v, separately %+v unread %d register %d", key, nc, qc, unread, reg)
				}
				return nc
			}
			var some, none int
			for key := range f.users {
				nc := check(key)
				if nc.Queues.New > 0 {
					some++
				} else {
					none++
				}
			}
			if some == 0 || none == 0 {
				t.Errorf("%d users see new cases and %d none: the counts do not tell users apart", some, none)
			}
			before := check("city_admin")
			if before.Queues.New == 0 || before.Queues.Overdue == 0 {
				t.Fatalf("city admin counts %+v", before)
			}
			if _, err := f.db.CreateCase(ctx, admin, report(f, matrixChildren[0])); err != nil {
				t.Fatal(err)
			}
			if after := check("city_admin"); after.Queues.New != before.Queues.New+1 {
				t.Errorf("after a new case: new %d, want %d", after.Queues.New, before.Queues.New+1)
			}
		})
	}
}

// The register's badge counts, for those who decide on their school's
// register, its proposals and its overdue reviews (not reviews still to
// come, nor another school's), and nothing for anyone else; the one
// statement agrees with the count alone.
func TestNavCountsRegister(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			school := func(code string) int64 {
				o, err := f.db.OrgByCode(ctx, code)
				if err != nil {
					t.Fatal(err)
				}
				return o.ID
			}
			a, b := school("BAK-06-001"), school("BAK-06-002")
			now := f.clock.now()
			if err := f.db.InsertRegisterBulk(ctx, []storage.BulkEntry{
				{ChildID: f.children["ownClass"], SchoolID: a, Level: screening.High, Status: screening.Proposed, Factors: `[]`},
				{ChildID: f.children["ownSchool"], SchoolID: a, Level: screening.Medium, Status: screening.Active, NextReview: now.Add(-time.Hour), Factors: `[]`},
				{ChildID: f.children["otherSchool"], SchoolID: b, Level: screening.Medium, Status: screening.Proposed, Factors: `[]`},
				{ChildID: f.children["otherDistrict"], SchoolID: school("BAK-07-001"), Level: screening.Low, Status: screening.Active, NextReview: now.Add(-time.Hour), Factors: `[]`},
			}); err != nil {
				t.Fatal(err)
			}
			want := map[string]int{"school_psychologist": 2, "school_head": 2}
			for key, a := range f.users {
				nc, err := f.db.NavCounts(ctx, a)
				if err != nil {
					t.Fatalf("%s: %v", key, err)
				}
				alone, err := f.db.RegisterAwaiting(ctx, a)
				if err != nil {
					t.Fatal(err)
				}
				if nc.Register != want[key] || alone != want[key] {
					t.Errorf("%s: register badge %d (alone %d), want %d", key, nc.Register, alone, want[key])
				}
			}
			f.clock.t = now.Add(-2 * time.Hour) // before the review fell due
			if nc, err := f.db.NavCounts(ctx, f.users["school_psychologist"]); err != nil || nc.Register != 1 {
				t.Errorf("before the review is due: %d %v, want 1", nc.Register, err)
			}
		})
	}
}

// On PostgreSQL the navigation's counts have their own pool, whose
// sessions plan generically from the first run (ADR 0048); every other
// statement keeps the server's default, which picks a plan for the
// parameters first. SQLite has one read pool.
func TestNavCountsPlannedGenerically(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			db := storagetest.Open(t, e.DSN(t))
			pools := db.Pools()
			counts, ok := pools["counts"]
			if e.Name != storage.Postgres {
				if ok {
					t.Fatalf("SQLite has a counts pool: %v", pools)
				}
				return
			}
			if !ok {
				t.Fatalf("no counts pool: %v", pools)
			}
			for _, tt := range []struct {
				pool string
				want string
			}{{"counts", "force_generic_plan"}, {"main", "auto"}} {
				var mode string
				p := counts
				if tt.pool == "main" {
					p = pools["main"]
				}
				if err := p.QueryRowContext(context.Background(), `SHOW plan_cache_mode`).Scan(&mode); err != nil {
					t.Fatal(err)
				}
				if mode != tt.want {
					t.Errorf("%s pool: plan_cache_mode %q, want %q", tt.pool, mode, tt.want)
				}
			}
		})
	}
}
