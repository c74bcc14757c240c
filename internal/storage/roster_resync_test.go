package storage_test

import (
	"fmt"
	"strings"
	"testing"

	"dayaq/internal/audit"
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
