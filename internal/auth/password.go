// Package auth holds the pieces of signing in that do no I/O besides
// crypto/rand: password hashing with argon2id, password rules, random
// session and API tokens and their hashes, TOTP second factors, recovery
// codes and the lockout back-off. Storage keeps what it computes; authn
// and the web UI use it.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"dayaq/internal/apperr"
)

// Params are argon2id's cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams cost about 45 ms and 64 MiB per hash on two cores of a
// current server (measured with Go 1.26 on this project's build machine):
// slow for a guesser with a stolen table, quick enough for a sign-in. They
// are within OWASP's recommendations for argon2id (m ≥ 19 MiB).
var DefaultParams = Params{Memory: 64 * 1024, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32}

// ErrMalformedHash means a stored hash is not an argon2id PHC string.
var ErrMalformedHash = errors.New("auth: malformed password hash")

var b64 = base64.RawStdEncoding

// HashPassword hashes password with DefaultParams into a PHC string:
// $argon2id$v=19$m=65536,t=1,p=2$<salt>$<hash>.
func HashPassword(password string) (string, error) {
	return HashPasswordWith(DefaultParams, password)
}

// HashPasswordWith hashes password with the given parameters.
func HashPasswordWith(p Params, password string) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// decode parses a PHC string into its parameters, salt and key.
func decode(phc string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, ErrMalformedHash
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, ErrMalformedHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil ||
		p.Memory == 0 || p.Time == 0 || p.Threads == 0 {
		return p, nil, nil, ErrMalformedHash
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) == 0 {
		return p, nil, nil, ErrMalformedHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) == 0 {
		return p, nil, nil, ErrMalformedHash
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

// CheckPassword reports whether password matches the PHC string phc,
// comparing in constant time. A malformed phc is an error, never a match.
func CheckPassword(phc, password string) (bool, error) {
	p, salt, key, err := decode(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether phc was made with other parameters than
// DefaultParams (or cannot be read), so that it should be replaced by a
// new hash the next time the password is known.
func NeedsRehash(phc string) bool {
	p, _, _, err := decode(phc)
	return err != nil || p != DefaultParams
}

// dummyHash is checked against when a sign-in names no known user, so
// that the answer takes as long as for a known one.
var dummyHash = sync.OnceValue(func() string {
	h, _ := HashPassword("dayaq-dummy-password-for-timing")
	return h
})

// CheckDummy spends the time of one CheckPassword, for an unknown user.
func CheckDummy(password string) {
	_, _ = CheckPassword(dummyHash(), password)
}

// Password rules.
const (
	MinPasswordLen = 12   // characters
	MaxPasswordLen = 1000 // characters: longer input is a mistake or an attack
)

// ValidatePassword checks a new password against the rules: at least
// MinPasswordLen characters, at most MaxPasswordLen, and not the user's
// email address.
func ValidatePassword(password, email string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return apperr.Validation(apperr.Field("password", "account.error.password_short", MinPasswordLen))
	case n > MaxPasswordLen:
		return apperr.Validation(apperr.Field("password", "error.too_long", MaxPasswordLen))
	case email != "" && strings.EqualFold(strings.TrimSpace(password), strings.TrimSpace(email)):
		return apperr.Validation(apperr.Field("password", "account.error.password_is_email"))
	}
	return nil
}

// passwordAlphabet has no letters or digits that are easily confused.
const passwordAlphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// NewPassword returns a random password of 20 characters (about 115 bits),
// in groups of five for reading aloud: xxxxx-xxxxx-xxxxx-xxxxx.
func NewPassword() string {
	var b strings.Builder
	for i := range 20 {
		if i > 0 && i%5 == 0 {
			b.WriteByte('-')
		}
		b.WriteByte(passwordAlphabet[randIntn(len(passwordAlphabet))])
	}
	return b.String()
}

// randIntn returns a uniform random number in [0, n) from crypto/rand.
func randIntn(n int) int {
	var b [1]byte
	limit := 256 - 256%n // reject the biased tail
	for {
		if _, err := rand.Read(b[:]); err != nil {
			panic("auth: crypto/rand failed: " + err.Error()) // never on supported systems
		}
		if int(b[0]) < limit {
			return int(b[0]) % n
		}
	}
}
