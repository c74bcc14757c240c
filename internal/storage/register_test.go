package storage_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// TestRegister walks a register entry from a teacher's proposal to an exit,
// checking on both engines who may see it, who may decide on it, that a
// stale version is refused, and that every read and write is audited.
func TestRegister(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, teacher, psych := f.db, f.users["teacher"], f.users["school_psychologist"]
			kid := f.children["ownClass"]
			score := 19
			factors := []screening.Factor{{Kind: "score", Instrument: "sdq", Code: "total_difficulties", Score: &score, Band: "high", Informant: "parent", Points: 3}}

			if _, err := db.ProposeRegister(ctx, teacher, storage.NewProposal{ChildID: f.children["ownSchool"], Level: screening.High,
				Source: screening.FromScreening}); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("a teacher proposes a pupil outside their classes: %v", err)
			}
			if _, err := db.ProposeRegister(ctx, teacher, storage.NewProposal{ChildID: kid, Level: "severe", Source: screening.FromScreening}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("an unknown level: %v", err)
			}
			p, err := db.ProposeRegister(ctx, teacher, storage.NewProposal{ChildID: kid, Level: screening.Medium, Source: screening.FromScreening, Factors: factors})
			if err != nil {
				t.Fatal(err)
			}
			if p.Status != screening.Proposed || p.Level != screening.Medium || p.Version != 1 || len(p.Factors) != 1 || *p.Factors[0].Score != 19 {
				t.Fatalf("proposal %+v", p)
			}
			// A second proposal at a higher level raises the open entry; it does not open another.
			again, err := db.ProposeRegister(ctx, psych, storage.NewProposal{ChildID: kid, Level: screening.High, Source: screening.FromScreening, Factors: factors})
			if err != nil || again.ID != p.ID || again.Level != screening.High || again.Version != 2 {
				t.Fatalf("second proposal %+v %v", again, err)
			}

			for _, who := range []string{"teacher", "school_psychologist", "school_head", "district_specialist", "city_specialist"} {
				got, err := db.RegisterEntry(ctx, f.users[who], p.ID)
				if err != nil || got.ChildID != kid {
					t.Errorf("%s reads the entry: %+v %v", who, got, err)
				}
				if got.CanDecide != (who == "school_psychologist" || who == "school_head") {
					t.Errorf("%s may decide: %v", who, got.CanDecide)
				}
			}
			for _, who := range []string{"analyst", "public_council", "system_admin", "police_officer", "district_officer", "hotline_supervisor", "city_admin"} {
				if _, err := db.RegisterEntry(ctx, f.users[who], p.ID); apperr.CodeOf(err) != apperr.NotFound {
					t.Errorf("%s reads the entry: %v", who, err)
				}
			}
			denied, err := db.AuditEvents(ctx, storage.AuditFilter{Action: "register.read_denied", ActorUserID: f.users["analyst"].UserID})
			if err != nil || len(denied) != 1 {
				t.Fatalf("the refused read is not audited: %v %v", denied, err)
			}

			d := storage.RegisterDecision{ID: p.ID, Version: again.Version, ResponsibleUserID: psych.UserID, FirstReview: f.clock.t.Add(14 * 24 * time.Hour)}
			if _, err := db.ConfirmRegister(ctx, teacher, d); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a teacher confirms: %v", err)
			}
			stale := d
			stale.Version = 1
			if _, err := db.ConfirmRegister(ctx, psych, stale); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("a stale confirmation: %v", err)
			}
			other := d
			other.ResponsibleUserID = f.users["police_officer"].UserID
			if _, err := db.ConfirmRegister(ctx, psych, other); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a responsible person from another body: %v", err)
			}
			active, err := db.ConfirmRegister(ctx, psych, d)
			if err != nil {
				t.Fatal(err)
			}
			if active.Status != screening.Active || active.ResponsibleUserID != psych.UserID || !active.NextReviewDue.Equal(d.FirstReview) || active.Version != 3 {
				t.Fatalf("confirmed %+v", active)
			}
			if active.Overdue(f.clock.t) || !active.Overdue(f.clock.t.Add(15*24*time.Hour)) {
				t.Fatal("overdue is wrong")
			}

			// The review moves the next date by the cadence in working days.
			rev, err := db.ReviewRegister(ctx, psych, storage.RegisterDecision{ID: p.ID, Version: active.Version, Reason: "Ailə ilə görüş keçirildi"},
				map[screening.Level]int{screening.High: 5})
			if err != nil {
				t.Fatal(err)
			}
			// 2026-11-25 is a Wednesday: five working days on is Wednesday 2 December.
			if got := rev.NextReviewDue.Format("2006-01-02"); got != "2026-12-02" {
				t.Fatalf("next review %s", got)
			}
			if _, err := db.ExitRegister(ctx, psych, storage.RegisterDecision{ID: p.ID, Version: rev.Version, Reason: "bored"}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("an unknown exit reason: %v", err)
			}
			ex, err := db.ExitRegister(ctx, psych, storage.RegisterDecision{ID: p.ID, Version: rev.Version, Reason: "risk_resolved"})
			if err != nil || ex.Status != screening.Exited || !ex.NextReviewDue.IsZero() {
				t.Fatalf("exit %+v %v", ex, err)
			}
			hs, err := db.RegisterHistory(ctx, psych, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, h := range hs {
				actions = append(actions, h.Action)
			}
			if got := len(actions); got != 5 || actions[0] != "proposed" || actions[2] != "confirmed" || actions[4] != "exited" {
				t.Fatalf("history %v", actions)
			}

			// Once exited the pupil may be proposed again; a declined proposal keeps its reason.
			p2, err := db.ProposeRegister(ctx, teacher, storage.NewProposal{ChildID: kid, Level: screening.Medium, Source: screening.FromScreening})
			if err != nil || p2.ID == p.ID {
				t.Fatalf("new proposal %+v %v", p2, err)
			}
			if _, err := db.DeclineRegister(ctx, psych, storage.RegisterDecision{ID: p2.ID, Version: p2.Version}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("declined without a reason: %v", err)
			}
			dec, err := db.DeclineRegister(ctx, psych, storage.RegisterDecision{ID: p2.ID, Version: p2.Version, Reason: "Ailə artıq dəstək alır"})
			if err != nil || dec.Status != screening.Declined || dec.DeclineReason == "" {
				t.Fatalf("decline %+v %v", dec, err)
			}

			list, err := db.RegisterList(ctx, f.users["district_specialist"], storage.RegisterFilter{Status: screening.Exited})
			if err != nil || len(list) != 1 || list[0].ID != p.ID {
				t.Fatalf("district list %+v %v", list, err)
			}
			if list, err := db.RegisterList(ctx, f.users["analyst"], storage.RegisterFilter{Status: screening.Exited}); err != nil || len(list) != 0 {
				t.Fatalf("analyst list %+v %v", list, err)
			}
			writes, err := db.AuditEvents(ctx, storage.AuditFilter{ChildID: kid, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, ev := range writes {
				seen[ev.Action] = true
			}
			for _, a := range []string{"register.propose", "register.confirmed", "register.reviewed", "register.exited", "register.declined", "register.read", "register.history"} {
				if !seen[a] {
					t.Errorf("no audit event %s", a)
				}
			}
		})
	}
}

// TestRegisterFromCase: a special case proposes a pupil in it; who cannot
// read the case cannot, and a pupil not in the case is refused.
func TestRegisterFromCase(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, head, city := f.db, f.users["school_head"], f.users["city_specialist"]
			k, err := db.CreateCase(ctx, head, report(f, "ownSchool"))
			if err != nil {
				t.Fatal(err)
			}
			n := storage.NewProposal{ChildID: f.children["ownSchool"], Level: screening.High, Source: screening.FromCase, SourceID: k.ID,
				Factors: []screening.Factor{{Kind: "case", Code: "case", Text: "1"}}}
			if _, err := db.ProposeRegister(ctx, f.users["police_officer"], n); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("a body outside the case proposes from it: %v", err)
			}
			wrong := n
			wrong.ChildID = f.children["ownClass"]
			if _, err := db.ProposeRegister(ctx, city, wrong); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a pupil not in the case: %v", err)
			}
			got, err := db.ProposeRegister(ctx, city, n)
			if err != nil || got.Source != screening.FromCase || got.SchoolID != head.OrgID || got.Status != screening.Proposed {
				t.Fatalf("proposal from a case %+v %v", got, err)
			}
			// The school decides on it; the city specialist who proposed it cannot.
			if _, err := db.DeclineRegister(ctx, city, storage.RegisterDecision{ID: got.ID, Version: got.Version, Reason: "x"}); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("the city declines: %v", err)
			}
			if _, err := db.DeclineRegister(ctx, head, storage.RegisterDecision{ID: got.ID, Version: got.Version, Reason: "Ailə dəstək alır"}); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestRegisterListOneSchool: a school's list goes from its children to
// their entries (ADR 0029). It holds its pupils' entries, proposals first
// and then by next review, a pupil who moved in with an entry another
// school opened included; a teacher's holds only their classes'; nobody's
// holds another school's pupil; and a page stops at its limit.
func TestRegisterListOneSchool(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db := f.db
			school := func(code string) int64 {
				o, err := db.OrgByCode(ctx, code)
				if err != nil {
					t.Fatal(err)
				}
				return o.ID
			}
			a, b := school("BAK-06-001"), school("BAK-06-002")
			day := f.clock.now().Truncate(24 * time.Hour)
			if err := db.InsertRegisterBulk(ctx, []storage.BulkEntry{
				{ChildID: f.children["ownClass"], SchoolID: a, Level: screening.High, Status: screening.Active, NextReview: day.AddDate(0, 0, 5), Factors: `[]`},
				{ChildID: f.children["ownSchool"], SchoolID: b, Level: screening.Medium, Status: screening.Active, NextReview: day.AddDate(0, 0, -3), Factors: `[]`}, // moved in from B
				{ChildID: f.children["otherSchool"], SchoolID: b, Level: screening.Medium, Status: screening.Proposed, Factors: `[]`},
			}); err != nil {
				t.Fatal(err)
			}
			p, err := db.ProposeRegister(ctx, f.users["school_psychologist"], storage.NewProposal{ChildID: f.children["ownSchool"], Level: screening.High, Source: screening.FromScreening})
			if err != nil || p.SchoolID != b {
				t.Fatalf("the moved-in pupil's open entry: %+v %v", p, err)
			}
			kids := func(es []storage.RegisterEntry) []int64 {
				var ids []int64
				for _, e := range es {
					ids = append(ids, e.ChildID)
				}
				return ids
			}
			for _, c := range []struct {
				who  string
				f    storage.RegisterFilter
				want []int64
			}{
				{"school_psychologist", storage.RegisterFilter{}, []int64{f.children["ownSchool"], f.children["ownClass"]}},
				{"school_head", storage.RegisterFilter{Overdue: true}, []int64{f.children["ownSchool"]}},
				{"school_psychologist", storage.RegisterFilter{Limit: 1}, []int64{f.children["ownSchool"]}},
				{"school_psychologist", storage.RegisterFilter{ChildID: f.children["ownClass"]}, []int64{f.children["ownClass"]}},
				{"school_psychologist", storage.RegisterFilter{ChildID: f.children["otherSchool"]}, nil},
				{"teacher", storage.RegisterFilter{}, []int64{f.children["ownClass"]}},
				{"district_specialist", storage.RegisterFilter{Status: screening.Proposed}, []int64{f.children["otherSchool"]}},
			} {
				got, err := db.RegisterList(ctx, f.users[c.who], c.f)
				if err != nil {
					t.Fatalf("%s %+v: %v", c.who, c.f, err)
				}
				if g := kids(got); !slices.Equal(g, c.want) {
					t.Errorf("%s %+v lists children %v, want %v", c.who, c.f, g, c.want)
				}
				for _, e := range got {
					if e.ChildName == "" || e.SchoolName == "" {
						t.Errorf("%s: entry %d read without its child or school", c.who, e.ID)
					}
				}
			}
		})
	}
}
