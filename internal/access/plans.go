package access

import (
	"slices"

	"dayaq/internal/org"
)

// Recovery plans (issue 12) hang on the register entry, so they follow the
// screening policy's need to know, with two narrower views: the class
// teacher sees the plan's goals and the activities they carry out, not the
// screening results or the family's details; a body that a plan's live
// referral reaches sees that referral's activity and the goals it serves,
// and only while that referral is live (withdrawing the parents' consent to
// share with the body withdraws it). Grants and
// break-glass do not reach a plan.

// PlanView is how much of a plan a principal sees.
type PlanView int

const (
	PlanNone    PlanView = iota
	PlanBody             // a body reached by the plan's referral: its activity and the goals it serves
	PlanTeacher          // the class teacher, or staff carrying an activity: goals and their own activities
	PlanFull             // the school's psychologist and head; district and city specialists by jurisdiction
)

// PlanFacts is what the policy needs to know about one plan, relative to
// the principal asking; storage fills it in.
type PlanFacts struct {
	Child        ChildFacts // the pupil's place
	StaffUserIDs []int64    // staff carrying one of its activities
	BodyOrgIDs   []int64    // bodies its live referrals reach, with consent to share standing
}

// PlanDecision is the policy's answer for a plan.
type PlanDecision struct {
	Allowed  bool
	View     PlanView
	CanWrite bool // may build and change the plan: the school's psychologist and head
}

// DecidePlan answers whether p may see the plan described by f, how much of
// it, and whether p may change it.
func DecidePlan(p Principal, f PlanFacts) PlanDecision {
	if !p.Authenticated() || !p.allows(Read) || !seesChildData(p) {
		return PlanDecision{}
	}
	if j, _ := screeningJurisdiction(p); j >= jurSchool && inJurisdiction(p, j, f.Child) {
		return PlanDecision{Allowed: true, View: PlanFull, CanWrite: CanDecideRegister(p, f.Child.SchoolID)}
	}
	if p.Has(Teacher) && (inJurisdiction(p, jurClasses, f.Child) || slices.Contains(f.StaffUserIDs, p.UserID)) {
		return PlanDecision{Allowed: true, View: PlanTeacher}
	}
	if slices.Contains(f.StaffUserIDs, p.UserID) && f.Child.SchoolID == p.OrgID {
		return PlanDecision{Allowed: true, View: PlanTeacher}
	}
	if orgGrantHolder(p) && slices.Contains(f.BodyOrgIDs, p.OrgID) {
		return PlanDecision{Allowed: true, View: PlanBody}
	}
	return PlanDecision{}
}

// PlanFilter is the plan list as a query: the children whose plans p may
// list (the screening filter: a teacher their classes, the school its
// school, specialists their jurisdiction), and the user and organisation
// reached through activities.
type PlanFilter struct {
	Children ChildFilter
	UserID   int64 // plans with an activity this user carries
	OrgID    int64 // plans with a live, consented referral to this body
}

// Empty reports whether f matches no plan.
func (f PlanFilter) Empty() bool { return f.Children.Empty() && f.UserID == 0 && f.OrgID == 0 }

// FilterPlans returns the list filter for p; it agrees with DecidePlan.
func FilterPlans(p Principal) PlanFilter {
	if !p.Authenticated() || !p.allows(Read) || !seesChildData(p) {
		return PlanFilter{}
	}
	f := PlanFilter{Children: ScreeningFilter(p)}
	wholeSchool := f.Children.SchoolID == p.OrgID && len(f.Children.Classes) == 0
	if p.OrgType == org.School && !wholeSchool { // the whole school's staff reach their activities' plans anyway
		f.UserID = p.UserID
	}
	if orgGrantHolder(p) {
		f.OrgID = p.OrgID
	}
	return f
}

// CanEditGoalCatalogue reports whether p may keep the city's catalogue of
// common goals: the city's administrators and specialists.
func CanEditGoalCatalogue(p Principal) bool {
	return p.allows(Write) && p.OrgType == org.CityDepartment && p.HasAny(CityAdmin, CitySpecialist)
}
