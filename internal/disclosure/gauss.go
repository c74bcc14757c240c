package disclosure

import "math/bits"

// The linear algebra of secondary suppression is exact: vectors of the
// relations have small integer entries, and elimination runs over the field
// of integers modulo the Mersenne prime 2⁶¹−1. A dependence over the
// rationals is always a dependence modulo the prime, so the elimination
// never misses a recomputable cell; the converse can fail only for
// determinants divisible by the prime, which would merely suppress one cell
// more (and the attacker's audit re-checks every pattern in floating point).
const prime = 1<<61 - 1

func addmod(a, b uint64) uint64 {
	s := a + b
	if s >= prime {
		s -= prime
	}
	return s
}

func submod(a, b uint64) uint64 {
	if a >= b {
		return a - b
	}
	return a + prime - b
}

func mulmod(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	// a·b = hi·2⁶⁴ + lo; 2⁶¹ ≡ 1, so 2⁶⁴ ≡ 8
	r := (hi<<3 | lo>>61) + (lo & prime)
	for r >= prime {
		r -= prime
	}
	return r
}

func invmod(a uint64) uint64 {
	// Fermat: a^(p−2)
	r, e := uint64(1), uint64(prime-2)
	for e > 0 {
		if e&1 == 1 {
			r = mulmod(r, a)
		}
		a = mulmod(a, a)
		e >>= 1
	}
	return r
}

// basis is a growing set of linearly independent vectors, each with a pivot
// at which it is 1 and at which every later vector is 0: reducing a vector
// by the vectors in order leaves its component outside their span.
type basis struct {
	pivots []int
	vecs   [][]uint64
}

// reduce subtracts from v, in place, its part in the span of b.
func (b *basis) reduce(v []uint64) {
	for i, p := range b.pivots {
		if c := v[p]; c != 0 {
			axpy(v, prime-c, b.vecs[i])
		}
	}
}

// axpy sets v = v + a·w.
func axpy(v []uint64, a uint64, w []uint64) {
	for j, x := range w {
		if x != 0 {
			v[j] = addmod(v[j], mulmod(a, x))
		}
	}
}

// pivotOf normalises v at its first non-zero entry and returns that
// position, or −1 for the zero vector.
func pivotOf(v []uint64) int {
	for j, x := range v {
		if x != 0 {
			inv := invmod(x)
			for k := j; k < len(v); k++ {
				if v[k] != 0 {
					v[k] = mulmod(v[k], inv)
				}
			}
			return j
		}
	}
	return -1
}

func isZero(v []uint64) bool {
	for _, x := range v {
		if x != 0 {
			return false
		}
	}
	return true
}

// gaussSuppress decides which of the candidate cells are published. cells
// are the relation vectors (over the inner cells) of every cell; hidden
// lists the cells that must be suppressed whatever happens (primary and
// forced); order lists the others, the one most wanted in print first.
//
// Each candidate in turn is published unless publishing it, together with
// the cells published before it, would make a hidden cell's vector a linear
// combination of published vectors — that is, unless an outsider could then
// recompute the hidden cell exactly by adding and subtracting published
// numbers. Then it is suppressed too, and protected in its turn.
func gaussSuppress(cells [][]uint64, hidden []int, order []int) (suppressed []bool) {
	suppressed = make([]bool, len(cells))
	var b basis
	// residuals of the hidden cells: their part outside the published span
	var res [][]uint64
	for _, h := range hidden {
		suppressed[h] = true
		res = append(res, append([]uint64(nil), cells[h]...))
	}
	tmp := make([]uint64, 0)
	for _, c := range order {
		r := append([]uint64(nil), cells[c]...)
		b.reduce(r)
		q := pivotOf(r)
		if q < 0 {
			continue // already a combination of published cells: it tells nothing new
		}
		reveals := false
		for _, s := range res {
			a := s[q]
			if a == 0 {
				continue
			}
			tmp = append(tmp[:0], s...)
			axpy(tmp, prime-a, r)
			if isZero(tmp) {
				reveals = true
				break
			}
		}
		if reveals {
			suppressed[c] = true
			res = append(res, r)
			continue
		}
		for _, s := range res {
			if a := s[q]; a != 0 {
				axpy(s, prime-a, r)
			}
		}
		// keep earlier basis vectors free of the new pivot is not needed:
		// later vectors are zero at earlier pivots, which is all reduce uses.
		b.pivots = append(b.pivots, q)
		b.vecs = append(b.vecs, r)
	}
	return suppressed
}

// independentRows returns the indices of a maximal set of linearly
// independent rows among rows (0/1 vectors over the same columns).
func independentRows(rows [][]uint64) []int {
	var b basis
	var keep []int
	for i, row := range rows {
		r := append([]uint64(nil), row...)
		b.reduce(r)
		if q := pivotOf(r); q >= 0 {
			b.pivots = append(b.pivots, q)
			b.vecs = append(b.vecs, r)
			keep = append(keep, i)
		}
	}
	return keep
}
