package stats

import (
	"fmt"
	"strconv"

	"dayaq/internal/casework"
	"dayaq/internal/disclosure"
)

// Count is one bar of a chart: a category's key and its count.
type Count struct {
	Key string
	N   int
}

// DeadlineRow is a body's or a school's referrals against their deadlines:
// acknowledged on time, late (or not yet and past due), still within time;
// the same for completion.
type DeadlineRow struct {
	OrgID                         int64
	Code                          string
	NameAZ, NameRU, NameEN        string
	AckMet, AckMissed, AckOpen    int
	DoneMet, DoneMissed, DoneOpen int
}

// OwnerCount is one owner's overdue open cases.
type OwnerCount struct {
	UserID int64
	Name   string
	N      int
}

// Figures are a dashboard's figures, each straight from the base
// tables.
type Figures struct {
	Cases                          int
	ByType, BySeverity, ByStatus   []Count
	NewByMonth, ClosedByMonth      []Count // months as YYYY-MM, Baku time
	ByBody, BySchool               []DeadlineRow
	OverdueByOwner                 []OwnerCount
	Contacts                       int
	ContactsByChannel, ByCategory  []Count
	ContactsByHour, ContactsByWday []Count // hour 00..23; weekday 0 (Sunday)..6
}

// Deadlines is a table of bodies or schools against the referral deadlines,
// as shown: each row's six counts, with those suppressed marked.
type Deadlines struct {
	ID   string // "deadlines_by_body", "deadlines_by_school"
	Rows []DeadlineShown
}

// DeadlineShown is one row: the organisation and its six counts in the
// order AckMet, AckMissed, AckOpen, DoneMet, DoneMissed, DoneOpen.
type DeadlineShown struct {
	Org        DeadlineRow
	Label      string
	Values     [6]int
	Suppressed [6]bool
	Link       string
}

// Shown is the i-th count as printed.
func (d DeadlineShown) Shown(i int) string {
	if d.Suppressed[i] {
		return Symbol
	}
	return strconv.Itoa(d.Values[i])
}

// Share is the percentage met of those decided (met + missed) for the
// acknowledgement (i = 0) or the completion (i = 3), or "–" when none is
// decided or a part is suppressed.
func (d DeadlineShown) Share(i int) string {
	if d.Suppressed[i] || d.Suppressed[i+1] || d.Values[i]+d.Values[i+1] == 0 {
		return "–"
	}
	return strconv.Itoa(100*d.Values[i]/(d.Values[i]+d.Values[i+1])) + "%"
}

// Board is a dashboard as shown.
type Board struct {
	Charts     []Chart
	Deadlines  []Deadlines
	Suppressed bool // counts over children the viewer cannot see: the public rule applies
}

// Labels names categories for people: kind is "type", "severity",
// "status", "month", "channel", "category", "hour", "wday", "owner".
type Labels func(kind, key string) string

// Links gives the list behind a count ("" for none): chart is the chart's
// ID, key the bar's key ("" for the total).
type Links func(chart, key string) string

// Build lays out a dashboard from its figures. With suppressed, every
// chart and table follows the public rule (o), and nothing links to a list
// or names an owner.
func Build(f Figures, suppressed bool, o disclosure.Options, label Labels, link Links) (Board, error) {
	b := Board{Suppressed: suppressed}
	if suppressed {
		link = func(string, string) string { return "" }
	}
	chart := func(id, kind string, counts []Count, order []string, total int) Chart {
		c := Chart{ID: id, Title: "stats.chart." + id, Total: total, TotalLink: link(id, "")}
		byKey := map[string]int{}
		for _, k := range counts {
			byKey[k.Key] += k.N
		}
		keys := order
		if keys == nil {
			for _, k := range counts {
				keys = append(keys, k.Key)
			}
		}
		for _, k := range keys {
			c.Bars = append(c.Bars, Bar{Key: k, Label: label(kind, k), Value: byKey[k], Link: link(id, k)})
		}
		return c
	}
	sum := func(cs []Count) int {
		n := 0
		for _, c := range cs {
			n += c.N
		}
		return n
	}
	var sev, st []string
	for _, s := range casework.Severities() {
		sev = append(sev, string(s))
	}
	for _, s := range casework.Statuses() {
		st = append(st, string(s))
	}
	hours := make([]string, 24)
	for h := range hours {
		hours[h] = fmt.Sprintf("%02d", h)
	}
	wdays := []string{"1", "2", "3", "4", "5", "6", "0"}
	b.Charts = []Chart{
		chart("cases_by_type", "type", f.ByType, nil, f.Cases),
		chart("cases_by_severity", "severity", f.BySeverity, sev, f.Cases),
		chart("cases_by_status", "status", f.ByStatus, st, f.Cases),
		chart("new_by_month", "month", f.NewByMonth, nil, sum(f.NewByMonth)),
		chart("closed_by_month", "month", f.ClosedByMonth, nil, sum(f.ClosedByMonth)),
	}
	if !suppressed {
		var owners []Count
		var keys []string
		for _, ow := range f.OverdueByOwner {
			k := strconv.FormatInt(ow.UserID, 10)
			owners = append(owners, Count{Key: k, N: ow.N})
			keys = append(keys, k)
		}
		names := map[string]string{}
		for _, ow := range f.OverdueByOwner {
			names[strconv.FormatInt(ow.UserID, 10)] = ow.Name
		}
		c := chart("overdue_by_owner", "owner", owners, keys, sum(owners))
		for i := range c.Bars {
			if n := names[c.Bars[i].Key]; n != "" {
				c.Bars[i].Label = n
			}
		}
		b.Charts = append(b.Charts, c)
	}
	if f.Contacts > 0 || len(f.ContactsByChannel) > 0 {
		b.Charts = append(b.Charts,
			chart("contacts_by_channel", "channel", f.ContactsByChannel, nil, f.Contacts),
			chart("contacts_by_category", "category", f.ByCategory, nil, sum(f.ByCategory)),
			chart("contacts_by_hour", "hour", f.ContactsByHour, hours, f.Contacts),
			chart("contacts_by_wday", "wday", f.ContactsByWday, wdays, f.Contacts))
	}
	if suppressed {
		for i := range b.Charts {
			if err := Suppress(&b.Charts[i], o); err != nil {
				return b, err
			}
		}
	}
	for _, dt := range []struct {
		id   string
		rows []DeadlineRow
	}{{"deadlines_by_body", f.ByBody}, {"deadlines_by_school", f.BySchool}} {
		t := Deadlines{ID: dt.id}
		for _, r := range dt.rows {
			t.Rows = append(t.Rows, DeadlineShown{Org: r, Label: label("org", r.Code),
				Values: [6]int{r.AckMet, r.AckMissed, r.AckOpen, r.DoneMet, r.DoneMissed, r.DoneOpen}, Link: link(dt.id, r.Code)})
		}
		if suppressed && len(t.Rows) > 0 {
			if err := suppressDeadlines(&t, o); err != nil {
				return b, err
			}
		}
		b.Deadlines = append(b.Deadlines, t)
	}
	return b, nil
}

// suppressDeadlines protects a deadlines table as two two-way tables
// (organisation × acknowledgement outcome, organisation × completion
// outcome), each with all its margins.
func suppressDeadlines(t *Deadlines, o disclosure.Options) error {
	orgs := disclosure.Dim{Name: "org"}
	for _, r := range t.Rows {
		orgs.Codes = append(orgs.Codes, r.Org.Code)
	}
	for part := range 2 {
		f := disclosure.NewFrame(orgs, disclosure.Dim{Name: "outcome", Codes: []string{"met", "missed", "open"}})
		for i, r := range t.Rows {
			for j := range 3 {
				f.Counts[i*3+j] = r.Values[part*3+j]
			}
		}
		res, err := disclosure.Protect(f, [][]int{{0, 1}}, o)
		if err != nil {
			return fmt.Errorf("stats: suppress %s: %w", t.ID, err)
		}
		for i := range t.Rows {
			for j := range 3 {
				_, st, _ := res.Lookup(i, j)
				t.Rows[i].Suppressed[part*3+j] = st.Suppressed()
			}
			t.Rows[i].Link = ""
		}
	}
	return nil
}
