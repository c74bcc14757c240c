package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/blob"
	"dayaq/internal/calendar"
	"dayaq/internal/casework"
	"dayaq/internal/storage"
)

// CaseStore is what the case routes need of storage.
type CaseStore interface {
	Idempotent(ctx context.Context, a audit.Actor, key, fingerprint string, fn func(ctx context.Context, tx storage.Tx) (storage.Response, error)) (storage.Response, error)
	CaseFor(ctx context.Context, a audit.Actor, id int64) (storage.CaseDetail, error)
	ListCases(ctx context.Context, a audit.Actor, q storage.CaseQuery) (storage.CasePage, error)
	UpdateCase(ctx context.Context, a audit.Actor, id int64, version int, e casework.Edit) (storage.CaseRecord, error)
	TransitionCase(ctx context.Context, a audit.Actor, id int64, version int, m casework.Move) (storage.CaseRecord, error)
	AddCaseNote(ctx context.Context, a audit.Actor, caseID int64, body string) (storage.CaseNote, error)
	AddCaseTask(ctx context.Context, a audit.Actor, caseID int64, nt storage.NewTask) (storage.CaseTask, error)
	SetCaseTaskStatus(ctx context.Context, a audit.Actor, caseID, taskID int64, version int, status string) (storage.CaseTask, error)
	CanWriteCase(ctx context.Context, a audit.Actor, id int64) error
	AddCaseAttachment(ctx context.Context, a audit.Actor, at storage.Attachment) (storage.Attachment, error)
	CaseAttachmentFor(ctx context.Context, a audit.Actor, caseID, attID int64) (storage.Attachment, error)
}

// MaxAttachment is the largest file a case takes.
const MaxAttachment = 20 << 20

// WithVault sets where attachments' encrypted bytes go; without one,
// uploads and downloads answer 503.
func (a *API) WithVault(v *blob.Vault) *API {
	a.vault = v
	return a
}

// caseRoutes are the special cases' routes.
func (a *API) caseRoutes() []Route {
	return []Route{
		{"POST", Prefix + "/cases", a.createCase},
		{"GET", Prefix + "/cases", a.listCases},
		{"GET", Prefix + "/cases/{id}", a.getCase},
		{"PATCH", Prefix + "/cases/{id}", a.updateCase},
		{"POST", Prefix + "/cases/{id}/transitions", a.transitionCase},
		{"POST", Prefix + "/cases/{id}/notes", a.addCaseNote},
		{"POST", Prefix + "/cases/{id}/tasks", a.addCaseTask},
		{"PATCH", Prefix + "/cases/{id}/tasks/{tid}", a.updateCaseTask},
		{"POST", Prefix + "/cases/{id}/attachments", a.addCaseAttachment},
		{"GET", Prefix + "/cases/{id}/attachments/{aid}", a.getCaseAttachment},
	}
}

type caseChildJSON struct {
	ID      int64  `json:"id"`
	Name    string `json:"name,omitempty"`
	Class   string `json:"class,omitempty"`
	School  string `json:"school_code,omitempty"`
	View    string `json:"view"`
	Visible bool   `json:"visible"`
}

type orgRefJSON struct {
	ID     int64  `json:"id"`
	Code   string `json:"code"`
	NameAZ string `json:"name_az"`
	NameRU string `json:"name_ru,omitempty"`
	NameEN string `json:"name_en,omitempty"`
}

// caseJSON is a case as its reader may see it.
type caseJSON struct {
	ID              int64             `json:"id"`
	Type            string            `json:"type"`
	TaxonomyVersion int               `json:"taxonomy_version"`
	Severity        casework.Severity `json:"severity"`
	Status          casework.Status   `json:"status"`
	Title           string            `json:"title"`
	Summary         string            `json:"summary"`
	Source          casework.Source   `json:"source"`
	LeadOrg         *orgRefJSON       `json:"lead_org,omitempty"`
	OwnerID         int64             `json:"owner_id,omitempty"`
	OwnerName       string            `json:"owner_name,omitempty"`
	School          *orgRefJSON       `json:"school,omitempty"`
	District        string            `json:"district_code,omitempty"`
	CreatedBy       int64             `json:"created_by,omitempty"`
	Children        []caseChildJSON   `json:"children"`
	DetectedAt      string            `json:"detected_at"`
	ReportDue       string            `json:"report_due,omitempty"`
	RespondDue      string            `json:"respond_due,omitempty"`
	ResolveDue      string            `json:"resolve_due,omitempty"`
	ReviewAt        string            `json:"review_at,omitempty"`
	Due             string            `json:"due,omitempty"`
	Overdue         bool              `json:"overdue"`
	ReportedLate    bool              `json:"reported_late"`
	ClosureReason   string            `json:"closure_reason,omitempty"`
	ClosureOutcome  casework.Outcome  `json:"closure_outcome,omitempty"`
	ClosedAt        string            `json:"closed_at,omitempty"`
	Version         int               `json:"version"`
	CreatedAt       string            `json:"created_at"`
	UpdatedAt       string            `json:"updated_at"`
	CanWrite        bool              `json:"can_write"`
	Transitions     []casework.Status `json:"transitions"`
}

func rfc(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func toCaseJSON(r storage.CaseRecord, now time.Time) caseJSON {
	j := caseJSON{ID: r.ID, Type: r.Type, TaxonomyVersion: r.TaxonomyVersion, Severity: r.Severity, Status: r.Status,
		Title: r.Title, Summary: r.Summary, Source: r.Source, OwnerID: r.OwnerID, OwnerName: r.OwnerName,
		District: r.District, CreatedBy: r.CreatedBy, DetectedAt: rfc(r.DetectedAt), ReportDue: rfc(r.ReportDue),
		RespondDue: rfc(r.RespondDue), ResolveDue: rfc(r.ResolveDue), ReviewAt: rfc(r.ReviewAt), Due: rfc(r.Due()),
		Overdue: r.Overdue(now), ReportedLate: r.ReportedLate(), ClosureReason: r.ClosureReason,
		ClosureOutcome: r.ClosureOutcome, ClosedAt: rfc(r.ClosedAt), Version: r.Version, CreatedAt: rfc(r.CreatedAt),
		UpdatedAt: rfc(r.UpdatedAt), CanWrite: r.CanWrite, Transitions: r.Transitions, Children: []caseChildJSON{}}
	if j.Transitions == nil {
		j.Transitions = []casework.Status{}
	}
	if r.LeadOrgID != 0 {
		j.LeadOrg = &orgRefJSON{r.LeadOrg.ID, r.LeadOrg.Code, r.LeadOrg.NameAZ, r.LeadOrg.NameRU, r.LeadOrg.NameEN}
	}
	if r.SchoolID != 0 {
		j.School = &orgRefJSON{r.School.ID, r.School.Code, r.School.NameAZ, r.School.NameRU, r.School.NameEN}
	}
	for _, ch := range r.Children {
		cj := caseChildJSON{ID: ch.ID, View: ViewName(ch.Decision.View), Visible: ch.Decision.Allowed}
		if ch.Decision.Allowed {
			cj.Name, cj.Class = ch.FullName(), ch.Class()
			if ch.Decision.View >= access.ViewShared {
				cj.School = ch.School.Code
			}
		}
		j.Children = append(j.Children, cj)
	}
	return j
}

type caseEventJSON struct {
	ID        int64          `json:"id"`
	At        string         `json:"at"`
	ActorID   int64          `json:"actor_id,omitempty"`
	ActorName string         `json:"actor_name,omitempty"`
	Kind      string         `json:"kind"`
	Payload   map[string]any `json:"payload"`
}

type caseNoteJSON struct {
	ID         int64  `json:"id"`
	AuthorID   int64  `json:"author_id,omitempty"`
	AuthorName string `json:"author_name,omitempty"`
	Body       string `json:"body"`
	CreatedAt  string `json:"created_at"`
}

type caseTaskJSON struct {
	ID           int64  `json:"id"`
	Title        string `json:"title"`
	AssigneeID   int64  `json:"assignee_id,omitempty"`
	AssigneeName string `json:"assignee_name,omitempty"`
	Due          string `json:"due,omitempty"`
	Status       string `json:"status"`
	Overdue      bool   `json:"overdue"`
	Version      int    `json:"version"`
	CreatedAt    string `json:"created_at"`
}

type attachmentJSON struct {
	ID           int64  `json:"id"`
	Name         string `json:"name"`
	ContentType  string `json:"content_type"`
	Size         int64  `json:"size"`
	SHA256       string `json:"sha256"`
	UploadedBy   int64  `json:"uploaded_by,omitempty"`
	UploaderName string `json:"uploader_name,omitempty"`
	CreatedAt    string `json:"created_at"`
	URL          string `json:"url"`
}

type caseDetailJSON struct {
	caseJSON
	Chronology  []caseEventJSON  `json:"chronology"`
	Notes       []caseNoteJSON   `json:"notes"`
	Tasks       []caseTaskJSON   `json:"tasks"`
	Attachments []attachmentJSON `json:"attachments"`
	Contacts    []int64          `json:"contact_ids"`
}

func toNoteJSON(n storage.CaseNote) caseNoteJSON {
	return caseNoteJSON{n.ID, n.AuthorID, n.AuthorName, n.Body, rfc(n.CreatedAt)}
}

func toTaskJSON(t storage.CaseTask, now time.Time) caseTaskJSON {
	return caseTaskJSON{t.ID, t.Title, t.AssigneeID, t.AssigneeName, rfc(t.Due), t.Status, t.Overdue(now), t.Version, rfc(t.CreatedAt)}
}

func toAttachmentJSON(at storage.Attachment) attachmentJSON {
	return attachmentJSON{at.ID, at.Name, at.ContentType, at.Size, at.SHA256, at.UploadedBy, at.UploaderName, rfc(at.CreatedAt),
		fmt.Sprintf("%s/cases/%d/attachments/%d", Prefix, at.CaseID, at.ID)}
}

func toCaseDetailJSON(d storage.CaseDetail, now time.Time) caseDetailJSON {
	j := caseDetailJSON{caseJSON: toCaseJSON(d.CaseRecord, now), Chronology: []caseEventJSON{}, Notes: []caseNoteJSON{},
		Tasks: []caseTaskJSON{}, Attachments: []attachmentJSON{}, Contacts: d.Contacts}
	if j.Contacts == nil {
		j.Contacts = []int64{}
	}
	for _, e := range d.Events {
		j.Chronology = append(j.Chronology, caseEventJSON{e.ID, rfc(e.At), e.ActorID, e.ActorName, e.Kind, e.Payload})
	}
	for _, n := range d.Notes {
		j.Notes = append(j.Notes, toNoteJSON(n))
	}
	for _, t := range d.Tasks {
		j.Tasks = append(j.Tasks, toTaskJSON(t, now))
	}
	for _, at := range d.Attachments {
		j.Attachments = append(j.Attachments, toAttachmentJSON(at))
	}
	return j
}

// caseInput is a new case as clients send it.
type caseInput struct {
	Type            string  `json:"type"`
	TaxonomyVersion int     `json:"taxonomy_version"`
	Severity        string  `json:"severity"`
	Title           string  `json:"title"`
	Summary         string  `json:"summary"`
	ChildIDs        []int64 `json:"child_ids"`
	SchoolCode      string  `json:"school_code"`
	LeadOrgCode     string  `json:"lead_org_code"`
	OwnerID         int64   `json:"owner_id"`
	DetectedAt      string  `json:"detected_at"`
}

// ParseTime reads an instant as RFC 3339, or a date (midnight UTC), or a
// local date-time as an HTML form sends it ("2026-11-25T14:30", UTC).
func ParseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// orgIDByCode resolves an organisation code for field, adding an error to
// fs when there is no such organisation.
func (a *API) orgIDByCode(ctx context.Context, code, field string, fs *[]apperr.FieldError) int64 {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return 0
	}
	o, err := a.store.OrgByCode(ctx, code)
	if err != nil {
		*fs = append(*fs, apperr.Field(field, "case.error.org_unknown"))
		return 0
	}
	return o.ID
}

func (in caseInput) newCase(ctx context.Context, a *API) (casework.NewCase, []apperr.FieldError) {
	var fs []apperr.FieldError
	n := casework.NewCase{Type: in.Type, TaxonomyVersion: in.TaxonomyVersion, Severity: casework.Severity(strings.TrimSpace(in.Severity)),
		Title: in.Title, Summary: in.Summary, ChildIDs: in.ChildIDs, OwnerID: in.OwnerID}
	n.SchoolID = a.orgIDByCode(ctx, in.SchoolCode, "school_code", &fs)
	n.LeadOrgID = a.orgIDByCode(ctx, in.LeadOrgCode, "lead_org_code", &fs)
	if in.DetectedAt != "" {
		t, ok := ParseTime(in.DetectedAt)
		if !ok {
			fs = append(fs, apperr.Field("detected_at", "case.error.time_format"))
		}
		n.DetectedAt = t
	}
	return n, fs
}

// readBody reads a JSON request body of at most 1 MiB.
func readBody(r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20+1))
	if err != nil {
		return nil, &apperr.Error{Code: apperr.Invalid, Key: "error.json", Err: err}
	}
	if len(b) > 1<<20 {
		return nil, apperr.New(apperr.Invalid, "error.json")
	}
	return b, nil
}

// Idempotently answers a create request: with an Idempotency-Key header, a
// retry of the same request returns the first answer (marked
// Idempotent-Replayed: true) and creates nothing; fn runs in the same
// transaction that stores the answer, so a 201 means committed. Other
// features' creates (contacts) use it the same way.
func (a *API) idempotently(w http.ResponseWriter, r *http.Request, act audit.Actor, body []byte,
	fn func(ctx context.Context, tx storage.Tx) (storage.Response, error)) error {
	key := r.Header.Get("Idempotency-Key")
	res, err := a.store.Idempotent(r.Context(), act, key, storage.Fingerprint(r.Method, r.URL.Path, body), fn)
	if err != nil {
		return err
	}
	if res.Location != "" {
		w.Header().Set("Location", res.Location)
	}
	if res.Replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(res.Status)
	_, err = w.Write(res.Body)
	return err
}

func (a *API) createCase(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var in caseInput
	if err := decode(&http.Request{Body: io.NopCloser(bytes.NewReader(body))}, &in); err != nil {
		return err
	}
	n, fs := in.newCase(r.Context(), a)
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	now := a.now()
	return a.idempotently(w, r, act, body, func(ctx context.Context, tx storage.Tx) (storage.Response, error) {
		rec, err := tx.CreateCase(ctx, act, n)
		if err != nil {
			return storage.Response{}, err
		}
		b, err := json.Marshal(toCaseJSON(rec, now))
		if err != nil {
			return storage.Response{}, err
		}
		w.Header().Set("ETag", etag(rec.Version))
		return storage.Response{Status: http.StatusCreated, Location: fmt.Sprintf("%s/cases/%d", Prefix, rec.ID), Body: append(b, '\n')}, nil
	})
}

func (a *API) getCase(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	d, err := a.store.CaseFor(r.Context(), act, id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(d.Version))
	return writeJSON(w, http.StatusOK, toCaseDetailJSON(d, a.now()))
}

// CaseQueryFrom reads the list filters from a query string: status (a
// comma-separated list, or "open"), severity, type, district, school (a
// code), owner (a user ID or "me"), lead (an organisation code),
// overdue=true, after, limit. Organisation codes are resolved by orgID.
func CaseQueryFrom(v url.Values, me int64, orgID func(code string) (int64, bool)) (storage.CaseQuery, []apperr.FieldError) {
	var q storage.CaseQuery
	var fs []apperr.FieldError
	for s := range strings.SplitSeq(v.Get("status"), ",") {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
		case s == "open":
			q.OpenOnly = true
		case casework.Status(s).Valid():
			q.Statuses = append(q.Statuses, casework.Status(s))
		default:
			fs = append(fs, apperr.Field("status", "case.error.status"))
		}
	}
	if s := strings.TrimSpace(v.Get("severity")); s != "" {
		if q.Severity = casework.Severity(s); !q.Severity.Valid() {
			fs = append(fs, apperr.Field("severity", "case.error.severity"))
		}
	}
	if s := strings.ToLower(strings.TrimSpace(v.Get("type"))); s != "" {
		if !casework.ValidType(s) {
			fs = append(fs, apperr.Field("type", "case.error.type"))
		}
		q.Type = s
	}
	q.District = strings.ToUpper(strings.TrimSpace(v.Get("district")))
	if s := strings.TrimSpace(v.Get("school")); s != "" {
		id, ok := orgID(s)
		if !ok {
			fs = append(fs, apperr.Field("school", "case.error.school_unknown"))
		}
		q.SchoolID = id
	}
	if s := strings.TrimSpace(v.Get("lead")); s != "" {
		id, ok := orgID(s)
		if !ok {
			fs = append(fs, apperr.Field("lead", "case.error.org_unknown"))
		}
		q.LeadOrgID = id
	}
	switch s := strings.TrimSpace(v.Get("owner")); s {
	case "":
	case "me":
		q.OwnerID = me
	default:
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			fs = append(fs, apperr.Field("owner", "error.number"))
		}
		q.OwnerID = id
	}
	switch v.Get("overdue") {
	case "", "false":
	case "true", "1":
		q.Overdue = true
	default:
		fs = append(fs, apperr.Field("overdue", "case.error.boolean"))
	}
	for _, k := range []string{"from", "to"} {
		s := strings.TrimSpace(v.Get(k))
		if s == "" {
			continue
		}
		d, err := time.ParseInLocation(time.DateOnly, s, calendar.Baku())
		if err != nil {
			fs = append(fs, apperr.Field(k, "stats.error.date"))
			continue
		}
		if k == "from" {
			q.From = d.UTC()
		} else {
			q.To = d.AddDate(0, 0, 1).UTC() // the whole last day
		}
	}
	if s := v.Get("after"); s != "" {
		if _, _, _, ok := storage.ParseCaseCursor(s); !ok {
			fs = append(fs, apperr.Field("after", "error.cursor"))
		}
		q.After = s
	}
	return q, fs
}

func (a *API) listCases(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	q, fs := CaseQueryFrom(r.URL.Query(), act.UserID, func(code string) (int64, bool) {
		o, err := a.store.OrgByCode(r.Context(), strings.ToUpper(code))
		return o.ID, err == nil
	})
	limit, err := page(r, 20, 200)
	if err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	q.Limit = limit
	pg, err := a.store.ListCases(r.Context(), act, q)
	if err != nil {
		return err
	}
	now := a.now()
	p := listPage[caseJSON]{Items: make([]caseJSON, 0, len(pg.Cases))}
	for _, rec := range pg.Cases {
		p.Items = append(p.Items, toCaseJSON(rec, now))
	}
	if pg.Next != "" {
		p.Next = &pg.Next
	}
	return writeJSON(w, http.StatusOK, p)
}

// caseEditInput is a PATCH of a case: absent fields stay.
type caseEditInput struct {
	Title           *string `json:"title"`
	Summary         *string `json:"summary"`
	Type            *string `json:"type"`
	TaxonomyVersion *int    `json:"taxonomy_version"`
	Severity        *string `json:"severity"`
	LeadOrgCode     *string `json:"lead_org_code"`
	OwnerID         *int64  `json:"owner_id"`
}

func (a *API) updateCase(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in caseEditInput
	if err := decode(r, &in); err != nil {
		return err
	}
	e := casework.Edit{Title: in.Title, Summary: in.Summary, Type: in.Type, TaxonomyVersion: in.TaxonomyVersion, OwnerID: in.OwnerID}
	var fs []apperr.FieldError
	if in.Severity != nil {
		s := casework.Severity(strings.TrimSpace(*in.Severity))
		e.Severity = &s
	}
	if in.LeadOrgCode != nil {
		lead := a.orgIDByCode(r.Context(), *in.LeadOrgCode, "lead_org_code", &fs)
		e.LeadOrgID = &lead
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	rec, err := a.store.UpdateCase(r.Context(), act, id, version, e)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, toCaseJSON(rec, a.now()))
}

// transitionInput is a requested move.
type transitionInput struct {
	To          string `json:"to"`
	Severity    string `json:"severity"`
	LeadOrgCode string `json:"lead_org_code"`
	OwnerID     int64  `json:"owner_id"`
	Reason      string `json:"reason"`
	Outcome     string `json:"outcome"`
	ReviewAt    string `json:"review_at"`
	Note        string `json:"note"`
}

// Move turns the input into a casework.Move, resolving the lead body.
func (in transitionInput) move(ctx context.Context, a *API) (casework.Move, []apperr.FieldError) {
	var fs []apperr.FieldError
	m := casework.Move{To: casework.Status(strings.TrimSpace(in.To)), Severity: casework.Severity(strings.TrimSpace(in.Severity)),
		OwnerID: in.OwnerID, Reason: in.Reason, Outcome: casework.Outcome(strings.TrimSpace(in.Outcome)), Note: in.Note}
	if m.To == "" {
		fs = append(fs, apperr.Field("to", "error.required"))
	}
	m.LeadOrgID = a.orgIDByCode(ctx, in.LeadOrgCode, "lead_org_code", &fs)
	if in.ReviewAt != "" {
		t, ok := ParseTime(in.ReviewAt)
		if !ok {
			fs = append(fs, apperr.Field("review_at", "case.error.time_format"))
		}
		m.ReviewAt = t
	}
	return m, fs
}

func (a *API) transitionCase(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in transitionInput
	if err := decode(r, &in); err != nil {
		return err
	}
	m, fs := in.move(r.Context(), a)
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	rec, err := a.store.TransitionCase(r.Context(), act, id, version, m)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, toCaseJSON(rec, a.now()))
}

func (a *API) addCaseNote(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	n, err := a.store.AddCaseNote(r.Context(), act, id, in.Body)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, toNoteJSON(n))
}

func (a *API) addCaseTask(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	var in struct {
		Title      string `json:"title"`
		AssigneeID int64  `json:"assignee_id"`
		Due        string `json:"due"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	nt := storage.NewTask{Title: in.Title, AssigneeID: in.AssigneeID}
	if in.Due != "" {
		t, ok := ParseTime(in.Due)
		if !ok {
			return apperr.Validation(apperr.Field("due", "case.error.time_format"))
		}
		nt.Due = t
	}
	t, err := a.store.AddCaseTask(r.Context(), act, id, nt)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(t.Version))
	return writeJSON(w, http.StatusCreated, toTaskJSON(t, a.now()))
}

func (a *API) updateCaseTask(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	tid, err := strconv.ParseInt(r.PathValue("tid"), 10, 64)
	if err != nil || tid <= 0 {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in struct {
		Status string `json:"status"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := a.store.SetCaseTaskStatus(r.Context(), act, id, tid, version, in.Status)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(t.Version))
	return writeJSON(w, http.StatusOK, toTaskJSON(t, a.now()))
}

// StoreAttachment encrypts and stores an uploaded file for case caseID and
// records it: the check that a may add to the case comes first, the
// metadata (and its audit event) last; if recording fails, the stored
// blob is removed. The web UI uses it too.
func StoreAttachment(ctx context.Context, v *blob.Vault, st CaseStore, a audit.Actor, caseID int64, name, contentType string, data []byte) (storage.Attachment, error) {
	if v == nil {
		return storage.Attachment{}, apperr.New(apperr.Unavailable, "case.error.attachments_off")
	}
	if err := st.CanWriteCase(ctx, a, caseID); err != nil {
		return storage.Attachment{}, err
	}
	name = strings.TrimSpace(filepath.Base(strings.ReplaceAll(name, `\`, "/")))
	if name == "" || name == "." || name == "/" {
		return storage.Attachment{}, apperr.Validation(apperr.Field("file", "error.required"))
	}
	if len([]rune(name)) > 200 {
		name = string([]rune(name)[:200])
	}
	if mt, _, err := mime.ParseMediaType(contentType); err == nil {
		contentType = mt
	} else {
		contentType = "application/octet-stream"
	}
	sum := sha256.Sum256(data)
	at := storage.Attachment{CaseID: caseID, Name: name, ContentType: contentType, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), BlobKey: blob.NewBlobKey()}
	if err := v.Put(ctx, at.BlobKey, data); err != nil {
		return storage.Attachment{}, fmt.Errorf("store attachment: %w", err)
	}
	saved, err := st.AddCaseAttachment(ctx, a, at)
	if err != nil {
		_ = v.Delete(context.WithoutCancel(ctx), at.BlobKey)
		return storage.Attachment{}, err
	}
	return saved, nil
}

// LoadAttachment returns an attachment's metadata and decrypted bytes, if a
// may read the case (the download is audited). A blob that fails to
// decrypt is an internal error: it was tampered with.
func LoadAttachment(ctx context.Context, v *blob.Vault, st CaseStore, a audit.Actor, caseID, attID int64) (storage.Attachment, []byte, error) {
	if v == nil {
		return storage.Attachment{}, nil, apperr.New(apperr.Unavailable, "case.error.attachments_off")
	}
	at, err := st.CaseAttachmentFor(ctx, a, caseID, attID)
	if err != nil {
		return at, nil, err
	}
	data, err := v.Get(ctx, at.BlobKey)
	if errors.Is(err, blob.ErrNotFound) {
		return at, nil, &apperr.Error{Code: apperr.Internal, Key: "case.error.attachment_lost", Err: err}
	}
	if err != nil {
		return at, nil, &apperr.Error{Code: apperr.Internal, Key: "case.error.attachment_damaged", Err: err}
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != at.SHA256 {
		return at, nil, &apperr.Error{Code: apperr.Internal, Key: "case.error.attachment_damaged", Err: blob.ErrTampered}
	}
	return at, data, nil
}

// ServeAttachment writes a file as a download, never rendered inline.
func ServeAttachment(w http.ResponseWriter, at storage.Attachment, data []byte) error {
	h := w.Header()
	h.Set("Content-Type", at.ContentType)
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": at.Name}))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "private, no-store")
	h.Set("Content-Length", strconv.Itoa(len(data)))
	_, err := w.Write(data)
	return err
}

func (a *API) addCaseAttachment(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, MaxAttachment+1<<20)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return apperr.Validation(apperr.Field("file", "case.error.file_too_big", MaxAttachment>>20))
		}
		return apperr.Validation(apperr.Field("file", "error.required"))
	}
	defer f.Close()
	data, tooBig, err := blob.ReadAllLimited(f, MaxAttachment)
	if err != nil {
		return err
	}
	if tooBig {
		return apperr.Validation(apperr.Field("file", "case.error.file_too_big", MaxAttachment>>20))
	}
	at, err := StoreAttachment(r.Context(), a.vault, a.store, act, id, hdr.Filename, hdr.Header.Get("Content-Type"), data)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/cases/%d/attachments/%d", Prefix, id, at.ID))
	return writeJSON(w, http.StatusCreated, toAttachmentJSON(at))
}

func (a *API) getCaseAttachment(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	aid, err := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err != nil || aid <= 0 {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	at, data, err := LoadAttachment(r.Context(), a.vault, a.store, act, id, aid)
	if err != nil {
		return err
	}
	return ServeAttachment(w, at, data)
}
