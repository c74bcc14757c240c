package screening

import "slices"

// The built-in instruments. Where each one's facts come from is written in
// ADR 0019 and in the instrument's Source.

// Built-in instrument codes.
const (
	CodeCategories = "social_categories"
	CodeSigns      = "staff_signs"
	CodePSC17      = "psc17"
	CodeSDQ        = "sdq"
)

func t3(az, ru, en string) Text { return Text{"az": az, "ru": ru, "en": en} }

// Builtins returns the built-in instruments, version 1 of each.
func Builtins() []Instrument {
	return []Instrument{categoriesV1(), signsV1(), psc17V1(), sdqV1()}
}

// Builtin returns the built-in instrument code at version v.
func Builtin(code string, v int) (Instrument, bool) {
	// Only the one asked for is built: a read of a class's answers looks
	// its instruments up on every request.
	var in Instrument
	switch code {
	case CodeCategories:
		in = categoriesV1()
	case CodeSigns:
		in = signsV1()
	case CodePSC17:
		in = psc17V1()
	case CodeSDQ:
		in = sdqV1()
	default:
		return Instrument{}, false
	}
	if in.Version != v {
		return Instrument{}, false
	}
	return in, true
}

func categoriesV1() Instrument {
	items := []Item{
		{Code: "orphan", Text: t3("Yetim", "Сирота", "Orphan")},
		{Code: "no_parental_care", Text: t3("Valideyn himayəsindən məhrum", "Оставшийся без попечения родителей", "Deprived of parental care")},
		{Code: "disability", Text: t3("Sağlamlıq imkanları məhdud (əlillik)", "Инвалидность", "Disability")},
		{Code: "idp", Text: t3("Məcburi köçkün", "Вынужденный переселенец", "Internally displaced")},
		{Code: "targeted_assistance", Text: t3("Ünvanlı dövlət sosial yardımı alan ailə", "Семья, получающая адресную государственную социальную помощь", "Family receiving targeted state social assistance")},
		{Code: "martyr_family", Text: t3("Şəhid ailəsi", "Семья шехида", "Family of a martyr")},
		{Code: "parent_in_prison", Text: t3("Valideyni həbsdədir", "Родитель в местах лишения свободы", "Parent in prison")},
		{Code: "parent_abroad", Text: t3("Valideyni xaricdə işləyir", "Родитель работает за границей", "Parent working abroad")},
		{Code: "large_family", Text: t3("Çoxuşaqlı ailə", "Многодетная семья", "Large family")},
		{Code: "other", Text: t3("Digər", "Другое", "Other"), HasText: true},
	}
	codes := make([]string, len(items))
	for i := range items {
		items[i].Kind = Category
		codes[i] = items[i].Code
	}
	return Instrument{Code: CodeCategories, Version: 1, Abbr: "",
		Name:   t3("Sosial kateqoriyalar", "Социальные категории", "Social categories"),
		Source: "Dayaq checklist of the social categories the round table named (issue 11); no scoring norms",
		MinAge: 5, MaxAge: 18, Informants: []Informant{Staff, Teacher},
		Items:  items,
		Scales: []Scale{{Code: "categories", Name: t3("Kateqoriyaların sayı", "Число категорий", "Number of categories"), Items: codes, Combine: Count}},
	}
}

func signsV1() Instrument {
	items := []Item{
		{Code: "attendance_drop", Text: t3("Davamiyyətin azalması", "Снижение посещаемости", "Attendance drop")},
		{Code: "academic_decline", Text: t3("Təlim nəticələrinin enməsi", "Снижение успеваемости", "Academic decline")},
		{Code: "behaviour_change", Text: t3("Davranışda dəyişiklik", "Изменение поведения", "Behaviour change")},
		{Code: "withdrawal", Text: t3("Qapanma, ünsiyyətdən qaçma", "Замкнутость", "Withdrawal")},
		{Code: "aggression", Text: t3("Aqressiya", "Агрессия", "Aggression")},
		{Code: "neglect", Text: t3("Baxımsızlıq əlamətləri", "Признаки безнадзорности", "Signs of neglect")},
		{Code: "harm", Text: t3("Fiziki və ya cinsi zorakılıq əlamətləri", "Признаки физического или сексуального насилия", "Signs of physical or sexual harm")},
		{Code: "self_harm", Text: t3("Özünə xəsarət yetirmə", "Самоповреждение", "Self-harm")},
		{Code: "substance_use", Text: t3("Psixoaktiv maddələrin istifadəsi", "Употребление психоактивных веществ", "Substance use")},
		{Code: "bullying_victim", Text: t3("Zorbalığa məruz qalır", "Подвергается травле", "Bullying (as victim)")},
		{Code: "bullying_perpetrator", Text: t3("Zorbalıq edir", "Травит других", "Bullying (as perpetrator)")},
		{Code: "running_away", Text: t3("Evdən qaçma", "Побеги из дома", "Running away")},
		{Code: "early_marriage", Text: t3("Erkən nikah riski", "Риск раннего брака", "Early marriage risk")},
		{Code: "child_labour", Text: t3("Uşaq əməyi riski", "Риск детского труда", "Child labour risk")},
	}
	codes := make([]string, len(items))
	for i := range items {
		items[i].Kind = Sign
		codes[i] = items[i].Code
	}
	return Instrument{Code: CodeSigns, Version: 1, Abbr: "",
		Name:   t3("Əməkdaşların müşahidə etdiyi əlamətlər", "Признаки, замеченные сотрудниками", "Signs seen by staff"),
		Source: "Dayaq checklist of the warning signs the round table named (issue 11); no scoring norms",
		MinAge: 5, MaxAge: 18, Informants: []Informant{Staff, Teacher},
		Items:  items,
		Scales: []Scale{{Code: "signs", Name: t3("Əlamətlərin sayı", "Число признаков", "Number of signs"), Items: codes, Combine: Count}},
	}
}

// psc17Source is where the PSC-17's items, subscales and cut-offs come from.
const psc17Source = "Gardner W, Murphy M, Childs G, et al. The PSC-17: a brief pediatric symptom checklist with psychosocial problem subscales. Ambulatory Child Health 1999;5:225-236; item order and cut-offs as on the PSC-17 form of Massachusetts General Hospital (Jellinek, Murphy), freely reproducible"

func psc17V1() Instrument {
	opts := []Option{
		{Value: 0, Label: t3("Heç vaxt", "Никогда", "Never")},
		{Value: 1, Label: t3("Bəzən", "Иногда", "Sometimes")},
		{Value: 2, Label: t3("Tez-tez", "Часто", "Often")},
	}
	items := []Item{
		{Code: "1", Short: "fidgety", Text: t3("Yerində dura bilmir, rahat otura bilmir", "Непоседлив, не может усидеть на месте", "Fidgety, unable to sit still")},
		{Code: "2", Short: "sad", Text: t3("Özünü kədərli, bədbəxt hiss edir", "Грустит, чувствует себя несчастным", "Feels sad, unhappy")},
		{Code: "3", Short: "daydreams", Text: t3("Həddən artıq xəyallara dalır", "Слишком много витает в облаках", "Daydreams too much")},
		{Code: "4", Short: "refuses_share", Text: t3("Paylaşmaqdan imtina edir", "Отказывается делиться", "Refuses to share")},
		{Code: "5", Short: "feelings", Text: t3("Başqalarının hisslərini anlamır", "Не понимает чувств других людей", "Does not understand other people's feelings")},
		{Code: "6", Short: "hopeless", Text: t3("Özünü ümidsiz hiss edir", "Чувствует безнадёжность", "Feels hopeless")},
		{Code: "7", Short: "concentrating", Text: t3("Diqqətini toplamaqda çətinlik çəkir", "С трудом сосредотачивается", "Has trouble concentrating")},
		{Code: "8", Short: "fights", Text: t3("Digər uşaqlarla dalaşır", "Дерётся с другими детьми", "Fights with other children")},
		{Code: "9", Short: "down_on_self", Text: t3("Özündən narazıdır", "Недоволен собой", "Is down on him or herself")},
		{Code: "10", Short: "blames", Text: t3("Öz problemlərində başqalarını günahlandırır", "Винит других в своих неприятностях", "Blames others for his or her troubles")},
		{Code: "11", Short: "less_fun", Text: t3("Əvvəlki qədər sevinmir", "Кажется, меньше радуется", "Seems to be having less fun")},
		{Code: "12", Short: "rules", Text: t3("Qaydalara qulaq asmır", "Не слушается правил", "Does not listen to rules")},
		{Code: "13", Short: "motor", Text: t3("Sanki mühərrikə qoşulub, daim hərəkətdədir", "Ведёт себя как заведённый", "Acts as if driven by a motor")},
		{Code: "14", Short: "teases", Text: t3("Başqalarına sataşır", "Дразнит других", "Teases others")},
		{Code: "15", Short: "worries", Text: t3("Çox narahat olur", "Много тревожится", "Worries a lot")},
		{Code: "16", Short: "takes_things", Text: t3("Ona aid olmayan əşyaları götürür", "Берёт чужие вещи", "Takes things that do not belong to him or her")},
		{Code: "17", Short: "distracted", Text: t3("Diqqəti asanlıqla yayınır", "Легко отвлекается", "Distracted easily")},
	}
	for i := range items {
		items[i].Kind, items[i].Options = Likert, opts
	}
	cut := func(c int, max int) []Band {
		return []Band{{Code: "below_cutoff", Min: 0, Max: c - 1}, {Code: "above_cutoff", Min: c, Max: max}}
	}
	scores := map[string][]Band{"attention": cut(7, 10), "internalising": cut(5, 10), "externalising": cut(7, 14), "total": cut(15, 34)}
	return Instrument{Code: CodePSC17, Version: 1, Abbr: "PSC-17",
		Name:    t3("Pediatrik simptomlar siyahısı (PSC-17)", "Педиатрический перечень симптомов (PSC-17)", "Pediatric Symptom Checklist (PSC-17)"),
		Source:  psc17Source,
		Licence: "freely reproducible; az and ru wording are Dayaq's working translations, not validated ones",
		MinAge:  4, MaxAge: 16, Informants: []Informant{Parent, Teacher},
		Items: items,
		Scales: []Scale{
			{Code: "attention", Name: t3("Diqqət", "Внимание", "Attention"), Items: []string{"1", "3", "7", "13", "17"}, Combine: Sum},
			{Code: "internalising", Name: t3("İnternalizasiya", "Интернализация", "Internalising"), Items: []string{"2", "6", "9", "11", "15"}, Combine: Sum},
			{Code: "externalising", Name: t3("Eksternalizasiya", "Экстернализация", "Externalising"), Items: []string{"4", "5", "8", "10", "12", "14", "16"}, Combine: Sum},
		},
		Derived: []Derived{{Code: "total", Name: t3("Ümumi bal", "Общий балл", "Total score"), Parts: []string{"attention", "internalising", "externalising"}}},
		Bands: []BandSet{
			{Scheme: "cutoff", Informant: Parent, MinAge: 4, MaxAge: 16, Source: psc17Source, Norms: "US primary-care parent reports (PROS/ASPN)", Scores: scores},
			{Scheme: "cutoff", Informant: Teacher, MinAge: 4, MaxAge: 16, Source: psc17Source,
				Norms: "the parent-report cut-offs applied to teacher reports (ADR 0019): not norms set on teachers", Scores: scores},
		},
	}
}

// sdqSource is where the SDQ's scoring comes from.
const sdqSource = "Goodman R. The Strengths and Difficulties Questionnaire: a research note. J Child Psychol Psychiatry 1997;38:581-586; " +
	"scoring and bands as in 'Scoring the Strengths & Difficulties Questionnaire for age 4-17 or 18+' (youthinmind, sdqinfo.org)"

// ascending bands a score from 0: codes[0] is 0…ups[0], codes[1]
// ups[0]+1…ups[1], and the last runs to top.
func ascending(codes []string, top int, ups ...int) []Band {
	bs, lo := make([]Band, 0, len(codes)), 0
	for i, c := range codes {
		hi := top
		if i < len(ups) {
			hi = ups[i]
		}
		bs = append(bs, Band{Code: c, Min: lo, Max: hi})
		lo = hi + 1
	}
	return bs
}

// descending bands a strength score from the top: codes[0] is downs[0]…top,
// codes[1] downs[1]…downs[0]−1, and the last runs down to 0.
func descending(codes []string, top int, downs ...int) []Band {
	bs, hi := make([]Band, 0, len(codes)), top
	for i, c := range codes {
		lo := 0
		if i < len(downs) {
			lo = downs[i]
		}
		bs = append(bs, Band{Code: c, Min: lo, Max: hi})
		hi = lo - 1
	}
	return bs
}

func sdqV1() Instrument {
	shorts := []string{"consid", "restles", "somatic", "shares", "tantrum", "loner", "obeys", "worries", "caring", "fidgety",
		"friend", "fights", "unhappy", "popular", "distrac", "clingy", "kind", "lies", "bullied", "helpout",
		"reflect", "steals", "oldbest", "afraid", "attends"}
	opts := []Option{
		{Value: 0, Label: t3("Doğru deyil", "Неверно", "Not true")},
		{Value: 1, Label: t3("Qismən doğrudur", "Отчасти верно", "Somewhat true")},
		{Value: 2, Label: t3("Tamamilə doğrudur", "Совершенно верно", "Certainly true")},
	}
	reverse := []string{"7", "11", "14", "21", "25"}
	items := make([]Item, len(shorts))
	for i, s := range shorts {
		c := itoa(i + 1)
		items[i] = Item{Code: c, Kind: Likert, Short: s, Options: opts, Reverse: slices.Contains(reverse, c)}
	}
	scale := func(code string, name Text, nums ...string) Scale {
		return Scale{Code: code, Name: name, Items: nums, Combine: Prorate, MinAnswered: 3}
	}
	four := []string{"close_to_average", "slightly_raised", "high", "very_high"}
	fourPro := []string{"close_to_average", "slightly_lowered", "low", "very_low"}
	three := []string{"normal", "borderline", "abnormal"}
	const fourSrc = "youthinmind, 'Scoring the SDQ': four-band categorisation (close to average 80%, slightly raised 10%, high 5%, very high 5%)"
	const threeSrc = "youthinmind, 'Scoring the SDQ': original three-band categorisation (normal 80%, borderline 10%, abnormal 10%)"
	const norms = "British community sample (Goodman 1997; Meltzer et al. 2000)"
	bands := []BandSet{
		{Scheme: "four_band", Informant: Parent, MinAge: 4, MaxAge: 17, Source: fourSrc, Norms: norms, Scores: map[string][]Band{
			"total_difficulties": ascending(four, 40, 13, 16, 19), "emotional": ascending(four, 10, 3, 4, 6),
			"conduct": ascending(four, 10, 2, 3, 5), "hyperactivity": ascending(four, 10, 5, 7, 8), "peer": ascending(four, 10, 2, 3, 4),
			"prosocial": descending(fourPro, 10, 8, 7, 6), "impact": ascending(four, 10, 0, 1, 2)}},
		{Scheme: "four_band", Informant: Teacher, MinAge: 4, MaxAge: 17, Source: fourSrc, Norms: norms, Scores: map[string][]Band{
			"total_difficulties": ascending(four, 40, 11, 15, 18), "emotional": ascending(four, 10, 3, 4, 5),
			"conduct": ascending(four, 10, 2, 3, 4), "hyperactivity": ascending(four, 10, 5, 7, 8), "peer": ascending(four, 10, 2, 4, 5),
			"prosocial": descending(fourPro, 10, 6, 5, 4), "impact": ascending(four, 6, 0, 1, 2)}},
		{Scheme: "four_band", Informant: Self, MinAge: 11, MaxAge: 17, Source: fourSrc, Norms: norms, Scores: map[string][]Band{
			"total_difficulties": ascending(four, 40, 14, 17, 19), "emotional": ascending(four, 10, 4, 5, 6),
			"conduct": ascending(four, 10, 3, 4, 5), "hyperactivity": ascending(four, 10, 5, 6, 7), "peer": ascending(four, 10, 2, 3, 4),
			"prosocial": descending(fourPro, 10, 7, 6, 5), "impact": ascending(four, 10, 0, 1, 2)}},
		{Scheme: "three_band", Informant: Parent, MinAge: 4, MaxAge: 17, Source: threeSrc, Norms: norms, Scores: map[string][]Band{
			"total_difficulties": ascending(three, 40, 13, 16), "emotional": ascending(three, 10, 3, 4),
			"conduct": ascending(three, 10, 2, 3), "hyperactivity": ascending(three, 10, 5, 6), "peer": ascending(three, 10, 2, 3),
			"prosocial": descending(three, 10, 6, 5), "impact": ascending(three, 10, 0, 1)}},
		{Scheme: "three_band", Informant: Teacher, MinAge: 4, MaxAge: 17, Source: threeSrc, Norms: norms, Scores: map[string][]Band{
			"total_difficulties": ascending(three, 40, 11, 15), "emotional": ascending(three, 10, 4, 5),
			"conduct": ascending(three, 10, 2, 3), "hyperactivity": ascending(three, 10, 5, 6), "peer": ascending(three, 10, 3, 4),
			"prosocial": descending(three, 10, 6, 5), "impact": ascending(three, 6, 0, 1)}},
		{Scheme: "three_band", Informant: Self, MinAge: 11, MaxAge: 17, Source: threeSrc, Norms: norms, Scores: map[string][]Band{
			"total_difficulties": ascending(three, 40, 15, 19), "emotional": ascending(three, 10, 5, 6),
			"conduct": ascending(three, 10, 3, 4), "hyperactivity": ascending(three, 10, 5, 6), "peer": ascending(three, 10, 3, 5),
			"prosocial": descending(three, 10, 6, 5), "impact": ascending(three, 10, 0, 1)}},
	}
	return Instrument{Code: CodeSDQ, Version: 1, Abbr: "SDQ",
		Name:      t3("Güclü tərəflər və çətinliklər sorğusu (SDQ)", "Опросник сильных сторон и трудностей (SDQ)", "Strengths and Difficulties Questionnaire (SDQ)"),
		Source:    sdqSource,
		Licence:   "© Robert Goodman; wording not shipped (ADR 0018): staff key the paper form by item number",
		NoWording: true,
		MinAge:    4, MaxAge: 17, Informants: []Informant{Parent, Teacher, Self},
		Items: items,
		Scales: []Scale{
			scale("emotional", t3("Emosional simptomlar", "Эмоциональные симптомы", "Emotional symptoms"), "3", "8", "13", "16", "24"),
			scale("conduct", t3("Davranış problemləri", "Проблемы поведения", "Conduct problems"), "5", "7", "12", "18", "22"),
			scale("hyperactivity", t3("Hiperaktivlik və diqqət", "Гиперактивность и невнимательность", "Hyperactivity/inattention"), "2", "10", "15", "21", "25"),
			scale("peer", t3("Həmyaşıdlarla problemlər", "Проблемы со сверстниками", "Peer relationship problems"), "6", "11", "14", "19", "23"),
			scale("prosocial", t3("Prososial davranış", "Просоциальное поведение", "Prosocial behaviour"), "1", "4", "9", "17", "20"),
		},
		Derived: []Derived{
			{Code: "total_difficulties", Name: t3("Ümumi çətinliklər", "Общие трудности", "Total difficulties"), Parts: []string{"emotional", "conduct", "hyperactivity", "peer"}},
			{Code: "externalising", Name: t3("Eksternalizasiya", "Экстернализация", "Externalising"), Parts: []string{"conduct", "hyperactivity"}},
			{Code: "internalising", Name: t3("İnternalizasiya", "Интернализация", "Internalising"), Parts: []string{"emotional", "peer"}},
		},
		Impact: &Impact{Code: "impact", Name: t3("Təsir balı", "Балл влияния", "Impact"), Items: map[Informant][]string{
			Parent:  {"distress", "home", "friendships", "classroom", "leisure"},
			Self:    {"distress", "home", "friendships", "classroom", "leisure"},
			Teacher: {"distress", "peers", "classroom"},
		}},
		Bands: bands,
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
