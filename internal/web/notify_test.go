package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/i18n"
	"dayaq/internal/notify"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// client is a signed-in user's session: its cookie and form token.
func notifyServer(t *testing.T) (http.Handler, *storage.DB) {
	t.Helper()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	if _, err := db.ImportOrgs(context.Background(), []org.Org{{Code: "POL-BAK", Type: org.Police, NameAZ: "Bakı Şəhər Polis İdarəsi"},
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi"}}); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler(), db
}

func TestBellAndNotificationsPage(t *testing.T) {
	h, db := notifyServer(t)
	b := newClient(t, h, db, "officer@police.example.az", "POL-BAK", access.AgencyOfficer)
	for _, id := range []int64{41, 42} {
		if err := db.Notify(context.Background(), notify.Must(notify.DeadlineOverdue, notify.User(b.userID), "notify.escalation.overdue",
			"/referrals/"+itoa(id), notify.Key("escalate.what.referral_ack"), notify.ID(id),
			notify.At(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)))); err != nil {
			t.Fatal(err)
		}
	}
	resp, page := b.get(t, "/notifications")
	checkPage(t, resp, body(t, do(t, h, req{"/notifications", []string{"Cookie", b.cookie, "Accept-Language", "en"}})), 200, i18n.EN)
	for _, want := range []string{`aria-label="Notifications, 2 unread"`, `<span class="bell-count" aria-hidden="true">2</span>`,
		"Acknowledging referral #42 is overdue: it was due at 2026-03-10 16:00.", `value="/referrals/41"`, "Mark all read"} {
		if !strings.Contains(page, want) {
			t.Errorf("notifications page lacks %q", want)
		}
	}
	ns, _ := db.Notifications(context.Background(), audit.Actor{Principal: access.Principal{UserID: b.userID}}, storage.NotificationFilter{})
	// Opening one marks it read and goes to what it links to.
	resp, _ = b.post(t, "/notifications/"+itoa(ns[0].ID)+"/read", url.Values{"open": {"/referrals/42"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/referrals/42" {
		t.Errorf("open: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, page := b.get(t, "/account"); !strings.Contains(page, "Notifications, 1 unread") {
		t.Error("the bell on another page does not show 1 unread")
	}
	// Without the form token nothing changes.
	r := httptest.NewRequest(http.MethodPost, "/notifications/read-all", nil)
	r.Header.Set("Cookie", b.cookie)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusForbidden {
		t.Errorf("mark all without the form token: %d", w.Code)
	}
	if resp, _ := b.post(t, "/notifications/read-all", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("mark all: %d", resp.StatusCode)
	}
	if n, _ := db.UnreadCount(context.Background(), b.userID); n != 0 {
		t.Errorf("unread after mark all: %d", n)
	}
}

func TestPreferencesForm(t *testing.T) {
	h, db := notifyServer(t)
	b := newClient(t, h, db, "officer@police.example.az", "POL-BAK", access.AgencyOfficer)
	resp, page := b.get(t, "/account/notifications")
	if resp.StatusCode != 200 || !strings.Contains(page, `name="critical_alert.sms" value="1" checked`) ||
		strings.Contains(page, `name="referral_received.sms" value="1" checked`) {
		t.Fatalf("preferences page: %d", resp.StatusCode)
	}
	form := url.Values{"version": {"1"}, "notify_phone": {"050 12"}, "referral_received.inapp": {"1"}, "referral_received.sms": {"1"}}
	resp, page = b.post(t, "/account/notifications", form)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, `value="050 12"`) ||
		!strings.Contains(page, "A phone number has 9 to 15 digits") || !strings.Contains(page, `aria-invalid="true"`) ||
		!strings.Contains(page, `name="referral_received.sms" value="1" checked`) {
		t.Errorf("a bad phone: %d; the form should come back as typed with the message by the field", resp.StatusCode)
	}
	form.Set("notify_phone", "+994 50 123 45 67")
	if resp, _ := b.post(t, "/account/notifications", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	if resp, page := b.post(t, "/account/notifications", form); resp.StatusCode != http.StatusConflict ||
		!strings.Contains(page, "Someone else changed this record") {
		t.Errorf("a stale save: %d", resp.StatusCode)
	}
	p, _ := db.NotifyPrefsOf(context.Background(), audit.Actor{Principal: access.Principal{UserID: b.userID}})
	if p.Phone != "+994501234567" || !p.Channels[notify.ReferralReceived][notify.SMS] || p.Channels[notify.ReferralReceived][notify.Email] {
		t.Errorf("saved %+v", p)
	}
}

func TestCalendarPage(t *testing.T) {
	h, db := notifyServer(t)
	officer := newClient(t, h, db, "officer@police.example.az", "POL-BAK", access.AgencyOfficer)
	admin := newClient(t, h, db, "admin@bsti.example.az", "BSTI", access.CityAdmin)
	resp, page := officer.get(t, "/calendar?year=2026")
	if resp.StatusCode != 200 || !strings.Contains(page, "2026-03-25") || !strings.Contains(page, "Qurban bayramı") ||
		!strings.Contains(page, "5 working days") || !strings.Contains(page, "24 hours on the clock") || strings.Contains(page, `action="/calendar/days"`) {
		t.Errorf("the officer's calendar page: %d", resp.StatusCode)
	}
	if resp, _ := officer.post(t, "/calendar/days", url.Values{"holiday_date": {"2026-10-16"}, "kind": {"day_off"}, "name": {"transfer"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("an officer entering a day: %d", resp.StatusCode)
	}
	if _, page := admin.get(t, "/calendar?year=2026"); !strings.Contains(page, `action="/calendar/days"`) {
		t.Error("the administrator has no form")
	}
	// Administrators see the outbox's health on the notifications page; others do not.
	if _, page := admin.get(t, "/notifications"); !strings.Contains(page, "E-mails and SMS waiting to go: 0.") {
		t.Error("the administrator does not see the outbox's health")
	}
	if err := db.Notify(context.Background(), notify.Must(notify.CriticalAlert, notify.Address(notify.Email, "duty@police.example.az"),
		"notify.test", "/hotline/7")); err != nil {
		t.Fatal(err)
	}
	if _, page := admin.get(t, "/notifications"); !strings.Contains(page, "E-mails and SMS waiting to go: 1. The oldest has waited since 20") {
		t.Error("the administrator does not see the waiting message")
	}
	if _, page := officer.get(t, "/notifications"); strings.Contains(page, "waiting to go") {
		t.Error("an officer sees the outbox's health")
	}
	resp, page = admin.post(t, "/calendar/days", url.Values{"holiday_date": {"2026-03-20"}, "kind": {"holiday"}, "name": {"ramazan"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "This date is entered already.") || !strings.Contains(page, `value="2026-03-20"`) {
		t.Errorf("a date entered twice: %d", resp.StatusCode)
	}
	resp, _ = admin.post(t, "/calendar/days", url.Values{"holiday_date": {"2026-10-16"}, "kind": {"day_off"}, "name": {"transfer"}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/calendar?year=2026" {
		t.Fatalf("add: %d", resp.StatusCode)
	}
	if _, page := admin.get(t, "/calendar?year=2026"); !strings.Contains(page, "2026-10-16") {
		t.Error("the entered day is not shown")
	}
	days, _ := db.CalendarDays(context.Background(), 2026)
	for _, d := range days {
		if d.Date.Format(time.DateOnly) != "2026-10-16" {
			continue
		}
		if resp, _ := officer.post(t, "/calendar/days/"+itoa(d.ID)+"/delete", url.Values{"year": {"2026"}}); resp.StatusCode != http.StatusForbidden {
			t.Errorf("an officer deleting a day: %d", resp.StatusCode)
		}
		resp, _ := admin.post(t, "/calendar/days/"+itoa(d.ID)+"/delete", url.Values{"year": {"2026\r\nX: y"}})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/calendar?year=0" {
			t.Errorf("delete: %d → %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	if days2, _ := db.CalendarDays(context.Background(), 2026); len(days2) != len(days)-1 {
		t.Errorf("after deleting: %d days, want %d", len(days2), len(days)-1)
	}
	// The calculator: high urgency sent the evening before Novruz and the
	// transferred day off (the clock of this server is real: only the due time is checked).
	resp, page = officer.get(t, "/calendar?start=2026-03-19T17:00&urgency=high")
	if resp.StatusCode != 200 || !strings.Contains(page, "2026-03-31 17:00") || !strings.Contains(page, "2026-04-06 17:00") {
		t.Errorf("calculator: %d", resp.StatusCode)
	}
	resp, page = officer.get(t, "/calendar?start=tomorrow&urgency=soon")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, "Choose the start's date and time.") ||
		!strings.Contains(page, `value="tomorrow"`) {
		t.Errorf("a bad calculator query: %d", resp.StatusCode)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
