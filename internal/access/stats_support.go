package access

import "dayaq/internal/org"

// SupportViews is how a principal sees a dashboard's figures of the
// support work: the register, screening and the recovery plans (health
// data, the screening policy's jurisdiction), and the parent events and the
// campaign (the events policy's).
type SupportViews struct {
	Health, Events StatsView
}

// covers reports whether the list filter f reaches every child (or event)
// of scope s: the city; a district for itself and its schools; a school
// (whole, not only some classes) for itself.
func covers(f ChildFilter, s StatsScope) bool {
	switch {
	case f.All:
		return true
	case f.District != "":
		return (s.SchoolID == 0 && s.District == f.District) || (s.SchoolID != 0 && s.SchoolDistrict == f.District)
	case f.SchoolID != 0 && len(f.Classes) == 0:
		return s.SchoolID == f.SchoolID
	}
	return false
}

// DecideSupportStats answers how p sees the support figures of scope s.
// They are exact where p may list every child (or event) counted, so each
// number can link to its list; elsewhere the public suppression rule
// applies, as DecideStats says for the cases. A partner body's dashboard
// has none of them.
func DecideSupportStats(p Principal, s StatsScope) SupportViews {
	if DecideStats(p, s) == StatsNone || s.BodyID != 0 {
		return SupportViews{}
	}
	v := SupportViews{Health: StatsSuppressed, Events: StatsSuppressed}
	if covers(ScreeningFilter(p), s) {
		v.Health = StatsExact
	}
	ef := FilterEvents(p)
	if covers(ChildFilter{All: ef.All, District: ef.District, SchoolID: ef.SchoolID}, s) {
		v.Events = StatsExact
	}
	return v
}

// MayExportList reports whether p may export the list kind ("cases",
// "referrals", "contacts") with children's personal data (with a purpose,
// audited): the case list as MayExportPersonal says; the referral list
// also for a partner body's supervisors (their body's referrals); the
// hotline's contacts for the hotline's supervisors and the city unit's
// specialists. The rows are still those the list's own policy shows p.
func MayExportList(p Principal, kind string) bool {
	if !p.Authenticated() || !seesChildData(p) {
		return false
	}
	switch kind {
	case "cases":
		return MayExportPersonal(p)
	case "referrals":
		return MayExportPersonal(p) || (p.Has(AgencySupervisor) && p.OrgType != org.District)
	case "contacts":
		return (p.Has(HotlineSupervisor) || citySpecialist(p)) && !ContactFilterFor(p).Empty()
	}
	return false
}
