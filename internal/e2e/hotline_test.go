package e2e

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dayaq/internal/demo"
)

// signInAs signs the demo user in through the sign-in pages, with the
// keyboard, in the browser's first tab; the other tabs share the cookie.
// Each demo user can sign in once per 30 seconds (a TOTP code is used once).
func signInAs(t *testing.T, ctx context.Context, role string) {
	t.Helper()
	var acct demo.SignIn
	for _, s := range demo.SignIns() {
		if string(s.Role) == role {
			acct = s
		}
	}
	code, err := freshTOTP(acct.TOTPSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(baseURL+"/signin"),
		chromedp.WaitVisible(chromedp.ID("email")),
		chromedp.SendKeys(chromedp.ID("email"), acct.Email),
		chromedp.SendKeys(chromedp.ID("password"), acct.Password+"\r"),
		chromedp.WaitVisible(chromedp.ID("code")),
		chromedp.SendKeys(chromedp.ID("code"), code+"\r"),
		chromedp.WaitNotPresent(chromedp.ID("code")),
	); err != nil {
		t.Fatalf("sign in as %s: %v", role, err)
	}
}

// activeID is the id of the focused element.
func activeID(ctx context.Context) string {
	id, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.activeElement ? document.activeElement.id : ""`))
	return id
}

// TestHotlineKeyboard logs a contact in Azerbaijani with the keyboard only:
// access keys to jump, Tab to move, typing and Space; the live urgency
// suggestion follows the categories; a draft survives a closed tab; the
// contact is saved with Alt+S. Then axe-core checks the hotline pages in
// the three languages.
func TestHotlineKeyboard(t *testing.T) {
	browser := newBrowser(t, 4*time.Minute)
	ctx, cancel := context.WithTimeout(browser, 3*time.Minute)
	defer cancel()
	signInAs(t, ctx, "hotline_operator")

	alt := chromedp.KeyModifiers(chromedp.ModifierAlt)
	key := func(k string, opts ...chromedp.KeyOption) chromedp.Action[chromedp.Void] {
		return chromedp.KeyEvent(k, opts...)
	}
	focus := func(want string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, _ *chromedp.Target) (chromedp.Void, error) {
			if got := activeID(ctx); got != want {
				return chromedp.Void{}, fmt.Errorf("focus on #%s, want #%s", got, want)
			}
			return chromedp.Void{}, nil
		}
	}
	start := time.Now()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(baseURL+"/hotline/new?fresh=1"),
		chromedp.WaitVisible(chromedp.ID("intake")),
		focus("call_type"), // autofocus: the first question
		key("m", alt), focus("child0_name"),
		key("Nərmin Məmmədova"),
		key("\t"), focus("child0_age"), key("12"),
		key("k", alt), focus("cat-missing"),
		key("\t"), key("\t"), key("\t"), key("\t"), key("\t"), focus("cat-violence.bullying"),
		key(" "),
		chromedp.WaitVisible(chromedp.CSS(`#suggestion .urgency-medium`)),
		key("r", alt), focus("narrative"),
		key("Sinif yoldaşları hər gün incidir."),
	); err != nil {
		t.Fatalf("type the contact: %v", err)
	}
	if suggestion, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("suggestion"))); err != nil || !strings.Contains(suggestion, "Orta") {
		t.Errorf("suggestion = %q (%v), want medium (Orta)", suggestion, err)
	}

	// The draft is saved as one types; a closed tab loses nothing.
	// (The draft goes 800 ms after the last key; give it time to arrive.)
	if err := chromedp.Do(ctx, chromedp.Sleep(1500*time.Millisecond), chromedp.WaitVisible(chromedp.Search(`//span[@id="draft-status"][contains(., "Qaralama saxlanıldı")]`))); err != nil {
		t.Fatalf("no draft saved: %v", err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(baseURL+"/hotline/new"), chromedp.WaitVisible(chromedp.ID("intake"))); err != nil {
		t.Fatal(err)
	}
	narrative, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("narrative")))
	name, _ := chromedp.Run(ctx, chromedp.Value(chromedp.ID("child0_name")))
	if narrative != "Sinif yoldaşları hər gün incidir." || name != "Nərmin Məmmədova" {
		t.Fatalf("restored draft: narrative %q, name %q", narrative, name)
	}

	// Save with the access key.
	if err := chromedp.Do(ctx,
		key("s", alt),
		chromedp.WaitVisible(chromedp.Search(`//div[@role="status"][contains(., "Müraciət qeydə alındı.")]`)),
	); err != nil {
		t.Fatalf("save: %v", err)
	}
	url, _ := chromedp.Run(ctx, chromedp.Location())
	took := time.Since(start)
	t.Logf("logged a contact with the keyboard only in %s: %s", took.Round(time.Millisecond), url)
	if !strings.Contains(url, "/hotline/contacts/") {
		t.Fatalf("after saving at %s", url)
	}
	page, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Zorbalıq (bullinq)", "Nərmin Məmmədova", "Orta"} {
		if !strings.Contains(page, want) {
			t.Errorf("contact page lacks %q", want)
		}
	}
	contact := strings.TrimPrefix(url[:strings.Index(url, "?")], baseURL)

	axeSrc := readAxe(t)
	// Every hotline page in Azerbaijani, the intake form in all three
	// languages (the machine is shared: keep the browser's work small).
	for _, path := range []string{"/hotline", "/hotline/new", contact, "/hotline/taxonomy"} {
		langs := []string{"az"}
		if path == "/hotline/new" {
			langs = []string{"az", "ru", "en"}
		}
		for _, lang := range langs {
			t.Run(strings.ReplaceAll(path, "/", "_")+"_"+lang, func(t *testing.T) {
				checkPage(t, ctx, axeSrc, baseURL+path+"?lang="+lang, lang, viewports[0])
			})
		}
	}
	t.Run("phone", func(t *testing.T) {
		checkPage(t, ctx, axeSrc, baseURL+"/hotline/new?lang=az", "az", viewports[1])
	})
}

func readAxe(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("read the axe-core bundle: %v (see testdata/README.md)", err)
	}
	return string(b)
}
