// Package api is Dayaq's JSON API under /api/v1. Its routes are one table
// (Routes), described by the OpenAPI 3.1 document served at
// /api/v1/openapi.json; a test keeps the two equal. Handlers return an
// error, which one wrapper answers as application/problem+json (RFC 9457).
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/blob"
	"dayaq/internal/child"
	"dayaq/internal/danis"
	"dayaq/internal/disclosure"
	"dayaq/internal/events"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/match"
	"dayaq/internal/org"
	"dayaq/internal/rosterrun"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// Prefix is where the API lives.
const Prefix = "/api/v1"

// Store is what the API needs of storage.
type Store interface {
	Now() time.Time
	Districts(ctx context.Context) ([]org.DistrictInfo, error)
	Orgs(ctx context.Context, f storage.OrgFilter) ([]org.Org, error)
	OrgByCode(ctx context.Context, code string) (org.Org, error)

	ChildFor(ctx context.Context, a audit.Actor, id int64) (storage.ChildRecord, error)
	ListChildren(ctx context.Context, a audit.Actor, q storage.ChildQuery) ([]storage.ChildRecord, error)
	CreateChild(ctx context.Context, a audit.Actor, ch child.Child, schoolCode string) (storage.ChildRecord, error)
	UpdateChild(ctx context.Context, a audit.Actor, ch child.Child, schoolCode string) (storage.ChildRecord, error)

	OpenBreakGlass(ctx context.Context, a audit.Actor, childID int64, reason string) (storage.BreakGlass, error)
	BreakGlassOpeningsFor(ctx context.Context, a audit.Actor, f storage.BreakGlassFilter) ([]storage.BreakGlass, error)
	ReviewBreakGlass(ctx context.Context, a audit.Actor, id int64, note string) error

	AuditEventsFor(ctx context.Context, a audit.Actor, f storage.AuditFilter) ([]audit.Event, error)

	HotlineStore
	NotifyStore
	surface.CaseStore
	MatchChildren(ctx context.Context, a audit.Actor, q match.Query) ([]storage.MatchCandidate, error)
	WorkgroupStore
	ReferralStore
	RosterStore
	DanisStore
	EventsStore
	ScreeningStore
	surface.PlanStore
	StatsStore
}

// API serves /api/v1.
type API struct {
	store  Store
	cat    *i18n.Catalog
	log    *slog.Logger
	doc    []byte // the OpenAPI document, merged from its parts
	docErr error
	vault  *blob.Vault     // attachments' encrypted bytes (WithVault)
	down   *httpx.Throttle // the database-down warning, once a minute (ops.go)
	// rosters runs roster imports (WithRosters; by default one of the
	// API's own, spooling in the system temp directory).
	rosters *rosterrun.Runner
	gate    *danis.Gate          // the children's channel's limits (WithDanisGate)
	fbGate  *events.FeedbackGate // each event's feedback a minute (WithFeedbackGate)
	// publicURL is the platform's public address (WithPublicURL); "": the
	// request's host.
	publicURL string
	// protect remembers the dashboards' suppression patterns by their
	// exact counts (disclosure.Cache, ADR 0038).
	protect *disclosure.Cache
}

// WithPublicURL sets the platform's public address (serve --public-url) for
// the absolute links the API prints, such as the parent's letter.
func (a *API) WithPublicURL(u string) *API {
	a.publicURL = strings.TrimSuffix(u, "/")
	return a
}

// New returns the API over store.
func New(store Store, cat *i18n.Catalog, log *slog.Logger) *API {
	a := &API{store: store, cat: cat, log: log, down: httpx.NewThrottle(time.Minute),
		gate: danis.NewGate(danis.DefaultLimit, 0, danis.DefaultWrongLimit), fbGate: events.NewFeedbackGate(0),
		protect: disclosure.NewCache(512)}
	a.doc, a.docErr = buildOpenAPI(openAPIFS)
	if store != nil {
		a.rosters = rosterrun.NewRunner(store, log, "")
	}
	return a
}

// WithRosters makes the API start roster imports on rn, the server's
// runner, whose lifecycle shutdown tracks.
func (a *API) WithRosters(rn *rosterrun.Runner) *API {
	if rn != nil {
		a.rosters = rn
	}
	return a
}

// handlerFunc is an API handler: it writes a success response or returns
// an error for the wrapper to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// Route is one entry of the route table.
type Route struct {
	Method, Path string
	handle       handlerFunc
}

// Routes is the API's route table; paths are relative to the server root.
// Each feature lists its routes in its own file; they are joined here.
func (a *API) Routes() []Route {
	rs := []Route{
		{"GET", Prefix + "/openapi.json", a.openAPI},
		{"GET", Prefix + "/districts", a.listDistricts},
		{"GET", Prefix + "/organisations", a.listOrgs},
		{"GET", Prefix + "/me", a.getMe},
		{"GET", Prefix + "/audit", a.listAudit},
	}
	rs = append(rs, a.childRoutes()...)
	rs = append(rs, a.hotlineRoutes()...)
	rs = append(rs, a.notifyRoutes()...)
	rs = append(rs, a.caseRoutes()...)
	rs = append(rs, a.matchRoutes()...)
	rs = append(rs, a.workgroupRoutes()...)
	rs = append(rs, a.referralRoutes()...)
	rs = append(rs, a.rosterRoutes()...)
	rs = append(rs, a.danisRoutes()...)
	rs = append(rs, a.eventRoutes()...)
	rs = append(rs, a.campaignRoutes()...)
	rs = append(rs, a.screeningRoutes()...)
	rs = append(rs, a.planRoutes()...)
	rs = append(rs, a.statsRoutes()...)
	return rs
}

// Public lists the routes anyone may call without signing in: the API's
// own description, the directory of districts and organisations, a
// parent's anonymous answer to an event's feedback form, the public
// statistics and the children's anonymous channel.
// Every other route goes through gate.
func Public(method, path string) bool {
	switch method + " " + path {
	case "GET " + Prefix + "/openapi.json", "GET " + Prefix + "/districts", "GET " + Prefix + "/organisations",
		"GET " + Prefix + "/stats/public",     // the public statistics (ADR 0025)
		"POST " + Prefix + "/feedback/{code}": // a parent's anonymous answer to an event (ADR 0022)
		return true
	// "Mənimlə danış": a child writes without an account; the follow-up
	// code in the body is the key (ADR 0024).
	case "GET " + Prefix + "/danis/question", "POST " + Prefix + "/danis/start", "POST " + Prefix + "/danis/read",
		"POST " + Prefix + "/danis/write":
		return true
	}
	return false
}

// gate is authentication and the read-only-token rule, once for the whole
// route table (ADR 0016): nobody signed in is Unauthorized; a request that
// changes something must carry the session's form token when a browser's
// session cookie signs it (a bearer token needs none: browsers never send
// one by themselves), and an API token must allow writing. Handlers then
// only read the actor (actor) and ask the policy.
func gate(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		a := authn.ActorFrom(r)
		if !a.Authenticated() {
			return apperr.New(apperr.Unauthorized, "error.unauthorized")
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if err := authn.CheckCSRF(r); err != nil {
				return err
			}
			if a.Scopes != nil && !slices.Contains(a.Scopes, access.ScopeWrite) {
				return apperr.New(apperr.Forbidden, "tokens.error.read_only")
			}
		}
		return h(w, r)
	}
}

// Register adds the API's routes to mux, each but the public ones behind
// the gate, and a fallback that answers unknown API paths with a problem
// document.
func (a *API) Register(mux *http.ServeMux) {
	for _, rt := range a.Routes() {
		h := rt.handle
		if !Public(rt.Method, rt.Path) {
			h = gate(h)
		}
		mux.Handle(rt.Method+" "+rt.Path, a.wrap(h))
	}
	mux.Handle(Prefix+"/", a.wrap(func(http.ResponseWriter, *http.Request) error {
		return apperr.New(apperr.NotFound, "error.not_found")
	}))
}

func (a *API) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.problem(w, r, err)
		}
	})
}

func (a *API) openAPI(w http.ResponseWriter, _ *http.Request) error {
	if a.docErr != nil {
		return a.docErr
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(a.doc)
	return err
}

// now reads the platform's one clock, the store's (tests set it).
func (a *API) now() time.Time { return a.store.Now() }

// writeJSON answers v with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	return json.NewEncoder(w).Encode(v)
}

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Detail    string         `json:"detail,omitempty"`
	Instance  string         `json:"instance,omitempty"`
	RequestID string         `json:"request_id,omitempty"`
	Errors    []ProblemField `json:"errors,omitempty"`
}

// ProblemField names one field at fault.
type ProblemField struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
}

// StatusOf maps an error code to its HTTP status (httpx.Status, the one
// table every surface shares).
func StatusOf(e *apperr.Error) int { return httpx.Status(e) }

// problem answers err as a problem document in the request's language.
// Only internal errors are logged; their detail never reaches the client.
func (a *API) problem(w http.ResponseWriter, r *http.Request, err error) {
	err = storage.Classify(err)
	e := apperr.As(err)
	status := StatusOf(e)
	l := a.cat.For(httpx.Lang(r.Context()))
	if a.transient(w, r, e) {
		// said once a minute, not once a request (ops.go)
	} else if status >= 500 && !errors.Is(err, context.Canceled) {
		a.log.ErrorContext(r.Context(), "api request failed", "err", err, "request_id", httpx.RequestID(r.Context()),
			"route", r.Pattern)
	}
	p := Problem{
		Type:      "urn:dayaq:problem:" + string(e.Code),
		Title:     l.T("problem." + string(e.Code)),
		Status:    status,
		Detail:    l.T(e.Key, e.Args...),
		Instance:  r.URL.Path,
		RequestID: httpx.RequestID(r.Context()),
	}
	for _, f := range e.Fields {
		p.Errors = append(p.Errors, ProblemField{Field: f.Field, Detail: l.T(f.Key, f.Args...)})
	}
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.Header().Set("Content-Language", string(l.Lang))
	w.Header().Set("Cache-Control", "no-store")
	httpx.ErrorHeaders(w.Header(), status)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// page reads the limit query parameter: 1..max, default def.
func page(r *http.Request, def, max int) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > max {
		return 0, apperr.Validation(apperr.Field("limit", "error.range", 1, max))
	}
	return n, nil
}
