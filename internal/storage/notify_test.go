package storage_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/calendar"
	"dayaq/internal/notify"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// notifyWorld is a database with a city department, a police body and a
// user of each kind the notifications need.
type notifyWorld struct {
	db                    *storage.DB
	clock                 *clock
	officer, other, admin audit.Actor
}

func newNotifyWorld(t *testing.T, dsn string) *notifyWorld {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)}
	db := storagetest.Open(t, dsn, storage.WithClock(clk.Now))
	if _, err := db.ImportOrgs(ctx, []org.Org{
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi"},
		{Code: "POL-BAK", Type: org.Police, NameAZ: "Bakı Şəhər Polis İdarəsi"},
	}); err != nil {
		t.Fatal(err)
	}
	mk := func(email, orgCode string, roles ...access.Role) audit.Actor {
		u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: email, Name: "Test " + email, OrgCode: orgCode,
			Roles: roles, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		return audit.Actor{Principal: access.Principal{UserID: u.ID, OrgID: u.OrgID, OrgType: u.OrgType, Roles: roles}}
	}
	return &notifyWorld{db: db, clock: clk,
		officer: mk("officer@police.example.az", "POL-BAK", access.AgencyOfficer),
		other:   mk("other@police.example.az", "POL-BAK", access.AgencyOfficer),
		admin:   mk("admin@bsti.example.az", "BSTI", access.CityAdmin),
	}
}

func TestNotifyFollowsPreferences(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			w := newNotifyWorld(t, e.DSN(t))
			db := w.db
			// The officer gives a phone, turns SMS on and e-mail off for referrals.
			p, err := db.NotifyPrefsOf(ctx, w.officer)
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != 1 || !p.Channels[notify.ReferralReceived][notify.Email] || p.Channels[notify.ReferralReceived][notify.SMS] {
				t.Fatalf("defaults: %+v", p)
			}
			p.Phone = "+994 (50) 123-45-67"
			p.Channels[notify.ReferralReceived][notify.Email] = false
			p.Channels[notify.ReferralReceived][notify.SMS] = true
			saved, err := db.SaveNotifyPrefs(ctx, w.officer, p)
			if err != nil {
				t.Fatal(err)
			}
			if saved.Phone != "+994501234567" || saved.Version != 2 || saved.Channels[notify.ReferralReceived][notify.Email] {
				t.Fatalf("saved %+v", saved)
			}
			// Saving again from the version read before is refused.
			if _, err := db.SaveNotifyPrefs(ctx, w.officer, p); apperr.CodeOf(err) != apperr.Conflict {
				t.Errorf("stale save: %v, want conflict", err)
			}
			p.Version, p.Phone = 2, "12"
			if _, err := db.SaveNotifyPrefs(ctx, w.officer, p); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("short phone: %v, want invalid", err)
			}

			msg := func(to audit.Actor) notify.Message {
				return notify.Must(notify.ReferralReceived, notify.User(to.UserID), "notify.referral.received", "/referrals/12",
					notify.ID(12))
			}
			if err := db.Notify(ctx, msg(w.officer), msg(w.other),
				notify.Must(notify.CriticalAlert, notify.Address(notify.Email, "duty@police.example.az"), "notify.hotline.critical", "/hotline/7")); err != nil {
				t.Fatal(err)
			}
			out, err := db.Outbox(ctx, storage.OutboxFilter{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for _, m := range out {
				got[m.Address] = string(m.Channel)
			}
			want := map[string]string{"+994501234567": "sms", "other@police.example.az": "email", "duty@police.example.az": "email"}
			if len(got) != len(want) || len(out) != 3 {
				t.Errorf("outbox %v, want %v", got, want)
			}
			for a, ch := range want {
				if got[a] != ch {
					t.Errorf("outbox to %s by %q, want %s", a, got[a], ch)
				}
			}
			for _, u := range []audit.Actor{w.officer, w.other} {
				if n, err := db.UnreadCount(ctx, u.UserID); err != nil || n != 1 {
					t.Errorf("unread for %d = %d, %v; want 1", u.UserID, n, err)
				}
			}
			ns, err := db.Notifications(ctx, w.officer, storage.NotificationFilter{})
			if err != nil || len(ns) != 1 || ns[0].Link != "/referrals/12" || ns[0].Key != "notify.referral.received" {
				t.Fatalf("notifications %+v, %v", ns, err)
			}
			// Another user's notification is not found; one's own is marked once.
			if err := db.MarkNotificationRead(ctx, w.other, ns[0].ID); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("marking another's: %v, want not found", err)
			}
			for range 2 {
				if err := db.MarkNotificationRead(ctx, w.officer, ns[0].ID); err != nil {
					t.Fatal(err)
				}
			}
			if n, _ := db.UnreadCount(ctx, w.officer.UserID); n != 0 {
				t.Errorf("unread after marking = %d", n)
			}
			if n, err := db.MarkAllNotificationsRead(ctx, w.other); err != nil || n != 1 {
				t.Errorf("mark all: %d, %v", n, err)
			}
		})
	}
}

func TestOutboxRetries(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			w := newNotifyWorld(t, e.DSN(t))
			db := w.db
			if err := db.Notify(ctx, notify.Must(notify.CaseAssigned, notify.User(w.other.UserID), "notify.case.assigned", "/cases/3")); err != nil {
				t.Fatal(err)
			}
			if h, err := db.OutboxHealth(ctx); err != nil || h.Pending != 1 || h.Failed != 0 || !h.OldestPending.Equal(w.clock.Now()) {
				t.Errorf("health %+v, %v", h, err)
			}
			email := []notify.Channel{notify.Email}
			ms, err := db.ClaimOutbox(ctx, email, 10, time.Minute)
			if err != nil || len(ms) != 1 || ms[0].Attempts != 1 {
				t.Fatalf("claim: %+v, %v", ms, err)
			}
			// Claimed: another worker gets nothing during the lease, nor by another channel.
			if again, _ := db.ClaimOutbox(ctx, email, 10, time.Minute); len(again) != 0 {
				t.Errorf("claimed twice: %+v", again)
			}
			if err := db.OutboxResult(ctx, ms[0].ID, errors.New("dial tcp: connection refused"), w.clock.Now().Add(30*time.Second)); err != nil {
				t.Fatal(err)
			}
			if again, _ := db.ClaimOutbox(ctx, email, 10, time.Minute); len(again) != 0 {
				t.Errorf("claimed before its retry time: %+v", again)
			}
			w.clock.Add(31 * time.Second)
			ms, err = db.ClaimOutbox(ctx, email, 10, time.Minute)
			if err != nil || len(ms) != 1 || ms[0].Attempts != 2 || ms[0].LastError == "" {
				t.Fatalf("retry claim: %+v, %v", ms, err)
			}
			if err := db.OutboxResult(ctx, ms[0].ID, nil, time.Time{}); err != nil {
				t.Fatal(err)
			}
			total, failed, err := db.OutboxAttempts(ctx, ms[0].ID)
			if err != nil || total != 2 || failed != 1 {
				t.Errorf("attempts %d (failed %d), %v; want 2 (1)", total, failed, err)
			}
			sent, _ := db.Outbox(ctx, storage.OutboxFilter{Status: "sent"})
			if len(sent) != 1 || sent[0].SentAt.IsZero() {
				t.Errorf("sent: %+v", sent)
			}
			// Kept for a while, then pruned with its attempts; the unread in-app notification stays.
			if _, m, err := db.PruneNotifications(ctx); err != nil || m != 0 {
				t.Errorf("pruned %d messages at once, %v", m, err)
			}
			w.clock.Add(storage.KeepSentMessages + time.Hour)
			if n, m, err := db.PruneNotifications(ctx); err != nil || n != 0 || m != 1 {
				t.Errorf("pruned %d notifications, %d messages, %v; want 0, 1", n, m, err)
			}
			if total, _, _ := db.OutboxAttempts(ctx, ms[0].ID); total != 0 {
				t.Errorf("%d attempts left of a pruned message", total)
			}
			if n, _ := db.UnreadCount(ctx, w.other.UserID); n != 1 {
				t.Errorf("an unread notification was pruned")
			}
		})
	}
}

func TestCalendarDays(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		ds, err := db.CalendarDays(ctx, 2026)
		if err != nil || len(ds) != 4 || ds[0].Name != "ramazan" || ds[0].Date.Format(time.DateOnly) != "2026-03-20" {
			t.Fatalf("seeded 2026: %+v, %v", ds, err)
		}
		if ds, _ := db.CalendarDays(ctx, 2027); len(ds) != 4 {
			t.Errorf("seeded 2027: %d days", len(ds))
		}
		admin := audit.Actor{Principal: access.Principal{UserID: 0, OrgType: org.CityDepartment, Roles: []access.Role{access.CityAdmin}}}
		officer := audit.Actor{Principal: access.Principal{UserID: 5, OrgType: org.Police, Roles: []access.Role{access.AgencyOfficer}}}
		day := storage.CalendarDay{Date: time.Date(2026, 10, 16, 0, 0, 0, 0, time.UTC), Kind: calendar.DayOff, Name: "transfer"}
		if _, err := db.AddCalendarDay(ctx, officer, day); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("an officer entering a day: %v, want forbidden", err)
		}
		added, err := db.AddCalendarDay(ctx, admin, day)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.AddCalendarDay(ctx, admin, day); apperr.CodeOf(err) != apperr.Invalid {
			t.Errorf("the same date twice: %v, want invalid", err)
		}
		if _, err := db.AddCalendarDay(ctx, admin, storage.CalendarDay{Kind: "nap"}); apperr.CodeOf(err) != apperr.Invalid ||
			len(apperr.As(err).Fields) != 2 {
			t.Errorf("no date, bad kind: %v", err)
		}
		cal, err := db.Calendar(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cal.IsWorkingDay(time.Date(2026, 10, 16, 12, 0, 0, 0, time.UTC)) || cal.IsWorkingDay(time.Date(2026, 3, 25, 12, 0, 0, 0, time.UTC)) {
			t.Error("the entered and the seeded days off are working days")
		}
		if err := db.DeleteCalendarDay(ctx, admin, added.ID); err != nil {
			t.Fatal(err)
		}
		if err := db.DeleteCalendarDay(ctx, admin, added.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("deleting twice: %v", err)
		}
		evs, err := db.AuditEvents(ctx, storage.AuditFilter{Action: "calendar.add"})
		if err != nil || len(evs) != 1 {
			t.Errorf("audit of calendar.add: %d, %v", len(evs), err)
		}
	})
}

func TestRunExclusive(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			clk := &clock{t: time.Date(2026, 3, 2, 6, 0, 0, 0, time.UTC)}
			dsn := e.DSN(t)
			// Two handles on one database: two replicas.
			a := storagetest.Open(t, dsn, storage.WithClock(clk.Now))
			b := storagetest.Open(t, dsn, storage.WithClock(clk.Now))
			var running, most, runs atomic.Int32
			job := func(context.Context) error {
				n := running.Add(1)
				defer running.Add(-1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				runs.Add(1)
				time.Sleep(50 * time.Millisecond)
				return nil
			}
			var wg sync.WaitGroup
			for i := range 8 {
				db := a
				if i%2 == 1 {
					db = b
				}
				wg.Go(func() {
					if _, err := db.RunExclusive(ctx, "test", time.Minute, job); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			if runs.Load() != 1 || most.Load() != 1 {
				t.Errorf("8 replicas at once: %d runs, at most %d at a time; want 1, 1", runs.Load(), most.Load())
			}
			clk.Add(29 * time.Second)
			if ran, _ := b.RunExclusive(ctx, "test", time.Minute, job); ran {
				t.Error("ran again within half its period")
			}
			clk.Add(31 * time.Second)
			if ran, err := b.RunExclusive(ctx, "test", time.Minute, func(context.Context) error { return errors.New("boom") }); !ran || err == nil {
				t.Errorf("after a period: ran %v, err %v", ran, err)
			}
			rs, err := a.JobRuns(ctx)
			if err != nil || len(rs) != 1 || rs[0].Runs != 2 || rs[0].LastError != "boom" {
				t.Errorf("job runs %+v, %v", rs, err)
			}
		})
	}
}

// BenchmarkUnreadCount is the bell's query, run on every page, for a user
// with 2,000 notifications (200 unread) among 20,000.
func BenchmarkUnreadCount(b *testing.B) {
	for _, e := range storagetest.Engines() {
		b.Run(string(e.Name), func(b *testing.B) {
			ctx := context.Background()
			db := storagetest.Open(b, e.DSN(b))
			if _, err := db.ImportOrgs(ctx, []org.Org{{Code: "POL-BAK", Type: org.Police, NameAZ: "Polis"}}); err != nil {
				b.Fatal(err)
			}
			var users []int64
			for i := range 10 {
				u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: fmt.Sprintf("u%d@police.example.az", i), Name: "U",
					OrgCode: "POL-BAK", Roles: []access.Role{access.AgencyOfficer}, PasswordHash: "x"})
				if err != nil {
					b.Fatal(err)
				}
				users = append(users, u.ID)
				// In-app only, so that the outbox stays small.
				a := audit.Actor{Principal: access.Principal{UserID: u.ID}}
				p, _ := db.NotifyPrefsOf(ctx, a)
				p.Channels[notify.CaseAssigned][notify.Email] = false
				if _, err := db.SaveNotifyPrefs(ctx, a, p); err != nil {
					b.Fatal(err)
				}
			}
			for _, u := range users {
				ms := make([]notify.Message, 2000)
				for i := range ms {
					ms[i] = notify.Must(notify.CaseAssigned, notify.User(u), "notify.escalation.overdue", "/cases/1", notify.ID(int64(i)))
				}
				if err := db.Notify(ctx, ms...); err != nil {
					b.Fatal(err)
				}
				if _, err := db.MarkAllNotificationsRead(ctx, audit.Actor{Principal: access.Principal{UserID: u}}); err != nil {
					b.Fatal(err)
				}
				if err := db.Notify(ctx, ms[:200]...); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for b.Loop() {
				if n, err := db.UnreadCount(ctx, users[3]); err != nil || n != 200 {
					b.Fatal(n, err)
				}
			}
		})
	}
}
