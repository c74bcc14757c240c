package web_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/child"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/screening"
	"dayaq/internal/server"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// TestPlanForms drives the plan page's forms as the school psychologist
// and the class teacher: a lead other than the opener, a goal edited and
// removed, an activity removed, the teacher logging a session of their own
// activity, the lead changed, and the parent's letter printed with the
// code shown once. A refused form keeps what was typed; a stale one is a
// 409; the page renders in all three languages.
func TestPlanForms(t *testing.T) {
	ctx := context.Background()
	db := storagetest.Open(t, storagetest.SQLiteDSN(t))
	s, err := server.New(db, i18n.MustLoad(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	if _, err := db.ImportOrgs(ctx, []org.Org{{Code: "BSTI", Type: org.CityDepartment, NameAZ: "BŞTİ"},
		{Code: "BAK-06-001", Type: org.School, NameAZ: "1 nömrəli məktəb", DistrictCode: "BAK-06"},
		{Code: "BAK-06-002", Type: org.School, NameAZ: "2 nömrəli məktəb", DistrictCode: "BAK-06"}}); err != nil {
		t.Fatal(err)
	}
	school, err := db.OrgByCode(ctx, "BAK-06-001")
	if err != nil {
		t.Fatal(err)
	}
	psych := newClient(t, h, db, "psych@example.az", "BAK-06-001", access.SchoolPsychologist)
	head := newClient(t, h, db, "head@example.az", "BAK-06-001", access.SchoolHead)
	other := newClient(t, h, db, "other@example.az", "BAK-06-002", access.SchoolPsychologist)
	tu, err := db.CreateUser(ctx, audit.System(), storage.NewUser{Email: "teacher@example.az", Name: "Sinif Rəhbəri", OrgCode: "BAK-06-001",
		Roles: []access.Role{access.Teacher}, Classes: []access.Class{{Grade: 5, Section: "A"}}, PasswordHash: "unused"})
	if err != nil {
		t.Fatal(err)
	}
	tok, csrf := auth.NewSessionToken(), auth.NewCSRFToken()
	if _, err := db.CreateSession(ctx, storage.NewSession{UserID: tu.ID, TokenHash: auth.HashToken(tok), CSRFToken: csrf, MFADone: true}); err != nil {
		t.Fatal(err)
	}
	teacher := client{h: h, cookie: "dayaq_session=" + tok, csrf: csrf, userID: tu.ID}

	kid := child.Child{StudentID: "PF0001", LastName: "Həsənova", FirstName: "Leyla", Sex: child.Female,
		BirthDate: time.Date(2015, 4, 1, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 5, Section: "A"}
	kids := []child.Child{kid}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	if err := db.InsertRegisterBulk(ctx, []storage.BulkEntry{{ChildID: kids[0].ID, SchoolID: school.ID, Level: screening.High,
		Status: screening.Active, Factors: `[]`, NextReview: db.Now().AddDate(0, 0, 30)}}); err != nil {
		t.Fatal(err)
	}
	pp, err := db.PrincipalForUser(ctx, psych.userID)
	if err != nil {
		t.Fatal(err)
	}
	es, err := db.RegisterList(ctx, audit.Actor{Principal: pp}, storage.RegisterFilter{Status: screening.Active})
	if err != nil || len(es) != 1 {
		t.Fatalf("register: %v %v", es, err)
	}
	entry := strconv.FormatInt(es[0].ID, 10)
	plan := func() storage.PlanRecord {
		t.Helper()
		ps, err := db.ListPlans(ctx, audit.Actor{Principal: pp}, storage.PlanQuery{})
		if err != nil || len(ps) != 1 {
			t.Fatalf("plans: %v %v", ps, err)
		}
		p, err := db.Plan(ctx, audit.Actor{Principal: pp}, ps[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	expect := func(resp *http.Response, b string, status int, wants ...string) {
		t.Helper()
		if resp.StatusCode != status {
			t.Fatalf("status %d, want %d: %.600s", resp.StatusCode, status, b)
		}
		for _, w := range wants {
			if !strings.Contains(b, w) {
				t.Errorf("the answer lacks %q", w)
			}
		}
	}

	// Opening: the lead is chosen among the school's staff; a refused form
	// keeps what was typed, the lead chosen too.
	headID := strconv.FormatInt(head.userID, 10)
	resp, b := psych.get(t, "/plans/new?entry="+entry)
	expect(resp, b, http.StatusOK, `name="lead"`, `value="`+strconv.FormatInt(psych.userID, 10)+`" selected`, "Test head@example.az")
	form := url.Values{"entry": {entry}, "concerns": {"Dərsdən yayınır, yazılanı saxla"}, "parent_name": {"Səbinə"}, "relation": {""},
		"language": {"ru"}, "lead": {headID}}
	resp, b = psych.post(t, "/plans", form)
	expect(resp, b, http.StatusUnprocessableEntity, "Dərsdən yayınır, yazılanı saxla", `value="`+headID+`" selected`)
	form.Set("relation", "mother")
	form.Set("lead", strconv.FormatInt(other.userID, 10))
	resp, b = psych.post(t, "/plans", form)
	expect(resp, b, http.StatusUnprocessableEntity, "Dərsdən yayınır, yazılanı saxla")
	form.Set("lead", headID)
	if resp, b = psych.post(t, "/plans", form); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("open the plan: %d %q", resp.StatusCode, problems(b))
	}
	p := plan()
	if p.LeadUserID != head.userID || p.LeadName != "Test head@example.az" {
		t.Fatalf("the lead is %d %q, want the head", p.LeadUserID, p.LeadName)
	}
	base := "/plans/" + strconv.FormatInt(p.ID, 10)
	v := func() string { return strconv.Itoa(plan().Version) }
	post := func(c client, action string, f url.Values) (*http.Response, string) {
		t.Helper()
		if f.Get("version") == "" {
			f.Set("version", v())
		}
		return c.post(t, base+"/"+action, f)
	}

	// Goals: add two, edit one (refused, stale, then saved), remove the
	// other; one an activity serves stays.
	for _, st := range []string{"Həftədə ən azı 4 gün dərsə gəlir", "Dərnəyə qoşulur"} {
		if resp, b := post(psych, "goal", url.Values{"domain": {"learning"}, "statement": {st}, "indicator": {"jurnal"},
			"from": {"2026-12-01"}, "until": {"2027-02-01"}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add a goal: %d %q", resp.StatusCode, problems(b))
		}
	}
	p = plan()
	g1, g2 := strconv.FormatInt(p.Goals[0].ID, 10), strconv.FormatInt(p.Goals[1].ID, 10)
	edit := url.Values{"target": {g1}, "domain": {"social"}, "statement": {"ab"}, "indicator": {"yeni göstərici"},
		"from": {"2026-12-01"}, "until": {"2027-03-01"}}
	resp, b = post(psych, "goal-edit", edit)
	expect(resp, b, http.StatusUnprocessableEntity, `id="goal-edit-`+g1+`"`, `value="ab"`, `value="yeni göstərici"`, `value="2027-03-01"`)
	edit.Set("statement", "Həftədə 5 gün dərsə gəlir")
	edit.Set("version", strconv.Itoa(p.Version-1))
	resp, b = post(psych, "goal-edit", edit)
	expect(resp, b, http.StatusConflict, `value="Həftədə 5 gün dərsə gəlir"`)
	edit.Del("version")
	if resp, b := post(psych, "goal-edit", edit); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit the goal: %d %q", resp.StatusCode, problems(b))
	}
	if g := plan().Goals[0]; g.Statement != "Həftədə 5 gün dərsə gəlir" || g.Domain != "social" || g.Indicator != "yeni göstərici" {
		t.Errorf("the edited goal reads %+v", g)
	}

	// Activities: the teacher's support (serving the first goal) and a
	// counselling that is taken out again.
	for _, a := range []url.Values{
		{"kind": {"class_teacher_support"}, "title": {"Sinif rəhbərinin dəstəyi"}, "staff": {strconv.FormatInt(teacher.userID, 10)},
			"from": {"2026-12-01"}, "until": {"2027-02-01"}, "goals": {g1}},
		{"kind": {"counselling"}, "title": {"Həftəlik söhbət"}, "staff": {strconv.FormatInt(psych.userID, 10)},
			"from": {"2026-12-01"}, "until": {"2027-02-01"}, "goals": {g2}},
	} {
		if resp, b := post(psych, "activity", a); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("add an activity: %d %q", resp.StatusCode, problems(b))
		}
	}
	p = plan()
	support, counselling := strconv.FormatInt(p.Activities[0].ID, 10), strconv.FormatInt(p.Activities[1].ID, 10)
	resp, b = psych.get(t, base)
	expect(resp, b, http.StatusOK, `id="remove-activity-`+counselling+`"`, `id="lead-form"`)
	if strings.Contains(b, `id="remove-goal-`+g2+`"`) {
		t.Error("a goal an activity serves offers to be removed")
	}
	resp, b = post(psych, "goal-remove", url.Values{"target": {g2}})
	expect(resp, b, http.StatusConflict)
	resp, b = post(psych, "activity-remove", url.Values{"target": {counselling}, "version": {strconv.Itoa(plan().Version - 1)}})
	expect(resp, b, http.StatusConflict)
	if resp, b := post(psych, "activity-remove", url.Values{"target": {counselling}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove an activity: %d %q", resp.StatusCode, problems(b))
	}
	resp, b = psych.get(t, base)
	expect(resp, b, http.StatusOK, `id="remove-goal-`+g2+`"`)
	if resp, b := post(psych, "goal-remove", url.Values{"target": {g2}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove a goal: %d %q", resp.StatusCode, problems(b))
	}
	if p = plan(); len(p.Goals) != 1 || len(p.Activities) != 1 {
		t.Fatalf("after removals: %d goals, %d activities", len(p.Goals), len(p.Activities))
	}

	// The class teacher logs a session of their own activity; a refused
	// one keeps what was typed.
	resp, b = teacher.get(t, base)
	expect(resp, b, http.StatusOK, `id="session-form"`, "Sinif rəhbərinin dəstəyi")
	if strings.Contains(b, `id="goal-edit-`) || strings.Contains(b, `id="lead-form"`) {
		t.Error("the teacher is offered the writers' forms")
	}
	sess := url.Values{"activity": {support}, "at": {"2026-11-30T10:00"}, "with": {"pupil"}, "attended": {"no"}, "missed_reason": {""}}
	resp, b = post(teacher, "session", sess)
	expect(resp, b, http.StatusUnprocessableEntity, `value="2026-11-30T10:00"`)
	sess.Set("attended", "yes")
	sess.Set("at", db.Now().Add(-2*time.Hour).In(time.FixedZone("Baku", 4*3600)).Format("2006-01-02T15:04"))
	if resp, b := post(teacher, "session", sess); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("the teacher logs a session: %d %q", resp.StatusCode, problems(b))
	}
	if p = plan(); len(p.Sessions) != 1 || p.Sessions[0].ActivityID != p.Activities[0].ID {
		t.Fatalf("sessions %+v", p.Sessions)
	}

	// The lead changes; someone of another school cannot lead.
	resp, b = post(psych, "lead", url.Values{"lead": {strconv.FormatInt(other.userID, 10)}})
	expect(resp, b, http.StatusUnprocessableEntity)
	if resp, b := post(psych, "lead", url.Values{"lead": {strconv.FormatInt(psych.userID, 10)}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("change the lead: %d %q", resp.StatusCode, problems(b))
	}
	if plan().LeadUserID != psych.userID {
		t.Error("the lead did not change")
	}

	// The parent's letter, with the code shown once.
	parent := strconv.FormatInt(p.Parents[0].ID, 10)
	resp, b = post(psych, "link", url.Values{"parent": {parent}, "days": {"14"}})
	expect(resp, b, http.StatusOK, `id="print-letter"`)
	m := regexp.MustCompile(`id="link-code">([A-Z0-9]+)<`).FindStringSubmatch(b)
	if m == nil {
		t.Fatal("no code on the page after making the link")
	}
	link := strconv.FormatInt(plan().Links[0].ID, 10)
	resp, b = post(psych, "letter", url.Values{"target": {link}, "code": {"WRONGCOD"}})
	expect(resp, b, http.StatusUnprocessableEntity)
	resp, _ = post(teacher, "letter", url.Values{"target": {link}, "code": {m[1]}})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the teacher prints the letter: %d", resp.StatusCode)
	}
	resp, b = post(psych, "letter", url.Values{"target": {link}, "code": {strings.ToLower(m[1])}})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/pdf" || !strings.HasPrefix(b, "%PDF-") {
		t.Fatalf("the letter: %d %s %.40q", resp.StatusCode, resp.Header.Get("Content-Type"), b)
	}

	// The page with every new form renders in each language.
	for _, l := range i18n.Langs() {
		resp := do(t, h, req{base, []string{"Cookie", psych.cookie, "Accept-Language", string(l)}})
		checkPage(t, resp, body(t, resp), http.StatusOK, l)
		resp = do(t, h, req{"/plans/new?entry=" + entry, []string{"Cookie", psych.cookie, "Accept-Language", string(l)}})
		checkPage(t, resp, body(t, resp), http.StatusOK, l)
		resp = do(t, h, req{base, []string{"Cookie", teacher.cookie, "Accept-Language", string(l)}})
		checkPage(t, resp, body(t, resp), http.StatusOK, l)
	}
}

// problems picks the alert and the field errors out of a page.
func problems(page string) []string {
	return regexp.MustCompile(`(field-error|alert)"[^>]*>[^<]*`).FindAllString(page, -1)
}
