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
		levels []match.Level // what best() answers at each call
		want   []string      // the steps fetched, with the limit a broad step used
	}{
		{"dated, exact keys find a strong one", match.Query{Name: "Məmmədova Nərmin", BirthDate: date},
			[]match.Level{match.Strong}, []string{"exact", "broad 20"}},
		{"dated, exact keys find an exact one", match.Query{Name: "Məmmədova Nərmin", BirthDate: date},
			[]match.Level{match.Exact}, []string{"exact", "broad 20"}},
		{"dated, only possibles: shifted, broad (few), then fallback", match.Query{Name: "Məmmədova Nərmin", BirthDate: date},
			[]match.Level{match.Possible}, []string{"exact", "shifted", "broad 40", "fallback"}},
		{"dated, shifted keys find a strong one: broad (fewest), no fallback", match.Query{Name: "Məmmədova Nərmin", BirthDate: date},
			[]match.Level{"", match.Strong}, []string{"exact", "shifted", "broad 20"}},
		{"dated, broad finds a strong one: no fallback", match.Query{Name: "Məmmədova Nərmin", BirthDate: date},
			[]match.Level{"", "", match.Strong}, []string{"exact", "shifted", "broad 40"}},
		{"no date, a school: broad (many), no fallback", match.Query{Name: "Məmmədova Nərmin", School: "BAK-06-021"},
			[]match.Level{""}, []string{"broad 300"}},
		{"no date, no school: broad (few), no fallback", match.Query{Name: "Məmmədova Nərmin"},
			[]match.Level{""}, []string{"broad 40"}},
		{"no date, a father's name and a school: named and broad (many)", match.Query{Name: "Məmmədova Nərmin Rəşad qızı", School: "BAK-06-021"},
			[]match.Level{""}, []string{"named+broad 300"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pq := match.Parse(tc.q)
			keys := pq.Keys()
			var named []match.Range
			for _, k := range keys.Named {
				named = append(named, match.Range{From: k, To: k + " "})
			}
			var got []string
			fetch := func(exact []string, ranges []match.Range, limit int) error {
				switch {
				case ranges == nil && slices.Equal(exact, keys.Exact):
					got = append(got, "exact")
				case ranges == nil && slices.Equal(exact, keys.Shifted):
					got = append(got, "shifted")
				case len(named) == 0 && slices.Equal(ranges, keys.Broad):
					got = append(got, "broad "+strconv.Itoa(limit))
				case len(named) > 0 && slices.Equal(ranges, append(named, keys.Broad...)):
					got = append(got, "named+broad "+strconv.Itoa(limit))
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

// TestFallbackAdmitsNearKeys checks that a fallback range admits the keys
// whose skeleton is near one of the query's words (any of them) and passes
// over the others, and that the other steps admit every key.
func TestFallbackAdmitsNearKeys(t *testing.T) {
	date := time.Date(2010, 7, 11, 0, 0, 0, 0, time.UTC)
	keys := match.Parse(match.Query{Name: "bAbasov aur", BirthDate: date}).Keys() // Abbasov Zaur, both first letters mistyped
	var aRange match.Range
	for _, r := range keys.Fallback {
		if r.From == "d20100711a" {
			aRange = r
		}
	}
	if aRange.From == "" {
		t.Fatalf("no fallback range for the initial a: %+v", keys.Fallback)
	}
	for key, want := range map[string]bool{
		"d20100711abas":   true,  // Abbasov: one letter from babas, a word with another initial
		"d20100711aur":    true,  // the word itself
		"d20100711aura":   true,  // a letter more
		"d20100711alakba": false, // Ələkbər: far from both words
		"d20100711a":      false, // no skeleton at all
	} {
		if got := aRange.Admits(key); got != want {
			t.Errorf("Admits(%q) = %v, want %v", key, got, want)
		}
	}
	for _, r := range keys.Broad {
		if !r.Admits("naur babas zzzz") {
			t.Errorf("broad range %+v passes over a key", r)
		}
	}
	if !aRange.Unfiltered().Admits("d20100711alakba") {
		t.Error("the unfiltered range passes over a key")
	}
}
