package e2e

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"testing"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
)

// signInTexts is what the sign-in page shows in one language.
type signInTexts struct {
	Lang     string `json:"lang"`     // <html lang>
	H1       string `json:"h1"`       // the heading
	Email    string `json:"email"`    // the label of #email
	Password string `json:"password"` // the label of #password
}

// readSignInJS reads signInTexts from the page. It finds the labels through
// input.labels, so it also checks that each <label for> points at its input.
const readSignInJS = `(() => {
	const text = el => el ? el.textContent.trim() : null;
	const label = id => {
		const input = document.getElementById(id);
		if (!input) return "<no #" + id + ">";
		if (input.labels.length === 0) return "<#" + id + " has no label>";
		return text(input.labels[0]);
	};
	return {
		lang: document.documentElement.lang,
		h1: text(document.querySelector("h1")),
		email: label("email"),
		password: label("password"),
	};
})()`

var (
	signInAz = signInTexts{Lang: "az", H1: "Daxil olun", Email: "E-poçt", Password: "Şifrə"}
	signInEn = signInTexts{Lang: "en", H1: "Sign in", Email: "Email", Password: "Password"}
	signInRu = signInTexts{Lang: "ru", H1: "Вход", Email: "Электронная почта", Password: "Пароль"}
)

// TestSignInPageLanguages checks that the sign-in page is in Azerbaijani by
// default, that the language switch changes it, and that the choice is
// remembered without ?lang.
func TestSignInPageLanguages(t *testing.T) {
	ctx := newBrowser(t, browserTimeout)

	navigate := func(url string) func(context.Context) (*network.Response, error) {
		return func(ctx context.Context) (*network.Response, error) {
			return chromedp.Run(ctx, chromedp.NavigateResponse(url))
		}
	}
	click := func(sel string) func(context.Context) (*network.Response, error) {
		return func(ctx context.Context) (*network.Response, error) {
			// RunResponse waits for the page that the click loads.
			return chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(sel)))
		}
	}
	steps := []struct {
		name string
		do   func(context.Context) (*network.Response, error)
		want signInTexts
	}{
		{"open /signin (Accept-Language: az)", navigate(baseURL + "/signin"), signInAz},
		{"click English in the language switch", click(`nav.langs a[hreflang="en"]`), signInEn},
		{"click Russian in the language switch", click(`nav.langs a[hreflang="ru"]`), signInRu},
		{"open /signin again without ?lang (cookie)", navigate(baseURL + "/signin"), signInRu},
	}
	for i, step := range steps {
		resp, err := step.do(ctx)
		if err != nil {
			t.Fatalf("step %d, %s: %v", i+1, step.name, err)
		}
		if resp == nil || resp.Status != http.StatusOK {
			t.Fatalf("step %d, %s: response %s, want status 200", i+1, step.name, describeResponse(resp))
		}
		if i == 0 {
			// The default language depends on what the browser asks for;
			// make sure it asks for Azerbaijani (see newBrowser).
			langs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string]("navigator.languages"))
			if err != nil {
				t.Fatalf("read navigator.languages: %v", err)
			}
			if !slices.Equal(langs, []string{"az"}) {
				t.Fatalf("navigator.languages = %q, want [\"az\"]: Chromium ignored --accept-lang=az, "+
					"so the page's language says nothing about the default", langs)
			}
		}
		got, err := chromedp.Run(ctx, chromedp.Evaluate[signInTexts](readSignInJS))
		if err != nil {
			t.Fatalf("step %d, %s: read the page: %v", i+1, step.name, err)
		}
		if got != step.want {
			t.Errorf("step %d, %s (%s):\n got html lang=%q h1=%q labels=%q/%q\nwant html lang=%q h1=%q labels=%q/%q",
				i+1, step.name, resp.URL,
				got.Lang, got.H1, got.Email, got.Password,
				step.want.Lang, step.want.H1, step.want.Email, step.want.Password)
		}
	}
}

func describeResponse(resp *network.Response) string {
	if resp == nil {
		return "none"
	}
	return fmt.Sprintf("%d %s for %s", resp.Status, resp.StatusText, resp.URL)
}
