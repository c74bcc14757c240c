package web_test

import (
	"context"
	"html"
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
	"dayaq/internal/auth"
	"dayaq/internal/child"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// TestMatchTypeAhead posts the type-ahead's inputs as htmx does and checks
// the fragment: candidates with level and reasons, links or radio buttons,
// another district's child absent, a bad date said in place.
func TestMatchTypeAhead(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	if _, err := db.ImportOrgs(ctx, []org.Org{
		{Code: "BAK-06", Type: org.District, NameAZ: "Nəsimi RTŞ", DistrictCode: "BAK-06"},
		{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli məktəb", NameEN: "School 1", DistrictCode: "BAK-06"},
		{Code: "BAK-07-001", Type: org.School, NameAZ: "Nizami məktəbi", DistrictCode: "BAK-07"},
	}); err != nil {
		t.Fatal(err)
	}
	id := func(code string) int64 {
		o, err := db.OrgByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	kids := []child.Child{
		{StudentID: "S-1", LastName: "Cəfərov", FirstName: "Elçin", Patronymic: "Rəşad oğlu", Sex: child.Male,
			BirthDate: time.Date(2014, 3, 5, 0, 0, 0, 0, time.UTC), SchoolID: id("BAK-06-001"), Grade: 5},
		{StudentID: "S-2", LastName: "Cəfərov", FirstName: "Elçin", Patronymic: "Rəşad oğlu", Sex: child.Male,
			BirthDate: time.Date(2014, 3, 5, 0, 0, 0, 0, time.UTC), SchoolID: id("BAK-07-001"), Grade: 5},
	}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: "rtsh@example.az", Name: "Nəsimi RTŞ",
		OrgCode: "BAK-06", Roles: []access.Role{access.CitySpecialist}, PasswordHash: "not used"})
	if err != nil {
		t.Fatal(err)
	}
	tok, csrf := auth.NewSessionToken(), auth.NewCSRFToken()
	if _, err := db.CreateSession(ctx, storage.NewSession{UserID: u.ID, TokenHash: auth.HashToken(tok), CSRFToken: csrf, MFADone: true}); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	post := func(form url.Values) (int, string) {
		r := httptest.NewRequest(http.MethodPost, "/children/match?lang=en", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("HX-Request", "true")
		r.Header.Set("Cookie", "dayaq_session="+tok)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, html.UnescapeString(w.Body.String())
	}

	code, b := post(url.Values{"csrf": {csrf}, "match_box": {"find-child"}, "match_name": {"Dzhafarov Elchin"}, "match_birth_date": {"2014-03-05"}})
	if code != http.StatusOK || !strings.Contains(b, `href="/children/`+itoa(kids[0].ID)+`"`) || !strings.Contains(b, "exact") ||
		!strings.Contains(b, "Birth date matches") || strings.Contains(b, "<html") {
		t.Errorf("links: %d\n%s", code, b)
	}
	if strings.Contains(b, "/children/"+itoa(kids[1].ID)+`"`) {
		t.Errorf("another district's child is offered:\n%s", b)
	}
	// Embedded in a form: radio buttons that set the form's field.
	_, b = post(url.Values{"csrf": {csrf}, "match_box": {"case-child"}, "match_field": {"child_id"}, "match_name": {"Джафаров Эльчин"}})
	if !strings.Contains(b, `type="radio" id="case-child-c`+itoa(kids[0].ID)+`" name="child_id" value="`+itoa(kids[0].ID)+`"`) {
		t.Errorf("radio buttons:\n%s", b)
	}
	// A date typed wrong is said in place; an empty box says nothing.
	if code, b := post(url.Values{"csrf": {csrf}, "match_name": {"Elchin"}, "match_birth_date": {"5 March"}}); code != http.StatusOK || !strings.Contains(b, `role="alert"`) {
		t.Errorf("bad date: %d\n%s", code, b)
	}
	if _, b := post(url.Values{"csrf": {csrf}, "match_name": {""}}); strings.TrimSpace(b) != "" {
		t.Errorf("empty box: %q", b)
	}
	// Without the form token: refused.
	if code, _ := post(url.Values{"match_name": {"Elchin"}}); code == http.StatusOK {
		t.Errorf("without the form token: %d", code)
	}
	// The children page carries the box.
	r := httptest.NewRequest(http.MethodGet, "/children?lang=az", nil)
	r.Header.Set("Cookie", "dayaq_session="+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if pb := w.Body.String(); !strings.Contains(pb, `hx-post="/children/match"`) || !strings.Contains(pb, "Uşağı tap") {
		t.Errorf("children page lacks the box")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
