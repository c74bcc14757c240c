package disclosure

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

func dim(name string, n int) Dim {
	d := Dim{Name: name}
	for i := range n {
		d.Codes = append(d.Codes, fmt.Sprintf("%s%d", name, i))
	}
	return d
}

// published is what an outsider sees: each published cell's coordinates and
// value, and the coordinates of the suppressed ones. The attacker below is
// built from it alone.
type published struct {
	dims       []int
	shown      []Cell
	suppressed [][]int
}

func outsiderView(r *Result) published {
	var p published
	for _, d := range r.Frame.Dims {
		p.dims = append(p.dims, len(d.Codes))
	}
	for i, c := range r.Cells {
		if r.Status[i].Suppressed() {
			p.suppressed = append(p.suppressed, c.Coords)
		} else {
			p.shown = append(p.shown, c)
		}
	}
	return p
}

// inner lists the inner cells (as flat indices) a cell at coords covers,
// computed here independently of the package.
func (p published) inner(coords []int) []int {
	idx := []int{0}
	for d, n := range p.dims {
		var next []int
		for _, base := range idx {
			if coords[d] >= 0 {
				next = append(next, base*n+coords[d])
				continue
			}
			for c := range n {
				next = append(next, base*n+c)
			}
		}
		idx = next
	}
	return idx
}

// attackerBounds is an outsider's attack written apart from the package's
// own audit: one variable per inner cell, x ≥ 0, one equation per
// published cell, dependent equations dropped by floating-point
// elimination; for each suppressed cell the minimum and maximum of its sum.
func attackerBounds(t *testing.T, p published) [][2]float64 {
	t.Helper()
	n := 1
	for _, d := range p.dims {
		n *= d
	}
	var rows [][]float64
	var rhs []float64
	covered := make([]bool, n)
	for _, c := range p.shown {
		row := make([]float64, n)
		for _, j := range p.inner(c.Coords) {
			row[j] = 1
			covered[j] = true
		}
		rows = append(rows, row)
		rhs = append(rhs, float64(c.Value))
	}
	// keep covered columns only; the others are unbounded above
	var cols []int
	colOf := make([]int, n)
	for j := range n {
		colOf[j] = -1
		if covered[j] {
			colOf[j] = len(cols)
			cols = append(cols, j)
		}
	}
	// independent rows by elimination with partial pivoting
	var basis [][]float64
	var keepRows []int
	for i, row := range rows {
		v := make([]float64, len(cols))
		for k, j := range cols {
			v[k] = row[j]
		}
		for _, b := range basis {
			piv := 0
			for k := range b {
				if math.Abs(b[k]) > 1e-9 {
					piv = k
					break
				}
			}
			if f := v[piv] / b[piv]; f != 0 {
				for k := range v {
					v[k] -= f * b[k]
				}
			}
		}
		nz := -1
		for k := range v {
			if math.Abs(v[k]) > 1e-9 {
				nz = k
				break
			}
		}
		if nz < 0 {
			continue
		}
		// make earlier vectors zero at the new pivot, so each pivot is unique
		for bi, b := range basis {
			if f := b[nz] / v[nz]; math.Abs(f) > 1e-12 {
				for k := range b {
					b[k] -= f * v[k]
				}
				basis[bi] = b
			}
		}
		basis = append(basis, v)
		keepRows = append(keepRows, i)
	}
	var a *mat.Dense
	var b []float64
	if len(keepRows) > 0 {
		a = mat.NewDense(len(keepRows), len(cols), nil)
		for r, i := range keepRows {
			for k, j := range cols {
				a.Set(r, k, rows[i][j])
			}
			b = append(b, rhs[i])
		}
	}
	var out [][2]float64
	for _, s := range p.suppressed {
		obj := make([]float64, len(cols))
		unbounded := false
		for _, j := range p.inner(s) {
			if colOf[j] < 0 {
				unbounded = true
				continue
			}
			obj[colOf[j]] = 1
		}
		if a == nil {
			out = append(out, [2]float64{0, math.Inf(1)})
			continue
		}
		lo, _, err := lp.Simplex(obj, a, b, 1e-10, nil)
		if err != nil {
			t.Fatalf("attacker: min of %v: %v", s, err)
		}
		for k := range obj {
			obj[k] = -obj[k]
		}
		hi, _, err := lp.Simplex(obj, a, b, 1e-10, nil)
		switch {
		case errors.Is(err, lp.ErrUnbounded) || unbounded:
			hi = math.Inf(1)
		case err != nil:
			t.Fatalf("attacker: max of %v: %v", s, err)
		default:
			hi = -hi
		}
		out = append(out, [2]float64{lo, hi})
	}
	return out
}

// checkProtected runs the outsider's attack on r and fails the test for any
// suppressed cell whose interval is narrower than the protection range, or
// any breach of the primary rule.
func checkProtected(t *testing.T, r *Result) {
	t.Helper()
	for i, c := range r.Cells {
		small := c.Value >= 1 && c.Value < r.Options.K
		if small && !r.Status[i].Suppressed() {
			t.Errorf("cell %v = %d published below k=%d", c.Coords, c.Value, r.Options.K)
		}
		if c.Value == 0 && r.Status[i] == Primary {
			t.Errorf("true zero %v suppressed as primary", c.Coords)
		}
	}
	p := outsiderView(r)
	bounds := attackerBounds(t, p)
	for i, s := range p.suppressed {
		lo, hi := bounds[i][0], bounds[i][1]
		if hi-lo < float64(r.Options.Protection)-1e-6 {
			_, st, _ := r.Lookup(s...)
			t.Errorf("suppressed cell %v (status %d) derivable within [%.2f, %.2f], narrower than %d", s, st, lo, hi, r.Options.Protection)
		}
	}
}

func randomFrame(rng *rand.Rand, sizes ...int) *Frame {
	var dims []Dim
	for i, n := range sizes {
		dims = append(dims, dim(string(rune('a'+i)), n))
	}
	f := NewFrame(dims...)
	for i := range f.Counts {
		switch x := rng.IntN(10); {
		case x < 3:
			f.Counts[i] = 0
		case x < 7:
			f.Counts[i] = 1 + rng.IntN(4) // small: primary
		default:
			f.Counts[i] = 5 + rng.IntN(40)
		}
	}
	return f
}

func allDims(f *Frame) []int {
	var d []int
	for i := range f.Dims {
		d = append(d, i)
	}
	return d
}

func TestRandomTablesResistTheAttacker(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 25))
	shapes := [][]int{{4, 3}, {6, 5}, {8, 7}, {3, 3, 3}, {4, 3, 3}, {5, 4, 3}}
	for trial := range 4 {
		for _, shape := range shapes {
			t.Run(fmt.Sprintf("%v#%d", shape, trial), func(t *testing.T) {
				f := randomFrame(rng, shape...)
				r, err := Protect(f, [][]int{allDims(f)}, Options{})
				if err != nil {
					t.Fatal(err)
				}
				checkProtected(t, r)
				pub, prim, sec := r.Counts()
				if prim == 0 {
					t.Fatalf("random table with many small cells has no primary suppression (%d published)", pub)
				}
				_ = sec
			})
		}
	}
}

func TestKIsConfigurable(t *testing.T) {
	f := NewFrame(dim("a", 2), dim("b", 2))
	copy(f.Counts, []int{7, 20, 30, 40})
	for _, tc := range []struct {
		k       int
		primary bool
	}{{5, false}, {8, true}, {7, false}} {
		r, err := Protect(f, [][]int{{0, 1}}, Options{K: tc.k})
		if err != nil {
			t.Fatal(err)
		}
		_, st, _ := r.Lookup(0, 0)
		if (st == Primary) != tc.primary {
			t.Errorf("k=%d: cell 7 status %d, primary want %v", tc.k, st, tc.primary)
		}
		checkProtected(t, r)
	}
}

func TestZerosShownAndSmallCellsHidden(t *testing.T) {
	f := NewFrame(dim("a", 3), dim("b", 3))
	copy(f.Counts, []int{0, 2, 30, 12, 25, 40, 9, 18, 0})
	r, err := Protect(f, [][]int{{0, 1}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, st, _ := r.Lookup(0, 1); st != Primary {
		t.Errorf("count 2 has status %d, want primary", st)
	}
	if _, st, _ := r.Lookup(0, 0); st.Suppressed() {
		t.Errorf("true zero suppressed")
	}
	_, _, sec := r.Counts()
	if sec == 0 {
		t.Errorf("a lone suppressed cell in a row with its total is recomputable; want secondary suppression")
	}
	checkProtected(t, r)
}

// The audit catches what primary suppression alone would leave open, and
// what exact elimination alone leaves narrow: two singletons in one row,
// each in [0, 2] from the row total.
func TestAuditCatchesNarrowIntervals(t *testing.T) {
	f := NewFrame(dim("a", 2), dim("b", 3))
	copy(f.Counts, []int{1, 1, 60, 20, 30, 40})
	r := &Result{Frame: f, Options: Options{}.norm(), index: map[string]int{}}
	for _, c := range f.cellsOf([]int{0, 1}) {
		m := f.members(c)
		v := 0
		for _, j := range m {
			v += f.Counts[j]
		}
		r.index[key(c)] = len(r.Cells)
		r.Cells = append(r.Cells, Cell{Coords: c, Value: v})
		r.members = append(r.members, m)
	}
	r.Status = make([]Status, len(r.Cells))
	for i, c := range r.Cells {
		if c.Value >= 1 && c.Value < 5 {
			r.Status[i] = Primary
		}
	}
	bounds, err := r.Attack()
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Narrow(bounds)) == 0 {
		t.Fatalf("primary suppression alone passed the audit: %+v", bounds)
	}
	// the same numbers through Protect pass
	good, err := Protect(f, [][]int{{0, 1}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkProtected(t, good)
}

// Two tables that share cells (the 3-D table and its district × type
// margin, published on its own) get one pattern: the shared cells are
// suppressed in both or neither, and the attacker who holds both cannot
// narrow any suppressed cell.
func TestLinkedTablesShareOnePattern(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	f := randomFrame(rng, 4, 3, 3)
	r, err := Protect(f, [][]int{{0, 1}, {0, 1, 2}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	checkProtected(t, r)
	// a 2-D cell of table {0,1} is the 3-D table's margin over dim 2: same key, one status
	for d := range 4 {
		for ty := range 3 {
			if _, _, ok := r.Lookup(d, ty, Total); !ok {
				t.Fatalf("shared cell (%d,%d,·) missing", d, ty)
			}
		}
	}
	if got, want := len(r.Cells), 5*4*4; got != want {
		t.Errorf("%d cells, want %d (shared cells counted once)", got, want)
	}
}

func TestInvalidFrames(t *testing.T) {
	f := NewFrame(dim("a", 2))
	f.Counts[0] = -1
	if _, err := Protect(f, [][]int{{0}}, Options{}); err == nil {
		t.Error("negative count accepted")
	}
	if _, err := Protect(NewFrame(dim("a", 2)), nil, Options{}); err == nil {
		t.Error("no tables accepted")
	}
	if _, err := Protect(NewFrame(dim("a", 2)), [][]int{{3}}, Options{}); err == nil {
		t.Error("dimension out of range accepted")
	}
}
