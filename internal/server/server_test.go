package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"dayaq/internal/api/openapitest"
	"dayaq/internal/i18n"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestMain(m *testing.M) { storagetest.Main(m, openapitest.Report) }

func newServer(t *testing.T, db *storage.DB) *server.Server {
	t.Helper()
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func get(t *testing.T, h http.Handler, target string, header ...string) (*http.Response, string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, target, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result(), w.Body.String()
}

func TestProbes(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := openapitest.Wrap(newServer(t, db).Handler())
		for _, p := range []string{"/healthz", "/readyz"} {
			resp, b := get(t, h, p)
			if resp.StatusCode != http.StatusOK || b != "ok\n" {
				t.Errorf("%s: %d %q, want 200 ok", p, resp.StatusCode, b)
			}
			if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
				t.Errorf("%s: Cache-Control %q", p, cc)
			}
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
		if resp, b := get(t, h, "/readyz"); resp.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("/readyz with the database closed: %d %q, want 503", resp.StatusCode, b)
		}
		if resp, _ := get(t, h, "/healthz"); resp.StatusCode != http.StatusOK {
			t.Errorf("/healthz with the database closed: %d, want 200 (the process is up)", resp.StatusCode)
		}
	})
}

func TestMetrics(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		h := openapitest.Wrap(newServer(t, db).Handler())
		for _, target := range []string{
			"/api/v1/organisations",
			"/api/v1/organisations?type=nope",
			"/api/v1/no/such/thing-4711",
			"/statistika", // a public page: the sections are all behind sign-in now
			"/no-such-page/4711",
		} {
			get(t, h, target)
		}
		resp, b := get(t, h, "/metrics")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/metrics: status %d", resp.StatusCode)
		}
		for _, want := range []string{
			`dayaq_http_requests_total{code="200",method="GET",route="GET /api/v1/organisations"} 1`,
			`dayaq_http_requests_total{code="422",method="GET",route="GET /api/v1/organisations"} 1`,
			`dayaq_http_requests_total{code="404",method="GET",route="/api/v1/"} 1`,
			`dayaq_http_requests_total{code="200",method="GET",route="GET /statistika"} 1`,
			`dayaq_http_requests_total{code="404",method="GET",route="/"} 1`,
			`dayaq_http_request_duration_seconds_count{method="GET",route="GET /api/v1/organisations"} 2`,
			"go_goroutines ",
		} {
			if !strings.Contains(b, want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
		// the raw paths themselves, not "4711" alone: a metric's value
		// (a byte count, say) may hold those digits
		for _, path := range []string{"thing-4711", "no-such-page", "type=nope", `route="/events/`} {
			if strings.Contains(b, path) {
				t.Errorf("/metrics has a raw path or query (%q) in a label", path)
			}
		}
		// Pool stats, one set per pool: the SQLite writer and readers, or
		// the one PostgreSQL pool.
		pools := map[storage.Engine][]string{storage.SQLite: {"dayaq_read", "dayaq_write"}, storage.Postgres: {"dayaq_main"}}
		for _, p := range pools[db.Engine()] {
			for _, m := range []string{"go_sql_max_open_connections", "go_sql_open_connections", "go_sql_in_use_connections", "go_sql_wait_count_total"} {
				if want := m + `{db_name="` + p + `"}`; !strings.Contains(b, want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
		}
		if db.Engine() == storage.SQLite && !strings.Contains(b, `go_sql_max_open_connections{db_name="dayaq_write"} 1`+"\n") {
			t.Error("the SQLite writer pool is not limited to one connection")
		}
	})
}

func TestRequestID(t *testing.T) {
	h := openapitest.Wrap(newServer(t, storagetest.Open(t, storagetest.SQLiteDSN(t))).Handler())
	fresh := regexp.MustCompile(`^[0-9a-f]{24}$`)
	for _, tt := range []struct {
		in   string
		echo bool
	}{
		{"abcdefgh", true},
		{"req-2024.11.25_0001", true},
		{"0f6c1a4e-7d1b-4c2e-9a77-3c5d8e1f2a90", true},
		{strings.Repeat("a", 64), true},
		{"", false},
		{"short", false},
		{strings.Repeat("a", 65), false},
		{"has spaces in it", false},
		{"<script>alert(1)</script>", false},
		{"ünïcödé-id-123", false},
	} {
		t.Run(tt.in, func(t *testing.T) {
			for _, target := range []string{"/healthz", "/api/v1/nope"} {
				resp, b := get(t, h, target, "X-Request-ID", tt.in)
				got := resp.Header.Get("X-Request-ID")
				if tt.echo && got != tt.in {
					t.Errorf("%s: X-Request-ID %q, want it echoed", target, got)
				}
				if !tt.echo && (got == tt.in || !fresh.MatchString(got)) {
					t.Errorf("%s: X-Request-ID %q, want a fresh ID instead of %q", target, got, tt.in)
				}
				if strings.HasPrefix(target, "/api/") && !strings.Contains(b, `"request_id":"`+got+`"`) {
					t.Errorf("%s: problem does not carry the request ID %q: %s", target, got, b)
				}
			}
		})
	}
}

func TestServeShutsDownGracefully(t *testing.T) {
	s := newServer(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()

	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(b) != "ok\n" {
		t.Fatalf("/healthz: %d %q", resp.StatusCode, b)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve after cancel: %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return within 5s of cancel")
	}
	if _, err := http.Get("http://" + ln.Addr().String() + "/healthz"); err == nil {
		t.Error("server still answers after shutdown")
	}
}

// Serve reports a listener that fails instead of hanging.
func TestServeListenerClosed(t *testing.T) {
	s := newServer(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	done := make(chan error, 1)
	go func() { done <- s.Serve(context.Background(), ln) }()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("Serve on a closed listener returned nil")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve on a closed listener did not return")
	}
}
