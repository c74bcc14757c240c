package access

import (
	"testing"

	"dayaq/internal/org"
)

// TestScreeningPolicy checks who reaches a pupil's screening and register,
// and that the filter storage turns into SQL agrees with the decision.
func TestScreeningPolicy(t *testing.T) {
	own := ChildFacts{SchoolID: 10, District: "BAK-06", Grade: 5, Section: "A"}
	otherClass := ChildFacts{SchoolID: 10, District: "BAK-06", Grade: 7, Section: "B"}
	otherSchool := ChildFacts{SchoolID: 11, District: "BAK-06", Grade: 5, Section: "A"}
	otherDistrict := ChildFacts{SchoolID: 12, District: "BAK-07", Grade: 5, Section: "A", OrgGrant: true, UserGrant: true, BreakGlass: true}
	p := func(orgID int64, t org.Type, district string, r Role, cls ...Class) Principal {
		return Principal{UserID: 1, OrgID: orgID, OrgType: t, District: district, Roles: []Role{r}, Classes: cls}
	}
	cases := []struct {
		name        string
		p           Principal
		read, write []ChildFacts
		none        []ChildFacts
		decides     bool
	}{
		{"teacher", p(10, org.School, "BAK-06", Teacher, Class{5, "A"}), []ChildFacts{own}, []ChildFacts{own}, []ChildFacts{otherClass, otherSchool}, false},
		{"psychologist", p(10, org.School, "BAK-06", SchoolPsychologist), []ChildFacts{own, otherClass}, []ChildFacts{own, otherClass}, []ChildFacts{otherSchool}, true},
		{"head", p(10, org.School, "BAK-06", SchoolHead), []ChildFacts{own}, []ChildFacts{own}, []ChildFacts{otherSchool}, true},
		{"district specialist", p(2, org.District, "BAK-06", CitySpecialist), []ChildFacts{own, otherSchool}, nil, []ChildFacts{otherDistrict}, false},
		{"city specialist", p(1, org.CityDepartment, "", CitySpecialist), []ChildFacts{own, otherDistrict}, nil, nil, false},
		{"city admin", p(1, org.CityDepartment, "", CityAdmin), nil, nil, []ChildFacts{own}, false},
		{"district officer", p(2, org.District, "BAK-06", AgencyOfficer), nil, nil, []ChildFacts{own}, false},
		{"police with every grant", p(12, org.Police, "", AgencySupervisor), nil, nil, []ChildFacts{otherDistrict}, false},
		{"hotline supervisor", p(13, org.Hotline, "", HotlineSupervisor), nil, nil, []ChildFacts{otherDistrict}, false},
		{"analyst", p(1, org.CityDepartment, "", Analyst), nil, nil, []ChildFacts{own}, false},
		{"public council", p(14, org.PublicCouncil, "", PublicCouncil), nil, nil, []ChildFacts{own}, false},
		{"system admin", p(1, org.CityDepartment, "", SystemAdmin), nil, nil, []ChildFacts{own}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := ScreeningFilter(c.p)
			inFilter := func(ch ChildFacts) bool {
				switch {
				case f.All:
					return true
				case f.District != "":
					return ch.District == f.District
				case f.SchoolID != 0 && len(f.Classes) == 0:
					return ch.SchoolID == f.SchoolID
				case f.SchoolID != 0:
					for _, cl := range f.Classes {
						if ch.SchoolID == f.SchoolID && cl.Grade == ch.Grade && cl.Section == ch.Section {
							return true
						}
					}
				}
				return false
			}
			for _, ch := range c.read {
				if !DecideScreening(c.p, Read, ch).Allowed || !inFilter(ch) {
					t.Errorf("cannot read %+v (filter %+v)", ch, f)
				}
			}
			for _, ch := range c.write {
				if !DecideScreening(c.p, Write, ch).Allowed {
					t.Errorf("cannot write %+v", ch)
				}
			}
			for _, ch := range c.none {
				if DecideScreening(c.p, Read, ch).Allowed || inFilter(ch) {
					t.Errorf("reaches %+v", ch)
				}
			}
			if c.write == nil && len(c.read) > 0 && DecideScreening(c.p, Write, c.read[0]).Allowed {
				t.Errorf("writes though it only reads")
			}
			if CanDecideRegister(c.p, 10) != c.decides {
				t.Errorf("decides: %v", !c.decides)
			}
		})
	}
	ro := p(10, org.School, "BAK-06", SchoolPsychologist)
	ro.Scopes = []Scope{ScopeRead}
	if DecideScreening(ro, Write, own).Allowed || CanDecideRegister(ro, 10) || CanRunScreening(ro) {
		t.Error("a read-only token writes")
	}
}
