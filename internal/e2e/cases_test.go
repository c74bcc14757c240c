package e2e

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"dayaq/internal/demo"
)

// signIn signs the demo user of role in on the browser tab ctx, with the
// password and the TOTP code of their published secret.
func signIn(t *testing.T, ctx context.Context, role string) {
	t.Helper()
	var acct demo.SignIn
	for _, s := range demo.SignIns() {
		if string(s.Role) == role {
			acct = s
			break
		}
	}
	if acct.Email == "" {
		t.Fatalf("no demo %s", role)
	}
	if err := chromedp.Do(ctx,
		chromedp.Navigate(baseURL+"/signin"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), acct.Email),
		chromedp.SendKeys(chromedp.CSS("#password"), acct.Password),
		chromedp.Click(chromedp.CSS(`form[action="/signin"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#code")),
	); err != nil {
		t.Fatalf("sign in as %s: %v", role, err)
	}
	code, err := freshTOTP(acct.TOTPSecret)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS(`form[action="/signin/totp"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`nav.side`)),
	); err != nil {
		t.Fatalf("second factor for %s: %v", role, err)
	}
}

// tab opens a tab on a fresh browser, for one user.
func tab(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	browser := newBrowser(t, timeout)
	ctx, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	return ctx
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	return strings.TrimSpace(eval(t, ctx, chromedp.Text(chromedp.CSS(sel))))
}

// waitFor polls the tab until the JavaScript condition holds, across the
// navigation a form's submission starts.
func waitFor(t *testing.T, ctx context.Context, what, cond string) {
	t.Helper()
	deadline := time.Now().Add(browserTimeout)
	for time.Now().Before(deadline) {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("%s: the page never showed the result (%s)", what, cond)
}

// eval runs one action that gives a value.
func eval[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatalf("browser: %v", err)
	}
	return v
}

// A school head reports a special case about a pupil from the school's
// form; the city specialist finds it in the city's new queue, triages it
// (lead body and owner), starts work, adds a note and closes it with an
// outcome — all in the browser, in Azerbaijani.
func TestCaseReportedTriagedWorkedClosed(t *testing.T) {
	school := tab(t, 3*browserTimeout)
	signIn(t, school, "school_head")
	if err := chromedp.Do(school,
		chromedp.Navigate(baseURL+"/cases/new"),
		chromedp.WaitVisible(chromedp.CSS("#children")),
	); err != nil {
		t.Fatalf("report form: %v", err)
	}
	pupil := eval(t, school, chromedp.Evaluate[string](`document.querySelector("#children option:nth-child(2)").value`))
	title := "E2E: fasilədə təhqir " + time.Now().Format("150405")
	if err := chromedp.Do(school,
		chromedp.SetValue(chromedp.CSS("#children"), pupil),
		chromedp.SendKeys(chromedp.CSS("#type"), "violence.bullying"),
		chromedp.SetValue(chromedp.CSS("#severity"), "high"),
		chromedp.SendKeys(chromedp.CSS("#title"), title),
		chromedp.SendKeys(chromedp.CSS("#summary"), "Sinif rəhbəri xəbər verdi."),
		chromedp.Click(chromedp.CSS(`form[action="/cases/new"] button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS("#report-due")),
	); err != nil {
		t.Fatalf("report: %v", err)
	}
	casePath := eval(t, school, chromedp.Evaluate[string](`location.pathname`))
	if !strings.HasPrefix(casePath, "/cases/") {
		t.Fatalf("after reporting the browser is at %s", casePath)
	}
	if s := text(t, school, "#respond-due"); s == "" {
		t.Error("the case shows no response deadline")
	}
	if s := text(t, school, ".status"); s != "yeni" {
		t.Errorf("status %q, want yeni", s)
	}

	city := tab(t, 3*browserTimeout)
	signIn(t, city, "city_specialist")
	if err := chromedp.Do(city,
		chromedp.Navigate(baseURL+"/cases?queue=new"),
		chromedp.WaitVisible(chromedp.CSS("#case-list")),
	); err != nil {
		t.Fatal(err)
	}
	queue := text(t, city, "#case-list")
	if !strings.Contains(queue, title) {
		t.Fatalf("the city's new queue lacks the case:\n%s", queue)
	}
	if err := chromedp.Do(city,
		chromedp.Navigate(baseURL+casePath),
		chromedp.WaitVisible(chromedp.CSS("details.move summary")),
		chromedp.Click(chromedp.CSS("details.move:nth-of-type(1) summary")),
		chromedp.WaitVisible(chromedp.CSS("#m-triaged-lead")),
		chromedp.SetValue(chromedp.CSS("#m-triaged-lead"), "BSTI"),
	); err != nil {
		t.Fatalf("triage form: %v", err)
	}
	owner := eval(t, city, chromedp.Evaluate[string](`[...document.querySelectorAll("#m-triaged-owner option")].find(o => o.textContent.includes("Elvin")).value`))
	// Each step submits a form; done is true once the next page shows its result.
	steps := []struct {
		name    string
		actions []chromedp.Action[chromedp.Void]
		done    string
	}{
		{"triage", []chromedp.Action[chromedp.Void]{
			chromedp.SetValue(chromedp.CSS("#m-triaged-owner"), owner),
			chromedp.SetValue(chromedp.CSS("#m-triaged-severity"), "critical"),
			chromedp.Click(chromedp.CSS("details.move[open] button[type=submit]")),
		}, `document.querySelector("#m-in_progress-note") !== null`},
		{"start work", []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS("details.move summary")),
			chromedp.Click(chromedp.CSS("details.move:nth-of-type(1) summary")),
			chromedp.WaitVisible(chromedp.CSS("#m-in_progress-note")),
			chromedp.SendKeys(chromedp.CSS("#m-in_progress-note"), "Valideynlərlə görüş təyin edildi."),
			chromedp.Click(chromedp.CSS("details.move[open] button[type=submit]")),
		}, `document.querySelector("#m-monitoring-review") !== null`},
		{"note", []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS("#note-body")),
			chromedp.SendKeys(chromedp.CSS("#note-body"), "Psixoloq uşaqla danışdı."),
			chromedp.Click(chromedp.CSS(`form[action$="/notes"] button[type=submit]`)),
		}, `document.querySelector(".chronology").textContent.includes("Psixoloq uşaqla danışdı.")`},
		{"close", []chromedp.Action[chromedp.Void]{
			chromedp.WaitVisible(chromedp.CSS("details.move summary")),
			chromedp.Click(chromedp.CSS("details.move:nth-of-type(2) summary")),
			chromedp.WaitVisible(chromedp.CSS("#m-closed-outcome")),
			chromedp.SetValue(chromedp.CSS("#m-closed-outcome"), "resolved"),
			chromedp.SendKeys(chromedp.CSS("#m-closed-reason"), "Uşaq təhlükəsizdir, münaqişə həll olunub."),
			chromedp.Click(chromedp.CSS("details.move[open] button[type=submit]")),
		}, `document.querySelector(".status").textContent.trim() === "bağlanıb"`},
	}
	for _, s := range steps {
		if err := chromedp.Do(city, s.actions...); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		waitFor(t, city, s.name, s.done)
	}
	if s := text(t, city, ".status"); s != "bağlanıb" {
		t.Errorf("after closing, status %q, want bağlanıb", s)
	}
	chron := text(t, city, ".chronology")
	for _, want := range []string{"İş açıldı", "yeni → qəbul edilib", "qəbul edilib → icradadır", "icradadır → bağlanıb",
		"Psixoloq uşaqla danışdı.", "Uşaq təhlükəsizdir"} {
		if !strings.Contains(chron, want) {
			t.Errorf("chronology lacks %q:\n%s", want, chron)
		}
	}
	// The school sees the closure too.
	if err := chromedp.Do(school, chromedp.Navigate(baseURL+casePath), chromedp.WaitVisible(chromedp.CSS(".status"))); err != nil {
		t.Fatal(err)
	}
	if s := text(t, school, ".status"); s != "bağlanıb" {
		t.Errorf("the school sees status %q", s)
	}
}

// TestCaseAccessibility runs axe-core on the case pages (the queues, the
// report form and a case) in every language at both sizes, signed in as
// the city admin.
func TestCaseAccessibility(t *testing.T) {
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("read the axe-core bundle: %v", err)
	}
	pages := []string{"/cases", "/cases?queue=overdue", "/cases/new", "/cases/1"}
	langs := []string{"az", "ru", "en"}
	browser := newBrowser(t, time.Duration(len(pages)*len(langs)*len(viewports)+2)*browserTimeout)
	first, cancel := chromedp.NewContext(browser)
	defer cancel()
	signIn(t, first, "city_admin")
	for _, pg := range pages {
		for _, lang := range langs {
			for _, vp := range viewports {
				t.Run(pg+"/"+lang+"/"+vp.name, func(t *testing.T) {
					sep := "?"
					if strings.Contains(pg, "?") {
						sep = "&"
					}
					checkPage(t, first, string(axeSrc), baseURL+pg+sep+"lang="+lang, lang, vp)
				})
			}
		}
	}
}
