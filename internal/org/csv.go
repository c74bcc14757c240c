package org

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"dayaq/internal/apperr"
)

// RowError is a CSV row that could not be taken, with its line number.
type RowError struct {
	Line int
	Err  error
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// ImportHeader is the required CSV header; name_ru and name_en may follow.
func ImportHeader() []string { return []string{"code", "type", "name_az", "district_code"} }

// ParseCSV reads organisations from r: UTF-8 (a BOM is ignored), comma or
// semicolon separated, with the header of ImportHeader. It returns every
// valid row and an error per bad row; a file that cannot be read as CSV at
// all returns an error.
func ParseCSV(r io.Reader, districts map[string]bool) ([]Org, []RowError, error) {
	br := bufio.NewReader(r)
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte{0xEF, 0xBB, 0xBF}) {
		_, _ = br.Discard(3)
	}
	first, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, nil, fmt.Errorf("org.ParseCSV: %w", err)
	}
	cr := csv.NewReader(br)
	if line, _, _ := bytes.Cut(first, []byte("\n")); bytes.Count(line, []byte(";")) > bytes.Count(line, []byte(",")) {
		cr.Comma = ';'
	}
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, []RowError{{Line: 1, Err: apperr.New(apperr.Invalid, "import.error.empty")}}, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("org.ParseCSV: header: %w", err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	var missing []string
	for _, h := range ImportHeader() {
		if _, ok := col[h]; !ok {
			missing = append(missing, h)
		}
	}
	if len(missing) > 0 {
		return nil, []RowError{{Line: 1, Err: apperr.New(apperr.Invalid, "import.error.header", strings.Join(missing, ", "))}}, nil
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	var (
		orgs []Org
		bad  []RowError
		seen = map[string]int{}
	)
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				// StartLine, not Line: a quote left open runs on to the end
				// of the file, and the row to fix is the one it opened in.
				bad = append(bad, RowError{Line: pe.StartLine, Err: apperr.New(apperr.Invalid, "import.error.csv", pe.Err.Error())})
				continue
			}
			return nil, nil, fmt.Errorf("org.ParseCSV: %w", err)
		}
		// Only now: FieldPos panics after an error in a row's first field.
		line, _ := cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		o := Org{Code: get(rec, "code"), Type: Type(get(rec, "type")), NameAZ: get(rec, "name_az"),
			NameRU: get(rec, "name_ru"), NameEN: get(rec, "name_en"), DistrictCode: get(rec, "district_code")}
		o.Normalize()
		if err := o.Validate(districts); err != nil {
			bad = append(bad, RowError{Line: line, Err: err})
			continue
		}
		if prev, dup := seen[o.Code]; dup {
			bad = append(bad, RowError{Line: line, Err: apperr.Validation(apperr.Field("code", "import.error.duplicate", prev))})
			continue
		}
		seen[o.Code] = line
		orgs = append(orgs, o)
	}
	slices.SortStableFunc(bad, func(a, b RowError) int { return a.Line - b.Line })
	return orgs, bad, nil
}
