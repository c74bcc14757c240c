package screening

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"time"
)

// BandRule gives points for a score falling in a band.
type BandRule struct {
	Instrument string `json:"instrument"`
	Score      string `json:"score"`
	Band       string `json:"band"`
	Points     int    `json:"points"`
}

// Thresholds are the points at which each level starts.
type Thresholds struct {
	Low    int `json:"low"`
	Medium int `json:"medium"`
	High   int `json:"high"`
}

// Rules are the city's risk rules, versioned like instruments: a change is
// a new version, and a past result keeps the version it was computed with.
type Rules struct {
	Version    int            `json:"version"`
	Categories map[string]int `json:"categories"`  // points per social category ticked
	Signs      map[string]int `json:"signs"`       // points per sign seen
	OftenExtra int            `json:"often_extra"` // more points for a sign seen often
	Immediate  []string       `json:"immediate"`   // signs that make the level high by themselves
	Bands      []BandRule     `json:"bands"`
	Thresholds Thresholds     `json:"thresholds"`
	Review     map[Level]int  `json:"review_working_days"` // the review cadence per level
}

// DefaultRules are the rules Dayaq starts with, version 1 (ADR 0019).
func DefaultRules() Rules {
	return Rules{Version: 1,
		Categories: map[string]int{"orphan": 2, "no_parental_care": 2, "disability": 1, "idp": 1, "targeted_assistance": 1,
			"martyr_family": 1, "parent_in_prison": 2, "parent_abroad": 1, "large_family": 1, "other": 1},
		Signs: map[string]int{"attendance_drop": 2, "academic_decline": 1, "behaviour_change": 1, "withdrawal": 2, "aggression": 2,
			"neglect": 3, "harm": 6, "self_harm": 6, "substance_use": 3, "bullying_victim": 2, "bullying_perpetrator": 2,
			"running_away": 3, "early_marriage": 4, "child_labour": 3},
		OftenExtra: 1,
		Immediate:  []string{"harm", "self_harm"},
		Bands: []BandRule{
			{CodePSC17, "total", "above_cutoff", 3},
			{CodePSC17, "attention", "above_cutoff", 1},
			{CodePSC17, "internalising", "above_cutoff", 1},
			{CodePSC17, "externalising", "above_cutoff", 1},
			{CodeSDQ, "total_difficulties", "slightly_raised", 1},
			{CodeSDQ, "total_difficulties", "high", 3},
			{CodeSDQ, "total_difficulties", "very_high", 4},
			{CodeSDQ, "total_difficulties", "borderline", 1},
			{CodeSDQ, "total_difficulties", "abnormal", 3},
			{CodeSDQ, "impact", "high", 1},
			{CodeSDQ, "impact", "very_high", 2},
			{CodeSDQ, "impact", "abnormal", 1},
		},
		Thresholds: Thresholds{Low: 1, Medium: 3, High: 6},
		Review:     map[Level]int{Low: 60, Medium: 30, High: 10},
	}
}

// Check reports what is wrong with a rule set.
func (r Rules) Check() []Problem {
	var ps []Problem
	if r.Version < 1 {
		ps = append(ps, Problem{"version", "screening.error.version"})
	}
	t := r.Thresholds
	if t.Low < 1 || t.Medium <= t.Low || t.High <= t.Medium {
		ps = append(ps, Problem{"thresholds", "screening.error.thresholds"})
	}
	for l, d := range r.Review {
		if !l.Valid() || d < 1 || d > 250 {
			ps = append(ps, Problem{"review_working_days", "screening.error.cadence"})
		}
	}
	return ps
}

// Level is the level points reach.
func (r Rules) Level(points int) Level {
	switch t := r.Thresholds; {
	case points >= t.High:
		return High
	case points >= t.Medium:
		return Medium
	case points >= t.Low:
		return Low
	}
	return None
}

// Scored is one answer set with the instrument version it was given in
// and its scores.
type Scored struct {
	Instrument Instrument
	Answers    Answers
	Result     Result
}

// Assessment is a risk level with why.
type Assessment struct {
	RulesVersion int      `json:"rules_version"`
	Level        Level    `json:"level"`
	Points       int      `json:"points"`
	Factors      []Factor `json:"factors"`
}

// Assess applies r to a pupil's answer sets. A score counts once per
// instrument: the informant whose band gives the most points.
func (r Rules) Assess(sets []Scored) Assessment {
	a := Assessment{RulesVersion: r.Version, Factors: []Factor{}}
	best := map[string]Factor{} // instrument/score → factor
	immediate := false
	for _, s := range sets {
		in := s.Instrument
		for _, it := range in.Items {
			v, ok := s.Answers.Values[it.Code]
			if !ok || v <= 0 {
				continue
			}
			d := s.Answers.Details[it.Code]
			switch it.Kind {
			case Category:
				a.Factors = append(a.Factors, Factor{Kind: "category", Instrument: in.Code, Code: it.Code, Text: d.Text,
					Since: d.Date, Points: r.Categories[it.Code]})
			case Sign:
				p := r.Signs[it.Code]
				if v >= len(SignFrequencies()) {
					p += r.OftenExtra
				}
				immediate = immediate || slices.Contains(r.Immediate, it.Code)
				a.Factors = append(a.Factors, Factor{Kind: "sign", Instrument: in.Code, Code: it.Code, Frequency: SignFrequencies()[min(v, 3)-1],
					Since: d.Since, Points: p})
			}
		}
		for _, br := range r.Bands {
			if br.Instrument != in.Code {
				continue
			}
			sc, ok := s.Result.Scores[br.Score]
			if !ok || sc.Score == nil || sc.Band != br.Band {
				continue
			}
			k := in.Code + "/" + br.Score
			if old, ok := best[k]; ok && old.Points >= br.Points {
				continue
			}
			v := *sc.Score
			best[k] = Factor{Kind: "score", Instrument: in.Code, Code: br.Score, Score: &v, Band: sc.Band,
				Informant: string(s.Answers.Informant), Points: br.Points}
		}
	}
	keys := make([]string, 0, len(best))
	for k := range best {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	scores := make([]Factor, 0, len(keys))
	for _, k := range keys {
		scores = append(scores, best[k])
	}
	slices.SortStableFunc(scores, func(x, y Factor) int { return cmp.Compare(y.Points, x.Points) })
	a.Factors = append(scores, a.Factors...)
	for _, f := range a.Factors {
		a.Points += f.Points
	}
	a.Level = r.Level(a.Points)
	if immediate {
		a.Level = High
	}
	return a
}

// Words is the catalogue an explanation is worded from (i18n.Localizer).
type Words interface {
	T(key string, args ...any) string
	N(key string, n int, args ...any) string
}

// Explain words factors in lang: "SDQ total difficulties 19 — high
// (parent); 2 social categories: orphan, internally displaced; sign:
// attendance drop for 2 months". instruments names the items and scores
// (by code); now measures how long a sign has been seen.
func Explain(factors []Factor, instruments map[string]Instrument, w Words, lang string, now time.Time) string {
	var parts, cats []string
	itemName := func(f Factor) string {
		if it, ok := instruments[f.Instrument].Item(f.Code); ok && it.Text.In(lang) != "" {
			return it.Text.In(lang)
		}
		return f.Code
	}
	catAt := -1
	for _, f := range factors {
		switch f.Kind {
		case "score":
			in := instruments[f.Instrument]
			name := in.Abbr
			if name == "" {
				name = in.Name.In(lang)
			}
			score := "—"
			if f.Score != nil {
				score = strconv.Itoa(*f.Score)
			}
			parts = append(parts, w.T("screening.explain.score", name, strings.ToLower(in.ScoreName(f.Code, lang)), score,
				w.T("screening.band."+f.Band), w.T("screening.informant."+f.Informant)))
		case "category":
			n := itemName(f)
			if f.Text != "" {
				n += " (" + f.Text + ")"
			}
			cats = append(cats, strings.ToLower(n))
			if catAt < 0 {
				catAt = len(parts)
				parts = append(parts, "")
			}
		case "sign":
			s := w.T("screening.explain.sign", strings.ToLower(itemName(f)), w.T("screening.frequency."+f.Frequency))
			if since, err := time.Parse(time.DateOnly, f.Since); err == nil {
				s += " " + duration(w, since, now)
			}
			parts = append(parts, s)
		case "case", "contact":
			parts = append(parts, w.T("screening.explain."+f.Kind, f.Text))
		default:
			parts = append(parts, f.Kind)
		}
	}
	if catAt >= 0 {
		parts[catAt] = w.N("screening.explain.categories", len(cats), strings.Join(cats, ", "))
	}
	return strings.Join(parts, "; ")
}

// duration words how long since since: "for 2 months", "for 3 weeks".
func duration(w Words, since, now time.Time) string {
	days := int(now.Sub(since).Hours() / 24)
	switch {
	case days >= 60:
		m := (now.Year()-since.Year())*12 + int(now.Month()) - int(since.Month())
		if now.Day() < since.Day() {
			m--
		}
		return w.N("screening.explain.months", max(m, 2))
	case days >= 14:
		return w.N("screening.explain.weeks", days/7)
	}
	return w.N("screening.explain.days", max(days, 1))
}
