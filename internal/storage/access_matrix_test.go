package storage_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// The access matrix: every role, placed in the organisation it belongs to,
// against children that stand in each relation to it — own school, other
// school of the same district, other district (the rest of the city), a
// referred child and one whose referral has ended — for read, list and
// write. It runs through storage, so the SQL filter and the policy are
// checked together, on both engines.

// matrixChildren are the columns of the matrix, in order.
var matrixChildren = []string{"ownClass", "ownSchool", "otherSchool", "otherDistrict", "referred", "referralEnded"}

// matrixFixture is the world the matrix runs in.
type matrixFixture struct {
	db       *storage.DB
	children map[string]int64
	users    map[string]audit.Actor
	clock    *testClock
}

type testClock struct{ t time.Time }

func (c *testClock) now() time.Time { return c.t }

func newMatrixFixture(t testing.TB, dsn string, opts ...storage.Option) *matrixFixture {
	t.Helper()
	ctx := context.Background()
	clock := &testClock{t: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)}
	db := storagetest.Open(t, dsn, append([]storage.Option{storage.WithClock(clock.now)}, opts...)...)
	f := &matrixFixture{db: db, children: map[string]int64{}, users: map[string]audit.Actor{}, clock: clock}
	orgs := []org.Org{
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "BŞTİ"},
		{Code: "RIH-06", Type: org.District, NameAZ: "Nəsimi RİH", DistrictCode: "BAK-06"},
		{Code: "BAK-06-001", Type: org.School, NameAZ: "A", DistrictCode: "BAK-06"},
		{Code: "BAK-06-002", Type: org.School, NameAZ: "B", DistrictCode: "BAK-06"},
		{Code: "BAK-07-001", Type: org.School, NameAZ: "C", DistrictCode: "BAK-07"},
		{Code: "HOTLINE", Type: org.Hotline, NameAZ: "146-2"},
		{Code: "POLICE", Type: org.Police, NameAZ: "Polis"},
		{Code: "HEALTH", Type: org.Health, NameAZ: "Səhiyyə"},
		{Code: "TAIM", Type: org.ResearchCentre, NameAZ: "TAİM"},
		{Code: "SURA", Type: org.PublicCouncil, NameAZ: "Şura"},
	}
	if _, err := db.ImportOrgs(ctx, orgs); err != nil {
		t.Fatal(err)
	}
	id := func(code string) int64 {
		o, err := db.OrgByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	kid := func(sid string, school string, grade int, section string) child.Child {
		return child.Child{StudentID: sid, LastName: "Əliyeva", FirstName: "Aysel", Sex: child.Female,
			BirthDate: time.Date(2015, 4, 1, 0, 0, 0, 0, time.UTC), SchoolID: id(school), Grade: grade, Section: section}
	}
	kids := []child.Child{
		kid("S-ownClass", "BAK-06-001", 5, "A"),
		kid("S-ownSchool", "BAK-06-001", 7, "B"),
		kid("S-otherSchool", "BAK-06-002", 5, "A"),
		kid("S-otherDistrict", "BAK-07-001", 5, "A"),
		kid("S-referred", "BAK-07-001", 6, "A"),
		kid("S-referralEnded", "BAK-07-001", 6, "B"),
	}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	for i, name := range matrixChildren {
		f.children[name] = kids[i].ID
	}
	for _, u := range []struct {
		key, org string
		roles    []access.Role
		classes  []access.Class
	}{
		{"city_admin", "BSTI", []access.Role{access.CityAdmin}, nil},
		{"city_specialist", "BSTI", []access.Role{access.CitySpecialist}, nil},
		{"district_specialist", "RIH-06", []access.Role{access.CitySpecialist}, nil},
		{"district_officer", "RIH-06", []access.Role{access.AgencyOfficer}, nil},
		{"school_head", "BAK-06-001", []access.Role{access.SchoolHead}, nil},
		{"school_psychologist", "BAK-06-001", []access.Role{access.SchoolPsychologist}, nil},
		{"teacher", "BAK-06-001", []access.Role{access.Teacher}, []access.Class{{Grade: 5, Section: "A"}}},
		{"hotline_operator", "HOTLINE", []access.Role{access.HotlineOperator}, nil},
		{"hotline_operator_other", "HOTLINE", []access.Role{access.HotlineOperator}, nil},
		{"hotline_supervisor", "HOTLINE", []access.Role{access.HotlineSupervisor}, nil},
		{"police_officer", "POLICE", []access.Role{access.AgencyOfficer}, nil},
		{"police_supervisor", "POLICE", []access.Role{access.AgencySupervisor}, nil},
		{"health_officer", "HEALTH", []access.Role{access.AgencyOfficer}, nil},
		{"analyst", "TAIM", []access.Role{access.Analyst}, nil},
		{"public_council", "SURA", []access.Role{access.PublicCouncil}, nil},
		{"system_admin", "BSTI", []access.Role{access.SystemAdmin}, nil},
	} {
		nu, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: u.key + "@test.az", Name: u.key,
			OrgCode: u.org, Roles: u.roles, Classes: u.classes, PasswordHash: "not-a-real-hash"})
		if err != nil {
			t.Fatalf("create %s: %v", u.key, err)
		}
		p, err := db.PrincipalForUser(ctx, nu.ID)
		if err != nil {
			t.Fatal(err)
		}
		f.users[u.key] = audit.Actor{Principal: p, IP: "127.0.0.1", RequestID: "matrix-" + u.key}
	}
	// The referred child: referred to the police, assigned to one hotline operator.
	sys := audit.System()
	if _, err := db.GrantChildAccess(ctx, sys, f.children["referred"], id("POLICE"), 0, "referral", "test", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.GrantChildAccess(ctx, sys, f.children["referred"], 0, f.users["hotline_operator"].UserID, "assignment", "test", time.Time{}); err != nil {
		t.Fatal(err)
	}
	// The ended referral: to the police and health, and over.
	for _, o := range []string{"POLICE", "HEALTH"} {
		g, err := db.GrantChildAccess(ctx, sys, f.children["referralEnded"], id(o), 0, "referral", "test", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if err := db.EndChildAccess(ctx, sys, g); err != nil {
			t.Fatal(err)
		}
	}
	clock.t = clock.t.Add(time.Minute)
	return f
}

// expectations, one letter per matrix child: F full, S shared (a referral's
// share), L limited (a teacher), - nothing. Write: W allowed, - refused.
var matrix = []struct {
	user        string
	read, write string
}{
	{"city_admin", "FFFFFF", "WWWWWW"},
	{"city_specialist", "FFFFFF", "WWWWWW"},
	{"district_specialist", "FFF---", "WWW---"},
	{"district_officer", "FFF---", "------"},
	{"school_head", "FF----", "WW----"},
	{"school_psychologist", "FF----", "WW----"},
	{"teacher", "L-----", "------"},
	{"hotline_operator", "----S-", "------"},
	{"hotline_operator_other", "------", "------"},
	{"hotline_supervisor", "------", "------"},
	{"police_officer", "----S-", "------"},
	{"police_supervisor", "----S-", "------"},
	{"health_officer", "------", "------"},
	{"analyst", "------", "------"},
	{"public_council", "------", "------"},
	{"system_admin", "------", "------"},
}

func viewLetter(v access.View) byte {
	switch v {
	case access.ViewFull:
		return 'F'
	case access.ViewShared:
		return 'S'
	case access.ViewLimited:
		return 'L'
	}
	return '-'
}

func listAll(t *testing.T, db *storage.DB, a audit.Actor) map[int64]storage.ChildRecord {
	t.Helper()
	seen := map[int64]storage.ChildRecord{}
	q := storage.ChildQuery{Limit: 2} // small pages: the keyset walk is part of what is tested
	for {
		rs, err := db.ListChildren(context.Background(), a, q)
		if err != nil {
			t.Fatalf("list: %v", err)
		}
		for _, r := range rs {
			if _, dup := seen[r.ID]; dup {
				t.Fatalf("list returned child %d twice", r.ID)
			}
			seen[r.ID] = r
		}
		if len(rs) < q.Limit {
			return seen
		}
		q.After = rs[len(rs)-1].ID
	}
}

func TestAccessMatrix(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			admin := f.users["city_admin"]
			for _, row := range matrix {
				a := f.users[row.user]
				listed := listAll(t, f.db, a)
				for i, name := range matrixChildren {
					id := f.children[name]
					// read
					want := row.read[i]
					got := byte('-')
					r, err := f.db.ChildFor(ctx, a, id)
					switch {
					case err == nil:
						got = viewLetter(r.Decision.View)
					case apperr.CodeOf(err) != apperr.NotFound:
						t.Fatalf("%s reads %s: %v", row.user, name, err)
					}
					if got != want {
						t.Errorf("%s reads %s: %c, want %c", row.user, name, got, want)
					}
					// list: the same as read, without break-glass
					gotList := byte('-')
					if lr, ok := listed[id]; ok {
						gotList = viewLetter(lr.Decision.View)
					}
					if gotList != want {
						t.Errorf("%s lists %s: %c, want %c", row.user, name, gotList, want)
					}
					// write: an update based on the version just read by an admin
					cur, err := f.db.ChildFor(ctx, admin, id)
					if err != nil {
						t.Fatal(err)
					}
					upd := cur.Child
					upd.FirstName = "Aysel-" + row.user
					_, err = f.db.UpdateChild(ctx, a, upd, "")
					gotW := byte('-')
					if err == nil {
						gotW = 'W'
					} else if c := apperr.CodeOf(err); c != apperr.NotFound && c != apperr.Forbidden {
						t.Fatalf("%s writes %s: %v", row.user, name, err)
					}
					if gotW != row.write[i] {
						t.Errorf("%s writes %s: %c, want %c (err %v)", row.user, name, gotW, row.write[i], err)
					}
					// a read it could not make must look the same as a child that does not exist
					if got == '-' {
						if _, err := f.db.ChildFor(ctx, a, id+100000); apperr.CodeOf(err) != apperr.NotFound {
							t.Errorf("missing child: %v, want not found", err)
						}
					}
				}
			}
			// Every read above, allowed or not, is in the audit chain.
			if checked, bad, reason, err := f.db.VerifyAudit(ctx); err != nil || bad != 0 {
				t.Fatalf("audit chain broken after the matrix: checked %d, bad %d (%s), %v", checked, bad, reason, err)
			}
		})
	}
}

func TestBreakGlass(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			sup := f.users["hotline_supervisor"]
			far := f.children["otherDistrict"]
			if _, err := f.db.ChildFor(ctx, sup, far); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("before break-glass: %v, want not found", err)
			}
			if _, err := f.db.OpenBreakGlass(ctx, sup, far, "short"); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("a too short reason: %v, want invalid", err)
			}
			if _, err := f.db.OpenBreakGlass(ctx, f.users["hotline_operator"], far, "the child is in danger now"); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("an operator breaking glass: %v, want forbidden", err)
			}
			if _, err := f.db.OpenBreakGlass(ctx, sup, far, "caller reports the child is in danger now"); err != nil {
				t.Fatal(err)
			}
			r, err := f.db.ChildFor(ctx, sup, far)
			if err != nil || !r.Decision.BreakGlass || r.Decision.View != access.ViewFull {
				t.Fatalf("after break-glass: %+v, %v; want a full, marked read", r.Decision, err)
			}
			if _, ok := listAll(t, f.db, sup)[far]; ok {
				t.Error("break-glass put the child in the supervisor's lists")
			}
			if _, err := f.db.UpdateChild(ctx, sup, r.Child, ""); err == nil {
				t.Error("break-glass allowed a write")
			}
			bgs, err := f.db.BreakGlassOpenings(ctx, storage.BreakGlassFilter{UnreviewedOnly: true})
			if err != nil || len(bgs) != 1 || bgs[0].ChildID != far || bgs[0].UserName != "hotline_supervisor" {
				t.Fatalf("review list = %+v, %v", bgs, err)
			}
			if err := f.db.ReviewBreakGlass(ctx, sup, bgs[0].ID, "ok"); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("the opener reviewing themself: %v, want forbidden", err)
			}
			if err := f.db.ReviewBreakGlass(ctx, f.users["city_admin"], bgs[0].ID, "justified"); err != nil {
				t.Fatal(err)
			}
			if bgs, _ := f.db.BreakGlassOpenings(ctx, storage.BreakGlassFilter{UnreviewedOnly: true}); len(bgs) != 0 {
				t.Errorf("reviewed opening still unreviewed: %+v", bgs)
			}
			events, err := f.db.AuditEvents(ctx, storage.AuditFilter{ChildID: far, BreakGlassOnly: true, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, ev := range events {
				actions = append(actions, ev.Action)
				if ev.Reason == "" {
					t.Errorf("break-glass event %s has no reason", ev.Action)
				}
			}
			if !slices.Contains(actions, "child.break_glass") || !slices.Contains(actions, "child.read") {
				t.Errorf("break-glass audit events = %v, want the opening and the read", actions)
			}
			// Four hours later the access is over.
			f.clock.t = f.clock.t.Add(access.BreakGlassFor + time.Second)
			if _, err := f.db.ChildFor(ctx, sup, far); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("after expiry: %v, want not found", err)
			}
		})
	}
}

func TestUpdateChildStaleVersion(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			head := f.users["school_head"]
			r, err := f.db.ChildFor(ctx, head, f.children["ownSchool"])
			if err != nil {
				t.Fatal(err)
			}
			first, second := r.Child, r.Child
			first.LastName = "Həsənova"
			if _, err := f.db.UpdateChild(ctx, head, first, ""); err != nil {
				t.Fatal(err)
			}
			second.FirstName = "Leyla"
			if _, err := f.db.UpdateChild(ctx, head, second, ""); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("a stale update: %v, want conflict", err)
			}
			now, _ := f.db.ChildFor(ctx, head, f.children["ownSchool"])
			if now.LastName != "Həsənova" || now.FirstName != "Aysel" || now.Version != r.Version+1 {
				t.Errorf("after a refused stale update the record is %+v", now.Child)
			}
		})
	}
}
