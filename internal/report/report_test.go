package report

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"dayaq/internal/stats"
)

// pdfText extracts a PDF's text the way a reader does: the glyph codes of
// every text-showing operator, mapped back to characters through the
// font's ToUnicode table.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	var streams []string
	for _, loc := range regexp.MustCompile(`stream\r?\n`).FindAllIndex(pdf, -1) {
		r, err := zlib.NewReader(bytes.NewReader(pdf[loc[1]:]))
		if err != nil {
			end := bytes.Index(pdf[loc[1]:], []byte("endstream"))
			if end > 0 {
				streams = append(streams, string(pdf[loc[1]:loc[1]+end]))
			}
			continue
		}
		b, _ := io.ReadAll(r)
		streams = append(streams, string(b))
	}
	cmap := map[string]rune{}
	// bfrange entries: <first><last><first code point>
	rng := regexp.MustCompile(`<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]{4})>\s*<([0-9A-Fa-f]{4,8})>`)
	for _, s := range streams {
		if !strings.Contains(s, "beginbfrange") {
			continue
		}
		for _, m := range rng.FindAllStringSubmatch(s, -1) {
			lo, _ := strconv.ParseUint(m[1], 16, 32)
			hi, _ := strconv.ParseUint(m[2], 16, 32)
			cp, _ := strconv.ParseUint(m[3], 16, 32)
			for g := lo; g <= hi; g++ {
				cmap[fmt.Sprintf("%04X", g)] = rune(cp + g - lo)
			}
		}
	}
	if len(cmap) == 0 {
		t.Fatal("no ToUnicode map")
	}
	var out strings.Builder
	show := regexp.MustCompile(`\[?<([0-9A-Fa-f]+)>\]?\s*T[jJ]`)
	for _, s := range streams {
		for _, m := range show.FindAllStringSubmatch(s, -1) {
			h := strings.ToUpper(m[1])
			for i := 0; i+4 <= len(h); i += 4 {
				if r, ok := cmap[h[i:i+4]]; ok {
					out.WriteRune(r)
				}
			}
			out.WriteByte('\n')
		}
	}
	return out.String()
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
