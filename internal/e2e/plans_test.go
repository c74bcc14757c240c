package e2e

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	_ "modernc.org/sqlite" // to move a deadline into the past in the server's database
)

// evalString runs js in p's page and returns its string value.
func (p person) eval(js string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", js, err)
	}
	return s
}

// jsonAt reads an API document with p's session.
func (p person) jsonAt(path string, v any) {
	p.t.Helper()
	if s := p.open(path); s != http.StatusOK {
		p.t.Fatalf("GET %s: %d", path, s)
	}
	if err := json.Unmarshal([]byte(p.eval(`document.body.innerText`)), v); err != nil {
		p.t.Fatalf("GET %s: %v", path, err)
	}
}

// inServerDB runs one statement against the server's SQLite database: the
// server runs on the real clock, so a test that needs a date to pass moves
// the date instead.
func inServerDB(t *testing.T, q string, args ...any) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+dbFile+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

var parentLinkRE = regexp.MustCompile(`/p/[a-z0-9]{40,}`)

// TestRecoveryPlan is issue 12's "done when": the psychologist builds a plan
// from a register entry (two goals; counselling, a referral to health and a
// parent's commitment), sends the parent link by SMS (the test gateway
// captures it), the parent opens it on a phone, gives the child's birth
// date, agrees and consents to the health referral; the referral goes out;
// two sessions, one missed; the review passes its date and escalates; a
// review records progress; the plan closes with an outcome. Five wrong
// birth dates lock a link; a revoked or expired link says so and shows
// nothing. The plan and parent pages pass axe-core in three languages.
func TestRecoveryPlan(t *testing.T) {
	browser := newBrowser(t, 14*browserTimeout)
	psych := asDemo(t, browser, "school_psychologist")
	baku := time.FixedZone("AZT", 4*3600)
	today, later := time.Now().In(baku).Format("2006-01-02"), time.Now().In(baku).AddDate(0, 3, 0).Format("2006-01-02")

	// From the register to a plan.
	psych.open("/plans?lang=en")
	open := psych.eval(`(document.querySelector("a[id^=open-]") || {}).getAttribute ? document.querySelector("a[id^=open-]").getAttribute("href") : ""`)
	if open == "" {
		t.Fatalf("no register entry waiting for a plan:\n%s", psych.text())
	}
	psych.open(open + "&lang=en")
	const phone = "+994559876543"
	psych.submit("form[action='/plans']", map[string]string{"#new-concerns": "Dərsə davamiyyət azalıb; tez-tez xəstələnir.",
		"#new-parent": "Səbinə Əliyeva", "#new-relation": "mother", "#new-phone": "+994 55 987 65 43", "#new-language": "ru"})
	planPath := psych.path()
	if !regexp.MustCompile(`^/plans/\d+$`).MatchString(planPath) {
		t.Fatalf("opening the plan: at %s\n%s", planPath, psych.text())
	}
	planID := strings.TrimPrefix(planPath, "/plans/")
	goal := func(domain, statement, indicator string) {
		psych.submit("#goal-form", map[string]string{"#g-domain": domain, "#g-statement": statement, "#g-indicator": indicator,
			"#g-from": today, "#g-until": later})
	}
	goal("learning", "Həftədə ən azı 4 gün dərsə gəlir", "davamiyyət jurnalı")
	goal("health", "Tibbi müayinədən keçir", "həkim arayışı")
	goals := strings.Split(psych.eval(`Array.from(document.querySelectorAll("#activity-form input[name=goals]")).map(e => e.value).join(",")`), ",")
	if len(goals) != 2 {
		t.Fatalf("goals on the page: %v\n%s", goals, psych.text())
	}
	staff := psych.eval(`Array.from(document.querySelectorAll("#a-staff option")).find(o => o.textContent.includes("Nigar")).value`)
	parentID := psych.eval(`document.querySelector("#a-parent option:nth-child(2)").value`)
	activity := func(v map[string]string) {
		v["#a-from"], v["#a-until"] = today, later
		psych.submit("#activity-form", v)
		if psych.eval(`document.querySelector(".alert") ? document.querySelector(".alert").innerText : ""`) != "" {
			t.Fatalf("adding an activity %v:\n%s", v, psych.text())
		}
	}
	activity(map[string]string{"#a-kind": "counselling", "#a-title": "Həftəlik söhbət", "#a-staff": staff, "#a-frequency": "həftədə bir",
		"#a-goal-" + goals[0]: "checked"})
	activity(map[string]string{"#a-kind": "referral", "#a-title": "Tibbi müayinə", "#a-body": "BAK-HEALTH", "#a-service": "health.medical_exam",
		"#a-goal-" + goals[1]: "checked"})
	activity(map[string]string{"#a-kind": "parent_commitment", "#a-title": "Hər səhər övladını məktəbə ötürür", "#a-parent": parentID,
		"#a-goal-" + goals[0]: "checked"})
	if n := psych.eval(`String(document.querySelectorAll("#activities > li").length)`); n != "3" {
		t.Fatalf("%s activities:\n%s", n, psych.text())
	}

	// The parent link goes by SMS: the address and a random token, nothing personal.
	psych.submit("#link-form", map[string]string{"#l-parent": parentID, "#l-days": "14"})
	sms, _ := smsGateway.wait(t, phone, "/p/", 0, 45*time.Second)
	link := parentLinkRE.FindString(sms.Text)
	if link == "" {
		t.Fatalf("no link in the SMS %q", sms.Text)
	}
	for _, secret := range []string{"Səbinə", "Əliyeva", "Tibbi", "/plans/"} {
		if strings.Contains(strings.ReplaceAll(sms.Text, link, ""), secret) {
			t.Errorf("the SMS carries %q: %q", secret, sms.Text)
		}
	}

	// The child's birth date, which the parent knows and the SMS does not carry.
	var pj struct {
		ChildID int64 `json:"child_id"`
	}
	psych.jsonAt("/api/v1/plans/"+planID, &pj)
	var cj struct {
		BirthDate string `json:"birth_date"`
	}
	psych.jsonAt("/api/v1/children/"+strconv.FormatInt(pj.ChildID, 10), &cj)
	if cj.BirthDate == "" {
		t.Fatal("no birth date")
	}
	psych.open(planPath + "?lang=en")

	// The parent, on a phone, without an account.
	newParent := func() person {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		p := person{t: t, ctx: ctx}
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(viewports[1].width, viewports[1].height, viewports[1].opts...)); err != nil {
			t.Fatal(err)
		}
		return p
	}
	parent := newParent()
	if s := parent.open(link); s != http.StatusOK || !strings.Contains(parent.text(), "Дата рождения ребёнка") ||
		strings.Contains(parent.text(), "Həftədə") {
		t.Fatalf("the parent page before the birth date (%d):\n%s", s, parent.text())
	}
	if parent.eval(`String(document.querySelectorAll("a[href^='/']").length)`) != "0" {
		t.Errorf("the parent page links into Dayaq:\n%s", parent.eval(`document.body.innerHTML`))
	}
	parent.submit("form:has(#unlock)", map[string]string{"#birth": cj.BirthDate})
	if txt := parent.text(); !strings.Contains(txt, "Həftədə ən azı 4 gün dərsə gəlir") || !strings.Contains(txt, "Hər səhər övladını məktəbə ötürür") {
		t.Fatalf("the unlocked parent page:\n%s", txt)
	}
	parent.submit("form:has(#agree)", map[string]string{})
	if !strings.Contains(parent.text(), "Вы согласились с планом") {
		t.Errorf("after agreeing:\n%s", parent.text())
	}
	parent.submit("form:has([id^=consent-share-])", map[string]string{})
	if parent.eval(`document.querySelector("[id^=withdraw-share-]") ? "yes" : ""`) != "yes" {
		t.Errorf("after consenting to share with health:\n%s", parent.text())
	}
	// The parent page, unlocked, in three languages on the phone.
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	for _, lang := range []string{"az", "ru", "en"} {
		t.Run("axe_parent_"+lang, func(t *testing.T) {
			checkPage(t, parent.ctx, string(axeSrc), baseURL+link+"?lang="+lang, lang, viewports[1])
		})
	}

	// The referral goes through the referral machinery now that consent stands.
	psych.open(planPath + "?lang=en")
	if !strings.Contains(psych.text(), "Active") {
		t.Errorf("the plan is not active after the parent agreed:\n%s", psych.text())
	}
	psych.submit("form:has([id^=send-referral-])", map[string]string{"[id^=r-message-]": "Tibbi müayinə lazımdır; valideyn razıdır."})
	if st := psych.eval(`document.querySelector(".referral-state") ? document.querySelector(".referral-state").innerText : ""`); !strings.Contains(st, "Referral #") || !strings.Contains(st, "sent") {
		t.Fatalf("the referral's state in the plan: %q\n%s", st, psych.text())
	}

	// Two sessions, one missed.
	at := time.Now().In(baku).Add(-2 * time.Hour).Format("2006-01-02T15:04")
	psych.submit("#session-form", map[string]string{"#s-at": at, "#s-attended": "yes", "#s-note": "Yaxşı söhbət oldu."})
	psych.submit("#session-form", map[string]string{"#s-at": at, "#s-attended": "no"})
	if !strings.Contains(psych.text(), "Give the reason the session was missed.") {
		t.Errorf("a missed session without a reason is taken:\n%s", psych.text())
	}
	psych.submit("#session-form", map[string]string{"#s-at": at, "#s-attended": "no", "#s-reason": "xəstə idi"})
	if n := psych.eval(`String(document.querySelectorAll("#sessions > li").length)`); n != "2" {
		t.Errorf("%s sessions:\n%s", n, psych.text())
	}

	// Five wrong birth dates lock a link.
	psych.submit("#link-form", map[string]string{"#l-parent": parentID, "#l-days": "14"})
	link2 := psych.eval(`document.querySelector("#link-path").innerText`)
	intruder := newParent()
	intruder.open(link2)
	for i := range 5 {
		intruder.submit("form:has(#unlock)", map[string]string{"#birth": "2001-01-0" + strconv.Itoa(i+1)})
	}
	if txt := intruder.text(); !strings.Contains(txt, "заблокирована") || strings.Contains(txt, "Həftədə") {
		t.Errorf("after five wrong dates:\n%s", txt)
	}
	if s := intruder.open(link2); s != http.StatusGone || strings.Contains(intruder.text(), "Həftədə") {
		t.Errorf("the locked link with the right date: %d\n%s", s, intruder.text())
	}

	// A revoked link says so and shows nothing.
	psych.open(planPath + "?lang=en")
	psych.submit("#link-form", map[string]string{"#l-parent": parentID, "#l-days": "14"})
	link3 := psych.eval(`document.querySelector("#link-path").innerText`)
	psych.open(planPath + "?lang=en")
	// Links are listed newest first; the locked one has no button: the first is link3's.
	psych.submit("form:has([id^=revoke-])", map[string]string{})
	if s := newParent().open(link3); s != http.StatusGone {
		t.Errorf("the revoked link answers %d", s)
	}
	p3 := newParent()
	p3.open(link3)
	if txt := p3.text(); !strings.Contains(txt, "отозвана") || strings.Contains(txt, "Həftədə") {
		t.Errorf("the revoked link:\n%s", txt)
	}

	// An expired link says so and shows nothing (fourteen days pass).
	inServerDB(t, `UPDATE plan_links SET expires_at = ? WHERE plan_id = ? AND revoked_at IS NULL AND locked_at IS NULL`,
		time.Now().UTC().Add(-time.Hour), planID)
	if s := parent.open(link); s != http.StatusGone || !strings.Contains(parent.text(), "истёк") || strings.Contains(parent.text(), "Həftədə") {
		t.Errorf("the expired link (%d):\n%s", s, parent.text())
	}

	// The review passes its date and escalates to the lead.
	inServerDB(t, `UPDATE plans SET next_review_due = ? WHERE id = ?`, time.Now().UTC().Add(-30*time.Minute), planID) // overdue, not yet long overdue (the city unit's)
	psych.open(planPath + "?lang=en")
	if psych.eval(`document.querySelector("#review-overdue") ? "yes" : ""`) != "yes" {
		t.Errorf("the review is not shown overdue:\n%s", psych.text())
	}
	escalated := false
	for deadline := time.Now().Add(100 * time.Second); time.Now().Before(deadline) && !escalated; time.Sleep(3 * time.Second) {
		psych.open("/notifications?lang=en")
		escalated = psych.eval(`document.querySelector("button[value='`+planPath+`']") ? "yes" : ""`) == "yes"
	}
	if !escalated {
		t.Fatalf("the overdue review did not escalate to the lead:\n%s", psych.text())
	}

	// A review records progress; the plan closes with an outcome.
	psych.open(planPath + "?lang=en")
	psych.submit("#review-form", map[string]string{"#rv-" + goals[0]: "2", "#rv-" + goals[1]: "3", "#rv-level": "medium",
		"#rv-decision": "continue", "#rv-note": "Davamiyyət yaxşılaşıb."})
	if txt := psych.text(); !strings.Contains(txt, "some progress") || !strings.Contains(txt, "good progress") || psych.eval(`document.querySelector("#review-overdue") ? "yes" : ""`) != "" {
		t.Errorf("after the review:\n%s", txt)
	}
	for _, lang := range []string{"az", "ru", "en"} {
		t.Run("axe_plan_"+lang, func(t *testing.T) {
			checkPage(t, psych.ctx, string(axeSrc), baseURL+planPath+"?lang="+lang, lang, viewports[0])
		})
	}
	t.Run("axe_plans_az", func(t *testing.T) {
		checkPage(t, psych.ctx, string(axeSrc), baseURL+"/plans?lang=az", "az", viewports[0])
	})
	psych.open(planPath + "?lang=en")
	psych.submit("#close-form", map[string]string{"#cl-outcome": "partly_met"})
	if out := psych.eval(`document.querySelector("#plan-outcome") ? document.querySelector("#plan-outcome").innerText : ""`); !strings.Contains(out, "Partly met") {
		t.Errorf("the closed plan's outcome %q:\n%s", out, psych.text())
	}
}
