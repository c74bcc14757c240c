package e2e

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserTimeout bounds each browser test: the browser's start, every page
// and every check.
const browserTimeout = 60 * time.Second

// chromiumPath returns the Chromium binary, or "" if there is none.
func chromiumPath() string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// newBrowser starts a headless Chromium with a fresh profile for the test and
// returns a context for its first tab. The context ends after timeout, and
// the browser with it. Without Chromium the test skips, or fails if
// DAYAQ_REQUIRE_BROWSER=1.
//
// The browser asks for Azerbaijani pages (Accept-Language: az), like a user
// whose browser is set to Azerbaijani; see the accept-lang flag below.
func newBrowser(t *testing.T, timeout time.Duration) context.Context {
	t.Helper()
	path := chromiumPath()
	if path == "" {
		if os.Getenv("DAYAQ_REQUIRE_BROWSER") == "1" {
			t.Fatal("Chromium not found (no /usr/bin/chromium, no chromium or chromium-browser on PATH) " +
				"and DAYAQ_REQUIRE_BROWSER=1; install the Debian package chromium")
		}
		t.Skip("Chromium not found: skipping the browser test; install the Debian package chromium")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // we run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// The network is closed: keep Chromium from reaching out.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		// Headless Chromium sends "Accept-Language: en-US,en;q=0.9" by
		// default, which the server would honour. --lang=az does not change
		// that in headless mode on Linux (checked with Chromium 156), but
		// --accept-lang=az does: every tab then sends "Accept-Language: az"
		// and navigator.languages is ["az"]. TestSignInPageLanguages checks
		// navigator.languages, so a Chromium that ignores the flag fails
		// with a clear message rather than a wrong heading.
		chromedp.Flag("accept-lang", "az"),
		chromedp.UserDataDir(t.TempDir()),
	}
	// t.Context is cancelled before the cleanups run, which stops the
	// browser; cancelAlloc then waits for it to exit, before t.TempDir
	// (registered earlier, so cleaned up later) removes its profile.
	ctx, cancelTimeout := context.WithTimeout(t.Context(), timeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	ctx, cancelCtx := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelCtx()
		cancelAlloc()
		cancelTimeout()
	})
	// Start the browser now, so that a broken install fails here.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium (%s): %v", path, err)
	}
	return ctx
}
