package web_test

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/blob"
	"dayaq/internal/child"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// caseSite is the whole server with a school head, a city specialist and
// a police officer signed in, and one pupil.
type caseSite struct {
	h     http.Handler
	db    *storage.DB
	who   map[string]session
	child int64
}

type session struct {
	cookie, csrf string
	id           int64
}

func newCaseSite(t *testing.T) *caseSite {
	t.Helper()
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	if _, err := db.ImportOrgs(ctx, []org.Org{
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi", NameEN: "Baku City Education Department"},
		{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli məktəb", DistrictCode: "BAK-06"},
		{Code: "POL", Type: org.Police, NameAZ: "Polis"},
	}); err != nil {
		t.Fatal(err)
	}
	school, _ := db.OrgByCode(ctx, "BAK-06-001")
	kids := []child.Child{{StudentID: "S-1", LastName: "Məmmədova", FirstName: "Nərmin", Sex: child.Female,
		BirthDate: time.Date(2014, 3, 2, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 6, Section: "A"}}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	s := &caseSite{db: db, who: map[string]session{}, child: kids[0].ID}
	for _, u := range []struct {
		key, org string
		role     access.Role
	}{{"head", "BAK-06-001", access.SchoolHead}, {"spec", "BSTI", access.CitySpecialist}, {"police", "POL", access.AgencyOfficer}} {
		nu, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: u.key + "@example.az", Name: "User " + u.key,
			OrgCode: u.org, Roles: []access.Role{u.role}, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		tok, csrf := auth.NewSessionToken(), auth.NewCSRFToken()
		if _, err := db.CreateSession(ctx, storage.NewSession{UserID: nu.ID, TokenHash: auth.HashToken(tok), CSRFToken: csrf, MFADone: true}); err != nil {
			t.Fatal(err)
		}
		s.who[u.key] = session{"dayaq_session=" + tok, csrf, nu.ID}
	}
	store, _ := blob.NewDir(t.TempDir())
	v, _ := blob.NewVault(store, bytes.Repeat([]byte{9}, 32))
	srv, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler), server.WithVault(v))
	if err != nil {
		t.Fatal(err)
	}
	s.h = srv.Handler()
	return s
}

func (s *caseSite) get(t *testing.T, who, target, lang string) (*http.Response, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Cookie", s.who[who].cookie)
	r.Header.Set("Accept-Language", lang)
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Result(), string(b)
}

func (s *caseSite) post(t *testing.T, who, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	form.Set("csrf", s.who[who].csrf)
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Cookie", s.who[who].cookie)
	r.Header.Set("Accept-Language", "en")
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	b, _ := io.ReadAll(w.Result().Body)
	return w.Result(), html.UnescapeString(string(b))
}

var caseIDRE = regexp.MustCompile(`^/cases/(\d+)$`)

// A school reports a case about its pupil, the city triages, works and
// closes it, all through the pages; errors keep what was typed; a stale
// form says what changed; the police see nothing.
func TestCasePages(t *testing.T) {
	s := newCaseSite(t)
	cat := i18n.MustLoad()
	// The report form, in three languages.
	for _, l := range i18n.Langs() {
		resp, b := s.get(t, "head", "/cases/new", string(l))
		checkPage(t, resp, b, http.StatusOK, l)
		if !strings.Contains(html.UnescapeString(b), "Məmmədova Nərmin") {
			t.Errorf("%s: the school's pupil is not offered", l)
		}
	}
	// An invalid report keeps what was typed and names the field.
	resp, b := s.post(t, "head", "/cases/new", url.Values{"children": {fmt.Sprint(s.child)}, "type": {"Bad Code"},
		"severity": {"high"}, "title": {"Təhqir fasilədə"}, "summary": {"Uzun mətn"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `value="Təhqir fasilədə"`) ||
		!strings.Contains(b, "Uzun mətn") || !strings.Contains(b, cat.T(i18n.EN, "case.error.type")) {
		t.Fatalf("invalid report: %d", resp.StatusCode)
	}
	resp, _ = s.post(t, "head", "/cases/new", url.Values{"children": {fmt.Sprint(s.child)}, "type": {"violence.bullying"},
		"severity": {"high"}, "title": {"Təhqir fasilədə"}, "summary": {"Uzun mətn"}})
	m := caseIDRE.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("report: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	page := m[0]
	// The case page shows both deadlines, in every language.
	for _, l := range i18n.Langs() {
		resp, b := s.get(t, "head", page, string(l))
		checkPage(t, resp, b, http.StatusOK, l)
		text := html.UnescapeString(b)
		for _, k := range []string{"case.deadlines.report_by", "case.deadlines.respond_by"} {
			if !strings.Contains(text, cat.T(l, k)) {
				t.Errorf("%s: case page lacks %q", l, k)
			}
		}
		if strings.Contains(text, cat.T(l, "case.move.triaged")) {
			t.Errorf("%s: the school is offered triage", l)
		}
	}
	// The city's queue lists it; the police's does not, and its page is 404.
	if _, b := s.get(t, "spec", "/cases?queue=new", "en"); !strings.Contains(b, "Təhqir fasilədə") {
		t.Error("the city's new queue lacks the case")
	}
	if _, b := s.get(t, "police", "/cases?queue=all", "en"); strings.Contains(b, "Təhqir fasilədə") {
		t.Error("the police list the case")
	}
	if resp, b := s.get(t, "police", page, "en"); resp.StatusCode != http.StatusNotFound || strings.Contains(b, "Nərmin") {
		t.Errorf("police open the case: %d", resp.StatusCode)
	}
	// Triage without an owner: the form comes back open, naming the field.
	_, b = s.get(t, "spec", page, "en")
	if !strings.Contains(html.UnescapeString(b), cat.T(i18n.EN, "case.move.triaged")) {
		t.Fatal("the city is not offered triage")
	}
	seen := url.Values{"version": {"1"}, "seen_status": {"new"}, "seen_severity": {"high"}, "seen_title": {"Təhqir fasilədə"}}
	with := func(v url.Values, kv ...string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = vs
		}
		for i := 0; i+1 < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	resp, b = s.post(t, "spec", page+"/transition", with(seen, "to", "triaged", "lead_org", "BSTI", "severity", "critical"))
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, cat.T(i18n.EN, "error.required")) ||
		!strings.Contains(b, `<details class="move" open>`) {
		t.Fatalf("triage without an owner: %d", resp.StatusCode)
	}
	resp, _ = s.post(t, "spec", page+"/transition", with(seen, "to", "triaged", "lead_org", "BSTI", "severity", "critical",
		"owner", fmt.Sprint(s.who["spec"].id)))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("triage: %d", resp.StatusCode)
	}
	// The same form again (a second tab): refused, and it says what changed.
	resp, b = s.post(t, "spec", page+"/transition", with(seen, "to", "triaged", "lead_org", "BSTI", "owner", fmt.Sprint(s.who["spec"].id)))
	if resp.StatusCode != http.StatusConflict || !strings.Contains(b, cat.T(i18n.EN, "case.stale.lead")) ||
		!strings.Contains(b, "<td>new</td><td>triaged</td>") || !strings.Contains(b, "<td>high</td><td>critical</td>") {
		t.Fatalf("stale form: %d %s", resp.StatusCode, b[strings.Index(b, "<main"):])
	}
	for _, step := range []url.Values{
		{"version": {"2"}, "to": {"in_progress"}, "note": {"Ailə ilə görüş təyin edildi"}},
	} {
		if resp, _ := s.post(t, "spec", page+"/transition", step); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("%v: %d", step, resp.StatusCode)
		}
	}
	// A note, a task, a file.
	if resp, _ := s.post(t, "head", page+"/notes", url.Values{"body": {"Valideynlə danışdıq"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("note: %d", resp.StatusCode)
	}
	if resp, b := s.post(t, "head", page+"/notes", url.Values{"body": {"  "}}); resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, cat.T(i18n.EN, "error.required")) {
		t.Errorf("empty note: %d", resp.StatusCode)
	}
	if resp, _ := s.post(t, "spec", page+"/tasks", url.Values{"title": {"Psixoloqla görüş"}, "assignee": {fmt.Sprint(s.who["spec"].id)}, "due": {"2099-01-01"}}); resp.StatusCode != http.StatusSeeOther {
		t.Errorf("task: %d", resp.StatusCode)
	}
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("csrf", s.who["spec"].csrf)
	fw, _ := mw.CreateFormFile("file", "arayış.pdf")
	fw.Write([]byte("%PDF-1.4 rəy"))
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, page+"/attachments", &mp)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Cookie", s.who["spec"].cookie)
	r.Header.Set("Sec-Fetch-Site", "same-origin")
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	if w.Code != http.StatusSeeOther {
		t.Fatalf("upload: %d %s", w.Code, w.Body)
	}
	_, b = s.get(t, "spec", page, "en")
	link := regexp.MustCompile(`href="(/cases/\d+/attachments/\d+)"`).FindStringSubmatch(b)
	if link == nil {
		t.Fatal("no download link")
	}
	if resp, body := s.get(t, "head", link[1], "en"); resp.StatusCode != http.StatusOK || body != "%PDF-1.4 rəy" {
		t.Errorf("download: %d %q", resp.StatusCode, body)
	}
	// Monitoring, then closing without an outcome, then with one.
	if resp, _ := s.post(t, "spec", page+"/transition", url.Values{"version": {"3"}, "to": {"monitoring"}, "review_at": {time.Now().AddDate(0, 1, 0).Format("2006-01-02")}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("monitoring: %d", resp.StatusCode)
	}
	resp, b = s.post(t, "spec", page+"/transition", url.Values{"version": {"4"}, "to": {"closed"}, "reason": {"Uşaq təhlükəsizdir"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, "Uşaq təhlükəsizdir</textarea>") || !strings.Contains(b, cat.T(i18n.EN, "case.error.outcome")) {
		t.Fatalf("close without outcome: %d", resp.StatusCode)
	}
	if resp, _ := s.post(t, "spec", page+"/transition", url.Values{"version": {"4"}, "to": {"closed"}, "reason": {"Uşaq təhlükəsizdir"}, "outcome": {"resolved"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("close: %d", resp.StatusCode)
	}
	_, b = s.get(t, "head", page, "en")
	text := html.UnescapeString(b)
	for _, want := range []string{"Case opened", "Status changed: new → triaged", "Status changed: in progress → monitoring",
		"Status changed: monitoring → closed", "Valideynlə danışdıq", "Ailə ilə görüş təyin edildi", "Psixoloqla görüş", "arayış.pdf", "resolved"} {
		if !strings.Contains(text, want) {
			t.Errorf("closed case page lacks %q", want)
		}
	}
	// The navigation counts and the queues render for everyone.
	for _, who := range []string{"head", "spec", "police"} {
		for _, q := range []string{"new", "mine", "overdue", "all", "city", "school"} {
			resp, b := s.get(t, who, "/cases?queue="+q, "ru")
			checkPage(t, resp, b, http.StatusOK, i18n.RU)
		}
	}
	if resp, _ := s.get(t, "spec", "/cases?severity=dire", "en"); resp.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("bad filter: %d", resp.StatusCode)
	}
}
