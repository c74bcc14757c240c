// Package demo makes synthetic demo data: Baku's education department, its
// partner bodies, the districts' authorities and schools, and a registry of
// made-up children. Nothing here describes a real person: names are drawn at
// random from tables of common Azerbaijani names.
//
// Everything is deterministic: the same arguments give the same data, on any
// machine and Go release (the package uses its own random generator, not
// math/rand, whose streams are not promised to stay the same).
package demo

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/bits"
	"slices"
	"strings"
	"time"

	"dayaq/internal/child"
	"dayaq/internal/org"
	"dayaq/internal/storage"
)

// Seed is the seed Load passes to Children.
const Seed int64 = 1462

// BatchSize is how many children Load inserts per transaction.
const BatchSize = 5000

// schoolYear is the school year the data describe: it starts on 15 September
// of this year, and children's ages are reckoned on that day.
const schoolYear = 2026

// schoolNumbers is the highest school number handed out in the city; school
// numbers are distinct across Baku, as in reality.
const schoolNumbers = 330

// Orgs returns the demo organisations: the city department and the
// city-wide partner bodies, then for each of Baku's districts its executive
// authority (RIH-DD), its commission on minors' affairs (KDM-DD) and its
// schools (BAK-DD-SSS). Every organisation has names in az, ru and en.
func Orgs() []org.Org {
	orgs := []org.Org{
		{Code: "BSTI", Type: org.CityDepartment,
			NameAZ: "Bakı Şəhəri üzrə Təhsil İdarəsi",
			NameRU: "Управление образования города Баку",
			NameEN: "Baku City Education Department"},
		{Code: "HOTLINE-146-2", Type: org.Hotline,
			NameAZ: "Təhsil Nazirliyinin 146-2 Qaynar xətti",
			NameRU: "Горячая линия 146-2 Министерства образования",
			NameEN: "Ministry of Education Hotline 146-2"},
		{Code: "BAK-POLICE", Type: org.Police,
			NameAZ: "Bakı Şəhər Baş Polis İdarəsi",
			NameRU: "Главное управление полиции города Баку",
			NameEN: "Baku City Main Police Department"},
		{Code: "BAK-HEALTH", Type: org.Health,
			NameAZ: "Bakı şəhər Baş Səhiyyə İdarəsi",
			NameRU: "Главное управление здравоохранения города Баку",
			NameEN: "Baku City Main Health Department"},
		{Code: "DSMF", Type: org.SocialProtection,
			NameAZ: "Dövlət Sosial Müdafiə Fondu",
			NameRU: "Государственный фонд социальной защиты",
			NameEN: "State Social Protection Fund"},
		{Code: "AQUPDK", Type: org.StateCommittee,
			NameAZ: "Ailə, Qadın və Uşaq Problemləri üzrə Dövlət Komitəsi",
			NameRU: "Государственный комитет по проблемам семьи, женщин и детей",
			NameEN: "State Committee for Family, Women and Children Affairs"},
		{Code: "TAIM", Type: org.ResearchCentre,
			NameAZ: "Təhsildə Araşdırma və İnkişaf Mərkəzi",
			NameRU: "Центр исследований и развития в образовании",
			NameEN: "Education Research and Development Centre"},
		{Code: "ICTIMAI-SURA", Type: org.PublicCouncil,
			NameAZ: "Təhsil Nazirliyi yanında İctimai Şura",
			NameRU: "Общественный совет при Министерстве образования",
			NameEN: "Public Council under the Ministry of Education"},
	}

	districts := org.BakuDistricts()
	total := 0
	for _, d := range districts {
		total += schoolsIn(d.Code)
	}
	numbers := schoolNumberList(total)
	for _, d := range districts {
		dd := strings.TrimPrefix(d.Code, "BAK-")
		ruGen := russianGenitive(d.NameRU)
		orgs = append(orgs,
			org.Org{Code: "RIH-" + dd, Type: org.District, DistrictCode: d.Code,
				NameAZ: d.NameAZ + " Rayon İcra Hakimiyyəti",
				NameRU: "Исполнительная власть " + ruGen + " района",
				NameEN: d.NameEN + " District Executive Authority"},
			org.Org{Code: "KDM-" + dd, Type: org.Commission, DistrictCode: d.Code,
				NameAZ: d.NameAZ + " Rayon İcra Hakimiyyəti yanında Yetkinlik yaşına çatmayanların işləri və hüquqlarının müdafiəsi üzrə Komissiya",
				NameRU: "Комиссия по делам несовершеннолетних и защите их прав " + ruGen + " района",
				NameEN: "Commission on Minors' Affairs and Protection of Their Rights, " + d.NameEN + " District"},
		)
		k := schoolsIn(d.Code)
		mine := numbers[:k]
		numbers = numbers[k:]
		slices.Sort(mine)
		for i, no := range mine {
			orgs = append(orgs, org.Org{
				Code:         fmt.Sprintf("%s-%03d", d.Code, i+1),
				Type:         org.School,
				DistrictCode: d.Code,
				NameAZ:       fmt.Sprintf("%s rayonu %d nömrəli tam orta məktəb", d.NameAZ, no),
				NameRU:       fmt.Sprintf("Полная средняя школа № %d %s района", no, ruGen),
				NameEN:       fmt.Sprintf("Secondary school No. %d, %s district", no, d.NameEN),
			})
		}
	}
	return orgs
}

// schoolsIn returns how many schools the demo gives a district: between 8
// and 20, roughly following the districts' sizes.
func schoolsIn(district string) int {
	switch district {
	case "BAK-01": // Binəqədi
		return 18
	case "BAK-02": // Qaradağ
		return 10
	case "BAK-03": // Xətai
		return 19
	case "BAK-04": // Xəzər
		return 13
	case "BAK-05": // Nərimanov
		return 16
	case "BAK-06": // Nəsimi
		return 15
	case "BAK-07": // Nizami
		return 14
	case "BAK-08": // Pirallahı
		return 8
	case "BAK-09": // Sabunçu
		return 20
	case "BAK-10": // Səbail
		return 11
	case "BAK-11": // Suraxanı
		return 12
	case "BAK-12": // Yasamal
		return 17
	}
	return 12
}

// schoolNumberList returns n distinct school numbers from 1 to
// schoolNumbers (or more, if n is larger), in a fixed shuffled order.
func schoolNumberList(n int) []int {
	all := make([]int, max(n, schoolNumbers))
	for i := range all {
		all[i] = i + 1
	}
	r := newRNG(schoolNumbers)
	for i := range n { // partial Fisher–Yates: the first n are a random sample
		j := i + r.intn(len(all)-i)
		all[i], all[j] = all[j], all[i]
	}
	return all[:n]
}

// russianGenitive turns a district's Russian adjective ("Насиминский") into
// the genitive that goes before "района" ("Насиминского").
func russianGenitive(adj string) string {
	if base, ok := strings.CutSuffix(adj, "ий"); ok {
		return base + "ого"
	}
	return adj
}

// Children returns n made-up children, deterministic for seed, spread over
// schools (which need their database IDs; with no schools SchoolID is 0).
// Child i has student ID "ST" followed by i+1 in nine digits, so the first
// k children of a seed do not depend on n. Ages fit the grade on the first
// day of the 2026/27 school year (15 September 2026), with a few pupils a
// year older or younger than their class. The sequence may be ranged over
// more than once; each time it yields the same children.
func Children(seed int64, n int, schools []org.Org) iter.Seq[child.Child] {
	return func(yield func(child.Child) bool) {
		g := newGenerator(seed, schools)
		for i := range n {
			if !yield(g.child(i)) {
				return
			}
		}
	}
}

// generator draws children from the name tables.
type generator struct {
	rng       *rng
	male      []string
	female    []string
	surnames  []surname
	maleW     weighted
	femaleW   weighted
	surnameW  weighted
	gradeW    weighted
	schoolIDs []int64
	schoolW   weighted
}

func newGenerator(seed int64, schools []org.Org) *generator {
	g := &generator{
		rng:      newRNG(uint64(seed)),
		male:     maleNames(),
		female:   femaleNames(),
		surnames: surnames(),
		// Fewer children attend the preparatory class, and some leave
		// after grade 9 for vocational schools.
		gradeW: newWeighted([]int{5, 10, 10, 10, 10, 10, 10, 10, 10, 10, 8, 7}),
	}
	// Zipf-like weights: the most common surname is about one in eight,
	// the most common first names about one in twenty.
	g.maleW = newWeighted(zipf(len(g.male), 6))
	g.femaleW = newWeighted(zipf(len(g.female), 6))
	g.surnameW = newWeighted(zipf(len(g.surnames), 2))
	if len(schools) > 0 {
		// Schools differ in size: from 2 to 8 shares each.
		sizes := make([]int, len(schools))
		g.schoolIDs = make([]int64, len(schools))
		for i, s := range schools {
			g.schoolIDs[i] = s.ID
			sizes[i] = 2 + g.rng.intn(7)
		}
		g.schoolW = newWeighted(sizes)
	}
	return g
}

// zipf returns weights falling as 1/(rank+offset).
func zipf(n, offset int) []int {
	w := make([]int, n)
	for r := range w {
		w[r] = 120_000 / (r + offset)
	}
	return w
}

func (g *generator) child(i int) child.Child {
	r := g.rng
	c := child.Child{StudentID: fmt.Sprintf("ST%09d", i+1)}
	father := g.male[g.maleW.pick(r)]
	sn := g.surnames[g.surnameW.pick(r)]
	if r.intn(2) == 0 {
		c.Sex = child.Male
		c.FirstName = g.male[g.maleW.pick(r)]
		for c.FirstName == father { // sons are seldom named after a living father
			c.FirstName = g.male[g.maleW.pick(r)]
		}
		c.LastName = sn.Male
		c.Patronymic = father + " oğlu"
	} else {
		c.Sex = child.Female
		c.FirstName = g.female[g.femaleW.pick(r)]
		c.LastName = sn.Female
		c.Patronymic = father + " qızı"
	}
	c.Grade = g.gradeW.pick(r)
	c.BirthDate = birthDate(r, c.Grade)
	c.Section = string(rune('A' + r.intn(3))) // three parallel classes: 5A, 5B, 5C
	if len(g.schoolIDs) > 0 {
		c.SchoolID = g.schoolIDs[g.schoolW.pick(r)]
	}
	return c
}

// birthDate draws a birth date for a child in grade: children start grade 1
// when they are six on 15 September, so a child in grade g is g+5 years old
// on the first school day. One in twenty is a year older (started late or
// repeated a year), one in a hundred a year younger.
func birthDate(r *rng, grade int) time.Time {
	year := schoolYear - 6 - grade // born from 16 September of this year...
	switch x := r.intn(100); {
	case x < 5:
		year--
	case x == 5 && grade > 0:
		year++
	}
	from := time.Date(year, time.September, 16, 0, 0, 0, 0, time.UTC)
	to := time.Date(year+1, time.September, 15, 0, 0, 0, 0, time.UTC) // ...to 15 September of the next
	days := int(to.Sub(from).Hours()/24) + 1
	return from.AddDate(0, 0, r.intn(days))
}

// weighted picks indexes with probability proportional to their weights.
type weighted struct {
	cum []int // cum[i] is the sum of the weights of 0..i
}

func newWeighted(w []int) weighted {
	cum := make([]int, len(w))
	sum := 0
	for i, x := range w {
		sum += max(x, 1)
		cum[i] = sum
	}
	return weighted{cum: cum}
}

func (w weighted) pick(r *rng) int {
	x := r.intn(w.cum[len(w.cum)-1]) + 1
	i, _ := slices.BinarySearch(w.cum, x) // the first i with cum[i] >= x
	return i
}

// rng is SplitMix64: small, fast, and fixed forever, so demo data do not
// change with the Go release.
type rng struct{ state uint64 }

func newRNG(seed uint64) *rng { return &rng{state: seed} }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a number in [0, n); n must be positive. The bias of the
// multiply-shift reduction is below 2^-40 for the sizes used here.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// Summary counts what Load stored.
type Summary struct {
	Orgs     int // organisations imported (created, updated or unchanged)
	Schools  int // schools in the database that children were spread over
	Children int // children inserted
}

// Load fills an empty registry with demo data: it imports Orgs (created or
// updated by code, so repeating it is harmless), creates the demo accounts
// of SignIns (those missing), reads back every school,
// and inserts children made by Children(Seed, children, schools) in
// transactions of BatchSize, calling progress (when not nil) with the
// number inserted so far after each. It refuses to run when the registry
// already has children, as their student IDs would clash. A failure part
// way leaves the batches already committed in place.
func Load(ctx context.Context, db *storage.DB, children int, progress func(done int)) (Summary, error) {
	var sum Summary
	if children < 0 {
		return sum, fmt.Errorf("demo.Load: negative number of children (%d)", children)
	}
	have, err := db.CountChildren(ctx)
	if err != nil {
		return sum, fmt.Errorf("demo.Load: %w", err)
	}
	if have > 0 {
		return sum, fmt.Errorf("demo.Load: the registry already has %d children; demo data go only into an empty one", have)
	}
	orgs := Orgs()
	if _, err := db.ImportOrgs(ctx, orgs); err != nil {
		return sum, fmt.Errorf("demo.Load: import %d organisations: %w", len(orgs), err)
	}
	sum.Orgs = len(orgs)
	schools, err := allSchools(ctx, db)
	if err != nil {
		return sum, fmt.Errorf("demo.Load: %w", err)
	}
	sum.Schools = len(schools)
	if _, err := LoadUsers(ctx, db); err != nil {
		return sum, err
	}
	if len(schools) == 0 && children > 0 {
		return sum, fmt.Errorf("demo.Load: no schools to place children in")
	}
	batch := make([]child.Child, 0, min(children, BatchSize))
	flush := func() error {
		if err := db.InsertChildren(ctx, batch); err != nil {
			return fmt.Errorf("demo.Load: insert children %d to %d: %w", sum.Children+1, sum.Children+len(batch), err)
		}
		sum.Children += len(batch)
		batch = batch[:0]
		if progress != nil {
			progress(sum.Children)
		}
		return nil
	}
	for c := range Children(Seed, children, schools) {
		batch = append(batch, c)
		if len(batch) == BatchSize {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	if len(batch) > 0 {
		if err := flush(); err != nil {
			return sum, err
		}
	}
	if err := errors.Join(LoadCases(ctx, db), LoadEvents(ctx, db), LoadScreening(ctx, db)); err != nil {
		return sum, err
	}
	if err := LoadPlans(ctx, db); err != nil {
		return sum, err
	}
	if err := errors.Join(LoadStats(ctx, db), LoadRegisterStats(ctx, db)); err != nil {
		return sum, err
	}
	if err := LoadHotline(ctx, db); err != nil {
		return sum, err
	}
	return sum, LoadDanis(ctx, db)
}

// allSchools reads every school, page by page, ordered by code.
func allSchools(ctx context.Context, db *storage.DB) ([]org.Org, error) {
	const page = 500
	var all []org.Org
	after := ""
	for {
		got, err := db.Orgs(ctx, storage.OrgFilter{Type: org.School, After: after, Limit: page})
		if err != nil {
			return nil, fmt.Errorf("read schools after %q: %w", after, err)
		}
		all = append(all, got...)
		if len(got) < page {
			return all, nil
		}
		after = got[len(got)-1].Code
	}
}

// IsEmpty reports whether db has no organisations at all, that is whether
// demo data (or real data) have never been loaded.
func IsEmpty(ctx context.Context, db *storage.DB) (bool, error) {
	counts, err := db.CountOrgs(ctx)
	if err != nil {
		return false, fmt.Errorf("demo.IsEmpty: %w", err)
	}
	for _, n := range counts {
		if n > 0 {
			return false, nil
		}
	}
	return true, nil
}
