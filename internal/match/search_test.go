package match_test

import (
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"dayaq/internal/match"
)

// TestSearchSteps checks which blocking steps a query takes, given what
// the earlier steps found.
func TestSearchSteps(t *testing.T) {
	date := time.Date(2014, 5, 3, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		q      match.Query
		levels []match.Level // what best() answers after each step
		want   []string      // the steps fetched, with the limit a broad step used
	}{
		{"dated, exact keys find a strong one", match.Query{Name: "Məmmədova Nərmin", BirthDate: date},
			[]match.Level{match.Strong}, []string{"exact", "broad 20"}},
		{"dated, exact keys find an exact one", match.Query{Name: "Məmmədova Nərmin", BirthDate: date},
			[]match.Level{match.Exact}, []string{"exact", "broad 20"}},
		{"dated, only possibles: broad (few), then fallback", match.Query{Name: "Məmmədova Nərmin", BirthDate: date},
			[]match.Level{match.Possible, match.Possible}, []string{"exact", "broad 40", "fallback"}},
		{"dated, broad finds a strong one: no fallback", match.Query{Name: "Məmmədova Nərmin", BirthDate: date},
			[]match.Level{"", match.Strong}, []string{"exact", "broad 40"}},
		{"no date: broad (many), no fallback", match.Query{Name: "Məmmədova Nərmin"},
			[]match.Level{"", ""}, []string{"exact", "broad 300"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pq := match.Parse(tc.q)
			var got []string
			fetch := func(exact []string, ranges []match.Range, limit int) error {
				keys := pq.Keys()
				switch {
				case ranges == nil:
					got = append(got, "exact")
				case slices.Equal(ranges, keys.Broad):
					got = append(got, "broad "+strconv.Itoa(limit))
				case slices.Equal(ranges, keys.Fallback) && limit == 0:
					got = append(got, "fallback")
				default:
					t.Errorf("unexpected fetch %v %v %d", exact, ranges, limit)
				}
				return nil
			}
			calls := 0
			best := func() match.Level {
				l := tc.levels[min(calls, len(tc.levels)-1)]
				calls++
				return l
			}
			if err := pq.Search(fetch, best); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("steps %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("an error stops the search", func(t *testing.T) {
		boom := errors.New("boom")
		n := 0
		err := match.Parse(match.Query{Name: "Əli Həsənov", BirthDate: date}).Search(
			func([]string, []match.Range, int) error { n++; return boom },
			func() match.Level { return "" })
		if !errors.Is(err, boom) || n != 1 {
			t.Errorf("err %v after %d fetches, want boom after 1", err, n)
		}
	})
}
