package events

import (
	"slices"
	"strings"
	"time"

	"dayaq/internal/apperr"
)

// Kind is what a campaign material is.
type Kind string

// Kinds lists the kinds of campaign materials.
func Kinds() []Kind { return []Kind{"video", "poster", "leaflet"} }

// Audience is whom a campaign material speaks to.
type Audience string

// Audiences lists them.
func Audiences() []Audience { return []Audience{"children", "parents", "staff"} }

// Languages are the languages a material can be in.
func Languages() []string { return []string{"az", "ru", "en"} }

// CampaignMaterial is an item of the "Mənimlə danış" library: a video, a
// poster or a leaflet, with a stored file or a link (large videos).
type CampaignMaterial struct {
	ID          int64
	Kind        Kind
	Title       string
	Languages   []string
	Edition     string // the material's own version ("v2", "2026")
	Audience    Audience
	ExternalURL string
	File        *Material
	Version     int
}

// Validate checks a material as the city enters it; a file, when there is
// one, is checked by CheckFile.
func (m CampaignMaterial) Validate() error {
	var fs []apperr.FieldError
	if !slices.Contains(Kinds(), m.Kind) {
		fs = append(fs, apperr.Field("kind", "campaign.error.kind"))
	}
	if f, bad := text("title", m.Title, 200, true); bad {
		fs = append(fs, f)
	}
	if len(m.Languages) == 0 || slices.ContainsFunc(m.Languages, func(l string) bool { return !slices.Contains(Languages(), l) }) {
		fs = append(fs, apperr.Field("languages", "campaign.error.languages"))
	}
	if f, bad := text("edition", m.Edition, 40, false); bad {
		fs = append(fs, f)
	}
	if !slices.Contains(Audiences(), m.Audience) {
		fs = append(fs, apperr.Field("audience", "campaign.error.audience"))
	}
	if m.ExternalURL != "" && !ValidExternalURL(m.ExternalURL) {
		fs = append(fs, apperr.Field("external_url", "campaign.error.url"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// Showing is a campaign material shown at a school.
type Showing struct {
	ID            int64
	SchoolID      int64
	SchoolName    string
	District      string
	MaterialID    int64
	MaterialTitle string
	MaterialKind  Kind
	ShownAt       time.Time
	Classes       []string
	Pupils        int
	Parents       int
	ShownBy       string
	Version       int
}

// Validate checks a showing.
func (s Showing) Validate() error {
	var fs []apperr.FieldError
	if s.MaterialID <= 0 {
		fs = append(fs, apperr.Field("material", "error.required"))
	}
	if s.ShownAt.IsZero() {
		fs = append(fs, apperr.Field("shown_at", "error.required"))
	}
	if s.Pupils < 0 || s.Pupils > 100000 {
		fs = append(fs, apperr.Field("pupils", "error.range", 0, 100000))
	}
	if s.Parents < 0 || s.Parents > 100000 {
		fs = append(fs, apperr.Field("parents", "error.range", 0, 100000))
	}
	if s.Pupils+s.Parents == 0 && len(fs) == 0 {
		fs = append(fs, apperr.Field("pupils", "campaign.error.nobody"))
	}
	if f, bad := text("shown_by", s.ShownBy, 200, true); bad {
		fs = append(fs, f)
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// Figure is a number imported from outside (video views on a platform, a
// partner's count), with its source and the date it was true on.
type Figure struct {
	ID          int64
	MaterialID  int64 // 0: the campaign as a whole
	District    string
	Metric      string
	Value       int64
	PeriodStart time.Time
	PeriodEnd   time.Time
	Source      string
	AsOf        time.Time
}

// Metrics lists the imported figures' kinds.
func Metrics() []string { return []string{"video_views", "social_reach", "leaflets_given"} }

// Validate checks an imported figure: it must say where it came from and
// when.
func (f Figure) Validate() error {
	var fs []apperr.FieldError
	if !slices.Contains(Metrics(), f.Metric) {
		fs = append(fs, apperr.Field("metric", "campaign.error.metric"))
	}
	if f.Value < 0 {
		fs = append(fs, apperr.Field("value", "error.range", 0, int64(1)<<53))
	}
	if f.PeriodStart.IsZero() {
		fs = append(fs, apperr.Field("period_start", "error.required"))
	}
	if f.PeriodEnd.IsZero() || f.PeriodEnd.Before(f.PeriodStart) {
		fs = append(fs, apperr.Field("period_end", "campaign.error.period"))
	}
	if fe, bad := text("source", f.Source, 200, true); bad {
		fs = append(fs, fe)
	}
	if f.AsOf.IsZero() {
		fs = append(fs, apperr.Field("as_of", "error.required"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// ReachRow is one month of one district: the campaign's reach there and
// the hotline's contacts from there.
type ReachRow struct {
	Month    time.Time // the first day of the month, UTC
	District string    // "" for the whole city
	Showings int
	Pupils   int
	Parents  int
	Contacts int
}

// Reached is the people a row's showings reached.
func (r ReachRow) Reached() int { return r.Pupils + r.Parents }

// Months lists the first days of the months from from's to to's, inclusive.
func Months(from, to time.Time) []time.Time {
	var out []time.Time
	m := time.Date(from.Year(), from.Month(), 1, 0, 0, 0, 0, time.UTC)
	for end := time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC); !m.After(end) && len(out) < 120; m = m.AddDate(0, 1, 0) {
		out = append(out, m)
	}
	return out
}

// MonthKey is a month as the reach queries group it: "2026-09".
func MonthKey(t time.Time) string { return t.UTC().Format("2006-01") }

// LangList reads "az, ru" into ["az", "ru"].
func LangList(s string) []string {
	var out []string
	for p := range strings.FieldsFuncSeq(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		p = strings.ToLower(p)
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}
