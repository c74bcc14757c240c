package events

import (
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
)

// Bulk import of figures from outside (video views, social reach, leaflets
// given): a CSV file whose first line names the columns FigureColumns (in
// any order; district and material_id may be left empty), one figure a
// line, each with its source and date. A file with any bad line imports
// nothing, and the refusal names the lines.
const (
	MaxFigureFile  = 1 << 20 // bytes
	MaxFigureRows  = 5000
	maxLineReports = 10 // bad lines named in one refusal
)

// FigureColumns are the CSV's columns.
func FigureColumns() []string {
	return []string{"metric", "value", "period_start", "period_end", "source", "as_of", "district", "material_id"}
}

// FigureRow is a figure with the line of the file it came from.
type FigureRow struct {
	Line int
	Figure
}

// LineError is the refusal of line's column, on the field "file".
func LineError(line int, column string) apperr.FieldError {
	return apperr.Field("file", "campaign.import.bad", line, column)
}

// ParseFiguresCSV reads a figures file. Dates are 2006-01-02; the period
// must not end before it starts and the metric must be one of Metrics().
// Whether a district or material exists is for storage to check.
func ParseFiguresCSV(data []byte) ([]FigureRow, error) {
	if len(data) > MaxFigureFile {
		return nil, apperr.Validation(apperr.Field("file", "campaign.import.too_big", MaxFigureFile>>10))
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a spreadsheet's byte-order mark
	cr := csv.NewReader(bytes.NewReader(data))
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if err != nil {
		return nil, apperr.Validation(apperr.Field("file", "campaign.import.header", strings.Join(FigureColumns(), ",")))
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(h))] = i
	}
	for _, c := range FigureColumns() {
		if _, ok := col[c]; !ok {
			return nil, apperr.Validation(apperr.Field("file", "campaign.import.header", strings.Join(FigureColumns(), ",")))
		}
	}
	var rows []FigureRow
	var bad []apperr.FieldError
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			bad = append(bad, apperr.Field("file", "campaign.import.unreadable", line))
			break // the rest cannot be trusted to line up
		}
		line, _ := cr.FieldPos(0) // after an error it would panic
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // an empty line
		}
		if len(rows) == MaxFigureRows {
			return nil, apperr.Validation(apperr.Field("file", "campaign.import.too_many", MaxFigureRows))
		}
		get := func(c string) string {
			if i := col[c]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		r := FigureRow{Line: line, Figure: Figure{Metric: get("metric"), Source: get("source"), District: strings.ToUpper(get("district"))}}
		var wrong []string
		if v, err := strconv.ParseInt(get("value"), 10, 64); err == nil {
			r.Value = v
		} else {
			wrong = append(wrong, "value")
		}
		for _, d := range []struct {
			name string
			dst  *time.Time
		}{{"period_start", &r.PeriodStart}, {"period_end", &r.PeriodEnd}, {"as_of", &r.AsOf}} {
			if t, err := time.Parse("2006-01-02", get(d.name)); err == nil {
				*d.dst = t
			} else {
				wrong = append(wrong, d.name)
			}
		}
		if s := get("material_id"); s != "" {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil && id > 0 {
				r.MaterialID = id
			} else {
				wrong = append(wrong, "material_id")
			}
		}
		if verr := r.Validate(); verr != nil {
			for _, fe := range apperr.As(verr).Fields {
				if !slices.Contains(wrong, fe.Field) {
					wrong = append(wrong, fe.Field)
				}
			}
		}
		for _, c := range wrong {
			bad = append(bad, LineError(line, c))
		}
		rows = append(rows, r)
	}
	if len(bad) > 0 {
		return nil, apperr.Validation(bad[:min(len(bad), maxLineReports)]...)
	}
	if len(rows) == 0 {
		return nil, apperr.Validation(apperr.Field("file", "campaign.import.empty"))
	}
	return rows, nil
}
