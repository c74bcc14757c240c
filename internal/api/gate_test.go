package api_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"dayaq/internal/access"
	"dayaq/internal/api"
	"dayaq/internal/authn"
	"dayaq/internal/i18n"
)

var pathParam = regexp.MustCompile(`\{[a-z_]+\.*\}`)

// Every route of the table but the public ones is behind the gate: nobody
// signed in is 401, a read-only token's write is 403, and neither reaches
// the handler (the API here has no store: a handler reached would panic).
func TestEveryRouteBehindTheGate(t *testing.T) {
	h := apiHandler(nil)
	readOnly := access.Principal{UserID: 7, OrgID: 1, Roles: []access.Role{access.CityAdmin}, Scopes: []access.Scope{access.ScopeRead}}
	n := 0
	for _, rt := range api.New(nil, i18n.MustLoad(), quiet).Routes() {
		if api.Public(rt.Method, rt.Path) {
			continue
		}
		n++
		target := pathParam.ReplaceAllString(rt.Path, "1")
		r := httptest.NewRequest(rt.Method, target, strings.NewReader("{}"))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusUnauthorized || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
			t.Errorf("%s %s without signing in: %d, want 401 problem", rt.Method, rt.Path, w.Code)
		}
		if rt.Method == http.MethodGet || rt.Method == http.MethodHead {
			continue
		}
		r = httptest.NewRequest(rt.Method, target, strings.NewReader("{}"))
		r = r.WithContext(authn.WithPrincipal(r.Context(), readOnly))
		r.Header.Set("Authorization", "Bearer x") // a token, not a browser session: no form token needed
		w = httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusForbidden || !strings.Contains(w.Body.String(), "tokens.error.read_only") &&
			!strings.Contains(w.Body.String(), "urn:dayaq:problem:forbidden") {
			t.Errorf("%s %s with a read-only token: %d %s, want 403", rt.Method, rt.Path, w.Code, w.Body)
		}
	}
	if n < 20 {
		t.Fatalf("only %d gated routes: the table was not walked", n)
	}
}
