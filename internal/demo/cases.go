package demo

import (
	"context"
	"fmt"

	"dayaq/internal/audit"
	"dayaq/internal/casework"
	"dayaq/internal/storage"
)

// LoadCases opens a few special cases as the demo users would: the demo
// school reports three about its pupils, and the city unit triages one and
// starts work on it. It needs the demo users and children of the demo
// school; without them it does nothing.
func LoadCases(ctx context.Context, db *storage.DB) error {
	actor := demoActor(ctx, db)
	head, err := actor("school_head")
	if err != nil {
		return fmt.Errorf("demo.LoadCases: %w", err)
	}
	spec, err := actor("city_specialist")
	if err != nil {
		return fmt.Errorf("demo.LoadCases: %w", err)
	}
	pupils, err := db.ListChildren(ctx, head, storage.ChildQuery{SchoolID: head.OrgID, Limit: 3})
	if err != nil || len(pupils) < 3 {
		return err
	}
	reports := []casework.NewCase{
		{Type: "violence.bullying", Severity: casework.High, Title: "Sinif yoldaşları tərəfindən təhqir",
			Summary: "Fasilələrdə təkrarlanan təhqir və itələmə; sinif rəhbəri xəbər verdi."},
		{Type: "mental_health.self_harm", Severity: casework.Critical, Title: "Özünə zərər vurma əlamətləri",
			Summary: "Məktəb psixoloqu qolunda kəsiklər gördü; valideynlərə xəbər verildi."},
		{Type: "education.truancy", Severity: casework.Medium, Title: "İki həftədir dərsə gəlmir",
			Summary: "Ailə ilə əlaqə qurulmur."},
	}
	var first storage.CaseRecord
	for i, n := range reports {
		n.ChildIDs = []int64{pupils[i].ID}
		r, err := db.CreateCase(ctx, head, n)
		if err != nil {
			return fmt.Errorf("demo.LoadCases: %w", err)
		}
		if i == 0 {
			first = r
		}
	}
	bsti, err := db.OrgByCode(ctx, "BSTI")
	if err != nil {
		return fmt.Errorf("demo.LoadCases: %w", err)
	}
	r, err := db.TransitionCase(ctx, spec, first.ID, first.Version, casework.Move{To: casework.Triaged,
		LeadOrgID: bsti.ID, OwnerID: spec.UserID})
	if err != nil {
		return fmt.Errorf("demo.LoadCases: triage: %w", err)
	}
	if _, err := db.TransitionCase(ctx, spec, r.ID, r.Version, casework.Move{To: casework.InProgress,
		Note: "Valideynlərlə görüş təyin edildi."}); err != nil {
		return fmt.Errorf("demo.LoadCases: start: %w", err)
	}
	return nil
}

// demoActor finds a demo user by role, as the actor of the demo's writes.
func demoActor(ctx context.Context, db *storage.DB) func(role string) (audit.Actor, error) {
	return func(role string) (audit.Actor, error) {
		for _, s := range SignIns() {
			if string(s.Role) == role {
				u, err := db.UserByEmail(ctx, s.Email)
				if err != nil {
					return audit.Actor{}, err
				}
				p, err := db.PrincipalForUser(ctx, u.ID)
				return audit.Actor{Principal: p, RequestID: "demo"}, err
			}
		}
		return audit.Actor{}, fmt.Errorf("demo: no %s", role)
	}
}
