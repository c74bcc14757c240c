package demo

import (
	"context"
	"fmt"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/events"
	"dayaq/internal/storage"
)

// LoadEvents plans parent awareness events and campaign work as the demo
// users would: the demo school held one event (its head count, the parent
// of one pupil, three anonymous answers) and plans another; the city unit
// adds two campaign materials and an imported figure; the school shows the
// video to a class. Every other school has no event yet, which the city's
// view lists. Without the demo users it does nothing.
func LoadEvents(ctx context.Context, db *storage.DB) error {
	actor := func(role string) (audit.Actor, error) {
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
	head, err := actor("school_head")
	if err != nil {
		return fmt.Errorf("demo.LoadEvents: %w", err)
	}
	city, err := actor("city_specialist")
	if err != nil {
		return fmt.Errorf("demo.LoadEvents: %w", err)
	}
	topics, err := db.EventTopics(ctx, head, false)
	if err != nil || len(topics) < 8 {
		return fmt.Errorf("demo.LoadEvents: topics: %w", err)
	}
	pupils, err := db.ListChildren(ctx, head, storage.ChildQuery{SchoolID: head.OrgID, Limit: 5})
	if err != nil {
		return fmt.Errorf("demo.LoadEvents: %w", err)
	}
	now := db.Now()
	held, err := db.CreateParentEvent(ctx, head, events.Event{TopicIDs: []int64{topics[6].ID, topics[5].ID},
		StartsAt: now.Add(-6 * 24 * time.Hour).Truncate(time.Hour), Place: "Akt zalı", WholeSchool: true,
		SpeakerKind: events.Invited, SpeakerBody: "police", SpeakerName: "Nəsimi RPŞ, yetkinlik yaşına çatmayanlarla iş üzrə inspektor"})
	if err != nil {
		return fmt.Errorf("demo.LoadEvents: plan: %w", err)
	}
	at := storage.Attendance{EventID: held.ID, Version: held.Version, HeadCount: 42, Notes: "Valideynlər kiberzorbalıq barədə çox sual verdi.",
		MaterialsUsed: "Təqdimat, buklet"}
	if len(pupils) > 3 {
		at.ChildIDs = []int64{pupils[3].ID}
	}
	if _, err := db.RecordAttendance(ctx, head, at); err != nil {
		return fmt.Errorf("demo.LoadEvents: attendance: %w", err)
	}
	for i, n := range []int{5, 4, 4} {
		if err := db.AddFeedback(ctx, held.FeedbackCode, events.Feedback{Usefulness: n, Lang: []string{"az", "ru", "az"}[i],
			NextTopic: []string{"İmtahan stresi", "", "Ekran vaxtı"}[i]}); err != nil {
			return fmt.Errorf("demo.LoadEvents: feedback: %w", err)
		}
	}
	if _, err := db.CreateParentEvent(ctx, head, events.Event{TopicIDs: []int64{topics[1].ID, topics[4].ID},
		StartsAt: now.Add(9 * 24 * time.Hour).Truncate(time.Hour), Place: "5A sinif otağı", Classes: []string{"5A", "5B"},
		SpeakerKind: events.Psychologist}); err != nil {
		return fmt.Errorf("demo.LoadEvents: plan: %w", err)
	}
	video, err := db.CreateCampaignMaterial(ctx, city, events.CampaignMaterial{Kind: "video", Title: "Mənimlə danış — valideynlər üçün çarx",
		Languages: []string{"az", "ru"}, Edition: "2026", Audience: "parents", ExternalURL: "https://video.example.az/menimle-danis/valideyn"})
	if err != nil {
		return fmt.Errorf("demo.LoadEvents: material: %w", err)
	}
	if _, err := db.CreateCampaignMaterial(ctx, city, events.CampaignMaterial{Kind: "poster", Title: "146-2: səni dinləyirik",
		Languages: []string{"az", "ru", "en"}, Edition: "v1", Audience: "children", ExternalURL: "https://edu.example.az/146-2-poster"}); err != nil {
		return fmt.Errorf("demo.LoadEvents: material: %w", err)
	}
	if _, err := db.CreateShowing(ctx, head, events.Showing{MaterialID: video.ID, ShownAt: now.Add(-20 * 24 * time.Hour).Truncate(time.Hour),
		Classes: []string{"8A", "8B"}, Pupils: 54, Parents: 11, ShownBy: "Nigar Hüseynova, məktəb psixoloqu"}); err != nil {
		return fmt.Errorf("demo.LoadEvents: showing: %w", err)
	}
	month := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	if _, err := db.AddFigure(ctx, city, events.Figure{MaterialID: video.ID, Metric: "video_views", Value: 18400, PeriodStart: month,
		PeriodEnd: month.AddDate(0, 1, -1), Source: "YouTube Studio (Təhsil Nazirliyi kanalı)", AsOf: month.AddDate(0, 1, 0)}); err != nil {
		return fmt.Errorf("demo.LoadEvents: figure: %w", err)
	}
	return nil
}
