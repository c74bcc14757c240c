package storage_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/bench"
	"dayaq/internal/demo"
	"dayaq/internal/events"
	"dayaq/internal/org"
	"dayaq/internal/plan"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// The dashboard bench's support data (bench.SeedDashboard, in bulk with no
// policy and no audit) hang together as the capabilities' own writes
// would leave them: each support figure the dashboards show equals the
// list it links to — the register by level, the plans by status and
// outcome and the reviews overdue, the pupils on the roll and those
// screened, the parent events by status with the parents who came, the
// showings by kind with their reach — for the city, a district and a
// school, seen by the city's specialist and the school's head; the roll
// equals a count of the children; and a second run adds nothing. Both
// engines, at a small size.
func TestBenchSeedSupportEqualsTheLists(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := bench.SeedDashboard(ctx, db, 3000, 6000, nil)
		if err != nil {
			t.Fatal(err)
		}
		sp := s.Support
		if sp.Entries < 100 || sp.Answers < 1000 || sp.Plans < 50 || sp.Events == 0 || sp.Attended == 0 || sp.Showings == 0 {
			t.Fatalf("support data seeded %+v", sp)
		}
		again, err := bench.SeedDashboard(ctx, db, 3000, 6000, nil)
		if err != nil || !again.Reused || again.Support != (bench.SupportSeed{}) {
			t.Fatalf("second run %+v, %v", again, err)
		}
		actor := func(role string) audit.Actor {
			u, err := db.UserByEmail(ctx, role+"@"+demo.Domain)
			if err != nil {
				t.Fatal(err)
			}
			p, err := db.PrincipalForUser(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			return audit.Actor{Principal: p, RequestID: "bench-seed-" + role}
		}
		spec, head := actor("city_specialist"), actor("school_head")
		school := orgID(t, db, "BAK-06-001")
		year := db.Now().AddDate(-1, 0, 0)
		for _, c := range []struct {
			name   string
			a      audit.Actor
			q      storage.StatsQuery
			events bool // the scope's events and showings fit in one list (500)
		}{
			{"city", spec, storage.StatsQuery{}, false},
			{"BAK-06", spec, storage.StatsQuery{District: "BAK-06"}, false},
			{"BAK-06-001", spec, storage.StatsQuery{SchoolID: school}, true},
			{"head BAK-06-001", head, storage.StatsQuery{SchoolID: school}, true},
			{"head BAK-06-001, a year", head, storage.StatsQuery{SchoolID: school, From: year}, true},
		} {
			sup, err := db.SupportCounts(ctx, c.a, c.q)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := db.RollRecount(ctx, c.q.SchoolID); c.q.District == "" && (err != nil || sup.Roll != n || n == 0) {
				t.Errorf("%s: roll %d, children %d (%v)", c.name, sup.Roll, n, err)
			}
			// the register by level
			base := storage.RegisterFilter{Status: screening.Active, SchoolID: c.q.SchoolID, District: c.q.District, Limit: 500}
			total := 0
			for _, l := range sup.RegisterByLevel {
				rf := base
				rf.Level = screening.Level(l.Key)
				if es, err := db.RegisterList(ctx, c.a, rf); err != nil || len(es) != l.N {
					t.Errorf("%s: level %s: %d on the dashboard, %d in the list (%v)", c.name, l.Key, l.N, len(es), err)
				}
				total += l.N
			}
			if total == 0 {
				t.Errorf("%s: no one on the register", c.name)
			}
			if es, err := db.RegisterList(ctx, c.a, base); err != nil || len(es) != total || total >= 500 {
				t.Errorf("%s: register %d on the dashboard, %d in the list (%v)", c.name, total, len(es), err)
			}
			// the plans
			plans := func(q storage.PlanQuery) int {
				q.SchoolID, q.District, q.Limit = c.q.SchoolID, c.q.District, 200
				n := 0
				for {
					ps, err := db.ListPlans(ctx, c.a, q)
					if err != nil {
						t.Fatalf("%s: plans %+v: %v", c.name, q, err)
					}
					n += len(ps)
					if len(ps) < q.Limit {
						return n
					}
					q.Before = ps[len(ps)-1].ID
				}
			}
			for _, st := range sup.PlansByStatus {
				if n := plans(storage.PlanQuery{Status: plan.Status(st.Key)}); n != st.N {
					t.Errorf("%s: plans %s: %d on the dashboard, %d in the list", c.name, st.Key, st.N, n)
				}
			}
			for _, o := range sup.PlansByOutcome {
				if n := plans(storage.PlanQuery{Status: plan.Closed, Outcome: plan.Outcome(o.Key)}); n != o.N {
					t.Errorf("%s: outcome %s: %d on the dashboard, %d in the list", c.name, o.Key, o.N, n)
				}
			}
			if n := plans(storage.PlanQuery{Overdue: true}); n != sup.ReviewsOverdue {
				t.Errorf("%s: %d reviews overdue on the dashboard, %d in the list", c.name, sup.ReviewsOverdue, n)
			}
			if n := plans(storage.PlanQuery{}); n != sup.LivePlans {
				t.Errorf("%s: %d live plans on the dashboard, %d in the list", c.name, sup.LivePlans, n)
			}
			if c.q.SchoolID == 0 && (len(sup.PlansByStatus) < 3 || len(sup.PlansByOutcome) < 4 || sup.ReviewsOverdue == 0) {
				t.Errorf("%s: plans %+v, outcomes %+v, %d overdue: not the spread seeded", c.name, sup.PlansByStatus, sup.PlansByOutcome, sup.ReviewsOverdue)
			}
			// the roll and the screened, paged through
			roll := func(screened string) int {
				n := 0
				q := storage.RollQuery{SchoolID: c.q.SchoolID, District: c.q.District, From: c.q.From, Screened: screened}
				for {
					ps, err := db.RollList(ctx, c.a, q)
					if err != nil {
						t.Fatal(err)
					}
					n += len(ps)
					if len(ps) < 200 {
						return n
					}
					q.After = ps[len(ps)-1].ChildID
				}
			}
			if n := roll(""); n != sup.Roll {
				t.Errorf("%s: %d on the roll on the dashboard, %d in the list", c.name, sup.Roll, n)
			}
			if n := roll("yes"); n != sup.Screened || n == 0 {
				t.Errorf("%s: %d screened on the dashboard, %d in the list", c.name, sup.Screened, n)
			}
			if !c.events {
				continue
			}
			// the parent events and the showings
			eq := storage.EventQuery{SchoolID: c.q.SchoolID, District: c.q.District, From: c.q.From}
			all := 0
			for _, st := range sup.EventsByStatus {
				q := eq
				q.Status = events.Status(st.Key)
				es, err := db.ParentEvents(ctx, c.a, q)
				if err != nil || len(es) != st.N {
					t.Errorf("%s: events %s: %d on the dashboard, %d in the list (%v)", c.name, st.Key, st.N, len(es), err)
				}
				if st.Key == string(events.Held) {
					head := 0
					for _, e := range es {
						head += e.HeadCount
					}
					if head != sup.HeadCount || head == 0 {
						t.Errorf("%s: %d parents at the events held on the dashboard, %d in the list", c.name, sup.HeadCount, head)
					}
				}
				all += st.N
			}
			if es, err := db.ParentEvents(ctx, c.a, eq); err != nil || len(es) != all || all == 0 {
				t.Errorf("%s: %d events on the dashboard, %d in the list (%v)", c.name, all, len(es), err)
			}
			shq := storage.ShowingQuery{SchoolID: c.q.SchoolID, District: c.q.District, From: c.q.From}
			ss, err := db.Showings(ctx, c.a, shq)
			if err != nil {
				t.Fatal(err)
			}
			pupils, parents, shows := 0, 0, 0
			for _, sh := range ss {
				pupils, parents = pupils+sh.Pupils, parents+sh.Parents
			}
			for _, k := range sup.ShowingsByKind {
				shows += k.N
			}
			if len(ss) != shows || shows == 0 || pupils != sup.ReachPupils || parents != sup.ReachParents {
				t.Errorf("%s: %d showings reaching %d pupils and %d parents on the dashboard, the list %d, %d, %d",
					c.name, shows, sup.ReachPupils, sup.ReachParents, len(ss), pupils, parents)
			}
			if v := access.DecideSupportStats(c.a.Principal, access.StatsScope{SchoolID: school, SchoolDistrict: "BAK-06"}); v.Events != access.StatsExact {
				t.Errorf("%s: events not exact for the viewer", c.name)
			}
		}
	})
}

// The dashboard bench's seeding (bench.SeedDashboard: bulk inserts with
// the totals rebuilt once at the end) leaves the dashboards' totals equal
// to a recount from the base tables — for the city, districts, schools and
// bodies, over all time, a ragged year and whole months, with and without
// a case type; the seeded cases and contacts, minutes apart, fill the
// hours between a UTC date and Baku's month boundary (SQLite compared
// them four hours off before monthStart gave UTC instants). Both
// engines, at a small size (the test sits here for the storage package's
// recount, DashboardRecount).
func TestBenchSeedTotalsEqualRecount(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		s, err := bench.SeedDashboard(ctx, db, 3000, 6000, nil)
		if err != nil {
			t.Fatal(err)
		}
		if s.Cases != 3000 {
			t.Fatalf("seeded %+v", s)
		}
		city := audit.Actor{Principal: access.Principal{UserID: -1, OrgType: org.CityDepartment, Roles: []access.Role{access.CitySpecialist}}}
		scopes := []storage.StatsQuery{{}, {District: "BAK-06"}, {District: "BAK-07"},
			{SchoolID: orgID(t, db, "BAK-06-001")}, {SchoolID: orgID(t, db, "BAK-01-003")}, {BodyID: orgID(t, db, "BAK-POLICE")}}
		now := db.Now().Truncate(24 * time.Hour) // the API takes dates
		periods := [][2]time.Time{{}, {now.AddDate(-1, 0, 0), {}}, {now.AddDate(0, -7, -3), now.AddDate(0, -2, 5)},
			{time.Date(2026, 2, 28, 20, 0, 0, 0, time.UTC), time.Date(2026, 6, 30, 20, 0, 0, 0, time.UTC)}}
		for _, sc := range scopes {
			for _, p := range periods {
				for _, typ := range []string{"", "violence"} {
					q := sc
					q.From, q.To, q.Type = p[0], p[1], typ
					agg, err := db.DashboardCounts(ctx, city, q)
					if err != nil {
						t.Fatal(err)
					}
					base, err := db.DashboardRecount(ctx, q)
					if err != nil {
						t.Fatal(err)
					}
					a, b := reflect.ValueOf(normFigures(agg)), reflect.ValueOf(normFigures(base))
					for i := range a.NumField() {
						if x, y := a.Field(i).Interface(), b.Field(i).Interface(); !reflect.DeepEqual(x, y) {
							t.Errorf("%+v: %s: totals %v, base tables %v", q, a.Type().Field(i).Name, x, y)
						}
					}
					if sc.BodyID == 0 && p == [2]time.Time{} && typ == "" && agg.Cases == 0 {
						t.Errorf("%+v: no cases counted", q)
					}
				}
			}
		}
	})
}
