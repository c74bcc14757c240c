// Package server composes Dayaq's HTTP surfaces — probes, the JSON API, the
// web UI — behind the middleware they share, and runs them with timeouts
// and a graceful shutdown.
package server

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"dayaq/internal/api"
	"dayaq/internal/apperr"
	"dayaq/internal/authn"
	"dayaq/internal/danis"
	"dayaq/internal/events"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/jobs"
	"dayaq/internal/rosterrun"
	"dayaq/internal/storage"
	"dayaq/internal/web"
)

// Server is Dayaq's HTTP server.
type Server struct {
	db      *storage.DB
	log     *slog.Logger
	handler http.Handler
	metrics *httpMetrics
	down    *httpx.Throttle   // "not ready", once a minute
	rosters *rosterrun.Runner // roster imports: shutdown waits for them, then cancels them
	// metricsHandler answers /metrics: on the main handler, or apart
	// (WithMetricsApart) on a listener of its own.
	metricsHandler http.Handler
	ui             *web.Web
}

// Jobs are the surfaces' background jobs, for serve's runner: building
// the queued exports.
func (s *Server) Jobs() []jobs.Job { return s.ui.Jobs() }

// RunExports builds the queued exports now (tests; serve runs Jobs).
func (s *Server) RunExports(ctx context.Context) (int, error) { return s.ui.RunExports(ctx) }

// MetricsHandler returns the Prometheus handler, for a listener of its own.
func (s *Server) MetricsHandler() http.Handler { return s.metricsHandler }

// ServeMetrics answers GET /metrics alone on ln until ctx is cancelled.
func (s *Server) ServeMetrics(ctx context.Context, ln net.Listener) error {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", s.metricsHandler)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelWarn)}
	stop := context.AfterFunc(ctx, func() { srv.Close() })
	defer stop()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: metrics: %w", err)
	}
	return nil
}

// New wires the surfaces over db.
func New(db *storage.DB, cat *i18n.Catalog, log *slog.Logger, opts ...Option) (*Server, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	an := authn.New(db, db.Now, authn.Config{Catalog: cat, Log: log})
	rosters := rosterrun.NewRunner(db, log, cfg.spoolDir)
	gate := cfg.gate // one per process, shared by the page and the API
	if gate == nil {
		gate = danis.NewGate(danis.DefaultLimit, 0, danis.DefaultWrongLimit)
	}
	fbGate := cfg.fbGate // likewise one per process
	if fbGate == nil {
		fbGate = events.NewFeedbackGate(0)
	}
	ui, err := web.New(cat, log, web.Deps{Store: db, Audit: db, Authn: an, Vault: cfg.vault, Rosters: rosters, Gate: gate,
		FeedbackGate: fbGate, PublicURL: cfg.publicURL, ExportRowLimit: cfg.exportRows})
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for name, pool := range db.Pools() {
		reg.MustRegister(collectors.NewDBStatsCollector(pool, "dayaq_"+name))
	}
	s := &Server{db: db, log: log, metrics: newHTTPMetrics(reg), rosters: rosters, down: httpx.NewThrottle(time.Minute), ui: ui}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	s.metricsHandler = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	if !cfg.metricsApart {
		mux.Handle("GET /metrics", s.metricsHandler)
	}
	api.New(db, cat, log).WithVault(cfg.vault).WithRosters(rosters).WithDanisGate(gate).WithFeedbackGate(fbGate).WithPublicURL(cfg.publicURL).Register(mux)
	ui.Register(mux)

	// Cross-origin protection rejects a state-changing request that a
	// browser sends from another site (Sec-Fetch-Site, else Origin against
	// Host); the per-session form token (authn.CheckCSRF) is the second
	// line. Authn runs after the language is known, so its refusals are
	// translated.
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := apperr.New(apperr.Forbidden, "error.cross_origin")
		if strings.HasPrefix(r.URL.Path, api.Prefix+"/") {
			an.Problem(w, r, err)
			return
		}
		ui.ErrorHandler(err).ServeHTTP(w, r)
	}))
	s.handler = httpx.RequestIDs(s.recoverer(httpx.SecurityHeaders(httpx.Languages(cat)(
		cop.Handler(an.Middleware(s.observe(mux)))))))
	return s, nil
}

// Handler returns the composed handler (tests use it with httptest).
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers requests on ln until ctx is cancelled, then stops taking
// new requests and waits up to 20 seconds for those in flight.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second, // roster uploads
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("server: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	serr := srv.Shutdown(sctx)
	// Roster imports outlive their requests: wait for them in the time left,
	// then cancel them (they end failed), before the database is closed.
	s.rosters.Close(sctx)
	if serr != nil {
		return fmt.Errorf("server: shutdown: %w", serr)
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("server: %w", err)
	}
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("ok\n"))
}

func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ready(ctx); err != nil {
		// The probe is polled every few seconds: say it once a minute.
		if s.down.Allow(time.Now()) {
			s.log.WarnContext(ctx, "not ready", "err", err)
		}
		w.Header().Set("Retry-After", cmp.Or(apperr.RetryAfter(apperr.CodeOf(err)), "5"))
		w.WriteHeader(http.StatusServiceUnavailable)
		msg := "database unreachable\n"
		if apperr.CodeOf(err) == apperr.InsufficientStorage {
			msg = "database disk full: writes fail\n"
		}
		_, _ = w.Write([]byte(msg))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}

// recoverer turns a panic into a 500 and a log line, and keeps serving.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(r.Context(), "panic", "panic", fmt.Sprint(v), "request_id", httpx.RequestID(r.Context()),
					"stack", string(debug.Stack()))
				http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// statusWriter remembers the status a handler wrote.
type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

type httpMetrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "dayaq_http_requests_total", Help: "HTTP requests by route pattern, method and status.",
		}, []string{"route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "dayaq_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"route", "method"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

// observe counts and times each request by its route pattern (never by
// its path, which may carry an ID) and logs it. It sits right around the
// mux, so the mux sets r.Pattern on the very request it sees.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		d := time.Since(start)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		route := r.Pattern
		if route == "" {
			route = "unmatched"
		}
		s.metrics.requests.WithLabelValues(route, r.Method, strconv.Itoa(sw.status)).Inc()
		s.metrics.latency.WithLabelValues(route, r.Method).Observe(d.Seconds())
		level := slog.LevelInfo
		// 503 and 507 say the database is down or full: the surface that
		// answered has warned once (ADR 0028), so no error line each.
		if sw.status >= 500 && sw.status != http.StatusServiceUnavailable && sw.status != http.StatusInsufficientStorage {
			level = slog.LevelError
		}
		if httpx.Anonymous(r.URL.Path) {
			// The children's channel: the route and the status, nothing
			// that could tie a line to a client or a request (ADR 0024).
			s.log.LogAttrs(context.Background(), level, "request",
				slog.String("route", route), slog.Int("status", sw.status))
			return
		}
		s.log.LogAttrs(r.Context(), level, "request",
			slog.String("request_id", httpx.RequestID(r.Context())),
			slog.String("method", r.Method),
			slog.String("route", route), // the pattern, never the path: paths carry record IDs
			slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes),
			slog.Duration("duration", d),
		)
	})
}
