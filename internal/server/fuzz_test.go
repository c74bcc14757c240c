package server_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"dayaq/internal/storage/storagetest"
)

// fuzzRoutes are the API's routes that read a JSON body, with the member
// who calls them; {child}, {case} and {contact} are records the world has.
var fuzzRoutes = []struct{ method, path, member string }{
	{"POST", "/api/v1/children", "city_specialist"},
	{"PATCH", "/api/v1/children/{child}", "city_specialist"},
	{"POST", "/api/v1/children/match", "city_specialist"},
	{"POST", "/api/v1/children/merges", "city_specialist"},
	{"POST", "/api/v1/contacts", "hotline_operator"},
	{"POST", "/api/v1/cases", "head_a"},
	{"PATCH", "/api/v1/cases/{case}", "city_specialist"},
	{"POST", "/api/v1/cases/{case}/notes", "head_a"},
	{"POST", "/api/v1/cases/{case}/tasks", "city_specialist"},
	{"POST", "/api/v1/cases/{case}/transitions", "city_specialist"},
	{"PUT", "/api/v1/taxonomy", "hotline_supervisor"},
	{"POST", "/api/v1/referrals", "city_specialist"},
	{"POST", "/api/v1/calendar/days", "city_admin"},
	{"PUT", "/api/v1/notifications/preferences", "head_a"},
	{"POST", "/api/v1/working-group/meetings", "city_specialist"},
	{"POST", "/api/v1/working-group/proposals", "city_specialist"},
	{"POST", "/api/v1/children/{child}/break-glass", "police_officer"},
}

// FuzzAPIBodies sends any bytes as the JSON body of each API route that
// reads one (seeds in testdata/fuzz/FuzzAPIBodies: a valid body per route
// and broken ones), through the whole server on a real SQLite database.
// Whatever the body, the answer is never a 5xx, and every 4xx is a
// problem document: bad input is the client's error, named as such.
func FuzzAPIBodies(f *testing.F) {
	w := newWorldLog(f, storagetest.SQLiteDSN(f), slog.New(slog.DiscardHandler))
	spec := w.users["city_specialist"]
	r := w.api(w.users["head_a"], "POST", "/api/v1/cases", fmt.Sprintf(
		`{"type":"violence.bullying","severity":"high","title":"Fuzz","summary":"x","child_ids":[%d]}`, w.kids["a1"].ID))
	if r.Status != http.StatusCreated {
		f.Fatalf("a case to fuzz against: %d %s", r.Status, r.Body)
	}
	caseID := strings.TrimPrefix(r.Location, "/api/v1/cases/")
	_ = spec
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := strings.NewReplacer("{child}", fmt.Sprint(w.kids["a1"].ID), "{case}", caseID).Replace(rt.path)
		res := w.api(w.users[rt.member], rt.method, path, string(body), "If-Match", `"1"`)
		if res.Status >= 500 {
			t.Fatalf("%s %s with body %q: %d %s", rt.method, rt.path, body, res.Status, res.Body)
		}
		if res.Status >= 400 && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/problem+json") {
			t.Fatalf("%s %s: %d as %q, want a problem document", rt.method, rt.path, res.Status, res.Header.Get("Content-Type"))
		}
	})
}
