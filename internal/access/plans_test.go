package access

import (
	"testing"

	"dayaq/internal/org"
)

func TestDecidePlan(t *testing.T) {
	child := ChildFacts{SchoolID: 10, District: "BAK-06", Grade: 5, Section: "A"}
	f := PlanFacts{Child: child, StaffUserIDs: []int64{7}, BodyOrgIDs: []int64{40}}
	p := func(id int64, orgID int64, t org.Type, district string, r Role, classes ...Class) Principal {
		return Principal{UserID: id, OrgID: orgID, OrgType: t, District: district, Roles: []Role{r}, Classes: classes}
	}
	tests := []struct {
		name  string
		p     Principal
		view  PlanView
		write bool
	}{
		{"school psychologist", p(1, 10, org.School, "BAK-06", SchoolPsychologist), PlanFull, true},
		{"school head", p(2, 10, org.School, "BAK-06", SchoolHead), PlanFull, true},
		{"another school's psychologist", p(3, 11, org.School, "BAK-06", SchoolPsychologist), PlanNone, false},
		{"class teacher", p(4, 10, org.School, "BAK-06", Teacher, Class{Grade: 5, Section: "A"}), PlanTeacher, false},
		{"another class's teacher", p(5, 10, org.School, "BAK-06", Teacher, Class{Grade: 6, Section: "A"}), PlanNone, false},
		{"a teacher carrying an activity", p(7, 10, org.School, "BAK-06", Teacher, Class{Grade: 9, Section: "C"}), PlanTeacher, false},
		{"district specialist", p(8, 20, org.District, "BAK-06", CitySpecialist), PlanFull, false},
		{"another district's specialist", p(9, 21, org.District, "BAK-07", CitySpecialist), PlanNone, false},
		{"city specialist", p(10, 1, org.CityDepartment, "", CitySpecialist), PlanFull, false},
		{"the referred body's officer", p(11, 40, org.Health, "", AgencyOfficer), PlanBody, false},
		{"another body's officer", p(12, 41, org.Police, "", AgencyOfficer), PlanNone, false},
		{"city admin", p(13, 1, org.CityDepartment, "", CityAdmin), PlanNone, false},
		{"analyst", p(14, 50, org.ResearchCentre, "", Analyst), PlanNone, false},
	}
	for _, tt := range tests {
		d := DecidePlan(tt.p, f)
		if d.View != tt.view || d.Allowed != (tt.view != PlanNone) || d.CanWrite != tt.write {
			t.Errorf("%s: %+v, want view %d write %v", tt.name, d, tt.view, tt.write)
		}
		// The list filter agrees: it reaches the plan exactly when the decision allows it.
		fl := FilterPlans(tt.p)
		reach := filterReaches(fl.Children, child) || (fl.UserID != 0 && fl.UserID == 7 && tt.p.OrgID == child.SchoolID) ||
			(fl.OrgID != 0 && fl.OrgID == 40)
		if reach != d.Allowed {
			t.Errorf("%s: the list filter reaches the plan: %v, the decision allows it: %v", tt.name, reach, d.Allowed)
		}
	}
}

// filterReaches is the child filter applied to one child, as the SQL does.
func filterReaches(f ChildFilter, c ChildFacts) bool {
	switch {
	case f.All:
		return true
	case f.District != "" && f.District == c.District:
		return true
	case f.SchoolID != 0 && f.SchoolID == c.SchoolID:
		if len(f.Classes) == 0 {
			return true
		}
		for _, cl := range f.Classes {
			if cl.Grade == c.Grade && (cl.Section == "" || cl.Section == c.Section) {
				return true
			}
		}
	}
	return false
}
