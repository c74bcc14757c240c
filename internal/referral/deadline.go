package referral

import (
	"slices"
	"time"

	"dayaq/internal/calendar"
)

// Calendar counts deadlines on the working-day calendar: the notify
// package's *calendar.Calendar, whose Deadlines hold the configurable
// spans per urgency (critical on the clock, the others in working days).
type Calendar interface {
	Due(start time.Time, u calendar.Urgency, stage calendar.Stage) (time.Time, error)
}

// Deadlines returns when a referral of urgency u sent at sent must be
// acknowledged and completed.
func Deadlines(cal Calendar, u Urgency, sent time.Time) (ack, complete time.Time, err error) {
	if ack, err = cal.Due(sent, calendar.Urgency(u), calendar.Acknowledge); err != nil {
		return ack, complete, err
	}
	complete, err = cal.Due(sent, calendar.Urgency(u), calendar.Complete)
	return ack.UTC(), complete.UTC(), err
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
