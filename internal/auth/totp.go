package auth

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"image/png"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// TOTP settings: what every authenticator app understands.
const (
	TOTPIssuer = "Dayaq"
	TOTPPeriod = 30 // seconds
	TOTPSkew   = 1  // periods before and after now that are accepted
	TOTPDigits = otp.DigitsSix
)

var totpOpts = totp.ValidateOpts{Period: TOTPPeriod, Skew: 0, Digits: TOTPDigits, Algorithm: otp.AlgorithmSHA1}

// NewTOTPSecret returns a new random TOTP secret: 20 bytes, base32 without
// padding (what authenticator apps take for manual entry).
func NewTOTPSecret() string {
	return b32.EncodeToString(randomBytes(20))
}

// TOTPURL is the otpauth:// URL of secret for account (an email address),
// which the QR code carries.
func TOTPURL(secret, account string) string {
	v := url.Values{}
	v.Set("secret", secret)
	v.Set("issuer", TOTPIssuer)
	v.Set("algorithm", "SHA1")
	v.Set("digits", "6")
	v.Set("period", fmt.Sprint(TOTPPeriod))
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + TOTPIssuer + ":" + account, RawQuery: v.Encode()}
	return u.String()
}

// TOTPQRCode returns the QR code of the otpauth URL as a PNG data: URI of
// size×size pixels, for an <img src>.
func TOTPQRCode(otpauthURL string, size int) (string, error) {
	key, err := otp.NewKeyFromURL(otpauthURL)
	if err != nil {
		return "", fmt.Errorf("auth: TOTP URL: %w", err)
	}
	img, err := key.Image(size, size)
	if err != nil {
		return "", fmt.Errorf("auth: QR code: %w", err)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return "", fmt.Errorf("auth: QR code PNG: %w", err)
	}
	return "data:image/png;base64," + base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

// FormatTOTPSecret groups a secret in fours for reading and typing.
func FormatTOTPSecret(secret string) string {
	var b strings.Builder
	for i, r := range secret {
		if i > 0 && i%4 == 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// TOTPCode returns the code of secret at t (tests and the demo's helper
// use it).
func TOTPCode(secret string, t time.Time) (string, error) {
	return totp.GenerateCodeCustom(secret, t, totpOpts)
}

// TOTPStep is the number of the 30-second period t falls in.
func TOTPStep(t time.Time) int64 { return t.Unix() / TOTPPeriod }

// ValidateTOTP checks code against secret at now, accepting the period
// before and after (clock drift). It returns the step the code belongs to,
// so that storage can refuse a code that was used already (replay).
func ValidateTOTP(secret, code string, now time.Time) (step int64, ok bool) {
	code = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
	if len(code) != TOTPDigits.Length() {
		return 0, false
	}
	base := TOTPStep(now)
	for _, d := range []int64{0, -1, 1} { // TOTPSkew periods either side
		s := base + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*TOTPPeriod, 0), totpOpts)
		if err != nil {
			return 0, false
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// RecoveryCodeCount is how many recovery codes a user gets.
const RecoveryCodeCount = 10

// recoveryAlphabet has lower-case letters and digits without 0/o, 1/l/i.
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// NewRecoveryCodes returns RecoveryCodeCount fresh codes, xxxx-xxxx each
// (about 39 bits; guessing is held back by the lockout).
func NewRecoveryCodes() []string {
	codes := make([]string, RecoveryCodeCount)
	for i := range codes {
		var b [9]byte
		for j := range b {
			if j == 4 {
				b[j] = '-'
				continue
			}
			b[j] = recoveryAlphabet[randIntn(len(recoveryAlphabet))]
		}
		codes[i] = string(b[:])
	}
	return codes
}

// NormalizeRecoveryCode puts a typed recovery code in its stored form:
// lower case, without spaces, with the hyphen after the fourth character.
// It returns "" when s cannot be a recovery code.
func NormalizeRecoveryCode(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(s)))
	if len(s) != 8 {
		return ""
	}
	for _, r := range s {
		if !strings.ContainsRune(recoveryAlphabet, r) {
			return ""
		}
	}
	return s[:4] + "-" + s[4:]
}

// HashRecoveryCode returns the hex SHA-256 of a normalised recovery code,
// which is what storage keeps.
func HashRecoveryCode(code string) string {
	sum := sha256.Sum256([]byte("dayaq-recovery:" + code))
	return hex.EncodeToString(sum[:])
}
