package storage_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"dayaq/internal/casework"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// The places' copies of a case's status and deadline (migration 00027)
// follow the case: for every role, the list of new cases and the overdue
// list (which walk the copies) hold exactly the cases that the plain list
// (which reads the cases themselves) shows as new or overdue, and the
// navigation counts them, after cases are triaged, closed and their
// deadlines pass.
func TestPlacesFollowTheCase(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			admin, spec := f.users["city_admin"], f.users["city_specialist"]
			bsti := orgID(t, f.db, "BSTI")
			var ids []storage.CaseRecord
			for i := range 9 {
				r, err := f.db.CreateCase(ctx, admin, report(f, matrixChildren[i%3])) // ownClass, ownSchool, otherSchool
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, r)
			}
			move := func(r storage.CaseRecord, m casework.Move) storage.CaseRecord {
				t.Helper()
				r2, err := f.db.TransitionCase(ctx, spec, r.ID, r.Version, m)
				if err != nil {
					t.Fatalf("%s case %d: %v", m.To, r.ID, err)
				}
				return r2
			}
			triage := casework.Move{To: casework.Triaged, LeadOrgID: bsti, OwnerID: spec.UserID}
			check := func(when string) map[string]storage.NavCounts {
				t.Helper()
				out := map[string]storage.NavCounts{}
				now := f.db.Now()
				for key, a := range f.users {
					list := func(q storage.CaseQuery) []int64 {
						q.Limit = 200
						pg, err := f.db.ListCases(ctx, a, q)
						if err != nil {
							t.Fatalf("%s %s: %v", when, key, err)
						}
						var out []int64
						for _, r := range pg.Cases {
							out = append(out, r.ID)
						}
						slices.Sort(out)
						return out
					}
					var wantNew, wantOverdue, wantNewOverdue []int64
					pg, err := f.db.ListCases(ctx, a, storage.CaseQuery{Limit: 200})
					if err != nil {
						t.Fatal(err)
					}
					for _, r := range pg.Cases {
						if r.Status == casework.New {
							wantNew = append(wantNew, r.ID)
						}
						if r.Status != casework.Closed && !r.Due().IsZero() && r.Due().Before(now) {
							wantOverdue = append(wantOverdue, r.ID)
							if r.Status == casework.New {
								wantNewOverdue = append(wantNewOverdue, r.ID)
							}
						}
					}
					slices.Sort(wantNew)
					slices.Sort(wantOverdue)
					slices.Sort(wantNewOverdue)
					if got := list(storage.CaseQuery{Statuses: []casework.Status{casework.New}}); !slices.Equal(got, wantNew) {
						t.Errorf("%s, %s: new cases %v, want %v", when, key, got, wantNew)
					}
					if got := list(storage.CaseQuery{OpenOnly: true, Overdue: true}); !slices.Equal(got, wantOverdue) {
						t.Errorf("%s, %s: overdue cases %v, want %v", when, key, got, wantOverdue)
					}
					// a status and the deadline together: both hold
					if got := list(storage.CaseQuery{Statuses: []casework.Status{casework.New}, Overdue: true}); !slices.Equal(got, wantNewOverdue) {
						t.Errorf("%s, %s: new overdue cases %v, want %v", when, key, got, wantNewOverdue)
					}
					nc, err := f.db.NavCounts(ctx, a)
					if err != nil {
						t.Fatal(err)
					}
					if nc.Queues.New != len(wantNew) || nc.Queues.Overdue != len(wantOverdue) {
						t.Errorf("%s, %s: counts %+v, want new %d overdue %d", when, key, nc.Queues, len(wantNew), len(wantOverdue))
					}
					out[key] = nc
				}
				return out
			}
			before := check("reported")
			if before["school_head"].Queues.New != 6 || before["district_specialist"].Queues.New != 9 {
				t.Fatalf("reported: head %+v, district %+v", before["school_head"].Queues, before["district_specialist"].Queues)
			}
			ids[0] = move(ids[0], triage)
			ids[1] = move(ids[1], triage)
			ids[1] = move(ids[1], casework.Move{To: casework.InProgress})
			ids[1] = move(ids[1], casework.Move{To: casework.Closed, Reason: "x", Outcome: casework.OutcomeResolved})
			after := check("triaged and closed")
			if after["school_head"].Queues.New != 4 {
				t.Errorf("after two of the school's cases moved on, the head counts %d new, want 4", after["school_head"].Queues.New)
			}
			f.clock.t = f.clock.t.Add(30 * 24 * time.Hour) // every running deadline has passed
			late := check("a month later")
			if late["school_head"].Queues.Overdue != 5 || late["district_specialist"].Queues.Overdue != 8 {
				t.Errorf("a month later: head %+v, district %+v", late["school_head"].Queues, late["district_specialist"].Queues)
			}
		})
	}
}
