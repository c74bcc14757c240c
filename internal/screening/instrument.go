// Package screening holds the vulnerable-group identification rules as data
// and arithmetic: instruments (items, scales, derived scores, bands),
// scoring an answer set against the exact version it was given in, the
// city's risk rules and the explanation of a level. It does no I/O.
package screening

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// ItemKind is what an item asks.
type ItemKind string

const (
	Category ItemKind = "category" // yes/no, with an evidence note and a date
	Sign     ItemKind = "sign"     // observed, with how often and since when
	Likert   ItemKind = "likert"   // one value of an answer scale
)

// Informant is who answered.
type Informant string

const (
	Teacher Informant = "teacher"
	Parent  Informant = "parent"
	Self    Informant = "self"
	Staff   Informant = "staff" // school staff, for checklists
)

// Informants lists every informant.
func Informants() []Informant { return []Informant{Teacher, Parent, Self, Staff} }

// Valid reports whether i is a known informant.
func (i Informant) Valid() bool { return slices.Contains(Informants(), i) }

// Text is a wording in each language: "az", "ru", "en".
type Text map[string]string

// In returns t in lang, falling back to Azerbaijani, then English.
func (t Text) In(lang string) string {
	if s := t[lang]; s != "" {
		return s
	}
	if s := t["az"]; s != "" {
		return s
	}
	return t["en"]
}

// Option is one answer on a scale.
type Option struct {
	Value int  `json:"value"`
	Label Text `json:"label,omitempty"`
}

// Item is one question. Items are keyed by Code: the item number on the
// paper form ("1" … "25") or a short name ("orphan").
type Item struct {
	Code    string   `json:"code"`
	Kind    ItemKind `json:"kind"`
	Short   string   `json:"short,omitempty"` // a short code for the item, where the wording may not be shipped
	Text    Text     `json:"text,omitempty"`  // the wording; empty for licensed wording not loaded
	Options []Option `json:"options,omitempty"`
	Reverse bool     `json:"reverse,omitempty"`  // scored max − value
	HasText bool     `json:"has_text,omitempty"` // takes free text ("other")
}

// Combine is how a scale combines its items.
type Combine string

const (
	Sum     Combine = "sum"     // the sum; missing unless at least MinAnswered items are answered
	Prorate Combine = "prorate" // round(mean × n) when at least MinAnswered are answered, else missing
	Count   Combine = "count"   // how many items are ticked (value > 0)
)

// Scale is a score computed from items.
type Scale struct {
	Code        string   `json:"code"`
	Name        Text     `json:"name"`
	Items       []string `json:"items"`
	Combine     Combine  `json:"combine"`
	MinAnswered int      `json:"min_answered,omitempty"` // 0: every item
}

// Derived is a score that sums other scores; missing when a part is.
type Derived struct {
	Code  string   `json:"code"`
	Name  Text     `json:"name"`
	Parts []string `json:"parts"`
}

// Band is a named range of a score, inclusive.
type Band struct {
	Code string `json:"code"`
	Min  int    `json:"min"`
	Max  int    `json:"max"`
}

// BandSet is one published banding for one informant and age range.
type BandSet struct {
	Scheme    string            `json:"scheme"` // e.g. "four_band", "three_band", "cutoff"
	Informant Informant         `json:"informant"`
	MinAge    int               `json:"min_age"`
	MaxAge    int               `json:"max_age"`
	Source    string            `json:"source"` // the publication the cut-offs come from
	Norms     string            `json:"norms"`  // the population they were set on
	Scores    map[string][]Band `json:"scores"` // score code → bands, in order
}

// Impact is the impact supplement (the SDQ's): which impact items each
// informant answers; each is recoded 0 not at all, 0 a little, 1 quite a
// lot, 2 a great deal, and summed. "No difficulties" scores 0.
type Impact struct {
	Code  string                 `json:"code"`
	Name  Text                   `json:"name"`
	Items map[Informant][]string `json:"items"`
}

// ImpactItems are the impact supplement's item codes.
func ImpactItems() []string {
	return []string{"distress", "home", "friendships", "classroom", "leisure", "peers"}
}

// Difficulties are the impact supplement's first question's answers.
func Difficulties() []string { return []string{"no", "minor", "definite", "severe"} }

// Instrument is one version of a screening instrument.
type Instrument struct {
	Code       string      `json:"code"`
	Version    int         `json:"version"`
	Name       Text        `json:"name"`
	Abbr       string      `json:"abbr"`                 // the short name explanations use: "SDQ"
	Source     string      `json:"source"`               // where its items and scoring come from
	Licence    string      `json:"licence,omitempty"`    // the terms it may be used under
	NoWording  bool        `json:"no_wording,omitempty"` // wording may not be shipped: keyed by item number
	MinAge     int         `json:"min_age"`
	MaxAge     int         `json:"max_age"`
	Informants []Informant `json:"informants"`
	Items      []Item      `json:"items"`
	Scales     []Scale     `json:"scales,omitempty"`
	Derived    []Derived   `json:"derived,omitempty"`
	Impact     *Impact     `json:"impact,omitempty"`
	Bands      []BandSet   `json:"bands,omitempty"`
}

// Item returns the item with code c.
func (in Instrument) Item(c string) (Item, bool) {
	i := slices.IndexFunc(in.Items, func(it Item) bool { return it.Code == c })
	if i < 0 {
		return Item{}, false
	}
	return in.Items[i], true
}

// ScoreCodes lists the codes of every score in order: scales, derived
// scores, impact.
func (in Instrument) ScoreCodes() []string {
	var cs []string
	for _, s := range in.Scales {
		cs = append(cs, s.Code)
	}
	for _, d := range in.Derived {
		cs = append(cs, d.Code)
	}
	if in.Impact != nil {
		cs = append(cs, in.Impact.Code)
	}
	return cs
}

// ScoreName is the name of score c in lang.
func (in Instrument) ScoreName(c, lang string) string {
	for _, s := range in.Scales {
		if s.Code == c {
			return s.Name.In(lang)
		}
	}
	for _, d := range in.Derived {
		if d.Code == c {
			return d.Name.In(lang)
		}
	}
	if in.Impact != nil && in.Impact.Code == c {
		return in.Impact.Name.In(lang)
	}
	return c
}

// bounds returns an item's lowest and highest value.
func (it Item) bounds() (int, int) {
	switch it.Kind {
	case Category:
		return 0, 1
	case Sign:
		return 0, len(SignFrequencies())
	}
	if len(it.Options) == 0 {
		return 0, 0
	}
	lo, hi := it.Options[0].Value, it.Options[0].Value
	for _, o := range it.Options {
		lo, hi = min(lo, o.Value), max(hi, o.Value)
	}
	return lo, hi
}

// SignFrequencies are how often a sign is seen, values 1…3 (0: not seen).
func SignFrequencies() []string { return []string{"once", "sometimes", "often"} }

// Problem is one thing wrong with an instrument definition or an answer
// set: the field at fault and a catalogue key.
type Problem struct {
	Field string
	Key   string
}

func (p Problem) Error() string { return p.Field + ": " + p.Key }

// Check reports what is wrong with an instrument definition, nil when it
// can be used.
func (in Instrument) Check() []Problem {
	var ps []Problem
	add := func(f, k string) { ps = append(ps, Problem{f, k}) }
	if in.Code == "" || strings.ContainsAny(in.Code, " /?#") {
		add("code", "screening.error.code")
	}
	if in.Version < 1 {
		add("version", "screening.error.version")
	}
	if in.Name.In("az") == "" {
		add("name", "error.required")
	}
	if len(in.Informants) == 0 {
		add("informants", "error.required")
	}
	for _, i := range in.Informants {
		if !i.Valid() {
			add("informants", "screening.error.informant")
		}
	}
	seen := map[string]bool{}
	for n, it := range in.Items {
		f := fmt.Sprintf("items[%d]", n)
		if it.Code == "" || seen[it.Code] {
			add(f+".code", "screening.error.item_code")
		}
		seen[it.Code] = true
		switch it.Kind {
		case Category, Sign:
		case Likert:
			if len(it.Options) < 2 {
				add(f+".options", "screening.error.options")
			}
		default:
			add(f+".kind", "screening.error.item_kind")
		}
	}
	scores := map[string]bool{}
	for n, s := range in.Scales {
		f := fmt.Sprintf("scales[%d]", n)
		if s.Code == "" || scores[s.Code] {
			add(f+".code", "screening.error.score_code")
		}
		scores[s.Code] = true
		if len(s.Items) == 0 || s.MinAnswered > len(s.Items) {
			add(f+".items", "screening.error.scale_items")
		}
		for _, c := range s.Items {
			if !seen[c] {
				add(f+".items", "screening.error.scale_items")
			}
		}
		if !slices.Contains([]Combine{Sum, Prorate, Count}, s.Combine) {
			add(f+".combine", "screening.error.combine")
		}
	}
	for n, d := range in.Derived {
		f := fmt.Sprintf("derived[%d]", n)
		if d.Code == "" || scores[d.Code] {
			add(f+".code", "screening.error.score_code")
		}
		for _, p := range d.Parts {
			if !scores[p] {
				add(f+".parts", "screening.error.parts")
			}
		}
		scores[d.Code] = true
	}
	if in.Impact != nil {
		scores[in.Impact.Code] = true
	}
	for n, b := range in.Bands {
		f := fmt.Sprintf("bands[%d]", n)
		if !b.Informant.Valid() || b.Source == "" || b.MaxAge < b.MinAge {
			add(f, "screening.error.bands")
		}
		for c := range b.Scores {
			if !scores[c] {
				add(f+".scores", "screening.error.score_code")
			}
		}
	}
	return ps
}

// Detail is what an item's answer carries besides its value: the evidence
// note and date of a category, the date a sign was first seen, free text.
type Detail struct {
	Evidence string `json:"evidence,omitempty"`
	Date     string `json:"date,omitempty"`  // YYYY-MM-DD: the evidence's date
	Since    string `json:"since,omitempty"` // YYYY-MM-DD: a sign seen since
	Text     string `json:"text,omitempty"`
}

// ImpactAnswers are the impact supplement's raw answers: difficulties
// "no|minor|definite|severe", the others 0 not at all … 3 a great deal.
type ImpactAnswers struct {
	Difficulties string         `json:"difficulties"`
	Items        map[string]int `json:"-"`
}

// Answers is one answer set as ticked on the form.
type Answers struct {
	Informant Informant         `json:"informant"`
	Age       int               `json:"age"`
	Values    Values            `json:"answers"`
	Details   map[string]Detail `json:"details,omitempty"`
	Impact    *ImpactAnswers    `json:"impact,omitempty"`
}

// Validate reports what is wrong with a for in: the field named as the
// request names it ("answers.26", "informant", "impact.distress").
func (in Instrument) Validate(a Answers) []Problem {
	var ps []Problem
	add := func(f, k string) { ps = append(ps, Problem{f, k}) }
	switch {
	case a.Informant == "":
		add("informant", "error.required")
	case !slices.Contains(in.Informants, a.Informant):
		add("informant", "screening.error.informant")
	}
	if a.Age != 0 && (a.Age < in.MinAge || a.Age > in.MaxAge || !in.agesFit(a.Informant, a.Age)) {
		add("age", "screening.error.age")
	}
	codes := make([]string, 0, len(a.Values))
	for c := range a.Values {
		codes = append(codes, c)
	}
	slices.SortFunc(codes, compareCodes)
	for _, c := range codes {
		it, ok := in.Item(c)
		if !ok {
			add("answers."+c, "screening.error.unknown_item")
			continue
		}
		lo, hi := it.bounds()
		v := a.Values[c]
		if v < lo || v > hi || (it.Kind == Likert && !slices.ContainsFunc(it.Options, func(o Option) bool { return o.Value == v })) {
			add("answers."+c, "screening.error.out_of_range")
		}
	}
	for c, d := range a.Details {
		if _, ok := in.Item(c); !ok {
			add("details."+c, "screening.error.unknown_item")
		}
		for f, s := range map[string]string{"date": d.Date, "since": d.Since} {
			if s != "" && !validDate(s) {
				add("details."+c+"."+f, "screening.error.date")
			}
		}
		if len(d.Evidence) > 1000 || len(d.Text) > 1000 {
			add("details."+c, "error.too_long")
		}
	}
	if a.Impact != nil {
		if in.Impact == nil {
			add("impact", "screening.error.no_impact")
		} else {
			if a.Impact.Difficulties != "" && !slices.Contains(Difficulties(), a.Impact.Difficulties) {
				add("impact.difficulties", "screening.error.out_of_range")
			}
			for c, v := range a.Impact.Items {
				switch {
				case !slices.Contains(ImpactItems(), c):
					add("impact."+c, "screening.error.unknown_item")
				case v < 0 || v > 3:
					add("impact."+c, "screening.error.out_of_range")
				}
			}
		}
	}
	return ps
}

// agesFit reports whether the instrument's bands for informant i, if it
// has any, cover age (the SDQ's self-report is from 11).
func (in Instrument) agesFit(i Informant, age int) bool {
	some := false
	for _, b := range in.Bands {
		if b.Informant == i {
			some = true
			if age >= b.MinAge && age <= b.MaxAge {
				return true
			}
		}
	}
	return !some
}

// compareCodes orders item codes numerically when they are numbers.
func compareCodes(a, b string) int {
	na, ea := strconv.Atoi(a)
	nb, eb := strconv.Atoi(b)
	if ea == nil && eb == nil {
		return na - nb
	}
	return strings.Compare(a, b)
}

func validDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	y, e1 := strconv.Atoi(s[:4])
	m, e2 := strconv.Atoi(s[5:7])
	d, e3 := strconv.Atoi(s[8:])
	return e1 == nil && e2 == nil && e3 == nil && y > 1900 && m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// Score is one computed score: nil when missing, with its band ("" when
// no band applies).
type Score struct {
	Score *int   `json:"score"`
	Band  string `json:"band"`
}

// Result is an answer set scored: every score by code, and the band set
// used (nil when none fits the informant and age).
type Result struct {
	Scores map[string]Score
	Bands  *BandSet
}

// Value returns score c and whether it is present.
func (r Result) Value(c string) (int, bool) {
	s, ok := r.Scores[c]
	if !ok || s.Score == nil {
		return 0, false
	}
	return *s.Score, true
}

// value returns item c's value as scored (reversed where the item says).
func (in Instrument) value(a Answers, c string) (int, bool) {
	v, ok := a.Values[c]
	if !ok {
		return 0, false
	}
	it, ok := in.Item(c)
	if !ok {
		return 0, false
	}
	if it.Reverse {
		lo, hi := it.bounds()
		v = hi + lo - v
	}
	return v, true
}

// Score scores a (which Validate has passed) against in, choosing the
// first band set of scheme (any scheme when "") that fits a's informant
// and age.
func (in Instrument) Score(a Answers, scheme string) Result {
	r := Result{Scores: map[string]Score{}}
	vals := map[string]*int{}
	for _, s := range in.Scales {
		vals[s.Code] = in.scale(s, a)
	}
	for _, d := range in.Derived {
		sum, ok := 0, true
		for _, p := range d.Parts {
			if v := vals[p]; v != nil {
				sum += *v
			} else {
				ok = false
			}
		}
		if ok {
			vals[d.Code] = &sum
		} else {
			vals[d.Code] = nil
		}
	}
	if in.Impact != nil {
		vals[in.Impact.Code] = in.impact(a)
	}
	for _, b := range in.Bands {
		if (scheme == "" || b.Scheme == scheme) && b.Informant == a.Informant && (a.Age == 0 || (a.Age >= b.MinAge && a.Age <= b.MaxAge)) {
			r.Bands = &b
			break
		}
	}
	for c, v := range vals {
		s := Score{Score: v}
		if v != nil && r.Bands != nil {
			for _, b := range r.Bands.Scores[c] {
				if *v >= b.Min && *v <= b.Max {
					s.Band = b.Code
					break
				}
			}
		}
		r.Scores[c] = s
	}
	return r
}

func (in Instrument) scale(s Scale, a Answers) *int {
	sum, n := 0, 0
	for _, c := range s.Items {
		if v, ok := in.value(a, c); ok {
			if s.Combine == Count {
				if v > 0 {
					sum++
				}
			} else {
				sum += v
			}
			n++
		}
	}
	need := s.MinAnswered
	if need == 0 {
		need = len(s.Items)
	}
	switch {
	case s.Combine == Count:
		return &sum
	case n < need || n == 0:
		return nil
	case s.Combine == Prorate:
		v := int(math.Round(float64(sum) / float64(n) * float64(len(s.Items))))
		return &v
	}
	return &sum
}

// impactRecode maps a raw impact answer (0 not at all … 3 a great deal)
// to its score: 0, 0, 1, 2.
func impactRecode(v int) int { return max(v-1, 0) }

func (in Instrument) impact(a Answers) *int {
	if a.Impact == nil || a.Impact.Difficulties == "" {
		return nil
	}
	zero := 0
	if a.Impact.Difficulties == "no" {
		return &zero
	}
	items := in.Impact.Items[a.Informant]
	if len(items) == 0 {
		return nil
	}
	sum := 0
	for _, c := range items {
		v, ok := a.Impact.Items[c]
		if !ok {
			return nil
		}
		sum += impactRecode(v)
	}
	return &sum
}

// UnmarshalJSON reads the impact supplement as the form has it: one
// object with "difficulties" and the item answers side by side.
func (ia *ImpactAnswers) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	ia.Items = map[string]int{}
	for k, v := range raw {
		if k == "difficulties" {
			if err := json.Unmarshal(v, &ia.Difficulties); err != nil {
				return &FieldError{Field: "impact.difficulties", Err: err}
			}
			continue
		}
		var n int
		if err := json.Unmarshal(v, &n); err != nil {
			return &FieldError{Field: "impact." + k, Err: err}
		}
		ia.Items[k] = n
	}
	return nil
}

// MarshalJSON writes the impact supplement as UnmarshalJSON reads it.
func (ia ImpactAnswers) MarshalJSON() ([]byte, error) {
	m := map[string]any{"difficulties": ia.Difficulties}
	for k, v := range ia.Items {
		m[k] = v
	}
	return json.Marshal(m)
}

// Values are the raw answers by item code.
type Values map[string]int

// UnmarshalJSON reads the answers, naming the item whose value is not a
// whole number.
func (v *Values) UnmarshalJSON(b []byte) error {
	// The common case, every value a whole number, in one pass; the slow
	// path below only names the item that is not.
	var fast map[string]int
	if err := json.Unmarshal(b, &fast); err == nil {
		*v = fast
		return nil
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return &FieldError{Field: "answers", Err: err}
	}
	*v = make(Values, len(raw))
	for k, r := range raw {
		var n int
		if err := json.Unmarshal(r, &n); err != nil {
			return &FieldError{Field: "answers." + k, Err: err}
		}
		(*v)[k] = n
	}
	return nil
}

// FieldError is a JSON value of the wrong type, with the field it was in.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }
