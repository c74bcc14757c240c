package child_test

import (
	"testing"

	"dayaq/internal/child"
)

func TestDupKey(t *testing.T) {
	same := [][2]string{
		{"Məmmədova", "Nərmin"}, {"Mammadova", "Narmin"}, {"Memmedova", "Nermin"}, {"MAMMADOVA", "NARMIN"},
		{"Nərmin", "Məmmədova"}, {" məmmədova ", "nərmin"},
	}
	want := child.DupKey(same[0][0], same[0][1])
	if want != "mdv nrmn" {
		t.Errorf("DupKey = %q, want %q", want, "mdv nrmn")
	}
	for _, n := range same {
		if got := child.DupKey(n[0], n[1]); got != want {
			t.Errorf("DupKey(%q, %q) = %q, want %q", n[0], n[1], got, want)
		}
	}
	if got := child.DupKey("Əliyeva", "Aysel"); got == want {
		t.Errorf("another name gives the same key %q", got)
	}
	if got := child.DupKey("İsmayılov", "Şəhriyar"); got != "shr smlv" {
		t.Errorf("DupKey(İsmayılov Şəhriyar) = %q", got)
	}
}
