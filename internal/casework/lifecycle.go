package casework

import (
	"slices"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/org"
)

// Relation is how a principal stands to one case; transitions are allowed
// by relation, not by role alone.
type Relation struct {
	Owner      bool // the person responsible for the case
	LeadStaff  bool // works in the lead body
	Specialist bool // the city special-cases unit (or a district's, for a case in its district)
	Supervisor bool // the city's head of unit, or a supervisor of the lead body
	Creator    bool // reported or logged it
}

// Any reports whether the principal stands in any relation to the case.
func (r Relation) Any() bool {
	return r.Owner || r.LeadStaff || r.Specialist || r.Supervisor || r.Creator
}

// RelationOf works out how p stands to c.
func RelationOf(p access.Principal, c Case) Relation {
	if !p.Authenticated() {
		return Relation{}
	}
	var r Relation
	r.Owner = c.OwnerID != 0 && p.UserID == c.OwnerID
	r.Creator = c.CreatedBy != 0 && p.UserID == c.CreatedBy
	staff := slices.ContainsFunc(p.Roles, func(role access.Role) bool { return p.Has(role) && role.SeesChildData() })
	r.LeadStaff = c.LeadOrgID != 0 && p.OrgID == c.LeadOrgID && staff
	if p.Has(access.CitySpecialist) {
		r.Specialist = p.OrgType == org.CityDepartment || (p.OrgType == org.District && p.District != "" && p.District == c.District)
	}
	r.Supervisor = (p.Has(access.CityAdmin) && p.OrgType == org.CityDepartment) ||
		(c.LeadOrgID != 0 && p.OrgID == c.LeadOrgID && p.HasAny(access.HotlineSupervisor, access.AgencySupervisor, access.SchoolHead))
	return r
}

// who is a set of relations any one of which allows a move.
type who func(Relation) bool

func specialistOrSupervisor(r Relation) bool { return r.Specialist || r.Supervisor }
func worker(r Relation) bool                 { return r.Owner || r.LeadStaff || r.Specialist || r.Supervisor }
func responsible(r Relation) bool            { return r.Owner || r.Specialist || r.Supervisor }

// Need is what a transition asks for, as form and API field names.
type Need string

const (
	NeedSeverity Need = "severity"
	NeedLead     Need = "lead_org"
	NeedOwner    Need = "owner"
	NeedReason   Need = "reason"
	NeedOutcome  Need = "outcome"
	NeedReviewAt Need = "review_at"
)

// move is one allowed transition.
type move struct {
	from, to Status
	who      who
	needs    []Need
}

// moves is the lifecycle: new → triaged → in_progress → monitoring → closed,
// with reopened (from closed) going back to triaged or in_progress.
func moves() []move {
	triage := []Need{NeedSeverity, NeedLead, NeedOwner}
	closing := []Need{NeedReason, NeedOutcome}
	return []move{
		{New, Triaged, specialistOrSupervisor, triage},
		{Reopened, Triaged, specialistOrSupervisor, triage},
		{Triaged, InProgress, worker, nil},
		{Reopened, InProgress, worker, nil},
		{Monitoring, InProgress, worker, nil},
		{InProgress, Monitoring, responsible, []Need{NeedReviewAt}},
		{InProgress, Closed, responsible, closing},
		{Monitoring, Closed, responsible, closing},
		{New, Closed, specialistOrSupervisor, closing}, // a duplicate, or nothing to act on
		{Triaged, Closed, specialistOrSupervisor, closing},
		{Closed, Reopened, specialistOrSupervisor, []Need{NeedReason}},
	}
}

// Transitions lists the statuses a principal standing in r to c may move
// it to, in lifecycle order.
func Transitions(c Case, r Relation) []Status {
	var to []Status
	for _, m := range moves() {
		if m.from == c.Status && m.who(r) {
			to = append(to, m.to)
		}
	}
	return to
}

// Needs lists what moving c to status to asks for.
func Needs(from, to Status) []Need {
	for _, m := range moves() {
		if m.from == from && m.to == to {
			return m.needs
		}
	}
	return nil
}

// Move is a requested transition with what it carries.
type Move struct {
	To         Status
	Severity   Severity // triage: may change the severity
	LeadOrgID  int64    // triage
	OwnerID    int64    // triage
	OwnerOrgID int64    // a fact storage fills in: the owner's organisation
	Reason     string   // closing, reopening
	Outcome    Outcome  // closing
	ReviewAt   time.Time
	Note       string // optional comment for the chronology
}

// Apply checks that a principal standing in r to c may make m at now and
// that m carries what it needs, and returns the case after it. Every field
// at fault is named at once. A transition the lifecycle does not have is a
// Conflict (the case has moved on); one the principal may not make is
// Forbidden.
func Apply(c Case, r Relation, m Move, d Deadlines, now time.Time) (Case, error) {
	var mv *move
	for _, x := range moves() {
		if x.from == c.Status && x.to == m.To {
			mv = &x
			break
		}
	}
	if mv == nil {
		if !m.To.Valid() {
			return c, apperr.Validation(apperr.Field("to", "case.error.status"))
		}
		return c, apperr.New(apperr.Conflict, "case.error.transition", string(c.Status), string(m.To))
	}
	if !mv.who(r) {
		return c, apperr.New(apperr.Forbidden, "case.error.transition_forbidden")
	}
	m.Reason = strings.TrimSpace(m.Reason)
	m.Note = strings.TrimSpace(m.Note)
	var fs []apperr.FieldError
	for _, n := range mv.needs {
		switch n {
		case NeedSeverity:
			if m.Severity == "" {
				m.Severity = c.Severity
			}
			if !m.Severity.Valid() {
				fs = append(fs, apperr.Field("severity", "case.error.severity"))
			}
		case NeedLead:
			if m.LeadOrgID == 0 {
				m.LeadOrgID = c.LeadOrgID
			}
			if m.LeadOrgID == 0 {
				fs = append(fs, apperr.Field("lead_org", "error.required"))
			}
		case NeedOwner:
			if m.OwnerID == 0 {
				m.OwnerID = c.OwnerID
			}
			switch {
			case m.OwnerID == 0:
				fs = append(fs, apperr.Field("owner", "error.required"))
			case m.LeadOrgID != 0 && m.OwnerOrgID != m.LeadOrgID:
				fs = append(fs, apperr.Field("owner", "case.error.owner_not_in_lead"))
			}
		case NeedReason:
			switch {
			case m.Reason == "":
				fs = append(fs, apperr.Field("reason", "error.required"))
			case len([]rune(m.Reason)) > MaxReason:
				fs = append(fs, apperr.Field("reason", "error.too_long", MaxReason))
			}
		case NeedOutcome:
			if !m.Outcome.Valid() {
				fs = append(fs, apperr.Field("outcome", "case.error.outcome"))
			}
		case NeedReviewAt:
			switch {
			case m.ReviewAt.IsZero():
				fs = append(fs, apperr.Field("review_at", "error.required"))
			case !m.ReviewAt.After(now) || m.ReviewAt.After(now.AddDate(1, 0, 0)):
				fs = append(fs, apperr.Field("review_at", "case.error.review_at"))
			}
		}
	}
	if len([]rune(m.Note)) > MaxNote {
		fs = append(fs, apperr.Field("note", "error.too_long", MaxNote))
	}
	if len(fs) > 0 {
		return c, apperr.Validation(fs...)
	}
	from := c.Status
	c.Status = m.To
	c.UpdatedAt = now
	switch m.To {
	case Triaged:
		c.Severity, c.LeadOrgID, c.OwnerID = m.Severity, m.LeadOrgID, m.OwnerID
		c.ResolveDue = d.ResolveDue(c.Severity, now)
	case InProgress:
		if from == Monitoring || from == Reopened || c.ResolveDue.IsZero() {
			c.ResolveDue = d.ResolveDue(c.Severity, now)
		}
		c.ReviewAt = time.Time{}
		if c.LeadOrgID == 0 || c.OwnerID == 0 { // a reopened case that was never triaged
			return Case{}, apperr.Validation(apperr.Field("owner", "case.error.needs_triage"))
		}
	case Monitoring:
		c.ReviewAt = m.ReviewAt
	case Closed:
		c.ClosureReason, c.ClosureOutcome, c.ClosedAt = m.Reason, m.Outcome, now
		c.ReviewAt = time.Time{}
	case Reopened:
		c.ClosureReason, c.ClosureOutcome, c.ClosedAt = "", "", time.Time{}
		c.RespondDue = d.RespondDue(c.Severity, now)
	}
	return c, nil
}

// Edit changes a case's description or assignment; nil fields stay.
type Edit struct {
	Title           *string
	Summary         *string
	Type            *string
	TaxonomyVersion *int
	Severity        *Severity
	LeadOrgID       *int64
	OwnerID         *int64
	OwnerOrgID      int64 // a fact storage fills in when OwnerID is set
}

// ApplyEdit checks that r may make e to c and returns the case after it
// and the names (never the values) of the fields it changed. Anyone
// working the case may describe it; only the city unit or a supervisor
// reassigns it or changes its severity. A closed case is not edited.
func ApplyEdit(c Case, r Relation, e Edit, d Deadlines, now time.Time) (Case, []string, error) {
	if !worker(r) {
		return c, nil, apperr.New(apperr.Forbidden, "case.error.edit_forbidden")
	}
	if c.Status == Closed {
		return c, nil, apperr.New(apperr.Conflict, "case.error.closed")
	}
	var fs []apperr.FieldError
	var changed []string
	if e.Title != nil {
		t := strings.Join(strings.Fields(*e.Title), " ")
		switch {
		case t == "":
			fs = append(fs, apperr.Field("title", "error.required"))
		case len([]rune(t)) > MaxTitle:
			fs = append(fs, apperr.Field("title", "error.too_long", MaxTitle))
		case t != c.Title:
			c.Title, changed = t, append(changed, "title")
		}
	}
	if e.Summary != nil {
		s := strings.TrimSpace(*e.Summary)
		if len([]rune(s)) > MaxSummary {
			fs = append(fs, apperr.Field("summary", "error.too_long", MaxSummary))
		} else if s != c.Summary {
			c.Summary, changed = s, append(changed, "summary")
		}
	}
	if e.Type != nil {
		t := strings.ToLower(strings.TrimSpace(*e.Type))
		if !ValidType(t) {
			fs = append(fs, apperr.Field("type", "case.error.type"))
		} else if t != c.Type {
			c.Type, changed = t, append(changed, "type")
		}
	}
	if e.TaxonomyVersion != nil && *e.TaxonomyVersion != c.TaxonomyVersion {
		c.TaxonomyVersion, changed = *e.TaxonomyVersion, append(changed, "taxonomy_version")
	}
	assign := specialistOrSupervisor(r)
	if e.Severity != nil && *e.Severity != c.Severity {
		switch {
		case !e.Severity.Valid():
			fs = append(fs, apperr.Field("severity", "case.error.severity"))
		case !assign:
			fs = append(fs, apperr.Field("severity", "case.error.assign_forbidden"))
		default:
			c.Severity, changed = *e.Severity, append(changed, "severity")
			switch c.Status {
			case New, Reopened:
				c.RespondDue = d.RespondDue(c.Severity, c.UpdatedAt)
			case Triaged, InProgress:
				c.ResolveDue = d.ResolveDue(c.Severity, now)
			}
		}
	}
	if e.LeadOrgID != nil && *e.LeadOrgID != c.LeadOrgID {
		if !assign {
			fs = append(fs, apperr.Field("lead_org", "case.error.assign_forbidden"))
		} else {
			c.LeadOrgID, changed = *e.LeadOrgID, append(changed, "lead_org")
		}
	}
	if e.OwnerID != nil && *e.OwnerID != c.OwnerID {
		switch {
		case !assign:
			fs = append(fs, apperr.Field("owner", "case.error.assign_forbidden"))
		case *e.OwnerID != 0 && e.OwnerOrgID != c.LeadOrgID:
			fs = append(fs, apperr.Field("owner", "case.error.owner_not_in_lead"))
		default:
			c.OwnerID, changed = *e.OwnerID, append(changed, "owner")
		}
	}
	if len(fs) > 0 {
		return c, nil, apperr.Validation(fs...)
	}
	if len(changed) > 0 {
		c.UpdatedAt = now
	}
	return c, changed, nil
}
