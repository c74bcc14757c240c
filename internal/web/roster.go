package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/roster"
	"dayaq/internal/rosterrun"
	"dayaq/internal/storage"
)

// RosterStore is what the roster import and duplicates pages need of storage.
type RosterStore interface {
	StartRosterImport(ctx context.Context, a audit.Actor, fileName string) (int64, error)
	ImportRoster(ctx context.Context, a audit.Actor, id int64, src storage.RosterSource, o storage.RosterImportOptions) (storage.RosterCounts, error)
	RosterImportFor(ctx context.Context, a audit.Actor, id int64, limit int) (storage.RosterImport, []storage.RosterReject, error)
	DuplicateChildren(ctx context.Context, a audit.Actor, limit int) ([]storage.DuplicatePair, error)
	MergeChildren(ctx context.Context, a audit.Actor, m storage.MergeRequest) (storage.ChildMerge, error)
	UndoMerge(ctx context.Context, a audit.Actor, id int64) (storage.ChildMerge, error)
	ChildMerges(ctx context.Context, a audit.Actor, limit int) ([]storage.ChildMerge, error)
}

func (w *Web) rosterRoutes() []route {
	return []route{
		{"GET /children/import", w.signedIn(w.importForm)},
		{"POST /children/import", limitBody(rosterrun.MaxBytes+1<<20, w.signedIn(w.importUpload))},
		{"GET /children/import/status", w.signedIn(w.importStatus)},
		{"GET /children/duplicates", w.signedIn(w.duplicatesPage)},
		{"POST /children/merges", w.signedIn(w.mergeChildren)},
		{"POST /children/merges/{id}/undo", w.signedIn(w.undoMerge)},
	}
}

// limitBody caps the request body before anything reads it.
func limitBody(n int64, h handlerFunc) handlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) error {
		r.Body = http.MaxBytesReader(rw, r.Body, n)
		return h(rw, r)
	}
}

// importFormData is the upload form: what is wrong with the file.
type importFormData struct {
	Error string
}

func (d importFormData) FieldError(name string) string {
	if name == "file" {
		return d.Error
	}
	return ""
}

// importForm is the upload form, or with ?id= an import's status page.
func (w *Web) importForm(rw http.ResponseWriter, r *http.Request) error {
	if r.URL.Query().Has("id") {
		return w.importPage(rw, r)
	}
	if !access.CanAddChildren(authn.PrincipalFrom(r.Context())) {
		return apperr.New(apperr.Forbidden, "roster.error.role")
	}
	return w.render(rw, http.StatusOK, "roster_import", w.page(r, "roster.import.title", importFormData{}))
}

func (w *Web) importUpload(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	if !access.CanAddChildren(a.Principal) {
		return apperr.New(apperr.Forbidden, "roster.error.role")
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		key := apperr.Field("file", "roster.error.no_file")
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			key = apperr.Field("file", "roster.error.too_large", rosterrun.MaxBytes>>20)
		}
		return w.importFormError(rw, r, apperr.Validation(key))
	}
	defer f.Close()
	id, err := w.rosters.Start(r.Context(), a, filepath.Base(hdr.Filename), f)
	if err != nil {
		return w.importFormError(rw, r, err)
	}
	http.Redirect(rw, r, "/children/import?id="+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

// rosterStore adapts the UI's store for rosterrun.
func (w *Web) rosterStore() rosterrun.Store { return w.store }

// importFormError shows the form again with the message beside the file.
func (w *Web) importFormError(rw http.ResponseWriter, r *http.Request, err error) error {
	e := apperr.As(err)
	if e.Code != apperr.Invalid {
		return err
	}
	p := w.page(r, "roster.import.title", nil)
	d := importFormData{Error: p.L.T(e.Key, e.Args...)}
	for _, f := range e.Fields {
		d.Error = p.L.T(f.Key, f.Args...)
	}
	p.Data = d
	return w.render(rw, http.StatusUnprocessableEntity, "roster_import", p)
}

// importView is an import's status page.
type importView struct {
	Import    storage.RosterImport
	Status    string // running, done, failed
	Error     string // translated
	Rejects   []rejectView
	Truncated bool
	Shown     int
	Columns   []string
}

type rejectView struct {
	Line   int
	Reason string
	Raw    []string
}

// maxRejectsShown bounds the rejected rows a page shows.
const maxRejectsShown = 500

func (w *Web) importView(r *http.Request) (Page, error) {
	id, err := strconv.ParseInt(r.URL.Query().Get("id"), 10, 64)
	if err != nil || id <= 0 {
		return Page{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	p := w.page(r, "roster.import.title", nil)
	ri, rs, err := w.store.RosterImportFor(r.Context(), authn.ActorFrom(r), id, maxRejectsShown)
	if err != nil {
		return Page{}, err
	}
	v := importView{Import: ri, Status: ri.Status, Columns: roster.Columns(), Shown: len(rs),
		Truncated: ri.Status != "running" && ri.Counts.Rejected > len(rs)}
	switch {
	case ri.Stale(w.store.Now()):
		v.Status, v.Error = "failed", p.L.T("roster.error.interrupted")
	case ri.Status == "failed":
		v.Error = p.L.T(ri.ErrorKey, ri.ErrorArgs...)
	}
	for _, rj := range rs {
		v.Rejects = append(v.Rejects, rejectView{Line: rj.Line, Reason: roster.Reject{Reasons: rj.Reasons}.Text(p.L.T), Raw: rj.Raw})
	}
	p.Data = v
	return p, nil
}

func (w *Web) importPage(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.importView(r)
	if err != nil {
		return err
	}
	return w.render(rw, http.StatusOK, "roster_import_status", p)
}

// importStatus is the fragment htmx polls while an import runs.
func (w *Web) importStatus(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.importView(r)
	if err != nil {
		return err
	}
	return w.renderPartial(rw, "roster_import_status", "import_status", p)
}

// duplicatesView is the duplicates page.
type duplicatesView struct {
	Pairs  []pairView
	Merges []storage.ChildMerge
	Notice string // translated: what was just done
	Alert  string // translated: what went wrong
}

type pairView struct {
	Pair    storage.DuplicatePair
	Percent int
	Reasons []string
}

func canMerge(p access.Principal) bool { return access.CanMergeChildren(p) }

func (w *Web) duplicatesPage(rw http.ResponseWriter, r *http.Request) error {
	return w.renderDuplicates(rw, r, http.StatusOK, "", nil)
}

func (w *Web) renderDuplicates(rw http.ResponseWriter, r *http.Request, status int, notice string, failure error) error {
	a := authn.ActorFrom(r)
	if !canMerge(a.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	p := w.page(r, "dup.title", nil)
	d := duplicatesView{}
	switch {
	case notice != "":
		d.Notice = p.L.T(notice)
	case r.URL.Query().Get("done") == "merged":
		d.Notice = p.L.T("dup.merged")
	case r.URL.Query().Get("done") == "undone":
		d.Notice = p.L.T("dup.undone")
	}
	if failure != nil {
		e := apperr.As(failure)
		if e.Code == apperr.Internal || e.Code == apperr.Unavailable {
			return failure
		}
		d.Alert = p.L.T(e.Key, e.Args...)
		for _, f := range e.Fields {
			d.Alert += " " + p.L.T(f.Key, f.Args...)
		}
	}
	ps, err := w.store.DuplicateChildren(r.Context(), a, 50)
	if err != nil {
		return err
	}
	for _, pr := range ps {
		v := pairView{Pair: pr, Percent: int(pr.Score*100 + 0.5)}
		for _, k := range pr.Reasons {
			v.Reasons = append(v.Reasons, p.L.T(k.Key, k.Args...))
		}
		d.Pairs = append(d.Pairs, v)
	}
	if d.Merges, err = w.store.ChildMerges(r.Context(), a, 20); err != nil {
		return err
	}
	p.Data = d
	return w.render(rw, status, "duplicates", p)
}

func (w *Web) mergeChildren(rw http.ResponseWriter, r *http.Request) error {
	n := func(k string) int64 { v, _ := strconv.ParseInt(r.PostFormValue(k), 10, 64); return v }
	m := storage.MergeRequest{SurvivorID: n("survivor_id"), SurvivorVersion: int(n("survivor_version")),
		MergedID: n("merged_id"), MergedVersion: int(n("merged_version"))}
	_, err := w.store.MergeChildren(r.Context(), authn.ActorFrom(r), m)
	switch apperr.CodeOf(err) {
	case "":
		http.Redirect(rw, r, "/children/duplicates?"+url.Values{"done": {"merged"}}.Encode(), http.StatusSeeOther)
		return nil
	case apperr.Conflict, apperr.Invalid:
		return w.renderDuplicates(rw, r, http.StatusConflict, "", err)
	}
	return err
}

func (w *Web) undoMerge(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	_, err = w.store.UndoMerge(r.Context(), authn.ActorFrom(r), id)
	switch apperr.CodeOf(err) {
	case "":
		http.Redirect(rw, r, "/children/duplicates?"+url.Values{"done": {"undone"}}.Encode(), http.StatusSeeOther)
		return nil
	case apperr.Conflict:
		return w.renderDuplicates(rw, r, http.StatusConflict, "", err)
	}
	return err
}
