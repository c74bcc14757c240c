package planpdf

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/plan"
)

// text extracts the PDF's text: it inflates the content streams, reads the
// glyph IDs each TJ shows and maps them back to characters through the
// embedded font's ToUnicode CMap, as a PDF reader does when one copies text.
func text(t *testing.T, pdf []byte) string {
	t.Helper()
	var streams []string
	for _, loc := range regexp.MustCompile(`stream\r?\n`).FindAllIndex(pdf, -1) {
		r, err := zlib.NewReader(bytes.NewReader(pdf[loc[1]:]))
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(r)
		streams = append(streams, string(b))
	}
	all := string(pdf) + "\n" + strings.Join(streams, "\n")
	cmap := map[string]rune{}
	for _, m := range regexp.MustCompile(`<([0-9A-Fa-f]{4})>\s*<[0-9A-Fa-f]{4}>\s*<([0-9A-Fa-f]{4})>`).FindAllStringSubmatch(all, -1) {
		cp, _ := strconv.ParseUint(m[2], 16, 32) // bfrange of one glyph: <gid><gid><code point>
		cmap[strings.ToUpper(m[1])] = rune(cp)
	}
	if len(cmap) == 0 {
		t.Fatal("no ToUnicode map in the PDF")
	}
	var out strings.Builder
	for _, m := range regexp.MustCompile(`\[<([0-9A-Fa-f]*)>\]\s*TJ`).FindAllStringSubmatch(all, -1) {
		h := strings.ToUpper(m[1])
		for i := 0; i+4 <= len(h); i += 4 {
			if r, ok := cmap[h[i:i+4]]; ok {
				out.WriteRune(r)
			}
		}
		out.WriteByte('\n')
	}
	return out.String()
}

func TestPlanPDFKeepsAzerbaijaniAndCyrillic(t *testing.T) {
	T := func(key string, args ...any) string {
		if len(args) == 0 {
			return key
		}
		return key + " " + fmt.Sprint(args...)
	}
	d := Doc{
		School:    "Bakı şəhəri 132 nömrəli tam orta məktəb",
		Reference: "PLAN-000042 v2",
		Pupil:     "İlkin Əliyev, 6B",
		Lead:      "Günay Şükürova",
		Opened:    time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC),
		Concerns:  "Uşağın dərsə davamiyyəti azalıb; ailədə çətinliklər.",
		Goals: []plan.Goal{{ID: 1, Domain: plan.Learning, Statement: "Həftədə ən azı 4 gün dərsə gəlir",
			Indicator: "davamiyyət jurnalı", From: time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 12, 20, 0, 0, 0, 0, time.UTC)}},
		Activities: []Activity{{Activity: plan.Activity{Kind: plan.ParentCommitment, Title: "Övladını hər səhər məktəbə ötürür",
			Frequency: "hər gün"}, ResponsibleName: "Сабина Алиева"}},
		Parents: []plan.Parent{{Name: "Сабина Алиева", Relation: "mother", Language: "ru"}},
		Staff:   []string{"Günay Şükürova — məktəb psixoloqu"},
		T:       T,
	}
	var buf bytes.Buffer
	if err := Write(&buf, d); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) {
		t.Fatal("not a PDF")
	}
	got := text(t, buf.Bytes())
	for _, want := range []string{"ə", "ğ", "ı", "ş", "ç", "ö", "ü", "İ", "Ə", "Сабина Алиева", "İlkin Əliyev, 6B",
		"Həftədə ən azı 4 gün dərsə gəlir", "Övladını hər səhər məktəbə ötürür", "plans.pdf.signatures"} {
		if !strings.Contains(got, want) {
			t.Errorf("the PDF's text has no %q; it reads:\n%s", want, got)
		}
	}
}

// The parent's letter is one page whose text carries the address with the
// code, the code grouped, the parent's name and the school in their
// letters, and the date until which the code works.
func TestLetterIsOnePageWithTheCodeAndAddress(t *testing.T) {
	T := func(key string, args ...any) string {
		if len(args) == 0 {
			return key
		}
		return key + " " + fmt.Sprint(args...)
	}
	l := Letter{
		School:  "Bakı şəhəri 132 nömrəli tam orta məktəb",
		Date:    time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC),
		Parent:  "Сабина Алиева",
		Address: "https://dayaq.example.az/p/ABCDEFGH",
		Code:    GroupCode("ABCDEFGH"),
		Until:   time.Date(2026, 12, 17, 9, 0, 0, 0, time.UTC),
		T:       T,
	}
	var buf bytes.Buffer
	if err := WriteLetter(&buf, l); err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(buf.Bytes(), []byte("/Type /Page\n")) + bytes.Count(buf.Bytes(), []byte("/Type /Page ")); n != 1 {
		t.Errorf("the letter has %d pages", n)
	}
	got := text(t, buf.Bytes())
	for _, want := range []string{"plans.letter.dear Сабина Алиева", "https://dayaq.example.az/p/ABCDEFGH", "ABCD-EFGH",
		"plans.letter.until 17.12.2026", "Bakı şəhəri 132 nömrəli tam orta məktəb", "plans.letter.birth"} {
		if !strings.Contains(got, want) {
			t.Errorf("the letter's text has no %q; it reads:\n%s", want, got)
		}
	}
	long := l
	long.Parent = strings.Repeat("Çox uzun ad ", 400)
	if err := WriteLetter(io.Discard, long); err == nil {
		t.Error("a letter that does not fit one page was written")
	}
}
