package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/auth"
	"dayaq/internal/authn"
	"dayaq/internal/storage"
)

// accountRoutes are sign-in, the second factor, sign-out and the account
// pages.
func (w *Web) accountRoutes() []route {
	return []route{
		{"GET /signin", w.signIn},
		{"POST /signin", w.signInPost},
		{"GET /signin/totp", w.signInTOTP},
		{"POST /signin/totp", w.csrf(w.signInTOTPPost)},
		{"GET /account/totp", w.totpEnrol},
		{"POST /account/totp", w.csrf(w.totpEnrolPost)},
		{"POST /signout", w.csrf(w.signOut)},
		{"GET /account", w.signedIn(w.account)},
		{"POST /account/signout-all", w.signedIn(w.signOutAll)},
		{"GET /account/tokens", w.signedIn(w.tokens)},
		{"POST /account/tokens", w.signedIn(w.tokenCreate)},
		{"POST /account/tokens/{id}/revoke", w.signedIn(w.tokenRevoke)},
	}
}

// csrf checks the form token of a state-changing request by a session that
// may be only half signed in (the second-factor steps, sign-out).
func (w *Web) csrf(h handlerFunc) handlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) error {
		if err := authn.CheckCSRF(r); err != nil {
			return err
		}
		return h(rw, r)
	}
}

// ErrorHandler renders err as an error page (for refusals decided outside
// the route table, such as the cross-origin check).
func (w *Web) ErrorHandler(err error) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { w.renderError(rw, r, err) })
}

// signInData is the sign-in form as typed, and what was wrong with it.
type signInData struct {
	Email string
	Next  string
	Error string // the translated message
}

// nextOf is the page to go to after signing in, from ?next= or the form.
func nextOf(r *http.Request) string {
	n := r.FormValue("next")
	if n == "" {
		return "/"
	}
	return authn.SafeNext(n)
}

// withNext adds ?next= to path unless next is the home page.
func withNext(path, next string) string {
	if next == "/" || next == "" {
		return path
	}
	return path + "?next=" + url.QueryEscape(next)
}

func (w *Web) signIn(rw http.ResponseWriter, r *http.Request) error {
	// A signed-in user may sign in again (as someone else): the new
	// session replaces the old one.
	return w.render(rw, http.StatusOK, "signin", w.page(r, "signin.title", signInData{Next: nextOf(r)}))
}

func (w *Web) signInPost(rw http.ResponseWriter, r *http.Request) error {
	next := nextOf(r)
	email := strings.TrimSpace(r.PostFormValue("email"))
	res, err := w.authn.SignIn(r.Context(), email, r.PostFormValue("password"), authn.MetaFrom(r))
	if err != nil {
		e := apperr.As(err)
		if e.Code != apperr.Unauthorized {
			return err
		}
		p := w.page(r, "signin.title", nil)
		p.Data = signInData{Email: email, Next: next, Error: p.L.T(e.Key, e.Args...)}
		return w.render(rw, http.StatusUnauthorized, "signin", p)
	}
	authn.SetCookie(rw, r, res.Token)
	switch res.Next {
	case authn.StepTOTP:
		next = withNext("/signin/totp", next)
	case authn.StepEnrol:
		next = withNext("/account/totp", next)
	}
	http.Redirect(rw, r, next, http.StatusSeeOther)
	return nil
}

// totpData is the second-factor form.
type totpData struct {
	Next  string
	Error string // translated
}

func (w *Web) signInTOTP(rw http.ResponseWriter, r *http.Request) error {
	next := nextOf(r)
	pend, ok := authn.PendingFrom(r.Context())
	if !ok {
		if authn.PrincipalFrom(r.Context()).Authenticated() {
			http.Redirect(rw, r, next, http.StatusSeeOther)
		} else {
			http.Redirect(rw, r, "/signin", http.StatusSeeOther)
		}
		return nil
	}
	u, err := w.authn.User(r.Context(), pend.UserID)
	if err != nil {
		return err
	}
	if !u.TOTPEnabled {
		http.Redirect(rw, r, withNext("/account/totp", next), http.StatusSeeOther)
		return nil
	}
	return w.render(rw, http.StatusOK, "signin_totp", w.page(r, "totp.title", totpData{Next: next}))
}

func (w *Web) signInTOTPPost(rw http.ResponseWriter, r *http.Request) error {
	next := nextOf(r)
	pend, ok := authn.PendingFrom(r.Context())
	if !ok {
		http.Redirect(rw, r, "/signin", http.StatusSeeOther)
		return nil
	}
	tok, err := w.authn.VerifySecondFactor(r.Context(), pend, r.PostFormValue("code"), authn.MetaFrom(r))
	if err != nil {
		e := apperr.As(err)
		switch {
		case e.Code == apperr.Invalid:
			p := w.page(r, "totp.title", nil)
			p.Data = totpData{Next: next, Error: p.L.T(e.Key, e.Args...)}
			return w.render(rw, http.StatusUnprocessableEntity, "signin_totp", p)
		case e.Code == apperr.Unauthorized: // locked or gone: start again
			authn.ClearCookie(rw, r)
			p := w.page(r, "signin.title", nil)
			p.CSRF = ""
			p.Data = signInData{Next: next, Error: p.L.T(e.Key, e.Args...)}
			return w.render(rw, http.StatusUnauthorized, "signin", p)
		}
		return err
	}
	authn.SetCookie(rw, r, tok)
	http.Redirect(rw, r, next, http.StatusSeeOther)
	return nil
}

// enrolData is the authenticator set-up page.
type enrolData struct {
	Next          string
	QRCode        template.URL // data: URI of a PNG that auth made (html/template refuses a plain string)
	Secret        string       // grouped in fours
	Account       string
	Error         string // translated
	RecoveryCodes []string
}

// enrolling returns the user setting up an authenticator: a pending
// session's, or a signed-in user's; 0 for a visitor.
func enrolling(r *http.Request) (userID, pendingSession int64) {
	if pend, ok := authn.PendingFrom(r.Context()); ok {
		return pend.UserID, pend.SessionID
	}
	return authn.PrincipalFrom(r.Context()).UserID, 0
}

func (w *Web) totpEnrol(rw http.ResponseWriter, r *http.Request) error {
	return w.renderEnrol(rw, r, http.StatusOK, "")
}

func (w *Web) renderEnrol(rw http.ResponseWriter, r *http.Request, status int, errText string) error {
	next := nextOf(r)
	userID, pending := enrolling(r)
	if userID == 0 {
		authn.RedirectToSignIn(rw, r)
		return nil
	}
	e, err := w.authn.StartEnrolment(r.Context(), userID)
	if apperr.CodeOf(err) == apperr.Conflict { // set up already
		if pending != 0 {
			http.Redirect(rw, r, withNext("/signin/totp", next), http.StatusSeeOther)
		} else {
			http.Redirect(rw, r, "/account", http.StatusSeeOther)
		}
		return nil
	}
	if err != nil {
		return err
	}
	d := enrolData{Next: next, QRCode: qrURL(e.QRCode), Secret: auth.FormatTOTPSecret(e.Secret), Account: e.Account, Error: errText}
	return w.render(rw, status, "totp_enrol", w.page(r, "totp.enrol.title", d))
}

func (w *Web) totpEnrolPost(rw http.ResponseWriter, r *http.Request) error {
	next := nextOf(r)
	userID, pending := enrolling(r)
	if userID == 0 {
		http.Redirect(rw, r, "/signin", http.StatusSeeOther)
		return nil
	}
	tok, codes, err := w.authn.ConfirmEnrolment(r.Context(), userID, pending, r.PostFormValue("code"), authn.MetaFrom(r))
	if apperr.CodeOf(err) == apperr.Invalid {
		return w.renderEnrol(rw, r, http.StatusUnprocessableEntity, w.page(r, "", nil).L.T(apperr.As(err).Key))
	}
	if err != nil {
		return err
	}
	if tok != "" {
		authn.SetCookie(rw, r, tok)
	}
	p := w.page(r, "totp.recovery.title", enrolData{Next: next, RecoveryCodes: codes})
	p.CSRF = "" // the session's form token changed with the new token
	return w.render(rw, http.StatusOK, "recovery_codes", p)
}

func (w *Web) signOut(rw http.ResponseWriter, r *http.Request) error {
	id := int64(0)
	if s, ok := authn.SessionFrom(r.Context()); ok {
		id = s.ID
	} else if p, ok := authn.PendingFrom(r.Context()); ok {
		id = p.SessionID
	}
	if id != 0 {
		if err := w.authn.SignOut(r.Context(), id, authn.ActorFrom(r)); err != nil {
			return err
		}
	}
	authn.ClearCookie(rw, r)
	http.Redirect(rw, r, "/signin", http.StatusSeeOther)
	return nil
}

func (w *Web) signOutAll(rw http.ResponseWriter, r *http.Request) error {
	if _, err := w.authn.SignOutEverywhere(r.Context(), authn.ActorFrom(r)); err != nil {
		return err
	}
	authn.ClearCookie(rw, r)
	http.Redirect(rw, r, "/signin", http.StatusSeeOther)
	return nil
}

// accountData is the account page.
type accountData struct {
	User          storage.User
	Roles         []access.Role
	RecoveryCodes int
}

func (w *Web) account(rw http.ResponseWriter, r *http.Request) error {
	p := authn.PrincipalFrom(r.Context())
	u, err := w.authn.User(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	n := 0
	if u.TOTPEnabled {
		if n, err = w.authn.RecoveryCodesLeft(r.Context(), u.ID); err != nil {
			return err
		}
	}
	return w.render(rw, http.StatusOK, "account", w.page(r, "account.title", accountData{User: u, Roles: u.Roles, RecoveryCodes: n}))
}

// tokensData is the API tokens page.
type tokensData struct {
	Tokens     []tokenRow
	NewToken   string // shown once, right after it is made
	Name       string // the form as typed
	Scopes     string
	Days       int
	DayChoices []int // the lifetimes offered
	Error      string
	Field      string // the field at fault
}

// tokenRow is one token in the list.
type tokenRow struct {
	storage.APIToken
	Status string // catalogue key
}

var tokenDays = []int{7, 30, 90, 365}

func (w *Web) tokensPage(rw http.ResponseWriter, r *http.Request, status int, d tokensData) error {
	p := authn.PrincipalFrom(r.Context())
	ts, err := w.authn.Tokens(r.Context(), p.UserID)
	if err != nil {
		return err
	}
	now := w.authn.Now()
	for _, t := range ts {
		st := "tokens.status.active"
		switch {
		case !t.RevokedAt.IsZero():
			st = "tokens.status.revoked"
		case !now.Before(t.ExpiresAt):
			st = "tokens.status.expired"
		}
		d.Tokens = append(d.Tokens, tokenRow{APIToken: t, Status: st})
	}
	d.DayChoices = tokenDays
	if d.Days == 0 {
		d.Days = 30
	}
	if d.Scopes == "" {
		d.Scopes = "read"
	}
	return w.render(rw, status, "tokens", w.page(r, "tokens.title", d))
}

func (w *Web) tokens(rw http.ResponseWriter, r *http.Request) error {
	return w.tokensPage(rw, r, http.StatusOK, tokensData{})
}

func (w *Web) tokenCreate(rw http.ResponseWriter, r *http.Request) error {
	d := tokensData{Name: strings.TrimSpace(r.PostFormValue("name")), Scopes: r.PostFormValue("scopes")}
	d.Days, _ = strconv.Atoi(r.PostFormValue("days"))
	scopes, ok := storage.ParseScopes(d.Scopes)
	if !ok {
		scopes = []access.Scope{"?"} // storage reports the field
	}
	days := d.Days
	if days <= 0 || days > 366 {
		days = -1 // storage reports the field
	}
	tok, _, err := w.authn.CreateToken(r.Context(), authn.ActorFrom(r), d.Name, scopes, w.authn.Now().Add(time.Duration(days)*24*time.Hour))
	if err != nil {
		e := apperr.As(err)
		if e.Code != apperr.Invalid || len(e.Fields) == 0 {
			return err
		}
		l := w.page(r, "", nil).L
		d.Field, d.Error = e.Fields[0].Field, l.T(e.Fields[0].Key, e.Fields[0].Args...)
		return w.tokensPage(rw, r, http.StatusUnprocessableEntity, d)
	}
	return w.tokensPage(rw, r, http.StatusOK, tokensData{NewToken: tok})
}

func (w *Web) tokenRevoke(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := w.authn.RevokeToken(r.Context(), authn.ActorFrom(r), id); err != nil {
		return err
	}
	http.Redirect(rw, r, "/account/tokens", http.StatusSeeOther)
	return nil
}

// qrURL marks the QR code's data: URI safe for an <img src>, which
// html/template would otherwise replace with "#ZgotmplZ". Only a PNG data
// URI passes.
func qrURL(s string) template.URL {
	if !strings.HasPrefix(s, "data:image/png;base64,") {
		return ""
	}
	return template.URL(s)
}
