package access

import (
	"slices"
	"time"

	"dayaq/internal/org"
)

// Action is what a principal wants to do with a child's record.
type Action string

const (
	Read  Action = "read"  // open one record
	List  Action = "list"  // see it in a list or a search
	Write Action = "write" // create or change it
)

// View is how much of a record a principal sees once access is allowed.
type View int

const (
	ViewNone    View = iota
	ViewLimited      // a teacher: name and class, nothing else
	ViewShared       // a body a live referral or assignment reaches: identity and what was shared
	ViewFull         // jurisdiction or break-glass: the whole record
)

// ChildFacts is what the policy needs to know about one child, relative to
// the principal asking: where the child is, and which grants reach the
// principal. Storage fills it in one query.
type ChildFacts struct {
	SchoolID    int64
	District    string
	Grade       int
	Section     string
	OrgGrant    bool // a live referral reaches the principal's organisation
	UserGrant   bool // the principal is assigned to the child
	BreakGlass  bool // the principal holds a live break-glass access to the child
	Unallocated bool // the record belongs to no school yet (hotline-created)
}

// Decision is the policy's answer.
type Decision struct {
	Allowed    bool
	View       View
	BreakGlass bool // allowed only through break-glass: the audit marks it
}

// jurisdiction is the part of the registry a principal's roles cover.
type jurisdiction int

const (
	jurNone jurisdiction = iota
	jurClasses
	jurSchool
	jurDistrict
	jurCity
)

// staffJurisdiction is the jurisdiction p's roles and organisation give,
// and whether within it p may write.
func staffJurisdiction(p Principal) (jurisdiction, bool) {
	best, write := jurNone, false
	for _, r := range p.Roles {
		if !p.Has(r) {
			continue
		}
		j, w := jurNone, false
		switch r {
		case CityAdmin, CitySpecialist:
			switch p.OrgType {
			case org.CityDepartment:
				j, w = jurCity, true
			case org.District:
				j, w = jurDistrict, true
			}
		case SchoolHead, SchoolPsychologist:
			if p.OrgType == org.School {
				j, w = jurSchool, true
			}
		case Teacher:
			if p.OrgType == org.School {
				j = jurClasses
			}
		case AgencyOfficer, AgencySupervisor:
			if p.OrgType == org.District { // the district executive authority's staff: their district, read only
				j = jurDistrict
			}
		}
		if j > best {
			best = j
		}
		write = write || w
	}
	return best, write
}

// orgGrantHolder reports whether p's roles receive the children referred to
// their organisation: the partner bodies, the hotline's supervisors, and a
// school or the city unit when a case is referred to them.
func orgGrantHolder(p Principal) bool {
	return p.HasAny(HotlineSupervisor, AgencyOfficer, AgencySupervisor, CitySpecialist, SchoolHead, SchoolPsychologist)
}

// userGrantHolder reports whether p's roles receive the children assigned
// to them personally; a hotline operator sees only those.
func userGrantHolder(p Principal) bool {
	return orgGrantHolder(p) || p.Has(HotlineOperator)
}

// CanBreakGlass reports whether p may open a record outside their
// jurisdiction by giving a reason.
func CanBreakGlass(p Principal) bool {
	return p.HasAny(CitySpecialist, HotlineSupervisor, AgencySupervisor)
}

// BreakGlassFor is how long a break-glass access lasts.
const BreakGlassFor = 4 * time.Hour

// inJurisdiction reports whether c lies within j for p.
func inJurisdiction(p Principal, j jurisdiction, c ChildFacts) bool {
	switch j {
	case jurCity:
		return true
	case jurDistrict:
		return p.District != "" && c.District == p.District
	case jurSchool:
		return c.SchoolID != 0 && c.SchoolID == p.OrgID
	case jurClasses:
		return c.SchoolID != 0 && c.SchoolID == p.OrgID && slices.ContainsFunc(p.Classes, func(cl Class) bool {
			return cl.Grade == c.Grade && (cl.Section == "" || cl.Section == c.Section)
		})
	}
	return false
}

// Decide answers whether p may do a with the child described by c. Deny by
// default: a principal sees a child only through their jurisdiction, a live
// grant, or (to read) a live break-glass access.
func Decide(p Principal, a Action, c ChildFacts) Decision {
	if !p.Authenticated() || !p.allows(a) {
		return Decision{}
	}
	j, canWrite := staffJurisdiction(p)
	in := inJurisdiction(p, j, c)
	switch a {
	case Write:
		if in && canWrite {
			return Decision{Allowed: true, View: ViewFull}
		}
		return Decision{}
	case Read, List:
		switch {
		case in && j == jurClasses:
			return Decision{Allowed: true, View: ViewLimited}
		case in:
			return Decision{Allowed: true, View: ViewFull}
		case (orgGrantHolder(p) && c.OrgGrant) || (userGrantHolder(p) && c.UserGrant):
			return Decision{Allowed: true, View: ViewShared}
		case a == Read && c.BreakGlass && CanBreakGlass(p):
			return Decision{Allowed: true, View: ViewFull, BreakGlass: true}
		}
	}
	return Decision{}
}

// ChildFilter is the policy as a query: the rows of the registry a
// principal may list. Storage turns it into SQL; every field set widens
// the set (they are ORed), and a zero filter matches nothing.
type ChildFilter struct {
	All         bool    // the whole city
	District    string  // children of schools in this district
	SchoolID    int64   // children of this school
	Classes     []Class // with SchoolID: only these classes
	GrantOrgID  int64   // children with a live grant to this organisation
	GrantUserID int64   // children with a live grant to this user
	BreakGlass  int64   // (reads only) children this user holds a live break-glass access to
}

// Empty reports whether f matches no child at all.
func (f ChildFilter) Empty() bool {
	return !f.All && f.District == "" && f.SchoolID == 0 && f.GrantOrgID == 0 && f.GrantUserID == 0 && f.BreakGlass == 0
}

// Filter returns the filter for action a (List or Read) by p. It agrees
// with Decide: a test checks the two against each other on both engines.
func Filter(p Principal, a Action) ChildFilter {
	if !p.Authenticated() || !p.allows(a) || a == Write {
		return ChildFilter{}
	}
	var f ChildFilter
	switch j, _ := staffJurisdiction(p); j {
	case jurCity:
		return ChildFilter{All: true}
	case jurDistrict:
		f.District = p.District
	case jurSchool:
		f.SchoolID = p.OrgID
	case jurClasses:
		if len(p.Classes) > 0 {
			f.SchoolID, f.Classes = p.OrgID, p.Classes
		}
	}
	if orgGrantHolder(p) {
		f.GrantOrgID = p.OrgID
	}
	if userGrantHolder(p) {
		f.GrantUserID = p.UserID
	}
	if a == Read && CanBreakGlass(p) {
		f.BreakGlass = p.UserID
	}
	return f
}
