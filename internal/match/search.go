package match

const (
	// BroadLimit bounds the children a broad key range (two names, no date)
	// may bring: a name as common as Məmmədov Əli has thousands of
	// namesakes, and without a date none of them is likelier than another
	// (the school, when given, lifts the one in it among those read).
	BroadLimit = 300
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
// records when limit > 0) and adds them to the caller's candidates; best
// ranks the candidates so far and returns the first one's level ("" when
// there is none). The steps:
//
//  1. the exact keys;
//  2. the broad ranges of the names: BroadLimitFound children each when
//     the exact keys found a strong or exact candidate, else
//     BroadLimitDated when the query has a date, else BroadLimit;
//  3. with a date, when still nothing is strong, the fallback ranges.
//
// So a query that names the child with the right date costs a few index
// seeks and a few namesakes whatever the roster's size; the wider steps
// are paid only by the queries that need them. Storage and the recall tests both search this way.
func (q ParsedQuery) Search(fetch func(exact []string, ranges []Range, limit int) error, best func() Level) error {
	keys := q.Keys()
	if err := fetch(keys.Exact, nil, 0); err != nil {
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
	return fetch(nil, keys.Fallback, 0)
}
