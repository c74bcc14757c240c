package match

import (
	"slices"
	"strings"
	"time"
)

// Person is what matching knows of a child on the roster.
type Person struct {
	LastName   string
	FirstName  string
	Patronymic string // "Rəşad oğlu", "Рашад оглы", "Rashad"
	BirthDate  time.Time
	School     string // the school's code; may be empty
}

// Query is what a person searching knows: a free-text name in any script
// and order, and perhaps a birth date and a school.
type Query struct {
	Name      string
	BirthDate time.Time // zero when not known
	School    string
}

// Blocking keys. A child is filed under three or four short text keys made
// of skeletons and the birth date; a query computes the keys, and the key
// prefixes, that the same child would have under every reading of it (any
// word order, a swapped day and month, a year off by one) and looks them up
// in an ordered index. Only the few children behind them are scored.
//
//	"d" date skeleton      one per name (surname, first name): the query's
//	                       exact keys find the child when the date is right
//	                       and one of the two names has no typo; the range
//	                       "d" date initial… finds it when both names have
//	                       a typo, unless both typos hit the first letter.
//	                       That range reaches tens of children on a large
//	                       roster, so it is looked up only when the exact
//	                       keys found nothing strong (Fallback).
//	"n" a " " b " " father the two names (in skeleton order) and the
//	                       father's: exact with a father's name; the range
//	                       "n" a " " b " "… finds the child without a date
//	                       or with a wrong one (Broad: common names have
//	                       thousands of namesakes, so it is limited).
const (
	kindDate  = "d"
	kindNames = "n"
)

// Range is the half-open interval of keys [From, To): the keys that start
// with a prefix. A fallback range also knows the query's words it was made
// for, so that a key whose skeleton is far from all of them is passed over
// before its child is read (Admits).
type Range struct {
	From, To string
	near     string // the query's skeletons, space-separated; "" admits every key
	at       int    // where a key's skeleton starts
}

func prefix(p string) Range { return Range{From: p, To: p + "~"} } // keys use a-z, 0-9 and space, all below "~"

// only is the range of the one key k: no key continues k with a character
// below the space.
func only(k string) Range { return Range{From: k, To: k + " "} }

// NearSimilarity is the least similarity (one less the share of letters
// that differ) between a fallback key's skeleton and one of the query's
// words for its child to be read: the scorer's own threshold, below which
// the pair scores nothing (so the child's name there adds nothing to its
// score). At 2,000,000 children hundreds are born on a day under one
// initial; a handful are named nearly as the query's words.
const NearSimilarity = minWordSimilarity

// Admits reports whether the child filed under key (a key within r) is
// worth reading: always, but for a fallback range, whose key's skeleton
// must be near one of the query's words.
func (r Range) Admits(key string) bool {
	if r.near == "" {
		return true
	}
	if len(key) < r.at {
		return false
	}
	sk := key[r.at:]
	for w := range strings.FieldsSeq(r.near) {
		if similarity(sk, w) >= NearSimilarity {
			return true
		}
		// A typo in a surname's ending keeps it from being cut (Bəşirovka:
		// basirovka for basir), so the word may be the skeleton and more.
		if len(sk) >= 3 && len(w) > len(sk) && distance(sk, w[:len(sk)]) <= 1 {
			return true
		}
	}
	return false
}

// Unfiltered is r admitting every key: the plan before ADR 0035, which
// dayaq bench match still times.
func (r Range) Unfiltered() Range { return Range{From: r.From, To: r.To} }

// QueryKeys are what a query looks up: Exact keys (the "d" keys at the
// date as given) each reach the children born that day under one name;
// Shifted keys are the "d" keys at the dates it is confused with; Named
// keys (two names and a father's) may reach hundreds of namesakes on a
// large roster, and Broad ranges thousands, so both are looked up with a
// limit; Fallback ranges are looked up only when the others found no
// strong candidate, and admit only keys near the query's words.
type QueryKeys struct {
	Exact    []string
	Shifted  []string
	Named    []string
	Broad    []Range
	Fallback []Range
}

// pair orders two skeletons so that word order does not matter.
func pair(a, b string) (string, string) {
	if a > b {
		return b, a
	}
	return a, b
}

// joined is the skeleton of a whole field ("Məhəmməd Əli" as one).
func joined(ts []Token) string {
	s := ""
	for _, t := range ts {
		s += t.Skel
	}
	return s
}

// Keys returns the blocking keys under which a child is filed. They depend
// only on the names and the birth date, so a child whose names and date did
// not change keeps its keys.
func Keys(p Person) []string {
	return recordKeys(NewRecord(p))
}

// recordKeys is Keys of a parsed record.
func recordKeys(r Record) []string {
	var ks []string
	add := func(k string) {
		if !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	if !r.birth.IsZero() {
		d := dateKey(r.birth)
		for _, t := range append(append([]Token{}, r.last...), r.first...) {
			add(kindDate + d + t.Skel)
		}
	}
	l, f := joined(r.last), joined(r.first)
	if l != "" && f != "" {
		a, b := pair(l, f)
		add(kindNames + a + " " + b + " " + joined(r.father))
	}
	return ks
}

func dateKey(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("20060102")
}

// nearDates are the dates a birth date is confused with: itself, the day
// and month swapped, and the year one off.
func nearDates(t time.Time) (close, years []string) {
	close = []string{dateKey(t)}
	if int(t.Month()) != t.Day() && t.Day() <= 12 {
		s := time.Date(t.Year(), time.Month(t.Day()), int(t.Month()), 0, 0, 0, 0, time.UTC)
		if s.Day() == int(t.Month()) {
			close = append(close, dateKey(s))
		}
	}
	for _, dy := range []int{-1, 1} {
		y := time.Date(t.Year()+dy, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		if y.Day() == t.Day() {
			years = append(years, dateKey(y))
		}
	}
	return close, years
}

// Keys returns what a query looks up.
func (q ParsedQuery) Keys() QueryKeys {
	var qk QueryKeys
	addRange := func(to *[]Range, r Range) {
		if !slices.Contains(*to, r) {
			*to = append(*to, r)
		}
	}
	var names, fathers []Token
	for _, t := range q.Name.Tokens {
		if t.Patronymic {
			fathers = append(fathers, t)
		} else {
			names = append(names, t)
		}
	}
	addTo := func(to *[]string, k string) {
		if !slices.Contains(*to, k) {
			*to = append(*to, k)
		}
	}
	if !q.BirthDate.IsZero() {
		close, years := nearDates(q.BirthDate)
		for i, d := range append(append([]string{}, close...), years...) {
			for _, t := range names {
				if i == 0 {
					addTo(&qk.Exact, kindDate+d+t.Skel)
				} else {
					addTo(&qk.Shifted, kindDate+d+t.Skel)
				}
			}
		}
		for _, d := range close {
			for _, t := range names {
				r := prefix(kindDate + d + t.Skel[:1])
				r.at = len(kindDate + d)
				// Every word, not only those with this initial: a child
				// whose first letters were both mistyped is still found
				// when one name's typo made the other's initial.
				for _, u := range names {
					if !slices.Contains(strings.Fields(r.near), u.Skel) {
						r.near = strings.TrimSpace(r.near + " " + u.Skel)
					}
				}
				addRange(&qk.Fallback, r)
			}
		}
	}
	for i, a := range names {
		for j, b := range names[i+1:] {
			x, y := pair(a.Skel, b.Skel)
			addRange(&qk.Broad, prefix(kindNames+x+" "+y+" "))
			for _, f := range fathers {
				addTo(&qk.Named, kindNames+x+" "+y+" "+f.Skel)
			}
			if len(fathers) == 0 { // a third word may be the father's name without oğlu/qızı
				for k, c := range names {
					if k != i && k != i+1+j {
						addTo(&qk.Named, kindNames+x+" "+y+" "+c.Skel)
					}
				}
			}
		}
	}
	return qk
}
