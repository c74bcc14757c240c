package demo

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"strings"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/storage"
)

// Domain is the email domain of demo accounts. Only these accounts have a
// published password and TOTP secret.
const Domain = "demo.dayaq.az"

// Password is every demo account's password. It is printed, so demo
// accounts must never exist in a real database.
const Password = "Dayaq-demo-2026"

// SignIn is one demo account, as serve --demo prints it.
type SignIn struct {
	Role       access.Role
	Email      string
	Name       string
	OrgCode    string
	Classes    []access.Class
	Password   string
	TOTPSecret string // "" for roles that need no second factor
}

// SignIns returns the demo accounts: one per role at a fitting
// organisation of Orgs (the school is the first of Nəsimi), and a second
// agency officer at the health department. Roles that see children's data
// have a fixed TOTP secret, enrolled already, so testers can add it to an
// authenticator app (or ask "dayaq demo code").
func SignIns() []SignIn {
	type acct struct {
		local, name, org string
		role             access.Role
		classes          []access.Class
	}
	accts := []acct{
		{"city_admin", "Rəna Quliyeva", "BSTI", access.CityAdmin, nil},
		{"city_specialist", "Elvin Məmmədov", "BSTI", access.CitySpecialist, nil},
		{"school_head", "Samirə Əliyeva", "BAK-06-001", access.SchoolHead, nil},
		{"school_psychologist", "Nigar Hüseynova", "BAK-06-001", access.SchoolPsychologist, nil},
		{"teacher", "Kamran İsmayılov", "BAK-06-001", access.Teacher, []access.Class{{Grade: 5, Section: "A"}}},
		{"hotline_operator", "Ülviyyə Rzayeva", "HOTLINE-146-2", access.HotlineOperator, nil},
		{"hotline_supervisor", "Tural Səfərov", "HOTLINE-146-2", access.HotlineSupervisor, nil},
		{"agency_officer", "Orxan Cəfərov", "BAK-POLICE", access.AgencyOfficer, nil},
		{"agency_supervisor", "Fərid Abbasov", "BAK-POLICE", access.AgencySupervisor, nil},
		{"health_officer", "Leyla Nəsirova", "BAK-HEALTH", access.AgencyOfficer, nil},
		{"analyst", "Günay Vəliyeva", "TAIM", access.Analyst, nil},
		{"public_council", "İlham Qasımov", "ICTIMAI-SURA", access.PublicCouncil, nil},
		{"system_admin", "Rauf Kərimov", "BSTI", access.SystemAdmin, nil},
		{"teacher_7b", "Aytən Məmmədli", "BAK-06-001", access.Teacher, []access.Class{{Grade: 7, Section: "B"}}}, // another class: screening's tests
	}
	out := make([]SignIn, len(accts))
	for i, a := range accts {
		s := SignIn{Role: a.role, Email: a.local + "@" + Domain, Name: a.name, OrgCode: a.org, Classes: a.classes,
			Password: Password}
		if a.role.SeesChildData() {
			s.TOTPSecret = demoTOTPSecret(s.Email)
		}
		out[i] = s
	}
	return out
}

// demoTOTPSecret is a fixed secret for a demo account: it survives
// reloading the demo, so an authenticator app set up once keeps working.
func demoTOTPSecret(email string) string {
	sum := sha256.Sum256([]byte("dayaq-demo-totp:" + email))
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(sum[:20])
}

// IsDemoEmail reports whether email belongs to a demo account.
func IsDemoEmail(email string) bool {
	return strings.HasSuffix(storage.NormalizeEmail(email), "@"+Domain)
}

// LoadUsers creates the demo accounts that do not exist yet (so running it
// again changes nothing) and reports how many it created. The
// organisations of Orgs must be in db.
func LoadUsers(ctx context.Context, db *storage.DB) (int, error) {
	hash, err := auth.HashPassword(Password) // one hash for all: they share the password
	if err != nil {
		return 0, err
	}
	n := 0
	for _, s := range SignIns() {
		_, err := db.UserByEmail(ctx, s.Email)
		if err == nil {
			continue
		}
		if apperr.CodeOf(err) != apperr.NotFound {
			return n, fmt.Errorf("demo.LoadUsers: %w", err)
		}
		if _, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: s.Email, Name: s.Name, OrgCode: s.OrgCode,
			Roles: []access.Role{s.Role}, Classes: s.Classes, PasswordHash: hash, TOTPSecret: s.TOTPSecret}); err != nil {
			return n, fmt.Errorf("demo.LoadUsers: %s: %w", s.Email, err)
		}
		n++
	}
	return n, nil
}
