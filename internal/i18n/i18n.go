// Package i18n holds Dayaq's message catalogues (Azerbaijani, Russian,
// English) and picks the user's language. Every user-visible string comes
// from here; Azerbaijani is the default.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a supported language tag: "az", "ru" or "en".
type Lang string

const (
	AZ Lang = "az"
	RU Lang = "ru"
	EN Lang = "en"

	// Default is the language used when the user has not chosen one.
	Default = AZ
)

// Langs lists the supported languages in the order the switch shows them.
func Langs() []Lang { return []Lang{AZ, RU, EN} }

// Parse returns the supported language named by s, and whether it is one.
func Parse(s string) (Lang, bool) {
	l := Lang(strings.ToLower(strings.TrimSpace(s)))
	if slices.Contains(Langs(), l) {
		return l, true
	}
	return "", false
}

// String returns the tag as text: "az", "ru" or "en".
func (l Lang) String() string { return string(l) }

// Tag returns the BCP 47 tag of l.
func (l Lang) Tag() language.Tag { return language.Make(string(l)) }

//go:embed catalog/*.json
var catalogFS embed.FS

// message is either a plain string or plural forms keyed by CLDR category.
type message struct {
	text   string
	plural map[string]string
}

func (m *message) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &m.text)
	}
	return json.Unmarshal(b, &m.plural)
}

// Catalog holds the messages of every supported language.
type Catalog struct {
	msgs    map[Lang]map[string]message
	matcher language.Matcher
}

// Load reads the embedded catalogues. Each language has its main file
// (catalog/az.json) and may have one more per feature (catalog/cases.az.json),
// so that a feature's strings live beside each other; a key defined twice
// for one language is an error.
func Load() (*Catalog, error) { return load(catalogFS) }

func load(catalogFS fs.FS) (*Catalog, error) {
	c := &Catalog{msgs: map[Lang]map[string]message{}}
	tags := make([]language.Tag, 0, len(Langs()))
	for _, l := range Langs() {
		files, err := fs.Glob(catalogFS, path.Join("catalog", "*"+string(l)+".json"))
		if err != nil {
			return nil, fmt.Errorf("i18n: list %s catalogues: %w", l, err)
		}
		m := map[string]message{}
		for _, f := range files {
			base := path.Base(f)
			if base != string(l)+".json" && !strings.HasSuffix(base, "."+string(l)+".json") {
				continue
			}
			b, err := fs.ReadFile(catalogFS, f)
			if err != nil {
				return nil, fmt.Errorf("i18n: read %s: %w", f, err)
			}
			part := map[string]message{}
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("i18n: parse %s: %w", f, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("i18n: key %q defined twice in the %s catalogues (again in %s)", k, l, base)
				}
				m[k] = v
			}
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("i18n: no %s catalogue", l)
		}
		c.msgs[l] = m
		tags = append(tags, l.Tag())
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// MustLoad is Load for program start and tests, where the embedded
// catalogues are known to parse (a test checks them).
func MustLoad() *Catalog {
	c, err := Load()
	if err != nil {
		panic(err)
	}
	return c
}

// Match picks the best supported language for an Accept-Language header,
// falling back to the default.
func (c *Catalog) Match(acceptLanguage string) Lang {
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return Default
	}
	_, idx, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return Default
	}
	return Langs()[idx]
}

// Has reports whether key exists in l's catalogue.
func (c *Catalog) Has(l Lang, key string) bool {
	_, ok := c.msgs[l][key]
	return ok
}

// Keys returns the sorted keys of l's catalogue.
func (c *Catalog) Keys(l Lang) []string {
	keys := make([]string, 0, len(c.msgs[l]))
	for k := range c.msgs[l] {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// Missing marks a key that no catalogue holds; tests look for it.
const Missing = "⟦"

// T translates key into l, formatting args into it with fmt verbs. A
// missing key renders as ⟦key⟧ so that it is seen and caught by tests.
func (c *Catalog) T(l Lang, key string, args ...any) string {
	m, ok := c.msgs[l][key]
	if !ok {
		m, ok = c.msgs[Default][key]
	}
	if !ok || m.plural != nil {
		return Missing + key + "⟧"
	}
	if len(args) == 0 {
		return m.text
	}
	return fmt.Sprintf(m.text, args...)
}

// N translates a plural message for count n; the text may use %[1]d for n
// and further verbs for args.
func (c *Catalog) N(l Lang, key string, n int, args ...any) string {
	m, ok := c.msgs[l][key]
	if !ok || m.plural == nil {
		return Missing + key + "⟧"
	}
	form, ok := m.plural[pluralCategory(l, n)]
	if !ok {
		form = m.plural["other"]
	}
	if !strings.Contains(form, "%") {
		return form // "one child": Sprintf would append %!(EXTRA int=1)
	}
	return fmt.Sprintf(form, append([]any{n}, args...)...)
}

// pluralCategory returns the CLDR plural category of the integer n in l.
func pluralCategory(l Lang, n int) string {
	if n < 0 {
		n = -n
	}
	switch l {
	case RU:
		mod10, mod100 := n%10, n%100
		switch {
		case mod10 == 1 && mod100 != 11:
			return "one"
		case mod10 >= 2 && mod10 <= 4 && (mod100 < 12 || mod100 > 14):
			return "few"
		default:
			return "many"
		}
	default: // az, en
		if n == 1 {
			return "one"
		}
		return "other"
	}
}

// Number formats an integer with the grouping of l: az 1.234.567,
// ru 1 234 567 (narrow no-break space), en 1,234,567.
func Number(l Lang, n int64) string {
	sep := map[Lang]string{AZ: ".", RU: "\u202f", EN: ","}[l]
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// Localizer translates into one language; templates and handlers hold one
// per request.
type Localizer struct {
	Lang Lang
	cat  *Catalog
}

// For returns a Localizer for l.
func (c *Catalog) For(l Lang) Localizer { return Localizer{Lang: l, cat: c} }

// T translates key (see Catalog.T).
func (l Localizer) T(key string, args ...any) string { return l.cat.T(l.Lang, key, args...) }

// N translates a plural message for n (see Catalog.N).
func (l Localizer) N(key string, n int, args ...any) string { return l.cat.N(l.Lang, key, n, args...) }

// Num formats n with the language's digit grouping.
func (l Localizer) Num(n int64) string { return Number(l.Lang, n) }
