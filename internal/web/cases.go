package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/casework"
	"dayaq/internal/httpx"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// CaseStore is what the case pages need of storage.
type CaseStore interface {
	surface.CaseStore
	CreateCase(ctx context.Context, a audit.Actor, n casework.NewCase) (storage.CaseRecord, error)
	NavCounts(ctx context.Context, a audit.Actor) (storage.NavCounts, error)
	CaseOwners(ctx context.Context, orgID int64) ([]storage.UserRef, error)
	CaseDeadlines() casework.Deadlines
}

func (w *Web) caseRoutes() []route {
	return []route{
		{"GET /cases", w.signedIn(w.caseQueues)},
		{"GET /cases/new", w.signedIn(w.caseNew)},
		{"POST /cases/new", w.signedIn(w.caseCreate)},
		{"GET /cases/{id}", w.signedIn(w.casePage)},
		{"POST /cases/{id}/transition", w.signedIn(w.caseTransition)},
		{"POST /cases/{id}/notes", w.signedIn(w.caseNote)},
		{"POST /cases/{id}/tasks", w.signedIn(w.caseTask)},
		{"POST /cases/{id}/tasks/{tid}", w.signedIn(w.caseTaskStatus)},
		{"POST /cases/{id}/attachments", w.signedIn(w.caseAttach)},
		{"GET /cases/{id}/attachments/{aid}", w.signedIn(w.caseDownload)},
	}
}

// caseBadges puts the case queues' counts beside "Special cases" in the
// navigation: new cases and overdue ones the user may see, each counted
// only up to storage.CountCap.
func (w *Web) caseBadges(r *http.Request, p *Page) {
	if !p.counted {
		return
	}
	qc := p.Queues
	for i := range p.Nav {
		if p.Nav[i].Slug == "cases" {
			p.Nav[i].Badges = []Badge{{Count: countText(qc.New), Label: p.L.T("case.queue.new"), Kind: "new"},
				{Count: countText(qc.Overdue), Label: p.L.T("case.queue.overdue"), Kind: "overdue"}}
		}
		if p.Nav[i].Slug == "screening" { // the register: proposals to decide and reviews overdue
			p.Nav[i].Badges = []Badge{{Count: countText(p.Register), Label: p.L.T("screening.nav.awaiting"), Kind: "new"}}
		}
	}
}

// Badge is a count shown beside a navigation entry.
type Badge struct {
	Count string // "" hides it
	Label string
	Kind  string
}

func countText(n int) string {
	switch {
	case n == 0:
		return ""
	case n >= storage.CountCap:
		return strconv.Itoa(storage.CountCap-1) + "+"
	}
	return strconv.Itoa(n)
}

// Queue is one tab of the case queues.
type Queue struct {
	Key     string // new, mine, overdue, city, school, all
	Label   string
	Count   string
	Current bool
}

// caseQueuesData is the queues page.
type caseQueuesData struct {
	Queues    []Queue
	Queue     string
	Cases     []caseRow
	Next      string
	Filter    url.Values
	Errors    map[string]string
	CanReport bool
	Now       time.Time
	Statuses  []option // the status filter's choices, the one asked for selected
	Sevs      []option // the severity filter's
}

// FieldError is the message for a filter field.
func (d caseQueuesData) FieldError(name string) string { return d.Errors[name] }

// caseRow is one case of the list as the page shows it, its labels and
// dates put into words once here: the template then only writes fields,
// instead of calling the catalogue and the clock through reflection
// five times a row (a third of the page's time, ADR 0048).
type caseRow struct {
	ID                         int64
	Title, Type                string
	Severity                   casework.Severity
	SeverityLabel, StatusLabel string
	School                     string // the school's code, "" for none
	Due, Created               string // "" for no deadline
	Overdue                    string // the "overdue" mark, "" when the deadline has not passed
}

// filterOptions are a filter's choices vs, named from the catalogue under
// prefix, with the one asked for (asked) selected.
func filterOptions[T ~string](p Page, prefix string, vs []T, asked string) []option {
	out := make([]option, len(vs))
	for i, v := range vs {
		out[i] = option{Value: string(v), Label: p.L.T(prefix + string(v)), Selected: string(v) == asked}
	}
	return out
}

// caseRows are the rows of cs for page p at now.
func caseRows(p Page, cs []storage.CaseRecord, now time.Time) []caseRow {
	rows := make([]caseRow, len(cs))
	overdue := p.L.T("case.overdue")
	for i, k := range cs {
		rows[i] = caseRow{ID: k.ID, Title: k.Title, Type: k.Type, Severity: k.Severity,
			SeverityLabel: p.L.T("case.severity." + string(k.Severity)),
			StatusLabel:   p.L.T("case.status." + string(k.Status)),
			School:        k.School.Code, Due: when(k.Due()), Created: when(k.CreatedAt)}
		if k.Overdue(now) {
			rows[i].Overdue = overdue
		}
	}
	return rows
}

// queuesFor are the tabs p sees: the city's queue for the city unit, the
// school's for a school, and for everyone new, mine, overdue and all.
func queuesFor(p access.Principal) []string {
	qs := []string{"new", "mine", "overdue"}
	switch p.OrgType {
	case org.CityDepartment, org.District:
		qs = append([]string{"city"}, qs...)
	case org.School:
		qs = append([]string{"school"}, qs...)
	}
	return append(qs, "all")
}

// queueQuery is the storage query of a queue for p.
func queueQuery(queue string, p access.Principal) storage.CaseQuery {
	switch queue {
	case "new":
		return storage.CaseQuery{Statuses: []casework.Status{casework.New, casework.Reopened}}
	case "mine":
		return storage.CaseQuery{OpenOnly: true, OwnerID: p.UserID}
	case "overdue":
		return storage.CaseQuery{OpenOnly: true, Overdue: true}
	case "school":
		return storage.CaseQuery{OpenOnly: true, SchoolID: p.OrgID}
	case "all":
		return storage.CaseQuery{}
	}
	return storage.CaseQuery{OpenOnly: true}
}

func (w *Web) caseQueues(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	p := w.page(r, "section.cases.title", nil)
	v := r.URL.Query()
	tabs := queuesFor(a.Principal)
	queue := v.Get("queue")
	if !slices.Contains(tabs, queue) {
		queue = tabs[0]
	}
	d := caseQueuesData{Queue: queue, Filter: v, CanReport: canReport(a.Principal), Now: w.store.Now(),
		Statuses: filterOptions(p, "case.status.", casework.Statuses(), v.Get("status")),
		Sevs:     filterOptions(p, "case.severity.", casework.Severities(), v.Get("severity")), Errors: map[string]string{}}
	if !p.counted {
		return fmt.Errorf("web: the case queues' counts could not be read")
	}
	qc := p.Queues // read once with the navigation's
	for _, t := range tabs {
		q := Queue{Key: t, Label: p.L.T("case.queue." + t), Current: t == queue}
		switch t {
		case "new":
			q.Count = countText(qc.New)
		case "mine":
			q.Count = countText(qc.Mine)
		case "overdue":
			q.Count = countText(qc.Overdue)
		}
		d.Queues = append(d.Queues, q)
	}
	q := queueQuery(queue, a.Principal)
	extra, fs := surface.CaseQueryFrom(v, a.UserID, func(code string) (int64, bool) {
		o, err := w.store.OrgByCode(r.Context(), strings.ToUpper(code))
		return o.ID, err == nil
	})
	for _, f := range fs {
		d.Errors[f.Field] = p.L.T(f.Key, f.Args...)
	}
	if len(fs) == 0 {
		if len(extra.Statuses) > 0 {
			q.Statuses, q.OpenOnly = extra.Statuses, false
		}
		q.Severity, q.Type, q.District, q.After = extra.Severity, extra.Type, extra.District, extra.After
		if extra.SchoolID != 0 {
			q.SchoolID = extra.SchoolID
		}
		// the filters the dashboards link with (internal/web/stats.go)
		q.From, q.To = extra.From, extra.To
		if extra.OwnerID != 0 {
			q.OwnerID = extra.OwnerID
		}
		if extra.LeadOrgID != 0 {
			q.LeadOrgID = extra.LeadOrgID
		}
		q.Overdue = q.Overdue || extra.Overdue
		q.Limit = 25
		pg, err := w.store.ListCases(r.Context(), a, q)
		if err != nil && apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
		d.Cases = caseRows(p, pg.Cases, d.Now)
		if pg.Next != "" {
			nv := url.Values{}
			for k, vs := range v {
				nv[k] = vs
			}
			nv.Set("queue", queue)
			nv.Set("after", pg.Next)
			d.Next = "/cases?" + nv.Encode()
		}
	}
	p.Data = d
	status := http.StatusOK
	if len(fs) > 0 {
		status = http.StatusUnprocessableEntity
	}
	return w.render(rw, status, "cases", p)
}

// canReport reports whether p may open a case at all.
func canReport(p access.Principal) bool {
	return access.DecideCase(p, access.Write, access.CaseFacts{CreatedBy: p.UserID}).Allowed
}

// caseForm is the report form: what was typed, and what is wrong.
type caseForm struct {
	Type, Severity, Title, Summary, DetectedAt, Children string
	Errors                                               map[string]string
	Alert                                                string
	Pupils                                               []storage.ChildRecord // a school's pupils to choose from
	School                                               bool
	Sevs                                                 []casework.Severity
	Types                                                []string
	Spans                                                []spanRow
}

// spanRow is one severity's deadlines, shown beside the form.
type spanRow struct {
	Severity         casework.Severity
	Report, Response string
}

// FieldError is the message for the named field.
func (f caseForm) FieldError(name string) string { return f.Errors[name] }

// suggestedTypes are the taxonomy codes the form offers; any code is accepted.
func suggestedTypes() []string {
	return []string{"violence.bullying", "violence.cyberbullying", "violence.physical", "violence.psychological",
		"violence.sexual", "violence.neglect", "violence.child_labour", "violence.child_marriage",
		"mental_health.emotional_distress", "mental_health.self_harm", "mental_health.suicidal",
		"mental_health.substance_use", "missing.runaway", "missing.lost", "education.truancy", "education.dropout",
		"family.relationships", "peer.relationships", "physical_health", "discrimination"}
}

func (w *Web) renderCaseForm(rw http.ResponseWriter, r *http.Request, status int, f caseForm, err error) error {
	p := w.page(r, "case.new.title", nil)
	a := authn.ActorFrom(r)
	if err != nil {
		e, st, keep := w.formFailure(rw, r, status, err)
		if !keep {
			return err
		}
		status = st
		f.Errors = fieldMessages(p.L, e, nil)
		if msg, ok := f.Errors["child_ids"]; ok {
			f.Errors["children"] = msg
		}
		f.Alert = p.L.T(e.Key, e.Args...)
	}
	f.School = a.OrgType == org.School
	if f.School {
		recs, lerr := w.store.ListChildren(r.Context(), a, storage.ChildQuery{SchoolID: a.OrgID, Limit: 200})
		if lerr != nil {
			return lerr
		}
		f.Pupils = recs
	}
	f.Sevs, f.Types = casework.Severities(), suggestedTypes()
	d := w.store.CaseDeadlines()
	for _, s := range f.Sevs {
		f.Spans = append(f.Spans, spanRow{s, durationText(p, d.By[s].Report), durationText(p, d.By[s].Respond)})
	}
	p.Data = f
	return w.render(rw, status, "case_form", p)
}

// durationText writes a span in hours or days.
func durationText(p Page, d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return p.L.N("case.span.days", int(d/(24*time.Hour)))
	}
	return p.L.N("case.span.hours", int(d/time.Hour))
}

func (w *Web) caseNew(rw http.ResponseWriter, r *http.Request) error {
	if !canReport(authn.PrincipalFrom(r.Context())) {
		return apperr.New(apperr.Forbidden, "case.error.no_create")
	}
	f := caseForm{Severity: string(casework.Medium), Children: r.URL.Query().Get("child")}
	return w.renderCaseForm(rw, r, http.StatusOK, f, nil)
}

func (w *Web) caseCreate(rw http.ResponseWriter, r *http.Request) error {
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	f := caseForm{Type: v("type"), Severity: v("severity"), Title: v("title"), Summary: v("summary"),
		DetectedAt: v("detected_at"), Children: strings.Join(r.PostForm["children"], ",")}
	var fs []apperr.FieldError
	n := casework.NewCase{Type: f.Type, Severity: casework.Severity(f.Severity), Title: f.Title, Summary: f.Summary}
	for s := range strings.SplitSeq(f.Children, ",") {
		if s = strings.TrimSpace(s); s == "" {
			continue
		}
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			fs = append(fs, apperr.Field("children", "case.error.child_ids"))
			break
		}
		n.ChildIDs = append(n.ChildIDs, id)
	}
	if f.DetectedAt != "" {
		t, ok := surface.ParseTime(f.DetectedAt)
		if !ok {
			fs = append(fs, apperr.Field("detected_at", "case.error.time_format"))
		}
		n.DetectedAt = t
	}
	if len(fs) > 0 {
		return w.renderCaseForm(rw, r, http.StatusUnprocessableEntity, f, apperr.Validation(fs...))
	}
	rec, err := w.store.CreateCase(r.Context(), authn.ActorFrom(r), n)
	if err != nil {
		return w.renderCaseForm(rw, r, statusOf(err), f, err)
	}
	http.Redirect(rw, r, fmt.Sprintf("/cases/%d", rec.ID), http.StatusSeeOther)
	return nil
}

// moveForm is one transition's form: what it needs, what was typed.
type moveForm struct {
	To                                           casework.Status
	Needs                                        []casework.Need
	Severity, Lead, Owner, Reason, Outcome, Note string
	ReviewAt                                     string
	Errors                                       map[string]string
	Open                                         bool // show it unfolded (it failed)
}

// Needs reports whether the form asks for n.
func (m moveForm) Has(n string) bool { return slices.Contains(m.Needs, casework.Need(n)) }

// FieldError is the message for the named field.
func (m moveForm) FieldError(name string) string { return m.Errors[name] }

// change is one difference between what a user saw and what the case is now.
type change struct{ Field, Was, Now string }

// casePageData is a case's page.
type casePageData struct {
	storage.CaseDetail
	Now          time.Time
	Moves        []moveForm
	Orgs         []org.Org         // lead bodies to choose from at triage
	Owners       []storage.UserRef // owners to choose from: staff of the lead body
	Outcomes     []casework.Outcome
	Sevs         []casework.Severity
	Alert        string
	Stale        []change // what changed since the user's page was loaded
	NoteBody     string
	NoteError    string
	TaskTitle    string
	TaskDue      string
	TaskAssignee string
	TaskErrors   map[string]string
	FileError    string
	Uploads      bool // an attachment key is configured
	Assignees    []storage.UserRef
	Propose      *proposeForm // proposes the case's pupils for the register
}

// seen are the facts of a case the page carries, to tell the user what
// changed when their form turns out stale.
func seenOf(r *http.Request) map[string]string {
	m := map[string]string{}
	for _, k := range []string{"status", "severity", "lead", "owner", "title"} {
		m[k] = r.PostFormValue("seen_" + k)
	}
	return m
}

func (w *Web) caseDetail(ctx context.Context, a audit.Actor, id int64) (casePageData, error) {
	d, err := w.store.CaseFor(ctx, a, id)
	if err != nil {
		return casePageData{}, err
	}
	pd := casePageData{CaseDetail: d, Now: w.store.Now(), Outcomes: casework.Outcomes(), Sevs: casework.Severities(),
		Uploads: w.vault != nil, Propose: caseProposeForm(d)}
	for _, to := range d.Transitions {
		mf := moveForm{To: to, Needs: casework.Needs(d.Status, to), Severity: string(d.Severity),
			Lead: d.LeadOrg.Code, Owner: strconv.FormatInt(d.OwnerID, 10)}
		pd.Moves = append(pd.Moves, mf)
	}
	if slices.Contains(d.Transitions, casework.Triaged) {
		if pd.Orgs, err = w.leadBodies(ctx, a.Principal, d); err != nil {
			return pd, err
		}
		lead := d.LeadOrgID
		if lead == 0 {
			lead = a.OrgID
		}
		if pd.Owners, err = w.store.CaseOwners(ctx, lead); err != nil {
			return pd, err
		}
	}
	if d.CanWrite {
		// Tasks go to people working the case: the lead body's staff, or the user's own colleagues.
		lead := d.LeadOrgID
		if lead == 0 {
			lead = a.OrgID
		}
		if pd.Assignees, err = w.store.CaseOwners(ctx, lead); err != nil {
			return pd, err
		}
	}
	return pd, nil
}

// leadBodies lists the bodies a case may be led by: the city department,
// the districts' departments, the partner bodies and the case's school.
func (w *Web) leadBodies(ctx context.Context, p access.Principal, d storage.CaseDetail) ([]org.Org, error) {
	var out []org.Org
	for _, t := range []org.Type{org.CityDepartment, org.District, org.Police, org.Health, org.SocialProtection,
		org.Commission, org.StateCommittee, org.Hotline} {
		os, err := w.store.Orgs(ctx, storage.OrgFilter{Type: t, Limit: 200})
		if err != nil {
			return nil, err
		}
		out = append(out, os...)
	}
	if d.SchoolID != 0 {
		if s, err := w.store.OrgByCode(ctx, d.School.Code); err == nil {
			out = append(out, s)
		}
	}
	return out, nil
}

func (w *Web) renderCase(rw http.ResponseWriter, r *http.Request, status int, pd casePageData) error {
	p := w.page(r, "case.title", pd)
	return w.render(rw, status, "case", p)
}

func (w *Web) casePage(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	pd, err := w.caseDetail(r.Context(), authn.ActorFrom(r), id)
	if err != nil {
		return err
	}
	if pd.Propose != nil {
		pd.Propose.Done = r.URL.Query().Get("proposed") != ""
	}
	return w.renderCase(rw, r, http.StatusOK, pd)
}

// formError turns err into the page's alert and field messages; internal
// errors go to the error page instead.
func (w *Web) formError(r *http.Request, err error) (alert string, fields map[string]string, ok bool) {
	e := apperr.As(err)
	if e.Code == apperr.Internal || e.Code == apperr.Unavailable && e.Key != "case.error.attachments_off" {
		return "", nil, false
	}
	l := w.cat.For(httpx.Lang(r.Context()))
	return l.T(e.Key, e.Args...), fieldMessages(l, e, nil), true
}

func (w *Web) caseTransition(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	v := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	version, _ := strconv.Atoi(v("version"))
	mf := moveForm{To: casework.Status(v("to")), Severity: v("severity"), Lead: v("lead_org"), Owner: v("owner"),
		Reason: v("reason"), Outcome: v("outcome"), Note: v("note"), ReviewAt: v("review_at"), Open: true}
	m := casework.Move{To: mf.To, Severity: casework.Severity(mf.Severity), Reason: mf.Reason,
		Outcome: casework.Outcome(mf.Outcome), Note: mf.Note}
	var fs []apperr.FieldError
	if mf.Lead != "" {
		o, err := w.store.OrgByCode(r.Context(), mf.Lead)
		if err != nil {
			fs = append(fs, apperr.Field("lead_org", "case.error.org_unknown"))
		}
		m.LeadOrgID = o.ID
	}
	if mf.Owner != "" && mf.Owner != "0" {
		if m.OwnerID, err = strconv.ParseInt(mf.Owner, 10, 64); err != nil {
			fs = append(fs, apperr.Field("owner", "case.error.owner_unknown"))
		}
	}
	if mf.ReviewAt != "" {
		t, ok := surface.ParseTime(mf.ReviewAt)
		if !ok {
			fs = append(fs, apperr.Field("review_at", "case.error.time_format"))
		}
		m.ReviewAt = t
	}
	if len(fs) == 0 {
		_, err = w.store.TransitionCase(r.Context(), a, id, version, m)
		if err == nil {
			http.Redirect(rw, r, fmt.Sprintf("/cases/%d", id), http.StatusSeeOther)
			return nil
		}
	} else {
		err = apperr.Validation(fs...)
	}
	alert, fields, ok := w.formError(r, err)
	if !ok {
		return err
	}
	pd, derr := w.caseDetail(r.Context(), a, id)
	if derr != nil {
		return derr
	}
	pd.Alert = alert
	if apperr.CodeOf(err) == apperr.Conflict {
		pd.Stale = w.changes(r, seenOf(r), pd.CaseDetail)
	}
	mf.Errors = fields
	for i := range pd.Moves {
		if pd.Moves[i].To == mf.To {
			mf.Needs = pd.Moves[i].Needs
			pd.Moves[i] = mf
		}
	}
	return w.renderCase(rw, r, statusOf(err), pd)
}

// changes lists what differs between what the user's page showed and the
// case now, in the user's words.
func (w *Web) changes(r *http.Request, seen map[string]string, d storage.CaseDetail) []change {
	l := w.cat.For(httpx.Lang(r.Context()))
	var cs []change
	add := func(field, was, now string) {
		if was != now {
			cs = append(cs, change{l.T("case.field." + field), was, now})
		}
	}
	st := func(s string) string {
		if s == "" {
			return "—"
		}
		return l.T("case.status." + s)
	}
	sv := func(s string) string {
		if s == "" {
			return "—"
		}
		return l.T("case.severity." + s)
	}
	add("status", st(seen["status"]), st(string(d.Status)))
	add("severity", sv(seen["severity"]), sv(string(d.Severity)))
	add("lead_org", orDash(seen["lead"]), orDash(d.LeadOrg.Code))
	add("owner", orDash(seen["owner"]), orDash(d.OwnerName))
	add("title", orDash(seen["title"]), d.Title)
	return cs
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func (w *Web) caseNote(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	body := r.PostFormValue("body")
	_, err = w.store.AddCaseNote(r.Context(), a, id, body)
	if err == nil {
		http.Redirect(rw, r, fmt.Sprintf("/cases/%d#notes", id), http.StatusSeeOther)
		return nil
	}
	alert, fields, ok := w.formError(r, err)
	if !ok {
		return err
	}
	pd, derr := w.caseDetail(r.Context(), a, id)
	if derr != nil {
		return derr
	}
	pd.Alert, pd.NoteBody, pd.NoteError = alert, body, fields["body"]
	return w.renderCase(rw, r, statusOf(err), pd)
}

func (w *Web) caseTask(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	title, due, who := r.PostFormValue("title"), strings.TrimSpace(r.PostFormValue("due")), r.PostFormValue("assignee")
	nt := storage.NewTask{Title: title}
	var fs []apperr.FieldError
	if due != "" {
		t, ok := surface.ParseTime(due)
		if !ok {
			fs = append(fs, apperr.Field("due", "case.error.time_format"))
		}
		nt.Due = t
	}
	if who != "" {
		nt.AssigneeID, _ = strconv.ParseInt(who, 10, 64)
	}
	if len(fs) == 0 {
		if _, err = w.store.AddCaseTask(r.Context(), a, id, nt); err == nil {
			http.Redirect(rw, r, fmt.Sprintf("/cases/%d#tasks", id), http.StatusSeeOther)
			return nil
		}
	} else {
		err = apperr.Validation(fs...)
	}
	alert, fields, ok := w.formError(r, err)
	if !ok {
		return err
	}
	pd, derr := w.caseDetail(r.Context(), a, id)
	if derr != nil {
		return derr
	}
	pd.Alert, pd.TaskTitle, pd.TaskDue, pd.TaskAssignee, pd.TaskErrors = alert, title, due, who, fields
	return w.renderCase(rw, r, statusOf(err), pd)
}

func (w *Web) caseTaskStatus(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	tid, err := strconv.ParseInt(r.PathValue("tid"), 10, 64)
	if err != nil || tid <= 0 {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	a := authn.ActorFrom(r)
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	_, err = w.store.SetCaseTaskStatus(r.Context(), a, id, tid, version, r.PostFormValue("status"))
	if err == nil {
		http.Redirect(rw, r, fmt.Sprintf("/cases/%d#tasks", id), http.StatusSeeOther)
		return nil
	}
	alert, _, ok := w.formError(r, err)
	if !ok {
		return err
	}
	pd, derr := w.caseDetail(r.Context(), a, id)
	if derr != nil {
		return derr
	}
	pd.Alert = alert
	return w.renderCase(rw, r, statusOf(err), pd)
}

func (w *Web) caseAttach(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	err = func() error {
		name, contentType, data, err := surface.ReadAttachmentUpload(rw, r)
		if err != nil {
			return err
		}
		_, err = surface.StoreAttachment(r.Context(), w.vault, w.store, a, id, name, contentType, data)
		return err
	}()
	if err == nil {
		http.Redirect(rw, r, fmt.Sprintf("/cases/%d#files", id), http.StatusSeeOther)
		return nil
	}
	alert, fields, ok := w.formError(r, err)
	if !ok {
		return err
	}
	pd, derr := w.caseDetail(r.Context(), a, id)
	if derr != nil {
		return derr
	}
	pd.Alert, pd.FileError = alert, fields["file"]
	if pd.FileError == "" {
		pd.FileError = alert
	}
	return w.renderCase(rw, r, statusOf(err), pd)
}

func (w *Web) caseDownload(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	aid, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil || aid <= 0 {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	at, data, err := surface.LoadAttachment(r.Context(), w.vault, w.store, authn.ActorFrom(r), id, aid)
	if err != nil {
		return err
	}
	return surface.ServeAttachment(rw, at, data)
}

// baku is Baku's time: UTC+4 all year since 2016.
func baku() *time.Location { return time.FixedZone("AZT", 4*60*60) }

// when shows an instant in Baku time, "" for none.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(baku()).Format("02.01.2006 15:04")
}
