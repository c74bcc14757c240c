// Package match finds the one child behind the many ways a name reaches
// Dayaq: Azerbaijani Latin from a school roster (Məmmədova Nərmin Rəşad
// qızı), fast ASCII typing on the hotline (Memmedova Nermin), passport
// capitals, English romanisation (Khalilov, Jafarov), Russian Cyrillic as
// Russians write Azerbaijani names (Мамедова, Джафаров, Гусейнов, оглы) and
// its romanisations (Dzhafarov, Guseynov), in any word order, with or
// without the patronymic, and with a typo or two.
//
// Every spelling is reduced to a phonetic skeleton over a small alphabet
// (see Skeleton); blocking keys built from skeletons and the birth date
// find candidates through an index (see Keys and QueryKeys), and Score
// weighs a candidate against the query. The package does no I/O.
package match

import (
	"strings"
	"unicode"
)

// Token is one word of a name.
type Token struct {
	Folded string // lower-cased the Azerbaijani way, otherwise as written
	Skel   string // the phonetic skeleton, surname endings removed
	// Patronymic marks the father's name: followed by oğlu/qızı (or
	// оглы/кызы, ogly/kyzy) or written the Russian way (Рашадович).
	Patronymic bool
}

// Name is a name split into tokens, patronymic markers removed.
type Name struct {
	Tokens []Token
	// Marker is set when the name carried oğlu/qızı or a Russian
	// patronymic ending.
	Marker bool
}

// maxTokens bounds the words of a query that are considered.
const maxTokens = 6

// ParseName splits a free-text name into tokens in any script.
func ParseName(s string) Name {
	var n Name
	words := words(s)
	for i, w := range words {
		folded := fold(w)
		sk := skeleton(translit(folded))
		if sk == "" {
			continue
		}
		if isMarker(sk) && i > 0 && len(n.Tokens) > 0 {
			n.Tokens[len(n.Tokens)-1].Patronymic = true
			n.Marker = true
			continue
		}
		t := Token{Folded: folded}
		if stem, ok := russianPatronymic(sk); ok {
			sk, t.Patronymic, n.Marker = stem, true, true
		} else {
			sk = stripSurnameEnding(sk)
		}
		t.Skel = sk
		n.Tokens = append(n.Tokens, t)
		if len(n.Tokens) == maxTokens {
			break
		}
	}
	return n
}

// fieldName parses one field of a record (a surname, a first name, or a
// patronymic like "Rəşad oğlu"), whose tokens keep their role.
func fieldName(s string, patronymic bool) []Token {
	n := ParseName(s)
	if patronymic {
		for i := range n.Tokens {
			n.Tokens[i].Patronymic = true
		}
	}
	return n.Tokens
}

// words splits s on everything that is not a letter.
func words(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.Is(unicode.Mn, r) })
}

// fold lower-cases s the Azerbaijani way (İ→i, I→ı), so "İLKİN" and
// "ilkin" fold alike; combining dots and marks are dropped.
func fold(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.AzeriCase.ToLower(r))
	}
	return b.String()
}

// cyrillic maps a Russian (or Azerbaijani Cyrillic) letter to Azerbaijani
// Latin; ok is false for other letters. The iotated vowels е, ё, ю, я
// are handled in translit.
func cyrillic(r rune) (l string, ok bool) {
	switch r {
	case 'а':
		return "a", true
	case 'б':
		return "b", true
	case 'в':
		return "v", true
	case 'г':
		return "q", true
	case 'д':
		return "d", true
	case 'ж':
		return "j", true
	case 'з':
		return "z", true
	case 'и', 'і':
		return "i", true
	case 'й', 'ј':
		return "y", true
	case 'к':
		return "k", true
	case 'л':
		return "l", true
	case 'м':
		return "m", true
	case 'н':
		return "n", true
	case 'о':
		return "o", true
	case 'п':
		return "p", true
	case 'р':
		return "r", true
	case 'с', 'ц':
		return "s", true
	case 'т':
		return "t", true
	case 'у':
		return "u", true
	case 'ф':
		return "f", true
	case 'х':
		return "x", true
	case 'ч':
		return "ç", true
	case 'ш', 'щ':
		return "ş", true
	case 'ъ', 'ь':
		return "", true
	case 'ы':
		return "ı", true
	case 'э':
		return "e", true
	// Azerbaijani Cyrillic, 1939–1991.
	case 'ә':
		return "ə", true
	case 'ғ':
		return "ğ", true
	case 'ҹ':
		return "c", true
	case 'ү':
		return "ü", true
	case 'ө':
		return "ö", true
	case 'һ':
		return "h", true
	case 'ҝ':
		return "g", true
	}
	return "", false
}

// iotated returns the Latin of the Cyrillic vowels that carry a y sound at
// the start of a word or after a vowel and only soften the consonant
// otherwise (Гюнай is Günay, Юсиф is Yusif, Егана is Yeganə).
func iotated(r rune, afterVowel bool) (string, bool) {
	var soft, hard string
	switch r {
	case 'е':
		soft, hard = "e", "ye"
	case 'ё':
		soft, hard = "ö", "yo"
	case 'ю':
		soft, hard = "ü", "yu"
	case 'я':
		soft, hard = "ə", "ya"
	default:
		return "", false
	}
	if afterVowel {
		return hard, true
	}
	return soft, true
}

// latinDigraph reads the digraphs of English and Russian romanisation at
// the start of rs: dzh/dj → c, zh → j, kh → x, gh → ğ, sh → ş, ch → ç.
func latinDigraph(rs []rune) (r rune, n int) {
	if len(rs) < 2 {
		return 0, 0
	}
	if rs[0] == 'd' && rs[1] == 'z' && len(rs) > 2 && rs[2] == 'h' {
		return 'c', 3
	}
	if rs[0] == 'd' && rs[1] == 'j' {
		return 'c', 2
	}
	if rs[1] != 'h' {
		return 0, 0
	}
	switch rs[0] {
	case 'z':
		return 'j', 2
	case 'k':
		return 'x', 2
	case 'g':
		return 'ğ', 2
	case 's':
		return 'ş', 2
	case 'c':
		return 'ç', 2
	}
	return 0, 0
}

// translit turns Cyrillic into Latin, and the digraphs of romanisation
// into Azerbaijani letters (see latinDigraph).
func translit(s string) string {
	rs := []rune(s)
	b := make([]rune, 0, len(rs)+4)
	afterVowel := true // the start of a word counts as after a vowel
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r == 'д' && i+1 < len(rs) && rs[i+1] == 'ж' {
			b = append(b, 'c')
			i++
			afterVowel = false
			continue
		}
		if l, ok := iotated(r, afterVowel); ok {
			b = append(b, []rune(l)...)
			afterVowel = true
			continue
		}
		if l, ok := cyrillic(r); ok {
			b = append(b, []rune(l)...)
			afterVowel = l == "" || isVowel(l) // after ь and ъ, е is "ye"
			continue
		}
		if d, n := latinDigraph(rs[i:]); n > 0 {
			b = append(b, d)
			i += n - 1
			afterVowel = false
			continue
		}
		b = append(b, r)
		afterVowel = isVowel(string(r))
	}
	return string(b)
}

func isVowel(s string) bool {
	return s != "" && strings.ContainsRune("aəeiıoöuüy", []rune(s)[0])
}

// skeleton reduces a transliterated, lower-case word to the reduced
// alphabet in which the spellings of one name agree:
//
//	a ə e ä → a      ı i y → i      o ö → o      u ü w → u
//	c ç j → j        (Cəfər, Jafar, Джафар; Elçin, Elchin, Elcin)
//	s ş → s          (Şamil, Shamil, Samil)
//	k q g ğ x h → k  (Xəlilov, Khalilov, Halilov, Халилов; Həsən, Гасан)
//
// and every run of one letter collapses (Məmməd, Мамед). Letters outside
// the alphabet are dropped.
func skeleton(s string) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		var c byte
		switch r {
		case 'a', 'ə', 'e', 'ä':
			c = 'a'
		case 'ı', 'i', 'y', 'î':
			c = 'i'
		case 'o', 'ö':
			c = 'o'
		case 'u', 'ü', 'û':
			c = 'u'
		case 'c', 'ç', 'j':
			c = 'j'
		case 's', 'ş':
			c = 's'
		case 'k', 'q', 'g', 'ğ', 'x', 'h':
			c = 'k'
		case 'w':
			c = 'v'
		case 'b', 'd', 'f', 'l', 'm', 'n', 'p', 'r', 't', 'v', 'z':
			c = byte(r)
		default:
			continue
		}
		if len(b) > 0 && b[len(b)-1] == c {
			continue
		}
		b = append(b, c)
	}
	return string(b)
}

// Skeleton is the phonetic skeleton of one word as ParseName computes it:
// Skeleton("Məmmədova") == Skeleton("Мамедова") == Skeleton("MAMMADOVA").
func Skeleton(word string) string {
	sk := skeleton(translit(fold(word)))
	if stem, ok := russianPatronymic(sk); ok {
		return stem
	}
	return stripSurnameEnding(sk)
}

// stripSurnameEnding removes -ov, -ova, -yev, -yeva (and their Russian
// forms -ев, -ева), which reach the skeleton as -ov/-ova/-av/-ava, when a
// stem of at least three letters remains: Orucov and Оруджев, Məmmədov and
// Məmmədova meet on their stem.
func stripSurnameEnding(sk string) string {
	for _, end := range []string{"ova", "ava", "ov", "av"} {
		if strings.HasSuffix(sk, end) && len(sk)-len(end) >= 3 {
			return sk[:len(sk)-len(end)]
		}
	}
	return sk
}

// russianPatronymic recognises a patronymic written the Russian way
// (Рашадович, Rashadovna) and returns the father's name's skeleton.
func russianPatronymic(sk string) (string, bool) {
	for _, end := range []string{"ovij", "avij", "ovna", "avna"} {
		if strings.HasSuffix(sk, end) && len(sk)-len(end) >= 3 {
			return sk[:len(sk)-len(end)], true
		}
	}
	return "", false
}

// isMarker reports whether a skeleton is a patronymic marker: oğlu, oglu,
// ogly, оглы (son of); qızı, qizi, kyzy, кызы, гызы (daughter of).
func isMarker(sk string) bool {
	switch sk {
	case "oklu", "okli", "kizi":
		return true
	}
	return false
}
