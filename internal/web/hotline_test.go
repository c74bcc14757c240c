package web_test

import (
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"dayaq/internal/access"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage/storagetest"
)

// hotlineUser is a signed-in user of the hotline tests.
type hotlineUser struct{ cookie, csrf string }

func hotlineWorld(t *testing.T) (http.Handler, map[string]hotlineUser) {
	t.Helper()
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	if _, err := db.ImportOrgs(ctx, []org.Org{
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "BŞTİ"},
		{Code: "HOTLINE-146-2", Type: org.Hotline, NameAZ: "146-2"},
		{Code: "BAK-06-001", Type: org.School, NameAZ: "Məktəb", DistrictCode: "BAK-06"},
	}); err != nil {
		t.Fatal(err)
	}
	users := map[string]hotlineUser{}
	for _, u := range []struct {
		key, org string
		role     access.Role
	}{
		{"operator", "HOTLINE-146-2", access.HotlineOperator},
		{"supervisor", "HOTLINE-146-2", access.HotlineSupervisor},
		{"admin", "BSTI", access.CityAdmin},
		{"head", "BAK-06-001", access.SchoolHead},
	} {
		cookie, csrf, _ := signInAs(t, db, u.key+"@example.az", "Ülviyyə "+u.key, u.org, u.role)
		users[u.key] = hotlineUser{cookie, csrf}
	}
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return s.Handler(), users
}

func post(t *testing.T, h http.Handler, u hotlineUser, target string, form url.Values) *http.Response {
	t.Helper()
	form.Set("csrf", u.csrf)
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Cookie", u.cookie)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Result()
}

func getAs(t *testing.T, h http.Handler, u hotlineUser, target string) (*http.Response, string) {
	t.Helper()
	resp := do(t, h, req{target, []string{"Cookie", u.cookie}})
	return resp, body(t, resp)
}

func intake(edit func(v url.Values)) url.Values {
	v := url.Values{"call_type": {"child_self"}, "channel": {"phone"}, "anonymous": {"1"},
		"child0_name": {"Nərmin"}, "child0_age": {"12"}, "category": {"violence.bullying"},
		"narrative": {"Sinifdə incidirlər."}, "outcome": {"advice"}, "phone": {"050 123 45 67"}}
	if edit != nil {
		edit(v)
	}
	return v
}

func TestHotlinePages(t *testing.T) {
	h, users := hotlineWorld(t)
	op, sup := users["operator"], users["supervisor"]
	for _, l := range i18n.Langs() {
		for _, path := range []string{"/hotline", "/hotline/new", "/hotline/taxonomy"} {
			resp, b := getAs(t, h, op, path+"?lang="+string(l))
			checkPage(t, resp, b, http.StatusOK, l)
		}
	}
	// A school head may not log contacts and sees none.
	if resp, _ := getAs(t, h, users["head"], "/hotline/new"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("head /hotline/new = %d", resp.StatusCode)
	}
	if _, b := getAs(t, h, users["head"], "/hotline?lang=en"); !strings.Contains(b, "Your role sees no hotline contacts") {
		t.Error("head's queue does not say they see nothing")
	}

	// Bad input: the form again, with what was typed and the message by the field.
	resp := post(t, h, op, "/hotline/new?lang=en", intake(func(v url.Values) { v.Del("category"); v.Set("child0_age", "40") }))
	b := body(t, resp)
	checkPage(t, resp, b, http.StatusUnprocessableEntity, i18n.EN)
	for _, want := range []string{"Choose at least one category.", `id="child0_age-error"`, "Sinifdə incidirlər.", `value="Nərmin"`} {
		if !strings.Contains(b, want) {
			t.Errorf("re-rendered form lacks %q", want)
		}
	}

	// The draft is kept as the operator types, and comes back.
	resp = post(t, h, op, "/hotline/draft?lang=en", url.Values{"narrative": {"Yarımçıq mətn"}, "child0_name": {"Aysel"}})
	if b := body(t, resp); resp.StatusCode != http.StatusOK || !strings.Contains(b, "Draft saved at") {
		t.Errorf("draft: %d %s", resp.StatusCode, b)
	}
	if _, b := getAs(t, h, op, "/hotline/new?lang=en"); !strings.Contains(b, "Yarımçıq mətn") || !strings.Contains(b, "Restored the draft") {
		t.Error("the draft did not come back")
	}
	if _, b := getAs(t, h, op, "/hotline/new?lang=en&fresh=1"); strings.Contains(b, "Yarımçıq mətn") {
		t.Error("fresh form shows the draft")
	}

	// The live suggestion.
	resp = post(t, h, op, "/hotline/urgency?lang=az", url.Values{"category": {"mental.suicidal"}, "attempt_in_progress": {"1"}})
	if b := body(t, resp); !strings.Contains(b, "Kritik") {
		t.Errorf("suggestion = %s", b)
	}

	// Logged; the draft is gone; the page shows it with the number masked.
	resp = post(t, h, op, "/hotline/new", intake(nil))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/hotline/contacts/") {
		t.Fatalf("create: %d %q %s", resp.StatusCode, loc, body(t, resp))
	}
	_, b = getAs(t, h, op, loc+"&lang=en")
	b = html.UnescapeString(b)
	for _, want := range []string{"The contact is logged.", "+994 50 *** ** 67", "Bullying", "Nərmin"} {
		if !strings.Contains(b, want) {
			t.Errorf("contact page lacks %q", want)
		}
	}
	if strings.Contains(b, "1234567") {
		t.Error("contact page shows the number")
	}
	if _, b := getAs(t, h, op, "/hotline/new?lang=en"); strings.Contains(b, "Restored the draft") {
		t.Error("the draft outlived the contact")
	}

	// A critical contact: at the top of the supervisor's queue until taken.
	resp = post(t, h, op, "/hotline/new", intake(func(v url.Values) {
		v.Set("category", "mental.suicidal")
		v.Set("attempt_in_progress", "1")
	}))
	crit := resp.Header.Get("Location")
	crit = crit[:strings.Index(crit, "?")]
	_, b = getAs(t, h, sup, "/hotline?lang=en")
	if !strings.Contains(b, "Urgent: someone must take these") || !strings.Contains(b, crit+"/take") {
		t.Fatalf("supervisor's queue has no alert:\n%s", b)
	}
	if _, b := getAs(t, h, op, "/hotline?lang=en"); strings.Contains(b, crit+"/take") {
		t.Error("the operator is offered to take it")
	}
	if resp := post(t, h, sup, crit+"/take", url.Values{}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("take: %d", resp.StatusCode)
	}
	if _, b := getAs(t, h, sup, "/hotline?lang=en"); strings.Contains(b, "Urgent: someone must take these") {
		t.Error("alert still shown after it was taken")
	}
	// Revealing the number is for those who may see the contact.
	if resp := post(t, h, op, crit+"/phone?lang=en", url.Values{}); !strings.Contains(html.UnescapeString(body(t, resp)), "+994501234567") {
		t.Error("reveal did not show the number")
	}
	if resp, _ := getAs(t, h, users["head"], crit); resp.StatusCode != http.StatusNotFound {
		t.Errorf("head reads a contact: %d", resp.StatusCode)
	}

	// The city admin publishes a new taxonomy version from the page.
	resp = post(t, h, users["admin"], "/hotline/taxonomy", url.Values{"version": {"1"}, "new_code": {"violence.trafficking"},
		"new_az": {"İnsan alveri"}, "new_ru": {"Торговля людьми"}, "new_en": {"Trafficking"}, "new_chi": {"violence.trafficking"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("publish: %d %s", resp.StatusCode, body(t, resp))
	}
	if _, b := getAs(t, h, users["admin"], "/hotline/taxonomy?lang=en"); !strings.Contains(b, "Version 2") || !strings.Contains(b, "Trafficking") {
		t.Error("version 2 not shown")
	}
	if resp := post(t, h, op, "/hotline/taxonomy", url.Values{"version": {"2"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("operator publishes: %d", resp.StatusCode)
	}
}
