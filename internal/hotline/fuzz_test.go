package hotline

import (
	"strings"
	"testing"
)

// FuzzNormalizePhone feeds any text to the caller-number normaliser (seeds
// in testdata/fuzz/FuzzNormalizePhone). A number it takes is in its
// international form (+ and 8 to 15 digits) or a short service number (3
// to 6 digits), normalising it again changes nothing, and its mask shows
// neither the whole number nor more than four of the subscriber's digits.
func FuzzNormalizePhone(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := NormalizePhone(s)
		if !ok {
			if n != "" {
				t.Fatalf("refused %q but returned %q", s, n)
			}
			return
		}
		digits := strings.TrimPrefix(n, "+")
		if strings.Trim(digits, "0123456789") != "" {
			t.Fatalf("%q → %q: not digits", s, n)
		}
		switch {
		case strings.HasPrefix(n, "+"):
			if len(digits) < 8 || len(digits) > 15 {
				t.Fatalf("%q → %q: %d digits", s, n, len(digits))
			}
			if m := MaskPhone(n); strings.Contains(strings.ReplaceAll(m, " ", ""), digits) {
				t.Fatalf("mask %q shows the whole number %q", m, n)
			}
		case len(n) < 3 || len(n) > 6:
			t.Fatalf("%q → short number %q", s, n)
		}
		if again, ok := NormalizePhone(n); !ok || again != n {
			t.Fatalf("%q → %q → %q (%v): not stable", s, n, again, ok)
		}
	})
}
