package auth

import (
	"strings"
	"testing"
	"time"

	"dayaq/internal/apperr"
)

// fast are cheap parameters for tests that hash many times.
var fast = Params{Memory: 1024, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

func TestHashAndCheckPassword(t *testing.T) {
	h, err := HashPassword("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=1,p=2$") {
		t.Fatalf("hash %q is not a PHC string with the default parameters", h)
	}
	h2, _ := HashPassword("correct horse battery staple")
	if h == h2 {
		t.Fatal("two hashes of one password are equal: no salt")
	}
	for _, tc := range []struct {
		password string
		want     bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{"", false},
	} {
		got, err := CheckPassword(h, tc.password)
		if err != nil || got != tc.want {
			t.Errorf("CheckPassword(%q) = %v, %v; want %v", tc.password, got, err, tc.want)
		}
	}
	if NeedsRehash(h) {
		t.Error("NeedsRehash of a default hash = true")
	}
}

func TestCheckPasswordMalformed(t *testing.T) {
	good, _ := HashPasswordWith(fast, "x")
	for _, phc := range []string{
		"",
		"plain",
		"$argon2i$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
		"$argon2id$v=18$m=1024,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
		"$argon2id$v=19$m=1024,t=1,p=1$$aGFzaA",
		"$argon2id$v=19$m=1024,t=1,p=1$c2FsdHNhbHQ$",
		"$argon2id$v=19$m=1024,t=1,p=1$!!!$aGFzaA",
		good + "$extra",
	} {
		ok, err := CheckPassword(phc, "x")
		if ok || err == nil {
			t.Errorf("CheckPassword(%q) = %v, %v; want false and an error", phc, ok, err)
		}
		if !NeedsRehash(phc) {
			t.Errorf("NeedsRehash(%q) = false for a malformed hash", phc)
		}
	}
	if ok, err := CheckPassword(good, "x"); !ok || err != nil {
		t.Fatalf("CheckPassword(fast hash) = %v, %v", ok, err)
	}
	if !NeedsRehash(good) {
		t.Error("NeedsRehash of a hash with other parameters = false")
	}
}

func TestValidatePassword(t *testing.T) {
	for _, tc := range []struct {
		password, email string
		key             string // "" when valid
	}{
		{"short", "a@b.az", "account.error.password_short"},
		{"elevenchars", "a@b.az", "account.error.password_short"},
		{"twelve chars", "a@b.az", ""},
		{"şəhər-ağacı-ç", "a@b.az", ""}, // 13 characters, more bytes
		{"şəhərağacıç", "a@b.az", "account.error.password_short"},
		{"Long.Person@Example.az", "long.person@example.az", "account.error.password_is_email"},
		{strings.Repeat("x", MaxPasswordLen+1), "a@b.az", "error.too_long"},
	} {
		err := ValidatePassword(tc.password, tc.email)
		got := ""
		if err != nil {
			e := apperr.As(err)
			if e.Code != apperr.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "password" {
				t.Errorf("ValidatePassword(%q) = %v, want a validation error on password", tc.password, err)
				continue
			}
			got = e.Fields[0].Key
		}
		if got != tc.key {
			t.Errorf("ValidatePassword(%q, %q) = %q, want %q", tc.password, tc.email, got, tc.key)
		}
	}
}

func TestNewPassword(t *testing.T) {
	p := NewPassword()
	if len(p) != 23 || ValidatePassword(p, "") != nil || p == NewPassword() {
		t.Fatalf("NewPassword() = %q", p)
	}
}

func TestTokens(t *testing.T) {
	a, b := NewAPIToken(), NewAPIToken()
	if a == b || !strings.HasPrefix(a, "dyq_") || len(a) != 56 || !IsAPIToken(a) {
		t.Fatalf("NewAPIToken() = %q, %q", a, b)
	}
	for _, s := range []string{"", "dyq_", "dyq_abc", "xyz_" + a[4:], a + "a", "dyq_" + strings.Repeat("1", 52)} {
		if IsAPIToken(s) {
			t.Errorf("IsAPIToken(%q) = true", s)
		}
	}
	s := NewSessionToken()
	if len(s) != 43 || s == NewSessionToken() {
		t.Fatalf("NewSessionToken() = %q", s)
	}
	h := HashToken(a)
	if len(h) != 64 || h == HashToken(b) || h != HashToken(a) {
		t.Fatalf("HashToken = %q", h)
	}
}

func TestLockoutDelay(t *testing.T) {
	for failures, want := range map[int]time.Duration{
		0: 0, 1: 0, 2: 0, 3: 0, 4: 0,
		5: time.Minute, 6: 2 * time.Minute, 7: 4 * time.Minute, 8: 8 * time.Minute,
		9: 16 * time.Minute, 10: 32 * time.Minute, 11: time.Hour, 12: time.Hour, 1000: time.Hour,
	} {
		if got := LockoutDelay(failures); got != want {
			t.Errorf("LockoutDelay(%d) = %v, want %v", failures, got, want)
		}
	}
}

func TestTOTP(t *testing.T) {
	// RFC 6238's SHA-1 test secret ("12345678901234567890") and vectors,
	// cut to six digits.
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	vectors := map[int64]string{59: "287082", 1111111109: "081804", 1111111111: "050471", 1234567890: "005924", 2000000000: "279037"}
	for unix, want := range vectors {
		got, err := TOTPCode(secret, time.Unix(unix, 0))
		if err != nil || got != want {
			t.Errorf("TOTPCode(%d) = %q, %v; want %q", unix, got, err, want)
		}
	}
	now := time.Unix(1234567890, 0)
	for _, tc := range []struct {
		name string
		at   time.Time // when the code was made
		code string    // "" to use the code made at at
		ok   bool
		step int64
	}{
		{"now", now, "", true, TOTPStep(now)},
		{"with a space", now, "005 924", true, TOTPStep(now)},
		{"previous period", now.Add(-30 * time.Second), "", true, TOTPStep(now) - 1},
		{"next period", now.Add(30 * time.Second), "", true, TOTPStep(now) + 1},
		{"two periods ago", now.Add(-60 * time.Second), "", false, 0},
		{"two periods ahead", now.Add(60 * time.Second), "", false, 0},
		{"wrong", now, "123456", false, 0},
		{"too short", now, "00592", false, 0},
		{"letters", now, "abcdef", false, 0},
		{"empty", now, "", false, 0},
	} {
		code := tc.code
		if code == "" && tc.name != "empty" {
			code, _ = TOTPCode(secret, tc.at)
		}
		step, ok := ValidateTOTP(secret, code, now)
		if ok != tc.ok || step != tc.step {
			t.Errorf("%s: ValidateTOTP(%q) = %d, %v; want %d, %v", tc.name, code, step, ok, tc.step, tc.ok)
		}
	}
}

func TestTOTPKeyAndQRCode(t *testing.T) {
	s := NewTOTPSecret()
	if len(s) != 32 || s == NewTOTPSecret() {
		t.Fatalf("NewTOTPSecret() = %q", s)
	}
	u := TOTPURL(s, "teacher@demo.dayaq.az")
	if !strings.HasPrefix(u, "otpauth://totp/Dayaq:teacher@demo.dayaq.az?") || !strings.Contains(u, "secret="+s) ||
		!strings.Contains(u, "issuer=Dayaq") {
		t.Fatalf("TOTPURL = %q", u)
	}
	img, err := TOTPQRCode(u, 200)
	if err != nil || !strings.HasPrefix(img, "data:image/png;base64,iVBOR") {
		t.Fatalf("TOTPQRCode = %.40q…, %v", img, err)
	}
	if got := FormatTOTPSecret("ABCDEFGHIJ"); got != "ABCD EFGH IJ" {
		t.Errorf("FormatTOTPSecret = %q", got)
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes := NewRecoveryCodes()
	if len(codes) != 10 {
		t.Fatalf("got %d codes", len(codes))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if len(c) != 9 || c[4] != '-' || NormalizeRecoveryCode(c) != c || seen[c] {
			t.Errorf("bad or repeated code %q", c)
		}
		seen[c] = true
	}
	for in, want := range map[string]string{
		"abcd-efgh":     "abcd-efgh",
		" ABCD EFGH ":   "abcd-efgh",
		"abcdefgh":      "abcd-efgh",
		"abcd-efg":      "",
		"abcd-efgh-j":   "",
		"abc0-efgh":     "", // 0 is not in the alphabet
		"123456":        "",
		"":              "",
		"abcd-efgh\x00": "",
	} {
		if got := NormalizeRecoveryCode(in); got != want {
			t.Errorf("NormalizeRecoveryCode(%q) = %q, want %q", in, got, want)
		}
	}
	if HashRecoveryCode("abcd-efgh") == HashRecoveryCode("abcd-efgj") || len(HashRecoveryCode("abcd-efgh")) != 64 {
		t.Error("HashRecoveryCode does not tell codes apart")
	}
}

func BenchmarkHashPassword(b *testing.B) {
	for b.Loop() {
		_, _ = HashPassword("correct horse battery staple")
	}
}
