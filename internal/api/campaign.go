package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/events"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// CampaignStore is what the campaign's API needs of storage.
type CampaignStore interface {
	CampaignMaterials(ctx context.Context, a audit.Actor) ([]events.CampaignMaterial, error)
	CampaignMaterial(ctx context.Context, a audit.Actor, id int64) (events.CampaignMaterial, error)
	CreateCampaignMaterial(ctx context.Context, a audit.Actor, m events.CampaignMaterial) (events.CampaignMaterial, error)
	UpdateCampaignMaterial(ctx context.Context, a audit.Actor, m events.CampaignMaterial) (events.CampaignMaterial, error)
	Showings(ctx context.Context, a audit.Actor, q storage.ShowingQuery) ([]events.Showing, error)
	CreateShowing(ctx context.Context, a audit.Actor, s events.Showing) (events.Showing, error)
	UpdateShowing(ctx context.Context, a audit.Actor, s events.Showing) (events.Showing, error)
	AddFigure(ctx context.Context, a audit.Actor, f events.Figure) (events.Figure, error)
	AddFigures(ctx context.Context, a audit.Actor, rows []events.FigureRow) ([]events.Figure, error)
	Figures(ctx context.Context, a audit.Actor, from, to time.Time) ([]events.Figure, error)
	CampaignReach(ctx context.Context, a audit.Actor, from, to time.Time, district string) (storage.Reach, error)
}

func (a *API) campaignRoutes() []Route {
	const p = Prefix + "/campaign"
	return []Route{
		{"GET", p + "/materials", a.listCampaignMaterials},
		{"POST", p + "/materials", a.createCampaignMaterial},
		{"PATCH", p + "/materials/{id}", a.updateCampaignMaterial},
		{"POST", p + "/materials/{id}/file", a.addCampaignFile},
		{"GET", p + "/showings", a.listShowings},
		{"POST", p + "/showings", a.createShowing},
		{"PATCH", p + "/showings/{id}", a.updateShowing},
		{"GET", p + "/figures", a.listFigures},
		{"POST", p + "/figures", a.createFigure},
		{"POST", p + "/figures/import", a.importFigures},
		{"GET", p + "/reach", a.campaignReach},
	}
}

type campaignMaterialJSON struct {
	ID          int64           `json:"id"`
	Kind        events.Kind     `json:"kind"`
	Title       string          `json:"title"`
	Languages   []string        `json:"languages"`
	Edition     string          `json:"edition"`
	Audience    events.Audience `json:"audience"`
	ExternalURL string          `json:"external_url"`
	File        *materialJSON   `json:"file"`
	Version     int             `json:"version"`
}

func toCampaignMaterialJSON(m events.CampaignMaterial) campaignMaterialJSON {
	j := campaignMaterialJSON{ID: m.ID, Kind: m.Kind, Title: m.Title, Languages: m.Languages, Edition: m.Edition,
		Audience: m.Audience, ExternalURL: m.ExternalURL, Version: m.Version}
	if j.Languages == nil {
		j.Languages = []string{}
	}
	if m.File != nil {
		f := toMaterialJSON(*m.File)
		j.File = &f
	}
	return j
}

type campaignMaterialInput struct {
	Kind        events.Kind     `json:"kind"`
	Title       string          `json:"title"`
	Languages   []string        `json:"languages"`
	Edition     string          `json:"edition"`
	Audience    events.Audience `json:"audience"`
	ExternalURL string          `json:"external_url"`
}

func (in campaignMaterialInput) material() events.CampaignMaterial {
	return events.CampaignMaterial{Kind: in.Kind, Title: in.Title, Languages: in.Languages, Edition: in.Edition,
		Audience: in.Audience, ExternalURL: in.ExternalURL}
}

func (a *API) listCampaignMaterials(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	ms, err := a.store.CampaignMaterials(r.Context(), act)
	if err != nil {
		return err
	}
	out := listPage[campaignMaterialJSON]{Items: []campaignMaterialJSON{}}
	for _, m := range ms {
		out.Items = append(out.Items, toCampaignMaterialJSON(m))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createCampaignMaterial(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in campaignMaterialInput
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := a.store.CreateCampaignMaterial(r.Context(), act, in.material())
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/campaign/materials/%d", Prefix, m.ID))
	w.Header().Set("ETag", etag(m.Version))
	return writeJSON(w, http.StatusCreated, toCampaignMaterialJSON(m))
}

func (a *API) updateCampaignMaterial(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in campaignMaterialInput
	if err := decode(r, &in); err != nil {
		return err
	}
	m := in.material()
	m.ID, m.Version = id, version
	if _, err = a.store.UpdateCampaignMaterial(r.Context(), act, m); err != nil {
		return err
	}
	if m, err = a.store.CampaignMaterial(r.Context(), act, id); err != nil {
		return err
	}
	w.Header().Set("ETag", etag(m.Version))
	return writeJSON(w, http.StatusOK, toCampaignMaterialJSON(m))
}

func (a *API) addCampaignFile(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	hdr, data, err := surface.ReadEventUpload(w, r)
	if err != nil {
		return err
	}
	m, err := surface.StoreEventFile(r.Context(), a.vault, a.store, act, storage.FileOwner{CampaignID: id}, hdr.Filename, data)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/event-files/%d", Prefix, m.ID))
	return writeJSON(w, http.StatusCreated, toMaterialJSON(m))
}

type showingJSON struct {
	ID            int64    `json:"id"`
	SchoolID      int64    `json:"school_id"`
	SchoolName    string   `json:"school_name"`
	District      string   `json:"district"`
	MaterialID    int64    `json:"material_id"`
	MaterialTitle string   `json:"material_title"`
	MaterialKind  string   `json:"material_kind"`
	ShownAt       string   `json:"shown_at"`
	Classes       []string `json:"classes"`
	Pupils        int      `json:"pupils"`
	Parents       int      `json:"parents"`
	ShownBy       string   `json:"shown_by"`
	Version       int      `json:"version"`
}

func toShowingJSON(s events.Showing) showingJSON {
	j := showingJSON{ID: s.ID, SchoolID: s.SchoolID, SchoolName: s.SchoolName, District: s.District, MaterialID: s.MaterialID,
		MaterialTitle: s.MaterialTitle, MaterialKind: string(s.MaterialKind), ShownAt: s.ShownAt.Format(time.RFC3339), Classes: s.Classes, Pupils: s.Pupils,
		Parents: s.Parents, ShownBy: s.ShownBy, Version: s.Version}
	if j.Classes == nil {
		j.Classes = []string{}
	}
	return j
}

type showingInput struct {
	School     string   `json:"school"`
	MaterialID int64    `json:"material_id"`
	ShownAt    string   `json:"shown_at"`
	Classes    []string `json:"classes"`
	Pupils     int      `json:"pupils"`
	Parents    int      `json:"parents"`
	ShownBy    string   `json:"shown_by"`
}

func (a *API) showingFrom(ctx context.Context, in showingInput) (events.Showing, error) {
	s := events.Showing{MaterialID: in.MaterialID, Pupils: in.Pupils, Parents: in.Parents, ShownBy: in.ShownBy}
	t, err := parseTime("shown_at", in.ShownAt)
	if err != nil {
		return s, err
	}
	s.ShownAt = t
	cls, ok := events.ParseClasses(strings.Join(in.Classes, ","))
	if !ok {
		return s, apperr.Validation(apperr.Field("classes", "events.error.classes"))
	}
	s.Classes = cls
	if in.School != "" {
		o, err := a.store.OrgByCode(ctx, strings.ToUpper(in.School))
		if err != nil {
			return s, apperr.Validation(apperr.Field("school", "events.error.school"))
		}
		s.SchoolID = o.ID
	}
	return s, nil
}

func (a *API) listShowings(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var q storage.ShowingQuery
	var fs []apperr.FieldError
	q.SchoolID, q.District, q.From, q.To, fs = a.listPlaceAndPeriod(r)
	if k := events.Kind(r.URL.Query().Get("kind")); k != "" {
		if !slices.Contains(events.Kinds(), k) {
			fs = append(fs, apperr.Field("kind", "campaign.error.kind"))
		}
		q.Kind = k
	}
	q.After = r.URL.Query().Get("after")
	if _, _, ok := storage.ParseTimeCursor(q.After); q.After != "" && !ok {
		fs = append(fs, apperr.Field("after", "error.cursor"))
	}
	if q.Limit, err = page(r, 200, 500); err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	ss, err := a.store.Showings(r.Context(), act, q)
	if err != nil {
		return err
	}
	out := listPage[showingJSON]{Items: []showingJSON{}}
	for _, s := range ss {
		out.Items = append(out.Items, toShowingJSON(s))
	}
	if len(ss) == q.Limit {
		next := storage.TimeCursor(ss[len(ss)-1].ShownAt, ss[len(ss)-1].ID)
		out.Next = &next
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createShowing(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in showingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.showingFrom(r.Context(), in)
	if err != nil {
		return err
	}
	if s, err = a.store.CreateShowing(r.Context(), act, s); err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/campaign/showings/%d", Prefix, s.ID))
	w.Header().Set("ETag", etag(s.Version))
	return writeJSON(w, http.StatusCreated, toShowingJSON(s))
}

func (a *API) updateShowing(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in showingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.showingFrom(r.Context(), in)
	if err != nil {
		return err
	}
	s.ID, s.Version = id, version
	if s, err = a.store.UpdateShowing(r.Context(), act, s); err != nil {
		return err
	}
	w.Header().Set("ETag", etag(s.Version))
	return writeJSON(w, http.StatusOK, toShowingJSON(s))
}

type figureJSON struct {
	ID          int64  `json:"id"`
	MaterialID  int64  `json:"material_id"`
	District    string `json:"district"`
	Metric      string `json:"metric"`
	Value       int64  `json:"value"`
	PeriodStart string `json:"period_start"`
	PeriodEnd   string `json:"period_end"`
	Source      string `json:"source"`
	AsOf        string `json:"as_of"`
}

func toFigureJSON(f events.Figure) figureJSON {
	return figureJSON{ID: f.ID, MaterialID: f.MaterialID, District: f.District, Metric: f.Metric, Value: f.Value,
		PeriodStart: f.PeriodStart.Format("2006-01-02"), PeriodEnd: f.PeriodEnd.Format("2006-01-02"), Source: f.Source,
		AsOf: f.AsOf.Format("2006-01-02")}
}

// period reads ?from= and ?to= as dates; the default is the current
// school year.
func (a *API) period(r *http.Request) (time.Time, time.Time, error) {
	from, to := events.SchoolYear(a.now())
	if t, err := parseQueryTime(r, "from"); err != nil {
		return from, to, err
	} else if !t.IsZero() {
		from = t
	}
	if t, err := parseQueryTime(r, "to"); err != nil {
		return from, to, err
	} else if !t.IsZero() {
		to = t
	}
	if !to.After(from) || to.Sub(from) > 5*366*24*time.Hour {
		return from, to, apperr.Validation(apperr.Field("to", "campaign.error.period"))
	}
	return from, to, nil
}

func (a *API) listFigures(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	from, to, err := a.period(r)
	if err != nil {
		return err
	}
	fs, err := a.store.Figures(r.Context(), act, from, to)
	if err != nil {
		return err
	}
	out := listPage[figureJSON]{Items: []figureJSON{}}
	for _, f := range fs {
		out.Items = append(out.Items, toFigureJSON(f))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createFigure(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in struct {
		MaterialID  int64  `json:"material_id"`
		District    string `json:"district"`
		Metric      string `json:"metric"`
		Value       int64  `json:"value"`
		PeriodStart string `json:"period_start"`
		PeriodEnd   string `json:"period_end"`
		Source      string `json:"source"`
		AsOf        string `json:"as_of"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	f := events.Figure{MaterialID: in.MaterialID, District: in.District, Metric: in.Metric, Value: in.Value, Source: in.Source}
	var fields []apperr.FieldError
	for _, d := range []struct {
		name, v string
		dst     *time.Time
	}{{"period_start", in.PeriodStart, &f.PeriodStart}, {"period_end", in.PeriodEnd, &f.PeriodEnd}, {"as_of", in.AsOf, &f.AsOf}} {
		t, err := time.Parse("2006-01-02", d.v)
		if err != nil {
			fields = append(fields, apperr.Field(d.name, "events.error.date"))
		}
		*d.dst = t
	}
	if len(fields) > 0 {
		return apperr.Validation(fields...)
	}
	if f, err = a.store.AddFigure(r.Context(), act, f); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, toFigureJSON(f))
}

// importFigures takes a CSV file of figures (events.ParseFiguresCSV) as
// the request body: all its lines, or — when one is bad — none, with a
// field error on "file" naming each bad line.
func (a *API) importFigures(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, events.MaxFigureFile+1))
	if err != nil {
		return apperr.Validation(apperr.Field("file", "campaign.import.unreadable", 1))
	}
	rows, err := events.ParseFiguresCSV(data)
	if err != nil {
		return err
	}
	fs, err := a.store.AddFigures(r.Context(), act, rows)
	if err != nil {
		return err
	}
	out := listPage[figureJSON]{Items: []figureJSON{}}
	for _, f := range fs {
		out.Items = append(out.Items, toFigureJSON(f))
	}
	return writeJSON(w, http.StatusCreated, out)
}

func (a *API) campaignReach(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	from, to, err := a.period(r)
	if err != nil {
		return err
	}
	rc, err := a.store.CampaignReach(r.Context(), act, from, to, r.URL.Query().Get("district"))
	if err != nil {
		return err
	}
	type month struct {
		Month    string `json:"month"`
		Showings int    `json:"showings"`
		Pupils   int    `json:"pupils"`
		Parents  int    `json:"parents"`
		Contacts int    `json:"contacts"`
	}
	type school struct {
		SchoolID int64  `json:"school_id"`
		Name     string `json:"name"`
		District string `json:"district"`
		Showings int    `json:"showings"`
		Pupils   int    `json:"pupils"`
		Parents  int    `json:"parents"`
	}
	out := struct {
		District string   `json:"district"`
		Months   []month  `json:"months"`
		Schools  []school `json:"schools"`
	}{District: rc.District, Months: []month{}, Schools: []school{}}
	for _, m := range rc.Rows {
		out.Months = append(out.Months, month{events.MonthKey(m.Month), m.Showings, m.Pupils, m.Parents, m.Contacts})
	}
	for _, s := range rc.Schools {
		out.Schools = append(out.Schools, school{s.SchoolID, s.Name, s.District, s.Showings, s.Pupils, s.Parents})
	}
	return writeJSON(w, http.StatusOK, out)
}
