package stats

import (
	"strings"
	"testing"
	"time"

	"dayaq/internal/disclosure"
)

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{"=1+2": "'=1+2", "+7": "'+7", "-3": "'-3", "@SUM(A1)": "'@SUM(A1)",
		"\t=x": "'\t=x", "Nəsimi": "Nəsimi", "": "", "a=b": "a=b"} {
		if got := SafeCell(in); got != want {
			t.Errorf("SafeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSuppressOneWayChart(t *testing.T) {
	c := Chart{ID: "x", Bars: []Bar{{Key: "a", Value: 40, Link: "/a"}, {Key: "b", Value: 2, Link: "/b"}, {Key: "c", Value: 0}, {Key: "d", Value: 9}}, Total: 51}
	if err := Suppress(&c, disclosure.Options{}); err != nil {
		t.Fatal(err)
	}
	if !c.Bars[1].Suppressed || c.Bars[1].Link != "" || c.Bars[1].Shown() != Symbol {
		t.Errorf("count 2 shown: %+v", c.Bars[1])
	}
	if c.Bars[2].Suppressed {
		t.Errorf("true zero suppressed")
	}
	// with the total published, one more bar must go, or 2 = 51 − 40 − 0 − 9
	n := 0
	for _, b := range c.Bars {
		if b.Suppressed {
			n++
		}
	}
	if n < 2 && !c.TotalSuppressed {
		t.Errorf("lone suppressed bar recomputable from the total: %+v", c)
	}
	if top, ok := c.Top(); !ok || top.Key != "a" {
		t.Errorf("top %+v", top)
	}
	svg := SVG(c, "Cases <by> type")
	if !strings.Contains(svg, "Cases &lt;by&gt; type") || strings.Count(svg, "<rect") != 4 || !strings.Contains(svg, Symbol) {
		t.Errorf("svg: %s", svg)
	}
}

func TestPeriods(t *testing.T) {
	now := time.Date(2026, 2, 10, 0, 0, 0, 0, time.UTC)
	if q := Quarters(now, 3); strings.Join(q, ",") != "2025-Q3,2025-Q4,2026-Q1" {
		t.Errorf("quarters %v", q)
	}
	if m := Months(now, 3); strings.Join(m, ",") != "2025-12,2026-01,2026-02" {
		t.Errorf("months %v", m)
	}
	if QuarterOf("2026-11") != "2026-Q4" || QuarterOf("2026-13") != "" || TopLevel("violence.bullying") != "violence" {
		t.Error("quarter or top level")
	}
}

// The register table: district × level with its margins; a lone small
// cell is suppressed with enough others that no suppressed cell can be
// narrowed below the protection range by an outsider's linear program.
func TestRegisterTableResistsTheAttacker(t *testing.T) {
	groups := []Group{{Keys: []string{"BAK-01", "low"}, N: 40}, {Keys: []string{"BAK-01", "medium"}, N: 2}, {Keys: []string{"BAK-01", "high"}, N: 11},
		{Keys: []string{"BAK-02", "low"}, N: 30}, {Keys: []string{"BAK-02", "medium"}, N: 9}, {Keys: []string{"BAK-02", "high"}, N: 1},
		{Keys: []string{"BAK-06", "high"}, N: 25}, {Keys: []string{"BAK-06", "medium"}, N: 17}, {Keys: []string{"XX", "high"}, N: 3}}
	tb, err := RegisterTable(groups, "en", func(l string) string { return l })
	if err != nil {
		t.Fatal(err)
	}
	if len(tb.Dims) != 2 || len(tb.Dims[0].Codes) != 12 || len(tb.Dims[1].Codes) != 3 {
		t.Fatalf("dims %+v", tb.Dims)
	}
	if s, sup := tb.Cell(0, 1); !sup || s != Symbol {
		t.Errorf("BAK-01 medium = 2 shown as %q", s)
	}
	if s, sup := tb.Cell(5, 2); sup || s != "25" {
		t.Errorf("BAK-06 high shown as %q", s)
	}
	_, prim, sec := tb.Result.Counts()
	if prim != 2 || sec == 0 {
		t.Errorf("%d primary, %d secondary", prim, sec)
	}
	bounds, err := tb.Result.Attack()
	if err != nil {
		t.Fatal(err)
	}
	if narrow := tb.Result.Narrow(bounds); len(narrow) > 0 {
		t.Errorf("narrow cells %+v", narrow)
	}
}
