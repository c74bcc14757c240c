package web

import (
	"html/template"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/calendar"
	"dayaq/internal/workgroup"
)

// referralFuncs are the template functions of the referral and working
// group pages.
func referralFuncs() template.FuncMap {
	return template.FuncMap{
		"localTime": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.In(baku()).Format("02.01.2006 15:04")
		},
		"inputTime": func(t time.Time) string { return t.In(baku()).Format("2006-01-02T15:04") },
		"lines":     func(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") },
		"meetingInput": func(p Page, name, typ, stored string) wgInputData {
			in := wgInput(p, "meeting", name, typ)
			if fh, ok := p.Data.(formHolder); !ok || !fh.submitted().Is("meeting") {
				in.Value = stored
			}
			if typ == "textarea" {
				in.Rows = 12
			}
			return in
		},
		"dueIn": dueIn,
		"hours": func(p Page, d time.Duration, n int) string {
			if n == 0 {
				return "—"
			}
			return p.L.T("referral.board.hours", strconv.FormatFloat(d.Hours(), 'f', 1, 64), n)
		},
		"wgInput": wgInput,
		"wgItems": func(p Page, items []workgroup.ActionItem, back string) wgItemsData {
			return wgItemsData{P: p, Items: items, Back: back, Statuses: workgroup.ItemStatuses()}
		},
	}
}

// dueIn says how far a deadline is from now in the page's language: "due
// in 3 h", "overdue by 2 days"; "" once the work is done.
func dueIn(p Page, due time.Time, done bool) string {
	if done || due.IsZero() {
		return ""
	}
	now := time.Now()
	if n, ok := p.Data.(interface{ Clock() time.Time }); ok {
		now = n.Clock()
	}
	r := calendar.Humanize(now, due)
	return p.L.N(r.Key, r.N)
}

// wgItemsData is the action-item table's data.
type wgItemsData struct {
	P        Page
	Items    []workgroup.ActionItem
	Back     string
	Statuses []workgroup.ItemStatus
}

// wgInputData is one labelled control of a working-group or referral form.
type wgInputData struct {
	ID, Name, Label, Type, Value, Error string
	Rows                                int
}

// formHolder is page data that carries the form last submitted.
type formHolder interface{ submitted() *form }

func (d wgHomeData) submitted() *form    { return d.Form }
func (d wgMeetingData) submitted() *form { return d.Form }
func (d wgHomeData) Clock() time.Time    { return d.Now }
func (d wgMeetingData) Clock() time.Time { return d.Now }

// wgInput builds a control of the form formName: its label is the
// catalogue key "workgroup.field."+name (or "referral.field."+name for referral
// forms), and its value and message come from the form last submitted
// when that was this one.
func wgInput(p Page, formName, name, typ string) wgInputData {
	prefix := "workgroup.field."
	if len(formName) > 4 && formName[:4] == "ref_" {
		prefix = "referral.field."
	}
	in := wgInputData{ID: formName + "-" + name, Name: name, Label: p.L.T(prefix + name), Type: typ}
	if fh, ok := p.Data.(formHolder); ok {
		if f := fh.submitted(); f.Is(formName) {
			in.Value, in.Error = f.V(name), f.E(name)
		}
	}
	return in
}
