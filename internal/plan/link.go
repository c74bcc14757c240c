package plan

import (
	"crypto/rand"
	"crypto/subtle"
	"math/big"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/auth"
)

// Parent links: a parent takes part without an account through a link the
// school sends by SMS (or a short code printed in a letter). The link
// carries only a random token; storage keeps its hash. Before the page
// shows anything it asks for the child's date of birth, which a forwarded
// SMS does not carry, with MaxTries tries before the link locks (ADR 0021).
const (
	DefaultLinkLifetime = 14 * 24 * time.Hour
	MaxLinkLifetime     = 60 * 24 * time.Hour
	MaxTries            = 5
	// UnlockedFor is how long a parent's page stays open after the birth
	// date was given, before it asks again.
	UnlockedFor = 30 * time.Minute
	codeLen     = 8
)

// codeAlphabet leaves out letters and digits people confuse (0 O 1 I L).
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// NewLinkToken returns a new link token (256 random bits, lower-case
// base32, so that it is a plain path segment in an SMS), a
// short code for a printed letter, and the hashes storage keeps of each.
func NewLinkToken() (token, code string, tokenHash, codeHash string) {
	token = strings.TrimPrefix(auth.NewAPIToken(), auth.APITokenPrefix)
	var b strings.Builder
	for range codeLen {
		n, _ := rand.Int(rand.Reader, big.NewInt(int64(len(codeAlphabet))))
		b.WriteByte(codeAlphabet[n.Int64()])
	}
	code = b.String()
	return token, code, auth.HashToken(token), HashCode(code)
}

// NormalizeCode reads a short code as a parent types it: case, spaces and
// dashes do not matter.
func NormalizeCode(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == ' ' || r == '-':
			return -1
		case r >= 'a' && r <= 'z':
			return r - 'a' + 'A'
		}
		return r
	}, s)
}

// HashCode is the hash storage keeps of a short code.
func HashCode(code string) string { return auth.HashToken("code:" + NormalizeCode(code)) }

// LinkState is what a link allows now.
type LinkState string

const (
	LinkOpen    LinkState = "open"
	LinkExpired LinkState = "expired"
	LinkRevoked LinkState = "revoked"
	LinkLocked  LinkState = "locked"
)

// Link is a parent link as storage keeps it.
type Link struct {
	ID        int64
	PlanID    int64
	ParentID  int64
	CreatedAt time.Time
	ExpiresAt time.Time
	RevokedAt time.Time
	Failures  int // wrong birth dates in a row
	LockedAt  time.Time
	LastUsed  time.Time
}

// State reports what l allows at now: revoked and locked win over expired,
// so the parent is told the plainest reason.
func (l Link) State(now time.Time) LinkState {
	switch {
	case !l.RevokedAt.IsZero():
		return LinkRevoked
	case !l.LockedAt.IsZero():
		return LinkLocked
	case !now.Before(l.ExpiresAt):
		return LinkExpired
	}
	return LinkOpen
}

// Lifetime checks the lifetime a sender asked for: 0 means the default.
func Lifetime(d time.Duration) (time.Duration, error) {
	switch {
	case d == 0:
		return DefaultLinkLifetime, nil
	case d < time.Hour || d > MaxLinkLifetime:
		return 0, apperr.Validation(apperr.Field("lifetime_days", "plans.error.lifetime", int(MaxLinkLifetime.Hours()/24)))
	}
	return d, nil
}

// CheckBirthDate checks the date of birth a parent gave (given) against
// the child's (actual) and returns the link as it is after the try: a wrong
// date counts a failure, the MaxTries-th locks the link; a right one resets
// the count. It refuses a link that is not open.
func CheckBirthDate(l Link, given, actual time.Time, now time.Time) (Link, bool, error) {
	if s := l.State(now); s != LinkOpen {
		key := map[LinkState]string{LinkExpired: "plans.parent.link_expired", LinkRevoked: "plans.parent.link_revoked",
			LinkLocked: "plans.parent.link_locked"}[s]
		return l, false, apperr.New(apperr.Forbidden, key)
	}
	g, a := given.Format(time.DateOnly), actual.Format(time.DateOnly)
	if !given.IsZero() && !actual.IsZero() && subtle.ConstantTimeCompare([]byte(g), []byte(a)) == 1 {
		l.Failures, l.LastUsed = 0, now
		return l, true, nil
	}
	l.Failures++
	if l.Failures >= MaxTries {
		l.LockedAt = now
	}
	return l, false, nil
}

// TriesLeft is how many wrong dates l still allows.
func (l Link) TriesLeft() int { return max(0, MaxTries-l.Failures) }
