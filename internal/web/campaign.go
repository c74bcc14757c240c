package web

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/blob"
	"dayaq/internal/events"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// CampaignStore is what the campaign's pages need of storage.
type CampaignStore interface {
	CampaignMaterials(ctx context.Context, a audit.Actor) ([]events.CampaignMaterial, error)
	CreateCampaignMaterial(ctx context.Context, a audit.Actor, m events.CampaignMaterial) (events.CampaignMaterial, error)
	UpdateCampaignMaterial(ctx context.Context, a audit.Actor, m events.CampaignMaterial) (events.CampaignMaterial, error)
	Showings(ctx context.Context, a audit.Actor, q storage.ShowingQuery) ([]events.Showing, error)
	CreateShowing(ctx context.Context, a audit.Actor, s events.Showing) (events.Showing, error)
	UpdateShowing(ctx context.Context, a audit.Actor, s events.Showing) (events.Showing, error)
	AddFigure(ctx context.Context, a audit.Actor, f events.Figure) (events.Figure, error)
	AddFigures(ctx context.Context, a audit.Actor, rows []events.FigureRow) ([]events.Figure, error)
	Figures(ctx context.Context, a audit.Actor, from, to time.Time) ([]events.Figure, error)
	CampaignReach(ctx context.Context, a audit.Actor, from, to time.Time, district string) (storage.Reach, error)
	Districts(ctx context.Context) ([]org.DistrictInfo, error)
}

func (w *Web) campaignRoutes() []route {
	return []route{
		{"GET /campaign", w.signedIn(w.campaignHome)},
		{"POST /campaign/materials", w.signedIn(w.campaignAddMaterial)},
		{"POST /campaign/materials/{id}/save", w.signedIn(w.campaignSaveMaterial)},
		{"POST /campaign/materials/{id}/file", w.signedIn(w.campaignMaterialFile)},
		{"POST /campaign/showings", w.signedIn(w.campaignAddShowing)},
		{"POST /campaign/showings/{id}", w.signedIn(w.campaignSaveShowing)},
		{"GET /campaign/reach", w.signedIn(w.campaignReach)},
		{"GET /campaign/showings", w.signedIn(w.showingsList)},
		{"POST /campaign/figures", w.signedIn(w.campaignAddFigure)},
		{"POST /campaign/figures/import", w.signedIn(w.campaignImportFigures)},
	}
}

type campaignData struct {
	Materials []events.CampaignMaterial
	Showings  []events.Showing
	CanEdit   bool
	CanShow   bool
	AtSchool  bool
	Aggregate bool
	Form      *form
	Kinds     []events.Kind
	Audiences []events.Audience
	Langs     []string
	MaxMB     int
}

func (d campaignData) submitted() *form { return d.Form }

func (w *Web) campaignHome(rw http.ResponseWriter, r *http.Request) error {
	return w.renderCampaign(rw, r, http.StatusOK, nil)
}

func (w *Web) renderCampaign(rw http.ResponseWriter, r *http.Request, status int, f *form) error {
	a := authn.ActorFrom(r)
	if !access.CanReadCatalogue(a.Principal) {
		return apperr.New(apperr.NotFound, "error.page_not_found")
	}
	if access.AggregatesOnly(a.Principal) {
		http.Redirect(rw, r, "/campaign/reach", http.StatusSeeOther) // the Public Council: figures only
		return nil
	}
	d := campaignData{CanEdit: access.CanEditTopics(a.Principal), CanShow: canPlanEvents(a.Principal), AtSchool: a.OrgType == org.School,
		Aggregate: access.SeesEventAggregates(a.Principal), Form: f, Kinds: events.Kinds(), Audiences: events.Audiences(),
		Langs: events.Languages(), MaxMB: events.MaxMaterialSize >> 20}
	var err error
	if d.Materials, err = w.store.CampaignMaterials(r.Context(), a); err != nil {
		return err
	}
	from, to := events.SchoolYear(w.store.Now())
	if d.Showings, err = w.store.Showings(r.Context(), a, storage.ShowingQuery{From: from, To: to}); err != nil {
		return err
	}
	return w.render(rw, status, "campaign_library", w.page(r, "section.campaign.title", d))
}

func (w *Web) campaignAddMaterial(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	var upload bool
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		r.Body = http.MaxBytesReader(rw, r.Body, events.MaxMaterialSize+1<<20)
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			f := &form{Name: "material", Values: map[string]string{}, Errors: map[string]string{}}
			_ = f.fail(w.page(r, "", nil), apperr.Validation(apperr.Field("file", "events.error.file_too_big", events.MaxMaterialSize>>20)))
			return w.renderCampaign(rw, r, http.StatusUnprocessableEntity, f)
		}
		_, _, ferr := r.FormFile("file")
		upload = ferr == nil
	}
	f := readForm(r, "material", "kind", "title", "edition", "audience", "external_url")
	m := events.CampaignMaterial{Kind: events.Kind(f.V("kind")), Title: f.V("title"), Edition: f.V("edition"),
		Audience: events.Audience(f.V("audience")), ExternalURL: f.V("external_url"), Languages: r.PostForm["languages"]}
	if r.MultipartForm != nil {
		m.Languages = r.MultipartForm.Value["languages"]
	}
	err := func() error {
		if !upload && m.ExternalURL == "" {
			if verr := m.Validate(); verr != nil {
				return apperr.Validation(append(apperr.As(verr).Fields, apperr.Field("file", "campaign.error.file_or_link"))...)
			}
			return apperr.Validation(apperr.Field("file", "campaign.error.file_or_link"))
		}
		if err := m.Validate(); err != nil {
			return err
		}
		var data []byte
		var name string
		if upload {
			fl, hdr, err := r.FormFile("file")
			if err != nil {
				return apperr.Validation(apperr.Field("file", "error.required"))
			}
			defer fl.Close()
			buf, tooBig, err := blob.ReadAllLimited(fl, events.MaxMaterialSize)
			if err != nil {
				return err
			}
			if tooBig {
				return apperr.Validation(apperr.Field("file", "events.error.file_too_big", events.MaxMaterialSize>>20))
			}
			data, name = buf, hdr.Filename
			if err := events.CheckFile(int64(len(data)), http.DetectContentType(data)); err != nil {
				return err // refused before anything is stored
			}
		}
		saved, err := w.store.CreateCampaignMaterial(r.Context(), a, m)
		if err != nil || !upload {
			return err
		}
		_, err = surface.StoreEventFile(r.Context(), w.vault, w.store, a, storage.FileOwner{CampaignID: saved.ID}, name, data)
		return err
	}()
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderCampaign(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, "/campaign#library", http.StatusSeeOther)
	return nil
}

// campaignSaveMaterial changes an item of the library (a new edition, a
// link, its languages), with the version it was read at.
func (w *Web) campaignSaveMaterial(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, fmt.Sprintf("material-%d", id), "kind", "title", "edition", "audience", "external_url", "version")
	m := events.CampaignMaterial{ID: id, Kind: events.Kind(f.V("kind")), Title: f.V("title"), Edition: f.V("edition"),
		Audience: events.Audience(f.V("audience")), ExternalURL: f.V("external_url"), Languages: r.PostForm["languages"]}
	m.Version, _ = strconv.Atoi(f.V("version"))
	if _, err := w.store.UpdateCampaignMaterial(r.Context(), authn.ActorFrom(r), m); err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderCampaign(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, "/campaign#library", http.StatusSeeOther)
	return nil
}

// campaignMaterialFile adds a file to an item of the library; a wrong type
// or size is refused on the field and nothing is stored.
func (w *Web) campaignMaterialFile(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	hdr, data, err := surface.ReadEventUpload(rw, r)
	if err == nil {
		_, err = surface.StoreEventFile(r.Context(), w.vault, w.store, a, storage.FileOwner{CampaignID: id}, hdr.Filename, data)
	}
	if err != nil {
		f := &form{Name: fmt.Sprintf("material-%d", id), Values: map[string]string{}}
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderCampaign(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, "/campaign#library", http.StatusSeeOther)
	return nil
}

func (w *Web) campaignAddShowing(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "showing", "material", "shown_at", "classes", "pupils", "parents", "shown_by", "school")
	a := authn.ActorFrom(r)
	s := events.Showing{ShownBy: f.V("shown_by")}
	var fields []apperr.FieldError
	s.MaterialID, _ = strconv.ParseInt(f.V("material"), 10, 64)
	if t, ok := parseLocal(f.V("shown_at")); ok {
		s.ShownAt = t
	} else {
		fields = append(fields, apperr.Field("shown_at", "events.error.time"))
	}
	var ok bool
	if s.Classes, ok = events.ParseClasses(f.V("classes")); !ok {
		fields = append(fields, apperr.Field("classes", "events.error.classes"))
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"pupils", &s.Pupils}, {"parents", &s.Parents}} {
		v := f.V(p.name)
		if v == "" {
			v = "0"
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			fields = append(fields, apperr.Field(p.name, "events.error.number"))
		}
		*p.dst = n
	}
	if a.OrgType != org.School {
		o, err := w.store.OrgByCode(r.Context(), strings.ToUpper(f.V("school")))
		if err != nil || o.Type != org.School {
			fields = append(fields, apperr.Field("school", "events.error.school"))
		} else {
			s.SchoolID = o.ID
		}
	}
	var err error
	if len(fields) > 0 {
		err = apperr.Validation(fields...)
	} else {
		_, err = w.store.CreateShowing(r.Context(), a, s)
	}
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderCampaign(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, "/campaign#showings", http.StatusSeeOther)
	return nil
}

// campaignSaveShowing corrects a showing's counts and who showed it, with
// the version it was read at.
func (w *Web) campaignSaveShowing(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	f := readForm(r, fmt.Sprintf("showing-%d", id), "pupils", "parents", "shown_by", "version")
	from, to := events.SchoolYear(w.store.Now())
	ss, err := w.store.Showings(r.Context(), a, storage.ShowingQuery{From: from, To: to})
	if err != nil {
		return err
	}
	var s *events.Showing
	for i := range ss {
		if ss[i].ID == id {
			s = &ss[i]
		}
	}
	if s == nil {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	var fields []apperr.FieldError
	for _, p := range []struct {
		name string
		dst  *int
	}{{"pupils", &s.Pupils}, {"parents", &s.Parents}} {
		n, err := strconv.Atoi(f.V(p.name))
		if err != nil {
			fields = append(fields, apperr.Field(p.name, "events.error.number"))
		}
		*p.dst = n
	}
	s.ShownBy = f.V("shown_by")
	s.Version, _ = strconv.Atoi(f.V("version"))
	if len(fields) > 0 {
		err = apperr.Validation(fields...)
	} else {
		_, err = w.store.UpdateShowing(r.Context(), a, *s)
	}
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderCampaign(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, "/campaign#showings", http.StatusSeeOther)
	return nil
}

type reachData struct {
	Reach     storage.Reach
	Figures   []events.Figure
	Districts []org.DistrictInfo
	From, To  string
	Chart     template.HTML
	CanEdit   bool
	Locked    bool // a district's staff: their district only
	Form      *form
	Metrics   []string
	Materials []events.CampaignMaterial
	Columns   string   // the figures file's columns, for the import form's hint
	BadLines  []string // every refusal of an imported file, one a line
}

func (d reachData) submitted() *form { return d.Form }

// reachPeriod reads ?from= and ?to= (months, 2026-09); the default is the
// current school year.
func reachPeriod(r *http.Request, now time.Time) (from, to time.Time) {
	from, to = events.SchoolYear(now)
	from = time.Date(from.Add(4*time.Hour).Year(), from.Add(4*time.Hour).Month(), 1, 0, 0, 0, 0, time.UTC)
	to = time.Date(to.Year(), to.Month(), 1, 0, 0, 0, 0, time.UTC)
	if t, err := time.Parse("2006-01", r.URL.Query().Get("from")); err == nil {
		from = t
	}
	if t, err := time.Parse("2006-01", r.URL.Query().Get("to")); err == nil {
		to = t.AddDate(0, 1, 0)
	}
	if !to.After(from) || to.Sub(from) > 5*366*24*time.Hour {
		to = from.AddDate(1, 0, 0)
	}
	return from, to
}

func (w *Web) campaignReach(rw http.ResponseWriter, r *http.Request) error {
	return w.renderReach(rw, r, http.StatusOK, nil)
}

func (w *Web) renderReach(rw http.ResponseWriter, r *http.Request, status int, f *form, badLines ...string) error {
	a := authn.ActorFrom(r)
	ctx := r.Context()
	from, to := reachPeriod(r, w.store.Now())
	reach, err := w.store.CampaignReach(ctx, a, from, to, r.URL.Query().Get("district"))
	if err != nil {
		return err
	}
	p := w.page(r, "campaign.reach.title", nil)
	d := reachData{Reach: reach, From: from.Format("2006-01"), To: to.AddDate(0, -1, 0).Format("2006-01"),
		CanEdit: access.CanEditTopics(a.Principal), Locked: access.AggregateFilter(a.Principal).District != "", Form: f,
		Metrics: events.Metrics(), Columns: strings.Join(events.FigureColumns(), ","), BadLines: badLines}
	if d.Figures, err = w.store.Figures(ctx, a, from, to); err != nil {
		return err
	}
	if d.Districts, err = w.store.Districts(ctx); err != nil {
		return err
	}
	if d.CanEdit {
		if d.Materials, err = w.store.CampaignMaterials(ctx, a); err != nil {
			return err
		}
	}
	d.Chart = template.HTML(reachChart(reach.Rows, reachChartLabels{Title: p.L.T("campaign.reach.chart"),
		Reached: p.L.T("campaign.reach.reached"), Contacts: p.L.T("campaign.reach.contacts"),
		Month: func(r events.ReachRow) string { return storage.CampaignMonthLabel(r.Month) }}))
	p.Data = d
	return w.render(rw, status, "campaign_reach", p)
}

func (w *Web) campaignAddFigure(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "figure", "metric", "value", "period_start", "period_end", "source", "as_of", "district", "material")
	fig := events.Figure{Metric: f.V("metric"), Source: f.V("source"), District: f.V("district")}
	var fields []apperr.FieldError
	var err error
	if fig.Value, err = strconv.ParseInt(f.V("value"), 10, 64); err != nil {
		fields = append(fields, apperr.Field("value", "events.error.number"))
	}
	fig.MaterialID, _ = strconv.ParseInt(f.V("material"), 10, 64)
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{"period_start", &fig.PeriodStart}, {"period_end", &fig.PeriodEnd}, {"as_of", &fig.AsOf}} {
		if t, ok := parseLocal(f.V(d.name)); ok {
			*d.dst = t
		} else {
			fields = append(fields, apperr.Field(d.name, "events.error.date"))
		}
	}
	if len(fields) > 0 {
		err = apperr.Validation(fields...)
	} else {
		_, err = w.store.AddFigure(r.Context(), authn.ActorFrom(r), fig)
	}
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderReach(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, fmt.Sprintf("/campaign/reach?from=%s#figures", r.URL.Query().Get("from")), http.StatusSeeOther)
	return nil
}

// campaignImportFigures imports a CSV file of figures from outside, each
// line with its source and date (events.ParseFiguresCSV). A file with a
// bad line imports nothing; the page lists every bad line.
func (w *Web) campaignImportFigures(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	if !access.CanEditTopics(a.Principal) {
		return apperr.New(apperr.NotFound, "error.page_not_found")
	}
	r.Body = http.MaxBytesReader(rw, r.Body, events.MaxFigureFile+64<<10)
	var err error
	file, _, ferr := r.FormFile("file")
	if ferr != nil {
		var mbe *http.MaxBytesError
		if errors.As(ferr, &mbe) {
			err = apperr.Validation(apperr.Field("file", "campaign.import.too_big", events.MaxFigureFile>>10))
		} else {
			err = apperr.Validation(apperr.Field("file", "error.required"))
		}
	} else {
		defer file.Close()
		var data []byte
		if data, err = io.ReadAll(io.LimitReader(file, events.MaxFigureFile+1)); err == nil {
			var rows []events.FigureRow
			if rows, err = events.ParseFiguresCSV(data); err == nil {
				_, err = w.store.AddFigures(r.Context(), a, rows)
			}
		}
	}
	if err != nil {
		f := &form{Name: "import", Values: map[string]string{}, Errors: map[string]string{}}
		p := w.page(r, "", nil)
		if ferr := f.fail(p, err); ferr != nil {
			return ferr
		}
		var lines []string
		for _, fe := range apperr.As(err).Fields {
			lines = append(lines, p.L.T(fe.Key, fe.Args...))
		}
		return w.renderReach(rw, r, statusOf(err), f, lines...)
	}
	http.Redirect(rw, r, fmt.Sprintf("/campaign/reach?from=%s#figures", r.URL.Query().Get("from")), http.StatusSeeOther)
	return nil
}
