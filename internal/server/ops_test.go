package server_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"dayaq/internal/storage/storagetest"
)

// lockedBuffer is a log sink the server's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// count is how many log lines have level lv.
func (l *lockedBuffer) count(lv string) int { return strings.Count(l.String(), "level="+lv) }

// TestDatabaseDownAnswers503 stops a real PostgreSQL under the server:
// every request answers 503 problem+json with Retry-After in the caller's
// language, /readyz says not ready, the log gets one warning, not an error
// a request; once PostgreSQL is back, both recover with no restart.
func TestDatabaseDownAnswers503(t *testing.T) {
	if testing.Short() {
		t.Skip("stops and starts a PostgreSQL cluster")
	}
	c := storagetest.OwnCluster(t)
	logs := &lockedBuffer{}
	w := newWorldLog(t, c.URL, slog.New(slog.NewTextHandler(logs, nil)))
	m := w.users["city_specialist"]
	if r := w.api(m, "GET", "/api/v1/children", ""); r.Status != http.StatusOK {
		t.Fatalf("before the stop: %d %s", r.Status, r.Body)
	}
	child := func(i int) string {
		return fmt.Sprintf(`{"student_id":"OPS-%d","last_name":"Əliyeva","first_name":"Nərmin","sex":"f","birth_date":"2014-03-08","school_code":"BAK-06-001","grade":5,"section":"A"}`, i)
	}
	if r := w.api(m, "POST", "/api/v1/children", child(0)); r.Status != http.StatusCreated {
		t.Fatalf("create before the stop: %d %s", r.Status, r.Body)
	}

	for _, mode := range []string{"fast", "immediate"} {
		if err := c.Stop(mode); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(2 * time.Second) // past the principal cache: authn reads the database again
		before := logs.count("ERROR")
		for i := range 20 {
			for _, req := range []struct{ member, method, target, body string }{
				{"city_specialist", "GET", "/api/v1/children", ""},
				{"city_specialist", "POST", "/api/v1/children", child(100 + i)},
				// through the group-commit writer
				{"hotline_operator", "POST", "/api/v1/contacts", `{"channel":"phone","call_type":"child_self","caller":{"anonymous":true},` +
					`"children":[{"name":"Uşaq","age":9}],"categories":["peers"],"urgency":"low","outcome":"advice"}`},
			} {
				r := w.api(w.users[req.member], req.method, req.target, req.body, "Accept-Language", "ru")
				if r.Status != http.StatusServiceUnavailable {
					t.Fatalf("%s: %s %s with PostgreSQL stopped: %d %s, want 503\n%s", mode, req.method, req.target, r.Status, r.Body, logs)
				}
				p := problem(t, r)
				if r.Header.Get("Retry-After") == "" {
					t.Errorf("%s: %s %s: no Retry-After", mode, req.method, req.target)
				}
				if d, _ := p["detail"].(string); !strings.Contains(d, "База данных") {
					t.Errorf("%s: detail %q, want the Russian message", mode, d)
				}
			}
			resp, b := get(t, w.h, "/readyz")
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("%s: /readyz with PostgreSQL stopped: %d %q", mode, resp.StatusCode, b)
			}
		}
		// The web UI answers 503 too, with Retry-After.
		if r := w.page(m, "GET", "/children"); r.Status != http.StatusServiceUnavailable || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: GET /children with PostgreSQL stopped: %d, Retry-After %q", mode, r.Status, r.Header.Get("Retry-After"))
		}
		if n := logs.count("ERROR") - before; n != 0 {
			t.Errorf("%s: %d error lines for 81 requests with the database down, want none:\n%s", mode, n, logs)
		}
		if n := logs.count("WARN"); n > 8 {
			t.Errorf("%s: %d warnings, want a few at most (once a minute per surface):\n%s", mode, n, logs)
		}

		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		w.clock.Add(2 * time.Second)
		// Back without a restart of ours: the pool drops its dead connections.
		var r response
		for range 50 {
			if r = w.api(m, "GET", "/api/v1/children", ""); r.Status == http.StatusOK {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if r.Status != http.StatusOK {
			t.Fatalf("%s: after the start: %d %s", mode, r.Status, r.Body)
		}
		if r := w.api(m, "POST", "/api/v1/children", child(1000+len(mode))); r.Status != http.StatusCreated {
			t.Fatalf("%s: create after the start: %d %s", mode, r.Status, r.Body)
		}
		if resp, b := get(t, w.h, "/readyz"); resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: /readyz after the start: %d %q", mode, resp.StatusCode, b)
		}
	}
	w.verifyAudit(t)
}

// TestDiskFullAnswers507 fills a real (tmpfs) disk under a SQLite server:
// writes answer 507 with a problem body in the caller's language, the web
// form comes back with what was typed, /readyz reports the full disk, and
// once space is freed both write again with no restart.
func TestDiskFullAnswers507(t *testing.T) {
	dir, ok := storagetest.SmallDisk(t, 12<<20)
	if !ok {
		t.Skip("cannot mount a tmpfs here (not root); storage's TestDiskFull simulates a full disk with max_page_count")
	}
	logs := &lockedBuffer{}
	w := newWorldLog(t, filepath.Join(dir, "dayaq.db"), slog.New(slog.NewTextHandler(logs, nil)))
	m := w.users["city_specialist"]
	child := func(i int) string {
		return fmt.Sprintf(`{"student_id":"FULL-%d","last_name":"Əliyeva","first_name":"Nərmin","sex":"f","birth_date":"2014-03-08","school_code":"BAK-06-001","grade":5,"section":"A"}`, i)
	}
	free := storagetest.FillDisk(t, dir)
	var r response
	n := 0
	for ; n < 5000; n++ {
		if r = w.api(m, "POST", "/api/v1/children", child(n), "Accept-Language", "ru"); r.Status != http.StatusCreated {
			break
		}
	}
	if r.Status != http.StatusInsufficientStorage {
		t.Fatalf("create on a full disk (after %d): %d %s, want 507", n, r.Status, r.Body)
	}
	p := problem(t, r)
	if d, _ := p["detail"].(string); !strings.Contains(d, "Диск сервера заполнен") {
		t.Errorf("detail %q, want the Russian disk-full message", d)
	}
	if r.Header.Get("Retry-After") == "" {
		t.Error("507 without Retry-After")
	}
	if resp, b := get(t, w.h, "/readyz"); resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b, "disk full") {
		t.Errorf("/readyz on a full disk: %d %q", resp.StatusCode, b)
	}
	// The web form keeps what was typed.
	fr := w.page(m, "POST", "/children/new", "student_id", "FULL-FORM", "last_name", "Qasımova", "first_name", "Leyla",
		"patronymic", "Rauf qızı", "sex", "f", "birth_date", "2014-05-01", "school_code", "BAK-06-001", "grade", "5", "section", "A")
	if fr.Status != http.StatusInsufficientStorage {
		t.Errorf("form on a full disk: %d, want 507", fr.Status)
	}
	for _, want := range []string{`value="Qasımova"`, `value="Rauf qızı"`, `value="FULL-FORM"`, "The server's disk is full"} {
		if !strings.Contains(fr.text(), want) {
			t.Errorf("the form on a full disk lacks %s", want)
		}
	}
	if n := logs.count("ERROR"); n != 0 {
		t.Errorf("%d error lines on a full disk, want none:\n%s", n, logs)
	}

	free()
	if resp, b := get(t, w.h, "/readyz"); resp.StatusCode != http.StatusOK {
		t.Errorf("/readyz once space is freed: %d %q", resp.StatusCode, b)
	}
	if r := w.api(m, "POST", "/api/v1/children", child(9999)); r.Status != http.StatusCreated {
		t.Errorf("create once space is freed: %d %s", r.Status, r.Body)
	}
	w.verifyAudit(t)
}
