package org_test

import (
	"bytes"
	"testing"

	"dayaq/internal/org"
)

// FuzzOrgsCSV feeds any bytes to the organisations' CSV parser (seeds in
// testdata/fuzz/FuzzOrgsCSV). It must not panic, and every organisation
// it returns must pass validation.
func FuzzOrgsCSV(f *testing.F) {
	districts := map[string]bool{}
	for _, d := range org.BakuDistricts() {
		districts[d.Code] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		orgs, rows, err := org.ParseCSV(bytes.NewReader(data), districts)
		if err != nil {
			return
		}
		for _, o := range orgs {
			if err := o.Validate(districts); err != nil {
				t.Fatalf("returned %+v, which does not validate: %v", o, err)
			}
		}
		for _, re := range rows {
			if re.Line < 1 {
				t.Fatalf("row error on line %d", re.Line)
			}
		}
	})
}
