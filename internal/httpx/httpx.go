// Package httpx holds what every HTTP surface of Dayaq shares: request IDs,
// the user's language, client addresses and security headers. It knows
// nothing of routes or pages.
package httpx

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"net/http"
	"regexp"
	"strings"
	"time"

	"dayaq/internal/i18n"
)

type ctxKey int

const (
	requestIDKey ctxKey = iota
	langKey
)

// LangCookie remembers the user's language choice.
const LangCookie = "dayaq_lang"

var requestIDRE = regexp.MustCompile(`^[A-Za-z0-9._-]{8,64}$`)

// RequestIDs gives every request an ID, taken from a well-formed
// X-Request-ID header or made anew, and echoes it in the response.
func RequestIDs(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("X-Request-ID")
		if !requestIDRE.MatchString(id) {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		w.Header().Set("X-Request-ID", id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDKey, id)))
	})
}

// RequestID returns the request's ID, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey).(string)
	return id
}

// Anonymous reports whether path belongs to the children's anonymous
// channel ("Mənimlə danış": /danis and /api/v1/danis). For those routes
// nothing that could identify the client is kept: the request log records
// the route and the status only, and no cookie is set but the one the
// channel's open page needs (ADR 0024).
func Anonymous(path string) bool {
	for _, p := range []string{"/danis", "/api/v1/danis"} {
		if path == p || strings.HasPrefix(path, p+"/") {
			return true
		}
	}
	return false
}

// Languages resolves the user's language: ?lang= (which is also remembered
// in a cookie for a year, except on the anonymous channel), then the
// cookie, then Accept-Language, then Azerbaijani.
func Languages(cat *i18n.Catalog) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			lang, ok := i18n.Parse(r.URL.Query().Get("lang"))
			if ok && !Anonymous(r.URL.Path) {
				http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: string(lang), Path: "/",
					MaxAge: int((365 * 24 * time.Hour).Seconds()), HttpOnly: true, Secure: IsHTTPS(r),
					SameSite: http.SameSiteLaxMode})
			} else if c, err := r.Cookie(LangCookie); !ok && err == nil {
				lang, ok = i18n.Parse(c.Value)
			}
			if !ok {
				lang = cat.Match(r.Header.Get("Accept-Language"))
			}
			w.Header().Add("Vary", "Accept-Language, Cookie")
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), langKey, lang)))
		})
	}
}

// Lang returns the request's language, or the default.
func Lang(ctx context.Context) i18n.Lang {
	if l, ok := ctx.Value(langKey).(i18n.Lang); ok {
		return l
	}
	return i18n.Default
}

// IsHTTPS reports whether the client reached us over TLS, directly or
// through a proxy that says so.
func IsHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// ClientIP returns the client's address without the port.
func ClientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// SecurityHeaders sets the headers every response carries: a strict content
// security policy (no inline script or style), no framing, no sniffing, no
// referrer leaking a record's URL.
func SecurityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		if IsHTTPS(r) {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r)
	})
}
