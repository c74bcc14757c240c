package roster

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"

	"dayaq/internal/apperr"
)

// Encoding names how a roster file was written; the reader converts each
// to UTF-8.
type Encoding string

const (
	UTF8        Encoding = "utf-8"
	UTF8BOM     Encoding = "utf-8-bom"
	UTF16LE     Encoding = "utf-16le"
	UTF16BE     Encoding = "utf-16be"
	Windows1251 Encoding = "windows-1251"
)

// sniffSize is how much of the file the detection looks at.
const sniffSize = 8 << 10

// decode detects the encoding of the file br starts (ADR 0028) and returns
// a reader of it as UTF-8:
//   - a byte-order mark: UTF-8, UTF-16 LE or BE;
//   - UTF-16 without one, by its zero bytes (an ASCII header has a zero in
//     every other byte);
//   - valid UTF-8 (ASCII included);
//   - else Windows-1251, if it reads as Cyrillic: most letters are bytes
//     above 0x7F, in runs, as Russian names are; Latin text in a legacy
//     code page (a stray ş or ğ among ASCII letters) is not guessed at;
//   - else UTF-8 still when the bytes that are not UTF-8 sit in one line of
//     the sample, or valid multi-byte letters outnumber them: a UTF-8 file
//     with a damaged row, whose row is rejected on its own.
//
// Anything else is refused with the Invalid error
// "ops.error.roster_encoding": save the file as CSV UTF-8.
func decode(br *bufio.Reader) (io.Reader, Encoding, error) {
	head, err := br.Peek(sniffSize)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, "", fmt.Errorf("roster: read: %w", err)
	}
	full := len(head) == sniffSize
	switch {
	case bytes.HasPrefix(head, []byte{0xEF, 0xBB, 0xBF}):
		_, _ = br.Discard(3)
		return br, UTF8BOM, nil
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}):
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()), UTF16LE, nil
	case bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return transform.NewReader(br, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder()), UTF16BE, nil
	}
	if e, ok := sniffUTF16(head); ok {
		order := unicode.LittleEndian
		if e == UTF16BE {
			order = unicode.BigEndian
		}
		return transform.NewReader(br, unicode.UTF16(order, unicode.IgnoreBOM).NewDecoder()), e, nil
	}
	if validUTF8Prefix(head, full) {
		return br, UTF8, nil
	}
	if cyrillic1251(head) {
		return transform.NewReader(br, charmap.Windows1251.NewDecoder()), Windows1251, nil
	}
	if mostlyUTF8(head, full) {
		// A UTF-8 file with a damaged row: the row is rejected, the others go in.
		return br, UTF8, nil
	}
	return nil, "", apperr.New(apperr.Invalid, "ops.error.roster_encoding")
}

// validUTF8Prefix reports whether b is valid UTF-8, allowing a rune cut
// short at the end when b is only the start of the file.
func validUTF8Prefix(b []byte, cut bool) bool {
	if utf8.Valid(b) {
		return true
	}
	if !cut {
		return false
	}
	for k := 1; k <= utf8.UTFMax-1 && k < len(b); k++ {
		if tail := b[len(b)-k:]; !utf8.FullRune(tail) && utf8.Valid(b[:len(b)-k]) {
			return true
		}
	}
	return false
}

// sniffUTF16 recognises UTF-16 without a byte-order mark by its zero
// bytes: in text that is mostly ASCII (a CSV header always is), one byte
// of each pair is zero, the same one each time.
func sniffUTF16(b []byte) (Encoding, bool) {
	n := min(len(b), 512) &^ 1
	if n < 8 {
		return "", false
	}
	var even, odd int
	for i := 0; i < n; i += 2 {
		if b[i] == 0 {
			even++
		}
		if b[i+1] == 0 {
			odd++
		}
	}
	pairs := n / 2
	switch {
	case odd*10 >= pairs*6 && even*10 <= pairs:
		return UTF16LE, true
	case even*10 >= pairs*6 && odd*10 <= pairs:
		return UTF16BE, true
	}
	return "", false
}

// cyrillic1251 reports whether b reads as Cyrillic text in Windows-1251:
// of its letters, at least a third are Cyrillic (0xC0–0xFF, Ё 0xA8, ё
// 0xB8, the Ukrainian and Belarusian letters aside), and most of those
// stand next to another, as letters in a Cyrillic word do; no byte is
// one 1251 leaves undefined (0x98) or a control character.
func cyrillic1251(b []byte) bool {
	var latin, cyr, paired int
	isCyr := func(c byte) bool { return c >= 0xC0 || c == 0xA8 || c == 0xB8 }
	for i, c := range b {
		switch {
		case c == 0x98 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'):
			return false
		case c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z':
			latin++
		case isCyr(c):
			cyr++
			if i > 0 && isCyr(b[i-1]) || i+1 < len(b) && isCyr(b[i+1]) {
				paired++
			}
		}
	}
	return cyr > 0 && cyr*3 >= (latin+cyr) && paired*10 >= cyr*7
}

// mostlyUTF8 reports whether b is UTF-8 with a little damage: its invalid
// bytes are in one line, or fewer than its valid multi-byte runes.
func mostlyUTF8(b []byte, cut bool) bool {
	lines := bytes.Split(b, []byte("\n"))
	if cut && len(lines) > 1 {
		lines = lines[:len(lines)-1] // cut short
	}
	badLines, bad, multi := 0, 0, 0
	for _, l := range lines {
		lineBad := false
		for len(l) > 0 {
			r, n := utf8.DecodeRune(l)
			switch {
			case r == utf8.RuneError && n == 1:
				bad++
				lineBad = true
			case n > 1:
				multi++
			}
			l = l[n:]
		}
		if lineBad {
			badLines++
		}
	}
	return badLines <= 1 || multi > bad
}
