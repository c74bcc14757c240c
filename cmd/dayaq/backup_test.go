package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"dayaq/internal/backup"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// liveServer is "dayaq serve" running in-process.
type liveServer struct {
	url    string
	cancel context.CancelFunc
	done   chan error
	stderr *syncBuffer
}

func startServe(t *testing.T, args ...string) *liveServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	s := &liveServer{cancel: cancel, done: make(chan error, 1), stderr: &syncBuffer{}}
	m := &Main{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: s.stderr, Getenv: func(k string) string { return english()[k] }}
	go func() {
		s.done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...))
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		if mm := listeningRE.FindStringSubmatch(stdout.String()); mm != nil {
			s.url = mm[1]
			break
		}
		select {
		case err := <-s.done:
			t.Fatalf("serve returned before listening: %v\n%s", err, s.stderr)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve printed no URL in 60s\n%s", s.stderr)
		}
	}
	t.Cleanup(s.stop)
	return s
}

func (s *liveServer) stop() {
	if s.cancel == nil {
		return
	}
	s.cancel()
	<-s.done
	s.cancel = nil
}

// apiCall sends one request with a bearer token.
func apiCall(url, token, method, path string, body io.Reader, ct string) (int, []byte, error) {
	req, _ := http.NewRequest(method, url+path, body)
	req.Header.Set("Authorization", "Bearer "+token)
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := (&http.Client{Timeout: 20 * time.Second}).Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}

func mustToken(t *testing.T, dsn, email string) string {
	t.Helper()
	r := run(context.Background(), english(), "token", "create", "--db", dsn, "--email", email, "--scopes", "read,write")
	if r.err != nil {
		t.Fatalf("token create %s: %v\n%s", email, r.err, r.stderr)
	}
	return strings.TrimSpace(r.stdout)
}

// TestBackupUnderLoadAndRestore takes a backup of a live server while
// hotline contacts pour in, restores it into a fresh database (on
// PostgreSQL, a fresh cluster) and a fresh data directory, and serves it:
// every contact acknowledged before the backup started is there, the audit
// chain verifies, and an attachment opens with the key kept apart.
func TestBackupUnderLoadAndRestore(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers under load")
	}
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			dir := t.TempDir()
			src, srcData := e.DSN(t), filepath.Join(dir, "src-data")
			var dst string
			if e.Name == storage.Postgres {
				dst = storagetest.OwnCluster(t).URL // a fresh server
			} else {
				dst = filepath.Join(dir, "dst", "dayaq.db")
			}
			dstData, bk := filepath.Join(dir, "dst-data"), filepath.Join(dir, "backup")
			backupUnderLoad(t, src, srcData, dst, dstData, bk)
		})
	}
}

func backupUnderLoad(t *testing.T, src, srcData, dst, dstData, bk string) {
	srv := startServe(t, "--db", src, "--data-dir", srcData, "--demo", "--demo-children", "2000")
	operator := mustToken(t, src, "hotline_operator@demo.dayaq.az")
	head := mustToken(t, src, "school_head@demo.dayaq.az")

	// One attachment, before the backup.
	status, b, err := apiCall(srv.url, head, "GET", "/api/v1/cases?limit=1", nil, "")
	var list struct{ Items []struct{ ID int64 } }
	if err != nil || status != http.StatusOK || json.Unmarshal(b, &list) != nil || len(list.Items) == 0 {
		t.Fatalf("demo cases: %d %v %s", status, err, b)
	}
	caseID := list.Items[0].ID
	file := make([]byte, 50_000)
	_, _ = rand.Read(file)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("file", "akt.pdf")
	_, _ = fw.Write(file)
	_ = mw.Close()
	status, b, err = apiCall(srv.url, head, "POST", fmt.Sprintf("/api/v1/cases/%d/attachments", caseID), &body, mw.FormDataContentType())
	var at struct{ ID int64 }
	if err != nil || status != http.StatusCreated || json.Unmarshal(b, &at) != nil {
		t.Fatalf("upload: %d %v %s", status, err, b)
	}

	// Write load: contacts from three clients, each 201 noted.
	var (
		mu    sync.Mutex
		acked []int64
		n     atomic.Int64
		stop  = make(chan struct{})
		wg    sync.WaitGroup
	)
	for c := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				body := fmt.Sprintf(`{"channel":"phone","call_type":"child_self","caller":{"anonymous":true},"children":[{"name":"Uşaq %d-%d","age":9}],`+
					`"categories":["peers"],"urgency":"low","outcome":"advice"}`, c, i)
				status, b, err := apiCall(srv.url, operator, "POST", "/api/v1/contacts", strings.NewReader(body), "application/json")
				var v struct{ ID int64 }
				if err != nil || status != http.StatusCreated || json.Unmarshal(b, &v) != nil {
					t.Errorf("contact under load: %d %v %s", status, err, b)
					return
				}
				mu.Lock()
				acked = append(acked, v.ID)
				mu.Unlock()
				n.Add(1)
			}
		}()
	}
	for deadline := time.Now().Add(30 * time.Second); n.Load() < 100 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	mu.Lock()
	before := append([]int64(nil), acked...) // acknowledged before the backup started
	mu.Unlock()
	r := run(context.Background(), english(), "backup", "--db", src, "--data-dir", srcData, "--to", bk)
	if r.err != nil {
		t.Fatalf("backup: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "DAYAQ_ATTACHMENT_KEY") {
		t.Errorf("the backup's output does not say where the key must be kept:\n%s", r.stdout)
	}
	for deadline, k := time.Now().Add(10*time.Second), n.Load(); n.Load() < k+30 && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond) // the load goes on after the backup
	}
	close(stop)
	wg.Wait()
	srv.stop()
	t.Logf("%d contacts acknowledged before the backup started, %d in all", len(before), n.Load())

	// The key is never in the backup.
	key, err := os.ReadFile(filepath.Join(srcData, "attachment.key"))
	if err != nil {
		t.Fatal(err)
	}
	_ = filepath.Walk(bk, func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			if b, _ := os.ReadFile(p); bytes.Contains(b, bytes.TrimSpace(key)) || info.Name() == "attachment.key" {
				t.Errorf("the attachment key is in the backup: %s", p)
			}
		}
		return nil
	})
	if r := run(context.Background(), english(), "backup", "--verify", bk); r.err != nil {
		t.Fatalf("backup --verify: %v\n%s", r.err, r.stdout)
	}
	r = run(context.Background(), english(), "restore", "--from", bk, "--db", dst, "--data-dir", dstData)
	if r.err != nil {
		t.Fatalf("restore: %v\n%s%s", r.err, r.stdout, r.stderr)
	}
	if r := run(context.Background(), english(), "audit", "verify", "--db", dst); r.err != nil {
		t.Fatalf("audit verify on the restored database: %v\n%s", r.err, r.stdout)
	}
	// The operator brings the key, kept apart, to the new server.
	if err := os.WriteFile(filepath.Join(dstData, "attachment.key"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	srv2 := startServe(t, "--db", dst, "--data-dir", dstData, "--demo")
	missing := 0
	for _, id := range before {
		if status, _, err := apiCall(srv2.url, operator, "GET", fmt.Sprintf("/api/v1/contacts/%d", id), nil, ""); err != nil || status != http.StatusOK {
			missing++
		}
	}
	if missing > 0 {
		t.Errorf("%d of the %d contacts acknowledged before the backup are missing after the restore", missing, len(before))
	}
	status, b, err = apiCall(srv2.url, head, "GET", fmt.Sprintf("/api/v1/cases/%d/attachments/%d", caseID, at.ID), nil, "")
	if err != nil || status != http.StatusOK || !bytes.Equal(b, file) {
		t.Errorf("the attachment after the restore: %d %v, %d bytes, same bytes %v", status, err, len(b), bytes.Equal(b, file))
	}
	man, err := backup.ReadManifest(bk)
	if err != nil {
		t.Fatal(err)
	}
	if man.Rows["contacts"] < int64(len(before)) {
		t.Errorf("the manifest counts %d contacts, fewer than the %d acknowledged before the backup", man.Rows["contacts"], len(before))
	}
}

// TestBackupRefusals: a damaged file, a newer schema, a target that is not
// empty and a second backup into the same directory are refused, each with
// its message.
func TestBackupRefusals(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "src", "dayaq.db")
	if r := run(ctx, english(), "demo", "--db", src, "--children", "20"); r.err != nil {
		t.Fatalf("demo: %v\n%s", r.err, r.stderr)
	}
	bk := filepath.Join(dir, "bk")
	if r := run(ctx, english(), "backup", "--db", src, "--to", bk); r.err != nil {
		t.Fatalf("backup: %v\n%s", r.err, r.stderr)
	}
	if r := run(ctx, english(), "backup", "--db", src, "--to", bk); r.err == nil || !strings.Contains(r.err.Error(), "is not empty") {
		t.Errorf("a second backup into the same directory: %v", r.err)
	}
	// A target that is not empty.
	if r := run(ctx, english(), "restore", "--from", bk, "--db", src); r.err == nil || !strings.Contains(r.err.Error(), "is not empty") {
		t.Errorf("restore over the live database: %v", r.err)
	}
	// A newer schema.
	copyDir := func(name string) string {
		d := filepath.Join(dir, name)
		if err := os.CopyFS(d, os.DirFS(bk)); err != nil {
			t.Fatal(err)
		}
		return d
	}
	newer := copyDir("newer")
	man, err := backup.ReadManifest(newer)
	if err != nil {
		t.Fatal(err)
	}
	man.SchemaVersion = 99999
	b, _ := json.Marshal(man)
	if err := os.WriteFile(filepath.Join(newer, backup.ManifestName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(ctx, english(), "restore", "--from", newer, "--db", filepath.Join(dir, "n", "dayaq.db")); r.err == nil || !strings.Contains(r.err.Error(), "newer than this program knows") {
		t.Errorf("restore of a newer schema: %v", r.err)
	}
	// A damaged database file.
	damaged := copyDir("damaged")
	p := filepath.Join(damaged, backup.SQLiteFile)
	db, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	db[len(db)/2] ^= 0xff
	if err := os.WriteFile(p, db, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := run(ctx, english(), "backup", "--verify", damaged); r.err == nil || !strings.Contains(r.err.Error(), "does not match its checksum") {
		t.Errorf("verify of a damaged backup: %v", r.err)
	}
	if r := run(ctx, english(), "restore", "--from", damaged, "--db", filepath.Join(dir, "d", "dayaq.db")); r.err == nil {
		t.Error("a damaged backup was restored")
	}
	if _, err := os.Stat(filepath.Join(dir, "d", "dayaq.db")); err == nil {
		t.Error("the refused restore left a database behind")
	}
}
