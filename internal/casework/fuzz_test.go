package casework

import (
	"testing"
)

// FuzzParseDeadlines feeds any text to the case deadline specs of
// DAYAQ_CASE_DEADLINES (seeds in testdata/fuzz/FuzzParseDeadlines). It must
// not panic, and what it takes has a positive span for every stage of
// every severity.
func FuzzParseDeadlines(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDeadlines(s)
		if err != nil {
			return
		}
		for sev, sp := range d.By {
			if sp.Report <= 0 || sp.Respond <= 0 || sp.Resolve <= 0 {
				t.Fatalf("%q: %s has a span that is not positive: %+v", s, sev, sp)
			}
		}
	})
}
