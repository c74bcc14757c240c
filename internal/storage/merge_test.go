package storage_test

import (
	"context"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestDuplicatesAndMerge(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newRosterWorld(t, e.DSN(t))
			ctx := context.Background()
			w.importCSV(t, audit.System(), rosterHeader+
				"S-1,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-001,5A\n"+
				"S-2,MAMMADOVA,NARMIN,Rashad qizi,f,2015-03-09,BAK-06-001,5A\n"+ // a duplicate of S-1
				"S-3,Məmmədova,Nərmin,,f,2016-03-09,BAK-06-001,4A\n"+ // a namesake born another year
				"S-4,Əliyev,Murad,,m,2014-01-01,BAK-06-002,6B\n"+ // another school's pair
				"S-5,Aliyev,Murad,,m,2014-01-01,BAK-06-002,6B\n")
			head1, head2, city := w.users["head1"], w.users["head2"], w.users["city"]
			ps, err := w.db.DuplicateChildren(ctx, head1, 50)
			if err != nil {
				t.Fatal(err)
			}
			if len(ps) != 1 || ps[0].A.StudentID != "S-1" || ps[0].B.StudentID != "S-2" {
				t.Fatalf("school 1 pairs = %+v, want S-1/S-2 only", ps)
			}
			if all, _ := w.db.DuplicateChildren(ctx, city, 50); len(all) != 2 {
				t.Errorf("city sees %d pairs, want 2", len(all))
			}
			if other, _ := w.db.DuplicateChildren(ctx, head2, 50); len(other) != 1 || other[0].A.StudentID != "S-4" {
				t.Errorf("school 2 pairs = %+v", other)
			}
			keep, dup := ps[0].A, ps[0].B
			// A grant to the duplicate moves with the merge and back with the undo.
			grant, err := w.db.GrantChildAccess(ctx, audit.System(), dup.ID, 0, head2.UserID, "assignment", "test", time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			// Another school's head cannot merge, and sees nothing of it.
			_, err = w.db.MergeChildren(ctx, head2, storage.MergeRequest{SurvivorID: keep.ID, SurvivorVersion: keep.Version, MergedID: dup.ID, MergedVersion: dup.Version})
			if apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("other school's merge: %v, want not found", err)
			}
			// A stale version is refused and changes nothing.
			_, err = w.db.MergeChildren(ctx, head1, storage.MergeRequest{SurvivorID: keep.ID, SurvivorVersion: keep.Version, MergedID: dup.ID, MergedVersion: dup.Version + 1})
			if apperr.CodeOf(err) != apperr.Conflict {
				t.Errorf("stale merge: %v, want conflict", err)
			}
			before := w.snapshot(t)
			w.clock.t = w.clock.t.Add(time.Minute)
			m, err := w.db.MergeChildren(ctx, head1, storage.MergeRequest{SurvivorID: keep.ID, SurvivorVersion: keep.Version, MergedID: dup.ID, MergedVersion: dup.Version})
			if err != nil {
				t.Fatal(err)
			}
			if len(m.Moved["child_grants.child_id"]) != 1 || m.Moved["child_grants.child_id"][0] != grant {
				t.Errorf("moved = %v, want the grant %d", m.Moved, grant)
			}
			if _, err := w.db.ChildFor(ctx, head1, dup.ID); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("merged record still readable: %v", err)
			}
			for _, s := range w.snapshot(t) {
				if s[:4] == "S-2 " {
					t.Errorf("merged record listed: %s", s)
				}
			}
			if ps, _ := w.db.DuplicateChildren(ctx, head1, 50); len(ps) != 0 {
				t.Errorf("pairs after merge = %d", len(ps))
			}
			// The grantee now reaches the kept record.
			if _, err := w.db.ChildFor(ctx, head2, keep.ID); err != nil {
				t.Errorf("the moved grant does not reach the kept record: %v", err)
			}
			if ms, err := w.db.ChildMerges(ctx, head1, 10); err != nil || len(ms) != 1 || ms[0].ID != m.ID {
				t.Errorf("merges = %+v, %v", ms, err)
			}
			if ms, _ := w.db.ChildMerges(ctx, head2, 10); len(ms) != 0 {
				t.Errorf("another school sees merges: %+v", ms)
			}
			// (head2 now reaches the kept record through the moved grant, and
			// may read it, but not change it.)
			if _, err := w.db.UndoMerge(ctx, head2, m.ID); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("another school's undo: %v", err)
			}
			if _, err := w.db.UndoMerge(ctx, head1, m.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := w.db.UndoMerge(ctx, head1, m.ID); apperr.CodeOf(err) != apperr.Conflict {
				t.Errorf("second undo: %v, want conflict", err)
			}
			after := w.snapshot(t)
			if len(after) != len(before) {
				t.Fatalf("after undo %v, before %v", after, before)
			}
			for i := range before {
				b, a := before[i], after[i]
				// Everything but version and time is as it was.
				if b[:4] == "S-1 " || b[:4] == "S-2 " {
					if a[:len("S-1 Məmmədova")] != b[:len("S-1 Məmmədova")] {
						t.Errorf("undo: %s → %s", b, a)
					}
					continue
				}
				if a != b {
					t.Errorf("undo changed a bystander: %s → %s", b, a)
				}
			}
			r, err := w.db.ChildFor(ctx, head1, dup.ID)
			if err != nil {
				t.Fatalf("record not back after undo: %v", err)
			}
			if r.LastName != dup.LastName || r.FirstName != dup.FirstName || r.Patronymic != dup.Patronymic || !r.BirthDate.Equal(dup.BirthDate) || r.Version != dup.Version+2 {
				t.Errorf("restored = %+v, want %+v at version %d", r.Child, dup.Child, dup.Version+2)
			}
			if _, err := w.db.ChildFor(ctx, head2, dup.ID); err != nil {
				t.Errorf("the grant did not move back: %v", err)
			}
			es, _ := w.db.AuditEvents(ctx, storage.AuditFilter{ChildID: dup.ID, Limit: 50})
			var merges int
			for _, e := range es {
				if e.Action == "child.merge" || e.Action == "child.merge_undo" {
					merges++
				}
			}
			if merges != 2 {
				t.Errorf("audit has %d merge events for the merged child, want 2", merges)
			}
		})
	}
}
