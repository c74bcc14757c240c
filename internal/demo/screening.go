package demo

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
)

// LoadScreening starts a screening round for grade 6 of the demo school
// and enters a few pupils' answers, so that the register has a proposal
// and an active entry to show.
func LoadScreening(ctx context.Context, db *storage.DB) error {
	u, err := db.UserByEmail(ctx, "school_psychologist@"+Domain)
	if err != nil {
		return fmt.Errorf("demo.LoadScreening: %w", err)
	}
	p, err := db.PrincipalForUser(ctx, u.ID)
	if err != nil {
		return fmt.Errorf("demo.LoadScreening: %w", err)
	}
	psych := audit.Actor{Principal: p, RequestID: "demo"}
	day := db.Now().Truncate(24 * time.Hour)
	r, err := db.CreateRound(ctx, psych, storage.Round{Scope: "grade", Grade: 6,
		Instruments: []string{screening.CodePSC17, screening.CodeCategories, screening.CodeSigns},
		Informants:  []screening.Informant{screening.Teacher}, StartsOn: day.AddDate(0, 0, -7), EndsOn: day.AddDate(0, 0, 21)})
	if err != nil {
		return fmt.Errorf("demo.LoadScreening: %w", err)
	}
	v, err := db.RoundFor(ctx, psych, r.ID, -1, "")
	if err != nil || len(v.Pupils) < 3 {
		return err
	}
	psc := func(vals ...int) screening.Answers {
		a := screening.Answers{Informant: screening.Teacher, Values: map[string]int{}}
		for i, n := range vals {
			a.Values[strconv.Itoa(i+1)] = n
		}
		return a
	}
	since := day.AddDate(0, -2, 0).Format(time.DateOnly)
	sets := []storage.NewAnswerSet{
		{ChildID: v.Pupils[0].ChildID, Instrument: screening.CodePSC17, Answers: psc(2, 2, 1, 1, 1, 2, 2, 1, 2, 1, 2, 0, 1, 1, 2, 0, 2)},
		{ChildID: v.Pupils[0].ChildID, Instrument: screening.CodeCategories, Answers: screening.Answers{Informant: screening.Teacher,
			Values: map[string]int{"idp": 1, "targeted_assistance": 1}, Details: map[string]screening.Detail{
				"idp": {Evidence: "Məcburi köçkün vəsiqəsi", Date: day.AddDate(-1, 0, 0).Format(time.DateOnly)}}}},
		{ChildID: v.Pupils[1].ChildID, Instrument: screening.CodeSigns, Answers: screening.Answers{Informant: screening.Teacher,
			Values: map[string]int{"attendance_drop": 3, "withdrawal": 2}, Details: map[string]screening.Detail{
				"attendance_drop": {Since: since}, "withdrawal": {Since: since}}}},
		{ChildID: v.Pupils[2].ChildID, Instrument: screening.CodePSC17, Answers: psc(0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0)},
	}
	saved, err := db.SaveAnswers(ctx, psych, r.ID, sets)
	if err != nil {
		return fmt.Errorf("demo.LoadScreening: %w", err)
	}
	for _, s := range saved {
		if s.Entry != nil && s.Entry.Level == screening.High {
			if _, err := db.ConfirmRegister(ctx, psych, storage.RegisterDecision{ID: s.Entry.ID, Version: s.Entry.Version,
				ResponsibleUserID: u.ID, FirstReview: day.AddDate(0, 0, 10)}); err != nil {
				return fmt.Errorf("demo.LoadScreening: %w", err)
			}
			break
		}
	}
	return nil
}
