// Package authn signs people in and tells every handler who is acting: it
// resolves a session cookie or an API bearer token into an
// access.Principal carried in the request's context.
package authn

import (
	"context"

	"dayaq/internal/access"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	sessionKey
)

// Session is what a handler may know of the browser session behind a
// request.
type Session struct {
	ID        int64
	CSRFToken string // the form token that state-changing forms must carry
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p access.Principal) context.Context {
	return context.WithValue(ctx, principalKey, p)
}

// PrincipalFrom returns the principal acting in ctx; the zero Principal
// (not authenticated) when nobody is signed in.
func PrincipalFrom(ctx context.Context) access.Principal {
	p, _ := ctx.Value(principalKey).(access.Principal)
	return p
}

// WithSession returns ctx carrying the browser session s.
func WithSession(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, sessionKey, s)
}

// SessionFrom returns the browser session of ctx, if any.
func SessionFrom(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey).(Session)
	return s, ok
}
