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

// A school's tab (open cases of the school, ADR 0048) reads the cases'
// school index alone when the policy shows the user that school's places:
// for every role and school, on both engines, it holds exactly the cases of
// that school the plain list shows, page after page, with a status or the
// deadline asked for too, among cases about pupils of two schools (one
// school's case, with a place at both).
func TestSchoolTabIsTheSchoolsCases(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			admin, spec := f.users["city_admin"], f.users["city_specialist"]
			schools := []int64{orgID(t, f.db, "BAK-06-001"), orgID(t, f.db, "BAK-06-002"), orgID(t, f.db, "BAK-07-001")}
			for i := range 8 {
				if _, err := f.db.CreateCase(ctx, admin, report(f, matrixChildren[i%4])); err != nil {
					t.Fatal(err)
				}
			}
			for _, kids := range [][]string{{"ownClass", "otherSchool"}, {"otherSchool", "ownSchool"}} {
				n := report(f, kids[0])
				n.ChildIDs = append(n.ChildIDs, f.children[kids[1]])
				if _, err := f.db.CreateCase(ctx, admin, n); err != nil {
					t.Fatal(err)
				}
			}
			pg, err := f.db.ListCases(ctx, spec, storage.CaseQuery{Limit: 200})
			if err != nil || len(pg.Cases) != 10 {
				t.Fatalf("the city lists %d cases, want 10: %v", len(pg.Cases), err)
			}
			bsti := orgID(t, f.db, "BSTI")
			for _, r := range pg.Cases[:3] { // the school tabs hold the school's cases of every status
				if _, err := f.db.TransitionCase(ctx, spec, r.ID, r.Version, casework.Move{To: casework.Triaged, LeadOrgID: bsti, OwnerID: spec.UserID}); err != nil {
					t.Fatal(err)
				}
			}
			check := func(when string) {
				t.Helper()
				now := f.db.Now()
				for key, a := range f.users {
					plain, err := f.db.ListCases(ctx, a, storage.CaseQuery{Limit: 200})
					if err != nil {
						t.Fatal(err)
					}
					for _, s := range schools {
						for _, q := range []storage.CaseQuery{
							{OpenOnly: true, SchoolID: s},
							{Statuses: []casework.Status{casework.New}, SchoolID: s},
							{OpenOnly: true, Overdue: true, SchoolID: s},
						} {
							var want []int64
							for _, r := range plain.Cases {
								if r.School.ID == s && r.Status != casework.Closed && (len(q.Statuses) == 0 || r.Status == casework.New) &&
									(!q.Overdue || (!r.Due().IsZero() && r.Due().Before(now))) {
									want = append(want, r.ID)
								}
							}
							slices.Sort(want)
							var got []int64
							q.Limit = 2
							for page := 0; ; page++ {
								pg, err := f.db.ListCases(ctx, a, q)
								if err != nil || page > 10 {
									t.Fatalf("%s, %s, %+v: %v", when, key, q, err)
								}
								for _, r := range pg.Cases {
									got = append(got, r.ID)
								}
								if pg.Next == "" {
									break
								}
								q.After = pg.Next
							}
							slices.Sort(got)
							if !slices.Equal(got, want) {
								t.Errorf("%s, %s, school %d, %+v: %v, want %v", when, key, s, q, got, want)
							}
						}
					}
				}
			}
			check("reported")
			f.clock.t = f.clock.t.Add(30 * 24 * time.Hour)
			check("a month later")
		})
	}
}
