package roster_test

import (
	"bytes"
	"errors"
	"io"
	"testing"
	"unicode/utf8"

	"dayaq/internal/apperr"
	"dayaq/internal/roster"
)

// FuzzRosterReader feeds any bytes to the roster reader (seeds in
// testdata/fuzz/FuzzRosterReader: UTF-8 with and without BOM, UTF-16 LE/BE,
// Windows-1251, broken quoting). It must not panic; a refused file is an
// Invalid error or a read error; every row has its fields in columns
// order, lines only grow, and a row taken has UTF-8 fields without NUL.
func FuzzRosterReader(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte) {
		rd, err := roster.NewReader(bytes.NewReader(data), today)
		if err != nil {
			if e := apperr.As(err); e.Code != apperr.Invalid && e.Code != apperr.Internal {
				t.Fatalf("NewReader: code %q", e.Code)
			}
			return
		}
		last := 0
		for range 10000 {
			r, err := rd.Read()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				return // unreadable from here on
			}
			if len(r.Raw) != len(roster.Columns()) {
				t.Fatalf("line %d: %d raw fields", r.Line, len(r.Raw))
			}
			if r.Line < last {
				t.Fatalf("line %d after line %d", r.Line, last)
			}
			last = r.Line
			if r.Reject == nil {
				for _, v := range r.Raw {
					if !utf8.ValidString(v) || bytes.IndexByte([]byte(v), 0) >= 0 {
						t.Fatalf("line %d taken with field %q", r.Line, v)
					}
				}
				if err := r.Child.Validate(today); err != nil {
					t.Fatalf("line %d taken but invalid: %v", r.Line, err)
				}
			} else if len(r.Reject.Reasons) == 0 {
				t.Fatalf("line %d rejected without a reason", r.Line)
			}
		}
	})
}
