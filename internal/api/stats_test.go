package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/audit"
	"dayaq/internal/casework"
	"dayaq/internal/child"
	"dayaq/internal/i18n"
	"dayaq/internal/server"
	"dayaq/internal/storage/storagetest"
)

type dashboardDoc struct {
	View   string `json:"view"`
	Charts []struct {
		ID    string `json:"id"`
		Total *int   `json:"total"`
		View  string `json:"view"`
		Bars  []struct {
			Key        string `json:"key"`
			Value      *int   `json:"value"`
			Suppressed bool   `json:"suppressed"`
		} `json:"bars"`
	} `json:"charts"`
}

// The JSON dashboard is exact for the school's head at their school and
// suppressed for them over the city, with the suppressed counts null; the
// public tables need no token; bad filters are problems naming the field.
func TestDashboardAPI(t *testing.T) {
	ctx := context.Background()
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	head, _ := tokenFor(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	u, _ := db.UserByEmail(ctx, "head@test.az")
	p, _ := db.PrincipalForUser(ctx, u.ID)
	school, _ := db.OrgByCode(ctx, "BAK-06-001")
	kids := []child.Child{
		{StudentID: "S-1", LastName: "Quliyev", FirstName: "Ömər", Sex: child.Male, BirthDate: time.Date(2013, 5, 6, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 7},
		{StudentID: "S-2", LastName: "Əliyeva", FirstName: "Aysel", Sex: child.Female, BirthDate: time.Date(2014, 5, 6, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 6},
	}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	for _, k := range kids {
		if _, err := db.CreateCase(ctx, audit.Actor{Principal: p}, casework.NewCase{Type: "violence.bullying", Severity: casework.Medium,
			Title: "Hadisə", ChildIDs: []int64{k.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	w := call(t, h, "GET", "/api/v1/stats/dashboard", head, "")
	if w.Code != http.StatusOK {
		t.Fatalf("own dashboard: %d %s", w.Code, w.Body)
	}
	d := decode[dashboardDoc](t, w)
	if d.View != "exact" || d.Charts[0].ID != "cases_by_type" || d.Charts[0].Total == nil || *d.Charts[0].Total != 2 {
		t.Errorf("own dashboard: %+v", d)
	}
	// the support figures: exact for the head at their school
	views := map[string]string{}
	for _, c := range d.Charts {
		views[c.ID] = c.View
	}
	for _, id := range []string{"register_by_level", "screening_coverage", "plans_by_status", "plans_by_outcome", "plan_reviews",
		"events_by_status", "event_attendance", "campaign_showings", "campaign_reach"} {
		if views[id] != "exact" {
			t.Errorf("own dashboard: chart %s view %q", id, views[id])
		}
	}
	w = call(t, h, "GET", "/api/v1/stats/dashboard?district=BAK-07", head, "")
	d = decode[dashboardDoc](t, w)
	if w.Code != http.StatusOK || d.View != "suppressed" {
		t.Fatalf("another district: %d %+v", w.Code, d)
	}
	for _, c := range d.Charts {
		if c.View != "suppressed" {
			t.Errorf("another district: chart %s is %q", c.ID, c.View)
		}
	}
	w = call(t, h, "GET", "/api/v1/stats/dashboard?school=BAK-06-001&district=", head, "")
	if w.Code != http.StatusOK {
		t.Fatal(w.Code)
	}
	w = call(t, h, "GET", "/api/v1/stats/dashboard?from=yesterday", head, "")
	if w.Code != http.StatusUnprocessableEntity || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
		t.Errorf("bad date: %d %s", w.Code, w.Header().Get("Content-Type"))
	}
	// the city as a whole, for the head: 2 cases, both small → suppressed
	w = call(t, h, "GET", "/api/v1/stats/dashboard?district=BAK-06", head, "")
	d = decode[dashboardDoc](t, w)
	if d.View != "suppressed" || d.Charts[0].Total != nil {
		t.Errorf("two cases shown to someone outside the district's jurisdiction: %+v", d.Charts[0])
	}
	w = get(t, h, "/api/v1/stats/public")
	if w.Code != http.StatusOK {
		t.Fatalf("public: %d %s", w.Code, w.Body)
	}
	pub := decode[struct {
		Tables []struct {
			ID    string `json:"id"`
			Cells []struct {
				Coords []int `json:"coords"`
				Value  *int  `json:"value"`
			} `json:"cells"`
		} `json:"tables"`
	}](t, w)
	if len(pub.Tables) != 6 || pub.Tables[5].ID != "register" { // four quarters of cases, the contacts, the register
		t.Fatalf("public tables: %d", len(pub.Tables))
	}
	for _, c := range pub.Tables[0].Cells {
		if c.Value != nil && *c.Value >= 1 && *c.Value < 5 {
			t.Errorf("public cell %v = %d", c.Coords, *c.Value)
		}
	}
}

// Every number of the JSON dashboard's case charts, and each body's
// deadline row, carries the API list behind it, and that list holds
// exactly that many cases, for the school's head on their own dashboard,
// with and without a period and a case type. The responses are checked
// against the OpenAPI document.
func TestCaseNumbersLinkToAPILists(t *testing.T) {
	ctx := context.Background()
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := openapitest.Wrap(s.Handler())
	tok, _ := tokenFor(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	u, _ := db.UserByEmail(ctx, "head@test.az")
	p, _ := db.PrincipalForUser(ctx, u.ID)
	school, _ := db.OrgByCode(ctx, "BAK-06-001")
	var kids []child.Child
	for i := range 5 {
		kids = append(kids, child.Child{StudentID: fmt.Sprintf("S-%d", i), LastName: "Quliyev", FirstName: "Ömər", Sex: child.Male,
			BirthDate: time.Date(2013, 5, 6+i, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 7})
	}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	for i, k := range kids {
		typ, sev := "violence.bullying", casework.Medium
		if i%2 == 1 {
			typ, sev = "violence.domestic", casework.High
		}
		if _, err := db.CreateCase(ctx, audit.Actor{Principal: p}, casework.NewCase{Type: typ, Severity: sev,
			Title: "Hadisə", ChildIDs: []int64{k.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	count := func(list string) int {
		t.Helper()
		n := 0
		sep := "?"
		if strings.Contains(list, "?") {
			sep = "&"
		}
		for next := list + sep + "limit=2"; next != ""; {
			w := call(t, h, "GET", next, tok, "")
			if w.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", next, w.Code, w.Body)
			}
			doc := decode[struct {
				Items []json.RawMessage `json:"items"`
				Next  *string           `json:"next"`
			}](t, w)
			n += len(doc.Items)
			next = ""
			if doc.Next != nil {
				next = list + sep + "limit=2&after=" + url.QueryEscape(*doc.Next)
			}
		}
		return n
	}
	day := db.Now().Format(time.DateOnly)
	followed := 0
	for _, query := range []string{"", "?from=" + day + "&to=" + day, "?type=violence.domestic"} {
		w := call(t, h, "GET", "/api/v1/stats/dashboard"+query, tok, "")
		if w.Code != http.StatusOK {
			t.Fatalf("dashboard%s: %d %s", query, w.Code, w.Body)
		}
		d := decode[struct {
			Charts []struct {
				ID        string `json:"id"`
				Total     *int   `json:"total"`
				TotalList string `json:"total_list"`
				Bars      []struct {
					Key   string `json:"key"`
					Value *int   `json:"value"`
					List  string `json:"list"`
				} `json:"bars"`
			} `json:"charts"`
		}](t, w)
		linked := map[string]bool{}
		for _, c := range d.Charts {
			if !strings.HasPrefix(c.ID, "cases_") && c.ID != "new_by_month" && c.ID != "overdue_by_owner" {
				continue
			}
			type number struct {
				key, list string
				value     *int
			}
			nums := []number{{"", c.TotalList, c.Total}}
			for _, b := range c.Bars {
				nums = append(nums, number{b.Key, b.List, b.Value})
			}
			for _, n := range nums {
				if n.list == "" || n.value == nil {
					continue
				}
				if !strings.HasPrefix(n.list, "/api/v1/cases") {
					t.Fatalf("%s %q: list %q", c.ID, n.key, n.list)
				}
				linked[c.ID] = true
				followed++
				if got := count(n.list); got != *n.value {
					t.Errorf("dashboard%s: %s %q is %d, %s lists %d", query, c.ID, n.key, *n.value, n.list, got)
				}
			}
		}
		for _, id := range []string{"cases_by_type", "cases_by_severity", "cases_by_status", "new_by_month"} {
			if !linked[id] {
				t.Errorf("dashboard%s: chart %s links to no list", query, id)
			}
		}
	}
	if followed < 15 {
		t.Errorf("only %d numbers followed to their lists", followed)
	}
	// another district's figures are suppressed: no list
	w := call(t, h, "GET", "/api/v1/stats/dashboard?district=BAK-07", tok, "")
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"list"`) || strings.Contains(w.Body.String(), `"total_list"`) {
		t.Errorf("another district's dashboard carries lists: %d", w.Code)
	}
}
