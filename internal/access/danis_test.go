package access

import (
	"testing"

	"dayaq/internal/org"
)

// The channel's policy: a waiting conversation is open to the receiving
// hotline's staff and the city unit; a taken one to the taker, the
// supervisors and the city unit; only they answer; the list filter agrees
// with the decision.
func TestDanisPolicy(t *testing.T) {
	const hotline, other = 10, 11
	operator := Principal{UserID: 1, OrgID: hotline, OrgType: org.Hotline, Roles: []Role{HotlineOperator}}
	colleague := Principal{UserID: 2, OrgID: hotline, OrgType: org.Hotline, Roles: []Role{HotlineOperator}}
	supervisor := Principal{UserID: 3, OrgID: hotline, OrgType: org.Hotline, Roles: []Role{HotlineSupervisor}}
	otherOp := Principal{UserID: 4, OrgID: other, OrgType: org.Hotline, Roles: []Role{HotlineOperator}}
	city := Principal{UserID: 5, OrgID: 1, OrgType: org.CityDepartment, Roles: []Role{CitySpecialist}}
	admin := Principal{UserID: 7, OrgID: 1, OrgType: org.CityDepartment, Roles: []Role{CityAdmin}}
	head := Principal{UserID: 8, OrgID: 20, OrgType: org.School, Roles: []Role{SchoolHead}}
	readToken := operator
	readToken.Scopes = []Scope{ScopeRead}

	waiting := DanisFacts{OrgID: hotline}
	mine := DanisFacts{OrgID: hotline, AssignedTo: 1}
	tests := []struct {
		name              string
		p                 Principal
		f                 DanisFacts
		read, write, take bool
	}{
		{"operator: waiting", operator, waiting, true, false, true},
		{"operator: taken by them", operator, mine, true, true, false},
		{"colleague: taken by another", colleague, mine, false, false, false},
		{"supervisor: taken", supervisor, mine, true, true, false},
		{"operator of another hotline", otherOp, waiting, false, false, false},
		{"city specialist", city, mine, true, true, false},
		{"city admin", admin, waiting, false, false, false},
		{"school head", head, waiting, false, false, false},
		{"read-only token", readToken, mine, true, false, false},
		{"nobody", Principal{}, waiting, false, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecideDanis(tt.p, Read, tt.f); got != tt.read {
				t.Errorf("read = %v, want %v", got, tt.read)
			}
			if got := DecideDanis(tt.p, Write, tt.f); got != tt.write {
				t.Errorf("answer = %v, want %v", got, tt.write)
			}
			if got := DanisCanTake(tt.p, tt.f); got != tt.take {
				t.Errorf("take = %v, want %v", got, tt.take)
			}
			// The filter, applied as the SQL applies it, agrees with Read.
			fl := DanisFilterFor(tt.p)
			in := !fl.Empty() && (fl.All || (tt.f.OrgID == fl.OrgID && (fl.UserID == 0 || tt.f.AssignedTo == 0 || tt.f.AssignedTo == fl.UserID)))
			if in != tt.read {
				t.Errorf("filter lists it = %v, decision reads it = %v", in, tt.read)
			}
		})
	}
	if !CanEditDanis(supervisor) || !CanEditDanis(admin) || CanEditDanis(operator) || CanEditDanis(city) {
		t.Error("settings: supervisors and the city admin edit them, no one else")
	}
}
