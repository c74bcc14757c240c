// Package workgroup holds the rules of the inter-agency working group:
// members from each body, meetings with an agenda of cases (case
// conferences), minutes, decisions, action items with an owner, a deadline
// and a status, and proposals for better cooperation. It does no I/O.
package workgroup

import (
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
)

// Role is a member's part in the group.
type Role string

const (
	Chair     Role = "chair"
	Secretary Role = "secretary"
	Ordinary  Role = "member"
)

// Roles lists the member roles.
func Roles() []Role { return []Role{Chair, Secretary, Ordinary} }

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// Member is a person in the group, for their body.
type Member struct {
	ID       int64
	UserID   int64
	UserName string
	OrgID    int64
	OrgName  string
	Role     Role
}

// CanManage reports whether p may change the group: add members, plan
// meetings, write minutes. The city unit runs the group; its chair and
// secretary do too.
func CanManage(p access.Principal, m *Member) bool {
	if p.HasAny(access.CityAdmin, access.CitySpecialist) {
		return true
	}
	return m != nil && (m.Role == Chair || m.Role == Secretary)
}

// MeetingStatus is where a meeting stands.
type MeetingStatus string

const (
	Planned   MeetingStatus = "planned"
	Held      MeetingStatus = "held"
	Cancelled MeetingStatus = "cancelled"
)

// MeetingStatuses lists the statuses.
func MeetingStatuses() []MeetingStatus { return []MeetingStatus{Planned, Held, Cancelled} }

// Meeting is one sitting of the group.
type Meeting struct {
	ID       int64
	Title    string
	StartsAt time.Time
	Place    string
	Status   MeetingStatus
	Minutes  string
	Version  int
}

// Validate names every field of m at fault.
func (m Meeting) Validate() error {
	var fs []apperr.FieldError
	fs = append(fs, text("title", m.Title, 3, 200)...)
	if m.StartsAt.IsZero() {
		fs = append(fs, apperr.Field("starts_at", "workgroup.error.starts_at"))
	}
	fs = append(fs, text("place", m.Place, 0, 200)...)
	if !slices.Contains(MeetingStatuses(), m.Status) {
		fs = append(fs, apperr.Field("status", "workgroup.error.status"))
	}
	fs = append(fs, text("minutes", m.Minutes, 0, 50000)...)
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// AgendaItem is a case on a meeting's agenda.
type AgendaItem struct {
	ID        int64
	MeetingID int64
	CaseID    int64
	Position  int
	Note      string
}

// Decision is what a meeting decided.
type Decision struct {
	ID        int64
	MeetingID int64
	CaseID    int64 // 0 when it is about no one case
	Text      string
}

// Validate checks a decision.
func (d Decision) Validate() error {
	if fs := text("text", d.Text, 3, 4000); len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// ItemStatus is where an action item stands.
type ItemStatus string

const (
	Open       ItemStatus = "open"
	InProgress ItemStatus = "in_progress"
	Done       ItemStatus = "done"
	Dropped    ItemStatus = "dropped"
)

// ItemStatuses lists the statuses.
func ItemStatuses() []ItemStatus { return []ItemStatus{Open, InProgress, Done, Dropped} }

// Closed reports whether an item in status s needs no more work.
func (s ItemStatus) Closed() bool { return s == Done || s == Dropped }

// ActionItem is a task a meeting gave someone, with a deadline.
type ActionItem struct {
	ID          int64
	MeetingID   int64
	Title       string
	OwnerUserID int64
	OwnerName   string
	Due         time.Time
	Status      ItemStatus
	Version     int
	DoneAt      time.Time
}

// Validate names every field of it at fault.
func (it ActionItem) Validate() error {
	var fs []apperr.FieldError
	fs = append(fs, text("title", it.Title, 3, 500)...)
	if it.OwnerUserID == 0 {
		fs = append(fs, apperr.Field("owner", "error.required"))
	}
	if it.Due.IsZero() {
		fs = append(fs, apperr.Field("due", "workgroup.error.due"))
	}
	if !slices.Contains(ItemStatuses(), it.Status) {
		fs = append(fs, apperr.Field("status", "workgroup.error.status"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// CanMoveItem reports whether an item may go from one status to another:
// open ↔ in progress, either → done or dropped, and a closed item may be
// reopened.
func CanMoveItem(from, to ItemStatus) bool {
	if from == to {
		return true
	}
	if from.Closed() {
		return to == Open
	}
	return slices.Contains(ItemStatuses(), to)
}

// CanUpdateItem reports whether p may change the status of an item: its
// owner, or someone who runs the group.
func CanUpdateItem(p access.Principal, m *Member, it ActionItem) bool {
	return it.OwnerUserID == p.UserID || CanManage(p, m)
}

// Overdue reports whether it has passed its deadline at now unfinished.
func (it ActionItem) Overdue(now time.Time) bool {
	return !it.Status.Closed() && now.After(it.Due)
}

// ProposalStatus is where a proposal stands.
type ProposalStatus string

const (
	Draft       ProposalStatus = "draft"
	Submitted   ProposalStatus = "submitted"
	UnderReview ProposalStatus = "under_review"
	Adopted     ProposalStatus = "adopted"
	Rejected    ProposalStatus = "rejected"
	Implemented ProposalStatus = "implemented"
)

// ProposalStatuses lists the statuses.
func ProposalStatuses() []ProposalStatus {
	return []ProposalStatus{Draft, Submitted, UnderReview, Adopted, Rejected, Implemented}
}

// proposalMoves is which status may follow which.
func proposalMoves() map[ProposalStatus][]ProposalStatus {
	return map[ProposalStatus][]ProposalStatus{
		Draft:       {Submitted},
		Submitted:   {UnderReview, Rejected},
		UnderReview: {Adopted, Rejected},
		Adopted:     {Implemented},
	}
}

// CanMoveProposal reports whether a proposal may go from one status to
// another.
func CanMoveProposal(from, to ProposalStatus) bool {
	return from == to || slices.Contains(proposalMoves()[from], to)
}

// Proposal is an idea for better cooperation, put to the group.
type Proposal struct {
	ID         int64
	Title      string
	Body       string
	Status     ProposalStatus
	AuthorID   int64
	AuthorName string
	OrgName    string
	Version    int
	CreatedAt  time.Time
}

// Validate names every field of p at fault.
func (p Proposal) Validate() error {
	var fs []apperr.FieldError
	fs = append(fs, text("title", p.Title, 3, 200)...)
	fs = append(fs, text("body", p.Body, 10, 10000)...)
	if !slices.Contains(ProposalStatuses(), p.Status) {
		fs = append(fs, apperr.Field("status", "workgroup.error.status"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return nil
}

// text checks a text field's length in characters.
func text(field, s string, minLen, maxLen int) []apperr.FieldError {
	n := utf8.RuneCountInString(strings.TrimSpace(s))
	switch {
	case minLen > 0 && n == 0:
		return []apperr.FieldError{apperr.Field(field, "error.required")}
	case n < minLen:
		return []apperr.FieldError{apperr.Field(field, "workgroup.error.too_short", minLen)}
	case n > maxLen:
		return []apperr.FieldError{apperr.Field(field, "error.too_long", maxLen)}
	}
	return nil
}
