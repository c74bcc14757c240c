package access

import "slices"

// CaseFacts is what the policy needs to know about one special case,
// relative to the principal asking: where it sits, who leads, owns and
// opened it, and its children's facts (each as for Decide).
type CaseFacts struct {
	Places    []Place // the case's school and its children's schools when they were linked
	LeadOrgID int64
	OwnerID   int64
	CreatedBy int64
	Children  []ChildFacts
}

// Place is a school a case sits in, and its district.
type Place struct {
	SchoolID int64
	District string
}

// seesChildData reports whether p holds any role that may ever see a
// child's data: an analyst or a system administrator never sees a case.
func seesChildData(p Principal) bool {
	return slices.ContainsFunc(p.Roles, func(r Role) bool { return p.Has(r) && r.SeesChildData() })
}

// DecideCase answers whether p may do a with the case described by f. A
// case is children's data, so deny by default; p reaches it
//   - through jurisdiction over one of the case's places (its school and
//     its children's schools, in the city, a district or a school),
//   - through any of its children reached otherwise (a teacher's class, a
//     live referral or assignment, or — to read — break-glass),
//   - by working in its lead body, owning it, or having opened it (the
//     hotline operator who logged it, the school that reported it).
//
// Write means taking part in the case (notes, tasks, attachments, asking
// for a transition, which casework then checks by relation): the same
// relations, with jurisdiction only where p may write.
func DecideCase(p Principal, a Action, f CaseFacts) Decision {
	if !p.Authenticated() || !p.allows(a) || !seesChildData(p) {
		return Decision{}
	}
	j, canWrite := staffJurisdiction(p)
	inPlace := j == jurCity
	for _, pl := range f.Places {
		inPlace = inPlace || (j >= jurSchool && inJurisdiction(p, j, ChildFacts{SchoolID: pl.SchoolID, District: pl.District}))
	}
	related := (f.LeadOrgID != 0 && f.LeadOrgID == p.OrgID) || (f.OwnerID != 0 && f.OwnerID == p.UserID) ||
		(f.CreatedBy != 0 && f.CreatedBy == p.UserID)
	// A child reaches p here only in the ways places do not cover: a
	// teacher's class, a grant, break-glass.
	viaChild := func(c ChildFacts, a Action) Decision {
		if j >= jurSchool {
			c.SchoolID, c.District = 0, ""
		}
		return Decide(p, a, c)
	}
	switch a {
	case Write:
		if related || (inPlace && canWrite) {
			return Decision{Allowed: true, View: ViewFull}
		}
		for _, c := range f.Children {
			if viaChild(c, Write).Allowed {
				return Decision{Allowed: true, View: ViewFull}
			}
		}
		return Decision{}
	case Read, List:
		if related || inPlace {
			return Decision{Allowed: true, View: ViewFull}
		}
		best := Decision{}
		for _, c := range f.Children {
			if d := viaChild(c, a); d.Allowed && (!best.Allowed || (best.BreakGlass && !d.BreakGlass) || d.View > best.View) {
				best = d
			}
		}
		return best
	}
	return Decision{}
}

// CaseFilter is the case policy as a query: the cases a principal may
// list. Every field set widens the set (they are ORed); a zero filter
// matches nothing.
type CaseFilter struct {
	All       bool        // every case in the city
	District  string      // cases with a place in this district
	SchoolID  int64       // cases with a place at this school
	LeadOrgID int64       // cases this organisation leads
	UserID    int64       // cases this user owns or opened
	Children  ChildFilter // cases with a child this filter reaches (classes, grants, break-glass only)
}

// Empty reports whether f matches no case.
func (f CaseFilter) Empty() bool {
	return !f.All && f.District == "" && f.SchoolID == 0 && f.LeadOrgID == 0 && f.UserID == 0 && f.Children.Empty()
}

// FilterCases returns the filter for action a (List or Read) by p. It
// agrees with DecideCase; the access matrix checks the two together on
// both engines.
func FilterCases(p Principal, a Action) CaseFilter {
	if !p.Authenticated() || !p.allows(a) || a == Write || !seesChildData(p) {
		return CaseFilter{}
	}
	f := CaseFilter{LeadOrgID: p.OrgID, UserID: p.UserID, Children: Filter(p, a)}
	// Places stand for the children's schools and districts.
	f.Children.District = ""
	if len(f.Children.Classes) == 0 {
		f.Children.SchoolID = 0
	}
	switch j, _ := staffJurisdiction(p); j {
	case jurCity:
		return CaseFilter{All: true}
	case jurDistrict:
		f.District = p.District
	case jurSchool:
		f.SchoolID = p.OrgID
	}
	return f
}
