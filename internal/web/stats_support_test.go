package web_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/events"
	"dayaq/internal/plan"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
)

var supportLinkRE = regexp.MustCompile(`<a href="(/(?:screening/register|screening/pupils|plans|events|campaign/showings)\?[^"]+)">(\d+)</a>`)
var healthLinkRE = regexp.MustCompile(`<a href="/(?:screening/register|screening/pupils|plans)\?`)
var supportSectionRE = regexp.MustCompile(`<section aria-labelledby="h-([a-z_]+)">`)

// supportRows are the marks of one row in each list behind a support
// figure, and the cells whose numbers a figure adds up.
var supportRows = map[string]*regexp.Regexp{
	"/screening/register": regexp.MustCompile(`href="/screening/register/\d+"`),
	"/screening/pupils":   regexp.MustCompile(`href="/children/\d+"`),
	"/plans":              regexp.MustCompile(`href="/plans/\d+"`),
	"/events":             regexp.MustCompile(`href="/events/\d+"`),
	"/campaign/showings":  regexp.MustCompile(`class="num n-pupils"`),
}
var supportSumRE = regexp.MustCompile(`class="num n-(head_count|pupils|parents)">(\d+)<`)

// listMeasure is what a list shows of a figure's number: its rows, or for
// the attendance and the campaign's reach the sum of its head counts, its
// pupils, its parents or both (the chart's bar key, "" for the total).
func listMeasure(chart, key, path, list string) int {
	var cols []string
	switch {
	case chart == "event_attendance":
		cols = []string{"head_count"}
	case chart == "campaign_reach" && key == "":
		cols = []string{"pupils", "parents"}
	case chart == "campaign_reach":
		cols = []string{key}
	default:
		return len(supportRows[path].FindAllString(list, -1))
	}
	n := 0
	for _, m := range supportSumRE.FindAllStringSubmatch(list, -1) {
		for _, c := range cols {
			if m[1] == c {
				v, _ := strconv.Atoi(m[2])
				n += v
			}
		}
	}
	return n
}

// supportNumber is one linked number of a support chart's table.
type supportNumber struct {
	chart, key, target string
	n                  int
}

// supportNumbers reads every linked support number of a dashboard page,
// with its chart and bar (in the chart's order, the total last).
func supportNumbers(t *testing.T, page string) []supportNumber {
	t.Helper()
	var out []supportNumber
	idx := supportSectionRE.FindAllStringSubmatchIndex(page, -1)
	for i, m := range idx {
		end := len(page)
		if i+1 < len(idx) {
			end = idx[i+1][0]
		}
		chart := page[m[2]:m[3]]
		keys, ok := supportBarKeys[chart]
		if !ok {
			continue
		}
		section := page[m[0]:end]
		cells := regexp.MustCompile(`<td class="num[^"]*">(.*?)</td>`).FindAllStringSubmatch(section, -1)
		for j, c := range cells {
			l := supportLinkRE.FindStringSubmatch(c[1])
			if l == nil {
				continue
			}
			key := ""
			if j < len(keys) {
				key = keys[j]
			}
			n, _ := strconv.Atoi(l[2])
			out = append(out, supportNumber{chart, key, html.UnescapeString(l[1]), n})
		}
	}
	return out
}

// supportBarKeys are the bars of each support chart in the order drawn.
var supportBarKeys = map[string][]string{
	"register_by_level": {"low", "medium", "high"}, "screening_coverage": {"screened", "not_screened"},
	"plans_by_status": {"draft", "active", "closed"}, "plans_by_outcome": {"goals_met", "partly_met", "not_met", "moved", "other"},
	"plan_reviews": {"overdue", "in_time"}, "events_by_status": {"planned", "held", "cancelled"}, "event_attendance": {"head_count"},
	"campaign_showings": {"video", "poster", "leaflet"}, "campaign_reach": {"pupils", "parents"},
}

// The support figures on a school head's own dashboard link every number
// to the register or plan list that shows exactly that many; the same
// figures of another district are suppressed and link nowhere; a teacher,
// who may list only their classes, gets them suppressed too.
func TestSupportFiguresLinkToTheirLists(t *testing.T) {
	f := newStatsFixture(t)
	ctx := context.Background()
	u, _ := f.db.UserByEmail(ctx, "head@test.az")
	p, _ := f.db.PrincipalForUser(ctx, u.ID)
	head := audit.Actor{Principal: p}
	kids, err := f.db.ListChildren(ctx, head, storage.ChildQuery{SchoolID: p.OrgID})
	if err != nil || len(kids) < 3 {
		t.Fatalf("pupils: %d %v", len(kids), err)
	}
	var entries []storage.RegisterEntry
	for i, lv := range []screening.Level{screening.High, screening.Medium, screening.High} {
		e, err := f.db.ProposeRegister(ctx, head, storage.NewProposal{ChildID: kids[i].ID, Level: lv, Source: screening.FromManual, Note: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if e, err = f.db.ConfirmRegister(ctx, head, storage.RegisterDecision{ID: e.ID, Version: e.Version, ResponsibleUserID: head.UserID,
			FirstReview: f.db.Now().AddDate(0, 0, 14)}); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, e)
	}
	for i, e := range entries[:2] {
		pl, err := f.db.CreatePlan(ctx, head, storage.NewPlan{RegisterEntryID: e.ID, Concerns: "Dərsə davamiyyət azalıb."})
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			if _, err := f.db.ClosePlan(ctx, head, pl.ID, pl.Version, plan.Closure{Outcome: plan.OutcomeMet}); err != nil {
				t.Fatal(err)
			}
		}
	}
	// events and campaign showings at the school, and one pupil screened
	topics, err := f.db.EventTopics(ctx, head, false)
	if err != nil || len(topics) == 0 {
		t.Fatalf("topics: %v", err)
	}
	now := f.db.Now()
	for i, n := range []int{19, 0, 7} {
		e, err := f.db.CreateParentEvent(ctx, head, events.Event{TopicIDs: []int64{topics[0].ID}, StartsAt: now.Add(time.Duration(i*48-24) * time.Hour),
			Place: "Akt zalı", WholeSchool: true, SpeakerKind: events.Psychologist, SpeakerName: "Psixoloq"})
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 && i == 0 {
			if _, err := f.db.RecordAttendance(ctx, head, storage.Attendance{EventID: e.ID, Version: e.Version, HeadCount: n}); err != nil {
				t.Fatal(err)
			}
		}
	}
	cu, _ := f.db.UserByEmail(ctx, "city2@test.az")
	cp, _ := f.db.PrincipalForUser(ctx, cu.ID)
	materials := map[events.Kind]int64{}
	for _, k := range []events.Kind{"video", "poster"} {
		m, err := f.db.CreateCampaignMaterial(ctx, audit.Actor{Principal: cp}, events.CampaignMaterial{Kind: k, Title: "Mənimlə danış " + string(k),
			Languages: []string{"az"}, Edition: "v1", Audience: "parents", ExternalURL: "https://video.example.az/" + string(k)})
		if err != nil {
			t.Fatal(err)
		}
		materials[k] = m.ID
	}
	for _, sh := range []struct {
		kind            events.Kind
		pupils, parents int
	}{{"video", 28, 6}, {"video", 0, 13}, {"poster", 31, 2}} {
		if _, err := f.db.CreateShowing(ctx, head, events.Showing{MaterialID: materials[sh.kind], ShownAt: now.Add(-time.Hour), Classes: []string{"7A"},
			Pupils: sh.pupils, Parents: sh.parents, ShownBy: "Psixoloq"}); err != nil {
			t.Fatal(err)
		}
	}
	answers, _ := json.Marshal(screening.Answers{Informant: screening.Teacher, Values: map[string]int{"idp": 1},
		Details: map[string]screening.Detail{"idp": {Evidence: "vəsiqə", Date: "2025-01-10"}}})
	if err := f.db.InsertScreeningBulk(ctx, []storage.BulkSchool{{SchoolID: p.OrgID, Round: storage.Round{Scope: "school",
		Instruments: []string{screening.CodeCategories}, Informants: []screening.Informant{screening.Teacher},
		StartsOn: now.AddDate(0, 0, -7), EndsOn: now.AddDate(0, 0, 7)},
		Sets: func(_ []child.Child, rid int64) []storage.BulkAnswerSet {
			return []storage.BulkAnswerSet{{RoundID: rid, ChildID: kids[0].ID, SchoolID: p.OrgID, Version: 1, Informant: screening.Teacher,
				Instrument: screening.CodeCategories, Answers: string(answers)}}
		}}}); err != nil {
		t.Fatal(err)
	}
	code, b := f.head.get(t, f.h, "/statistics?lang=en")
	if code != http.StatusOK {
		t.Fatalf("dashboard: %d", code)
	}
	text := html.UnescapeString(b)
	for _, want := range []string{"The register by risk level", "Screenings of the pupils on the roll", "Recovery plans by status", "Closed plans by outcome",
		"Plan reviews overdue", "Parent events", "Attendance at the events held", "Campaign showings by kind of material", "Campaign reach",
		"3 in all; most: high — 2 (66%).", "1 of the 3 pupils on the roll were screened (33%)."} {
		if !strings.Contains(text, want) {
			t.Errorf("the head's dashboard lacks %q", want)
		}
	}
	// every linked number, on the whole time and on a week around now
	week := "&from=" + now.AddDate(0, 0, -3).Format(time.DateOnly) + "&to=" + now.AddDate(0, 0, 3).Format(time.DateOnly)
	_, bw := f.head.get(t, f.h, "/statistics?lang=en"+week)
	charts := map[string]bool{}
	followed := 0
	for _, page := range []string{b, bw} {
		for _, num := range supportNumbers(t, page) {
			path, _, _ := strings.Cut(num.target, "?")
			code, list := f.head.get(t, f.h, num.target)
			if code != http.StatusOK {
				t.Fatalf("%s: %d", num.target, code)
			}
			if got := listMeasure(num.chart, num.key, path, list); got != num.n {
				t.Errorf("%s %q: the dashboard says %d, %s shows %d", num.chart, num.key, num.n, num.target, got)
			}
			charts[num.chart] = true
			followed++
		}
	}
	for chart := range supportBarKeys {
		if !charts[chart] {
			t.Errorf("no number of %s links to its list", chart)
		}
	}
	if followed < 40 {
		t.Errorf("only %d linked support numbers followed", followed)
	}
	// another district: suppressed, no links
	code, b = f.head.get(t, f.h, "/statistics?lang=en&district=BAK-07")
	if code != http.StatusOK || supportLinkRE.MatchString(b) {
		t.Errorf("another district's support figures link to lists: %d", code)
	}
	// the teacher sees the school's support figures suppressed: 3 on the register → the symbol
	code, b = f.teach.get(t, f.h, "/statistics?lang=en")
	if code != http.StatusOK || healthLinkRE.MatchString(b) || !strings.Contains(b, "·") {
		t.Errorf("teacher's dashboard: %d", code)
	}
}
