// Package e2e tests Dayaq end to end: TestMain builds the real binary, runs
// "dayaq serve --demo" on a free port, and the tests talk to it over HTTP
// and through a headless Chromium. At the end TestMain stops the server
// with SIGTERM and checks that it shuts down gracefully.
//
// The browser tests skip when no Chromium is installed, unless
// DAYAQ_REQUIRE_BROWSER=1, when they fail instead.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"dayaq/internal/auth"
)

const (
	startTimeout    = 60 * time.Second // build excluded: demo load, migrations, listen
	shutdownTimeout = 25 * time.Second // the server itself waits up to 20 s for requests in flight
	demoChildren    = "2000"
)

// baseURL is the address of the server that TestMain started, such as
// http://127.0.0.1:41234, without a trailing slash.
var baseURL string

// dayaqBin is the binary TestMain built, for tests that run their own server.
var dayaqBin string

// dbFile is the server's SQLite database, for tests that must move a
// deadline into the past (the server runs on the real clock).
var dbFile string

// smsGateway is the test SMS gateway the server sends its SMS to.
var smsGateway = newSMSCapture()

// urlRE finds the address in the server's "listening" line. The line is
// translated (DAYAQ_LANG=en), the address is not.
var urlRE = regexp.MustCompile(`http://127\.0\.0\.1:\d+`)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

// run is TestMain without os.Exit, so that its deferred calls run.
func run(m *testing.M) int {
	tmp, err := os.MkdirTemp("", "dayaq-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)

	bin, err := build(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	srv, err := startServer(bin, tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	baseURL, dayaqBin = srv.url, bin

	code := m.Run()

	if err := srv.stop(shutdownTimeout); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: graceful shutdown failed: %v\n%s", err, srv.logs())
		return 1
	}
	if code != 0 {
		// The server's log helps explain a failed test.
		fmt.Fprintf(os.Stderr, "e2e: some tests failed; the server's log follows\n%s", srv.logs())
	}
	return code
}

// build compiles dayaq/cmd/dayaq into dir and returns the binary's path.
func build(dir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "dayaq")
	cmd := exec.Command("go", "build", "-o", bin, "dayaq/cmd/dayaq")
	cmd.Dir = root
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build dayaq/cmd/dayaq: %w\n%s", err, out)
	}
	fmt.Fprintf(os.Stderr, "e2e: built %s in %s\n", bin, time.Since(start).Round(time.Millisecond))
	return bin, nil
}

// moduleRoot is the directory of go.mod: "go env GOMOD", else ../.. (this
// package is internal/e2e).
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if gomod := strings.TrimSpace(string(out)); err == nil && gomod != "" && gomod != os.DevNull {
		return filepath.Dir(gomod), nil
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		return "", fmt.Errorf("cannot find the module root: %w", err)
	}
	return root, nil
}

// server is a running "dayaq serve" process.
type server struct {
	cmd    *exec.Cmd
	url    string
	stdout *syncBuffer
	stderr *syncBuffer
	exited chan struct{} // closed when the process has exited; err is set then
	err    error         // what cmd.Wait returned
}

// startServer runs "dayaq serve --demo" on a free port with its database in
// dir, and waits until it prints the address it listens on. Extra flags
// come last, so they win over these (another --db).
func startServer(bin, dir string, extra ...string) (*server, error) {
	db := filepath.Join(dir, "dayaq.db")
	if dbFile == "" {
		dbFile = db // the main server's; the kill tests' own servers keep theirs
	}
	return startServerOn(bin, db, extra...)
}

// startServerOn is startServer on the database dsn (a SQLite file or a
// postgres:// URL).
func startServerOn(bin, dsn string, extra ...string) (*server, error) {
	s := &server{
		stdout: newSyncBuffer(urlRE),
		stderr: newSyncBuffer(nil),
		exited: make(chan struct{}),
	}
	args := []string{"serve", "--demo", "--demo-children", demoChildren,
		"--addr", "127.0.0.1:0", "--db", dsn}
	s.cmd = exec.Command(bin, append(args, extra...)...)
	s.cmd.Env = append(os.Environ(), "DAYAQ_LANG=en", "DAYAQ_SMS_URL="+smsGateway.url())
	s.cmd.Stdout = s.stdout
	s.cmd.Stderr = s.stderr
	// If the test binary dies without running TestMain's cleanup (a panic,
	// go test -timeout), take the server down with it.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	start := time.Now()
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case u := <-s.stdout.found:
		s.url = u
		fmt.Fprintf(os.Stderr, "e2e: server listening on %s after %s\n", u, time.Since(start).Round(time.Millisecond))
		return s, nil
	case <-s.exited:
		return nil, fmt.Errorf("dayaq serve exited before listening: %v\nstdout:\n%s\nstderr:\n%s",
			s.err, s.stdout, s.stderr)
	case <-timer.C:
		_ = s.cmd.Process.Kill()
		<-s.exited
		return nil, fmt.Errorf("dayaq serve printed no address within %s\nstdout:\n%s\nstderr:\n%s",
			startTimeout, s.stdout, s.stderr)
	}
}

// stop sends SIGTERM and waits up to timeout for the process to exit with
// code 0. If it does not exit in time, stop kills it.
func (s *server) stop(timeout time.Duration) error {
	select {
	case <-s.exited:
		return fmt.Errorf("the server had exited before SIGTERM: %v", s.err)
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		return fmt.Errorf("send SIGTERM: %w", err)
	}
	start := time.Now()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-s.exited:
	case <-timer.C:
		_ = s.cmd.Process.Kill()
		<-s.exited
		return fmt.Errorf("the server did not exit within %s of SIGTERM; killed it", timeout)
	}
	if s.err != nil {
		return fmt.Errorf("the server exited with %v after SIGTERM, want exit code 0", s.err)
	}
	fmt.Fprintf(os.Stderr, "e2e: server exited with code 0 %s after SIGTERM\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// logs returns what the server wrote, for a failure message.
func (s *server) logs() string {
	return fmt.Sprintf("--- dayaq stdout ---\n%s--- dayaq stderr ---\n%s--- end ---\n", s.stdout, s.stderr)
}

// syncBuffer is an io.Writer that keeps everything written to it. If it has
// a pattern, it sends the first match in a complete line on found.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	pattern *regexp.Regexp
	scanned int // bytes of buf already searched for pattern
	found   chan string
}

func newSyncBuffer(pattern *regexp.Regexp) *syncBuffer {
	return &syncBuffer{pattern: pattern, found: make(chan string, 1)}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.pattern == nil {
		return n, err
	}
	// Search whole lines only, so that a match is never cut short.
	for {
		rest := b.buf.Bytes()[b.scanned:]
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		if m := b.pattern.Find(rest[:i]); m != nil {
			b.found <- string(m)
			b.pattern = nil // report the first match only
			break
		}
		b.scanned += i + 1
	}
	return n, err
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// totpUsed remembers, per TOTP secret, the last time step whose code a test
// typed: the server refuses a code used once already (replay), so two
// sign-ins of one account within 30 seconds need two steps.
var totpUsed = struct {
	sync.Mutex
	step map[string]int64
}{step: map[string]int64{}}

// freshTOTP is the account's current TOTP code, waiting for the next time
// step when this step's code was typed already.
func freshTOTP(secret string) (string, error) {
	totpUsed.Lock()
	defer totpUsed.Unlock()
	now := time.Now()
	step := now.Unix() / 30
	if last, ok := totpUsed.step[secret]; ok && last >= step {
		next := time.Unix((last+1)*30, 0).Add(200 * time.Millisecond)
		time.Sleep(time.Until(next))
		now = time.Now()
		step = now.Unix() / 30
	}
	totpUsed.step[secret] = step
	return auth.TOTPCode(secret, now)
}
