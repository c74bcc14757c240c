package api_test

import (
	"context"
	"database/sql"
	"net/http"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/i18n"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// A database that stalls (the audit chain's head locked elsewhere) makes a
// create answer 503 problem+json with Retry-After once the group-commit
// batch's deadline passes, on both engines, instead of hanging.
func TestStalledDatabaseAnswers503(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			dsn := e.DSN(t)
			db := seeded(t, storagetest.Open(t, dsn, storage.WithBatchTimeout(300*time.Millisecond)))
			s, err := server.New(db, i18n.MustLoad(), quiet)
			if err != nil {
				t.Fatal(err)
			}
			h := openapitest.Wrap(s.Handler())
			op := hotlineToken(t, db, "op@example.az", "HOT-146", access.HotlineOperator, access.ScopeRead, access.ScopeWrite)
			const contact = `{"channel":"phone","call_type":"child_self","caller":{"anonymous":true},
				"children":[{"name":"Kamran","age":13,"district":"BAK-06"}],"categories":["mental.suicidal"],
				"narrative":"…","outcome":"advice"}`
			if w := hcall(t, h, "POST", "/api/v1/contacts", op, contact); w.Code != http.StatusCreated {
				t.Fatalf("create: %d %s", w.Code, w.Body)
			}
			driver, lock := "pgx", `SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE`
			if e.Name == storage.SQLite {
				driver, lock = "sqlite", `UPDATE audit_head SET seq = seq WHERE id = 1`
			}
			other, err := sql.Open(driver, dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			tx, err := other.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			if _, err := tx.ExecContext(ctx, lock); err != nil {
				t.Fatal(err)
			}
			w := hcall(t, h, "POST", "/api/v1/contacts", op, contact)
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" ||
				!strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") ||
				!strings.Contains(w.Body.String(), `"type":"urn:dayaq:problem:unavailable"`) {
				t.Errorf("stalled create: %d %v %s", w.Code, w.Header(), w.Body)
			}
		})
	}
}
