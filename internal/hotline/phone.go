package hotline

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// NormalizePhone turns a number as typed into its international form
// (+994501234567): spaces, dashes, dots and brackets are dropped; a local
// Azerbaijani number (0501234567, 501234567) gets +994; a number with 00
// gets +. It reports false for something that is not a phone number.
func NormalizePhone(s string) (string, bool) {
	var d strings.Builder
	plus := false
	for i, r := range strings.TrimSpace(s) {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case r == '+' && i == 0:
			plus = true
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')':
		default:
			return "", false
		}
	}
	n := d.String()
	switch {
	case plus:
	case strings.HasPrefix(n, "00"):
		n = n[2:]
	case strings.HasPrefix(n, "994") && len(n) == 12:
	case strings.HasPrefix(n, "0") && len(n) == 10:
		n = "994" + n[1:]
	case len(n) == 9:
		n = "994" + n
	case len(n) <= 6 && len(n) >= 3: // short service numbers (146, 102)
		return n, true
	default:
		return "", false
	}
	if len(n) < 8 || len(n) > 15 {
		return "", false
	}
	return "+" + n, true
}

// MaskPhone shows a normalized number without the digits that identify
// the caller: the country and operator codes and the last two digits
// (+994 50 *** ** 67). Short numbers are shown as they are.
func MaskPhone(n string) string {
	if !strings.HasPrefix(n, "+") {
		return n
	}
	digits := n[1:]
	if strings.HasPrefix(digits, "994") && len(digits) == 12 {
		return "+994 " + digits[3:5] + " *** ** " + digits[10:]
	}
	return "+" + digits[:min(3, len(digits))] + " " + strings.Repeat("*", max(0, len(digits)-5)) + " " + digits[len(digits)-2:]
}

// PhoneKey is the keyed hash that links the contacts of one number
// without storing it: HMAC-SHA256 of the normalized number under key.
// Without the key, the hash of a 9-digit number cannot be brute-forced.
func PhoneKey(key []byte, normalized string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("dayaq/hotline/phone\x00" + normalized))
	return hex.EncodeToString(m.Sum(nil))
}
