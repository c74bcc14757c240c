package storage_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/events"
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
			e2 := entry("BAK-06-001", "ownSchool", screening.Medium, true)
			entry("BAK-06-002", "otherSchool", screening.Low, true)
			e4 := entry("BAK-07-001", "otherDistrict", screening.High, true)
			referred := entry("BAK-07-001", "referred", screening.Medium, true)
			entry("BAK-07-001", "referralEnded", screening.Medium, false) // a proposal: not on the register yet
			mkPlan := func(school string, e storage.RegisterEntry) storage.PlanRecord {
				p, err := f.db.CreatePlan(ctx, heads[school], storage.NewPlan{RegisterEntryID: e.ID, Concerns: "Dərsə davamiyyət azalıb."})
				if err != nil {
					t.Fatalf("plan: %v", err)
				}
				return p
			}
			mkPlan("BAK-06-001", e1)
			mkPlan("BAK-06-001", e2) // its pupil moves away below
			p4 := mkPlan("BAK-07-001", e4)
			if _, err := f.db.ClosePlan(ctx, heads["BAK-07-001"], p4.ID, p4.Version, plan.Closure{Outcome: plan.OutcomeMet}); err != nil {
				t.Fatal(err)
			}
			// events and campaign showings at three schools, one month apart
			topics, err := f.db.EventTopics(ctx, heads["BAK-06-001"], false)
			if err != nil || len(topics) == 0 {
				t.Fatalf("topics: %v", err)
			}
			now := f.clock.t
			for _, ev := range []struct {
				school string
				ago    time.Duration
				head   int // parents counted; 0: still planned
			}{{"BAK-06-001", 24 * time.Hour, 23}, {"BAK-06-001", 40 * 24 * time.Hour, 9}, {"BAK-06-001", -72 * time.Hour, 0},
				{"BAK-06-002", 48 * time.Hour, 14}, {"BAK-07-001", 24 * time.Hour, 31}, {"BAK-07-001", 50 * 24 * time.Hour, 0}} {
				e, err := f.db.CreateParentEvent(ctx, heads[ev.school], events.Event{TopicIDs: []int64{topics[0].ID}, StartsAt: now.Add(-ev.ago),
					Place: "Akt zalı", WholeSchool: true, SpeakerKind: events.Psychologist, SpeakerName: "Psixoloq"})
				if err != nil {
					t.Fatalf("event at %s: %v", ev.school, err)
				}
				if ev.head > 0 {
					if _, err := f.db.RecordAttendance(ctx, heads[ev.school], storage.Attendance{EventID: e.ID, Version: e.Version, HeadCount: ev.head}); err != nil {
						t.Fatalf("attendance at %s: %v", ev.school, err)
					}
				}
			}
			materials := map[events.Kind]int64{}
			for _, k := range []events.Kind{"video", "poster"} {
				m, err := f.db.CreateCampaignMaterial(ctx, f.users["city_specialist"], events.CampaignMaterial{Kind: k, Title: "Mənimlə danış " + string(k),
					Languages: []string{"az"}, Edition: "v1", Audience: "parents", ExternalURL: "https://video.example.az/" + string(k)})
				if err != nil {
					t.Fatalf("material %s: %v", k, err)
				}
				materials[k] = m.ID
			}
			for _, sh := range []struct {
				school          string
				kind            events.Kind
				ago             time.Duration
				pupils, parents int
			}{{"BAK-06-001", "video", 48 * time.Hour, 28, 6}, {"BAK-06-001", "poster", 45 * 24 * time.Hour, 0, 40},
				{"BAK-06-002", "video", 72 * time.Hour, 25, 0}, {"BAK-07-001", "poster", 24 * time.Hour, 60, 12}} {
				if _, err := f.db.CreateShowing(ctx, heads[sh.school], events.Showing{MaterialID: materials[sh.kind], ShownAt: now.Add(-sh.ago),
					Classes: []string{"5A"}, Pupils: sh.pupils, Parents: sh.parents, ShownBy: "Psixoloq"}); err != nil {
					t.Fatalf("showing at %s: %v", sh.school, err)
				}
			}
			// answer sets: two pupils at their own school, and one entered at
			// a school the pupil is not on the roll of (screened nowhere)
			answers, _ := json.Marshal(screening.Answers{Informant: screening.Teacher, Values: map[string]int{"idp": 1},
				Details: map[string]screening.Detail{"idp": {Evidence: "vəsiqə", Date: "2025-01-10"}}})
			a1 := orgID(t, f.db, "BAK-06-001")
			if err := f.db.InsertScreeningBulk(ctx, []storage.BulkSchool{{SchoolID: a1, Round: storage.Round{Scope: "school",
				Instruments: []string{screening.CodeCategories}, Informants: []screening.Informant{screening.Teacher},
				StartsOn: now.AddDate(0, 0, -7), EndsOn: now.AddDate(0, 0, 7)},
				Sets: func(_ []child.Child, rid int64) []storage.BulkAnswerSet {
					var sets []storage.BulkAnswerSet
					for _, kid := range []string{"ownClass", "ownSchool", "otherSchool"} {
						sets = append(sets, storage.BulkAnswerSet{RoundID: rid, ChildID: f.children[kid], SchoolID: a1, Version: 1,
							Informant: screening.Teacher, Instrument: screening.CodeCategories, Answers: string(answers)})
					}
					return sets
				}}}); err != nil {
				t.Fatal(err)
			}
			// a pupil with an open entry moves to another district's school:
			// counted, and listed, where they are now (ADR 0039)
			admin := f.users["city_admin"]
			moved, err := f.db.ChildFor(ctx, admin, f.children["ownSchool"])
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.UpdateChild(ctx, admin, moved.Child, "BAK-07-001"); err != nil {
				t.Fatalf("move: %v", err)
			}
			f.clock.t = f.clock.t.AddDate(0, 3, 0) // reviews fall due
			mkPlan("BAK-07-001", referred)         // a new plan: its review not yet due

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
			rollCount := func(a audit.Actor, q storage.RollQuery) int {
				n := 0
				for {
					ps, err := f.db.RollList(ctx, a, q)
					if err != nil {
						t.Fatal(err)
					}
					// the list's audit event names every pupil shown
					es, err := f.db.AuditEvents(ctx, storage.AuditFilter{Action: "screening.roll_list", Limit: 1})
					if err != nil || len(es) != 1 {
						t.Fatalf("roll list audit: %v, %d events", err, len(es))
					}
					var logged struct{ IDs []int64 }
					if err := json.Unmarshal([]byte(es[0].Details), &logged); err != nil {
						t.Fatal(err)
					}
					if len(logged.IDs) != len(ps) {
						t.Fatalf("roll list audit names %d pupils, the list shows %d", len(logged.IDs), len(ps))
					}
					for i, p := range ps {
						if logged.IDs[i] != p.ChildID {
							t.Fatalf("roll list audit names %v, the list shows child %d at %d", logged.IDs, p.ChildID, i)
						}
					}
					n += len(ps)
					if len(ps) < 200 {
						return n
					}
					q.After = ps[len(ps)-1].ChildID
				}
			}
			eventList := func(a audit.Actor, q storage.EventQuery) (n, head int) {
				es, err := f.db.ParentEvents(ctx, a, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, e := range es {
					if e.Status == events.Held {
						head += e.HeadCount
					}
				}
				return len(es), head
			}
			showingList := func(a audit.Actor, q storage.ShowingQuery) (n, pupils, parents int) {
				ss, err := f.db.Showings(ctx, a, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, s := range ss {
					pupils += s.Pupils
					parents += s.Parents
				}
				return len(ss), pupils, parents
			}
			school := orgID(t, f.db, "BAK-06-001")
			school7 := orgID(t, f.db, "BAK-07-001")
			scopes := []struct {
				name  string
				scope access.StatsScope
				q     storage.StatsQuery
			}{
				{"city", access.StatsScope{}, storage.StatsQuery{}},
				{"BAK-06", access.StatsScope{District: "BAK-06"}, storage.StatsQuery{District: "BAK-06"}},
				{"BAK-07", access.StatsScope{District: "BAK-07"}, storage.StatsQuery{District: "BAK-07"}},
				{"BAK-06-001", access.StatsScope{SchoolID: school, SchoolDistrict: "BAK-06"}, storage.StatsQuery{SchoolID: school}},
				{"BAK-07-001", access.StatsScope{SchoolID: school7, SchoolDistrict: "BAK-07"}, storage.StatsQuery{SchoolID: school7}},
			}
			// the whole time, and November 2026 (the older events, showings
			// and none of the answer sets fall outside it)
			nov := [2]time.Time{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)}
			viewers := map[string]audit.Actor{"head BAK-07-001": heads["BAK-07-001"]}
			for _, who := range []string{"city_specialist", "city_admin", "district_specialist", "school_head", "school_psychologist", "teacher", "public_council"} {
				viewers[who] = f.users[who]
			}
			exact, eventsExact := map[string]bool{}, map[string]bool{}
			for who, a := range viewers {
				for _, sc := range scopes {
					for _, per := range [][2]time.Time{{}, nov} {
						sc.q.From, sc.q.To = per[0], per[1]
						v := access.DecideSupportStats(a.Principal, sc.scope)
						s, err := f.db.SupportCounts(ctx, a, sc.q)
						if err != nil {
							t.Fatal(err)
						}
						if v.Events == access.StatsExact {
							eventsExact[who+" "+sc.name] = true
							eq := storage.EventQuery{SchoolID: sc.q.SchoolID, District: sc.q.District, From: per[0], To: per[1]}
							all := 0
							for _, c := range s.EventsByStatus {
								q := eq
								q.Status = events.Status(c.Key)
								if n, _ := eventList(a, q); n != c.N {
									t.Errorf("%s %s %v: events %s: %d on the dashboard, %d in the list", who, sc.name, per[0], c.Key, c.N, n)
								}
								all += c.N
							}
							if n, _ := eventList(a, eq); n != all {
								t.Errorf("%s %s %v: %d events on the dashboard, %d in the list", who, sc.name, per[0], all, n)
							}
							eq.Status = events.Held
							if _, head := eventList(a, eq); head != s.HeadCount {
								t.Errorf("%s %s %v: %d parents at the events held on the dashboard, %d in the list", who, sc.name, per[0], s.HeadCount, head)
							}
							shq := storage.ShowingQuery{SchoolID: sc.q.SchoolID, District: sc.q.District, From: per[0], To: per[1]}
							all = 0
							for _, c := range s.ShowingsByKind {
								q := shq
								q.Kind = events.Kind(c.Key)
								if n, _, _ := showingList(a, q); n != c.N {
									t.Errorf("%s %s %v: showings of %s: %d on the dashboard, %d in the list", who, sc.name, per[0], c.Key, c.N, n)
								}
								all += c.N
							}
							if n, pupils, parents := showingList(a, shq); n != all || pupils != s.ReachPupils || parents != s.ReachParents {
								t.Errorf("%s %s %v: %d showings reaching %d pupils and %d parents on the dashboard, the list %d, %d, %d",
									who, sc.name, per[0], all, s.ReachPupils, s.ReachParents, n, pupils, parents)
							}
						}
						if v.Health != access.StatsExact {
							continue
						}
						exact[who+" "+sc.name] = true
						rq := storage.RollQuery{SchoolID: sc.q.SchoolID, District: sc.q.District, From: per[0], To: per[1]}
						if n := rollCount(a, rq); n != s.Roll {
							t.Errorf("%s %s %v: %d on the roll on the dashboard, %d in the list", who, sc.name, per[0], s.Roll, n)
						}
						rq.Screened = "yes"
						if n := rollCount(a, rq); n != s.Screened {
							t.Errorf("%s %s %v: %d screened on the dashboard, %d in the list", who, sc.name, per[0], s.Screened, n)
						}
						rq.Screened = "no"
						if n := rollCount(a, rq); n != s.Roll-s.Screened {
							t.Errorf("%s %s %v: %d not screened on the dashboard, %d in the list", who, sc.name, per[0], s.Roll-s.Screened, n)
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
						q = pq
						q.InTime = true
						if n := planCount(a, q); n != s.LivePlans-s.ReviewsOverdue {
							t.Errorf("%s %s: %d reviews in time on the dashboard, %d in the list", who, sc.name, s.LivePlans-s.ReviewsOverdue, n)
						}
						q = pq
						q.Every = true
						all := 0
						for _, c := range s.PlansByStatus {
							all += c.N
						}
						if n := planCount(a, q); n != all {
							t.Errorf("%s %s: %d plans on the dashboard, %d in the list", who, sc.name, all, n)
						}
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
			for _, want := range []string{"city_specialist city", "district_specialist BAK-06", "school_head BAK-06-001", "teacher BAK-06-001",
				"head BAK-07-001 BAK-07-001"} {
				if !eventsExact[want] {
					t.Errorf("%s: events not exact", want)
				}
			}
			if !exact["head BAK-07-001 BAK-07-001"] {
				t.Errorf("the other school's head: not exact on their school")
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
			if s.Screened != 1 || s.HeadCount != 23+9+14+31 || s.ReachPupils != 28+25+60 || s.ReachParents != 6+40+12 {
				t.Errorf("screened %d, %d parents at events, reach %d pupils %d parents", s.Screened, s.HeadCount, s.ReachPupils, s.ReachParents)
			}
			// the moved pupil's plan stays at the old school, which no longer
			// lists or counts it; its district still does
			for _, c := range []struct {
				who  audit.Actor
				q    storage.StatsQuery
				want int
			}{{heads["BAK-06-001"], storage.StatsQuery{SchoolID: school}, 1}, {f.users["district_specialist"], storage.StatsQuery{District: "BAK-06"}, 2},
				{heads["BAK-07-001"], storage.StatsQuery{SchoolID: school7}, 1}} {
				if sc, _ := f.db.SupportCounts(ctx, c.who, c.q); sc.LivePlans != c.want {
					t.Errorf("%+v: %d live plans, want %d", c.q, sc.LivePlans, c.want)
				}
			}
			// the moved pupil's entry counts at the new school, not the old one
			for code, want := range map[string]int{"BAK-06-001": 1, "BAK-07-001": 3} {
				sc, _ := f.db.SupportCounts(ctx, heads[code], storage.StatsQuery{SchoolID: orgID(t, f.db, code)})
				n := 0
				for _, c := range sc.RegisterByLevel {
					n += c.N
				}
				if n != want {
					t.Errorf("%s: %d on the register, want %d", code, n, want)
				}
			}
			if s.LivePlans != 3 || s.ReviewsOverdue != 2 || len(s.PlansByOutcome) != 1 || s.PlansByOutcome[0] != (struct {
				Key string
				N   int
			}{"goals_met", 1}) {
				t.Errorf("plans: %d live, outcomes %+v", s.LivePlans, s.PlansByOutcome)
			}
			if s.Roll < 6 {
				t.Errorf("roll %d", s.Roll)
			}
			sch, _ := f.db.SupportCounts(ctx, f.users["school_head"], storage.StatsQuery{SchoolID: school, From: time.Time{}})
			if sch.Roll != 1 || sch.Screened != 1 {
				t.Errorf("school roll %d, screened %d, want 1 and 1 (one pupil moved away)", sch.Roll, sch.Screened)
			}
			// a body's or a case type's dashboard has none
			if b, _ := f.db.SupportCounts(ctx, f.users["city_specialist"], storage.StatsQuery{BodyID: 1}); b.Roll != 0 || len(b.RegisterByLevel) != 0 {
				t.Errorf("body dashboard with support figures: %+v", b)
			}
		})
	}
}
