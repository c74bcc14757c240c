// Package planpdf prints a recovery plan as a PDF for signature: the
// school's header, the plan's sections, signature lines for the parents and
// the staff, in the parent's language, with the DejaVu Sans the minutes
// embed so that Azerbaijani letters and Cyrillic come out intact.
package planpdf

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/signintech/gopdf"

	"dayaq/internal/minutes"
	"dayaq/internal/plan"
)

// Doc is what the PDF shows, already in the reader's language.
type Doc struct {
	School     string // the school's name and address line
	Reference  string // the plan's reference: "PLAN-000123 v2"
	Pupil      string // the pupil's name and class: the PDF goes to the family and is signed
	Lead       string
	Opened     time.Time
	AgreedOn   time.Time
	Concerns   string
	Goals      []plan.Goal
	Activities []Activity
	Parents    []plan.Parent
	Staff      []string // staff who sign: name and role
	Loc        *time.Location
	T          func(key string, args ...any) string // the reader's catalogue
}

// Activity is an activity with who carries it out, already named.
type Activity struct {
	plan.Activity
	ResponsibleName string
	State           string // a referral's state, already in words
}

const (
	pageW, pageH = 595.28, 841.89 // A4
	margin       = 50.0
	textW        = pageW - 2*margin
)

type writer struct {
	pdf *gopdf.GoPdf
	err error
}

func (w *writer) para(s string, size float64) {
	if w.err != nil {
		return
	}
	if w.err = w.pdf.SetFont("dejavu", "", size); w.err != nil {
		return
	}
	line := size * 1.35
	for _, raw := range strings.Split(s, "\n") {
		lines := []string{""}
		if strings.TrimSpace(raw) != "" {
			if lines, w.err = w.pdf.SplitText(raw, textW); w.err != nil {
				return
			}
		}
		for _, l := range lines {
			if w.pdf.GetY()+line > pageH-margin {
				w.pdf.AddPage()
				w.pdf.SetY(margin)
			}
			w.pdf.SetX(margin)
			if w.err = w.pdf.Cell(&gopdf.Rect{W: textW, H: line}, l); w.err != nil {
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
	date := func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.In(loc).Format("02.01.2006")
	}
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: gopdf.Rect{W: pageW, H: pageH}})
	pdf.SetInfo(gopdf.PdfInfo{Title: d.T("plans.pdf.title"), Creator: "Dayaq", Producer: "Dayaq", CreationDate: d.Opened})
	if err := pdf.AddTTFFontData("dejavu", minutes.Font()); err != nil {
		return fmt.Errorf("planpdf: font: %w", err)
	}
	pdf.AddPage()
	pdf.SetY(margin)
	w := &writer{pdf: pdf}
	w.para(d.School, 10)
	w.para(d.T("plans.pdf.title"), 15)
	w.para(d.Reference, 10)
	w.para(d.T("plans.pdf.header", d.Pupil, date(d.Opened), date(d.AgreedOn), d.Lead), 10)
	if strings.TrimSpace(d.Concerns) != "" {
		w.heading(d.T("plans.concerns"))
		w.para(d.Concerns, 10)
	}
	w.heading(d.T("plans.goals.title"))
	if len(d.Goals) == 0 {
		w.para(d.T("plans.none"), 10)
	}
	for i, g := range d.Goals {
		w.para(fmt.Sprintf("%d. [%s] %s", i+1, d.T("plans.domain."+string(g.Domain)), g.Statement), 10)
		w.para(fmt.Sprintf("   %s: %s · %s – %s", d.T("plans.goal.indicator"), g.Indicator, date(g.From), date(g.Until)), 9)
	}
	w.heading(d.T("plans.activities.title"))
	if len(d.Activities) == 0 {
		w.para(d.T("plans.none"), 10)
	}
	for _, a := range d.Activities {
		line := fmt.Sprintf("• %s — %s (%s)", a.Title, d.T("plans.kind."+string(a.Kind)), a.ResponsibleName)
		if a.Frequency != "" {
			line += ", " + a.Frequency
		}
		line += fmt.Sprintf(", %s – %s", date(a.From), date(a.Until))
		if a.State != "" {
			line += " · " + a.State
		}
		w.para(line, 10)
	}
	w.heading(d.T("plans.parents.title"))
	for _, p := range d.Parents {
		w.para(fmt.Sprintf("• %s — %s", p.Name, d.T("plans.relation."+p.Relation)), 10)
	}
	w.heading(d.T("plans.pdf.signatures"))
	for _, p := range d.Parents {
		w.para(fmt.Sprintf("%s (%s): ______________________   %s: ____________", p.Name, d.T("plans.relation."+p.Relation), d.T("plans.pdf.date")), 10)
		w.pdf.Br(6)
	}
	for _, s := range d.Staff {
		w.para(fmt.Sprintf("%s: ______________________   %s: ____________", s, d.T("plans.pdf.date")), 10)
		w.pdf.Br(6)
	}
	if w.err != nil {
		return fmt.Errorf("planpdf: layout: %w", w.err)
	}
	if _, err := pdf.WriteTo(out); err != nil {
		return fmt.Errorf("planpdf: write: %w", err)
	}
	return nil
}

// Letter is the one-page letter a school prints for a parent who has no
// phone for the SMS, already in the parent's language: the address of
// the parent's page with the short code, and until when it opens. It
// names the parent it is for and the school that sends it, and nothing of
// the pupil or the plan: a letter can be lost on the way.
type Letter struct {
	School  string
	Date    time.Time
	Parent  string // the addressee
	Address string // the page to open, the code in it: "https://…/p/ABCDEFGH"
	Code    string // the short code, grouped for reading: "ABCD-EFGH"
	Until   time.Time
	Loc     *time.Location
	T       func(key string, args ...any) string
}

// WriteLetter renders l as a one-page PDF to out.
func WriteLetter(out io.Writer, l Letter) error {
	loc := l.Loc
	if loc == nil {
		loc = time.UTC
	}
	pdf := &gopdf.GoPdf{}
	pdf.Start(gopdf.Config{PageSize: gopdf.Rect{W: pageW, H: pageH}})
	pdf.SetInfo(gopdf.PdfInfo{Title: l.T("plans.letter.title"), Creator: "Dayaq", Producer: "Dayaq", CreationDate: l.Date})
	if err := pdf.AddTTFFontData("dejavu", minutes.Font()); err != nil {
		return fmt.Errorf("planpdf: font: %w", err)
	}
	pdf.AddPage()
	pdf.SetY(margin)
	w := &writer{pdf: pdf}
	w.para(l.School, 11)
	w.para(l.Date.In(loc).Format("02.01.2006"), 10)
	pdf.Br(24)
	w.para(l.T("plans.letter.dear", l.Parent), 12)
	pdf.Br(8)
	w.para(l.T("plans.letter.body"), 11)
	pdf.Br(12)
	w.para(l.T("plans.letter.open"), 11)
	w.para(l.Address, 16)
	pdf.Br(6)
	w.para(l.T("plans.letter.code"), 11)
	w.para(l.Code, 22)
	pdf.Br(12)
	w.para(l.T("plans.letter.birth"), 11)
	pdf.Br(6)
	w.para(l.T("plans.letter.until", l.Until.In(loc).Format("02.01.2006")), 11)
	pdf.Br(24)
	w.para(l.T("plans.letter.regards"), 11)
	w.para(l.School, 11)
	if w.err != nil {
		return fmt.Errorf("planpdf: layout: %w", w.err)
	}
	if pdf.GetNumberOfPages() != 1 {
		return fmt.Errorf("planpdf: the letter takes %d pages", pdf.GetNumberOfPages())
	}
	if _, err := pdf.WriteTo(out); err != nil {
		return fmt.Errorf("planpdf: write: %w", err)
	}
	return nil
}

// GroupCode writes a short code in groups of four for reading aloud and
// typing: "ABCD-EFGH".
func GroupCode(code string) string {
	var b strings.Builder
	for i, r := range code {
		if i > 0 && i%4 == 0 {
			b.WriteByte('-')
		}
		b.WriteRune(r)
	}
	return b.String()
}
