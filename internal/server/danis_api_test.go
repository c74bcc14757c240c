package server_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"dayaq/internal/danis"
	"dayaq/internal/i18n"
	"dayaq/internal/server"
	"dayaq/internal/storage/storagetest"
)

// The channel's public API: the question near the minute's limit, 429
// past it; reading with the code; a wrong code is a plain 404 and, after a
// few, 429 with Retry-After; oversized and binary bodies get a plain
// message; the staff routes need a sign-in.
func TestDanisAPI(t *testing.T) {
	w := newWorld(t, storagetest.SQLiteDSN(t))
	s, err := server.New(w.db, i18n.MustLoad(), slog.New(slog.DiscardHandler), server.WithDanisGate(danis.NewGate(3, 1, 50)))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	call := func(method, target, body string) response {
		return childRequest(h, method, target, strings.NewReader(body), "Content-Type", "application/json", "Accept-Language", "en")
	}
	var q struct {
		Needed bool
		A, B   int
		Token  string
	}
	if r := call("GET", "/api/v1/danis/question", ""); r.Status != 200 || json.Unmarshal([]byte(r.Body), &q) != nil || q.Needed {
		t.Fatalf("question at first: %d %s", r.Status, r.Body)
	}
	r := call("POST", "/api/v1/danis/start", `{"message":"Salam","upset":3}`)
	var st struct{ Code string }
	if r.Status != http.StatusCreated || json.Unmarshal([]byte(r.Body), &st) != nil || len(st.Code) != 24 {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	if r := call("GET", "/api/v1/danis/question", ""); r.Status != 200 || json.Unmarshal([]byte(r.Body), &q) != nil || !q.Needed || q.Token == "" {
		t.Fatalf("question near the limit: %d %s", r.Status, r.Body)
	}
	if r := call("POST", "/api/v1/danis/start", `{"message":"İkinci"}`); r.Status != http.StatusUnprocessableEntity || !strings.Contains(r.Body, `"answer"`) {
		t.Fatalf("start without the answer: %d %s", r.Status, r.Body)
	}
	answered := fmt.Sprintf(`{"message":"İkinci","ask_token":%q,"answer":"%d"}`, q.Token, q.A+q.B)
	for i := range 2 {
		if r := call("POST", "/api/v1/danis/start", answered); r.Status != http.StatusCreated {
			t.Fatalf("start %d with the answer: %d %s", i+2, r.Status, r.Body)
		}
	}
	if r := call("POST", "/api/v1/danis/start", answered); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") != "60" ||
		!strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
		t.Fatalf("past the limit: %d %q %s", r.Status, r.Header.Get("Retry-After"), r.Body)
	}

	var view struct {
		Messages []struct{ Author, Body string }
	}
	if r := call("POST", "/api/v1/danis/read", `{"code":"`+strings.ToLower(st.Code)+`"}`); r.Status != 200 ||
		json.Unmarshal([]byte(r.Body), &view) != nil || len(view.Messages) != 1 || view.Messages[0].Body != "Salam" {
		t.Fatalf("read: %d %s", r.Status, r.Body)
	}
	wrong := `{"code":"` + st.Code[:5] + `ZZZZ-ZZZZ-ZZZZ-ZZZZ"}`
	for i := 1; i < danis.MaxTries; i++ {
		if r := call("POST", "/api/v1/danis/read", wrong); r.Status != http.StatusNotFound {
			t.Fatalf("wrong code %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := call("POST", "/api/v1/danis/read", wrong); r.Status != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("the last wrong code: %d %s, want 429", r.Status, r.Body)
	}
	if r := call("POST", "/api/v1/danis/write", `{"code":"`+st.Code+`","message":"x"}`); r.Status != http.StatusTooManyRequests {
		t.Fatalf("writing during the pause: %d %s", r.Status, r.Body)
	}
	if r := call("POST", "/api/v1/danis/read", "\x00\x01\x02binary"); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("binary body: %d %s", r.Status, r.Body)
	}
	if r := call("POST", "/api/v1/danis/read", `{"code":"`+strings.Repeat("A", danis.MaxBodySize)+`"}`); r.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(r.Body, "too big") {
		t.Fatalf("oversized body: %d %s", r.Status, r.Body)
	}
	for _, target := range []string{"/api/v1/danis/conversations", "/api/v1/danis/conversations/1"} {
		if r := call("GET", target, ""); r.Status != http.StatusUnauthorized {
			t.Errorf("%s without a sign-in: %d", target, r.Status)
		}
	}
}
