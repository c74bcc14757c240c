package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

var navLinkRE = regexp.MustCompile(`<nav class="side"[\s\S]*?</nav>`)
var hrefRE = regexp.MustCompile(`href="/([^"?]*)"`)

// TestNavigationPerRole signs in one user of each role and checks that the
// navigation and the home page offer exactly the sections that role works
// in: no child-facing section for the analyst, the Public Council or the
// system administrator, the audit pages only for those who review them.
func TestNavigationPerRole(t *testing.T) {
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	ctx := context.Background()
	if _, err := db.ImportOrgs(ctx, []org.Org{
		{Code: "BSTI", Type: org.CityDepartment, NameAZ: "BŞTİ"},
		{Code: "BAK-06-001", Type: org.School, NameAZ: "Məktəb", DistrictCode: "BAK-06"},
		{Code: "HOTLINE", Type: org.Hotline, NameAZ: "146-2"},
		{Code: "POLICE", Type: org.Police, NameAZ: "Polis"},
		{Code: "TAIM", Type: org.ResearchCentre, NameAZ: "TAİM"},
		{Code: "SURA", Type: org.PublicCouncil, NameAZ: "Şura"},
	}); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	all := []string{"hotline", "children", "cases", "referrals", "working-group", "screening", "plans", "events",
		"campaign", "statistics", "audit", "audit/break-glass"}
	childFacing := []string{"hotline", "children", "cases", "referrals", "working-group", "screening", "plans", "events"}
	for _, tt := range []struct {
		role access.Role
		org  string
		want []string
	}{
		{access.CityAdmin, "BSTI", all},
		{access.CitySpecialist, "BSTI", all[:10]},
		{access.SchoolHead, "BAK-06-001", []string{"children", "cases", "referrals", "working-group", "screening", "plans", "events", "campaign", "statistics"}},
		{access.SchoolPsychologist, "BAK-06-001", []string{"children", "cases", "referrals", "working-group", "screening", "plans", "events", "campaign", "statistics"}},
		{access.Teacher, "BAK-06-001", []string{"children", "cases", "screening", "plans", "events"}},
		{access.HotlineOperator, "HOTLINE", []string{"hotline", "children", "cases", "campaign"}},
		{access.HotlineSupervisor, "HOTLINE", []string{"hotline", "children", "cases", "referrals", "campaign", "statistics"}},
		{access.AgencyOfficer, "POLICE", []string{"children", "cases", "referrals", "working-group"}},
		{access.AgencySupervisor, "POLICE", []string{"children", "cases", "referrals", "working-group", "statistics"}},
		{access.Analyst, "TAIM", []string{"statistics"}},
		{access.PublicCouncil, "SURA", []string{"campaign", "statistics"}},
		{access.SystemAdmin, "BSTI", []string{"statistics", "audit", "audit/break-glass"}},
	} {
		t.Run(string(tt.role), func(t *testing.T) {
			u, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: string(tt.role) + "@example.az", Name: "Test",
				OrgCode: tt.org, Roles: []access.Role{tt.role}, PasswordHash: "not used: the session is made directly"})
			if err != nil {
				t.Fatal(err)
			}
			tok := auth.NewSessionToken()
			if _, err := db.CreateSession(ctx, storage.NewSession{UserID: u.ID, TokenHash: auth.HashToken(tok),
				CSRFToken: auth.NewCSRFToken(), MFADone: true}); err != nil {
				t.Fatal(err)
			}
			resp := do(t, h, req{"/", []string{"Accept-Language", "en", "Cookie", "dayaq_session=" + tok}})
			b := body(t, resp)
			checkPage(t, resp, b, http.StatusOK, i18n.EN)
			nav := navLinkRE.FindString(b)
			if nav == "" {
				t.Fatal("the home page has no navigation")
			}
			var got []string
			for _, m := range hrefRE.FindAllStringSubmatch(nav, -1) {
				got = append(got, m[1])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("navigation\n got %q\nwant %q", got, tt.want)
			}
			// The home page's cards are the same sections.
			main := b[strings.Index(b, `<main`):]
			var cards []string
			for _, m := range hrefRE.FindAllStringSubmatch(main, -1) {
				cards = append(cards, m[1])
			}
			if !slices.Equal(cards, tt.want) {
				t.Errorf("home cards\n got %q\nwant %q", cards, tt.want)
			}
			if !tt.role.SeesChildData() {
				for _, s := range childFacing {
					if slices.Contains(got, s) {
						t.Errorf("a %s, who never sees a child's data, is offered /%s", tt.role, s)
					}
				}
			}
		})
	}
}
