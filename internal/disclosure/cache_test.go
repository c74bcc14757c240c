package disclosure

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// A cached pattern is the pattern Protect finds without the cache, for the
// same input, and only for exactly the same input: a changed count, K,
// table or code is a miss. The cache holds at most its bound.
func TestCacheGivesTheSamePatternForTheSameInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(38, 1))
	c := NewCache(3)
	base := randomFrame(rng, 5, 4)
	for _, tc := range []struct {
		name   string
		change func(f *Frame) (*Frame, Options)
		hit    bool
	}{
		{"same", func(f *Frame) (*Frame, Options) { return f, Options{} }, true},
		{"a count moved", func(f *Frame) (*Frame, Options) {
			g := clone(f)
			g.Counts[0]++
			return g, Options{}
		}, false},
		{"another K", func(f *Frame) (*Frame, Options) { return f, Options{K: 8} }, false},
		{"a code renamed", func(f *Frame) (*Frame, Options) {
			g := clone(f)
			g.Dims[0].Codes[1] += "x"
			return g, Options{}
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Protect(base, [][]int{{0, 1}}, Options{Cache: c}); err != nil { // primes the cache
				t.Fatal(err)
			}
			f, o := tc.change(base)
			want, err := Protect(f, [][]int{{0, 1}}, o)
			if err != nil {
				t.Fatal(err)
			}
			o.Cache = c
			k := cacheKey(f, [][]int{{0, 1}}, o.norm())
			_, hit := c.get(c.hash(k), k)
			if hit != tc.hit {
				t.Errorf("cached before: %v, want %v", hit, tc.hit)
			}
			got, err := Protect(f, [][]int{{0, 1}}, o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Status, want.Status) {
				t.Errorf("cached pattern %v, computed %v", got.Status, want.Status)
			}
			checkProtected(t, got)
			if c.Len() > 3 {
				t.Errorf("cache holds %d patterns, bound 3", c.Len())
			}
		})
	}
}

func clone(f *Frame) *Frame {
	g := &Frame{Counts: slices.Clone(f.Counts)}
	for _, d := range f.Dims {
		g.Dims = append(g.Dims, Dim{Name: d.Name, Codes: slices.Clone(d.Codes)})
	}
	return g
}
