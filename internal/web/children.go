package web

import (
	"context"
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
	"dayaq/internal/child"
	"dayaq/internal/httpx"
	"dayaq/internal/match"
	"dayaq/internal/org"
	"dayaq/internal/storage"
)

// Store is what the UI needs of storage. Every call that touches a child
// takes the acting principal: storage applies the access policy in SQL and
// writes the audit event.
type Store interface {
	Now() time.Time
	Orgs(ctx context.Context, f storage.OrgFilter) ([]org.Org, error)
	OrgByCode(ctx context.Context, code string) (org.Org, error)

	ChildFor(ctx context.Context, a audit.Actor, id int64) (storage.ChildRecord, error)
	ChildView(ctx context.Context, a audit.Actor, id int64) (storage.ChildView, error)
	ListChildren(ctx context.Context, a audit.Actor, q storage.ChildQuery) ([]storage.ChildRecord, error)
	CreateChild(ctx context.Context, a audit.Actor, ch child.Child, schoolCode string) (storage.ChildRecord, error)
	UpdateChild(ctx context.Context, a audit.Actor, ch child.Child, schoolCode string) (storage.ChildRecord, error)

	OpenBreakGlass(ctx context.Context, a audit.Actor, childID int64, reason string) (storage.BreakGlass, error)
	BreakGlassOpeningsFor(ctx context.Context, a audit.Actor, f storage.BreakGlassFilter) ([]storage.BreakGlass, error)
	ReviewBreakGlass(ctx context.Context, a audit.Actor, id int64, note string) error

	hotlineStore
	NotifyStore
	CaseStore
	MatchChildren(ctx context.Context, a audit.Actor, q match.Query) ([]storage.MatchCandidate, error)
	WorkgroupStore
	ReferralStore
	RosterStore
	DanisStore
	EventsStore
	ScreeningStore
	PlanStore
	StatsStore
}

func (w *Web) childRoutes() []route {
	return []route{
		{"GET /children", w.signedIn(w.childList)},
		{"GET /children/new", w.signedIn(w.childNew)},
		{"POST /children/new", w.signedIn(w.childCreate)},
		{"GET /children/{id}", w.signedIn(w.childPage)},
		{"GET /children/{id}/edit", w.signedIn(w.childEdit)},
		{"POST /children/{id}/edit", w.signedIn(w.childSave)},
		{"POST /children/{id}/break-glass", w.signedIn(w.childBreakGlass)},
		{"GET /audit", w.signedIn(w.auditPage)},
		{"GET /audit/break-glass", w.signedIn(w.breakGlassReview)},
		{"POST /audit/break-glass/{id}/review", w.signedIn(w.breakGlassReviewed)},
	}
}

// signedIn sends visitors to the sign-in page and checks the form token of
// every state-changing request.
func (w *Web) signedIn(h handlerFunc) handlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) error {
		if !authn.PrincipalFrom(r.Context()).Authenticated() {
			http.Redirect(rw, r, "/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return nil
		}
		if r.Method == http.MethodPost {
			if err := authn.CheckCSRF(r); err != nil {
				return err
			}
		}
		return h(rw, r)
	}
}

func pathID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		return 0, apperr.New(apperr.NotFound, "error.not_found")
	}
	return id, nil
}

// childListData is the registry list page.
type childListData struct {
	Children []storage.ChildRecord
	School   string // the school filter as typed
	Next     string // URL of the next page, "" on the last
	CanAdd   bool
}

func (w *Web) childList(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	q := storage.ChildQuery{Limit: 50}
	d := childListData{School: strings.TrimSpace(r.URL.Query().Get("school")), CanAdd: access.CanAddChildren(a.Principal)}
	if s := r.URL.Query().Get("after"); s != "" {
		q.After, _ = strconv.ParseInt(s, 10, 64)
	}
	if d.School != "" {
		school, err := w.store.OrgByCode(r.Context(), strings.ToUpper(d.School))
		if err != nil {
			return apperr.Validation(apperr.Field("school", "child.error.school_unknown", d.School))
		}
		q.SchoolID = school.ID
	}
	recs, err := w.store.ListChildren(r.Context(), a, q)
	if err != nil {
		return err
	}
	d.Children = recs
	if len(recs) == q.Limit {
		v := url.Values{"after": {strconv.FormatInt(recs[len(recs)-1].ID, 10)}}
		if d.School != "" {
			v.Set("school", d.School)
		}
		d.Next = "/children?" + v.Encode()
	}
	return w.render(rw, http.StatusOK, "children", w.page(r, "section.children.title", d))
}

// childForm is the add/edit form: what was typed, and what is wrong.
type childForm struct {
	ID                                         int64
	Version                                    int
	StudentID, LastName, FirstName, Patronymic string
	Sex, BirthDate, SchoolCode, Grade, Section string
	Errors                                     map[string]string // field → translated message
	Alert                                      string            // translated message for the whole form
	Schools                                    []org.Org         // the schools the user may choose from
	Current                                    *storage.ChildRecord
}

// FieldError is the message for the named field, "" when it is right.
func (f childForm) FieldError(name string) string { return f.Errors[name] }

func formFromRecord(rec storage.ChildRecord) childForm {
	return childForm{ID: rec.ID, Version: rec.Version, StudentID: rec.StudentID, LastName: rec.LastName,
		FirstName: rec.FirstName, Patronymic: rec.Patronymic, Sex: string(rec.Sex),
		BirthDate: rec.BirthDate.Format("2006-01-02"), SchoolCode: rec.School.Code,
		Grade: strconv.Itoa(rec.Grade), Section: rec.Section}
}

func formFromRequest(r *http.Request) childForm {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	v, _ := strconv.Atoi(f("version"))
	return childForm{Version: v, StudentID: f("student_id"), LastName: f("last_name"), FirstName: f("first_name"),
		Patronymic: f("patronymic"), Sex: f("sex"), BirthDate: f("birth_date"), SchoolCode: strings.ToUpper(f("school_code")),
		Grade: f("grade"), Section: f("section")}
}

// child validates the form into a child, collecting field errors.
func (f childForm) child(today time.Time) (child.Child, []apperr.FieldError) {
	ch := child.Child{ID: f.ID, Version: f.Version, StudentID: f.StudentID, LastName: f.LastName, FirstName: f.FirstName,
		Patronymic: f.Patronymic, Sex: child.Sex(f.Sex), Section: f.Section}
	ch.Normalize()
	var fs []apperr.FieldError
	if f.BirthDate != "" {
		bd, err := time.Parse("2006-01-02", f.BirthDate)
		if err != nil {
			fs = append(fs, apperr.Field("birth_date", "child.error.birth_format"))
		}
		ch.BirthDate = bd
	}
	g, err := strconv.Atoi(f.Grade)
	switch {
	case f.Grade == "":
		fs = append(fs, apperr.Field("grade", "error.required"))
	case err != nil:
		fs = append(fs, apperr.Field("grade", "child.error.grade"))
	default:
		ch.Grade = g
	}
	if f.SchoolCode == "" {
		fs = append(fs, apperr.Field("school_code", "error.required"))
	}
	if err := ch.Validate(today); err != nil {
		for _, fe := range apperr.As(err).Fields {
			if (fe.Field == "birth_date" && f.BirthDate != "" && ch.BirthDate.IsZero()) || (fe.Field == "grade" && ch.Grade == 0 && f.Grade != "0") {
				continue
			}
			fs = append(fs, fe)
		}
	}
	return ch, fs
}

// schoolsFor lists the schools p may add children to, for the form's list.
func (w *Web) schoolsFor(ctx context.Context, p access.Principal) ([]org.Org, error) {
	if p.OrgType == org.School {
		s, err := w.store.OrgByCode(ctx, p.OrgCode)
		return []org.Org{s}, err
	}
	f := storage.OrgFilter{Type: org.School, Limit: 500}
	if p.OrgType == org.District {
		f.District = p.District
	}
	var all []org.Org
	for {
		page, err := w.store.Orgs(ctx, f)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < f.Limit {
			return all, nil
		}
		f.After = page[len(page)-1].Code
	}
}

// renderForm shows the child form with what was typed and what is wrong.
func (w *Web) renderForm(rw http.ResponseWriter, r *http.Request, status int, title string, f childForm, err error) error {
	p := w.page(r, title, nil)
	if err != nil {
		e, st, keep := w.formFailure(rw, r, status, err)
		if !keep {
			return err
		}
		status = st
		f.Errors = fieldMessages(p.L, e, nil)
		f.Alert = p.L.T(e.Key, e.Args...)
	}
	schools, serr := w.schoolsFor(r.Context(), p.User)
	if serr != nil {
		return serr
	}
	f.Schools = schools
	p.Data = f
	return w.render(rw, status, "child_form", p)
}

func (w *Web) childNew(rw http.ResponseWriter, r *http.Request) error {
	p := authn.PrincipalFrom(r.Context())
	if !access.CanAddChildren(p) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	f := childForm{}
	if p.OrgType == org.School {
		f.SchoolCode = p.OrgCode
	}
	return w.renderForm(rw, r, http.StatusOK, "child.new.title", f, nil)
}

func (w *Web) childCreate(rw http.ResponseWriter, r *http.Request) error {
	f := formFromRequest(r)
	ch, fs := f.child(w.store.Now())
	if len(fs) > 0 {
		return w.renderForm(rw, r, http.StatusUnprocessableEntity, "child.new.title", f, apperr.Validation(fs...))
	}
	rec, err := w.store.CreateChild(r.Context(), authn.ActorFrom(r), ch, f.SchoolCode)
	if err != nil {
		return w.renderForm(rw, r, statusOf(err), "child.new.title", f, err)
	}
	http.Redirect(rw, r, fmt.Sprintf("/children/%d", rec.ID), http.StatusSeeOther)
	return nil
}

// childPageData is a child's page.
type childPageData struct {
	Rec        storage.ChildRecord
	Full       bool   // the view shows the identity
	Until      string // break-glass access ends at
	BreakGlass bool   // offer break-glass (the record is out of reach)
	ID         int64
	Error      string
	Reason     string
	// ParentEvents are the awareness events the child's parent attended.
	ParentEvents []storage.ChildEventAttendance
	Screening    *childScreening // register status and screening results, nil when the reader may not see them
}

func (w *Web) childPage(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	// The record, the parent's events and the screening, each read under
	// its policy and audited, in one group commit (ADR 0043).
	v, err := w.store.ChildView(r.Context(), a, id)
	if apperr.CodeOf(err) == apperr.NotFound && access.CanBreakGlass(a.Principal) {
		return w.render(rw, http.StatusNotFound, "child", w.page(r, "child.title", childPageData{BreakGlass: true, ID: id}))
	}
	if err != nil {
		return err
	}
	rec := v.Record
	p := w.page(r, "child.title", nil)
	d := childPageData{Rec: rec, ID: id, Full: rec.Decision.View >= access.ViewShared, ParentEvents: v.Attended}
	p.Data = d
	if v.Screening != nil {
		d.Screening = w.childScreeningView(p, r, id, *v.Screening)
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "child", p)
}

func (w *Web) childBreakGlass(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(r.PostFormValue("reason"))
	if _, err := w.store.OpenBreakGlass(r.Context(), authn.ActorFrom(r), id, reason); err != nil {
		e := apperr.As(err)
		if e.Code != apperr.Invalid {
			return err
		}
		p := w.page(r, "child.title", nil)
		msg := p.L.T(e.Key, e.Args...)
		if len(e.Fields) > 0 {
			msg = p.L.T(e.Fields[0].Key, e.Fields[0].Args...)
		}
		p.Data = childPageData{BreakGlass: true, ID: id, Error: msg, Reason: reason}
		return w.render(rw, http.StatusUnprocessableEntity, "child", p)
	}
	http.Redirect(rw, r, fmt.Sprintf("/children/%d", id), http.StatusSeeOther)
	return nil
}

func (w *Web) childEdit(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rec, err := w.store.ChildFor(r.Context(), authn.ActorFrom(r), id)
	if err != nil {
		return err
	}
	if !rec.CanWrite {
		return apperr.New(apperr.Forbidden, "child.error.no_write")
	}
	return w.renderForm(rw, r, http.StatusOK, "child.edit.title", formFromRecord(rec), nil)
}

func (w *Web) childSave(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := formFromRequest(r)
	f.ID = id
	ch, fs := f.child(w.store.Now())
	if len(fs) > 0 {
		return w.renderForm(rw, r, http.StatusUnprocessableEntity, "child.edit.title", f, apperr.Validation(fs...))
	}
	a := authn.ActorFrom(r)
	if _, err := w.store.UpdateChild(r.Context(), a, ch, f.SchoolCode); err != nil {
		if apperr.CodeOf(err) == apperr.Conflict {
			// Show what the other person saved beside what this one typed.
			if cur, cerr := w.store.ChildFor(r.Context(), a, id); cerr == nil {
				f.Current = &cur
				f.Version = cur.Version
			}
		}
		return w.renderForm(rw, r, statusOf(err), "child.edit.title", f, err)
	}
	http.Redirect(rw, r, fmt.Sprintf("/children/%d", id), http.StatusSeeOther)
	return nil
}

// breakGlassData is the review page.
type breakGlassData struct {
	Openings []storage.BreakGlass
	All      bool
}

func (w *Web) breakGlassReview(rw http.ResponseWriter, r *http.Request) error {
	p := authn.PrincipalFrom(r.Context())
	if !access.CanBrowseAudit(p) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	all := r.URL.Query().Get("all") == "1"
	bgs, err := w.store.BreakGlassOpeningsFor(r.Context(), authn.ActorFrom(r), storage.BreakGlassFilter{UnreviewedOnly: !all, Limit: 100})
	if err != nil {
		return err
	}
	return w.render(rw, http.StatusOK, "break_glass", w.page(r, "breakglass.review.title", breakGlassData{Openings: bgs, All: all}))
}

func (w *Web) breakGlassReviewed(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := w.store.ReviewBreakGlass(r.Context(), authn.ActorFrom(r), id, r.PostFormValue("note")); err != nil {
		return err
	}
	http.Redirect(rw, r, "/audit/break-glass", http.StatusSeeOther)
	return nil
}

// statusOf is the HTTP status of an error shown on a form.
func statusOf(err error) int {
	// httpx.Status is the one table; a form re-rendered with what was
	// typed answers 422 even when no field is named.
	if st := httpx.Status(apperr.As(err)); st != http.StatusBadRequest {
		return st
	}
	return http.StatusUnprocessableEntity
}
