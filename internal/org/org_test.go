package org_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"dayaq/internal/apperr"
	"dayaq/internal/org"
)

func districts() map[string]bool {
	m := map[string]bool{}
	for _, d := range org.BakuDistricts() {
		m[d.Code] = true
	}
	return m
}

// faults renders err's field errors as sorted "field:key" strings; a nil
// error gives nil.
func faults(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	e := apperr.As(err)
	if e.Code != apperr.Invalid {
		t.Fatalf("error code = %q, want %q (err %v)", e.Code, apperr.Invalid, err)
	}
	var fs []string
	for _, f := range e.Fields {
		fs = append(fs, f.Field+":"+f.Key)
	}
	slices.Sort(fs)
	return fs
}

func TestValidate(t *testing.T) {
	school := func(mod func(o *org.Org)) org.Org {
		o := org.Org{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli tam orta məktəb", DistrictCode: "BAK-06"}
		mod(&o)
		return o
	}
	tests := []struct {
		name string
		o    org.Org
		want []string // sorted field:key
	}{
		{"school", school(func(*org.Org) {}), nil},
		{"city department without district", org.Org{Code: "BSTI", Type: org.CityDepartment, NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi"}, nil},
		{"hotline in a district", org.Org{Code: "HOT-146", Type: org.Hotline, NameAZ: "146-2", DistrictCode: "BAK-01"}, nil},
		{"district needs district code", org.Org{Code: "BAK-06", Type: org.District, NameAZ: "Nəsimi"}, []string{"district_code:org.error.district_required"}},
		{"commission needs district code", org.Org{Code: "KOM-06", Type: org.Commission, NameAZ: "Komissiya"}, []string{"district_code:org.error.district_required"}},
		{"200-rune name", school(func(o *org.Org) { o.NameAZ = strings.Repeat("ə", 200) }), nil},
		{"201-rune name", school(func(o *org.Org) { o.NameAZ = strings.Repeat("ə", 201) }), []string{"name_az:error.too_long"}},
		{"no name", school(func(o *org.Org) { o.NameAZ = "" }), []string{"name_az:error.required"}},
		{"no code", school(func(o *org.Org) { o.Code = "" }), []string{"code:error.required"}},
		{"code too short", org.Org{Code: "B", Type: org.Police, NameAZ: "Polis"}, []string{"code:org.error.code_format"}},
		{"lower-case code", org.Org{Code: "bsti", Type: org.Police, NameAZ: "Polis"}, []string{"code:org.error.code_format"}},
		{"code with a space", org.Org{Code: "BS TI", Type: org.Police, NameAZ: "Polis"}, []string{"code:org.error.code_format"}},
		{"unknown type", school(func(o *org.Org) { o.Type = "kindergarten" }), []string{"type:org.error.type"}},
		{"empty type", school(func(o *org.Org) { o.Type = "" }), []string{"type:org.error.type"}},
		{"unknown district", school(func(o *org.Org) { o.DistrictCode = "BAK-13"; o.Code = "BAK-13-001" }), []string{"district_code:org.error.district_unknown"}},
		{"school code of another district", school(func(o *org.Org) { o.Code = "BAK-07-001" }), []string{"code:org.error.school_code"}},
		{"school code with two digits", school(func(o *org.Org) { o.Code = "BAK-06-01" }), []string{"code:org.error.school_code"}},
		{"school without district", school(func(o *org.Org) { o.DistrictCode = "" }),
			[]string{"code:org.error.school_code", "district_code:org.error.district_required"}},
		{"everything wrong", org.Org{Code: "x", Type: "y", DistrictCode: "Z"},
			[]string{"code:org.error.code_format", "district_code:org.error.district_unknown", "name_az:error.required", "type:org.error.type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := faults(t, tt.o.Validate(districts()))
			if !slices.Equal(got, tt.want) {
				t.Errorf("Validate(%+v) faults = %q, want %q", tt.o, got, tt.want)
			}
		})
	}
}

func TestValidateArgs(t *testing.T) {
	o := org.Org{Code: "BAK-07-001", Type: org.School, NameAZ: "Məktəb", DistrictCode: "BAK-06"}
	e := apperr.As(o.Validate(districts()))
	if len(e.Fields) != 1 || fmt.Sprint(e.Fields[0].Args) != "[BAK-06]" {
		t.Fatalf("fields = %+v, want one naming district BAK-06 for the message", e.Fields)
	}
}

func TestNormalize(t *testing.T) {
	o := org.Org{Code: " bak-06-001 ", Type: " School ", NameAZ: "  Məktəb ", NameRU: " Школа ", NameEN: " School ", DistrictCode: "bak-06\t"}
	o.Normalize()
	want := org.Org{Code: "BAK-06-001", Type: org.School, NameAZ: "Məktəb", NameRU: "Школа", NameEN: "School", DistrictCode: "BAK-06"}
	if o != want {
		t.Errorf("Normalize = %+v, want %+v", o, want)
	}
}

func TestNameFallsBack(t *testing.T) {
	o := org.Org{NameAZ: "Məktəb", NameEN: "School"}
	for lang, want := range map[string]string{"az": "Məktəb", "ru": "Məktəb", "en": "School", "de": "Məktəb"} {
		if got := o.Name(lang); got != want {
			t.Errorf("Name(%q) = %q, want %q", lang, got, want)
		}
	}
}

// rowFault renders one bad row as "line: what", what being the field:key
// list of a validation error or the message key with its arguments.
func rowFault(t *testing.T, b org.RowError) string {
	t.Helper()
	e := apperr.As(b.Err)
	if e.Code != apperr.Invalid {
		t.Fatalf("line %d: code %q, want %q (err %v)", b.Line, e.Code, apperr.Invalid, b.Err)
	}
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%d: %s", b.Line, e.Key)
	}
	var fs []string
	for _, f := range e.Fields {
		fs = append(fs, f.Field+":"+f.Key)
	}
	slices.Sort(fs)
	return fmt.Sprintf("%d: %s", b.Line, strings.Join(fs, ","))
}

func TestParseCSV(t *testing.T) {
	const header = "code,type,name_az,district_code\n"
	tests := []struct {
		name  string
		in    string
		codes []string // codes of the valid rows, in order
		bad   []string // "line: field:key,…" or "line: key"
	}{
		{
			name: "good",
			in: header +
				"BSTI,city_department,Bakı Şəhəri üzrə Təhsil İdarəsi,\n" +
				"BAK-06-001,school,1 nömrəli məktəb,BAK-06\n" +
				"bak-07-001 , School ,2 nömrəli məktəb, bak-07\n",
			codes: []string{"BSTI", "BAK-06-001", "BAK-07-001"},
		},
		{
			name:  "BOM",
			in:    "\uFEFF" + header + "BAK-06-001,school,Məktəb,BAK-06\n",
			codes: []string{"BAK-06-001"},
		},
		{
			name:  "semicolons, CRLF, names with commas",
			in:    "code;type;name_az;district_code\r\nBAK-06-001;school;Məktəb, Nəsimi;BAK-06\r\nBSTI;city_department;İdarə;\r\n",
			codes: []string{"BAK-06-001", "BSTI"},
		},
		{
			name:  "BOM and semicolons",
			in:    "\uFEFFcode;type;name_az;district_code\nBAK-06-001;school;Məktəb;BAK-06\n",
			codes: []string{"BAK-06-001"},
		},
		{
			name:  "columns in another order, header case and spaces",
			in:    " District_Code ,NAME_AZ,Type,Code\nBAK-06,Məktəb,school,BAK-06-001\n",
			codes: []string{"BAK-06-001"},
		},
		{
			name:  "header only",
			in:    header,
			codes: nil,
		},
		{
			name: "empty file",
			in:   "",
			bad:  []string{"1: import.error.empty"},
		},
		{
			name: "header lacks a column",
			in:   "code,name_az,district_code\nBAK-06-001,Məktəb,BAK-06\n",
			bad:  []string{"1: import.error.header"},
		},
		{
			name: "blank lines skipped, line numbers kept",
			in: header +
				"\n" +
				"BAK-06-001,school,Məktəb,BAK-06\n" +
				"\n   \n" +
				"BAK-06-002,school,,BAK-06\n",
			codes: []string{"BAK-06-001"},
			bad:   []string{"6: name_az:error.required"},
		},
		{
			name: "bad rows, each with its line",
			in: header +
				"BAK-06-001,school,Məktəb,BAK-06\n" + // 2
				"BAK-06-002,kindergarten,Bağça,BAK-06\n" + // 3
				"BAK-13-001,school,Məktəb,BAK-13\n" + // 4
				"BAK-07-001,school,Məktəb,BAK-06\n" + // 5
				"BAK-06-003,school,,BAK-06\n" + // 6
				"BAK-06-004,school,Məktəb,BAK-06\n" + // 7
				"BAK-06-001,school,Təkrar,BAK-06\n" + // 8
				"BAK-06-005,school\n" + // 9: ragged
				"BAK-06-006,school,Məktəb \"Ulduz\",BAK-06\n" + // 10: bare quote
				"BAK-06-007,school,Məktəb,BAK-06\n", // 11
			codes: []string{"BAK-06-001", "BAK-06-004", "BAK-06-007"},
			bad: []string{
				"3: type:org.error.type",
				"4: district_code:org.error.district_unknown",
				"5: code:org.error.school_code",
				"6: name_az:error.required",
				"8: code:import.error.duplicate",
				"9: name_az:error.required,district_code:org.error.district_required,code:org.error.school_code",
				"10: import.error.csv",
			},
		},
		{
			name: "bare quote in the first field",
			in:   header + "BAK-06\"-001,school,Məktəb,BAK-06\nBAK-06-002,school,Məktəb,BAK-06\n",
			// The row after the broken one is still read.
			codes: []string{"BAK-06-002"},
			bad:   []string{"2: import.error.csv"},
		},
		{
			name: "quote left open names the line it opened on",
			in: header +
				"BAK-06-001,school,Məktəb,BAK-06\n" +
				"\"BAK-06-002,school,Məktəb,BAK-06\n" +
				"BAK-06-003,school,Məktəb,BAK-06\n",
			codes: []string{"BAK-06-001"},
			bad:   []string{"3: import.error.csv"},
		},
		{
			name:  "quoted field spanning lines",
			in:    header + "BAK-06-001,school,\"Məktəb\nikinci sətir\",BAK-06\nBAK-06-002,school,,BAK-06\n",
			codes: []string{"BAK-06-001"},
			bad:   []string{"4: name_az:error.required"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orgs, bad, err := org.ParseCSV(strings.NewReader(tt.in), districts())
			if err != nil {
				t.Fatalf("ParseCSV: %v", err)
			}
			var codes []string
			for _, o := range orgs {
				codes = append(codes, o.Code)
				if err := o.Validate(districts()); err != nil {
					t.Errorf("returned row %s does not validate: %v", o.Code, err)
				}
			}
			if !slices.Equal(codes, tt.codes) {
				t.Errorf("codes = %q, want %q", codes, tt.codes)
			}
			var got []string
			for _, b := range bad {
				got = append(got, rowFault(t, b))
			}
			want := slices.Clone(tt.bad)
			for i, w := range want { // compare field lists sorted
				line, fs, _ := strings.Cut(w, ": ")
				parts := strings.Split(fs, ",")
				slices.Sort(parts)
				want[i] = line + ": " + strings.Join(parts, ",")
			}
			if !slices.Equal(got, want) {
				t.Errorf("bad rows:\n got  %q\n want %q", got, want)
			}
		})
	}
}

func TestParseCSVErrorArgs(t *testing.T) {
	t.Run("missing columns are named", func(t *testing.T) {
		_, bad, err := org.ParseCSV(strings.NewReader("code;name_az\nX;Y\n"), districts())
		if err != nil || len(bad) != 1 {
			t.Fatalf("bad = %v, err = %v; want one row error", bad, err)
		}
		e := apperr.As(bad[0].Err)
		if bad[0].Line != 1 || e.Key != "import.error.header" || fmt.Sprint(e.Args...) != "type, district_code" {
			t.Errorf("got line %d %s %q, want line 1 import.error.header naming \"type, district_code\"", bad[0].Line, e.Key, e.Args)
		}
		if !strings.Contains(bad[0].Error(), "line 1:") {
			t.Errorf("RowError.Error() = %q, want it to start with the line", bad[0].Error())
		}
	})
	t.Run("duplicate names the first line", func(t *testing.T) {
		in := "code,type,name_az,district_code\n\nBSTI,city_department,A,\nBAK-06-001,school,B,BAK-06\nbsti,city_department,C,\n"
		orgs, bad, err := org.ParseCSV(strings.NewReader(in), districts())
		if err != nil || len(bad) != 1 || len(orgs) != 2 {
			t.Fatalf("orgs %v, bad %v, err %v; want 2 orgs and 1 bad row", orgs, bad, err)
		}
		e := apperr.As(bad[0].Err)
		if bad[0].Line != 5 || len(e.Fields) != 1 || e.Fields[0].Key != "import.error.duplicate" || fmt.Sprint(e.Fields[0].Args...) != "3" {
			t.Errorf("got line %d fields %+v, want line 5 code:import.error.duplicate naming line 3", bad[0].Line, e.Fields)
		}
	})
	t.Run("optional names", func(t *testing.T) {
		in := "code,type,name_az,district_code,name_ru,name_en\nBAK-06-001,school,1 nömrəli məktəb,BAK-06,Школа № 1,School No. 1\n" +
			"BSTI,city_department,İdarə,,,\n"
		orgs, bad, err := org.ParseCSV(strings.NewReader(in), districts())
		if err != nil || len(bad) != 0 || len(orgs) != 2 {
			t.Fatalf("orgs %v, bad %v, err %v", orgs, bad, err)
		}
		want := []org.Org{
			{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli məktəb", NameRU: "Школа № 1", NameEN: "School No. 1", DistrictCode: "BAK-06"},
			{Code: "BSTI", Type: org.CityDepartment, NameAZ: "İdarə"},
		}
		if !slices.Equal(orgs, want) {
			t.Errorf("orgs = %+v, want %+v", orgs, want)
		}
	})
}

func TestTypes(t *testing.T) {
	seen := map[org.Type]bool{}
	for _, ty := range org.Types() {
		if seen[ty] || !ty.Valid() {
			t.Errorf("type %q repeated or not valid", ty)
		}
		seen[ty] = true
	}
	if org.Type("School").Valid() || org.Type("").Valid() {
		t.Error("Valid accepts a type not in Types()")
	}
}

func TestBakuDistricts(t *testing.T) {
	ds := org.BakuDistricts()
	if len(ds) != 12 {
		t.Fatalf("%d districts, want 12", len(ds))
	}
	for i, d := range ds {
		if want := fmt.Sprintf("BAK-%02d", i+1); d.Code != want {
			t.Errorf("district %d code %q, want %q", i, d.Code, want)
		}
		for _, l := range []string{"az", "ru", "en"} {
			if d.Name(l) == "" {
				t.Errorf("%s has no %s name", d.Code, l)
			}
		}
	}
}
