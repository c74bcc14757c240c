package calendar

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
)

// Urgency is how urgent a piece of work is.
type Urgency string

const (
	Critical Urgency = "critical"
	High     Urgency = "high"
	Medium   Urgency = "medium"
	Low      Urgency = "low"
)

// Urgencies lists the urgencies, most urgent first.
func Urgencies() []Urgency { return []Urgency{Critical, High, Medium, Low} }

// Valid reports whether u is a known urgency.
func (u Urgency) Valid() bool { return slices.Contains(Urgencies(), u) }

// Stage is which deadline of a piece of work is meant.
type Stage string

const (
	Acknowledge Stage = "acknowledge" // the receiver says they have it
	Complete    Stage = "complete"    // the work is done
)

// Span is a length of time for a deadline: on the clock, or in working
// days or hours of the calendar.
type Span struct {
	Clock        time.Duration // on the clock, nights and holidays included
	WorkingDays  int
	WorkingHours time.Duration
}

// String writes s as ParseSpan reads it: "24h", "5wd", "4wh".
func (s Span) String() string {
	switch {
	case s.Clock > 0:
		return strconv.FormatFloat(s.Clock.Hours(), 'f', -1, 64) + "h"
	case s.WorkingHours > 0:
		return strconv.FormatFloat(s.WorkingHours.Hours(), 'f', -1, 64) + "wh"
	}
	return strconv.Itoa(s.WorkingDays) + "wd"
}

// seconds is h hours rounded to the second: a span written back (String)
// and read again is the same span (FuzzParseDeadlines found 1.17h drifting
// by a nanosecond a round trip when it was kept to the nanosecond).
func seconds(h float64) time.Duration {
	return time.Duration(math.Round(h*3600)) * time.Second
}

// ParseSpan reads "24h" (clock hours), "5wd" (working days) or "4wh"
// (working hours).
func ParseSpan(s string) (Span, error) {
	s = strings.TrimSpace(s)
	num := func(suffix string) (float64, bool) {
		v, err := strconv.ParseFloat(strings.TrimSuffix(s, suffix), 64)
		return v, err == nil && v > 0 && v <= 10000
	}
	switch {
	case strings.HasSuffix(s, "wd"):
		if v, ok := num("wd"); ok && v == float64(int(v)) {
			return Span{WorkingDays: int(v)}, nil
		}
	case strings.HasSuffix(s, "wh"):
		if v, ok := num("wh"); ok && seconds(v) > 0 {
			return Span{WorkingHours: seconds(v)}, nil
		}
	case strings.HasSuffix(s, "h"):
		if v, ok := num("h"); ok && seconds(v) > 0 {
			return Span{Clock: seconds(v)}, nil
		}
	}
	return Span{}, apperr.New(apperr.Invalid, "calendar.error.span_format", s)
}

// Limits are the two deadlines of one urgency.
type Limits struct{ Acknowledge, Complete Span }

// Deadlines are the limits of every urgency.
type Deadlines map[Urgency]Limits

// DefaultDeadlines: critical 1 hour / 24 hours on the clock; high 1 / 5
// working days; medium 3 / 15; low 5 / 30.
func DefaultDeadlines() Deadlines {
	return Deadlines{
		Critical: {Span{Clock: time.Hour}, Span{Clock: 24 * time.Hour}},
		High:     {Span{WorkingDays: 1}, Span{WorkingDays: 5}},
		Medium:   {Span{WorkingDays: 3}, Span{WorkingDays: 15}},
		Low:      {Span{WorkingDays: 5}, Span{WorkingDays: 30}},
	}
}

// ParseDeadlines reads deadlines as "critical=1h/24h,high=1wd/5wd,…"
// (acknowledge/complete per urgency); urgencies not named keep their
// defaults. An empty string gives the defaults.
func ParseDeadlines(s string) (Deadlines, error) {
	d := DefaultDeadlines()
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, spans, ok := strings.Cut(part, "=")
		u := Urgency(strings.TrimSpace(name))
		ack, done, ok2 := strings.Cut(spans, "/")
		if !ok || !ok2 || !u.Valid() {
			return nil, apperr.New(apperr.Invalid, "calendar.error.deadline_format", part)
		}
		var l Limits
		var err error
		if l.Acknowledge, err = ParseSpan(ack); err != nil {
			return nil, err
		}
		if l.Complete, err = ParseSpan(done); err != nil {
			return nil, err
		}
		d[u] = l
	}
	return d, nil
}

// String writes d as ParseDeadlines reads it.
func (d Deadlines) String() string {
	var parts []string
	for _, u := range Urgencies() {
		if l, ok := d[u]; ok {
			parts = append(parts, string(u)+"="+l.Acknowledge.String()+"/"+l.Complete.String())
		}
	}
	return strings.Join(parts, ",")
}

// Add returns start plus s: on the clock, or counted on the calendar.
func (c *Calendar) Add(start time.Time, s Span) (time.Time, error) {
	switch {
	case s.Clock > 0:
		return start.Add(s.Clock), nil
	case s.WorkingHours > 0:
		return c.AddWorkingHours(start, s.WorkingHours)
	}
	return c.AddWorkingDays(start, s.WorkingDays)
}

// Due returns when work of urgency u started at start must reach stage:
// critical work on the clock, the rest in working time (see
// AddWorkingDays). The result is in Baku time.
func (c *Calendar) Due(start time.Time, u Urgency, stage Stage) (time.Time, error) {
	l, ok := c.deadlines[u]
	if !ok {
		return time.Time{}, fmt.Errorf("calendar: no deadline for urgency %q", u)
	}
	s := l.Acknowledge
	switch stage {
	case Acknowledge:
	case Complete:
		s = l.Complete
	default:
		return time.Time{}, fmt.Errorf("calendar: unknown stage %q", stage)
	}
	t, err := c.Add(start, s)
	return t.In(c.loc), err
}

// Remaining is how long until a deadline, or how long past it, in one
// unit, as a catalogue key with a plural count: show it with
// Localizer.N(r.Key, r.N).
type Remaining struct {
	Key     string // deadline.due_in_minutes, …, deadline.overdue_by_days, deadline.due_now
	N       int
	Overdue bool
}

// Humanize says how far due is from now on the clock: under an hour in
// minutes, under two days in hours, else in days, rounded down (never 0:
// "due in 1 min" until it is due).
func Humanize(now, due time.Time) Remaining {
	d := due.Sub(now)
	r := Remaining{Overdue: d < 0}
	if r.Overdue {
		d = -d
	}
	keys := [2][3]string{
		{"deadline.due_in_minutes", "deadline.due_in_hours", "deadline.due_in_days"},
		{"deadline.overdue_by_minutes", "deadline.overdue_by_hours", "deadline.overdue_by_days"},
	}
	k := keys[0]
	if r.Overdue {
		k = keys[1]
	}
	switch {
	case d < time.Minute:
		return Remaining{Key: "deadline.due_now", N: 0, Overdue: r.Overdue}
	case d < time.Hour:
		r.Key, r.N = k[0], int(d/time.Minute)
	case d < 48*time.Hour:
		r.Key, r.N = k[1], int(d/time.Hour)
	default:
		r.Key, r.N = k[2], int(d/(24*time.Hour))
	}
	return r
}
