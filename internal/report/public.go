package report

import (
	"fmt"
	"io"

	"github.com/signintech/gopdf"

	"dayaq/internal/minutes"
)

// PublicDoc is the public statistics as a PDF, already in the reader's
// language and already protected: every cell is the number or the
// suppression symbol.
type PublicDoc struct {
	Title, Lead string
	Tables      []PublicTable
	Method      string // the methodology note, printed after the tables
}

// PublicTable is one published table laid out two-way: rows by the first
// dimension, columns by the second, each row with its margin, the last row
// the column margins.
type PublicTable struct {
	Title    string
	RowLabel string // the first dimension's name
	Cols     []string
	Total    string // the margin's label
	Rows     []PublicRow
}

// PublicRow is a row's label, cells and margin as shown.
type PublicRow struct {
	Label string
	Cells []string
	Total string
}

// WritePublic renders d as a landscape PDF to out, in the minutes' font:
// each table as a grid of its cells and margins, suppressed cells as the
// symbol, then the methodology note.
func WritePublic(out io.Writer, d PublicDoc) error {
	const w, h = 841.89, 595.28
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: gopdf.Rect{W: w, H: h}})
	pdf.SetInfo(gopdf.PdfInfo{Title: d.Title, Creator: "Dayaq", Producer: "Dayaq"})
	if err := pdf.AddTTFFontData("dejavu", minutes.Font()); err != nil {
		return fmt.Errorf("report: font: %w", err)
	}
	pdf.AddPage()
	pdf.SetY(margin)
	wr := &writer{pdf: pdf, pageH: h}
	text := func(s string, size float64) { wr.text(margin, w-2*margin, s, size) }
	text(d.Title, 18)
	text(d.Lead, 10)
	for _, t := range d.Tables {
		wr.grid(t, w-2*margin)
	}
	pdf.Br(8)
	text(d.Method, 8)
	if wr.err != nil {
		return fmt.Errorf("report: %w", wr.err)
	}
	if _, err := pdf.WriteTo(out); err != nil {
		return fmt.Errorf("report: write: %w", err)
	}
	return nil
}

// fit cuts s to n runes, with an ellipsis.
func fit(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	return s
}

// grid draws a table: a label column, one column a category, the margin.
func (w *writer) grid(t PublicTable, width float64) {
	const rowH, labelW = 13.0, 120.0
	colW := (width - labelW) / float64(len(t.Cols)+1)
	chars := max(int(colW/4.2), 4)
	w.room(rowH * 4)
	w.pdf.Br(8)
	w.text(margin, width, t.Title, 12)
	cell := func(x, cw float64, s string, shaded bool) {
		if w.err != nil {
			return
		}
		y := w.pdf.GetY()
		if shaded {
			w.pdf.SetFillColor(230, 233, 237)
			w.pdf.RectFromUpperLeftWithStyle(x, y, cw, rowH, "F")
		}
		w.pdf.SetXY(x+2, y)
		if err := w.pdf.Cell(&gopdf.Rect{W: cw - 4, H: rowH}, s); err != nil {
			w.err = err
		}
		w.pdf.SetY(y)
	}
	header := func() {
		w.font(6.5)
		cell(margin, labelW, fit(t.RowLabel, 30), true)
		for j, c := range t.Cols {
			cell(margin+labelW+float64(j)*colW, colW, fit(c, chars), true)
		}
		cell(margin+labelW+float64(len(t.Cols))*colW, colW, fit(t.Total, chars), true)
		w.pdf.Br(rowH)
	}
	header()
	for i, r := range t.Rows {
		if w.pdf.GetY()+rowH > w.pageBottom() {
			w.pdf.AddPage()
			w.pdf.SetY(margin)
			header()
		}
		w.font(7)
		last := i == len(t.Rows)-1
		cell(margin, labelW, fit(r.Label, 30), last)
		for j, c := range r.Cells {
			cell(margin+labelW+float64(j)*colW, colW, c, last)
		}
		cell(margin+labelW+float64(len(t.Cols))*colW, colW, r.Total, true)
		w.pdf.Br(rowH)
	}
}
