package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
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

// tokenFor makes a user with role at orgCode and an API token for them.
func hotlineToken(t *testing.T, db *storage.DB, email, orgCode string, role access.Role, scopes ...access.Scope) string {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: email, Name: email, OrgCode: orgCode,
		Roles: []access.Role{role}, PasswordHash: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	tok := auth.NewAPIToken()
	if _, err := db.CreateAPIToken(ctx, audit.System(), storage.NewAPIToken{UserID: u.ID, Name: "test", Scopes: scopes,
		ExpiresAt: time.Now().Add(time.Hour), TokenHash: auth.HashToken(tok)}); err != nil {
		t.Fatal(err)
	}
	return tok
}

func hcall(t *testing.T, h http.Handler, method, target, token, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestContactsAPI(t *testing.T) {
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := openapitest.Wrap(s.Handler())
	rw := []access.Scope{access.ScopeRead, access.ScopeWrite}
	op := hotlineToken(t, db, "op@example.az", "HOT-146", access.HotlineOperator, rw...)
	other := hotlineToken(t, db, "op2@example.az", "HOT-146", access.HotlineOperator, rw...)
	readOnly := hotlineToken(t, db, "op3@example.az", "HOT-146", access.HotlineOperator, access.ScopeRead)
	sup := hotlineToken(t, db, "sup@example.az", "HOT-146", access.HotlineSupervisor, rw...)
	admin := hotlineToken(t, db, "admin@example.az", "BSTI", access.CityAdmin, rw...)

	const contact = `{"channel":"phone","call_type":"child_self","caller":{"anonymous":true,"phone":"+994 55 987 65 43"},
		"children":[{"name":"Kamran","age":13,"district":"BAK-06"}],"categories":["mental.suicidal"],
		"answers":{"attempt_in_progress":true},"narrative":"…","outcome":"advice"}`
	w := hcall(t, h, "POST", "/api/v1/contacts", op, contact, "Idempotency-Key", "abc-1")
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	first := w.Body.String()
	var c struct {
		ID      int64  `json:"id"`
		Urgency string `json:"urgency"`
		Caller  struct {
			PhoneMasked string `json:"phone_masked"`
		} `json:"caller"`
		Alert *struct {
			Open bool `json:"open"`
		} `json:"alert"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil {
		t.Fatal(err)
	}
	if c.Urgency != "critical" || c.Caller.PhoneMasked != "+994 55 *** ** 43" || c.Alert == nil || !c.Alert.Open {
		t.Errorf("created %s", first)
	}
	if strings.Contains(first, "9876543") {
		t.Error("the answer echoes the number")
	}
	// The retry on a slow line: the same 201, byte for byte, and no duplicate.
	w = hcall(t, h, "POST", "/api/v1/contacts", op, contact, "Idempotency-Key", "abc-1", "Accept-Language", "ru")
	if w.Code != http.StatusCreated || w.Body.String() != first || w.Header().Get("Location") == "" {
		t.Errorf("retry: %d %s", w.Code, w.Body)
	}
	w = hcall(t, h, "POST", "/api/v1/contacts", op, strings.Replace(contact, "Kamran", "Kənan", 1), "Idempotency-Key", "abc-1")
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"field":"Idempotency-Key"`) {
		t.Errorf("reused key: %d %s", w.Code, w.Body)
	}
	// Bad input names its fields, in the caller's language.
	w = hcall(t, h, "POST", "/api/v1/contacts?lang=en", op, `{"channel":"fax","call_type":"child_self","categories":["x"],"outcome":"advice"}`)
	if w.Code != http.StatusUnprocessableEntity || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") {
		t.Errorf("invalid: %d %s", w.Code, w.Body)
	}
	for _, f := range []string{`"field":"channel"`, `"field":"categories[0]"`, "There is no category"} {
		if !strings.Contains(w.Body.String(), f) {
			t.Errorf("problem lacks %s: %s", f, w.Body)
		}
	}
	if w := hcall(t, h, "POST", "/api/v1/contacts", readOnly, contact); w.Code != http.StatusForbidden {
		t.Errorf("read-only token creates: %d", w.Code)
	}

	path := "/api/v1/contacts/" + jsonInt(c.ID)
	if w := hcall(t, h, "GET", path, op, ""); w.Code != http.StatusOK {
		t.Errorf("get own: %d", w.Code)
	}
	if w := hcall(t, h, "GET", path, other, ""); w.Code != http.StatusNotFound {
		t.Errorf("get another operator's: %d", w.Code)
	}
	var pg struct {
		Alerts []struct{ ID int64 } `json:"alerts"`
		Items  []struct{ ID int64 } `json:"items"`
	}
	w = hcall(t, h, "GET", "/api/v1/contacts?view=critical", sup, "")
	if err := json.Unmarshal(w.Body.Bytes(), &pg); err != nil || len(pg.Alerts) != 1 || len(pg.Items) != 1 {
		t.Errorf("supervisor's queue: %d %s", w.Code, w.Body)
	}
	if w := hcall(t, h, "GET", "/api/v1/contacts?view=bogus", sup, ""); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("bad view: %d", w.Code)
	}
	if w := hcall(t, h, "POST", path+"/take", op, ""); w.Code != http.StatusForbidden {
		t.Errorf("operator takes: %d", w.Code)
	}
	if w := hcall(t, h, "POST", path+"/take", sup, ""); w.Code != http.StatusOK {
		t.Errorf("supervisor takes: %d %s", w.Code, w.Body)
	}
	if w := hcall(t, h, "POST", path+"/take", sup, ""); w.Code != http.StatusConflict {
		t.Errorf("taken twice: %d", w.Code)
	}
	if w := hcall(t, h, "POST", path+"/phone", op, ""); !strings.Contains(w.Body.String(), "+994559876543") {
		t.Errorf("reveal: %d %s", w.Code, w.Body)
	}

	// The taxonomy: read it, publish a new version against the one read.
	w = hcall(t, h, "GET", "/api/v1/taxonomy", op, "")
	var tax struct {
		Version int              `json:"version"`
		Nodes   []map[string]any `json:"nodes"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &tax); err != nil || tax.Version != 1 || len(tax.Nodes) < 40 || w.Header().Get("ETag") != `"1"` {
		t.Fatalf("taxonomy: %d %v", w.Code, err)
	}
	tax.Nodes[0]["en"] = "Missing and lost children"
	b, _ := json.Marshal(map[string]any{"nodes": tax.Nodes})
	if w := hcall(t, h, "PUT", "/api/v1/taxonomy", op, string(b), "If-Match", `"1"`); w.Code != http.StatusForbidden {
		t.Errorf("operator publishes: %d", w.Code)
	}
	if w := hcall(t, h, "PUT", "/api/v1/taxonomy", admin, string(b)); w.Code != http.StatusPreconditionRequired {
		t.Errorf("publish without If-Match: %d", w.Code)
	}
	if w := hcall(t, h, "PUT", "/api/v1/taxonomy", admin, string(b), "If-Match", `"1"`); w.Code != http.StatusCreated {
		t.Errorf("publish: %d %s", w.Code, w.Body)
	}
	if w := hcall(t, h, "PUT", "/api/v1/taxonomy", admin, string(b), "If-Match", `"1"`); w.Code != http.StatusConflict {
		t.Errorf("stale publish: %d", w.Code)
	}
	removed, _ := json.Marshal(map[string]any{"nodes": slices.Delete(slices.Clone(tax.Nodes), 1, 2)})
	if w := hcall(t, h, "PUT", "/api/v1/taxonomy", admin, string(removed), "If-Match", `"2"`); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("removing a code: %d %s", w.Code, w.Body)
	}
	if w := hcall(t, h, "GET", "/api/v1/taxonomy?version=1", op, ""); !strings.Contains(w.Body.String(), `"en":"Missing children"`) {
		t.Errorf("version 1 changed: %s", w.Body.String()[:200])
	}
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }
