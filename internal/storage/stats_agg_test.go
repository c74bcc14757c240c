package storage_test

import (
	"context"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/casework"
	"dayaq/internal/hotline"
	"dayaq/internal/referral"
	"dayaq/internal/stats"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// normFigures drops empty lists, so that two countings of the same
// figures compare equal.
func normFigures(f stats.Figures) stats.Figures {
	if len(f.OverdueByOwner) == 0 {
		f.OverdueByOwner = nil
	}
	for _, p := range []*[]stats.Count{&f.ByType, &f.BySeverity, &f.ByStatus, &f.NewByMonth, &f.ClosedByMonth,
		&f.ContactsByChannel, &f.ByCategory, &f.ContactsByHour, &f.ContactsByWday} {
		if len(*p) == 0 {
			*p = nil
		}
	}
	if len(f.ByBody) == 0 {
		f.ByBody = nil
	}
	if len(f.BySchool) == 0 {
		f.BySchool = nil
	}
	return f
}

// The dashboards' totals, kept by triggers in every write's transaction,
// equal a recount from the base tables after each kind of write — cases
// created one by one and in bulk, triaged, moved, closed, reopened;
// referrals sent, acknowledged on time and late, left to go overdue,
// completed, withdrawn; hotline contacts; the clock passing deadlines — for the city, each district,
// school and body, for periods of whole months and ragged ones, with and
// without a case type; before and after the fold, and equal to what a
// rebuild from the base tables computes. Both engines.
func TestStatsAggregatesEqualRecount(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			db := f.db
			spec, head, police := f.users["city_specialist"], f.users["school_head"], f.users["police_officer"]
			var scopes []storage.StatsQuery
			scopes = append(scopes, storage.StatsQuery{}, storage.StatsQuery{District: "BAK-06"}, storage.StatsQuery{District: "BAK-07"})
			for _, code := range []string{"BAK-06-001", "BAK-06-002", "BAK-07-001"} {
				scopes = append(scopes, storage.StatsQuery{SchoolID: orgID(t, db, code)})
			}
			for _, code := range []string{"BSTI", "POLICE", "HEALTH", "BAK-06-001"} {
				scopes = append(scopes, storage.StatsQuery{BodyID: orgID(t, db, code)})
			}
			periods := [][2]time.Time{
				{},
				{time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC), time.Date(2027, 2, 28, 20, 0, 0, 0, time.UTC)}, // whole Baku months
				{time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC), time.Date(2027, 2, 10, 0, 0, 0, 0, time.UTC)},   // ragged
				{time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), {}},
				{time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), {}},  // the rest of December holds the referrals
				{{}, time.Date(2027, 1, 31, 20, 0, 0, 0, time.UTC)}, // up to a whole month: the all-months rollups must not count
				{{}, time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)},
				// edges that are most of their month: the month's totals less the rest of it
				{time.Date(2026, 11, 30, 20, 0, 0, 0, time.UTC), time.Date(2027, 1, 28, 0, 0, 0, 0, time.UTC)},
				{time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC)},
				{time.Date(2026, 10, 31, 20, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)}, // the rest holds contacts
				{time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)},    // inside one month
			}
			check := func(stage string) {
				t.Helper()
				for _, s := range scopes {
					for _, p := range periods {
						for _, typ := range []string{"", "violence", "neglect"} {
							q := s
							q.From, q.To, q.Type = p[0], p[1], typ
							agg, err := db.DashboardCounts(ctx, spec, q) // not Exact: the whole scope, from the totals
							if err != nil {
								t.Fatal(err)
							}
							base, err := db.DashboardRecount(ctx, q)
							if err != nil {
								t.Fatal(err)
							}
							if a, b := normFigures(agg), normFigures(base); !reflect.DeepEqual(a, b) {
								t.Errorf("%s: %+v: totals\n%+v\nbase tables\n%+v", stage, q, a, b)
							}
						}
					}
				}
				// exact views over a place in the jurisdiction read the totals too
				for who, q := range map[string]storage.StatsQuery{"school_head": {SchoolID: orgID(t, db, "BAK-06-001")},
					"city_specialist": {}, "district_specialist": {District: "BAK-06"}} {
					q.Exact, q.Scoped = true, true
					agg, err := db.DashboardCounts(ctx, f.users[who], q)
					if err != nil {
						t.Fatal(err)
					}
					q.Scoped = false
					pol, err := db.DashboardCounts(ctx, f.users[who], q)
					if err != nil {
						t.Fatal(err)
					}
					if a, b := normFigures(agg), normFigures(pol); !reflect.DeepEqual(a, b) {
						t.Errorf("%s: %s: totals %+v, under the policy %+v", stage, who, a, b)
					}
				}
			}
			settled := func(stage string) {
				t.Helper()
				check(stage)
				if _, err := db.FoldStats(ctx); err != nil {
					t.Fatal(err)
				}
				kept, pending, err := db.StatsTotals(ctx)
				if err != nil || pending != 0 {
					t.Fatalf("%s: after the fold %d deltas pending, %v", stage, pending, err)
				}
				check(stage + ", folded")
				if err := db.RebuildStats(ctx); err != nil {
					t.Fatal(err)
				}
				rebuilt, _, err := db.StatsTotals(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if !maps.Equal(kept, rebuilt) {
					for _, k := range slices.Sorted(maps.Keys(kept)) {
						if kept[k] != rebuilt[k] {
							t.Errorf("%s: %s kept %d, rebuilt %d", stage, k, kept[k], rebuilt[k])
						}
					}
					for _, k := range slices.Sorted(maps.Keys(rebuilt)) {
						if _, ok := kept[k]; !ok {
							t.Errorf("%s: %s kept none, rebuilt %d", stage, k, rebuilt[k])
						}
					}
				}
				if len(rebuilt) == 0 {
					t.Fatalf("%s: no totals", stage)
				}
			}

			mk := func(who, child, typ string, sev casework.Severity) storage.CaseRecord {
				t.Helper()
				r, err := db.CreateCase(ctx, f.users[who], casework.NewCase{Type: typ, Severity: sev, Title: "Hadisə",
					ChildIDs: []int64{f.children[child]}})
				if err != nil {
					t.Fatalf("%s reports about %s: %v", who, child, err)
				}
				return r
			}
			move := func(r storage.CaseRecord, m casework.Move) storage.CaseRecord {
				t.Helper()
				r2, err := db.TransitionCase(ctx, spec, r.ID, r.Version, m)
				if err != nil {
					t.Fatalf("%s: %v", m.To, err)
				}
				return r2
			}
			contact := func(i int) {
				t.Helper()
				c := hotline.Contact{Channel: []hotline.Channel{hotline.Phone, hotline.Web}[i%2], CallType: hotline.ChildSelf,
					Caller: hotline.Caller{Anonymous: true}, Categories: [][]string{{"violence.bullying"}, {"family", "education.school"}}[i%2],
					Urgency: hotline.Medium, Outcome: hotline.Advice, Narrative: "Məsləhət verildi.", ReceivedAt: f.clock.t}
				if err := db.BaselineInsertContact(ctx, f.users["hotline_operator"], c); err != nil {
					t.Fatal(err)
				}
			}
			send := func(k storage.CaseRecord, to, service string) storage.ReferralRecord {
				t.Helper()
				r, err := db.SendReferral(ctx, spec, storage.NewReferral{CaseID: k.ID, ToOrgCode: to, ServiceCode: service, Urgency: referral.High,
					Message: "Ailəyə baxış lazımdır: uşaq evdə təhlükədə ola bilər.", Share: []referral.Section{referral.ShareSchool},
					Basis: consent(f.clock.t)})
				if err != nil {
					t.Fatalf("referral to %s: %v", to, err)
				}
				return r
			}
			change := func(r storage.ReferralRecord, a referral.Action) storage.ReferralRecord {
				t.Helper()
				who := police
				if r.ToOrg.Code == "HEALTH" {
					who = f.users["health_officer"]
				}
				if a == referral.Withdraw {
					who = spec
				}
				r2, err := db.ChangeReferral(ctx, who, r.ID, r.Version, referral.Change{Action: a, Note: "Qeyd: iş görüldü."})
				if err != nil {
					t.Fatalf("%s: %v", a, err)
				}
				return r2
			}

			// November: cases one by one, and contacts
			a := mk("school_head", "ownClass", "violence.bullying", casework.High)
			b := mk("school_head", "ownSchool", "neglect", casework.Low)
			c := mk("city_specialist", "otherDistrict", "violence.physical", casework.Critical)
			for i := range 3 {
				contact(i)
				f.clock.t = f.clock.t.Add(5 * time.Hour)
			}
			settled("created")
			// triage, work, close and reopen, across months
			bsti := orgID(t, db, "BSTI")
			a = move(a, casework.Move{To: casework.Triaged, LeadOrgID: bsti, OwnerID: spec.UserID, Severity: casework.Critical})
			f.clock.t = f.clock.t.Add(10 * 24 * time.Hour)
			a = move(a, casework.Move{To: casework.InProgress})
			c = move(c, casework.Move{To: casework.Triaged, LeadOrgID: bsti, OwnerID: spec.UserID})
			// referrals: one acknowledged on time and completed, one acknowledged
			// late, one left to go overdue, one withdrawn
			r1 := send(a, "POLICE", "police.home_visit")
			r2 := send(c, "HEALTH", "health.medical_exam")
			r3 := send(c, "POLICE", "police.home_visit")
			r4 := send(a, "HEALTH", "health.medical_exam")
			settled("referred")
			f.clock.t = f.clock.t.Add(time.Hour)
			r1 = change(r1, referral.Acknowledge)
			change(r4, referral.Withdraw)
			f.clock.t = f.clock.t.Add(20 * 24 * time.Hour) // past the acknowledgement deadlines: r3 overdue
			r2 = change(r2, referral.Acknowledge)
			for _, st := range []referral.Action{referral.Accept, referral.Start, referral.Complete} {
				r1 = change(r1, st)
			}
			contact(3)
			settled("acknowledged, overdue, completed")
			a = move(a, casework.Move{To: casework.Monitoring, ReviewAt: f.clock.t.AddDate(0, 1, 0)})
			a = move(a, casework.Move{To: casework.Closed, Reason: "Uşaq təhlükəsizdir", Outcome: casework.OutcomeResolved})
			move(b, casework.Move{To: casework.Triaged, LeadOrgID: orgID(t, db, "BAK-06-001"), OwnerID: head.UserID})
			f.clock.t = f.clock.t.Add(40 * 24 * time.Hour)
			move(a, casework.Move{To: casework.Reopened, Reason: "Yeni şikayət"})
			settled("closed and reopened")
			// the bulk path, spread over months
			var bulk []storage.BulkCase
			d := db.CaseDeadlines()
			for i := range 30 {
				at := f.clock.t.Add(-time.Duration(i) * 71 * time.Hour)
				k := casework.Open(casework.NewCase{Type: []string{"violence.bullying", "neglect", "education.truancy"}[i%3], TaxonomyVersion: 1,
					Severity: casework.Severities()[i%4], Title: "Sintetik", Source: casework.FromSchool}, d, at)
				school := []string{"BAK-06-001", "BAK-06-002", "BAK-07-001"}[i%3]
				k.SchoolID, k.District = orgID(t, db, school), map[int]string{0: "BAK-06", 1: "BAK-06", 2: "BAK-07"}[i%3]
				if i%4 == 0 {
					k.Status, k.LeadOrgID = casework.Triaged, k.SchoolID
				}
				if i%5 == 0 {
					k.Status, k.ClosedAt, k.ClosureOutcome, k.ClosureReason = casework.Closed, at.Add(30*24*time.Hour), casework.OutcomeResolved, "—"
				}
				bulk = append(bulk, storage.BulkCase{Case: k, ChildIDs: []int64{f.children["ownSchool"]}})
			}
			if err := db.InsertCasesBulk(ctx, bulk); err != nil {
				t.Fatal(err)
			}
			settled("bulk")
			_ = r2
			_ = r3
			if t.Failed() {
				t.Log(fmt.Sprint("clock at the end: ", f.clock.t))
			}
		})
	}
}

// totalsMatch checks the dashboards' totals against a recount from the
// base tables for the city, each district and each school of the roster
// world, then folds and checks that a rebuild gives the same totals.
func totalsMatch(t *testing.T, db *storage.DB, a audit.Actor, stage string, schools ...int64) {
	t.Helper()
	ctx := context.Background()
	qs := []storage.StatsQuery{{}, {District: "BAK-06"}, {District: "BAK-07"}}
	for _, s := range schools {
		qs = append(qs, storage.StatsQuery{SchoolID: s})
	}
	for _, q := range qs {
		agg, err := db.DashboardCounts(ctx, a, q)
		if err != nil {
			t.Fatal(err)
		}
		base, err := db.DashboardRecount(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if x, y := normFigures(agg), normFigures(base); !reflect.DeepEqual(x, y) {
			t.Errorf("%s: %+v: totals %+v, base tables %+v", stage, q, x, y)
		}
		if q.District != "" {
			continue
		}
		// the roll, from the schools' kept counts, equals a count of the children
		sup, err := db.SupportCounts(ctx, a, q)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := db.RollRecount(ctx, q.SchoolID); err != nil || sup.Roll != n {
			t.Errorf("%s: %+v: roll %d, children %d (%v)", stage, q, sup.Roll, n, err)
		}
	}
	if _, err := db.FoldStats(ctx); err != nil {
		t.Fatal(err)
	}
	kept, _, err := db.StatsTotals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RebuildStats(ctx); err != nil {
		t.Fatal(err)
	}
	rebuilt, _, err := db.StatsTotals(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(kept, rebuilt) {
		t.Errorf("%s: kept totals %v, rebuilt %v", stage, kept, rebuilt)
	}
}

// The roster's bulk import, a merge of two records of one child (and its
// undo) and a re-import that moves a pupil leave the dashboards' totals
// equal to a recount: none of them changes what a case is counted under.
// Both engines.
func TestStatsAggregatesAfterRosterAndMerge(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newRosterWorld(t, e.DSN(t))
			ctx := context.Background()
			w.importCSV(t, audit.System(), rosterHeader+
				"S-1,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-001,5A\n"+
				"S-2,MAMMADOVA,NARMIN,Rashad qizi,f,2015-03-09,BAK-06-001,5A\n")
			head, city := w.users["head1"], w.users["city"]
			ps, err := w.db.DuplicateChildren(ctx, head, 50)
			if err != nil || len(ps) != 1 {
				t.Fatalf("pairs %+v, %v", ps, err)
			}
			for _, c := range []int64{ps[0].A.ID, ps[0].B.ID} {
				if _, err := w.db.CreateCase(ctx, head, casework.NewCase{Type: "violence.bullying", Severity: casework.High,
					Title: "Hadisə", ChildIDs: []int64{c}}); err != nil {
					t.Fatal(err)
				}
			}
			s1, s2 := orgID(t, w.db, "BAK-06-001"), orgID(t, w.db, "BAK-06-002")
			totalsMatch(t, w.db, city, "imported", s1, s2)
			m, err := w.db.MergeChildren(ctx, head, storage.MergeRequest{SurvivorID: ps[0].A.ID, SurvivorVersion: ps[0].A.Version,
				MergedID: ps[0].B.ID, MergedVersion: ps[0].B.Version})
			if err != nil {
				t.Fatal(err)
			}
			totalsMatch(t, w.db, city, "merged", s1, s2)
			if _, err := w.db.UndoMerge(ctx, head, m.ID); err != nil {
				t.Fatal(err)
			}
			w.clock.t = w.clock.t.Add(time.Hour)
			w.importCSV(t, audit.System(), rosterHeader+
				"S-1,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-002,5A\n")
			totalsMatch(t, w.db, city, "undone, moved", s1, s2)
		})
	}
}
