package match

import (
	"slices"
	"strings"
	"time"

	"dayaq/internal/apperr"
)

// Level is how sure a match is.
type Level string

const (
	// Exact: every name given agrees (in any spelling or script) and so
	// does the birth date.
	Exact Level = "exact"
	// Strong: the birth date agrees and the names differ by a typo at
	// most. Never reached without the exact birth date, so a namesake
	// born on another day is never strong.
	Strong Level = "strong"
	// Possible: worth a look; a person decides.
	Possible Level = "possible"
)

// MinScore is the least score a candidate needs to be shown.
const MinScore = 0.45

// Reason is one readable ground for a match: a catalogue key ("match.
// reason.surname_same") and its arguments.
type Reason struct {
	Key  string
	Args []any
}

// Result is a candidate's score in [0,1], its level and the reasons.
type Result struct {
	Score   float64
	Level   Level
	Reasons []Reason
}

// Record is a roster entry parsed for scoring; NewRecord makes it once.
type Record struct {
	last, first, father []Token
	birth               time.Time
	school              string
}

// NewRecord parses a person's fields.
func NewRecord(p Person) Record {
	return Record{
		last:   fieldName(p.LastName, false),
		first:  fieldName(p.FirstName, false),
		father: fieldName(p.Patronymic, true),
		birth:  p.BirthDate,
		school: strings.TrimSpace(p.School),
	}
}

// ParsedQuery is a query parsed once, to be scored against many records.
type ParsedQuery struct {
	Name      Name
	BirthDate time.Time
	School    string
}

// Parse parses a query.
func Parse(q Query) ParsedQuery {
	return ParsedQuery{Name: ParseName(q.Name), BirthDate: q.BirthDate, School: strings.TrimSpace(q.School)}
}

// role is a part of a name.
type role int

const (
	roleLast role = iota
	roleFirst
	roleFather
	nRoles
)

// weights of the roles in the name score: the father's name counts only
// when the query gives one.
func (r role) weight() float64 {
	if r == roleFather {
		return 0.2
	}
	return 0.4
}

type slot struct {
	role role
	tok  Token
	w    float64
}

func slots(r *Record) []slot {
	var ss []slot
	for ro, ts := range [][]Token{r.last, r.first, r.father} {
		for _, t := range ts {
			ss = append(ss, slot{role: role(ro), tok: t, w: role(ro).weight() / float64(len(ts))})
		}
	}
	return ss
}

// agreement of one query word with one word of the record.
type agreement struct {
	sim   float64
	dist  int
	same  bool // the same letters once folded
	query int  // the query word's position
}

// minWordSimilarity is the least similarity for which a query word counts
// towards a record's word: below it the pair scores nothing.
const minWordSimilarity = 0.6

// assign finds the best one-to-one assignment of the query's words to the
// record's, in any order. A word marked as the father's name goes only to
// the father's name.
func assign(qs []Token, ss []slot) (best []int, bestSum float64) {
	cur := make([]int, len(qs)) // the slot of each query word, -1 for none
	used := make([]bool, len(ss))
	best = make([]int, len(qs))
	bestSum = -1
	var rec func(i int, sum float64)
	rec = func(i int, sum float64) {
		if i == len(qs) {
			if sum > bestSum {
				bestSum = sum
				copy(best, cur)
			}
			return
		}
		cur[i] = -1
		rec(i+1, sum)
		for j, s := range ss {
			if used[j] || (qs[i].Patronymic && s.role != roleFather) {
				continue
			}
			sim := similarity(qs[i].Skel, s.tok.Skel)
			if sim < minWordSimilarity {
				continue
			}
			used[j], cur[i] = true, j
			rec(i+1, sum+s.w*sim)
			used[j], cur[i] = false, -1
		}
	}
	rec(0, 0)
	return best, bestSum
}

// similarity of two skeletons: one less a share of the letters that differ.
func similarity(a, b string) float64 {
	if a == b {
		return 1
	}
	d := distance(a, b)
	return 1 - float64(d)/float64(max(len(a), len(b), 1))
}

// distance is the optimal-string-alignment (restricted Damerau–Levenshtein)
// distance of two skeletons: insertions, deletions, substitutions and
// swaps of neighbours.
func distance(a, b string) int {
	if a == b {
		return 0
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return max(la, lb)
	}
	// three rows of the matrix
	prev2 := make([]int, lb+1)
	prev := make([]int, lb+1)
	cur := make([]int, lb+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// dateAgreement grades two birth dates.
type dateAgreement int

const (
	dateUnknown dateAgreement = iota
	dateSame
	dateSwapped // day and month swapped
	dateYearOff // the year one off
	dateClose   // one of day, month or year differs by a slip
	dateDiffers
)

func compareDates(q, r time.Time) dateAgreement {
	switch {
	case q.IsZero() || r.IsZero():
		return dateUnknown
	case q.Equal(r):
		return dateSame
	case q.Year() == r.Year() && q.Day() == int(r.Month()) && int(q.Month()) == r.Day():
		return dateSwapped
	case q.Month() == r.Month() && q.Day() == r.Day() && (q.Year()-r.Year() == 1 || r.Year()-q.Year() == 1):
		return dateYearOff
	}
	same := 0
	if q.Year() == r.Year() {
		same++
	}
	if q.Month() == r.Month() {
		same++
	}
	if q.Day() == r.Day() {
		same++
	}
	if same == 2 && oneDigit(q, r) {
		return dateClose
	}
	return dateDiffers
}

// oneDigit reports whether two dates written YYYYMMDD differ in one digit
// or by two neighbouring digits swapped (a typing slip).
func oneDigit(a, b time.Time) bool {
	x, y := dateKey(a), dateKey(b)
	diff := 0
	var at []int
	for i := range x {
		if x[i] != y[i] {
			diff++
			at = append(at, i)
		}
	}
	return diff == 1 || (diff == 2 && at[1] == at[0]+1 && x[at[0]] == y[at[1]] && x[at[1]] == y[at[0]])
}

func (d dateAgreement) weight() float64 {
	switch d {
	case dateSame:
		return 1
	case dateSwapped:
		return 0.7
	case dateYearOff:
		return 0.6
	case dateClose:
		return 0.5
	case dateUnknown:
		return 0.5
	}
	return 0
}

// Score weighs a record against a query.
//
// The name score is the best assignment of the query's words to the
// record's surname, first name and father's name (weights 0.4, 0.4, 0.2;
// the father's only when the query names one), each word scored by the
// edit distance of skeletons. The total is 0.6 name + 0.4 birth date
// (same 1, day and month swapped 0.7, year off by one 0.6, a slip in one
// digit 0.5, unknown 0.5, different 0), plus 0.04 for the same school.
func Score(q ParsedQuery, r Record) Result {
	ss := slots(&r)
	qs := q.Name.Tokens
	best, sum := assign(qs, ss)

	var res Result
	// What each role got: the best word assigned to it.
	type got struct {
		ok   bool
		a    agreement
		dist int
	}
	var roles [nRoles]got
	hasRole := [nRoles]bool{len(r.last) > 0, len(r.first) > 0, len(r.father) > 0}
	unassigned := 0
	fatherAsked := false
	for i, j := range best {
		if qs[i].Patronymic {
			fatherAsked = true
		}
		if j < 0 {
			unassigned++
			continue
		}
		s := ss[j]
		if s.role == roleFather {
			fatherAsked = true
		}
		a := agreement{sim: similarity(qs[i].Skel, s.tok.Skel), dist: distance(qs[i].Skel, s.tok.Skel),
			same: qs[i].Folded == s.tok.Folded, query: i}
		g := &roles[s.role]
		if !g.ok || a.sim > g.a.sim {
			g.ok, g.a = true, a
		}
		g.dist += a.dist
	}
	denom := 0.0
	for ro := range nRoles {
		if hasRole[ro] && (ro != roleFather || fatherAsked) {
			denom += ro.weight()
		}
	}
	name := 0.0
	if denom > 0 {
		name = sum / denom
	}
	name = max(0, name-0.05*float64(unassigned))
	dates := compareDates(q.BirthDate, r.birth)
	res.Score = 0.6*name + 0.4*dates.weight()
	sameSchool := q.School != "" && strings.EqualFold(q.School, r.school)
	if sameSchool {
		res.Score += 0.04
	}
	res.Score = min(1, max(0, res.Score))

	// Reasons, in a fixed order: surname, first name, father, order, date, school.
	keys := [nRoles]string{"surname", "first_name", "patronymic"}
	for ro := range nRoles {
		g := roles[ro]
		switch {
		case !hasRole[ro] || (ro == roleFather && !fatherAsked):
			continue
		case !g.ok && ro == roleFather && q.Name.Marker:
			res.Reasons = append(res.Reasons, reasonFor(keys[ro], "differs"))
		case !g.ok:
			res.Reasons = append(res.Reasons, reasonFor(keys[ro], "missing"))
		case g.a.same:
			res.Reasons = append(res.Reasons, reasonFor(keys[ro], "same"))
		case g.a.dist == 0:
			res.Reasons = append(res.Reasons, reasonFor(keys[ro], "variant"))
		case g.a.dist == 1:
			res.Reasons = append(res.Reasons, reasonFor(keys[ro], "one_letter"))
		case g.a.dist == 2:
			res.Reasons = append(res.Reasons, reasonFor(keys[ro], "two_letters"))
		default:
			res.Reasons = append(res.Reasons, reasonFor(keys[ro], "differs"))
		}
	}
	if roles[roleLast].ok && roles[roleFirst].ok && roles[roleFirst].a.query < roles[roleLast].a.query {
		res.Reasons = append(res.Reasons, Reason{Key: "match.reason.order_first_last"})
	}
	switch dates {
	case dateSame:
		res.Reasons = append(res.Reasons, Reason{Key: "match.reason.birth_same"})
	case dateSwapped:
		res.Reasons = append(res.Reasons, Reason{Key: "match.reason.birth_swapped"})
	case dateYearOff:
		res.Reasons = append(res.Reasons, Reason{Key: "match.reason.birth_year_off"})
	case dateClose:
		res.Reasons = append(res.Reasons, Reason{Key: "match.reason.birth_close"})
	case dateDiffers:
		res.Reasons = append(res.Reasons, Reason{Key: "match.reason.birth_differs"})
	default:
		res.Reasons = append(res.Reasons, Reason{Key: "match.reason.birth_unknown"})
	}
	if sameSchool {
		res.Reasons = append(res.Reasons, Reason{Key: "match.reason.school_same", Args: []any{r.school}})
	}

	// The level. Strong and exact need the birth date itself: a namesake
	// born on another day, or a child who is not on the roster but shares
	// a name with one who is, stays possible at most.
	namesAgree := func(maxDist int) bool {
		for ro := range nRoles {
			if !hasRole[ro] || (ro == roleFather && !fatherAsked) {
				continue
			}
			if !roles[ro].ok || roles[ro].dist > maxDist {
				return false
			}
		}
		return roles[roleLast].ok && roles[roleFirst].ok
	}
	switch {
	case dates == dateSame && unassigned == 0 && namesAgree(0):
		res.Level = Exact
	case dates == dateSame && namesAgree(1) && name >= 0.8:
		res.Level = Strong
	default:
		res.Level = Possible
	}
	return res
}

func reasonFor(part, how string) Reason {
	return Reason{Key: "match.reason." + part + "_" + how}
}

// ReasonKeys lists every key a Reason may carry, for the catalogue test.
func ReasonKeys() []string {
	var ks []string
	for _, p := range []string{"surname", "first_name", "patronymic"} {
		for _, h := range []string{"missing", "same", "variant", "one_letter", "two_letters", "differs"} {
			ks = append(ks, "match.reason."+p+"_"+h)
		}
	}
	ks = append(ks, "match.reason.order_first_last", "match.reason.birth_same", "match.reason.birth_swapped",
		"match.reason.birth_year_off", "match.reason.birth_close", "match.reason.birth_differs",
		"match.reason.birth_unknown", "match.reason.school_same")
	slices.Sort(ks)
	return ks
}

// Candidate is a scored record, identified by the caller's ID.
type Candidate struct {
	ID int64
	Result
}

// Rank scores records against q, drops those below MinScore and returns at
// most limit, best first (see Best).
func Rank(q ParsedQuery, ids []int64, records []Record, limit int) []Candidate {
	var cs []Candidate
	for i, r := range records {
		if res := Score(q, r); res.Score >= MinScore {
			cs = append(cs, Candidate{ID: ids[i], Result: res})
		}
	}
	return Best(cs, limit)
}

// Best returns at most limit of the scored candidates, best first (ties by
// ID, so the order is stable), leaving cs as it was.
func Best(cs []Candidate, limit int) []Candidate {
	cs = slices.Clone(cs)
	slices.SortFunc(cs, func(a, b Candidate) int {
		switch {
		case a.Score > b.Score:
			return -1
		case a.Score < b.Score:
			return 1
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	if len(cs) > limit {
		cs = cs[:limit]
	}
	return cs
}

// Validate checks a query as it comes from a form or the API: a name with
// at least one letter, not too long; a school code not too long.
func (q Query) Validate() error {
	var fs []apperr.FieldError
	switch n := len([]rune(q.Name)); {
	case len(ParseName(q.Name).Tokens) == 0:
		fs = append(fs, apperr.Field("name", "error.required"))
	case n > 200:
		fs = append(fs, apperr.Field("name", "error.too_long", 200))
	}
	if len([]rune(q.School)) > 64 {
		fs = append(fs, apperr.Field("school_code", "error.too_long", 64))
	}
	if !q.BirthDate.IsZero() && (q.BirthDate.Year() < 1900 || q.BirthDate.Year() > 2200) {
		fs = append(fs, apperr.Field("birth_date", "match.error.birth_date"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// ParseDate reads a birth date as people type it: YYYY-MM-DD or DD.MM.YYYY.
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", "02.01.2006", "2.1.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
