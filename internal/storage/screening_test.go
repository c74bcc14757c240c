package storage_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// pscOver is a teacher's PSC-17 over the total cut-off (16 ≥ 15).
func pscOver(age int) screening.Answers {
	v := map[string]int{}
	for i, n := range []int{2, 1, 1, 0, 1, 1, 2, 0, 1, 1, 1, 0, 1, 1, 1, 0, 2} {
		v[strconv.Itoa(i+1)] = n
	}
	return screening.Answers{Informant: screening.Teacher, Age: age, Values: v}
}

func TestScreeningRound(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, teacher, psych, admin := f.db, f.users["teacher"], f.users["school_psychologist"], f.users["city_admin"]
			day := f.clock.t.Truncate(24 * time.Hour)
			round := storage.Round{Scope: "grade", Grade: 5, Instruments: []string{screening.CodePSC17, screening.CodeCategories},
				Informants: []screening.Informant{screening.Teacher}, StartsOn: day, EndsOn: day.Add(14 * 24 * time.Hour)}
			if _, err := db.CreateRound(ctx, teacher, round); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a teacher starts a round: %v", err)
			}
			bad := round
			bad.Scope, bad.EndsOn = "planet", day.Add(-time.Hour)
			if _, err := db.CreateRound(ctx, psych, bad); apperr.CodeOf(err) != apperr.Invalid || len(apperr.As(err).Fields) != 2 {
				t.Fatalf("a bad round: %v", err)
			}
			r, err := db.CreateRound(ctx, psych, round)
			if err != nil {
				t.Fatal(err)
			}
			kid, other := f.children["ownClass"], f.children["ownSchool"]
			cats := screening.Answers{Informant: screening.Teacher, Values: map[string]int{"orphan": 1, "idp": 1},
				Details: map[string]screening.Detail{"orphan": {Evidence: "Şəhadətnamə", Date: "2025-02-01"}}}

			if _, err := db.SaveAnswers(ctx, teacher, r.ID, []storage.NewAnswerSet{{ChildID: other, Instrument: screening.CodePSC17, Answers: pscOver(11)}}); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("a teacher screens another class: %v", err)
			}
			if _, err := db.SaveAnswers(ctx, teacher, r.ID, []storage.NewAnswerSet{{ChildID: kid, Instrument: screening.CodePSC17,
				Answers: screening.Answers{Informant: screening.Teacher, Values: map[string]int{"18": 1}}}}); apperr.CodeOf(err) != apperr.Invalid ||
				apperr.As(err).Fields[0].Field != "sets[0].answers.18" {
				t.Fatalf("an unknown item: %v", err)
			}
			saved, err := db.SaveAnswers(ctx, teacher, r.ID, []storage.NewAnswerSet{
				{ChildID: kid, Instrument: screening.CodePSC17, Answers: pscOver(11)},
				{ChildID: kid, Instrument: screening.CodeCategories, Answers: cats},
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(saved) != 1 || saved[0].Risk.Assessment.Level != screening.High || saved[0].Entry == nil || saved[0].Entry.Status != screening.Proposed {
				t.Fatalf("saved %+v", saved)
			}

			// The pupil's events went into the chain with the head written once: it still verifies.
			if _, bad, reason, err := db.VerifyAudit(ctx); err != nil || bad != 0 {
				t.Fatalf("the audit chain breaks after saving answers: %d %s %v", bad, reason, err)
			}
			if evs, _ := db.AuditEvents(ctx, storage.AuditFilter{ChildID: kid, Action: "screening.answers_save"}); len(evs) != 1 {
				t.Fatalf("answers_save events %d", len(evs))
			}

			tv, err := db.RoundFor(ctx, teacher, r.ID, -1, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(tv.Pupils) != 1 || tv.Pupils[0].ChildID != kid || !tv.Pupils[0].Screened(tv.Round) || tv.Pupils[0].Risk == nil {
				t.Fatalf("the teacher's round %+v", tv.Pupils)
			}
			if v, _ := tv.Pupils[0].Sets[screening.CodePSC17].Result.Value("total"); v != 16 {
				t.Fatalf("PSC-17 total %d", v)
			}
			if _, err := db.RoundFor(ctx, f.users["analyst"], r.ID, -1, ""); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("an analyst reads the round: %v", err)
			}
			if _, err := db.RoundFor(ctx, f.users["district_specialist"], r.ID, -1, ""); err != nil {
				t.Fatalf("the district reads the round: %v", err)
			}

			// A new version of the instrument and of the rules changes no past answer or result.
			v2, _ := screening.Builtin(screening.CodePSC17, 1)
			v2.Version = 2
			v2.Bands[1].Scores = map[string][]screening.Band{"total": {{Code: "below_cutoff", Min: 0, Max: 19}, {Code: "above_cutoff", Min: 20, Max: 34}}}
			if err := db.ImportInstrument(ctx, psych, v2, ""); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a psychologist imports: %v", err)
			}
			if err := db.ImportInstrument(ctx, admin, v2, ""); err != nil {
				t.Fatal(err)
			}
			if err := db.ImportInstrument(ctx, admin, v2, ""); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a version changed in place: %v", err)
			}
			rules := screening.DefaultRules()
			rules.Version, rules.Thresholds = 2, screening.Thresholds{Low: 5, Medium: 9, High: 12}
			if err := db.SaveRiskRules(ctx, admin, rules); err != nil {
				t.Fatal(err)
			}
			cs, err := db.ChildScreeningFor(ctx, psych, kid)
			if err != nil {
				t.Fatal(err)
			}
			var psc storage.AnswerSet
			for _, s := range cs.Sets {
				if s.InstrumentCode == screening.CodePSC17 {
					psc = s
				}
			}
			if psc.InstrumentVersion != 1 || psc.Result.Scores["total"].Band != "above_cutoff" {
				t.Fatalf("the stored set was rescored from another version: v%d %+v", psc.InstrumentVersion, psc.Result.Scores["total"])
			}
			if len(cs.Results) != 1 || cs.Results[0].Assessment.Level != screening.High || cs.NowSays == nil || cs.NowSays.Level != screening.Low {
				t.Fatalf("results %+v, now says %+v", cs.Results, cs.NowSays)
			}
			if len(cs.Register) != 1 {
				t.Fatalf("register %+v", cs.Register)
			}
			if _, err := db.ChildScreeningFor(ctx, f.users["police_officer"], kid); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("the police read the screening: %v", err)
			}

			// Confirmed with a review date that then passes: the escalator sees it.
			entry := cs.Register[0]
			if _, err := db.ConfirmRegister(ctx, psych, storage.RegisterDecision{ID: entry.ID, Version: entry.Version,
				ResponsibleUserID: psych.UserID, FirstReview: day.Add(3 * 24 * time.Hour)}); err != nil {
				t.Fatal(err)
			}
			due, err := db.RegisterReviewsDue(ctx, day.Add(4*24*time.Hour))
			if err != nil || len(due) != 1 || due[0].SubjectID != entry.ID || due[0].ChildID != kid || due[0].Assignee != psych.UserID {
				t.Fatalf("due %+v %v", due, err)
			}
			f.clock.t = day.Add(4 * 24 * time.Hour)
			if od, err := db.RegisterList(ctx, psych, storage.RegisterFilter{Overdue: true}); err != nil || len(od) != 1 {
				t.Fatalf("overdue list %+v %v", od, err)
			}
		})
	}
}
