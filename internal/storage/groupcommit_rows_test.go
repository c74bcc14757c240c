package storage

import (
	"fmt"
	"reflect"
	"testing"
)

// A pipelined batch's pending statements as sent (ADR 0042): inserts of
// rows of one shape merge into the first of them until a statement of no
// shape; row counts split into powers of two; every statement sent keeps
// the index of the first one filed that it carries, and the arguments stay
// in the order filed.
func TestPlanMergesRows(t *testing.T) {
	a := rowsShape{head: "INSERT INTO a (x) VALUES ", row: "(?)", n: 1}
	b2 := rowsShape{head: "INSERT INTO b (x, y) VALUES ", row: "(?, ?)", n: 2}
	type filed struct {
		shape rowsShape // zero: "UPDATE"
		args  []any
	}
	tests := []struct {
		name  string
		filed []filed
		want  []plannedStmt
	}{
		{"nothing merges", []filed{{a, []any{1}}, {rowsShape{}, []any{"u"}}, {a, []any{2}}},
			[]plannedStmt{{"INSERT INTO a (x) VALUES (?)", []any{1}, 0}, {"UPDATE", []any{"u"}, 1},
				{"INSERT INTO a (x) VALUES (?)", []any{2}, 2}}},
		{"two shapes interleaved", []filed{{a, []any{1}}, {b2, []any{1, 1, 1, 2}}, {a, []any{2}}, {b2, []any{2, 1, 2, 2}}},
			[]plannedStmt{{"INSERT INTO a (x) VALUES (?), (?)", []any{1, 2}, 0},
				{"INSERT INTO b (x, y) VALUES (?, ?), (?, ?), (?, ?), (?, ?)", []any{1, 1, 1, 2, 2, 1, 2, 2}, 1}}},
		{"three rows: two and one", []filed{{a, []any{1}}, {a, []any{2}}, {a, []any{3}}, {rowsShape{}, []any{}}, {a, []any{4}}},
			[]plannedStmt{{"INSERT INTO a (x) VALUES (?), (?)", []any{1, 2}, 0}, {"INSERT INTO a (x) VALUES (?)", []any{3}, 0},
				{"UPDATE", []any{}, 3}, {"INSERT INTO a (x) VALUES (?)", []any{4}, 4}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := &pgPipe{fast: true}
			for _, f := range tt.filed {
				if f.shape.n == 0 {
					p.later("UPDATE", f.args...)
				} else {
					p.laterRows(f.shape, f.args)
				}
			}
			if got := p.plan(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("plan:\n got %v\nwant %v", got, tt.want)
			}
		})
	}
	t.Run("more rows than a statement takes", func(t *testing.T) {
		p := &pgPipe{fast: true}
		for i := range 2*maxRowsStatement + 3 {
			p.laterRows(a, []any{i})
		}
		var sizes []int
		next := 0
		for _, st := range p.plan() {
			sizes = append(sizes, len(st.args))
			for _, v := range st.args {
				if v != next {
					t.Fatalf("row %v sent where %d was due", v, next)
				}
				next++
			}
			if st.q != a.text(len(st.args)) || st.first != 0 {
				t.Errorf("statement %.40q… first %d", st.q, st.first)
			}
		}
		if want := []int{maxRowsStatement, maxRowsStatement, 2, 1}; fmt.Sprint(sizes) != fmt.Sprint(want) {
			t.Errorf("statements of %v rows, want %v", sizes, want)
		}
	})
}
