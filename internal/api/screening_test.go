package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/child"
	"dayaq/internal/i18n"
	"dayaq/internal/server"
	"dayaq/internal/storage/storagetest"
)

func TestScoreEndpoint(t *testing.T) {
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	psych := bearerFor(t, db, "psych@test.az", "BAK-06-001", access.SchoolPsychologist)

	// The hand-worked parent set of the domain tests, as the form has it.
	body := `{"informant":"parent","age":11,"answers":{"1":2,"2":1,"3":0,"4":2,"5":1,"6":0,"7":0,"8":2,"9":2,"10":2,"11":2,"12":0,"13":1,
		"14":1,"15":2,"16":1,"17":1,"18":0,"19":2,"20":2,"21":0,"22":0,"23":1,"24":2,"25":1},
		"impact":{"difficulties":"definite","distress":2,"home":3,"friendships":1,"classroom":2,"leisure":0}}`
	w := jsonCall(t, h, "POST", "/api/v1/instruments/sdq/score", body, "Authorization", psych)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	var got map[string]struct {
		Score *int    `json:"score"`
		Band  *string `json:"band"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	for code, want := range map[string]int{"emotional": 6, "conduct": 3, "hyperactivity": 8, "peer": 4, "prosocial": 9,
		"total_difficulties": 21, "externalising": 11, "internalising": 10, "impact": 4} {
		if g := got[code]; g.Score == nil || *g.Score != want {
			t.Errorf("%s = %v, want %d", code, g.Score, want)
		}
	}
	if b := got["total_difficulties"].Band; b == nil || *b != "very_high" {
		t.Errorf("total band %v", b)
	}
	if b := got["externalising"].Band; b != nil {
		t.Errorf("externalising has a band: %v", *b)
	}
	if len(got) != 9 {
		t.Errorf("keys %v", got)
	}

	for _, c := range []struct{ body, field string }{
		{`{"informant":"parent","answers":{"26":1}}`, "answers.26"},
		{`{"informant":"parent","answers":{"3":5}}`, "answers.3"},
		{`{"answers":{"3":1}}`, "informant"},
		{`{"informant":"parent","answers":{"3":"often"}}`, "answers.3"},
		{`{"informant":"parent","answers":{},"impact":{"difficulties":"minor","distress":"lots"}}`, "impact.distress"},
		{`{"informant":"parent","answers":{},"colour":"red"}`, "colour"},
	} {
		w := jsonCall(t, h, "POST", "/api/v1/instruments/sdq/score", c.body, "Authorization", psych, "Accept-Language", "en")
		if w.Code != http.StatusUnprocessableEntity || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s: status %d %s", c.body, w.Code, w.Body)
			continue
		}
		var p struct {
			Errors []struct{ Field string } `json:"errors"`
		}
		_ = json.Unmarshal(w.Body.Bytes(), &p)
		if len(p.Errors) == 0 || p.Errors[0].Field != c.field {
			t.Errorf("%s: fields %+v, want %s", c.body, p.Errors, c.field)
		}
	}
	if w := jsonCall(t, h, "POST", "/api/v1/instruments/nope/score", `{}`, "Authorization", psych); w.Code != http.StatusNotFound {
		t.Errorf("unknown instrument: %d", w.Code)
	}
	if w := jsonCall(t, h, "POST", "/api/v1/instruments/sdq/score", body); w.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", w.Code)
	}
	if w := jsonCall(t, h, "POST", "/api/v1/register/1/confirm", `{}`, "Authorization", psych); w.Code != http.StatusPreconditionRequired {
		t.Errorf("no If-Match: %d", w.Code)
	}
}

func TestScreeningAPIFlow(t *testing.T) {
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	ctx := context.Background()
	school, _ := db.OrgByCode(ctx, "BAK-06-001")
	kids := []child.Child{{StudentID: "SCR-1", LastName: "Əliyeva", FirstName: "Aysel", Sex: child.Female,
		BirthDate: time.Date(2015, 4, 1, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 5, Section: "A"}}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	psych := bearerFor(t, db, "psych@test.az", "BAK-06-001", access.SchoolPsychologist)
	police := bearerFor(t, db, "police@test.az", "POL-BAK", access.AgencyOfficer)
	auth := func(tok string, more ...string) []string { return append([]string{"Authorization", tok}, more...) }

	w := jsonCall(t, h, "POST", "/api/v1/screening/rounds", `{"scope":"class","grade":5,"section":"A","instruments":["psc17","social_categories"],
		"informants":["teacher"],"starts_on":"2026-12-01","ends_on":"2026-11-01"}`, auth(psych)...)
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"ends_on"`) {
		t.Fatalf("a round ending before it starts: %d %s", w.Code, w.Body)
	}
	w = jsonCall(t, h, "POST", "/api/v1/screening/rounds", `{"scope":"class","grade":5,"section":"A","instruments":["psc17","social_categories"],
		"informants":["teacher"],"starts_on":"2026-12-01","ends_on":"2026-12-20"}`, auth(psych)...)
	if w.Code != http.StatusCreated {
		t.Fatalf("create round: %d %s", w.Code, w.Body)
	}
	var round struct{ ID int64 }
	_ = json.Unmarshal(w.Body.Bytes(), &round)
	body := fmt.Sprintf(`{"sets":[{"child_id":%d,"instrument":"psc17","answers":{"informant":"teacher","age":11,"answers":{"1":2,"2":1,"3":1,"4":0,"5":1,
		"6":1,"7":2,"8":0,"9":1,"10":1,"11":1,"12":0,"13":1,"14":1,"15":1,"16":0,"17":2}}},
		{"child_id":%d,"instrument":"social_categories","answers":{"informant":"teacher","answers":{"orphan":1,"idp":1}}}]}`, kids[0].ID, kids[0].ID)
	w = jsonCall(t, h, "POST", fmt.Sprintf("/api/v1/screening/rounds/%d/answers", round.ID), body, auth(psych, "Accept-Language", "en")...)
	var saved struct {
		Results []struct {
			Risk struct {
				Level       string
				Explanation string
			}
			RegisterEntryID *int64 `json:"register_entry_id"`
		}
	}
	if err := json.Unmarshal(w.Body.Bytes(), &saved); err != nil || w.Code != http.StatusOK || len(saved.Results) != 1 ||
		saved.Results[0].Risk.Level != "high" || saved.Results[0].RegisterEntryID == nil ||
		!strings.Contains(saved.Results[0].Risk.Explanation, "2 social categories: orphan, internally displaced") {
		t.Fatalf("save answers: %d %s", w.Code, w.Body)
	}
	entry := *saved.Results[0].RegisterEntryID
	if w := jsonCall(t, h, "GET", fmt.Sprintf("/api/v1/screening/rounds/%d?class=5-A", round.ID), "", auth(psych)...); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), `"screened":true`) {
		t.Fatalf("round: %d %s", w.Code, w.Body)
	}
	path := fmt.Sprintf("/api/v1/register/%d", entry)
	w = jsonCall(t, h, "GET", path, "", auth(psych)...)
	if w.Code != http.StatusOK || w.Header().Get("ETag") != `"1"` {
		t.Fatalf("entry: %d %s %q", w.Code, w.Body, w.Header().Get("ETag"))
	}
	var me struct {
		ID int64 `json:"user_id"`
	}
	_ = json.Unmarshal(jsonCall(t, h, "GET", "/api/v1/me", "", auth(psych)...).Body.Bytes(), &me)
	confirm := fmt.Sprintf(`{"responsible_user_id":%d,"first_review":"%s"}`, me.ID, time.Now().AddDate(0, 0, 7).Format("2006-01-02"))
	if w := jsonCall(t, h, "POST", path+"/confirm", confirm, auth(psych, "If-Match", `"9"`)...); w.Code != http.StatusConflict {
		t.Fatalf("a stale confirmation: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "POST", path+"/confirm", confirm, auth(psych, "If-Match", `"1"`)...); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), `"status":"active"`) || w.Header().Get("ETag") != `"2"` {
		t.Fatalf("confirm: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "GET", path, "", auth(police)...); w.Code != http.StatusNotFound {
		t.Fatalf("the police read the entry: %d", w.Code)
	}
	if w := jsonCall(t, h, "GET", "/api/v1/register", "", auth(police)...); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "Aysel") {
		t.Fatalf("the police's register: %d %s", w.Code, w.Body)
	}
	w = jsonCall(t, h, "GET", fmt.Sprintf("/api/v1/screening/children/%d", kids[0].ID), "", auth(psych)...)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"instrument_version":1`) {
		t.Fatalf("child screening: %d %s", w.Code, w.Body)
	}
}
