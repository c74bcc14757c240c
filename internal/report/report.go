// Package report prints the monthly report for the Ministry as a PDF: each
// dashboard chart drawn as bars with its table of numbers beside it, in the
// reader's language, with the minutes' embedded DejaVu Sans so that
// Azerbaijani letters come out intact. Suppressed counts show as the
// symbol, with the methodology note. It writes only to an io.Writer.
package report

import (
	"fmt"
	"io"

	"github.com/signintech/gopdf"

	"dayaq/internal/minutes"
	"dayaq/internal/stats"
)

// Doc is the report, already in the reader's language.
type Doc struct {
	Title  string // e.g. "Aylıq hesabat"
	Period string // e.g. "Noyabr 2026"
	Scope  string
	Board  stats.Board
	T      func(key string, args ...any) string // the reader's catalogue
	K      int
}

const (
	pageW, pageH = 595.28, 841.89
	margin       = 50.0
	textW        = pageW - 2*margin
)

type writer struct {
	pdf   *gopdf.GoPdf
	err   error
	t     func(key string, args ...any) string
	pageH float64 // the page's height; 0: A4 portrait
}

// pageBottom is the lowest a line may go.
func (w *writer) pageBottom() float64 {
	if w.pageH > 0 {
		return w.pageH - margin
	}
	return pageH - margin
}

func (w *writer) font(size float64) {
	if w.err == nil {
		w.err = w.pdf.SetFont("dejavu", "", size)
	}
}

// room starts a new page unless h points fit below.
func (w *writer) room(h float64) {
	if w.pdf.GetY()+h > w.pageBottom() {
		w.pdf.AddPage()
		w.pdf.SetY(margin)
	}
}

func (w *writer) text(x, width float64, s string, size float64) {
	if w.err != nil {
		return
	}
	w.font(size)
	lines, err := w.pdf.SplitText(s, width)
	if err != nil {
		w.err = err
		return
	}
	for _, l := range lines {
		w.room(size * 1.4)
		w.pdf.SetX(x)
		if err := w.pdf.Cell(&gopdf.Rect{W: width, H: size * 1.4}, l); err != nil {
			w.err = err
			return
		}
		w.pdf.Br(size * 1.4)
	}
}

// chart draws c's bars on the left half and its numbers on the right.
func (w *writer) chart(c stats.Chart) {
	const rowH, labelW, barMax = 14.0, 130.0, 120.0
	h := float64(len(c.Bars)+2) * rowH
	w.room(h + 40)
	w.pdf.Br(6)
	w.text(margin, textW, w.tr(c.Title), 12)
	max := 0
	for _, b := range c.Bars {
		if !b.Suppressed && b.Value > max {
			max = b.Value
		}
	}
	w.font(8)
	y := w.pdf.GetY()
	for i, b := range c.Bars {
		if w.err != nil {
			return
		}
		ry := y + float64(i)*rowH
		w.pdf.SetXY(margin, ry)
		label := b.Label
		if r := []rune(label); len(r) > 26 {
			label = string(r[:25]) + "…"
		}
		_ = w.pdf.Cell(&gopdf.Rect{W: labelW, H: rowH}, label)
		bw := 0.0
		if max > 0 && !b.Suppressed {
			bw = barMax * float64(b.Value) / float64(max)
		}
		w.pdf.SetFillColor(29, 95, 138)
		if b.Suppressed {
			w.pdf.SetFillColor(154, 165, 177)
			bw = 6
		}
		if bw > 0 {
			w.pdf.RectFromUpperLeftWithStyle(margin+labelW, ry+2, bw, rowH-4, "F")
		}
		// the table beside: label and number
		w.pdf.SetXY(margin+labelW+barMax+20, ry)
		_ = w.pdf.Cell(&gopdf.Rect{W: 120, H: rowH}, label)
		w.pdf.SetXY(margin+labelW+barMax+150, ry)
		_ = w.pdf.Cell(&gopdf.Rect{W: 60, H: rowH}, b.Shown())
	}
	ty := y + float64(len(c.Bars))*rowH
	w.pdf.SetXY(margin+labelW+barMax+20, ty)
	_ = w.pdf.Cell(&gopdf.Rect{W: 120, H: rowH}, w.tr("stats.total"))
	w.pdf.SetXY(margin+labelW+barMax+150, ty)
	_ = w.pdf.Cell(&gopdf.Rect{W: 60, H: rowH}, c.ShownTotal())
	w.pdf.SetY(ty + rowH*1.5)
}

func (w *writer) tr(key string, args ...any) string { return w.t(key, args...) }

// Write renders d as a PDF to out.
func Write(out io.Writer, d Doc) error {
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: gopdf.Rect{W: pageW, H: pageH}})
	pdf.SetInfo(gopdf.PdfInfo{Title: d.Title + " — " + d.Period, Creator: "Dayaq", Producer: "Dayaq"})
	if err := pdf.AddTTFFontData("dejavu", minutes.Font()); err != nil {
		return fmt.Errorf("report: font: %w", err)
	}
	pdf.AddPage()
	pdf.SetY(margin)
	w := &writer{pdf: pdf}
	w.t = d.T
	w.text(margin, textW, d.Title, 18)
	w.text(margin, textW, d.Period+" · "+d.Scope, 11)
	if d.Board.Suppressed {
		w.text(margin, textW, d.T("stats.method.note", stats.Symbol, d.K), 9)
	}
	for _, c := range d.Board.Charts {
		w.chart(c)
	}
	for _, dt := range d.Board.Deadlines {
		w.room(40)
		w.pdf.Br(6)
		w.text(margin, textW, d.T("stats.chart."+dt.ID), 12)
		if len(dt.Rows) == 0 {
			w.text(margin, textW, d.T("stats.summary.none"), 9)
		}
		for _, r := range dt.Rows {
			w.text(margin, textW, fmt.Sprintf("%s — %s: %s / %s / %s (%s) · %s: %s / %s / %s (%s)", r.Label,
				d.T("stats.report.ack"), r.Shown(0), r.Shown(1), r.Shown(2), r.Share(0),
				d.T("stats.report.done"), r.Shown(3), r.Shown(4), r.Shown(5), r.Share(3)), 9)
		}
	}
	w.pdf.Br(10)
	w.text(margin, textW, d.T("stats.method.title")+": "+d.T("stats.method.note", stats.Symbol, d.K), 8)
	if w.err != nil {
		return fmt.Errorf("report: %w", w.err)
	}
	if _, err := pdf.WriteTo(out); err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}
