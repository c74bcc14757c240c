package roster_test

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/child"
	"dayaq/internal/roster"
)

var today = time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)

// readAll reads every record of a roster.
func readAll(t *testing.T, in string) []roster.Record {
	t.Helper()
	rd, err := roster.NewReader(strings.NewReader(in), today)
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	var rs []roster.Record
	for {
		r, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return rs
		}
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		rs = append(rs, r)
	}
}

// reasons renders a record's reject as sorted "field:key" strings.
func reasons(r roster.Record) []string {
	if r.Reject == nil {
		return nil
	}
	var s []string
	for _, f := range r.Reject.Reasons {
		s = append(s, f.Field+":"+f.Key)
	}
	slices.Sort(s)
	return s
}

const header = "student_id,last_name,first_name,patronymic,sex,birth_date,school_code,grade\n"

func TestReadGoodFiles(t *testing.T) {
	want := child.Child{StudentID: "S-1", LastName: "Məmmədova", FirstName: "Nərmin", Patronymic: "Rəşad qızı",
		Sex: child.Female, BirthDate: time.Date(2015, 3, 9, 0, 0, 0, 0, time.UTC), Grade: 5, Section: "A"}
	tests := []struct {
		name, in string
	}{
		{"comma", header + "S-1,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-001,5A\n"},
		{"BOM", "\uFEFF" + header + "S-1,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-001,5A\n"},
		{"semicolon and dotted date", strings.ReplaceAll(header, ",", ";") + "S-1;Məmmədova;Nərmin;Rəşad qızı;q;09.03.2015;bak-06-001;5-A\n"},
		{"CRLF, no final newline", strings.ReplaceAll(header, "\n", "\r\n") + "S-1,Məmmədova,Nərmin,Rəşad qızı,F,2015-03-09,BAK-06-001,5 a"},
		{"Azerbaijani header, other order, odd case and spaces",
			" Sinif ; ŞAGİRD_ID;soyad;Ad;ata_adı;CİNS;doğum_tarixi;məktəb_kodu\n5A;S-1; Məmmədova ;Nərmin;Rəşad  qızı;qadın;9.3.2015;BAK-06-001\n"},
		{"blank lines and an extra column", "note," + header + "\nx,S-1,Məmmədova,Nərmin,Rəşad qızı,qız,2015-03-09,BAK-06-001,5/A\n\n"},
		{"quoted field", header + `"S-1","Məmmədova","Nərmin","Rəşad qızı","ж","2015-03-09","BAK-06-001","5A"` + "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := readAll(t, tt.in)
			if len(rs) != 1 {
				t.Fatalf("got %d records, want 1", len(rs))
			}
			r := rs[0]
			if r.Reject != nil {
				t.Fatalf("rejected: %v", reasons(r))
			}
			if r.Child != want {
				t.Errorf("child = %+v, want %+v", r.Child, want)
			}
			if r.SchoolCode != "BAK-06-001" {
				t.Errorf("school = %q", r.SchoolCode)
			}
			if r.Line < 2 {
				t.Errorf("line = %d", r.Line)
			}
		})
	}
}

func TestLineNumbers(t *testing.T) {
	in := header + "S-1,A,B,,m,2015-01-01,BAK-06-001,5\n\n" + `S-2,"Two` + "\n" + `lines",B,,m,2015-01-01,BAK-06-001,5` + "\nS-3,A,B,,m,2015-01-01,BAK-06-001,5\n"
	var lines []int
	for _, r := range readAll(t, in) {
		if r.Reject != nil {
			t.Errorf("line %d rejected: %v", r.Line, reasons(r))
		}
		lines = append(lines, r.Line)
	}
	if !slices.Equal(lines, []int{2, 4, 6}) {
		t.Errorf("lines = %v, want [2 4 6]", lines)
	}
}

func TestRejects(t *testing.T) {
	good := []string{"S-1", "Əliyev", "Murad", "Elçin oğlu", "m", "2014-05-01", "BAK-06-001", "4B"}
	row := func(col int, v string) string {
		f := slices.Clone(good)
		f[col] = v
		return strings.Join(f, ",")
	}
	tests := []struct {
		name, row string
		want      []string
	}{
		{"good", strings.Join(good, ","), nil},
		{"no student id", row(0, ""), []string{"student_id:error.required"}},
		{"student id too long", row(0, strings.Repeat("9", 65)), []string{"student_id:error.too_long"}},
		{"no last name", row(1, " "), []string{"last_name:error.required"}},
		{"no first name", row(2, ""), []string{"first_name:error.required"}},
		{"patronymic too long", row(3, strings.Repeat("ə", 101)), []string{"patronymic:error.too_long"}},
		{"no sex", row(4, ""), []string{"sex:error.required"}},
		{"unknown sex", row(4, "x"), []string{"sex:roster.error.sex"}},
		{"bad date", row(5, "2014/05/01"), []string{"birth_date:roster.error.birth_date"}},
		{"impossible date", row(5, "31.02.2014"), []string{"birth_date:roster.error.birth_date"}},
		{"no date", row(5, ""), []string{"birth_date:error.required"}},
		{"future date", row(5, "2027-01-01"), []string{"birth_date:child.error.birth_future"}},
		{"too old", row(5, "1990-01-01"), []string{"birth_date:child.error.birth_too_old"}},
		{"no school", row(6, ""), []string{"school_code:error.required"}},
		{"no grade", row(7, ""), []string{"grade:error.required"}},
		{"grade 13", row(7, "13A"), []string{"grade:roster.error.grade"}},
		{"grade letter only", row(7, "A"), []string{"grade:roster.error.grade"}},
		{"long section", row(7, "5ABCD"), []string{"grade:roster.error.grade"}},
		{"too few columns", "S-1,Əliyev,Murad", []string{":roster.error.columns"}},
		{"too many columns", strings.Join(good, ",") + ",x", []string{":roster.error.columns"}},
		{"invalid UTF-8", row(1, "\xff\xfe"), []string{"last_name:roster.error.encoding"}},
		{"two faults", row(4, "?") + "", []string{"sex:roster.error.sex"}},
		{"several faults at once", "S-1,,Murad,,x,2014-05-01,BAK-06-001,99", []string{"grade:roster.error.grade", "last_name:error.required", "sex:roster.error.sex"}},
		{"open quote", `S-1,"Əliyev,Murad,,m,2014-05-01,BAK-06-001,4`, []string{":import.error.csv"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs := readAll(t, header+tt.row+"\n")
			if len(rs) != 1 {
				t.Fatalf("got %d records, want 1", len(rs))
			}
			if got := reasons(rs[0]); !slices.Equal(got, tt.want) {
				t.Errorf("reasons = %v, want %v", got, tt.want)
			}
			if rs[0].Line != 2 {
				t.Errorf("line = %d, want 2", rs[0].Line)
			}
			if len(rs[0].Raw) != len(roster.Columns()) {
				t.Errorf("raw has %d fields", len(rs[0].Raw))
			}
		})
	}
}

func TestRejectsDoNotStopGoodRows(t *testing.T) {
	in := header + "S-1,A,B,,m,2015-01-01,BAK-06-001,5\nS-2,,B,,m,2015-01-01,BAK-06-001,5\nS-3,A,B,,m,2015-01-01,BAK-06-001,5\n"
	var got []string
	for _, r := range readAll(t, in) {
		got = append(got, r.Child.StudentID+":"+map[bool]string{true: "bad", false: "ok"}[r.Reject != nil])
	}
	if want := []string{"S-1:ok", "S-2:bad", "S-3:ok"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestUnusableFiles(t *testing.T) {
	tests := []struct {
		name, in, key string
	}{
		{"empty", "", "import.error.empty"},
		{"only a BOM", "\uFEFF", "import.error.empty"},
		{"missing columns", "student_id,last_name,first_name\nS-1,A,B\n", "roster.error.header"},
		{"column twice", "student_id,şagird_id,last_name,first_name,patronymic,sex,birth_date,school_code,grade\n", "roster.error.header_twice"},
		{"organisations file", "code,type,name_az,district_code\n", "roster.error.header"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := roster.NewReader(strings.NewReader(tt.in), today)
			if e := apperr.As(err); err == nil || e.Code != apperr.Invalid || e.Key != tt.key {
				t.Errorf("err = %v, want %s", err, tt.key)
			}
		})
	}
}

func TestParseSex(t *testing.T) {
	for in, want := range map[string]child.Sex{
		"m": child.Male, "M": child.Male, "male": child.Male, "k": child.Male, "kişi": child.Male, "KİŞİ": child.Male,
		"oğlan": child.Male, "м": child.Male, "М": child.Male, "муж.": child.Male, "мужской": child.Male,
		"f": child.Female, "female": child.Female, "q": child.Female, "Q": child.Female, "qadın": child.Female,
		"QADIN": child.Female, "qız": child.Female, "ж": child.Female, "жен": child.Female, "женский": child.Female,
		"x": "", "": "", "mf": "",
	} {
		got, ok := roster.ParseSex(in)
		if got != want || ok != (want != "") {
			t.Errorf("ParseSex(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestParseClass(t *testing.T) {
	tests := []struct {
		in      string
		grade   int
		section string
		ok      bool
	}{
		{"5", 5, "", true}, {"5A", 5, "A", true}, {"5-A", 5, "A", true}, {"5 a", 5, "A", true}, {"11/b", 11, "B", true},
		{"0", 0, "", true}, {"12", 12, "", true}, {"10i", 10, "İ", true}, {"7ə", 7, "Ə", true}, {"5 - A", 5, "A", true},
		{"13", 0, "", false}, {"A", 0, "", false}, {"", 0, "", false}, {"5A1", 0, "", false}, {"123", 0, "", false},
		{"5ABCD", 0, "", false}, {"-5", 0, "", false},
	}
	for _, tt := range tests {
		g, s, ok := roster.ParseClass(tt.in)
		if g != tt.grade || s != tt.section || ok != tt.ok {
			t.Errorf("ParseClass(%q) = %d, %q, %v; want %d, %q, %v", tt.in, g, s, ok, tt.grade, tt.section, tt.ok)
		}
	}
}

func TestRejectText(t *testing.T) {
	rj := roster.Reject{Reasons: []apperr.FieldError{apperr.Field("sex", "roster.error.sex", "x"), apperr.Field("", "roster.error.columns", 3, 8)}}
	got := rj.Text(func(key string, args ...any) string { return key })
	if want := "field.sex: roster.error.sex; roster.error.columns"; got != want {
		t.Errorf("Text = %q, want %q", got, want)
	}
}

func BenchmarkRead(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(header)
	for range 10000 {
		sb.WriteString("S-123456,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-001,5A\n")
	}
	in := sb.String()
	b.SetBytes(int64(len(in)))
	for b.Loop() {
		rd, err := roster.NewReader(strings.NewReader(in), today)
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := rd.Read(); err != nil {
				break
			}
		}
	}
}
