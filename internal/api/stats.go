package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/disclosure"
	"dayaq/internal/org"
	"dayaq/internal/stats"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// StatsStore is what the statistics routes need of storage.
type StatsStore interface {
	DashboardCounts(ctx context.Context, a audit.Actor, q storage.StatsQuery) (stats.Figures, error)
	PublicCaseCounts(ctx context.Context, from, to time.Time) ([]stats.Group, error)
	PublicContactCounts(ctx context.Context, from, to time.Time) ([]stats.Group, error)
	PublicRegisterCounts(ctx context.Context) ([]stats.Group, error)
	SupportCounts(ctx context.Context, a audit.Actor, q storage.StatsQuery) (stats.Support, error)
}

func (a *API) statsRoutes() []Route {
	return []Route{
		{"GET", Prefix + "/stats/dashboard", a.getDashboard},
		{"GET", Prefix + "/stats/public", a.getPublicStats},
	}
}

type barJSON struct {
	Key        string `json:"key"`
	Value      *int   `json:"value"` // null where suppressed
	Suppressed bool   `json:"suppressed"`
	List       string `json:"list,omitempty"` // the API list behind the number, filtered so; none where suppressed
}

type chartJSON struct {
	ID              string    `json:"id"`
	Bars            []barJSON `json:"bars"`
	Total           *int      `json:"total"`
	TotalSuppressed bool      `json:"total_suppressed"`
	TotalList       string    `json:"total_list,omitempty"` // the API list behind the total
	View            string    `json:"view"`                 // "exact" or "suppressed", this chart's
}

type deadlineJSON struct {
	Org    string `json:"org"`
	Values []*int `json:"values"`         // ack met, missed, open; done met, missed, open; null where suppressed
	List   string `json:"list,omitempty"` // the API list behind the row (a body's referrals), where there is one
}

type deadlinesJSON struct {
	ID   string         `json:"id"`
	Rows []deadlineJSON `json:"rows"`
}

type dashboardJSON struct {
	View      string          `json:"view"` // "exact" or "suppressed"
	K         int             `json:"k"`
	Charts    []chartJSON     `json:"charts"`
	Deadlines []deadlinesJSON `json:"deadlines"`
}

func shown(v int, suppressed bool) *int {
	if suppressed {
		return nil
	}
	return &v
}

func (a *API) getDashboard(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	v := r.URL.Query()
	if v.Get("district") == "" && v.Get("school") == "" && v.Get("body") == "" {
		home := access.HomeScope(act.Principal)
		v.Set("district", home.District)
		if id := home.SchoolID + home.BodyID; id != 0 {
			os, err := a.store.Orgs(r.Context(), storage.OrgFilter{})
			if err != nil {
				return err
			}
			for _, o := range os {
				if o.ID == id && home.SchoolID != 0 {
					v.Set("school", o.Code)
				} else if o.ID == id {
					v.Set("body", o.Code)
				}
			}
		}
	}
	f, q, scope, fs := surface.ParseStatsFilter(v, func(code string) (org.Org, bool) {
		o, err := a.store.OrgByCode(r.Context(), code)
		return o, err == nil
	})
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	view := access.DecideStats(act.Principal, scope)
	if view == access.StatsNone {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	q.Exact = view == access.StatsExact
	q.Scoped = q.Exact
	fig, err := a.store.DashboardCounts(r.Context(), act, q)
	if err != nil {
		return err
	}
	b, err := stats.Build(fig, !q.Exact, disclosure.Options{Cache: a.protect}, func(_, key string) string { return key },
		surface.CaseChartLinks(Prefix+"/cases", Prefix+"/referrals", false, f))
	if err != nil {
		return err
	}
	out := dashboardJSON{View: "exact", K: disclosure.DefaultK, Charts: []chartJSON{}, Deadlines: []deadlinesJSON{}}
	if !q.Exact {
		out.View = "suppressed"
	}
	views := map[string]string{}
	for _, c := range b.Charts {
		views[c.ID] = out.View
	}
	support, _, err := surface.SupportChartsWith(r.Context(), a.store, act, scope, q, disclosure.Options{Cache: a.protect}, func(_, key string) string { return key },
		supportLinks(f, q))
	if err != nil {
		return err
	}
	sv := access.DecideSupportStats(act.Principal, scope)
	for _, c := range support {
		v := sv.Health
		if strings.HasPrefix(c.ID, "event") || strings.HasPrefix(c.ID, "campaign") {
			v = sv.Events
		}
		views[c.ID] = "exact"
		if v != access.StatsExact {
			views[c.ID] = "suppressed"
		}
	}
	for _, c := range append(b.Charts, support...) {
		cj := chartJSON{ID: c.ID, Bars: []barJSON{}, Total: shown(c.Total, c.TotalSuppressed), TotalSuppressed: c.TotalSuppressed,
			TotalList: c.TotalLink, View: views[c.ID]}
		for _, bar := range c.Bars {
			cj.Bars = append(cj.Bars, barJSON{Key: bar.Key, Value: shown(bar.Value, bar.Suppressed), Suppressed: bar.Suppressed, List: bar.Link})
		}
		out.Charts = append(out.Charts, cj)
	}
	for _, d := range b.Deadlines {
		dj := deadlinesJSON{ID: d.ID, Rows: []deadlineJSON{}}
		for _, row := range d.Rows {
			rj := deadlineJSON{Org: row.Org.Code, List: row.Link}
			for i := range 6 {
				rj.Values = append(rj.Values, shown(row.Values[i], row.Suppressed[i]))
			}
			dj.Rows = append(dj.Rows, rj)
		}
		out.Deadlines = append(out.Deadlines, dj)
	}
	return writeJSON(w, http.StatusOK, out)
}

// supportLinks gives the API list behind each support number of an exact
// dashboard, as the web UI links its own lists (surface.SupportTargetFor):
// the dashboard's school or district, its period as times (to exclusive),
// and the number's own condition.
func supportLinks(f surface.StatsFilter, q storage.StatsQuery) stats.Links {
	at := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	return func(chart, key string) string {
		t, ok := surface.SupportTargetFor(chart, key)
		if !ok {
			return ""
		}
		path := Prefix + "/" + t.List
		switch t.List {
		case "roll":
			path = Prefix + "/screening/pupils"
		case "showings":
			path = Prefix + "/campaign/showings"
		}
		return surface.SupportURL(path, t, f.School, f.District, at(q.From), at(q.To))
	}
}

type publicDimJSON struct {
	Name  string   `json:"name"`
	Codes []string `json:"codes"`
}

type publicCellJSON struct {
	Coords []int `json:"coords"` // -1 for a margin
	Value  *int  `json:"value"`  // null where suppressed
}

type publicTableJSON struct {
	ID    string           `json:"id"`
	Dims  []publicDimJSON  `json:"dims"`
	Cells []publicCellJSON `json:"cells"`
}

type publicJSON struct {
	K      int               `json:"k"`
	Symbol string            `json:"symbol"`
	Tables []publicTableJSON `json:"tables"`
}

// getPublicStats serves the public catalogue, protected, to anyone: no
// sign-in, the same cells as /statistika.
func (a *API) getPublicStats(w http.ResponseWriter, r *http.Request) error {
	tables, err := surface.PublicCatalogue(r.Context(), a.store, "en", func(level string) string { return level })
	if err != nil {
		return err
	}
	out := publicJSON{K: disclosure.DefaultK, Symbol: stats.Symbol, Tables: []publicTableJSON{}}
	for _, t := range tables {
		tj := publicTableJSON{ID: t.ID, Dims: []publicDimJSON{}, Cells: []publicCellJSON{}}
		for _, d := range t.Dims {
			tj.Dims = append(tj.Dims, publicDimJSON{Name: d.Name, Codes: d.Codes})
		}
		for i, c := range t.Result.Cells {
			tj.Cells = append(tj.Cells, publicCellJSON{Coords: c.Coords, Value: shown(c.Value, t.Result.Status[i].Suppressed())})
		}
		out.Tables = append(out.Tables, tj)
	}
	return writeJSON(w, http.StatusOK, out)
}
