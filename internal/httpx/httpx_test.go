package httpx_test

import (
	"context"
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
)

// seen records what the innermost handler saw.
type seen struct {
	lang i18n.Lang
	id   string
}

func inner(s *seen) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.lang = httpx.Lang(r.Context())
		s.id = httpx.RequestID(r.Context())
	})
}

func TestLanguages(t *testing.T) {
	cat := i18n.MustLoad()
	for _, tt := range []struct {
		name       string
		target     string
		cookie     string
		accept     string
		https      bool
		want       i18n.Lang
		wantCookie string // "" when none is set
	}{
		{name: "default", target: "/", want: i18n.AZ},
		{name: "accept ru", target: "/", accept: "ru-RU,ru;q=0.9", want: i18n.RU},
		{name: "accept en", target: "/", accept: "en", want: i18n.EN},
		{name: "accept de", target: "/", accept: "de", want: i18n.AZ},
		{name: "cookie", target: "/", cookie: "en", accept: "ru", want: i18n.EN},
		{name: "bad cookie", target: "/", cookie: "fr", accept: "ru", want: i18n.RU},
		{name: "query", target: "/?lang=ru", cookie: "en", accept: "en", want: i18n.RU, wantCookie: "ru"},
		{name: "query upper case", target: "/x?lang=EN", want: i18n.EN, wantCookie: "en"},
		{name: "bad query", target: "/?lang=fr", accept: "en", want: i18n.EN},
		{name: "query over https", target: "/?lang=az", https: true, want: i18n.AZ, wantCookie: "az"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s seen
			r := httptest.NewRequest(http.MethodGet, tt.target, nil)
			if tt.cookie != "" {
				r.AddCookie(&http.Cookie{Name: httpx.LangCookie, Value: tt.cookie})
			}
			if tt.accept != "" {
				r.Header.Set("Accept-Language", tt.accept)
			}
			if tt.https {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			httpx.Languages(cat)(inner(&s)).ServeHTTP(w, r)
			if s.lang != tt.want {
				t.Errorf("language %q, want %q", s.lang, tt.want)
			}
			cs := w.Result().Cookies()
			switch {
			case tt.wantCookie == "" && len(cs) > 0:
				t.Errorf("set cookies %v, want none", cs)
			case tt.wantCookie != "" && (len(cs) != 1 || cs[0].Name != httpx.LangCookie || cs[0].Value != tt.wantCookie):
				t.Errorf("cookies %v, want %s=%s", cs, httpx.LangCookie, tt.wantCookie)
			case tt.wantCookie != "" && (cs[0].Secure != tt.https || !cs[0].HttpOnly || cs[0].Path != "/"):
				t.Errorf("cookie %+v: want Secure=%v, HttpOnly, Path=/", cs[0], tt.https)
			}
			if v := w.Header().Get("Vary"); !strings.Contains(v, "Accept-Language") || !strings.Contains(v, "Cookie") {
				t.Errorf("Vary %q", v)
			}
		})
	}
}

func TestContextDefaults(t *testing.T) {
	if l := httpx.Lang(context.Background()); l != i18n.Default {
		t.Errorf("Lang of a bare context = %q, want %q", l, i18n.Default)
	}
	if id := httpx.RequestID(context.Background()); id != "" {
		t.Errorf("RequestID of a bare context = %q, want empty", id)
	}
}

func TestRequestIDs(t *testing.T) {
	for _, tt := range []struct {
		in   string
		keep bool
	}{
		{"abcdefgh", true},
		{"A.b_c-1234567", true},
		{strings.Repeat("x", 64), true},
		{"abcdefg", false},
		{strings.Repeat("x", 65), false},
		{"abc defgh", false},
		{"abcdefgh\n", false},
		{"", false},
	} {
		var s seen
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("X-Request-ID", tt.in)
		w := httptest.NewRecorder()
		httpx.RequestIDs(inner(&s)).ServeHTTP(w, r)
		got := w.Header().Get("X-Request-ID")
		if got != s.id {
			t.Errorf("%q: header %q, context %q; want the same", tt.in, got, s.id)
		}
		if tt.keep != (got == tt.in) {
			t.Errorf("%q: got %q, keep = %v", tt.in, got, tt.keep)
		}
		if !tt.keep && len(got) != 24 {
			t.Errorf("%q: fresh ID %q, want 24 hex digits", tt.in, got)
		}
	}
	ids := map[string]bool{}
	for range 100 {
		w := httptest.NewRecorder()
		httpx.RequestIDs(inner(&seen{})).ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/", nil))
		id := w.Header().Get("X-Request-ID")
		if ids[id] {
			t.Fatalf("fresh ID %q repeated", id)
		}
		ids[id] = true
	}
}

func TestIsHTTPSAndClientIP(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "10.1.2.3:5555"
	if httpx.IsHTTPS(r) || httpx.ClientIP(r) != "10.1.2.3" {
		t.Errorf("plain: IsHTTPS %v, ClientIP %q", httpx.IsHTTPS(r), httpx.ClientIP(r))
	}
	r.Header.Set("X-Forwarded-Proto", "HTTPS")
	if !httpx.IsHTTPS(r) {
		t.Error("X-Forwarded-Proto: HTTPS not taken as HTTPS")
	}
	r = httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "[2001:db8::1]:443"
	if got := httpx.ClientIP(r); got != "2001:db8::1" {
		t.Errorf("ClientIP(IPv6) = %q", got)
	}
	r.RemoteAddr = "@"
	if got := httpx.ClientIP(r); got != "@" {
		t.Errorf("ClientIP without a port = %q, want the address as is", got)
	}
}

func TestSecurityHeaders(t *testing.T) {
	for _, https := range []bool{false, true} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if https {
			r.Header.Set("X-Forwarded-Proto", "https")
		}
		w := httptest.NewRecorder()
		httpx.SecurityHeaders(inner(&seen{})).ServeHTTP(w, r)
		h := w.Header()
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") ||
			strings.Contains(csp, "unsafe") {
			t.Errorf("CSP %q", csp)
		}
		if h.Get("X-Frame-Options") != "DENY" || h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "same-origin" {
			t.Errorf("headers %v", h)
		}
		if got := h.Get("Strict-Transport-Security") != ""; got != https {
			t.Errorf("https=%v: HSTS set = %v", https, got)
		}
	}
}
