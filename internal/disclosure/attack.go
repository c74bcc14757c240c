package disclosure

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/optimize/convex/lp"
)

// Bound is the interval an outsider can derive for a suppressed cell from
// everything published, by linear programming over the non-negative inner
// cells that satisfy every published count. Hi is +Inf when nothing
// published bounds the cell from above.
type Bound struct {
	Cell   int // index into Result.Cells
	Lo, Hi float64
}

// Width is Hi − Lo.
func (b Bound) Width() float64 { return b.Hi - b.Lo }

// Narrow lists the bounds narrower than the protection range.
func (r *Result) Narrow(bs []Bound) []Bound {
	var out []Bound
	for _, b := range bs {
		if b.Width() < float64(r.Options.Protection)-1e-6 {
			out = append(out, b)
		}
	}
	return out
}

// Attack computes, for every suppressed cell, the tightest bounds an
// outsider can derive from the published cells of r: the minimum and the
// maximum of the cell over all non-negative inner cells consistent with
// every published number (an LP each, solved by the simplex method).
func (r *Result) Attack() ([]Bound, error) {
	f := r.Frame
	known := make([]bool, f.Size())
	for i, m := range r.members {
		if len(m) == 1 && !r.Status[i].Suppressed() {
			known[m[0]] = true
		}
	}
	// the unknowns and the equations between them
	varOf := make([]int, f.Size())
	var innerOf []int
	nvars := 0
	for j := range varOf {
		varOf[j] = -1
		if !known[j] {
			varOf[j] = nvars
			innerOf = append(innerOf, j)
			nvars++
		}
	}
	type equation struct {
		vars []int
		rhs  float64
	}
	var eqs []equation
	byVar := make([][]int, nvars)
	for i, m := range r.members {
		if r.Status[i].Suppressed() {
			continue
		}
		e := equation{rhs: float64(r.Cells[i].Value)}
		for _, j := range m {
			if known[j] {
				e.rhs -= float64(f.Counts[j])
			} else {
				e.vars = append(e.vars, varOf[j])
			}
		}
		if len(e.vars) == 0 {
			continue
		}
		for _, v := range e.vars {
			byVar[v] = append(byVar[v], len(eqs))
		}
		eqs = append(eqs, e)
	}
	// connected components of the unknowns through the equations
	comp := make([]int, nvars)
	for v := range comp {
		comp[v] = -1
	}
	var comps [][]int
	for v := range comp {
		if comp[v] >= 0 {
			continue
		}
		id := len(comps)
		queue := []int{v}
		comp[v] = id
		var members []int
		for len(queue) > 0 {
			u := queue[0]
			queue = queue[1:]
			members = append(members, u)
			for _, e := range byVar[u] {
				for _, w := range eqs[e].vars {
					if comp[w] < 0 {
						comp[w] = id
						queue = append(queue, w)
					}
				}
			}
		}
		comps = append(comps, members)
	}
	type program struct {
		cols  map[int]int // unknown → column
		a     *mat.Dense
		b     []float64
		start []int // a basic feasible solution to start from
	}
	programs := map[string]*program{}
	build := func(compIDs []int) *program {
		k := fmt.Sprint(compIDs)
		if p, ok := programs[k]; ok {
			return p
		}
		p := &program{cols: map[int]int{}}
		var rows []int
		seen := map[int]bool{}
		for _, c := range compIDs {
			for _, v := range comps[c] {
				p.cols[v] = len(p.cols)
				for _, e := range byVar[v] {
					if !seen[e] {
						seen[e] = true
						rows = append(rows, e)
					}
				}
			}
		}
		{
			vecs := make([][]uint64, len(rows))
			for i, e := range rows {
				vecs[i] = make([]uint64, len(p.cols))
				for _, v := range eqs[e].vars {
					vecs[i][p.cols[v]] = 1
				}
			}
			keep := independentRows(vecs)
			p.a = mat.NewDense(len(keep), len(p.cols), nil)
			p.b = make([]float64, len(keep))
			for i, ri := range keep {
				for _, v := range eqs[rows[ri]].vars {
					p.a.Set(i, p.cols[v], 1)
				}
				p.b[i] = eqs[rows[ri]].rhs
			}
			x := make([]float64, len(p.cols))
			for v, c := range p.cols {
				x[c] = float64(f.Counts[innerOf[v]])
			}
			p.start = basicFeasible(p.a, p.b, x)
		}
		programs[k] = p
		return p
	}
	var out []Bound
	for i, m := range r.members {
		if !r.Status[i].Suppressed() {
			continue
		}
		b := Bound{Cell: i}
		var unknowns []int
		compSet := map[int]bool{}
		var compIDs []int
		free := false // an unknown no published number bounds
		for _, j := range m {
			if known[j] {
				b.Lo += float64(f.Counts[j])
				continue
			}
			v := varOf[j]
			if len(byVar[v]) == 0 {
				free = true
				continue
			}
			unknowns = append(unknowns, v)
			if !compSet[comp[v]] {
				compSet[comp[v]] = true
				compIDs = append(compIDs, comp[v])
			}
		}
		b.Hi = b.Lo
		if free {
			b.Hi = math.Inf(1)
		}
		if len(unknowns) == 0 {
			out = append(out, b)
			continue
		}
		p := build(compIDs)
		obj := make([]float64, len(p.cols))
		for _, v := range unknowns {
			obj[p.cols[v]] = 1
		}
		lo, _, err := solve(obj, p.a, p.b, p.start)
		if err != nil {
			return nil, fmt.Errorf("disclosure: lower bound of cell %v: %w", r.Cells[i].Coords, err)
		}
		for k := range obj {
			obj[k] = -obj[k]
		}
		hi, _, err := solve(obj, p.a, p.b, p.start)
		switch {
		case errors.Is(err, lp.ErrUnbounded):
			hi = math.Inf(-1)
		case err != nil:
			return nil, fmt.Errorf("disclosure: upper bound of cell %v: %w", r.Cells[i].Coords, err)
		}
		if !free {
			b.Hi = b.Lo - hi
		}
		b.Lo += lo
		out = append(out, b)
	}
	return out, nil
}

// solve runs the simplex method from start, or from its own start if
// start is nil or the solver refuses it.
func solve(c []float64, a *mat.Dense, b []float64, start []int) (float64, []float64, error) {
	if start != nil {
		f, x, err := lp.Simplex(c, a, b, 1e-10, start)
		if err == nil || errors.Is(err, lp.ErrUnbounded) {
			return f, x, err
		}
	}
	return lp.Simplex(c, a, b, 1e-10, nil)
}

// basicFeasible turns the feasible point x of {a·x = b, x ≥ 0} (the true
// counts) into a basic feasible solution, and returns its basis, so that the
// simplex method can start there instead of searching for a start of its
// own: while the columns in x's support are dependent, x moves along a
// direction in their null space until one more entry reaches zero; the
// independent support is then completed to a basis. It returns nil if the
// arithmetic goes astray; the simplex then finds its own start.
func basicFeasible(a *mat.Dense, b, x []float64) []int {
	m, n := a.Dims()
	x = append([]float64(nil), x...)
	var support []int
	for range n + 1 {
		support = support[:0]
		for j, v := range x {
			if v > 1e-9 {
				support = append(support, j)
			} else {
				x[j] = 0
			}
		}
		d := nullVector(a, support)
		if d == nil {
			break
		}
		hit, theta := -1, math.Inf(1)
		for pass := 0; pass < 2 && hit < 0; pass++ {
			if pass == 1 {
				for k := range d {
					d[k] = -d[k]
				}
			}
			for k, j := range support {
				if d[k] > 1e-12 {
					if t := x[j] / d[k]; t < theta {
						hit, theta = j, t
					}
				}
			}
		}
		if hit < 0 {
			return nil
		}
		for k, j := range support {
			x[j] -= theta * d[k]
		}
		x[hit] = 0
	}
	if len(support) > m {
		return nil
	}
	// complete to m independent columns
	var vecs [][]float64
	var pivots []int
	add := func(j int) bool {
		v := make([]float64, m)
		for i := range m {
			v[i] = a.At(i, j)
		}
		for k, b := range vecs {
			if f := v[pivots[k]]; f != 0 {
				for i := range v {
					v[i] -= f * b[i]
				}
			}
		}
		p, best := -1, 1e-9
		for i, y := range v {
			if math.Abs(y) > best {
				p, best = i, math.Abs(y)
			}
		}
		if p < 0 {
			return false
		}
		inv := 1 / v[p]
		for i := range v {
			v[i] *= inv
		}
		// keep every stored vector zero at every other pivot
		for k, b := range vecs {
			if f := b[p]; f != 0 {
				for i := range b {
					b[i] -= f * v[i]
				}
				vecs[k] = b
			}
		}
		vecs = append(vecs, v)
		pivots = append(pivots, p)
		return true
	}
	in := make([]bool, n)
	var basic []int
	for _, j := range support {
		if !add(j) {
			return nil
		}
		in[j] = true
		basic = append(basic, j)
	}
	for j := 0; j < n && len(basic) < m; j++ {
		if !in[j] && add(j) {
			basic = append(basic, j)
		}
	}
	if len(basic) != m {
		return nil
	}
	// the solver panics on a start that is not feasible: check it here
	ab := mat.NewDense(m, m, nil)
	for k, j := range basic {
		for i := range m {
			ab.Set(i, k, a.At(i, j))
		}
	}
	var xb mat.VecDense
	if err := xb.SolveVec(ab, mat.NewVecDense(m, b)); err != nil {
		return nil
	}
	for i := range m {
		if xb.AtVec(i) < -1e-14 {
			return nil
		}
	}
	return basic
}

// nullVector returns a non-zero d with a[:, cols]·d = 0, or nil if those
// columns are independent.
func nullVector(a *mat.Dense, cols []int) []float64 {
	m, _ := a.Dims()
	k := len(cols)
	if k == 0 {
		return nil
	}
	r := make([][]float64, m)
	for i := range m {
		r[i] = make([]float64, k)
		for c, j := range cols {
			r[i][c] = a.At(i, j)
		}
	}
	pivotCol := make([]int, 0, m) // pivot column of each reduced row
	row := 0
	free := -1
	for c := 0; c < k; c++ {
		p, best := -1, 1e-9
		for i := row; i < m; i++ {
			if math.Abs(r[i][c]) > best {
				p, best = i, math.Abs(r[i][c])
			}
		}
		if p < 0 {
			free = c
			break
		}
		r[row], r[p] = r[p], r[row]
		inv := 1 / r[row][c]
		for cc := c; cc < k; cc++ {
			r[row][cc] *= inv
		}
		for i := range m {
			if i != row && r[i][c] != 0 {
				f := r[i][c]
				for cc := c; cc < k; cc++ {
					r[i][cc] -= f * r[row][cc]
				}
			}
		}
		pivotCol = append(pivotCol, c)
		row++
		if row == m && c+1 < k {
			free = c + 1
			break
		}
	}
	if free < 0 {
		return nil
	}
	d := make([]float64, k)
	d[free] = 1
	for i, c := range pivotCol {
		d[c] = -r[i][free]
	}
	return d
}
