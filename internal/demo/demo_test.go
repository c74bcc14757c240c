package demo

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"dayaq/internal/child"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestMain(m *testing.M) { storagetest.Main(m) }

func districtSet() map[string]bool {
	m := map[string]bool{}
	for _, d := range org.BakuDistricts() {
		m[d.Code] = true
	}
	return m
}

func TestOrgs(t *testing.T) {
	schoolCodeRE := regexp.MustCompile(`^[A-Z]{3}-\d{2}-\d{3}$`)
	orgs := Orgs()
	if !slices.Equal(orgs, Orgs()) {
		t.Fatal("Orgs is not deterministic")
	}
	byCode := map[string]org.Org{}
	names := map[string]string{}
	for _, o := range orgs {
		if err := o.Validate(districtSet()); err != nil {
			t.Errorf("%s: %v", o, err)
		}
		n := o
		n.Normalize()
		if n != o {
			t.Errorf("%s is not normalised: %+v", o, o)
		}
		if _, dup := byCode[o.Code]; dup {
			t.Errorf("duplicate code %s", o.Code)
		}
		byCode[o.Code] = o
		if o.NameRU == "" || o.NameEN == "" {
			t.Errorf("%s lacks a Russian or English name: %+v", o, o)
		}
		for _, name := range []string{o.NameAZ, o.NameRU, o.NameEN} {
			if prev, dup := names[name]; dup {
				t.Errorf("%s and %s share the name %q", prev, o.Code, name)
			}
			names[name] = o.Code
		}
		if got, want := schoolCodeRE.MatchString(o.Code), o.Type == org.School; got != want {
			t.Errorf("%s: code matches the school pattern = %v, is a school = %v", o, got, want)
		}
	}

	fixed := []struct {
		code, district string
		typ            org.Type
	}{
		{"BSTI", "", org.CityDepartment},
		{"HOTLINE-146-2", "", org.Hotline},
		{"BAK-POLICE", "", org.Police},
		{"BAK-HEALTH", "", org.Health},
		{"DSMF", "", org.SocialProtection},
		{"AQUPDK", "", org.StateCommittee},
		{"TAIM", "", org.ResearchCentre},
		{"ICTIMAI-SURA", "", org.PublicCouncil},
		{"RIH-06", "BAK-06", org.District},
		{"KDM-06", "BAK-06", org.Commission},
		{"RIH-01", "BAK-01", org.District},
		{"KDM-12", "BAK-12", org.Commission},
		{"BAK-06-001", "BAK-06", org.School},
		{"BAK-08-008", "BAK-08", org.School},
	}
	for _, f := range fixed {
		o, ok := byCode[f.code]
		switch {
		case !ok:
			t.Errorf("no org %s", f.code)
		case o.Type != f.typ || o.DistrictCode != f.district:
			t.Errorf("%s: type %s district %q, want %s %q", f.code, o.Type, o.DistrictCode, f.typ, f.district)
		}
	}
	if got, want := byCode["BSTI"].NameAZ, "Bakı Şəhəri üzrə Təhsil İdarəsi"; got != want {
		t.Errorf("BSTI name_az = %q, want %q", got, want)
	}

	// Per district: one RIH, one KDM, and 8 to 20 schools numbered from 001
	// without gaps, whose names carry the district's name in each language.
	perDistrict := map[string]int{}
	for _, d := range org.BakuDistricts() {
		dd := strings.TrimPrefix(d.Code, "BAK-")
		for _, code := range []string{"RIH-" + dd, "KDM-" + dd} {
			if o := byCode[code]; o.DistrictCode != d.Code {
				t.Errorf("%s: district %q, want %s", code, o.DistrictCode, d.Code)
			}
		}
		schools := 0
		for _, o := range orgs {
			if o.Type != org.School || o.DistrictCode != d.Code {
				continue
			}
			schools++
			if !strings.HasPrefix(o.Code, d.Code+"-") {
				t.Errorf("school %s is not coded under its district %s", o.Code, d.Code)
			}
			if !strings.HasPrefix(o.NameAZ, d.NameAZ+" rayonu ") || !strings.HasSuffix(o.NameAZ, " nömrəli tam orta məktəb") ||
				!strings.Contains(o.NameRU, d.NameRU[:len(d.NameRU)-len("ий")]+"ого района") ||
				!strings.HasSuffix(o.NameEN, ", "+d.NameEN+" district") {
				t.Errorf("school %s names do not fit district %s: %q / %q / %q", o.Code, d.Code, o.NameAZ, o.NameRU, o.NameEN)
			}
		}
		if schools < 8 || schools > 20 {
			t.Errorf("%s has %d schools, want 8..20", d.Code, schools)
		}
		for i := 1; i <= schools; i++ {
			if code := fmt.Sprintf("%s-%03d", d.Code, i); byCode[code].Type != org.School {
				t.Errorf("missing school %s", code)
			}
		}
		perDistrict[d.Code] = schools
	}
	if distinct := slices.Compact(slices.Sorted(maps.Values(perDistrict))); len(distinct) < 6 {
		t.Errorf("school counts per district hardly vary: %v", perDistrict)
	}
}

// azLetters is the Azerbaijani Latin alphabet.
const azLetters = "AaBbCcÇçDdEeƏəFfGgĞğHhXxIıİiJjKkQqLlMmNnOoÖöPpRrSsŞşTtUuÜüVvYyZz"

func TestNameTables(t *testing.T) {
	var male, female []string
	for _, s := range surnames() {
		male = append(male, s.Male)
		female = append(female, s.Female)
	}
	gendered := 0
	for _, s := range surnames() {
		if s.Male != s.Female {
			gendered++
			if s.Female != s.Male+"a" || !(strings.HasSuffix(s.Male, "ov") || strings.HasSuffix(s.Male, "ev")) {
				t.Errorf("surname %s/%s: want an -ov/-ev form and its -a feminine", s.Male, s.Female)
			}
		}
	}
	tests := []struct {
		name  string
		names []string
		min   int
	}{
		{"male first names", maleNames(), 80},
		{"female first names", femaleNames(), 80},
		{"male surnames", male, 80},
		{"female surnames", female, 80},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if len(tt.names) < tt.min {
				t.Errorf("%d names, want at least %d", len(tt.names), tt.min)
			}
			seen := map[string]bool{}
			for _, n := range tt.names {
				if seen[n] {
					t.Errorf("duplicate %q", n)
				}
				seen[n] = true
				for _, r := range n {
					if !strings.ContainsRune(azLetters, r) {
						t.Errorf("%q: %q (%U) is not an Azerbaijani Latin letter", n, r, r)
					}
				}
				if first, _ := utf8.DecodeRuneInString(n); !unicode.IsUpper(first) {
					t.Errorf("%q does not start with a capital", n)
				}
			}
		})
	}
	if gendered < 80 {
		t.Errorf("%d surnames with male and female forms, want at least 80", gendered)
	}
	for _, f := range femaleNames() {
		if slices.Contains(maleNames(), f) {
			t.Errorf("%q is both a male and a female name", f)
		}
	}
}

func collect(seq func(func(child.Child) bool)) []child.Child {
	var cs []child.Child
	for c := range seq {
		cs = append(cs, c)
	}
	return cs
}

func testSchools(n int) []org.Org {
	s := make([]org.Org, n)
	for i := range s {
		s[i] = org.Org{ID: int64(100 + i), Type: org.School}
	}
	return s
}

func TestChildren(t *testing.T) {
	today := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC)
	firstDay := time.Date(2026, 9, 15, 0, 0, 0, 0, time.UTC)
	maleFirst, femaleFirst := map[string]bool{}, map[string]bool{}
	for _, n := range maleNames() {
		maleFirst[n] = true
	}
	for _, n := range femaleNames() {
		femaleFirst[n] = true
	}
	maleLast, femaleLast := map[string]bool{}, map[string]bool{}
	for _, s := range surnames() {
		maleLast[s.Male] = true
		femaleLast[s.Female] = true
	}

	tests := []struct {
		name    string
		seed    int64
		n       int
		schools []org.Org
	}{
		{"none", 1, 0, testSchools(3)},
		{"one", 1, 1, testSchools(3)},
		{"many", Seed, 3000, testSchools(40)},
		{"other seed", -7, 3000, testSchools(1)},
		{"no schools", 5, 50, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := collect(Children(tt.seed, tt.n, tt.schools))
			if len(cs) != tt.n {
				t.Fatalf("%d children, want %d", len(cs), tt.n)
			}
			if again := collect(Children(tt.seed, tt.n, tt.schools)); !slices.Equal(cs, again) {
				t.Fatal("Children is not deterministic for a seed")
			}
			if prefix := collect(Children(tt.seed, tt.n/2, tt.schools)); !slices.Equal(prefix, cs[:tt.n/2]) {
				t.Error("the first children of a seed depend on n")
			}
			schoolIDs := map[int64]bool{}
			for _, s := range tt.schools {
				schoolIDs[s.ID] = true
			}
			ids := map[string]bool{}
			for i, c := range cs {
				if err := c.Validate(today); err != nil {
					t.Errorf("%s: %v", c.StudentID, err)
				}
				if ids[c.StudentID] {
					t.Errorf("duplicate student ID %s", c.StudentID)
				}
				ids[c.StudentID] = true
				if want := fmt.Sprintf("ST%09d", i+1); c.StudentID != want {
					t.Errorf("child %d: student ID %s, want %s", i, c.StudentID, want)
				}
				father, suffix, ok := strings.Cut(c.Patronymic, " ")
				if !ok || !maleFirst[father] {
					t.Errorf("%s: patronymic %q is not a father's name and a suffix", c.StudentID, c.Patronymic)
				}
				switch c.Sex {
				case child.Male:
					if !maleFirst[c.FirstName] || !maleLast[c.LastName] || suffix != "oğlu" || strings.HasSuffix(c.LastName, "ova") || strings.HasSuffix(c.LastName, "eva") {
						t.Errorf("boy %s: %s", c.StudentID, c.FullName())
					}
				case child.Female:
					if !femaleFirst[c.FirstName] || !femaleLast[c.LastName] || suffix != "qızı" ||
						strings.HasSuffix(c.LastName, "ov") || strings.HasSuffix(c.LastName, "ev") {
						t.Errorf("girl %s: %s", c.StudentID, c.FullName())
					}
				default:
					t.Errorf("%s: sex %q", c.StudentID, c.Sex)
				}
				if c.Grade < 0 || c.Grade > 11 {
					t.Errorf("%s: grade %d", c.StudentID, c.Grade)
				}
				// On the first school day a child in grade g is g+5, give or take a year.
				if age := ageOn(c.BirthDate, firstDay); age < c.Grade+4 || age > c.Grade+6 {
					t.Errorf("%s: %d years old in grade %d (born %s)", c.StudentID, age, c.Grade, c.BirthDate.Format(time.DateOnly))
				}
				if c.BirthDate != c.BirthDate.Truncate(24*time.Hour) || c.BirthDate.Location() != time.UTC {
					t.Errorf("%s: birth date %v is not a UTC date", c.StudentID, c.BirthDate)
				}
				if len(tt.schools) == 0 && c.SchoolID != 0 || len(tt.schools) > 0 && !schoolIDs[c.SchoolID] {
					t.Errorf("%s: school %d is not one of the given ones", c.StudentID, c.SchoolID)
				}
			}
		})
	}

	a := collect(Children(1, 100, testSchools(3)))
	b := collect(Children(2, 100, testSchools(3)))
	same := 0
	for i := range a {
		if a[i].FullName() == b[i].FullName() {
			same++
		}
	}
	if same > 10 {
		t.Errorf("seeds 1 and 2 give %d of 100 identical names", same)
	}
}

func TestChildrenStopsEarly(t *testing.T) {
	n := 0
	for range Children(1, 1000, testSchools(2)) {
		n++
		if n == 5 {
			break
		}
	}
	if n != 5 {
		t.Errorf("ranged %d times, want 5", n)
	}
}

// TestChildrenDistribution checks that the data look like a Baku school
// roster: about as many girls as boys, a few very common surnames, every
// grade and school used, and namesakes.
func TestChildrenDistribution(t *testing.T) {
	const n = 20_000
	schools := testSchools(173)
	cs := collect(Children(Seed, n, schools))
	sexes := map[child.Sex]int{}
	lastNames := map[string]int{} // male form
	fullNames := map[string]int{}
	grades := map[int]int{}
	perSchool := map[int64]int{}
	maleForm := map[string]string{}
	for _, s := range surnames() {
		maleForm[s.Female] = s.Male
		maleForm[s.Male] = s.Male
	}
	for _, c := range cs {
		sexes[c.Sex]++
		lastNames[maleForm[c.LastName]]++
		fullNames[c.LastName+" "+c.FirstName]++
		grades[c.Grade]++
		perSchool[c.SchoolID]++
	}
	share := func(k int) float64 { return float64(k) / n }

	if f := share(sexes[child.Female]); f < 0.47 || f > 0.53 {
		t.Errorf("girls are %.3f of the children, want about half", f)
	}
	top := slices.SortedFunc(maps.Keys(lastNames), func(a, b string) int { return lastNames[b] - lastNames[a] })
	if top[0] != "Məmmədov" {
		t.Errorf("most common surname %s, want Məmmədov", top[0])
	}
	for _, s := range []string{"Məmmədov", "Əliyev", "Hüseynov", "Həsənov", "Quliyev"} {
		if i := slices.Index(top, s); i < 0 || i > 6 {
			t.Errorf("%s is ranked %d, want among the most common", s, i)
		}
	}
	if f := share(lastNames["Məmmədov"]); f < 0.08 || f > 0.2 {
		t.Errorf("Məmmədov is %.3f of the children", f)
	}
	if median := lastNames[top[len(top)/2]]; lastNames["Məmmədov"] < 10*median {
		t.Errorf("surnames are not skewed: Məmmədov %d, median %d", lastNames["Məmmədov"], median)
	}
	if len(top) < 80 {
		t.Errorf("only %d surnames used", len(top))
	}
	neutral := lastNames["Əlizadə"] + lastNames["Məmmədli"] + lastNames["Hüseynzadə"]
	if neutral == 0 || share(neutral) > 0.03 {
		t.Errorf("surnames without a gendered form are %.3f of the children, want rare but present", share(neutral))
	}
	namesakes := 0
	for _, k := range fullNames {
		if k > 1 {
			namesakes += k
		}
	}
	if share(namesakes) < 0.2 {
		t.Errorf("only %d children share a surname and first name with another", namesakes)
	}
	for g := range 12 {
		if share(grades[g]) < 0.04 {
			t.Errorf("grade %d has %d children", g, grades[g])
		}
	}
	if len(perSchool) != len(schools) {
		t.Errorf("children in %d schools, want all %d", len(perSchool), len(schools))
	}
}

func TestLoad(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		wantSchools := 0
		wantTypes := map[org.Type]int{}
		for _, o := range Orgs() {
			wantTypes[o.Type]++
			if o.Type == org.School {
				wantSchools++
			}
		}

		if empty, err := IsEmpty(ctx, db); err != nil || !empty {
			t.Fatalf("IsEmpty on a new database = %v, %v; want true", empty, err)
		}
		var calls []int
		sum, err := Load(ctx, db, 3000, func(done int) { calls = append(calls, done) })
		if err != nil {
			t.Fatal(err)
		}
		if want := (Summary{Orgs: len(Orgs()), Schools: wantSchools, Children: 3000}); sum != want {
			t.Errorf("Load = %+v, want %+v", sum, want)
		}
		if !slices.Equal(calls, []int{3000}) {
			t.Errorf("progress called with %v, want [3000]", calls)
		}
		if n, err := db.CountChildren(ctx); err != nil || n != 3000 {
			t.Errorf("CountChildren = %d, %v; want 3000", n, err)
		}
		if got, err := db.CountOrgs(ctx); err != nil || !maps.Equal(got, wantTypes) {
			t.Errorf("CountOrgs = %v, %v; want %v", got, err, wantTypes)
		}
		if empty, err := IsEmpty(ctx, db); err != nil || empty {
			t.Errorf("IsEmpty after Load = %v, %v; want false", empty, err)
		}
		// The stored children are the generated ones, in their schools.
		schools, err := allSchools(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		var want child.Child
		for c := range Children(Seed, 1, schools) {
			want = c
		}
		got := storagetest.Child(t, db, 1)
		if got.StudentID != want.StudentID || got.FullName() != want.FullName() || !got.BirthDate.Equal(want.BirthDate) ||
			got.SchoolID != want.SchoolID || got.Grade != want.Grade || got.Sex != want.Sex {
			t.Errorf("stored child %+v, want %+v", got, want)
		}
		// A second load would clash with the student IDs: it is refused and
		// changes nothing.
		if _, err := Load(ctx, db, 10, nil); err == nil || !strings.Contains(err.Error(), "already has 3000 children") {
			t.Errorf("second Load: %v, want a refusal", err)
		}
		if n, _ := db.CountChildren(ctx); n != 3000 {
			t.Errorf("%d children after the refused Load, want 3000", n)
		}
	})
}

func TestLoadBatches(t *testing.T) {
	tests := []struct {
		children int
		progress []int
	}{
		{0, nil},
		{BatchSize, []int{BatchSize}},
		{2*BatchSize + 1, []int{BatchSize, 2 * BatchSize, 2*BatchSize + 1}},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.children), func(t *testing.T) {
			db := storagetest.Open(t, storagetest.SQLiteDSN(t))
			var calls []int
			sum, err := Load(context.Background(), db, tt.children, func(done int) { calls = append(calls, done) })
			if err != nil {
				t.Fatal(err)
			}
			if sum.Children != tt.children || !slices.Equal(calls, tt.progress) {
				t.Errorf("Load: %d children, progress %v; want %d, %v", sum.Children, calls, tt.children, tt.progress)
			}
			if n, err := db.CountChildren(context.Background()); err != nil || n != tt.children {
				t.Errorf("CountChildren = %d, %v; want %d", n, err, tt.children)
			}
		})
	}
	if _, err := Load(context.Background(), storagetest.Open(t, storagetest.SQLiteDSN(t)), -1, nil); err == nil {
		t.Error("Load with a negative count succeeded")
	}
}

// BenchmarkLoad20k measures Load of 20,000 children on SQLite, the demo's
// default size; it should stay well under two seconds.
func BenchmarkLoad20k(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		db := storagetest.Open(b, storagetest.SQLiteDSN(b))
		b.StartTimer()
		if _, err := Load(context.Background(), db, 20_000, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// ageOn returns the age in whole years on day of someone born on birth.
func ageOn(birth, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.Month() < birth.Month() || day.Month() == birth.Month() && day.Day() < birth.Day() {
		age--
	}
	return age
}
