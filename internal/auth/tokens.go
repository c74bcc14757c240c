package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"time"
)

// APITokenPrefix starts every API token, so that a leaked one is easy to
// recognise (and for secret scanners).
const APITokenPrefix = "dyq_"

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewSessionToken returns a new random session token: 32 bytes, base64url.
func NewSessionToken() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// NewCSRFToken returns a new random form token: 32 bytes, base64url.
func NewCSRFToken() string {
	return base64.RawURLEncoding.EncodeToString(randomBytes(32))
}

// NewAPIToken returns a new API token: "dyq_" and the lower-case base32
// of 32 random bytes (56 characters in all).
func NewAPIToken() string {
	return APITokenPrefix + strings.ToLower(b32.EncodeToString(randomBytes(32)))
}

// IsAPIToken reports whether s has the shape of an API token.
func IsAPIToken(s string) bool {
	rest, ok := strings.CutPrefix(s, APITokenPrefix)
	if !ok || len(rest) != 52 {
		return false
	}
	_, err := b32.DecodeString(strings.ToUpper(rest))
	return err == nil
}

// HashToken returns the hex SHA-256 of a session or API token, which is
// what storage keeps: a stolen table gives no usable token. The tokens
// carry 256 random bits, so a fast hash is enough.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails: crypto/rand crashes the program instead
	return b
}

// Lockout back-off: the first LockoutFree failures in a row cost nothing;
// then each failure locks the account for LockoutBase, doubling, up to
// LockoutMax.
const (
	LockoutFree = 4
	LockoutBase = time.Minute
	LockoutMax  = time.Hour
)

// LockoutDelay is how long an account stays locked after its failures-th
// failed sign-in in a row: 0 for the first four, then 1 min, 2, 4, … up to
// 1 h.
func LockoutDelay(failures int) time.Duration {
	if failures <= LockoutFree {
		return 0
	}
	d := LockoutBase
	for i := LockoutFree + 1; i < failures; i++ {
		d *= 2
		if d >= LockoutMax {
			return LockoutMax
		}
	}
	return d
}
