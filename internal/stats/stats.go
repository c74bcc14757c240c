// Package stats turns counts into what dashboards, exports and the public
// statistics show: charts with their numbers, suppressed where the viewer
// may not see the children counted (internal/disclosure), drawn as SVG on
// the server; CSV cells safe from formula injection; the fixed catalogue of
// public tables. It does no I/O. ADR 0025 and 0026.
package stats

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"strings"

	"dayaq/internal/disclosure"
)

// Symbol stands for a suppressed count everywhere it is shown.
const Symbol = "·"

// Bar is one category of a chart: its key, its label, its count, and the
// list behind the count (empty where there is none the viewer may open).
type Bar struct {
	Key        string
	Label      string
	Value      int
	Suppressed bool
	Link       string
}

// Shown is the bar's count as printed: the number, or the symbol.
func (b Bar) Shown() string {
	if b.Suppressed {
		return Symbol
	}
	return fmt.Sprint(b.Value)
}

// Chart is one figure: its catalogue key, its bars, the total and whether
// the total itself is suppressed.
type Chart struct {
	ID              string
	Title           string // catalogue key
	Bars            []Bar
	Total           int
	TotalSuppressed bool
	TotalLink       string
}

// ShownTotal is the total as printed.
func (c Chart) ShownTotal() string {
	if c.TotalSuppressed {
		return Symbol
	}
	return fmt.Sprint(c.Total)
}

// HasSuppressed reports whether any count of c is hidden.
func (c Chart) HasSuppressed() bool {
	if c.TotalSuppressed {
		return true
	}
	for _, b := range c.Bars {
		if b.Suppressed {
			return true
		}
	}
	return false
}

// Top is the largest published bar, for the summary in words; ok is false
// when no bar is published or all are zero.
func (c Chart) Top() (Bar, bool) {
	var best Bar
	ok := false
	for _, b := range c.Bars {
		if !b.Suppressed && b.Value > 0 && (!ok || b.Value > best.Value) {
			best, ok = b, true
		}
	}
	return best, ok
}

// Suppress applies the public rule to a one-way chart and its total: the
// bars are the inner cells of a one-dimensional table, the total its
// margin.
func Suppress(c *Chart, o disclosure.Options) error {
	if len(c.Bars) == 0 {
		c.TotalSuppressed = c.Total >= 1 && c.Total < normK(o)
		return nil
	}
	d := disclosure.Dim{Name: c.ID}
	for _, b := range c.Bars {
		d.Codes = append(d.Codes, b.Key)
	}
	f := disclosure.NewFrame(d)
	for i, b := range c.Bars {
		f.Counts[i] = b.Value
	}
	r, err := disclosure.Protect(f, [][]int{{0}}, o)
	if err != nil {
		return fmt.Errorf("stats: suppress %s: %w", c.ID, err)
	}
	for i := range c.Bars {
		_, st, _ := r.Lookup(i)
		c.Bars[i].Suppressed = st.Suppressed()
		if c.Bars[i].Suppressed {
			c.Bars[i].Link = ""
		}
	}
	_, st, _ := r.Lookup(disclosure.Total)
	c.TotalSuppressed = st.Suppressed()
	return nil
}

func normK(o disclosure.Options) int {
	if o.K <= 0 {
		return disclosure.DefaultK
	}
	return o.K
}

// SVG draws c as horizontal bars, labelled, scaled to the largest
// published bar; a suppressed bar is drawn as a hatched stub with the
// symbol. The numbers are in the table beside it, so the drawing is
// labelled as one image.
func SVG(c Chart, label string) string {
	const width, labelW, barH, gap = 560, 200, 18, 6
	h := len(c.Bars)*(barH+gap) + gap
	if h < 2*barH {
		h = 2 * barH
	}
	max := 0
	for _, b := range c.Bars {
		if !b.Suppressed && b.Value > max {
			max = b.Value
		}
	}
	var s strings.Builder
	fmt.Fprintf(&s, `<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="%s"><title>%s</title>`,
		width, h, html.EscapeString(label), html.EscapeString(label))
	for i, b := range c.Bars {
		y := gap + i*(barH+gap)
		fmt.Fprintf(&s, `<text x="%d" y="%d" text-anchor="end" class="chart-label">%s</text>`, labelW-8, y+barH-5, html.EscapeString(clip(b.Label, 28)))
		w := 0
		if max > 0 && !b.Suppressed {
			w = b.Value * (width - labelW - 60) / max
		}
		if b.Suppressed {
			fmt.Fprintf(&s, `<rect x="%d" y="%d" width="12" height="%d" class="chart-bar chart-suppressed"/>`, labelW, y, barH)
			fmt.Fprintf(&s, `<text x="%d" y="%d" class="chart-value">%s</text>`, labelW+18, y+barH-5, Symbol)
			continue
		}
		fmt.Fprintf(&s, `<rect x="%d" y="%d" width="%d" height="%d" class="chart-bar"/>`, labelW, y, w, barH)
		fmt.Fprintf(&s, `<text x="%d" y="%d" class="chart-value">%d</text>`, labelW+w+6, y+barH-5, b.Value)
	}
	s.WriteString(`</svg>`)
	return s.String()
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// SafeCell neutralises a spreadsheet cell that a spreadsheet would read as
// a formula (starting with = + - @, or a tab or carriage return before
// one): it is prefixed with an apostrophe, so it shows as the text it is.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

// Pseudonym is the stable pseudonymous ID of a record of kind ("case",
// "child") in an export project: the first 16 hex digits of
// HMAC-SHA-256(key, kind:id). The same project's key gives the same ID in
// every export; another project's key, an unrelated one; without the key
// the registry's ID cannot be recovered.
func Pseudonym(key []byte, kind string, id int64) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "%s:%d", kind, id)
	return hex.EncodeToString(m.Sum(nil))[:16]
}
