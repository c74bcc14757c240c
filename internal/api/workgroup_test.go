package api_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/i18n"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// bearerFor makes a user of org with roles and returns an Authorization
// header value for a token of theirs.
func bearerFor(t *testing.T, db *storage.DB, email, orgCode string, roles ...access.Role) string {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: email, Name: strings.Split(email, "@")[0], OrgCode: orgCode,
		Roles: roles, PasswordHash: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	tok := auth.NewAPIToken()
	if _, err := db.CreateAPIToken(ctx, audit.System(), storage.NewAPIToken{UserID: u.ID, Name: "test",
		Scopes: []access.Scope{access.ScopeRead, access.ScopeWrite}, ExpiresAt: time.Now().Add(time.Hour), TokenHash: auth.HashToken(tok)}); err != nil {
		t.Fatal(err)
	}
	return "Bearer " + tok
}

// jsonCall sends a JSON request with the given headers (name, value, …).
func jsonCall(t *testing.T, h http.Handler, method, target, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, bytes.NewBufferString(body))
	r.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestWorkingGroupAPI(t *testing.T) {
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := openapitest.Wrap(s.Handler())
	city := bearerFor(t, db, "city@test.az", "BSTI", access.CitySpecialist)
	police := bearerFor(t, db, "police@test.az", "POL-BAK", access.AgencyOfficer)

	if w := jsonCall(t, h, "GET", "/api/v1/working-group/meetings", "", "Authorization", police); w.Code != http.StatusForbidden {
		t.Fatalf("non-member lists meetings: %d %s", w.Code, w.Body)
	}
	w := jsonCall(t, h, "POST", "/api/v1/working-group/meetings", `{"title":"Dekabr iclası","starts_at":"2026-12-02T10:00:00+04:00","place":"BŞTİ"}`,
		"Authorization", city)
	if w.Code != http.StatusCreated || w.Header().Get("ETag") != `"1"` {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	loc := w.Header().Get("Location")
	patch := `{"title":"Dekabr iclası","starts_at":"2026-12-02T10:00:00+04:00","place":"BŞTİ","status":"held","minutes":"Ə ə"}`
	if w := jsonCall(t, h, "PATCH", loc, patch, "Authorization", city); w.Code != http.StatusPreconditionRequired {
		t.Fatalf("no If-Match: %d", w.Code)
	}
	if w := jsonCall(t, h, "PATCH", loc, patch, "Authorization", city, "If-Match", `"1"`); w.Code != http.StatusOK || w.Header().Get("ETag") != `"2"` {
		t.Fatalf("update: %d %s", w.Code, w.Body)
	}
	w = jsonCall(t, h, "PATCH", loc, strings.Replace(patch, "BŞTİ", "Onlayn", 1), "Authorization", city, "If-Match", `"1"`, "Accept-Language", "en")
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "Changed: place.") {
		t.Fatalf("stale update: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "GET", loc+"/minutes.pdf", "", "Authorization", city); w.Code != http.StatusOK || !strings.HasPrefix(w.Body.String(), "%PDF-") {
		t.Fatalf("minutes: %d", w.Code)
	}
	if w := jsonCall(t, h, "POST", "/api/v1/working-group/proposals", `{"title":"X","body":"qısa"}`, "Authorization", city); w.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(w.Body.String(), `"field":"title"`) || !strings.Contains(w.Body.String(), `"field":"body"`) {
		t.Fatalf("bad proposal: %d %s", w.Code, w.Body)
	}
}
