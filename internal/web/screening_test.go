package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
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
