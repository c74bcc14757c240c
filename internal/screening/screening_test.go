package screening_test

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"dayaq/internal/i18n"
	"dayaq/internal/screening"
)

func sdq(t *testing.T) screening.Instrument {
	t.Helper()
	in, ok := screening.Builtin(screening.CodeSDQ, 1)
	if !ok {
		t.Fatal("no built-in SDQ")
	}
	return in
}

// values reads "item:value" pairs.
func values(pairs ...int) map[string]int {
	m := map[string]int{}
	for i := 0; i < len(pairs); i += 2 {
		m[itoa(pairs[i])] = pairs[i+1]
	}
	return m
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func ptr(n int) *int { return &n }

type want struct {
	score *int
	band  string
}

func check(t *testing.T, r screening.Result, w map[string]want) {
	t.Helper()
	for code, w := range w {
		got, ok := r.Scores[code]
		if !ok {
			t.Errorf("%s: no score", code)
			continue
		}
		switch {
		case (got.Score == nil) != (w.score == nil):
			t.Errorf("%s = %v, want %v", code, got.Score, w.score)
		case got.Score != nil && *got.Score != *w.score:
			t.Errorf("%s = %d, want %d", code, *got.Score, *w.score)
		}
		if got.Band != w.band {
			t.Errorf("%s band %q, want %q", code, got.Band, w.band)
		}
	}
}

// TestSDQScoring scores answer sets worked out by hand (the working is in
// the comments).
func TestSDQScoring(t *testing.T) {
	in := sdq(t)
	if ps := in.Check(); ps != nil {
		t.Fatalf("the built-in SDQ does not check: %v", ps)
	}
	// A parent answering every item.
	full := screening.Answers{Informant: screening.Parent, Age: 11, Values: values(
		1, 2, 2, 1, 3, 0, 4, 2, 5, 1, 6, 0, 7, 0, 8, 2, 9, 2, 10, 2, 11, 2, 12, 0, 13, 1, 14, 1, 15, 2, 16, 1, 17, 1,
		18, 0, 19, 2, 20, 2, 21, 0, 22, 0, 23, 1, 24, 2, 25, 1),
		Impact: &screening.ImpactAnswers{Difficulties: "definite", Items: map[string]int{"distress": 2, "home": 3, "friendships": 1, "classroom": 2, "leisure": 0}}}
	cases := []struct {
		name   string
		a      screening.Answers
		scheme string
		want   map[string]want
	}{
		{"every item, four bands", full, "four_band", map[string]want{
			"emotional":          {ptr(6), "high"},            // 3:0 8:2 13:1 16:1 24:2
			"conduct":            {ptr(3), "slightly_raised"}, // 5:1 7:0→2 12:0 18:0 22:0
			"hyperactivity":      {ptr(8), "high"},            // 2:1 10:2 15:2 21:0→2 25:1→1
			"peer":               {ptr(4), "high"},            // 6:0 11:2→0 14:1→1 19:2 23:1
			"prosocial":          {ptr(9), "close_to_average"},
			"total_difficulties": {ptr(21), "very_high"}, // 6+3+8+4
			"externalising":      {ptr(11), ""},
			"internalising":      {ptr(10), ""},
			"impact":             {ptr(4), "very_high"}, // distress 2→1, home 3→2, friendships 1→0, classroom 2→1, leisure 0→0
		}},
		{"every item, the original three bands", full, "three_band", map[string]want{
			"emotional": {ptr(6), "abnormal"}, "conduct": {ptr(3), "borderline"}, "prosocial": {ptr(9), "normal"},
			"total_difficulties": {ptr(21), "abnormal"}, "impact": {ptr(4), "abnormal"},
		}},
		{"pro-rating: three of five, two of five", screening.Answers{Informant: screening.Teacher, Age: 9, Values: values(
			3, 1, 8, 2, 13, 2, // emotional: 5 from 3 items → round(5/3 × 5) = round(8.33) = 8
			5, 2, 7, 2, 12, 1, // conduct: 7 is reversed 2→0: 3 from 3 → 5
			2, 1, 10, 1, 15, 2, 21, 1, // hyperactivity: 21 reversed 1→1: 5 from 4 → round(6.25) = 6
			6, 2, 19, 2, // peer: only two of five → missing
			1, 0, 4, 0, 9, 0, 17, 0, 20, 0),
			Impact: &screening.ImpactAnswers{Difficulties: "no", Items: map[string]int{"distress": 3}}}, "four_band", map[string]want{
			"emotional":          {ptr(8), "very_high"},
			"conduct":            {ptr(5), "very_high"},
			"hyperactivity":      {ptr(6), "slightly_raised"},
			"peer":               {nil, ""},
			"prosocial":          {ptr(0), "very_low"},
			"total_difficulties": {nil, ""}, // a missing scale makes the total missing
			"internalising":      {nil, ""},
			"externalising":      {ptr(11), ""},
			"impact":             {ptr(0), "close_to_average"}, // "no difficulties" scores 0 whatever else is ticked
		}},
		{"rounding half up, self-report", screening.Answers{Informant: screening.Self, Age: 14, Values: values(
			2, 1, 10, 1, 15, 0, 25, 2, // hyperactivity: 25 reversed 2→0: 2 from 4 → round(2.5) = 3
			6, 0, 11, 2, 14, 2, 19, 0, 23, 0, // peer: 11 and 14 reversed → 0
			3, 0, 8, 0, 13, 0, 16, 0, 24, 0,
			5, 0, 7, 2, 12, 0, 18, 0, 22, 0)}, "four_band", map[string]want{
			"hyperactivity":      {ptr(3), "close_to_average"},
			"peer":               {ptr(0), "close_to_average"},
			"total_difficulties": {ptr(3), "close_to_average"},
			"impact":             {nil, ""}, // no impact supplement given
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if ps := in.Validate(c.a); ps != nil {
				t.Fatalf("valid answers refused: %v", ps)
			}
			check(t, in.Score(c.a, c.scheme), c.want)
		})
	}
}

func TestValidateNamesTheField(t *testing.T) {
	in := sdq(t)
	cases := []struct {
		json  string
		field string
	}{
		{`{"informant":"parent","answers":{"26":1}}`, "answers.26"},
		{`{"informant":"parent","answers":{"1":3}}`, "answers.1"},
		{`{"informant":"parent","answers":{"1":-1}}`, "answers.1"},
		{`{"answers":{"1":1}}`, "informant"},
		{`{"informant":"grandma","answers":{"1":1}}`, "informant"},
		{`{"informant":"self","age":8,"answers":{}}`, "age"},
		{`{"informant":"parent","answers":{},"impact":{"difficulties":"some","distress":0}}`, "impact.difficulties"},
		{`{"informant":"parent","answers":{},"impact":{"difficulties":"minor","distress":4}}`, "impact.distress"},
		{`{"informant":"parent","answers":{},"impact":{"difficulties":"minor","sleep":1}}`, "impact.sleep"},
	}
	for _, c := range cases {
		var a screening.Answers
		if err := json.Unmarshal([]byte(c.json), &a); err != nil {
			t.Fatalf("%s: %v", c.json, err)
		}
		ps := in.Validate(a)
		if !slices.ContainsFunc(ps, func(p screening.Problem) bool { return p.Field == c.field }) {
			t.Errorf("%s: problems %v, want one on %s", c.json, ps, c.field)
		}
	}
	var a screening.Answers
	err := json.Unmarshal([]byte(`{"informant":"parent","answers":{},"impact":{"difficulties":"minor","home":"a lot"}}`), &a)
	if fe := (*screening.FieldError)(nil); err == nil || !asField(err, &fe) || fe.Field != "impact.home" {
		t.Errorf("a string impact answer: %v", err)
	}
}

func asField(err error, fe **screening.FieldError) bool {
	for err != nil {
		if f, ok := err.(*screening.FieldError); ok {
			*fe = f
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

func TestPSC17(t *testing.T) {
	in, _ := screening.Builtin(screening.CodePSC17, 1)
	if ps := in.Check(); ps != nil {
		t.Fatal(ps)
	}
	count := map[string]int{}
	for _, s := range in.Scales {
		count[s.Code] = len(s.Items)
	}
	if len(in.Items) != 17 || count["attention"] != 5 || count["internalising"] != 5 || count["externalising"] != 7 {
		t.Fatalf("items %d, scales %v", len(in.Items), count)
	}
	a := screening.Answers{Informant: screening.Teacher, Age: 11, Values: values(
		1, 2, 3, 1, 7, 2, 13, 1, 17, 2, // attention 8 (cut-off 7)
		2, 1, 6, 1, 9, 1, 11, 1, 15, 1, // internalising 5 (cut-off 5)
		4, 0, 5, 1, 8, 0, 10, 1, 12, 0, 14, 1, 16, 0)} // externalising 3 (cut-off 7)
	check(t, in.Score(a, ""), map[string]want{
		"attention": {ptr(8), "above_cutoff"}, "internalising": {ptr(5), "above_cutoff"},
		"externalising": {ptr(3), "below_cutoff"}, "total": {ptr(16), "above_cutoff"}, // cut-off 15
	})
	delete(a.Values, "16")
	check(t, in.Score(a, ""), map[string]want{"externalising": {nil, ""}, "total": {nil, ""}, "attention": {ptr(8), "above_cutoff"}})
}

// TestRisk checks each rule's part of the level and its wording.
func TestRisk(t *testing.T) {
	cat := i18n.MustLoad()
	en, ru := cat.For(i18n.EN), cat.For(i18n.RU)
	now := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	rules := screening.DefaultRules()
	if ps := rules.Check(); ps != nil {
		t.Fatal(ps)
	}
	ins := map[string]screening.Instrument{}
	for _, in := range screening.Builtins() {
		ins[in.Code] = in
	}
	scored := func(code string, a screening.Answers) screening.Scored {
		in := ins[code]
		if ps := in.Validate(a); ps != nil {
			t.Fatalf("%s: %v", code, ps)
		}
		return screening.Scored{Instrument: in, Answers: a, Result: in.Score(a, "")}
	}
	cats := scored(screening.CodeCategories, screening.Answers{Informant: screening.Teacher, Values: map[string]int{"orphan": 1, "idp": 1, "disability": 0},
		Details: map[string]screening.Detail{"orphan": {Evidence: "Ölüm şəhadətnaməsi", Date: "2025-03-01"}}})
	sdqHigh := scored(screening.CodeSDQ, screening.Answers{Informant: screening.Parent, Age: 11, Values: values(
		3, 2, 8, 2, 13, 2, 16, 1, 24, 2, 5, 2, 7, 0, 12, 1, 18, 1, 22, 0, 2, 1, 10, 1, 15, 0, 21, 1, 25, 1, 6, 0, 11, 2, 14, 2, 19, 0, 23, 0)})
	if v, _ := sdqHigh.Result.Value("total_difficulties"); v != 19 {
		t.Fatalf("the SDQ set scores %d, want 19", v) // emotional 9 + conduct 6 (7 reversed) + hyperactivity 4 + peer 0 (11, 14 reversed)
	}
	sign := scored(screening.CodeSigns, screening.Answers{Informant: screening.Teacher, Values: map[string]int{"attendance_drop": 3},
		Details: map[string]screening.Detail{"attendance_drop": {Since: "2026-09-20"}}})
	psc := scored(screening.CodePSC17, screening.Answers{Informant: screening.Teacher, Age: 11, Values: values(
		1, 2, 3, 1, 7, 2, 13, 1, 17, 2, 2, 1, 6, 1, 9, 1, 11, 1, 15, 1, 4, 0, 5, 1, 8, 0, 10, 1, 12, 0, 14, 1, 16, 0)})
	selfHarm := scored(screening.CodeSigns, screening.Answers{Informant: screening.Teacher, Values: map[string]int{"self_harm": 1}})

	cases := []struct {
		name   string
		sets   []screening.Scored
		level  screening.Level
		points int
		en, ru string
	}{
		{"nothing", nil, screening.None, 0, "", ""},
		{"categories", []screening.Scored{cats}, screening.Medium, 3,
			"2 social categories: orphan, internally displaced", "2 социальные категории: сирота, вынужденный переселенец"},
		{"band", []screening.Scored{sdqHigh}, screening.Medium, 3,
			"SDQ total difficulties 19 — high (parent)", "SDQ: общие трудности 19 — высокий (родитель)"},
		{"sign seen often", []screening.Scored{sign}, screening.Medium, 3,
			"sign: attendance drop (often) for 2 months", "признак: снижение посещаемости (часто) 2 месяца"},
		{"an immediate sign", []screening.Scored{selfHarm}, screening.High, 6, "sign: self-harm (once)", "признак: самоповреждение (однажды)"},
		{"everything", []screening.Scored{sdqHigh, cats, sign}, screening.High, 9,
			"SDQ total difficulties 19 — high (parent); 2 social categories: orphan, internally displaced; sign: attendance drop (often) for 2 months", ""},
		{"PSC-17 over the cut-off and two categories", []screening.Scored{psc, cats}, screening.High, 8,
			"PSC-17 total score 16 — at or over the cut-off (teacher); PSC-17 attention 8 — at or over the cut-off (teacher); " +
				"PSC-17 internalising 5 — at or over the cut-off (teacher); 2 social categories: orphan, internally displaced", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := rules.Assess(c.sets)
			if a.Level != c.level || a.Points != c.points || a.RulesVersion != 1 {
				t.Errorf("level %s (%d points), want %s (%d)", a.Level, a.Points, c.level, c.points)
			}
			if got := screening.Explain(a.Factors, ins, en, "en", now); got != c.en {
				t.Errorf("en: %q\nwant %q", got, c.en)
			}
			if c.ru != "" {
				if got := screening.Explain(a.Factors, ins, ru, "ru", now); got != c.ru {
					t.Errorf("ru: %q\nwant %q", got, c.ru)
				}
			}
		})
	}

	// A rule change gives another level; the past assessment keeps its own.
	past := rules.Assess([]screening.Scored{cats})
	stricter := rules
	stricter.Version, stricter.Thresholds = 2, screening.Thresholds{Low: 2, Medium: 5, High: 8}
	if now := stricter.Assess([]screening.Scored{cats}); now.Level != screening.Low || now.RulesVersion != 2 || past.Level != screening.Medium {
		t.Errorf("new rules say %s (v%d), the past %s", now.Level, now.RulesVersion, past.Level)
	}
	bad := rules
	bad.Thresholds = screening.Thresholds{Low: 3, Medium: 2, High: 1}
	if ps := bad.Check(); len(ps) == 0 || ps[0].Field != "thresholds" {
		t.Errorf("falling thresholds pass: %v", ps)
	}
}
