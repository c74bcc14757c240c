package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// axePath is the axe-core browser bundle; see testdata/README.md.
const (
	axePath    = "testdata/axe.min.js"
	axeVersion = "4.14.1"
)

// axeRunJS runs axe-core on the whole page and keeps the fields of the
// violations that a failure message needs. It evaluates to a Promise.
const axeRunJS = `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({
	id: v.id,
	impact: v.impact || "",
	help: v.help,
	helpUrl: v.helpUrl,
	nodes: v.nodes.map(n => ({target: n.target, html: n.html, summary: n.failureSummary || ""})),
})))`

// axeViolation is one rule that failed, with the elements that fail it.
type axeViolation struct {
	ID      string    `json:"id"`
	Impact  string    `json:"impact"`
	Help    string    `json:"help"`
	HelpURL string    `json:"helpUrl"`
	Nodes   []axeNode `json:"nodes"`
}

type axeNode struct {
	// Target is the element's selector; an element in an iframe or a shadow
	// root has a list of selectors, hence any.
	Target  []any  `json:"target"`
	HTML    string `json:"html"`
	Summary string `json:"summary"`
}

func (v axeViolation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (%s): %s\n    %s", v.ID, v.Impact, v.Help, v.HelpURL)
	for _, n := range v.Nodes {
		fmt.Fprintf(&b, "\n    - target %v\n      html %s", n.Target, n.HTML)
		if n.Summary != "" {
			fmt.Fprintf(&b, "\n      %s", strings.ReplaceAll(n.Summary, "\n", "\n      "))
		}
	}
	return b.String()
}

// overflowJS measures the page's width against the viewport's, and names
// the elements that stick out past the layout viewport (the width of the
// html element, which zooming out does not change), to explain an overflow.
// It leaves out elements inside a box that clips or scrolls sideways (such
// as a navigation strip that scrolls), which cannot widen the page.
const overflowJS = `(() => {
	const width = document.documentElement.clientWidth;
	const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
		[...el.classList].map(c => "." + c).join("");
	const clipped = el => {
		for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
			if (getComputedStyle(p).overflowX !== "visible") return true;
		}
		return false;
	};
	const wide = [];
	for (const el of document.body.querySelectorAll("*")) {
		const r = el.getBoundingClientRect();
		if (r.width > 0 && r.right > width + 0.5 && !clipped(el)) {
			wide.push(name(el) + " (right edge at " + Math.round(r.right) + "px)");
		}
	}
	return {
		scrollWidth: document.documentElement.scrollWidth,
		innerWidth: window.innerWidth,
		wide: wide.slice(0, 15),
	};
})()`

type overflow struct {
	ScrollWidth int64    `json:"scrollWidth"`
	InnerWidth  int64    `json:"innerWidth"`
	Wide        []string `json:"wide"`
}

type viewport struct {
	name          string
	width, height int64
	opts          []chromedp.EmulateViewportOption
	phone         bool // check for horizontal overflow
}

var viewports = []viewport{
	{name: "desktop", width: 1280, height: 800},
	{name: "phone", width: 390, height: 844, phone: true,
		opts: []chromedp.EmulateViewportOption{chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait}},
}

// TestAccessibility runs axe-core on the main pages in every language at a
// desktop and a phone size. Violations of "serious" or "critical" impact
// fail the test; lesser ones are logged. On the phone the page must not
// scroll sideways.
func TestAccessibility(t *testing.T) {
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("read the axe-core bundle: %v (see testdata/README.md)", err)
	}
	pages := []struct{ name, path string }{
		{"signin", "/signin"},
		{"home", "/"},
		{"hotline", "/hotline"},
		{"notifications", "/notifications"},
		{"notification-settings", "/account/notifications"},
		{"calendar", "/calendar"},
		{"children", "/children"},
		{"roster-import", "/children/import"},
		{"duplicates", "/children/duplicates"},
	}
	langs := []string{"az", "ru", "en"}

	browser := newBrowser(t, time.Duration(len(pages)*len(langs)*len(viewports))*browserTimeout)
	for _, pg := range pages {
		t.Run(pg.name, func(t *testing.T) {
			for _, lang := range langs {
				t.Run(lang, func(t *testing.T) {
					for _, vp := range viewports {
						t.Run(vp.name, func(t *testing.T) {
							checkPage(t, browser, string(axeSrc), baseURL+pg.path+"?lang="+lang, lang, vp)
						})
					}
				})
			}
		})
	}
}

// checkPage opens url in a new tab of browser at the viewport vp and checks
// it with axe-core, and on a phone for overflow.
func checkPage(t *testing.T, browser context.Context, axeSrc, url, lang string, vp viewport) {
	tab, cancel := chromedp.NewContext(browser)
	defer cancel()
	if err := chromedp.Do(tab); err != nil { // open the tab
		t.Fatalf("open a tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, browserTimeout)
	defer cancelTimeout()

	if err := chromedp.Do(ctx, chromedp.EmulateViewport(vp.width, vp.height, vp.opts...)); err != nil {
		t.Fatalf("emulate a %dx%d viewport: %v", vp.width, vp.height, err)
	}
	resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(url))
	if err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("open %s: response %s, want status 200", url, describeResponse(resp))
	}
	if got, err := chromedp.Run(ctx, chromedp.Evaluate[string]("document.documentElement.lang")); err != nil || got != lang {
		t.Errorf("%s: html lang = %q (err %v), want %q", url, got, err, lang)
	}

	// Inject axe-core over the DevTools protocol, which the page's CSP
	// (script-src 'self') does not govern, and make sure that it loaded.
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](axeSrc)); err != nil {
		t.Fatalf("%s: inject %s: %v", url, axePath, err)
	}
	version, err := chromedp.Run(ctx, chromedp.Evaluate[string](`typeof axe === "object" ? axe.version : "axe is " + typeof axe`))
	if err != nil {
		t.Fatalf("%s: look for axe: %v", url, err)
	}
	if version != axeVersion {
		t.Fatalf("%s: axe-core did not load from %s: got %q, want version %s", url, axePath, version, axeVersion)
	}

	violations, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](axeRunJS, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe.run: %v", url, err)
	}
	var serious []string
	for _, v := range violations {
		switch v.Impact {
		case "serious", "critical":
			serious = append(serious, v.String())
		default:
			t.Logf("%s: axe, not failing the test: %s", url, v)
		}
	}
	if len(serious) > 0 {
		t.Errorf("%s at %dx%d: %d serious or critical accessibility violations, want none:\n  %s",
			url, vp.width, vp.height, len(serious), strings.Join(serious, "\n  "))
	}

	if vp.phone {
		o, err := chromedp.Run(ctx, chromedp.Evaluate[overflow](overflowJS))
		if err != nil {
			t.Fatalf("%s: measure the page: %v", url, err)
		}
		// A mobile browser zooms out to fit a page that is too wide, which
		// widens window.innerWidth; so it must also equal the viewport's.
		if o.ScrollWidth > o.InnerWidth || o.InnerWidth != vp.width {
			t.Errorf("%s at %dx%d scrolls sideways: document scrollWidth %d, window innerWidth %d, viewport %d; wide elements: %s",
				url, vp.width, vp.height, o.ScrollWidth, o.InnerWidth, vp.width, strings.Join(o.Wide, ", "))
		}
	}
}
