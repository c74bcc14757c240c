package storage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"dayaq/internal/roster"
)

// Rows parsed on many goroutines come back as one reader returns them:
// in file order, with the same lines, values and rejects, then io.EOF.
func TestParallelRecordsSameAsRead(t *testing.T) {
	var in strings.Builder
	in.WriteString("student_id,last_name,first_name,patronymic,sex,birth_date,school_code,grade\n")
	for i := range 5000 {
		switch {
		case i%701 == 0:
			fmt.Fprintf(&in, "S-%d,Əliyev,Murad,,x,2012-01-02,BAK-06-001,3A\n", i) // a bad sex
		case i%997 == 0:
			fmt.Fprintf(&in, "S-%d,Əliyev,Murad\n", i) // too few columns
		case i%1499 == 0:
			in.WriteString("\n") // a blank line
		default:
			fmt.Fprintf(&in, "S-%d,İsmayılova,Nərmin,Rəşad qızı,q,%02d.03.2014,bak-06-001,5 a\n", i, 1+i%28)
		}
	}
	read := func(t *testing.T, parallel bool) (out []string) {
		rd, err := roster.NewReader(strings.NewReader(in.String()), time.Date(2026, 12, 3, 0, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatal(err)
		}
		next := rd.Read
		if parallel {
			next = parallelRecords(context.Background(), rd)
		}
		for {
			r, err := next()
			if errors.Is(err, io.EOF) {
				return out
			}
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%d %v %+v %s %v", r.Line, r.Raw, r.Child, r.SchoolCode, r.Reject))
		}
	}
	want, got := read(t, false), read(t, true)
	if len(want) < 4990 {
		t.Fatalf("read %d rows: the test does not test", len(want))
	}
	if !slices.Equal(got, want) {
		t.Errorf("parallel parse differs from Read: %d rows, want %d", len(got), len(want))
	}
}

// A repeated student ID is told with the line it was first on; others are not.
func TestSeenIDs(t *testing.T) {
	s := newSeenIDs()
	for i, c := range []struct {
		id   string
		prev int
		dup  bool
	}{{"S-1", 0, false}, {"S-2", 0, false}, {"S-1", 2, true}, {"S-10", 0, false}, {"S-2", 3, true}, {"", 0, false}, {"", 7, true}} {
		line := i + 2
		if prev, dup := s.add(c.id, line); prev != c.prev || dup != c.dup {
			t.Errorf("add(%q) on line %d = %d %v, want %d %v", c.id, line, prev, dup, c.prev, c.dup)
		}
	}
}

// Merging sorted runs gives every row once, in order, in chunks of n.
func TestMergeKeyRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var runs [][]keyRow
	var all []keyRow
	for r := range 37 {
		run := make([]keyRow, rng.IntN(50))
		for i := range run {
			run[i] = keyRow{fmt.Sprintf("k%03d", rng.IntN(200)), int64(r*1000 + i)}
		}
		slices.SortFunc(run, compareKeyRows)
		runs, all = append(runs, run), append(all, run...)
	}
	runs = append(runs, nil)
	slices.SortFunc(all, compareKeyRows)
	var got []keyRow
	mergeKeyRuns(runs, 64, func(part []keyRow) bool {
		if len(part) > 64 || len(part) == 0 {
			t.Errorf("a chunk of %d rows", len(part))
		}
		got = append(got, part...)
		return true
	})
	if !slices.Equal(got, all) {
		t.Errorf("merged %d rows, not in order or not all of %d", len(got), len(all))
	}
}

func TestBulkKeepsIndex(t *testing.T) {
	for _, c := range []struct {
		def  string
		keep bool
	}{
		{"CREATE INDEX children_merged_into ON children (merged_into) WHERE merged_into IS NOT NULL", true},
		{"CREATE INDEX children_merged_into ON public.children USING btree (merged_into) WHERE (merged_into IS NOT NULL)", true},
		{"CREATE INDEX children_roll ON children (school_id) WHERE merged_into IS NULL", false},
		{"CREATE INDEX children_roll ON public.children USING btree (school_id) WHERE (merged_into IS NULL)", false},
		{"CREATE INDEX children_school ON children (school_id, id)", false},
		{"CREATE INDEX x ON children (a) WHERE merged_into IS NOT NULL AND a > 0", false},
	} {
		if got := bulkKeepsIndex(c.def); got != c.keep {
			t.Errorf("bulkKeepsIndex(%q) = %v, want %v", c.def, got, c.keep)
		}
	}
}
