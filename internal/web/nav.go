package web

import (
	"slices"

	"dayaq/internal/access"
)

// sectionRoles says which roles find each section in their navigation and
// on their home page; nil (a section not listed here yet) means every
// signed-in user, so that a new section is never hidden by accident
// (TestNavigationPerRole then asks for its line). It only tidies the UI:
// what a page shows is decided by the access policy, whatever the
// navigation offers.
func sectionRoles(slug string) []access.Role {
	city := []access.Role{access.CityAdmin, access.CitySpecialist}
	school := []access.Role{access.SchoolHead, access.SchoolPsychologist}
	agency := []access.Role{access.AgencyOfficer, access.AgencySupervisor}
	hotline := []access.Role{access.HotlineOperator, access.HotlineSupervisor}
	join := func(rs ...[]access.Role) []access.Role { return slices.Concat(rs...) }
	switch slug {
	case "hotline":
		return join(city, hotline)
	case "children", "cases":
		return join(city, school, []access.Role{access.Teacher}, hotline, agency)
	case "referrals":
		return join(city, school, []access.Role{access.HotlineSupervisor}, agency)
	case "working-group":
		return join(city, school, agency)
	case "screening", "plans", "events":
		return join(city, school, []access.Role{access.Teacher})
	case "campaign":
		return join(city, school, hotline, []access.Role{access.PublicCouncil})
	case "statistics":
		return join(city, school, []access.Role{access.HotlineSupervisor, access.AgencySupervisor, access.Analyst,
			access.PublicCouncil, access.SystemAdmin})
	case "audit", "audit/break-glass":
		return []access.Role{access.CityAdmin, access.SystemAdmin}
	}
	return nil
}

// NavFor lists the sections p finds in the navigation, in order: the
// capabilities their roles work in, then the audit pages for those who
// review them. A visitor gets none.
func NavFor(p access.Principal) []Section {
	all := append(Sections(), Section{"audit", "audit"}, Section{"audit/break-glass", "breakglass.review"})
	var out []Section
	for _, s := range all {
		if rs := sectionRoles(s.Slug); p.HasAny(rs...) || (rs == nil && p.Authenticated()) {
			out = append(out, s)
		}
	}
	return out
}
