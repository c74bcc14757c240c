package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/child"
	"dayaq/internal/i18n"
	"dayaq/internal/plan"
	"dayaq/internal/screening"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// TestPlanSubActions covers every route that changes one named part of a
// plan (planSubAction): each succeeds for the role that may, answers 409 to
// a stale If-Match, 403 to a role that sees the plan but may not, and 422
// naming the field to a malformed If-Match; and the parent's letter prints
// only with the code the link was made with.
func TestPlanSubActions(t *testing.T) {
	ctx := context.Background()
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := openapitest.Wrap(s.Handler())
	school, _ := db.OrgByCode(ctx, "BAK-06-001")
	kids := []child.Child{{StudentID: "PLN-1", LastName: "Əliyeva", FirstName: "Aysel", Sex: child.Female,
		BirthDate: time.Date(2015, 4, 1, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 5, Section: "A"}}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertRegisterBulk(ctx, []storage.BulkEntry{{ChildID: kids[0].ID, SchoolID: school.ID, Level: screening.High,
		Status: screening.Active, Factors: `[]`, NextReview: db.Now().AddDate(0, 0, 30)}}); err != nil {
		t.Fatal(err)
	}
	psych := bearerFor(t, db, "psych@test.az", "BAK-06-001", access.SchoolPsychologist)
	head := bearerFor(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	district := bearerFor(t, db, "district@test.az", "BAK-06", access.CitySpecialist)

	var version int
	call := func(tok, method, path, body string, want int) map[string]any {
		t.Helper()
		w := jsonCall(t, h, method, "/api/v1"+path, body, "Authorization", tok, "If-Match", strconv.Quote(strconv.Itoa(version)),
			"Accept-Language", "en")
		if w.Code != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, w.Code, want, w.Body)
		}
		var out map[string]any
		_ = json.Unmarshal(w.Body.Bytes(), &out)
		if v, err := strconv.Atoi(strings.Trim(w.Header().Get("ETag"), `"`)); err == nil {
			version = v
		}
		return out
	}
	w := jsonCall(t, h, "GET", "/api/v1/register?status=active", "", "Authorization", psych)
	var reg struct{ Items []struct{ ID int64 } }
	if err := json.Unmarshal(w.Body.Bytes(), &reg); err != nil || len(reg.Items) != 1 {
		t.Fatalf("register: %s", w.Body)
	}
	p := call(psych, "POST", "/plans", fmt.Sprintf(`{"register_entry_id":%d,"concerns":"Davamiyyət azalıb",
		"parents":[{"name":"Səbinə Əliyeva","relation":"mother","phone":"+994501234567","language":"az"}]}`, reg.Items[0].ID), http.StatusCreated)
	base := fmt.Sprintf("/plans/%v", p["id"])
	parent := p["parents"].([]any)[0].(map[string]any)["id"]
	goal := func(st string) float64 {
		p := call(psych, "POST", base+"/goals", `{"domain":"learning","statement":"`+st+`","indicator":"jurnal","from":"2026-12-01","until":"2027-02-01"}`,
			http.StatusCreated)
		gs := p["goals"].([]any)
		return gs[len(gs)-1].(map[string]any)["id"].(float64)
	}
	g1 := goal("Həftədə 4 gün dərsə gəlir")
	me := call(psych, "GET", "/me", "", http.StatusOK)
	act := func(title string, g float64) float64 {
		p := call(psych, "POST", base+"/activities", fmt.Sprintf(`{"kind":"counselling","title":"%s","responsible":"staff","responsible_id":%v,
			"from":"2026-12-01","until":"2027-02-01","goals":[%v]}`, title, me["user_id"], g), http.StatusCreated)
		as := p["activities"].([]any)
		return as[len(as)-1].(map[string]any)["id"].(float64)
	}
	act("Həftəlik söhbət", g1)
	a2 := act("Qrup məşğələsi", g1)
	p = call(psych, "POST", base+"/consents", fmt.Sprintf(`{"parent":%v,"purpose":"participation","given":true,"method":"verbal"}`, parent),
		http.StatusCreated)
	consent := p["consents"].([]any)[0].(map[string]any)["id"]
	p = call(psych, "POST", base+"/reviews", fmt.Sprintf(`{"progress":{"%v":2},"level":"high","decision":"continue"}`, g1), http.StatusCreated)
	review := p["reviews"].([]any)[0].(map[string]any)["id"]
	g2 := goal("Dərnəyə qoşulur") // after the review, which measured every goal then
	w = jsonCall(t, h, "POST", "/api/v1"+base+"/links", fmt.Sprintf(`{"parent":%v,"lifetime_days":14}`, parent), "Authorization", psych,
		"If-Match", strconv.Quote(strconv.Itoa(version)))
	if w.Code != http.StatusCreated {
		t.Fatalf("link: %d %s", w.Code, w.Body)
	}
	var nl struct {
		ID   int64
		Path string
		Code string
	}
	_ = json.Unmarshal(w.Body.Bytes(), &nl)
	// The parent asks to be called, from their page.
	token := strings.TrimPrefix(nl.Path, "/p/")
	if _, sess, err := db.UnlockParentLink(ctx, token, kids[0].BirthDate, "", ""); err != nil {
		t.Fatal(err)
	} else if _, err := db.ParentAct(ctx, token, sess, "", "", storage.ParentAnswer{CallNote: new("Axşam zəng edin")}); err != nil {
		t.Fatal(err)
	}
	p = call(psych, "GET", base, "", http.StatusOK)
	callID := p["calls"].([]any)[0].(map[string]any)["id"]

	// A goal is changed (its status stays), the lead too; a bad value is
	// refused naming its field.
	call(psych, "PUT", fmt.Sprintf("%s/goals/%v", base, g1), `{"domain":"learning","statement":"x","indicator":"jurnal","from":"2026-12-01",
		"until":"2027-02-01"}`, http.StatusUnprocessableEntity)
	p = call(psych, "PUT", fmt.Sprintf("%s/goals/%v", base, g1), `{"domain":"social","statement":"Həftədə 5 gün dərsə gəlir","indicator":"jurnal",
		"from":"2026-12-01","until":"2027-03-01"}`, http.StatusOK)
	if g := p["goals"].([]any)[0].(map[string]any); g["statement"] != "Həftədə 5 gün dərsə gəlir" || g["domain"] != "social" || g["status"] != "open" {
		t.Errorf("the changed goal: %v", g)
	}
	if e := call(psych, "PUT", base+"/lead", `{"lead_user_id":999}`, http.StatusUnprocessableEntity); !strings.Contains(fmt.Sprint(e["errors"]), "lead_user_id") {
		t.Errorf("a lead from nowhere: %v", e)
	}
	headMe := call(head, "GET", "/me", "", http.StatusOK)
	if p = call(psych, "PUT", base+"/lead", fmt.Sprintf(`{"lead_user_id":%v}`, headMe["user_id"]), http.StatusOK); p["lead"] != "head" {
		t.Errorf("the lead is %v", p["lead"])
	}

	// The letter: the wrong code is refused on its field, a reader may not
	// print it, the right one gives one PDF.
	letter := fmt.Sprintf("%s/links/%d/letter", base, nl.ID)
	for _, c := range []struct {
		tok, body string
		want      int
		field     string
	}{
		{psych, `{"code":"WRONG234"}`, http.StatusUnprocessableEntity, "code"},
		{psych, `{}`, http.StatusUnprocessableEntity, "code"},
		{district, `{"code":"` + nl.Code + `"}`, http.StatusForbidden, ""},
	} {
		w := jsonCall(t, h, "POST", "/api/v1"+letter, c.body, "Authorization", c.tok)
		if w.Code != c.want || (c.field != "" && !strings.Contains(w.Body.String(), `"field":"`+c.field+`"`)) {
			t.Errorf("letter %s: %d %s", c.body, w.Code, w.Body)
		}
	}
	w = jsonCall(t, h, "POST", "/api/v1"+letter, `{"code":"`+strings.ToLower(nl.Code)+`"}`, "Authorization", psych)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/pdf" || !strings.HasPrefix(w.Body.String(), "%PDF-") {
		t.Errorf("letter: %d %s", w.Code, w.Header().Get("Content-Type"))
	}

	gone := func(part string, id any) func(map[string]any) bool {
		return func(p map[string]any) bool {
			for _, x := range p[part].([]any) {
				if x.(map[string]any)["id"] == id {
					return false
				}
			}
			return true
		}
	}
	field := func(part string, id any, key string) func(map[string]any) bool {
		return func(p map[string]any) bool {
			for _, x := range p[part].([]any) {
				if m := x.(map[string]any); m["id"] == id {
					return m[key] != nil && m[key] != ""
				}
			}
			return false
		}
	}
	for _, c := range []struct {
		name, method, path string
		may, mayNot        string
		done               func(map[string]any) bool
	}{
		{"remove a goal", "DELETE", fmt.Sprintf("%s/goals/%v", base, g2), psych, district, gone("goals", g2)},
		{"remove an activity", "DELETE", fmt.Sprintf("%s/activities/%v", base, a2), psych, district, gone("activities", a2)},
		{"confirm a consent", "POST", fmt.Sprintf("%s/consents/%v/confirmation", base, consent), psych, district, field("consents", consent, "confirmed_at")},
		{"approve a review", "POST", fmt.Sprintf("%s/reviews/%v/approval", base, review), head, psych, field("reviews", review, "approved_at")},
		{"revoke a link", "DELETE", fmt.Sprintf("%s/links/%d", base, nl.ID), psych, district, func(p map[string]any) bool {
			return p["links"].([]any)[0].(map[string]any)["state"] == string(plan.LinkRevoked)
		}},
		{"close a call request", "POST", fmt.Sprintf("%s/calls/%v/done", base, callID), psych, district, func(p map[string]any) bool {
			return p["calls"].([]any)[0].(map[string]any)["done"] == true
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := jsonCall(t, h, c.method, "/api/v1"+c.path, "", "Authorization", c.may, "If-Match", `"x"`, "Accept-Language", "en")
			if w.Code != http.StatusUnprocessableEntity || !strings.HasPrefix(w.Header().Get("Content-Type"), "application/problem+json") ||
				!strings.Contains(w.Body.String(), `"field":"If-Match"`) {
				t.Errorf("a malformed If-Match: %d %s", w.Code, w.Body)
			}
			w = jsonCall(t, h, c.method, "/api/v1"+c.path, "", "Authorization", c.mayNot, "If-Match", strconv.Quote(strconv.Itoa(version)))
			if w.Code != http.StatusForbidden {
				t.Errorf("a role that may not: %d %s", w.Code, w.Body)
			}
			w = jsonCall(t, h, c.method, "/api/v1"+c.path, "", "Authorization", c.may, "If-Match", strconv.Quote(strconv.Itoa(version-1)))
			if w.Code != http.StatusConflict {
				t.Errorf("a stale version: %d %s", w.Code, w.Body)
			}
			before := version
			p := call(c.may, c.method, c.path, "", http.StatusOK)
			if version != before+1 || !c.done(p) {
				t.Errorf("done: version %d after %d, %v", version, before, p)
			}
		})
	}
}
