package casework

import (
	"fmt"
	"strings"
	"time"

	"dayaq/internal/apperr"
)

// Span is how long each step may take for one severity.
type Span struct {
	Report  time.Duration // from detection to the school's report
	Respond time.Duration // from the report to the city's response (triage)
	Resolve time.Duration // from triage to monitoring
}

// Calendar adds a span of working time to an instant. The working-day
// calendar (public holidays, weekends) implements it; nil means plain
// clock time.
type Calendar interface {
	Add(from time.Time, d time.Duration) time.Time
}

// Deadlines are the spans per severity, and the calendar non-critical
// deadlines run on. Critical cases always run on the clock: danger does not
// wait for Monday.
type Deadlines struct {
	By       map[Severity]Span
	Calendar Calendar
}

// DefaultDeadlines are the spans Dayaq starts with; configuration replaces
// any of them (ParseDeadlines).
//
//	severity  school reports within  city responds within  resolve within
//	critical  4 hours                4 hours               3 days
//	high      24 hours               24 hours              10 days
//	medium    3 days                 3 days                30 days
//	low       5 days                 10 days               60 days
func DefaultDeadlines() Deadlines {
	const day = 24 * time.Hour
	return Deadlines{By: map[Severity]Span{
		Critical: {Report: 4 * time.Hour, Respond: 4 * time.Hour, Resolve: 3 * day},
		High:     {Report: day, Respond: day, Resolve: 10 * day},
		Medium:   {Report: 3 * day, Respond: 3 * day, Resolve: 30 * day},
		Low:      {Report: 5 * day, Respond: 10 * day, Resolve: 60 * day},
	}}
}

func (d Deadlines) add(s Severity, from time.Time, span time.Duration) time.Time {
	if span <= 0 {
		return time.Time{}
	}
	if d.Calendar != nil && s != Critical {
		return d.Calendar.Add(from, span)
	}
	return from.Add(span)
}

// ReportDue is when a case of severity s detected at detected must be reported.
func (d Deadlines) ReportDue(s Severity, detected time.Time) time.Time {
	return d.add(s, detected, d.By[s].Report)
}

// RespondDue is when the city must respond to a case of severity s reported at reported.
func (d Deadlines) RespondDue(s Severity, reported time.Time) time.Time {
	return d.add(s, reported, d.By[s].Respond)
}

// ResolveDue is when a case of severity s triaged at triaged should reach monitoring.
func (d Deadlines) ResolveDue(s Severity, triaged time.Time) time.Time {
	return d.add(s, triaged, d.By[s].Resolve)
}

// ParseDeadlines reads spans from configuration and lays them over the
// defaults: "critical=4h/4h/72h,high=24h/24h/240h" (report/respond/resolve
// per severity, Go durations; a "d" suffix counts days). Severities not
// named keep their defaults.
func ParseDeadlines(s string) (Deadlines, error) {
	d := DefaultDeadlines()
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, spans, ok := strings.Cut(part, "=")
		sev := Severity(strings.TrimSpace(name))
		if !ok || !sev.Valid() {
			return d, apperr.New(apperr.Invalid, "case.error.deadlines_format", part)
		}
		fields := strings.Split(spans, "/")
		if len(fields) != 3 {
			return d, apperr.New(apperr.Invalid, "case.error.deadlines_format", part)
		}
		var ds [3]time.Duration
		for i, f := range fields {
			v, err := parseSpan(strings.TrimSpace(f))
			if err != nil || v <= 0 {
				return d, apperr.New(apperr.Invalid, "case.error.deadlines_span", part, f)
			}
			ds[i] = v
		}
		d.By[sev] = Span{Report: ds[0], Respond: ds[1], Resolve: ds[2]}
	}
	return d, nil
}

func parseSpan(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || fmt.Sprint(days) != n {
			return 0, fmt.Errorf("bad days %q", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}
