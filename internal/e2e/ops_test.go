package e2e

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dayaq/internal/storage/pgtemp"
	"dayaq/internal/storage/storagetest"
)

// TestKillDuringUploads uploads case attachments from several clients at a
// real server and breaks it midway: on SQLite the server is killed with
// SIGKILL and started again on the same data; on PostgreSQL the database
// is stopped as by a crash (immediate) under the running server and
// started again, so that some commits end with their outcome unknown to
// the server. Then every attachment that got a 201 downloads byte for
// byte, and so does every attachment row the case has, acknowledged or
// not (ADR 0028: the bytes are synced, name and all, before the row
// commits, and a blob is deleted only when its row surely did not commit).
func TestKillDuringUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills servers")
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) { killDuringUploads(t, engine) })
	}
}

func killDuringUploads(t *testing.T, engine string) {
	dir := t.TempDir()
	dsn := filepath.Join(dir, "dayaq.db")
	var extra []string
	var cluster *pgtemp.Cluster
	if engine == "postgres" {
		cluster = storagetest.OwnCluster(t)
		dsn = cluster.URL
		extra = []string{"--db", dsn, "--data-dir", dir}
	}
	srv, err := startServer(dayaqBin, dir, extra...)
	if err != nil {
		t.Fatal(err)
	}
	running := srv
	defer func() {
		select {
		case <-running.exited:
		default:
			_ = running.cmd.Process.Kill()
			<-running.exited
		}
	}()
	out, err := exec.Command(dayaqBin, "token", "create", "--db", dsn, "--email", "school_head@demo.dayaq.az",
		"--scopes", "read,write", "--name", "upload kill test").Output()
	if err != nil {
		t.Fatalf("token create: %v", err)
	}
	token := strings.TrimSpace(string(out))
	client := &http.Client{Timeout: 20 * time.Second}
	do := func(base, method, path string, body io.Reader, ct string) (int, []byte, error) {
		req, _ := http.NewRequest(method, base+path, body)
		req.Header.Set("Authorization", "Bearer "+token)
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		return resp.StatusCode, b, err
	}
	status, b, err := do(srv.url, "GET", "/api/v1/cases?limit=5", nil, "")
	var list struct{ Items []struct{ ID int64 } }
	if err != nil || status != http.StatusOK || json.Unmarshal(b, &list) != nil || len(list.Items) == 0 {
		t.Fatalf("list the demo cases: %d %v %s", status, err, b)
	}
	caseID := list.Items[0].ID

	type upload struct {
		id  int64
		sum [32]byte
	}
	var (
		mu     sync.Mutex
		acked  []upload
		sent   = map[[32]byte]bool{} // every upload's checksum, answered or not
		n      atomic.Int64
		failed atomic.Int64
		wg     sync.WaitGroup
		stop   = make(chan struct{})
		base   atomic.Value
	)
	base.Store(srv.url)
	const clients = 4
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				data := make([]byte, 8<<10+(c*7919+i*104729)%(120<<10))
				_, _ = rand.Read(data)
				sum := sha256.Sum256(data)
				mu.Lock()
				sent[sum] = true
				mu.Unlock()
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				fw, _ := mw.CreateFormFile("file", fmt.Sprintf("scan-%d-%d.bin", c, i))
				_, _ = fw.Write(data)
				_ = mw.Close()
				status, b, err := do(base.Load().(string), "POST", fmt.Sprintf("/api/v1/cases/%d/attachments", caseID), &body, mw.FormDataContentType())
				if err != nil || status != http.StatusCreated {
					if n.Load() < 20 {
						t.Errorf("upload before the fault: %d %v %s", status, err, b)
						return
					}
					failed.Add(1)
					time.Sleep(20 * time.Millisecond)
					continue // the server or its database is going or gone
				}
				var at struct{ ID int64 }
				if err := json.Unmarshal(b, &at); err != nil || at.ID == 0 {
					t.Errorf("201 without an id: %s", b)
					return
				}
				mu.Lock()
				acked = append(acked, upload{at.ID, sum})
				mu.Unlock()
				n.Add(1)
			}
		}()
	}
	waitFor := func(k int64) {
		deadline := time.Now().Add(60 * time.Second)
		for n.Load() < k && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(150)
	switch engine {
	case "sqlite":
		if err := srv.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-srv.exited
		close(stop)
		wg.Wait()
		t.Logf("killed the server (SIGKILL) after %d uploads got a 201", len(acked))
		if running, err = startServer(dayaqBin, dir, extra...); err != nil {
			t.Fatal(err)
		}
	case "postgres":
		if err := cluster.Stop("immediate"); err != nil {
			t.Fatal(err)
		}
		t.Logf("stopped PostgreSQL (immediate) after %d uploads got a 201", n.Load())
		time.Sleep(500 * time.Millisecond)
		if err := cluster.Start(); err != nil {
			t.Fatal(err)
		}
		k := n.Load()
		waitFor(k + 50) // the same server recovers
		close(stop)
		wg.Wait()
		t.Logf("after the database came back: %d more uploads got a 201 from the same server; %d failed meanwhile", n.Load()-k, failed.Load())
		if n.Load() < k+50 {
			t.Errorf("only %d uploads acknowledged after PostgreSQL came back", n.Load()-k)
		}
	}
	if len(acked) < 150 {
		t.Fatalf("only %d uploads acknowledged before the deadline", len(acked))
	}
	url := running.url
	lost := 0
	for _, u := range acked {
		status, b, err := do(url, "GET", fmt.Sprintf("/api/v1/cases/%d/attachments/%d", caseID, u.id), nil, "")
		if err != nil || status != http.StatusOK || sha256.Sum256(b) != u.sum {
			lost++
			if lost <= 5 {
				t.Errorf("acknowledged attachment %d: %d %v (%d bytes, checksum matches: %v)",
					u.id, status, err, len(b), sha256.Sum256(b) == u.sum)
			}
		}
	}
	// Every row the case has, including commits whose answer was lost.
	status, b, err = do(url, "GET", fmt.Sprintf("/api/v1/cases/%d", caseID), nil, "")
	var detail struct {
		Attachments []struct {
			ID     int64  `json:"id"`
			SHA256 string `json:"sha256"`
		} `json:"attachments"`
	}
	if err != nil || status != http.StatusOK || json.Unmarshal(b, &detail) != nil {
		t.Fatalf("the case: %d %v", status, err)
	}
	broken := 0
	for _, at := range detail.Attachments {
		status, b, err := do(url, "GET", fmt.Sprintf("/api/v1/cases/%d/attachments/%d", caseID, at.ID), nil, "")
		if err != nil || status != http.StatusOK || !sent[sha256.Sum256(b)] {
			broken++
			if broken <= 5 {
				t.Errorf("attachment row %d: %d %v %.200s", at.ID, status, err, b)
			}
		}
	}
	t.Logf("%d of %d acknowledged attachments download whole; %d of the case's %d attachment rows (%d unacknowledged) do not open",
		len(acked)-lost, len(acked), broken, len(detail.Attachments), len(detail.Attachments)-len(acked))
	if err := running.stop(shutdownTimeout); err != nil {
		t.Error(err)
	}
	if out, err := exec.Command(dayaqBin, "audit", "verify", "--db", dsn).CombinedOutput(); err != nil {
		t.Errorf("audit verify: %v: %s", err, out)
	}
}
