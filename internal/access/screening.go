package access

import "dayaq/internal/org"

// Screening answers and the vulnerable-group register are health data kept
// on a need-to-know basis, narrower than the child's record: no grants, no
// break-glass, and no agency officer. A teacher screens and sees only their
// own classes; the school psychologist and head their school; district and
// city specialists read their jurisdiction's register; analysts, the Public
// Council and system administrators never see a pupil here.

// screeningJurisdiction is the part of the registry p reaches for
// screening and the register, and whether p may write (enter answers,
// propose) there.
func screeningJurisdiction(p Principal) (jurisdiction, bool) {
	best, write := jurNone, false
	for _, r := range p.Roles {
		if !p.Has(r) {
			continue
		}
		j, w := jurNone, false
		switch r {
		case CitySpecialist:
			switch p.OrgType {
			case org.CityDepartment:
				j = jurCity
			case org.District:
				j = jurDistrict
			}
		case SchoolHead, SchoolPsychologist:
			j, w = jurSchool, true
		case Teacher:
			j, w = jurClasses, true
		}
		if j > best {
			best = j
		}
		write = write || w
	}
	return best, write
}

// DecideScreening answers whether p may do a with the screening answers
// and register entry of the child described by c. Only c's place counts
// (school, district, class); grants and break-glass do not reach here.
func DecideScreening(p Principal, a Action, c ChildFacts) Decision {
	if !p.Authenticated() || !p.allows(a) || !seesChildData(p) {
		return Decision{}
	}
	j, canWrite := screeningJurisdiction(p)
	if !inJurisdiction(p, j, c) {
		return Decision{}
	}
	if a == Write && !canWrite {
		return Decision{}
	}
	return Decision{Allowed: true, View: ViewFull}
}

// ScreeningFilter is DecideScreening as a query: the children whose
// screening and register rows p may list or read. A zero filter matches
// nothing.
func ScreeningFilter(p Principal) ChildFilter {
	if !p.Authenticated() || !p.allows(Read) || !seesChildData(p) {
		return ChildFilter{}
	}
	switch j, _ := screeningJurisdiction(p); j {
	case jurCity:
		return ChildFilter{All: true}
	case jurDistrict:
		return ChildFilter{District: p.District}
	case jurSchool:
		return ChildFilter{SchoolID: p.OrgID}
	case jurClasses:
		if len(p.Classes) > 0 {
			return ChildFilter{SchoolID: p.OrgID, Classes: p.Classes}
		}
	}
	return ChildFilter{}
}

// CanDecideRegister reports whether p may confirm or decline a proposal,
// record a review or take a pupil off the register at school c: the
// school's psychologist or head.
func CanDecideRegister(p Principal, schoolID int64) bool {
	return p.allows(Write) && p.OrgType == org.School && p.OrgID == schoolID && p.HasAny(SchoolHead, SchoolPsychologist)
}

// CanRunScreening reports whether p may start a screening round at their
// school: its psychologist or head.
func CanRunScreening(p Principal) bool {
	return p.allows(Write) && p.OrgType == org.School && p.HasAny(SchoolHead, SchoolPsychologist)
}

// CanManageInstruments reports whether p may import instruments and risk
// rules for the city: the city's administrators.
func CanManageInstruments(p Principal) bool {
	return p.allows(Write) && p.OrgType == org.CityDepartment && p.Has(CityAdmin)
}

// SeesScreeningQueue reports whether p sees the city's queue of overdue
// register reviews: the city unit's specialists.
func SeesScreeningQueue(p Principal) bool {
	return p.OrgType == org.CityDepartment && p.Has(CitySpecialist)
}
