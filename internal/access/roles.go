// Package access decides who may do what with a child's data. It is the one
// policy of Dayaq: handlers ask it before they act, and storage asks it for
// the filter that every list and read query carries, so a forgotten check
// cannot leak rows. It does no I/O.
package access

import (
	"slices"
	"strings"

	"dayaq/internal/org"
)

// Role is what a user does in their organisation.
type Role string

const (
	CityAdmin          Role = "city_admin"          // BŞTİ: runs the platform for the city
	CitySpecialist     Role = "city_specialist"     // BŞTİ special-cases unit
	SchoolHead         Role = "school_head"         // director or deputy
	SchoolPsychologist Role = "school_psychologist" // school psychologist
	Teacher            Role = "teacher"             // class teacher: own classes only
	HotlineOperator    Role = "hotline_operator"    // 146-2 operator
	HotlineSupervisor  Role = "hotline_supervisor"  // 146-2 shift supervisor
	AgencyOfficer      Role = "agency_officer"      // police, health, social protection, commission, State Committee
	AgencySupervisor   Role = "agency_supervisor"   // their supervisor
	Analyst            Role = "analyst"             // de-identified data only
	PublicCouncil      Role = "public_council"      // aggregates only
	SystemAdmin        Role = "system_admin"        // users and settings, never a child's data
)

// Roles lists every role in the order forms show them.
func Roles() []Role {
	return []Role{CityAdmin, CitySpecialist, SchoolHead, SchoolPsychologist, Teacher, HotlineOperator,
		HotlineSupervisor, AgencyOfficer, AgencySupervisor, Analyst, PublicCouncil, SystemAdmin}
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles(), r) }

// ParseRoles reads a comma-separated list of roles, reporting the first
// unknown one.
func ParseRoles(s string) ([]Role, string) {
	var rs []Role
	for p := range strings.SplitSeq(s, ",") {
		r := Role(strings.TrimSpace(p))
		if r == "" {
			continue
		}
		if !r.Valid() {
			return nil, string(r)
		}
		if !slices.Contains(rs, r) {
			rs = append(rs, r)
		}
	}
	return rs, ""
}

// SeesChildData reports whether r can ever see a child's personal data.
// Users with such a role must sign in with a second factor.
func (r Role) SeesChildData() bool {
	switch r {
	case Analyst, PublicCouncil, SystemAdmin:
		return false
	}
	return r.Valid()
}

// AllowedIn reports whether r can be held by a user of an organisation of
// type t: school roles in schools, hotline roles in the hotline, and so on.
func (r Role) AllowedIn(t org.Type) bool {
	switch r {
	case CityAdmin, CitySpecialist:
		return t == org.CityDepartment || t == org.District
	case SchoolHead, SchoolPsychologist, Teacher:
		return t == org.School
	case HotlineOperator, HotlineSupervisor:
		return t == org.Hotline
	case AgencyOfficer, AgencySupervisor:
		switch t {
		case org.Police, org.Health, org.SocialProtection, org.Commission, org.StateCommittee, org.District:
			return true
		}
	case Analyst:
		return t == org.ResearchCentre || t == org.CityDepartment
	case PublicCouncil:
		return t == org.PublicCouncil
	case SystemAdmin:
		return true
	}
	return false
}

// Principal is who is acting: a signed-in user, or an API token's owner.
type Principal struct {
	UserID   int64
	Email    string
	Name     string
	OrgID    int64
	OrgCode  string
	OrgType  org.Type
	District string // the organisation's district code, "" for city-wide bodies
	Roles    []Role
	Classes  []Class // a teacher's classes
	Scopes   []Scope // what an API token allows; nil for a browser session (everything the roles allow)
}

// Clone returns a copy of p that shares no slice with it.
func (p Principal) Clone() Principal {
	p.Roles, p.Classes, p.Scopes = slices.Clone(p.Roles), slices.Clone(p.Classes), slices.Clone(p.Scopes)
	return p
}

// Class is a school class a teacher teaches: grade and section ("5", "A").
type Class struct {
	Grade   int
	Section string
}

// Scope limits what an API token may do.
type Scope string

const (
	ScopeRead  Scope = "read"
	ScopeWrite Scope = "write"
)

// Has reports whether p holds role r in an organisation where the role
// counts: a school role held by a police officer gives nothing.
func (p Principal) Has(r Role) bool { return slices.Contains(p.Roles, r) && r.AllowedIn(p.OrgType) }

// HasAny reports whether p holds any of rs.
func (p Principal) HasAny(rs ...Role) bool {
	return slices.ContainsFunc(rs, p.Has)
}

// Authenticated reports whether p is a signed-in user.
func (p Principal) Authenticated() bool { return p.UserID != 0 }

// allows reports whether p's token scopes (if any) allow a.
func (p Principal) allows(a Action) bool {
	if p.Scopes == nil {
		return true
	}
	need := ScopeRead
	if a == Write {
		need = ScopeWrite
	}
	return slices.Contains(p.Scopes, need)
}
