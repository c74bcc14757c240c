package server_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"dayaq/internal/i18n"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
	"dayaq/internal/web"
)

// What the child's requests carry that must never be kept: the address
// the server sees, the addresses a proxy would add, and the user agent.
const (
	childAddr    = "203.0.113.77"
	childForward = "198.51.100.23"
	childProxy   = "203.0.113.9"
	childUA      = "DanisProbe/9.9 (distinctive-ua-7f3a; Android 9)"
	operatorAddr = "192.0.2.55"
)

var childNeedles = []string{childAddr, childForward, childProxy, "DanisProbe", "distinctive-ua-7f3a"}

// syncBuf is a log sink that tests may read while the server writes.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// childRequest sends a request as the child's phone would, through a proxy.
func childRequest(h http.Handler, method, target string, body io.Reader, header ...string) response {
	r := httptest.NewRequest(method, target, body)
	r.RemoteAddr = childAddr + ":51234"
	r.Header.Set("User-Agent", childUA)
	r.Header.Set("X-Forwarded-For", childForward+", "+childProxy)
	r.Header.Set("X-Real-IP", childForward)
	r.Header.Set("Forwarded", "for="+childForward)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Add(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := rec.Result()
	return response{Status: res.StatusCode, Header: res.Header, Body: rec.Body.String(), Location: res.Header.Get("Location")}
}

var codeRE = regexp.MustCompile(`class="d-code"[^>]*>([A-Z0-9-]{24})<`)

// A child writes, comes back, writes again, mistypes the code and leaves
// by the quick exit, on the page and through the API; an operator takes
// and answers. Afterwards no table of the database, in any column, and no
// line of the server's log holds the child's address, the addresses its
// proxy added or its user agent; the request log lines of the channel
// hold the route and the status only. The scan is shown to work: it finds
// the child's words in the messages, and the operator's address in the
// operator's audit events.
func TestDanisKeepsNoClientIdentifier(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newWorld(t, e.DSN(t))
			logs := &syncBuf{}
			s, err := server.New(w.db, i18n.MustLoad(), slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
			if err != nil {
				t.Fatal(err)
			}
			h := s.Handler()
			words := "Sabah məktəbə getməyəcəyəm, həbləri içdim"

			// The page, without JavaScript: write, get the code, read, write again.
			if r := childRequest(h, "GET", "/danis?lang=az", nil); r.Status != http.StatusOK || len(r.Header.Values("Set-Cookie")) != 0 {
				t.Fatalf("GET /danis: %d, cookies %q (want none)", r.Status, r.Header.Values("Set-Cookie"))
			}
			body, hdr := form("message", words, "age", "13", "upset", "7", "place", "Nəsimi")
			r := childRequest(h, "POST", "/danis?lang=az", body, hdr...)
			m := codeRE.FindStringSubmatch(r.Body)
			if r.Status != http.StatusCreated || m == nil {
				t.Fatalf("POST /danis: %d\n%s", r.Status, r.Body)
			}
			code := m[1]
			cookies := r.Header.Values("Set-Cookie")
			if len(cookies) != 1 || !strings.HasPrefix(cookies[0], web.DanisCookie+"=") || !strings.Contains(cookies[0], "Path=/danis") ||
				!strings.Contains(cookies[0], "HttpOnly") || strings.Contains(cookies[0], "Max-Age") || strings.Contains(cookies[0], "Expires") {
				t.Fatalf("cookies %q, want the one session cookie of the open page", cookies)
			}
			open := strings.SplitN(cookies[0], ";", 2)[0]
			if r := childRequest(h, "GET", "/danis/c?lang=az", nil, "Cookie", open); r.Status != http.StatusOK || !strings.Contains(r.text(), words) {
				t.Fatalf("GET /danis/c: %d", r.Status)
			}
			body, hdr = form("message", "Hələ də qorxuram")
			if r := childRequest(h, "POST", "/danis/c?lang=az", body, append(hdr, "Cookie", open)...); r.Status != http.StatusSeeOther {
				t.Fatalf("POST /danis/c: %d\n%s", r.Status, r.Body)
			}
			body, hdr = form("code", code[:5]+"AAAA-AAAA-AAAA-AAAA")
			if r := childRequest(h, "POST", "/danis/open?lang=az", body, hdr...); r.Status != http.StatusNotFound {
				t.Fatalf("a wrong code: %d, want 404", r.Status)
			}
			if r := childRequest(h, "GET", "/danis/exit?lang=az", nil, "Cookie", open); r.Status != http.StatusSeeOther || r.Location != web.DanisExitURL {
				t.Fatalf("quick exit: %d → %q", r.Status, r.Location)
			}

			// The API.
			r = childRequest(h, "POST", "/api/v1/danis/start", strings.NewReader(`{"message":"API ilə yazıram","upset":2}`),
				"Content-Type", "application/json")
			var started struct{ Code string }
			if r.Status != http.StatusCreated || json.Unmarshal([]byte(r.Body), &started) != nil || started.Code == "" {
				t.Fatalf("API start: %d %s", r.Status, r.Body)
			}
			if r := childRequest(h, "POST", "/api/v1/danis/write", strings.NewReader(`{"code":"`+started.Code+`","message":"yenə"}`)); r.Status != http.StatusCreated {
				t.Fatalf("API write: %d %s", r.Status, r.Body)
			}

			// The operator takes and answers, from an address of their own.
			op := w.users["hotline_operator"]
			var list struct {
				Items []struct {
					ContactID int64 `json:"contact_id"`
					Urgency   string
				}
			}
			rl := operatorAPI(h, op, "GET", "/api/v1/danis/conversations?view=waiting", "")
			if rl.Status != http.StatusOK || json.Unmarshal([]byte(rl.Body), &list) != nil || len(list.Items) != 2 {
				t.Fatalf("waiting list: %d %s", rl.Status, rl.Body)
			}
			urgent := list.Items[0]
			if urgent.Urgency != "critical" {
				t.Fatalf("the first waiting conversation is %q, want the critical one first", urgent.Urgency)
			}
			id := fmt.Sprint(urgent.ContactID)
			if r := operatorAPI(h, op, "POST", "/api/v1/danis/conversations/"+id+"/take", ""); r.Status != http.StatusNoContent {
				t.Fatalf("take: %d %s", r.Status, r.Body)
			}
			if r := operatorAPI(h, op, "POST", "/api/v1/danis/conversations/"+id+"/answers", `{"message":"Salam, mən buradayam."}`); r.Status != http.StatusCreated {
				t.Fatalf("answer: %d %s", r.Status, r.Body)
			}

			var view struct{ Version int }
			rv := operatorAPI(h, op, "GET", "/api/v1/danis/conversations/"+id, "")
			if rv.Status != http.StatusOK || json.Unmarshal([]byte(rv.Body), &view) != nil || view.Version < 1 {
				t.Fatalf("read: %d %s", rv.Status, rv.Body)
			}
			cls := fmt.Sprintf(`{"version":%d,"categories":["mental.suicidal"],"urgency":"critical","outcome":"advice"}`, view.Version)
			if r := operatorAPI(h, op, "PUT", "/api/v1/danis/conversations/"+id+"/classification", cls); r.Status != http.StatusOK {
				t.Fatalf("classify: %d %s", r.Status, r.Body)
			}
			if r := operatorAPI(h, op, "PUT", "/api/v1/danis/conversations/"+id+"/classification", cls); r.Status != http.StatusConflict {
				t.Fatalf("classify on the old version: %d %s, want 409", r.Status, r.Body)
			}

			// The child comes back and reads the answer.
			body, hdr = form("code", strings.ToLower(code))
			r = childRequest(h, "POST", "/danis/open?lang=az", body, hdr...)
			if r.Status != http.StatusSeeOther {
				t.Fatalf("open with the code: %d\n%s", r.Status, r.Body)
			}
			open = strings.SplitN(r.Header.Get("Set-Cookie"), ";", 2)[0]
			if r := childRequest(h, "GET", r.Location, nil, "Cookie", open); !strings.Contains(r.text(), "Salam, mən buradayam.") {
				t.Fatalf("the child does not see the answer: %d", r.Status)
			}

			// Now look everywhere.
			found := scanDatabase(t, w.db, append([]string{words, operatorAddr}, childNeedles...))
			if len(found[words]) == 0 {
				t.Fatal("the scan did not find the child's words: it does not read the messages")
			}
			if len(found[operatorAddr]) == 0 {
				t.Fatal("the scan did not find the operator's address in the audit: it would not find an address")
			}
			for _, n := range childNeedles {
				if len(found[n]) > 0 {
					t.Errorf("the database keeps %q in %v", n, found[n])
				}
			}
			out := logs.String()
			for _, n := range childNeedles {
				if strings.Contains(out, n) {
					t.Errorf("the log holds %q", n)
				}
			}
			lines := 0
			for line := range strings.SplitSeq(strings.TrimSpace(out), "\n") {
				var rec map[string]any
				if err := json.Unmarshal([]byte(line), &rec); err != nil {
					t.Fatalf("log line %q: %v", line, err)
				}
				route, _ := rec["route"].(string)
				if !strings.Contains(route, " /danis") && !strings.Contains(route, " /api/v1/danis") {
					continue
				}
				lines++
				for k := range rec {
					switch k {
					case "time", "level", "msg", "route", "status":
					default:
						t.Errorf("a request log line of the channel has %q: %s", k, line)
					}
				}
			}
			if lines < 10 {
				t.Errorf("%d request log lines of the channel, want one per request", lines)
			}
		})
	}
}

func operatorAPI(h http.Handler, m member, method, target, body string) response {
	var rd io.Reader
	r := httptest.NewRequest(method, target, rd)
	if body != "" {
		r = httptest.NewRequest(method, target, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
	}
	r.RemoteAddr = operatorAddr + ":40000"
	r.Header.Set("Authorization", "Bearer "+m.Token)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	res := rec.Result()
	return response{Status: res.StatusCode, Header: res.Header, Body: rec.Body.String()}
}

// scanDatabase reads every column of every table as text and returns,
// for each needle, the table.column places that hold it.
func scanDatabase(t *testing.T, db *storage.DB, needles []string) map[string][]string {
	t.Helper()
	var pool *sql.DB
	for _, p := range db.Pools() {
		pool = p
		break
	}
	var tablesQ, colsQ string
	switch db.Engine() {
	case storage.SQLite:
		tablesQ = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
		colsQ = `SELECT name FROM pragma_table_info(?)`
	default:
		tablesQ = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1`
		colsQ = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1`
	}
	tables := queryStrings(t, pool, tablesQ)
	if len(tables) < 20 {
		t.Fatalf("only %d tables: %v", len(tables), tables)
	}
	found := map[string][]string{}
	for _, tbl := range tables {
		for _, col := range queryStrings(t, pool, colsQ, tbl) {
			vals := queryStrings(t, pool, `SELECT COALESCE(CAST("`+col+`" AS TEXT), '') FROM "`+tbl+`"`)
			for _, v := range vals {
				for _, n := range needles {
					if strings.Contains(v, n) {
						found[n] = append(found[n], tbl+"."+col)
					}
				}
			}
		}
	}
	return found
}

func queryStrings(t *testing.T, pool *sql.DB, q string, args ...any) []string {
	t.Helper()
	rows, err := pool.Query(q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}
