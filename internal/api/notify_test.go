package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/i18n"
	"dayaq/internal/notify"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// tokenFor makes a user and an API token that may read and write.
func tokenFor(t *testing.T, db *storage.DB, email, orgCode string, role access.Role) (string, int64) {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: email, Name: "Test", OrgCode: orgCode,
		Roles: []access.Role{role}, PasswordHash: "x"})
	if err != nil {
		t.Fatal(err)
	}
	tok := auth.NewAPIToken()
	if _, err := db.CreateAPIToken(ctx, audit.Actor{Principal: access.Principal{UserID: u.ID}}, storage.NewAPIToken{UserID: u.ID,
		Name: "test", Scopes: []access.Scope{access.ScopeRead, access.ScopeWrite}, ExpiresAt: db.Now().Add(24 * time.Hour),
		TokenHash: auth.HashToken(tok)}); err != nil {
		t.Fatal(err)
	}
	return tok, u.ID
}

func call(t *testing.T, h http.Handler, method, target, token, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestNotificationsAPI(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	if _, err := db.ImportOrgs(ctx, []org.Org{{Code: "POL-BAK", Type: org.Police, NameAZ: "Bakı Şəhər Polis İdarəsi"},
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi"}}); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := openapitest.Wrap(s.Handler())
	tok, uid := tokenFor(t, db, "officer@police.example.az", "POL-BAK", access.AgencyOfficer)
	otherTok, _ := tokenFor(t, db, "other@police.example.az", "POL-BAK", access.AgencyOfficer)
	adminTok, _ := tokenFor(t, db, "admin@bsti.example.az", "BSTI", access.CityAdmin)
	if err := db.Notify(ctx, notify.Must(notify.ReferralReceived, notify.User(uid), "notify.escalation.due_soon", "/referrals/41",
		notify.Key("escalate.what.referral_ack"), notify.ID(41), notify.At(time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)))); err != nil {
		t.Fatal(err)
	}

	w := call(t, h, "GET", "/api/v1/notifications?lang=en", tok, "")
	var list struct {
		Items []struct {
			ID     int64   `json:"id"`
			Text   string  `json:"text"`
			Link   string  `json:"link"`
			ReadAt *string `json:"read_at"`
		} `json:"items"`
		Unread int `json:"unread"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &list); err != nil || w.Code != 200 {
		t.Fatalf("list: %d %s", w.Code, w.Body)
	}
	if list.Unread != 1 || len(list.Items) != 1 || list.Items[0].Link != "/referrals/41" ||
		list.Items[0].Text != "Acknowledging referral #41 falls due soon: at 2026-03-10 16:00." {
		t.Fatalf("list: %s", w.Body)
	}
	id := list.Items[0].ID
	if w := call(t, h, "POST", "/api/v1/notifications/"+itoa(id)+"/read", otherTok, ""); w.Code != 404 {
		t.Errorf("another user marking it: %d, want 404", w.Code)
	}
	if w := call(t, h, "POST", "/api/v1/notifications/"+itoa(id)+"/read", tok, ""); w.Code != 204 {
		t.Errorf("mark read: %d %s", w.Code, w.Body)
	}
	if w := call(t, h, "GET", "/api/v1/notifications?unread=true", tok, ""); !strings.Contains(w.Body.String(), `"unread":0`) ||
		!strings.Contains(w.Body.String(), `"items":[]`) {
		t.Errorf("unread after marking: %s", w.Body)
	}
	if w := call(t, h, "GET", "/api/v1/notifications", "", ""); w.Code != 401 {
		t.Errorf("anonymous: %d", w.Code)
	}

	// Preferences: If-Match required, stale refused, fields named.
	w = call(t, h, "GET", "/api/v1/notifications/preferences", tok, "")
	if w.Code != 200 || w.Header().Get("ETag") != `"1"` {
		t.Fatalf("prefs: %d %s %s", w.Code, w.Header().Get("ETag"), w.Body)
	}
	body := `{"phone":"+994 50 123 45 67","channels":{"referral_received":{"sms":true,"email":false}}}`
	if w := call(t, h, "PUT", "/api/v1/notifications/preferences", tok, body); w.Code != 428 {
		t.Errorf("without If-Match: %d", w.Code)
	}
	w = call(t, h, "PUT", "/api/v1/notifications/preferences", tok, body, "If-Match", `"1"`)
	if w.Code != 200 || w.Header().Get("ETag") != `"2"` || !strings.Contains(w.Body.String(), `"phone":"+994501234567"`) ||
		!strings.Contains(w.Body.String(), `"referral_received":{"email":false,"inapp":true,"sms":true}`) {
		t.Fatalf("save: %d %s", w.Code, w.Body)
	}
	if w := call(t, h, "PUT", "/api/v1/notifications/preferences", tok, body, "If-Match", `"1"`); w.Code != 409 {
		t.Errorf("stale save: %d", w.Code)
	}
	w = call(t, h, "PUT", "/api/v1/notifications/preferences?lang=en", tok, `{"phone":"12","channels":{"gossip":{"sms":true}}}`, "If-Match", `"2"`)
	if w.Code != 422 || !strings.Contains(w.Body.String(), `"field":"phone"`) || !strings.Contains(w.Body.String(), `"field":"channels"`) {
		t.Errorf("bad prefs: %d %s", w.Code, w.Body)
	}

	// The calendar: anyone signed in reads it; only administrators change it.
	w = call(t, h, "GET", "/api/v1/calendar/2026", tok, "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `{"date":"2026-03-25","working":false,"names":["carried"]}`) ||
		!strings.Contains(w.Body.String(), `"name":"qurban"`) {
		t.Errorf("calendar: %d %s", w.Code, w.Body)
	}
	day := `{"date":"2026-10-16","kind":"day_off","name":"transfer"}`
	if w := call(t, h, "POST", "/api/v1/calendar/days", tok, day); w.Code != 403 {
		t.Errorf("officer adding a day: %d", w.Code)
	}
	w = call(t, h, "POST", "/api/v1/calendar/days", adminTok, day)
	if w.Code != 201 {
		t.Fatalf("admin adding a day: %d %s", w.Code, w.Body)
	}
	var added struct{ ID int64 }
	_ = json.Unmarshal(w.Body.Bytes(), &added)
	if w := call(t, h, "POST", "/api/v1/calendar/days", adminTok, `{"date":"16/10/2026","kind":"nap"}`); w.Code != 422 {
		t.Errorf("bad day: %d %s", w.Code, w.Body)
	}
	w = call(t, h, "GET", "/api/v1/deadlines?urgency=high&start=2026-10-15T17:00:00%2B04:00", tok, "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"acknowledge_due":"2026-10-19T17:00:00+04:00"`) {
		t.Errorf("deadlines over the transferred day: %d %s", w.Code, w.Body)
	}
	if w := call(t, h, "DELETE", "/api/v1/calendar/days/"+itoa(added.ID), adminTok, ""); w.Code != 204 {
		t.Errorf("delete: %d", w.Code)
	}
	if w := call(t, h, "GET", "/api/v1/deadlines?urgency=urgent", tok, ""); w.Code != 422 {
		t.Errorf("bad urgency: %d", w.Code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
