package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"dayaq/internal/i18n"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func TestMain(m *testing.M) { storagetest.Main(m) }

// syncBuffer is a bytes.Buffer safe for the server's goroutines to write
// while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// env is the environment a test runs the command in: English messages and
// no DAYAQ_DB unless the test says otherwise.
type env map[string]string

func english() env { return env{"DAYAQ_LANG": "en"} }

type result struct {
	stdout, stderr string
	err            error
}

func run(ctx context.Context, e env, args ...string) result {
	var stdout, stderr syncBuffer
	m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return e[k] }}
	err := m.Run(ctx, args)
	return result{stdout.String(), stderr.String(), err}
}

func tempDB(t *testing.T) string { return filepath.Join(t.TempDir(), "sub", "dayaq.db") }

func TestVersion(t *testing.T) {
	r := run(context.Background(), english(), "version")
	if r.err != nil || r.stdout != "dayaq "+version+"\n" {
		t.Errorf("version: %q, err %v", r.stdout, r.err)
	}
	if r := run(context.Background(), english(), "version", "--x"); exitCode(r.err) != 2 || r.stdout != "" {
		t.Errorf("version with a bad flag: err %v, stdout %q; want exit code 2 and no version", r.err, r.stdout)
	}
}

func TestHelp(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want []string // in stderr besides "Usage:"
	}{
		{[]string{"--help"}, []string{"serve", "migrate", "demo", "orgs", "version", "DAYAQ_DB"}},
		{[]string{"-h"}, []string{"serve"}},
		{[]string{"help"}, []string{"serve"}},
		{[]string{"serve", "--help"}, []string{"-addr", "-db", "-demo", "-log-format"}},
		{[]string{"serve", "-h"}, []string{"-addr"}},
		{[]string{"migrate", "--help"}, []string{"-db"}},
		{[]string{"demo", "--help"}, []string{"-children", "-db"}},
		{[]string{"orgs", "--help"}, []string{"orgs import"}},
		{[]string{"orgs", "import", "--help"}, []string{"-db", "code,type,name_az,district_code"}},
		{[]string{"version", "--help"}, nil},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(context.Background(), english(), tt.args...)
			if r.err != nil && !errors.Is(r.err, flag.ErrHelp) {
				t.Errorf("err %v, want nil or flag.ErrHelp", r.err)
			}
			if !strings.Contains(r.stderr, "Usage:") {
				t.Errorf("stderr lacks Usage:\n%s", r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("help wrote to stdout: %q", r.stdout)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	db := tempDB(t)
	for _, tt := range []struct {
		args []string
		want string // in stderr
	}{
		{nil, "Usage:"},
		{[]string{"nope"}, `unknown command "nope"`},
		{[]string{"--nope"}, "unknown command"},
		{[]string{"migrate", "--nope"}, "-nope"},
		{[]string{"orgs"}, "orgs import"},
		{[]string{"orgs", "export"}, "orgs import"},
		{[]string{"orgs", "import", "--db", db}, "Usage:"},
		{[]string{"orgs", "import", "--db", db, "a.csv", "b.csv"}, "Usage:"},
		{[]string{"demo", "--db", db, "--children", "-1"}, ""},
		{[]string{"demo", "--children", "many"}, "invalid value"},
		{[]string{"serve", "--db", db, "--log-format", "xml"}, ""},
		{[]string{"serve", "--db", db, "--log-level", "loud"}, ""},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := run(context.Background(), english(), tt.args...)
			var ue usageError
			if !errors.As(r.err, &ue) {
				t.Fatalf("err %v (%T), want a usageError", r.err, r.err)
			}
			if code := exitCode(r.err); code != 2 {
				t.Errorf("exit code %d, want 2", code)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr lacks %q:\n%s", tt.want, r.stderr)
			}
		})
	}
}

func TestExitCode(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want int
	}{
		{errors.New("x"), 1},
		{usageError{"x"}, 2},
		{exitError{code: 3, err: errors.New("x")}, 3},
		{errors.Join(errors.New("a"), usageError{"b"}), 2},
	} {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}

var migratedRE = regexp.MustCompile(`^applied (\d+) migrations; schema version (\d+) \((sqlite|postgres)\)\n$`)

// migrate runs "migrate" and returns how many migrations it applied and
// the schema version it reports.
func migrate(t *testing.T, e env, args ...string) (applied, version int) {
	t.Helper()
	r := run(context.Background(), e, append([]string{"migrate"}, args...)...)
	if r.err != nil {
		t.Fatalf("migrate: %v\n%s", r.err, r.stderr)
	}
	m := migratedRE.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("migrate printed %q", r.stdout)
	}
	applied, _ = strconv.Atoi(m[1])
	version, _ = strconv.Atoi(m[2])
	return applied, version
}

func TestMigrate(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			dsn := e.DSN(t)
			n1, v1 := migrate(t, english(), "--db", dsn)
			if n1 == 0 || v1 == 0 {
				t.Errorf("first migrate applied %d, version %d; want both > 0", n1, v1)
			}
			n2, v2 := migrate(t, english(), "--db", dsn)
			if n2 != 0 || v2 != v1 {
				t.Errorf("second migrate applied %d, version %d; want 0, %d", n2, v2, v1)
			}
			// DAYAQ_DB names the database when --db is not given.
			n3, v3 := migrate(t, env{"DAYAQ_LANG": "en", "DAYAQ_DB": dsn})
			if n3 != 0 || v3 != v1 {
				t.Errorf("migrate via DAYAQ_DB applied %d, version %d; want 0, %d", n3, v3, v1)
			}
		})
	}
}

func TestMessageLanguage(t *testing.T) {
	dsn := tempDB(t)
	for _, tt := range []struct {
		env  env
		want string
	}{
		{env{"DAYAQ_LANG": "en", "LANG": "ru_RU.UTF-8"}, "applied 0 migrations"},
		{env{"LANG": "ru_RU.UTF-8"}, "применено миграций: 0"},
		{env{"LC_ALL": "en_GB.UTF-8", "LANG": "ru_RU.UTF-8"}, "applied 0 migrations"},
		{env{"LC_ALL": "C.UTF-8", "LANG": "en_US.UTF-8"}, "applied 0 migrations"},
		{env{"DAYAQ_LANG": "de"}, "tətbiq"},
		{env{}, "tətbiq"},
	} {
		run(context.Background(), english(), "migrate", "--db", dsn)
		r := run(context.Background(), tt.env, "migrate", "--db", dsn)
		if r.err != nil || !strings.Contains(strings.ToLower(r.stdout), strings.ToLower(tt.want)) {
			t.Errorf("env %v: %q (err %v), want it to contain %q", tt.env, r.stdout, r.err, tt.want)
		}
	}
}

func countOrgs(t *testing.T, dsn string) int {
	t.Helper()
	db, err := storage.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	counts, err := db.CountOrgs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

func TestOrgsImport(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			dsn := e.DSN(t)
			steps := []struct {
				file string
				want string
			}{
				{"orgs_good.csv", "Organisations: 5 created, 0 updated, 0 unchanged.\n"},
				{"orgs_good.csv", "Organisations: 0 created, 0 updated, 5 unchanged.\n"},
				{"orgs_renamed_semicolon.csv", "Organisations: 1 created, 1 updated, 4 unchanged.\n"},
				{"orgs_renamed_semicolon.csv", "Organisations: 0 created, 0 updated, 6 unchanged.\n"},
			}
			for _, s := range steps {
				r := run(context.Background(), english(), "orgs", "import", "--db", dsn, filepath.Join("testdata", s.file))
				if r.err != nil {
					t.Fatalf("import %s: %v\n%s", s.file, r.err, r.stderr)
				}
				if r.stdout != s.want {
					t.Errorf("import %s printed %q, want %q", s.file, r.stdout, s.want)
				}
			}
			if n := countOrgs(t, dsn); n != 6 {
				t.Errorf("%d organisations stored, want 6", n)
			}
		})
	}
}

func TestOrgsImportRejectsBadFile(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			dsn := e.DSN(t)
			file := filepath.Join("testdata", "orgs_bad.csv")
			r := run(context.Background(), english(), "orgs", "import", "--db", dsn, file)
			if r.err == nil {
				t.Fatalf("import of a bad file succeeded: %q", r.stdout)
			}
			if code := exitCode(r.err); code != 1 {
				t.Errorf("exit code %d, want 1", code)
			}
			if want := "File rejected: 6 bad rows; nothing was imported."; r.err.Error() != want {
				t.Errorf("error %q, want %q", r.err, want)
			}
			wantLines := []string{
				file + ": line 3: type: Unknown organisation type “kindergarten”.",
				file + ": line 4: code: A school code must look like BAK-06-SSS",
				file + ": line 6: name_az: This field is required.",
				file + ": line 7: district_code: Unknown district code “BAK-99”.",
				file + ": line 8: code: This code already appears on line 2.",
				file + ": line 9: The CSV row cannot be read: ",
			}
			got := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
			if len(got) != len(wantLines) {
				t.Errorf("stderr has %d lines, want %d:\n%s", len(got), len(wantLines), r.stderr)
			}
			for i, w := range wantLines {
				if i < len(got) && !strings.HasPrefix(got[i], w) {
					t.Errorf("stderr line %d = %q, want it to start %q", i+1, got[i], w)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout %q, want nothing", r.stdout)
			}
			if n := countOrgs(t, dsn); n != 0 {
				t.Errorf("%d organisations stored after a rejected file, want 0", n)
			}
		})
	}
}

func TestOrgsImportMissingFile(t *testing.T) {
	r := run(context.Background(), english(), "orgs", "import", "--db", tempDB(t), filepath.Join(t.TempDir(), "none.csv"))
	if r.err == nil || exitCode(r.err) != 1 {
		t.Errorf("err %v, want a failure with exit code 1", r.err)
	}
}

var demoRE = regexp.MustCompile(`^Demo data loaded: (\d+) organisations, (\d+) of them schools, 500 children \(.+\)\.\n`)

func TestDemo(t *testing.T) {
	dsn := tempDB(t)
	r := run(context.Background(), english(), "demo", "--db", dsn, "--children", "500")
	if r.err != nil {
		t.Fatalf("demo: %v\n%s", r.err, r.stderr)
	}
	m := demoRE.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("demo printed %q", r.stdout)
	}
	if orgs, _ := strconv.Atoi(m[1]); orgs != countOrgs(t, dsn) {
		t.Errorf("demo says %d organisations, the database has %d", orgs, countOrgs(t, dsn))
	}
	r = run(context.Background(), english(), "demo", "--db", dsn, "--children", "500")
	if r.err == nil || exitCode(r.err) != 1 || !strings.Contains(r.err.Error(), "not empty") {
		t.Errorf("second demo: err %v (exit %d), want a refusal: not empty", r.err, exitCode(r.err))
	}
	if r.stdout != "" {
		t.Errorf("second demo printed %q", r.stdout)
	}
}

var listeningRE = regexp.MustCompile(`Dayaq is listening on (http://127\.0\.0\.1:\d+) \((sqlite|postgres)\)`)

// TestServe runs the same binary on each engine: the probes, the API and
// the sign-in page answer, and SIGTERM-like cancellation shuts it down.
func TestServe(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) { testServe(t, e) })
	}
}

func testServe(t *testing.T, e storagetest.Engine) {
	metricsAddr := freeAddr(t)
	for _, tt := range []struct {
		name  string
		extra []string
		check func(t *testing.T, base string)
	}{
		{"plain", nil, func(t *testing.T, base string) {
			if b := fetch(t, base+"/readyz"); b != "ok\n" {
				t.Errorf("/readyz = %q", b)
			}
		}},
		{"demo", []string{"--demo", "--demo-children", "20"}, func(t *testing.T, base string) {
			if b := fetch(t, base+"/api/v1/organisations?type=school&limit=1"); !strings.Contains(b, `"code":"BAK-`) {
				t.Errorf("no demo school served: %s", b)
			}
			for lang, title := range map[string]string{"az": "Daxil olun", "ru": "Вход", "en": "Sign in"} {
				if b := fetch(t, base+"/signin?lang="+lang); !strings.Contains(b, "<h1>"+title+"</h1>") {
					t.Errorf("sign-in page in %s has no %q heading", lang, title)
				}
			}
			if b := fetch(t, base+"/api/v1/openapi.json"); !strings.Contains(b, `"openapi": "3.1.0"`) {
				t.Errorf("/api/v1/openapi.json: %.200s", b)
			}
			if b := fetch(t, base+"/metrics"); !strings.Contains(b, "# TYPE") {
				t.Errorf("/metrics is not Prometheus text: %.200s", b)
			}
		}},
		{"metrics apart", []string{"--metrics-addr", metricsAddr}, func(t *testing.T, base string) {
			resp, err := http.Get(base + "/metrics")
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || strings.Contains(string(b), "# TYPE") {
				t.Errorf("/metrics still on --addr: %d %.200s", resp.StatusCode, b)
			}
			if b := fetch(t, "http://"+metricsAddr+"/metrics"); !strings.Contains(b, "# TYPE") {
				t.Errorf("/metrics on --metrics-addr is not Prometheus text: %.200s", b)
			}
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var stdout, stderr syncBuffer
			m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr,
				Getenv: func(k string) string { return english()[k] }}
			done := make(chan error, 1)
			go func() {
				done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--db", e.DSN(t)}, tt.extra...))
			}()
			var base string
			deadline := time.Now().Add(30 * time.Second)
			for base == "" {
				if mm := listeningRE.FindStringSubmatch(stdout.String()); mm != nil {
					base = mm[1]
					break
				}
				select {
				case err := <-done:
					t.Fatalf("serve returned before listening: %v\n%s", err, stderr.String())
				case <-time.After(20 * time.Millisecond):
				}
				if time.Now().After(deadline) {
					t.Fatalf("no URL on stdout in 30s: %q\n%s", stdout.String(), stderr.String())
				}
			}
			if b := fetch(t, base+"/healthz"); b != "ok\n" {
				t.Errorf("/healthz = %q", b)
			}
			tt.check(t, base)
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve returned %v after cancel, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("serve did not shut down within 10s of cancel")
			}
			if !strings.Contains(stderr.String(), "shutting down") {
				t.Errorf("no shutdown log line:\n%s", stderr.String())
			}
		})
	}
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func fetch(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return string(b)
}

func TestServeBadAddress(t *testing.T) {
	r := run(context.Background(), english(), "serve", "--addr", "127.0.0.1:-1", "--db", tempDB(t))
	if r.err == nil || !strings.Contains(r.err.Error(), "listen") {
		t.Errorf("err %v, want a listen error", r.err)
	}
}

func TestCommandSummariesTranslated(t *testing.T) {
	cat := i18n.MustLoad()
	for _, c := range commands() {
		for _, l := range i18n.Langs() {
			if s := c.summary(cat.For(l)); strings.Contains(s, i18n.Missing) {
				t.Errorf("%s: no %s summary (%s)", c.name, l, s)
			}
		}
	}
}

func TestChildrenImport(t *testing.T) {
	ctx := context.Background()
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			dsn := e.DSN(t)
			en := english()
			if r := run(ctx, en, "orgs", "import", "--db", dsn, "testdata/orgs_good.csv"); r.err != nil {
				t.Fatalf("orgs import: %v %s", r.err, r.stderr)
			}
			rejects := filepath.Join(t.TempDir(), "rejects.csv")
			r := run(ctx, en, "children", "import", "--db", dsn, "--rejects", rejects, "testdata/roster_az_semicolon.csv")
			if r.err != nil {
				t.Fatalf("import: %v %s", r.err, r.stderr)
			}
			if want := "Rows: 8; new: 3, updated: 0, unchanged: 0, rejected: 5.\n"; !strings.HasPrefix(r.stdout, want) {
				t.Errorf("stdout = %q, want %q", r.stdout, want)
			}
			if r.stderr != "" {
				t.Errorf("progress drawn without a terminal: %q", r.stderr)
			}
			b, err := os.ReadFile(rejects)
			if err != nil {
				t.Fatal(err)
			}
			got := string(b)
			for _, want := range []string{
				"line,reason,student_id,last_name,first_name,patronymic,sex,birth_date,school_code,grade\n",
				"4,First name: This field is required.,S-0003,Həsənova,,Tural qızı,q,2014-05-01,BAK-06-001,6B\n",
				`5,"Sex: Sex “x” is not known`,
				"6,Birth date: Date “2013-13-01” cannot be read",
				"7,School code: There is no school with code “BAK-99-999”.",
				"8,Student ID: This student ID already appears on line 2.",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("rejects file lacks %q:\n%s", want, got)
				}
			}
			r = run(ctx, en, "children", "import", "--db", dsn, "--rejects", rejects, "testdata/roster_changed.csv")
			if want := "Rows: 2; new: 0, updated: 1, unchanged: 1, rejected: 0.\n"; r.err != nil || r.stdout != want {
				t.Errorf("second import: %q %v, want %q", r.stdout, r.err, want)
			}
			r = run(ctx, en, "children", "import", "--db", dsn, "testdata/roster_bad_header.csv")
			if exitCode(r.err) != 1 || !strings.Contains(r.err.Error(), "The header lacks these columns: patronymic, sex, birth_date, school_code, grade.") {
				t.Errorf("bad header: %v", r.err)
			}
		})
	}
}

// `dayaq stats rebuild` recomputes the dashboards' totals and says so;
// anything but "rebuild" is a usage error.
func TestStatsRebuild(t *testing.T) {
	ctx := context.Background()
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			dsn := e.DSN(t)
			en := english()
			r := run(ctx, en, "stats", "rebuild", "--db", dsn)
			if r.err != nil || !strings.Contains(r.stdout, "recomputed") {
				t.Fatalf("stats rebuild: %v %q %q", r.err, r.stdout, r.stderr)
			}
			if r := run(ctx, en, "stats", "fold", "--db", dsn); exitCode(r.err) != 2 {
				t.Fatalf("stats fold: %v", r.err)
			}
		})
	}
}
