package web

import (
	"fmt"
	"html"
	"strings"

	"github.com/boombuler/barcode/qr"

	"dayaq/internal/events"
)

// QRSVG draws text as a QR code (error correction M) in SVG: one path of
// dark modules on white with the four-module quiet zone the standard asks.
func QRSVG(text string, title string) (string, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("qr: %w", err)
	}
	b := code.Bounds()
	n := b.Dx()
	const quiet = 4
	size := n + 2*quiet
	var p strings.Builder
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			if r, _, _, _ := code.At(b.Min.X+x, b.Min.Y+y).RGBA(); r == 0 {
				fmt.Fprintf(&p, "M%d %dh1v1h-1z", x+quiet, y+quiet)
			}
		}
	}
	return fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s" shape-rendering="crispEdges">`+
		`<title>%s</title><rect width="100%%" height="100%%" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		size, size, size*6, size*6, html.EscapeString(title), html.EscapeString(title), p.String()), nil
}

// reachChartLabels are the chart's words in the page's language.
type reachChartLabels struct {
	Title, Reached, Contacts string
	Month                    func(events.ReachRow) string
}

// reachChart draws the campaign's reach per month as bars and the
// hotline's contacts as a line, each on its own scale (left and right), in
// SVG. The same numbers stand in a table beside it.
func reachChart(rows []events.ReachRow, l reachChartLabels) string {
	const w, h, left, right, top, bottom = 640, 260, 48, 48, 24, 40
	plotW, plotH := float64(w-left-right), float64(h-top-bottom)
	maxR, maxC := 1, 1
	for _, r := range rows {
		maxR, maxC = max(maxR, r.Reached()), max(maxC, r.Contacts)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" class="chart" role="img" aria-labelledby="reach-chart-title">`, w, h)
	fmt.Fprintf(&b, `<title id="reach-chart-title">%s</title>`, html.EscapeString(l.Title))
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.0f" height="%.0f" fill="#fff" stroke="#8a8f98"/>`, left, top, plotW, plotH)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#1f2937" text-anchor="end">%d</text>`, left-4, top+10, maxR)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#1f2937">%d</text>`, w-right+4, top+10, maxC)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="12" fill="#1f2937" text-anchor="end">0</text>`, left-4, h-bottom)
	n := max(len(rows), 1)
	slot := plotW / float64(n)
	var line []string
	for i, r := range rows {
		x := float64(left) + slot*float64(i)
		bh := plotH * float64(r.Reached()) / float64(maxR)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="#1d4ed8"><title>%s: %d</title></rect>`,
			x+slot*0.2, float64(top)+plotH-bh, slot*0.6, bh, html.EscapeString(l.Month(r)), r.Reached())
		cy := float64(top) + plotH - plotH*float64(r.Contacts)/float64(maxC)
		line = append(line, fmt.Sprintf("%.1f,%.1f", x+slot/2, cy))
		fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3.5" fill="#b45309"><title>%s: %d</title></circle>`,
			x+slot/2, cy, html.EscapeString(l.Month(r)), r.Contacts)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="11" fill="#1f2937" text-anchor="middle">%s</text>`,
			x+slot/2, h-bottom+14, html.EscapeString(l.Month(r)))
	}
	if len(line) > 1 {
		fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="#b45309" stroke-width="2"/>`, strings.Join(line, " "))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="12" height="12" fill="#1d4ed8"/><text x="%d" y="%d" font-size="12" fill="#1f2937">%s</text>`,
		left, h-14, left+16, h-4, html.EscapeString(l.Reached))
	fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="5" fill="#b45309"/><text x="%d" y="%d" font-size="12" fill="#1f2937">%s</text>`,
		left+246, h-8, left+256, h-4, html.EscapeString(l.Contacts))
	b.WriteString(`</svg>`)
	return b.String()
}
