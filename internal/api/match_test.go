package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/authn"
	"dayaq/internal/child"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/storage/storagetest"
)

func TestMatchChildrenAPI(t *testing.T) {
	ctx := context.Background()
	db := seeded(t, storagetest.Open(t, storagetest.SQLiteDSN(t)))
	school := func(code string) int64 {
		o, err := db.OrgByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		return o.ID
	}
	kids := []child.Child{
		{StudentID: "S-1", LastName: "Məmmədova", FirstName: "Nərmin", Patronymic: "Rəşad qızı", Sex: child.Female,
			BirthDate: time.Date(2014, 3, 5, 0, 0, 0, 0, time.UTC), SchoolID: school("BAK-06-001"), Grade: 5},
		{StudentID: "S-2", LastName: "Məmmədova", FirstName: "Nərmin", Patronymic: "Elvin qızı", Sex: child.Female,
			BirthDate: time.Date(2013, 7, 9, 0, 0, 0, 0, time.UTC), SchoolID: school("BAK-06-002"), Grade: 6},
		{StudentID: "S-3", LastName: "Məmmədova", FirstName: "Nərmin", Patronymic: "Rəşad qızı", Sex: child.Female,
			BirthDate: time.Date(2014, 3, 5, 0, 0, 0, 0, time.UTC), SchoolID: school("BAK-07-001"), Grade: 5},
	}
	if err := db.InsertChildren(ctx, kids); err != nil {
		t.Fatal(err)
	}
	h := httpx.Languages(i18n.MustLoad())(apiHandler(db))
	district := access.Principal{UserID: 1, OrgID: school("BAK-06"), OrgCode: "BAK-06", OrgType: org.District, District: "BAK-06",
		Roles: []access.Role{access.CitySpecialist}}
	post := func(p access.Principal, body, lang string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodPost, "/api/v1/children/match?lang="+lang, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if p.UserID != 0 {
			r = r.WithContext(authn.WithPrincipal(r.Context(), p))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	type result struct {
		Candidates []struct {
			StudentID string   `json:"student_id"`
			ChildID   int64    `json:"child_id"`
			Score     float64  `json:"score"`
			Level     string   `json:"level"`
			Reasons   []string `json:"reasons"`
		} `json:"candidates"`
	}

	// Cyrillic, seen by BAK-06: the exact child first, the namesake with
	// another date below strong, BAK-07's twin not at all.
	w := post(district, `{"name": "Мамедова Нармин", "birth_date": "2014-03-05"}`, "en")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	res := decode[result](t, w)
	if len(res.Candidates) != 2 || res.Candidates[0].StudentID != "S-1" || res.Candidates[0].Level != "exact" ||
		res.Candidates[1].StudentID != "S-2" || res.Candidates[1].Level != "possible" {
		t.Fatalf("candidates %+v", res.Candidates)
	}
	if !strings.Contains(strings.Join(res.Candidates[0].Reasons, "|"), "Birth date matches") {
		t.Errorf("reasons %v", res.Candidates[0].Reasons)
	}
	if strings.Contains(w.Body.String(), "S-3") {
		t.Errorf("another district's child leaked: %s", w.Body)
	}
	// The reasons come in the caller's language.
	res = decode[result](t, post(district, `{"name": "Mammadova Narmin Rashad kyzy", "birth_date": "05.03.2014"}`, "az"))
	if len(res.Candidates) == 0 || !strings.Contains(strings.Join(res.Candidates[0].Reasons, "|"), "Doğum tarixi eynidir") {
		t.Errorf("az reasons: %+v", res.Candidates)
	}

	// Bad input is a problem naming the field.
	for _, tc := range []struct{ body, field string }{
		{`{"name": ""}`, "name"},
		{`{"name": "Nərmin", "birth_date": "5 March"}`, "birth_date"},
		{`{"name": "Nərmin", "school": "X"}`, "school"},
	} {
		w := post(district, tc.body, "en")
		if w.Code != http.StatusUnprocessableEntity && w.Code != http.StatusBadRequest {
			t.Errorf("%s: status %d", tc.body, w.Code)
		}
		if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/problem+json") || !strings.Contains(w.Body.String(), `"`+tc.field+`"`) {
			t.Errorf("%s: %s %s", tc.body, ct, w.Body)
		}
	}
	// Nobody signed in: 401.
	if w := post(access.Principal{}, `{"name": "Nərmin"}`, "en"); w.Code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d", w.Code)
	}
}
