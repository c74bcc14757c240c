// Package referral holds the rules of inter-agency referrals: a case is
// referred to a body for a service, and the referral moves through
//
//	sent → acknowledged → accepted | declined (reason) → in_progress → completed (feedback)
//
// or is withdrawn by the sender while it is live. It says who may make each
// change, what each change needs, when sharing a child's data is lawful
// (consent or a legal basis), and when each step falls due. It does no I/O.
package referral

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/org"
)

// State is where a referral stands.
type State string

const (
	Sent         State = "sent"
	Acknowledged State = "acknowledged"
	Accepted     State = "accepted"
	Declined     State = "declined"
	InProgress   State = "in_progress"
	Completed    State = "completed"
	Withdrawn    State = "withdrawn"
)

// States lists every state in the order of the lifecycle.
func States() []State {
	return []State{Sent, Acknowledged, Accepted, InProgress, Completed, Declined, Withdrawn}
}

// Valid reports whether s is a known state.
func (s State) Valid() bool { return slices.Contains(States(), s) }

// Live reports whether a referral in state s is still open: while it is,
// the receiving body sees what the referral shares.
func (s State) Live() bool {
	switch s {
	case Sent, Acknowledged, Accepted, InProgress:
		return true
	}
	return false
}

// Action is a change of state.
type Action string

const (
	Acknowledge Action = "acknowledge"
	Accept      Action = "accept"
	Decline     Action = "decline"
	Start       Action = "start"
	Complete    Action = "complete"
	Withdraw    Action = "withdraw"
)

// Actions lists every action in the order buttons show them.
func Actions() []Action { return []Action{Acknowledge, Accept, Decline, Start, Complete, Withdraw} }

// Side is which end of a referral a person acts for.
type Side int

const (
	Receiver   Side = iota + 1 // the receiving body's staff
	SenderSide                 // whoever may write the case that sent it
)

// transition is one allowed change.
type transition struct {
	from []State
	to   State
	side Side
	note string // "reason" or "feedback" when the change needs a text
}

// transitions is the state machine, one row per action.
func transitions() map[Action]transition {
	return map[Action]transition{
		Acknowledge: {[]State{Sent}, Acknowledged, Receiver, ""},
		Accept:      {[]State{Sent, Acknowledged}, Accepted, Receiver, ""},
		Decline:     {[]State{Sent, Acknowledged}, Declined, Receiver, "reason"},
		Start:       {[]State{Accepted}, InProgress, Receiver, ""},
		Complete:    {[]State{Accepted, InProgress}, Completed, Receiver, "feedback"},
		Withdraw:    {[]State{Sent, Acknowledged, Accepted, InProgress}, Withdrawn, SenderSide, "reason"},
	}
}

// Party is how one person stands to one referral; storage works it out.
type Party struct {
	Receiver  bool // staff of the receiving body with a role that receives referrals
	Sender    bool // may write the case the referral was sent from
	CityUnit  bool // the city unit's special-cases staff, who oversee every referral
	Principal access.Principal
}

// Change is a requested change of state.
type Change struct {
	Action Action
	Note   string // the reason (decline, withdraw) or the feedback (complete)
}

// MaxNote is the longest reason or feedback.
const MaxNote = 4000

// Next checks that party may apply ch to a referral in state from and
// returns the new state. It refuses with Forbidden when the party is on the
// wrong side, Conflict when the state does not allow the change, and a
// validation error naming "note" when the change needs a text.
func Next(from State, party Party, ch Change) (State, error) {
	t, ok := transitions()[ch.Action]
	if !ok {
		return "", apperr.Validation(apperr.Field("action", "referral.error.action"))
	}
	allowed := false
	switch t.side {
	case Receiver:
		allowed = party.Receiver && access.ReceivesReferrals(party.Principal)
	case SenderSide:
		allowed = party.Sender || party.CityUnit
	}
	if !allowed {
		return "", apperr.New(apperr.Forbidden, "referral.error.not_your_side")
	}
	if !slices.Contains(t.from, from) {
		return "", apperr.New(apperr.Conflict, "referral.error.state", string(from), string(ch.Action))
	}
	note := strings.TrimSpace(ch.Note)
	if t.note != "" && utf8.RuneCountInString(note) < 3 {
		key := "referral.error.note_reason"
		if t.note == "feedback" {
			key = "referral.error.note_feedback"
		}
		return "", apperr.Validation(apperr.Field("note", key))
	}
	if utf8.RuneCountInString(note) > MaxNote {
		return "", apperr.Validation(apperr.Field("note", "error.too_long", MaxNote))
	}
	return t.to, nil
}

// Allowed lists the actions party may take on a referral in state s, for
// the buttons a page shows.
func Allowed(s State, party Party) []Action {
	var out []Action
	for _, a := range Actions() {
		if _, err := Next(s, party, Change{Action: a, Note: "..."}); err == nil {
			out = append(out, a)
		}
	}
	return out
}

// NeedsNote reports what text action a needs: "reason", "feedback" or "".
func NeedsNote(a Action) string { return transitions()[a].note }

// Urgency is how fast a referral must be answered.
type Urgency string

const (
	Critical Urgency = "critical"
	High     Urgency = "high"
	Medium   Urgency = "medium"
	Low      Urgency = "low"
)

// Urgencies lists urgencies from the most urgent.
func Urgencies() []Urgency { return []Urgency{Critical, High, Medium, Low} }

// Valid reports whether u is a known urgency.
func (u Urgency) Valid() bool { return slices.Contains(Urgencies(), u) }

// Receivable reports whether an organisation of type t can receive a
// referral: the partner bodies, a district commission, a school and the
// city unit.
func Receivable(t org.Type) bool {
	switch t {
	case org.Police, org.Health, org.SocialProtection, org.Commission, org.StateCommittee, org.School,
		org.CityDepartment, org.District:
		return true
	}
	return false
}

// Section is a part of a case the sender may choose to share. The child's
// identity and the referral's own reason are always shared.
type Section string

const (
	ShareSummary    Section = "summary"    // the case's type, severity and description
	ShareSchool     Section = "school"     // the child's school and class
	ShareFamily     Section = "family"     // parents' or guardians' contacts
	ShareChronology Section = "chronology" // the case's chronology
	ShareNotes      Section = "notes"      // the case's notes
)

// Sections lists what may be shared, in the order the form shows it.
func Sections() []Section {
	return []Section{ShareSummary, ShareSchool, ShareFamily, ShareChronology, ShareNotes}
}

// ParseSections reads a list of sections, dropping duplicates, and reports
// the first unknown one.
func ParseSections(ss []string) ([]Section, string) {
	var out []Section
	for _, s := range ss {
		sec := Section(strings.TrimSpace(s))
		if sec == "" {
			continue
		}
		if !slices.Contains(Sections(), sec) {
			return nil, string(sec)
		}
		if !slices.Contains(out, sec) {
			out = append(out, sec)
		}
	}
	slices.Sort(out)
	return out, ""
}

// Shares reports whether the referral shares sec.
func (r Referral) Shares(sec Section) bool { return slices.Contains(r.Share, sec) }

// Referral is a request from a case to a body for a service.
type Referral struct {
	ID          int64
	CaseID      int64
	ChildID     int64
	FromOrgID   int64
	ToOrgID     int64
	ServiceCode string
	Urgency     Urgency
	Message     string // why, and what is asked: the receiving body sees it
	Share       []Section
	Basis       Basis
	State       State
	Note        string // the last reason or feedback
	SentBy      int64
	SentAt      time.Time
	AckDue      time.Time
	CompleteDue time.Time
	AckAt       time.Time
	ClosedAt    time.Time
	Version     int
}

// MaxMessage is the longest message.
const MaxMessage = 4000

// Validate checks a new referral as the sender filled it in, naming every
// field at fault.
func (r Referral) Validate() error {
	var fs []apperr.FieldError
	if r.ToOrgID == 0 {
		fs = append(fs, apperr.Field("to_org", "error.required"))
	}
	if strings.TrimSpace(r.ServiceCode) == "" {
		fs = append(fs, apperr.Field("service", "error.required"))
	}
	if !r.Urgency.Valid() {
		fs = append(fs, apperr.Field("urgency", "referral.error.urgency"))
	}
	switch n := utf8.RuneCountInString(strings.TrimSpace(r.Message)); {
	case n < 10:
		fs = append(fs, apperr.Field("message", "referral.error.message_short", 10))
	case n > MaxMessage:
		fs = append(fs, apperr.Field("message", "error.too_long", MaxMessage))
	}
	fs = append(fs, r.Basis.check()...)
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}
