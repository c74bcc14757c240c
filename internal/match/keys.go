package match

import (
	"hash/fnv"
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

// Blocking keys. A child is filed under a handful of 64-bit keys, each a
// hash of a few skeletons and the birth date; a query computes the keys
// the same child would have under every reading of it (any word order, a
// swapped day and month, a year off by one) and looks them up in an index.
// Only the few children behind those keys are scored.
//
//	D  date + the skeleton of one name (surname or first name): finds the
//	   child when the date is right and one of the two names has no typo.
//	F  date + the first letter of one name's skeleton: finds the child when
//	   both names have a typo, unless both typos hit a first letter. It
//	   reaches tens of children on a large roster, so it is looked up only
//	   when the D keys found nothing strong (Fallback).
//	N  surname + first name, no date: finds the child without a date or
//	   with a wrong one (Broad: common names have thousands of namesakes).
//	P  surname + first name + father's name, no date: the same, narrower.
const (
	kindDate    = 'D'
	kindInitial = 'F'
	kindNames   = 'N'
	kindFather  = 'P'
)

// QueryKeys are the keys to look up for a query: Precise keys each reach
// few children; Broad keys may reach many, so an index looks them up with
// a limit; Fallback keys are looked up only when the others found no
// strong candidate.
type QueryKeys struct {
	Precise  []int64
	Broad    []int64
	Fallback []int64
}

// key hashes a kind and its parts into a signed 64-bit key (both SQLite's
// INTEGER and PostgreSQL's BIGINT are signed).
func key(kind byte, parts ...string) int64 {
	h := fnv.New64a()
	h.Write([]byte{kind})
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return int64(h.Sum64())
}

// pair orders two skeletons so that word order does not matter.
func pair(a, b string) (string, string) {
	if a > b {
		return b, a
	}
	return a, b
}

func first(s string) string { return s[:1] }

// joined is the skeleton of a whole field ("Məhəmməd Əli" as one).
func joined(ts []Token) string {
	s := ""
	for _, t := range ts {
		s += t.Skel
	}
	return s
}

// Keys returns the blocking keys under which a child is filed. They depend
// only on the names and the birth date, so re-filing a child whose record
// did not change gives the same keys.
func Keys(p Person) []int64 {
	r := NewRecord(p)
	l, f, fa := joined(r.last), joined(r.first), joined(r.father)
	var ks []int64
	add := func(k int64) {
		if !slices.Contains(ks, k) {
			ks = append(ks, k)
		}
	}
	if l == "" || f == "" {
		for _, t := range append(append([]Token{}, r.last...), r.first...) {
			add(key(kindDate, dateKey(p.BirthDate), t.Skel))
		}
		return ks
	}
	d := dateKey(p.BirthDate)
	if !p.BirthDate.IsZero() {
		for _, t := range append(append([]Token{}, r.last...), r.first...) {
			add(key(kindDate, d, t.Skel))
		}
		add(key(kindInitial, d, first(l)))
		add(key(kindInitial, d, first(f)))
	}
	a, b := pair(l, f)
	add(key(kindNames, a, b))
	if fa != "" {
		add(key(kindFather, a, b, fa))
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
func nearDates(t time.Time) (exact, swapped, years []string) {
	exact = []string{dateKey(t)}
	if int(t.Month()) != t.Day() && t.Day() <= 12 {
		s := time.Date(t.Year(), time.Month(t.Day()), int(t.Month()), 0, 0, 0, 0, time.UTC)
		if s.Day() == int(t.Month()) {
			swapped = []string{dateKey(s)}
		}
	}
	for _, dy := range []int{-1, 1} {
		y := time.Date(t.Year()+dy, t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		if y.Day() == t.Day() {
			years = append(years, dateKey(y))
		}
	}
	return exact, swapped, years
}

// Keys returns the keys a query looks up.
func (q ParsedQuery) Keys() QueryKeys {
	var qk QueryKeys
	add := func(to *[]int64, k int64) {
		if !slices.Contains(*to, k) {
			*to = append(*to, k)
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
		exact, swapped, years := nearDates(q.BirthDate)
		close := append(append([]string{}, exact...), swapped...)
		for _, d := range append(append([]string{}, close...), years...) {
			for _, t := range names {
				add(&qk.Precise, key(kindDate, d, t.Skel))
			}
		}
		for _, t := range names {
			for _, d := range close {
				add(&qk.Fallback, key(kindInitial, d, first(t.Skel)))
			}
		}
	}
	for i, a := range names {
		for j, b := range names[i+1:] {
			x, y := pair(a.Skel, b.Skel)
			add(&qk.Broad, key(kindNames, x, y))
			for _, f := range fathers {
				add(&qk.Precise, key(kindFather, x, y, f.Skel))
			}
			if len(fathers) == 0 { // a third word may be the father's name without oğlu/qızı
				for k, c := range names {
					if k != i && k != i+1+j {
						add(&qk.Precise, key(kindFather, x, y, c.Skel))
					}
				}
			}
		}
	}
	return qk
}
