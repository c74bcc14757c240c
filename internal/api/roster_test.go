package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// apiUser creates a user with one role in an organisation and returns
// their principal.
func apiUser(t *testing.T, db *storage.DB, email, orgCode string, role access.Role) access.Principal {
	t.Helper()
	ctx := context.Background()
	u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: email, Name: email, OrgCode: orgCode,
		Roles: []access.Role{role}, PasswordHash: "not-a-real-hash"})
	if err != nil {
		t.Fatal(err)
	}
	p, err := db.PrincipalForUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

type apiClient struct {
	t *testing.T
	h http.Handler
}

func (c apiClient) do(p access.Principal, method, target, contentType, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	if p.UserID != 0 {
		r = r.WithContext(authn.WithPrincipal(r.Context(), p))
	}
	w := httptest.NewRecorder()
	c.h.ServeHTTP(w, r)
	return w
}

type importStatus struct {
	ID      int64                `json:"id"`
	Status  string               `json:"status"`
	Counts  storage.RosterCounts `json:"counts"`
	Error   string               `json:"error"`
	Rejects []struct {
		Line    int `json:"line"`
		Reasons []struct {
			Field  string `json:"field"`
			Detail string `json:"detail"`
		} `json:"reasons"`
		Row map[string]string `json:"row"`
	} `json:"rejects"`
}

// waitImport polls an import until it is no longer running.
func (c apiClient) waitImport(p access.Principal, href string) importStatus {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		w := c.do(p, http.MethodGet, href+"?lang=en", "", "")
		if w.Code != http.StatusOK {
			c.t.Fatalf("GET %s: %d %s", href, w.Code, w.Body)
		}
		var s importStatus
		if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
			c.t.Fatal(err)
		}
		if s.Status != "running" || time.Now().After(deadline) {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const csvHeader = "student_id,last_name,first_name,patronymic,sex,birth_date,school_code,grade\n"

func TestRosterImportAPI(t *testing.T) {
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	c := apiClient{t, httpx.Languages(i18n.MustLoad())(apiHandler(db))}
	head := apiUser(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	other := apiUser(t, db, "other@test.az", "BAK-06-002", access.SchoolHead)
	police := apiUser(t, db, "police@test.az", "POL-BAK", access.AgencyOfficer)

	body := csvHeader +
		"S-1,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-001,5A\n" +
		"S-2,Əliyev,Murad,,x,2014-01-01,BAK-06-001,6B\n" +
		"S-3,Əliyev,Murad,,m,2014-01-01,BAK-06-002,6B\n"
	w := c.do(head, http.MethodPost, "/api/v1/children/imports?file_name=5a.csv", "text/csv", body)
	if w.Code != http.StatusAccepted {
		t.Fatalf("POST: %d %s", w.Code, w.Body)
	}
	var started struct {
		ID   int64  `json:"id"`
		Href string `json:"href"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &started)
	if loc := w.Header().Get("Location"); loc != started.Href || started.ID == 0 {
		t.Fatalf("Location %q, body %s", loc, w.Body)
	}
	s := c.waitImport(head, started.Href)
	if s.Status != "done" || s.Counts != (storage.RosterCounts{Read: 3, Inserted: 1, Rejected: 2}) {
		t.Fatalf("status = %+v", s)
	}
	if len(s.Rejects) != 2 || s.Rejects[0].Line != 3 || s.Rejects[0].Reasons[0].Field != "sex" ||
		!strings.Contains(s.Rejects[0].Reasons[0].Detail, "Sex “x” is not known") || s.Rejects[0].Row["student_id"] != "S-2" {
		t.Errorf("rejects = %+v", s.Rejects)
	}
	if s.Rejects[1].Line != 4 || !strings.Contains(s.Rejects[1].Reasons[0].Detail, "You may not add or move children to school “BAK-06-002”") {
		t.Errorf("another school's row: %+v", s.Rejects[1])
	}
	// The import and its rejects are the uploader's only.
	if w := c.do(other, http.MethodGet, started.Href, "", ""); w.Code != http.StatusNotFound {
		t.Errorf("another user's GET: %d", w.Code)
	}
	// A file that cannot be used is refused at once, naming the field.
	w = c.do(head, http.MethodPost, "/api/v1/children/imports?lang=en", "text/csv", "student_id,name\nS-1,X\n")
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"field":"file"`) ||
		!strings.Contains(w.Body.String(), "The header lacks these columns") {
		t.Errorf("bad header: %d %s", w.Code, w.Body)
	}
	// Only staff who may change children import.
	if w := c.do(police, http.MethodPost, "/api/v1/children/imports", "text/csv", body); w.Code != http.StatusForbidden {
		t.Errorf("police: %d %s", w.Code, w.Body)
	}
	if w := c.do(access.Principal{}, http.MethodPost, "/api/v1/children/imports", "text/csv", body); w.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", w.Code)
	}
}

func TestDuplicatesAPI(t *testing.T) {
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	c := apiClient{t, httpx.Languages(i18n.MustLoad())(apiHandler(db))}
	head := apiUser(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	other := apiUser(t, db, "other@test.az", "BAK-06-002", access.SchoolHead)
	w := c.do(head, http.MethodPost, "/api/v1/children/imports", "text/csv", csvHeader+
		"S-1,Məmmədova,Nərmin,Rəşad qızı,f,2015-03-09,BAK-06-001,5A\n"+
		"S-2,MAMMADOVA,NARMIN,,f,09.03.2015,BAK-06-001,5A\n")
	if w.Code != http.StatusAccepted {
		t.Fatal(w.Code, w.Body)
	}
	c.waitImport(head, w.Header().Get("Location"))

	type pairs struct {
		Items []struct {
			A, B struct {
				ID      int64 `json:"id"`
				Version int   `json:"version"`
			}
			Score   float64  `json:"score"`
			Reasons []string `json:"reasons"`
		} `json:"items"`
	}
	var ps pairs
	w = c.do(head, http.MethodGet, "/api/v1/children/duplicates?lang=en", "", "")
	if err := json.Unmarshal(w.Body.Bytes(), &ps); err != nil || len(ps.Items) != 1 {
		t.Fatalf("duplicates: %d %s", w.Code, w.Body)
	}
	p := ps.Items[0]
	if p.Score <= 0 || p.Score > 1 || len(p.Reasons) == 0 {
		t.Errorf("pair = %+v", p)
	}
	w = c.do(other, http.MethodGet, "/api/v1/children/duplicates", "", "")
	if strings.Contains(w.Body.String(), "Məmmədova") || !strings.Contains(w.Body.String(), `"items":[]`) {
		t.Errorf("another school sees the pair: %s", w.Body)
	}
	merge := func(who access.Principal, v int) *httptest.ResponseRecorder {
		return c.do(who, http.MethodPost, "/api/v1/children/merges?lang=en", "application/json",
			fmt.Sprintf(`{"survivor_id":%d,"survivor_version":%d,"merged_id":%d,"merged_version":%d}`, p.A.ID, p.A.Version, p.B.ID, v))
	}
	if w := merge(head, p.B.Version+1); w.Code != http.StatusConflict {
		t.Errorf("stale merge: %d %s", w.Code, w.Body)
	}
	if w := merge(other, p.B.Version); w.Code != http.StatusNotFound {
		t.Errorf("other school's merge: %d %s", w.Code, w.Body)
	}
	if w := c.do(head, http.MethodPost, "/api/v1/children/merges", "application/json", `{"survivor_id":1}`); w.Code != http.StatusUnprocessableEntity {
		t.Errorf("incomplete merge: %d %s", w.Code, w.Body)
	}
	w = merge(head, p.B.Version)
	if w.Code != http.StatusCreated {
		t.Fatalf("merge: %d %s", w.Code, w.Body)
	}
	var m struct {
		ID int64 `json:"id"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &m)
	if w := c.do(head, http.MethodGet, fmt.Sprintf("/api/v1/children/%d", p.B.ID), "", ""); w.Code != http.StatusNotFound {
		t.Errorf("merged record: %d", w.Code)
	}
	if w := c.do(head, http.MethodPost, fmt.Sprintf("/api/v1/children/merges/%d/undo", m.ID), "", ""); w.Code != http.StatusOK {
		t.Fatalf("undo: %d %s", w.Code, w.Body)
	}
	if w := c.do(head, http.MethodGet, fmt.Sprintf("/api/v1/children/%d", p.B.ID), "", ""); w.Code != http.StatusOK {
		t.Errorf("record after undo: %d", w.Code)
	}
	if w := c.do(head, http.MethodPost, fmt.Sprintf("/api/v1/children/merges/%d/undo", m.ID), "", ""); w.Code != http.StatusConflict {
		t.Errorf("second undo: %d", w.Code)
	}
}
