package web

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/calendar"
	"dayaq/internal/i18n"
	"dayaq/internal/jobs"
	"dayaq/internal/referral"
	"dayaq/internal/stats"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// ExportStore is what the exports of lists need of storage.
type ExportStore interface {
	QueueExport(ctx context.Context, a audit.Actor, j storage.ExportJob) (storage.ExportJob, error)
	ExportJobs(ctx context.Context, a audit.Actor) ([]storage.ExportJob, error)
	ExportDownload(ctx context.Context, a audit.Actor, id int64) (storage.ExportJob, []byte, error)
	ClaimExportJob(ctx context.Context) (storage.ExportJob, bool, error)
	FinishExportJob(ctx context.Context, id int64, content []byte, rows int, failure string) error
	PrincipalForUser(ctx context.Context, userID int64) (access.Principal, error)
}

// exportRowLimit is the most rows an XLSX export is built for in the
// request; above it the export is queued as a background job and
// downloaded when ready (CSV streams at any size).
const exportRowLimit = 50_000

// exportJobRowLimit is the most rows a background export holds.
const exportJobRowLimit = 1_000_000

// exportView asks for the purpose of a personal-data export.
type exportView struct {
	Action  string // the export's URL
	Filter  url.Values
	Format  string
	Purpose string // as typed
	Error   string
}

// listExport is one list that exports with personal data: its header
// and its rows, read page by page through the list's own policy as the
// viewer, with the list's own filter.
type listExport struct {
	kind   string // cases, referrals, contacts: access.MayExportList, storage.ExportJob.Kind
	action string // the export's URL
	file   string // the file name's base
	// check reads the filter and names the fields at fault.
	check func(ctx context.Context, a audit.Actor, v url.Values) []apperr.FieldError
	head  func(l i18n.Localizer) []string
	// rows calls emit for each row under v until emit returns false.
	rows func(ctx context.Context, a audit.Actor, l i18n.Localizer, v url.Values, emit func([]string) bool) error
}

func (w *Web) listExports() map[string]listExport {
	return map[string]listExport{"cases": w.caseList(), "referrals": w.referralListExport(), "contacts": w.contactListExport()}
}

func (w *Web) caseExport(rw http.ResponseWriter, r *http.Request) error {
	return w.exportList(rw, r, w.caseList())
}

func (w *Web) referralExport(rw http.ResponseWriter, r *http.Request) error {
	return w.exportList(rw, r, w.referralListExport())
}

func (w *Web) contactExport(rw http.ResponseWriter, r *http.Request) error {
	return w.exportList(rw, r, w.contactListExport())
}

// exportFilter is v without the export's own parameters.
func exportFilter(v url.Values) url.Values {
	f := url.Values{}
	for k, vs := range v {
		if k != "purpose" && k != "format" {
			f[k] = vs
		}
	}
	return f
}

// exportList exports a list as CSV or XLSX with the children's names:
// personal data. It needs the role (access.MayExportList) and a purpose,
// and is audited with the filter and the purpose before the first row;
// each page read is audited as the list is, with its IDs. CSV streams at
// any size; an XLSX above the row limit is queued as a background job
// (audited alike) and the requester alone downloads it from /exports.
func (w *Web) exportList(rw http.ResponseWriter, r *http.Request, x listExport) error {
	a := authn.ActorFrom(r)
	if !access.MayExportList(a.Principal, x.kind) {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	p := w.page(r, "stats.export.title", nil)
	v := r.URL.Query()
	format := v.Get("format")
	if format != "csv" && format != "xlsx" {
		return apperr.Validation(apperr.Field("format", "stats.error.format"))
	}
	purpose := strings.TrimSpace(v.Get("purpose"))
	if len([]rune(purpose)) < 10 {
		filter := exportFilter(v)
		filter.Set("format", format)
		d := exportView{Action: x.action, Filter: filter, Format: format, Purpose: v.Get("purpose")}
		status := http.StatusOK
		if v.Has("purpose") {
			d.Error, status = p.L.T("stats.error.purpose"), http.StatusBadRequest
		}
		p.Data = d
		return w.render(rw, status, "stats_export", p)
	}
	if fs := x.check(r.Context(), a, v); len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	filter := exportFilter(v).Encode()
	audited := func() error {
		e := a.Event(exportAction(x.kind), strings.TrimSuffix(x.kind, "s"), 0)
		e.Reason = purpose
		e.Details = fmt.Sprintf(`{"format":%q,"filter":%q}`, format, filter)
		return w.store.RecordAudit(r.Context(), e)
	}
	name := exportName(x.file, format, w.store.Now())
	if format == "csv" {
		if err := audited(); err != nil {
			return err
		}
		return streamCSV(rw, name, func(emit func([]string) bool) error {
			if !emit(x.head(p.L)) {
				return nil
			}
			return x.rows(r.Context(), a, p.L, v, emit)
		})
	}
	rows := [][]string{x.head(p.L)}
	limit := w.exportLimit()
	if err := x.rows(r.Context(), a, p.L, v, func(row []string) bool {
		rows = append(rows, row)
		return len(rows) <= limit+1
	}); err != nil {
		return err
	}
	if len(rows) > limit+1 { // more than the limit: built in the background
		j, err := w.store.QueueExport(r.Context(), a, storage.ExportJob{Kind: x.kind, Filter: filter, Purpose: purpose, Lang: string(p.L.Lang)})
		if err != nil {
			return err
		}
		http.Redirect(rw, r, "/exports?queued="+strconv.FormatInt(j.ID, 10), http.StatusSeeOther)
		return nil
	}
	if err := audited(); err != nil {
		return err
	}
	return writeXLSX(rw, name, "Dayaq", rows)
}

// exportAction is the audit action of an export of kind (as storage
// records a queued one).
func exportAction(kind string) string {
	return strings.TrimSuffix(kind, "s") + ".export"
}

func (w *Web) exportLimit() int {
	if w.exportRows > 0 {
		return w.exportRows
	}
	return exportRowLimit
}

// streamCSV writes rows as CSV as they come, every text cell neutralised
// against formula injection, flushing as it goes.
func streamCSV(rw http.ResponseWriter, name string, rows func(emit func([]string) bool) error) error {
	h := rw.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", name)
	h.Set("Cache-Control", "no-store")
	cw := csv.NewWriter(rw)
	var werr error
	n := 0
	err := rows(func(row []string) bool {
		out := make([]string, len(row))
		for i, c := range row {
			out[i] = stats.SafeCell(c)
		}
		if werr = cw.Write(out); werr != nil {
			return false
		}
		if n++; n%1000 == 0 {
			cw.Flush()
		}
		return true
	})
	cw.Flush()
	if err != nil {
		return err
	}
	if werr != nil {
		return werr
	}
	return cw.Error()
}

// caseList is the case list's export.
func (w *Web) caseList() listExport {
	query := func(ctx context.Context, a audit.Actor, v url.Values) (storage.CaseQuery, []apperr.FieldError) {
		return surface.CaseQueryFrom(v, a.UserID, func(code string) (int64, bool) {
			o, err := w.store.OrgByCode(ctx, strings.ToUpper(code))
			return o.ID, err == nil
		})
	}
	return listExport{kind: "cases", action: "/cases/export", file: "dayaq-cases",
		check: func(ctx context.Context, a audit.Actor, v url.Values) []apperr.FieldError {
			_, fs := query(ctx, a, v)
			return fs
		},
		head: func(l i18n.Localizer) []string {
			return []string{l.T("stats.export.case"), l.T("stats.dim.type"), l.T("stats.export.severity"), l.T("stats.export.status"),
				l.T("stats.dim.district"), l.T("stats.field.school"), l.T("stats.export.created"), l.T("stats.export.owner"), l.T("stats.export.children")}
		},
		rows: func(ctx context.Context, a audit.Actor, l i18n.Localizer, v url.Values, emit func([]string) bool) error {
			q, _ := query(ctx, a, v)
			q.Limit = 200
			for {
				pg, err := w.store.ListCases(ctx, a, q)
				if err != nil {
					return err
				}
				for _, k := range pg.Cases {
					var names []string
					for _, c := range k.Children {
						names = append(names, strings.TrimSpace(c.LastName+" "+c.FirstName))
					}
					if !emit([]string{strconv.FormatInt(k.ID, 10), k.Type, l.T("case.severity." + string(k.Severity)),
						l.T("case.status." + string(k.Status)), k.District, k.School.Code,
						k.CreatedAt.In(calendar.Baku()).Format("2006-01-02 15:04"), k.OwnerName, strings.Join(names, "; ")}) {
						return nil
					}
				}
				if pg.Next == "" {
					return nil
				}
				q.After = pg.Next
			}
		}}
}

// referralListExport is the referral list's export, under the list's
// filter (to, state, open, overdue, case).
func (w *Web) referralListExport() listExport {
	query := func(ctx context.Context, v url.Values) (storage.ReferralQuery, []apperr.FieldError) {
		q := storage.ReferralQuery{OpenOnly: v.Get("open") == "1", Overdue: v.Get("overdue") == "1"}
		var fs []apperr.FieldError
		if to := strings.ToUpper(v.Get("to")); to != "" {
			o, err := w.store.OrgByCode(ctx, to)
			if err != nil {
				fs = append(fs, apperr.Field("to", "referral.error.to_org"))
			}
			q.ToOrgID = o.ID
		}
		if s := referral.State(v.Get("state")); s.Valid() {
			q.State = s
		}
		if s := v.Get("case"); s != "" {
			q.CaseID, _ = strconv.ParseInt(s, 10, 64)
		}
		return q, fs
	}
	return listExport{kind: "referrals", action: "/referrals/export", file: "dayaq-referrals",
		check: func(ctx context.Context, _ audit.Actor, v url.Values) []apperr.FieldError {
			_, fs := query(ctx, v)
			return fs
		},
		head: func(l i18n.Localizer) []string {
			return []string{l.T("stats.export.referral"), l.T("stats.export.case"), l.T("stats.export.from"), l.T("stats.export.to"),
				l.T("stats.export.service"), l.T("stats.export.urgency"), l.T("stats.export.state"), l.T("stats.export.sent"),
				l.T("stats.export.ack_due"), l.T("stats.export.complete_due"), l.T("stats.export.child_id")}
		},
		rows: func(ctx context.Context, a audit.Actor, l i18n.Localizer, v url.Values, emit func([]string) bool) error {
			q, _ := query(ctx, v)
			q.Limit = 200
			day := func(t time.Time) string {
				if t.IsZero() {
					return ""
				}
				return t.In(calendar.Baku()).Format("2006-01-02 15:04")
			}
			for {
				rs, err := w.store.ListReferrals(ctx, a, q)
				if err != nil {
					return err
				}
				for _, x := range rs {
					// the list shows no names: the export carries what the list does
					if !emit([]string{strconv.FormatInt(x.ID, 10), strconv.FormatInt(x.CaseID, 10), x.FromOrg.Code, x.ToOrg.Code,
						x.ServiceCode, l.T("referral.urgency." + string(x.Urgency)), l.T("referral.state." + string(x.State)),
						day(x.SentAt), day(x.AckDue), day(x.CompleteDue), strconv.FormatInt(x.ChildID, 10)}) {
						return nil
					}
				}
				if len(rs) < q.Limit {
					return nil
				}
				q.Before = rs[len(rs)-1].ID
			}
		}}
}

// contactListExport is the hotline's contact list's export, under the
// queue's view (all, mine, new, critical).
func (w *Web) contactListExport() listExport {
	return listExport{kind: "contacts", action: "/hotline/export", file: "dayaq-contacts",
		check: func(_ context.Context, _ audit.Actor, v url.Values) []apperr.FieldError {
			switch v.Get("view") {
			case "", "all", "mine", "new", "critical":
				return nil
			}
			return []apperr.FieldError{apperr.Field("view", "stats.error.filter")}
		},
		head: func(l i18n.Localizer) []string {
			return []string{l.T("stats.export.contact"), l.T("stats.export.received"), l.T("stats.export.channel"), l.T("stats.export.call_type"),
				l.T("stats.dim.category"), l.T("stats.export.urgency"), l.T("stats.export.outcome"), l.T("stats.export.case"),
				l.T("stats.export.to"), l.T("stats.export.children")}
		},
		rows: func(ctx context.Context, a audit.Actor, l i18n.Localizer, v url.Values, emit func([]string) bool) error {
			q := storage.ContactQuery{View: v.Get("view"), Limit: 200}
			for {
				pg, err := w.store.ListContacts(ctx, a, q)
				if err != nil {
					return err
				}
				for _, k := range pg.Items {
					var names []string
					for _, c := range k.Children {
						names = append(names, c.Name)
					}
					caseID := ""
					if k.CaseID != 0 {
						caseID = strconv.FormatInt(k.CaseID, 10)
					}
					outcome := ""
					if k.Outcome != "" {
						outcome = l.T("hotline.outcome." + string(k.Outcome))
					}
					if !emit([]string{strconv.FormatInt(k.ID, 10), k.ReceivedAt.In(calendar.Baku()).Format("2006-01-02 15:04"),
						l.T("hotline.channel." + string(k.Channel)), l.T("hotline.call_type." + string(k.CallType)),
						strings.Join(k.Categories, "; "), l.T("hotline.urgency." + string(k.Urgency)), outcome, caseID, k.ReferredTo,
						strings.Join(names, "; ")}) {
						return nil
					}
				}
				if len(pg.Items) < q.Limit {
					return nil
				}
				q.Before = pg.Items[len(pg.Items)-1].ID
			}
		}}
}

// exportsView lists the viewer's own background exports.
type exportsView struct {
	Jobs   []storage.ExportJob
	Queued int64 // just queued: say so
}

func (w *Web) exportsPage(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	js, err := w.store.ExportJobs(r.Context(), a)
	if err != nil {
		return err
	}
	d := exportsView{Jobs: js}
	d.Queued, _ = strconv.ParseInt(r.URL.Query().Get("queued"), 10, 64)
	return w.render(rw, http.StatusOK, "exports", w.page(r, "stats.exports.title", d))
}

// exportDownload hands a finished background export to the one who asked
// for it (storage refuses anyone else, and audits both).
func (w *Web) exportDownload(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	j, content, err := w.store.ExportDownload(r.Context(), authn.ActorFrom(r), id)
	if err != nil {
		return err
	}
	h := rw.Header()
	h.Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	h.Set("Content-Disposition", exportName("dayaq-"+j.Kind, "xlsx", j.CreatedAt))
	h.Set("Cache-Control", "no-store")
	_, err = rw.Write(content)
	return err
}

// Jobs are the UI's background jobs: building the queued exports.
func (w *Web) Jobs() []jobs.Job {
	return []jobs.Job{{Name: "exports", Every: 15 * time.Second, Run: func(ctx context.Context, _ time.Time) error {
		_, err := w.RunExports(ctx)
		return err
	}}}
}

// RunExports builds every queued export, each as its requester now (a
// requester who has since lost the role gets a failed job), through the
// list's own policy, and reports how many it built.
func (w *Web) RunExports(ctx context.Context) (n int, err error) {
	for {
		j, ok, err := w.store.ClaimExportJob(ctx)
		if err != nil || !ok {
			return n, err
		}
		content, rows, failure := w.buildExport(ctx, j)
		if err := w.store.FinishExportJob(ctx, j.ID, content, rows, failure); err != nil {
			return n, err
		}
		if failure == "" {
			n++
		}
	}
}

func (w *Web) buildExport(ctx context.Context, j storage.ExportJob) (content []byte, rows int, failure string) {
	x, ok := w.listExports()[j.Kind]
	if !ok {
		return nil, 0, "unknown kind"
	}
	p, err := w.store.PrincipalForUser(ctx, j.UserID)
	if err != nil || !access.MayExportList(p, j.Kind) {
		return nil, 0, "not allowed"
	}
	a := audit.Actor{Principal: p, RequestID: "export-" + strconv.FormatInt(j.ID, 10)}
	v, _ := url.ParseQuery(j.Filter)
	l := w.cat.For(i18n.Lang(j.Lang))
	all := [][]string{x.head(l)}
	if err := x.rows(ctx, a, l, v, func(row []string) bool {
		all = append(all, row)
		return len(all) <= exportJobRowLimit
	}); err != nil {
		w.log.Error("export job failed", "job", j.ID, "err", err)
		return nil, 0, "the list could not be read"
	}
	var buf bytes.Buffer
	if err := xlsxTo(&buf, "Dayaq", all); err != nil {
		return nil, 0, "the file could not be written"
	}
	return buf.Bytes(), len(all) - 1, ""
}
