package e2e

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axeHere runs axe-core on the page the tab shows now (a form's answer,
// which a fresh tab cannot open) and fails on serious or critical
// violations, and on a phone-sized page that scrolls sideways.
func axeHere(t *testing.T, ctx context.Context, axeSrc, what string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSrc)); err != nil {
		t.Fatalf("%s: inject axe: %v", what, err)
	}
	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRunJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", what, err)
	}
	for _, v := range violations {
		if v.Impact == "serious" || v.Impact == "critical" {
			t.Errorf("%s: %s", what, v)
		}
	}
	o, err := chromedp.Run(ctx, chromedp.Evaluate[overflow](overflowJS))
	if err != nil {
		t.Fatal(err)
	}
	if o.ScrollWidth > o.InnerWidth {
		t.Errorf("%s scrolls sideways: %d > %d: %s", what, o.ScrollWidth, o.InnerWidth, strings.Join(o.Wide, ", "))
	}
}

var danisCodeRE = regexp.MustCompile(`^[2-9A-HJKMNP-Z]{4}(-[2-9A-HJKMNP-Z]{4}){4}$`)

// A child on a phone, without an account, writes to "Mənimlə danış" with
// an urgent phrase and gets a code; the duty supervisor is alerted at
// once; an operator takes the conversation and answers; the child comes
// back with the code and reads the answer; a wrong code gives a plain
// message and, after a few tries, a pause; the quick exit leaves the site
// and the conversation cannot be brought back without the code. Every
// page of the child's passes axe-core at the phone's size.
func TestDanisChildWritesAndComesBack(t *testing.T) {
	axeSrc := readAxe(t)
	browser := newBrowser(t, 6*browserTimeout)
	phone := viewports[1]

	childCtx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if err := chromedp.Do(childCtx, chromedp.EmulateViewport(phone.width, phone.height, phone.opts...)); err != nil {
		t.Fatal(err)
	}
	child := person{t: t, ctx: childCtx}

	// The sign-in page links to the channel.
	child.open("/signin?lang=en")
	href, err := chromedp.Run(childCtx, chromedp.Evaluate[string](`(document.querySelector('a[href^="/danis"]') || {}).href || ""`))
	if err != nil || !strings.Contains(href, "/danis") {
		t.Fatalf("no link to /danis on the sign-in page: %q %v", href, err)
	}
	if s := child.open("/danis?lang=en"); s != http.StatusOK {
		t.Fatalf("/danis: %d", s)
	}
	text := child.text()
	for _, want := range []string{"Only the 146-2 helpline staff read it", "146-2 for free", "real name",
		"You write that you want to hurt or kill yourself now."} {
		if !strings.Contains(text, want) {
			t.Errorf("the page does not say %q", want)
		}
	}
	axeHere(t, childCtx, axeSrc, "/danis")
	for _, lang := range []string{"az", "ru"} {
		checkPage(t, browser, axeSrc, baseURL+"/danis?lang="+lang, lang, phone)
	}
	if n, _ := chromedp.Run(childCtx, chromedp.Evaluate[int](`document.cookie.length`)); n != 0 {
		t.Errorf("the first page set a cookie readable by script")
	}

	// The child writes with an urgent phrase.
	stamp := time.Now().Format("150405.000")
	words := "E2E " + stamp + ": I don't want to live anymore. I saved up pills."
	child.submit(`form[action^="/danis?"]`, map[string]string{"#message": words, "#age": "14",
		`input[name=upset][value="6"]`: "checked"})
	code := strings.TrimSpace(text2(t, childCtx, "#code"))
	if !danisCodeRE.MatchString(code) {
		t.Fatalf("the code %q is not 20 symbols in groups of four without look-alikes\n%s", code, child.text())
	}
	if !strings.Contains(child.text(), "We show this code only once") || !strings.Contains(child.text(), "call 112 or 146-2") {
		t.Errorf("the code page does not say it is shown once and where to call:\n%s", child.text())
	}
	axeHere(t, childCtx, axeSrc, "the code page")

	// An operator finds it waiting, first: it is critical.
	op := asDemo(t, browser, "hotline_operator")
	op.open("/hotline?lang=en")
	if ok, err := chromedp.Run(op.ctx, chromedp.Evaluate[bool](`!!document.querySelector('a[href="/hotline/danis?view=waiting"]')`)); err != nil || !ok {
		t.Fatalf("the hotline queue does not say that a conversation waits:\n%s", op.text())
	}
	op.open("/hotline/danis?view=waiting&lang=en")
	idJS := fmt.Sprintf(`(() => { for (const tr of document.querySelectorAll("tbody tr")) {
		if (tr.textContent.includes(%q)) return tr.querySelector("a").textContent.trim(); } return ""; })()`, "E2E "+stamp)
	id, err := chromedp.Run(op.ctx, chromedp.Evaluate[string](idJS))
	if err != nil || id == "" {
		t.Fatalf("the operator does not see the conversation waiting: %v\n%s", err, op.text())
	}

	// The duty supervisor was alerted at once.
	sup := asDemo(t, browser, "hotline_supervisor")
	sup.open("/notifications?lang=en")
	alerted, err := chromedp.Run(sup.ctx, chromedp.Evaluate[bool](fmt.Sprintf(`!!document.querySelector('button[name=open][value="/hotline/contacts/%s"]')`, id)))
	if err != nil || !alerted {
		t.Fatalf("the supervisor has no alert for contact %s:\n%s", id, sup.text())
	}
	sup.open("/hotline/contacts/" + id + "?lang=en")
	if !strings.Contains(sup.text(), "Critical") {
		t.Errorf("the web contact is not critical:\n%s", sup.text())
	}

	// The operator takes it and answers.
	op.open("/hotline/danis/" + id + "?lang=en")
	if !strings.Contains(op.text(), words) {
		t.Fatalf("the operator does not read the child's words:\n%s", op.text())
	}
	op.submit(`form[action$="/take"]`, map[string]string{})
	answer := "Hello, I am here with you. Are you safe right now? " + stamp
	op.submit(`form[action$="/answer"]`, map[string]string{"#danis-message": answer})
	if !strings.Contains(op.text(), answer) {
		t.Fatalf("the answer is not in the conversation:\n%s", op.text())
	}
	checkPage(t, op.ctx, axeSrc, baseURL+"/hotline/danis/"+id+"?lang=en", "en", viewports[0])
	checkPage(t, op.ctx, axeSrc, baseURL+"/hotline/danis?lang=az", "az", viewports[0])
	checkPage(t, sup.ctx, axeSrc, baseURL+"/hotline/danis/settings?lang=ru", "ru", viewports[0])

	// The child comes back with the code (typed with spaces, in lower case) and reads it.
	child.open("/danis?lang=en")
	child.submit(`form[action^="/danis/open"]`, map[string]string{"#code": strings.ToLower(strings.ReplaceAll(code, "-", " "))})
	if !strings.HasPrefix(child.path(), "/danis/c") || !strings.Contains(child.text(), answer) {
		t.Fatalf("the child does not read the answer at %s:\n%s", child.path(), child.text())
	}
	axeHere(t, childCtx, axeSrc, "the conversation page")

	// A wrong code: a plain message; after a few tries, a pause.
	wrong := code[:5] + "ZZZZ-ZZZZ-ZZZZ-ZZZZ"
	if wrong == code {
		wrong = code[:5] + "YYYY-YYYY-YYYY-YYYY"
	}
	for try := 1; try <= 5; try++ {
		child.open("/danis?lang=en")
		child.submit(`form[action^="/danis/open"]`, map[string]string{"#code": wrong})
		msg := text2(t, childCtx, "#code-error")
		if try < 5 && msg != "We found no conversation with this code. Check it and try again." {
			t.Fatalf("wrong code, try %d: %q", try, msg)
		}
		if try == 5 && !strings.Contains(msg, "Too many wrong tries") {
			t.Fatalf("wrong code, try %d: %q, want a pause", try, msg)
		}
	}
	axeHere(t, childCtx, axeSrc, "the pause")

	// Quick exit: at once to a neutral site, replacing the history entry;
	// the conversation's page is closed.
	before, _ := chromedp.Run(childCtx, chromedp.Evaluate[int](`history.length`))
	if err := chromedp.Do(childCtx, chromedp.Click(chromedp.CSS("#quick-exit"))); err != nil {
		t.Fatal(err)
	}
	var where string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		where, _ = chromedp.Run(childCtx, chromedp.Location())
		if where != "" && !strings.HasPrefix(where, baseURL) {
			break
		}
	}
	if strings.HasPrefix(where, baseURL) {
		t.Fatalf("the quick exit stayed on %s", where)
	}
	if after, err := chromedp.Run(childCtx, chromedp.Evaluate[int](`history.length`)); err == nil && after > before {
		t.Errorf("the quick exit added a history entry: %d → %d", before, after)
	}
	child.open("/danis/c?lang=en")
	if !strings.Contains(child.text(), "This page is closed") || strings.Contains(child.text(), answer) {
		t.Fatalf("after the quick exit the conversation is still there:\n%s", child.text())
	}
	axeHere(t, childCtx, axeSrc, "the closed page")
}

// text2 is the text of the first element matching sel, or "".
func text2(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).textContent || ""`, sel)))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(s)
}
