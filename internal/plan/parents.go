package plan

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"dayaq/internal/apperr"
)

// Parent is one of the pupil's parents or guardians taking part in the plan.
type Parent struct {
	ID       int64
	Name     string
	Relation string // mother, father, guardian, grandmother…
	Phone    string
	Language string // az, ru, en: the parent page, the SMS and the PDF speak it
}

// Relations lists the relations forms offer.
func Relations() []string {
	return []string{"mother", "father", "guardian", "grandparent", "other"}
}

// Validate names every field of p at fault.
func (p Parent) Validate() error {
	var fs []apperr.FieldError
	fs = append(fs, text("name", p.Name, 2, MaxShort)...)
	if !slices.Contains(Relations(), p.Relation) {
		fs = append(fs, apperr.Field("relation", "plans.error.relation"))
	}
	if ph := strings.TrimSpace(p.Phone); ph != "" && (len(ph) < 7 || len(ph) > 20) {
		fs = append(fs, apperr.Field("phone", "plans.error.phone"))
	}
	if !slices.Contains([]string{"az", "ru", "en"}, p.Language) {
		fs = append(fs, apperr.Field("language", "plans.error.language"))
	}
	return fieldErrors(fs)
}

// Agreement is a parent's answer to one version of the plan.
type Agreement struct {
	ParentID int64
	Version  int
	Agrees   bool
	Reason   string // why not (required when disagreeing), or a remark
	Via      Method
	At       time.Time
}

// Validate checks a: disagreeing needs a reason.
func (a Agreement) Validate() error {
	var fs []apperr.FieldError
	if a.ParentID == 0 {
		fs = append(fs, apperr.Field("parent", "error.required"))
	}
	if !a.Agrees && utf8.RuneCountInString(strings.TrimSpace(a.Reason)) < 3 {
		fs = append(fs, apperr.Field("reason", "plans.error.disagree_reason"))
	}
	if utf8.RuneCountInString(a.Reason) > MaxText {
		fs = append(fs, apperr.Field("reason", "error.too_long", MaxText))
	}
	if !a.Via.Valid() {
		fs = append(fs, apperr.Field("via", "plans.error.method"))
	}
	return fieldErrors(fs)
}

// Agreed reports whether the plan's version v stands agreed: at least one
// parent's latest answer to it agrees and no parent's latest answer to it
// disagrees.
func Agreed(as []Agreement, v int) bool {
	latest := map[int64]Agreement{}
	for _, a := range as {
		if a.Version != v {
			continue
		}
		if cur, ok := latest[a.ParentID]; !ok || !a.At.Before(cur.At) {
			latest[a.ParentID] = a
		}
	}
	if len(latest) == 0 {
		return false
	}
	for _, a := range latest {
		if !a.Agrees {
			return false
		}
	}
	return true
}

// Purpose is what a consent is for.
type Purpose string

const (
	TakePart      Purpose = "participation"  // the pupil takes part in the plan
	ShareWithBody Purpose = "sharing"        // sharing the plan's data with a named body
	AloneSessions Purpose = "sessions_alone" // sessions with the pupil alone
)

// Purposes lists every purpose in form order.
func Purposes() []Purpose { return []Purpose{TakePart, ShareWithBody, AloneSessions} }

// Valid reports whether p is a known purpose.
func (p Purpose) Valid() bool { return slices.Contains(Purposes(), p) }

// Method is how a consent or an agreement was given.
type Method string

const (
	OnPaper    Method = "written"     // signed on paper
	Verbal     Method = "verbal"      // said in person or on the phone: needs written confirmation
	ParentPage Method = "parent_page" // through the parent page
)

// Methods lists every method.
func Methods() []Method { return []Method{OnPaper, Verbal, ParentPage} }

// Valid reports whether m is a known method.
func (m Method) Valid() bool { return slices.Contains(Methods(), m) }

// Consent is one recorded giving or withdrawing of consent.
type Consent struct {
	ID          int64
	ParentID    int64
	Purpose     Purpose
	OrgID       int64 // sharing: the named body
	Given       bool  // false: withdrawn
	Method      Method
	At          time.Time
	RecordedBy  int64     // the staff member; 0 when the parent gave it through their page
	ConfirmDue  time.Time // verbal consent: written confirmation due by then
	ConfirmedAt time.Time // when the written confirmation came
}

// Validate checks c as recorded at now.
func (c Consent) Validate(now time.Time) error {
	var fs []apperr.FieldError
	if c.ParentID == 0 {
		fs = append(fs, apperr.Field("parent", "error.required"))
	}
	if !c.Purpose.Valid() {
		fs = append(fs, apperr.Field("purpose", "plans.error.purpose"))
	}
	if c.Purpose == ShareWithBody && c.OrgID == 0 {
		fs = append(fs, apperr.Field("org", "plans.error.consent_body"))
	}
	if c.Purpose != ShareWithBody && c.OrgID != 0 {
		fs = append(fs, apperr.Field("org", "plans.error.consent_no_body"))
	}
	if !c.Method.Valid() {
		fs = append(fs, apperr.Field("method", "plans.error.method"))
	}
	if c.At.IsZero() {
		fs = append(fs, apperr.Field("at", "error.required"))
	} else if c.At.After(now) {
		fs = append(fs, apperr.Field("at", "plans.error.consent_future"))
	}
	return fieldErrors(fs)
}

// Calendar is the working-day calendar the plan's deadlines count on
// (*calendar.Calendar).
type Calendar interface {
	AddWorkingDays(start time.Time, n int) (time.Time, error)
	IsWorkingDay(t time.Time) bool
	Location() *time.Location
}

// DefaultConfirmDays is how many working days verbal consent may wait for
// its written confirmation (ADR 0020); the city may change it.
const DefaultConfirmDays = 5

// ConfirmDue is when written confirmation of a verbal consent given at at
// falls due: days working days later on cal.
func ConfirmDue(cal Calendar, at time.Time, days int) (time.Time, error) {
	if days <= 0 {
		days = DefaultConfirmDays
	}
	return cal.AddWorkingDays(at, days)
}

// Awaiting reports whether c is a verbal consent still waiting for its
// written confirmation.
func (c Consent) Awaiting() bool {
	return c.Given && c.Method == Verbal && c.ConfirmedAt.IsZero()
}

// key is what a consent is about: a purpose, and for sharing the body.
type key struct {
	Purpose Purpose
	OrgID   int64
}

// Standing is the consent as it stands now for one purpose (and body).
type Standing struct {
	Purpose Purpose
	OrgID   int64
	Given   bool
	Last    Consent // the latest record that decided it
	Lapsed  bool    // given verbally and not confirmed in writing by its deadline
}

// Current works out, from the whole history cs, where consent stands now
// per purpose and body: the latest record per parent counts, and a purpose
// stands given while any parent's latest record gives it. Verbal consent
// whose written confirmation is overdue at now lapses (ADR 0020): it stops
// counting until confirmed.
func Current(cs []Consent, now time.Time) []Standing {
	type pk struct {
		key
		parent int64
	}
	latest := map[pk]Consent{}
	for _, c := range cs {
		k := pk{key{c.Purpose, c.OrgID}, c.ParentID}
		if cur, ok := latest[k]; !ok || c.At.After(cur.At) || (c.At.Equal(cur.At) && c.ID > cur.ID) {
			latest[k] = c
		}
	}
	by := map[key]*Standing{}
	var order []key
	for k, c := range latest {
		s := by[k.key]
		if s == nil {
			s = &Standing{Purpose: k.Purpose, OrgID: k.OrgID, Last: c}
			by[k.key] = s
			order = append(order, k.key)
		}
		if c.At.After(s.Last.At) {
			s.Last = c
		}
		lapsed := c.Awaiting() && !c.ConfirmDue.IsZero() && now.After(c.ConfirmDue)
		s.Given = s.Given || (c.Given && !lapsed)
		s.Lapsed = s.Lapsed || lapsed
	}
	for _, s := range by {
		s.Lapsed = s.Lapsed && !s.Given
	}
	slices.SortFunc(order, func(a, b key) int {
		if a.Purpose != b.Purpose {
			return slices.Index(Purposes(), a.Purpose) - slices.Index(Purposes(), b.Purpose)
		}
		return int(a.OrgID - b.OrgID)
	})
	out := make([]Standing, 0, len(order))
	for _, k := range order {
		out = append(out, *by[k])
	}
	return out
}

// Allows reports whether consent for purpose (with body orgID for
// sharing) stands given in ss.
func Allows(ss []Standing, purpose Purpose, orgID int64) bool {
	return slices.ContainsFunc(ss, func(s Standing) bool {
		return s.Purpose == purpose && (purpose != ShareWithBody || s.OrgID == orgID) && s.Given
	})
}

// Effect is what the plan must do once a consent is withdrawn.
type Effect string

const (
	StopSharing      Effect = "stop_sharing" // end the named body's access through the plan's referral
	StopAloneSession Effect = "stop_alone"   // no further sessions with the pupil alone
	Suspend          Effect = "suspend"      // the pupil no longer takes part: the plan pauses, the lead decides
	None             Effect = ""             // nothing: another parent's consent still stands
)

// WithdrawalEffect is what withdrawing c (a record with Given false) does
// to a plan whose consents before it were before: nothing while another
// parent's consent for the same purpose still stands.
func WithdrawalEffect(before []Consent, c Consent, now time.Time) Effect {
	if c.Given {
		return None
	}
	if Allows(Current(append(slices.Clone(before), c), now), c.Purpose, c.OrgID) {
		return None
	}
	switch c.Purpose {
	case ShareWithBody:
		return StopSharing
	case AloneSessions:
		return StopAloneSession
	case TakePart:
		return Suspend
	}
	return None
}
