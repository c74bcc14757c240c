package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
)

// A special case's page and a hotline contact's page propose their pupil
// for the register, in three languages: a form that fails keeps what was
// typed and names the field; one that goes through opens a proposal with
// the case or contact as its source, which the school sees; whoever cannot
// read the case cannot propose from it.
func TestProposeFromCaseAndContact(t *testing.T) {
	s := newCaseSite(t)
	ctx := context.Background()
	cat := i18n.MustLoad()
	resp, _ := s.post(t, "head", "/cases/new", url.Values{"children": {fmt.Sprint(s.child)}, "type": {"violence.bullying"},
		"severity": {"high"}, "title": {"Təhqir fasilədə"}, "summary": {"Uzun mətn"}})
	page := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !caseIDRE.MatchString(page) {
		t.Fatalf("report: %d to %q", resp.StatusCode, page)
	}
	for _, l := range i18n.Langs() {
		resp, b := s.get(t, "head", page, string(l))
		checkPage(t, resp, b, http.StatusOK, l)
		if text := html.UnescapeString(b); !strings.Contains(text, cat.T(l, "screening.propose.title")) || !strings.Contains(text, `action="`+page+`/register"`) {
			t.Errorf("%s: the case page offers no proposal", l)
		}
	}
	// No level: refused, naming the field, with the note kept.
	resp, b := s.post(t, "head", page+"/register", url.Values{"child_id": {fmt.Sprint(s.child)}, "note": {"Fasilədə təkrar olur"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `id="propose-level-error"`) ||
		!strings.Contains(b, `value="Fasilədə təkrar olur"`) || !strings.Contains(b, cat.T(i18n.EN, "screening.error.level")) {
		t.Fatalf("a proposal without a level: %d", resp.StatusCode)
	}
	// Whoever cannot read the case cannot propose from it.
	if resp, _ := s.post(t, "police", page+"/register", url.Values{"child_id": {fmt.Sprint(s.child)}, "level": {"high"}}); resp.StatusCode != http.StatusNotFound {
		t.Errorf("the police propose from a case they cannot read: %d", resp.StatusCode)
	}
	resp, _ = s.post(t, "head", page+"/register", url.Values{"child_id": {fmt.Sprint(s.child)}, "level": {"medium"}, "note": {"Fasilədə təkrar olur"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), page+"?proposed=1") {
		t.Fatalf("propose from the case: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if _, b := s.get(t, "head", resp.Header.Get("Location"), "ru"); !strings.Contains(html.UnescapeString(b), cat.T(i18n.RU, "screening.propose.done")) {
		t.Error("the case page does not say the pupil was proposed")
	}
	// The head decides on the school's register: the navigation's badge
	// counts the proposal awaiting her, in every language.
	for _, l := range i18n.Langs() {
		_, b := s.get(t, "head", "/screening", string(l))
		if badge := `<span class="sr-only">` + cat.T(l, "screening.nav.awaiting") + `: </span>1</span>`; !strings.Contains(html.UnescapeString(b), badge) {
			t.Errorf("%s: no register badge of 1 in the navigation", l)
		}
	}
	if _, b := s.get(t, "spec", "/screening", "en"); strings.Contains(html.UnescapeString(b), cat.T(i18n.EN, "screening.nav.awaiting")) {
		t.Error("the city specialist, who decides on no school's register, has a register badge")
	}
	hp, err := s.db.PrincipalForUser(ctx, s.who["head"].id)
	if err != nil {
		t.Fatal(err)
	}
	head := audit.Actor{Principal: hp}
	es, err := s.db.RegisterList(ctx, head, storage.RegisterFilter{ChildID: s.child})
	if err != nil || len(es) != 1 || es[0].Source != screening.FromCase || es[0].Status != screening.Proposed || es[0].Level != screening.Medium {
		t.Fatalf("the school's register after the case's proposal: %+v %v", es, err)
	}

	// A hotline contact about the same pupil, found in the registry,
	// raises the open proposal to high.
	if _, err := s.db.ImportOrgs(ctx, []org.Org{{Code: "HOTLINE-146-2", Type: org.Hotline, NameAZ: "146-2"}}); err != nil {
		t.Fatal(err)
	}
	cookie, csrf, id := signInAs(t, s.db, "operator@example.az", "Operator", "HOTLINE-146-2", access.HotlineOperator)
	s.who["operator"] = session{cookie, csrf, id}
	resp, _ = s.post(t, "operator", "/hotline/new", intake(func(v url.Values) { v.Set("child0_id", fmt.Sprint(s.child)) }))
	contact, _, _ := strings.Cut(resp.Header.Get("Location"), "?")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(contact, "/hotline/contacts/") {
		t.Fatalf("log a contact: %d %q", resp.StatusCode, contact)
	}
	for _, l := range i18n.Langs() {
		resp, b := s.get(t, "operator", contact, string(l))
		checkPage(t, resp, b, http.StatusOK, l)
		if !strings.Contains(html.UnescapeString(b), `action="`+contact+`/register"`) {
			t.Errorf("%s: the contact page offers no proposal", l)
		}
	}
	resp, b = s.post(t, "operator", contact+"/register", url.Values{"child_id": {"x"}, "level": {"high"}, "note": {"Zəng edən ana"}})
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(b, `id="propose-child-error"`) || !strings.Contains(b, `value="Zəng edən ana"`) {
		t.Fatalf("a proposal naming no pupil: %d", resp.StatusCode)
	}
	resp, _ = s.post(t, "operator", contact+"/register", url.Values{"child_id": {fmt.Sprint(s.child)}, "level": {"high"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), contact+"?proposed=1") {
		t.Fatalf("propose from the contact: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	es, err = s.db.RegisterList(ctx, head, storage.RegisterFilter{ChildID: s.child})
	if err != nil || len(es) != 1 || es[0].Level != screening.High {
		t.Fatalf("the school's register after the contact's proposal: %+v %v", es, err)
	}
}

// The class grid of social categories records each ticked category's own
// evidence note and date, in three languages; a bad date is refused on
// that category's cell with everything typed kept, and the saved grid
// shows each category's evidence where it was typed.
func TestGridEvidencePerCategory(t *testing.T) {
	s := newCaseSite(t)
	ctx := context.Background()
	cat := i18n.MustLoad()
	hp, err := s.db.PrincipalForUser(ctx, s.who["head"].id)
	if err != nil {
		t.Fatal(err)
	}
	head := audit.Actor{Principal: hp}
	day := s.db.Now()
	r, err := s.db.CreateRound(ctx, head, storage.Round{Scope: "class", Grade: 6, Section: "A", Instruments: []string{screening.CodeCategories},
		Informants: []screening.Informant{screening.Teacher}, StartsOn: day.AddDate(0, 0, -1), EndsOn: day.AddDate(0, 0, 10)})
	if err != nil {
		t.Fatal(err)
	}
	grid := fmt.Sprintf("/screening/rounds/%d/grid?class=6-A&instrument=%s&informant=teacher", r.ID, screening.CodeCategories)
	name := func(item string) string { return fmt.Sprintf("a.%d.%s", s.child, item) }
	for _, l := range i18n.Langs() {
		resp, b := s.get(t, "head", grid, string(l))
		checkPage(t, resp, b, http.StatusOK, l)
		for _, n := range []string{name("orphan.evidence"), name("orphan.date"), name("idp.evidence"), name("idp.date")} {
			if !strings.Contains(b, `name="`+n+`"`) {
				t.Errorf("%s: the grid has no input %s", l, n)
			}
		}
	}
	form := url.Values{name("orphan"): {"1"}, name("orphan.evidence"): {"Şəhadətnamə"}, name("orphan.date"): {"2025-03-01"},
		name("idp"): {"1"}, name("idp.evidence"): {"Köçkün vəsiqəsi"}, name("idp.date"): {"10.09.2024"}}
	resp, b := s.post(t, "head", grid, form)
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("a bad date: %d", resp.StatusCode)
	}
	bad := regexp.MustCompile(`name="` + regexp.QuoteMeta(name("idp.date")) + `" value="10.09.2024"[^>]*aria-invalid="true"`)
	if !bad.MatchString(b) || !strings.Contains(b, `value="Şəhadətnamə"`) || !strings.Contains(b, cat.T(i18n.EN, "screening.error.date")) {
		t.Fatalf("the bad date is not named on its category's cell, or what was typed is lost")
	}
	if regexp.MustCompile(`name="` + regexp.QuoteMeta(name("orphan.date")) + `"[^>]*aria-invalid`).MatchString(b) {
		t.Error("the good date is marked invalid too")
	}
	form.Set(name("idp.date"), "2024-09-10")
	if resp, _ := s.post(t, "head", grid, form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	cs, err := s.db.ChildScreeningFor(ctx, head, s.child)
	if err != nil || len(cs.Sets) != 1 {
		t.Fatalf("stored: %+v %v", cs.Sets, err)
	}
	d := cs.Sets[0].Answers.Details
	if d["orphan"] != (screening.Detail{Evidence: "Şəhadətnamə", Date: "2025-03-01"}) || d["idp"] != (screening.Detail{Evidence: "Köçkün vəsiqəsi", Date: "2024-09-10"}) || len(d) != 2 {
		t.Errorf("details stored %+v, want each category's own", d)
	}
	_, b = s.get(t, "head", grid, "en")
	b = html.UnescapeString(b)
	for n, v := range map[string]string{name("orphan.evidence"): "Şəhadətnamə", name("idp.evidence"): "Köçkün vəsiqəsi", name("idp.date"): "2024-09-10"} {
		if !strings.Contains(b, `name="`+n+`" value="`+v+`"`) {
			t.Errorf("the saved grid shows no %q in %s", v, n)
		}
	}
}
