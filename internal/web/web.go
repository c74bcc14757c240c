// Package web is Dayaq's server-rendered web UI: html/template pages with
// htmx, every asset embedded in the binary. Its routes are one table;
// handlers return an error, which one wrapper renders as an HTML page in
// the user's language.
package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"maps"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/authn"
	"dayaq/internal/blob"
	"dayaq/internal/danis"
	"dayaq/internal/disclosure"
	"dayaq/internal/events"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/rosterrun"
	"dayaq/internal/storage"
)

//go:embed templates static
var files embed.FS

// Web serves the UI.
type Web struct {
	cat     *i18n.Catalog
	log     *slog.Logger
	store   Store
	audit   AuditStore
	authn   *authn.Authn
	vault   *blob.Vault
	rosters *rosterrun.Runner
	gate    *danis.Gate          // "Mənimlə danış": the global limit on new conversations
	fbGate  *events.FeedbackGate // each event's budget of anonymous feedback a minute
	// publicURL is the platform's public address (serve --public-url),
	// without a trailing slash, for absolute links such as the feedback QR
	// code; "" means the request's own host.
	publicURL string
	pages     map[string]*template.Template
	assets    map[string]string // file name → content hash, for cache-busting URLs
	down      *httpx.Throttle   // the database-down warning, once a minute (ops.go)
	// exportRows is the most rows an XLSX export is built for in the
	// request (0: exportRowLimit); above it, a background job.
	exportRows int
	// protect remembers the dashboards' suppression patterns by their
	// exact counts (ADR 0038)
	protect *disclosure.Cache
}

// Deps are what the UI's pages need from the rest of the platform.
type Deps struct {
	Store Store
	Audit AuditStore
	Authn *authn.Authn // signs people in; the account pages use it
	Vault *blob.Vault  // case attachments' encrypted bytes; nil: attachments off
	// Rosters runs roster imports in the server's lifecycle; nil: the UI's
	// own runner, spooling in the system temp directory (tests).
	Rosters *rosterrun.Runner
	Gate    *danis.Gate // the children's channel's limits, shared with the API; nil: a gate of its own
	// FeedbackGate limits each event's anonymous feedback a minute, shared
	// with the API; nil: a gate of its own with the default limit.
	FeedbackGate *events.FeedbackGate
	// PublicURL is the platform's public address (http(s)://host[/path]),
	// for absolute links; "": the request's host.
	PublicURL string
	// ExportRowLimit is the most rows an XLSX export is built for in the
	// request; 0: exportRowLimit (tests set it low).
	ExportRowLimit int
}

// New parses the templates and hashes the static files.
func New(cat *i18n.Catalog, log *slog.Logger, deps Deps) (*Web, error) {
	w := &Web{cat: cat, log: log, store: deps.Store, audit: deps.Audit, authn: deps.Authn, vault: deps.Vault, rosters: deps.Rosters, gate: deps.Gate, exportRows: deps.ExportRowLimit, protect: disclosure.NewCache(512), pages: map[string]*template.Template{}, assets: map[string]string{},
		down: httpx.NewThrottle(time.Minute)}
	if w.gate == nil {
		w.gate = danis.NewGate(danis.DefaultLimit, 0, danis.DefaultWrongLimit)
	}
	w.fbGate, w.publicURL = deps.FeedbackGate, strings.TrimSuffix(deps.PublicURL, "/")
	if w.fbGate == nil {
		w.fbGate = events.NewFeedbackGate(0)
	}
	if w.rosters == nil && w.store != nil {
		w.rosters = rosterrun.NewRunner(w.rosterStore(), log, "")
	}
	err := fs.WalkDir(files, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := files.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		w.assets[strings.TrimPrefix(p, "static/")] = hex.EncodeToString(sum[:6])
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: hash assets: %w", err)
	}
	funcs := template.FuncMap{"asset": w.assetURL, "field": inputField, "when": when, "matchBox": matchBox,
		"inc": func(i int) int { return i + 1 }, "int64": func(i int) int64 { return int64(i) },
		"pair": func(a, b storage.ChildRecord) []storage.ChildRecord { return []storage.ChildRecord{a, b} }}
	maps.Copy(funcs, referralFuncs())
	maps.Copy(funcs, eventFuncs())
	maps.Copy(funcs, screeningFuncs())
	names, err := fs.Glob(files, "templates/pages/*.html")
	if err != nil {
		return nil, fmt.Errorf("web: list templates: %w", err)
	}
	for _, n := range names {
		t, err := template.New(path.Base(n)).Funcs(funcs).ParseFS(files, "templates/layout.html", "templates/*partials.html", "templates/partials/*.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: parse %s: %w", n, err)
		}
		w.pages[strings.TrimSuffix(path.Base(n), ".html")] = t
	}
	return w, nil
}

// assetURL is the cache-busting URL of a static file.
func (w *Web) assetURL(name string) (string, error) {
	h, ok := w.assets[name]
	if !ok {
		return "", fmt.Errorf("web: no static file %q", name)
	}
	return "/static/" + name + "?v=" + h, nil
}

// Input is one labelled text input of a form, for the "input" partial.
type Input struct {
	Name, Label, Value, Type, Autocomplete, Error string
}

// fieldErrors is form data that knows what is wrong with each field.
type fieldErrors interface{ FieldError(name string) string }

// inputField builds the "input" partial's data: the label comes from the
// catalogue key "field."+name, the error from the page's form data.
func inputField(p Page, name, value, typ, autocomplete string) Input {
	in := Input{Name: name, Label: p.L.T("field." + name), Value: value, Type: typ, Autocomplete: autocomplete}
	if fe, ok := p.Data.(fieldErrors); ok {
		in.Error = fe.FieldError(name)
	}
	return in
}

// handlerFunc is a UI handler: it renders a page or returns an error for
// the wrapper to render.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

type route struct {
	pattern string
	handle  handlerFunc
}

// routes is the UI's route table.
func (w *Web) routes() []route {
	rs := []route{
		{"GET /{$}", w.home},
	}
	rs = append(rs, w.childRoutes()...)
	rs = append(rs, w.hotlineRoutes()...)
	rs = append(rs, w.caseRoutes()...)
	rs = append(rs, w.matchRoutes()...)
	rs = append(rs, w.rosterRoutes()...)
	rs = append(rs, w.accountRoutes()...)
	rs = append(rs, w.workgroupRoutes()...)
	rs = append(rs, w.referralRoutes()...)
	rs = append(rs, w.notifyRoutes()...)
	rs = append(rs, w.eventRoutes()...)
	rs = append(rs, w.campaignRoutes()...)
	rs = append(rs, w.screeningRoutes()...)
	rs = append(rs, w.planRoutes()...)
	rs = append(rs, w.statsRoutes()...)
	rs = append(rs, w.danisRoutes()...)
	for _, s := range Sections() {
		if !slices.ContainsFunc(rs, func(r route) bool { return r.pattern == "GET /"+s.Slug }) {
			rs = append(rs, route{"GET /" + s.Slug, w.section(s)})
		}
	}
	return rs
}

// Register adds the UI's routes and static files to mux, and a fallback
// that renders "not found" as a page.
func (w *Web) Register(mux *http.ServeMux) {
	for _, rt := range w.routes() {
		mux.Handle(rt.pattern, w.wrap(rt.handle))
	}
	mux.Handle("GET /static/", w.static())
	mux.Handle("/", w.wrap(func(http.ResponseWriter, *http.Request) error {
		return apperr.New(apperr.NotFound, "error.page_not_found")
	}))
}

func (w *Web) wrap(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := h(rw, r); err != nil {
			w.renderError(rw, r, err)
		}
	})
}

func (w *Web) static() http.Handler {
	sub, _ := fs.Sub(files, "static")
	fsrv := http.FileServerFS(sub)
	return http.StripPrefix("/static/", http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if h, ok := w.assets[r.URL.Path]; ok && r.URL.Query().Get("v") == h {
			rw.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			rw.Header().Set("Cache-Control", "no-cache")
		}
		fsrv.ServeHTTP(rw, r)
	}))
}

// Page is what every template gets: the localizer, the chrome, and the
// page's own data.
type Page struct {
	L         i18n.Localizer
	Title     string // catalogue key of the page title
	Path      string // the current path, for the language links and navigation
	Langs     []LangLink
	Nav       []NavItem
	Data      any
	RequestID string
	User      access.Principal    // who is signed in; the zero Principal for a visitor
	CSRF      string              // the session's form token: every state-changing form carries it
	Unread    int                 // the signed-in user's unread notifications, for the bell
	Queues    storage.QueueCounts // the case queues' counts (navigation badges, the queue tabs)
	Register  int                 // what awaits the user's decision on the register (navigation badge)
	counted   bool                // Unread and Queues were read
	now       time.Time           // the platform clock when the page was made (Remaining)
}

// LangLink is one entry of the language switch.
type LangLink struct {
	Lang    i18n.Lang
	Name    string // the language's own name
	URL     string
	Current bool
}

// NavItem is one entry of the navigation.
type NavItem struct {
	Slug, Key string
	Title     string // the entry's name from the catalogue (Key + ".title"), read once per page
	Current   bool
	Badges    []Badge // counts beside the entry (the case queues)
}

func (w *Web) page(r *http.Request, title string, data any) Page {
	l := w.cat.For(httpx.Lang(r.Context()))
	p := Page{L: l, Title: title, Path: r.URL.Path, Data: data, RequestID: httpx.RequestID(r.Context()),
		User: authn.PrincipalFrom(r.Context())}
	p.CSRF = authn.CSRFToken(r.Context()) // a full or half signed-in session's form token
	if w.store != nil {
		p.now = w.store.Now()
		if p.User.Authenticated() {
			w.navCounts(r, &p)
		}
	}
	for _, lang := range i18n.Langs() {
		q := r.URL.Query()
		q.Set("lang", string(lang))
		p.Langs = append(p.Langs, LangLink{Lang: lang, Name: w.cat.T(lang, "lang.self"),
			URL: r.URL.Path + "?" + q.Encode(), Current: lang == l.Lang})
	}
	for _, s := range NavFor(p.User) {
		p.Nav = append(p.Nav, NavItem{Slug: s.Slug, Key: s.Key, Title: l.T(s.Key + ".title"),
			Current: r.URL.Path == "/"+s.Slug})
	}
	w.caseBadges(r, &p)
	return p
}

// render executes the named page into a buffer first, so that a template
// error becomes an error page instead of half a page.
func (w *Web) render(rw http.ResponseWriter, status int, name string, p Page) error {
	t, ok := w.pages[name]
	if !ok {
		return fmt.Errorf("web: no page %q", name)
	}
	var buf bytes.Buffer
	buf.Grow(32 << 10) // a list page's size: written once, not grown and copied along the way
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		return fmt.Errorf("web: render %s: %w", name, err)
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(p.L.Lang))
	h.Set("Cache-Control", "no-store")
	rw.WriteHeader(status)
	_, err := buf.WriteTo(rw)
	return err
}

// errorData is the error page's data.
type errorData struct {
	Status int
	Text   string // translated message
}

func (w *Web) renderError(rw http.ResponseWriter, r *http.Request, err error) {
	err = storage.Classify(err)
	e := apperr.As(err)
	status := httpx.Status(e)
	httpx.ErrorHeaders(rw.Header(), status)
	if w.transient(rw, r, e) {
		// said once a minute, not once a request (ops.go)
	} else if status >= 500 && !errors.Is(err, context.Canceled) {
		w.log.ErrorContext(r.Context(), "page failed", "err", err, "request_id", httpx.RequestID(r.Context()), "route", r.Pattern)
	}
	p := w.page(r, "error.title", nil)
	p.Data = errorData{Status: status, Text: p.L.T(e.Key, e.Args...)}
	if rerr := w.render(rw, status, "error", p); rerr != nil {
		w.log.ErrorContext(r.Context(), "error page failed", "err", rerr)
		http.Error(rw, http.StatusText(status), status)
	}
}

func (w *Web) home(rw http.ResponseWriter, r *http.Request) error {
	if !authn.PrincipalFrom(r.Context()).Authenticated() {
		authn.RedirectToSignIn(rw, r)
		return nil
	}
	return w.render(rw, http.StatusOK, "home", w.page(r, "home.title", nil))
}

// fieldMessages renders the messages of e's fields in l, keyed by field
// (through rename, when given, to the name the form uses); the first
// message of a field wins. Every form that shows errors by its fields
// fills them from here.
func fieldMessages(l i18n.Localizer, e *apperr.Error, rename func(string) string) map[string]string {
	out := make(map[string]string, len(e.Fields))
	for _, fe := range e.Fields {
		k := fe.Field
		if rename != nil {
			k = rename(k)
		}
		if _, dup := out[k]; !dup {
			out[k] = l.T(fe.Key, fe.Args...)
		}
	}
	return out
}
