// Package escalate decides when work that falls due is escalated, and
// runs the escalation: first the assignee is told the work is about to fall
// due, then (overdue) their supervisor, then (long overdue) the city unit.
// Providers (referrals, working-group action items, case deadlines) supply
// the open items with their deadlines; the Store records each step once —
// a UNIQUE constraint on (subject kind, subject id, step) makes a second
// worker's attempt a no-op — and queues the notifications in the same
// transaction. The rules (Policy) do no I/O.
package escalate

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"dayaq/internal/notify"
)

// Step is one rung of the escalation ladder.
type Step string

const (
	DueSoon     Step = "due_soon"     // the assignee: it is about to fall due
	Overdue     Step = "overdue"      // the assignee and their supervisors: it is overdue
	LongOverdue Step = "long_overdue" // the city unit and the supervisors: it is long overdue
)

// Steps lists the steps in order.
func Steps() []Step { return []Step{DueSoon, Overdue, LongOverdue} }

// Audience is a group of people a step notifies; storage resolves it to
// users.
type Audience string

const (
	Assignee    Audience = "assignee"    // the assigned user, else the responsible body's officers
	Supervisors Audience = "supervisors" // the responsible body's supervisors
	CityUnit    Audience = "city"        // the city department's special-cases unit
)

// Audiences is who step s notifies.
func (s Step) Audiences() []Audience {
	switch s {
	case DueSoon:
		return []Audience{Assignee}
	case Overdue:
		return []Audience{Assignee, Supervisors}
	case LongOverdue:
		return []Audience{Supervisors, CityUnit}
	}
	return nil
}

// Kind is the notification kind of step s.
func (s Step) Kind() notify.Kind {
	switch s {
	case DueSoon:
		return notify.DeadlineSoon
	case Overdue:
		return notify.DeadlineOverdue
	}
	return notify.Escalated
}

// Key is the catalogue key of step s's message. Its arguments are the
// item's What (a catalogue key), its ID and the deadline.
func (s Step) Key() string {
	switch s {
	case DueSoon:
		return "notify.escalation.due_soon"
	case Overdue:
		return "notify.escalation.overdue"
	}
	return "notify.escalation.long_overdue"
}

// Item is one open piece of work with a deadline.
type Item struct {
	SubjectKind string // what it is and which deadline: "referral_ack", "referral_complete", "action_item"
	SubjectID   int64
	What        string // catalogue key naming the kind of work in messages ("escalate.what.referral_ack")
	Start, Due  time.Time
	Assignee    int64  // the user it is assigned to; 0 when the body as a whole
	OrgID       int64  // the body responsible; its supervisors are escalated to
	ChildID     int64  // the child whose data it concerns, 0 if none: then each step is audited
	Link        string // where to act on it ("/referrals/12")
}

// Policy sets when each step comes.
type Policy struct {
	// SoonFraction of the time allowed (Due − Start) before Due, the
	// assignee is warned, but at least SoonMin and at most SoonMax before.
	SoonFraction     float64
	SoonMin, SoonMax time.Duration
	// Work is long overdue once overdue by as long as it was allowed,
	// clamped to [LongMin, LongMax].
	LongMin, LongMax time.Duration
}

// DefaultPolicy warns a quarter of the allowed time ahead (10 minutes to a
// day) and calls the city unit once work is overdue by as long again as it
// was given (1 hour to 3 days): a critical acknowledgement (1 hour) warns
// at 15 minutes before and goes to the city at 1 hour overdue; a high one
// (1 working day) warns about 6 hours ahead and escalates to the city a day
// after the deadline.
func DefaultPolicy() Policy {
	return Policy{SoonFraction: 0.25, SoonMin: 10 * time.Minute, SoonMax: 24 * time.Hour,
		LongMin: time.Hour, LongMax: 72 * time.Hour}
}

// Times returns when each step of it comes.
func (p Policy) Times(it Item) (soon, overdue, long time.Time) {
	span := max(it.Due.Sub(it.Start), 0)
	lead := min(max(time.Duration(float64(span)*p.SoonFraction), p.SoonMin), p.SoonMax)
	return it.Due.Add(-lead), it.Due, it.Due.Add(min(max(span, p.LongMin), p.LongMax))
}

// Decision is a step whose time has come, and whether it notifies anyone:
// an earlier step found late, after a later one came, is recorded but not
// sent (no "about to fall due" for work already overdue).
type Decision struct {
	Step   Step
	Notify bool
}

// Decide returns the steps of it whose time has come at now, in order.
func (p Policy) Decide(it Item, now time.Time) []Decision {
	soon, overdue, long := p.Times(it)
	var ds []Decision
	for i, at := range []time.Time{soon, overdue, long} {
		if !now.Before(at) {
			ds = append(ds, Decision{Step: Steps()[i], Notify: true})
		}
	}
	for i := range ds[:max(len(ds)-1, 0)] {
		ds[i].Notify = false
	}
	return ds
}

// Provider supplies the open items whose deadline is before before.
type Provider interface {
	DueItems(ctx context.Context, before time.Time) ([]Item, error)
}

// ProviderFunc adapts a function to Provider.
type ProviderFunc func(ctx context.Context, before time.Time) ([]Item, error)

// DueItems calls f.
func (f ProviderFunc) DueItems(ctx context.Context, before time.Time) ([]Item, error) {
	return f(ctx, before)
}

// Record is one step to record, with the message to send.
type Record struct {
	Item     Item
	Step     Step
	Notify   bool
	Messages func(to []int64) ([]notify.Message, error) // builds the messages for the resolved users
}

// Store records steps. RecordEscalation records r unless that step of that
// item is recorded already, resolving r.Step's audiences to users and
// queueing r's messages in the same transaction; recorded says whether it
// did. Steps returns the steps recorded for the items of a subject kind.
type Store interface {
	RecordEscalation(ctx context.Context, r Record) (recorded bool, err error)
	EscalationSteps(ctx context.Context, subjectKind string, ids []int64) (map[int64][]Step, error)
}

// Escalator runs the ladder over the registered providers.
type Escalator struct {
	store     Store
	policy    Policy
	log       *slog.Logger
	providers []named
}

type named struct {
	name string
	p    Provider
}

// New returns an escalator recording through store.
func New(store Store, policy Policy, log *slog.Logger) *Escalator {
	return &Escalator{store: store, policy: policy, log: log}
}

// Register adds a provider; name is for logs.
func (e *Escalator) Register(name string, p Provider) {
	e.providers = append(e.providers, named{name, p})
}

// Run escalates every item whose step has come at now; it returns how many
// steps it recorded. A failing provider does not stop the others.
func (e *Escalator) Run(ctx context.Context, now time.Time) (int, error) {
	n := 0
	var errs []error
	for _, np := range e.providers {
		k, err := e.runProvider(ctx, np.p, now)
		n += k
		if err != nil {
			errs = append(errs, fmt.Errorf("escalate: %s: %w", np.name, err))
		}
	}
	return n, errors.Join(errs...)
}

func (e *Escalator) runProvider(ctx context.Context, p Provider, now time.Time) (int, error) {
	// A minute more than the longest warning, so that an item whose
	// warning comes exactly now is among them.
	items, err := p.DueItems(ctx, now.Add(e.policy.SoonMax+time.Minute))
	if err != nil {
		return 0, err
	}
	byKind := map[string][]int64{}
	for _, it := range items {
		byKind[it.SubjectKind] = append(byKind[it.SubjectKind], it.SubjectID)
	}
	done := map[string]map[int64][]Step{}
	for k, ids := range byKind {
		if done[k], err = e.store.EscalationSteps(ctx, k, ids); err != nil {
			return 0, err
		}
	}
	n := 0
	for _, it := range items {
		for _, d := range e.policy.Decide(it, now) {
			if slices.Contains(done[it.SubjectKind][it.SubjectID], d.Step) {
				continue
			}
			r := Record{Item: it, Step: d.Step, Notify: d.Notify, Messages: messages(it, d.Step)}
			ok, err := e.store.RecordEscalation(ctx, r)
			if err != nil {
				return n, err
			}
			if ok {
				n++
				e.log.InfoContext(ctx, "escalated", "subject_kind", it.SubjectKind, "subject_id", it.SubjectID, "step", d.Step)
			}
		}
	}
	return n, nil
}

// messages builds step s's message about it for each user.
func messages(it Item, s Step) func(to []int64) ([]notify.Message, error) {
	return func(to []int64) ([]notify.Message, error) {
		what := it.What
		if what == "" {
			what = "escalate.what.work"
		}
		ms := make([]notify.Message, 0, len(to))
		for _, u := range to {
			m, err := notify.New(s.Kind(), notify.User(u), s.Key(), it.Link,
				notify.Key(what), notify.ID(it.SubjectID), notify.At(it.Due))
			if err != nil {
				return nil, err
			}
			ms = append(ms, m)
		}
		return ms, nil
	}
}
