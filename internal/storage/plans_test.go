package storage_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/notify"
	"dayaq/internal/plan"
	"dayaq/internal/referral"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// TestPlans walks a recovery plan from a register entry to its closure on
// both engines: who sees how much of it, the parent's page behind the
// birth date, consent that a referral needs and whose withdrawal ends the
// body's access, versions, missed sessions, the review falling due, and the
// audit of every step.
func TestPlans(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, psych, head, teacher := f.db, f.users["school_psychologist"], f.users["school_head"], f.users["teacher"]
			kid := f.children["ownClass"]
			prop, err := db.ProposeRegister(ctx, teacher, storage.NewProposal{ChildID: kid, Level: screening.High, Source: screening.FromScreening})
			if err != nil {
				t.Fatal(err)
			}
			entry, err := db.ConfirmRegister(ctx, psych, storage.RegisterDecision{ID: prop.ID, Version: prop.Version,
				ResponsibleUserID: psych.UserID, FirstReview: f.clock.t.Add(14 * 24 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}

			mother := plan.Parent{Name: "Səbinə Əliyeva", Relation: "mother", Phone: "+994 50 123 45 67", Language: "ru"}
			if _, err := db.CreatePlan(ctx, teacher, storage.NewPlan{RegisterEntryID: entry.ID, Parents: []plan.Parent{mother}}); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a teacher opens a plan: %v", err)
			}
			if _, err := db.CreatePlan(ctx, psych, storage.NewPlan{RegisterEntryID: entry.ID, Parents: []plan.Parent{{Name: "X"}}}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a parent without relation and language: %v", err)
			}
			p, err := db.CreatePlan(ctx, psych, storage.NewPlan{RegisterEntryID: entry.ID, Concerns: "Davamiyyət azalıb", Parents: []plan.Parent{mother}})
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != plan.Draft || p.Level != plan.High || p.NextReviewDue.IsZero() || len(p.Parents) != 1 || !p.Decision.CanWrite {
				t.Fatalf("new plan %+v", p)
			}
			if _, err := db.CreatePlan(ctx, psych, storage.NewPlan{RegisterEntryID: entry.ID}); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("a second live plan for the entry: %v", err)
			}
			day := func(d int) time.Time { return f.clock.t.AddDate(0, 0, d) }
			p, err = db.AddGoal(ctx, psych, p.ID, p.Version, plan.Goal{Domain: plan.Learning, CatalogueCode: "attendance",
				Statement: "Həftədə ən azı 4 gün dərsə gəlir", Indicator: "davamiyyət jurnalı", From: day(0), Until: day(90)})
			if err != nil {
				t.Fatal(err)
			}
			p, err = db.AddGoal(ctx, psych, p.ID, p.Version, plan.Goal{Domain: plan.Health, Statement: "Tibbi müayinədən keçir",
				Indicator: "arayış", From: day(0), Until: day(30)})
			if err != nil {
				t.Fatal(err)
			}
			g1, g2 := p.Goals[0].ID, p.Goals[1].ID
			if _, err := db.AddGoal(ctx, psych, p.ID, p.Version-1, plan.Goal{Domain: plan.Social, Statement: "Dərnəyə gedir",
				Indicator: "siyahı", From: day(0), Until: day(30)}); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("a stale version: %v", err)
			}
			p, err = db.AddActivity(ctx, psych, p.ID, p.Version, storage.NewActivity{Activity: plan.Activity{Kind: plan.Counselling,
				Title: "Həftəlik söhbət", Responsible: plan.Responsible{Kind: plan.PartyStaff, UserID: psych.UserID}, Frequency: "həftədə bir",
				From: day(0), Until: day(90), GoalIDs: []int64{g1}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.AddActivity(ctx, psych, p.ID, p.Version, storage.NewActivity{Activity: plan.Activity{Kind: plan.ReferralActivity,
				Title: "Tibbi müayinə", Responsible: plan.Responsible{Kind: plan.PartyBody}, From: day(0), Until: day(30), GoalIDs: []int64{g2}},
				ToOrgCode: "HEALTH", ServiceCode: "police.protection"}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a service the body does not give: %v", err)
			}
			p, err = db.AddActivity(ctx, psych, p.ID, p.Version, storage.NewActivity{Activity: plan.Activity{Kind: plan.ReferralActivity,
				Title: "Tibbi müayinə", Responsible: plan.Responsible{Kind: plan.PartyBody}, From: day(0), Until: day(30), GoalIDs: []int64{g2}},
				ToOrgCode: "HEALTH", ServiceCode: "health.medical_exam"})
			if err != nil {
				t.Fatal(err)
			}
			p, err = db.AddActivity(ctx, psych, p.ID, p.Version, storage.NewActivity{Activity: plan.Activity{Kind: plan.ParentCommitment,
				Title: "Hər səhər məktəbə ötürür", Responsible: plan.Responsible{Kind: plan.PartyParent, ParentID: p.Parents[0].ID},
				From: day(0), Until: day(90), GoalIDs: []int64{g1}}})
			if err != nil {
				t.Fatal(err)
			}
			if len(p.Activities) != 3 {
				t.Fatalf("activities %+v", p.Activities)
			}
			ref := p.Activities[1]

			// Who sees what.
			tp, err := db.Plan(ctx, teacher, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tp.Decision.View != access.PlanTeacher || len(tp.Goals) != 2 || len(tp.Activities) != 0 || tp.Concerns != "" ||
				len(tp.Parents) != 0 || len(tp.Baseline) != 0 || len(tp.Consents) != 0 {
				t.Errorf("the class teacher sees more than goals and their own activities: %+v", tp)
			}
			for _, who := range []string{"analyst", "health_officer", "police_officer", "hotline_supervisor", "city_admin", "system_admin"} {
				if _, err := db.Plan(ctx, f.users[who], p.ID); apperr.CodeOf(err) != apperr.NotFound {
					t.Errorf("%s reads the plan: %v", who, err)
				}
			}
			for _, who := range []string{"school_head", "district_specialist", "city_specialist"} {
				got, err := db.Plan(ctx, f.users[who], p.ID)
				if err != nil || got.Decision.View != access.PlanFull || got.Decision.CanWrite != (who == "school_head") {
					t.Errorf("%s: %+v %v", who, got.Decision, err)
				}
			}
			if l, err := db.ListPlans(ctx, teacher, storage.PlanQuery{}); err != nil || len(l) != 1 {
				t.Errorf("the teacher's list: %v %v", l, err)
			}
			if l, err := db.ListPlans(ctx, f.users["health_officer"], storage.PlanQuery{}); err != nil || len(l) != 0 {
				t.Errorf("the health body lists a plan before any referral: %v %v", l, err)
			}

			// The referral needs the parents' consent to share with the body.
			if _, err := db.SendPlanReferral(ctx, psych, p.ID, p.Version, ref.ID, referral.Medium, "Tibbi müayinə lazımdır."); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("a referral without consent: %v", err)
			}

			// The parent link, by SMS: only the address and the token.
			nl, err := db.CreateParentLink(ctx, psych, p.ID, p.Version, p.Parents[0].ID, 0, true)
			if err != nil {
				t.Fatal(err)
			}
			if !nl.Link.ExpiresAt.Equal(f.clock.t.Add(plan.DefaultLinkLifetime)) {
				t.Errorf("link expires %s", nl.Link.ExpiresAt)
			}
			out, err := db.Outbox(ctx, storage.OutboxFilter{})
			if err != nil || len(out) == 0 {
				t.Fatalf("outbox %v %v", out, err)
			}
			sms := out[0]
			if sms.Channel != notify.SMS || sms.Address != "+994501234567" || sms.Link != "/p/"+nl.Token || sms.Lang != "ru" || len(sms.Args) != 0 {
				t.Errorf("the SMS %+v", sms)
			}
			pg, err := db.ParentView(ctx, nl.Token, "", "10.0.0.1", "r1")
			if err != nil || pg.State != plan.LinkOpen || pg.Unlocked || pg.Parent.Name != "" || len(pg.Goals) != 0 || pg.Language != "ru" {
				t.Fatalf("the page before the birth date shows %+v %v", pg, err)
			}
			if _, _, err := db.UnlockParentLink(ctx, "nosuchtoken-nosuchtoken", time.Time{}, "", ""); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("an unknown token: %v", err)
			}
			pg, sess, err := db.UnlockParentLink(ctx, nl.Token, time.Date(2015, 4, 2, 0, 0, 0, 0, time.UTC), "10.0.0.1", "r2")
			if err != nil || pg.Unlocked || sess != "" || pg.TriesLeft != plan.MaxTries-1 {
				t.Fatalf("a wrong birth date: %+v %q %v", pg, sess, err)
			}
			pg, sess, err = db.UnlockParentLink(ctx, strings.ToLower(nl.Code), time.Date(2015, 4, 1, 0, 0, 0, 0, time.UTC), "10.0.0.1", "r3")
			if err != nil || !pg.Unlocked || sess == "" || len(pg.Goals) != 2 || len(pg.Commitments) != 1 || pg.ChildFirst != "Aysel" {
				t.Fatalf("the right birth date by the short code: %+v %v", pg, err)
			}
			if _, err := db.ParentAct(ctx, nl.Token, "forged", "", "", storage.ParentAnswer{Agree: new(true)}); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("an answer from a browser that did not give the birth date: %v", err)
			}
			if _, err := db.ParentAct(ctx, nl.Token, sess, "10.0.0.1", "r4", storage.ParentAnswer{Agree: new(true)}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ParentAct(ctx, nl.Token, sess, "10.0.0.1", "r5", storage.ParentAnswer{Consent: &plan.Consent{Purpose: plan.ShareWithBody,
				OrgID: ref.Responsible.OrgID, Given: true}}); err != nil {
				t.Fatal(err)
			}
			call := "Axşam zəng edin"
			if _, err := db.ParentAct(ctx, nl.Token, sess, "10.0.0.1", "r6", storage.ParentAnswer{CallNote: &call}); err != nil {
				t.Fatal(err)
			}
			p, err = db.Plan(ctx, psych, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != plan.Active || !p.Agreed || !plan.Allows(p.Standing, plan.ShareWithBody, ref.Responsible.OrgID) || len(p.Calls) != 1 {
				t.Fatalf("after the parent's answers: status %s agreed %v standing %+v calls %d", p.Status, p.Agreed, p.Standing, len(p.Calls))
			}
			answers, err := db.AuditEvents(ctx, storage.AuditFilter{Action: "plan.parent_answer", ChildID: kid})
			if err != nil || len(answers) != 3 || answers[0].ActorUserID != 0 || !strings.Contains(answers[0].Details, `"as":"parent"`) {
				t.Errorf("the parent's answers are not audited as the parent: %+v %v", answers, err)
			}

			// Now the referral goes through the referral machinery.
			p, err = db.SendPlanReferral(ctx, psych, p.ID, p.Version, ref.ID, referral.Medium, "Tibbi müayinə lazımdır.")
			if err != nil {
				t.Fatal(err)
			}
			if p.CaseID == 0 || p.Activities[1].ReferralID == 0 || p.Activities[1].ReferralState != referral.Sent {
				t.Fatalf("the referral activity %+v (case %d)", p.Activities[1], p.CaseID)
			}
			hp, err := db.Plan(ctx, f.users["health_officer"], p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if hp.Decision.View != access.PlanBody || len(hp.Activities) != 1 || len(hp.Goals) != 1 || hp.Goals[0].ID != g2 || len(hp.Parents) != 0 {
				t.Errorf("the health body sees %+v", hp)
			}

			// A change after the agreement makes a new version.
			p, err = db.AddGoal(ctx, psych, p.ID, p.Version, plan.Goal{Domain: plan.Social, Statement: "Bir dərnəyə qoşulur",
				Indicator: "dərnək siyahısı", From: day(0), Until: day(60)})
			if err != nil {
				t.Fatal(err)
			}
			if p.ContentVersion != 2 || p.Status != plan.Draft || p.Agreed {
				t.Errorf("after a change: version %d status %s agreed %v", p.ContentVersion, p.Status, p.Agreed)
			}
			cs, err := db.ComparePlanVersions(ctx, psych, p.ID, 1, 2)
			if err != nil || len(cs) != 1 || cs[0].Kind != "added" || cs[0].What != "goal" {
				t.Errorf("compare 1 and 2: %+v %v", cs, err)
			}

			// Two sessions, one missed; then a second missed raises the flag.
			at := f.clock.t.Add(-time.Hour)
			p, err = db.LogSession(ctx, psych, p.ID, p.Version, plan.Session{ActivityID: p.Activities[0].ID, At: at, With: []plan.Participant{plan.WithPupil}, Attended: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.LogSession(ctx, psych, p.ID, p.Version, plan.Session{ActivityID: p.Activities[0].ID, At: at, With: []plan.Participant{plan.WithPupil}}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a missed session without a reason: %v", err)
			}
			for i := range 2 {
				p, err = db.LogSession(ctx, psych, p.ID, p.Version, plan.Session{ActivityID: p.Activities[0].ID, At: at.Add(time.Duration(i+1) * time.Minute),
					With: []plan.Participant{plan.WithPupil}, MissedReason: "xəstə idi"})
				if err != nil {
					t.Fatal(err)
				}
				if p.MissedFlag != (i == 1) {
					t.Errorf("after %d missed the flag is %v", i+1, p.MissedFlag)
				}
			}

			// The review falls due and escalates.
			if due, err := db.PlanReviewsDue(ctx, f.clock.t); err != nil || len(due) != 0 {
				t.Fatalf("due before its date: %v %v", due, err)
			}
			f.clock.t = p.NextReviewDue.Add(time.Hour)
			due, err := db.PlanReviewsDue(ctx, f.clock.t)
			if err != nil || len(due) != 1 || due[0].SubjectID != p.ID || due[0].Assignee != psych.UserID || due[0].Link != "/plans/"+itoa(p.ID) {
				t.Fatalf("overdue review: %+v %v", due, err)
			}
			p, err = db.RecordReview(ctx, psych, p.ID, p.Version, plan.Review{Progress: map[int64]plan.Progress{g1: plan.SomeGain, g2: plan.Achieved,
				p.Goals[2].ID: plan.NoChange}, LevelTo: plan.Medium, Decision: plan.Continue})
			if err != nil {
				t.Fatal(err)
			}
			if p.Level != plan.Medium || !p.NextReviewDue.After(f.clock.t) || len(p.Reviews) != 1 {
				t.Errorf("after the review: level %s next %s", p.Level, p.NextReviewDue)
			}
			if _, err := db.ApproveReview(ctx, psych, p.ID, p.Version, p.Reviews[0].ID); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("the psychologist approves their own review: %v", err)
			}
			if p, err = db.ApproveReview(ctx, head, p.ID, p.Version, p.Reviews[0].ID); err != nil || p.Reviews[0].ApprovedBy != head.UserID {
				t.Fatalf("the head approves: %v", err)
			}

			// Withdrawing the consent ends the sharing with the body. The
			// first link has expired by now (six weeks on): a new one.
			if pg, err := db.ParentView(ctx, nl.Token, sess, "", ""); err != nil || pg.State != plan.LinkExpired || pg.Unlocked {
				t.Errorf("the link after 14 days: %+v %v", pg, err)
			}
			nl, err = db.CreateParentLink(ctx, psych, p.ID, p.Version, p.Parents[0].ID, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			pg, sess, err = db.UnlockParentLink(ctx, nl.Token, time.Date(2015, 4, 1, 0, 0, 0, 0, time.UTC), "", "")
			if err != nil || sess == "" {
				t.Fatalf("unlock again: %v", err)
			}
			if _, err := db.ParentAct(ctx, nl.Token, sess, "", "", storage.ParentAnswer{Consent: &plan.Consent{Purpose: plan.ShareWithBody,
				OrgID: ref.Responsible.OrgID}}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Plan(ctx, f.users["health_officer"], p.ID); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("the body still sees the plan after the consent was withdrawn: %v", err)
			}
			if r, err := db.ReferralFor(ctx, psych, p.Activities[1].ReferralID); err != nil || r.State != referral.Withdrawn {
				t.Errorf("the referral after the withdrawal: %s %v", r.State, err)
			}

			// Five wrong birth dates lock a link.
			p, _ = db.Plan(ctx, psych, p.ID)
			l2, err := db.CreateParentLink(ctx, psych, p.ID, p.Version, p.Parents[0].ID, 0, false)
			if err != nil {
				t.Fatal(err)
			}
			for range plan.MaxTries {
				if _, _, err := db.UnlockParentLink(ctx, l2.Token, time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC), "", ""); err != nil {
					t.Fatal(err)
				}
			}
			if pg, s, err := db.UnlockParentLink(ctx, l2.Token, time.Date(2015, 4, 1, 0, 0, 0, 0, time.UTC), "", ""); err != nil || pg.State != plan.LinkLocked || s != "" || pg.Unlocked {
				t.Errorf("a locked link opens with the right date: %+v %v", pg, err)
			}

			// Closing feeds the register entry and ends the links.
			p, _ = db.Plan(ctx, psych, p.ID)
			p, err = db.ClosePlan(ctx, psych, p.ID, p.Version, plan.Closure{Outcome: plan.OutcomePartlyMet})
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != plan.Closed || p.Outcome != plan.OutcomePartlyMet || !p.NextReviewDue.IsZero() {
				t.Errorf("closed plan %+v", p)
			}
			if pg, err := db.ParentView(ctx, nl.Token, sess, "", ""); err != nil || pg.State != plan.LinkRevoked || pg.Unlocked {
				t.Errorf("the link after closure: %+v %v", pg, err)
			}
			hist, err := db.RegisterHistory(ctx, psych, entry.ID)
			if err != nil || !strings.Contains(hist[len(hist)-1].Note+hist[0].Note, "outcome:partly_met") {
				t.Errorf("the register entry's history does not have the outcome: %+v %v", hist, err)
			}
			if _, err := db.CreatePlan(ctx, psych, storage.NewPlan{RegisterEntryID: entry.ID}); err != nil {
				t.Errorf("a new plan once the old one closed: %v", err)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
