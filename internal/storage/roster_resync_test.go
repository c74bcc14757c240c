package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/match"
	"dayaq/internal/roster"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// The re-sync's snapshot tells a changed row from an unchanged one by
// every column the upsert compares: a change in any one of them is
// written (and counted), the rest are left alone, and a new student ID is
// inserted.
func TestImportRosterResyncSeesEveryColumn(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newRosterWorld(t, e.DSN(t))
			line := func(cols ...string) string { return strings.Join(cols, ",") + "\n" }
			base := []string{"Məmmədova", "Nərmin", "Rəşad qızı", "f", "2015-03-09", "BAK-06-001", "5A"}
			var first strings.Builder
			first.WriteString(rosterHeader)
			for i := range 10 {
				first.WriteString(line(append([]string{fmt.Sprintf("S-%02d", i)}, base...)...))
			}
			if n, rej := w.importCSV(t, audit.System(), first.String()); n.Inserted != 10 || len(rej) != 0 {
				t.Fatalf("first import = %+v %v", n, rej)
			}
			changes := [][2]int{{0, 0}, {1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 5}, {6, 6}} // row i changes column j
			values := []string{"Məmmədli", "Aysel", "Elçin qızı", "m", "2015-09-03", "BAK-07-001", "5B"}
			var second strings.Builder
			second.WriteString(rosterHeader)
			for i := range 10 {
				v := append([]string{}, base...)
				for _, c := range changes {
					if c[0] == i {
						v[c[1]] = values[c[1]]
					}
				}
				second.WriteString(line(append([]string{fmt.Sprintf("S-%02d", i)}, v...)...))
			}
			second.WriteString(line(append([]string{"S-new"}, base...)...))
			n, rej := w.importCSV(t, audit.System(), second.String())
			if want := (storage.RosterCounts{Read: 11, Inserted: 1, Updated: 7, Unchanged: 3}); n != want || len(rej) != 0 {
				t.Fatalf("re-sync = %+v %v, want %+v", n, rej, want)
			}
			snap := w.snapshot(t)
			v2 := 0
			for _, s := range snap {
				if strings.Contains(s, " v2 ") {
					v2++
				}
			}
			if v2 != 7 || len(snap) != 11 {
				t.Errorf("%d rows at version 2 of %d: %v", v2, len(snap), snap)
			}
		})
	}
}

// A re-sync through the pipeline writes exactly the changed rows: each at
// version 2, re-filed under its new name's keys, named once as updated in
// the audit; the rows left alone keep version 1 and no event names them.
func TestImportRosterResyncWritesOnlyChanged(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			w := newRosterWorld(t, e.DSN(t))
			line := func(i int, last string) string {
				return fmt.Sprintf("S-%03d,%s,Nərmin,Rəşad qızı,f,2014-%02d-%02d,BAK-06-00%d,5A\n", i, last, 1+i%12, 1+i%28, 1+i%2)
			}
			var load, resync strings.Builder
			load.WriteString(rosterHeader)
			resync.WriteString(rosterHeader)
			changed := map[string]bool{}
			for i := range 240 {
				load.WriteString(line(i, "Məmmədova"))
				if i%37 == 5 {
					resync.WriteString(line(i, "Abbasova"))
					changed[fmt.Sprintf("S-%03d", i)] = true
					continue
				}
				resync.WriteString(line(i, "Məmmədova"))
			}
			imp := func(in string) storage.RosterCounts {
				rd, err := roster.NewReader(strings.NewReader(in), w.clock.t)
				if err != nil {
					t.Fatal(err)
				}
				id, err := w.db.StartRosterImport(ctx, audit.System(), "test.csv")
				if err != nil {
					t.Fatal(err)
				}
				n, err := w.db.ImportRoster(ctx, audit.System(), id, rd, storage.RosterImportOptions{Operator: true, BatchRows: 20})
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := imp(load.String()); n.Inserted != 240 {
				t.Fatalf("load = %+v", n)
			}
			head, err := w.db.AuditHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			w.clock.t = w.clock.t.Add(time.Hour)
			if n, want := imp(resync.String()), (storage.RosterCounts{Read: 240, Updated: 7, Unchanged: 233}); n != want {
				t.Fatalf("re-sync = %+v, want %+v", n, want)
			}
			rows, err := w.db.ChildRows(ctx)
			if err != nil {
				t.Fatal(err)
			}
			sidOf := map[int64]string{}
			version := regexp.MustCompile(`([0-9]+) 20[0-9-]+ [0-9:]+ \+0000 UTC 20[0-9-]+ [0-9:]+ \+0000 UTC$`) // before created_at, updated_at
			for _, r := range rows {
				var id int64
				var sid string
				if _, err := fmt.Sscanf(r, "%d%s", &id, &sid); err != nil {
					t.Fatalf("child row %q: %v", r, err)
				}
				sid = sid[:5]
				sidOf[id] = sid
				m := version.FindStringSubmatch(r)
				if m == nil {
					t.Fatalf("child row %q: no version", r)
				}
				if v2 := m[1] == "2"; v2 != changed[sid] || changed[sid] != strings.Contains(r, "Abbasova") || m[1] > "2" {
					t.Errorf("%s: changed %v, but its row is %q", sid, changed[sid], r)
				}
			}
			es, err := w.db.AuditEvents(ctx, storage.AuditFilter{Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			named := map[string]int{}
			for _, e := range es {
				if e.Seq <= head.Seq || e.Action != "child.import" {
					continue
				}
				var d struct{ Inserted, Updated []int64 }
				if err := json.Unmarshal([]byte(e.Details), &d); err != nil || len(d.Inserted) != 0 {
					t.Errorf("event %d: %s %v", e.Seq, e.Details, err)
				}
				for _, id := range d.Updated {
					named[sidOf[id]]++
				}
			}
			if len(named) != len(changed) {
				t.Errorf("the audit names %v as updated, want the %d changed", named, len(changed))
			}
			for sid, k := range named {
				if !changed[sid] || k != 1 {
					t.Errorf("%s named %d times as updated (changed: %v)", sid, k, changed[sid])
				}
			}
			cs, err := w.db.MatchChildrenAsOperator(ctx, match.Query{Name: "Abbasova Nərmin", BirthDate: time.Date(2014, 6, 6, 0, 0, 0, 0, time.UTC)})
			if err != nil || !slices.ContainsFunc(cs, func(c storage.MatchCandidate) bool { return c.StudentID == "S-005" }) {
				t.Errorf("S-005 not found under its new name: %v %v", cs, err)
			}
		})
	}
}

// A student ID that arrives while a load into an empty registry runs (a
// child added meanwhile) does not fail the load: its row is written as an
// update of that child, and the other rows go in.
func TestImportRosterBulkMeetsArrival(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			w := newRosterWorld(t, e.DSN(t))
			var in strings.Builder
			in.WriteString(rosterHeader)
			for i := range 60 {
				fmt.Fprintf(&in, "S-%03d,Məmmədova,Nərmin,Rəşad qızı,f,2014-03-%02d,BAK-06-001,5A\n", i, 1+i%28)
			}
			rd, err := roster.NewReader(strings.NewReader(in.String()), w.clock.t)
			if err != nil {
				t.Fatal(err)
			}
			id, err := w.db.StartRosterImport(ctx, audit.System(), "test.csv")
			if err != nil {
				t.Fatal(err)
			}
			school, err := w.db.OrgByCode(ctx, "BAK-06-001")
			if err != nil {
				t.Fatal(err)
			}
			arrived := false
			n, err := w.db.ImportRoster(ctx, audit.System(), id, rd, storage.RosterImportOptions{Operator: true, BatchRows: 10,
				OnProgress: func(storage.RosterCounts) {
					if arrived {
						return
					}
					arrived = true
					err := w.db.InsertChildren(ctx, []child.Child{{StudentID: "S-045", LastName: "Əliyeva", FirstName: "Aysel",
						Sex: child.Female, BirthDate: time.Date(2014, 1, 2, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 5}})
					if err != nil {
						t.Error(err)
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			if want := (storage.RosterCounts{Read: 60, Inserted: 59, Updated: 1}); n != want {
				t.Errorf("load = %+v, want %+v", n, want)
			}
			cs, err := w.db.MatchChildrenAsOperator(ctx, match.Query{Name: "Məmmədova Nərmin", BirthDate: time.Date(2014, 3, 18, 0, 0, 0, 0, time.UTC)})
			if err != nil || !slices.ContainsFunc(cs, func(c storage.MatchCandidate) bool { return c.StudentID == "S-045" }) {
				t.Errorf("S-045 not found under the file's name: %v %v", cs, err)
			}
		})
	}
}

// The snapshot read in several scans (one a range of IDs, as a large
// registry is) tells each row as one scan does.
func TestRosterSnapshotInParts(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			w := newRosterWorld(t, e.DSN(t))
			var load, next strings.Builder
			load.WriteString(rosterHeader)
			next.WriteString(rosterHeader)
			for i := range 30 {
				r := row(fmt.Sprintf("S-%02d", i), "Məmmədova", "BAK-06-001", "5A")
				load.WriteString(r)
				if i%7 == 3 {
					r = row(fmt.Sprintf("S-%02d", i), "Məmmədova", "BAK-06-001", "6A")
				}
				next.WriteString(r)
			}
			next.WriteString(row("S-new", "Əliyeva", "BAK-06-001", "5A"))
			if n, _ := w.importCSV(t, audit.System(), load.String()); n.Inserted != 30 {
				t.Fatalf("load = %+v", n)
			}
			school, err := w.db.OrgByCode(ctx, "BAK-06-001")
			if err != nil {
				t.Fatal(err)
			}
			rd, err := roster.NewReader(strings.NewReader(next.String()), w.clock.t)
			if err != nil {
				t.Fatal(err)
			}
			var recs []roster.Record
			for {
				r, err := rd.Read()
				if err != nil {
					break
				}
				r.Child.SchoolID = school.ID
				recs = append(recs, r)
			}
			want, err := w.db.RosterSnapshotKinds(ctx, 1, recs)
			if err != nil {
				t.Fatal(err)
			}
			if want[3] != "changed" || want[4] != "same" || want[30] != "new" {
				t.Fatalf("one scan: %v", want)
			}
			for _, parts := range []int{2, 3, 7} {
				got, err := w.db.RosterSnapshotKinds(ctx, parts, recs)
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("%d scans: %v %v, want %v", parts, got, err, want)
				}
			}
		})
	}
}

// Every write of a child's compared columns keeps its stored roster hash
// (migration 00032) equal to a recomputation from the columns: the
// operator's load and re-sync, a school's upsert import, InsertChildren,
// creating and editing a child, a merge and its undo. A write that leaves
// the hash alone (raw SQL here) makes it NULL, never stale; and a re-sync
// after such writes and after an edit in the UI notices them.
func TestRosterHashKeptByEveryWrite(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			w := newRosterWorld(t, e.DSN(t))
			check := func(step string, wantMissing int) {
				t.Helper()
				stale, missing, err := w.db.RosterHashes(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if stale != 0 || missing != wantMissing {
					t.Errorf("after %s: %d stale hashes, %d missing (want 0, %d)", step, stale, missing, wantMissing)
				}
			}
			imp := func(a audit.Actor, in string, o storage.RosterImportOptions) storage.RosterCounts {
				t.Helper()
				rd, err := roster.NewReader(strings.NewReader(in), w.clock.t)
				if err != nil {
					t.Fatal(err)
				}
				id, err := w.db.StartRosterImport(ctx, a, "test.csv")
				if err != nil {
					t.Fatal(err)
				}
				n, err := w.db.ImportRoster(ctx, a, id, rd, o)
				if err != nil {
					t.Fatal(err)
				}
				return n
			}
			line := func(i int, last, class string) string {
				return fmt.Sprintf("S-%03d,%s,Nərmin,Rəşad qızı,f,2014-%02d-%02d,BAK-06-00%d,%s\n", i, last, 1+i%12, 1+i%28, 1+i%2, class)
			}
			file := func(change map[int]string) string {
				var b strings.Builder
				b.WriteString(rosterHeader)
				for i := range 60 {
					class := "5A"
					if c, ok := change[i]; ok {
						class = c
					}
					b.WriteString(line(i, "Məmmədova", class))
				}
				// A pair of duplicates at school 1, for the merge.
				b.WriteString("D-1,Əliyeva,Leyla,,f,2013-02-02,BAK-06-001,6A\nD-2,ALIYEVA,LEYLA,,f,2013-02-02,BAK-06-001,6A\n")
				return b.String()
			}
			// The operator's load into an empty registry (deferred indexes and keys).
			if n := imp(audit.System(), file(nil), storage.RosterImportOptions{Operator: true, BatchRows: 20}); n.Inserted != 62 {
				t.Fatalf("load = %+v", n)
			}
			check("the load", 0)
			// The operator's re-sync, two rows changed.
			if n := imp(audit.System(), file(map[int]string{3: "5B", 8: "6A"}), storage.RosterImportOptions{Operator: true, BatchRows: 20}); n.Updated != 2 {
				t.Fatalf("re-sync = %+v", n)
			}
			check("the re-sync", 0)
			// A school head's import goes through the upsert: one changed row (of school 1), one new.
			head1, city := w.users["head1"], w.users["city"]
			if n := imp(head1, rosterHeader+line(4, "Abbasova", "5A")+"N-1,Həsənova,Aygün,,f,2015-05-05,BAK-06-001,4A\n",
				storage.RosterImportOptions{}); n.Updated != 1 || n.Inserted != 1 {
				t.Fatalf("school import = %+v", n)
			}
			check("a school's import", 0)
			if err := w.db.InsertChildren(ctx, []child.Child{{StudentID: "I-1", LastName: "Quliyev", FirstName: "Rauf",
				Sex: child.Male, BirthDate: time.Date(2012, 1, 2, 0, 0, 0, 0, time.UTC), Grade: 7}}); err != nil {
				t.Fatal(err)
			}
			check("InsertChildren", 0)
			created, err := w.db.CreateChild(ctx, city, child.Child{StudentID: "C-1", LastName: "Cəfərov", FirstName: "Elçin",
				Sex: child.Male, BirthDate: time.Date(2014, 3, 5, 0, 0, 0, 0, time.UTC), Grade: 5}, "BAK-06-001")
			if err != nil {
				t.Fatal(err)
			}
			check("CreateChild", 0)
			ch := created.Child
			ch.Section, ch.Patronymic = "B", "Rəşad oğlu"
			if _, err := w.db.UpdateChild(ctx, city, ch, "BAK-07-001"); err != nil {
				t.Fatal(err)
			}
			check("UpdateChild", 0)
			// An edit in the UI of a roster pupil: the next re-sync puts the file's values back.
			ids := map[string]int64{}
			rows, err := w.db.ChildRows(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				var id int64
				var sid string
				if _, err := fmt.Sscanf(r, "%d%s", &id, &sid); err != nil {
					t.Fatal(err)
				}
				ids[sid[:min(5, len(sid))]] = id // the S- IDs are five characters
			}
			edited, err := w.db.Child(ctx, ids["S-010"])
			if err != nil {
				t.Fatal(err)
			}
			edited.FirstName = "Aysel"
			if _, err := w.db.UpdateChild(ctx, city, edited, ""); err != nil {
				t.Fatal(err)
			}
			check("an edit in the UI", 0)
			ps, err := w.db.DuplicateChildren(ctx, head1, 50)
			if err != nil || len(ps) != 1 {
				t.Fatalf("duplicates = %+v, %v", ps, err)
			}
			m, err := w.db.MergeChildren(ctx, head1, storage.MergeRequest{SurvivorID: ps[0].A.ID, SurvivorVersion: ps[0].A.Version,
				MergedID: ps[0].B.ID, MergedVersion: ps[0].B.Version})
			if err != nil {
				t.Fatal(err)
			}
			check("a merge", 0)
			if _, err := w.db.UndoMerge(ctx, head1, m.ID); err != nil {
				t.Fatal(err)
			}
			check("an undo", 0)
			// A write that knows nothing of the hash leaves it NULL, not stale.
			if err := w.db.ExecRaw(ctx, `UPDATE children SET grade = 9 WHERE id = ?`, ids["S-020"]); err != nil {
				t.Fatal(err)
			}
			if err := w.db.ExecRaw(ctx, `UPDATE children SET version = version + 1 WHERE id = ?`, ids["S-021"]); err != nil {
				t.Fatal(err)
			}
			check("a raw update", 1)
			// The re-sync of the last file notices the edit, the raw update
			// and the school's import (S-004), and nothing else.
			n := imp(audit.System(), file(map[int]string{3: "5B", 8: "6A"}), storage.RosterImportOptions{Operator: true, BatchRows: 20})
			if want := (storage.RosterCounts{Read: 62, Updated: 3, Unchanged: 59}); n != want {
				t.Errorf("re-sync after the edits = %+v, want %+v", n, want)
			}
			check("the last re-sync", 0)
		})
	}
}
