package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dayaq/internal/storage"
	"dayaq/internal/storage/pgtemp"
)

// TestKillDuringIntake streams contacts at a real server, kills it with
// SIGKILL in the middle, restarts it on the same database, and checks that
// every contact that got a 201 is there, whole, and that retrying the
// unanswered requests with their Idempotency-Keys makes no duplicate: on
// SQLite and on PostgreSQL (whose group commit pipelines its statements
// and runs several writers, ADR 0027).
func TestKillDuringIntake(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills servers")
	}
	t.Run("sqlite", func(t *testing.T) { killDuringIntake(t, filepath.Join(t.TempDir(), "dayaq.db")) })
	t.Run("postgres", func(t *testing.T) {
		if !pgtemp.Available() {
			if os.Getenv("DAYAQ_REQUIRE_POSTGRES") == "1" {
				t.Fatal("no PostgreSQL server binaries, but DAYAQ_REQUIRE_POSTGRES=1 requires them")
			}
			t.Skip("no PostgreSQL server binaries in " + pgtemp.PGBin)
		}
		url, stop, err := pgtemp.Start()
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
		killDuringIntake(t, url)
	})
}

func killDuringIntake(t *testing.T, db string) {
	srv, err := startServerOn(dayaqBin, db)
	if err != nil {
		t.Fatal(err)
	}
	killed := false
	defer func() {
		if !killed {
			_ = srv.cmd.Process.Kill()
			<-srv.exited
		}
	}()
	out, err := exec.Command(dayaqBin, "token", "create", "--db", db, "--email", "hotline_operator@demo.dayaq.az",
		"--scopes", "read,write", "--name", "kill test").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(out))

	type sent struct {
		key      string
		body     []byte
		id       int64 // from the 201; 0 when unanswered
		children int
	}
	const clients, perClient = 6, 4000
	reqs := make([][]sent, clients)
	var acked atomic.Int64
	client := &http.Client{Timeout: 10 * time.Second}
	post := func(url string, s *sent) (int64, error) {
		req, _ := http.NewRequest(http.MethodPost, url+"/api/v1/contacts", bytes.NewReader(s.body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", s.key)
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusCreated {
			return 0, fmt.Errorf("status %d: %s", resp.StatusCode, b)
		}
		var v struct{ ID int64 }
		if err := json.Unmarshal(b, &v); err != nil || v.ID == 0 {
			return 0, fmt.Errorf("201 without an id: %s", b)
		}
		return v.ID, nil
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perClient {
				select {
				case <-stop:
					return
				default:
				}
				n := 1 + (c+i)%3
				var kids []string
				for k := range n {
					kids = append(kids, fmt.Sprintf(`{"name":"Uşaq %d","age":%d}`, k, 8+k))
				}
				s := sent{key: fmt.Sprintf("kill-%d-%d", c, i), children: n, body: []byte(fmt.Sprintf(
					`{"channel":"phone","call_type":"child_self","caller":{"anonymous":true},"children":[%s],`+
						`"categories":["peers","family"],"urgency":"low","outcome":"advice"}`, strings.Join(kids, ",")))}
				id, err := post(srv.url, &s)
				s.id = id
				reqs[c] = append(reqs[c], s)
				if err == nil {
					acked.Add(1)
				} else if acked.Load() < 300 {
					t.Errorf("before the kill: %v", err)
					return
				}
			}
		}()
	}
	// Kill it mid-stream, once a good number of contacts are acknowledged.
	deadline := time.Now().Add(60 * time.Second)
	for acked.Load() < 600 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := srv.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-srv.exited
	killed = true
	close(stop)
	wg.Wait()
	n := acked.Load()
	t.Logf("killed the server (SIGKILL) after %d contacts got a 201", n)
	if n < 600 {
		t.Fatalf("only %d contacts acknowledged before the deadline", n)
	}

	// Restart on the same database.
	srv2, err := startServerOn(dayaqBin, db)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = srv2.stop(shutdownTimeout) }()
	missing, retried, replayed := 0, 0, 0
	get := func(id int64) (int, int) {
		req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/api/v1/contacts/%d", srv2.url, id), nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v struct {
			Children []json.RawMessage `json:"children"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, len(v.Children)
	}
	ids := map[int64]bool{}
	for _, rs := range reqs {
		for _, s := range rs {
			if s.id != 0 {
				status, kids := get(s.id)
				if status != http.StatusOK || kids != s.children {
					missing++
					t.Errorf("acknowledged contact %d: status %d, %d children, want 200 and %d", s.id, status, kids, s.children)
				}
				ids[s.id] = true
				continue
			}
			// Unanswered: the retry gets the first answer if it was committed, else logs it now.
			id, err := post(srv2.url, &s)
			if err != nil {
				t.Errorf("retry of %s: %v", s.key, err)
				continue
			}
			retried++
			if ids[id] {
				t.Errorf("retry of %s returned contact %d, which another key made", s.key, id)
			}
			ids[id] = true
		}
	}
	for _, rs := range reqs {
		for _, s := range rs {
			if s.id == 0 {
				if id, err := post(srv2.url, &s); err == nil && ids[id] {
					replayed++
				}
			}
		}
	}
	if err := srv2.stop(shutdownTimeout); err != nil {
		t.Error(err)
	}
	// Nothing half-written, nothing duplicated, the audit chain whole.
	ctx := context.Background()
	st, err := storage.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	half, err := st.HalfWrittenContacts(ctx)
	if err != nil || half != 0 {
		t.Errorf("half-written contacts: %d, %v", half, err)
	}
	if _, bad, reason, err := st.VerifyAudit(ctx); err != nil || bad != 0 {
		t.Errorf("audit chain broken at %d (%s): %v", bad, reason, err)
	}
	t.Logf("after restart: %d acknowledged contacts all present and whole (%d missing); %d requests unanswered or never sent, retried with their keys, "+
		"%d of them replayed again unchanged; %d distinct contacts; half-written: %d", n, missing, retried, replayed, len(ids), half)
}
