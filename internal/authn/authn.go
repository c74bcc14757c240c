package authn

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/storage"
)

// CookieName is the session cookie's name.
const CookieName = "dayaq_session"

// CSRFField is the name of the hidden input that carries the session's
// form token in every state-changing form; htmx requests may send it in
// the CSRFHeader instead.
const (
	CSRFField  = "csrf"
	CSRFHeader = "X-CSRF-Token"
)

// Store is what authn needs of storage.
type Store interface {
	UserByEmail(ctx context.Context, email string) (storage.User, error)
	UserByID(ctx context.Context, id int64) (storage.User, error)
	PrincipalForUser(ctx context.Context, id int64) (access.Principal, error)
	RecordLoginFailure(ctx context.Context, id int64, lockout func(int) time.Duration) (time.Time, error)
	RecordLoginSuccess(ctx context.Context, id int64) error
	SetPasswordHash(ctx context.Context, id int64, hash string) error

	CreateSession(ctx context.Context, ns storage.NewSession) (storage.Session, error)
	SessionByTokenHash(ctx context.Context, hash string) (storage.Session, error)
	MarkSessionMFA(ctx context.Context, id int64, tokenHash, csrf string) (storage.Session, error)
	DeleteSession(ctx context.Context, id int64) error
	DeleteUserSessions(ctx context.Context, userID int64) (int, error)

	SetTOTPSecret(ctx context.Context, id int64, secret string) error
	EnableTOTP(ctx context.Context, a audit.Actor, id int64, step int64, codeHashes []string) error
	UseTOTPStep(ctx context.Context, id int64, step int64) (bool, error)
	UseRecoveryCode(ctx context.Context, id int64, codeHash string) (bool, error)
	RecoveryCodesLeft(ctx context.Context, id int64) (int, error)

	CreateAPIToken(ctx context.Context, a audit.Actor, nt storage.NewAPIToken) (storage.APIToken, error)
	APITokenByHash(ctx context.Context, hash string) (storage.APIToken, error)
	RevokeAPIToken(ctx context.Context, a audit.Actor, userID, id int64) error
	ListAPITokens(ctx context.Context, userID int64) ([]storage.APIToken, error)

	RecordAudit(ctx context.Context, e audit.Event) error
}

// Config configures Authn.
type Config struct {
	Catalog *i18n.Catalog // for the problem documents of refused API requests
	Log     *slog.Logger
	// MaxHashing is how many password hashes may be computed at once
	// (each takes 64 MiB); default 4.
	MaxHashing int
}

// Authn signs people in and resolves who is acting in each request.
type Authn struct {
	store Store
	now   func() time.Time
	cfg   Config
	hash  chan struct{}   // a semaphore on password hashing
	down  *httpx.Throttle // the database-down warning, once a minute
}

// New returns an Authn over store, reading time from clock (the same clock
// as storage's, so that lockouts and sessions agree).
func New(store Store, clock func() time.Time, cfg Config) *Authn {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Catalog == nil {
		cfg.Catalog = i18n.MustLoad()
	}
	if cfg.MaxHashing <= 0 {
		cfg.MaxHashing = 4
	}
	return &Authn{store: store, now: clock, cfg: cfg, hash: make(chan struct{}, cfg.MaxHashing), down: httpx.NewThrottle(time.Minute)}
}

// Now is the clock's time.
func (a *Authn) Now() time.Time { return a.now() }

// Pending is a session that has passed the password but still owes its
// second factor: to type a TOTP code (Enrol false) or to set one up first
// (Enrol true). It gives access only to those steps.
type Pending struct {
	SessionID int64
	UserID    int64
	CSRFToken string
}

const pendingKey ctxKey = 100

// WithPending returns ctx carrying the pending session p.
func WithPending(ctx context.Context, p Pending) context.Context {
	return context.WithValue(ctx, pendingKey, p)
}

// PendingFrom returns the half-signed-in session of ctx, if any.
func PendingFrom(ctx context.Context) (Pending, bool) {
	p, ok := ctx.Value(pendingKey).(Pending)
	return p, ok
}

// Middleware resolves who is acting: an API bearer token (Authorization:
// Bearer dyq_…) or the session cookie. A fully signed-in session puts its
// principal and Session in the context; a session that still owes its
// second factor puts only a Pending. A bearer token that is not valid
// (unknown, revoked, expired, or its user disabled) is answered 401 at
// once: the client claimed an identity it does not have.
func (a *Authn) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			scheme, tok, _ := strings.Cut(h, " ")
			if !strings.EqualFold(scheme, "Bearer") {
				a.Problem(w, r, apperr.New(apperr.Unauthorized, "tokens.error.invalid"))
				return
			}
			p, err := a.principalForToken(ctx, strings.TrimSpace(tok))
			if err != nil {
				a.Problem(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(ctx, p)))
			return
		}
		c, err := r.Cookie(CookieName)
		if err != nil || c.Value == "" {
			next.ServeHTTP(w, r)
			return
		}
		s, err := a.store.SessionByTokenHash(ctx, auth.HashToken(c.Value))
		if apperr.CodeOf(err) == apperr.Unauthorized {
			// A stale or forged cookie: forget it, carry on as a visitor.
			ClearCookie(w, r)
			next.ServeHTTP(w, r)
			return
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		if !s.MFADone {
			next.ServeHTTP(w, r.WithContext(WithPending(ctx, Pending{SessionID: s.ID, UserID: s.UserID, CSRFToken: s.CSRFToken})))
			return
		}
		p, err := a.store.PrincipalForUser(ctx, s.UserID)
		if apperr.CodeOf(err) == apperr.Unauthorized { // disabled since
			_ = a.store.DeleteSession(ctx, s.ID)
			ClearCookie(w, r)
			next.ServeHTTP(w, r)
			return
		}
		if err != nil {
			a.fail(w, r, err)
			return
		}
		ctx = WithSession(WithPrincipal(ctx, p), Session{ID: s.ID, CSRFToken: s.CSRFToken})
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

func (a *Authn) principalForToken(ctx context.Context, tok string) (access.Principal, error) {
	invalid := apperr.New(apperr.Unauthorized, "tokens.error.invalid")
	if !auth.IsAPIToken(tok) {
		return access.Principal{}, invalid
	}
	t, err := a.store.APITokenByHash(ctx, auth.HashToken(tok))
	if err != nil {
		return access.Principal{}, err
	}
	p, err := a.store.PrincipalForUser(ctx, t.UserID)
	if apperr.CodeOf(err) == apperr.Unauthorized {
		return access.Principal{}, invalid
	}
	if err != nil {
		return access.Principal{}, err
	}
	p.Scopes = t.Scopes
	if p.Scopes == nil {
		p.Scopes = []access.Scope{} // a token always limits: never "everything the roles allow"
	}
	return p, nil
}

// fail answers a request whose credentials could not be checked (the
// database is down): closed, never open.
// A database that cannot be reached is said once a minute, not once a
// request (ADR 0028); any other failure is logged each time.
func (a *Authn) fail(w http.ResponseWriter, r *http.Request, err error) {
	e := &apperr.Error{Code: apperr.Unavailable, Key: "error.unavailable", Err: err}
	if apperr.CodeOf(storage.Classify(err)) == apperr.Unavailable {
		e.Key = "ops.error.db_unavailable"
		if a.down.Allow(time.Now()) {
			a.cfg.Log.WarnContext(r.Context(), "authn: database not available; answering requests with a retry (logged once a minute)", "err", err)
		}
	} else {
		a.cfg.Log.ErrorContext(r.Context(), "authn: cannot check credentials", "err", err, "request_id", httpx.RequestID(r.Context()))
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		a.Problem(w, r, e)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	httpx.ErrorHeaders(w.Header(), http.StatusServiceUnavailable)
	http.Error(w, a.cfg.Catalog.T(httpx.Lang(r.Context()), e.Key), http.StatusServiceUnavailable)
}

// Problem answers err as an RFC 9457 problem document in the request's
// language, the shape the API answers with.
func (a *Authn) Problem(w http.ResponseWriter, r *http.Request, err error) {
	e := apperr.As(storage.Classify(err))
	status := httpx.Status(e)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="dayaq"`)
	}
	httpx.ErrorHeaders(w.Header(), status)
	if apperr.Transient(e.Code) {
		if a.down.Allow(time.Now()) {
			a.cfg.Log.WarnContext(r.Context(), "authn: database not available; answering requests with a retry (logged once a minute)", "err", err)
		}
	} else if status >= 500 {
		a.cfg.Log.ErrorContext(r.Context(), "authn failed", "err", err, "request_id", httpx.RequestID(r.Context()))
	}
	lang := httpx.Lang(r.Context())
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.Header().Set("Content-Language", string(lang))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"type":       "urn:dayaq:problem:" + string(e.Code),
		"title":      a.cfg.Catalog.T(lang, "problem."+string(e.Code)),
		"status":     status,
		"detail":     a.cfg.Catalog.T(lang, e.Key, e.Args...),
		"instance":   r.URL.Path,
		"request_id": httpx.RequestID(r.Context()),
	})
}

// RequireWeb sends a visitor who is not fully signed in to the sign-in
// page, remembering where they were going.
func RequireWeb(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !PrincipalFrom(r.Context()).Authenticated() {
			RedirectToSignIn(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// RedirectToSignIn sends the browser to /signin?next=<this page>.
func RedirectToSignIn(w http.ResponseWriter, r *http.Request) {
	target := "/signin"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// RequireAPI answers 401 with a problem document when no one is signed in.
func (a *Authn) RequireAPI(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !PrincipalFrom(r.Context()).Authenticated() {
			a.Problem(w, r, apperr.New(apperr.Unauthorized, "signin.error.required"))
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Required returns the principal of ctx, or an Unauthorized error when no
// one is signed in (for handlers that return errors).
func Required(ctx context.Context) (access.Principal, error) {
	p := PrincipalFrom(ctx)
	if !p.Authenticated() {
		return p, apperr.New(apperr.Unauthorized, "signin.error.required")
	}
	return p, nil
}

// ErrCSRF is the error of a state-changing form without the session's
// form token.
var ErrCSRF = apperr.New(apperr.Forbidden, "error.csrf")

// CheckCSRF checks that r carries the form token of its browser session
// (fully or half signed in) in the csrf form field or the X-CSRF-Token
// header, comparing in constant time. Requests authenticated by an API
// token need none: a browser never sends one by itself.
func CheckCSRF(r *http.Request) error {
	want := ""
	if s, ok := SessionFrom(r.Context()); ok {
		want = s.CSRFToken
	} else if p, ok := PendingFrom(r.Context()); ok {
		want = p.CSRFToken
	} else if PrincipalFrom(r.Context()).Authenticated() {
		return nil // bearer token
	}
	got := r.Header.Get(CSRFHeader)
	if got == "" {
		got = r.PostFormValue(CSRFField)
	}
	if want == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return ErrCSRF
	}
	return nil
}

// CSRFToken returns the form token for ctx's session, "" when there is no
// session (the sign-in form, which the cross-origin check protects).
func CSRFToken(ctx context.Context) string {
	if s, ok := SessionFrom(ctx); ok {
		return s.CSRFToken
	}
	if p, ok := PendingFrom(ctx); ok {
		return p.CSRFToken
	}
	return ""
}

// SetCookie gives the browser the session token: HttpOnly, SameSite=Lax,
// Secure over HTTPS, for the whole site, ending with the browser session
// (the server ends it sooner: see storage.IdleTimeout).
func SetCookie(w http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: token, Path: "/", HttpOnly: true,
		Secure: httpx.IsHTTPS(r), SameSite: http.SameSiteLaxMode})
}

// ClearCookie tells the browser to drop the session cookie.
func ClearCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: CookieName, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: httpx.IsHTTPS(r), SameSite: http.SameSiteLaxMode})
}

// SafeNext returns next when it is a path on this site, "/" otherwise,
// so that ?next= cannot send a user elsewhere after sign-in.
func SafeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") ||
		strings.ContainsAny(next, "\r\n\t") || strings.HasPrefix(next, "/signin") || strings.HasPrefix(next, "/signout") {
		return "/"
	}
	return next
}

// errLocked and errWrong are the sign-in refusals a person sees.
func errWrong() error { return apperr.New(apperr.Unauthorized, "signin.error.wrong") }

func errLocked(until time.Time) error {
	return apperr.New(apperr.Unauthorized, "signin.error.locked", until.In(Baku).Format("15:04"))
}

// Baku is Azerbaijan's time (UTC+4, no daylight saving since 2016), in
// which lockout times are shown.
var Baku = time.FixedZone("AZT", 4*3600)
