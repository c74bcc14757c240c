package access

import "dayaq/internal/org"

// "Mənimlə danış" conversations are hotline contacts of channel web, and a
// child's words, so they follow the contact policy with one widening: a
// conversation nobody has taken yet is open to every operator and
// supervisor of the hotline that receives the channel, so that one of them
// takes it. Once taken, the operator who took it, the hotline's
// supervisors and the city special-cases unit read it; the one who took it
// and the supervisors answer.

// DanisFacts is what the policy needs to know about one conversation.
type DanisFacts struct {
	OrgID      int64 // the hotline whose contact it is
	AssignedTo int64 // who took it; 0 while it waits
}

// DanisStaff reports whether p works the channel of the hotline
// hotlineOrgID: its operators and supervisors, and the city unit.
func DanisStaff(p Principal, hotlineOrgID int64) bool {
	if !p.Authenticated() {
		return false
	}
	return citySpecialist(p) || (p.HasAny(HotlineOperator, HotlineSupervisor) && p.OrgID == hotlineOrgID)
}

// DecideDanis answers whether p may do a with the conversation f: read it
// (Read) or answer it (Write). Taking one is DanisCanTake.
func DecideDanis(p Principal, a Action, f DanisFacts) bool {
	if !DanisStaff(p, f.OrgID) || !p.allows(a) {
		return false
	}
	switch {
	case citySpecialist(p), p.Has(HotlineSupervisor):
		return true
	case f.AssignedTo == p.UserID:
		return true
	case f.AssignedTo == 0:
		return a == Read
	}
	return false
}

// DanisCanTake reports whether p may take the conversation f: it waits,
// and p works the channel with a token allowed to write.
func DanisCanTake(p Principal, f DanisFacts) bool {
	return f.AssignedTo == 0 && DanisStaff(p, f.OrgID) && p.allows(Write)
}

// DanisFilter is the list policy as a query: every conversation (All), or
// those of OrgID, of which only the waiting ones and those taken by UserID
// when UserID is set. The zero filter matches nothing.
type DanisFilter struct {
	All    bool
	OrgID  int64
	UserID int64
}

// Empty reports whether f matches nothing.
func (f DanisFilter) Empty() bool { return !f.All && f.OrgID == 0 }

// DanisFilterFor returns the conversations p may list. It agrees with
// DecideDanis for Read.
func DanisFilterFor(p Principal) DanisFilter {
	switch {
	case !p.Authenticated() || !p.allows(Read):
		return DanisFilter{}
	case citySpecialist(p):
		return DanisFilter{All: true}
	case p.Has(HotlineSupervisor):
		return DanisFilter{OrgID: p.OrgID}
	case p.Has(HotlineOperator):
		return DanisFilter{OrgID: p.OrgID, UserID: p.UserID}
	}
	return DanisFilter{}
}

// CanEditDanis reports whether p may change the channel's settings (the
// urgent words, the opening answers, the retention period): the hotline's
// supervisors and the city administrators.
func CanEditDanis(p Principal) bool {
	return p.Authenticated() && p.allows(Write) &&
		(p.Has(HotlineSupervisor) || (p.Has(CityAdmin) && p.OrgType == org.CityDepartment))
}

// CanSetDanisRetention reports whether p may change how long the channel's
// conversations are kept: the city department's administrator only.
func CanSetDanisRetention(p Principal) bool {
	return p.Has(CityAdmin) && p.OrgType == org.CityDepartment
}
