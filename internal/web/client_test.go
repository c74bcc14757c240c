package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/storage"
)

// client is the web tests' one browser: a user with a signed-in session
// (second factor done) on a handler, speaking English.
type client struct {
	h            http.Handler
	cookie, csrf string
	userID       int64
}

// signInAs creates a user (named name, at orgCode, with roles) and a
// session for them; every web test that needs a signed-in user makes it
// here.
func signInAs(t *testing.T, db *storage.DB, email, name, orgCode string, roles ...access.Role) (cookie, csrf string, userID int64) {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: email, Name: name, OrgCode: orgCode,
		Roles: roles, PasswordHash: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	tok, csrf := auth.NewSessionToken(), auth.NewCSRFToken()
	if _, err := db.CreateSession(ctx, storage.NewSession{UserID: u.ID, TokenHash: auth.HashToken(tok), CSRFToken: csrf, MFADone: true}); err != nil {
		t.Fatal(err)
	}
	return "dayaq_session=" + tok, csrf, u.ID
}

// newClient signs in a new user and returns their browser on h.
func newClient(t *testing.T, h http.Handler, db *storage.DB, email, orgCode string, role access.Role) client {
	t.Helper()
	cookie, csrf, id := signInAs(t, db, email, "Test "+email, orgCode, role)
	return client{h: h, cookie: cookie, csrf: csrf, userID: id}
}

// get fetches target; the body comes back with HTML entities decoded.
func (c client) get(t *testing.T, target string) (*http.Response, string) {
	t.Helper()
	resp := do(t, c.h, req{target, []string{"Cookie", c.cookie, "Accept-Language", "en"}})
	return resp, html.UnescapeString(body(t, resp))
}

// post submits form to target with the session's form token.
func (c client) post(t *testing.T, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	form.Set("csrf", c.csrf)
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Cookie", c.cookie)
	r.Header.Set("Accept-Language", "en")
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	resp := w.Result()
	return resp, html.UnescapeString(body(t, resp))
}
