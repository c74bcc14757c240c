package storage_test

import (
	"strings"
	"testing"

	"dayaq/internal/storage"
)

// A birth date the database holds in a bad shape fails the read with an
// error that does not quote it: errors reach the log of a 500, and carry
// IDs only.
func TestBadDateErrorHidesTheValue(t *testing.T) {
	for _, v := range []any{"2015-13-45", []byte("2015-13-45"), "09.03.2015"} {
		_, err := storage.ScanDateForTest(v)
		if err == nil {
			t.Errorf("%q scanned as a date", v)
			continue
		}
		if s := err.Error(); strings.Contains(s, "2015") || strings.Contains(s, "13-45") {
			t.Errorf("%q: the error quotes the value: %s", v, s)
		}
	}
	if d, err := storage.ScanDateForTest("2015-03-09"); err != nil || d.Day() != 9 {
		t.Errorf("a good date: %v %v", d, err)
	}
}
