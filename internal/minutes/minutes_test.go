package minutes

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"

	"dayaq/internal/workgroup"
)

// streams inflates every Flate stream of a PDF.
func streams(t *testing.T, pdf []byte) []string {
	t.Helper()
	var out []string
	re := regexp.MustCompile(`(?s)stream\r?\n`)
	for _, loc := range re.FindAllIndex(pdf, -1) {
		r, err := zlib.NewReader(bytes.NewReader(pdf[loc[1]:]))
		if err != nil {
			continue // not compressed
		}
		b, _ := io.ReadAll(r)
		out = append(out, string(b))
	}
	return out
}

func TestMinutesKeepAzerbaijaniLetters(t *testing.T) {
	T := func(key string, args ...any) string { return key + fmt.Sprint(args...) }
	d := Doc{
		Meeting: workgroup.Meeting{Title: "Əlaqələndirmə iclası", StartsAt: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC),
			Place: "BŞTİ", Minutes: "Şəhər üzrə ğ, ı, İ, ö, ü, ç hərfləri.\nВторой абзац."},
		Members:   []workgroup.Member{{UserName: "Elvin Məmmədov", OrgName: "BŞTİ", Role: workgroup.Chair}},
		Agenda:    []string{"CASE-2026-000123 — təkrar baxış"},
		Decisions: []workgroup.Decision{{Text: "Ailəyə sosial yardım göstərilsin."}},
		Actions:   []workgroup.ActionItem{{Title: "Protokol hazırla", OwnerName: "Orxan Cəfərov", Due: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), Status: workgroup.Open}},
		T:         T,
	}
	var buf bytes.Buffer
	if err := Write(&buf, d); err != nil {
		t.Fatal(err)
	}
	pdf := buf.Bytes()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) || !bytes.Contains(pdf, []byte("%%EOF")) {
		t.Fatal("not a PDF")
	}
	if len(pdf) > len(dejaVuSans)/2 {
		t.Errorf("PDF is %d bytes: the font should be embedded as a subset", len(pdf))
	}
	all := string(pdf) + strings.Join(streams(t, pdf), "\n") // the ToUnicode map may be stored uncompressed
	// The ToUnicode map of the embedded subset maps glyphs back to these
	// code points, so the text can be searched and copied: ə Ə ı İ ğ ş ç ö ü and Cyrillic.
	for _, cp := range []string{"0259", "018F", "0131", "0130", "011F", "015F", "00E7", "00F6", "00FC", "0412"} {
		if !regexp.MustCompile(`(?i)><` + cp + `>`).MatchString(all) {
			t.Errorf("U+%s is not in the PDF's ToUnicode map", cp)
		}
	}
	if !strings.Contains(all, "FontFile2") {
		t.Error("no embedded TrueType font")
	}
}
