package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"dayaq/internal/audit"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// auditCLI runs dayaq in-process, in English, and returns its output.
func auditCLI(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		if k == "DAYAQ_LANG" {
			return "en"
		}
		return ""
	}}
	err = m.Run(context.Background(), args)
	return out.String(), errb.String(), err
}

// auditDB makes a migrated SQLite database holding n audit events.
func auditDB(t *testing.T, n int) (path string, db *storage.DB) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "dayaq.db")
	db = storagetest.Open(t, path)
	for i := range n {
		if err := db.RecordAudit(context.Background(), audit.Event{ActorUserID: 1, Action: "child.read",
			ObjectType: "child", ObjectID: fmt.Sprint(i + 1), ChildID: int64(i + 1)}); err != nil {
			t.Fatal(err)
		}
	}
	return path, db
}

func TestAuditVerifyWhole(t *testing.T) {
	path, _ := auditDB(t, 7)
	out, errOut, err := auditCLI(t, "audit", "verify", "--db", path)
	if err != nil {
		t.Fatalf("audit verify: %v\nstderr: %s", err, errOut)
	}
	if !strings.Contains(out, "whole") || !strings.Contains(out, "7 events checked") {
		t.Errorf("stdout = %q, want the trail whole with 7 events checked", out)
	}
}

func TestAuditVerifyEmpty(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fresh.db")
	out, _, err := auditCLI(t, "audit", "verify", "--db", path)
	if err != nil || !strings.Contains(out, "0 events checked") {
		t.Fatalf("audit verify on a fresh database = %v, stdout %q", err, out)
	}
}

func TestAuditVerifyTampered(t *testing.T) {
	for _, tc := range []struct {
		name, stmt, want string
	}{
		{"changed", `UPDATE audit_events SET object_id = '99' WHERE seq = 4`, "broken at event 4: its content does not match its hash"},
		{"deleted", `DELETE FROM audit_events WHERE seq = 3`, "broken at event 4: the events before it are missing"},
		{"newest deleted", `DELETE FROM audit_events WHERE seq = 7`, "broken at event 7: the chain does not end where its head says"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path, db := auditDB(t, 7)
			ctx := context.Background()
			for _, s := range []string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`, tc.stmt} {
				if err := db.ExecRaw(ctx, s); err != nil {
					t.Fatalf("%s: %v", s, err)
				}
			}
			out, _, err := auditCLI(t, "audit", "verify", "--db", path)
			var ee exitError
			if !errors.As(err, &ee) || exitCode(err) != 1 {
				t.Fatalf("audit verify = %v (exit %d), want an exitError with code 1", err, exitCode(err))
			}
			if !strings.Contains(out, tc.want) {
				t.Errorf("stdout = %q, want it to contain %q", out, tc.want)
			}
			if strings.Contains(out, "⟦") || strings.Contains(err.Error(), "⟦") {
				t.Errorf("a catalogue key is missing: %q / %q", out, err)
			}
		})
	}
}

func TestAuditUsage(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		wantErr  func(error) bool
		wantText string
	}{
		{[]string{"audit", "--help"}, func(err error) bool { return err == nil }, "dayaq audit verify"},
		{[]string{"audit", "verify", "--help"}, func(err error) bool { return errors.Is(err, flag.ErrHelp) }, "--db"},
		{[]string{"audit"}, func(err error) bool { return exitCode(err) == 2 }, "dayaq audit verify"},
		{[]string{"audit", "check"}, func(err error) bool { return exitCode(err) == 2 }, "dayaq audit verify"},
		{[]string{"audit", "verify", "extra"}, func(err error) bool { return exitCode(err) == 2 }, "dayaq audit verify"},
	} {
		_, errOut, err := auditCLI(t, tc.args...)
		if !tc.wantErr(err) {
			t.Errorf("%q: err = %v (exit %d)", tc.args, err, exitCode(err))
		}
		if !strings.Contains(errOut, tc.wantText) {
			t.Errorf("%q: stderr = %q, want it to contain %q", tc.args, errOut, tc.wantText)
		}
	}
}

// TestAuditVerifyDemo: on a fresh demo database (its users' creation is
// audited) the trail is whole, on both engines; changing or deleting an
// event, as someone with full access to the database could after dropping
// the append-only triggers, makes verify fail naming the event.
func TestAuditVerifyDemo(t *testing.T) {
	for _, eng := range storagetest.Engines() {
		t.Run(string(eng.Name), func(t *testing.T) {
			for _, tc := range []struct{ name, stmt, want string }{
				{"changed", `UPDATE audit_events SET action = 'user.nothing' WHERE seq = 3`, "broken at event 3"},
				{"deleted", `DELETE FROM audit_events WHERE seq = 2`, "broken at event 3"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					dsn := eng.DSN(t)
					if _, errOut, err := auditCLI(t, "demo", "--db", dsn, "--children", "30"); err != nil {
						t.Fatalf("demo: %v\n%s", err, errOut)
					}
					out, errOut, err := auditCLI(t, "audit", "verify", "--db", dsn)
					if err != nil {
						t.Fatalf("audit verify on a fresh demo database: %v\n%s%s", err, out, errOut)
					}
					m := regexp.MustCompile(`(\d+) events checked`).FindStringSubmatch(out)
					if m == nil || m[1] == "0" || !strings.Contains(out, "whole") {
						t.Fatalf("stdout = %q, want the trail whole with its events checked", out)
					}
					db := storagetest.Open(t, dsn)
					stmts := []string{`DROP TRIGGER audit_events_no_update`, `DROP TRIGGER audit_events_no_delete`}
					if db.Engine() == storage.Postgres {
						stmts = []string{`DROP TRIGGER audit_events_no_change ON audit_events`}
					}
					for _, s := range append(stmts, tc.stmt) {
						if err := db.ExecRaw(context.Background(), s); err != nil {
							t.Fatalf("%s: %v", s, err)
						}
					}
					out, _, err = auditCLI(t, "audit", "verify", "--db", dsn)
					if exitCode(err) != 1 || !strings.Contains(out, tc.want) {
						t.Errorf("after the event was %s: exit %d, stdout %q; want exit 1 and %q", tc.name, exitCode(err), out, tc.want)
					}
				})
			}
		})
	}
}
