package web_test

import (
	"bytes"
	"context"
	"html"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// rosterSite is the whole server with two school heads signed in.
type rosterSite struct {
	t    *testing.T
	h    http.Handler
	tok  map[string]string
	csrf map[string]string
}

func newRosterSite(t *testing.T) *rosterSite {
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	if _, err := db.ImportOrgs(ctx, []org.Org{
		{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli məktəb", DistrictCode: "BAK-06"},
		{Code: "BAK-06-002", Type: org.School, NameAZ: "2 nömrəli məktəb", DistrictCode: "BAK-06"},
	}); err != nil {
		t.Fatal(err)
	}
	s := &rosterSite{t: t, tok: map[string]string{}, csrf: map[string]string{}}
	for _, u := range []struct{ key, org string }{{"head1", "BAK-06-001"}, {"head2", "BAK-06-002"}} {
		nu, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: u.key + "@example.az", Name: u.key,
			OrgCode: u.org, Roles: []access.Role{access.SchoolHead}, PasswordHash: "not used"})
		if err != nil {
			t.Fatal(err)
		}
		tok, csrf := auth.NewSessionToken(), auth.NewCSRFToken()
		if _, err := db.CreateSession(ctx, storage.NewSession{UserID: nu.ID, TokenHash: auth.HashToken(tok), CSRFToken: csrf, MFADone: true}); err != nil {
			t.Fatal(err)
		}
		s.tok[u.key], s.csrf[u.key] = tok, csrf
	}
	srv, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s.h = srv.Handler()
	return s
}

func (s *rosterSite) do(user string, r *http.Request) (int, http.Header, string) {
	r.Header.Set("Cookie", "dayaq_session="+s.tok[user])
	w := httptest.NewRecorder()
	s.h.ServeHTTP(w, r)
	return w.Code, w.Header(), html.UnescapeString(w.Body.String())
}

func (s *rosterSite) get(user, target string) (int, string) {
	code, _, b := s.do(user, httptest.NewRequest(http.MethodGet, target, nil))
	return code, b
}

func (s *rosterSite) post(user, target string, form url.Values) (int, http.Header, string) {
	form.Set("csrf", s.csrf[user])
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return s.do(user, r)
}

// upload posts a file to the import form and returns where it leads.
func (s *rosterSite) upload(user, name, content string) (int, http.Header, string) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("csrf", s.csrf[user])
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write([]byte(content))
	}
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/children/import?lang=en", &buf)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return s.do(user, r)
}

// waitImport polls the status fragment until the import is no longer running.
func (s *rosterSite) waitImport(user, page string) string {
	s.t.Helper()
	id := strings.TrimPrefix(page, "/children/import?id=")
	for deadline := time.Now().Add(20 * time.Second); ; {
		_, b := s.get(user, "/children/import/status?lang=en&id="+id)
		if !strings.Contains(b, "hx-trigger") || time.Now().After(deadline) {
			return b
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const webCSV = "şagird_id;soyad;ad;ata_adı;cins;doğum_tarixi;məktəb_kodu;sinif\n" +
	"S-1;Məmmədova;Nərmin;Rəşad qızı;q;09.03.2015;BAK-06-001;5A\n" +
	"S-2;MAMMADOVA;NARMIN;;q;2015-03-09;BAK-06-001;5-A\n" +
	"S-3;Əliyev;Murad;;x;2014-01-01;BAK-06-001;6B\n" +
	"S-4;Əliyev;Murad;;m;2014-01-01;BAK-06-002;6B\n"

func TestRosterImportPages(t *testing.T) {
	s := newRosterSite(t)
	if code, b := s.get("head1", "/children/import?lang=az"); code != http.StatusOK || !strings.Contains(b, `type="file"`) ||
		!strings.Contains(b, "Məktəb siyahısının idxalı") || !strings.Contains(b, `enctype="multipart/form-data"`) {
		t.Fatalf("form: %d\n%s", code, b)
	}
	code, hdr, _ := s.upload("head1", "5a.csv", webCSV)
	if code != http.StatusSeeOther || !strings.HasPrefix(hdr.Get("Location"), "/children/import?id=") {
		t.Fatalf("upload: %d %v", code, hdr)
	}
	page := hdr.Get("Location")
	b := s.waitImport("head1", page)
	for _, want := range []string{"The import is finished.", "<dd>4</dd>", "<dd>2</dd>", "Rejected rows",
		"<td>4</td><td>Sex: Sex “x” is not known", "<td>5</td><td>School code: You may not add or move children to school “BAK-06-002”."} {
		if !strings.Contains(b, want) {
			t.Errorf("status lacks %q:\n%s", want, b)
		}
	}
	if code, b := s.get("head1", page+"&lang=ru"); code != http.StatusOK || !strings.Contains(b, "Импорт завершён.") || !strings.Contains(b, "<html") {
		t.Errorf("status page in Russian: %d", code)
	}
	if code, _ := s.get("head2", page); code != http.StatusNotFound {
		t.Errorf("another user's import: %d", code)
	}
	// Bad files come back to the form with the message beside the field.
	if code, _, b := s.upload("head1", "x.csv", "student_id,name\n1,x\n"); code != http.StatusUnprocessableEntity ||
		!strings.Contains(b, `id="file-error"`) || !strings.Contains(b, "The header lacks these columns") {
		t.Errorf("bad header: %d\n%s", code, b)
	}
	if code, _, b := s.upload("head1", "", ""); code != http.StatusUnprocessableEntity || !strings.Contains(b, "Choose a CSV file.") {
		t.Errorf("no file: %d\n%s", code, b)
	}
}

func TestDuplicatesPage(t *testing.T) {
	s := newRosterSite(t)
	_, hdr, _ := s.upload("head1", "5a.csv", webCSV)
	s.waitImport("head1", hdr.Get("Location"))

	code, b := s.get("head1", "/children/duplicates?lang=en")
	if code != http.StatusOK || !strings.Contains(b, "MAMMADOVA NARMIN") || !strings.Contains(b, "Məmmədova Nərmin") ||
		!strings.Contains(b, "Birth date matches") {
		t.Fatalf("duplicates: %d\n%s", code, b)
	}
	if _, b := s.get("head2", "/children/duplicates?lang=en"); strings.Contains(b, "Məmmədova") || !strings.Contains(b, "No possible duplicates") {
		t.Errorf("another school sees the pair:\n%s", b)
	}
	// The first form keeps the first record and merges the second into it.
	form := url.Values{}
	m := regexp.MustCompile(`name="(survivor_id|survivor_version|merged_id|merged_version)" value="(\d+)"`).FindAllStringSubmatch(b, 4)
	for _, x := range m {
		form.Set(x[1], x[2])
	}
	stale := url.Values{}
	for k, v := range form {
		stale[k] = v
	}
	stale.Set("merged_version", "99")
	if code, _, b := s.post("head1", "/children/merges?lang=en", stale); code != http.StatusConflict || !strings.Contains(b, "changed since you looked") {
		t.Errorf("stale merge: %d\n%s", code, b)
	}
	code, hdr, _ = s.post("head1", "/children/merges?lang=en", form)
	if code != http.StatusSeeOther {
		t.Fatalf("merge: %d", code)
	}
	_, b = s.get("head1", hdr.Get("Location")+"&lang=en")
	if !strings.Contains(b, "The records are merged.") || !strings.Contains(b, "No possible duplicates") || !strings.Contains(b, "Undo the merge") {
		t.Errorf("after merge:\n%s", b)
	}
	if code, _ := s.get("head1", "/children/"+form.Get("merged_id")); code != http.StatusNotFound {
		t.Errorf("merged record: %d", code)
	}
	undo := regexp.MustCompile(`action="(/children/merges/\d+/undo)"`).FindStringSubmatch(b)
	if undo == nil {
		t.Fatal("no undo form")
	}
	code, hdr, _ = s.post("head1", undo[1], url.Values{})
	if code != http.StatusSeeOther {
		t.Fatalf("undo: %d", code)
	}
	if _, b := s.get("head1", hdr.Get("Location")+"&lang=en"); !strings.Contains(b, "The merge is undone") || !strings.Contains(b, "MAMMADOVA NARMIN") {
		t.Errorf("after undo:\n%s", b)
	}
	if code, _ := s.get("head1", "/children/"+form.Get("merged_id")); code != http.StatusOK {
		t.Errorf("record after undo: %d", code)
	}
}
