// Package pdftext reads back the text of the PDFs Dayaq writes (gopdf
// with an embedded TrueType font), for tests: the glyph codes of every
// text-showing operator mapped back through the font's ToUnicode table.
package pdftext

import (
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Text extracts a PDF's text the way a reader does: the glyph codes of
// every text-showing operator, mapped back to characters through the
// font's ToUnicode table.
func Text(pdf []byte) (string, error) {
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
		return "", errors.New("pdftext: no ToUnicode map")
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
	return out.String(), nil
}
