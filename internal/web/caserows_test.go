package web

import (
	"testing"
	"time"

	"dayaq/internal/casework"
	"dayaq/internal/i18n"
	"dayaq/internal/storage"
)

// TestCaseRows checks the list's rows say what the template used to work
// out itself: the labels from the catalogue, the running deadline (none
// once closed), the overdue mark only past it, the school's code or none.
func TestCaseRows(t *testing.T) {
	cat := i18n.MustLoad()
	p := Page{L: cat.For(i18n.RU)}
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	created := time.Date(2026, 11, 30, 8, 30, 0, 0, time.UTC)
	rec := func(st casework.Status, sev casework.Severity, respond, review time.Time, school string) storage.CaseRecord {
		r := storage.CaseRecord{Case: casework.Case{ID: 7, Type: "violence.bullying", Title: "T", Status: st, Severity: sev,
			CreatedAt: created, RespondDue: respond, ReviewAt: review}}
		r.School.Code = school
		return r
	}
	tests := []struct {
		name               string
		rec                storage.CaseRecord
		due, overdue, code string
	}{
		{"new, past its response", rec(casework.New, casework.High, now.Add(-time.Hour), time.Time{}, "BAK-06-001"),
			"04.12.2026 13:00", "просрочено", "BAK-06-001"},
		{"new, before its response", rec(casework.Reopened, casework.Low, now.Add(time.Hour), time.Time{}, ""),
			"04.12.2026 15:00", "", ""},
		{"monitoring, review ahead", rec(casework.Monitoring, casework.Medium, now.Add(-time.Hour), now.Add(48*time.Hour), ""),
			"06.12.2026 14:00", "", ""},
		{"closed: no deadline runs", rec(casework.Closed, casework.Critical, now.Add(-time.Hour), now.Add(-time.Hour), "S"),
			"", "", "S"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows := caseRows(p, []storage.CaseRecord{tt.rec}, now)
			if len(rows) != 1 {
				t.Fatalf("rows: %d", len(rows))
			}
			r := rows[0]
			want := caseRow{ID: 7, Title: "T", Type: "violence.bullying", Severity: tt.rec.Severity,
				SeverityLabel: cat.T(i18n.RU, "case.severity."+string(tt.rec.Severity)),
				StatusLabel:   cat.T(i18n.RU, "case.status."+string(tt.rec.Status)),
				School:        tt.code, Due: tt.due, Created: "30.11.2026 12:30", Overdue: tt.overdue}
			if r != want {
				t.Errorf("row\n got %+v\nwant %+v", r, want)
			}
		})
	}
}

// TestFilterOptions checks the case list's filter choices: every status in
// order, named from the catalogue, only the one asked for selected.
func TestFilterOptions(t *testing.T) {
	cat := i18n.MustLoad()
	p := Page{L: cat.For(i18n.EN)}
	for _, asked := range []string{"", "triaged", "nonsense"} {
		opts := filterOptions(p, "case.status.", casework.Statuses(), asked)
		if len(opts) != len(casework.Statuses()) {
			t.Fatalf("%q: %d options", asked, len(opts))
		}
		selected := 0
		for i, o := range opts {
			st := casework.Statuses()[i]
			if o.Value != string(st) || o.Label != cat.T(i18n.EN, "case.status."+string(st)) {
				t.Errorf("%q: option %d is %+v", asked, i, o)
			}
			if o.Selected {
				selected++
				if o.Value != asked {
					t.Errorf("%q: %s selected", asked, o.Value)
				}
			}
		}
		if want := map[string]int{"triaged": 1}[asked]; selected != want {
			t.Errorf("%q: %d selected, want %d", asked, selected, want)
		}
	}
}
