package access

import "dayaq/internal/org"

// Named decisions that are not about one child's or one case's record:
// who may browse the trail, add children, keep the calendar, receive
// referrals. Handlers and storage ask these by name; none of them spells
// a role list of its own (ADR 0016). A decision here answers "may p do
// this kind of thing at all"; where the answer also depends on the record
// (which school a child is added to, which body a referral went to),
// storage decides that part in its SQL, from this package too.

// CanBrowseAudit reports whether p may read the audit trail, the
// break-glass openings and their reasons, and review them: the city's
// and the system's administrators.
func CanBrowseAudit(p Principal) bool { return p.HasAny(CityAdmin, SystemAdmin) }

// CanAddChildren reports whether p may add children to the registry, by
// hand or by importing a roster; storage decides for each school named.
func CanAddChildren(p Principal) bool {
	return p.HasAny(CityAdmin, CitySpecialist, SchoolHead, SchoolPsychologist)
}

// CanMergeChildren reports whether p may review possible duplicates and
// merge two registry entries: whoever may add children (storage decides
// for the schools of the two).
func CanMergeChildren(p Principal) bool { return CanAddChildren(p) }

// CanEditCalendar reports whether p may enter holidays, transferred days
// off and working Saturdays.
func CanEditCalendar(p Principal) bool { return p.HasAny(CityAdmin, SystemAdmin) }

// CanEditReferralServices reports whether p may keep the list of services
// a referral can ask for.
func CanEditReferralServices(p Principal) bool { return p.HasAny(CityAdmin, SystemAdmin) }

// ReceivesReferrals reports whether p's roles act for a receiving body
// (whether p's body received a given referral is the record's part).
func ReceivesReferrals(p Principal) bool {
	return p.HasAny(AgencyOfficer, AgencySupervisor, SchoolHead, SchoolPsychologist, CitySpecialist, HotlineSupervisor)
}

// InCityUnit reports whether p works in the city department's
// special-cases unit, which oversees every referral.
func InCityUnit(p Principal) bool {
	return p.OrgType == org.CityDepartment && p.HasAny(CitySpecialist, CityAdmin)
}

// ReportsAboutUnseenChildren reports whether p may open a case about
// registry children p cannot see: the hotline, whose callers name children
// from anywhere in the city. Everyone else reports only about children the
// policy lets them read.
func ReportsAboutUnseenChildren(p Principal) bool {
	return p.HasAny(HotlineOperator, HotlineSupervisor)
}
