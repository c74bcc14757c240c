package storage_test

import (
	"context"
	"testing"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// TestChildView checks that a child's page, read at once, shows each user
// exactly what ChildFor, ParentEventAttendance and ChildScreeningFor show
// them, and leaves the same audit events: the read (or the denied read),
// the attendance and the screening, each only where its policy reaches.
func TestChildView(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db := f.db
			sup, far := f.users["hotline_supervisor"], f.children["otherDistrict"]
			if _, err := db.OpenBreakGlass(ctx, sup, far, "caller reports the child is in danger now"); err != nil {
				t.Fatal(err)
			}
			var denied, screened int
			for user, a := range f.users {
				for _, kid := range matrixChildren {
					id := f.children[kid]
					before := actions(t, db, a)
					v, err := db.ChildView(ctx, a, id)
					after := actions(t, db, a)
					rec, rerr := db.ChildFor(ctx, a, id)
					if apperr.CodeOf(err) != apperr.CodeOf(rerr) {
						t.Fatalf("%s reads %s: the page %v, the record %v", user, kid, err, rerr)
					}
					if err != nil {
						denied++
						if after["child.read_denied"] != before["child.read_denied"]+1 || after["child.read"] != before["child.read"] {
							t.Errorf("%s denied %s: audit %v → %v", user, kid, before, after)
						}
						continue
					}
					if v.Record.ID != id || v.Record.Decision != rec.Decision || v.Record.CanWrite != rec.CanWrite ||
						v.Record.LastName != rec.LastName {
						t.Errorf("%s reads %s: page %+v, record %+v", user, kid, v.Record.Decision, rec.Decision)
					}
					att, aerr := db.ParentEventAttendance(ctx, a, id)
					if aerr != nil || len(att) != len(v.Attended) {
						t.Errorf("%s reads %s: attendance %d on the page, %d (%v) alone", user, kid, len(v.Attended), len(att), aerr)
					}
					cs, serr := db.ChildScreeningFor(ctx, a, id)
					if (serr == nil) != (v.Screening != nil) {
						t.Errorf("%s reads %s: screening on the page %v, alone %v", user, kid, v.Screening != nil, serr)
					}
					if serr == nil && v.Screening != nil && len(cs.Register) != len(v.Screening.Register) {
						t.Errorf("%s reads %s: %d register entries on the page, %d alone", user, kid, len(v.Screening.Register), len(cs.Register))
					}
					want := map[string]int{"child.read": 1, "events.attendance_read": 1}
					if v.Screening != nil {
						want["screening.child_read"] = 1
						screened++
					}
					for _, act := range []string{"child.read", "child.read_denied", "events.attendance_read", "screening.child_read"} {
						if got := after[act] - before[act]; got != want[act] {
							t.Errorf("%s reads %s: %d %s events, want %d", user, kid, got, act, want[act])
						}
					}
				}
			}
			if denied == 0 || screened == 0 {
				t.Fatalf("the matrix tried no denied read (%d) or no screening read (%d)", denied, screened)
			}
			// The break-glass read is marked, with its reason, as ChildFor marks it.
			es, err := db.AuditEvents(ctx, storage.AuditFilter{ActorUserID: sup.UserID, ChildID: far, Action: "child.read", Limit: 10})
			if err != nil || len(es) < 2 {
				t.Fatalf("the supervisor's reads of the far child: %d, %v", len(es), err)
			}
			for _, e := range es {
				if !e.BreakGlass || e.Reason == "" {
					t.Errorf("a break-glass read not marked: %+v", e)
				}
			}
		})
	}
}

// actions counts a's audit events by action.
func actions(t *testing.T, db *storage.DB, a audit.Actor) map[string]int {
	t.Helper()
	es, err := db.AuditEvents(context.Background(), storage.AuditFilter{ActorUserID: a.UserID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 1000 {
		t.Fatal("more than 1000 events: count them otherwise")
	}
	m := map[string]int{}
	for _, e := range es {
		m[e.Action]++
	}
	return m
}
