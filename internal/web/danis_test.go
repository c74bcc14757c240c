package web_test

import (
	"context"
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

	"dayaq/internal/danis"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func danisPost(h http.Handler, target string, form url.Values, header ...string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

var askRE = regexp.MustCompile(`name="ask_token" value="([^"]+)"`)
var sumRE = regexp.MustCompile(`(\d+) \+ (\d+)`)

// The child's page in each language: no cookie (the language stays in the
// links), the explanation before the form; typed text kept on an error;
// binary and oversized input get a plain message; near the minute's limit
// a simple question, and past it "try again in a minute" with the text
// kept.
func TestDanisPage(t *testing.T) {
	// The gate counts per clock minute: a clock that stands still keeps the
	// test's conversations in one minute however slowly it runs.
	at := time.Now().UTC().Truncate(time.Minute).Add(20 * time.Second)
	db := storagetest.Open(t, storagetest.SQLiteDSN(t), storage.WithClock(func() time.Time { return at }))
	if _, err := db.ImportOrgs(context.Background(), []org.Org{{Code: "HOTLINE", Type: org.Hotline, NameAZ: "146-2"}}); err != nil {
		t.Fatal(err)
	}
	gate := danis.NewGate(3, 1, 10)
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler), server.WithDanisGate(gate))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	cat := i18n.MustLoad()
	for _, l := range i18n.Langs() {
		resp := do(t, h, req{"/danis?lang=" + string(l), nil})
		b := html.UnescapeString(body(t, resp))
		if resp.StatusCode != http.StatusOK || len(resp.Cookies()) != 0 {
			t.Fatalf("%s: %d, cookies %v", l, resp.StatusCode, resp.Cookies())
		}
		for _, k := range []string{"danis.how.who", "danis.how.phone", "danis.act.example1", "danis.how.name", "danis.exit"} {
			if !strings.Contains(b, cat.T(l, k)) {
				t.Errorf("%s: the page does not say %s", l, k)
			}
		}
		if !strings.Contains(b, `action="/danis?lang=`+string(l)+`"`) || !strings.Contains(b, `href="/danis/exit?lang=`+string(l)+`"`) {
			t.Errorf("%s: the form and the quick exit do not carry the language", l)
		}
		if strings.Contains(b, "htmx") || regexp.MustCompile(`(src|href)="https?://`).MatchString(b) {
			t.Errorf("%s: the page loads something from elsewhere or htmx", l)
		}
	}

	en := func(k string, args ...any) string { return cat.T(i18n.EN, k, args...) }
	// Binary input: a plain message, the form again.
	w := danisPost(h, "/danis?lang=en", url.Values{"message": {"PK\x03\x04\x00\x00binary"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(w.Body.String()), en("danis.error.binary")) {
		t.Errorf("binary: %d", w.Code)
	}
	// Oversized: a plain message too.
	w = danisPost(h, "/danis?lang=en", url.Values{"message": {strings.Repeat("a", danis.MaxBodySize+10)}})
	if w.Code != http.StatusRequestEntityTooLarge || !strings.Contains(html.UnescapeString(w.Body.String()), en("danis.error.too_big")) {
		t.Errorf("oversized: %d", w.Code)
	}
	// A bad age keeps what was typed.
	w = danisPost(h, "/danis?lang=en", url.Values{"message": {"Məni incidirlər"}, "age": {"2"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "Məni incidirlər") {
		t.Errorf("bad age: %d", w.Code)
	}

	// The first conversation starts at once.
	w = danisPost(h, "/danis?lang=en", url.Values{"message": {"Birinci"}})
	if w.Code != http.StatusCreated {
		t.Fatalf("first: %d %s", w.Code, w.Body)
	}
	// Near the limit: the page asks; a wrong answer is refused, the right one passes.
	page := body(t, do(t, h, req{"/danis?lang=en", nil}))
	m, q := askRE.FindStringSubmatch(page), sumRE.FindStringSubmatch(html.UnescapeString(page))
	if m == nil || q == nil {
		t.Fatalf("no question near the limit")
	}
	w = danisPost(h, "/danis?lang=en", url.Values{"message": {"İkinci"}, "ask_token": {m[1]}, "answer": {"99"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(w.Body.String()), en("danis.error.answer")) {
		t.Fatalf("wrong answer: %d", w.Code)
	}
	sum := mustAtoi(t, q[1]) + mustAtoi(t, q[2])
	for range 2 {
		w = danisPost(h, "/danis?lang=en", url.Values{"message": {"İkinci"}, "ask_token": {m[1]}, "answer": {strconv.Itoa(sum)}})
		if w.Code != http.StatusCreated {
			t.Fatalf("right answer: %d", w.Code)
		}
	}
	// Past the limit: try again in a minute, the text kept.
	w = danisPost(h, "/danis?lang=en", url.Values{"message": {"Dördüncü mesaj"}, "ask_token": {m[1]}, "answer": {strconv.Itoa(sum)}})
	b := html.UnescapeString(w.Body.String())
	if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "60" || !strings.Contains(b, en("danis.busy.text")) ||
		!strings.Contains(b, "Dördüncü mesaj") {
		t.Errorf("busy: %d %q", w.Code, w.Header().Get("Retry-After"))
	}
}

func mustAtoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// Without a hotline to receive it, the channel says so plainly on its own
// page and keeps what was typed.
func TestDanisWithoutHotline(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	w := danisPost(s.Handler(), "/danis?lang=en", url.Values{"message": {"Kömək edin"}})
	b := html.UnescapeString(w.Body.String())
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(b, i18n.MustLoad().T(i18n.EN, "danis.error.closed")) ||
		!strings.Contains(b, "Kömək edin") || !strings.Contains(b, `id="quick-exit"`) {
		t.Errorf("no hotline: %d\n%s", w.Code, b)
	}
}
