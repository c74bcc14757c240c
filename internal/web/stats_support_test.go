package web_test

import (
	"context"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"dayaq/internal/audit"
	"dayaq/internal/plan"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
)

var supportLinkRE = regexp.MustCompile(`<a href="(/(?:screening/register|plans)\?[^"]+)">(\d+)</a>`)
var supportRowRE = regexp.MustCompile(`href="/(?:screening/register|plans)/\d+"`)

// The support figures on a school head's own dashboard link every number
// to the register or plan list that shows exactly that many; the same
// figures of another district are suppressed and link nowhere; a teacher,
// who may list only their classes, gets them suppressed too.
func TestSupportFiguresLinkToTheirLists(t *testing.T) {
	f := newStatsFixture(t)
	ctx := context.Background()
	u, _ := f.db.UserByEmail(ctx, "head@test.az")
	p, _ := f.db.PrincipalForUser(ctx, u.ID)
	head := audit.Actor{Principal: p}
	kids, err := f.db.ListChildren(ctx, head, storage.ChildQuery{SchoolID: p.OrgID})
	if err != nil || len(kids) < 3 {
		t.Fatalf("pupils: %d %v", len(kids), err)
	}
	var entries []storage.RegisterEntry
	for i, lv := range []screening.Level{screening.High, screening.Medium, screening.High} {
		e, err := f.db.ProposeRegister(ctx, head, storage.NewProposal{ChildID: kids[i].ID, Level: lv, Source: screening.FromManual, Note: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if e, err = f.db.ConfirmRegister(ctx, head, storage.RegisterDecision{ID: e.ID, Version: e.Version, ResponsibleUserID: head.UserID,
			FirstReview: f.db.Now().AddDate(0, 0, 14)}); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	for i, e := range entries[:2] {
		pl, err := f.db.CreatePlan(ctx, head, storage.NewPlan{RegisterEntryID: e.ID, Concerns: "Dərsə davamiyyət azalıb."})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if _, err := f.db.ClosePlan(ctx, head, pl.ID, pl.Version, plan.Closure{Outcome: plan.OutcomeMet}); err != nil {
				t.Fatal(err)
			}
		}
	}
	code, b := f.head.get(t, f.h, "/statistics?lang=en")
	if code != http.StatusOK {
		t.Fatalf("dashboard: %d", code)
	}
	text := html.UnescapeString(b)
	for _, want := range []string{"The register by risk level", "Screenings of the pupils on the roll", "Recovery plans by status", "Closed plans by outcome",
		"Plan reviews overdue", "Parent events", "Attendance at the events held", "Campaign showings by kind of material", "Campaign reach",
		"3 in all; most: high — 2 (66%).", "0 of the 3 pupils on the roll were screened (0%)."} {
		if !strings.Contains(text, want) {
			t.Errorf("the head's dashboard lacks %q", want)
		}
	}
	links := supportLinkRE.FindAllStringSubmatch(b, -1)
	if len(links) < 6 {
		t.Fatalf("only %d linked support numbers", len(links))
	}
	for _, m := range links {
		target, n := html.UnescapeString(m[1]), m[2]
		code, list := f.head.get(t, f.h, target)
		if code != http.StatusOK {
			t.Fatalf("%s: %d", target, code)
		}
		if got := len(supportRowRE.FindAllString(list, -1)); strconv.Itoa(got) != n {
			t.Errorf("%s: the dashboard says %s, the list shows %d", target, n, got)
		}
	}
	// another district: suppressed, no links
	code, b = f.head.get(t, f.h, "/statistics?lang=en&district=BAK-07")
	if code != http.StatusOK || supportLinkRE.MatchString(b) {
		t.Errorf("another district's support figures link to lists: %d", code)
	}
	// the teacher sees the school's support figures suppressed: 3 on the register → the symbol
	code, b = f.teach.get(t, f.h, "/statistics?lang=en")
	if code != http.StatusOK || supportLinkRE.MatchString(b) || !strings.Contains(b, "·") {
		t.Errorf("teacher's dashboard: %d", code)
	}
}
