// Package matchgen writes children's names the many ways people write
// them — ASCII typing, capitals, English romanisation, Russian Cyrillic and
// its romanisations, other word orders, with or without the patronymic,
// with typos — for the matching tests and the matching benchmark. It does
// no I/O.
package matchgen

import (
	"math/rand/v2"
	"strings"
	"unicode"

	"dayaq/internal/child"
)

// Kind is one way of writing a child's name, made from the roster's
// Azerbaijani Latin the way people write it.
type Kind struct {
	Name string
	// Write returns the child's name as written.
	Write func(r *rand.Rand, c child.Child) string
}

// Kinds returns every kind.
func Kinds() []Kind {
	return []Kind{
		{"latin", func(r *rand.Rand, c child.Child) string { return c.LastName + " " + c.FirstName + " " + c.Patronymic }},
		{"ascii", func(r *rand.Rand, c child.Child) string {
			return maybeLower(r, ASCII(r, c.LastName+" "+c.FirstName+maybe(r, " "+c.Patronymic)))
		}},
		{"capitals", func(r *rand.Rand, c child.Child) string {
			s := c.LastName + " " + c.FirstName + maybe(r, " "+c.Patronymic)
			if r.IntN(2) == 0 {
				return strings.ToUpperSpecial(unicode.AzeriCase, s) // MƏMMƏDOVA NƏRMİN
			}
			return strings.ToUpper(ASCII(r, s)) // MAMMADOVA NARMIN
		}},
		{"english", func(r *rand.Rand, c child.Child) string {
			s := english(c.LastName) + " " + english(c.FirstName)
			if r.IntN(2) == 0 {
				f, marker := splitPatronymic(c.Patronymic)
				s += " " + english(f) + " " + map[string]string{"oğlu": "oglu", "qızı": "qizi"}[marker]
			}
			return s
		}},
		{"cyrillic", func(r *rand.Rand, c child.Child) string {
			s := cyr(r, c.LastName) + " " + cyr(r, c.FirstName)
			if r.IntN(2) == 0 {
				f, marker := splitPatronymic(c.Patronymic)
				s += " " + cyr(r, f) + " " + map[string]string{"oğlu": "оглы", "qızı": "кызы"}[marker]
			}
			return maybeUpperCyr(r, s)
		}},
		{"cyrillic_romanised", func(r *rand.Rand, c child.Child) string {
			s := cyr(r, c.LastName) + " " + cyr(r, c.FirstName)
			if r.IntN(2) == 0 {
				f, marker := splitPatronymic(c.Patronymic)
				s += " " + cyr(r, f) + " " + map[string]string{"oğlu": "оглы", "qızı": "кызы"}[marker]
			}
			return romaniseRussian(r, s)
		}},
		{"word_order", func(r *rand.Rand, c child.Child) string {
			f, marker := splitPatronymic(c.Patronymic)
			switch r.IntN(5) {
			case 0:
				return c.FirstName + " " + c.LastName
			case 1:
				return c.FirstName + " " + c.Patronymic + " " + c.LastName
			case 2:
				return c.FirstName + " " + f + " " + marker + " " + c.LastName
			case 3:
				return c.Patronymic + " " + c.FirstName + " " + c.LastName
			default:
				return c.FirstName + " " + c.LastName + " " + c.Patronymic
			}
		}},
		{"patronymic", func(r *rand.Rand, c child.Child) string {
			f, marker := splitPatronymic(c.Patronymic)
			switch r.IntN(4) {
			case 0: // no patronymic at all
				return c.LastName + " " + c.FirstName
			case 1: // the father's name without oğlu/qızı
				return c.LastName + " " + c.FirstName + " " + f
			case 2: // the Russian way
				suffix := "ович"
				if marker == "qızı" {
					suffix = "овна"
				}
				return cyr(r, c.LastName) + " " + cyr(r, c.FirstName) + " " + cyr(r, f) + suffix
			default:
				return c.LastName + " " + c.FirstName + " " + c.Patronymic
			}
		}},
		{"typos", func(r *rand.Rand, c child.Child) string {
			s := ASCII(r, c.LastName+" "+c.FirstName) + maybe(r, " "+ASCII(r, c.Patronymic))
			return typos(r, s, 1+r.IntN(2))
		}},
		{"typos_two", func(r *rand.Rand, c child.Child) string {
			s := c.LastName + " " + c.FirstName
			if r.IntN(2) == 0 {
				s = c.FirstName + " " + c.LastName
			}
			return typos(r, s, 2)
		}},
	}
}

func maybe(r *rand.Rand, s string) string {
	if r.IntN(2) == 0 {
		return s
	}
	return ""
}

func maybeLower(r *rand.Rand, s string) string {
	if r.IntN(3) == 0 {
		return strings.ToLower(s)
	}
	return s
}

func maybeUpperCyr(r *rand.Rand, s string) string {
	if r.IntN(4) == 0 {
		return strings.ToUpper(s)
	}
	return s
}

func splitPatronymic(p string) (father, marker string) {
	f, m, _ := strings.Cut(p, " ")
	return f, m
}

// ASCII writes Azerbaijani without its letters, as on a keyboard
// without them: ə as e (mostly) or a, ş as s or sh, ç as c or ch, ğ as g
// or gh, ı as i, ö as o, ü as u.
func ASCII(r *rand.Rand, s string) string {
	var b strings.Builder
	schwa := "e"
	if r.IntN(4) == 0 {
		schwa = "a"
	}
	digraph := r.IntN(3) == 0
	for _, c := range s {
		switch c {
		case 'ə':
			b.WriteString(schwa)
		case 'Ə':
			b.WriteString(strings.ToUpper(schwa))
		case 'ş':
			b.WriteString(pick(digraph, "sh", "s"))
		case 'Ş':
			b.WriteString(pick(digraph, "Sh", "S"))
		case 'ç':
			b.WriteString(pick(digraph, "ch", "c"))
		case 'Ç':
			b.WriteString(pick(digraph, "Ch", "C"))
		case 'ğ':
			b.WriteString(pick(digraph, "gh", "g"))
		case 'ı':
			b.WriteString("i")
		case 'İ':
			b.WriteString("I")
		case 'ö':
			b.WriteString("o")
		case 'Ö':
			b.WriteString("O")
		case 'ü':
			b.WriteString("u")
		case 'Ü':
			b.WriteString("U")
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}

func pick(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

// english romanises Azerbaijani as passports and the press in English do:
// Xəlilov → Khalilov, Cəfərov → Jafarov, Nağıyev → Naghiyev, Quliyev →
// Guliyev, Hüseynov → Huseynov.
func english(s string) string {
	return strings.NewReplacer(
		"Ə", "A", "ə", "a", "X", "Kh", "x", "kh", "C", "J", "c", "j", "Ç", "Ch", "ç", "ch",
		"Ş", "Sh", "ş", "sh", "Ğ", "Gh", "ğ", "gh", "Q", "G", "q", "g", "ı", "i", "İ", "I",
		"Ö", "O", "ö", "o", "Ü", "U", "ü", "u", "J", "Zh", "j", "zh",
	).Replace(s)
}

// cyr writes an Azerbaijani name in Russian Cyrillic the way Russian
// speakers do: Məmmədova → Мамедова, Cəfərov → Джафаров, Hüseynov →
// Гусейнов, Xəlilov → Халилов, Quliyev → Кулиев, Əliyev → Алиев.
func cyr(r *rand.Rand, s string) string {
	rs := []rune(strings.ToLowerSpecial(unicode.AzeriCase, s))
	var b strings.Builder
	vowel := func(c rune) bool { return strings.ContainsRune("aəeiıoöuü", c) }
	hAsG := r.IntN(4) != 0 // Гусейнов, Гасанов; sometimes Хусейнов
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		prevVowel := i == 0 || vowel(rs[i-1])
		switch {
		case c == 'y' && i+1 < len(rs) && rs[i+1] == 'e':
			b.WriteString("е")
			i++
			continue
		case c == 'y' && i+1 < len(rs) && (rs[i+1] == 'a' || rs[i+1] == 'ə'):
			b.WriteString("я")
			i++
			continue
		case c == 'y' && i+1 < len(rs) && (rs[i+1] == 'u' || rs[i+1] == 'ü'):
			b.WriteString("ю")
			i++
			continue
		}
		switch c {
		case 'a':
			b.WriteString("а")
		case 'ə':
			if i == 0 {
				b.WriteString("а")
			} else if r.IntN(2) == 0 {
				b.WriteString("е")
			} else {
				b.WriteString("а")
			}
		case 'e':
			if prevVowel {
				b.WriteString("э")
			} else {
				b.WriteString("е")
			}
		case 'b':
			b.WriteString("б")
		case 'c':
			b.WriteString("дж")
		case 'ç':
			b.WriteString("ч")
		case 'd':
			b.WriteString("д")
		case 'f':
			b.WriteString("ф")
		case 'g':
			b.WriteString("г")
		case 'ğ':
			b.WriteString("г")
		case 'h':
			if hAsG {
				b.WriteString("г")
			} else {
				b.WriteString("х")
			}
		case 'x':
			b.WriteString("х")
		case 'ı':
			b.WriteString(pick(r.IntN(2) == 0, "ы", "и"))
		case 'i':
			b.WriteString("и")
		case 'j':
			b.WriteString("ж")
		case 'k':
			b.WriteString("к")
		case 'q':
			b.WriteString(pick(i == 0 && r.IntN(2) == 0, "к", "г"))
		case 'l':
			b.WriteString("л")
		case 'm':
			b.WriteString("м")
		case 'n':
			b.WriteString("н")
		case 'o':
			b.WriteString("о")
		case 'ö':
			b.WriteString("ё")
		case 'p':
			b.WriteString("п")
		case 'r':
			b.WriteString("р")
		case 's':
			b.WriteString("с")
		case 'ş':
			b.WriteString("ш")
		case 't':
			b.WriteString("т")
		case 'u':
			b.WriteString("у")
		case 'ü':
			b.WriteString(pick(r.IntN(2) == 0, "ю", "у"))
		case 'v':
			b.WriteString("в")
		case 'y':
			b.WriteString("й")
		case 'z':
			b.WriteString("з")
		default:
			b.WriteRune(c)
		}
	}
	out := []rune(b.String())
	if len(out) > 0 {
		out[0] = unicode.ToUpper(out[0])
	}
	// Russians double no letters in Мамедов: Məmməd → Мамед (sometimes).
	s2 := string(out)
	if r.IntN(2) == 0 {
		s2 = strings.ReplaceAll(s2, "мм", "м")
	}
	return s2
}

// romaniseRussian writes Cyrillic in Latin as Russian passports and
// databases do, in one of two common systems.
func romaniseRussian(r *rand.Rand, s string) string {
	bgn := r.IntN(2) == 0
	m := map[rune]string{
		'а': "a", 'б': "b", 'в': "v", 'г': "g", 'д': "d", 'е': "e", 'ё': "yo", 'ж': "zh", 'з': "z", 'и': "i",
		'й': pick(bgn, "y", "i"), 'к': "k", 'л': "l", 'м': "m", 'н': "n", 'о': "o", 'п': "p", 'р': "r", 'с': "s",
		'т': "t", 'у': "u", 'ф': "f", 'х': pick(bgn, "kh", "h"), 'ц': "ts", 'ч': "ch", 'ш': "sh", 'щ': "shch",
		'ъ': "", 'ы': "y", 'ь': "", 'э': "e", 'ю': "yu", 'я': "ya",
	}
	var b strings.Builder
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		c := rs[i]
		lc := unicode.ToLower(c)
		up := c != lc
		var l string
		switch {
		case lc == 'д' && i+1 < len(rs) && unicode.ToLower(rs[i+1]) == 'ж':
			l = pick(bgn, "dzh", "dj")
			i++
		case lc == 'е' && (i == 0 || rs[i-1] == ' ' || strings.ContainsRune("аеиоуыэюяь", unicode.ToLower(rs[i-1]))):
			l = "ye"
		default:
			var ok bool
			if l, ok = m[lc]; !ok {
				l = string(c)
			}
		}
		if up && l != "" {
			l = strings.ToUpper(l[:1]) + l[1:]
		}
		b.WriteString(l)
	}
	return b.String()
}

// typos makes n slips of the keyboard in s: a letter left out, doubled,
// swapped with its neighbour, or replaced by another.
func typos(r *rand.Rand, s string, n int) string {
	rs := []rune(s)
	for range n {
		// a position inside a word
		var at []int
		for i, c := range rs {
			if unicode.IsLetter(c) {
				at = append(at, i)
			}
		}
		i := at[r.IntN(len(at))]
		switch r.IntN(4) {
		case 0: // left out
			rs = append(rs[:i], rs[i+1:]...)
		case 1: // doubled or an extra letter
			extra := rune("aeiklmnrst"[r.IntN(10)])
			rs = append(rs[:i+1], append([]rune{extra}, rs[i+1:]...)...)
		case 2: // swapped with the next letter
			if i+1 < len(rs) && unicode.IsLetter(rs[i+1]) {
				rs[i], rs[i+1] = rs[i+1], rs[i]
			} else {
				rs[i] = rune("bdfgklmnprstvz"[r.IntN(14)])
			}
		default: // replaced
			rs[i] = rune("bdfgklmnprstvz"[r.IntN(14)])
		}
	}
	return string(rs)
}
