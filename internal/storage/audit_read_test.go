package storage_test

import (
	"context"
	"strings"
	"testing"

	"dayaq/internal/apperr"
	"dayaq/internal/roster"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// actions lists the actions of the events a's user appended.
func actionsBy(t *testing.T, db *storage.DB, userID int64) []string {
	t.Helper()
	es, err := db.AuditEvents(context.Background(), storage.AuditFilter{ActorUserID: userID, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

// Reading the trail, the break-glass openings and a roster import's
// rejects is itself audited, and only the trail's readers may do the
// first two.
func TestReadingTheTrailIsAudited(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			admin, head := f.users["city_admin"], f.users["school_head"]
			if _, err := f.db.AuditEventsFor(ctx, head, storage.AuditFilter{}); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("a school head browses the trail: %v, want forbidden", err)
			}
			if _, err := f.db.BreakGlassOpeningsFor(ctx, head, storage.BreakGlassFilter{}); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("a school head reads break-glass reasons: %v, want forbidden", err)
			}
			if _, err := f.db.AuditEventsFor(ctx, admin, storage.AuditFilter{ChildID: f.children["ownClass"]}); err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.BreakGlassOpeningsFor(ctx, admin, storage.BreakGlassFilter{}); err != nil {
				t.Fatal(err)
			}
			got := strings.Join(actionsBy(t, f.db, admin.UserID), " ")
			if got != "break_glass.list audit.read" {
				t.Errorf("the admin's reads left %q on the trail, want break_glass.list and audit.read", got)
			}
			es, err := f.db.AuditEvents(ctx, storage.AuditFilter{Action: "audit.read", Limit: 1})
			if err != nil || len(es) != 1 || es[0].ChildID != f.children["ownClass"] {
				t.Errorf("audit.read of a child's trail: %+v %v, want it to name the child", es, err)
			}

			id, err := f.db.StartRosterImport(ctx, head, "5a.csv")
			if err != nil {
				t.Fatal(err)
			}
			rd, err := roster.NewReader(strings.NewReader(rosterHeader+row("S-9", "Əliyev", "BAK-06-002", "5A")), f.clock.t)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.ImportRoster(ctx, head, id, rd, storage.RosterImportOptions{KeepRejects: true}); err != nil {
				t.Fatal(err)
			}
			if _, rs, err := f.db.RosterImportFor(ctx, head, id, 10); err != nil || len(rs) != 1 {
				t.Fatalf("rejects %+v %v, want the other school's row", rs, err)
			}
			if got := actionsBy(t, f.db, head.UserID); len(got) == 0 || got[0] != "child.import_rejects_read" {
				t.Errorf("the head's last event %v, want child.import_rejects_read", got)
			}
		})
	}
}
