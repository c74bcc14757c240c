package taxonomy

import (
	"testing"
)

// FuzzParse feeds any bytes to the taxonomy's JSON reader (seeds in
// testdata/fuzz/FuzzParse, among them the embedded seed). It must not
// panic, and a taxonomy it takes validates and has its every node's code
// in the shape of a code.
func FuzzParse(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		tx, err := Parse(b)
		if err != nil {
			return
		}
		if err := tx.Validate(); err != nil {
			t.Fatalf("Parse took a taxonomy that does not validate: %v", err)
		}
		for _, n := range tx.Nodes {
			if !validCode(n.Code) {
				t.Fatalf("node code %q taken", n.Code)
			}
		}
	})
}
