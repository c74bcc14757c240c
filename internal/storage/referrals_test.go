package storage_test

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/escalate"
	"dayaq/internal/referral"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func consent(at time.Time) referral.Basis {
	return referral.Basis{Kind: referral.Consent, ConsentBy: "Əliyeva Səbinə", ConsentRelated: "ana",
		ConsentMethod: referral.Written, ConsentAt: at.Add(-time.Hour)}
}

// sees reports what a principal sees of a child: "" nothing, else the view.
func sees(t *testing.T, db *storage.DB, who string, f *matrixFixture, childID int64) access.View {
	t.Helper()
	r, err := db.ChildFor(context.Background(), f.users[who], childID)
	switch apperr.CodeOf(err) {
	case "":
		return r.Decision.View
	case apperr.NotFound:
		return access.ViewNone
	}
	t.Fatalf("%s reads child: %v", who, err)
	return 0
}

// Access follows the referral: before it the police see nothing of the
// child; while it is live they see the shared view and the referral; once
// it ends they see the referral's record but not the child. A third body
// (health) sees nothing throughout. Each change is in the case's chronology.
func TestReferralAccessFollowsReferral(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, head, police, health, city := f.db, f.users["school_head"], f.users["police_officer"], f.users["health_officer"], f.users["city_specialist"]
			kid := f.children["ownSchool"]
			k, err := db.CreateCase(ctx, head, report(f, "ownSchool"))
			if err != nil {
				t.Fatal(err)
			}
			check := func(stage string, police, health access.View) {
				t.Helper()
				if got := sees(t, db, "police_officer", f, kid); got != police {
					t.Errorf("%s: police view %d, want %d", stage, got, police)
				}
				if got := sees(t, db, "health_officer", f, kid); got != health {
					t.Errorf("%s: health view %d, want %d", stage, got, health)
				}
			}
			check("before", access.ViewNone, access.ViewNone)

			n := storage.NewReferral{CaseID: k.ID, ToOrgCode: "POLICE", ServiceCode: "police.home_visit", Urgency: referral.High,
				Message: "Ailəyə baxış lazımdır: uşaq evdə təhlükədə ola bilər.", Share: []referral.Section{referral.ShareSchool},
				Basis: consent(f.clock.t)}
			bad := n
			bad.ServiceCode = "health.medical_exam"
			if _, err := db.SendReferral(ctx, head, bad); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a health service from the police: %v", err)
			}
			bad = n
			bad.Basis = referral.Basis{Kind: referral.Override, Reason: "Valideyn tapılmır, təcili yoxlama lazımdır"}
			if _, err := db.SendReferral(ctx, head, bad); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a school head overrides: %v", err)
			}
			if _, err := db.SendReferral(ctx, police, n); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("the police send a referral of a case they cannot see: %v", err)
			}
			check("after refused sends", access.ViewNone, access.ViewNone)

			r, err := db.SendReferral(ctx, head, n)
			if err != nil {
				t.Fatal(err)
			}
			if r.State != referral.Sent || r.AckDue.IsZero() || !r.CompleteDue.After(r.AckDue) || r.ChildID != kid {
				t.Fatalf("sent: %+v", r.Referral)
			}
			check("during", access.ViewShared, access.ViewNone)
			pr, err := db.ReferralFor(ctx, police, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			if pr.Child == nil || pr.Case == nil || pr.Message == "" || !pr.Party.Receiver || pr.Party.Sender ||
				!slices.Equal(pr.Actions, []referral.Action{referral.Acknowledge, referral.Accept, referral.Decline}) {
				t.Fatalf("the police's view: child %v case %v actions %v party %+v", pr.Child != nil, pr.Case != nil, pr.Actions, pr.Party)
			}
			if pr.Case.Decision.View != access.ViewShared {
				t.Errorf("the police see the case with view %d, want shared", pr.Case.Decision.View)
			}
			if d, err := db.CaseFor(ctx, police, k.ID); err != nil || d.Summary != "" || len(d.Events) != 0 || len(d.Notes) != 0 {
				t.Fatalf("the police open the case file: summary %q, %d events, %v", d.Summary, len(d.Events), err)
			}
			// A second referral of the same case, to health: neither body sees the other's.
			n2 := n
			n2.ToOrgCode, n2.ServiceCode = "HEALTH", "health.medical_exam"
			hr, err := db.SendReferral(ctx, head, n2)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.ReferralFor(ctx, police, hr.ID); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("the police read health's referral of the same case: %v", err)
			}
			if rs, err := db.ListReferrals(ctx, police, storage.ReferralQuery{}); err != nil || len(rs) != 1 || rs[0].ID != r.ID {
				t.Fatalf("the police list %d referrals, %v", len(rs), err)
			}
			if _, err := db.ChangeReferral(ctx, head, hr.ID, hr.Version, referral.Change{Action: referral.Withdraw, Note: "Səhv göndərilib"}); err != nil {
				t.Fatal(err)
			}
			if _, err := db.ReferralFor(ctx, health, r.ID); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("health reads the police's referral: %v", err)
			}
			if rs, err := db.ListReferrals(ctx, health, storage.ReferralQuery{}); err != nil || len(rs) != 1 || rs[0].ID != hr.ID {
				t.Fatalf("health lists %d referrals (want only its own, withdrawn), %v", len(rs), err)
			}
			if rs, err := db.ListReferrals(ctx, police, storage.ReferralQuery{OpenOnly: true}); err != nil || len(rs) != 1 {
				t.Fatalf("police list %d referrals, %v", len(rs), err)
			}

			f.clock.t = f.clock.t.Add(2 * time.Hour)
			ack, err := db.ChangeReferral(ctx, police, r.ID, r.Version, referral.Change{Action: referral.Acknowledge})
			if err != nil {
				t.Fatal(err)
			}
			_, err = db.ChangeReferral(ctx, police, r.ID, r.Version, referral.Change{Action: referral.Accept})
			if e := apperr.As(err); e.Code != apperr.Conflict || e.Key != "referral.error.stale.acknowledged" {
				t.Fatalf("a stale change: %v", err)
			}
			if _, err := db.ChangeReferral(ctx, head, r.ID, ack.Version, referral.Change{Action: referral.Accept}); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("the sender accepts: %v", err)
			}
			steps := []referral.Change{{Action: referral.Accept}, {Action: referral.Start}, {Action: referral.Complete, Note: "Ailə ziyarət edildi, risk yoxdur."}}
			cur := ack
			for _, ch := range steps {
				f.clock.t = f.clock.t.Add(24 * time.Hour)
				if cur, err = db.ChangeReferral(ctx, police, r.ID, cur.Version, ch); err != nil {
					t.Fatalf("%s: %v", ch.Action, err)
				}
			}
			check("after", access.ViewNone, access.ViewNone)
			pr, err = db.ReferralFor(ctx, police, r.ID)
			if err != nil {
				t.Fatalf("the police read their ended referral: %v", err)
			}
			if pr.Child != nil || pr.Case != nil || pr.Message != "" || pr.State != referral.Completed || len(pr.Events) != 5 {
				t.Fatalf("ended: child %v case %v message %q state %s events %d", pr.Child != nil, pr.Case != nil, pr.Message, pr.State, len(pr.Events))
			}
			d, err := db.CaseFor(ctx, head, k.ID)
			if err != nil {
				t.Fatal(err)
			}
			entries := 0
			for _, ev := range d.Events {
				if ev.Kind == storage.EventReferral {
					entries++
				}
			}
			if entries != 7 { // five for the police's referral, two for health's
				t.Errorf("the chronology has %d referral entries, want 7: %v", entries, kinds(d))
			}

			board, err := db.ReferralBoard(ctx, city)
			if err != nil || len(board) != 2 {
				t.Fatalf("board %+v, %v", board, err)
			}
			i := slices.IndexFunc(board, func(b storage.BoardRow) bool { return b.Org.Code == "POLICE" })
			if b := board[max(i, 0)]; i < 0 || b.Open != 0 || b.Acked != 1 || b.MedianAck != 2*time.Hour || b.MedianComplete != 74*time.Hour {
				t.Errorf("board row %+v", b)
			}
			if hb, err := db.ReferralBoard(ctx, health); err != nil || len(hb) != 1 || hb[0].Org.Code != "HEALTH" {
				t.Errorf("health's board %+v %v", hb, err)
			}
		})
	}
}

// A referral nobody acknowledges escalates on time, once per step: the
// police are told it arrived, warned before the deadline, told (with their
// supervisor) when it passes, and the city unit is called in when it is
// long overdue.
func TestIgnoredReferralEscalates(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, head := f.db, f.users["school_head"]
			k, err := db.CreateCase(ctx, head, report(f, "ownSchool"))
			if err != nil {
				t.Fatal(err)
			}
			r, err := db.SendReferral(ctx, head, storage.NewReferral{CaseID: k.ID, ToOrgCode: "POLICE", ServiceCode: "police.protection",
				Urgency: referral.Critical, Message: "Uşağın həyatı üçün təhlükə var, dərhal yoxlayın.",
				Basis: referral.Basis{Kind: referral.ChildInDanger}})
			if err != nil {
				t.Fatal(err)
			}
			if !r.AckDue.Equal(r.SentAt.Add(time.Hour)) {
				t.Fatalf("critical acknowledge deadline %v, want an hour after %v", r.AckDue, r.SentAt)
			}
			esc := escalate.New(db, escalate.DefaultPolicy(), slog.New(slog.DiscardHandler))
			esc.Register("referrals", escalate.ProviderFunc(db.ReferralsDue))
			start := f.clock.t
			for _, tt := range []struct {
				after time.Duration
				want  int
			}{
				{30 * time.Minute, 0},  // nothing yet
				{46 * time.Minute, 1},  // due soon (15 minutes before)
				{50 * time.Minute, 0},  // not twice
				{61 * time.Minute, 1},  // overdue
				{90 * time.Minute, 0},  //
				{121 * time.Minute, 1}, // long overdue: the city unit
				{180 * time.Minute, 0},
			} {
				f.clock.t = start.Add(tt.after)
				n, err := esc.Run(ctx, f.clock.t)
				if err != nil || n != tt.want {
					t.Fatalf("at +%s: %d steps (%v), want %d", tt.after, n, err, tt.want)
				}
			}
			rows, err := db.Escalations(ctx, "referral_ack")
			if err != nil || len(rows) != 3 {
				t.Fatalf("escalations %+v %v", rows, err)
			}
			for who, want := range map[string]int{"police_officer": 3, "police_supervisor": 3, "city_specialist": 1, "health_officer": 0} {
				ns, err := db.Notifications(ctx, f.users[who], storage.NotificationFilter{})
				if err != nil || len(ns) != want {
					t.Errorf("%s has %d notifications (%v), want %d", who, len(ns), err, want)
				}
				for _, n := range ns {
					if n.Link != "/referrals/"+strconv.FormatInt(r.ID, 10) {
						t.Errorf("%s: link %q", who, n.Link)
					}
				}
			}
		})
	}
}
