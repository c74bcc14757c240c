package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/blob"
	"dayaq/internal/casework"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

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
		t, ok := surface.ParseTime(in.DetectedAt)
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
// transaction that stores the answer, so a 201 means committed. Contacts
// reach the same mechanism (storage.idempotentTx) inside their group
// commit; every create reads its key with storage.IdempotencyKey.
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

func (a *API) listCases(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	q, fs := surface.CaseQueryFrom(r.URL.Query(), act.UserID, func(code string) (int64, bool) {
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
		t, ok := surface.ParseTime(in.ReviewAt)
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
		t, ok := surface.ParseTime(in.Due)
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

func (a *API) addCaseAttachment(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	name, contentType, data, err := surface.ReadAttachmentUpload(w, r)
	if err != nil {
		return err
	}
	at, err := surface.StoreAttachment(r.Context(), a.vault, a.store, act, id, name, contentType, data)
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
	at, data, err := surface.LoadAttachment(r.Context(), a.vault, a.store, act, id, aid)
	if err != nil {
		return err
	}
	return surface.ServeAttachment(w, at, data)
}
