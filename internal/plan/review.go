package plan

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
)

// Level is the register entry's risk level (the screening issue's register
// contract: low, medium, high).
type Level string

const (
	Low    Level = "low"
	Medium Level = "medium"
	High   Level = "high"
)

// Levels lists the levels from the lowest.
func Levels() []Level { return []Level{Low, Medium, High} }

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return slices.Contains(Levels(), l) }

// Cadence is how often a plan is reviewed, in weeks, per risk level; the
// city sets it.
type Cadence map[Level]int

// DefaultCadence is the city's starting cadence: every 6 weeks at high
// risk, 12 at medium, 18 at low (ADR 0020).
func DefaultCadence() Cadence { return Cadence{High: 6, Medium: 12, Low: 18} }

// ParseCadence reads "high=6,medium=12,low=18"; levels left out keep the
// default.
func ParseCadence(s string) (Cadence, error) {
	c := DefaultCadence()
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		var n int
		if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d", &n); !ok || err != nil || n < 1 || n > 52 || !Level(strings.TrimSpace(k)).Valid() {
			return nil, fmt.Errorf("plan: cadence %q: want level=weeks (1–52)", part)
		}
		c[Level(strings.TrimSpace(k))] = n
	}
	return c, nil
}

// NextReview is when a plan at level l reviewed (or opened) at from is
// next due: the cadence's weeks later, moved forward to the next working
// day if that falls on a day off, at the end of the working day (18:00).
func NextReview(cal Calendar, c Cadence, l Level, from time.Time) (time.Time, error) {
	w, ok := c[l]
	if !ok || w <= 0 {
		w = DefaultCadence()[l]
	}
	if w <= 0 {
		return time.Time{}, fmt.Errorf("plan: no cadence for level %q", l)
	}
	d := from.In(cal.Location()).AddDate(0, 0, 7*w)
	for i := 0; !cal.IsWorkingDay(d); i++ {
		if i > 60 {
			return time.Time{}, fmt.Errorf("plan: no working day after %s", d.Format(time.DateOnly))
		}
		d = d.AddDate(0, 0, 1)
	}
	loc := d.Location()
	return time.Date(d.Year(), d.Month(), d.Day(), 18, 0, 0, 0, loc), nil
}

// Progress is a goal's progress at a review, on a fixed scale.
type Progress int

const (
	Worse    Progress = iota // worse than at the start
	NoChange                 // no change
	SomeGain                 // some progress
	GoodGain                 // good progress
	Achieved                 // the goal is met
)

// ProgressScale lists the scale from the lowest.
func ProgressScale() []Progress { return []Progress{Worse, NoChange, SomeGain, GoodGain, Achieved} }

// Valid reports whether p is on the scale.
func (p Progress) Valid() bool { return p >= Worse && p <= Achieved }

// Code is p's catalogue code.
func (p Progress) Code() string {
	return [...]string{"worse", "no_change", "some", "good", "achieved"}[p]
}

// Decision is what a review decides.
type Decision string

const (
	Continue Decision = "continue"
	Revise   Decision = "revise"
	Close    Decision = "close"
)

// Decisions lists them.
func Decisions() []Decision { return []Decision{Continue, Revise, Close} }

// Review is one review of the plan.
type Review struct {
	ID         int64
	Due        time.Time
	HeldAt     time.Time
	Progress   map[int64]Progress // per goal
	LevelFrom  Level
	LevelTo    Level // the risk level after the review; equal when unchanged
	Decision   Decision
	Note       string
	ApprovedBy int64
	ApprovedAt time.Time
}

// LevelChanged reports whether the review changed the risk level.
func (r Review) LevelChanged() bool { return r.LevelTo != r.LevelFrom }

// Validate checks r against the plan's open goals: every one needs its
// progress, and only those.
func (r Review) Validate(goals []Goal, now time.Time) error {
	var fs []apperr.FieldError
	if r.HeldAt.IsZero() {
		fs = append(fs, apperr.Field("held_at", "error.required"))
	} else if r.HeldAt.After(now.Add(24 * time.Hour)) {
		fs = append(fs, apperr.Field("held_at", "plans.error.review_future"))
	}
	for _, g := range goals {
		if g.Status == GoalDropped {
			continue
		}
		p, ok := r.Progress[g.ID]
		if !ok || !p.Valid() {
			fs = append(fs, apperr.Field(fmt.Sprintf("progress.%d", g.ID), "plans.error.progress"))
		}
	}
	for id := range r.Progress {
		if !slices.ContainsFunc(goals, func(g Goal) bool { return g.ID == id }) {
			fs = append(fs, apperr.Field(fmt.Sprintf("progress.%d", id), "plans.error.progress_goal"))
		}
	}
	if !r.LevelTo.Valid() {
		fs = append(fs, apperr.Field("level", "plans.error.level"))
	}
	if !slices.Contains(Decisions(), r.Decision) {
		fs = append(fs, apperr.Field("decision", "plans.error.decision"))
	}
	if utf8.RuneCountInString(r.Note) > MaxText {
		fs = append(fs, apperr.Field("note", "error.too_long", MaxText))
	}
	slices.SortFunc(fs, func(a, b apperr.FieldError) int { return strings.Compare(a.Field, b.Field) })
	return fieldErrors(fs)
}

// CanApprove reports whether p may approve a review: the school's head, or
// a supervisor (a city or district specialist).
func CanApprove(p access.Principal) bool {
	return p.HasAny(access.SchoolHead, access.CitySpecialist)
}

// Overdue reports whether a review due at due and not held is overdue at now.
func Overdue(due, now time.Time) bool { return !due.IsZero() && now.After(due) }
