// Package casework holds the rules of a special case (xüsusi hal): its
// severity, its lifecycle, who may move it from one status to the next and
// what each move needs, and the deadlines by which the school must report
// and the city must respond. It does no I/O: storage loads the facts,
// asks these functions, and saves what they return.
package casework

import (
	"slices"
	"strings"
	"time"

	"dayaq/internal/apperr"
)

// Status is where a case stands in its lifecycle.
type Status string

const (
	New        Status = "new"         // reported or logged, nobody has looked yet
	Triaged    Status = "triaged"     // severity, lead body and owner set
	InProgress Status = "in_progress" // being worked
	Monitoring Status = "monitoring"  // the work is done; the child is watched until a review date
	Closed     Status = "closed"      // over, with a reason and an outcome
	Reopened   Status = "reopened"    // closed, then opened again
)

// Statuses lists every status in lifecycle order.
func Statuses() []Status { return []Status{New, Triaged, InProgress, Monitoring, Closed, Reopened} }

// Valid reports whether s is a known status.
func (s Status) Valid() bool { return slices.Contains(Statuses(), s) }

// Open reports whether the case still needs work.
func (s Status) Open() bool { return s != Closed }

// Severity is how serious a case is.
type Severity string

const (
	Critical Severity = "critical" // danger to life or health now
	High     Severity = "high"
	Medium   Severity = "medium"
	Low      Severity = "low"
)

// Severities lists the severities from the most urgent.
func Severities() []Severity { return []Severity{Critical, High, Medium, Low} }

// Valid reports whether s is a known severity.
func (s Severity) Valid() bool { return slices.Contains(Severities(), s) }

// Rank is the severity's place in a queue: 0 for critical, 3 for low.
func (s Severity) Rank() int {
	if i := slices.Index(Severities(), s); i >= 0 {
		return i
	}
	return len(Severities())
}

// Outcome is how a closed case ended; the list is fixed so that statistics
// can count it.
type Outcome string

const (
	OutcomeResolved  Outcome = "resolved"   // the child is safe and the problem addressed
	OutcomeReferred  Outcome = "referred"   // handed over to another body, which now leads
	OutcomeNoConcern Outcome = "no_concern" // looked into, nothing to act on
	OutcomeMovedAway Outcome = "moved_away" // the child left Baku or the school system
	OutcomeDuplicate Outcome = "duplicate"  // the same as another case
	OutcomeNoContact Outcome = "no_contact" // the child or family could not be reached
	OutcomeAgedOut   Outcome = "aged_out"   // the child came of age
	OutcomeOther     Outcome = "other"      // none of the above; the reason says what
)

// Outcomes lists the closure outcomes in the order forms show them.
func Outcomes() []Outcome {
	return []Outcome{OutcomeResolved, OutcomeReferred, OutcomeNoConcern, OutcomeMovedAway, OutcomeDuplicate,
		OutcomeNoContact, OutcomeAgedOut, OutcomeOther}
}

// Valid reports whether o is a known outcome.
func (o Outcome) Valid() bool { return slices.Contains(Outcomes(), o) }

// Source is how a case came in.
type Source string

const (
	FromSchool  Source = "school"  // a school's report
	FromHotline Source = "hotline" // a contact to 146-2
	FromCity    Source = "city"    // opened by the city unit
	FromAgency  Source = "agency"  // opened by a partner body
)

// Valid reports whether s is a known source.
func (s Source) Valid() bool {
	return slices.Contains([]Source{FromSchool, FromHotline, FromCity, FromAgency}, s)
}

// Case is a special case as the rules see it.
type Case struct {
	ID              int64
	Type            string // a taxonomy code (the hotline's taxonomy owns the codes)
	TaxonomyVersion int    // the taxonomy version the code was chosen from
	Severity        Severity
	Status          Status
	Title           string
	Summary         string
	Source          Source
	LeadOrgID       int64 // the body that leads the work; 0 until triage
	OwnerID         int64 // the person responsible; 0 until triage
	SchoolID        int64 // the school the case is about (its first child's, or the reporting school)
	District        string
	CreatedBy       int64
	CreatedOrgID    int64
	DetectedAt      time.Time // when the school or caller learnt of it
	ReportDue       time.Time // by when the school must have reported it
	RespondDue      time.Time // by when the city must respond (triage)
	ResolveDue      time.Time // by when the work should reach monitoring (set at triage)
	ReviewAt        time.Time // in monitoring: when to review
	ClosureReason   string
	ClosureOutcome  Outcome
	Version         int
	CreatedAt       time.Time
	UpdatedAt       time.Time
	ClosedAt        time.Time
}

// Due is the deadline currently running: the city's response while the
// case waits for triage, the resolution while it is worked, the review
// while it is monitored; zero when closed.
func (c Case) Due() time.Time {
	switch c.Status {
	case New, Reopened:
		return c.RespondDue
	case Triaged, InProgress:
		return c.ResolveDue
	case Monitoring:
		return c.ReviewAt
	}
	return time.Time{}
}

// Overdue reports whether the running deadline has passed at now.
func (c Case) Overdue(now time.Time) bool {
	d := c.Due()
	return !d.IsZero() && now.After(d)
}

// ReportedLate reports whether the case was reported after its report
// deadline.
func (c Case) ReportedLate() bool {
	return !c.ReportDue.IsZero() && c.CreatedAt.After(c.ReportDue)
}

// NewCase is what opening a case takes.
type NewCase struct {
	Type            string
	TaxonomyVersion int
	Severity        Severity
	Title           string
	Summary         string
	Source          Source
	ChildIDs        []int64
	SchoolID        int64     // when no child says which school (optional)
	LeadOrgID       int64     // optional at opening; needed at triage
	OwnerID         int64     // optional at opening; needed at triage
	DetectedAt      time.Time // zero: now
	ContactID       int64     // the hotline contact that opened it, if any
}

// ValidType reports whether s looks like a taxonomy code: 1 to 64 of a-z,
// 0-9, '_', '.', '-', starting with a letter or digit ("violence.bullying").
func ValidType(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case i > 0 && (r == '_' || r == '.' || r == '-'):
		default:
			return false
		}
	}
	return true
}

// Normalize trims the text fields and sorts the children.
func (n *NewCase) Normalize() {
	n.Type = strings.ToLower(strings.TrimSpace(n.Type))
	n.Title = strings.Join(strings.Fields(n.Title), " ")
	n.Summary = strings.TrimSpace(n.Summary)
	slices.Sort(n.ChildIDs)
	n.ChildIDs = slices.Compact(n.ChildIDs)
}

// Limits on free text.
const (
	MaxTitle    = 200
	MaxSummary  = 20000
	MaxNote     = 20000
	MaxReason   = 2000
	MaxChildren = 20
)

// Validate checks a new case against the rules, naming every field at
// fault; now is the current time (a detection time may not lie ahead).
func (n NewCase) Validate(now time.Time) error {
	var fs []apperr.FieldError
	if n.Type == "" {
		fs = append(fs, apperr.Field("type", "error.required"))
	} else if !ValidType(n.Type) {
		fs = append(fs, apperr.Field("type", "case.error.type"))
	}
	if n.TaxonomyVersion < 0 {
		fs = append(fs, apperr.Field("taxonomy_version", "case.error.taxonomy_version"))
	}
	if !n.Severity.Valid() {
		fs = append(fs, apperr.Field("severity", "case.error.severity"))
	}
	switch {
	case n.Title == "":
		fs = append(fs, apperr.Field("title", "error.required"))
	case len([]rune(n.Title)) > MaxTitle:
		fs = append(fs, apperr.Field("title", "error.too_long", MaxTitle))
	}
	if len([]rune(n.Summary)) > MaxSummary {
		fs = append(fs, apperr.Field("summary", "error.too_long", MaxSummary))
	}
	if !n.Source.Valid() {
		fs = append(fs, apperr.Field("source", "case.error.source"))
	}
	if len(n.ChildIDs) > MaxChildren {
		fs = append(fs, apperr.Field("child_ids", "case.error.too_many_children", MaxChildren))
	}
	if len(n.ChildIDs) == 0 && n.SchoolID == 0 && n.Source == FromSchool {
		fs = append(fs, apperr.Field("child_ids", "case.error.school_needs_child"))
	}
	if !n.DetectedAt.IsZero() && n.DetectedAt.After(now.Add(5*time.Minute)) {
		fs = append(fs, apperr.Field("detected_at", "case.error.detected_future"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// Open turns a validated new case into a Case at now, with its deadlines.
func Open(n NewCase, d Deadlines, now time.Time) Case {
	detected := n.DetectedAt
	if detected.IsZero() {
		detected = now
	}
	c := Case{Type: n.Type, TaxonomyVersion: n.TaxonomyVersion, Severity: n.Severity, Status: New, Title: n.Title,
		Summary: n.Summary, Source: n.Source, LeadOrgID: n.LeadOrgID, OwnerID: n.OwnerID, SchoolID: n.SchoolID,
		DetectedAt: detected, Version: 1, CreatedAt: now, UpdatedAt: now}
	c.ReportDue = d.ReportDue(n.Severity, detected)
	c.RespondDue = d.RespondDue(n.Severity, now)
	return c
}
