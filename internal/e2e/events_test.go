package e2e

import (
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The "done when": a school plans an event from the catalogue and
// records attendance including the parent of a pupil on the register (the
// pupil's record and recovery plan then show it); a parent answers the
// feedback form by its link on a phone; the city's view shows the event,
// its feedback and a school with no event; a showing of the campaign's
// video is recorded and the reach chart shows it beside the hotline's
// contacts (not zero: the demo has past contacts). Three languages, axe
// clean.
func TestParentEventAndCampaign(t *testing.T) {
	browser := newBrowser(t, 8*browserTimeout)
	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	baku := time.FixedZone("AZT", 4*3600)
	head := asDemo(t, browser, "school_head")

	// Plan an event from the catalogue.
	if s := head.open("/events/new?lang=en"); s != http.StatusOK {
		t.Fatalf("the plan form: %d", s)
	}
	topic, err := chromedp.Run(head.ctx, chromedp.Evaluate[string](`document.querySelector("#plan-topics label").innerText.trim()`))
	if err != nil || topic == "" {
		t.Fatalf("no topic in the catalogue: %v", err)
	}
	head.submit("form[action='/events/new']", map[string]string{"#plan-topics input[name=topics]": "checked",
		"#plan-starts_at": time.Now().Add(-26 * time.Hour).In(baku).Format("2006-01-02T15:04"), "#plan-place": "E2E akt zalı",
		"#plan-whole_school": "checked", "#plan-speaker_kind": "psychologist", "#plan-speaker_name": "Nigar Hüseynova"})
	eventPath := head.path()
	if !strings.HasPrefix(eventPath, "/events/") || !strings.Contains(head.text(), "E2E akt zalı") {
		t.Fatalf("after planning: at %s\n%s", eventPath, head.text())
	}
	head.open("/events?lang=en")
	if !strings.Contains(head.text(), topic) {
		t.Errorf("the school's calendar lacks the event's topic %q:\n%s", topic, head.text())
	}

	// After the event: the head count and the parent of a pupil on the
	// register with a recovery plan (the demo's, the oldest live plan).
	var plans struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	head.jsonAt("/api/v1/plans", &plans)
	if len(plans.Items) == 0 {
		t.Fatal("the school has no recovery plan")
	}
	planID := strconv.FormatInt(plans.Items[len(plans.Items)-1].ID, 10)
	var plan struct {
		ChildID int64 `json:"child_id"`
	}
	head.jsonAt("/api/v1/plans/"+planID, &plan)
	pupil := strconv.FormatInt(plan.ChildID, 10)
	head.open(eventPath + "?lang=en")
	if n, err := chromedp.Run(head.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#attendance-form input[name=children][value='`+pupil+`']").length`)); err != nil || n != 1 {
		t.Fatalf("the pupil %s of plan %s is not in the attendance form: %d %v", pupil, planID, n, err)
	}
	head.submit("#attendance-form", map[string]string{"#attendance-head_count": "27",
		"#attendance-form input[name=children][value='" + pupil + "']": "checked", "#attendance-notes": "E2E: fəal müzakirə"})
	if page := head.text(); !strings.Contains(page, "Pupils whose parents came: 1") || !strings.Contains(page, "held") {
		t.Fatalf("after attendance:\n%s", page)
	}
	link, err := chromedp.Run(head.ctx, chromedp.Evaluate[string](`document.querySelector("#feedback-link").getAttribute("href")`))
	if err != nil || !strings.Contains(link, "/f/") {
		t.Fatalf("no feedback link: %q %v", link, err)
	}
	feedbackPath := link[strings.Index(link, "/f/"):]
	// The pupil's record and recovery plan show that the parent came.
	head.open("/children/" + pupil + "?lang=en")
	if page := head.text(); !strings.Contains(page, "Events the parent attended") || !strings.Contains(page, topic) {
		t.Errorf("the pupil's record does not show the attendance:\n%s", page)
	}
	if s := head.open("/plans/" + planID + "?lang=en"); s != http.StatusOK {
		t.Fatalf("the pupil's recovery plan: %d", s)
	}
	attended := head.eval(`(document.querySelector("#parent-events") || {innerText: ""}).innerText`)
	if !strings.Contains(attended, "Events the parent attended") || !strings.Contains(attended, topic) ||
		head.eval(`String(!!document.querySelector("#parent-events a[href='`+eventPath+`']"))`) != "true" {
		t.Errorf("the recovery plan does not show the parent's attendance at %s:\n%s", eventPath, attended)
	}

	// A parent answers on a phone, without signing in, in Russian.
	parentCtx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	defer cancel()
	parent := person{t: t, ctx: parentCtx}
	phone := viewports[1]
	if err := chromedp.Do(parentCtx, chromedp.EmulateViewport(phone.width, phone.height, phone.opts...)); err != nil {
		t.Fatal(err)
	}
	if s := parent.open(feedbackPath + "?lang=ru"); s != http.StatusOK || !strings.Contains(parent.text(), "Ваш отзыв о мероприятии") {
		t.Fatalf("the feedback form: %d\n%s", s, parent.text())
	}
	parent.submit("#feedback-form", map[string]string{"input[name=usefulness][value='5']": "checked",
		"#feedback-clear": "Понятно о возрастных особенностях", "#feedback-next_topic": "Экзаменационный стресс"})
	if !strings.Contains(parent.text(), "Спасибо! Ваш ответ записан.") {
		t.Fatalf("after answering:\n%s", parent.text())
	}
	parent.open(feedbackPath + "?lang=ru")
	if !strings.Contains(parent.text(), "С этого браузера уже ответили") {
		t.Errorf("the same browser may answer again:\n%s", parent.text())
	}
	head.open(eventPath + "?lang=en")
	if page := head.text(); !strings.Contains(page, "Responses: 1, of 27 who came") || !strings.Contains(page, "Экзаменационный стресс") {
		t.Errorf("the event does not count the response:\n%s", page)
	}

	// The city's view: the event, its feedback, schools with none.
	city := asDemo(t, browser, "city_specialist")
	city.open("/events/overview?lang=en")
	rows, err := chromedp.Run(city.ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#overview-table tbody tr")].map(r => r.innerText).join("\n")`))
	if err != nil {
		t.Fatal(err)
	}
	var ours string
	for _, r := range strings.Split(rows, "\n") {
		if strings.Contains(r, topic) && strings.Contains(r, "\t27") {
			ours = r
		}
	}
	if ours == "" || !strings.Contains(ours, "5.0") {
		t.Errorf("the city's view lacks the event with 27 parents and its score 5.0:\n%s", rows)
	}
	without, err := chromedp.Run(city.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#schools-without tbody tr").length`))
	if err != nil || without == 0 {
		t.Errorf("the city's view lists no school without an event: %d %v", without, err)
	}

	// A showing of the campaign's video, and the reach beside the contacts.
	head.open("/campaign?lang=en")
	video, err := chromedp.Run(head.ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("#showing-material option")].find(o => o.text.includes("çarx")).value`))
	if err != nil || video == "" {
		t.Fatalf("no campaign video to show: %v\n%s", err, head.text())
	}
	head.submit("form[action='/campaign/showings']", map[string]string{"#showing-material": video,
		"#showing-shown_at": time.Now().Add(-2 * time.Hour).In(baku).Format("2006-01-02T15:04"), "#showing-classes": "9A, 9B",
		"#showing-pupils": "333", "#showing-parents": "17", "#showing-shown_by": "E2E psixoloq"})
	if !strings.Contains(head.text(), "E2E psixoloq") {
		t.Fatalf("after recording the showing:\n%s", head.text())
	}
	city.open("/campaign/reach?lang=en&district=BAK-06")
	month := time.Now().In(baku).Format("01.2006")
	row, err := chromedp.Run(city.ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("#reach-table tbody tr")].map(r => r.innerText).find(t => t.startsWith("`+month+`")) || ""`))
	if err != nil || !strings.Contains(row, "333") {
		t.Errorf("the reach table's row for %s lacks the showing: %q %v", month, row, err)
	}
	if page := city.text(); !strings.Contains(page, "Hotline contacts") {
		t.Errorf("the reach has no contact volume beside it:\n%s", page)
	}
	// The month's hotline contacts (the demo's, in the district) beside the
	// showing: a number above 0 in the table, and the chart's point says it.
	contacts := city.eval(`(() => { const r = [...document.querySelectorAll("#reach-table tbody tr")].find(t => t.cells[0].innerText.startsWith("` + month + `")); return r ? r.cells[4].innerText.trim() : "" })()`)
	if n, err := strconv.Atoi(contacts); err != nil || n == 0 {
		t.Errorf("the reach table's contacts for %s: %q, want a number above 0", month, contacts)
	}
	points := city.eval(`[...document.querySelectorAll("svg.chart circle[r='3.5'] title")].map(t => t.textContent).join("\n")`)
	if !slices.Contains(strings.Split(points, "\n"), month+": "+contacts) {
		t.Errorf("the chart has no contact point %q:\n%s", month+": "+contacts, points)
	}
	bars, err := chromedp.Run(city.ctx, chromedp.Evaluate[int](`document.querySelectorAll("svg.chart rect[fill='#1d4ed8']").length`))
	if err != nil || bars < 2 {
		t.Errorf("the reach chart has %d bars (%v)", bars, err)
	}

	// The pages pass axe-core in the three languages; the form on a phone.
	checks := []struct {
		who  person
		path string
		vp   viewport
	}{
		{head, "/events", viewports[0]}, {head, "/events/new", viewports[0]}, {head, eventPath, viewports[0]},
		{head, "/events/topics", viewports[0]}, {city, "/events/overview", viewports[0]}, {head, "/campaign", viewports[0]},
		{city, "/campaign/reach", viewports[0]}, {parent, feedbackPath, phone},
	}
	for _, c := range checks {
		for _, lang := range []string{"az", "ru", "en"} {
			t.Run(strings.ReplaceAll(c.path, "/", "_")+"_"+lang, func(t *testing.T) {
				checkPage(t, c.who.ctx, string(axeSrc), baseURL+c.path+"?lang="+lang, lang, c.vp)
			})
		}
	}
}
