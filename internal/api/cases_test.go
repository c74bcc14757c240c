package api_test

import (
	"bytes"
	"context"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/blob"
	"dayaq/internal/child"
	"dayaq/internal/i18n"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// caseWorld is the whole server over a seeded database with a vault, and
// API tokens for a school head, a city specialist and a police officer.
type caseWorld struct {
	h      http.Handler
	db     *storage.DB
	tokens map[string]string
	users  map[string]int64
	child  int64
	blobs  string
}

func newCaseWorld(t *testing.T, dsn string) *caseWorld {
	t.Helper()
	ctx := context.Background()
	db := seeded(t, storagetest.Open(t, dsn))
	w := &caseWorld{db: db, tokens: map[string]string{}, users: map[string]int64{}, blobs: t.TempDir()}
	school, _ := db.OrgByCode(ctx, "BAK-06-001")
	kids := []child.Child{{StudentID: "S-1", LastName: "Məmmədova", FirstName: "Nərmin", Sex: child.Female,
		BirthDate: time.Date(2014, 3, 2, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 6, Section: "A"}}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	w.child = kids[0].ID
	for _, u := range []struct {
		key, org string
		role     access.Role
	}{{"head", "BAK-06-001", access.SchoolHead}, {"spec", "BSTI", access.CitySpecialist}, {"police", "POL-BAK", access.AgencyOfficer}} {
		nu, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: u.key + "@example.az", Name: u.key, OrgCode: u.org,
			Roles: []access.Role{u.role}, PasswordHash: "x"})
		if err != nil {
			t.Fatal(err)
		}
		tok := auth.NewAPIToken()
		if _, err := db.CreateAPIToken(ctx, audit.System(), storage.NewAPIToken{UserID: nu.ID, Name: "t",
			Scopes: []access.Scope{access.ScopeRead, access.ScopeWrite}, ExpiresAt: db.Now().Add(time.Hour), TokenHash: auth.HashToken(tok)}); err != nil {
			t.Fatal(err)
		}
		w.tokens[u.key], w.users[u.key] = tok, nu.ID
	}
	store, err := blob.NewDir(w.blobs)
	if err != nil {
		t.Fatal(err)
	}
	v, err := blob.NewVault(store, bytes.Repeat([]byte{3}, 32))
	if err != nil {
		t.Fatal(err)
	}
	s, err := server.New(db, i18n.MustLoad(), quiet, server.WithVault(v))
	if err != nil {
		t.Fatal(err)
	}
	w.h = openapitest.Wrap(s.Handler())
	return w
}

func (w *caseWorld) do(t *testing.T, who, method, target, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+w.tokens[who])
	r.Header.Set("Accept-Language", "en")
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	w.h.ServeHTTP(rec, r)
	return rec
}

type caseResp struct {
	ID          int64    `json:"id"`
	Status      string   `json:"status"`
	Version     int      `json:"version"`
	RespondDue  string   `json:"respond_due"`
	ReportDue   string   `json:"report_due"`
	Transitions []string `json:"transitions"`
	Children    []struct {
		Name string `json:"name"`
	} `json:"children"`
	Chronology []struct {
		Kind string `json:"kind"`
	} `json:"chronology"`
}

type problemResp struct {
	Status int `json:"status"`
	Errors []struct {
		Field string `json:"field"`
	} `json:"errors"`
}

func fields(p problemResp) string {
	var fs []string
	for _, e := range p.Errors {
		fs = append(fs, e.Field)
	}
	return strings.Join(fs, ",")
}

func TestCaseAPI(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newCaseWorld(t, e.DSN(t))
			body := fmt.Sprintf(`{"type":"violence.bullying","severity":"high","title":"Təhqir","summary":"Fasilədə","child_ids":[%d]}`, w.child)
			// Create, retry with the same key: one case, the same answer.
			first := w.do(t, "head", "POST", "/api/v1/cases", body, "Idempotency-Key", "k-1")
			if first.Code != http.StatusCreated || first.Header().Get("Location") == "" {
				t.Fatalf("create: %d %s", first.Code, first.Body)
			}
			again := w.do(t, "head", "POST", "/api/v1/cases", body, "Idempotency-Key", "k-1")
			if again.Code != http.StatusCreated || again.Body.String() != first.Body.String() || again.Header().Get("Idempotent-Replayed") != "true" {
				t.Fatalf("retry: %d %s (replayed %q)", again.Code, again.Body, again.Header().Get("Idempotent-Replayed"))
			}
			if other := w.do(t, "head", "POST", "/api/v1/cases", strings.Replace(body, "Təhqir", "Başqa", 1), "Idempotency-Key", "k-1"); other.Code != http.StatusUnprocessableEntity {
				t.Errorf("key reused for another body: %d", other.Code)
			}
			c := decode[caseResp](t, first)
			if c.Status != "new" || c.RespondDue == "" || c.ReportDue == "" || len(c.Children) != 1 || c.Children[0].Name != "Məmmədova Nərmin" {
				t.Fatalf("created case: %+v", c)
			}
			list := decode[struct {
				Items []caseResp `json:"items"`
			}](t, w.do(t, "head", "GET", "/api/v1/cases", ""))
			if len(list.Items) != 1 {
				t.Fatalf("after a retried create the school lists %d cases", len(list.Items))
			}
			// Validation names the fields.
			if p := decode[problemResp](t, w.do(t, "head", "POST", "/api/v1/cases", `{"type":"Bad Type","severity":"dire"}`)); fields(p) != "type,severity,title,child_ids" {
				t.Errorf("invalid create names %q", fields(p))
			}
			// Another body sees nothing; its 404 looks like a missing case.
			url := fmt.Sprintf("/api/v1/cases/%d", c.ID)
			if r := w.do(t, "police", "GET", url, ""); r.Code != http.StatusNotFound || strings.Contains(r.Body.String(), "Nərmin") {
				t.Errorf("police reads the case: %d %s", r.Code, r.Body)
			}
			if list := decode[struct {
				Items []caseResp `json:"items"`
			}](t, w.do(t, "police", "GET", "/api/v1/cases", "")); len(list.Items) != 0 {
				t.Errorf("police lists %d cases", len(list.Items))
			}
			// Transitions need If-Match and the current version.
			tr := url + "/transitions"
			triage := fmt.Sprintf(`{"to":"triaged","lead_org_code":"BSTI","owner_id":%d}`, w.users["spec"])
			if r := w.do(t, "spec", "POST", tr, triage); r.Code != http.StatusPreconditionRequired {
				t.Errorf("no If-Match: %d", r.Code)
			}
			if r := w.do(t, "spec", "POST", tr, triage, "If-Match", `"7"`); r.Code != http.StatusConflict {
				t.Errorf("stale If-Match: %d", r.Code)
			}
			if r := w.do(t, "head", "POST", tr, triage, "If-Match", `"1"`); r.Code != http.StatusForbidden {
				t.Errorf("school triages: %d %s", r.Code, r.Body)
			}
			r := w.do(t, "spec", "POST", tr, triage, "If-Match", `"1"`)
			if r.Code != http.StatusOK || r.Header().Get("ETag") != `"2"` {
				t.Fatalf("triage: %d %s", r.Code, r.Body)
			}
			if r := w.do(t, "spec", "POST", tr, `{"to":"in_progress"}`, "If-Match", `"2"`); r.Code != http.StatusOK {
				t.Fatalf("start: %d %s", r.Code, r.Body)
			}
			if p := decode[problemResp](t, w.do(t, "spec", "POST", tr, `{"to":"closed"}`, "If-Match", `"3"`)); p.Status != 422 || fields(p) != "reason,outcome" {
				t.Errorf("close without reason: %+v", p)
			}
			if r := w.do(t, "spec", "PATCH", url, `{"title":"Sinifdə təhqir"}`, "If-Match", `"3"`); r.Code != http.StatusOK || r.Header().Get("ETag") != `"4"` {
				t.Errorf("patch: %d %s", r.Code, r.Body)
			}
			if r := w.do(t, "head", "POST", url+"/notes", `{"body":"Valideynlə danışdıq"}`); r.Code != http.StatusCreated {
				t.Errorf("note: %d %s", r.Code, r.Body)
			}
			tk := w.do(t, "spec", "POST", url+"/tasks", fmt.Sprintf(`{"title":"Ailəyə baş çək","assignee_id":%d,"due":"2099-01-01"}`, w.users["head"]))
			if tk.Code != http.StatusCreated {
				t.Fatalf("task: %d %s", tk.Code, tk.Body)
			}
			task := decode[struct {
				ID int64 `json:"id"`
			}](t, tk)
			if r := w.do(t, "head", "PATCH", fmt.Sprintf("%s/tasks/%d", url, task.ID), `{"status":"done"}`, "If-Match", `"1"`); r.Code != http.StatusOK {
				t.Errorf("task done: %d %s", r.Code, r.Body)
			}
			// An attachment: stored encrypted, downloaded decrypted, tamper detected.
			secret := []byte("Psixoloqun rəyi: Nərmin")
			var mp bytes.Buffer
			mw := multipart.NewWriter(&mp)
			fw, _ := mw.CreateFormFile("file", "rəy.txt")
			fw.Write(secret)
			mw.Close()
			r = w.do(t, "spec", "POST", url+"/attachments", mp.String(), "Content-Type", mw.FormDataContentType())
			if r.Code != http.StatusCreated {
				t.Fatalf("upload: %d %s", r.Code, r.Body)
			}
			att := decode[struct {
				URL string `json:"url"`
			}](t, r)
			dl := w.do(t, "head", "GET", att.URL, "")
			if dl.Code != http.StatusOK || !bytes.Equal(dl.Body.Bytes(), secret) || !strings.HasPrefix(dl.Header().Get("Content-Disposition"), "attachment") {
				t.Fatalf("download: %d %q %q", dl.Code, dl.Body, dl.Header().Get("Content-Disposition"))
			}
			if r := w.do(t, "police", "GET", att.URL, ""); r.Code != http.StatusNotFound {
				t.Errorf("police downloads: %d", r.Code)
			}
			files, _ := filepath.Glob(filepath.Join(w.blobs, "*", "*"))
			if len(files) != 1 {
				t.Fatalf("blob files %v", files)
			}
			raw, _ := os.ReadFile(files[0])
			if bytes.Contains(raw, []byte("Nərmin")) {
				t.Fatal("attachment stored in plaintext")
			}
			raw[len(raw)-1] ^= 0xff
			os.WriteFile(files[0], raw, 0o600)
			if r := w.do(t, "head", "GET", att.URL, ""); r.Code != http.StatusInternalServerError || bytes.Contains(r.Body.Bytes(), []byte("Nərmin")) {
				t.Errorf("tampered download: %d %s", r.Code, r.Body)
			}
			// The case page has the whole chronology.
			full := decode[caseResp](t, w.do(t, "head", "GET", url, ""))
			var ks []string
			for _, e := range full.Chronology {
				ks = append(ks, e.Kind)
			}
			if got := strings.Join(ks, ","); got != "created,transition,transition,updated,note,task,task_status,attachment" {
				t.Errorf("chronology %s", got)
			}
			// Filters: bad ones are named; good ones narrow.
			if p := decode[problemResp](t, w.do(t, "spec", "GET", "/api/v1/cases?severity=dire&status=x&overdue=maybe&after=zz", "")); fields(p) != "status,severity,overdue,after" {
				t.Errorf("bad filters named %q", fields(p))
			}
			for q, n := range map[string]int{"status=in_progress": 1, "status=new": 0, "severity=high&type=violence": 1, "owner=me": 1,
				"school=BAK-06-001": 1, "district=BAK-07": 0, "overdue=true": 0, "status=open&lead=BSTI": 1} {
				l := decode[struct {
					Items []caseResp `json:"items"`
				}](t, w.do(t, "spec", "GET", "/api/v1/cases?"+q, ""))
				if len(l.Items) != n {
					t.Errorf("%s: %d cases, want %d", q, len(l.Items), n)
				}
			}
		})
	}
}
