package storage_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// clock is a settable clock for storage.WithClock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// eachWithClock is storagetest.Each with a clock the test sets, and the
// organisations users belong to.
func eachWithClock(t *testing.T, fn func(t *testing.T, db *storage.DB, clk *clock)) {
	t.Helper()
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 9, 15, 8, 0, 0, 0, time.UTC)}
			db := storagetest.Open(t, e.DSN(t), storage.WithClock(clk.Now))
			if _, err := db.ImportOrgs(context.Background(), userOrgs); err != nil {
				t.Fatal(err)
			}
			fn(t, db, clk)
		})
	}
}

var userOrgs = []org.Org{
	{Code: "BSTI", Type: org.CityDepartment, NameAZ: "BŞTİ"},
	{Code: "BAK-06-001", Type: org.School, NameAZ: "Məktəb", DistrictCode: "BAK-06"},
	{Code: "TAIM", Type: org.ResearchCentre, NameAZ: "TAİM"},
}

// cheapHash is a valid PHC string made cheaply, for tests that do not
// check passwords.
var cheapHash = func() string {
	h, err := auth.HashPasswordWith(auth.Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, "password")
	if err != nil {
		panic(err)
	}
	return h
}()

func mustUser(t *testing.T, db *storage.DB, nu storage.NewUser) storage.User {
	t.Helper()
	if nu.PasswordHash == "" {
		nu.PasswordHash = cheapHash
	}
	u, err := db.CreateUser(context.Background(), audit.System(), nu)
	if err != nil {
		t.Fatalf("CreateUser(%s): %v", nu.Email, err)
	}
	return u
}

func TestCreateUserAndPrincipal(t *testing.T) {
	eachWithClock(t, func(t *testing.T, db *storage.DB, _ *clock) {
		ctx := context.Background()
		u := mustUser(t, db, storage.NewUser{Email: " Teacher@Example.AZ ", Name: "Leyla Əliyeva", OrgCode: "BAK-06-001",
			Roles: []access.Role{access.Teacher, access.SchoolPsychologist}, Classes: []access.Class{{Grade: 6, Section: "B"}, {Grade: 5, Section: "A"}}})
		if u.Email != "teacher@example.az" || u.ID == 0 || u.TOTPEnabled || !u.NeedsTOTP() {
			t.Fatalf("created %+v", u)
		}
		got, err := db.UserByEmail(ctx, "TEACHER@example.az")
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != u.ID || got.Name != "Leyla Əliyeva" || got.OrgCode != "BAK-06-001" || got.OrgType != org.School ||
			!slices.Equal(got.Roles, []access.Role{access.SchoolPsychologist, access.Teacher}) ||
			!slices.Equal(got.Classes, []access.Class{{Grade: 5, Section: "A"}, {Grade: 6, Section: "B"}}) {
			t.Fatalf("UserByEmail = %+v", got)
		}
		p, err := db.PrincipalForUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.UserID != u.ID || p.Email != u.Email || p.OrgCode != "BAK-06-001" || p.District != "BAK-06" ||
			p.OrgType != org.School || !p.Has(access.Teacher) || len(p.Classes) != 2 || p.Scopes != nil {
			t.Fatalf("PrincipalForUser = %+v", p)
		}
		if _, err := db.UserByEmail(ctx, "nobody@example.az"); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("unknown email: %v", err)
		}
		if err := db.SetUserDisabled(ctx, audit.System(), u.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, err := db.PrincipalForUser(ctx, u.ID); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("disabled user's principal: %v", err)
		}
	})
}

func TestCreateUserValidation(t *testing.T) {
	eachWithClock(t, func(t *testing.T, db *storage.DB, _ *clock) {
		ctx := context.Background()
		mustUser(t, db, storage.NewUser{Email: "taken@example.az", Name: "A", OrgCode: "BSTI", Roles: []access.Role{access.CityAdmin}})
		for _, tc := range []struct {
			name  string
			nu    storage.NewUser
			field string
			key   string
		}{
			{"bad email", storage.NewUser{Email: "not an email", Name: "A", OrgCode: "BSTI", Roles: []access.Role{access.CityAdmin}}, "email", "account.error.email"},
			{"email taken", storage.NewUser{Email: "TAKEN@example.az", Name: "A", OrgCode: "BSTI", Roles: []access.Role{access.CityAdmin}}, "email", "account.error.email_taken"},
			{"no name", storage.NewUser{Email: "a@example.az", OrgCode: "BSTI", Roles: []access.Role{access.CityAdmin}}, "name", "error.required"},
			{"unknown org", storage.NewUser{Email: "a@example.az", Name: "A", OrgCode: "NOPE", Roles: []access.Role{access.CityAdmin}}, "org", "account.error.org_unknown"},
			{"no role", storage.NewUser{Email: "a@example.az", Name: "A", OrgCode: "BSTI"}, "roles", "error.required"},
			{"teacher at BŞTİ", storage.NewUser{Email: "a@example.az", Name: "A", OrgCode: "BSTI", Roles: []access.Role{access.Teacher}}, "roles", "account.error.role_org"},
			{"unknown role", storage.NewUser{Email: "a@example.az", Name: "A", OrgCode: "BSTI", Roles: []access.Role{"king"}}, "roles", "account.error.role_unknown"},
			{"classes without teacher", storage.NewUser{Email: "a@example.az", Name: "A", OrgCode: "BAK-06-001", Roles: []access.Role{access.SchoolHead},
				Classes: []access.Class{{Grade: 5, Section: "A"}}}, "classes", "account.error.classes_teacher"},
		} {
			if tc.nu.PasswordHash == "" {
				tc.nu.PasswordHash = cheapHash
			}
			_, err := db.CreateUser(ctx, audit.System(), tc.nu)
			e := apperr.As(err)
			if e.Code != apperr.Invalid || !slices.ContainsFunc(e.Fields, func(f apperr.FieldError) bool { return f.Field == tc.field && f.Key == tc.key }) {
				t.Errorf("%s: err = %v, want %s on %s", tc.name, err, tc.key, tc.field)
			}
		}
		if _, err := db.UserByEmail(ctx, "a@example.az"); apperr.CodeOf(err) != apperr.NotFound {
			t.Errorf("a rejected user was stored: %v", err)
		}
	})
}

func TestLoginFailuresLock(t *testing.T) {
	eachWithClock(t, func(t *testing.T, db *storage.DB, clk *clock) {
		ctx := context.Background()
		u := mustUser(t, db, storage.NewUser{Email: "a@example.az", Name: "A", OrgCode: "TAIM", Roles: []access.Role{access.Analyst}})
		for i := 1; i <= 4; i++ {
			until, err := db.RecordLoginFailure(ctx, u.ID, auth.LockoutDelay)
			if err != nil || !until.IsZero() {
				t.Fatalf("failure %d: locked until %v, %v", i, until, err)
			}
		}
		until, err := db.RecordLoginFailure(ctx, u.ID, auth.LockoutDelay)
		if err != nil || !until.Equal(clk.Now().Add(time.Minute)) {
			t.Fatalf("failure 5: locked until %v, %v; want a minute from now", until, err)
		}
		got, _ := db.UserByID(ctx, u.ID)
		if got.FailedLogins != 5 || !got.LockedAt(clk.Now()) || got.LockedAt(clk.Now().Add(time.Minute)) {
			t.Fatalf("after 5 failures: %d failures, locked until %v", got.FailedLogins, got.LockedUntil)
		}
		until, _ = db.RecordLoginFailure(ctx, u.ID, auth.LockoutDelay)
		if !until.Equal(clk.Now().Add(2 * time.Minute)) {
			t.Fatalf("failure 6: locked until %v, want two minutes from now", until)
		}
		if err := db.RecordLoginSuccess(ctx, u.ID); err != nil {
			t.Fatal(err)
		}
		got, _ = db.UserByID(ctx, u.ID)
		if got.FailedLogins != 0 || !got.LockedUntil.IsZero() {
			t.Fatalf("after success: %d failures, locked until %v", got.FailedLogins, got.LockedUntil)
		}
	})
}

func TestSessions(t *testing.T) {
	eachWithClock(t, func(t *testing.T, db *storage.DB, clk *clock) {
		ctx := context.Background()
		u := mustUser(t, db, storage.NewUser{Email: "a@example.az", Name: "A", OrgCode: "TAIM", Roles: []access.Role{access.Analyst}})
		tok := auth.NewSessionToken()
		s, err := db.CreateSession(ctx, storage.NewSession{UserID: u.ID, TokenHash: auth.HashToken(tok), CSRFToken: "c1",
			IP: "10.0.0.1", UserAgent: "test"})
		if err != nil || s.MFADone || !s.ExpiresAt.Equal(clk.Now().Add(storage.PendingTimeout)) {
			t.Fatalf("CreateSession = %+v, %v", s, err)
		}
		got, err := db.SessionByTokenHash(ctx, auth.HashToken(tok))
		if err != nil || got.ID != s.ID || got.UserID != u.ID || got.CSRFToken != "c1" || got.IP != "10.0.0.1" {
			t.Fatalf("SessionByTokenHash = %+v, %v", got, err)
		}

		// Promotion gives a new token; the old one is worthless.
		tok2 := auth.NewSessionToken()
		s2, err := db.MarkSessionMFA(ctx, s.ID, auth.HashToken(tok2), "c2")
		if err != nil || !s2.MFADone || s2.CSRFToken != "c2" || !s2.ExpiresAt.Equal(clk.Now().Add(storage.AbsoluteTimeout)) {
			t.Fatalf("MarkSessionMFA = %+v, %v", s2, err)
		}
		if _, err := db.SessionByTokenHash(ctx, auth.HashToken(tok)); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("old token after promotion: %v", err)
		}

		// Sliding idle expiry: used every 20 minutes it lives on…
		for range 5 {
			clk.Add(20 * time.Minute)
			if _, err := db.SessionByTokenHash(ctx, auth.HashToken(tok2)); err != nil {
				t.Fatalf("at %v: %v", clk.Now(), err)
			}
		}
		// …but idle for 30 minutes it ends.
		clk.Add(storage.IdleTimeout)
		if _, err := db.SessionByTokenHash(ctx, auth.HashToken(tok2)); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("after idling: %v", err)
		}

		// The absolute end holds however busy the session is.
		tok3 := auth.NewSessionToken()
		if _, err := db.CreateSession(ctx, storage.NewSession{UserID: u.ID, TokenHash: auth.HashToken(tok3), CSRFToken: "c3", MFADone: true}); err != nil {
			t.Fatal(err)
		}
		for clk.Add(25 * time.Minute); ; clk.Add(25 * time.Minute) {
			_, err := db.SessionByTokenHash(ctx, auth.HashToken(tok3))
			if err != nil {
				break
			}
		}
		if _, err := db.SessionByTokenHash(ctx, auth.HashToken(tok3)); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("after 12 h: %v", err)
		}

		// Sign-out everywhere.
		for range 3 {
			if _, err := db.CreateSession(ctx, storage.NewSession{UserID: u.ID, TokenHash: auth.HashToken(auth.NewSessionToken()), CSRFToken: "x", MFADone: true}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := db.DeleteUserSessions(ctx, u.ID); err != nil || n != 3 {
			t.Fatalf("DeleteUserSessions = %d, %v; want 3", n, err)
		}
	})
}

func TestTOTPAndRecoveryCodes(t *testing.T) {
	eachWithClock(t, func(t *testing.T, db *storage.DB, _ *clock) {
		ctx := context.Background()
		u := mustUser(t, db, storage.NewUser{Email: "a@example.az", Name: "A", OrgCode: "BSTI", Roles: []access.Role{access.CitySpecialist}})
		if err := db.SetTOTPSecret(ctx, u.ID, "JBSWY3DPEHPK3PXP"); err != nil {
			t.Fatal(err)
		}
		codes := auth.NewRecoveryCodes()
		var hashes []string
		for _, c := range codes {
			hashes = append(hashes, auth.HashRecoveryCode(c))
		}
		if err := db.EnableTOTP(ctx, audit.System(), u.ID, 100, hashes); err != nil {
			t.Fatal(err)
		}
		got, _ := db.UserByID(ctx, u.ID)
		if !got.TOTPEnabled || got.TOTPSecret != "JBSWY3DPEHPK3PXP" {
			t.Fatalf("after EnableTOTP: %+v", got)
		}
		if err := db.SetTOTPSecret(ctx, u.ID, "OTHER"); apperr.CodeOf(err) != apperr.Conflict {
			t.Fatalf("SetTOTPSecret when enabled: %v", err)
		}
		for _, tc := range []struct {
			step int64
			ok   bool
		}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}} {
			if ok, err := db.UseTOTPStep(ctx, u.ID, tc.step); err != nil || ok != tc.ok {
				t.Errorf("UseTOTPStep(%d) = %v, %v; want %v", tc.step, ok, err, tc.ok)
			}
		}
		if ok, err := db.UseRecoveryCode(ctx, u.ID, hashes[3]); !ok || err != nil {
			t.Fatalf("first use of a recovery code = %v, %v", ok, err)
		}
		if ok, _ := db.UseRecoveryCode(ctx, u.ID, hashes[3]); ok {
			t.Fatal("a recovery code worked twice")
		}
		if ok, _ := db.UseRecoveryCode(ctx, u.ID, auth.HashRecoveryCode("zzzz-zzzz")); ok {
			t.Fatal("an unknown recovery code worked")
		}
		if n, err := db.RecoveryCodesLeft(ctx, u.ID); err != nil || n != 9 {
			t.Fatalf("RecoveryCodesLeft = %d, %v", n, err)
		}
	})
}

func TestAPITokens(t *testing.T) {
	eachWithClock(t, func(t *testing.T, db *storage.DB, clk *clock) {
		ctx := context.Background()
		u := mustUser(t, db, storage.NewUser{Email: "a@example.az", Name: "A", OrgCode: "TAIM", Roles: []access.Role{access.Analyst}})
		other := mustUser(t, db, storage.NewUser{Email: "b@example.az", Name: "B", OrgCode: "TAIM", Roles: []access.Role{access.Analyst}})
		tok := auth.NewAPIToken()
		created, err := db.CreateAPIToken(ctx, audit.System(), storage.NewAPIToken{UserID: u.ID, Name: "script",
			Scopes: []access.Scope{access.ScopeWrite}, ExpiresAt: clk.Now().Add(720 * time.Hour), TokenHash: auth.HashToken(tok)})
		if err != nil || !slices.Equal(created.Scopes, []access.Scope{access.ScopeRead, access.ScopeWrite}) {
			t.Fatalf("CreateAPIToken = %+v, %v", created, err)
		}
		got, err := db.APITokenByHash(ctx, auth.HashToken(tok))
		if err != nil || got.ID != created.ID || got.UserID != u.ID || !got.LastUsedAt.Equal(clk.Now()) {
			t.Fatalf("APITokenByHash = %+v, %v", got, err)
		}
		clk.Add(30 * time.Second)
		got, _ = db.APITokenByHash(ctx, auth.HashToken(tok))
		if got.LastUsedAt.Equal(clk.Now()) {
			t.Error("last_used_at written again within a minute")
		}
		if _, err := db.APITokenByHash(ctx, auth.HashToken(auth.NewAPIToken())); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("unknown token: %v", err)
		}
		if err := db.RevokeAPIToken(ctx, audit.System(), other.ID, created.ID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("another user revoked the token: %v", err)
		}
		if err := db.RevokeAPIToken(ctx, audit.System(), u.ID, created.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := db.APITokenByHash(ctx, auth.HashToken(tok)); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("revoked token: %v", err)
		}

		short := auth.NewAPIToken()
		if _, err := db.CreateAPIToken(ctx, audit.System(), storage.NewAPIToken{UserID: u.ID, Name: "short",
			Scopes: []access.Scope{access.ScopeRead}, ExpiresAt: clk.Now().Add(time.Hour), TokenHash: auth.HashToken(short)}); err != nil {
			t.Fatal(err)
		}
		clk.Add(time.Hour)
		if _, err := db.APITokenByHash(ctx, auth.HashToken(short)); apperr.CodeOf(err) != apperr.Unauthorized {
			t.Fatalf("expired token: %v", err)
		}
		ts, err := db.ListAPITokens(ctx, u.ID)
		if err != nil || len(ts) != 2 || ts[0].Name != "short" || ts[1].RevokedAt.IsZero() {
			t.Fatalf("ListAPITokens = %+v, %v", ts, err)
		}
		for _, bad := range []storage.NewAPIToken{
			{UserID: u.ID, Name: "", Scopes: []access.Scope{access.ScopeRead}, ExpiresAt: clk.Now().Add(time.Hour)},
			{UserID: u.ID, Name: "x", Scopes: []access.Scope{"admin"}, ExpiresAt: clk.Now().Add(time.Hour)},
			{UserID: u.ID, Name: "x", Scopes: []access.Scope{access.ScopeRead}, ExpiresAt: clk.Now().Add(-time.Hour)},
			{UserID: u.ID, Name: "x", Scopes: []access.Scope{access.ScopeRead}, ExpiresAt: clk.Now().Add(400 * 24 * time.Hour)},
		} {
			bad.TokenHash = auth.HashToken(auth.NewAPIToken())
			if _, err := db.CreateAPIToken(ctx, audit.System(), bad); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("CreateAPIToken(%+v) = %v, want invalid", bad, err)
			}
		}
	})
}
