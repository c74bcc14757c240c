// Package plan holds the rules of the individual pedagogical-psychological
// recovery plan (fərdi pedaqoji-psixoloji bərpa planı) made for a pupil on
// the vulnerable-group register, with the parents: goals, activities,
// sessions, the parents' agreement and consent per purpose, reviews on the
// city's cadence, versions and closure. It does no I/O.
package plan

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"dayaq/internal/apperr"
)

// Status is where a plan stands.
type Status string

const (
	Draft  Status = "draft"  // being written; the parents have not agreed to this version
	Active Status = "active" // the parents agreed to the current version
	Closed Status = "closed" // ended with an outcome
)

// Statuses lists every status in lifecycle order.
func Statuses() []Status { return []Status{Draft, Active, Closed} }

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses(), s) }

// Live reports whether a plan in status s still runs: one live plan per
// register entry.
func (s Status) Live() bool { return s == Draft || s == Active }

// Domain is the area of a child's life a goal is about.
type Domain string

const (
	Learning  Domain = "learning"
	Emotional Domain = "emotional"
	Behaviour Domain = "behaviour"
	Social    Domain = "social"
	Family    Domain = "family"
	Health    Domain = "health"
	Safety    Domain = "safety"
)

// Domains lists every domain in the order forms show them.
func Domains() []Domain {
	return []Domain{Learning, Emotional, Behaviour, Social, Family, Health, Safety}
}

// Valid reports whether d is a known domain.
func (d Domain) Valid() bool { return slices.Contains(Domains(), d) }

// GoalStatus is how far a goal has come.
type GoalStatus string

const (
	GoalOpen      GoalStatus = "open"
	GoalMet       GoalStatus = "met"
	GoalPartlyMet GoalStatus = "partly_met"
	GoalNotMet    GoalStatus = "not_met"
	GoalDropped   GoalStatus = "dropped"
)

// GoalStatuses lists every goal status.
func GoalStatuses() []GoalStatus {
	return []GoalStatus{GoalOpen, GoalMet, GoalPartlyMet, GoalNotMet, GoalDropped}
}

// Valid reports whether s is a known goal status.
func (s GoalStatus) Valid() bool { return slices.Contains(GoalStatuses(), s) }

// Limits on free text.
const (
	MaxStatement = 1000
	MaxText      = 4000
	MaxShort     = 200
)

// Goal is one measurable aim of the plan.
type Goal struct {
	ID            int64
	Domain        Domain
	CatalogueCode string // the city's catalogue goal it was taken from, "" for free text
	Statement     string // measurable: "attends at least 9 of 10 school days"
	Indicator     string // what shows progress
	From, Until   time.Time
	Status        GoalStatus
}

// Validate names every field of g at fault.
func (g Goal) Validate() error {
	var fs []apperr.FieldError
	if !g.Domain.Valid() {
		fs = append(fs, apperr.Field("domain", "plans.error.domain"))
	}
	fs = append(fs, text("statement", g.Statement, 5, MaxStatement)...)
	fs = append(fs, text("indicator", g.Indicator, 3, MaxStatement)...)
	fs = append(fs, period(g.From, g.Until)...)
	if !g.Status.Valid() {
		fs = append(fs, apperr.Field("status", "plans.error.goal_status"))
	}
	return fieldErrors(fs)
}

// ActivityKind is what an activity is.
type ActivityKind string

const (
	Counselling         ActivityKind = "counselling"
	GroupSession        ActivityKind = "group_session"
	Tutoring            ActivityKind = "tutoring"
	Mentoring           ActivityKind = "mentoring"
	HomeVisit           ActivityKind = "home_visit"
	ClassTeacherSupport ActivityKind = "class_teacher_support"
	ReferralActivity    ActivityKind = "referral"          // a referral to another body, through the referral machinery
	ParentCommitment    ActivityKind = "parent_commitment" // something the parent undertakes
)

// ActivityKinds lists every kind in the order forms show them.
func ActivityKinds() []ActivityKind {
	return []ActivityKind{Counselling, GroupSession, Tutoring, Mentoring, HomeVisit, ClassTeacherSupport,
		ReferralActivity, ParentCommitment}
}

// Valid reports whether k is a known kind.
func (k ActivityKind) Valid() bool { return slices.Contains(ActivityKinds(), k) }

// PartyKind is who is responsible for an activity.
type PartyKind string

const (
	PartyStaff  PartyKind = "staff"  // a member of staff (a user)
	PartyBody   PartyKind = "body"   // another body (an organisation)
	PartyParent PartyKind = "parent" // one of the pupil's parents or guardians
)

// Responsible names who carries an activity out: exactly one of the IDs,
// matching Kind.
type Responsible struct {
	Kind     PartyKind
	UserID   int64
	OrgID    int64
	ParentID int64
}

// Activity is one thing done towards the plan's goals.
type Activity struct {
	ID          int64
	Kind        ActivityKind
	Title       string
	Responsible Responsible
	Frequency   string // "weekly", "twice a month": free text in the staff's words
	From, Until time.Time
	GoalIDs     []int64
	ReferralID  int64 // a referral activity's referral, once sent
}

// Validate names every field of a at fault: a parent's commitment is the
// parent's, a referral goes to a body, other activities are staff's; an
// activity serves at least one goal.
func (a Activity) Validate() error {
	var fs []apperr.FieldError
	if !a.Kind.Valid() {
		fs = append(fs, apperr.Field("kind", "plans.error.activity_kind"))
	}
	fs = append(fs, text("title", a.Title, 3, MaxShort)...)
	r := a.Responsible
	switch {
	case !slices.Contains(a.Kind.parties(), r.Kind):
		key := map[PartyKind]string{PartyStaff: "plans.error.responsible_staff", PartyBody: "plans.error.responsible_body",
			PartyParent: "plans.error.responsible_parent"}[a.Kind.parties()[0]]
		fs = append(fs, apperr.Field("responsible", key))
	case r.Kind == PartyStaff && r.UserID == 0, r.Kind == PartyBody && r.OrgID == 0, r.Kind == PartyParent && r.ParentID == 0:
		fs = append(fs, apperr.Field("responsible", "error.required"))
	}
	if utf8.RuneCountInString(a.Frequency) > MaxShort {
		fs = append(fs, apperr.Field("frequency", "error.too_long", MaxShort))
	}
	fs = append(fs, period(a.From, a.Until)...)
	if len(a.GoalIDs) == 0 {
		fs = append(fs, apperr.Field("goals", "plans.error.activity_goals"))
	}
	return fieldErrors(fs)
}

// parties lists who may be responsible for an activity of kind k, the
// usual one first: a parent's commitment is the parent's, a referral a
// body's; anything else staff's or another body's (a tutoring NGO).
func (k ActivityKind) parties() []PartyKind {
	switch k {
	case ParentCommitment:
		return []PartyKind{PartyParent}
	case ReferralActivity:
		return []PartyKind{PartyBody}
	}
	return []PartyKind{PartyStaff, PartyBody}
}

// Serves reports whether a serves goal id.
func (a Activity) Serves(id int64) bool { return slices.Contains(a.GoalIDs, id) }

// Participant is who takes part in a session.
type Participant string

const (
	WithPupil  Participant = "pupil"
	WithParent Participant = "parent"
	WithStaff  Participant = "staff"
)

// Participants lists them in form order.
func Participants() []Participant { return []Participant{WithPupil, WithParent, WithStaff} }

// Session is one meeting held (or not) under an activity.
type Session struct {
	ID           int64
	ActivityID   int64
	At           time.Time
	Kind         ActivityKind
	With         []Participant
	Attended     bool
	MissedReason string
	Note         string
	NextSteps    string
}

// Validate names every field of s at fault; now is when it is recorded (a
// session is logged after it happened, or at most today).
func (s Session) Validate(now time.Time) error {
	var fs []apperr.FieldError
	if s.ActivityID == 0 {
		fs = append(fs, apperr.Field("activity", "error.required"))
	}
	if s.At.IsZero() {
		fs = append(fs, apperr.Field("at", "error.required"))
	} else if s.At.After(now.Add(24 * time.Hour)) {
		fs = append(fs, apperr.Field("at", "plans.error.session_future"))
	}
	if len(s.With) == 0 {
		fs = append(fs, apperr.Field("with", "plans.error.session_with"))
	}
	for _, p := range s.With {
		if !slices.Contains(Participants(), p) {
			fs = append(fs, apperr.Field("with", "plans.error.session_with"))
			break
		}
	}
	if !s.Attended && utf8.RuneCountInString(strings.TrimSpace(s.MissedReason)) < 3 {
		fs = append(fs, apperr.Field("missed_reason", "plans.error.missed_reason"))
	}
	if utf8.RuneCountInString(s.Note) > MaxText {
		fs = append(fs, apperr.Field("note", "error.too_long", MaxText))
	}
	if utf8.RuneCountInString(s.NextSteps) > MaxText {
		fs = append(fs, apperr.Field("next_steps", "error.too_long", MaxText))
	}
	return fieldErrors(fs)
}

// MissedFlagAfter is how many sessions missed in a row raise the flag to
// the plan's lead (ADR 0020).
const MissedFlagAfter = 2

// MissedInARow counts the sessions missed since the last one attended,
// over ss in any order (the latest by date count).
func MissedInARow(ss []Session) int {
	s := slices.Clone(ss)
	slices.SortStableFunc(s, func(a, b Session) int {
		if c := b.At.Compare(a.At); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	n := 0
	for _, x := range s {
		if x.Attended {
			break
		}
		n++
	}
	return n
}

// MissedFlag reports whether ss raise the missed-sessions flag.
func MissedFlag(ss []Session) bool { return MissedInARow(ss) >= MissedFlagAfter }

// Outcome is how a plan ended.
type Outcome string

const (
	OutcomeMet       Outcome = "goals_met"
	OutcomePartlyMet Outcome = "partly_met"
	OutcomeNotMet    Outcome = "not_met"
	OutcomeMoved     Outcome = "moved"
	OutcomeOther     Outcome = "other"
)

// Outcomes lists every outcome.
func Outcomes() []Outcome {
	return []Outcome{OutcomeMet, OutcomePartlyMet, OutcomeNotMet, OutcomeMoved, OutcomeOther}
}

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return slices.Contains(Outcomes(), o) }

// Closure is how a plan is closed.
type Closure struct {
	Outcome Outcome
	Note    string
}

// Validate checks c: "other" and "not met" need a note saying what happened.
func (c Closure) Validate() error {
	var fs []apperr.FieldError
	if !c.Outcome.Valid() {
		fs = append(fs, apperr.Field("outcome", "plans.error.outcome"))
	}
	n := utf8.RuneCountInString(strings.TrimSpace(c.Note))
	if (c.Outcome == OutcomeOther || c.Outcome == OutcomeNotMet) && n < 5 {
		fs = append(fs, apperr.Field("note", "plans.error.closure_note"))
	}
	if n > MaxText {
		fs = append(fs, apperr.Field("note", "error.too_long", MaxText))
	}
	return fieldErrors(fs)
}

// CanClose checks that a plan in status s may close now.
func CanClose(s Status) error {
	if !s.Live() {
		return apperr.New(apperr.Conflict, "plans.error.closed")
	}
	return nil
}

func text(field, s string, lo, hi int) []apperr.FieldError {
	switch n := utf8.RuneCountInString(strings.TrimSpace(s)); {
	case n == 0:
		return []apperr.FieldError{apperr.Field(field, "error.required")}
	case n < lo:
		return []apperr.FieldError{apperr.Field(field, "plans.error.too_short", lo)}
	case n > hi:
		return []apperr.FieldError{apperr.Field(field, "error.too_long", hi)}
	}
	return nil
}

func period(from, until time.Time) []apperr.FieldError {
	var fs []apperr.FieldError
	if from.IsZero() {
		fs = append(fs, apperr.Field("from", "error.required"))
	}
	if until.IsZero() {
		fs = append(fs, apperr.Field("until", "error.required"))
	} else if !from.IsZero() && until.Before(from) {
		fs = append(fs, apperr.Field("until", "plans.error.until_before_from"))
	}
	return fs
}

func fieldErrors(fs []apperr.FieldError) error {
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}
