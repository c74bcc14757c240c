package referral

import (
	"slices"
	"time"
)

// Calendar is the working-day arithmetic deadlines need; the notify
// package's calendar provides it.
type Calendar interface {
	// AddWorkingDays returns the moment n working days after t.
	AddWorkingDays(t time.Time, n int) time.Time
}

// Terms are the deadlines of one urgency: to acknowledge and to complete.
// Critical referrals run on the clock (Clock); the others in working days.
type Terms struct {
	Clock         bool
	Ack, Complete time.Duration // on the clock
	AckDays, Days int           // in working days
}

// Policy holds the terms of each urgency.
type Policy map[Urgency]Terms

// DefaultPolicy is the defaults: critical 1 hour / 24 hours on the
// clock; high 1 / 5 working days; medium 3 / 15; low 5 / 30.
func DefaultPolicy() Policy {
	return Policy{
		Critical: {Clock: true, Ack: time.Hour, Complete: 24 * time.Hour},
		High:     {AckDays: 1, Days: 5},
		Medium:   {AckDays: 3, Days: 15},
		Low:      {AckDays: 5, Days: 30},
	}
}

// Due returns when a referral of urgency u sent at sent must be
// acknowledged and completed.
func (p Policy) Due(cal Calendar, u Urgency, sent time.Time) (ack, complete time.Time) {
	t, ok := p[u]
	if !ok {
		t = DefaultPolicy()[u]
	}
	if t.Clock {
		return sent.Add(t.Ack), sent.Add(t.Complete)
	}
	return cal.AddWorkingDays(sent, t.AckDays), cal.AddWorkingDays(sent, t.Days)
}

// Span is how far a deadline is from now, in the largest whole unit that
// fits: "due in 3 h", "overdue by 2 days".
type Span struct {
	Overdue bool
	N       int
	Unit    string // "min", "hour" or "day"
}

// Until measures due against now.
func Until(now, due time.Time) Span {
	d := due.Sub(now)
	s := Span{Overdue: d < 0}
	if d < 0 {
		d = -d
	}
	switch {
	case d >= 48*time.Hour:
		s.N, s.Unit = int(d/(24*time.Hour)), "day"
	case d >= 2*time.Hour:
		s.N, s.Unit = int(d/time.Hour), "hour"
	default:
		s.N, s.Unit = max(1, int(d/time.Minute)), "min"
	}
	return s
}

// Due reports the deadline that counts for r now: acknowledging while it is
// sent, completing while it is otherwise live; zero once it has ended.
func (r Referral) Due() time.Time {
	switch r.State {
	case Sent:
		return r.AckDue
	case Acknowledged, Accepted, InProgress:
		return r.CompleteDue
	}
	return time.Time{}
}

// Overdue reports whether r's current deadline has passed at now.
func (r Referral) Overdue(now time.Time) bool {
	d := r.Due()
	return !d.IsZero() && now.After(d)
}

// Median is the median of ds, zero for none.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
