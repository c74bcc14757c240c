package match

import (
	"slices"
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
// with a prefix.
type Range struct{ From, To string }

func prefix(p string) Range { return Range{From: p, To: p + "~"} } // keys use a-z, 0-9 and space, all below "~"

// QueryKeys are what a query looks up: Exact keys each reach few children;
// Broad ranges may reach many, so an index looks them up with a limit;
// Fallback ranges are looked up only when the others found no strong
// candidate.
type QueryKeys struct {
	Exact    []string
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
	r := NewRecord(p)
	var ks []string
	add := func(k string) {
		if !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	if !p.BirthDate.IsZero() {
		d := dateKey(p.BirthDate)
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
	addKey := func(k string) {
		if !slices.Contains(qk.Exact, k) {
			qk.Exact = append(qk.Exact, k)
		}
	}
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
	if !q.BirthDate.IsZero() {
		close, years := nearDates(q.BirthDate)
		for _, d := range append(append([]string{}, close...), years...) {
			for _, t := range names {
				addKey(kindDate + d + t.Skel)
			}
		}
		for _, d := range close {
			for _, t := range names {
				addRange(&qk.Fallback, prefix(kindDate+d+t.Skel[:1]))
			}
		}
	}
	for i, a := range names {
		for j, b := range names[i+1:] {
			x, y := pair(a.Skel, b.Skel)
			addRange(&qk.Broad, prefix(kindNames+x+" "+y+" "))
			for _, f := range fathers {
				addKey(kindNames + x + " " + y + " " + f.Skel)
			}
			if len(fathers) == 0 { // a third word may be the father's name without oğlu/qızı
				for k, c := range names {
					if k != i && k != i+1+j {
						addKey(kindNames + x + " " + y + " " + c.Skel)
					}
				}
			}
		}
	}
	return qk
}
