package e2e

import (
	"fmt"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The scenario: the psychologist starts a round for 5A; the class
// teacher screens it on the grid (one pupil with PSC-17 over the cut-off
// and two social categories); the psychologist sees the proposal with its
// reasons and confirms it with a review date; the review passes its date,
// shows in the city's queue and escalates; a teacher of another class
// cannot see it. The pages speak three languages and pass axe-core.
func TestScreeningToRegister(t *testing.T) {
	browser := newBrowser(t, 10*browserTimeout)
	baku := time.FixedZone("AZT", 4*3600)
	today := time.Now().In(baku).Format("2006-01-02")

	psych := asDemo(t, browser, "school_psychologist")
	if s := psych.open("/screening?lang=en"); s != http.StatusOK {
		t.Fatalf("screening home: %d\n%s", s, psych.text())
	}
	psych.submit("form[action='/screening/rounds']", map[string]string{"#round-scope": "class", "#screening-class": "5A",
		"input[name=instrument][value=psc17]": "checked", "input[name=instrument][value=social_categories]": "checked",
		"input[name=instrument][value=staff_signs]": "checked", "input[name=instrument][value=sdq]": "checked",
		"#screening-starts_on": today, "#screening-ends_on": time.Now().In(baku).AddDate(0, 0, 14).Format("2006-01-02")})
	round := psych.path()
	if !regexp.MustCompile(`^/screening/rounds/\d+$`).MatchString(round) {
		t.Fatalf("starting a round: at %s\n%s", round, psych.text())
	}

	// The demo school's 5A and 7B get pupils of their own for the test.
	stamp := time.Now().Format("150405")
	pupil := func(last, first string, grade, section string) string {
		psych.open("/children/new?lang=en")
		psych.submit("main form", map[string]string{"#student_id": "E2E-SCR-" + stamp + last[:3], "#last_name": last, "#first_name": first,
			"#sex": "f", "#birth_date": "2015-03-10", "#school_code": "BAK-06-001", "#grade": grade, "#section": section})
		id := strings.TrimPrefix(psych.path(), "/children/")
		if !regexp.MustCompile(`^\d+$`).MatchString(id) {
			t.Fatalf("creating a pupil: at %s\n%s", psych.path(), psych.text())
		}
		return id
	}
	child := pupil("Skrininqova", "Aysel", "5", "A")
	second := pupil("Beşincisinif", "Nərmin", "5", "A")
	pupil("Yeddincisinif", "Lalə", "7", "B")
	name := "Skrininqova Aysel"

	teacher := asDemo(t, browser, "teacher")
	teacher.open(round + "?lang=en")
	if !strings.Contains(teacher.text(), "5A") || !strings.Contains(teacher.text(), "Beşincisinif") {
		t.Fatalf("the teacher's round page lacks 5A's progress and missing list:\n%s", teacher.text())
	}
	grid := round + "/grid?class=5-A&instrument=psc17"
	if s := teacher.open(grid + "&lang=en"); s != http.StatusOK || !strings.Contains(teacher.text(), name) {
		t.Fatalf("the grid: %d\n%s", s, teacher.text())
	}
	// Attention 8, internalising 5, externalising 3: total 16, over the cut-off of 15.
	answers := map[string]string{}
	for i, v := range []string{"2", "1", "1", "0", "1", "1", "2", "0", "1", "1", "1", "0", "1", "1", "1", "0", "2"} {
		answers[fmt.Sprintf("input[name='a.%s.%d']", child, i+1)] = v
	}
	teacher.submit("form.grid-form", answers)
	if !strings.Contains(teacher.text(), "Answers saved") {
		t.Fatalf("saving the grid: at %s\n%s", teacher.path(), teacher.text())
	}
	// A typo is refused, naming the cell, and what was typed stays.
	teacher.submit("form.grid-form", map[string]string{fmt.Sprintf("input[name='a.%s.2']", child): "7"})
	if v, _ := chromedp.Run(teacher.ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector("input[name='a.%s.2']").value`, child))); v != "7" ||
		!strings.Contains(teacher.text(), "The answer is out of range") {
		t.Fatalf("a bad answer: %q\n%s", v, teacher.text())
	}
	teacher.open(round + "/grid?class=5-A&instrument=social_categories&lang=en")
	teacher.submit("form.grid-form", map[string]string{
		fmt.Sprintf("input[name='a.%s.orphan']", child): "checked", fmt.Sprintf("input[name='a.%s.idp']", child): "checked",
		fmt.Sprintf("input[name='a.%s.orphan.evidence']", child): "Şəhadətnamə", fmt.Sprintf("input[name='a.%s.orphan.date']", child): "2025-03-01",
		fmt.Sprintf("input[name='a.%s.idp.evidence']", child): "Köçkün vəsiqəsi", fmt.Sprintf("input[name='a.%s.idp.date']", child): "2024-09-10"})
	if !strings.Contains(teacher.text(), "Answers saved") || !strings.Contains(teacher.text(), "high") {
		t.Fatalf("saving the categories:\n%s", teacher.text())
	}

	// The other grids: signs with how often and since when; the SDQ by item number with its impact columns.
	for _, c := range []struct{ instrument, want string }{{"staff_signs", "Since"}, {"sdq", "wording is copyrighted"}} {
		if s := teacher.open(round + "/grid?class=5-A&instrument=" + c.instrument + "&lang=en"); s != http.StatusOK || !strings.Contains(teacher.text(), c.want) {
			t.Fatalf("the %s grid: %d\n%s", c.instrument, s, teacher.text())
		}
	}

	// The psychologist sees the proposal with its reasons.
	psych.open("/screening/register?status=proposed&lang=en")
	reg := psych.text()
	for _, want := range []string{name, "PSC-17 total score 16 — at or over the cut-off (teacher)", "2 social categories: orphan, internally displaced"} {
		if !strings.Contains(reg, want) {
			t.Fatalf("the proposal lacks %q:\n%s", want, reg)
		}
	}
	href, err := chromedp.Run(psych.ctx, chromedp.Evaluate[string](fmt.Sprintf(
		`[...document.querySelectorAll("main table a")].find(a => a.innerText === %q).getAttribute("href")`, name)))
	if err != nil || !strings.HasPrefix(href, "/screening/register/") {
		t.Fatalf("no link to the entry: %q %v", href, err)
	}
	psych.open(href + "?lang=en")
	me, err := chromedp.Run(psych.ctx, chromedp.Evaluate[string](
		`[...document.querySelectorAll("#responsible option")].find(o => o.innerText === "Nigar Hüseynova").value`))
	if err != nil || me == "" {
		t.Fatalf("the psychologist is not among the responsible people: %v", err)
	}
	psych.submit("form[action$='/confirm']", map[string]string{"#responsible": me, "#first-review": today})
	if !strings.Contains(psych.text(), "on the register") || !strings.Contains(psych.text(), "overdue") {
		t.Fatalf("after confirming:\n%s", psych.text())
	}

	// The review's date has passed: the city's queue shows it.
	city := asDemo(t, browser, "city_specialist")
	city.open("/screening?lang=en")
	if !strings.Contains(city.text(), "Overdue reviews") || !strings.Contains(city.text(), name) {
		t.Fatalf("the city's queue lacks the overdue review:\n%s", city.text())
	}

	// Another class's teacher sees none of it.
	other := asDemo(t, browser, "teacher_7b")
	if s := other.open(href + "?lang=en"); s != http.StatusNotFound {
		t.Errorf("another class's teacher opens the entry: %d", s)
	}
	for _, p := range []string{"/screening/register?lang=en", grid + "&lang=en", "/children/" + child + "?lang=en"} {
		other.open(p)
		if strings.Contains(other.text(), name) {
			t.Errorf("another class's teacher sees the pupil at %s", p)
		}
	}
	if s := other.open("/api/v1/screening/children/" + child); s != http.StatusNotFound {
		t.Errorf("another class's teacher reads the screening through the API: %d", s)
	}

	// The psychologist proposes the other pupil by hand from the child's page.
	psych.open("/children/" + second + "?lang=en")
	psych.submit("form[action$='/propose']", map[string]string{"#propose-level": "medium", "#propose-note": "Valideyn müraciət etdi"})
	if !strings.HasPrefix(psych.path(), "/screening/register/") || !strings.Contains(psych.text(), "by hand") {
		t.Fatalf("proposing by hand: at %s\n%s", psych.path(), psych.text())
	}

	// Three languages.
	for lang, want := range map[string]string{"az": "reyestrdə", "ru": "в реестре", "en": "on the register"} {
		psych.open(href + "?lang=" + lang)
		if !strings.Contains(psych.text(), want) {
			t.Errorf("%s: the entry page lacks %q", lang, want)
		}
	}
	psych.open("/children/" + child + "?lang=ru")
	if !strings.Contains(psych.text(), "Уязвимые группы: скрининг и реестр") || !strings.Contains(psych.text(), "2 социальные категории") {
		t.Errorf("the child's page lacks the screening in Russian:\n%s", psych.text())
	}

	// The escalator calls the responsible person once the review is overdue.
	for deadline := time.Now().Add(150 * time.Second); ; {
		psych.open("/notifications?lang=en")
		if strings.Contains(psych.text(), "Vulnerable-group register review") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no escalation of the overdue review:\n%s", psych.text())
		}
		time.Sleep(5 * time.Second)
	}

	axeSrc, err := os.ReadFile(axePath)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		who   person
		path  string
		langs []string
	}{
		{psych, "/screening", []string{"az"}}, {psych, round, []string{"az"}}, {teacher, grid, []string{"az"}},
		{teacher, round + "/grid?class=5-A&instrument=social_categories", []string{"az"}},
		{teacher, round + "/grid?class=5-A&instrument=staff_signs", []string{"az"}}, {teacher, round + "/grid?class=5-A&instrument=sdq", []string{"az"}},
		{psych, "/screening/register", []string{"az"}}, {psych, href, []string{"az", "ru", "en"}},
		{psych, "/children/" + child, []string{"az"}}, {asDemo(t, browser, "city_admin"), "/screening/instruments", []string{"az"}},
	}
	for _, c := range checks {
		for _, lang := range c.langs {
			u := baseURL + c.path
			if strings.Contains(u, "?") {
				u += "&lang=" + lang
			} else {
				u += "?lang=" + lang
			}
			t.Run(strings.ReplaceAll(c.path, "/", "_")+"/"+lang, func(t *testing.T) {
				checkPage(t, c.who.ctx, string(axeSrc), u, lang, viewports[0])
			})
		}
	}
}
