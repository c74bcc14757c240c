package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"dayaq/internal/access"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage/storagetest"
)

// An event planned, held and answered through the API; the Public Council
// reads the aggregates and nothing else; the campaign's showing shows in
// the reach.
func TestEventsAndCampaignAPI(t *testing.T) {
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	head := bearerFor(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	other := bearerFor(t, db, "other@test.az", "BAK-07-001", access.SchoolHead)
	city := bearerFor(t, db, "city@test.az", "BSTI", access.CitySpecialist)

	w := jsonCall(t, h, "GET", "/api/v1/event-topics", "", "Authorization", head)
	var topics struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &topics) != nil || len(topics.Items) < 10 {
		t.Fatalf("topics: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "POST", "/api/v1/events", `{"topic_ids":[],"starts_at":"2026-11-20T18:00:00+04:00","place":"","speaker_kind":"x"}`,
		"Authorization", head); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"field":"topics"`) ||
		!strings.Contains(w.Body.String(), `"field":"speaker_kind"`) {
		t.Fatalf("a bad plan: %d %s", w.Code, w.Body)
	}
	w = jsonCall(t, h, "POST", "/api/v1/events", `{"topic_ids":[1,7],"starts_at":"2026-11-20T18:00:00+04:00","place":"Akt zalı",
		"whole_school":true,"speaker_kind":"invited","speaker_body":"police"}`, "Authorization", head)
	if w.Code != http.StatusCreated || w.Header().Get("ETag") != `"1"` {
		t.Fatalf("plan: %d %s", w.Code, w.Body)
	}
	var ev struct {
		FeedbackPath string `json:"feedback_path"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &ev)
	loc := w.Header().Get("Location")
	if w := jsonCall(t, h, "GET", loc, "", "Authorization", other); w.Code != http.StatusNotFound {
		t.Fatalf("another school opens the event: %d", w.Code)
	}
	att := `{"head_count":31,"notes":"Yaxşı keçdi"}`
	if w := jsonCall(t, h, "PUT", loc+"/attendance", att, "Authorization", head); w.Code != http.StatusPreconditionRequired {
		t.Fatalf("attendance without If-Match: %d", w.Code)
	}
	if w := jsonCall(t, h, "PUT", loc+"/attendance", att, "Authorization", head, "If-Match", `"1"`); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), `"status":"held"`) {
		t.Fatalf("attendance: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "PUT", loc+"/attendance", att, "Authorization", head, "If-Match", `"1"`); w.Code != http.StatusConflict {
		t.Fatalf("stale attendance: %d", w.Code)
	}
	code := strings.TrimPrefix(ev.FeedbackPath, "/f/")
	if w := jsonCall(t, h, "POST", "/api/v1/feedback/"+code, `{"usefulness":6}`); w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("a rating of 6: %d", w.Code)
	}
	if w := jsonCall(t, h, "POST", "/api/v1/feedback/"+code, `{"usefulness":5,"next_topic":"İmtahan stresi"}`); w.Code != http.StatusNoContent {
		t.Fatalf("anonymous feedback: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "GET", loc+"/feedback", "", "Authorization", head); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), `"responses":1`) || !strings.Contains(w.Body.String(), `"counts":[0,0,0,0,1]`) {
		t.Fatalf("feedback: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "GET", "/api/v1/events/overview", "", "Authorization", city); w.Code != http.StatusOK ||
		!strings.Contains(w.Body.String(), `"parents":31`) || !strings.Contains(w.Body.String(), `"schools_total":4`) {
		t.Fatalf("overview: %d %s", w.Code, w.Body)
	}
	if _, err := db.ImportOrgs(context.Background(), []org.Org{{Code: "SURA", Type: org.PublicCouncil, NameAZ: "İctimai Şura"}}); err != nil {
		t.Fatal(err)
	}
	council := bearerFor(t, db, "council@test.az", "SURA", access.PublicCouncil)
	if w := jsonCall(t, h, "GET", "/api/v1/events", "", "Authorization", council); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "Akt zalı") {
		t.Fatalf("the Public Council lists events: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "GET", "/api/v1/events/overview", "", "Authorization", council); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"held_events":1`) {
		t.Fatalf("the Public Council's overview: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "GET", "/api/v1/events/overview", "", "Authorization", head); w.Code != http.StatusNotFound {
		t.Fatalf("a school reads the city's view: %d", w.Code)
	}

	// A material of the wrong type is refused on the field file.
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile("file", "leaflet.pdf")
	_, _ = fw.Write([]byte("#!/bin/sh\necho not a pdf\n"))
	mw.Close()
	r := httptest.NewRequest("POST", "/api/v1/event-topics/1/materials", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	r.Header.Set("Authorization", city)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if rec.Code != http.StatusUnprocessableEntity || !strings.Contains(rec.Body.String(), `"field":"file"`) {
		t.Fatalf("a script as a PDF: %d %s", rec.Code, rec.Body)
	}

	w = jsonCall(t, h, "POST", "/api/v1/campaign/materials", `{"kind":"video","title":"Mənimlə danış","languages":["az","ru"],"audience":"parents",
		"external_url":"https://video.example.az/1"}`, "Authorization", city)
	if w.Code != http.StatusCreated {
		t.Fatalf("material: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "POST", "/api/v1/campaign/showings", `{"material_id":1,"shown_at":"2026-11-10T11:00:00+04:00","classes":["7A"],
		"pupils":25,"parents":4,"shown_by":"Psixoloq"}`, "Authorization", head); w.Code != http.StatusCreated {
		t.Fatalf("showing: %d %s", w.Code, w.Body)
	}
	w = jsonCall(t, h, "GET", "/api/v1/campaign/reach?from=2026-09-01&to=2027-01-01&district=BAK-06", "", "Authorization", city)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `{"month":"2026-11","showings":1,"pupils":25,"parents":4,"contacts":0}`) {
		t.Fatalf("reach: %d %s", w.Code, w.Body)
	}
	// the lists come a page at a time, and a bad cursor or limit names its field
	if w := jsonCall(t, h, "POST", "/api/v1/campaign/showings", `{"material_id":1,"shown_at":"2026-11-12T11:00:00+04:00","classes":["5A"],
		"pupils":20,"parents":0,"shown_by":"Psixoloq"}`, "Authorization", head); w.Code != http.StatusCreated {
		t.Fatalf("showing: %d %s", w.Code, w.Body)
	}
	type pageDoc struct {
		Items []struct {
			Pupils int `json:"pupils"`
		} `json:"items"`
		Next *string `json:"next"`
	}
	var pupils []int
	for next, pages := "/api/v1/campaign/showings?limit=1", 0; next != "" && pages < 5; pages++ {
		w := jsonCall(t, h, "GET", next, "", "Authorization", head)
		var d pageDoc
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &d) != nil {
			t.Fatalf("%s: %d %s", next, w.Code, w.Body)
		}
		for _, it := range d.Items {
			pupils = append(pupils, it.Pupils)
		}
		next = ""
		if d.Next != nil {
			next = "/api/v1/campaign/showings?limit=1&after=" + url.QueryEscape(*d.Next)
		}
	}
	if fmt.Sprint(pupils) != "[20 25]" {
		t.Errorf("the showings page by page, latest first: %v", pupils)
	}
	for _, bad := range []string{"/api/v1/events?after=yesterday", "/api/v1/campaign/showings?after=1_x", "/api/v1/events?limit=501"} {
		w := jsonCall(t, h, "GET", bad, "", "Authorization", head)
		if w.Code != http.StatusUnprocessableEntity || (!strings.Contains(w.Body.String(), `"field":"after"`) && !strings.Contains(w.Body.String(), `"field":"limit"`)) {
			t.Errorf("%s: %d %s", bad, w.Code, w.Body)
		}
	}
}

// A figures file through the API: a bad line refuses the whole file (422,
// the field "file" naming the line, nothing stored); a good file imports
// every line (201); a school may not import. Responses match the OpenAPI
// document.
func TestImportFiguresAPI(t *testing.T) {
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := openapitest.Wrap(s.Handler())
	head := bearerFor(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	city := bearerFor(t, db, "city@test.az", "BSTI", access.CitySpecialist)
	const hdr = "metric,value,period_start,period_end,source,as_of,district,material_id\n"
	good := hdr + "video_views,18400,2026-10-01,2026-10-31,YouTube Studio,2026-11-02,,\n" +
		"social_reach,5200,2026-11-01,2026-11-30,Instagram,2026-12-01,,\n"
	bad := good + "leaflets_given,three hundred,2026-11-01,2026-11-30,Jurnal,2026-12-01,,\n"
	call := func(who, body string) *httptest.ResponseRecorder {
		return jsonCall(t, h, "POST", "/api/v1/campaign/figures/import?lang=en", body, "Authorization", who, "Content-Type", "text/csv")
	}
	if w := call(city, bad); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"field":"file"`) ||
		!strings.Contains(w.Body.String(), "Line 4: the column “value” is empty or wrong. Nothing was imported.") {
		t.Fatalf("a file with a bad line: %d %s", w.Code, w.Body)
	}
	list := func() int {
		w := jsonCall(t, h, "GET", "/api/v1/campaign/figures?from=2026-09-01&to=2027-09-01", "", "Authorization", city)
		var out struct {
			Items []json.RawMessage `json:"items"`
		}
		if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &out) != nil {
			t.Fatalf("figures: %d %s", w.Code, w.Body)
		}
		return len(out.Items)
	}
	if n := list(); n != 0 {
		t.Fatalf("a refused file stored %d figures", n)
	}
	if w := call(head, good); w.Code != http.StatusForbidden {
		t.Fatalf("a school imports figures: %d %s", w.Code, w.Body)
	}
	if w := call(city, good); w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), `"source":"Instagram"`) {
		t.Fatalf("a good file: %d %s", w.Code, w.Body)
	}
	if n := list(); n != 2 {
		t.Fatalf("%d figures after the import, want 2", n)
	}
}
