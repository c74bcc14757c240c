package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/api/openapitest"
	"dayaq/internal/audit"
	"dayaq/internal/casework"
	"dayaq/internal/child"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/server"
	"dayaq/internal/storage/storagetest"
)

func TestReferralsAPI(t *testing.T) {
	ctx := context.Background()
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	if _, err := db.ImportOrgs(ctx, []org.Org{{Code: "HEALTH", Type: org.Health, NameAZ: "Səhiyyə"}}); err != nil {
		t.Fatal(err)
	}
	s, err := server.New(db, i18n.MustLoad(), quiet)
	if err != nil {
		t.Fatal(err)
	}
	h := openapitest.Wrap(s.Handler())
	head := bearerFor(t, db, "head@test.az", "BAK-06-001", access.SchoolHead)
	police := bearerFor(t, db, "police@test.az", "POL-BAK", access.AgencyOfficer)
	health := bearerFor(t, db, "health@test.az", "HEALTH", access.AgencyOfficer)
	school, _ := db.OrgByCode(ctx, "BAK-06-001")
	kid := child.Child{StudentID: "S-1", LastName: "Hüseynova", FirstName: "Ləman", Sex: child.Female,
		BirthDate: time.Date(2014, 2, 3, 0, 0, 0, 0, time.UTC), SchoolID: school.ID, Grade: 6, Section: "B"}
	kids := []child.Child{kid}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	headUser, _ := db.UserByEmail(ctx, "head@test.az")
	p, _ := db.PrincipalForUser(ctx, headUser.ID)
	k, err := db.CreateCase(ctx, audit.Actor{Principal: p}, casework.NewCase{Type: "violence.domestic", Severity: casework.High,
		Title: "Evdə zorakılıq şübhəsi", Summary: "Qolunda göyərmələr", ChildIDs: []int64{kids[0].ID}})
	if err != nil {
		t.Fatal(err)
	}

	body := fmt.Sprintf(`{"case_id":%d,"to":"POL-BAK","service":"police.home_visit","urgency":"high",
		"message":"Ailəyə təcili baxış lazımdır.","share":["school"],"basis":{"kind":"consent"}}`, k.ID)
	w := jsonCall(t, h, "POST", "/api/v1/referrals", body, "Authorization", head, "Accept-Language", "en")
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"field":"consent_by"`) {
		t.Fatalf("consent without who: %d %s", w.Code, w.Body)
	}
	body = strings.Replace(body, `{"kind":"consent"}`, `{"kind":"child_in_danger"}`, 1)
	w = jsonCall(t, h, "POST", "/api/v1/referrals", body, "Authorization", head)
	if w.Code != http.StatusCreated {
		t.Fatalf("send: %d %s", w.Code, w.Body)
	}
	loc := w.Header().Get("Location")

	w = jsonCall(t, h, "GET", loc, "", "Authorization", police)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Hüseynova") || !strings.Contains(w.Body.String(), `"class":"6B"`) ||
		strings.Contains(w.Body.String(), "Qolunda") {
		t.Fatalf("the police read the referral: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "GET", loc, "", "Authorization", health); w.Code != http.StatusNotFound || strings.Contains(w.Body.String(), "Hüseynova") {
		t.Fatalf("health reads it: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "GET", "/api/v1/referrals?open=true", "", "Authorization", health); w.Code != http.StatusOK || strings.Contains(w.Body.String(), `"id"`) {
		t.Fatalf("health lists: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "POST", loc+"/transitions", `{"action":"acknowledge"}`, "Authorization", police); w.Code != http.StatusPreconditionRequired {
		t.Fatalf("no If-Match: %d", w.Code)
	}
	if w := jsonCall(t, h, "POST", loc+"/transitions", `{"action":"acknowledge"}`, "Authorization", police, "If-Match", `"1"`); w.Code != http.StatusOK {
		t.Fatalf("acknowledge: %d %s", w.Code, w.Body)
	}
	w = jsonCall(t, h, "POST", loc+"/transitions", `{"action":"decline","note":"Bizim işimiz deyil"}`, "Authorization", police, "If-Match", `"1"`, "Accept-Language", "en")
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "someone else acknowledged") {
		t.Fatalf("stale: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "POST", loc+"/transitions", `{"action":"decline"}`, "Authorization", police, "If-Match", `"2"`); w.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(w.Body.String(), `"field":"note"`) {
		t.Fatalf("decline without a reason: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "POST", loc+"/transitions", `{"action":"decline","note":"Bizim səlahiyyətimizdə deyil"}`, "Authorization", police, "If-Match", `"2"`); w.Code != http.StatusOK {
		t.Fatalf("decline: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "GET", loc, "", "Authorization", police); w.Code != http.StatusOK || strings.Contains(w.Body.String(), "Hüseynova") {
		t.Fatalf("after declining the police still see the child: %d %s", w.Code, w.Body)
	}
	w = jsonCall(t, h, "GET", "/api/v1/referrals/board", "", "Authorization", head)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"code":"POL-BAK"`) {
		t.Fatalf("board: %d %s", w.Code, w.Body)
	}
	if w := jsonCall(t, h, "GET", "/api/v1/referral-services", "", "Authorization", head); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "police.home_visit") {
		t.Fatalf("services: %d", w.Code)
	}
	if w := jsonCall(t, h, "PUT", "/api/v1/referral-services/police.patrol", `{"org_type":"police","name_az":"Patrul"}`, "Authorization", head); w.Code != http.StatusForbidden {
		t.Fatalf("a school head edits the service list: %d", w.Code)
	}
}
