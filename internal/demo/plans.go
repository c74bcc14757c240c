package demo

import (
	"context"
	"fmt"
	"time"

	"dayaq/internal/plan"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
)

// LoadPlans puts three pupils of the demo school on the register (the
// school psychologist confirms them) and opens a recovery plan with two
// goals for the first; the other two wait for a plan. It needs the demo
// users and the demo school's pupils; without them it does nothing.
func LoadPlans(ctx context.Context, db *storage.DB) error {
	actor := demoActor(ctx, db)
	psych, err := actor("school_psychologist")
	if err != nil {
		return fmt.Errorf("demo.LoadPlans: %w", err)
	}
	pupils, err := db.ListChildren(ctx, psych, storage.ChildQuery{SchoolID: psych.OrgID, Limit: 8})
	if err != nil || len(pupils) < 3 {
		return err
	}
	pupils = pupils[len(pupils)-3:] // the last ones: the demo cases are about the first
	var entries []storage.RegisterEntry
	for i, level := range []screening.Level{screening.High, screening.Medium, screening.High} {
		p, err := db.ProposeRegister(ctx, psych, storage.NewProposal{ChildID: pupils[i].ID, Level: level, Source: screening.FromManual,
			Note: "Demo"})
		if err != nil {
			return fmt.Errorf("demo.LoadPlans: propose: %w", err)
		}
		if p.Status == screening.Active { // the demo screening put them there already
			entries = append(entries, p)
			continue
		}
		e, err := db.ConfirmRegister(ctx, psych, storage.RegisterDecision{ID: p.ID, Version: p.Version, ResponsibleUserID: psych.UserID,
			FirstReview: db.Now().AddDate(0, 0, 28)})
		if err != nil {
			return fmt.Errorf("demo.LoadPlans: confirm: %w", err)
		}
		entries = append(entries, e)
	}
	p, err := db.CreatePlan(ctx, psych, storage.NewPlan{RegisterEntryID: entries[0].ID, Concerns: "Dərsə davamiyyət azalıb, sinifdə təkləşir.",
		Parents: []plan.Parent{{Name: "Günel Məmmədova", Relation: "mother", Phone: "+994501110022", Language: "az"}}})
	if err != nil {
		return fmt.Errorf("demo.LoadPlans: %w", err)
	}
	now := db.Now()
	for _, g := range []plan.Goal{
		{Domain: plan.Learning, CatalogueCode: "attendance", Statement: "Həftədə ən azı 4 gün dərsə gəlir", Indicator: "davamiyyət jurnalı",
			From: now, Until: now.AddDate(0, 3, 0)},
		{Domain: plan.Social, CatalogueCode: "club", Statement: "Bir dərnəyə qoşulur və iştirak edir", Indicator: "dərnək siyahısı",
			From: now, Until: now.AddDate(0, 3, 0)},
	} {
		if p, err = db.AddGoal(ctx, psych, p.ID, p.Version, g); err != nil {
			return fmt.Errorf("demo.LoadPlans: goal: %w", err)
		}
	}
	_, err = db.AddActivity(ctx, psych, p.ID, p.Version, storage.NewActivity{Activity: plan.Activity{Kind: plan.Counselling,
		Title: "Həftəlik söhbət", Responsible: plan.Responsible{Kind: plan.PartyStaff, UserID: psych.UserID}, Frequency: "həftədə bir",
		From: now, Until: now.Add(90 * 24 * time.Hour), GoalIDs: []int64{p.Goals[0].ID, p.Goals[1].ID}}})
	if err != nil {
		return fmt.Errorf("demo.LoadPlans: activity: %w", err)
	}
	return nil
}
