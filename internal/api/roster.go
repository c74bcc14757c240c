package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/httpx"
	"dayaq/internal/roster"
	"dayaq/internal/rosterrun"
	"dayaq/internal/storage"
)

// RosterStore is what roster imports and duplicate merging need of storage.
type RosterStore interface {
	StartRosterImport(ctx context.Context, a audit.Actor, fileName string) (int64, error)
	ImportRoster(ctx context.Context, a audit.Actor, id int64, src storage.RosterSource, o storage.RosterImportOptions) (storage.RosterCounts, error)
	RosterImportFor(ctx context.Context, a audit.Actor, id int64, limit int) (storage.RosterImport, []storage.RosterReject, error)
	DuplicateChildren(ctx context.Context, a audit.Actor, limit int) ([]storage.DuplicatePair, error)
	MergeChildren(ctx context.Context, a audit.Actor, m storage.MergeRequest) (storage.ChildMerge, error)
	UndoMerge(ctx context.Context, a audit.Actor, id int64) (storage.ChildMerge, error)
}

// rosterRoutes are the roster import's and the duplicates' routes.
func (a *API) rosterRoutes() []Route {
	return []Route{
		{"POST", Prefix + "/children/imports", a.startImport},
		{"GET", Prefix + "/children/imports/{id}", a.getImport},
		{"GET", Prefix + "/children/duplicates", a.listDuplicates},
		{"POST", Prefix + "/children/merges", a.mergeChildren},
		{"POST", Prefix + "/children/merges/{id}/undo", a.undoMerge},
	}
}

// maxRejectsShown bounds the rejects one status answer carries.
const maxRejectsShown = 1000

func (a *API) startImport(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	name := r.URL.Query().Get("file_name")
	if name == "" {
		name = "roster.csv"
	}
	r.Body = http.MaxBytesReader(w, r.Body, rosterrun.MaxBytes)
	id, err := a.rosters.Start(r.Context(), act, name, r.Body)
	if err != nil {
		return err
	}
	loc := Prefix + "/children/imports/" + strconv.FormatInt(id, 10)
	w.Header().Set("Location", loc)
	return writeJSON(w, http.StatusAccepted, map[string]any{"id": id, "status": "running", "href": loc})
}

// importJSON is an import's status as the API shows it.
type importJSON struct {
	ID         int64                `json:"id"`
	FileName   string               `json:"file_name"`
	Status     string               `json:"status"`
	Counts     storage.RosterCounts `json:"counts"`
	Error      string               `json:"error,omitempty"`
	StartedAt  time.Time            `json:"started_at"`
	FinishedAt *time.Time           `json:"finished_at,omitempty"`
	Rejects    []rejectJSON         `json:"rejects"`
	Truncated  bool                 `json:"rejects_truncated"`
}

type rejectJSON struct {
	Line    int               `json:"line"`
	Reasons []ProblemField    `json:"reasons"`
	Row     map[string]string `json:"row"`
}

func (a *API) getImport(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	ri, rs, err := a.store.RosterImportFor(r.Context(), act, id, maxRejectsShown)
	if err != nil {
		return err
	}
	l := a.cat.For(httpx.Lang(r.Context()))
	j := importJSON{ID: ri.ID, FileName: ri.FileName, Status: ri.Status, Counts: ri.Counts, StartedAt: ri.CreatedAt,
		Rejects: make([]rejectJSON, 0, len(rs)), Truncated: ri.Counts.Rejected > len(rs) && ri.Status != "running"}
	if !ri.FinishedAt.IsZero() {
		j.FinishedAt = &ri.FinishedAt
	}
	switch {
	case ri.Stale(a.now()):
		j.Status, j.Error = "failed", l.T("roster.error.interrupted")
	case ri.Status == "failed":
		j.Error = l.T(ri.ErrorKey, ri.ErrorArgs...)
	}
	for _, rj := range rs {
		x := rejectJSON{Line: rj.Line, Row: map[string]string{}}
		for _, f := range rj.Reasons {
			x.Reasons = append(x.Reasons, ProblemField{Field: f.Field, Detail: l.T(f.Key, f.Args...)})
		}
		for i, c := range roster.Columns() {
			if i < len(rj.Raw) {
				x.Row[c] = rj.Raw[i]
			}
		}
		j.Rejects = append(j.Rejects, x)
	}
	return writeJSON(w, http.StatusOK, j)
}

// duplicateJSON is a pair of records that may be one child.
type duplicateJSON struct {
	A       childJSON `json:"a"`
	B       childJSON `json:"b"`
	Score   float64   `json:"score"`
	Level   string    `json:"level"`
	Reasons []string  `json:"reasons"`
}

func (a *API) listDuplicates(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	limit, err := page(r, 50, 200)
	if err != nil {
		return err
	}
	ps, err := a.store.DuplicateChildren(r.Context(), act, limit)
	if err != nil {
		return err
	}
	l := a.cat.For(httpx.Lang(r.Context()))
	items := make([]duplicateJSON, 0, len(ps))
	for _, p := range ps {
		d := duplicateJSON{A: toChildJSON(p.A), B: toChildJSON(p.B), Score: p.Score, Level: string(p.Level)}
		for _, k := range p.Reasons {
			d.Reasons = append(d.Reasons, l.T(k.Key, k.Args...))
		}
		items = append(items, d)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

// mergeInput asks to merge one record into another, each at the version
// the caller read.
type mergeInput struct {
	SurvivorID      int64 `json:"survivor_id"`
	SurvivorVersion int   `json:"survivor_version"`
	MergedID        int64 `json:"merged_id"`
	MergedVersion   int   `json:"merged_version"`
}

type mergeJSON struct {
	ID         int64              `json:"id"`
	SurvivorID int64              `json:"survivor_id"`
	MergedID   int64              `json:"merged_id"`
	Moved      map[string][]int64 `json:"moved"`
	CreatedAt  time.Time          `json:"created_at"`
	UndoneAt   *time.Time         `json:"undone_at,omitempty"`
}

func toMergeJSON(m storage.ChildMerge) mergeJSON {
	j := mergeJSON{ID: m.ID, SurvivorID: m.SurvivorID, MergedID: m.MergedID, Moved: m.Moved, CreatedAt: m.CreatedAt}
	if j.Moved == nil {
		j.Moved = map[string][]int64{}
	}
	if !m.UndoneAt.IsZero() {
		j.UndoneAt = &m.UndoneAt
	}
	return j
}

func (a *API) mergeChildren(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in mergeInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var fs []apperr.FieldError
	for _, f := range []struct {
		name string
		ok   bool
	}{{"survivor_id", in.SurvivorID > 0}, {"survivor_version", in.SurvivorVersion > 0}, {"merged_id", in.MergedID > 0}, {"merged_version", in.MergedVersion > 0}} {
		if !f.ok {
			fs = append(fs, apperr.Field(f.name, "error.required"))
		}
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	m, err := a.store.MergeChildren(r.Context(), act, storage.MergeRequest(in))
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/children/merges/"+strconv.FormatInt(m.ID, 10))
	return writeJSON(w, http.StatusCreated, toMergeJSON(m))
}

func (a *API) undoMerge(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	m, err := a.store.UndoMerge(r.Context(), act, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toMergeJSON(m))
}
