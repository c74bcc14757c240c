package match

const (
	// BroadLimit bounds the children a broad key range (two names, no date)
	// may bring when the query gives a school: a name as common as Məmmədov
	// Əli has thousands of namesakes, and without a date none of them is
	// likelier than another but the school's, which lifts the one in it
	// among those read.
	BroadLimit = 300
	// BroadLimitNamesOnly bounds it when the query gives neither a date
	// nor a school: the namesakes read all score alike (those with the
	// father's name it gives come first, through the named keys), so
	// reading 300 would show ten as good as the first ten of 40 (ADR 0035).
	BroadLimitNamesOnly = 40
	// BroadLimitDated bounds it when the query has a date that the exact
	// keys did not find: namesakes born on other days score alike
	// (possible at best), so a few are worth showing and a hundred are not.
	BroadLimitDated = 40
	// BroadLimitFound bounds it when the exact keys found a strong or exact
	// candidate: a few namesakes born on other days show below it, for the
	// person to tell them apart.
	BroadLimitFound = 20
)

// Search runs the blocking steps of a query. fetch reads the records filed
// under the exact keys or within the ranges (each range at most limit
// records when limit > 0; a range's keys that it does not admit are passed
// over, see Range.Admits) and adds them to the caller's candidates; best
// ranks the candidates so far and returns the first one's level ("" when
// there is none). The steps, each taken only while nothing is strong or
// exact (but the broad one):
//
//  1. the exact keys, at the date as given;
//  2. the shifted keys: the day and month swapped, the year one off;
//  3. the named keys (two names and a father's) and the broad ranges of
//     the names, each range BroadLimitFound children when a strong or
//     exact candidate was found, else BroadLimitDated when the query has
//     a date, else BroadLimit with a school and BroadLimitNamesOnly
//     without;
//  4. with a date, the fallback ranges, admitting the keys near the
//     query's words.
//
// So a query that names the child with the right date costs a few index
// seeks and a few namesakes whatever the roster's size, and the wider
// steps read a bounded number of children: the namesakes up to the limit,
// and of the children born on the day, only those named nearly as the
// query's words (ADR 0035). Storage and the recall tests both search this
// way.
func (q ParsedQuery) Search(fetch func(exact []string, ranges []Range, limit int) error, best func() Level) error {
	keys := q.Keys()
	found := func() bool { l := best(); return l == Strong || l == Exact }
	if len(keys.Exact) > 0 {
		if err := fetch(keys.Exact, nil, 0); err != nil {
			return err
		}
	}
	if len(keys.Shifted) > 0 && !found() {
		if err := fetch(keys.Shifted, nil, 0); err != nil {
			return err
		}
	}
	limit := BroadLimit
	switch {
	case found():
		limit = BroadLimitFound
	case !q.BirthDate.IsZero():
		limit = BroadLimitDated
	case q.School == "":
		limit = BroadLimitNamesOnly
	}
	var ranges []Range
	for _, k := range keys.Named {
		ranges = append(ranges, only(k))
	}
	if ranges = append(ranges, keys.Broad...); len(ranges) > 0 {
		if err := fetch(nil, ranges, limit); err != nil {
			return err
		}
	}
	if len(keys.Fallback) == 0 || found() {
		return nil
	}
	return fetch(nil, keys.Fallback, 0)
}

// SearchUnfiltered is the search before ADR 0035, which dayaq bench match
// times beside Search: the exact, shifted and named keys in one step,
// without a limit; the broad ranges; the fallback ranges admitting every
// key. Its candidates grow with the roster.
func (q ParsedQuery) SearchUnfiltered(fetch func(exact []string, ranges []Range, limit int) error, best func() Level) error {
	keys := q.Keys()
	exact := append(append(append([]string{}, keys.Exact...), keys.Shifted...), keys.Named...)
	if err := fetch(exact, nil, 0); err != nil {
		return err
	}
	limit := BroadLimit
	switch l := best(); {
	case l == Strong || l == Exact:
		limit = BroadLimitFound
	case !q.BirthDate.IsZero():
		limit = BroadLimitDated
	}
	if err := fetch(nil, keys.Broad, limit); err != nil {
		return err
	}
	if len(keys.Fallback) == 0 {
		return nil
	}
	if l := best(); l == Strong || l == Exact {
		return nil
	}
	var fallback []Range
	for _, r := range keys.Fallback {
		fallback = append(fallback, r.Unfiltered())
	}
	return fetch(nil, fallback, 0)
}
