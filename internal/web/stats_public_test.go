package web_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"dayaq/internal/audit"
	"dayaq/internal/i18n"
	"dayaq/internal/report/pdftext"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
)

// The public statistics as a PDF, without signing in, in each language:
// the text read back has every table (the register's too), the district
// names with their Azerbaijani letters, the suppression symbol and the
// methodology note. The register table's CSV and XLSX carry the symbol
// and the note as well.
func TestPublicStatisticsPDF(t *testing.T) {
	f := newStatsFixture(t)
	ctx := context.Background()
	u, _ := f.db.UserByEmail(ctx, "head@test.az")
	p, _ := f.db.PrincipalForUser(ctx, u.ID)
	head := audit.Actor{Principal: p}
	kids, err := f.db.ListChildren(ctx, head, storage.ChildQuery{SchoolID: p.OrgID})
	if err != nil || len(kids) == 0 {
		t.Fatalf("pupils: %v", err)
	}
	e, err := f.db.ProposeRegister(ctx, head, storage.NewProposal{ChildID: kids[0].ID, Level: screening.High, Source: screening.FromManual, Note: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.ConfirmRegister(ctx, head, storage.RegisterDecision{ID: e.ID, Version: e.Version, ResponsibleUserID: head.UserID,
		FirstReview: f.db.Now().AddDate(0, 0, 14)}); err != nil {
		t.Fatal(err)
	}
	for _, l := range []struct {
		lang  i18n.Lang
		wants []string
	}{
		{i18n.AZ, []string{"Binəqədi", "Pirallahı", "Səbail", "Reyestr: rayon və risk səviyyəsi üzrə", "Metod", "yüksək"}},
		{i18n.RU, []string{"Бинагадинский", "Реестр по районам и уровням риска", "Метод"}},
		{i18n.EN, []string{"Binagadi", "The register by district and risk level", "Method", "146-2 contacts by category and month"}},
	} {
		r := httptest.NewRequest(http.MethodGet, "/statistika/pdf?lang="+string(l.lang), nil)
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/pdf" || !bytes.HasPrefix(w.Body.Bytes(), []byte("%PDF-")) {
			t.Fatalf("%s: %d %s", l.lang, w.Code, w.Header().Get("Content-Type"))
		}
		text, err := pdftext.Text(w.Body.Bytes())
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range append(l.wants, "·") {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the PDF's text lacks %q", l.lang, want)
			}
		}
	}
	for _, format := range []string{"csv", "xlsx"} {
		r := httptest.NewRequest(http.MethodGet, "/statistika?lang=en&table=register&format="+format, nil)
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			t.Fatalf("register %s: %d", format, w.Code)
		}
		var cells [][]string
		if format == "xlsx" {
			cells = readXLSX(t, w.Body.Bytes())
		} else {
			for _, line := range strings.Split(strings.TrimSpace(w.Body.String()), "\n") {
				cells = append(cells, strings.Split(line, ","))
			}
		}
		all := ""
		for _, row := range cells {
			all += strings.Join(row, "|") + "\n"
		}
		// one entry in the city: the cell, its margins and the grand total are all 1 → the symbol
		if !strings.Contains(all, "Binagadi") || !strings.Contains(all, "Total|Total|·") || !strings.Contains(all, "Method") ||
			!strings.Contains(all, "suppressed") || strings.Contains(all, "|1\n") {
			t.Errorf("register %s:\n%s", format, all)
		}
	}
}
