package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dayaq/internal/auth"
	"dayaq/internal/demo"
)

// person is a demo user signed in in a browser context of their own.
type person struct {
	t   *testing.T
	ctx context.Context
}

// asDemo opens a fresh browser context (its own cookies) and signs the
// demo account local@demo… in, with the password and the current TOTP code.
func asDemo(t *testing.T, browser context.Context, local string) person {
	t.Helper()
	var acct demo.SignIn
	for _, s := range demo.SignIns() {
		if s.Email == local+"@"+demo.Domain {
			acct = s
		}
	}
	if acct.Email == "" {
		t.Fatalf("no demo account %s", local)
	}
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := person{t: t, ctx: ctx}
	p.open("/signin?lang=en")
	p.submit("form[action='/signin']", map[string]string{"#email": acct.Email, "#password": acct.Password})
	for try := 0; acct.TOTPSecret != ""; try++ {
		// A code works once: another test may have just used this period's.
		code, err := freshTOTP(acct.TOTPSecret)
		if err != nil {
			t.Fatal(err)
		}
		p.submit("form[action='/signin/totp']", map[string]string{"#code": code})
		if !strings.HasPrefix(p.path(), "/signin") {
			break
		}
		if try == 2 {
			t.Fatalf("%s cannot sign in: still at %s", local, p.path())
		}
		time.Sleep(time.Until(time.Unix((time.Now().Unix()/auth.TOTPPeriod+1)*auth.TOTPPeriod, 0)) + time.Second)
	}
	return p
}

// open navigates to path and returns the response's status.
func (p person) open(path string) int {
	p.t.Helper()
	resp, err := chromedp.Run(p.ctx, chromedp.NavigateResponse(baseURL+path))
	if err != nil {
		p.t.Fatalf("open %s: %v", path, err)
	}
	return int(resp.Status)
}

// path is the current page's path.
func (p person) path() string {
	p.t.Helper()
	loc, err := chromedp.Run(p.ctx, chromedp.Location())
	if err != nil {
		p.t.Fatal(err)
	}
	return strings.TrimPrefix(loc, baseURL)
}

// text is the page's visible text.
func (p person) text() string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// submit fills the form's controls (selector → value; "checked" ticks a
// radio or a checkbox) and submits it, waiting for the next page.
func (p person) submit(form string, values map[string]string) {
	p.t.Helper()
	before := p.path()
	vals, _ := json.Marshal(values)
	js := fmt.Sprintf(`(() => {
		const f = document.querySelector(%q);
		if (!f) return "no form";
		for (const [sel, v] of Object.entries(%s)) {
			const el = document.querySelector(sel);
			if (!el) return "no " + sel;
			if (v === "checked") el.checked = true; else el.value = v;
		}
		window.__dayaqMark = true;
		f.requestSubmit();
		return "";
	})()`, form, vals)
	if msg, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js)); err != nil || msg != "" {
		p.t.Fatalf("submit %s on %s: %v %s", form, before, err, msg)
	}
	// The mark set before submitting is gone once the next document (a
	// redirect's target, or the form again with its errors) has loaded.
	for deadline := time.Now().Add(browserTimeout); time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		state, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](`window.__dayaqMark ? "old" : document.readyState`))
		if err == nil && state == "complete" {
			return
		}
	}
	p.t.Fatalf("submit %s on %s: no page came back", form, before)
}

// A case is referred to the police and to health from the UI; each body
// sees only its own referral's share; the police acknowledge theirs. The
// new pages pass axe-core.
func TestReferralToPoliceAndHealth(t *testing.T) {
	browser := newBrowser(t, 6*browserTimeout)
	head := asDemo(t, browser, "school_head")

	// The school reports a case about one of its pupils.
	if s := head.open("/cases/new?lang=en"); s != http.StatusOK {
		t.Fatalf("case form: %d", s)
	}
	pupil, err := chromedp.Run(head.ctx, chromedp.Evaluate[string](`document.querySelector("#children option:nth-child(2)").value`))
	if err != nil || pupil == "" {
		t.Fatalf("no pupil to report: %v", err)
	}
	head.submit("form[action='/cases/new']", map[string]string{"#children": pupil, "#type": "violence.bullying",
		"#severity": "high", "#title": "E2E: sinifdə zorakılıq", "#summary": "Gizli qeyd: ailədə münaqişə var."})
	casePath := head.path()
	if !strings.HasPrefix(casePath, "/cases/") {
		t.Fatalf("after reporting: at %s\n%s", casePath, head.text())
	}
	head.open(casePath + "/refer?lang=en")
	if !strings.Contains(head.text(), "Sharing a child's data with another body needs") {
		t.Fatalf("the form does not say which basis applies:\n%s", head.text())
	}
	refer := func(to, service string, extra map[string]string) string {
		head.open(casePath + "/refer?lang=en")
		v := map[string]string{"#ref-to": to, "#ref-service": service, "input[name=urgency][value=high]": "checked",
			"#ref_new-message": "Ailəyə baxış və dəstək lazımdır.", "input[name=share][value=summary]": "checked"}
		for k, x := range extra {
			v[k] = x
		}
		head.submit("form[action$='/refer']", v)
		if !strings.HasPrefix(head.path(), "/referrals/") {
			t.Fatalf("referring to %s: at %s\n%s", to, head.path(), head.text())
		}
		return head.path()
	}
	toPolice := refer("BAK-POLICE", "police.home_visit", map[string]string{"input[name=basis][value=child_in_danger]": "checked"})
	toHealth := refer("BAK-HEALTH", "health.mental_health", map[string]string{"input[name=basis][value=consent]": "checked",
		"#ref_new-consent_by": "Əliyeva Səbinə", "#ref_new-consent_relation": "ana", "#ref-consent-method": "written",
		"#ref_new-consent_at": time.Now().Add(-2 * time.Hour).In(time.FixedZone("AZT", 4*3600)).Format("2006-01-02T15:04")})

	police := asDemo(t, browser, "agency_officer")
	if s := police.open(toPolice + "?lang=en"); s != http.StatusOK {
		t.Fatalf("the police open their referral: %d", s)
	}
	page := police.text()
	if !strings.Contains(page, "You see what the referral shares") || !strings.Contains(page, "Ailəyə baxış") ||
		!strings.Contains(page, "E2E: sinifdə zorakılıq") {
		t.Fatalf("the police's referral page lacks the share:\n%s", page)
	}
	if s := police.open(toHealth + "?lang=en"); s != http.StatusNotFound {
		t.Errorf("the police open health's referral: %d", s)
	}
	police.open(casePath + "?lang=en")
	if strings.Contains(police.text(), "Gizli qeyd") {
		t.Errorf("the police see the case file beyond the share")
	}
	police.open(toPolice + "?lang=en")
	police.submit("form:has(input[name=action][value=acknowledge])", map[string]string{})
	if !strings.Contains(police.text(), "State\nacknowledged") && !strings.Contains(police.text(), "acknowledged") {
		t.Errorf("after acknowledging:\n%s", police.text())
	}

	health := asDemo(t, browser, "health_officer")
	if s := health.open(toPolice + "?lang=en"); s != http.StatusNotFound {
		t.Errorf("health opens the police's referral: %d", s)
	}
	if s := health.open(toHealth + "?lang=en"); s != http.StatusOK || !strings.Contains(health.text(), "Əliyeva Səbinə") {
		t.Errorf("health opens its referral: %d", s)
	}

	// The new pages, signed in, pass axe-core.
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	city := asDemo(t, browser, "city_specialist")
	city.open("/working-group?lang=en")
	city.submit("form[action='/working-group/meetings']", map[string]string{"#meeting-title": "E2E iclası",
		"#meeting-starts_at": "2026-12-01T10:00", "#meeting-place": "BŞTİ"})
	meeting := city.path()
	if !strings.HasPrefix(meeting, "/working-group/meetings/") {
		t.Fatalf("planning a meeting: at %s\n%s", meeting, city.text())
	}
	checks := []struct {
		who  person
		path string
	}{
		{head, casePath + "/refer"}, {police, toPolice}, {head, "/referrals/board"}, {city, meeting},
	}
	for _, c := range checks { // in Azerbaijani only: the machine is small and the other languages share the templates
		t.Run(strings.ReplaceAll(c.path, "/", "_"), func(t *testing.T) {
			checkPage(t, c.who.ctx, string(axeSrc), baseURL+c.path+"?lang=az", "az", viewports[0])
		})
	}
}
