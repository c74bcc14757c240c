package i18n

import (
	"fmt"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// pluralForms are the CLDR categories each language's plural messages must
// have (integers only: Dayaq counts things).
var pluralForms = map[Lang][]string{
	AZ: {"one", "other"},
	RU: {"one", "few", "many", "other"},
	EN: {"one", "other"},
}

func TestCatalogsHaveSameKeys(t *testing.T) {
	c := MustLoad()
	all := map[string]bool{}
	for _, l := range Langs() {
		if len(c.msgs[l]) == 0 {
			t.Fatalf("%s catalogue is empty", l)
		}
		for k := range c.msgs[l] {
			all[k] = true
		}
	}
	for _, l := range Langs() {
		var missing []string
		for k := range all {
			if !c.Has(l, k) {
				missing = append(missing, k)
			}
		}
		if len(missing) > 0 {
			slices.Sort(missing)
			t.Errorf("%s catalogue lacks %d keys that another has:\n\t%s", l, len(missing), strings.Join(missing, "\n\t"))
		}
	}
}

func TestCatalogMessages(t *testing.T) {
	c := MustLoad()
	for _, l := range Langs() {
		for _, k := range c.Keys(l) {
			m := c.msgs[l][k]
			if m.plural == nil {
				if strings.TrimSpace(m.text) == "" {
					t.Errorf("%s %s: empty message", l, k)
				}
				continue
			}
			for _, form := range pluralForms[l] {
				if strings.TrimSpace(m.plural[form]) == "" {
					t.Errorf("%s %s: plural message lacks the %q form", l, k, form)
				}
			}
			for form := range m.plural {
				if !slices.Contains(pluralForms[l], form) {
					t.Errorf("%s %s: plural form %q is not a category of %s", l, k, form, l)
				}
			}
		}
	}
}

// A key is plural in every language or in none: T and N do not mix.
func TestPluralnessAgrees(t *testing.T) {
	c := MustLoad()
	for _, k := range c.Keys(Default) {
		want := c.msgs[Default][k].plural != nil
		for _, l := range Langs() {
			if m, ok := c.msgs[l][k]; ok && (m.plural != nil) != want {
				t.Errorf("%s is plural in %s: %v, in %s: %v", k, Default, want, l, !want)
			}
		}
	}
}

var verbRE = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*(\*|\d+)?(\.(\*|\d+))?([a-zA-Z%])`)

// verbs maps each argument a format string uses (1-based, as %[n]) to the
// verbs it is formatted with, following fmt's numbering: a verb takes the
// argument after the previous one unless it names one.
func verbs(format string) map[int]string {
	got := map[int]string{}
	next := 1
	for _, m := range verbRE.FindAllStringSubmatch(format, -1) {
		if m[5] == "%" {
			continue
		}
		if m[1] != "" {
			next, _ = strconv.Atoi(strings.Trim(m[1], "[]"))
		}
		got[next] += m[5]
		next++
	}
	return got
}

func TestVerbs(t *testing.T) {
	for format, want := range map[string]string{
		"plain":            "map[]",
		"100%% sure":       "map[]",
		"%d of %d (%s)":    "map[1:d 2:d 3:s]",
		"%[2]s then %[1]d": "map[1:d 2:s]",
		"%[1]d child, %s":  "map[1:d 2:s]",
		"“%s”: %5.2f":      "map[1:s 2:f]",
		"Организации: новых %d, %d.": "map[1:d 2:d]",
	} {
		if got := fmt.Sprint(verbs(format)); got != want {
			t.Errorf("verbs(%q) = %s, want %s", format, got, want)
		}
	}
}

// A translation uses the same arguments with the same verbs as the
// Azerbaijani message, so none can drop or misformat one.
func TestCatalogVerbsAgree(t *testing.T) {
	c := MustLoad()
	texts := func(l Lang, k string) map[string]string {
		m := c.msgs[l][k]
		if m.plural == nil {
			return map[string]string{"": m.text}
		}
		return m.plural
	}
	for _, k := range c.Keys(Default) {
		ref := c.msgs[Default][k]
		want := verbs(ref.text)
		if ref.plural != nil {
			want = verbs(ref.plural["other"])
		}
		for _, l := range Langs() {
			if !c.Has(l, k) {
				continue // TestCatalogsHaveSameKeys reports it
			}
			for form, s := range texts(l, k) {
				got, w := verbs(s), maps.Clone(want)
				if form == "one" {
					// The "one" form may leave the count out: "one child".
					delete(got, 1)
					delete(w, 1)
				}
				if !maps.Equal(got, w) {
					t.Errorf("%s %s %s: arguments %v, but %s has %v\n\t%q", l, k, form, got, Default, w, s)
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	c := MustLoad()
	for _, tt := range []struct {
		header string
		want   Lang
	}{
		{"ru-RU,ru;q=0.9", RU},
		{"ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", RU},
		{"en-US", EN},
		{"en-GB,en;q=0.9", EN},
		{"en", EN},
		{"az", AZ},
		{"az-Latn-AZ", AZ},
		{"az-AZ,az;q=0.9,ru;q=0.8", AZ},
		{"de", AZ},
		{"de-DE,de;q=0.9", AZ},
		{"de-DE,en;q=0.5", EN},
		{"fr;q=0.9,ru;q=0.8", RU},
		{"ru;q=0.5,en;q=0.9", EN},
		{"", AZ},
		{"*", AZ},
		{"not a header ;;; q=", AZ},
	} {
		if got := c.Match(tt.header); got != tt.want {
			t.Errorf("Match(%q) = %s, want %s", tt.header, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want Lang
		ok   bool
	}{
		{"az", AZ, true},
		{"ru", RU, true},
		{"en", EN, true},
		{" RU ", RU, true},
		{"En", EN, true},
		{"", "", false},
		{"de", "", false},
		{"en-US", "", false},
		{"azz", "", false},
	} {
		got, ok := Parse(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestNumber(t *testing.T) {
	for _, tt := range []struct {
		l    Lang
		n    int64
		want string
	}{
		{AZ, 1234567, "1.234.567"},
		{EN, 1234567, "1,234,567"},
		{RU, 1234567, "1\u202f234\u202f567"},
		{AZ, 0, "0"},
		{AZ, 7, "7"},
		{EN, 999, "999"},
		{EN, 1000, "1,000"},
		{EN, 100000, "100,000"},
		{AZ, -1234, "-1.234"},
		{EN, -999, "-999"},
		{EN, -100000, "-100,000"},
		{EN, math.MaxInt64, "9,223,372,036,854,775,807"},
		{EN, math.MinInt64, "-9,223,372,036,854,775,808"},
	} {
		if got := Number(tt.l, tt.n); got != tt.want {
			t.Errorf("Number(%s, %d) = %q, want %q", tt.l, tt.n, got, tt.want)
		}
	}
}

func TestPluralCategory(t *testing.T) {
	for _, tt := range []struct {
		l    Lang
		n    int
		want string
	}{
		{RU, 0, "many"},
		{RU, 1, "one"},
		{RU, 2, "few"},
		{RU, 4, "few"},
		{RU, 5, "many"},
		{RU, 11, "many"},
		{RU, 12, "many"},
		{RU, 14, "many"},
		{RU, 21, "one"},
		{RU, 22, "few"},
		{RU, 25, "many"},
		{RU, 101, "one"},
		{RU, 111, "many"},
		{RU, 112, "many"},
		{RU, 122, "few"},
		{RU, -1, "one"},
		{AZ, 0, "other"},
		{AZ, 1, "one"},
		{AZ, 2, "other"},
		{AZ, 21, "other"},
		{EN, 1, "one"},
		{EN, 11, "other"},
	} {
		if got := pluralCategory(tt.l, tt.n); got != tt.want {
			t.Errorf("pluralCategory(%s, %d) = %q, want %q", tt.l, tt.n, got, tt.want)
		}
	}
}

// testCatalog is a small catalogue for what the embedded one lacks (plural
// messages, a key in one language only).
func testCatalog() *Catalog {
	return &Catalog{msgs: map[Lang]map[string]message{
		AZ: {
			"children": {plural: map[string]string{"one": "%d uşaq", "other": "%d uşaq"}},
			"only.az":  {text: "yalnız azərbaycanca"},
			"greeting": {text: "Salam, %s!"},
		},
		RU: {
			"children": {plural: map[string]string{"one": "%d ребёнок в %s", "few": "%d ребёнка в %s", "many": "%d детей в %s", "other": "%d ребёнка в %s"}},
			"greeting": {text: "Привет, %s!"},
		},
		EN: {
			"children": {plural: map[string]string{"one": "one child", "other": "%d children"}},
			"greeting": {text: "Hello, %s!"},
		},
	}}
}

func TestN(t *testing.T) {
	c := testCatalog()
	for _, tt := range []struct {
		l    Lang
		n    int
		args []any
		want string
	}{
		{RU, 1, []any{"школе"}, "1 ребёнок в школе"},
		{RU, 3, []any{"школе"}, "3 ребёнка в школе"},
		{RU, 5, []any{"школе"}, "5 детей в школе"},
		{RU, 11, []any{"школе"}, "11 детей в школе"},
		{RU, 21, []any{"школе"}, "21 ребёнок в школе"},
		{RU, 111, []any{"школе"}, "111 детей в школе"},
		{EN, 1, nil, "one child"},
		{EN, 2, nil, "2 children"},
		{AZ, 5, nil, "5 uşaq"},
	} {
		if got := c.N(tt.l, "children", tt.n, tt.args...); got != tt.want {
			t.Errorf("N(%s, children, %d) = %q, want %q", tt.l, tt.n, got, tt.want)
		}
	}
	if got := c.N(RU, "greeting", 2); got != "⟦greeting⟧" {
		t.Errorf("N on a plain message = %q, want the missing marker", got)
	}
	if got := c.N(RU, "no.such", 2); got != "⟦no.such⟧" {
		t.Errorf("N on a missing key = %q, want the missing marker", got)
	}
}

func TestT(t *testing.T) {
	c := testCatalog()
	for _, tt := range []struct {
		l    Lang
		key  string
		args []any
		want string
	}{
		{RU, "greeting", []any{"Ilkin"}, "Привет, Ilkin!"},
		{EN, "greeting", []any{"Ilkin"}, "Hello, Ilkin!"},
		{AZ, "greeting", []any{"İlkin"}, "Salam, İlkin!"},
		{RU, "only.az", nil, "yalnız azərbaycanca"}, // falls back to the default language
		{RU, "no.such.key", nil, "⟦no.such.key⟧"},
		{AZ, "children", nil, "⟦children⟧"}, // a plural message needs N
	} {
		if got := c.T(tt.l, tt.key, tt.args...); got != tt.want {
			t.Errorf("T(%s, %q) = %q, want %q", tt.l, tt.key, got, tt.want)
		}
	}

	embedded := MustLoad()
	for _, l := range Langs() {
		got := embedded.T(l, "no.such.key")
		if got != "⟦no.such.key⟧" || !strings.HasPrefix(got, Missing) {
			t.Errorf("T(%s, missing key) = %q, want ⟦no.such.key⟧", l, got)
		}
		if got := embedded.T(l, "app.name"); got != "Dayaq" {
			t.Errorf("T(%s, app.name) = %q", l, got)
		}
		lz := embedded.For(l)
		if lz.Lang != l || lz.T("error.required") != embedded.T(l, "error.required") || lz.Num(1000) != Number(l, 1000) {
			t.Errorf("Localizer for %s does not agree with the catalogue", l)
		}
	}
	if a, b := embedded.T(RU, "error.required"), embedded.T(EN, "error.required"); a == b {
		t.Errorf("ru and en error.required are both %q", a)
	}
}

func TestCase(t *testing.T) {
	for _, tt := range []struct {
		f        func(Lang, string) string
		name     string
		l        Lang
		in, want string
	}{
		{Upper, "Upper", AZ, "ilkin ılham", "İLKİN ILHAM"},
		{Lower, "Lower", AZ, "İLKİN ILHAM", "ilkin ılham"},
		{Upper, "Upper", AZ, "şəki, çörək, göyçay", "ŞƏKİ, ÇÖRƏK, GÖYÇAY"},
		{Lower, "Lower", AZ, "ŞƏKİ", "şəki"},
		{Upper, "Upper", EN, "ilkin", "ILKIN"},
		{Lower, "Lower", EN, "ILHAM", "ilham"},
		{Upper, "Upper", RU, "ёлка", "ЁЛКА"},
	} {
		if got := tt.f(tt.l, tt.in); got != tt.want {
			t.Errorf("%s(%s, %q) = %q, want %q", tt.name, tt.l, tt.in, got, tt.want)
		}
	}
}

func TestCollator(t *testing.T) {
	names := []string{"Zaur", "Şahin", "Sabir", "İlkin", "ılham", "Əli", "Eldar", "Çinar", "cavid", "Ömər", "Orxan"}
	Collator(AZ).SortStrings(names)
	want := []string{"cavid", "Çinar", "Eldar", "Əli", "ılham", "İlkin", "Orxan", "Ömər", "Sabir", "Şahin", "Zaur"}
	if !slices.Equal(names, want) {
		t.Errorf("Azerbaijani order = %q, want %q", names, want)
	}
}

func TestLangs(t *testing.T) {
	if got := Langs(); !slices.Equal(got, []Lang{AZ, RU, EN}) || got[0] != Default {
		t.Errorf("Langs() = %v, want [az ru en] with the default first", got)
	}
	for _, l := range Langs() {
		if l.Tag().String() != string(l) {
			t.Errorf("%s.Tag() = %s", l, l.Tag())
		}
	}
}

func TestLoadFeatureFiles(t *testing.T) {
	base := fstest.MapFS{
		"catalog/az.json": {Data: []byte(`{"a": "A az"}`)},
		"catalog/ru.json": {Data: []byte(`{"a": "A ru"}`)},
		"catalog/en.json": {Data: []byte(`{"a": "A en"}`)},
	}
	t.Run("merged", func(t *testing.T) {
		fsys := maps.Clone(base)
		fsys["catalog/cases.az.json"] = &fstest.MapFile{Data: []byte(`{"case.b": "B az"}`)}
		fsys["catalog/cases.en.json"] = &fstest.MapFile{Data: []byte(`{"case.b": "B en"}`)}
		c, err := load(fsys)
		if err != nil {
			t.Fatal(err)
		}
		if got := c.T(AZ, "case.b"); got != "B az" {
			t.Errorf("az case.b = %q", got)
		}
		if got := c.T(EN, "case.b"); got != "B en" {
			t.Errorf("en case.b = %q", got)
		}
		if c.Has(RU, "case.b") {
			t.Error("ru took a key from another language's file")
		}
	})
	t.Run("duplicate key", func(t *testing.T) {
		fsys := maps.Clone(base)
		fsys["catalog/cases.az.json"] = &fstest.MapFile{Data: []byte(`{"a": "again"}`)}
		if _, err := load(fsys); err == nil || !strings.Contains(err.Error(), `"a"`) {
			t.Errorf("duplicate key: err = %v", err)
		}
	})
	t.Run("language missing", func(t *testing.T) {
		fsys := maps.Clone(base)
		delete(fsys, "catalog/ru.json")
		if _, err := load(fsys); err == nil {
			t.Error("a missing language loaded")
		}
	})
}
