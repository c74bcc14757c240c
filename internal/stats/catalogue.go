package stats

import (
	"fmt"
	"strings"
	"time"

	"dayaq/internal/calendar"
	"dayaq/internal/disclosure"
	"dayaq/internal/org"
	"dayaq/internal/taxonomy"
)

// Group is one base count of a public table: its keys (one per dimension
// of the source, e.g. district, type, month) and the count.
type Group struct {
	Keys []string
	N    int
}

// Dimension of a public table: a name (catalogue key) and its categories.
type Dimension struct {
	Name   string // catalogue key of the dimension's name
	Codes  []string
	Labels []string
}

// Published is one table of the public catalogue, protected: its
// dimensions and the suppression result over all its cells and margins.
type Published struct {
	ID     string // stable: the URL and the file names use it
	Title  string // catalogue key
	Arg    string // the title's argument (the quarter), if any
	Dims   []Dimension
	Result *disclosure.Result
}

// Cell returns the shown value (number or Symbol) and whether it is
// suppressed, at coords (disclosure.Total for a margin).
func (p *Published) Cell(coords ...int) (string, bool) {
	c, st, ok := p.Result.Lookup(coords...)
	if !ok {
		return "", false
	}
	if st.Suppressed() {
		return Symbol, true
	}
	return fmt.Sprint(c.Value), false
}

// Quarters lists the n quarters ending with the one holding now, oldest
// first, as "2026-Q4".
func Quarters(now time.Time, n int) []string {
	y, q := now.Year(), (int(now.Month())-1)/3+1
	out := make([]string, n)
	for i := n - 1; i >= 0; i-- {
		out[i] = fmt.Sprintf("%d-Q%d", y, q)
		if q--; q == 0 {
			y, q = y-1, 4
		}
	}
	return out
}

// Months lists the n months ending with now's, oldest first, as "2026-11".
func Months(now time.Time, n int) []string {
	out := make([]string, n)
	t := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	for i := n - 1; i >= 0; i-- {
		out[i] = t.Format("2006-01")
		t = t.AddDate(0, -1, 0)
	}
	return out
}

// QuarterOf turns a month "2026-11" into its quarter "2026-Q4".
func QuarterOf(month string) string {
	y, m, ok := strings.Cut(month, "-")
	if !ok || len(m) != 2 {
		return ""
	}
	n := int(m[0]-'0')*10 + int(m[1]-'0')
	if n < 1 || n > 12 {
		return ""
	}
	return fmt.Sprintf("%s-Q%d", y, (n-1)/3+1)
}

// TopLevel is a taxonomy code's top-level category: "violence.bullying" →
// "violence".
func TopLevel(code string) string {
	top, _, _ := strings.Cut(code, ".")
	return top
}

// BuildTable protects a public table over dims from its base groups. key maps a
// group to its coordinates (one index per dimension), or ok false to leave
// it out (a category outside the catalogue's, a month outside the period).
func BuildTable(id, title string, dims []Dimension, groups []Group, key func(Group) ([]int, bool), o disclosure.Options) (*Published, error) {
	var dd []disclosure.Dim
	var all []int
	for i, d := range dims {
		dd = append(dd, disclosure.Dim{Name: d.Name, Codes: d.Codes})
		all = append(all, i)
	}
	f := disclosure.NewFrame(dd...)
	for _, g := range groups {
		if c, ok := key(g); ok {
			f.Add(g.N, c...)
		}
	}
	r, err := disclosure.Protect(f, [][]int{all}, o)
	if err != nil {
		return nil, fmt.Errorf("stats: table %s: %w", id, err)
	}
	return &Published{ID: id, Title: title, Dims: dims, Result: r}, nil
}

// Index returns a lookup from code to position, for key functions.
func Index(codes []string) map[string]int {
	m := make(map[string]int, len(codes))
	for i, c := range codes {
		m[c] = i
	}
	return m
}

// PublicTables builds the public catalogue from base counts at now: cases
// by district × type in each of the last four quarters, and the hotline's
// contacts by category × month (the last twelve months).
func PublicTables(now time.Time, cases, contacts []Group, lang string) ([]*Published, error) {
	tax := taxonomy.Seed()
	var types, typeLabels, cats, catLabels []string
	for _, n := range tax.Nodes {
		if n.Parent == "" {
			types = append(types, n.Code)
			typeLabels = append(typeLabels, n.Label(lang))
		}
	}
	cats, catLabels = types, typeLabels
	var dcodes, dlabels []string
	for _, d := range org.BakuDistricts() {
		dcodes = append(dcodes, d.Code)
		dlabels = append(dlabels, org.Org{NameAZ: d.NameAZ, NameRU: d.NameRU, NameEN: d.NameEN}.Name(lang))
	}
	local := now.In(calendar.Baku())
	quarters := Quarters(local, 4)
	months := Months(local, 12)
	di, ti, ci, mi := Index(dcodes), Index(types), Index(cats), Index(months)
	var cg, kg []Group
	for _, g := range cases {
		cg = append(cg, Group{Keys: []string{g.Keys[0], TopLevel(g.Keys[1]), QuarterOf(g.Keys[2])}, N: g.N})
	}
	for _, g := range contacts {
		kg = append(kg, Group{Keys: []string{TopLevel(g.Keys[0]), g.Keys[1]}, N: g.N})
	}
	// One district × type table per quarter: the quarters are disjoint
	// populations, so each is protected on its own and no cell is shared;
	// sums across quarters are not published (a 12 × 11 × 4 frame with all
	// its margins costs minutes of linear programs, a 12 × 11 one
	// milliseconds; ADR 0025).
	var out []*Published
	for _, q := range quarters {
		ct, err := BuildTable("cases-"+q, "stats.public.cases", []Dimension{
			{Name: "stats.dim.district", Codes: dcodes, Labels: dlabels},
			{Name: "stats.dim.type", Codes: types, Labels: typeLabels},
		}, cg, func(g Group) ([]int, bool) {
			d, ok1 := di[g.Keys[0]]
			t, ok2 := ti[g.Keys[1]]
			if !ok2 {
				t, ok2 = ti["other"] // a type outside the seed's tree counts as other
			}
			return []int{d, t}, ok1 && ok2 && g.Keys[2] == q
		}, disclosure.Options{})
		if err != nil {
			return nil, err
		}
		ct.Arg = q
		out = append(out, ct)
	}
	kt, err := BuildTable("contacts", "stats.public.contacts", []Dimension{
		{Name: "stats.dim.category", Codes: cats, Labels: catLabels},
		{Name: "stats.dim.month", Codes: months, Labels: months},
	}, kg, func(g Group) ([]int, bool) {
		c, ok1 := ci[g.Keys[0]]
		if !ok1 {
			c, ok1 = ci["other"]
		}
		m, ok2 := mi[g.Keys[1]]
		return []int{c, m}, ok1 && ok2
	}, disclosure.Options{})
	if err != nil {
		return nil, err
	}
	return append(out, kt), nil
}
