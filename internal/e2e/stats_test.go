package e2e

import (
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestStatsDashboards signs each kind of user in and opens their dashboard
// in the three languages: the city unit sees the city, the school's head
// their school, the police their body, a teacher their school with small
// counts suppressed; axe-core finds nothing serious on the dashboard and on
// the public statistics, which need no sign-in.
func TestStatsDashboards(t *testing.T) {
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatalf("read the axe-core bundle: %v", err)
	}
	langs := []string{"az", "ru", "en"}
	browser := newBrowser(t, 40*browserTimeout)
	for _, tc := range []struct {
		who        string
		scope      map[string]string // language → the scope line
		suppressed bool
		support    bool // the register, screening, plans, events and campaign figures (not a body's)
	}{
		{"city_specialist", map[string]string{"az": "Bütün şəhər", "ru": "Весь город", "en": "The whole city"}, false, true},
		{"school_head", map[string]string{"az": "Məktəb: BAK-06-001", "ru": "Школа: BAK-06-001", "en": "School: BAK-06-001"}, false, true},
		{"agency_officer", map[string]string{"az": "Qurum: BAK-POLICE", "ru": "Ведомство: BAK-POLICE", "en": "Body: BAK-POLICE"}, false, false},
		{"teacher", map[string]string{"az": "Məktəb: BAK-06-001", "ru": "Школа: BAK-06-001", "en": "School: BAK-06-001"}, true, true},
		{"public_council", map[string]string{"az": "Bütün şəhər", "ru": "Весь город", "en": "The whole city"}, true, true},
	} {
		t.Run(tc.who, func(t *testing.T) {
			p := asDemo(t, browser, tc.who)
			for _, lang := range langs {
				if code := p.open("/statistics?lang=" + lang); code != 200 {
					t.Fatalf("%s: dashboard %d", lang, code)
				}
				text := p.text()
				if !strings.Contains(text, tc.scope[lang]) {
					t.Errorf("%s %s: no %q on the page", tc.who, lang, tc.scope[lang])
				}
				svgs, err := chromedp.Run(p.ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart").length`))
				if err != nil || svgs < 5 {
					t.Errorf("%s %s: %d charts (%v)", tc.who, lang, svgs, err)
				}
				links, _ := chromedp.Run(p.ctx, chromedp.Evaluate[int](`document.querySelectorAll("td.num a[href^='/cases']").length`))
				if tc.suppressed != (links == 0) {
					t.Errorf("%s %s: %d numbers linked, suppressed view %v", tc.who, lang, links, tc.suppressed)
				}
				figures, _ := chromedp.Run(p.ctx, chromedp.Evaluate[int](`["register_by_level", "screening_coverage", "plans_by_status", "plans_by_outcome",
					"plan_reviews", "events_by_status", "event_attendance", "campaign_showings", "campaign_reach"].filter(id =>
					document.querySelector("#h-" + id) && document.querySelector("#h-" + id).closest("section").querySelector("svg.chart") &&
					document.querySelector("#h-" + id).closest("section").querySelector("table")).length`))
				if tc.support != (figures == 9) || (!tc.support && figures != 0) {
					t.Errorf("%s %s: %d of the 9 support figures with chart and table", tc.who, lang, figures)
				}
				if tc.support {
					// the register's numbers link to the register list only where the viewer may list it
					regLinks, _ := chromedp.Run(p.ctx, chromedp.Evaluate[int](`document.querySelectorAll("td.num a[href^='/screening/register']").length`))
					if (tc.who == "city_specialist" || tc.who == "school_head") != (regLinks > 0) {
						t.Errorf("%s %s: %d register numbers linked", tc.who, lang, regLinks)
					}
				}
				if tc.who == "school_head" {
					// the roll, the events and the showings behind the other figures (ADR 0039)
					for _, list := range []string{"/screening/pupils", "/events?", "/campaign/showings"} {
						n, _ := chromedp.Run(p.ctx, chromedp.Evaluate[int](`document.querySelectorAll("td.num a[href^='`+list+`']").length`))
						if n == 0 {
							t.Errorf("%s %s: no number links to %s", tc.who, lang, list)
						}
					}
				}
			}
			if tc.who == "school_head" {
				for _, lang := range langs {
					for _, vp := range viewports {
						for _, list := range []string{"/screening/pupils?school=BAK-06-001&screened=no", "/campaign/showings?school=BAK-06-001",
							"/events?school=BAK-06-001&status=held"} {
							checkPage(t, p.ctx, string(axeSrc), baseURL+list+"&lang="+lang, lang, vp)
						}
					}
				}
			}
			if tc.who == "city_specialist" {
				for _, lang := range langs {
					for _, vp := range viewports {
						checkPage(t, p.ctx, string(axeSrc), baseURL+"/statistics?lang="+lang, lang, vp)
						checkPage(t, p.ctx, string(axeSrc), baseURL+"/exports?lang="+lang, lang, vp)
					}
				}
			}
		})
	}
	t.Run("public", func(t *testing.T) {
		for _, lang := range langs {
			for _, vp := range viewports {
				checkPage(t, browser, string(axeSrc), baseURL+"/statistika?lang="+lang, lang, vp)
			}
		}
	})
}
