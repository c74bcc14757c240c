package storage_test

import (
	"context"
	"testing"
	"time"

	"dayaq/internal/casework"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// listCount pages through the case list under q and counts it: the list
// behind a dashboard's number.
func listCount(t *testing.T, f *matrixFixture, who string, q storage.CaseQuery) int {
	t.Helper()
	n := 0
	q.Limit = 200
	for {
		pg, err := f.db.ListCases(context.Background(), f.users[who], q)
		if err != nil {
			t.Fatal(err)
		}
		n += len(pg.Cases)
		if pg.Next == "" {
			return n
		}
		q.After = pg.Next
	}
}

// Every number of the dashboards equals the length of the list it links
// to, for each viewer, on both engines: by type, severity and status, with
// and without a period and a district, and the overdue work by owner.
func TestDashboardNumbersMatchTheLists(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			spec := f.users["city_specialist"]
			mk := func(who, child, typ string, sev casework.Severity) storage.CaseRecord {
				r, err := f.db.CreateCase(ctx, f.users[who], casework.NewCase{Type: typ, Severity: sev, Title: "Hadisə",
					ChildIDs: []int64{f.children[child]}})
				if err != nil {
					t.Fatalf("%s reports about %s: %v", who, child, err)
				}
				return r
			}
			mk("school_head", "ownClass", "violence.bullying", casework.High)
			mk("school_head", "ownSchool", "violence.bullying", casework.Medium)
			mk("school_head", "ownSchool", "neglect", casework.Low)
			mk("city_specialist", "otherSchool", "violence.physical", casework.Critical)
			f.clock.t = f.clock.t.Add(40 * 24 * time.Hour)
			r := mk("city_specialist", "otherDistrict", "neglect", casework.High)
			mk("city_specialist", "referred", "violence.bullying", casework.Low)
			// one triaged with an owner, then overdue
			bsti := orgID(t, f.db, "BSTI")
			if _, err := f.db.TransitionCase(ctx, spec, r.ID, r.Version, casework.Move{To: casework.Triaged, LeadOrgID: bsti, OwnerID: spec.UserID}); err != nil {
				t.Fatal(err)
			}
			f.clock.t = f.clock.t.Add(60 * 24 * time.Hour)
			periods := []struct{ from, to time.Time }{
				{},
				{time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2027, 6, 1, 0, 0, 0, 0, time.UTC)},
			}
			for _, who := range []string{"city_specialist", "district_specialist", "school_head", "teacher", "police_officer", "hotline_supervisor"} {
				for _, district := range []string{"", "BAK-06"} {
					for _, p := range periods {
						q := storage.StatsQuery{From: p.from, To: p.to, District: district, Exact: true}
						d, err := f.db.DashboardCounts(ctx, f.users[who], q)
						if err != nil {
							t.Fatal(err)
						}
						base := storage.CaseQuery{From: p.from, To: p.to, District: district}
						total := listCount(t, f, who, base)
						if d.Cases != total {
							t.Errorf("%s %q %v: %d cases on the dashboard, %d in the list", who, district, p.from, d.Cases, total)
						}
						for _, c := range d.ByType {
							q := base
							q.Type = c.Key
							if n := listCount(t, f, who, q); n != c.N {
								t.Errorf("%s: type %s: %d on the dashboard, %d in the list", who, c.Key, c.N, n)
							}
						}
						for _, c := range d.BySeverity {
							q := base
							q.Severity = casework.Severity(c.Key)
							if n := listCount(t, f, who, q); n != c.N {
								t.Errorf("%s: severity %s: %d on the dashboard, %d in the list", who, c.Key, c.N, n)
							}
						}
						for _, c := range d.ByStatus {
							q := base
							q.Statuses = []casework.Status{casework.Status(c.Key)}
							if n := listCount(t, f, who, q); n != c.N {
								t.Errorf("%s: status %s: %d on the dashboard, %d in the list", who, c.Key, c.N, n)
							}
						}
						for _, o := range d.OverdueByOwner {
							q := storage.CaseQuery{District: district, Overdue: true, OpenOnly: true, OwnerID: o.UserID}
							if o.UserID == 0 {
								continue // the unowned: the list has no filter for "no owner"
							}
							if n := listCount(t, f, who, q); n != o.N {
								t.Errorf("%s: overdue of %s: %d on the dashboard, %d in the list", who, o.Name, o.N, n)
							}
						}
					}
				}
			}
			// inside the jurisdiction, the scope alone gives the same numbers
			for who, q := range map[string]storage.StatsQuery{
				"school_head":         {SchoolID: orgID(t, f.db, "BAK-06-001")},
				"district_specialist": {District: "BAK-06"},
				"city_specialist":     {District: "BAK-07"},
			} {
				q.Exact = true
				withPolicy, _ := f.db.DashboardCounts(ctx, f.users[who], q)
				q.Scoped = true
				scoped, _ := f.db.DashboardCounts(ctx, f.users[who], q)
				if withPolicy.Cases != scoped.Cases || len(withPolicy.ByType) != len(scoped.ByType) || withPolicy.Cases == 0 {
					t.Errorf("%s: %d cases under the policy, %d by the scope alone", who, withPolicy.Cases, scoped.Cases)
				}
			}
			// the city specialist sees all six; the school head the three of the school
			d, _ := f.db.DashboardCounts(ctx, spec, storage.StatsQuery{Exact: true})
			if d.Cases != 6 || len(d.OverdueByOwner) == 0 {
				t.Errorf("city: %d cases, overdue %+v", d.Cases, d.OverdueByOwner)
			}
			d, _ = f.db.DashboardCounts(ctx, f.users["school_head"], storage.StatsQuery{Exact: true})
			if d.Cases != 3 {
				t.Errorf("school head: %d cases, want 3", d.Cases)
			}
			// a suppressed view counts the whole scope
			d, _ = f.db.DashboardCounts(ctx, f.users["school_head"], storage.StatsQuery{})
			if d.Cases != 6 {
				t.Errorf("school head, city aggregate: %d cases, want 6", d.Cases)
			}
		})
	}
}
