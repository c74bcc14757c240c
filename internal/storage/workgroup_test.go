package storage_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/escalate"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
	"dayaq/internal/workgroup"
)

func TestWorkingGroup(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, city, police, health := f.db, f.users["city_specialist"], f.users["police_officer"], f.users["health_officer"]

			if _, err := db.WGMeetings(ctx, police); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a non-member sees meetings: %v", err)
			}
			if err := db.AddWGMember(ctx, police, "health_officer@test.az", workgroup.Ordinary); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a non-member adds members: %v", err)
			}
			for _, email := range []string{"police_officer@test.az", "health_officer@test.az"} {
				if err := db.AddWGMember(ctx, city, email, workgroup.Ordinary); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.AddWGMember(ctx, city, "police_officer@test.az", workgroup.Ordinary); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("seated twice: %v", err)
			}
			ms, err := db.WGMembers(ctx, police)
			if err != nil || len(ms) != 2 {
				t.Fatalf("members: %v %v", ms, err)
			}

			m, err := db.CreateMeeting(ctx, city, workgroup.Meeting{Title: "Noyabr iclası", StartsAt: f.clock.t.Add(48 * time.Hour), Place: "BŞTİ, 3-cü mərtəbə"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.CreateMeeting(ctx, police, workgroup.Meeting{Title: "Polis iclası", StartsAt: f.clock.t}); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("a member plans a meeting: %v", err)
			}
			// Two people edit the minutes; the second, based on the old version, is refused and told what changed.
			first := m
			first.Minutes, first.Status = "Gündəlik təsdiq edildi. Əlaqələndirmə gücləndiriləcək.", workgroup.Held
			if _, err := db.UpdateMeeting(ctx, city, first); err != nil {
				t.Fatal(err)
			}
			second := m
			second.Place = "Onlayn"
			_, err = db.UpdateMeeting(ctx, city, second)
			if e := apperr.As(err); e.Code != apperr.Conflict || e.Key != "workgroup.error.stale_fields" || e.Args[1] != "place, status, minutes" {
				t.Fatalf("stale update: %v (%v)", err, e.Args)
			}
			if _, err := db.AddDecision(ctx, city, workgroup.Decision{MeetingID: m.ID, Text: "Məktəblərə təlimat göndərilsin."}); err != nil {
				t.Fatal(err)
			}
			it, err := db.CreateActionItem(ctx, city, workgroup.ActionItem{MeetingID: m.ID, Title: "Polis ilə protokol hazırla",
				OwnerUserID: police.UserID, Due: f.clock.t.Add(72 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := db.WGMeeting(ctx, health, m.ID)
			if err != nil || rec.Version != 2 || len(rec.Decisions) != 1 || len(rec.Actions) != 1 || rec.Actions[0].OwnerName != "police_officer" {
				t.Fatalf("meeting record %+v, %v", rec, err)
			}
			if _, err := db.SetActionStatus(ctx, health, it.ID, it.Version, workgroup.Done); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("someone else's item: %v", err)
			}
			if _, err := db.SetActionStatus(ctx, police, it.ID, it.Version, workgroup.InProgress); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SetActionStatus(ctx, police, it.ID, it.Version, workgroup.Done); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("stale item update: %v", err)
			}
			// The item follows the escalation machinery: its owner is told
			// before and at the deadline, their supervisor too once it is overdue.
			esc := escalate.New(db, escalate.DefaultPolicy(), slog.New(slog.DiscardHandler))
			esc.Register("action_items", escalate.ProviderFunc(db.ActionItemsDue))
			f.clock.t = f.clock.t.Add(96 * time.Hour)
			if n, err := esc.Run(ctx, f.clock.t); err != nil || n != 2 {
				t.Fatalf("escalation steps %d, %v; want 2 (due soon, overdue)", n, err)
			}
			if n, err := esc.Run(ctx, f.clock.t); err != nil || n != 0 {
				t.Fatalf("escalated twice: %d, %v", n, err)
			}
			if ns, err := db.Notifications(ctx, police, storage.NotificationFilter{}); err != nil || len(ns) != 1 || ns[0].Link != "/working-group" {
				t.Fatalf("the owner's notifications %+v %v", ns, err)
			}
			over, err := db.ActionItems(ctx, city, storage.ActionFilter{DueBefore: f.clock.t})
			if err != nil || len(over) != 1 {
				t.Fatalf("overdue items %v %v", over, err)
			}

			p, err := db.CreateProposal(ctx, health, workgroup.Proposal{Title: "Vahid müraciət forması", Body: "Bütün qurumlar üçün vahid forma hazırlansın.", Status: workgroup.Draft})
			if err != nil {
				t.Fatal(err)
			}
			if p, err = db.SetProposalStatus(ctx, health, p.ID, p.Version, workgroup.Submitted); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SetProposalStatus(ctx, health, p.ID, p.Version, workgroup.Adopted); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("an author adopts their own proposal: %v", err)
			}
			if _, err := db.SetProposalStatus(ctx, city, p.ID, p.Version, workgroup.Adopted); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("submitted → adopted skips review: %v", err)
			}
			if _, err := db.SetProposalStatus(ctx, city, p.ID, p.Version, workgroup.UnderReview); err != nil {
				t.Fatal(err)
			}
		})
	}
}
