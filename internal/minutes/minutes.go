// Package minutes prints a working-group meeting's minutes as a PDF, with
// an embedded DejaVu Sans so that Azerbaijani letters (ə, Ə, ı, İ, ğ, ş, ç,
// ö, ü) and Cyrillic come out intact. Cases are named by their reference
// only: minutes travel, children's names must not.
package minutes

import (
	_ "embed"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/signintech/gopdf"

	"dayaq/internal/workgroup"
)

// dejaVuSans is DejaVu Sans 2.37 from Debian's fonts-dejavu-core (its
// licence is beside it).
//
//go:embed fonts/DejaVuSans.ttf
var dejaVuSans []byte

// Doc is what the minutes show, already in the reader's language.
type Doc struct {
	Meeting   workgroup.Meeting
	Members   []workgroup.Member
	Agenda    []string // one line per case: its reference and the agenda note
	Decisions []workgroup.Decision
	Actions   []workgroup.ActionItem
	Loc       *time.Location
	T         func(key string, args ...any) string // the reader's catalogue
}

const (
	pageW, pageH = 595.28, 841.89 // A4 in points
	margin       = 50.0
	textW        = pageW - 2*margin
)

// writer lays text out top to bottom, starting new pages as needed.
type writer struct {
	pdf *gopdf.GoPdf
	err error
}

func (w *writer) font(size float64) {
	if w.err == nil {
		w.err = w.pdf.SetFont("dejavu", "", size)
	}
}

// para writes s wrapped to the text width at the given size.
func (w *writer) para(s string, size float64) {
	if w.err != nil {
		return
	}
	w.font(size)
	line := size * 1.35
	for _, raw := range strings.Split(s, "\n") {
		lines := []string{""}
		if strings.TrimSpace(raw) != "" {
			var err error
			if lines, err = w.pdf.SplitText(raw, textW); err != nil {
				w.err = err
				return
			}
		}
		for _, l := range lines {
			if w.pdf.GetY()+line > pageH-margin {
				w.pdf.AddPage()
				w.pdf.SetY(margin)
			}
			w.pdf.SetX(margin)
			if err := w.pdf.Cell(&gopdf.Rect{W: textW, H: line}, l); err != nil {
				w.err = err
				return
			}
			w.pdf.Br(line)
		}
	}
}

func (w *writer) heading(s string) {
	w.pdf.Br(8)
	w.para(s, 13)
}

// Write renders d as a PDF to out.
func Write(out io.Writer, d Doc) error {
	loc := d.Loc
	if loc == nil {
		loc = time.UTC
	}
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: gopdf.Rect{W: pageW, H: pageH}})
	pdf.SetInfo(gopdf.PdfInfo{Title: d.Meeting.Title, Creator: "Dayaq", Producer: "Dayaq",
		CreationDate: d.Meeting.StartsAt})
	if err := pdf.AddTTFFontData("dejavu", dejaVuSans); err != nil {
		return fmt.Errorf("minutes: font: %w", err)
	}
	pdf.AddPage()
	pdf.SetY(margin)
	w := &writer{pdf: pdf}
	m := d.Meeting
	w.para(d.T("workgroup.pdf.title"), 10)
	w.para(m.Title, 16)
	w.para(d.T("workgroup.pdf.when_where", m.StartsAt.In(loc).Format("02.01.2006 15:04"), m.Place), 10)

	w.heading(d.T("workgroup.members.title"))
	for _, mem := range d.Members {
		w.para(fmt.Sprintf("• %s — %s (%s)", mem.UserName, mem.OrgName, d.T("workgroup.role."+string(mem.Role))), 10)
	}
	w.heading(d.T("workgroup.agenda.title"))
	if len(d.Agenda) == 0 {
		w.para(d.T("workgroup.none"), 10)
	}
	for i, a := range d.Agenda {
		w.para(fmt.Sprintf("%d. %s", i+1, a), 10)
	}
	w.heading(d.T("workgroup.minutes.title"))
	w.para(m.Minutes, 10)
	w.heading(d.T("workgroup.decisions.title"))
	if len(d.Decisions) == 0 {
		w.para(d.T("workgroup.none"), 10)
	}
	for i, dec := range d.Decisions {
		w.para(fmt.Sprintf("%d. %s", i+1, dec.Text), 10)
	}
	w.heading(d.T("workgroup.actions.title"))
	if len(d.Actions) == 0 {
		w.para(d.T("workgroup.none"), 10)
	}
	for _, it := range d.Actions {
		w.para(fmt.Sprintf("• %s — %s, %s (%s)", it.Title, it.OwnerName, it.Due.In(loc).Format("02.01.2006"),
			d.T("workgroup.item."+string(it.Status))), 10)
	}
	if w.err != nil {
		return fmt.Errorf("minutes: layout: %w", w.err)
	}
	if _, err := pdf.WriteTo(out); err != nil {
		return fmt.Errorf("minutes: write: %w", err)
	}
	return nil
}

// Font returns the embedded DejaVu Sans, for other documents that print
// Azerbaijani and Cyrillic text the same way (the recovery plan's PDF, the
// monthly report).
func Font() []byte { return dejaVuSans }
