package report

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"dayaq/internal/report/pdftext"
	"dayaq/internal/stats"
)

// pdfText extracts a PDF's text the way a reader does (pdftext.Text).
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	s, err := pdftext.Text(pdf)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestMonthlyReportTextAndLetters(t *testing.T) {
	T := func(key string, args ...any) string {
		if key == "stats.chart.cases_by_type" {
			return "Hadisələr növə görə"
		}
		return key + fmt.Sprint(args...)
	}
	b := stats.Board{Charts: []stats.Chart{{ID: "cases_by_type", Title: "stats.chart.cases_by_type", Total: 42,
		Bars: []stats.Bar{{Key: "a", Label: "Məktəbdə zorakılıq", Value: 30}, {Key: "b", Label: "Ünsiyyət çətinliyi, dağınıq ailə", Value: 12}, {Key: "c", Label: "İstismar", Value: 3, Suppressed: true}, {Key: "d", Label: "Hüquq pozuntusu — Ə", Value: 0}}}},
		Suppressed: true}
	var buf bytes.Buffer
	if err := Write(&buf, Doc{Title: "Aylıq hesabat", Period: "Noyabr 2026", Scope: "Bakı şəhəri", Board: b, T: T, K: 5}); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{"Aylıq hesabat", "Hadisələr növə görə", "Məktəbdə zorakılıq", "Ünsiyyət çətinliyi", "İstismar", "Hüquq pozuntusu — Ə", "42", "30", stats.Symbol} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q:\n%s", want, text)
		}
	}
	for _, r := range "əƏıİğşçöüÜ" {
		if !strings.ContainsRune(text, r) {
			t.Errorf("letter %q lost", r)
		}
	}
}

// The public statistics' PDF keeps every table's cells, margins and the
// suppression symbol, the methodology note, and the Azerbaijani letters.
func TestPublicPDFTextAndLetters(t *testing.T) {
	rows := []PublicRow{{Label: "Binəqədi", Cells: []string{"12", stats.Symbol, "0"}, Total: "17"},
		{Label: "Pirallahı", Cells: []string{"30", stats.Symbol, "6"}, Total: "38"},
		{Label: "Cəmi", Cells: []string{"42", "7", "6"}, Total: "55"}}
	var many []PublicRow
	for i := range 60 { // past a page: the header comes again
		many = append(many, PublicRow{Label: fmt.Sprintf("Sətir %d", i), Cells: []string{"5", "6", "7"}, Total: "18"})
	}
	var buf bytes.Buffer
	if err := WritePublic(&buf, PublicDoc{Title: "İctimai statistika", Lead: "Kiçik saylar gizlədilir.",
		Tables: []PublicTable{{Title: "Reyestr: rayon və risk səviyyəsi üzrə", RowLabel: "Rayon", Cols: []string{"aşağı", "orta", "yüksək"}, Total: "Cəmi", Rows: rows},
			{Title: "Uzun cədvəl", RowLabel: "Sətir", Cols: []string{"a", "b", "c"}, Total: "Cəmi", Rows: many}},
		Method: "Metodika: “·” işarəsi gizlədilmiş xananı göstərir; 1-dən 4-ə qədər saylar göstərilmir."}); err != nil {
		t.Fatal(err)
	}
	text := pdfText(t, buf.Bytes())
	for _, want := range []string{"İctimai statistika", "Reyestr: rayon və risk səviyyəsi üzrə", "Binəqədi", "Pirallahı", "yüksək", "55", "38", stats.Symbol,
		"Metodika", "gizlədilmiş xananı", "Sətir 59"} {
		if !strings.Contains(text, want) {
			t.Errorf("the PDF's text lacks %q", want)
		}
	}
	if n := strings.Count(text, "yüksək"); n < 1 {
		t.Errorf("header %d times", n)
	}
	if n := strings.Count(text, "Sətir\n"); n < 2 {
		t.Errorf("the long table's header is not repeated on the next page (%d)", n)
	}
}
