package server_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/authn"
	"dayaq/internal/i18n"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// Sign-in through the real forms and middleware: lockout with back-off,
// TOTP enrolment and sign-in, recovery codes, replayed codes, CSRF, session
// fixation, signing out everywhere, API tokens.

var cat = i18n.MustLoad()

func en(key string, args ...any) string { return cat.T(i18n.EN, key, args...) }

// browser is one browser: it keeps the session cookie the server gives it.
type browser struct {
	h      http.Handler
	cookie string // the session token, "" for none
}

func (b *browser) do(method, target string, fields ...string) response {
	header := []string{"Accept-Language", "en"}
	if b.cookie != "" {
		header = append(header, "Cookie", authn.CookieName+"="+b.cookie)
	}
	var body io.Reader
	if method != http.MethodGet {
		var fh []string
		body, fh = form(fields...)
		header = append(header, fh...)
	}
	r := serve(b.h, method, target, body, header...)
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == authn.CookieName {
			if c.MaxAge < 0 {
				b.cookie = ""
			} else {
				b.cookie = c.Value
			}
		}
	}
	return r
}

// formToken opens target and returns the form token its forms carry.
func (b *browser) formToken(t *testing.T, target string) string {
	t.Helper()
	r := b.do(http.MethodGet, target)
	m := csrfRE.FindStringSubmatch(r.Body)
	if r.Status != http.StatusOK || m == nil || m[1] == "" {
		t.Fatalf("GET %s: %d, no form token in %.300s", target, r.Status, r.Body)
	}
	return m[1]
}

// signedInAs reports whether the browser's session is fully signed in.
func (b *browser) signedIn() bool {
	return b.do(http.MethodGet, "/children").Status == http.StatusOK
}

// cookieWorks reports whether a stolen copy of token still opens a page
// that needs a signed-in user.
func cookieWorks(h http.Handler, token string) bool {
	b := &browser{h: h, cookie: token}
	return b.signedIn()
}

func wantStatus(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d; Location %q; body %.400s", what, r.Status, status, r.Location, r.Body)
	}
}

// actions lists the audit actions in es, with the reason in details when
// there is one.
func actions(es []audit.Event) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Action)
	}
	return out
}

func TestSignInLockoutWithBackOff(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			b := &browser{h: w.h}
			email := w.users["analyst"].Email // no second factor: the password alone signs in
			start := w.lastSeq(t)

			r := b.do(http.MethodPost, "/signin", "email", "nobody@test.dayaq.az", "password", testPassword)
			wantStatus(t, "unknown email", r, http.StatusUnauthorized)
			if !strings.Contains(r.text(), en("signin.error.wrong")) {
				t.Errorf("unknown email: the page does not say %q", en("signin.error.wrong"))
			}
			for i := 1; i <= auth.LockoutFree; i++ {
				r = b.do(http.MethodPost, "/signin", "email", email, "password", "wrong-"+testPassword)
				wantStatus(t, "wrong password", r, http.StatusUnauthorized)
				if !strings.Contains(r.text(), en("signin.error.wrong")) {
					t.Errorf("wrong password %d: the page does not say %q", i, en("signin.error.wrong"))
				}
				if !strings.Contains(r.text(), `value="`+email+`"`) {
					t.Errorf("wrong password %d: the form lost the email typed", i)
				}
			}
			if b.cookie != "" {
				t.Fatal("a refused sign-in set a session cookie")
			}
			lockedText := func(d time.Duration) string {
				return en("signin.error.locked", w.clock.Now().Add(d).In(authn.Baku).Format("15:04"))
			}
			// The fifth failure in a row locks the account for a minute.
			r = b.do(http.MethodPost, "/signin", "email", email, "password", "wrong-"+testPassword)
			wantStatus(t, "fifth wrong password", r, http.StatusUnauthorized)
			if want := lockedText(time.Minute); !strings.Contains(r.text(), want) {
				t.Errorf("fifth wrong password: want %q on the page", want)
			}
			// Locked, even the right password is refused.
			r = b.do(http.MethodPost, "/signin", "email", email, "password", testPassword)
			wantStatus(t, "right password while locked", r, http.StatusUnauthorized)
			if b.cookie != "" || !strings.Contains(r.text(), "Too many attempts") {
				t.Errorf("right password while locked: cookie %q, body lacks the lock", b.cookie)
			}
			// After the minute, one more failure locks for two (back-off).
			w.clock.Add(time.Minute + time.Second)
			r = b.do(http.MethodPost, "/signin", "email", email, "password", "wrong-"+testPassword)
			if want := lockedText(2 * time.Minute); r.Status != http.StatusUnauthorized || !strings.Contains(r.text(), want) {
				t.Errorf("sixth wrong password: %d, want the lock until %q", r.Status, want)
			}
			w.clock.Add(time.Minute)
			if r = b.do(http.MethodPost, "/signin", "email", email, "password", testPassword); r.Status != http.StatusUnauthorized {
				t.Errorf("right password one minute into a two-minute lock: %d, want 401", r.Status)
			}
			w.clock.Add(time.Minute + time.Second)
			r = b.do(http.MethodPost, "/signin", "email", email, "password", testPassword)
			wantStatus(t, "right password after the lock", r, http.StatusSeeOther)
			if r.Location != "/" || b.cookie == "" || !b.signedIn() {
				t.Fatalf("after the lock: to %q, cookie %q; want signed in", r.Location, b.cookie)
			}
			// Success clears the count: one wrong password is just wrong again.
			other := &browser{h: w.h}
			r = other.do(http.MethodPost, "/signin", "email", email, "password", "wrong-"+testPassword)
			if !strings.Contains(r.text(), en("signin.error.wrong")) {
				t.Errorf("a wrong password after success: %d, want the plain refusal", r.Status)
			}

			got := actions(w.events(t, start))
			if n := strings.Count(strings.Join(got, " "), "auth.locked"); n != 2 {
				t.Errorf("audit has %d auth.locked events, want 2: %q", n, got)
			}
			if n := strings.Count(strings.Join(got, " "), "auth.signin_failed"); n != 10 {
				t.Errorf("audit has %d auth.signin_failed events, want 10: %q", n, got)
			}
			if !slices.Contains(got, "auth.signin") {
				t.Errorf("audit lacks auth.signin: %q", got)
			}
			w.verifyAudit(t)
		})
	}
}

var (
	secretRE = regexp.MustCompile(`id="totp-secret">([A-Z2-7 ]+)<`)
	codesRE  = regexp.MustCompile(`<li>([0-9a-z]{4}-[0-9a-z]{4})</li>`)
)

// TestTOTPEnrolAndSignIn follows a school head, whose role sees children's
// data, from the first sign-in (which must set up an authenticator app)
// through sign-ins with a TOTP code and a recovery code; every code works
// once, and the session token changes at each step.
func TestTOTPEnrolAndSignIn(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			ctx := context.Background()
			head := w.users["head_a"]
			b := &browser{h: w.h}

			r := b.do(http.MethodPost, "/signin", "email", head.Email, "password", testPassword, "next", "/children")
			wantStatus(t, "password", r, http.StatusSeeOther)
			if r.Location != "/account/totp?next=%2Fchildren" {
				t.Fatalf("after the password: to %q, want the authenticator set-up", r.Location)
			}
			pending := b.cookie
			if pending == "" {
				t.Fatal("no pending session cookie")
			}
			// The password alone opens nothing.
			if b.signedIn() {
				t.Fatal("a session that owes its second factor opened /children")
			}
			if r := serve(w.h, http.MethodGet, "/api/v1/children", nil, "Cookie", authn.CookieName+"="+pending); r.Status != http.StatusUnauthorized {
				t.Errorf("pending session on the API: %d, want 401", r.Status)
			}

			r = b.do(http.MethodGet, "/account/totp?next=%2Fchildren")
			wantStatus(t, "enrolment page", r, http.StatusOK)
			if !strings.Contains(r.Body, `<img class="qr" src="data:image/png;base64,`) {
				t.Error("the enrolment page shows no QR code")
			}
			m := secretRE.FindStringSubmatch(r.Body)
			if m == nil {
				t.Fatalf("no secret on the enrolment page")
			}
			secret := strings.ReplaceAll(m[1], " ", "")
			csrf := csrfRE.FindStringSubmatch(r.Body)[1]

			// No form token, a wrong one: refused, nothing enrolled.
			code, _ := auth.TOTPCode(secret, w.clock.Now())
			for _, tok := range []string{"", "forged-" + csrf} {
				r = b.do(http.MethodPost, "/account/totp", "csrf", tok, "code", code)
				wantStatus(t, "enrol without the form token", r, http.StatusForbidden)
			}
			if u, _ := w.db.UserByID(ctx, head.ID); u.TOTPEnabled {
				t.Fatal("a refused form turned TOTP on")
			}
			r = b.do(http.MethodPost, "/account/totp", "csrf", csrf, "code", "000000", "next", "/children")
			wantStatus(t, "enrol with a wrong code", r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.text(), en("totp.error.wrong")) || !strings.Contains(r.Body, `aria-invalid="true"`) {
				t.Error("a wrong code is not reported beside the field")
			}
			r = b.do(http.MethodPost, "/account/totp", "csrf", csrf, "code", code, "next", "/children")
			wantStatus(t, "enrol", r, http.StatusOK)
			var recovery []string
			for _, m := range codesRE.FindAllStringSubmatch(r.Body, -1) {
				recovery = append(recovery, m[1])
			}
			if len(recovery) != 10 {
				t.Fatalf("%d recovery codes shown, want 10", len(recovery))
			}
			if b.cookie == "" || b.cookie == pending {
				t.Fatal("the session token did not change when the second factor was done")
			}
			if cookieWorks(w.h, pending) {
				t.Fatal("the pre-authentication token still works after promotion")
			}
			if !b.signedIn() {
				t.Fatal("not signed in after enrolment")
			}
			signOut := func() {
				t.Helper()
				tok := b.formToken(t, "/account")
				if r := b.do(http.MethodPost, "/signout", "csrf", tok); r.Status != http.StatusSeeOther || b.cookie != "" {
					t.Fatalf("sign out: %d, cookie %q", r.Status, b.cookie)
				}
			}
			full := b.cookie
			signOut()
			if cookieWorks(w.h, full) {
				t.Fatal("a signed-out token still works")
			}

			// Sign in with the password and a code: the code used to enrol
			// is spent, so it is refused (a replay).
			secondStep := func(code string) response {
				t.Helper()
				r := b.do(http.MethodPost, "/signin", "email", head.Email, "password", testPassword)
				if r.Status != http.StatusSeeOther || r.Location != "/signin/totp" {
					t.Fatalf("password: %d to %q, want /signin/totp", r.Status, r.Location)
				}
				pending = b.cookie
				tok := b.formToken(t, "/signin/totp")
				return b.do(http.MethodPost, "/signin/totp", "csrf", tok, "code", code)
			}
			r = secondStep(code)
			wantStatus(t, "the enrolment code again", r, http.StatusUnprocessableEntity)
			if !strings.Contains(r.text(), en("totp.error.wrong")) {
				t.Error("a replayed code is not refused with a message")
			}
			w.clock.Add(auth.TOTPPeriod * time.Second)
			code, _ = auth.TOTPCode(secret, w.clock.Now())
			tok := b.formToken(t, "/signin/totp")
			r = b.do(http.MethodPost, "/signin/totp", "csrf", tok, "code", code)
			wantStatus(t, "a fresh code", r, http.StatusSeeOther)
			if r.Location != "/" || b.cookie == pending || cookieWorks(w.h, pending) || !b.signedIn() {
				t.Fatalf("after the code: to %q; the token must change and the old one die", r.Location)
			}
			signOut()
			if r = secondStep(code); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("the same code in a second sign-in: %d, want 422 (a code works once)", r.Status)
			}
			// Cancel the half-done sign-in (the second-factor page's button).
			if r := b.do(http.MethodPost, "/signout", "csrf", b.formToken(t, "/signin/totp")); r.Status != http.StatusSeeOther || b.cookie != "" {
				t.Fatalf("cancel: %d, cookie %q", r.Status, b.cookie)
			}
			if cookieWorks(w.h, pending) {
				t.Fatal("a cancelled pending session still works")
			}

			// A recovery code works once, in any case and spacing.
			r = secondStep(strings.ToUpper(recovery[3]))
			wantStatus(t, "a recovery code", r, http.StatusSeeOther)
			if !b.signedIn() {
				t.Fatal("not signed in with a recovery code")
			}
			if r := b.do(http.MethodGet, "/account"); !strings.Contains(r.text(), en("account.totp_on", 9)) {
				t.Errorf("the account page does not say 9 recovery codes are left")
			}
			signOut()
			if r = secondStep(recovery[3]); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("a used recovery code: %d, want 422", r.Status)
			}

			var factors []string
			for _, e := range w.events(t, 0) {
				if e.Action == "auth.signin" && e.ActorUserID == head.ID {
					factors = append(factors, e.Details)
				}
			}
			want := []string{`{"factors":"password,totp"}`, `{"factors":"password,totp"}`, `{"factors":"password,recovery_code"}`}
			if !slices.Equal(factors, want) {
				t.Errorf("sign-ins audited with %q, want %q", factors, want)
			}
			w.verifyAudit(t)
		})
	}
}

// TestTOTPWrongCodesLock: wrong second factors count like wrong passwords;
// the fifth locks the account and ends the half-signed-in session.
func TestTOTPWrongCodesLock(t *testing.T) {
	w := newWorld(t, storagetest.SQLiteDSN(t))
	ctx := context.Background()
	secret := auth.NewTOTPSecret()
	u, err := w.db.CreateUser(ctx, audit.System(), storage.NewUser{Email: "psy@test.dayaq.az", Name: "Psixoloq",
		OrgCode: "BAK-06-002", Roles: []access.Role{access.SchoolPsychologist}, PasswordHash: cheapHash, TOTPSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	b := &browser{h: w.h}
	if r := b.do(http.MethodPost, "/signin", "email", u.Email, "password", testPassword); r.Location != "/signin/totp" {
		t.Fatalf("password: to %q, want /signin/totp", r.Location)
	}
	pending := b.cookie
	tok := b.formToken(t, "/signin/totp")
	for i := 1; i < 5; i++ {
		if r := b.do(http.MethodPost, "/signin/totp", "csrf", tok, "code", "000000"); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("wrong code %d: %d, want 422", i, r.Status)
		}
	}
	r := b.do(http.MethodPost, "/signin/totp", "csrf", tok, "code", "000000")
	wantStatus(t, "fifth wrong code", r, http.StatusUnauthorized)
	if !strings.Contains(r.text(), "Too many attempts") || b.cookie != "" {
		t.Errorf("fifth wrong code: the lock is not shown or the cookie kept (%q)", b.cookie)
	}
	code, _ := auth.TOTPCode(secret, w.clock.Now())
	again := &browser{h: w.h, cookie: pending}
	if r := again.do(http.MethodPost, "/signin/totp", "csrf", tok, "code", code); r.Status == http.StatusSeeOther {
		t.Fatal("the ended pending session still took a right code")
	}
	if r := b.do(http.MethodPost, "/signin", "email", u.Email, "password", testPassword); r.Status != http.StatusUnauthorized {
		t.Errorf("the password during the lock: %d, want 401", r.Status)
	}
}

// TestSessionFixation: the server never adopts a token the browser brings;
// every sign-in step issues a new one, and the one before is worthless.
func TestSessionFixation(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			// An attacker plants a token of their choosing.
			planted := auth.NewSessionToken()
			b := &browser{h: w.h, cookie: planted}
			r := b.do(http.MethodPost, "/signin", "email", w.users["analyst"].Email, "password", testPassword)
			wantStatus(t, "sign-in", r, http.StatusSeeOther)
			if b.cookie == "" || b.cookie == planted || cookieWorks(w.h, planted) {
				t.Fatal("the server adopted the planted token")
			}
			first := b.cookie
			// A signed-in browser signs in as someone else: the old session
			// ends with it.
			r = b.do(http.MethodPost, "/signin", "email", w.users["system_admin"].Email, "password", testPassword)
			wantStatus(t, "second sign-in", r, http.StatusSeeOther)
			if b.cookie == first || cookieWorks(w.h, first) {
				t.Fatal("signing in again kept the previous session alive")
			}
			if r := b.do(http.MethodGet, "/account"); !strings.Contains(r.Body, w.users["system_admin"].Email) {
				t.Error("the new session is not the second user's")
			}
			// A half-signed-in session (password only) is replaced when
			// the second factor is done: see TestTOTPEnrolAndSignIn. Here,
			// the pending token of one attempt is dead once another starts.
			secret := auth.NewTOTPSecret()
			u, err := w.db.CreateUser(context.Background(), audit.System(), storage.NewUser{Email: "head2@test.dayaq.az",
				Name: "Direktor", OrgCode: "BAK-06-002", Roles: []access.Role{access.SchoolHead}, PasswordHash: cheapHash, TOTPSecret: secret})
			if err != nil {
				t.Fatal(err)
			}
			b.do(http.MethodPost, "/signin", "email", u.Email, "password", testPassword)
			p1 := b.cookie
			b.do(http.MethodPost, "/signin", "email", u.Email, "password", testPassword)
			p2 := b.cookie
			tok := b.formToken(t, "/signin/totp")
			code, _ := auth.TOTPCode(secret, w.clock.Now())
			old := &browser{h: w.h, cookie: p1}
			if r := old.do(http.MethodPost, "/signin/totp", "csrf", tok, "code", code); r.Status == http.StatusSeeOther {
				t.Fatal("the first attempt's pending token was promoted")
			}
			if r := b.do(http.MethodPost, "/signin/totp", "csrf", tok, "code", code); r.Status != http.StatusSeeOther {
				t.Fatalf("second factor: %d", r.Status)
			}
			if b.cookie == p2 || cookieWorks(w.h, p2) || !b.signedIn() {
				t.Fatal("promotion kept the pending token")
			}
		})
	}
}

// TestCSRF: every state-changing form refuses a request without the
// session's form token or with another one, and changes nothing; the same
// request with the token succeeds. A session-signed API write needs the
// token too (in X-CSRF-Token); a bearer token needs none.
func TestCSRF(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			ctx := context.Background()
			admin, head := w.users["city_admin"], w.users["head_a"]
			bg, err := w.db.OpenBreakGlass(ctx, w.users["district_specialist"].Actor, w.kids["b1"].ID, "Təcili: uşağın həyatı təhlükədədir")
			if err != nil {
				t.Fatal(err)
			}
			tokens, _ := w.db.ListAPITokens(ctx, head.ID)
			count := func() int { n, _ := w.db.CountChildren(ctx); return n }
			version := func(k string) int { return storagetest.Child(t, w.db, w.kids[k].ID).Version }
			nTokens := func(id int64) int { ts, _ := w.db.ListAPITokens(ctx, id); return len(ts) }
			newChild := []string{"student_id", "STU-NEW-1", "last_name", "Yenizadə", "first_name", "Aysu", "sex", "f",
				"birth_date", "2016-02-01", "school_code", "BAK-06-001", "grade", "3", "section", "A"}
			edit := []string{"version", "1", "student_id", "STU-A1-7301", "last_name", "Abbaslızadə", "first_name", "Nuray",
				"sex", "f", "birth_date", "2014-03-08", "school_code", "BAK-06-001", "grade", "5", "section", "A"}
			for _, tt := range []struct {
				name      string
				who       member
				target    string
				fields    []string
				unchanged func() bool
				ok        int // the status with the right token
			}{
				{"sign out", head, "/signout", nil, func() bool { return cookieWorks(w.h, strings.TrimPrefix(head.Cookie, "dayaq_session=")) }, 0},
				{"sign out everywhere", head, "/account/signout-all", nil, func() bool { return cookieWorks(w.h, strings.TrimPrefix(head.Cookie, "dayaq_session=")) }, 0},
				{"create a token", head, "/account/tokens", []string{"name", "skript", "scopes", "read", "days", "30"}, func() bool { return nTokens(head.ID) == 1 }, http.StatusOK},
				{"revoke a token", head, "/account/tokens/" + itoa(tokens[0].ID) + "/revoke", nil, func() bool {
					ts, _ := w.db.ListAPITokens(ctx, head.ID)
					return ts[len(ts)-1].RevokedAt.IsZero()
				}, http.StatusSeeOther},
				{"add a child", head, "/children/new", newChild, func() bool { return count() == len(worldKids) }, http.StatusSeeOther},
				{"edit a child", head, "/children/" + itoa(w.kids["a1"].ID) + "/edit", edit, func() bool { return version("a1") == 1 }, http.StatusSeeOther},
				{"break-glass", w.users["police_supervisor"], "/children/" + itoa(w.kids["b1"].ID) + "/break-glass",
					[]string{"reason", "Polis çağırışı: uşaq itkin düşüb"}, func() bool {
						bgs, _ := w.db.BreakGlassOpenings(ctx, storage.BreakGlassFilter{})
						return len(bgs) == 1
					}, http.StatusSeeOther},
				{"review break-glass", admin, "/audit/break-glass/" + itoa(bg.ID) + "/review", []string{"note", "yoxlanıldı"}, func() bool {
					bgs, _ := w.db.BreakGlassOpenings(ctx, storage.BreakGlassFilter{UnreviewedOnly: true})
					return slices.ContainsFunc(bgs, func(b storage.BreakGlass) bool { return b.ID == bg.ID })
				}, http.StatusSeeOther},
			} {
				t.Run(tt.name, func(t *testing.T) {
					for _, bad := range []struct{ name, token string }{{"no token", ""}, {"wrong token", auth.NewCSRFToken()}, {"another session's token", admin.CSRF}} {
						if tt.who.CSRF == bad.token {
							continue
						}
						fields := tt.fields
						if bad.token != "" {
							fields = append([]string{"csrf", bad.token}, fields...)
						}
						body, fh := form(fields...)
						r := serve(w.h, http.MethodPost, tt.target, body, append(fh, "Cookie", tt.who.Cookie, "Accept-Language", "en")...)
						if r.Status != http.StatusForbidden || !strings.Contains(r.text(), en("error.csrf")) {
							t.Errorf("%s: %d, want 403 with %q", bad.name, r.Status, en("error.csrf"))
						}
						if !tt.unchanged() {
							t.Fatalf("%s: the refused request changed something", bad.name)
						}
					}
					// From another site, even with the right token: refused.
					body, fh := form(append([]string{"csrf", tt.who.CSRF}, tt.fields...)...)
					r := serve(w.h, http.MethodPost, tt.target, body, append(fh, "Cookie", tt.who.Cookie, "Sec-Fetch-Site", "cross-site")...)
					if r.Status != http.StatusForbidden || !tt.unchanged() {
						t.Errorf("cross-site with the token: %d, want 403 and nothing changed", r.Status)
					}
					if tt.ok == 0 {
						return // signing out is checked in the sign-in tests
					}
					if r := w.page(tt.who, http.MethodPost, tt.target, tt.fields...); r.Status != tt.ok || tt.unchanged() {
						t.Errorf("with the right token: %d, want %d and the change made; body %.300s", r.Status, tt.ok, r.Body)
					}
				})
			}

			// The API: a browser session must send its form token with a
			// write; a bearer token needs none.
			patch := `{"student_id":"STU-A2-7302","last_name":"Bağırzadə","first_name":"Nərmin","sex":"f","birth_date":"2014-03-08","school_code":"BAK-06-001","grade":7,"section":"B"}`
			target := "/api/v1/children/" + itoa(w.kids["a2"].ID)
			for _, hdr := range [][]string{{}, {"X-CSRF-Token", "forged"}} {
				r := serve(w.h, http.MethodPatch, target, strings.NewReader(patch), append(hdr, "Cookie", head.Cookie,
					"Content-Type", "application/json", "If-Match", `"1"`)...)
				if r.Status != http.StatusForbidden || version("a2") != 1 {
					t.Errorf("API PATCH with the session cookie and token %q: %d, want 403 and no change", hdr, r.Status)
				}
				problem(t, r)
			}
			r := serve(w.h, http.MethodPatch, target, strings.NewReader(patch), "Cookie", head.Cookie,
				"Content-Type", "application/json", "If-Match", `"1"`, "X-CSRF-Token", head.CSRF)
			if r.Status != http.StatusOK || version("a2") != 2 {
				t.Errorf("API PATCH with the session cookie and its token: %d %s", r.Status, r.Body)
			}
			if r := w.api(admin, http.MethodPatch, target, patch, "If-Match", `"2"`); r.Status != http.StatusOK {
				t.Errorf("API PATCH with a bearer token: %d %s", r.Status, r.Body)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestSignOutEverywhere: one browser ends every session of its user.
func TestSignOutEverywhere(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			email := w.users["analyst"].Email
			var bs []*browser
			for range 3 {
				b := &browser{h: w.h}
				if r := b.do(http.MethodPost, "/signin", "email", email, "password", testPassword); r.Status != http.StatusSeeOther {
					t.Fatalf("sign-in: %d", r.Status)
				}
				bs = append(bs, b)
			}
			other := w.users["system_admin"]
			start := w.lastSeq(t)
			tok := bs[0].formToken(t, "/account")
			r := bs[0].do(http.MethodPost, "/account/signout-all", "csrf", tok)
			if r.Status != http.StatusSeeOther || r.Location != "/signin" || bs[0].cookie != "" {
				t.Fatalf("sign out everywhere: %d to %q, cookie %q", r.Status, r.Location, bs[0].cookie)
			}
			for i, b := range bs {
				if b.signedIn() {
					t.Errorf("session %d still works", i)
				}
			}
			if r := w.page(other, http.MethodGet, "/account"); r.Status != http.StatusOK {
				t.Errorf("another user's session ended too: %d", r.Status)
			}
			es := w.events(t, start)
			if len(es) == 0 || es[0].Action != "auth.signout_all" || es[0].Details != `{"sessions":4}` {
				t.Errorf("audit: %+v, want auth.signout_all of 4 sessions (3 signed in, 1 made directly)", es)
			}
		})
	}
}

// TestAPITokens: a token made on the account page works on the API within
// its scope, and stops working when revoked or expired, with a 401 problem.
func TestAPITokens(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			ctx := context.Background()
			head := w.users["head_a"]
			makeToken := func(scopes, days string) (string, int64) {
				t.Helper()
				r := w.page(head, http.MethodPost, "/account/tokens", "name", "hesabat skripti", "scopes", scopes, "days", days)
				m := regexp.MustCompile(`id="new-token">(dyq_[^<]+)<`).FindStringSubmatch(r.Body)
				if r.Status != http.StatusOK || m == nil {
					t.Fatalf("create token: %d %.300s", r.Status, r.Body)
				}
				ts, _ := w.db.ListAPITokens(ctx, head.ID)
				return m[1], ts[0].ID
			}
			bearer := func(tok, method, target, body string, header ...string) response {
				var rd io.Reader
				if body != "" {
					rd = strings.NewReader(body)
					header = append(header, "Content-Type", "application/json")
				}
				return serve(w.h, method, target, rd, append(header, "Authorization", "Bearer "+tok, "Accept-Language", "en")...)
			}
			unauthorized := func(what string, r response) {
				t.Helper()
				if r.Status != http.StatusUnauthorized {
					t.Errorf("%s: %d, want 401", what, r.Status)
					return
				}
				p := problem(t, r)
				if p["detail"] != en("tokens.error.invalid") || p["status"] != float64(401) {
					t.Errorf("%s: problem %v", what, p)
				}
				if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("%s: no WWW-Authenticate: Bearer", what)
				}
				if strings.Contains(r.Body, "Bağırzadə") {
					t.Errorf("%s: a refused request shows a child", what)
				}
			}

			start := w.lastSeq(t)
			read, readID := makeToken("read", "30")
			if r := bearer(read, http.MethodGet, "/api/v1/me", ""); r.Status != http.StatusOK || !strings.Contains(r.Body, `"scopes":["read"]`) {
				t.Errorf("me with a read token: %d %s", r.Status, r.Body)
			}
			if r := bearer(read, http.MethodGet, "/api/v1/children/"+itoa(w.kids["a2"].ID), ""); r.Status != http.StatusOK {
				t.Errorf("read a child with a read token: %d", r.Status)
			}
			patch := `{"student_id":"STU-A2-7302","last_name":"Bağırzadə","first_name":"Nərmin","sex":"f","birth_date":"2014-03-08","school_code":"BAK-06-001","grade":8,"section":"B"}`
			r := bearer(read, http.MethodPatch, "/api/v1/children/"+itoa(w.kids["a2"].ID), patch, "If-Match", `"1"`)
			if r.Status != http.StatusForbidden || problem(t, r)["detail"] != en("tokens.error.read_only") {
				t.Errorf("write with a read token: %d %s, want 403 naming the scope", r.Status, r.Body)
			}
			if c := storagetest.Child(t, w.db, w.kids["a2"].ID); c.Grade != 7 {
				t.Error("a read-only token changed a child")
			}
			rw, _ := makeToken("read,write", "7")
			if r := bearer(rw, http.MethodPatch, "/api/v1/children/"+itoa(w.kids["a2"].ID), patch, "If-Match", `"1"`); r.Status != http.StatusOK {
				t.Errorf("write with a read,write token: %d %s", r.Status, r.Body)
			}

			// Revoked: 401 at once, whatever the request.
			if r := w.page(head, http.MethodPost, "/account/tokens/"+itoa(readID)+"/revoke"); r.Status != http.StatusSeeOther {
				t.Fatalf("revoke: %d", r.Status)
			}
			for _, target := range []string{"/api/v1/me", "/api/v1/children", "/api/v1/children/" + itoa(w.kids["a2"].ID), "/api/v1/organisations"} {
				unauthorized("revoked token on "+target, bearer(read, http.MethodGet, target, ""))
			}
			if r := w.page(head, http.MethodGet, "/account/tokens"); !strings.Contains(r.text(), en("tokens.status.revoked")) {
				t.Error("the tokens page does not show the revoked token as revoked")
			}
			// Another user cannot revoke it.
			if r := w.page(w.users["head_b"], http.MethodPost, "/account/tokens/"+itoa(readID)+"/revoke"); r.Status != http.StatusNotFound {
				t.Errorf("revoking another user's token: %d, want 404", r.Status)
			}
			// Expired: the seven-day token dies after seven days.
			w.clock.Add(7*24*time.Hour + time.Second)
			unauthorized("expired token", bearer(rw, http.MethodGet, "/api/v1/me", ""))
			// Not a token at all, or another scheme.
			unauthorized("unknown token", bearer(auth.NewAPIToken(), http.MethodGet, "/api/v1/me", ""))
			unauthorized("not a token", bearer("hello", http.MethodGet, "/api/v1/me", ""))
			if r := serve(w.h, http.MethodGet, "/api/v1/me", nil, "Authorization", "Basic aGVhZDpwdw=="); r.Status != http.StatusUnauthorized {
				t.Errorf("Basic auth: %d, want 401", r.Status)
			}
			// A disabled user's token stops too.
			if err := w.db.SetUserDisabled(ctx, audit.System(), w.users["head_b"].ID, true); err != nil {
				t.Fatal(err)
			}
			unauthorized("a disabled user's token", w.api(w.users["head_b"], http.MethodGet, "/api/v1/me", ""))

			var got []string
			for _, e := range w.events(t, start) {
				if strings.HasPrefix(e.Action, "token.") && e.ActorUserID == head.ID {
					got = append(got, e.Action)
				}
			}
			if !slices.Equal(got, []string{"token.create", "token.create", "token.revoke"}) {
				t.Errorf("token audit: %q", got)
			}
		})
	}
}

// TestSessionCookieFlags: the session cookie is HttpOnly, SameSite=Lax, for
// the whole site, Secure behind a TLS terminator, and a session (browser
// lifetime) cookie; it never carries the token the database keeps.
func TestSessionCookieFlags(t *testing.T) {
	w := newWorld(t, storagetest.SQLiteDSN(t))
	for _, https := range []bool{false, true} {
		header := []string{"Accept-Language", "en"}
		if https {
			header = append(header, "X-Forwarded-Proto", "https")
		}
		body, fh := form("email", w.users["analyst"].Email, "password", testPassword)
		r := serve(w.h, http.MethodPost, "/signin", body, append(header, fh...)...)
		var c *http.Cookie
		for _, x := range (&http.Response{Header: r.Header}).Cookies() {
			if x.Name == authn.CookieName {
				c = x
			}
		}
		if r.Status != http.StatusSeeOther || c == nil {
			t.Fatalf("https=%v: %d, cookie %v", https, r.Status, c)
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure != https || c.MaxAge != 0 || !c.Expires.IsZero() {
			t.Errorf("https=%v: cookie %+v, want HttpOnly, SameSite=Lax, Path=/, Secure=%v, no expiry", https, c, https)
		}
		if _, err := w.db.SessionByTokenHash(context.Background(), c.Value); err == nil {
			t.Error("the cookie's value is the stored hash: the database must keep only the hash of the token")
		}
		if _, err := w.db.SessionByTokenHash(context.Background(), auth.HashToken(c.Value)); err != nil {
			t.Errorf("the session is not stored under the hash of its token: %v", err)
		}
	}
}

// TestSignInNextStaysOnSite: ?next= after sign-in leads only to a page of
// this site.
func TestSignInNextStaysOnSite(t *testing.T) {
	w := newWorld(t, storagetest.SQLiteDSN(t))
	for next, want := range map[string]string{
		"/children?school=BAK-06-001": "/children?school=BAK-06-001",
		"//evil.example/x":            "/",
		"https://evil.example/":       "/",
		"/\\evil.example":             "/",
		"/signout":                    "/",
		"":                            "/",
	} {
		b := &browser{h: w.h}
		r := b.do(http.MethodPost, "/signin", "email", w.users["analyst"].Email, "password", testPassword, "next", next)
		if r.Status != http.StatusSeeOther || r.Location != want {
			t.Errorf("next=%q: %d to %q, want %q", next, r.Status, r.Location, want)
		}
	}
}

// TestSessionTimeouts: a session unused for storage.IdleTimeout, or older
// than storage.AbsoluteTimeout however busy, signs in no more; one waiting
// for its second factor lives storage.PendingTimeout.
func TestSessionTimeouts(t *testing.T) {
	w := newWorld(t, storagetest.SQLiteDSN(t))
	b := &browser{h: w.h}
	b.do(http.MethodPost, "/signin", "email", w.users["analyst"].Email, "password", testPassword)
	w.clock.Add(storage.IdleTimeout - time.Minute)
	if !b.signedIn() {
		t.Fatal("the session ended before its idle timeout")
	}
	w.clock.Add(storage.IdleTimeout + time.Second)
	if r := b.do(http.MethodGet, "/children"); r.Status != http.StatusSeeOther || b.cookie != "" {
		t.Errorf("idle session: %d, cookie %q; want a redirect to sign in and the cookie cleared", r.Status, b.cookie)
	}

	b.do(http.MethodPost, "/signin", "email", w.users["analyst"].Email, "password", testPassword)
	for elapsed := time.Duration(0); elapsed < storage.AbsoluteTimeout-storage.IdleTimeout; elapsed += storage.IdleTimeout / 2 {
		w.clock.Add(storage.IdleTimeout / 2)
		if !b.signedIn() {
			t.Fatalf("a busy session ended after %s", elapsed)
		}
	}
	w.clock.Add(storage.IdleTimeout)
	if b.signedIn() {
		t.Error("a session outlived its absolute timeout")
	}

	secret := auth.NewTOTPSecret()
	u, err := w.db.CreateUser(context.Background(), audit.System(), storage.NewUser{Email: "head3@test.dayaq.az",
		Name: "Direktor", OrgCode: "BAK-06-002", Roles: []access.Role{access.SchoolHead}, PasswordHash: cheapHash, TOTPSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	b.do(http.MethodPost, "/signin", "email", u.Email, "password", testPassword)
	tok := b.formToken(t, "/signin/totp")
	w.clock.Add(storage.PendingTimeout + time.Second)
	code, _ := auth.TOTPCode(secret, w.clock.Now())
	if r := b.do(http.MethodPost, "/signin/totp", "csrf", tok, "code", code); r.Status == http.StatusSeeOther || b.signedIn() {
		t.Errorf("a pending session past its timeout took a code: %d", r.Status)
	}
}
