package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestChildrenMatchBatch(t *testing.T) {
	ctx := context.Background()
	dsn := tempDB(t)
	if r := run(ctx, english(), "demo", "--db", dsn, "--children", "300"); r.err != nil {
		t.Fatalf("demo: %v\n%s", r.err, r.stderr)
	}
	db, err := storage.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	ch := storagetest.Child(t, db, 7)
	db.Close()
	batch := filepath.Join(t.TempDir(), "q.jsonl")
	lines := `{"id": "a", "name": "` + ch.FirstName + " " + ch.LastName + `", "birth_date": "` + ch.BirthDate.Format("2006-01-02") + `"}
{"id": "b", "name": "", "birth_date": "soon"}

{"id": "c", "name": "Nobody Nowhere"}
`
	if err := os.WriteFile(batch, []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	r := run(ctx, english(), "children", "match", "--db", dsn, "--batch", batch)
	if r.err != nil {
		t.Fatalf("match: %v\n%s", r.err, r.stderr)
	}
	out := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(out) != 3 {
		t.Fatalf("want 3 lines, got %d:\n%s", len(out), r.stdout)
	}
	var ans []matchAnswer
	for _, l := range out {
		var a matchAnswer
		if err := json.Unmarshal([]byte(l), &a); err != nil {
			t.Fatalf("%v: %s", err, l)
		}
		ans = append(ans, a)
	}
	if a := ans[0]; a.ID != "a" || len(a.Candidates) == 0 || a.Candidates[0].ChildID != 7 || a.Candidates[0].Level != "exact" ||
		a.Candidates[0].StudentID != ch.StudentID || len(a.Candidates[0].Reasons) == 0 {
		t.Errorf("line a: %+v", a)
	}
	if a := ans[1]; a.ID != "b" || !strings.Contains(a.Error, "name") || !strings.Contains(a.Error, "birth_date") {
		t.Errorf("line b: %+v", a)
	}
	if a := ans[2]; a.ID != "c" || a.Error != "" || len(a.Candidates) != 0 {
		t.Errorf("line c: %+v", a)
	}
	if r := run(ctx, english(), "children", "match", "--db", dsn); exitCode(r.err) != 2 {
		t.Errorf("without --batch: %v", r.err)
	}
}
