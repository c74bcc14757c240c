package events

import (
	"fmt"
	"strings"
	"testing"

	"dayaq/internal/apperr"
)

const figuresHead = "metric,value,period_start,period_end,source,as_of,district,material_id\n"

func TestParseFiguresCSV(t *testing.T) {
	good := "\xef\xbb\xbf" + figuresHead +
		"video_views,18400,2026-10-01,2026-10-31,YouTube Studio,2026-11-02,,3\n" +
		"\n" +
		`social_reach,5200,2026-11-01,2026-11-30,"Instagram, Nazirlik",2026-12-01,bak-06,` + "\n"
	rows, err := ParseFiguresCSV([]byte(good))
	if err != nil || len(rows) != 2 {
		t.Fatalf("a good file: %d rows, %v", len(rows), err)
	}
	if r := rows[0]; r.Line != 2 || r.Metric != "video_views" || r.Value != 18400 || r.MaterialID != 3 || r.Source != "YouTube Studio" ||
		r.PeriodEnd.Format("2006-01-02") != "2026-10-31" {
		t.Errorf("row 1: %+v", r)
	}
	if r := rows[1]; r.Line != 4 || r.District != "BAK-06" || r.Source != "Instagram, Nazirlik" || r.MaterialID != 0 {
		t.Errorf("row 2: %+v", r)
	}
	// Columns in another order are read by name.
	if rows, err := ParseFiguresCSV([]byte("source,as_of,metric,value,period_start,period_end,district,material_id\n" +
		"Paylanma jurnalı,2026-12-01,leaflets_given,300,2026-11-01,2026-11-30,,\n")); err != nil || rows[0].Value != 300 {
		t.Errorf("reordered columns: %+v %v", rows, err)
	}

	for name, c := range map[string]struct {
		file string
		want []apperr.FieldError
	}{
		"bad lines": {figuresHead + "video_views,10,2026-10-01,2026-10-31,YouTube,2026-11-02,,\n" +
			"video_views,many,2026-10-01,2026-09-30,,2026-11-02,,x\n",
			[]apperr.FieldError{LineError(3, "value"), LineError(3, "material_id"), LineError(3, "period_end"), LineError(3, "source")}},
		"no source or date": {figuresHead + "tv_minutes,10,2026-10-01,2026-10-31,,,,\n",
			[]apperr.FieldError{LineError(2, "as_of"), LineError(2, "metric"), LineError(2, "source")}},
		"no header":  {"video_views,10,2026-10-01,2026-10-31,YouTube,2026-11-02,,\n", []apperr.FieldError{apperr.Field("file", "campaign.import.header", strings.TrimSpace(strings.ReplaceAll(figuresHead, "\n", "")))}},
		"empty":      {figuresHead, []apperr.FieldError{apperr.Field("file", "campaign.import.empty")}},
		"unreadable": {figuresHead + "video_views,1,2026-10-01,2026-10-31,\"YouTube,2026-11-02,,\n", []apperr.FieldError{apperr.Field("file", "campaign.import.unreadable", 2)}},
		"too big":    {strings.Repeat("x", MaxFigureFile+1), []apperr.FieldError{apperr.Field("file", "campaign.import.too_big", MaxFigureFile>>10)}},
	} {
		t.Run(name, func(t *testing.T) {
			rows, err := ParseFiguresCSV([]byte(c.file))
			if rows != nil {
				t.Errorf("rows returned with a refusal: %+v", rows)
			}
			if got, want := fmt.Sprint(apperr.As(err).Fields), fmt.Sprint(c.want); got != want {
				t.Errorf("fields %s, want %s", got, want)
			}
		})
	}
}

// Whatever the file, ParseFiguresCSV does not panic, and what it accepts
// is whole: every row valid, from a line after the header, with its source
// and date.
func FuzzParseFiguresCSV(f *testing.F) {
	f.Add([]byte(figuresHead + "video_views,18400,2026-10-01,2026-10-31,YouTube Studio,2026-11-02,,3\n"))
	f.Add([]byte(figuresHead + "social_reach,5,2026-11-01,2026-11-30,\"Insta\ngram\",2026-12-01,BAK-06,\n"))
	f.Add([]byte("metric;value\n1;2\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := ParseFiguresCSV(data)
		if err != nil {
			if rows != nil || len(apperr.As(err).Fields) == 0 {
				t.Fatalf("a refusal with rows %v or without a field: %v", rows, err)
			}
			return
		}
		for _, r := range rows {
			if r.Line < 2 || r.Validate() != nil || r.Source == "" || r.AsOf.IsZero() {
				t.Fatalf("accepted a bad row: %+v", r)
			}
		}
	})
}
