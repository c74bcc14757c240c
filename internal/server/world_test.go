package server_test

import (
	"context"
	"encoding/json"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/child"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// The tests in this package that go through sign-in, jurisdiction and the
// audit use one small world: a city department, a district authority,
// three schools in two districts, the hotline, the police, health, TAİM
// and the Public Council; a user for each role; and children whose names
// appear nowhere else, so that a response body can be searched for them.

// clock is the settable clock the world's database and server read.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// testPassword is every world user's password; cheapHash hashes it with
// small argon2id parameters so that the tests stay quick (sign-in rehashes
// it with the real ones, as it would an old hash).
const testPassword = "Bakı-küləyi-2026"

var cheapHash = func() string {
	h, err := auth.HashPasswordWith(auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, testPassword)
	if err != nil {
		panic(err)
	}
	return h
}()

// kid is a world child.
type kid struct {
	ID        int64
	LastName  string // unique in the world
	StudentID string // unique in the world
	School    string
}

// member is a world user with a fully signed-in browser session and a
// read-write API token, made directly in the database (the sign-in tests
// go through the forms instead).
type member struct {
	ID     int64
	Email  string
	Cookie string // the Cookie header value
	CSRF   string
	Token  string // the API bearer token
	Actor  audit.Actor
}

type world struct {
	db    *storage.DB
	h     http.Handler
	clock *clock
	orgs  map[string]int64
	kids  map[string]kid
	users map[string]member
}

var worldOrgs = []org.Org{
	{Code: "BSTI", Type: org.CityDepartment, NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi"},
	{Code: "RIH-06", Type: org.District, NameAZ: "Nəsimi RİH", DistrictCode: "BAK-06"},
	{Code: "BAK-06-001", Type: org.School, NameAZ: "Nəsimi 1 nömrəli məktəb", DistrictCode: "BAK-06"},
	{Code: "BAK-06-002", Type: org.School, NameAZ: "Nəsimi 2 nömrəli məktəb", DistrictCode: "BAK-06"},
	{Code: "BAK-07-001", Type: org.School, NameAZ: "Nərimanov 1 nömrəli məktəb", DistrictCode: "BAK-07"},
	{Code: "HOTLINE", Type: org.Hotline, NameAZ: "Qaynar xətt 146-2"},
	{Code: "POLICE", Type: org.Police, NameAZ: "Bakı Şəhər Baş Polis İdarəsi"},
	{Code: "HEALTH", Type: org.Health, NameAZ: "Bakı Şəhər Səhiyyə Baş İdarəsi"},
	{Code: "TAIM", Type: org.ResearchCentre, NameAZ: "TAİM"},
	{Code: "SURA", Type: org.PublicCouncil, NameAZ: "İctimai Şura"},
}

// The world's children. School A is BAK-06-001, school B is BAK-07-001.
var worldKids = []struct {
	key, last, sid, school string
	grade                  int
	section                string
}{
	{"a1", "Abbaslızadə", "STU-A1-7301", "BAK-06-001", 5, "A"}, // in the teacher's class
	{"a2", "Bağırzadə", "STU-A2-7302", "BAK-06-001", 7, "B"},
	{"a3", "Cahangirli", "STU-A3-7303", "BAK-06-002", 5, "A"}, // same district, other school
	{"b1", "Dəmirçizadə", "STU-B1-7304", "BAK-07-001", 5, "A"},
	{"b2", "Eyvazzadə", "STU-B2-7305", "BAK-07-001", 6, "A"}, // referred to the police
	{"b3", "Fərəczadə", "STU-B3-7306", "BAK-07-001", 6, "B"}, // referral to health, ended
}

var worldUsers = []struct {
	key, org string
	role     access.Role
	classes  []access.Class
}{
	{"city_admin", "BSTI", access.CityAdmin, nil},
	{"city_specialist", "BSTI", access.CitySpecialist, nil},
	{"district_specialist", "RIH-06", access.CitySpecialist, nil},
	{"head_a", "BAK-06-001", access.SchoolHead, nil},
	{"psychologist_a", "BAK-06-001", access.SchoolPsychologist, nil},
	{"teacher_a", "BAK-06-001", access.Teacher, []access.Class{{Grade: 5, Section: "A"}}},
	{"head_b", "BAK-07-001", access.SchoolHead, nil},
	{"hotline_operator", "HOTLINE", access.HotlineOperator, nil},
	{"hotline_supervisor", "HOTLINE", access.HotlineSupervisor, nil},
	{"police_officer", "POLICE", access.AgencyOfficer, nil},
	{"police_supervisor", "POLICE", access.AgencySupervisor, nil},
	{"health_officer", "HEALTH", access.AgencyOfficer, nil},
	{"analyst", "TAIM", access.Analyst, nil},
	{"public_council", "SURA", access.PublicCouncil, nil},
	{"system_admin", "BSTI", access.SystemAdmin, nil},
}

// newWorld builds the world on db (opened with clk as its clock) and
// returns it with the whole server's handler.
func newWorld(t *testing.T, dsn string) *world {
	t.Helper()
	return newWorldLog(t, dsn, slog.New(slog.DiscardHandler))
}

// newWorldLog is newWorld with the server logging to log.
func newWorldLog(t testing.TB, dsn string, log *slog.Logger) *world {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)}
	db := storagetest.Open(t, dsn, storage.WithClock(clk.Now))
	s, err := server.New(db, i18n.MustLoad(), log)
	if err != nil {
		t.Fatal(err)
	}
	w := &world{db: db, h: openapitest.Wrap(s.Handler()), clock: clk, orgs: map[string]int64{}, kids: map[string]kid{}, users: map[string]member{}}
	if _, err := db.ImportOrgs(ctx, worldOrgs); err != nil {
		t.Fatal(err)
	}
	for _, o := range worldOrgs {
		got, err := db.OrgByCode(ctx, o.Code)
		if err != nil {
			t.Fatal(err)
		}
		w.orgs[o.Code] = got.ID
	}
	cs := make([]child.Child, len(worldKids))
	for i, k := range worldKids {
		cs[i] = child.Child{StudentID: k.sid, LastName: k.last, FirstName: "Nərmin", Patronymic: "Rəşad qızı", Sex: child.Female,
			BirthDate: time.Date(2014, 3, 8, 0, 0, 0, 0, time.UTC), SchoolID: w.orgs[k.school], Grade: k.grade, Section: k.section}
	}
	if err := db.InsertChildren(ctx, cs); err != nil {
		t.Fatal(err)
	}
	for i, k := range worldKids {
		w.kids[k.key] = kid{ID: cs[i].ID, LastName: k.last, StudentID: k.sid, School: k.school}
	}
	for _, u := range worldUsers {
		w.users[u.key] = w.addMember(t, u.key, u.org, u.role, u.classes)
	}
	sys := audit.System()
	storagetest.GrantChildAccess(t, db, w.kids["b2"].ID, w.orgs["POLICE"], 0, "referral")
	g := storagetest.GrantChildAccess(t, db, w.kids["b3"].ID, w.orgs["HEALTH"], 0, "referral")
	if err := db.EndChildAccess(ctx, sys, g); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	return w
}

// addMember creates a user with a signed-in session and an API token.
func (w *world) addMember(t testing.TB, key, orgCode string, role access.Role, classes []access.Class) member {
	t.Helper()
	ctx := context.Background()
	u, err := w.db.CreateUser(ctx, audit.System(), storage.NewUser{Email: key + "@test.dayaq.az", Name: "Test " + key,
		OrgCode: orgCode, Roles: []access.Role{role}, Classes: classes, PasswordHash: cheapHash})
	if err != nil {
		t.Fatalf("create %s: %v", key, err)
	}
	m := member{ID: u.ID, Email: u.Email, CSRF: auth.NewCSRFToken(), Token: auth.NewAPIToken()}
	cookie := auth.NewSessionToken()
	if _, err := w.db.CreateSession(ctx, storage.NewSession{UserID: u.ID, TokenHash: auth.HashToken(cookie),
		CSRFToken: m.CSRF, MFADone: true}); err != nil {
		t.Fatal(err)
	}
	m.Cookie = "dayaq_session=" + cookie
	p, err := w.db.PrincipalForUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	m.Actor = audit.Actor{Principal: p}
	if _, err := w.db.CreateAPIToken(ctx, m.Actor, storage.NewAPIToken{UserID: u.ID, Name: "test",
		Scopes: []access.Scope{access.ScopeRead, access.ScopeWrite}, ExpiresAt: w.clock.Now().Add(30 * 24 * time.Hour),
		TokenHash: auth.HashToken(m.Token)}); err != nil {
		t.Fatal(err)
	}
	return m
}

// response is what a request got back.
type response struct {
	Status   int
	Header   http.Header
	Body     string
	Location string
}

// text is the body with HTML entities decoded, for searching.
func (r response) text() string { return html.UnescapeString(r.Body) }

// serve sends one request through the whole server.
func serve(h http.Handler, method, target string, body io.Reader, header ...string) response {
	r := httptest.NewRequest(method, target, body)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := rec.Result()
	return response{Status: res.StatusCode, Header: res.Header, Body: rec.Body.String(), Location: res.Header.Get("Location")}
}

// form encodes a form body, with the header that says so.
func form(kv ...string) (io.Reader, []string) {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return strings.NewReader(v.Encode()), []string{"Content-Type", "application/x-www-form-urlencoded"}
}

// api sends an API request with m's bearer token.
func (w *world) api(m member, method, target, body string, header ...string) response {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
		header = append(header, "Content-Type", "application/json")
	}
	return serve(w.h, method, target, rd, append(header, "Authorization", "Bearer "+m.Token, "Accept-Language", "en")...)
}

// page sends a browser request with m's session cookie; a POST carries
// the form fields given, and m's form token unless csrf says otherwise.
func (w *world) page(m member, method, target string, fields ...string) response {
	header := []string{"Cookie", m.Cookie, "Accept-Language", "en"}
	if method == http.MethodGet {
		return serve(w.h, method, target, nil, header...)
	}
	body, fh := form(append([]string{"csrf", m.CSRF}, fields...)...)
	return serve(w.h, method, target, body, append(header, fh...)...)
}

// problem decodes a problem document, checking its content type.
func problem(t *testing.T, r response) map[string]any {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
		t.Errorf("Content-Type %q, want application/problem+json; body %s", ct, r.Body)
	}
	var p map[string]any
	if err := json.Unmarshal([]byte(r.Body), &p); err != nil {
		t.Fatalf("problem document: %v: %s", err, r.Body)
	}
	return p
}

// events returns the audit events appended after seq, oldest first.
func (w *world) events(t *testing.T, after int64) []audit.Event {
	t.Helper()
	es, err := w.db.AuditEvents(context.Background(), storage.AuditFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var out []audit.Event
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Seq > after {
			out = append(out, es[i])
		}
	}
	return out
}

// lastSeq is the sequence number of the newest audit event.
func (w *world) lastSeq(t *testing.T) int64 {
	t.Helper()
	es, err := w.db.AuditEvents(context.Background(), storage.AuditFilter{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 {
		return 0
	}
	return es[0].Seq
}

// verifyAudit checks the whole hash chain.
func (w *world) verifyAudit(t *testing.T) {
	t.Helper()
	checked, bad, reason, err := w.db.VerifyAudit(context.Background())
	if err != nil {
		t.Fatalf("verify audit: %v", err)
	}
	if bad != 0 {
		t.Errorf("the audit chain is broken at event %d of %d: %s", bad, checked, reason)
	}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)
