package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/calendar"
	"dayaq/internal/disclosure"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/report"
	"dayaq/internal/stats"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
	"dayaq/internal/taxonomy"
)

// StatsStore is what the dashboards and the public statistics need of
// storage.
type StatsStore interface {
	DashboardCounts(ctx context.Context, a audit.Actor, q storage.StatsQuery) (stats.Figures, error)
	PublicCaseCounts(ctx context.Context, from, to time.Time) ([]stats.Group, error)
	PublicContactCounts(ctx context.Context, from, to time.Time) ([]stats.Group, error)
	PublicRegisterCounts(ctx context.Context) ([]stats.Group, error)
	SupportCounts(ctx context.Context, a audit.Actor, q storage.StatsQuery) (stats.Support, error)
	RecordAudit(ctx context.Context, e audit.Event) error
	DeidentifiedCases(ctx context.Context, a audit.Actor, project, filter string, q storage.StatsQuery) ([]storage.DeidentifiedRow, error)
	ExportStore
}

func (w *Web) statsRoutes() []route {
	return []route{
		{"GET /statistics", w.signedIn(w.dashboard)},
		{"GET /statistics/monthly", w.signedIn(w.monthlyReport)},
		{"GET /cases/export", w.signedIn(w.caseExport)},
		{"GET /referrals/export", w.signedIn(w.referralExport)},
		{"GET /hotline/export", w.signedIn(w.contactExport)},
		{"GET /exports", w.signedIn(w.exportsPage)},
		{"GET /exports/{id}/download", w.signedIn(w.exportDownload)},
		{"GET /statistics/export", w.signedIn(w.deidentifiedExport)},
		{"GET /statistika", w.publicStats},
		{"GET /statistika/pdf", w.publicStatsPDF},
	}
}

// statsLabels names the categories of a dashboard in l's language.
func statsLabels(l i18n.Localizer, orgNames map[string]string) stats.Labels {
	tax := map[string]taxonomy.Node{}
	for _, n := range taxonomy.Seed().Nodes {
		tax[n.Code] = n
	}
	lang := string(l.Lang)
	return func(kind, key string) string {
		switch kind {
		case "type", "category":
			if n, ok := tax[key]; ok {
				return n.Label(lang)
			}
			return key
		case "severity":
			return l.T("case.severity." + key)
		case "status":
			return l.T("case.status." + key)
		case "channel":
			return l.T("hotline.channel." + key)
		case "hour":
			return key + ":00"
		case "wday":
			return l.T("stats.wday." + key)
		case "owner":
			return l.T("stats.unowned")
		case "org":
			if n, ok := orgNames[key]; ok {
				return n
			}
		case "register_by_level":
			return l.T("screening.level." + key)
		case "plans_by_status":
			return l.T("plans.status." + key)
		case "plans_by_outcome":
			return l.T("plans.outcome." + key)
		case "events_by_status":
			return l.T("events.status." + key)
		case "campaign_showings":
			return l.T("campaign.kind." + key)
		case "screening_coverage", "plan_reviews", "event_attendance", "campaign_reach":
			return l.T("stats.bar." + key)
		}
		return key
	}
}

// supportPath is the web list of a support figure's target.
func supportPath(list string) string {
	switch list {
	case "register":
		return "/screening/register"
	case "roll":
		return "/screening/pupils"
	case "showings":
		return "/campaign/showings"
	}
	return "/" + list // plans, events
}

// supportLinks gives the list behind each support count of an exact
// dashboard (surface.SupportTargetFor): narrowed to the dashboard's school
// or district, its period where the figure has one, and the number's own
// condition. The lists apply the viewer's policy; the support figures are
// exact only where it reaches every child or event counted.
func supportLinks(f surface.StatsFilter) stats.Links {
	return func(chart, key string) string {
		t, ok := surface.SupportTargetFor(chart, key)
		if !ok {
			return ""
		}
		return surface.SupportURL(supportPath(t.List), t, f.School, f.District, f.From, f.To)
	}
}

// dashboardView is the dashboard page.
type dashboardView struct {
	Filter    surface.StatsFilter
	Errors    map[string]string
	Board     stats.Board
	SVG       map[string]template.HTML
	Summary   map[string]string
	Scope     string // the scope in words
	Districts []org.DistrictInfo
	Export    string // the filter as a query, for the export links
	K         int
}

func (d dashboardView) FieldError(name string) string { return d.Errors[name] }

// In is the filter's input called name, labelled from the stats catalogue.
func (d dashboardView) In(l i18n.Localizer, name, value, typ string) Input {
	return Input{Name: name, Label: l.T("stats.field." + name), Value: value, Type: typ, Error: d.Errors[name]}
}

// loadDashboard resolves the viewer's dashboard under the filter in v.
func (w *Web) loadDashboard(r *http.Request, l i18n.Localizer) (dashboardView, error) {
	a := authn.ActorFrom(r)
	d := dashboardView{Errors: map[string]string{}, Districts: org.BakuDistricts(), K: disclosure.DefaultK}
	v := r.URL.Query()
	if v.Get("district") == "" && v.Get("school") == "" && v.Get("body") == "" {
		// the viewer's own dashboard first
		home := access.HomeScope(a.Principal)
		if home.District != "" {
			v.Set("district", home.District)
		}
		if home.SchoolID != 0 || home.BodyID != 0 {
			o, err := w.orgByID(r.Context(), home.SchoolID+home.BodyID)
			if err == nil && home.SchoolID != 0 {
				v.Set("school", o.Code)
			} else if err == nil {
				v.Set("body", o.Code)
			}
		}
	}
	f, q, scope, fs := surface.ParseStatsFilter(v, func(code string) (org.Org, bool) {
		o, err := w.store.OrgByCode(r.Context(), code)
		return o, err == nil
	})
	d.Filter = f
	d.Export = f.Values().Encode()
	for _, fe := range fs {
		d.Errors[fe.Field] = l.T(fe.Key, fe.Args...)
	}
	if len(fs) > 0 {
		return d, nil
	}
	view := access.DecideStats(a.Principal, scope)
	if view == access.StatsNone {
		return d, apperr.New(apperr.NotFound, "error.not_found")
	}
	q.Exact = view == access.StatsExact
	q.Scoped = q.Exact
	fig, err := w.store.DashboardCounts(r.Context(), a, q)
	if err != nil {
		return d, err
	}
	names := map[string]string{}
	for _, rows := range [][]stats.DeadlineRow{fig.ByBody, fig.BySchool} {
		for _, o := range rows {
			names[o.Code] = org.Org{NameAZ: o.NameAZ, NameRU: o.NameRU, NameEN: o.NameEN}.Name(string(l.Lang))
		}
	}
	d.Board, err = stats.Build(fig, view == access.StatsSuppressed, disclosure.Options{Cache: w.protect}, statsLabels(l, names), surface.CaseChartLinks("/cases", "/referrals", true, f))
	if err != nil {
		return d, err
	}
	support, suppressed, err := surface.SupportChartsWith(r.Context(), w.store, a, scope, q, disclosure.Options{Cache: w.protect}, statsLabels(l, names), supportLinks(f))
	if err != nil {
		return d, err
	}
	d.Board.Charts = append(d.Board.Charts, support...)
	d.Board.Suppressed = d.Board.Suppressed || suppressed
	d.SVG, d.Summary = map[string]template.HTML{}, map[string]string{}
	for _, c := range d.Board.Charts {
		title := l.T(c.Title)
		d.SVG[c.ID] = template.HTML(stats.SVG(c, title)) // stats.SVG escapes every text it draws
		d.Summary[c.ID] = chartSummary(l, c)
	}
	d.Scope = scopeWords(l, f)
	return d, nil
}

func districtName(code, lang string) string {
	for _, d := range org.BakuDistricts() {
		if d.Code == code {
			return org.Org{NameAZ: d.NameAZ, NameRU: d.NameRU, NameEN: d.NameEN}.Name(lang)
		}
	}
	return code
}

// chartSummary says a chart in one line.
func chartSummary(l i18n.Localizer, c stats.Chart) string {
	if c.Total == 0 && !c.TotalSuppressed {
		return l.T("stats.summary.none")
	}
	if c.ID == "screening_coverage" && !c.TotalSuppressed && !c.Bars[0].Suppressed {
		return l.T("stats.summary.coverage", l.Num(int64(c.Total)), l.Num(int64(c.Bars[0].Value)), 100*c.Bars[0].Value/max(c.Total, 1))
	}
	top, ok := c.Top()
	switch {
	case !ok:
		return l.T("stats.summary.total", c.ShownTotal())
	case c.TotalSuppressed:
		return l.T("stats.summary.top_only", top.Label, l.Num(int64(top.Value)))
	}
	return l.T("stats.summary.top", l.Num(int64(c.Total)), top.Label, l.Num(int64(top.Value)), 100*top.Value/max(c.Total, 1))
}

func (w *Web) orgByID(ctx context.Context, id int64) (org.Org, error) {
	os, err := w.store.Orgs(ctx, storage.OrgFilter{})
	if err != nil {
		return org.Org{}, err
	}
	for _, o := range os {
		if o.ID == id {
			return o, nil
		}
	}
	return org.Org{}, apperr.New(apperr.NotFound, "error.not_found")
}

func (w *Web) dashboard(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "section.statistics.title", nil)
	d, err := w.loadDashboard(r, p.L)
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("format") {
	case "csv":
		return writeBoardCSV(rw, p.L, d)
	case "xlsx":
		return writeBoardXLSX(rw, p.L, d)
	}
	p.Data = d
	status := http.StatusOK
	if len(d.Errors) > 0 {
		status = http.StatusBadRequest
	}
	return w.render(rw, status, "stats_dashboard", p)
}

// boardRows lays a dashboard out as rows: chart, category, count (the
// symbol where suppressed), for CSV and XLSX alike.
func boardRows(l i18n.Localizer, d dashboardView) [][]string {
	rows := [][]string{{l.T("stats.export.chart"), l.T("stats.export.category"), l.T("stats.export.count")}}
	for _, c := range d.Board.Charts {
		t := l.T(c.Title)
		for _, b := range c.Bars {
			rows = append(rows, []string{t, b.Label, b.Shown()})
		}
		rows = append(rows, []string{t, l.T("stats.total"), c.ShownTotal()})
	}
	for _, dt := range d.Board.Deadlines {
		t := l.T("stats.chart." + dt.ID)
		for _, r := range dt.Rows {
			for i, k := range []string{"ack_met", "ack_missed", "ack_open", "done_met", "done_missed", "done_open"} {
				rows = append(rows, []string{t, r.Label + " — " + l.T("stats.deadline."+k), r.Shown(i)})
			}
		}
	}
	if d.Board.Suppressed {
		rows = append(rows, []string{l.T("stats.method.title"), l.T("stats.method.note", stats.Symbol, d.K), ""})
	}
	return rows
}

func exportName(base, ext string, now time.Time) string {
	return fmt.Sprintf("attachment; filename=%q", base+"-"+now.Format("2006-01-02")+"."+ext)
}

// writeCSV streams rows as CSV, every text cell neutralised against
// formula injection.
func writeCSV(rw http.ResponseWriter, name string, rows [][]string) error {
	h := rw.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", name)
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(rw)
	for _, row := range rows {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = stats.SafeCell(c)
		}
		if err := cw.Write(out); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// writeXLSX writes rows as a one-sheet workbook through excelize's
// streaming writer; counts go in as numbers, text neutralised.
func writeXLSX(rw http.ResponseWriter, name, sheet string, rows [][]string) error {
	var buf bytes.Buffer
	if err := xlsxTo(&buf, sheet, rows); err != nil {
		return err
	}
	h := rw.Header()
	h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	h.Set("Content-Disposition", name)
	h.Set("Cache-Control", "no-store")
	_, err := buf.WriteTo(rw)
	return err
}

// xlsxTo writes rows as a one-sheet workbook to out (see writeXLSX).
func xlsxTo(out io.Writer, sheet string, rows [][]string) error {
	f := excelize.NewFile()
	defer f.Close()
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return err
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return err
	}
	for i, row := range rows {
		vals := make([]any, len(row))
		for j, c := range row {
			if n, err := strconv.Atoi(c); err == nil && i > 0 {
				vals[j] = n
			} else {
				vals[j] = stats.SafeCell(c)
			}
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := sw.SetRow(cell, vals); err != nil {
			return err
		}
	}
	if err := sw.Flush(); err != nil {
		return err
	}
	return f.Write(out)
}

func writeBoardCSV(rw http.ResponseWriter, l i18n.Localizer, d dashboardView) error {
	return writeCSV(rw, exportName("dayaq-dashboard", "csv", time.Now()), boardRows(l, d))
}

func writeBoardXLSX(rw http.ResponseWriter, l i18n.Localizer, d dashboardView) error {
	return writeXLSX(rw, exportName("dayaq-dashboard", "xlsx", time.Now()), "Dayaq", boardRows(l, d))
}

// publicTables returns the catalogue, protected, in lang (the cache holds
// the az build; labels are per language, the pattern is one).
func (w *Web) publicTables(ctx context.Context, l i18n.Localizer) ([]*stats.Published, error) {
	return surface.PublicCatalogue(ctx, w.store, string(l.Lang), func(level string) string { return l.T("screening.level." + level) })
}

// PublicSlice is one two-way view of a public table as the page shows it:
// rows by the first dimension, columns by the second, at a fixed position
// (or the total) of the third.
type PublicSlice struct {
	Table  *stats.Published
	Title  string
	Rows   []PublicRow
	Cols   []string
	Slice  int // index into the third dimension, or disclosure.Total
	Slices []SliceLink
	SVG    template.HTML
}

// PublicRow is a row: its label, its cells and its margin.
type PublicRow struct {
	Label      string
	Cells      []PublicCell
	Total      PublicCell
	IsTotalRow bool
}

// PublicCell is a cell as shown.
type PublicCell struct {
	Text       string
	Suppressed bool
}

// SliceLink is one choice of the third dimension.
type SliceLink struct {
	Label, URL string
	Current    bool
}

func sliceOf(l i18n.Localizer, t *stats.Published, slice int, base string) PublicSlice {
	ps := PublicSlice{Table: t, Title: l.T(t.Title, t.Arg), Slice: slice}
	rd, cd := t.Dims[0], t.Dims[1]
	ps.Cols = cd.Labels
	coords := func(i, j int) []int {
		c := []int{i, j}
		if len(t.Dims) == 3 {
			c = append(c, slice)
		}
		return c
	}
	cell := func(i, j int) PublicCell {
		s, sup := t.Cell(coords(i, j)...)
		return PublicCell{Text: s, Suppressed: sup}
	}
	chart := stats.Chart{ID: t.ID, Title: t.Title}
	for i := range rd.Codes {
		row := PublicRow{Label: rd.Labels[i], Total: cell(i, disclosure.Total)}
		for j := range cd.Codes {
			row.Cells = append(row.Cells, cell(i, j))
		}
		ps.Rows = append(ps.Rows, row)
		c, st, _ := t.Result.Lookup(coords(i, disclosure.Total)...)
		chart.Bars = append(chart.Bars, stats.Bar{Key: rd.Codes[i], Label: rd.Labels[i], Value: c.Value, Suppressed: st.Suppressed()})
	}
	tot := PublicRow{Label: l.T("stats.total"), Total: cell(disclosure.Total, disclosure.Total), IsTotalRow: true}
	for j := range cd.Codes {
		tot.Cells = append(tot.Cells, cell(disclosure.Total, j))
	}
	ps.Rows = append(ps.Rows, tot)
	ps.SVG = template.HTML(stats.SVG(chart, ps.Title+" — "+l.T(rd.Name)))
	if len(t.Dims) == 3 {
		ps.Slices = append(ps.Slices, SliceLink{Label: l.T("stats.all_periods"), URL: base, Current: slice == disclosure.Total})
		for k, lab := range t.Dims[2].Labels {
			ps.Slices = append(ps.Slices, SliceLink{Label: lab, URL: base + "&slice=" + strconv.Itoa(k), Current: slice == k})
		}
	}
	return ps
}

// publicView is the public statistics page.
type publicView struct {
	Slices []PublicSlice
	K      int
	Symbol string
	Table  string
}

func (w *Web) publicStats(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "stats.public.title", nil)
	tables, err := w.publicTables(r.Context(), p.L)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	slice := disclosure.Total
	if s := v.Get("slice"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 3 {
			return apperr.Validation(apperr.Field("slice", "stats.error.slice"))
		}
		slice = n
	}
	d := publicView{K: disclosure.DefaultK, Symbol: stats.Symbol, Table: v.Get("table")}
	for _, t := range tables {
		s := disclosure.Total
		if t.ID == d.Table {
			s = slice
		}
		d.Slices = append(d.Slices, sliceOf(p.L, t, s, "/statistika?lang="+string(p.L.Lang)+"&table="+t.ID))
	}
	if f := v.Get("format"); f != "" {
		var t *stats.Published
		for _, x := range tables {
			if x.ID == d.Table {
				t = x
			}
		}
		if t == nil {
			return apperr.Validation(apperr.Field("table", "stats.error.table"))
		}
		rows := publicRows(p.L, t)
		switch f {
		case "csv":
			return writeCSV(rw, exportName("dayaq-"+t.ID, "csv", w.store.Now()), rows)
		case "xlsx":
			return writeXLSX(rw, exportName("dayaq-"+t.ID, "xlsx", w.store.Now()), t.ID, rows)
		}
		return apperr.Validation(apperr.Field("format", "stats.error.format"))
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "stats_public", p)
}

// publicStatsPDF is the public statistics as a PDF in the reader's
// language: every table of the catalogue with its margins, suppressed
// cells as the symbol, and the methodology note. No sign-in.
func (w *Web) publicStatsPDF(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "stats.public.title", nil)
	tables, err := w.publicTables(r.Context(), p.L)
	if err != nil {
		return err
	}
	d := report.PublicDoc{Title: p.L.T("stats.public.title"), Lead: p.L.T("stats.public.lead"),
		Method: p.L.T("stats.method.title") + ": " + p.L.T("stats.method.note", stats.Symbol, disclosure.DefaultK)}
	for _, t := range tables {
		ps := sliceOf(p.L, t, disclosure.Total, "")
		pt := report.PublicTable{Title: ps.Title, RowLabel: p.L.T(t.Dims[0].Name), Cols: ps.Cols, Total: p.L.T("stats.total")}
		for _, row := range ps.Rows {
			pr := report.PublicRow{Label: row.Label, Total: row.Total.Text}
			for _, c := range row.Cells {
				pr.Cells = append(pr.Cells, c.Text)
			}
			pt.Rows = append(pt.Rows, pr)
		}
		d.Tables = append(d.Tables, pt)
	}
	var buf bytes.Buffer
	if err := report.WritePublic(&buf, d); err != nil {
		return err
	}
	h := rw.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "dayaq-statistika-"+w.store.Now().Format("2006-01-02")+"-"+string(p.L.Lang)+".pdf"))
	_, err = buf.WriteTo(rw)
	return err
}

// publicRows lays every cell of a public table out in long form: one row
// per cell with its labels (the total's label for a margin) and its shown
// value, then the methodology note.
func publicRows(l i18n.Localizer, t *stats.Published) [][]string {
	var head []string
	for _, d := range t.Dims {
		head = append(head, l.T(d.Name))
	}
	rows := [][]string{append(head, l.T("stats.export.count"))}
	for i, c := range t.Result.Cells {
		var row []string
		for d, k := range c.Coords {
			if k == disclosure.Total {
				row = append(row, l.T("stats.total"))
			} else {
				row = append(row, t.Dims[d].Labels[k])
			}
		}
		shown := strconv.Itoa(c.Value)
		if t.Result.Status[i].Suppressed() {
			shown = stats.Symbol
		}
		rows = append(rows, append(row, shown))
	}
	rows = append(rows, []string{l.T("stats.method.title"), l.T("stats.method.note", stats.Symbol, t.Result.Options.K)})
	return rows
}

// monthlyReport is the month's report for the Ministry as a PDF, in the
// reader's language: the viewer's dashboard for that month (?month=YYYY-MM,
// the last full month by default).
func (w *Web) monthlyReport(rw http.ResponseWriter, r *http.Request) error {
	p := w.page(r, "section.statistics.title", nil)
	month := r.URL.Query().Get("month")
	if month == "" {
		month = w.store.Now().In(calendar.Baku()).AddDate(0, -1, 0).Format("2006-01")
	}
	m, err := time.Parse("2006-01", month)
	if err != nil {
		return apperr.Validation(apperr.Field("month", "stats.error.month"))
	}
	v := r.URL.Query()
	v.Set("from", m.Format(time.DateOnly))
	v.Set("to", m.AddDate(0, 1, -1).Format(time.DateOnly))
	r2 := r.Clone(r.Context())
	r2.URL.RawQuery = v.Encode()
	d, err := w.loadDashboard(r2, p.L)
	if err != nil {
		return err
	}
	if len(d.Errors) > 0 {
		var fs []apperr.FieldError
		for k := range d.Errors {
			fs = append(fs, apperr.Field(k, "stats.error.filter"))
		}
		return apperr.Validation(fs...)
	}
	var buf bytes.Buffer
	if err := report.Write(&buf, report.Doc{Title: p.L.T("stats.report.title"), Period: month, Scope: d.Scope,
		Board: d.Board, T: p.L.T, K: d.K}); err != nil {
		return err
	}
	h := rw.Header()
	h.Set("Content-Type", "application/pdf")
	h.Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", "dayaq-monthly-"+month+"-"+string(p.L.Lang)+".pdf"))
	h.Set("Cache-Control", "no-store")
	_, err = buf.WriteTo(rw)
	return err
}

// deidentifiedExport is the analysts' record-level export: the cases under
// the dashboard's filter, de-identified with the project's key (storage
// checks the role and audits it).
func (w *Web) deidentifiedExport(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	p := w.page(r, "stats.export.title", nil)
	v := r.URL.Query()
	_, q, _, fs := surface.ParseStatsFilter(v, func(code string) (org.Org, bool) {
		o, err := w.store.OrgByCode(r.Context(), code)
		return o, err == nil
	})
	format := v.Get("format")
	if format != "csv" && format != "xlsx" {
		fs = append(fs, apperr.Field("format", "stats.error.format"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	project := strings.TrimSpace(v.Get("project"))
	filter := url.Values{}
	for k, vs := range v {
		if k != "format" {
			filter[k] = vs
		}
	}
	got, err := w.store.DeidentifiedCases(r.Context(), a, project, filter.Encode(), q)
	if err != nil {
		return err
	}
	rows := [][]string{{p.L.T("stats.export.case"), p.L.T("stats.export.child"), p.L.T("stats.dim.type"), p.L.T("stats.export.severity"),
		p.L.T("stats.export.status"), p.L.T("stats.dim.district"), p.L.T("stats.export.created"), p.L.T("stats.export.closed"),
		p.L.T("stats.export.birth_month"), p.L.T("stats.export.sex")}}
	for _, d := range got {
		rows = append(rows, []string{d.Case, d.Child, d.Type, d.Severity, d.Status, d.District, d.Created, d.Closed, d.BirthMonth, d.Sex})
	}
	name := exportName("dayaq-deidentified-"+project, format, w.store.Now())
	if format == "csv" {
		return writeCSV(rw, name, rows)
	}
	return writeXLSX(rw, name, "Dayaq", rows)
}
