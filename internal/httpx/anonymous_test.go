package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
)

// The children's channel: its paths are told apart from the others, and
// choosing a language there sets no cookie.
func TestAnonymousRoutes(t *testing.T) {
	for path, want := range map[string]bool{"/danis": true, "/danis/c": true, "/api/v1/danis/start": true,
		"/api/v1/danis": true, "/danisx": false, "/api/v1/danisx": false, "/hotline/danis": false, "/": false} {
		if got := httpx.Anonymous(path); got != want {
			t.Errorf("Anonymous(%q) = %v, want %v", path, got, want)
		}
	}
	h := httpx.Languages(i18n.MustLoad())(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(httpx.Lang(r.Context())))
	}))
	for path, cookie := range map[string]bool{"/danis?lang=ru": false, "/signin?lang=ru": true} {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", path, nil))
		if w.Body.String() != "ru" || (len(w.Result().Cookies()) > 0) != cookie {
			t.Errorf("%s: language %q, cookies %v; want ru and a cookie: %v", path, w.Body.String(), w.Result().Cookies(), cookie)
		}
	}
}
