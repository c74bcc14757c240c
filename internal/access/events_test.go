package access

import (
	"testing"

	"dayaq/internal/org"
)

// DecideEvent and FilterEvents agree for every role at every kind of
// organisation, over events at the principal's school, another school of
// the district, and a school of another district.
func TestEventPolicyAgreesWithFilter(t *testing.T) {
	places := map[string]EventFacts{"own": {SchoolID: 10, District: "BAK-06"}, "district": {SchoolID: 11, District: "BAK-06"},
		"other": {SchoolID: 20, District: "BAK-07"}}
	orgs := []struct {
		id   int64
		typ  org.Type
		dist string
	}{{10, org.School, "BAK-06"}, {2, org.District, "BAK-06"}, {1, org.CityDepartment, ""}, {3, org.PublicCouncil, ""}, {4, org.Hotline, ""}, {5, org.Police, ""}}
	for _, o := range orgs {
		for _, r := range Roles() {
			p := Principal{UserID: 7, OrgID: o.id, OrgType: o.typ, District: o.dist, Roles: []Role{r}}
			f := FilterEvents(p)
			for name, e := range places {
				inFilter := f.All || (f.District != "" && f.District == e.District) || (f.SchoolID != 0 && f.SchoolID == e.SchoolID)
				if d := DecideEvent(p, Read, e); d.Allowed != inFilter {
					t.Errorf("%s at %s, %s event: Decide %v, Filter %v", r, o.typ, name, d.Allowed, inFilter)
				}
				if DecideEvent(p, Write, e).Allowed && !inFilter {
					t.Errorf("%s at %s may write a %s event it cannot read", r, o.typ, name)
				}
			}
		}
	}
	teacher := Principal{UserID: 7, OrgID: 10, OrgType: org.School, District: "BAK-06", Roles: []Role{Teacher}}
	if DecideEvent(teacher, Write, places["own"]).Allowed || !DecideEvent(teacher, Read, places["own"]).Allowed {
		t.Error("a teacher reads the school's events and plans none")
	}
	council := Principal{UserID: 7, OrgID: 3, OrgType: org.PublicCouncil, Roles: []Role{PublicCouncil}}
	if !FilterEvents(council).Empty() || !SeesEventAggregates(council) || !AggregateFilter(council).All {
		t.Error("the Public Council sees aggregates of the whole city and no event")
	}
	head := Principal{UserID: 7, OrgID: 10, OrgType: org.School, District: "BAK-06", Roles: []Role{SchoolHead}}
	if SeesEventAggregates(head) || CanEditTopics(head) {
		t.Error("a school head reads the city's aggregates or edits the catalogue")
	}
	district := Principal{UserID: 7, OrgID: 2, OrgType: org.District, District: "BAK-06", Roles: []Role{CitySpecialist}}
	if AggregateFilter(district).District != "BAK-06" || CanEditTopics(district) {
		t.Error("a district's specialist sees their district's aggregates and does not edit the catalogue")
	}
}
