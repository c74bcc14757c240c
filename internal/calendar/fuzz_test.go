package calendar

import (
	"reflect"
	"testing"
)

// FuzzParseDeadlines feeds any text to the deadline specs of DAYAQ_DEADLINES
// (seeds in testdata/fuzz/FuzzParseDeadlines). What it takes it writes
// back (String) so that reading that again gives the same deadlines, every
// span positive.
func FuzzParseDeadlines(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDeadlines(s)
		if err != nil {
			return
		}
		for u, l := range d {
			for _, sp := range []Span{l.Acknowledge, l.Complete} {
				if sp.Clock <= 0 && sp.WorkingDays <= 0 && sp.WorkingHours <= 0 {
					t.Fatalf("%q: %s has an empty span %+v", s, u, sp)
				}
			}
		}
		again, err := ParseDeadlines(d.String())
		if err != nil {
			t.Fatalf("%q → %q, which does not parse: %v", s, d.String(), err)
		}
		if !reflect.DeepEqual(again, d) {
			t.Fatalf("%q → %q → %v, want %v", s, d.String(), again, d)
		}
	})
}
