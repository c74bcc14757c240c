package e2e

import (
	"context"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dayaq/internal/access"
	"dayaq/internal/demo"
)

// TestSchoolUserSignsInAndOpensAChild signs in as the demo school head in
// Chromium, typing the password and then a code from the published demo
// TOTP secret, opens the children list and a child's page from it, and
// runs axe-core on the second-factor page, the children list, a child's
// page and the account pages: no serious or critical violations.
func TestSchoolUserSignsInAndOpensAChild(t *testing.T) {
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("read the axe-core bundle: %v (see testdata/README.md)", err)
	}
	var head demo.SignIn
	for _, s := range demo.SignIns() {
		if s.Role == access.SchoolHead {
			head = s
		}
	}
	if head.TOTPSecret == "" {
		t.Fatal("the demo school head has no TOTP secret: a role that sees children's data must have one")
	}
	langs := []string{"az", "ru", "en"}
	checks := 2*len(langs)*len(viewports) + 3*len(viewports)
	browser := newBrowser(t, time.Duration(checks+4)*browserTimeout)
	ctx, cancel := context.WithTimeout(browser, 2*browserTimeout)
	defer cancel()

	step := func(name string, want string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		resp, err := chromedp.RunResponse(ctx, actions...)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp.Status != http.StatusOK || !strings.HasPrefix(strings.TrimPrefix(resp.URL, baseURL), want) {
			t.Fatalf("%s: response %s, want 200 at %s", name, describeResponse(resp), want)
		}
	}
	step("open /signin", "/signin", chromedp.Navigate(baseURL+"/signin?next=%2Fchildren"))
	step("type the email and password", "/signin/totp",
		chromedp.SendKeys(chromedp.CSS("#email"), head.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), head.Password),
		chromedp.Click(chromedp.CSS(`main form button[type="submit"]`)))

	// The second-factor page, while the session waits for the code.
	for _, vp := range viewports {
		t.Run("a11y/signin-totp/az/"+vp.name, func(t *testing.T) {
			checkPage(t, browser, string(axeSrc), baseURL+"/signin/totp?lang=az&next=%2Fchildren", "az", vp)
		})
	}

	code, err := freshTOTP(head.TOTPSecret)
	if err != nil {
		t.Fatal(err)
	}
	step("type the TOTP code", "/children",
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS(`main form[action="/signin/totp"] button[type="submit"]`)))

	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](
		`[...document.querySelectorAll("main table tbody a[href^='/children/']")].map(a => a.getAttribute("href"))`))
	if err != nil {
		t.Fatalf("read the children list: %v", err)
	}
	if len(rows) == 0 {
		t.Fatal("the demo school head's children list is empty")
	}
	name, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("main table tbody a").textContent.trim()`))
	if err != nil {
		t.Fatal(err)
	}
	step("open the first child", rows[0], chromedp.Click(chromedp.CSS("main table tbody a")))
	h1, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("h1").textContent.trim()`))
	if err != nil || !strings.HasPrefix(h1, name) {
		t.Errorf("the child's page is headed %q (err %v), want it to start with the name in the list, %q", h1, err, name)
	}
	// Every child listed belongs to the head's school.
	schools, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("dd")].map(d => d.textContent).join(" ")`))
	if err != nil || !strings.Contains(schools, head.OrgCode) {
		t.Errorf("the child's page does not show the school %s: %q (err %v)", head.OrgCode, schools, err)
	}

	for _, pg := range []struct{ name, path string }{{"children", "/children"}, {"child", rows[0]}} {
		for _, lang := range langs {
			for _, vp := range viewports {
				t.Run("a11y/"+pg.name+"/"+lang+"/"+vp.name, func(t *testing.T) {
					checkPage(t, browser, string(axeSrc), baseURL+pg.path+"?lang="+lang, lang, vp)
				})
			}
		}
	}
	for _, pg := range []string{"/account", "/account/tokens"} {
		for _, vp := range viewports {
			t.Run("a11y"+pg+"/az/"+vp.name, func(t *testing.T) {
				checkPage(t, browser, string(axeSrc), baseURL+pg+"?lang=az", "az", vp)
			})
		}
	}
}
