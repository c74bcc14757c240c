// Package disclosure protects published counts of children so that no child
// can be singled out: tables with all their margins, primary suppression of
// small counts, secondary suppression by Gaussian elimination over the linear
// relations between the inner cells and the published cells (after the
// GaussSuppression method of Statistics Norway), and an attacker's audit
// that bounds every suppressed cell by linear programming. ADR 0025.
//
// The package does no I/O.
package disclosure

import (
	"errors"
	"fmt"
)

// Total is the coordinate of a dimension summed over: a margin.
const Total = -1

// Dim is one classifying variable of a frame: its name and the codes of its
// categories, in display order.
type Dim struct {
	Name  string
	Codes []string
}

// Frame is the finest cross-classification of a population: one count per
// combination of categories (the inner cells), in row-major order with the
// last dimension varying fastest. Every published table is the frame, or
// one of its margins, with all of that table's own margins.
type Frame struct {
	Dims   []Dim
	Counts []int
}

// NewFrame returns an empty frame over dims.
func NewFrame(dims ...Dim) *Frame {
	n := 1
	for _, d := range dims {
		n *= len(d.Codes)
	}
	return &Frame{Dims: dims, Counts: make([]int, n)}
}

// Size is the number of inner cells.
func (f *Frame) Size() int { return len(f.Counts) }

// Validate reports a frame that cannot be protected: no dimensions, an
// empty dimension, a count that does not match, a negative count.
func (f *Frame) Validate() error {
	if len(f.Dims) == 0 {
		return errors.New("disclosure: a frame needs at least one dimension")
	}
	n := 1
	for _, d := range f.Dims {
		if len(d.Codes) == 0 {
			return fmt.Errorf("disclosure: dimension %q has no categories", d.Name)
		}
		n *= len(d.Codes)
	}
	if n != len(f.Counts) {
		return fmt.Errorf("disclosure: %d counts for %d inner cells", len(f.Counts), n)
	}
	for i, c := range f.Counts {
		if c < 0 {
			return fmt.Errorf("disclosure: inner cell %d is negative", i)
		}
	}
	return nil
}

// index is the position of the inner cell at coords (no Total in it).
func (f *Frame) index(coords []int) int {
	i := 0
	for d, c := range coords {
		i = i*len(f.Dims[d].Codes) + c
	}
	return i
}

// coords is the inverse of index.
func (f *Frame) coords(i int) []int {
	out := make([]int, len(f.Dims))
	for d := len(f.Dims) - 1; d >= 0; d-- {
		n := len(f.Dims[d].Codes)
		out[d] = i % n
		i /= n
	}
	return out
}

// Add counts one more (or n more) in the inner cell at coords.
func (f *Frame) Add(n int, coords ...int) {
	f.Counts[f.index(coords)] += n
}

// Cell is one published cell: its coordinates (Total on the dimensions it
// sums over) and its true count.
type Cell struct {
	Coords []int
	Value  int
}

// key is a comparable form of coordinates.
func key(coords []int) string {
	b := make([]byte, 0, 4*len(coords))
	for _, c := range coords {
		b = fmt.Appendf(b, "%d,", c)
	}
	return string(b)
}

// Status is what happens to a cell on publication.
type Status int

const (
	Published Status = iota
	Primary          // 1 ≤ n < k: suppressed for itself
	Secondary        // suppressed so that a primary cell cannot be recomputed
)

// Suppressed reports whether a cell with status s is hidden.
func (s Status) Suppressed() bool { return s != Published }

// members lists the inner cells a cell at coords sums.
func (f *Frame) members(coords []int) []int {
	var out []int
	cur := make([]int, len(coords))
	var walk func(d int)
	walk = func(d int) {
		if d == len(coords) {
			out = append(out, f.index(cur))
			return
		}
		if coords[d] != Total {
			cur[d] = coords[d]
			walk(d + 1)
			return
		}
		for c := range f.Dims[d].Codes {
			cur[d] = c
			walk(d + 1)
		}
	}
	walk(0)
	return out
}

// cellsOf lists every cell of the table over the dimensions dims (indices
// into the frame's dimensions): its inner cells and all its margins, the
// frame's other dimensions summed over. Inner cells come first.
func (f *Frame) cellsOf(dims []int) [][]int {
	in := make([]bool, len(f.Dims))
	for _, d := range dims {
		in[d] = true
	}
	var out [][]int
	// every subset of dims that is summed over, the empty subset first
	for mask := 0; mask < 1<<len(dims); mask++ {
		var walk func(d int, cur []int)
		walk = func(d int, cur []int) {
			if d == len(f.Dims) {
				out = append(out, append([]int(nil), cur...))
				return
			}
			pos := -1
			for i, td := range dims {
				if td == d {
					pos = i
				}
			}
			if !in[d] || mask&(1<<pos) != 0 {
				walk(d+1, append(cur, Total))
				return
			}
			for c := range f.Dims[d].Codes {
				walk(d+1, append(cur, c))
			}
		}
		walk(0, nil)
	}
	return out
}
