package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/org"
)

// Session lifetimes: a browser session ends after IdleTimeout without a
// request, and AbsoluteTimeout after sign-in whatever happens. A session
// waiting for its second factor lives PendingTimeout.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	PendingTimeout  = 10 * time.Minute
	// touchEvery is how stale last_seen_at (of a session) or last_used_at
	// (of an API token) may get before a request writes it anew: one write
	// a minute at most, not one per request.
	touchEvery = time.Minute
)

// User is an account. The password hash and TOTP secret travel only
// between storage and the sign-in code; nothing shows them.
type User struct {
	ID           int64
	Email        string // lower-cased
	Name         string
	OrgID        int64
	OrgCode      string
	OrgType      org.Type
	PasswordHash string
	TOTPSecret   string // "" when none; in force only when TOTPEnabled
	TOTPEnabled  bool
	FailedLogins int
	LockedUntil  time.Time // zero when not locked
	Disabled     bool
	Version      int
	Roles        []access.Role
	Classes      []access.Class
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// NeedsTOTP reports whether u must sign in with a second factor: because a
// role of theirs sees children's data, or because they enrolled one.
func (u User) NeedsTOTP() bool {
	return u.TOTPEnabled || slices.ContainsFunc(u.Roles, access.Role.SeesChildData)
}

// LockedAt reports whether u's account is locked at now.
func (u User) LockedAt(now time.Time) bool { return now.Before(u.LockedUntil) }

// NewUser is an account to create.
type NewUser struct {
	Email        string
	Name         string
	OrgCode      string
	Roles        []access.Role
	Classes      []access.Class // for teachers
	PasswordHash string         // argon2id PHC string (auth.HashPassword)
	TOTPSecret   string         // optional: a secret enrolled already (demo users)
}

// NormalizeEmail trims and lower-cases an email address, as users.email
// keeps it.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CreateUser creates an account after checking it: a valid email not in
// use, a name, a known organisation, at least one role, each allowed in
// that organisation's type, classes only for teachers. It writes the audit
// event "user.create" in the same transaction.
func (db *DB) CreateUser(ctx context.Context, a audit.Actor, nu NewUser) (u User, err error) {
	defer apperr.Wrap(&err, "storage.CreateUser")
	nu.Email, nu.Name, nu.OrgCode = NormalizeEmail(nu.Email), strings.TrimSpace(nu.Name), strings.TrimSpace(nu.OrgCode)
	var fields []apperr.FieldError
	if addr, perr := mail.ParseAddress(nu.Email); perr != nil || addr.Address != nu.Email || len(nu.Email) > 254 {
		fields = append(fields, apperr.Field("email", "account.error.email"))
	}
	switch n := len([]rune(nu.Name)); {
	case n == 0:
		fields = append(fields, apperr.Field("name", "error.required"))
	case n > 200:
		fields = append(fields, apperr.Field("name", "error.too_long", 200))
	}
	if len(nu.Roles) == 0 {
		fields = append(fields, apperr.Field("roles", "error.required"))
	}
	if nu.PasswordHash == "" {
		fields = append(fields, apperr.Field("password", "error.required"))
	}
	if len(nu.Classes) > 0 && !slices.Contains(nu.Roles, access.Teacher) {
		fields = append(fields, apperr.Field("classes", "account.error.classes_teacher"))
	}
	for _, cl := range nu.Classes {
		if cl.Grade < 0 || cl.Grade > 12 {
			fields = append(fields, apperr.Field("classes", "error.range", 0, 12))
			break
		}
	}
	err = db.inTx(ctx, func(c conn) error {
		o, err := getOrgByCode(ctx, c, nu.OrgCode)
		if apperr.CodeOf(err) == apperr.NotFound {
			fields = append(fields, apperr.Field("org", "account.error.org_unknown", nu.OrgCode))
		} else if err != nil {
			return err
		}
		for _, r := range nu.Roles {
			if !r.Valid() {
				fields = append(fields, apperr.Field("roles", "account.error.role_unknown", string(r)))
			} else if o.ID != 0 && !r.AllowedIn(o.Type) {
				fields = append(fields, apperr.Field("roles", "account.error.role_org", string(r), string(o.Type)))
			}
		}
		var n int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE email = ?`, nu.Email).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			fields = append(fields, apperr.Field("email", "account.error.email_taken"))
		}
		if len(fields) > 0 {
			return apperr.Validation(fields...)
		}
		u = User{Email: nu.Email, Name: nu.Name, OrgID: o.ID, OrgCode: o.Code, OrgType: o.Type,
			PasswordHash: nu.PasswordHash, TOTPSecret: nu.TOTPSecret, TOTPEnabled: nu.TOTPSecret != "",
			Version: 1, Roles: slices.Clone(nu.Roles), Classes: slices.Clone(nu.Classes), CreatedAt: c.now, UpdatedAt: c.now}
		if err := c.queryRow(ctx, `INSERT INTO users (email, name, org_id, password_hash, totp_secret, totp_enabled,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			u.Email, u.Name, u.OrgID, u.PasswordHash, nullString(u.TOTPSecret), u.TOTPEnabled, c.now, c.now).Scan(&u.ID); err != nil {
			return err
		}
		for _, r := range u.Roles {
			if _, err := c.exec(ctx, `INSERT INTO user_roles (user_id, role) VALUES (?, ?)`, u.ID, r); err != nil {
				return err
			}
		}
		for _, cl := range u.Classes {
			if _, err := c.exec(ctx, `INSERT INTO teacher_classes (user_id, grade, section) VALUES (?, ?, ?)`,
				u.ID, cl.Grade, cl.Section); err != nil {
				return err
			}
		}
		e := a.Event("user.create", "user", u.ID)
		e.Details = detailsJSON(map[string]any{"org": u.OrgCode, "roles": u.Roles, "classes": len(u.Classes)})
		return appendAudit(ctx, c, e)
	})
	return u, err
}

// detailsJSON renders an audit event's details; they never hold a child's
// data or a secret.
func detailsJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

const userColumns = `u.id, u.email, u.name, u.org_id, o.code, o.type, u.password_hash, COALESCE(u.totp_secret, ''),
	u.totp_enabled, u.failed_logins, u.locked_until, u.disabled, u.version, u.created_at, u.updated_at`

const userFrom = ` FROM users u JOIN orgs o ON o.id = u.org_id `

func scanUser(s interface{ Scan(...any) error }) (User, error) {
	var u User
	var locked sql.NullTime
	err := s.Scan(&u.ID, &u.Email, &u.Name, &u.OrgID, &u.OrgCode, &u.OrgType, &u.PasswordHash, &u.TOTPSecret,
		&u.TOTPEnabled, &u.FailedLogins, &locked, &u.Disabled, &u.Version, &u.CreatedAt, &u.UpdatedAt)
	if locked.Valid {
		u.LockedUntil = locked.Time.UTC()
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u, err
}

// getUser reads the user matching where (a condition on u) with its roles
// and classes.
func getUser(ctx context.Context, c conn, where string, arg any) (User, error) {
	u, err := scanUser(c.queryRow(ctx, `SELECT `+userColumns+userFrom+`WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return User{}, err
	}
	rows, err := c.query(ctx, `SELECT role FROM user_roles WHERE user_id = ? ORDER BY role`, u.ID)
	if err != nil {
		return User{}, err
	}
	defer rows.Close()
	for rows.Next() {
		var r access.Role
		if err := rows.Scan(&r); err != nil {
			return User{}, err
		}
		u.Roles = append(u.Roles, r)
	}
	if err := rows.Err(); err != nil {
		return User{}, err
	}
	// Keep the order of access.Roles, which is how forms list them.
	slices.SortFunc(u.Roles, func(a, b access.Role) int {
		return slices.Index(access.Roles(), a) - slices.Index(access.Roles(), b)
	})
	crows, err := c.query(ctx, `SELECT grade, section FROM teacher_classes WHERE user_id = ? ORDER BY grade, section`, u.ID)
	if err != nil {
		return User{}, err
	}
	defer crows.Close()
	for crows.Next() {
		var cl access.Class
		if err := crows.Scan(&cl.Grade, &cl.Section); err != nil {
			return User{}, err
		}
		u.Classes = append(u.Classes, cl)
	}
	return u, crows.Err()
}

// UserByEmail returns the user with the given email (any case); NotFound
// when there is none.
func (db *DB) UserByEmail(ctx context.Context, email string) (u User, err error) {
	defer apperr.Wrap(&err, "storage.UserByEmail")
	return getUser(ctx, db.reader(), `u.email = ?`, NormalizeEmail(email))
}

// UserByID returns the user with the given ID; NotFound when there is none.
func (db *DB) UserByID(ctx context.Context, id int64) (u User, err error) {
	defer apperr.Wrap(&err, "storage.UserByID(%d)", id)
	return getUser(ctx, db.reader(), `u.id = ?`, id)
}

// Principal returns who u is for the access policy.
func (u User) Principal(district string) access.Principal {
	return access.Principal{UserID: u.ID, Email: u.Email, Name: u.Name, OrgID: u.OrgID, OrgCode: u.OrgCode,
		OrgType: u.OrgType, District: district, Roles: u.Roles, Classes: u.Classes}
}

// PrincipalForUser returns the principal of user id: their organisation,
// its district, their roles and classes. A disabled user, or one that does
// not exist, is Unauthorized.
func (db *DB) PrincipalForUser(ctx context.Context, id int64) (p access.Principal, err error) {
	defer apperr.Wrap(&err, "storage.PrincipalForUser(%d)", id)
	if p, ok := db.auth.principal(id); ok {
		return p.Clone(), nil
	}
	st := db.auth.stamp()
	c := db.reader()
	u, err := getUser(ctx, c, `u.id = ?`, id)
	if apperr.CodeOf(err) == apperr.NotFound || err == nil && u.Disabled {
		return access.Principal{}, apperr.New(apperr.Unauthorized, "signin.error.required")
	}
	if err != nil {
		return access.Principal{}, err
	}
	var district string
	if err := c.queryRow(ctx, `SELECT COALESCE(district_code, '') FROM orgs WHERE id = ?`, u.OrgID).Scan(&district); err != nil {
		return access.Principal{}, err
	}
	p = u.Principal(district)
	db.auth.putPrincipal(st, id, p.Clone())
	return p, nil
}

// RecordLoginFailure counts a failed sign-in (a wrong password or second
// factor) of user id and locks the account for lockout(failures) from
// now. It returns until when the account is locked (zero if it is not).
func (db *DB) RecordLoginFailure(ctx context.Context, id int64, lockout func(failures int) time.Duration) (until time.Time, err error) {
	defer apperr.Wrap(&err, "storage.RecordLoginFailure(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		var n int
		if err := c.queryRow(ctx, `UPDATE users SET failed_logins = failed_logins + 1 WHERE id = ? RETURNING failed_logins`,
			id).Scan(&n); err != nil {
			return err
		}
		if d := lockout(n); d > 0 {
			until = c.now.Add(d)
			_, err := c.exec(ctx, `UPDATE users SET locked_until = ? WHERE id = ?`, until, id)
			return err
		}
		return nil
	})
	return until, err
}

// RecordLoginSuccess clears user id's failed sign-ins and lock.
func (db *DB) RecordLoginSuccess(ctx context.Context, id int64) (err error) {
	defer apperr.Wrap(&err, "storage.RecordLoginSuccess(%d)", id)
	return db.inTx(ctx, func(c conn) error {
		_, err := c.exec(ctx, `UPDATE users SET failed_logins = 0, locked_until = NULL WHERE id = ?`, id)
		return err
	})
}

// SetPasswordHash replaces user id's password hash (after a change of
// password, or to upgrade an old hash at sign-in).
func (db *DB) SetPasswordHash(ctx context.Context, id int64, hash string) (err error) {
	defer apperr.Wrap(&err, "storage.SetPasswordHash(%d)", id)
	return db.inTx(ctx, func(c conn) error {
		_, err := c.exec(ctx, `UPDATE users SET password_hash = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			hash, c.now, id)
		return err
	})
}

// SetUserDisabled disables or re-enables user id; disabling ends their
// sessions. Audited as "user.disable" or "user.enable".
func (db *DB) SetUserDisabled(ctx context.Context, a audit.Actor, id int64, disabled bool) (err error) {
	defer apperr.Wrap(&err, "storage.SetUserDisabled(%d)", id)
	defer db.auth.clear() // the token or the user is looked up again
	return db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE users SET disabled = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			disabled, c.now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		action := "user.enable"
		if disabled {
			action = "user.disable"
			if _, err := c.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, id); err != nil {
				return err
			}
		}
		return appendAudit(ctx, c, a.Event(action, "user", id))
	})
}

// SetTOTPSecret stores a TOTP secret for user id that is not yet in force:
// enrolment shows it, and EnableTOTP puts it in force once the user has
// typed a code from it. It refuses when a second factor is in force.
func (db *DB) SetTOTPSecret(ctx context.Context, id int64, secret string) (err error) {
	defer apperr.Wrap(&err, "storage.SetTOTPSecret(%d)", id)
	return db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE users SET totp_secret = ?, updated_at = ? WHERE id = ? AND totp_enabled = ?`,
			secret, c.now, id, false)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "totp.error.enrolled")
		}
		return nil
	})
}

// EnableTOTP puts user id's stored TOTP secret in force, remembering step
// (the period of the code that confirmed it) against replay, and replaces
// their recovery codes with codeHashes. Audited as "auth.totp_enable".
func (db *DB) EnableTOTP(ctx context.Context, a audit.Actor, id int64, step int64, codeHashes []string) (err error) {
	defer apperr.Wrap(&err, "storage.EnableTOTP(%d)", id)
	return db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE users SET totp_enabled = ?, totp_last_step = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND totp_enabled = ? AND totp_secret IS NOT NULL`, true, step, c.now, id, false)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.Conflict, "totp.error.enrolled")
		}
		if err := replaceRecoveryCodes(ctx, c, id, codeHashes); err != nil {
			return err
		}
		return appendAudit(ctx, c, a.Event("auth.totp_enable", "user", id))
	})
}

func replaceRecoveryCodes(ctx context.Context, c conn, userID int64, hashes []string) error {
	if _, err := c.exec(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := c.exec(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// UseTOTPStep records that user id signed in with the TOTP code of period
// step. It reports false (and changes nothing) when a code of that period
// or a later one was used already: a code works once.
func (db *DB) UseTOTPStep(ctx context.Context, id int64, step int64) (ok bool, err error) {
	defer apperr.Wrap(&err, "storage.UseTOTPStep(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_last_step < ?`, step, id, step)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// UseRecoveryCode spends the unused recovery code of user id with the
// given hash. It reports false when there is none (wrong, or used).
func (db *DB) UseRecoveryCode(ctx context.Context, id int64, codeHash string) (ok bool, err error) {
	defer apperr.Wrap(&err, "storage.UseRecoveryCode(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE recovery_codes SET used_at = ? WHERE user_id = ? AND code_hash = ? AND used_at IS NULL`,
			c.now, id, codeHash)
		if err != nil {
			return err
		}
		n, _ := res.RowsAffected()
		ok = n == 1
		return nil
	})
	return ok, err
}

// RecoveryCodesLeft counts user id's unused recovery codes.
func (db *DB) RecoveryCodesLeft(ctx context.Context, id int64) (n int, err error) {
	defer apperr.Wrap(&err, "storage.RecoveryCodesLeft(%d)", id)
	err = db.reader().queryRow(ctx, `SELECT COUNT(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, id).Scan(&n)
	return n, err
}

// Session is a browser session. The token itself is never stored: only
// its hash, which the cookie's value is looked up by.
type Session struct {
	ID         int64
	UserID     int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time // absolute end
	MFADone    bool      // fully signed in: password and, when needed, the second factor
	CSRFToken  string
	IP         string
	UserAgent  string
}

// NewSession is a session to create.
type NewSession struct {
	UserID    int64
	TokenHash string // auth.HashToken of the cookie's token
	CSRFToken string
	MFADone   bool
	IP        string
	UserAgent string
}

// CreateSession starts a session. A fully signed-in session lasts at most
// AbsoluteTimeout; one still waiting for its second factor PendingTimeout.
func (db *DB) CreateSession(ctx context.Context, ns NewSession) (s Session, err error) {
	defer apperr.Wrap(&err, "storage.CreateSession(user %d)", ns.UserID)
	err = db.inTx(ctx, func(c conn) error {
		s = Session{UserID: ns.UserID, CreatedAt: c.now, LastSeenAt: c.now, ExpiresAt: c.now.Add(PendingTimeout),
			MFADone: ns.MFADone, CSRFToken: ns.CSRFToken, IP: truncate(ns.IP, 64), UserAgent: truncate(ns.UserAgent, 300)}
		if ns.MFADone {
			s.ExpiresAt = c.now.Add(AbsoluteTimeout)
		}
		return c.queryRow(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, mfa_done,
			csrf_token, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			ns.TokenHash, s.UserID, s.CreatedAt, s.LastSeenAt, s.ExpiresAt, s.MFADone, s.CSRFToken, s.IP, s.UserAgent).Scan(&s.ID)
	})
	return s, err
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

const sessionColumns = `id, user_id, created_at, last_seen_at, expires_at, mfa_done, csrf_token, ip, user_agent`

func scanSession(s interface{ Scan(...any) error }) (Session, error) {
	var ss Session
	err := s.Scan(&ss.ID, &ss.UserID, &ss.CreatedAt, &ss.LastSeenAt, &ss.ExpiresAt, &ss.MFADone, &ss.CSRFToken, &ss.IP, &ss.UserAgent)
	ss.CreatedAt, ss.LastSeenAt, ss.ExpiresAt = ss.CreatedAt.UTC(), ss.LastSeenAt.UTC(), ss.ExpiresAt.UTC()
	return ss, err
}

// SessionByTokenHash returns the live session whose token hashes to hash,
// and slides its idle expiry: a session unused for IdleTimeout, or older
// than its absolute end, is deleted and Unauthorized.
func (db *DB) SessionByTokenHash(ctx context.Context, hash string) (s Session, err error) {
	defer apperr.Wrap(&err, "storage.SessionByTokenHash")
	s, err = scanSession(db.reader().queryRow(ctx, `SELECT `+sessionColumns+` FROM sessions WHERE token_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, apperr.New(apperr.Unauthorized, "signin.error.required")
	}
	if err != nil {
		return Session{}, err
	}
	now := db.Now()
	if !now.Before(s.ExpiresAt) || !now.Before(s.LastSeenAt.Add(IdleTimeout)) {
		if err := db.DeleteSession(ctx, s.ID); err != nil {
			return Session{}, err
		}
		return Session{}, apperr.New(apperr.Unauthorized, "signin.error.expired")
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		err := db.inTx(ctx, func(c conn) error {
			_, err := c.exec(ctx, `UPDATE sessions SET last_seen_at = ? WHERE id = ?`, c.now, s.ID)
			return err
		})
		switch {
		case apperr.CodeOf(err) == apperr.InsufficientStorage:
			// A full disk must not sign everyone out: the touch waits for space (ADR 0028).
		case err != nil:
			return Session{}, err
		default:
			s.LastSeenAt = now
		}
	}
	return s, nil
}

// MarkSessionMFA marks session id fully signed in and gives it a new token
// (newTokenHash) and form token: a privilege change never keeps the token
// the client held before it (session fixation). Its absolute end is
// AbsoluteTimeout from now. NotFound when the session is gone.
func (db *DB) MarkSessionMFA(ctx context.Context, id int64, newTokenHash, newCSRFToken string) (s Session, err error) {
	defer apperr.Wrap(&err, "storage.MarkSessionMFA(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		s, err = scanSession(c.queryRow(ctx, `UPDATE sessions SET token_hash = ?, csrf_token = ?, mfa_done = ?, last_seen_at = ?,
			expires_at = ? WHERE id = ? RETURNING `+sessionColumns, newTokenHash, newCSRFToken, true, c.now, c.now.Add(AbsoluteTimeout), id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return err
	})
	return s, err
}

// DeleteSession ends one session (sign-out). Deleting a session that is
// gone is not an error.
func (db *DB) DeleteSession(ctx context.Context, id int64) (err error) {
	defer apperr.Wrap(&err, "storage.DeleteSession(%d)", id)
	return db.inTx(ctx, func(c conn) error {
		_, err := c.exec(ctx, `DELETE FROM sessions WHERE id = ?`, id)
		return err
	})
}

// DeleteUserSessions ends every session of user id (sign-out everywhere)
// and reports how many there were.
func (db *DB) DeleteUserSessions(ctx context.Context, userID int64) (n int, err error) {
	defer apperr.Wrap(&err, "storage.DeleteUserSessions(%d)", userID)
	err = db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n = int(m)
		return nil
	})
	return n, err
}

// DeleteExpiredSessions removes sessions past their absolute end or idle
// for longer than IdleTimeout, and reports how many (a periodic job).
func (db *DB) DeleteExpiredSessions(ctx context.Context) (n int, err error) {
	defer apperr.Wrap(&err, "storage.DeleteExpiredSessions")
	err = db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at <= ?`, c.now, c.now.Add(-IdleTimeout))
		if err != nil {
			return err
		}
		m, _ := res.RowsAffected()
		n = int(m)
		return nil
	})
	return n, err
}

// APIToken is a personal API token. Only its hash is stored.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	Scopes     []access.Scope
	CreatedAt  time.Time
	ExpiresAt  time.Time
	LastUsedAt time.Time // zero when never used
	RevokedAt  time.Time // zero when not revoked
}

// Active reports whether t can be used at now.
func (t APIToken) Active(now time.Time) bool { return t.RevokedAt.IsZero() && now.Before(t.ExpiresAt) }

// NewAPIToken is an API token to create.
type NewAPIToken struct {
	UserID    int64
	Name      string
	Scopes    []access.Scope
	ExpiresAt time.Time
	TokenHash string // auth.HashToken of the token
}

// MaxTokenLifetime is the longest an API token may live.
const MaxTokenLifetime = 366 * 24 * time.Hour

// ParseScopes reads "read" or "read,write". Write implies read.
func ParseScopes(s string) ([]access.Scope, bool) {
	var out []access.Scope
	for p := range strings.SplitSeq(s, ",") {
		sc := access.Scope(strings.TrimSpace(p))
		switch sc {
		case "":
			continue
		case access.ScopeRead, access.ScopeWrite:
		default:
			return nil, false
		}
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil, false
	}
	if slices.Contains(out, access.ScopeWrite) && !slices.Contains(out, access.ScopeRead) {
		out = append(out, access.ScopeRead)
	}
	slices.SortFunc(out, func(a, b access.Scope) int { return strings.Compare(string(a), string(b)) })
	return out, true
}

func joinScopes(ss []access.Scope) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// CreateAPIToken stores a new API token of nt.UserID after checking its
// name, scopes and expiry (in the future, within MaxTokenLifetime). Audited
// as "token.create".
func (db *DB) CreateAPIToken(ctx context.Context, a audit.Actor, nt NewAPIToken) (t APIToken, err error) {
	defer apperr.Wrap(&err, "storage.CreateAPIToken(user %d)", nt.UserID)
	nt.Name = strings.TrimSpace(nt.Name)
	var fields []apperr.FieldError
	switch n := len([]rune(nt.Name)); {
	case n == 0:
		fields = append(fields, apperr.Field("name", "error.required"))
	case n > 100:
		fields = append(fields, apperr.Field("name", "error.too_long", 100))
	}
	scopes, ok := ParseScopes(joinScopes(nt.Scopes))
	if !ok {
		fields = append(fields, apperr.Field("scopes", "tokens.error.scopes"))
	}
	now := db.Now()
	if !nt.ExpiresAt.After(now) || nt.ExpiresAt.Sub(now) > MaxTokenLifetime {
		fields = append(fields, apperr.Field("expires", "tokens.error.expires"))
	}
	if len(fields) > 0 {
		return APIToken{}, apperr.Validation(fields...)
	}
	err = db.inTx(ctx, func(c conn) error {
		t = APIToken{UserID: nt.UserID, Name: nt.Name, Scopes: scopes, CreatedAt: c.now,
			ExpiresAt: nt.ExpiresAt.UTC().Truncate(time.Microsecond)}
		if err := c.queryRow(ctx, `INSERT INTO api_tokens (user_id, name, token_hash, scopes, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, t.UserID, t.Name, nt.TokenHash, joinScopes(t.Scopes), t.CreatedAt,
			t.ExpiresAt).Scan(&t.ID); err != nil {
			return err
		}
		e := a.Event("token.create", "api_token", t.ID)
		e.Details = detailsJSON(map[string]any{"user": t.UserID, "scopes": joinScopes(t.Scopes), "expires": t.ExpiresAt})
		return appendAudit(ctx, c, e)
	})
	return t, err
}

const tokenColumns = `id, user_id, name, scopes, created_at, expires_at, last_used_at, revoked_at`

func scanToken(s interface{ Scan(...any) error }) (APIToken, error) {
	var t APIToken
	var scopes string
	var used, revoked sql.NullTime
	err := s.Scan(&t.ID, &t.UserID, &t.Name, &scopes, &t.CreatedAt, &t.ExpiresAt, &used, &revoked)
	t.Scopes, _ = ParseScopes(scopes)
	t.CreatedAt, t.ExpiresAt = t.CreatedAt.UTC(), t.ExpiresAt.UTC()
	if used.Valid {
		t.LastUsedAt = used.Time.UTC()
	}
	if revoked.Valid {
		t.RevokedAt = revoked.Time.UTC()
	}
	return t, err
}

// APITokenByHash returns the active token whose hash is hash, and notes
// its use (at most once a minute). A missing, revoked or expired token is
// Unauthorized.
func (db *DB) APITokenByHash(ctx context.Context, hash string) (t APIToken, err error) {
	defer apperr.Wrap(&err, "storage.APITokenByHash")
	if t, ok := db.auth.token(hash); ok && t.Active(db.Now()) {
		t.Scopes = slices.Clone(t.Scopes)
		return t, nil
	}
	st := db.auth.stamp()
	t, err = scanToken(db.reader().queryRow(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE token_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return APIToken{}, apperr.New(apperr.Unauthorized, "tokens.error.invalid")
	}
	if err != nil {
		return APIToken{}, err
	}
	now := db.Now()
	if !t.Active(now) {
		return APIToken{}, apperr.New(apperr.Unauthorized, "tokens.error.invalid")
	}
	if t.LastUsedAt.IsZero() || now.Sub(t.LastUsedAt) >= touchEvery {
		err := db.inTx(ctx, func(c conn) error {
			_, err := c.exec(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, c.now, t.ID)
			return err
		})
		switch {
		case apperr.CodeOf(err) == apperr.InsufficientStorage:
			// A full disk must not lock every client out: the touch waits for space (ADR 0028).
		case err != nil:
			return APIToken{}, err
		default:
			t.LastUsedAt = now
		}
	}
	db.auth.putToken(st, hash, t)
	t.Scopes = slices.Clone(t.Scopes)
	return t, nil
}

// RevokeAPIToken revokes token id of user userID (a user revokes only
// their own). Revoking a revoked token changes nothing. Audited as
// "token.revoke".
func (db *DB) RevokeAPIToken(ctx context.Context, a audit.Actor, userID, id int64) (err error) {
	defer apperr.Wrap(&err, "storage.RevokeAPIToken(%d)", id)
	defer db.auth.clear() // the token or the user is looked up again
	return db.inTx(ctx, func(c conn) error {
		var revoked sql.NullTime
		err := c.queryRow(ctx, `SELECT revoked_at FROM api_tokens WHERE id = ? AND user_id = ?`, id, userID).Scan(&revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if err != nil || revoked.Valid {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE id = ?`, c.now, id); err != nil {
			return err
		}
		return appendAudit(ctx, c, a.Event("token.revoke", "api_token", id))
	})
}

// ListAPITokens lists user userID's tokens, newest first, revoked and
// expired ones included.
func (db *DB) ListAPITokens(ctx context.Context, userID int64) (ts []APIToken, err error) {
	defer apperr.Wrap(&err, "storage.ListAPITokens(%d)", userID)
	rows, err := db.reader().query(ctx, `SELECT `+tokenColumns+` FROM api_tokens WHERE user_id = ? ORDER BY id DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, err
		}
		ts = append(ts, t)
	}
	return ts, rows.Err()
}
