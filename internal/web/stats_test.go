package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

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

type statsFixture struct {
	db                *storage.DB
	h                 http.Handler
	city, head, teach webSession
	police            webSession
}

func newStatsFixture(t *testing.T) statsFixture {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 10, 20, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	db := storagetest.Open(t, storagetest.SQLiteDSN(t), storage.WithClock(func() time.Time { return clock() }))
	if _, err := db.ImportOrgs(ctx, []org.Org{
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "BŞTİ"},
		{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli məktəb", DistrictCode: "BAK-06"},
		{Code: "BAK-07-001", Type: org.School, NameAZ: "7 nömrəli məktəb", DistrictCode: "BAK-07"},
		{Code: "POLICE", Type: org.Police, NameAZ: "Polis", NameEN: "Police"},
	}); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	f := statsFixture{db: db, h: s.Handler()}
	f.city = sessionFor(t, db, "=2+3@test.az", "BSTI", access.CitySpecialist)
	actor := func(email string) audit.Actor {
		u, _ := db.UserByEmail(ctx, email)
		p, _ := db.PrincipalForUser(ctx, u.ID)
		return audit.Actor{Principal: p}
	}
	var kids []child.Child
	for i, school := range []string{"BAK-06-001", "BAK-06-001", "BAK-06-001", "BAK-07-001", "BAK-07-001", "BAK-07-001", "BAK-07-001"} {
		o, _ := db.OrgByCode(ctx, school)
		kids = append(kids, child.Child{StudentID: "S-" + strconv.Itoa(i), LastName: "Quliyev", FirstName: "Ömər", Sex: child.Male,
			BirthDate: time.Date(2013, 5, 6, 0, 0, 0, 0, time.UTC), SchoolID: o.ID, Grade: 7, Section: "A"})
	}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	city := actor("=2+3@test.az")
	sessionFor(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	head := actor("head@test.az")
	types := []string{"violence.bullying", "violence.bullying", "neglect", "violence.bullying", "violence.bullying", "violence.bullying", "neglect"}
	var first storage.CaseRecord
	for i, k := range kids {
		who := city
		if i < 3 {
			who = head
		}
		r, err := db.CreateCase(ctx, who, casework.NewCase{Type: types[i], Severity: casework.High, Title: "Hadisə", ChildIDs: []int64{k.ID}})
		if err != nil {
			t.Fatal(err)
		}
		if i == 3 {
			first = r
		}
	}
	bsti, _ := db.OrgByCode(ctx, "BSTI")
	if _, err := db.TransitionCase(ctx, city, first.ID, first.Version, casework.Move{To: casework.Triaged, LeadOrgID: bsti.ID, OwnerID: city.UserID}); err != nil {
		t.Fatal(err)
	}
	// a month on: the triaged case is overdue; the sessions are made now
	later := now.Add(30 * 24 * time.Hour)
	clock = func() time.Time { return later }
	f.city = sessionFor(t, db, "city2@test.az", "BSTI", access.CitySpecialist)
	f.head = sessionFor(t, db, "head2@test.az", "BAK-06-001", access.SchoolHead)
	f.teach = sessionFor(t, db, "teacher@test.az", "BAK-06-001", access.Teacher)
	f.police = sessionFor(t, db, "police@test.az", "POLICE", access.AgencyOfficer)
	return f
}

var numLinkRE = regexp.MustCompile(`<a href="(/cases\?[^"]+)">(\d+)</a>`)
var caseRowRE = regexp.MustCompile(`href="/cases/\d+"`)

// Every number of the city dashboard links to a list that shows exactly
// that many cases; the page works in three languages.
func TestDashboardNumbersLinkToTheirLists(t *testing.T) {
	f := newStatsFixture(t)
	code, b := f.city.get(t, f.h, "/statistics")
	if code != http.StatusOK {
		t.Fatalf("dashboard: %d %s", code, b)
	}
	for _, want := range []string{"Cases by type", "Cases by status", "Overdue work by owner", "<svg", "7 in all"} {
		if !strings.Contains(html.UnescapeString(b), want) {
			t.Errorf("city dashboard lacks %q", want)
		}
	}
	links := numLinkRE.FindAllStringSubmatch(b, -1)
	if len(links) < 5 {
		t.Fatalf("only %d linked numbers", len(links))
	}
	for _, m := range links {
		target, n := html.UnescapeString(m[1]), m[2]
		code, list := f.city.get(t, f.h, target)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", target, code)
		}
		if got := len(caseRowRE.FindAllString(list, -1)); strconv.Itoa(got) != n {
			t.Errorf("%s: the dashboard says %s, the list shows %d", target, n, got)
		}
	}
	for _, l := range []i18n.Lang{i18n.AZ, i18n.RU, i18n.EN} {
		r := httptest.NewRequest(http.MethodGet, "/statistics?lang="+string(l), nil)
		r.Header.Set("Cookie", f.city.cookie)
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		checkPage(t, w.Result(), w.Body.String(), http.StatusOK, l)
	}
	// bad input keeps what was typed and names the field
	code, b = f.city.get(t, f.h, "/statistics?from=2026-13-01&school=NOPE")
	if code != http.StatusBadRequest || !strings.Contains(b, `value="2026-13-01"`) || !strings.Contains(b, "No school has this code") {
		t.Errorf("bad filter: %d", code)
	}
}

// A school head sees their school exactly, and the city only with small
// counts suppressed and nothing linked; a teacher sees the school
// suppressed; the police see their own body and not the school's.
func TestDashboardFollowsJurisdiction(t *testing.T) {
	f := newStatsFixture(t)
	code, b := f.head.get(t, f.h, "/statistics")
	if code != http.StatusOK || !strings.Contains(b, "School: BAK-06-001") || !strings.Contains(html.UnescapeString(b), "3 in all") {
		t.Fatalf("head's own dashboard: %d", code)
	}
	if numLinkRE.FindString(b) == "" {
		t.Error("the head's own figures link nowhere")
	}
	code, b = f.head.get(t, f.h, "/statistics?district=BAK-07")
	if code != http.StatusOK || !strings.Contains(b, "·") || numLinkRE.FindString(b) != "" {
		t.Errorf("another district for the head: %d, suppressed %v, links %q", code, strings.Contains(b, "·"), numLinkRE.FindString(b))
	}
	if strings.Contains(b, "Overdue work by owner") {
		t.Error("a suppressed view names owners")
	}
	if code, b = f.teach.get(t, f.h, "/statistics"); code != http.StatusOK || numLinkRE.FindString(b) != "" {
		t.Errorf("teacher: %d, links %q", code, numLinkRE.FindString(b))
	}
	if code, _ = f.police.get(t, f.h, "/statistics"); code != http.StatusOK {
		t.Errorf("police own body: %d", code)
	}
	if code, _ = f.police.get(t, f.h, "/statistics?body=BSTI"); code != http.StatusNotFound {
		t.Errorf("police on another body's dashboard: %d, want 404", code)
	}
}

// The XLSX export reads back with the same numbers, formula-like text
// neutralised; the CSV likewise.
func TestDashboardExports(t *testing.T) {
	f := newStatsFixture(t)
	code, b := f.city.get(t, f.h, "/statistics?format=xlsx")
	if code != http.StatusOK {
		t.Fatalf("xlsx: %d", code)
	}
	x, err := excelize.OpenReader(bytes.NewReader([]byte(b)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := x.GetRows(x.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]string{}
	for _, r := range rows {
		if len(r) == 3 {
			found[r[0]+"|"+r[1]] = r[2]
		}
	}
	if found["Cases by type|Total"] != "7" || found["Cases by severity|high"] != "7" {
		t.Errorf("xlsx rows: %v", rows)
	}
	if found["Overdue work by owner|'=2+3"] != "1" {
		t.Errorf("owner named like a formula not neutralised: %v", found)
	}
	code, b = f.city.get(t, f.h, "/statistics?format=csv")
	if code != http.StatusOK {
		t.Fatalf("csv: %d", code)
	}
	recs, err := csv.NewReader(strings.NewReader(b)).ReadAll()
	if err != nil || len(recs) != len(rows) {
		t.Fatalf("csv: %d rows (xlsx %d), %v", len(recs), len(rows), err)
	}
	for _, r := range recs {
		for _, c := range r {
			if c != "" && strings.ContainsRune("=+-@", rune(c[0])) {
				t.Errorf("csv cell %q starts like a formula", c)
			}
		}
	}
}

// The public page needs no sign-in, speaks three languages, and shows
// small counts as the symbol with the methodology note, in CSV and XLSX too.
func TestPublicStatistics(t *testing.T) {
	f := newStatsFixture(t)
	for _, l := range []i18n.Lang{i18n.AZ, i18n.RU, i18n.EN} {
		r := httptest.NewRequest(http.MethodGet, "/statistika?lang="+string(l), nil)
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		checkPage(t, w.Result(), w.Body.String(), http.StatusOK, l)
		if !strings.Contains(w.Body.String(), "·") || !strings.Contains(w.Body.String(), "<svg") {
			t.Errorf("%s: no suppressed cell or chart", l)
		}
	}
	r := httptest.NewRequest(http.MethodGet, "/statistika?lang=en&table=cases-2026-Q4&format=csv", nil)
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	b := w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(b, "·") || !strings.Contains(b, "Method") {
		t.Errorf("public csv: %d %s", w.Code, b[:min(len(b), 300)])
	}
	// 7 cases in all, 3 and 4 by district: every one of those is ≥ 5 or not
	for _, line := range strings.Split(b, "\n") {
		if strings.HasPrefix(line, "Total,Total,") && !strings.HasSuffix(line, ",7") {
			t.Errorf("grand total: %q", line)
		}
		for _, small := range []string{",1", ",2", ",3", ",4"} {
			if strings.HasSuffix(line, small) {
				t.Errorf("small count published: %q", line)
			}
		}
	}
	r = httptest.NewRequest(http.MethodGet, "/statistika?table=contacts&format=xlsx", nil)
	w = httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	if _, err := excelize.OpenReader(bytes.NewReader(w.Body.Bytes())); w.Code != http.StatusOK || err != nil {
		t.Errorf("public xlsx: %d %v", w.Code, err)
	}
}

// A personal-data export needs the role and a purpose, and is audited with
// both; it carries the children's names; a teacher gets nothing.
func TestCaseExportNeedsRoleAndPurpose(t *testing.T) {
	f := newStatsFixture(t)
	code, b := f.city.get(t, f.h, "/cases/export?format=csv&queue=all&district=BAK-07")
	if code != http.StatusOK || !strings.Contains(b, `name="purpose"`) || !strings.Contains(b, `value="BAK-07"`) {
		t.Fatalf("purpose form: %d", code)
	}
	if code, _ = f.city.get(t, f.h, "/cases/export?format=csv&queue=all&purpose=x"); code != http.StatusBadRequest {
		t.Errorf("short purpose: %d", code)
	}
	code, b = f.city.get(t, f.h, "/cases/export?format=csv&queue=all&district=BAK-07&purpose="+url.QueryEscape("Komissiyaya hesabat"))
	if code != http.StatusOK {
		t.Fatalf("export: %d %s", code, b)
	}
	recs, err := csv.NewReader(strings.NewReader(b)).ReadAll()
	if err != nil || len(recs) != 5 || !strings.Contains(b, "Quliyev Ömər") {
		t.Fatalf("export rows %d (%v):\n%s", len(recs), err, b)
	}
	es, err := f.db.AuditEvents(context.Background(), storage.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, e := range es {
		if e.Action == "case.export" && e.Reason == "Komissiyaya hesabat" && strings.Contains(e.Details, "BAK-07") {
			found = true
		}
	}
	if !found {
		t.Error("the export is not audited with its purpose and filter")
	}
	if code, _ = f.teach.get(t, f.h, "/cases/export?format=csv&purpose="+url.QueryEscape("Komissiyaya hesabat")); code != http.StatusNotFound {
		t.Errorf("teacher exports: %d", code)
	}
}

// The analyst's export is de-identified: pseudonyms, no names.
func TestDeidentifiedExportPage(t *testing.T) {
	f := newStatsFixture(t)
	an := sessionFor(t, f.db, "analyst@test.az", "BSTI", access.Analyst)
	code, b := an.get(t, f.h, "/statistics/export?project=p1&format=csv")
	if code != http.StatusOK || strings.Contains(b, "Quliyev") || strings.Count(b, "\n") != 8 {
		t.Fatalf("analyst export: %d\n%s", code, b)
	}
	if code, _ = f.city.get(t, f.h, "/statistics/export?project=p1&format=csv"); code != http.StatusNotFound {
		t.Errorf("city specialist de-identified export: %d", code)
	}
}
