package web_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/blob"
	"dayaq/internal/events"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
	"dayaq/internal/web"
)

// eventsWorld is a server with a school, its head and the city unit
// signed in, on a SQLite file the test can read back whole.
type eventsWorld struct {
	h          http.Handler
	db         *storage.DB
	path       string
	logs       *bytes.Buffer
	blobs      string
	head, city evSession
}

type evSession struct{ cookie, csrf string }

func newEventsWorld(t *testing.T) eventsWorld {
	t.Helper()
	return newEventsWorldWith(t, nil)
}

// newEventsWorldWith is newEventsWorld with options for the database and
// the server.
func newEventsWorldWith(t *testing.T, dbOpts []storage.Option, opts ...server.Option) eventsWorld {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dayaq.db")
	db := storagetest.Open(t, path, dbOpts...)
	blobs := filepath.Join(t.TempDir(), "blobs")
	vault, err := blob.NewVault(must(blob.NewDir(blobs)), make([]byte, blob.KeySize))
	if err != nil {
		t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		append([]server.Option{server.WithVault(vault)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ImportOrgs(ctx, []org.Org{{Code: "BSTI", Type: org.CityDepartment, NameAZ: "BŞTİ"},
		{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli məktəb", DistrictCode: "BAK-06"},
		{Code: "BAK-06-002", Type: org.School, NameAZ: "2 nömrəli məktəb", DistrictCode: "BAK-06"}}); err != nil {
		t.Fatal(err)
	}
	mk := func(email, orgCode string, role access.Role) evSession {
		u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: email, Name: email, OrgCode: orgCode,
			Roles: []access.Role{role}, PasswordHash: "unused"})
		if err != nil {
			t.Fatal(err)
		}
		tok, csrf := auth.NewSessionToken(), auth.NewCSRFToken()
		if _, err := db.CreateSession(ctx, storage.NewSession{UserID: u.ID, TokenHash: auth.HashToken(tok), CSRFToken: csrf, MFADone: true}); err != nil {
			t.Fatal(err)
		}
		return evSession{"dayaq_session=" + tok, csrf}
	}
	return eventsWorld{h: s.Handler(), db: db, path: path, logs: logs, blobs: blobs,
		head: mk("head@example.az", "BAK-06-001", access.SchoolHead), city: mk("city@example.az", "BSTI", access.CitySpecialist)}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// post sends a form as s (no session when s is empty) from addr.
func (w eventsWorld) post(t *testing.T, s evSession, target string, form url.Values, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	if s.csrf != "" {
		form.Set("csrf", s.csrf)
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if s.cookie != "" {
		r.Header.Set("Cookie", s.cookie)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	return rec
}

func (w eventsWorld) get(t *testing.T, s evSession, target string, hdr ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if s.cookie != "" {
		r.Header.Set("Cookie", s.cookie)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	return rec
}

var eventPathRE = regexp.MustCompile(`^/events/(\d+)$`)
var feedbackLinkRE = regexp.MustCompile(`/f/([a-z0-9]{10})`)

// plan plans an event at the head's school through the form and returns
// its page's path and its feedback code.
func (w eventsWorld) plan(t *testing.T) (string, string) {
	t.Helper()
	topics, err := w.db.EventTopics(context.Background(), audit.Actor{Principal: access.Principal{UserID: 1}}, false)
	if err != nil || len(topics) == 0 {
		t.Fatalf("topics: %v", err)
	}
	rec := w.post(t, w.head, "/events/new", url.Values{"topics": {fmt.Sprint(topics[0].ID)}, "starts_at": {"2026-11-20T18:00"},
		"place": {"Akt zalı"}, "classes": {"5A, 6"}, "speaker_kind": {"psychologist"}})
	loc := rec.Header().Get("Location")
	if rec.Code != http.StatusSeeOther || !eventPathRE.MatchString(loc) {
		t.Fatalf("planning: %d %s\n%s", rec.Code, loc, rec.Body)
	}
	page := w.get(t, w.head, loc+"?lang=en")
	m := feedbackLinkRE.FindStringSubmatch(page.Body.String())
	if page.Code != http.StatusOK || m == nil {
		t.Fatalf("the event's page: %d\n%s", page.Code, page.Body)
	}
	return loc, m[1]
}

// A feedback response keeps nothing that points at who answered: not the
// address, the browser, the request's ID or a cookie's value, in any
// table or in the log; and the one cookie it sets says only "answered".
func TestFeedbackStoresNoIdentifier(t *testing.T) {
	w := newEventsWorld(t)
	_, code := w.plan(t)
	const ip, ua, reqID = "203.0.113.77", "Mozilla/5.0 (Linux; Android 14; Pixel-Parent-UA-9431)", "req-parent-5521"
	before := w.logs.Len()
	form := url.Values{"usefulness": {"4"}, "clear": {"Yaş xüsusiyyətləri aydın oldu"}, "next_topic": {"İnternet"}, "comment": {"Sağ olun"}}
	r := httptest.NewRequest(http.MethodPost, "/f/"+code+"?lang=ru", strings.NewReader(form.Encode()))
	r.RemoteAddr = ip + ":51234"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", ua)
	r.Header.Set("X-Forwarded-For", ip)
	r.Header.Set("X-Request-ID", reqID)
	r.Header.Set("Cookie", "tracker=parent-cookie-7788")
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "feedback-thanks") {
		t.Fatalf("answering: %d\n%s", rec.Code, rec.Body)
	}
	var fbCookie *http.Cookie
	for _, c := range rec.Result().Cookies() {
		switch {
		case strings.HasPrefix(c.Name, "dayaq_fb_"):
			fbCookie = c
		case c.Name != "dayaq_lang": // the language chosen, the same for everyone who chose it
			t.Errorf("the form sets cookie %s=%s", c.Name, c.Value)
		}
	}
	if fbCookie == nil || fbCookie.Value != "1" || !fbCookie.HttpOnly || fbCookie.Path != "/f/"+code {
		t.Fatalf("the answered cookie: %+v", fbCookie)
	}
	// The same browser cannot answer twice.
	again := httptest.NewRequest(http.MethodPost, "/f/"+code, strings.NewReader(form.Encode()))
	again.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	again.AddCookie(fbCookie)
	rec2 := httptest.NewRecorder()
	w.h.ServeHTTP(rec2, again)
	if rec2.Code != http.StatusConflict {
		t.Errorf("a second answer from the same browser: %d", rec2.Code)
	}

	// Read every table of the database.
	raw, err := sql.Open("sqlite", "file:"+w.path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	tables, err := raw.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for tables.Next() {
		var n string
		if err := tables.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names = append(names, n)
	}
	tables.Close()
	found := 0
	for _, n := range names {
		rows, err := raw.Query(`SELECT * FROM "` + n + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			line := fmt.Sprint(vals...)
			for i, v := range vals {
				if b, ok := v.([]byte); ok {
					vals[i] = string(b)
				}
			}
			line += fmt.Sprint(vals...)
			if strings.Contains(line, "Yaş xüsusiyyətləri aydın oldu") {
				found++
			}
			for _, bad := range []string{ip, "203.0.113", ua, "Pixel-Parent", reqID, "parent-cookie-7788"} {
				if strings.Contains(line, bad) {
					t.Errorf("table %s keeps %q: %s", n, bad, line)
				}
			}
		}
		rows.Close()
	}
	if found != 1 {
		t.Fatalf("the response is stored %d times, want once (the test would prove nothing)", found)
	}
	fb, err := w.db.EventFeedback(context.Background(), audit.Actor{Principal: access.Principal{UserID: 1}}, 1)
	if err == nil && fb.Responses > 1 {
		t.Errorf("%d responses stored, want 1", fb.Responses)
	}
	logged := w.logs.String()[before:]
	if !strings.Contains(logged, `"route":"POST /f/{code}"`) {
		t.Fatalf("the request was not logged at all, so the log check proves nothing:\n%s", logged)
	}
	for _, bad := range []string{ip, "203.0.113", ua, "Pixel-Parent", "parent-cookie-7788", code} {
		if strings.Contains(logged, bad) {
			t.Errorf("the log keeps %q:\n%s", bad, logged)
		}
	}
}

// A material of the wrong type or size is refused with a message by the
// file field, and nothing is stored: no record, no blob.
func TestTopicMaterialRefused(t *testing.T) {
	w := newEventsWorld(t)
	upload := func(name string, data []byte) *httptest.ResponseRecorder {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("csrf", w.city.csrf)
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write(data)
		mw.Close()
		r := httptest.NewRequest(http.MethodPost, "/events/topics/1/files?lang=en", &buf)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		r.Header.Set("Cookie", w.city.cookie)
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, r)
		return rec
	}
	exe := append([]byte("MZ\x90\x00"), bytes.Repeat([]byte{0}, 100)...)
	rec := upload("leaflet.pdf", exe)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "This kind of file is not accepted") ||
		!strings.Contains(rec.Body.String(), `id="file-1-error"`) {
		t.Fatalf("a program named .pdf: %d\n%s", rec.Code, rec.Body)
	}
	big := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("x"), events.MaxMaterialSize)...)
	rec = upload("big.pdf", big)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), "The file is too big") {
		t.Fatalf("a file over the limit: %d", rec.Code)
	}
	topic, err := w.db.EventTopic(context.Background(), audit.Actor{Principal: access.Principal{UserID: 1}}, 1)
	if err != nil || len(topic.Materials) != 0 {
		t.Fatalf("refused files were recorded: %+v %v", topic.Materials, err)
	}
	if n := countFiles(t, w.blobs); n != 0 {
		t.Fatalf("%d sealed blobs left behind by refused files", n)
	}
	rec = upload("leaflet.pdf", []byte("%PDF-1.7\n1 0 obj <<>> endobj\n"))
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("a real PDF: %d\n%s", rec.Code, rec.Body)
	}
	topic, _ = w.db.EventTopic(context.Background(), audit.Actor{Principal: access.Principal{UserID: 1}}, 1)
	if len(topic.Materials) != 1 ||
		topic.Materials[0].ContentType != "application/pdf" {
		t.Fatalf("the PDF: %+v", topic.Materials)
	}
	// The school downloads it; the bytes come back as sent.
	dl := w.get(t, w.head, fmt.Sprintf("/events/files/%d/download", topic.Materials[0].ID))
	if dl.Code != http.StatusOK || !strings.HasPrefix(dl.Body.String(), "%PDF-1.7") {
		t.Fatalf("download: %d", dl.Code)
	}
}

// The pages of the feature render in every language, for the school and
// the city, and a bad plan comes back with what was typed.
func TestEventPages(t *testing.T) {
	w := newEventsWorld(t)
	evPath, code := w.plan(t)
	bad := w.post(t, w.head, "/events/new?lang=en", url.Values{"place": {"Kitabxana"}, "starts_at": {"sabah"}, "speaker_kind": {"psychologist"}})
	if bad.Code != http.StatusUnprocessableEntity || !strings.Contains(bad.Body.String(), `value="Kitabxana"`) ||
		!strings.Contains(bad.Body.String(), "Choose at least one topic") {
		t.Fatalf("a bad plan: %d\n%s", bad.Code, bad.Body)
	}
	for _, l := range i18n.Langs() {
		for _, c := range []struct {
			who  evSession
			path string
		}{{w.head, "/events"}, {w.head, evPath}, {w.head, "/events/new"}, {w.head, "/events/topics"}, {w.city, "/events/overview"},
			{w.city, "/events"}, {w.city, "/campaign"}, {w.city, "/campaign/reach"}, {w.head, "/campaign"}, {evSession{}, "/f/" + code}} {
			rec := w.get(t, c.who, c.path+"?lang="+string(l))
			checkPage(t, rec.Result(), rec.Body.String(), http.StatusOK, l)
		}
	}
	if rec := w.get(t, w.head, evPath+"/qr.svg"); rec.Code != http.StatusOK || !strings.HasPrefix(rec.Body.String(), "<svg") ||
		rec.Header().Get("Content-Type") != "image/svg+xml" {
		t.Errorf("the QR code: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	if rec := w.get(t, evSession{}, "/f/aaaaaaaaaa"); rec.Code != http.StatusNotFound {
		t.Errorf("an unknown feedback code: %d", rec.Code)
	}
}

// countFiles counts the files under dir.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Rescheduling carries the version read: a second change based on the
// same version is refused with what changed, and the form keeps what was
// typed.
func TestEventRescheduleStale(t *testing.T) {
	w := newEventsWorld(t)
	evPath, _ := w.plan(t)
	first := w.post(t, w.head, evPath+"/status", url.Values{"version": {"1"}, "starts_at": {"2026-11-21T18:00"}, "place": {"Kitabxana"}})
	if first.Code != http.StatusSeeOther {
		t.Fatalf("reschedule: %d\n%s", first.Code, first.Body)
	}
	stale := w.post(t, w.head, evPath+"/status?lang=en", url.Values{"version": {"1"}, "starts_at": {"2026-11-22T18:00"}, "place": {"İdman zalı"}})
	if stale.Code != http.StatusConflict || !strings.Contains(stale.Body.String(), "starts_at") || !strings.Contains(stale.Body.String(), `value="İdman zalı"`) {
		t.Fatalf("a stale reschedule: %d\n%s", stale.Code, stale.Body)
	}
	if page := w.get(t, w.head, evPath+"?lang=en").Body.String(); !strings.Contains(page, "Kitabxana") || !strings.Contains(page, "21.11.2026 18:00") {
		t.Errorf("the first change is not the one kept")
	}
}

// A school records a showing and corrects its counts with the version it
// read; a second correction on the same version is refused.
func TestShowingCorrection(t *testing.T) {
	w := newEventsWorld(t)
	ctx := context.Background()
	city := audit.Actor{Principal: must(w.db.PrincipalForUser(ctx, 2))}
	m, err := w.db.CreateCampaignMaterial(ctx, city, events.CampaignMaterial{Kind: "video", Title: "Çarx", Languages: []string{"az"},
		Audience: "parents", ExternalURL: "https://video.example.az/1"})
	if err != nil {
		t.Fatal(err)
	}
	rec := w.post(t, w.head, "/campaign/showings", url.Values{"material": {fmt.Sprint(m.ID)}, "shown_at": {"2026-11-20T10:00"},
		"classes": {"7A"}, "pupils": {"20"}, "parents": {"0"}, "shown_by": {"Psixoloq"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("showing: %d\n%s", rec.Code, rec.Body)
	}
	if rec := w.post(t, w.head, "/campaign/showings/1", url.Values{"version": {"1"}, "pupils": {"22"}, "parents": {"3"}, "shown_by": {"Psixoloq"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("correction: %d\n%s", rec.Code, rec.Body)
	}
	if rec := w.post(t, w.head, "/campaign/showings/1?lang=en", url.Values{"version": {"1"}, "pupils": {"25"}, "parents": {"3"}, "shown_by": {"Psixoloq"}}); rec.Code != http.StatusConflict {
		t.Fatalf("a stale correction: %d", rec.Code)
	}
	if page := w.get(t, w.head, "/campaign?lang=en").Body.String(); !strings.Contains(page, "<td>22</td><td>3</td>") {
		t.Errorf("the correction is not shown")
	}
}

// The city gives a library item a new edition with the version it read;
// a stale edit is refused.
func TestMaterialEdit(t *testing.T) {
	w := newEventsWorld(t)
	ctx := context.Background()
	city := audit.Actor{Principal: must(w.db.PrincipalForUser(ctx, 2))}
	m, err := w.db.CreateCampaignMaterial(ctx, city, events.CampaignMaterial{Kind: "poster", Title: "Plakat", Languages: []string{"az"},
		Edition: "v1", Audience: "children", ExternalURL: "https://edu.example.az/p"})
	if err != nil {
		t.Fatal(err)
	}
	edit := url.Values{"version": {"1"}, "kind": {"poster"}, "audience": {"children"}, "title": {"Plakat"}, "edition": {"v2"},
		"external_url": {"https://edu.example.az/p2"}, "languages": {"az", "ru"}}
	if rec := w.post(t, w.city, fmt.Sprintf("/campaign/materials/%d/save", m.ID), edit); rec.Code != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", rec.Code, rec.Body)
	}
	edit.Set("edition", "v3")
	if rec := w.post(t, w.city, fmt.Sprintf("/campaign/materials/%d/save?lang=en", m.ID), edit); rec.Code != http.StatusConflict {
		t.Fatalf("a stale edit: %d", rec.Code)
	}
	if rec := w.post(t, w.head, fmt.Sprintf("/campaign/materials/%d/save", m.ID), edit); rec.Code != http.StatusForbidden {
		t.Fatalf("a school edits the library: %d", rec.Code)
	}
	page := w.get(t, w.head, "/campaign?lang=en").Body.String()
	if !strings.Contains(page, "<td>v2</td>") || !strings.Contains(page, "az, ru") {
		t.Errorf("the new edition is not shown")
	}
}

// With a public address configured (serve --public-url) the short link and
// the QR code point there, whatever host the request came to; without
// one, at the request's own host.
func TestFeedbackLinkUsesPublicURL(t *testing.T) {
	for _, c := range []struct {
		name string
		opts []server.Option
		want string
	}{
		{"configured", []server.Option{server.WithPublicURL("https://dayaq.example.az/edu")}, "https://dayaq.example.az/edu/f/"},
		{"unset", nil, "http://example.com/f/"}, // httptest's request host
	} {
		t.Run(c.name, func(t *testing.T) {
			w := newEventsWorldWith(t, nil, c.opts...)
			evPath, code := w.plan(t)
			link := c.want + code
			page := w.get(t, w.head, evPath+"?lang=en")
			if !strings.Contains(page.Body.String(), `href="`+link+`" id="feedback-link"`) {
				t.Fatalf("the event's page lacks the link %s:\n%s", link, page.Body)
			}
			qr := w.get(t, w.head, evPath+"/qr.svg?lang=en")
			want, err := web.QRSVG(link, i18n.MustLoad().For(i18n.EN).T("events.qr.alt"))
			if err != nil {
				t.Fatal(err)
			}
			if qr.Code != http.StatusOK || qr.Body.String() != want {
				t.Errorf("the QR code does not encode %s: %d", link, qr.Code)
			}
		})
	}
}

// The feedback form is limited per event, never per sender (ADR 0031): a
// minute's budget, then 429 with Retry-After and a message in the parent's
// language, shared by the form and the API; once attendance is recorded,
// no more than twice the head count, then a refusal that says why. The
// typed answer stays in the form.
func TestFeedbackLimitedPerEvent(t *testing.T) {
	// A fixed clock in the middle of a minute, so that the minute cannot
	// roll over during the test.
	at := time.Now().Truncate(time.Minute).Add(20 * time.Second)
	w := newEventsWorldWith(t, []storage.Option{storage.WithClock(func() time.Time { return at })},
		server.WithFeedbackGate(events.NewFeedbackGate(3)))
	evPath, code := w.plan(t)
	answer := func(lang string) *httptest.ResponseRecorder {
		return w.post(t, evSession{}, "/f/"+code+"?lang="+lang, url.Values{"usefulness": {"4"}, "comment": {"Çox faydalı idi"}})
	}
	for i := range 2 {
		if rec := answer("az"); rec.Code != http.StatusOK {
			t.Fatalf("answer %d: %d\n%s", i+1, rec.Code, rec.Body)
		}
	}
	api := func(lang string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/feedback/"+code+"?lang="+lang, strings.NewReader(`{"usefulness":5}`))
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, r)
		return rec
	}
	if rec := api("en"); rec.Code != http.StatusNoContent {
		t.Fatalf("the third answer, by the API: %d\n%s", rec.Code, rec.Body)
	}
	rec := answer("ru")
	if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") != "40" ||
		!strings.Contains(rec.Body.String(), "Сейчас по этому мероприятию приходит очень много ответов") ||
		!strings.Contains(rec.Body.String(), "Çox faydalı idi") {
		t.Fatalf("the fourth answer this minute: %d, Retry-After %q\n%s", rec.Code, rec.Header().Get("Retry-After"), rec.Body)
	}
	if rec := api("en"); rec.Code != http.StatusTooManyRequests || !strings.Contains(rec.Body.String(), "Very many answers are arriving") {
		t.Fatalf("the API past the minute's budget: %d\n%s", rec.Code, rec.Body)
	}
	if n := w.feedbackRows(t); n != 3 {
		t.Fatalf("%d responses stored, want 3", n)
	}

	// The next minute, after the event: 2 parents came, so 4 answers at most.
	at = at.Add(time.Minute)
	page := w.get(t, w.head, evPath+"?lang=en")
	version := regexp.MustCompile(`name="version" value="(\d+)"`).FindStringSubmatch(page.Body.String())
	if version == nil {
		t.Fatalf("no version on the event's page:\n%s", page.Body)
	}
	if rec := w.post(t, w.head, evPath+"/attendance", url.Values{"head_count": {"2"}, "version": {version[1]}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("attendance: %d\n%s", rec.Code, rec.Body)
	}
	if rec := answer("az"); rec.Code != http.StatusOK {
		t.Fatalf("the fourth answer: %d\n%s", rec.Code, rec.Body)
	}
	rec = answer("en")
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "twice as many answers as parents who came") {
		t.Fatalf("an answer past twice the head count: %d\n%s", rec.Code, rec.Body)
	}
	if rec := api("ru"); rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "вдвое больше ответов") {
		t.Fatalf("the API past twice the head count: %d\n%s", rec.Code, rec.Body)
	}
	if n := w.feedbackRows(t); n != 4 {
		t.Fatalf("%d responses stored, want 4", n)
	}
}

// feedbackRows counts the stored feedback responses, read from the file.
func (w eventsWorld) feedbackRows(t *testing.T) int {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+w.path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var n int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM event_feedback`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// The city imports a figures file on the reach page: a file with bad lines
// comes back listing each of them in the user's language and stores
// nothing; a good one is stored whole; a school gets no such form.
func TestImportFiguresPage(t *testing.T) {
	w := newEventsWorld(t)
	upload := func(s evSession, lang, data string) *httptest.ResponseRecorder {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		_ = mw.WriteField("csrf", s.csrf)
		fw, _ := mw.CreateFormFile("file", "figures.csv")
		_, _ = fw.Write([]byte(data))
		mw.Close()
		r := httptest.NewRequest(http.MethodPost, "/campaign/figures/import?from=2026-09&lang="+lang, &buf)
		r.Header.Set("Content-Type", mw.FormDataContentType())
		r.Header.Set("Cookie", s.cookie)
		rec := httptest.NewRecorder()
		w.h.ServeHTTP(rec, r)
		return rec
	}
	const hdr = "metric,value,period_start,period_end,source,as_of,district,material_id\n"
	good := hdr + "video_views,18400,2026-10-01,2026-10-31,YouTube Studio,2026-11-02,,\n" +
		"social_reach,5200,2026-11-01,2026-11-30,Instagram,2026-12-01,BAK-06,\n"
	bad := good + "leaflets_given,300,2026-11-01,2026-10-30,,2026-12-01,BAK-99,\n"
	rec := upload(w.city, "ru", bad)
	body := rec.Body.String()
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(body, `id="import-errors"`) ||
		!strings.Contains(body, "Строка 4: столбец «period_end» пуст или заполнен неверно.") ||
		!strings.Contains(body, "Строка 4: столбец «source» пуст или заполнен неверно.") {
		t.Fatalf("a file with a bad line: %d\n%s", rec.Code, body)
	}
	figures := func() int {
		raw, err := sql.Open("sqlite", "file:"+w.path+"?mode=ro")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		var n int
		if err := raw.QueryRow(`SELECT COUNT(*) FROM campaign_figures`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := figures(); n != 0 {
		t.Fatalf("a refused file stored %d figures", n)
	}
	// An unknown district is found in the database, and refuses the file too.
	if rec := upload(w.city, "en", hdr+"video_views,1,2026-10-01,2026-10-31,YouTube,2026-11-02,BAK-99,\n"); rec.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(rec.Body.String(), "Line 2: the column “district” is empty or wrong.") {
		t.Fatalf("an unknown district: %d\n%s", rec.Code, rec.Body)
	}
	if rec := upload(w.head, "en", good); rec.Code != http.StatusNotFound {
		t.Fatalf("a school imports figures: %d", rec.Code)
	}
	if rec := upload(w.city, "az", good); rec.Code != http.StatusSeeOther {
		t.Fatalf("a good file: %d\n%s", rec.Code, rec.Body)
	}
	if n := figures(); n != 2 {
		t.Fatalf("%d figures stored, want 2", n)
	}
	page := w.get(t, w.city, "/campaign/reach?from=2026-09&lang=en")
	if !strings.Contains(page.Body.String(), `id="import-form"`) || !strings.Contains(page.Body.String(), "Instagram") {
		t.Errorf("the reach page lacks the import form or the imported figure:\n%s", page.Body)
	}
}
