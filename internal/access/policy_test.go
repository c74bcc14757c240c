package access_test

import (
	"testing"

	"dayaq/internal/access"
	"dayaq/internal/org"
)

// The pure policy, without storage: the storage matrix test runs the same
// questions through SQL on both engines.

const (
	schoolA = 101 // in district BAK-06
	schoolB = 102 // in district BAK-06
	schoolC = 201 // in district BAK-07
)

func TestDecideTokenScopes(t *testing.T) {
	head := access.Principal{UserID: 1, OrgID: schoolA, OrgType: org.School, District: "BAK-06", Roles: []access.Role{access.SchoolHead}}
	own := access.ChildFacts{SchoolID: schoolA, District: "BAK-06"}
	for _, tc := range []struct {
		scopes    []access.Scope
		read, wrt bool
	}{
		{nil, true, true},
		{[]access.Scope{access.ScopeRead}, true, false},
		{[]access.Scope{access.ScopeWrite}, false, true},
		{[]access.Scope{access.ScopeRead, access.ScopeWrite}, true, true},
		{[]access.Scope{}, false, false},
	} {
		p := head
		p.Scopes = tc.scopes
		if got := access.Decide(p, access.Read, own).Allowed; got != tc.read {
			t.Errorf("scopes %v: read = %v, want %v", tc.scopes, got, tc.read)
		}
		if got := access.Decide(p, access.Write, own).Allowed; got != tc.wrt {
			t.Errorf("scopes %v: write = %v, want %v", tc.scopes, got, tc.wrt)
		}
	}
}

func TestDecideDeniesByDefault(t *testing.T) {
	anyChild := access.ChildFacts{SchoolID: schoolA, District: "BAK-06", OrgGrant: true, UserGrant: true, BreakGlass: true}
	for _, p := range []access.Principal{
		{}, // nobody signed in
		{UserID: 1, OrgID: schoolA, OrgType: org.School},                                                     // no roles
		{UserID: 1, OrgID: 9, OrgType: org.ResearchCentre, Roles: []access.Role{access.Analyst}},             // de-identified only
		{UserID: 1, OrgID: 9, OrgType: org.PublicCouncil, Roles: []access.Role{access.PublicCouncil}},        // aggregates only
		{UserID: 1, OrgID: 9, OrgType: org.CityDepartment, Roles: []access.Role{access.SystemAdmin}},         // never a child's data
		{UserID: 1, OrgID: schoolA, OrgType: org.Police, Roles: []access.Role{access.SchoolHead}},            // a school role outside a school
		{UserID: 1, OrgID: 9, OrgType: org.Hotline, Roles: []access.Role{access.Role("superuser")}},          // an unknown role
		{UserID: 1, OrgID: schoolA, OrgType: org.School, Roles: []access.Role{access.Teacher}, Classes: nil}, // a teacher with no classes
	} {
		for _, a := range []access.Action{access.Read, access.List, access.Write} {
			c := anyChild
			if p.Has(access.Teacher) {
				c.OrgGrant, c.UserGrant, c.BreakGlass = false, false, false
			}
			if d := access.Decide(p, a, c); d.Allowed {
				t.Errorf("%+v may %s: %+v", p, a, d)
			}
		}
		if f := access.Filter(p, access.List); !f.Empty() && !p.Has(access.SystemAdmin) {
			t.Errorf("%+v: list filter %+v, want empty", p, f)
		}
	}
}

func TestBreakGlassReadsOnly(t *testing.T) {
	sup := access.Principal{UserID: 7, OrgID: 50, OrgType: org.Hotline, Roles: []access.Role{access.HotlineSupervisor}}
	far := access.ChildFacts{SchoolID: schoolC, District: "BAK-07", BreakGlass: true}
	if d := access.Decide(sup, access.Read, far); !d.Allowed || !d.BreakGlass || d.View != access.ViewFull {
		t.Errorf("supervisor with break-glass: read = %+v, want allowed, full, marked", d)
	}
	for _, a := range []access.Action{access.List, access.Write} {
		if d := access.Decide(sup, a, far); d.Allowed {
			t.Errorf("break-glass allows %s: %+v", a, d)
		}
	}
	op := access.Principal{UserID: 8, OrgID: 50, OrgType: org.Hotline, Roles: []access.Role{access.HotlineOperator}}
	if d := access.Decide(op, access.Read, far); d.Allowed {
		t.Errorf("an operator may not break glass, but read = %+v", d)
	}
	if access.CanBreakGlass(op) || !access.CanBreakGlass(sup) {
		t.Error("CanBreakGlass: want operator no, supervisor yes")
	}
}

func TestTeacherSeesOwnClassesLimited(t *testing.T) {
	tch := access.Principal{UserID: 3, OrgID: schoolA, OrgType: org.School, District: "BAK-06",
		Roles: []access.Role{access.Teacher}, Classes: []access.Class{{Grade: 5, Section: "A"}, {Grade: 7}}}
	for _, tc := range []struct {
		c    access.ChildFacts
		want access.View
	}{
		{access.ChildFacts{SchoolID: schoolA, Grade: 5, Section: "A"}, access.ViewLimited},
		{access.ChildFacts{SchoolID: schoolA, Grade: 5, Section: "B"}, access.ViewNone},
		{access.ChildFacts{SchoolID: schoolA, Grade: 7, Section: "C"}, access.ViewLimited}, // all of grade 7
		{access.ChildFacts{SchoolID: schoolB, Grade: 5, Section: "A"}, access.ViewNone},
	} {
		if got := access.Decide(tch, access.Read, tc.c).View; got != tc.want {
			t.Errorf("teacher reads %+v: view %v, want %v", tc.c, got, tc.want)
		}
		if access.Decide(tch, access.Write, tc.c).Allowed {
			t.Errorf("teacher may write %+v", tc.c)
		}
	}
}

func TestParseRoles(t *testing.T) {
	rs, bad := access.ParseRoles(" teacher, school_psychologist,teacher ")
	if bad != "" || len(rs) != 2 || rs[0] != access.Teacher || rs[1] != access.SchoolPsychologist {
		t.Errorf("ParseRoles = %v, %q", rs, bad)
	}
	if _, bad := access.ParseRoles("teacher,root"); bad != "root" {
		t.Errorf("ParseRoles(teacher,root) bad = %q, want root", bad)
	}
}

func TestRolesAllowedIn(t *testing.T) {
	for _, tc := range []struct {
		r    access.Role
		t    org.Type
		want bool
	}{
		{access.Teacher, org.School, true},
		{access.Teacher, org.Police, false},
		{access.HotlineOperator, org.Hotline, true},
		{access.HotlineOperator, org.School, false},
		{access.AgencyOfficer, org.Health, true},
		{access.AgencyOfficer, org.School, false},
		{access.CitySpecialist, org.CityDepartment, true},
		{access.PublicCouncil, org.PublicCouncil, true},
		{access.PublicCouncil, org.CityDepartment, false},
	} {
		if got := tc.r.AllowedIn(tc.t); got != tc.want {
			t.Errorf("%s in %s = %v, want %v", tc.r, tc.t, got, tc.want)
		}
	}
	for _, r := range access.Roles() {
		if want := r != access.Analyst && r != access.PublicCouncil && r != access.SystemAdmin; r.SeesChildData() != want {
			t.Errorf("%s.SeesChildData() = %v, want %v", r, !want, want)
		}
	}
}
