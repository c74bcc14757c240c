package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/events"
	"dayaq/internal/i18n"
	"dayaq/internal/screening"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// Every number of the JSON dashboard's support charts carries the API list
// behind it, and that list holds exactly that many (or, for the attendance
// and the reach, its head counts or pupils and parents add up to it), for
// the school's head on their own dashboard and with a period; a suppressed
// chart carries no list. The responses are checked against the OpenAPI
// document.
func TestSupportNumbersLinkToAPILists(t *testing.T) {
	ctx := context.Background()
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := openapitest.Wrap(s.Handler())
	tok, _ := tokenFor(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	tokenFor(t, db, "city@test.az", "BSTI", access.CitySpecialist)
	actor := func(email string) audit.Actor {
		u, _ := db.UserByEmail(ctx, email)
		p, err := db.PrincipalForUser(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return audit.Actor{Principal: p}
	}
	head, city := actor("head@test.az"), actor("city@test.az")
	school, _ := db.OrgByCode(ctx, "BAK-06-001")
	kids := []child.Child{
		{StudentID: "S-1", LastName: "Quliyev", FirstName: "Ömər", Sex: child.Male, BirthDate: time.Date(2013, 5, 6, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 7},
		{StudentID: "S-2", LastName: "Əliyeva", FirstName: "Aysel", Sex: child.Female, BirthDate: time.Date(2014, 5, 6, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 6},
		{StudentID: "S-3", LastName: "Məmmədov", FirstName: "Elvin", Sex: child.Male, BirthDate: time.Date(2014, 2, 6, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 6},
	}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	for i, lv := range []screening.Level{screening.High, screening.Medium} {
		e, err := db.ProposeRegister(ctx, head, storage.NewProposal{ChildID: kids[i].ID, Level: lv, Source: screening.FromManual, Note: "test"})
		if err != nil {
			t.Fatal(err)
		}
		if e, err = db.ConfirmRegister(ctx, head, storage.RegisterDecision{ID: e.ID, Version: e.Version, ResponsibleUserID: head.UserID,
			FirstReview: db.Now().AddDate(0, 0, 14)}); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			if _, err := db.CreatePlan(ctx, head, storage.NewPlan{RegisterEntryID: e.ID, Concerns: "Dərsə davamiyyət azalıb."}); err != nil {
				t.Fatal(err)
			}
		}
	}
	topics, err := db.EventTopics(ctx, head, false)
	if err != nil || len(topics) == 0 {
		t.Fatalf("topics: %v", err)
	}
	for i, n := range []int{17, 0} {
		e, err := db.CreateParentEvent(ctx, head, events.Event{TopicIDs: []int64{topics[0].ID}, StartsAt: db.Now().Add(time.Duration(i*48-24) * time.Hour),
			Place: "Akt zalı", WholeSchool: true, SpeakerKind: events.Psychologist, SpeakerName: "Psixoloq"})
		if err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			if _, err := db.RecordAttendance(ctx, head, storage.Attendance{EventID: e.ID, Version: e.Version, HeadCount: n}); err != nil {
				t.Fatal(err)
			}
		}
	}
	m, err := db.CreateCampaignMaterial(ctx, city, events.CampaignMaterial{Kind: "video", Title: "Mənimlə danış", Languages: []string{"az"},
		Edition: "v1", Audience: "parents", ExternalURL: "https://video.example.az/1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range [][2]int{{28, 6}, {0, 11}} {
		if _, err := db.CreateShowing(ctx, head, events.Showing{MaterialID: m.ID, ShownAt: db.Now().Add(-time.Hour), Classes: []string{"7"},
			Pupils: n[0], Parents: n[1], ShownBy: "Psixoloq"}); err != nil {
			t.Fatal(err)
		}
	}

	type listDoc struct {
		Items []struct {
			HeadCount int           `json:"head_count"`
			Status    events.Status `json:"status"`
			Pupils    int           `json:"pupils"`
			Parents   int           `json:"parents"`
		} `json:"items"`
	}
	measure := func(chart, key string, doc listDoc) int {
		n := 0
		for _, it := range doc.Items {
			switch {
			case chart == "event_attendance":
				n += it.HeadCount
			case chart == "campaign_reach" && key == "pupils":
				n += it.Pupils
			case chart == "campaign_reach" && key == "parents":
				n += it.Parents
			case chart == "campaign_reach":
				n += it.Pupils + it.Parents
			default:
				n++
			}
		}
		return n
	}
	from := db.Now().AddDate(0, 0, -3).Format(time.DateOnly)
	to := db.Now().AddDate(0, 0, 3).Format(time.DateOnly)
	followed := 0
	for _, query := range []string{"", "?from=" + from + "&to=" + to} {
		w := call(t, h, "GET", "/api/v1/stats/dashboard"+query, tok, "")
		if w.Code != http.StatusOK {
			t.Fatalf("dashboard: %d %s", w.Code, w.Body)
		}
		var d struct {
			Charts []struct {
				ID        string `json:"id"`
				Total     *int   `json:"total"`
				TotalList string `json:"total_list"`
				Bars      []struct {
					Key   string `json:"key"`
					Value *int   `json:"value"`
					List  string `json:"list"`
				} `json:"bars"`
			} `json:"charts"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil {
			t.Fatal(err)
		}
		linked := map[string]bool{}
		for _, c := range d.Charts {
			type number struct {
				key, list string
				value     *int
			}
			nums := []number{{"", c.TotalList, c.Total}}
			for _, b := range c.Bars {
				nums = append(nums, number{b.Key, b.List, b.Value})
			}
			for _, n := range nums {
				if n.list == "" || n.value == nil {
					continue
				}
				if !strings.HasPrefix(n.list, "/api/v1/") {
					t.Fatalf("%s %s: list %q", c.ID, n.key, n.list)
				}
				linked[c.ID] = true
				followed++
				lw := call(t, h, "GET", n.list, tok, "")
				if lw.Code != http.StatusOK {
					t.Fatalf("%s: %d %s", n.list, lw.Code, lw.Body)
				}
				var doc listDoc
				if err := json.Unmarshal(lw.Body.Bytes(), &doc); err != nil {
					t.Fatal(err)
				}
				if got := measure(c.ID, n.key, doc); got != *n.value {
					t.Errorf("%s%s: %s %q is %d on the dashboard, %d in %s", "dashboard", query, c.ID, n.key, *n.value, got, n.list)
				}
			}
		}
		for _, id := range []string{"register_by_level", "screening_coverage", "plans_by_status", "plans_by_outcome", "plan_reviews",
			"events_by_status", "event_attendance", "campaign_showings", "campaign_reach"} {
			if !linked[id] {
				t.Errorf("dashboard%s: chart %s links to no list", query, id)
			}
		}
	}
	if followed < 40 {
		t.Errorf("only %d numbers followed to their lists", followed)
	}
	// another district's support figures are suppressed: no list
	w := call(t, h, "GET", "/api/v1/stats/dashboard?district=BAK-07", tok, "")
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"list"`) || strings.Contains(w.Body.String(), `"total_list"`) {
		t.Errorf("another district's dashboard carries lists: %d", w.Code)
	}
	// the lists' filters are checked
	for _, bad := range []string{"/api/v1/screening/pupils?screened=maybe", "/api/v1/events?status=done", "/api/v1/campaign/showings?kind=film",
		"/api/v1/plans?review=soon", "/api/v1/register?level=extreme", "/api/v1/register?school=NOPE"} {
		if w := call(t, h, "GET", bad, tok, ""); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d", bad, w.Code)
		}
	}
}
