package danis

import (
	"slices"
	"strings"
	"unicode"
)

// Words are the urgent words and phrases of one language: a child who
// writes one of them may be in danger now. They are matched after folding
// (lower case, Azerbaijani and Russian letters folded to their plain
// forms, punctuation to spaces) as a prefix of a word, so that a stem
// ("intihar", "таблетк") catches its endings.
type Words map[string][]string // language → phrases

// DefaultWords are the lists a city starts with; the hotline's supervisors
// edit them. They name methods and plans, not only "suicide".
func DefaultWords() Words {
	return Words{
		"az": {"intihar", "özümü öldür", "ozumu oldur", "ölmək istəyirəm", "olmek isteyirem", "yaşamaq istəmirəm",
			"özümü kəs", "damarımı kəs", "həb içəcəyəm", "həbləri içdim", "dərman içdim", "özümü asmaq", "özümü asaca",
			"körpüdən", "damdan atılaca", "pəncərədən atılaca", "məni döyür", "məni öldürəcək", "zorla", "təcavüz",
			"bıçaq", "evdən qaçdım", "sabah olmayacağam", "vidalaşmaq"},
		"ru": {"суицид", "самоубийств", "покончить с собой", "убить себя", "убью себя", "хочу умереть", "не хочу жить",
			"порезать вены", "режу себя", "порезала себя", "порезал себя", "таблетк", "наглотаться", "повеситься",
			"прыгнуть с крыши", "спрыгнуть", "с моста", "меня бьют", "изнасил", "нож", "сбежал из дома", "сбежала из дома",
			"прощай", "завтра меня не будет"},
		"en": {"suicide", "kill myself", "end my life", "want to die", "don't want to live", "dont want to live",
			"cut myself", "cutting myself", "overdose", "pills", "hang myself", "jump off", "bridge", "he hits me",
			"she hits me", "rape", "knife", "ran away", "goodbye forever", "won't be here tomorrow"},
	}
}

// Fold makes text comparable for matching: lower case (İ and I the
// Azerbaijani way), the letters ə ı ö ü ğ ç ş and ё folded to e i o u g c
// s е, everything that is not a letter or a digit a space, spaces
// collapsed; the result starts and ends with a space.
func Fold(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte(' ')
	space := true
	for _, r := range s {
		switch r {
		case 'İ', 'I', 'ı':
			r = 'i'
		case 'Ə', 'ə':
			r = 'e'
		case 'Ö', 'ö':
			r = 'o'
		case 'Ü', 'ü':
			r = 'u'
		case 'Ğ', 'ğ':
			r = 'g'
		case 'Ç', 'ç':
			r = 'c'
		case 'Ş', 'ş':
			r = 's'
		case 'Ё', 'ё':
			r = 'е'
		case '\'', '’':
			continue // don't, won't
		}
		r = unicode.ToLower(r)
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			if !space {
				b.WriteByte(' ')
				space = true
			}
			continue
		}
		b.WriteRune(r)
		space = false
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// Match returns the phrases of every language in w that text contains, as
// the list has them, each once. A child may write in any language, so all
// lists are searched.
func (w Words) Match(text string) []string {
	t := Fold(text)
	var hits []string
	for _, lang := range []string{"az", "ru", "en"} {
		for _, p := range w[lang] {
			f := strings.TrimSuffix(Fold(p), " ")
			if f == " " || f == "" {
				continue
			}
			if strings.Contains(t, f) && !slices.Contains(hits, p) {
				hits = append(hits, p)
			}
		}
	}
	return hits
}

// ParseList reads a list as a form's textarea holds it: one phrase a line,
// blank lines and surrounding spaces dropped, duplicates dropped.
func ParseList(s string) []string {
	var out []string
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line != "" && !slices.Contains(out, line) {
			out = append(out, line)
		}
	}
	return out
}

// DefaultCanned are the opening answers a city starts with, per language;
// an operator picks one to answer fast and edits it before sending.
func DefaultCanned() map[string][]string {
	return map[string][]string{
		"az": {"Salam. Yazdığın üçün sağ ol. Mən 146-2 xəttindənəm və səni oxuyuram. Nə baş verdiyini bir az da danış.",
			"Salam. Sən indi təhlükəsizsən? Əgər təhlükədəsənsə, 146-2 nömrəsinə pulsuz zəng et və ya 112-yə zəng et.",
			"Bunu bizə demək cəsarət istəyir. Sən günahkar deyilsən. Kömək etmək istəyirik."},
		"ru": {"Здравствуй. Спасибо, что написал(а). Я из линии 146-2 и читаю тебя. Расскажи чуть больше, что случилось.",
			"Здравствуй. Ты сейчас в безопасности? Если тебе грозит опасность, позвони бесплатно 146-2 или 112.",
			"Чтобы рассказать это, нужна смелость. Ты не виноват(а). Мы хотим помочь."},
		"en": {"Hello. Thank you for writing. I am from the 146-2 helpline and I am reading you. Tell me a little more about what happened.",
			"Hello. Are you safe right now? If you are in danger, call 146-2 for free, or 112.",
			"It takes courage to tell us this. It is not your fault. We want to help."},
	}
}
