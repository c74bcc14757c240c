// Package roster reads school rosters: CSV files of pupils that schools send
// to the children registry. It parses and validates one row at a time from
// an io.Reader, so a file of any size is read in constant memory, and every
// bad row becomes a Reject with its line number and reasons a person can
// read (catalogue keys). It does no other I/O.
//
// The file is UTF-8, with or without a byte-order mark, UTF-16 (with a
// byte-order mark or without) or Windows-1251, detected and converted
// (encoding.go; anything else is refused), separated by commas or
// semicolons (whichever the header line has more of). The header names
// the columns in any order, in English or in Azerbaijani, in any case:
//
//	student_id  last_name  first_name  patronymic  sex  birth_date    school_code  grade
//	şagird_id   soyad      ad          ata_adı     cins doğum_tarixi  məktəb_kodu  sinif
//
// Values:
//   - birth_date: YYYY-MM-DD or DD.MM.YYYY (also D.M.YYYY).
//   - sex: boy m, male, k, kişi, oğlan, erkək, м, муж, мужской, мальчик;
//     girl f, female, q, qadın, qız, ж, жен, женский, девочка (any case).
//   - grade: the grade and an optional class letter: 5, 5A, 5-A, 5 A, 5/A,
//     "5 a" (the letter is upper-cased the Azerbaijani way); 0 is the
//     preparatory class.
//   - patronymic: as written ("Rəşad oğlu", "Rəşad qızı"); may be empty.
//   - school_code: the school's code (BAK-06-001), upper-cased.
package roster

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"dayaq/internal/apperr"
	"dayaq/internal/child"
)

// Columns are the roster's columns in their canonical order and English names.
func Columns() []string {
	return []string{"student_id", "last_name", "first_name", "patronymic", "sex", "birth_date", "school_code", "grade"}
}

// azColumns are the Azerbaijani header names, in the order of Columns.
func azColumns() []string {
	return []string{"şagird_id", "soyad", "ad", "ata_adı", "cins", "doğum_tarixi", "məktəb_kodu", "sinif"}
}

// Column indexes in Columns order.
const (
	colStudentID = iota
	colLastName
	colFirstName
	colPatronymic
	colSex
	colBirthDate
	colSchoolCode
	colGrade
	numColumns
)

// Record is one data row of a roster: its line, its fields as written (in
// Columns order), and either the child it describes or why it was rejected.
type Record struct {
	Line       int      // the line the row starts on, from 1 (the header is line 1)
	Raw        []string // the fields as written, in Columns order; the slice is the Record's own
	Child      child.Child
	SchoolCode string
	Reject     *Reject // nil when the row is good
}

// Reject says why a row was not taken: one reason per field at fault.
type Reject struct {
	Reasons []apperr.FieldError
}

// Rejected marks r as rejected for the given reasons.
func (r *Record) Rejected(reasons ...apperr.FieldError) {
	if r.Reject == nil {
		r.Reject = &Reject{}
	}
	r.Reject.Reasons = append(r.Reject.Reasons, reasons...)
}

// Text renders the reasons for a person: "field: message; …", with t
// translating a catalogue key (an i18n.Localizer's T); fields are named by
// their "field."+name key.
func (rj Reject) Text(t func(key string, args ...any) string) string {
	var b strings.Builder
	for i, f := range rj.Reasons {
		if i > 0 {
			b.WriteString("; ")
		}
		if f.Field != "" {
			b.WriteString(t("field." + f.Field))
			b.WriteString(": ")
		}
		b.WriteString(t(f.Key, f.Args...))
	}
	return b.String()
}

// Reader reads a roster a row at a time.
type Reader struct {
	cr    *csv.Reader
	col   [numColumns]int // file column of each canonical column
	width int             // the header's number of fields
	today time.Time
	enc   Encoding // how the file was written (encoding.go)
}

// Encoding reports how the file was written; it was read as UTF-8.
func (rd *Reader) Encoding() Encoding { return rd.enc }

// NewReader reads the header of the roster in r. today bounds birth dates.
// A file that cannot be used at all (empty, or a header that lacks a
// column) is an Invalid error with a catalogue key; nothing else is.
func NewReader(r io.Reader, today time.Time) (*Reader, error) {
	src, enc, err := decode(bufio.NewReaderSize(r, 64<<10))
	if err != nil {
		return nil, err
	}
	br, ok := src.(*bufio.Reader)
	if !ok {
		br = bufio.NewReaderSize(src, 64<<10)
	}
	first, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("roster: read: %w", err)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if line, _, _ := bytes.Cut(first, []byte("\n")); bytes.Count(line, []byte(";")) > bytes.Count(line, []byte(",")) {
		cr.Comma = ';'
	}
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, apperr.New(apperr.Invalid, "import.error.empty")
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			return nil, &apperr.Error{Code: apperr.Invalid, Key: "roster.error.header_csv", Err: err}
		}
		return nil, fmt.Errorf("roster: header: %w", err)
	}
	rd := &Reader{cr: cr, width: len(header), today: today, enc: enc}
	for i := range rd.col {
		rd.col[i] = -1
	}
	names := map[string]int{}
	for i, n := range Columns() {
		names[headerName(n)] = i
	}
	for i, n := range azColumns() {
		names[headerName(n)] = i
	}
	for i, h := range header {
		c, ok := names[headerName(h)]
		if !ok {
			continue // an extra column is ignored
		}
		if rd.col[c] >= 0 {
			return nil, apperr.New(apperr.Invalid, "roster.error.header_twice", Columns()[c])
		}
		rd.col[c] = i
	}
	var missing []string
	for c, i := range rd.col {
		if i < 0 {
			missing = append(missing, Columns()[c])
		}
	}
	if len(missing) > 0 {
		return nil, apperr.New(apperr.Invalid, "roster.error.header", strings.Join(missing, ", "))
	}
	return rd, nil
}

// headerName folds a header cell for lookup: trimmed, lower-cased the
// Azerbaijani way with ı and i taken as one letter (so "ŞAGİRD_ID",
// "Şagird_ID" and "ATA_ADI" all work), spaces and hyphens as underscores.
func headerName(h string) string {
	h = strings.ToLowerSpecial(unicode.AzeriCase, strings.TrimSpace(h))
	return strings.NewReplacer(" ", "_", "-", "_", "ı", "i").Replace(h)
}

// Read returns the next data row, good or rejected, and io.EOF after the
// last. Blank lines are skipped. Any other error means the input could not
// be read any further. Read is ReadRaw and Parse.
func (rd *Reader) Read() (Record, error) {
	r, err := rd.ReadRaw()
	if err != nil {
		return r, err
	}
	rd.Parse(&r)
	return r, nil
}

// ReadRaw returns the next data row as Read does, but with only its line
// and fields (Raw) set, or rejected when it cannot be split into the
// header's columns: Parse completes it. ReadRaw is the part of reading
// that must go in file order; Parse may run on other goroutines.
func (rd *Reader) ReadRaw() (Record, error) {
	for {
		rec, err := rd.cr.Read()
		if errors.Is(err, io.EOF) {
			return Record{}, io.EOF
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return Record{}, fmt.Errorf("roster: read: %w", err)
			}
			// StartLine: a quote left open runs on, and the row to fix is
			// the one it opened in.
			r := Record{Line: pe.StartLine, Raw: make([]string, numColumns)}
			r.Rejected(apperr.Field("", "import.error.csv", pe.Err.Error()))
			return r, nil
		}
		line, _ := rd.cr.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		r := Record{Line: line, Raw: make([]string, numColumns)}
		for c, i := range rd.col {
			if i < len(rec) {
				r.Raw[c] = rec[i]
			}
		}
		if len(rec) != rd.width {
			r.Rejected(apperr.Field("", "roster.error.columns", len(rec), rd.width))
		}
		return r, nil
	}
}

// Parse turns a row from ReadRaw into a Record: the child it describes,
// or why it is rejected. A row ReadRaw rejected is left as it is. Parse
// only reads rd, so rows may be parsed on many goroutines at once.
func (rd *Reader) Parse(r *Record) {
	if r.Reject != nil {
		return
	}
	for c, v := range r.Raw {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			r.Rejected(apperr.Field(Columns()[c], "roster.error.encoding"))
			return
		}
	}
	v := func(c int) string { return strings.TrimSpace(r.Raw[c]) }
	ch := child.Child{StudentID: v(colStudentID), LastName: v(colLastName), FirstName: v(colFirstName),
		Patronymic: v(colPatronymic)}
	var fs []apperr.FieldError
	sex, ok := ParseSex(v(colSex))
	switch {
	case v(colSex) == "":
		fs = append(fs, apperr.Field("sex", "error.required"))
	case !ok:
		fs = append(fs, apperr.Field("sex", "roster.error.sex", v(colSex)))
	}
	ch.Sex = sex
	badDate := false
	if s := v(colBirthDate); s != "" {
		bd, ok := ParseDate(s)
		if !ok {
			fs = append(fs, apperr.Field("birth_date", "roster.error.birth_date", s))
			badDate = true
		}
		ch.BirthDate = bd
	}
	badGrade := false
	if s := v(colGrade); s == "" {
		fs = append(fs, apperr.Field("grade", "error.required"))
		badGrade = true
	} else if g, sec, ok := ParseClass(s); !ok {
		fs = append(fs, apperr.Field("grade", "roster.error.grade", s))
		badGrade = true
	} else {
		ch.Grade, ch.Section = g, sec
	}
	r.SchoolCode = strings.ToUpper(v(colSchoolCode))
	if r.SchoolCode == "" {
		fs = append(fs, apperr.Field("school_code", "error.required"))
	}
	ch.Normalize()
	if err := ch.Validate(rd.today); err != nil {
		for _, f := range apperr.As(err).Fields {
			switch {
			case f.Field == "sex": // reported above, with what was written
			case f.Field == "birth_date" && badDate:
			case (f.Field == "grade" || f.Field == "section") && badGrade:
			case f.Field == "section":
				fs = append(fs, apperr.Field("grade", f.Key, f.Args...))
			default:
				fs = append(fs, f)
			}
		}
	}
	r.Child = ch
	if len(fs) > 0 {
		r.Rejected(fs...)
	}
}

// ParseDate reads a date written YYYY-MM-DD or DD.MM.YYYY (D.M.YYYY too).
func ParseDate(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01-02", "02.01.2006", "2.1.2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// ParseSex reads how rosters write a pupil's sex: Latin or Cyrillic, a
// letter or a word, in Azerbaijani, Russian or English, any case.
func ParseSex(s string) (child.Sex, bool) {
	switch strings.ToLowerSpecial(unicode.AzeriCase, strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "."))) {
	case "m", "male", "boy", "k", "kişi", "oğlan", "erkək", "м", "муж", "мужской", "мальчик":
		return child.Male, true
	case "f", "female", "girl", "q", "qadın", "qız", "ж", "жен", "женский", "девочка":
		return child.Female, true
	}
	return "", false
}

// ParseClass reads a class as schools write it: a grade from 0 to 12 and
// an optional letter of up to 3 characters, joined directly or by a space,
// hyphen or slash: 5, 5A, 5-A, 5 a, 11/B. The letter is upper-cased the
// Azerbaijani way.
func ParseClass(s string) (grade int, section string, ok bool) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(s)
	}
	if i == 0 || i > 2 {
		return 0, "", false
	}
	grade, err := strconv.Atoi(s[:i])
	if err != nil || grade > 12 {
		return 0, "", false
	}
	rest := strings.TrimSpace(strings.TrimLeft(s[i:], " -/"))
	section = strings.ToUpperSpecial(unicode.AzeriCase, rest)
	if utf8.RuneCountInString(section) > 3 || strings.IndexFunc(section, func(r rune) bool { return !unicode.IsLetter(r) }) >= 0 {
		return 0, "", false
	}
	return grade, section, true
}
