package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"dayaq/internal/api"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestMain(m *testing.M) { storagetest.Main(m, openapitest.Report) }

var quiet = slog.New(slog.DiscardHandler)

// seed is a few organisations of every shape the list filters care about.
var seed = []org.Org{
	{Code: "BSTI", Type: org.CityDepartment, NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi", NameRU: "Управление образования города Баку", NameEN: "Baku City Education Department"},
	{Code: "BAK-06", Type: org.District, NameAZ: "Nəsimi rayon təhsil şöbəsi", DistrictCode: "BAK-06"},
	{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli tam orta məktəb", NameRU: "Школа № 1", DistrictCode: "BAK-06"},
	{Code: "BAK-06-002", Type: org.School, NameAZ: "2 nömrəli tam orta məktəb", DistrictCode: "BAK-06"},
	{Code: "BAK-06-003", Type: org.School, NameAZ: "3 nömrəli tam orta məktəb", DistrictCode: "BAK-06"},
	{Code: "BAK-07-001", Type: org.School, NameAZ: "Nizami 1 nömrəli məktəb", DistrictCode: "BAK-07"},
	{Code: "HOT-146", Type: org.Hotline, NameAZ: "146-2 qaynar xətti"},
	{Code: "POL-BAK", Type: org.Police, NameAZ: "Bakı Şəhər Polis İdarəsi"},
}

func seeded(t *testing.T, db *storage.DB) *storage.DB {
	t.Helper()
	if _, err := db.ImportOrgs(context.Background(), seed); err != nil {
		t.Fatalf("import: %v", err)
	}
	return db
}

// apiHandler is the API alone on a mux, as the server registers it.
func apiHandler(store api.Store) http.Handler {
	mux := http.NewServeMux()
	api.New(store, i18n.MustLoad(), quiet).Register(mux)
	return openapitest.Wrap(mux)
}

// fullHandler is the whole server over a seeded SQLite database, with the
// middleware that picks the language and sets the request ID.
func fullHandler(t *testing.T) http.Handler {
	t.Helper()
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	return openapitest.Wrap(s.Handler())
}

func get(t *testing.T, h http.Handler, target string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func decode[T any](t *testing.T, w *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(w.Body.Bytes(), &v); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, w.Body)
	}
	return v
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	w := get(t, apiHandler(nil), "/api/v1/openapi.json")
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		t.Fatalf("status %d, type %q", w.Code, w.Header().Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	methods := []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	documented := map[string]bool{}
	opIDs := map[string]string{}
	for p, item := range doc.Paths {
		for m, op := range item {
			if !slices.Contains(methods, m) {
				continue // parameters, summary, …
			}
			documented[strings.ToUpper(m)+" "+p] = true
			id, _ := op["operationId"].(string)
			if id == "" {
				t.Errorf("%s %s has no operationId", m, p)
			} else if prev, dup := opIDs[id]; dup {
				t.Errorf("operationId %q used by %s and %s %s", id, prev, m, p)
			}
			opIDs[id] = m + " " + p
			if _, ok := op["responses"]; !ok {
				t.Errorf("%s %s has no responses", m, p)
			}
		}
	}
	routed := map[string]bool{}
	for _, rt := range api.New(nil, i18n.MustLoad(), quiet).Routes() {
		routed[rt.Method+" "+rt.Path] = true
	}
	var undocumented, unrouted []string
	for op := range routed {
		if !documented[op] {
			undocumented = append(undocumented, op)
		}
	}
	for op := range documented {
		if !routed[op] {
			unrouted = append(unrouted, op)
		}
	}
	slices.Sort(undocumented)
	slices.Sort(unrouted)
	if len(undocumented) > 0 {
		t.Errorf("routes missing from openapi.json: %q", undocumented)
	}
	if len(unrouted) > 0 {
		t.Errorf("openapi.json operations with no route: %q", unrouted)
	}
	if len(routed) == 0 {
		t.Error("Routes() is empty")
	}
}

// Every $ref in the document points at something in it.
func TestOpenAPIRefsResolve(t *testing.T) {
	var doc any
	if err := json.Unmarshal(get(t, apiHandler(nil), "/api/v1/openapi.json").Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	var refs []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if r, ok := v["$ref"].(string); ok {
				refs = append(refs, r)
			}
			for _, x := range v {
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(refs) == 0 {
		t.Fatal("no $ref found")
	}
	for _, r := range refs {
		node := doc
		for _, part := range strings.Split(strings.TrimPrefix(r, "#/"), "/") {
			m, ok := node.(map[string]any)
			if !ok || m[part] == nil {
				t.Errorf("$ref %q does not resolve", r)
				break
			}
			node = m[part]
		}
	}
}

// The OrgType enum of the document is org.Types().
func TestOpenAPIOrgTypes(t *testing.T) {
	var doc struct {
		Components struct {
			Schemas struct {
				OrgType struct {
					Enum []org.Type `json:"enum"`
				} `json:"OrgType"`
			} `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(get(t, apiHandler(nil), "/api/v1/openapi.json").Body.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if got := doc.Components.Schemas.OrgType.Enum; !slices.Equal(got, org.Types()) {
		t.Errorf("OrgType enum = %q, want org.Types() = %q", got, org.Types())
	}
}

type orgItem struct {
	Code         string `json:"code"`
	Type         string `json:"type"`
	NameAZ       string `json:"name_az"`
	NameRU       string `json:"name_ru"`
	NameEN       string `json:"name_en"`
	DistrictCode string `json:"district_code"`
}

type orgPage struct {
	Items []orgItem `json:"items"`
	Next  *string   `json:"next"`
}

func codesOf(items []orgItem) []string {
	var cs []string
	for _, it := range items {
		cs = append(cs, it.Code)
	}
	return cs
}

func TestListOrgs(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := apiHandler(seeded(t, db))
		for _, tt := range []struct {
			query string
			want  []string // in any order: collation is the engine's
		}{
			{"", []string{"BAK-06", "BAK-06-001", "BAK-06-002", "BAK-06-003", "BAK-07-001", "BSTI", "HOT-146", "POL-BAK"}},
			{"type=school", []string{"BAK-06-001", "BAK-06-002", "BAK-06-003", "BAK-07-001"}},
			{"district=BAK-06", []string{"BAK-06", "BAK-06-001", "BAK-06-002", "BAK-06-003"}},
			{"type=school&district=BAK-07", []string{"BAK-07-001"}},
			{"type=hotline", []string{"HOT-146"}},
			{"type=commission", nil},
			{"district=BAK-12", nil},
			{"district=BAK-99", nil},
			{"limit=500", []string{"BAK-06", "BAK-06-001", "BAK-06-002", "BAK-06-003", "BAK-07-001", "BSTI", "HOT-146", "POL-BAK"}},
		} {
			name := tt.query
			if name == "" {
				name = "no filter"
			}
			t.Run(name, func(t *testing.T) {
				w := get(t, h, "/api/v1/organisations?"+tt.query)
				if w.Code != http.StatusOK {
					t.Fatalf("status %d: %s", w.Code, w.Body)
				}
				if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("Content-Type %q", ct)
				}
				if !strings.Contains(w.Body.String(), `"items":[`) {
					t.Errorf("items is not an array (an empty list must be [], not null): %s", w.Body)
				}
				p := decode[orgPage](t, w)
				got := codesOf(p.Items)
				slices.Sort(got)
				if !slices.Equal(got, tt.want) {
					t.Errorf("codes %q, want %q", got, tt.want)
				}
				if p.Next != nil {
					t.Errorf("next = %q on a single page", *p.Next)
				}
			})
		}

		p := decode[orgPage](t, get(t, h, "/api/v1/organisations?type=city_department"))
		want := orgItem{Code: "BSTI", Type: "city_department", NameAZ: seed[0].NameAZ, NameRU: seed[0].NameRU, NameEN: seed[0].NameEN}
		if len(p.Items) != 1 || p.Items[0] != want {
			t.Errorf("city department = %+v, want %+v", p.Items, want)
		}
	})
}

func TestPagination(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := apiHandler(seeded(t, db))
		for _, tt := range []struct {
			filter string
			limit  int
		}{
			{"", 2}, {"", 3}, {"", 1}, {"", 8}, {"", 7}, {"type=school&", 2}, {"district=BAK-06&", 3},
		} {
			t.Run(fmt.Sprintf("%slimit=%d", tt.filter, tt.limit), func(t *testing.T) {
				all := codesOf(decode[orgPage](t, get(t, h, "/api/v1/organisations?"+tt.filter+"limit=500")).Items)
				var walked []string
				pages := 0
				after := ""
				for {
					q := fmt.Sprintf("/api/v1/organisations?%slimit=%d", tt.filter, tt.limit)
					if after != "" {
						q += "&after=" + url.QueryEscape(after)
					}
					w := get(t, h, q)
					if w.Code != http.StatusOK {
						t.Fatalf("%s: status %d: %s", q, w.Code, w.Body)
					}
					p := decode[orgPage](t, w)
					pages++
					if len(p.Items) > tt.limit {
						t.Fatalf("%s: %d items, more than the limit", q, len(p.Items))
					}
					walked = append(walked, codesOf(p.Items)...)
					if p.Next == nil {
						break
					}
					if len(p.Items) != tt.limit {
						t.Errorf("%s: a page with next has %d items, want %d", q, len(p.Items), tt.limit)
					}
					if *p.Next != p.Items[len(p.Items)-1].Code {
						t.Errorf("%s: next %q is not the page's last code", q, *p.Next)
					}
					after = *p.Next
					if pages > len(seed)+1 {
						t.Fatalf("more pages than organisations: next never ends")
					}
				}
				if !slices.Equal(walked, all) {
					t.Errorf("pages gave %q, want every row once, in order: %q", walked, all)
				}
				if want := max(1, (len(all)+tt.limit-1)/tt.limit); pages != want {
					t.Errorf("%d pages, want %d", pages, want)
				}
			})
		}
	})
}

func TestDistricts(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		w := get(t, apiHandler(db), "/api/v1/districts")
		if w.Code != http.StatusOK {
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
		var got struct {
			Items []struct {
				Code   string `json:"code"`
				NameAZ string `json:"name_az"`
				NameRU string `json:"name_ru"`
				NameEN string `json:"name_en"`
			} `json:"items"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		want := org.BakuDistricts()
		if len(got.Items) != len(want) {
			t.Fatalf("%d districts, want %d", len(got.Items), len(want))
		}
		for i, d := range want {
			g := got.Items[i]
			if g.Code != d.Code || g.NameAZ != d.NameAZ || g.NameRU != d.NameRU || g.NameEN != d.NameEN {
				t.Errorf("district %d = %+v, want %+v", i, g, d)
			}
		}
	})
}

type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Instance  string `json:"instance"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"errors"`
}

func TestProblems(t *testing.T) {
	h := fullHandler(t)
	cat := i18n.MustLoad()
	typeErr := func(l i18n.Lang, v string) string { return cat.T(l, "org.error.type", v) }
	limitErr := func(l i18n.Lang) string { return cat.T(l, "error.range", 1, 500) }
	for _, tt := range []struct {
		name    string
		target  string
		header  []string
		status  int
		lang    i18n.Lang
		code    string
		fields  map[string]string // field → translated detail
		notSeen []string          // must not appear in the body
	}{
		{
			name: "bad type and limit, Russian by header", target: "/api/v1/organisations?type=kindergarten&limit=0",
			header: []string{"Accept-Language", "ru-RU,ru;q=0.9"}, status: 422, lang: i18n.RU, code: "invalid",
			fields: map[string]string{"type": typeErr(i18n.RU, "kindergarten"), "limit": limitErr(i18n.RU)},
		},
		{
			name: "bad type and limit, English by ?lang over the header", target: "/api/v1/organisations?type=kindergarten&limit=501&lang=en",
			header: []string{"Accept-Language", "ru"}, status: 422, lang: i18n.EN, code: "invalid",
			fields: map[string]string{"type": typeErr(i18n.EN, "kindergarten"), "limit": limitErr(i18n.EN)},
		},
		{
			name: "bad limit, Azerbaijani by default", target: "/api/v1/organisations?limit=abc",
			status: 422, lang: i18n.AZ, code: "invalid",
			fields: map[string]string{"limit": limitErr(i18n.AZ)},
		},
		{
			name: "negative limit", target: "/api/v1/organisations?limit=-1", header: []string{"Accept-Language", "en"},
			status: 422, lang: i18n.EN, code: "invalid",
			fields: map[string]string{"limit": limitErr(i18n.EN)},
		},
		{
			name: "type is case-sensitive", target: "/api/v1/organisations?type=School", header: []string{"Accept-Language", "en"},
			status: 422, lang: i18n.EN, code: "invalid",
			fields: map[string]string{"type": typeErr(i18n.EN, "School")},
		},
		{
			name: "unknown API path", target: "/api/v1/nope", header: []string{"Accept-Language", "en-US"},
			status: 404, lang: i18n.EN, code: "not_found",
			notSeen: []string{"<html", "<!doctype"},
		},
		{
			name: "unknown API path, Russian", target: "/api/v1/nope?lang=ru",
			status: 404, lang: i18n.RU, code: "not_found",
		},
		{
			name: "unknown version", target: "/api/v1/", status: 404, lang: i18n.AZ, code: "not_found",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := get(t, h, tt.target, tt.header...)
			if w.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") {
				t.Errorf("Content-Type %q, want application/problem+json", ct)
			}
			if cl := w.Header().Get("Content-Language"); cl != string(tt.lang) {
				t.Errorf("Content-Language %q, want %s", cl, tt.lang)
			}
			body := w.Body.String()
			for _, s := range append(tt.notSeen, i18n.Missing) {
				if strings.Contains(body, s) {
					t.Errorf("body contains %q: %s", s, body)
				}
			}
			p := decode[problem](t, w)
			u, _ := url.Parse(tt.target)
			if p.Status != tt.status || p.Type != "urn:dayaq:problem:"+tt.code || p.Instance != u.Path {
				t.Errorf("problem = %+v, want status %d type urn:dayaq:problem:%s instance %s", p, tt.status, tt.code, u.Path)
			}
			if want := cat.T(tt.lang, "problem."+tt.code); p.Title != want {
				t.Errorf("title %q, want %q", p.Title, want)
			}
			if p.Detail == "" {
				t.Error("no detail")
			}
			if id := w.Header().Get("X-Request-ID"); id == "" || p.RequestID != id {
				t.Errorf("request_id %q, X-Request-ID %q: want equal and set", p.RequestID, id)
			}
			got := map[string]string{}
			for _, f := range p.Errors {
				if _, dup := got[f.Field]; dup {
					t.Errorf("field %s named twice", f.Field)
				}
				got[f.Field] = f.Detail
			}
			if len(got) == 0 {
				got = nil
			}
			if !maps.Equal(got, tt.fields) {
				t.Errorf("errors = %q, want %q", got, tt.fields)
			}
		})
	}
}

// Translations of one problem differ by language, so a test above that
// passes is not passing because every language says the same thing.
func TestProblemLanguagesDiffer(t *testing.T) {
	h := fullHandler(t)
	seen := map[string]i18n.Lang{}
	for _, l := range i18n.Langs() {
		p := decode[problem](t, get(t, h, "/api/v1/organisations?type=x&lang="+string(l)))
		if len(p.Errors) != 1 {
			t.Fatalf("%s: errors %+v", l, p.Errors)
		}
		key := p.Title + "|" + p.Errors[0].Detail
		if prev, ok := seen[key]; ok {
			t.Errorf("%s and %s answer the same text %q", prev, l, key)
		}
		seen[key] = l
	}
}
