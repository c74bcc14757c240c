package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"dayaq/internal/access"
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
