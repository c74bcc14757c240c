package web_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"dayaq/internal/audit"
	"dayaq/internal/i18n"
	"dayaq/internal/referral"
	"dayaq/internal/server"
	"dayaq/internal/storage"
)

// readXLSX reads the first sheet of a workbook back.
func readXLSX(t *testing.T, b []byte) [][]string {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a workbook: %v", err)
	}
	defer x.Close()
	rows, err := x.GetRows(x.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func audited(t *testing.T, db *storage.DB, ok func(e audit.Event) bool) bool {
	t.Helper()
	es, err := db.AuditEvents(context.Background(), storage.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if ok(e) {
			return true
		}
	}
	return false
}

// The referral list exports as CSV and XLSX for those who may, with the
// purpose asked and the export audited with its filter; cells that could
// run as formulas are neutralised; a teacher gets nothing.
func TestReferralExport(t *testing.T) {
	f := newStatsFixture(t)
	ctx := context.Background()
	u, _ := f.db.UserByEmail(ctx, "head@test.az")
	p, _ := f.db.PrincipalForUser(ctx, u.ID)
	head := audit.Actor{Principal: p}
	cases, err := f.db.ListCases(ctx, head, storage.CaseQuery{Limit: 10})
	if err != nil || len(cases.Cases) == 0 {
		t.Fatalf("cases: %v", err)
	}
	for _, k := range cases.Cases[:2] {
		if _, err := f.db.SendReferral(ctx, head, storage.NewReferral{CaseID: k.ID, ToOrgCode: "POLICE", ServiceCode: "police.home_visit",
			Urgency: referral.High, Message: "Ailəyə baxış lazımdır.", Share: []referral.Section{referral.ShareSchool},
			Basis: referral.Basis{Kind: referral.Consent, ConsentBy: "Əliyeva Səbinə", ConsentRelated: "ana", ConsentMethod: referral.Written,
				ConsentAt: f.db.Now().Add(-time.Hour)}}); err != nil {
			t.Fatal(err)
		}
	}
	code, b := f.city.get(t, f.h, "/referrals?lang=en")
	if code != http.StatusOK || !strings.Contains(b, "/referrals/export?") {
		t.Fatalf("the list has no export link: %d", code)
	}
	code, b = f.city.get(t, f.h, "/referrals/export?format=csv&to=POLICE&purpose=abc")
	if code != http.StatusBadRequest || !strings.Contains(b, `value="abc"`) || !strings.Contains(b, `action="/referrals/export"`) {
		t.Fatalf("short purpose: %d", code)
	}
	purpose := url.QueryEscape("Polislə birgə yoxlama")
	code, b = f.city.get(t, f.h, "/referrals/export?format=csv&to=POLICE&purpose="+purpose)
	recs, err := csv.NewReader(strings.NewReader(b)).ReadAll()
	if code != http.StatusOK || err != nil || len(recs) != 3 || recs[1][3] != "POLICE" || recs[1][10] == "" {
		t.Fatalf("csv: %d %v\n%s", code, err, b)
	}
	if !audited(t, f.db, func(e audit.Event) bool {
		return e.Action == "referral.export" && e.Reason == "Polislə birgə yoxlama" && strings.Contains(e.Details, "to=POLICE")
	}) {
		t.Error("the referral export is not audited with its purpose and filter")
	}
	code, b = f.city.get(t, f.h, "/referrals/export?format=xlsx&to=POLICE&purpose="+purpose)
	if code != http.StatusOK {
		t.Fatalf("xlsx: %d", code)
	}
	rows := readXLSX(t, []byte(b))
	if len(rows) != 3 || rows[1][3] != "POLICE" {
		t.Fatalf("xlsx rows %v", rows)
	}
	if code, _ = f.teach.get(t, f.h, "/referrals/export?format=csv&purpose="+purpose); code != http.StatusNotFound {
		t.Errorf("teacher exports referrals: %d", code)
	}
}

// The hotline's contacts export for its supervisor; a name that starts
// like a formula is neutralised in CSV and XLSX; a school head may not.
func TestContactExport(t *testing.T) {
	h, users := hotlineWorld(t)
	op, sup := users["operator"], users["supervisor"]
	for _, name := range []string{"=HYPERLINK(\"x\")", "Nərmin"} {
		resp := post(t, h, op, "/hotline/new", intake(func(v url.Values) { v.Set("child0_name", name) }))
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("log a contact: %d", resp.StatusCode)
		}
	}
	if _, b := getAs(t, h, sup, "/hotline?lang=en"); !strings.Contains(b, "/hotline/export?view=all") {
		t.Error("the supervisor's queue has no export link")
	}
	purpose := url.QueryEscape("Aylıq keyfiyyət yoxlaması")
	resp, b := getAs(t, h, sup, "/hotline/export?format=csv&view=all&purpose="+purpose)
	recs, err := csv.NewReader(strings.NewReader(b)).ReadAll()
	if resp.StatusCode != http.StatusOK || err != nil || len(recs) != 3 {
		t.Fatalf("csv: %d %v\n%s", resp.StatusCode, err, b)
	}
	if !strings.Contains(b, `'=HYPERLINK`) || strings.Contains(b, "\n=HYPERLINK") || !strings.Contains(b, "Nərmin") {
		t.Errorf("formula not neutralised:\n%s", b)
	}
	resp, b = getAs(t, h, sup, "/hotline/export?format=xlsx&view=all&purpose="+purpose)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("xlsx: %d", resp.StatusCode)
	}
	rows := readXLSX(t, []byte(b))
	if len(rows) != 3 || !strings.HasPrefix(rows[1][9], "'=") && !strings.HasPrefix(rows[2][9], "'=") {
		t.Errorf("xlsx rows %q", rows)
	}
	if resp, _ := getAs(t, h, users["head"], "/hotline/export?format=csv&purpose="+purpose); resp.StatusCode != http.StatusNotFound {
		t.Errorf("head exports contacts: %d", resp.StatusCode)
	}
	if resp, _ := getAs(t, h, op, "/hotline/export?format=csv&purpose="+purpose); resp.StatusCode != http.StatusNotFound {
		t.Errorf("operator exports contacts: %d", resp.StatusCode)
	}
}

// An XLSX above the row limit is a background job: queued and audited
// with its purpose and filter, built as the requester, downloaded by them
// alone (audited), and read back whole.
func TestLargeXLSXExportRunsInTheBackground(t *testing.T) {
	f := newStatsFixture(t)
	s, err := server.New(f.db, i18n.MustLoad(), slog.New(slog.DiscardHandler), server.WithExportRowLimit(3))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	purpose := url.QueryEscape("Nazirliyə illik hesabat")
	req := httptest.NewRequest(http.MethodGet, "/cases/export?format=xlsx&queue=all&purpose="+purpose, nil)
	req.Header.Set("Cookie", f.city.cookie)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	code, loc := w.Code, w.Header().Get("Location")
	if code != http.StatusSeeOther || !strings.HasPrefix(loc, "/exports?queued=") {
		t.Fatalf("not queued: %d %s", code, loc)
	}
	if !audited(t, f.db, func(e audit.Event) bool {
		return e.Action == "case.export" && e.Reason == "Nazirliyə illik hesabat" && strings.Contains(e.Details, `"queued":true`) &&
			strings.Contains(e.Details, "queue=all")
	}) {
		t.Error("the queued export is not audited with its purpose and filter")
	}
	code, b := f.city.get(t, h, loc+"&lang=en")
	if code != http.StatusOK || !strings.Contains(b, "The export is queued") || strings.Contains(b, "/download") {
		t.Fatalf("exports page: %d", code)
	}
	if n, err := s.RunExports(context.Background()); err != nil || n != 1 {
		t.Fatalf("run exports: %d %v", n, err)
	}
	code, b = f.city.get(t, h, "/exports?lang=en")
	if code != http.StatusOK || !strings.Contains(b, "/download") {
		t.Fatalf("exports page after the run: %d", code)
	}
	id := strings.TrimPrefix(loc, "/exports?queued=")
	if code, _ := f.head.get(t, h, "/exports/"+id+"/download"); code != http.StatusNotFound {
		t.Errorf("another user downloads the export: %d", code)
	}
	code, b = f.city.get(t, h, "/exports/"+id+"/download")
	if code != http.StatusOK {
		t.Fatalf("download: %d", code)
	}
	rows := readXLSX(t, []byte(b))
	if len(rows) != 8 || !strings.Contains(strings.Join(rows[1], " "), "Quliyev Ömər") {
		t.Fatalf("xlsx: %d rows %v", len(rows), rows)
	}
	if !audited(t, f.db, func(e audit.Event) bool { return e.Action == "export.download" && e.ObjectID == id }) {
		t.Error("the download is not audited")
	}
	// within the limit, the XLSX comes in the request
	code, b = f.city.get(t, h, "/cases/export?format=xlsx&queue=all&district=BAK-06&purpose="+purpose)
	if code != http.StatusOK || len(readXLSX(t, []byte(b))) != 4 {
		t.Errorf("small xlsx: %d", code)
	}
}
