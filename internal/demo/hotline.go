package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/hotline"
	"dayaq/internal/org"
	"dayaq/internal/storage"
)

// HotlineMonths is how many past months LoadHotline fills with contacts,
// besides the current one.
const HotlineMonths = 12

// LoadHotline adds synthetic past hotline contacts, logged by the demo
// operator: some twenty a month for the past HotlineMonths months and the
// current month so far, across the city's districts and with at least
// three a month in the demo school's district (BAK-06), so that the
// campaign's reach has a contact volume beside it and the public
// statistics have contacts to count. Every contact is anonymous, not
// urgent, and about a child named only by a first name, or a registry
// child; none opens a case or an alert. They are demo data: inserted in
// bulk, unaudited. Without the demo operator it does nothing.
func LoadHotline(ctx context.Context, db *storage.DB) error {
	op, err := demoActor(ctx, db)(string(access.HotlineOperator))
	if err != nil {
		return nil // no demo operator
	}
	sys := audit.Actor{Principal: access.Principal{UserID: -1, OrgType: org.CityDepartment, Roles: []access.Role{access.CityAdmin}}}
	kids, err := db.ListChildren(ctx, sys, storage.ChildQuery{Limit: 200})
	if err != nil {
		return fmt.Errorf("demo.LoadHotline: %w", err)
	}
	schools, err := allSchools(ctx, db)
	if err != nil {
		return fmt.Errorf("demo.LoadHotline: %w", err)
	}
	var districts []string
	for _, s := range schools {
		if s.DistrictCode != "" && !slices.Contains(districts, s.DistrictCode) {
			districts = append(districts, s.DistrictCode)
		}
	}
	if len(districts) == 0 {
		return nil
	}
	cats := [][]string{{"violence.bullying"}, {"mental.distress.anxiety", "education.school"}, {"family"}, {"peers"},
		{"violence.cyberbullying"}, {"education.truancy"}, {"mental.distress.mood", "family"}, {"other.question"}}
	names := append(femaleNames()[:8:8], maleNames()[:8]...)
	urgencies := []hotline.Urgency{hotline.Low, hotline.Medium, hotline.Medium, hotline.High}
	now := db.Now().UTC()
	thisMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	r := rand.New(rand.NewPCG(13, 2026))
	var cs []hotline.Contact
	for back := HotlineMonths; back >= 0; back-- {
		from := thisMonth.AddDate(0, -back, 0)
		span := from.AddDate(0, 1, 0).Sub(from)
		n := 16 + r.IntN(9)
		if back == 0 {
			span = now.Sub(from)
			n = max(3, n*int(span/(24*time.Hour))/30)
		}
		for i := range n {
			c := hotline.Contact{Channel: []hotline.Channel{hotline.Phone, hotline.Phone, hotline.Phone, hotline.Web, hotline.WalkIn}[r.IntN(5)],
				CallType: []hotline.CallType{hotline.ChildSelf, hotline.AboutChild}[r.IntN(2)], Caller: hotline.Caller{Anonymous: true},
				ReceivedAt: from.Add(time.Duration(r.Int64N(int64(max(span, time.Minute))))).Truncate(time.Second),
				Categories: cats[r.IntN(len(cats))], Urgency: urgencies[r.IntN(len(urgencies))],
				Outcome:   []hotline.Outcome{hotline.Advice, hotline.Advice, hotline.NoAction}[r.IntN(3)],
				Narrative: "Demo müraciət: uşaq vəziyyətini danışdı, məsləhət verildi."}
			if c.ReceivedAt.After(now) {
				c.ReceivedAt = now
			}
			ref := hotline.ChildRef{Name: names[r.IntN(len(names))], Age: 7 + r.IntN(11), District: districts[r.IntN(len(districts))]}
			switch {
			case i < 3: // the demo school's district, every month
				ref.District = "BAK-06"
			case r.IntN(3) == 0 && len(kids) > 0:
				ref = hotline.ChildRef{ChildID: kids[r.IntN(len(kids))].ID}
			}
			c.Children = []hotline.ChildRef{ref}
			cs = append(cs, c)
		}
	}
	if err := db.InsertPastContacts(ctx, op, cs); err != nil {
		return fmt.Errorf("demo.LoadHotline: %w", err)
	}
	return nil
}
