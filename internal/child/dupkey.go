package child

import (
	"slices"
	"strings"
	"unicode"
)

// DupKey is the key under which likely duplicate records meet: the
// consonant skeleton of each word of the last and first names, folded to
// ASCII (Məmmədova, Mammadova, Memmedova and MAMMADOVA all give "mmdv"),
// with doubled letters collapsed, the words sorted so that the order of
// the names does not matter. Together with the birth date it proposes
// pairs for a person to look at; it decides nothing by itself.
func DupKey(lastName, firstName string) string {
	words := strings.Fields(lastName + " " + firstName)
	out := make([]string, 0, len(words))
	for _, w := range words {
		if s := skeleton(w); s != "" {
			out = append(out, s)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

// skeleton keeps a word's consonants, folded to ASCII lower case, without
// repeats.
func skeleton(w string) string {
	var b strings.Builder
	var last rune
	for _, r := range strings.ToLowerSpecial(unicode.AzeriCase, w) {
		switch r {
		case 'ş':
			r = 's'
		case 'ç':
			r = 'c'
		case 'ğ':
			r = 'g'
		case 'a', 'e', 'i', 'o', 'u', 'y', 'ə', 'ı', 'ö', 'ü', 'w':
			continue
		}
		if r < 'a' || r > 'z' || r == last {
			continue
		}
		b.WriteRune(r)
		last = r
	}
	return b.String()
}
