package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/casework"
	"dayaq/internal/child"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// session is a signed-in user's cookie and form token.
type webSession struct{ cookie, csrf string }

func sessionFor(t *testing.T, db *storage.DB, email, orgCode string, roles ...access.Role) webSession {
	t.Helper()
	cookie, csrf, _ := signInAs(t, db, email, strings.Split(email, "@")[0], orgCode, roles...)
	return webSession{cookie, csrf}
}

func (s webSession) get(t *testing.T, h http.Handler, target string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Cookie", s.cookie)
	r.Header.Set("Accept-Language", "en")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}

func (s webSession) post(t *testing.T, h http.Handler, target string, form url.Values) (int, string, string) {
	t.Helper()
	form.Set("csrf", s.csrf)
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Cookie", s.cookie)
	r.Header.Set("Accept-Language", "en")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code, w.Header().Get("Location"), w.Body.String()
}

// A school head refers a case to the police from the form; the police see
// the child and the message, acknowledge, and a stale second click is
// refused with a clear message; health sees nothing.
func TestReferralPages(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	if _, err := db.ImportOrgs(ctx, []org.Org{
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "BŞTİ"},
		{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli məktəb", DistrictCode: "BAK-06"},
		{Code: "POLICE", Type: org.Police, NameAZ: "Polis", NameEN: "Police"},
		{Code: "HEALTH", Type: org.Health, NameAZ: "Səhiyyə", NameEN: "Health"},
	}); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	head := sessionFor(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	police := sessionFor(t, db, "police@test.az", "POLICE", access.AgencyOfficer)
	health := sessionFor(t, db, "health@test.az", "HEALTH", access.AgencyOfficer)
	school, _ := db.OrgByCode(ctx, "BAK-06-001")
	kids := []child.Child{{StudentID: "S-9", LastName: "Quliyev", FirstName: "Ömər", Sex: child.Male,
		BirthDate: time.Date(2013, 5, 6, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 7, Section: "A"}}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	hu, _ := db.UserByEmail(ctx, "head@test.az")
	hp, _ := db.PrincipalForUser(ctx, hu.ID)
	k, err := db.CreateCase(ctx, audit.Actor{Principal: hp}, casework.NewCase{Type: "violence.domestic", Severity: casework.High,
		Title: "Evdə zorakılıq şübhəsi", Summary: "Qolunda göyərmələr var", ChildIDs: []int64{kids[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	refer := "/cases/" + strconv.FormatInt(k.ID, 10) + "/refer"
	if code, body := head.get(t, h, refer); code != http.StatusOK || !strings.Contains(body, "Consent of a parent or guardian") {
		t.Fatalf("the form: %d", code)
	}
	if code, _ := police.get(t, h, refer); code != http.StatusNotFound {
		t.Fatalf("the police open the form for a case they cannot see: %d", code)
	}
	form := url.Values{"to": {"POLICE"}, "service": {"police.home_visit"}, "urgency": {"high"},
		"message": {"Ailəyə təcili baxış lazımdır."}, "basis": {"consent"}, "consent_by": {"Quliyeva Aynur"}, "share": {"summary"}}
	code, _, body := head.post(t, h, refer, form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "Choose how consent was given.") || !strings.Contains(body, "Quliyeva Aynur") {
		t.Fatalf("missing consent details: %d", code)
	}
	form.Set("consent_relation", "ana")
	form.Set("consent_method", "written")
	form.Set("consent_at", time.Now().Add(-time.Hour).In(time.FixedZone("", 4*3600)).Format("2006-01-02T15:04"))
	code, loc, _ := head.post(t, h, refer, form)
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/referrals/") {
		t.Fatalf("send: %d %s", code, loc)
	}
	code, body = police.get(t, h, loc)
	if code != http.StatusOK || !strings.Contains(body, "Quliyev") || !strings.Contains(body, "Qolunda göyərmələr var") ||
		!strings.Contains(body, "You see what the referral shares") {
		t.Fatalf("the police's page: %d", code)
	}
	if code, body := health.get(t, h, loc); code != http.StatusNotFound || strings.Contains(body, "Quliyev") {
		t.Fatalf("health's page: %d", code)
	}
	ack := url.Values{"version": {"1"}, "action": {"acknowledge"}}
	if code, _, _ := police.post(t, h, loc, ack); code != http.StatusSeeOther {
		t.Fatalf("acknowledge: %d", code)
	}
	code, _, body = police.post(t, h, loc, ack)
	if code != http.StatusConflict || !strings.Contains(body, "Meanwhile someone else acknowledged the referral") {
		t.Fatalf("stale acknowledge: %d", code)
	}
	for _, p := range []string{"/referrals", "/referrals/board", "/referrals?overdue=1", "/referrals/services"} {
		if code, body := head.get(t, h, p); code != http.StatusOK || strings.Contains(body, i18n.Missing) {
			t.Errorf("%s: %d", p, code)
		}
	}
	if _, body := police.get(t, h, "/referrals"); !regexp.MustCompile(`Referral #\d+`).MatchString(body) {
		t.Error("the police's list lacks their referral")
	}
}
