package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"dayaq/internal/apperr"
	"dayaq/internal/authn"
	"dayaq/internal/events"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// listScope reads the school or district and the period that a
// dashboard's number narrows a list to, in the dashboard's own fields
// and with its rules (dates in Baku, "to" inclusive).
func (w *Web) listScope(r *http.Request) (surface.StatsFilter, storage.StatsQuery, error) {
	f, q, _, fs := surface.ParseStatsFilter(r.URL.Query(), func(code string) (org.Org, bool) {
		o, err := w.store.OrgByCode(r.Context(), code)
		return o, err == nil
	})
	if len(fs) > 0 {
		return f, q, apperr.Validation(fs...)
	}
	return f, q, nil
}

// scopeWords says a dashboard's (or a list's) scope in words.
func scopeWords(l i18n.Localizer, f surface.StatsFilter) string {
	switch {
	case f.School != "":
		return l.T("stats.scope.school", f.School)
	case f.Body != "":
		return l.T("stats.scope.body", f.Body)
	case f.District != "":
		return l.T("stats.scope.district", districtName(f.District, string(l.Lang)))
	}
	return l.T("stats.scope.city")
}

// periodWords says a list's period, or nothing when it has none.
func periodWords(l i18n.Localizer, f surface.StatsFilter) string {
	if f.From == "" && f.To == "" {
		return ""
	}
	return l.T("stats.list.period", f.From, f.To)
}

// rollListData is the list of pupils on the roll behind the screening
// coverage.
type rollListData struct {
	Pupils   []storage.RollPupil
	Screened string // "yes", "no", ""
	Scope    string
	Period   string
	Next     string // the next page's address
}

// nextPage is the address of a list's next page: the same filters, after
// the cursor of this page's last row.
func nextPage(path string, v url.Values, after string) string {
	next := url.Values{}
	for k, vs := range v {
		next[k] = vs
	}
	next.Set("after", after)
	return path + "?" + next.Encode()
}

// rollList lists the pupils on the roll, screened in the period or not,
// under the screening policy: the list behind the screening coverage.
func (w *Web) rollList(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	f, q, err := w.listScope(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	rq := storage.RollQuery{SchoolID: q.SchoolID, District: q.District, From: q.From, To: q.To, Screened: v.Get("screened"), Limit: 200}
	if s := v.Get("after"); s != "" {
		if rq.After, err = strconv.ParseInt(s, 10, 64); err != nil {
			return apperr.Validation(apperr.Field("after", "error.cursor"))
		}
	}
	ps, err := w.store.RollList(r.Context(), a, rq)
	if err != nil {
		return err
	}
	p := w.page(r, "screening.roll.title."+rollWhich(rq.Screened), nil)
	d := rollListData{Pupils: ps, Screened: rq.Screened, Scope: scopeWords(p.L, f), Period: periodWords(p.L, f)}
	if len(ps) == rq.Limit {
		d.Next = nextPage("/screening/pupils", v, strconv.FormatInt(ps[len(ps)-1].ChildID, 10))
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "screening_pupils", p)
}

func rollWhich(screened string) string {
	if screened == "" {
		return "all"
	}
	return screened
}

// showingsListData is the list of campaign showings behind the
// campaign's bars.
type showingsListData struct {
	Showings []events.Showing
	Kind     string
	Scope    string
	Period   string
	Next     string // the next page's address
}

// showingsList lists the campaign showings the viewer may see, narrowed to
// a kind of material, a school or district and a period: the list behind
// the showings by kind and the reach.
func (w *Web) showingsList(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	f, q, err := w.listScope(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	sq := storage.ShowingQuery{From: q.From, To: q.To, SchoolID: q.SchoolID, District: q.District, Limit: 200, After: v.Get("after")}
	if k := events.Kind(v.Get("kind")); k != "" {
		if !slices.Contains(events.Kinds(), k) {
			return apperr.Validation(apperr.Field("kind", "campaign.error.kind"))
		}
		sq.Kind = k
	}
	ss, err := w.store.Showings(r.Context(), a, sq)
	if err != nil {
		return err
	}
	p := w.page(r, "campaign.showings.list", nil)
	d := showingsListData{Showings: ss, Kind: string(sq.Kind), Scope: scopeWords(p.L, f), Period: periodWords(p.L, f)}
	if len(ss) == sq.Limit {
		d.Next = nextPage("/campaign/showings", v, storage.TimeCursor(ss[len(ss)-1].ShownAt, ss[len(ss)-1].ID))
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "campaign_showings", p)
}

// eventFilter reads the narrowing a dashboard's number gives the events
// list (status, school or district, period); ok is false when the
// request carries none, and the calendar shows its school year.
func (w *Web) eventFilter(r *http.Request) (q storage.EventQuery, f surface.StatsFilter, ok bool, err error) {
	v := r.URL.Query()
	for _, k := range []string{"status", "school", "district", "from", "to"} {
		ok = ok || v.Get(k) != ""
	}
	if !ok {
		return q, f, false, nil
	}
	f, sq, err := w.listScope(r)
	if err != nil {
		return q, f, true, err
	}
	q = storage.EventQuery{From: sq.From, To: sq.To, SchoolID: sq.SchoolID, District: sq.District}
	if s := events.Status(v.Get("status")); s != "" {
		if !slices.Contains(events.Statuses(), s) {
			return q, f, true, apperr.Validation(apperr.Field("status", "events.error.status"))
		}
		q.Status = s
	}
	return q, f, true, nil
}
