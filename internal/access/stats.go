package access

import "dayaq/internal/org"

// StatsScope is what a dashboard counts: the city (zero), a district, a
// school (with its district), or a partner body (its referrals and the
// cases it leads).
type StatsScope struct {
	District       string
	SchoolID       int64
	SchoolDistrict string // the school's district, when SchoolID is set
	BodyID         int64
}

// StatsView is how a principal sees a dashboard's counts.
type StatsView int

const (
	StatsNone       StatsView = iota
	StatsSuppressed           // counts over children the viewer cannot see one by one: small counts suppressed (ADR 0025)
	StatsExact                // the viewer may see every child counted: counts as they are, each a link to its list
)

// statsRoles may look at dashboards at all: everyone who works with the
// figures, not the hotline's operators (their queue is their view).
func statsRoles(p Principal) bool {
	return p.HasAny(CityAdmin, CitySpecialist, SchoolHead, SchoolPsychologist, Teacher, HotlineSupervisor,
		AgencyOfficer, AgencySupervisor, Analyst, PublicCouncil, SystemAdmin)
}

// DecideStats answers how p may see the dashboard of scope s. The counts
// are exact where s lies inside p's jurisdiction (the city unit anywhere;
// a district's staff in their district and its schools; a school's head and
// psychologist at their school; a partner body's staff for their body),
// since every child counted is one p may list. Elsewhere p sees the counts
// of the city, a district or a school with the public suppression rule, and
// nothing of another body's work.
func DecideStats(p Principal, s StatsScope) StatsView {
	if !p.Authenticated() || !statsRoles(p) {
		return StatsNone
	}
	j, _ := staffJurisdiction(p)
	if seesChildData(p) {
		switch {
		case j == jurCity:
			return StatsExact
		case s.BodyID != 0:
			if s.BodyID == p.OrgID && p.HasAny(AgencyOfficer, AgencySupervisor) && p.OrgType != org.District {
				return StatsExact
			}
			return StatsNone
		case j == jurDistrict && p.District != "" && (s.District == p.District || (s.SchoolID != 0 && s.SchoolDistrict == p.District)):
			return StatsExact
		case j == jurSchool && s.SchoolID != 0 && s.SchoolID == p.OrgID:
			return StatsExact
		}
	}
	if s.BodyID != 0 {
		return StatsNone
	}
	return StatsSuppressed
}

// HomeScope is the dashboard p lands on: their school, their district,
// their body, or the city.
func HomeScope(p Principal) StatsScope {
	j, _ := staffJurisdiction(p)
	switch {
	case j == jurCity:
		return StatsScope{}
	case j == jurDistrict:
		return StatsScope{District: p.District}
	case j >= jurClasses && p.OrgType == org.School:
		return StatsScope{SchoolID: p.OrgID, SchoolDistrict: p.District}
	case p.HasAny(AgencyOfficer, AgencySupervisor) && p.OrgType != org.District:
		return StatsScope{BodyID: p.OrgID}
	}
	return StatsScope{}
}

// MayExportPersonal reports whether p may export lists with children's
// personal data (with a purpose, audited): the city unit, a district's and
// a school's leads — who may list those children anyway.
func MayExportPersonal(p Principal) bool {
	return p.Authenticated() && p.HasAny(CityAdmin, CitySpecialist, SchoolHead) && seesChildData(p)
}

// MayExportDeidentified reports whether p gets de-identified record-level
// exports: the analysts (TAİM).
func MayExportDeidentified(p Principal) bool {
	return p.Authenticated() && p.Has(Analyst)
}
