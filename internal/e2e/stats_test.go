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
	}{
		{"city_specialist", map[string]string{"az": "Bütün şəhər", "ru": "Весь город", "en": "The whole city"}, false},
		{"school_head", map[string]string{"az": "Məktəb: BAK-06-001", "ru": "Школа: BAK-06-001", "en": "School: BAK-06-001"}, false},
		{"agency_officer", map[string]string{"az": "Qurum: BAK-POLICE", "ru": "Ведомство: BAK-POLICE", "en": "Body: BAK-POLICE"}, false},
		{"teacher", map[string]string{"az": "Məktəb: BAK-06-001", "ru": "Школа: BAK-06-001", "en": "School: BAK-06-001"}, true},
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
			}
			if tc.who == "city_specialist" {
				for _, lang := range langs {
					for _, vp := range viewports {
						checkPage(t, p.ctx, string(axeSrc), baseURL+"/statistics?lang="+lang, lang, vp)
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
