package storage_test

import (
	"context"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/plan"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// The support figures equal the lists they link to wherever the policy
// lets the viewer see them exactly: the register by level against the
// register list, the plans by status and outcome and the reviews overdue
// against the plan list, for each viewer and scope, on both engines. The
// views follow the screening policy, not the case policy.
func TestSupportNumbersMatchTheLists(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			heads := map[string]audit.Actor{"BAK-06-001": f.users["school_head"]}
			for _, code := range []string{"BAK-06-002", "BAK-07-001"} {
				nu, err := f.db.CreateUser(ctx, audit.System(), storage.NewUser{Email: "head-" + code + "@test.az", Name: "Head " + code,
					OrgCode: code, Roles: []access.Role{access.SchoolHead}, PasswordHash: "not-a-real-hash"})
				if err != nil {
					t.Fatal(err)
				}
				p, err := f.db.PrincipalForUser(ctx, nu.ID)
				if err != nil {
					t.Fatal(err)
				}
				heads[code] = audit.Actor{Principal: p, RequestID: "support-" + code}
			}
			entry := func(school, child string, level screening.Level, confirm bool) storage.RegisterEntry {
				a := heads[school]
				p, err := f.db.ProposeRegister(ctx, a, storage.NewProposal{ChildID: f.children[child], Level: level, Source: screening.FromManual, Note: "test"})
				if err != nil {
					t.Fatalf("propose %s: %v", child, err)
				}
				if !confirm || p.Status == screening.Active {
					return p
				}
				c, err := f.db.ConfirmRegister(ctx, a, storage.RegisterDecision{ID: p.ID, Version: p.Version, ResponsibleUserID: a.UserID,
					FirstReview: f.db.Now().AddDate(0, 0, 10)})
				if err != nil {
					t.Fatalf("confirm %s: %v", child, err)
				}
				return c
			}
			e1 := entry("BAK-06-001", "ownClass", screening.High, true)
			entry("BAK-06-001", "ownSchool", screening.Medium, true)
			entry("BAK-06-002", "otherSchool", screening.Low, true)
			e4 := entry("BAK-07-001", "otherDistrict", screening.High, true)
			entry("BAK-07-001", "referred", screening.Medium, true)
			entry("BAK-07-001", "referralEnded", screening.Medium, false) // a proposal: not on the register yet
			mkPlan := func(school string, e storage.RegisterEntry) storage.PlanRecord {
				p, err := f.db.CreatePlan(ctx, heads[school], storage.NewPlan{RegisterEntryID: e.ID, Concerns: "Dərsə davamiyyət azalıb."})
				if err != nil {
					t.Fatalf("plan: %v", err)
				}
				return p
			}
			mkPlan("BAK-06-001", e1)
			p4 := mkPlan("BAK-07-001", e4)
			if _, err := f.db.ClosePlan(ctx, heads["BAK-07-001"], p4.ID, p4.Version, plan.Closure{Outcome: plan.OutcomeMet}); err != nil {
				t.Fatal(err)
			}
			f.clock.t = f.clock.t.AddDate(0, 3, 0) // reviews fall due

			registerCount := func(a audit.Actor, rf storage.RegisterFilter) int {
				rf.Limit = 500
				es, err := f.db.RegisterList(ctx, a, rf)
				if err != nil {
					t.Fatal(err)
				}
				return len(es)
			}
			planCount := func(a audit.Actor, q storage.PlanQuery) int {
				q.Limit = 200
				ps, err := f.db.ListPlans(ctx, a, q)
				if err != nil {
					t.Fatal(err)
				}
				return len(ps)
			}
			school := orgID(t, f.db, "BAK-06-001")
			scopes := []struct {
				name  string
				scope access.StatsScope
				q     storage.StatsQuery
			}{
				{"city", access.StatsScope{}, storage.StatsQuery{}},
				{"BAK-06", access.StatsScope{District: "BAK-06"}, storage.StatsQuery{District: "BAK-06"}},
				{"BAK-07", access.StatsScope{District: "BAK-07"}, storage.StatsQuery{District: "BAK-07"}},
				{"BAK-06-001", access.StatsScope{SchoolID: school, SchoolDistrict: "BAK-06"}, storage.StatsQuery{SchoolID: school}},
			}
			exact := map[string]bool{}
			for _, who := range []string{"city_specialist", "city_admin", "district_specialist", "school_head", "school_psychologist", "teacher", "public_council"} {
				a := f.users[who]
				for _, sc := range scopes {
					v := access.DecideSupportStats(a.Principal, sc.scope)
					if v.Health != access.StatsExact {
						continue
					}
					exact[who+" "+sc.name] = true
					s, err := f.db.SupportCounts(ctx, a, sc.q)
					if err != nil {
						t.Fatal(err)
					}
					base := storage.RegisterFilter{Status: screening.Active, SchoolID: sc.q.SchoolID, District: sc.q.District}
					total := 0
					for _, c := range s.RegisterByLevel {
						rf := base
						rf.Level = screening.Level(c.Key)
						if n := registerCount(a, rf); n != c.N {
							t.Errorf("%s %s: level %s: %d on the dashboard, %d in the list", who, sc.name, c.Key, c.N, n)
						}
						total += c.N
					}
					if n := registerCount(a, base); n != total {
						t.Errorf("%s %s: register %d on the dashboard, %d in the list", who, sc.name, total, n)
					}
					pq := storage.PlanQuery{SchoolID: sc.q.SchoolID, District: sc.q.District}
					for _, c := range s.PlansByStatus {
						q := pq
						q.Status = plan.Status(c.Key)
						if n := planCount(a, q); n != c.N {
							t.Errorf("%s %s: plans %s: %d on the dashboard, %d in the list", who, sc.name, c.Key, c.N, n)
						}
					}
					for _, c := range s.PlansByOutcome {
						q := pq
						q.Status, q.Outcome = plan.Closed, plan.Outcome(c.Key)
						if n := planCount(a, q); n != c.N {
							t.Errorf("%s %s: outcome %s: %d on the dashboard, %d in the list", who, sc.name, c.Key, c.N, n)
						}
					}
					q := pq
					q.Overdue = true
					if n := planCount(a, q); n != s.ReviewsOverdue {
						t.Errorf("%s %s: %d reviews overdue on the dashboard, %d in the list", who, sc.name, s.ReviewsOverdue, n)
					}
					if n := planCount(a, pq); n != s.LivePlans {
						t.Errorf("%s %s: %d live plans on the dashboard, %d in the list", who, sc.name, s.LivePlans, n)
					}
				}
			}
			for _, want := range []string{"city_specialist city", "city_specialist BAK-07", "district_specialist BAK-06", "district_specialist BAK-06-001",
				"school_head BAK-06-001", "school_psychologist BAK-06-001"} {
				if !exact[want] {
					t.Errorf("%s: not exact", want)
				}
			}
			for _, never := range []string{"city_admin city", "teacher BAK-06-001", "district_specialist city", "school_head BAK-06", "public_council city"} {
				if exact[never] {
					t.Errorf("%s: exact, but the screening policy does not let them list these pupils", never)
				}
			}
			// the figures themselves, for the city
			s, err := f.db.SupportCounts(ctx, f.users["city_specialist"], storage.StatsQuery{})
			if err != nil {
				t.Fatal(err)
			}
			levels := map[string]int{}
			for _, c := range s.RegisterByLevel {
				levels[c.Key] = c.N
			}
			if levels["high"] != 2 || levels["medium"] != 2 || levels["low"] != 1 || s.Proposed != 1 {
				t.Errorf("register %+v, %d proposed", s.RegisterByLevel, s.Proposed)
			}
			if s.LivePlans != 1 || len(s.PlansByOutcome) != 1 || s.PlansByOutcome[0] != (struct {
				Key string
				N   int
			}{"goals_met", 1}) {
				t.Errorf("plans: %d live, outcomes %+v", s.LivePlans, s.PlansByOutcome)
			}
			if s.Roll < 6 || s.Screened != 0 {
				t.Errorf("roll %d, screened %d", s.Roll, s.Screened)
			}
			sch, _ := f.db.SupportCounts(ctx, f.users["school_head"], storage.StatsQuery{SchoolID: school, From: time.Time{}})
			if sch.Roll != 2 {
				t.Errorf("school roll %d, want 2", sch.Roll)
			}
			// a body's or a case type's dashboard has none
			if b, _ := f.db.SupportCounts(ctx, f.users["city_specialist"], storage.StatsQuery{BodyID: 1}); b.Roll != 0 || len(b.RegisterByLevel) != 0 {
				t.Errorf("body dashboard with support figures: %+v", b)
			}
		})
	}
}
