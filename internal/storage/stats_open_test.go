package storage_test

import (
	"context"
	"maps"
	"reflect"
	"testing"
	"time"

	"dayaq/internal/casework"
	"dayaq/internal/referral"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// A referral's deadline counts as open from referral_open_counts while its
// Baku day is after today and from the base tables on its day (migration
// 00031): the totals equal a recount from the base tables as the clock
// walks up to a deadline's day, into it, past the deadline and over Baku
// midnight into the next day — with referrals acknowledged, withdrawn and
// completed on each side of the day, before and after the fold, and a
// rebuild gives the same totals. Both engines.
func TestStatsOpenDeadlinesRollOver(t *testing.T) {
	baku := time.FixedZone("AZT", 4*60*60)
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			db := f.db
			spec, police, health := f.users["city_specialist"], f.users["police_officer"], f.users["health_officer"]
			scopes := []storage.StatsQuery{{}, {District: "BAK-06"}, {District: "BAK-07"},
				{SchoolID: orgID(t, db, "BAK-06-001")}, {SchoolID: orgID(t, db, "BAK-07-001")},
				{BodyID: orgID(t, db, "POLICE")}, {BodyID: orgID(t, db, "HEALTH")}}
			periods := [][2]time.Time{
				{},
				{time.Date(2026, 10, 31, 20, 0, 0, 0, time.UTC), time.Date(2027, 1, 31, 20, 0, 0, 0, time.UTC)}, // whole Baku months
				{time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), {}},                                             // a ragged edge
			}
			check := func(stage string) {
				t.Helper()
				for _, fold := range []bool{false, true} {
					if fold {
						if _, err := db.FoldStats(ctx); err != nil {
							t.Fatal(err)
						}
					}
					for _, s := range scopes {
						for _, p := range periods {
							for _, typ := range []string{"", "violence"} {
								q := s
								q.From, q.To, q.Type = p[0], p[1], typ
								agg, err := db.DashboardCounts(ctx, spec, q)
								if err != nil {
									t.Fatal(err)
								}
								base, err := db.DashboardRecount(ctx, q)
								if err != nil {
									t.Fatal(err)
								}
								if a, b := normFigures(agg), normFigures(base); !reflect.DeepEqual(a, b) {
									t.Errorf("%s (folded %v): %+v: totals\n%+v\nbase tables\n%+v", stage, fold, q, a.ByBody, b.ByBody)
								}
							}
						}
					}
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
					for k, n := range rebuilt {
						if kept[k] != n {
							t.Errorf("%s: %s kept %d, rebuilt %d", stage, k, kept[k], n)
						}
					}
					for k, n := range kept {
						if _, ok := rebuilt[k]; !ok {
							t.Errorf("%s: %s kept %d, rebuilt none", stage, k, n)
						}
					}
				}
			}
			mk := func(who, child, typ string) storage.CaseRecord {
				t.Helper()
				r, err := db.CreateCase(ctx, f.users[who], casework.NewCase{Type: typ, Severity: casework.High, Title: "Hadisə",
					ChildIDs: []int64{f.children[child]}})
				if err != nil {
					t.Fatal(err)
				}
				return r
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
					who = health
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
			// clockTo sets the clock to at, which must be later than now.
			clockTo := func(at time.Time) {
				t.Helper()
				if !at.After(f.clock.t) {
					t.Fatalf("the clock would go back from %v to %v", f.clock.t, at)
				}
				f.clock.t = at
			}
			midnight := func(at time.Time) time.Time { // the start of at's Baku day
				l := at.In(baku)
				return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, baku)
			}

			a := mk("school_head", "ownClass", "violence.bullying")
			b := mk("city_specialist", "otherDistrict", "neglect")
			rs := []storage.ReferralRecord{send(a, "POLICE", "police.home_visit"), send(a, "HEALTH", "health.medical_exam"),
				send(b, "POLICE", "police.home_visit"), send(b, "HEALTH", "health.medical_exam")}
			ack := rs[0].AckDue
			if !midnight(ack).After(f.clock.t) {
				t.Fatalf("the acknowledgement is due on the day sent (%v, sent %v): the test wants a day before it", ack, f.clock.t)
			}
			check("sent")

			// the evening before the acknowledgement's day: all in the totals
			clockTo(midnight(ack).Add(-time.Hour))
			rs[3] = change(rs[3], referral.Withdraw)
			check("the evening before the day due")

			// just past Baku midnight: the deadline is today's, from the base tables
			clockTo(midnight(ack).Add(time.Minute))
			check("the day due, a minute into it")
			rs[1] = change(rs[1], referral.Acknowledge) // on the day, before the deadline
			check("acknowledged on the day due")
			if ack.Sub(midnight(ack)) > 2*time.Minute {
				clockTo(ack.Add(-time.Minute))
				check("a minute before the deadline")
			}
			clockTo(ack.Add(time.Minute)) // rs[0] and rs[2] missed their acknowledgement
			check("a minute past the deadline")
			rs[0] = change(rs[0], referral.Acknowledge) // late
			check("acknowledged late")

			// over midnight into the next day: yesterday's deadlines are past
			clockTo(midnight(ack).Add(24*time.Hour + time.Minute))
			check("the day after")

			// the completion's day, the same way
			done := rs[0].CompleteDue
			if !midnight(done).After(f.clock.t) {
				t.Fatalf("completion due %v, not after the clock %v", done, f.clock.t)
			}
			clockTo(midnight(done).Add(-time.Minute))
			for _, st := range []referral.Action{referral.Accept, referral.Start} {
				rs[0] = change(rs[0], st)
			}
			check("the evening before completion is due")
			clockTo(midnight(done).Add(time.Minute))
			rs[1] = change(rs[1], referral.Accept)
			rs[0] = change(rs[0], referral.Complete) // on time, on the day due
			check("completed on the day due")
			clockTo(done.Add(time.Minute))
			check("past the completion deadline")
			clockTo(midnight(done).Add(24*time.Hour + time.Minute))
			check("the day after completion was due")

			// a critical referral sent at 23:30 Baku: acknowledgement due after
			// Baku midnight, before 04:00, still the UTC day it was sent
			clockTo(midnight(f.clock.t).Add(24*time.Hour + 23*time.Hour + 30*time.Minute))
			crit, err := db.SendReferral(ctx, spec, storage.NewReferral{CaseID: b.ID, ToOrgCode: "POLICE", ServiceCode: "police.home_visit",
				Urgency: referral.Critical, Message: "Təcili: uşaq bu gecə evdə təhlükədədir.", Share: []referral.Section{referral.ShareSchool},
				Basis: consent(f.clock.t)})
			if err != nil {
				t.Fatal(err)
			}
			if d := crit.AckDue.In(baku); d.Day() == f.clock.t.In(baku).Day() || d.Hour() >= 4 || crit.AckDue.UTC().Day() != f.clock.t.UTC().Day() {
				t.Fatalf("the critical acknowledgement is due %v, sent %v: the test wants it early in the next Baku day", d, f.clock.t.In(baku))
			}
			check("a critical referral sent late in the evening")
			clockTo(midnight(crit.AckDue).Add(time.Minute))
			check("a minute into the critical deadline's day")
		})
	}
}
