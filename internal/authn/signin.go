package authn

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/httpx"
	"dayaq/internal/storage"
)

// Meta is where a sign-in step comes from.
type Meta struct {
	IP, UserAgent, RequestID string
	// PrevSessionID is the session the browser held before, if any: a
	// new sign-in ends it, so no token outlives a change of identity.
	PrevSessionID int64
}

// MetaFrom reads Meta from r.
func MetaFrom(r *http.Request) Meta {
	m := Meta{IP: httpx.ClientIP(r), UserAgent: r.UserAgent(), RequestID: httpx.RequestID(r.Context())}
	if s, ok := SessionFrom(r.Context()); ok {
		m.PrevSessionID = s.ID
	} else if p, ok := PendingFrom(r.Context()); ok {
		m.PrevSessionID = p.SessionID
	}
	return m
}

func (m Meta) actor(u storage.User) audit.Actor {
	return audit.Actor{Principal: access.Principal{UserID: u.ID, OrgID: u.OrgID}, IP: m.IP, RequestID: m.RequestID}
}

// Step is what a browser must do next after a sign-in step.
type Step int

const (
	StepDone  Step = iota // fully signed in
	StepTOTP              // type a code from the authenticator app (or a recovery code)
	StepEnrol             // set up an authenticator app first
)

// Result is the outcome of a successful sign-in step: the new session
// token for the cookie, and what comes next.
type Result struct {
	Token string
	Next  Step
}

// withHashing runs fn holding a slot of the hashing semaphore.
func (a *Authn) withHashing(ctx context.Context, fn func()) error {
	select {
	case a.hash <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-a.hash }()
	fn()
	return nil
}

// SignIn checks an email and password. Every refusal is the same "wrong
// email or password" — unknown user, wrong password, disabled account —
// except a locked account, which says until when. Each refusal of a known
// user counts towards the lockout; each is audited. On success it starts
// a new session (ending the one the browser held) and says whether a
// second factor is owed.
func (a *Authn) SignIn(ctx context.Context, email, password string, m Meta) (Result, error) {
	u, err := a.store.UserByEmail(ctx, email)
	if apperr.CodeOf(err) == apperr.NotFound {
		if err := a.withHashing(ctx, func() { auth.CheckDummy(password) }); err != nil {
			return Result{}, err
		}
		a.audit(ctx, audit.Actor{IP: m.IP, RequestID: m.RequestID}.Event("auth.signin_failed", "user", 0), `{"reason":"unknown_user"}`)
		return Result{}, errWrong()
	}
	if err != nil {
		return Result{}, err
	}
	act := m.actor(u)
	if u.LockedAt(a.now()) {
		a.audit(ctx, act.Event("auth.signin_failed", "user", u.ID), `{"reason":"locked"}`)
		return Result{}, errLocked(u.LockedUntil)
	}
	var ok bool
	var cerr error
	if err := a.withHashing(ctx, func() { ok, cerr = auth.CheckPassword(u.PasswordHash, password) }); err != nil {
		return Result{}, err
	}
	if cerr != nil {
		a.cfg.Log.ErrorContext(ctx, "authn: stored password hash unreadable", "user_id", u.ID, "err", cerr)
	}
	if !ok {
		return Result{}, a.refuse(ctx, u, act, "password")
	}
	if u.Disabled {
		a.audit(ctx, act.Event("auth.signin_failed", "user", u.ID), `{"reason":"disabled"}`)
		return Result{}, errWrong()
	}
	if auth.NeedsRehash(u.PasswordHash) {
		var h string
		var herr error
		if err := a.withHashing(ctx, func() { h, herr = auth.HashPassword(password) }); err == nil && herr == nil {
			if err := a.store.SetPasswordHash(ctx, u.ID, h); err != nil {
				a.cfg.Log.WarnContext(ctx, "authn: rehash password", "user_id", u.ID, "err", err)
			}
		}
	}
	next := StepDone
	switch {
	case u.TOTPEnabled:
		next = StepTOTP
	case u.NeedsTOTP():
		next = StepEnrol
	}
	if next == StepDone {
		if err := a.store.RecordLoginSuccess(ctx, u.ID); err != nil {
			return Result{}, err
		}
	}
	tok, err := a.startSession(ctx, u.ID, next == StepDone, m)
	if err != nil {
		return Result{}, err
	}
	if next == StepDone {
		a.audit(ctx, act.Event("auth.signin", "user", u.ID), `{"factors":"password"}`)
	} else {
		a.audit(ctx, act.Event("auth.password_ok", "user", u.ID), "")
	}
	return Result{Token: tok, Next: next}, nil
}

// refuse counts a failed step of a known user, locks the account when the
// back-off says so, and audits it.
func (a *Authn) refuse(ctx context.Context, u storage.User, act audit.Actor, reason string) error {
	until, err := a.store.RecordLoginFailure(ctx, u.ID, auth.LockoutDelay)
	if err != nil {
		return err
	}
	a.audit(ctx, act.Event("auth.signin_failed", "user", u.ID), fmt.Sprintf(`{"reason":%q}`, reason))
	if !until.IsZero() {
		a.audit(ctx, act.Event("auth.locked", "user", u.ID), fmt.Sprintf(`{"until":%q}`, until.Format(time.RFC3339)))
		return errLocked(until)
	}
	return errWrong()
}

// startSession ends the browser's previous session and starts a new one
// with fresh tokens: the client's old cookie value is never promoted.
func (a *Authn) startSession(ctx context.Context, userID int64, done bool, m Meta) (string, error) {
	if m.PrevSessionID != 0 {
		if err := a.store.DeleteSession(ctx, m.PrevSessionID); err != nil {
			return "", err
		}
	}
	tok := auth.NewSessionToken()
	_, err := a.store.CreateSession(ctx, storage.NewSession{UserID: userID, TokenHash: auth.HashToken(tok),
		CSRFToken: auth.NewCSRFToken(), MFADone: done, IP: m.IP, UserAgent: m.UserAgent})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// audit records e, logging (never failing the request) when it cannot.
func (a *Authn) audit(ctx context.Context, e audit.Event, details string) {
	e.Details = details
	if err := a.store.RecordAudit(ctx, e); err != nil {
		a.cfg.Log.ErrorContext(ctx, "authn: audit", "action", e.Action, "err", err)
	}
}

// pendingUser reads the user of a pending session and refuses when they
// are locked or disabled (ending the session).
func (a *Authn) pendingUser(ctx context.Context, p Pending) (storage.User, error) {
	u, err := a.store.UserByID(ctx, p.UserID)
	if apperr.CodeOf(err) == apperr.NotFound || err == nil && u.Disabled {
		_ = a.store.DeleteSession(ctx, p.SessionID)
		return storage.User{}, apperr.New(apperr.Unauthorized, "signin.error.required")
	}
	if err != nil {
		return storage.User{}, err
	}
	if u.LockedAt(a.now()) {
		_ = a.store.DeleteSession(ctx, p.SessionID)
		return storage.User{}, errLocked(u.LockedUntil)
	}
	return u, nil
}

// VerifySecondFactor checks a TOTP code, or a recovery code, for a pending
// session. A TOTP code works once; a recovery code works once. A wrong
// code counts towards the lockout like a wrong password. On success the
// session is promoted under a new token, which it returns.
func (a *Authn) VerifySecondFactor(ctx context.Context, p Pending, code string, m Meta) (string, error) {
	u, err := a.pendingUser(ctx, p)
	if err != nil {
		return "", err
	}
	act := m.actor(u)
	if !u.TOTPEnabled {
		return "", apperr.New(apperr.Conflict, "totp.error.not_enrolled")
	}
	factor := "totp"
	ok := false
	if rc := auth.NormalizeRecoveryCode(code); rc != "" {
		factor = "recovery_code"
		if ok, err = a.store.UseRecoveryCode(ctx, u.ID, auth.HashRecoveryCode(rc)); err != nil {
			return "", err
		}
	} else if step, valid := auth.ValidateTOTP(u.TOTPSecret, code, a.now()); valid {
		if ok, err = a.store.UseTOTPStep(ctx, u.ID, step); err != nil {
			return "", err
		}
	}
	if !ok {
		if err := a.refuse(ctx, u, act, factor); apperr.As(err).Key == "signin.error.locked" {
			_ = a.store.DeleteSession(ctx, p.SessionID)
			return "", err
		} else if apperr.CodeOf(err) != apperr.Unauthorized {
			return "", err
		}
		return "", apperr.New(apperr.Invalid, "totp.error.wrong")
	}
	if err := a.store.RecordLoginSuccess(ctx, u.ID); err != nil {
		return "", err
	}
	tok, err := a.promote(ctx, p.SessionID)
	if err != nil {
		return "", err
	}
	if factor == "recovery_code" {
		left, _ := a.store.RecoveryCodesLeft(ctx, u.ID)
		a.audit(ctx, act.Event("auth.recovery_code_used", "user", u.ID), fmt.Sprintf(`{"left":%d}`, left))
	}
	a.audit(ctx, act.Event("auth.signin", "user", u.ID), fmt.Sprintf(`{"factors":"password,%s"}`, factor))
	return tok, nil
}

// promote marks a session fully signed in under a new token.
func (a *Authn) promote(ctx context.Context, sessionID int64) (string, error) {
	tok := auth.NewSessionToken()
	if _, err := a.store.MarkSessionMFA(ctx, sessionID, auth.HashToken(tok), auth.NewCSRFToken()); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound {
			return "", apperr.New(apperr.Unauthorized, "signin.error.expired")
		}
		return "", err
	}
	return tok, nil
}

// Enrolment is an authenticator app being set up.
type Enrolment struct {
	Secret  string // base32, for manual entry
	URL     string // otpauth://
	QRCode  string // data: URI of a PNG
	Account string
}

// StartEnrolment returns the TOTP secret that user id is setting up,
// making one when they have none yet (so reloading the page keeps the QR
// code they may have scanned already).
func (a *Authn) StartEnrolment(ctx context.Context, userID int64) (Enrolment, error) {
	u, err := a.store.UserByID(ctx, userID)
	if err != nil {
		return Enrolment{}, err
	}
	if u.TOTPEnabled {
		return Enrolment{}, apperr.New(apperr.Conflict, "totp.error.enrolled")
	}
	secret := u.TOTPSecret
	if secret == "" {
		secret = auth.NewTOTPSecret()
		if err := a.store.SetTOTPSecret(ctx, u.ID, secret); err != nil {
			return Enrolment{}, err
		}
	}
	e := Enrolment{Secret: secret, URL: auth.TOTPURL(secret, u.Email), Account: u.Email}
	if e.QRCode, err = auth.TOTPQRCode(e.URL, 240); err != nil {
		return Enrolment{}, err
	}
	return e, nil
}

// ConfirmEnrolment puts user userID's TOTP secret in force once code
// matches it, and returns their new recovery codes (shown once). When the
// session was pending (sessionID != 0 and not done), it is promoted under
// a new token, returned as token.
func (a *Authn) ConfirmEnrolment(ctx context.Context, userID, pendingSessionID int64, code string, m Meta) (token string, codes []string, err error) {
	u, err := a.store.UserByID(ctx, userID)
	if err != nil {
		return "", nil, err
	}
	act := m.actor(u)
	if u.TOTPEnabled {
		return "", nil, apperr.New(apperr.Conflict, "totp.error.enrolled")
	}
	step, ok := auth.ValidateTOTP(u.TOTPSecret, code, a.now())
	if u.TOTPSecret == "" || !ok {
		return "", nil, apperr.New(apperr.Invalid, "totp.error.wrong")
	}
	codes = auth.NewRecoveryCodes()
	hashes := make([]string, len(codes))
	for i, c := range codes {
		hashes[i] = auth.HashRecoveryCode(c)
	}
	if err := a.store.EnableTOTP(ctx, act, u.ID, step, hashes); err != nil {
		return "", nil, err
	}
	if pendingSessionID != 0 {
		if err := a.store.RecordLoginSuccess(ctx, u.ID); err != nil {
			return "", nil, err
		}
		if token, err = a.promote(ctx, pendingSessionID); err != nil {
			return "", nil, err
		}
		a.audit(ctx, act.Event("auth.signin", "user", u.ID), `{"factors":"password,totp"}`)
	}
	return token, codes, nil
}

// SignOut ends one session.
func (a *Authn) SignOut(ctx context.Context, sessionID int64, act audit.Actor) error {
	if err := a.store.DeleteSession(ctx, sessionID); err != nil {
		return err
	}
	a.audit(ctx, act.Event("auth.signout", "session", sessionID), "")
	return nil
}

// SignOutEverywhere ends every session of the actor's user.
func (a *Authn) SignOutEverywhere(ctx context.Context, act audit.Actor) (int, error) {
	n, err := a.store.DeleteUserSessions(ctx, act.UserID)
	if err != nil {
		return 0, err
	}
	a.audit(ctx, act.Event("auth.signout_all", "user", act.UserID), fmt.Sprintf(`{"sessions":%d}`, n))
	return n, nil
}

// CreateToken makes a personal API token for the actor and returns it
// (shown once; only its hash is kept).
func (a *Authn) CreateToken(ctx context.Context, act audit.Actor, name string, scopes []access.Scope, expires time.Time) (string, storage.APIToken, error) {
	tok := auth.NewAPIToken()
	t, err := a.store.CreateAPIToken(ctx, act, storage.NewAPIToken{UserID: act.UserID, Name: name, Scopes: scopes,
		ExpiresAt: expires, TokenHash: auth.HashToken(tok)})
	if err != nil {
		return "", storage.APIToken{}, err
	}
	return tok, t, nil
}

// RevokeToken revokes one of the actor's own API tokens.
func (a *Authn) RevokeToken(ctx context.Context, act audit.Actor, id int64) error {
	return a.store.RevokeAPIToken(ctx, act, act.UserID, id)
}

// Tokens lists the actor's API tokens.
func (a *Authn) Tokens(ctx context.Context, userID int64) ([]storage.APIToken, error) {
	return a.store.ListAPITokens(ctx, userID)
}

// User returns user id's account (for the account pages).
func (a *Authn) User(ctx context.Context, id int64) (storage.User, error) {
	return a.store.UserByID(ctx, id)
}

// RecoveryCodesLeft counts the user's unused recovery codes.
func (a *Authn) RecoveryCodesLeft(ctx context.Context, id int64) (int, error) {
	return a.store.RecoveryCodesLeft(ctx, id)
}
