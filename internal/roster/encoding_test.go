package roster_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"

	"dayaq/internal/apperr"
	"dayaq/internal/roster"
)

// encodeWith writes s in enc.
func encodeWith(t *testing.T, enc encoding.Encoding, s string) []byte {
	t.Helper()
	b, err := enc.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEncodings: the same Russian-named roster in each encoding a school's
// spreadsheet may save reads as the same rows, and the reader says which
// encoding it found; text in no encoding we read is refused as a whole
// file with the catalogue's message.
func TestEncodings(t *testing.T) {
	text := header + "S-1,Иванова,Мария,Петровна,ж,2015-03-09,BAK-06-001,5А\n" +
		"S-2,Ёлкин,Семён,Игоревич,м,09.03.2014,BAK-06-001,6Б\n"
	utf16le := unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM)
	utf16be := unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM)
	for _, tt := range []struct {
		name string
		in   []byte
		want roster.Encoding
	}{
		{"UTF-8", []byte(text), roster.UTF8},
		{"UTF-8 with BOM", append([]byte("\uFEFF"), text...), roster.UTF8BOM},
		{"UTF-16LE with BOM", append([]byte{0xFF, 0xFE}, encodeWith(t, utf16le, text)...), roster.UTF16LE},
		{"UTF-16BE with BOM", append([]byte{0xFE, 0xFF}, encodeWith(t, utf16be, text)...), roster.UTF16BE},
		{"UTF-16LE without BOM", encodeWith(t, utf16le, text), roster.UTF16LE},
		{"UTF-16BE without BOM", encodeWith(t, utf16be, text), roster.UTF16BE},
		{"Windows-1251", encodeWith(t, charmap.Windows1251, text), roster.Windows1251},
	} {
		t.Run(tt.name, func(t *testing.T) {
			rd, err := roster.NewReader(bytes.NewReader(tt.in), today)
			if err != nil {
				t.Fatalf("NewReader: %v", err)
			}
			if rd.Encoding() != tt.want {
				t.Errorf("encoding %q, want %q", rd.Encoding(), tt.want)
			}
			var names []string
			for {
				r, err := rd.Read()
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				if r.Reject != nil {
					t.Errorf("line %d rejected: %v", r.Line, reasons(r))
				}
				names = append(names, r.Child.LastName+" "+r.Child.FirstName+" "+r.Child.Section)
			}
			if got := strings.Join(names, "; "); got != "Иванова Мария А; Ёлкин Семён Б" {
				t.Errorf("rows %q", got)
			}
		})
	}
	for _, tt := range []struct {
		name string
		in   []byte
	}{
		// Azerbaijani Latin in the Turkish code page (Windows-1254): ş, ğ and ı
		// among ASCII letters; guessing 1251 would make Cyrillic nonsense.
		{"Windows-1254", append([]byte(header), []byte("S-1,\xdeahin,A\xfeg\xfdn,Rauf o\xf0lu,m,2015-03-09,BAK-06-001,5A\n"+
			"S-2,Quliyev,\xdeamil,R\xfcstem o\xf0lu,m,2015-04-09,BAK-06-001,5A\n"+"S-3,A\xf0ayev,Tural,Elxan o\xf0lu,m,2015-05-09,BAK-06-001,5A\n")...)},
		{"binary", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00\xff\xd8\xff\xe0")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := roster.NewReader(bytes.NewReader(tt.in), today)
			if e := apperr.As(err); err == nil || e.Code != apperr.Invalid || e.Key != "ops.error.roster_encoding" {
				t.Errorf("NewReader: %v, want the encoding refusal", err)
			}
		})
	}
}
