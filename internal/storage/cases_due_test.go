package storage_test

import (
	"context"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"dayaq/internal/escalate"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// A case nobody triages escalates: past its response deadline the city
// unit is told (there is no lead body yet), once; a closed case is not due.
func TestCaseDeadlineEscalates(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, head := f.db, f.users["school_head"]
			k, err := db.CreateCase(ctx, head, report(f, "ownClass"))
			if err != nil {
				t.Fatal(err)
			}
			items, err := db.CasesDue(ctx, k.RespondDue.Add(time.Minute))
			if err != nil || len(items) != 1 {
				t.Fatalf("due items %+v (%v), want the case", items, err)
			}
			if it := items[0]; it.SubjectKind != "case_respond" || it.SubjectID != k.ID || !it.Due.Equal(k.RespondDue) ||
				it.ChildID != f.children["ownClass"] || it.Link != "/cases/"+strconv.FormatInt(k.ID, 10) {
				t.Errorf("item %+v", it)
			}
			esc := escalate.New(db, escalate.DefaultPolicy(), slog.New(slog.DiscardHandler))
			esc.Register("cases", escalate.ProviderFunc(db.CasesDue))
			f.clock.t = k.RespondDue.Add(time.Minute)
			if n, err := esc.Run(ctx, f.clock.t); err != nil || n != 2 {
				t.Fatalf("overdue: %d steps (%v), want 2 (due soon, found late, and overdue)", n, err)
			}
			if n, err := esc.Run(ctx, f.clock.t); err != nil || n != 0 {
				t.Fatalf("again: %d steps (%v), want none", n, err)
			}
			ns, err := db.Notifications(ctx, f.users["city_specialist"], storage.NotificationFilter{})
			if err != nil || len(ns) != 1 || ns[0].Link != "/cases/"+strconv.FormatInt(k.ID, 10) {
				t.Errorf("city unit notifications %+v (%v)", ns, err)
			}
		})
	}
}
