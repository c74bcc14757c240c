package disclosure

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
)

// DefaultK is the smallest count published as it is: 1 ≤ n < DefaultK is
// suppressed. Zero is shown: a true zero singles nobody out.
const DefaultK = 5

// Options set the rule.
type Options struct {
	// K: a count n with 1 ≤ n < K is suppressed (primary). 0 means DefaultK.
	K int
	// Protection is the narrowest interval an outsider may derive for any
	// suppressed cell from everything published. 0 means K.
	Protection int
	// Cache, if set, remembers the patterns found, by their exact input
	// (a pure function: the same input, the same pattern).
	Cache *Cache
}

func (o Options) norm() Options {
	if o.K <= 0 {
		o.K = DefaultK
	}
	if o.Protection <= 0 {
		o.Protection = o.K
	}
	return o
}

// Result is a frame's publication: every cell of every table asked for
// (cells the tables share appear once, so they are suppressed alike).
type Result struct {
	Frame   *Frame
	Options Options
	Cells   []Cell
	Status  []Status
	members [][]int
	index   map[string]int
}

// Lookup returns the cell at coords (Total for a margin) and whether the
// publication has it.
func (r *Result) Lookup(coords ...int) (Cell, Status, bool) {
	i, ok := r.index[key(coords)]
	if !ok {
		return Cell{}, Published, false
	}
	return r.Cells[i], r.Status[i], true
}

// Counts reports how many cells are published, primary and secondary.
func (r *Result) Counts() (published, primary, secondary int) {
	for _, s := range r.Status {
		switch s {
		case Published:
			published++
		case Primary:
			primary++
		case Secondary:
			secondary++
		}
	}
	return
}

// Protect decides the publication of the tables over the given dimension
// sets (indices into f.Dims) with all their margins. The pattern is one
// for all the tables: a cell two tables share is suppressed in both or in
// neither. It loops until the attacker's audit passes: Gaussian elimination
// guarantees that no suppressed cell can be recomputed exactly; where the
// bounds an outsider can still derive are narrower than the protection
// range, one more neighbouring cell is suppressed and the elimination run
// again.
func Protect(f *Frame, tables [][]int, o Options) (*Result, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	if len(tables) == 0 {
		return nil, errors.New("disclosure: no table to publish")
	}
	o = o.norm()
	r := &Result{Frame: f, Options: o, index: map[string]int{}}
	for _, t := range tables {
		for _, d := range t {
			if d < 0 || d >= len(f.Dims) {
				return nil, fmt.Errorf("disclosure: table dimension %d out of range", d)
			}
		}
		for _, c := range f.cellsOf(t) {
			k := key(c)
			if _, ok := r.index[k]; ok {
				continue
			}
			m := f.members(c)
			v := 0
			for _, i := range m {
				v += f.Counts[i]
			}
			r.index[k] = len(r.Cells)
			r.Cells = append(r.Cells, Cell{Coords: c, Value: v})
			r.members = append(r.members, m)
		}
	}
	var ck []int64
	var ch uint64
	if o.Cache != nil {
		ck = cacheKey(f, tables, o)
		ch = o.Cache.hash(ck)
		if st, ok := o.Cache.get(ch, ck); ok {
			r.Status = slices.Clone(st)
			return r, nil
		}
	}
	vecs := make([][]uint64, len(r.Cells))
	for i, m := range r.members {
		v := make([]uint64, f.Size())
		for _, j := range m {
			v[j] = 1
		}
		vecs[i] = v
	}
	primary := make([]bool, len(r.Cells))
	for i, c := range r.Cells {
		primary[i] = c.Value >= 1 && c.Value < o.K
	}
	order := r.publicationOrder()
	forced := make([]bool, len(r.Cells))
	for range len(r.Cells) + 1 {
		var hidden, cand []int
		for _, i := range order {
			if primary[i] || forced[i] {
				hidden = append(hidden, i)
			} else {
				cand = append(cand, i)
			}
		}
		sup := gaussSuppress(vecs, hidden, cand)
		r.Status = make([]Status, len(r.Cells))
		for i := range r.Cells {
			switch {
			case primary[i]:
				r.Status[i] = Primary
			case sup[i]:
				r.Status[i] = Secondary
			}
		}
		bounds, err := r.Attack()
		if err != nil {
			return nil, err
		}
		grew := false
		for _, b := range bounds {
			if b.Width() >= float64(o.Protection)-1e-6 {
				continue
			}
			if fix := r.widener(b.Cell); fix >= 0 {
				forced[fix] = true
				grew = true
			}
		}
		if !grew {
			if len(r.Narrow(bounds)) > 0 {
				return nil, errors.New("disclosure: cannot protect the table")
			}
			if o.Cache != nil {
				o.Cache.put(ch, ck, r.Status)
			}
			return r, nil
		}
	}
	return nil, errors.New("disclosure: suppression did not settle")
}

// publicationOrder is the order in which cells are offered for
// publication: margins before inner cells (the totals matter most to
// readers), wider margins first; among inner cells zeros first (they are
// shown anyway and hide nothing), then the largest counts, so that what is
// suppressed is what costs the least information.
func (r *Result) publicationOrder() []int {
	order := make([]int, len(r.Cells))
	for i := range order {
		order[i] = i
	}
	totals := func(i int) int {
		n := 0
		for _, c := range r.Cells[i].Coords {
			if c == Total {
				n++
			}
		}
		return n
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if c := cmp.Compare(totals(b), totals(a)); c != 0 {
			return c
		}
		va, vb := r.Cells[a].Value, r.Cells[b].Value
		if (va == 0) != (vb == 0) {
			if va == 0 {
				return -1
			}
			return 1
		}
		return cmp.Compare(vb, va)
	})
	return order
}

// widener picks the published cell to suppress next to widen the interval
// of suppressed cell s: an inner cell sharing a published margin with s
// (the smallest that reaches the protection range alone, else the largest),
// else a published margin that contains s.
func (r *Result) widener(s int) int {
	inS := map[int]bool{}
	for _, j := range r.members[s] {
		inS[j] = true
	}
	related := map[int]bool{}
	var margins []int
	for i, m := range r.members {
		if r.Status[i].Suppressed() || i == s {
			continue
		}
		touches := false
		for _, j := range m {
			if inS[j] {
				touches = true
				break
			}
		}
		if !touches {
			continue
		}
		margins = append(margins, i)
		for _, j := range m {
			related[j] = true
		}
	}
	best, bestV := -1, 0
	for i, m := range r.members {
		if r.Status[i].Suppressed() || len(m) != 1 || !related[m[0]] {
			continue
		}
		v := r.Cells[i].Value
		switch {
		case best < 0,
			v >= r.Options.Protection && (bestV < r.Options.Protection || v < bestV),
			v < r.Options.Protection && bestV < r.Options.Protection && v > bestV:
			best, bestV = i, v
		}
	}
	if best >= 0 {
		return best
	}
	for _, i := range margins {
		if len(r.members[i]) > 1 {
			return i
		}
	}
	if len(margins) > 0 {
		return margins[0]
	}
	return -1
}
