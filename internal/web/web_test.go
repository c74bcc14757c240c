package web_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
	"dayaq/internal/web"
)

// handler is the whole server, so pages are tested with the middleware
// that picks the language, signs people in and sets the headers, as users
// get them. session is the cookie of a signed-in city specialist.
func handler(t *testing.T) (h http.Handler, session string) {
	t.Helper()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler(), signedIn(t, db)
}

// signedIn makes a user and a fully signed-in session for them, and
// returns the Cookie header value that carries it.
func signedIn(t *testing.T, db *storage.DB) string {
	t.Helper()
	ctx := context.Background()
	if _, err := db.ImportOrgs(ctx, []org.Org{{Code: "BSTI", Type: org.CityDepartment, NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi"}}); err != nil {
		t.Fatal(err)
	}
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: "specialist@example.az", Name: "Aysel Məmmədova",
		OrgCode: "BSTI", Roles: []access.Role{access.CitySpecialist}, PasswordHash: "not used: the session is made directly"})
	if err != nil {
		t.Fatal(err)
	}
	tok := auth.NewSessionToken()
	if _, err := db.CreateSession(ctx, storage.NewSession{UserID: u.ID, TokenHash: auth.HashToken(tok),
		CSRFToken: auth.NewCSRFToken(), MFADone: true}); err != nil {
		t.Fatal(err)
	}
	return "dayaq_session=" + tok
}

type req struct {
	target string
	header []string // name, value, …
}

func do(t *testing.T, h http.Handler, r req) *http.Response {
	t.Helper()
	hr := httptest.NewRequest(http.MethodGet, r.target, nil)
	for i := 0; i+1 < len(r.header); i += 2 {
		hr.Header.Add(r.header[i], r.header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, hr)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var htmlLangRE = regexp.MustCompile(`<html lang="([^"]*)">`)

// checkPage checks what every HTML page must be: in language l, without
// a missing-key marker, without inline script or style (the CSP forbids
// them), and without another language's chrome.
func checkPage(t *testing.T, resp *http.Response, b string, status int, l i18n.Lang) {
	t.Helper()
	cat := i18n.MustLoad()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d", resp.StatusCode, status)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cl := resp.Header.Get("Content-Language"); cl != string(l) {
		t.Errorf("Content-Language %q, want %s", cl, l)
	}
	if m := htmlLangRE.FindStringSubmatch(b); m == nil || m[1] != string(l) {
		t.Errorf("<html lang> = %q, want %q", m, l)
	}
	text := html.UnescapeString(b)
	if strings.Contains(text, i18n.Missing) {
		i := strings.Index(text, i18n.Missing)
		t.Errorf("page shows a missing key: …%s…", text[i:min(len(text), i+60)])
	}
	for _, bad := range []string{"<script>", "<style", " style=", " onclick=", "javascript:"} {
		if strings.Contains(b, bad) {
			t.Errorf("page contains %q, which the CSP would block", bad)
		}
	}
	for _, want := range []string{cat.T(l, "layout.skip"), cat.T(l, "layout.footer")} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %s chrome %q", l, want)
		}
	}
	for _, other := range i18n.Langs() {
		if other != l && strings.Contains(text, cat.T(other, "layout.footer")) {
			t.Errorf("a %s page shows the %s footer", l, other)
		}
	}
}

func TestPagesRender(t *testing.T) {
	h, session := handler(t)
	cat := i18n.MustLoad()
	titles := map[string]string{"/": "home.title", "/signin": "signin.title"}
	paths := []string{"/", "/signin"}
	for _, s := range web.Sections() {
		titles["/"+s.Slug] = s.Key + ".title"
		paths = append(paths, "/"+s.Slug)
	}
	for _, l := range i18n.Langs() {
		for _, p := range paths {
			t.Run(string(l)+p, func(t *testing.T) {
				header := []string{"Accept-Language", string(l)}
				if p != "/signin" { // a signed-in user is sent on from the sign-in page
					header = append(header, "Cookie", session)
				}
				resp := do(t, h, req{p, header})
				b := body(t, resp)
				checkPage(t, resp, b, http.StatusOK, l)
				text := html.UnescapeString(b)
				if want := cat.T(l, titles[p]); !strings.Contains(text, want+"</h1>") {
					t.Errorf("no <h1> %s", want)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", cc)
				}
				// The language switch links to this page in each language and
				// marks the current one.
				for _, other := range i18n.Langs() {
					link := `href="` + p + `?lang=` + string(other) + `"`
					if !strings.Contains(b, link) {
						t.Errorf("no language link %s", link)
					}
				}
				if !strings.Contains(b, `hreflang="`+string(l)+`" aria-current="true"`) {
					t.Errorf("the %s link is not marked current", l)
				}
			})
		}
	}
}

// A visitor is sent to sign in, and back afterwards.
func TestVisitorsSignIn(t *testing.T) {
	h, _ := handler(t)
	for target, want := range map[string]string{
		"/":                  "/signin",
		"/children":          "/signin?next=%2Fchildren",
		"/children?school=1": "/signin?next=%2Fchildren%3Fschool%3D1",
	} {
		resp := do(t, h, req{target, nil})
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != want {
			t.Errorf("%s: %d to %q, want 303 to %q", target, resp.StatusCode, resp.Header.Get("Location"), want)
		}
	}
}

func TestNavigation(t *testing.T) {
	h, session := handler(t)
	cat := i18n.MustLoad()
	b := body(t, do(t, h, req{"/cases", []string{"Accept-Language", "en", "Cookie", session}}))
	for _, s := range web.Sections() {
		link := `href="/` + s.Slug + `"`
		if !strings.Contains(b, link) {
			t.Errorf("navigation lacks %s", link)
		}
	}
	if n := strings.Count(b, `aria-current="page"`); n != 1 || !strings.Contains(b, `href="/cases" aria-current="page"`) {
		t.Errorf("want exactly /cases marked current, got %d marks", n)
	}
	home := html.UnescapeString(body(t, do(t, h, req{"/", []string{"Accept-Language", "ru", "Cookie", session}})))
	for _, s := range web.Sections() {
		if lead := cat.T(i18n.RU, s.Key+".lead"); !strings.Contains(home, lead) {
			t.Errorf("home lacks the card text %q", lead)
		}
	}
}

func TestNotFound(t *testing.T) {
	h, _ := handler(t)
	cat := i18n.MustLoad()
	for _, tt := range []struct {
		req  req
		lang i18n.Lang
	}{
		{req{"/nope", nil}, i18n.AZ},
		{req{"/nope", []string{"Accept-Language", "ru-RU,ru;q=0.9"}}, i18n.RU},
		{req{"/nope?lang=en", []string{"Accept-Language", "ru"}}, i18n.EN},
		{req{"/signin/extra", []string{"Accept-Language", "en"}}, i18n.EN},
		{req{"/cases/123/nope", []string{"Accept-Language", "en"}}, i18n.EN},
		{req{"/index.html", nil}, i18n.AZ},
	} {
		t.Run(tt.req.target, func(t *testing.T) {
			resp := do(t, h, tt.req)
			b := body(t, resp)
			checkPage(t, resp, b, http.StatusNotFound, tt.lang)
			text := html.UnescapeString(b)
			if want := cat.T(tt.lang, "error.page_not_found"); !strings.Contains(text, want) {
				t.Errorf("404 page lacks %q", want)
			}
			if id := resp.Header.Get("X-Request-ID"); id == "" || !strings.Contains(text, cat.T(tt.lang, "error.reference", id)) {
				t.Errorf("404 page does not show the request ID %q", id)
			}
		})
	}
}

var assetRE = regexp.MustCompile(`(/static/[^"?]+)\?v=([0-9a-f]+)`)

func TestStaticAssets(t *testing.T) {
	h, _ := handler(t)
	page := body(t, do(t, h, req{"/signin", nil}))
	assets := assetRE.FindAllStringSubmatch(page, -1)
	var names []string
	for _, a := range assets {
		names = append(names, a[1])
	}
	for _, want := range []string{"/static/app.css", "/static/htmx.min.js", "/static/favicon.svg"} {
		if !slices.Contains(names, want) {
			t.Errorf("page does not link %s?v=…: links %q", want, names)
		}
	}
	types := map[string]string{".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
	for _, a := range assets {
		path, v := a[1], a[2]
		t.Run(path, func(t *testing.T) {
			resp := do(t, h, req{path + "?v=" + v, nil})
			b := body(t, resp)
			if resp.StatusCode != http.StatusOK || len(b) == 0 {
				t.Fatalf("status %d, %d bytes", resp.StatusCode, len(b))
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
				t.Errorf("with the right v: Cache-Control %q", cc)
			}
			sum := sha256.Sum256([]byte(b))
			if got := hex.EncodeToString(sum[:6]); got != v {
				t.Errorf("v=%s is not the hash of the content served (%s)", v, got)
			}
			for ext, ct := range types {
				if strings.HasSuffix(path, ext) && !strings.HasPrefix(resp.Header.Get("Content-Type"), ct) {
					t.Errorf("Content-Type %q, want %s", resp.Header.Get("Content-Type"), ct)
				}
			}
			if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no X-Content-Type-Options: nosniff")
			}
			for _, target := range []string{path, path + "?v=000000000000", path + "?v="} {
				resp := do(t, h, req{target, nil})
				if resp.StatusCode != http.StatusOK {
					t.Errorf("%s: status %d", target, resp.StatusCode)
				}
				if cc := resp.Header.Get("Cache-Control"); cc != "no-cache" {
					t.Errorf("%s: Cache-Control %q, want no-cache", target, cc)
				}
			}
		})
	}
	resp := do(t, h, req{"/static/nope.css?v=123", nil})
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("missing asset: status %d, want 404", resp.StatusCode)
	}
	if cc := resp.Header.Get("Cache-Control"); strings.Contains(cc, "immutable") {
		t.Errorf("missing asset cached as immutable: %q", cc)
	}
}

// The language is chosen on the sign-in page, which visitors see.
func TestLanguageChoice(t *testing.T) {
	h, _ := handler(t)

	resp := do(t, h, req{"/signin?lang=ru", []string{"Accept-Language", "en"}})
	checkPage(t, resp, body(t, resp), http.StatusOK, i18n.RU)
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "dayaq_lang" {
			cookie = c
		}
	}
	switch {
	case cookie == nil:
		t.Fatalf("?lang=ru set no dayaq_lang cookie (Set-Cookie %q)", resp.Header.Values("Set-Cookie"))
	case cookie.Value != "ru" || cookie.Path != "/" || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode:
		t.Errorf("cookie %+v, want ru, Path=/, HttpOnly, SameSite=Lax", cookie)
	case cookie.MaxAge < 300*24*3600:
		t.Errorf("cookie MaxAge %d, want about a year", cookie.MaxAge)
	case cookie.Secure:
		t.Error("cookie is Secure on plain HTTP")
	}

	for _, tt := range []struct {
		name string
		req  req
		want i18n.Lang
	}{
		{"cookie alone", req{"/signin", []string{"Cookie", "dayaq_lang=ru"}}, i18n.RU},
		{"cookie over Accept-Language", req{"/signin", []string{"Cookie", "dayaq_lang=ru", "Accept-Language", "en"}}, i18n.RU},
		{"?lang over cookie", req{"/signin?lang=en", []string{"Cookie", "dayaq_lang=ru"}}, i18n.EN},
		{"Accept-Language en", req{"/signin", []string{"Accept-Language", "en"}}, i18n.EN},
		{"Accept-Language en-US", req{"/signin", []string{"Accept-Language", "en-US,en;q=0.9"}}, i18n.EN},
		{"Accept-Language de", req{"/signin", []string{"Accept-Language", "de"}}, i18n.AZ},
		{"nothing", req{"/signin", nil}, i18n.AZ},
		{"unknown ?lang ignored", req{"/signin?lang=de", []string{"Accept-Language", "ru"}}, i18n.RU},
		{"bad cookie ignored", req{"/signin", []string{"Cookie", "dayaq_lang=xx", "Accept-Language", "en"}}, i18n.EN},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp := do(t, h, tt.req)
			checkPage(t, resp, body(t, resp), http.StatusOK, tt.want)
			if !strings.Contains(tt.req.target, "lang=ru") && !strings.Contains(tt.req.target, "lang=en") && len(resp.Cookies()) > 0 {
				t.Errorf("set a cookie without ?lang: %q", resp.Header.Values("Set-Cookie"))
			}
			if vary := strings.Join(resp.Header.Values("Vary"), ", "); !strings.Contains(vary, "Accept-Language") || !strings.Contains(vary, "Cookie") {
				t.Errorf("Vary %q, want Accept-Language and Cookie", vary)
			}
		})
	}

	https := do(t, h, req{"/signin?lang=en", []string{"X-Forwarded-Proto", "https"}})
	if cs := https.Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("over HTTPS the cookie is not Secure: %q", https.Header.Values("Set-Cookie"))
	}
	if https.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over HTTPS")
	}
	if do(t, h, req{"/signin", nil}).Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS on plain HTTP")
	}
}

func TestSecurityHeaders(t *testing.T) {
	h, _ := handler(t)
	ids := map[string]bool{}
	for _, target := range []string{"/", "/signin", "/nope", "/api/v1/organisations", "/api/v1/nope", "/healthz", "/static/app.css"} {
		resp := do(t, h, req{target, nil})
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", target, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("%s: CSP allows unsafe code: %q", target, csp)
		}
		for name, want := range map[string]string{
			"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
		} {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s: %s = %q, want %q", target, name, got, want)
			}
		}
		id := resp.Header.Get("X-Request-ID")
		if !regexp.MustCompile(`^[0-9a-f]{24}$`).MatchString(id) {
			t.Errorf("%s: X-Request-ID %q, want a fresh 24-hex-digit ID", target, id)
		}
		if ids[id] {
			t.Errorf("X-Request-ID %q repeated", id)
		}
		ids[id] = true
	}
}
