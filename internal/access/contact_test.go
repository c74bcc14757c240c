package access

import (
	"testing"

	"dayaq/internal/org"
)

func TestContactPolicy(t *testing.T) {
	const hotline, other = 10, 11
	operator := Principal{UserID: 1, OrgID: hotline, OrgType: org.Hotline, Roles: []Role{HotlineOperator}}
	colleague := Principal{UserID: 2, OrgID: hotline, OrgType: org.Hotline, Roles: []Role{HotlineOperator}}
	supervisor := Principal{UserID: 3, OrgID: hotline, OrgType: org.Hotline, Roles: []Role{HotlineSupervisor}}
	otherSup := Principal{UserID: 4, OrgID: other, OrgType: org.Hotline, Roles: []Role{HotlineSupervisor}}
	city := Principal{UserID: 5, OrgID: 1, OrgType: org.CityDepartment, Roles: []Role{CitySpecialist}}
	districtSpec := Principal{UserID: 6, OrgID: 2, OrgType: org.District, Roles: []Role{CitySpecialist}}
	admin := Principal{UserID: 7, OrgID: 1, OrgType: org.CityDepartment, Roles: []Role{CityAdmin}}
	head := Principal{UserID: 8, OrgID: 20, OrgType: org.School, Roles: []Role{SchoolHead}}
	police := Principal{UserID: 9, OrgID: 30, OrgType: org.Police, Roles: []Role{AgencySupervisor}}
	readToken := operator
	readToken.Scopes = []Scope{ScopeRead}

	own := ContactFacts{OrgID: hotline, CreatedBy: 1}
	assigned := ContactFacts{OrgID: hotline, CreatedBy: 2, AssignedTo: 1}
	colleagues := ContactFacts{OrgID: hotline, CreatedBy: 2}
	tests := []struct {
		name string
		p    Principal
		c    ContactFacts
		want bool
	}{
		{"operator: own", operator, own, true},
		{"operator: assigned", operator, assigned, true},
		{"operator: a colleague's", operator, colleagues, false},
		{"colleague: own", colleague, colleagues, true},
		{"supervisor: their hotline's", supervisor, colleagues, true},
		{"supervisor of another hotline", otherSup, colleagues, false},
		{"city specialist: all", city, colleagues, true},
		{"district specialist: none", districtSpec, colleagues, false},
		{"city admin: none", admin, colleagues, false},
		{"school head: none", head, own, false},
		{"police: none", police, own, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecideContact(tt.p, Read, tt.c); got != tt.want {
				t.Errorf("DecideContact = %v, want %v", got, tt.want)
			}
			// The filter agrees with the decision.
			f := ContactFilterFor(tt.p)
			inFilter := f.All || (f.OrgID != 0 && f.OrgID == tt.c.OrgID) ||
				(f.UserID != 0 && (f.UserID == tt.c.CreatedBy || f.UserID == tt.c.AssignedTo))
			if inFilter != tt.want {
				t.Errorf("filter %+v matches = %v, want %v", f, inFilter, tt.want)
			}
		})
	}
	if DecideContact(readToken, Write, own) || CanLogContact(readToken) {
		t.Error("a read-only token may write")
	}
	if !CanLogContact(operator) || !CanLogContact(city) || CanLogContact(head) || CanLogContact(admin) {
		t.Error("CanLogContact wrong")
	}
	if !AlertedBy(supervisor, hotline) || AlertedBy(otherSup, hotline) || !AlertedBy(city, hotline) || AlertedBy(operator, hotline) {
		t.Error("AlertedBy wrong")
	}
	if !CanEditTaxonomy(admin) || CanEditTaxonomy(city) {
		t.Error("CanEditTaxonomy wrong")
	}
}
