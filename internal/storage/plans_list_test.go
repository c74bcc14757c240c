package storage_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/plan"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// TestPlanListBranches checks the plan list, read branch by branch (ADR
// 0030), on both engines: each principal lists exactly the live plans the
// plan page lets them open, newest first, page after page, whichever
// branch reaches them — the school, a class through its pupils, an
// activity a teacher carries in another class, the district.
func TestPlanListBranches(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, psych, teacher := f.db, f.users["school_psychologist"], f.users["teacher"]
			school := func(code string) int64 {
				o, err := db.OrgByCode(ctx, code)
				if err != nil {
					t.Fatal(err)
				}
				return o.ID
			}
			a, b, c := school("BAK-06-001"), school("BAK-06-002"), school("BAK-07-001")
			// 60 pupils of 5A (the teacher's class, more than a page), 20 of
			// 7B at the same school, 10 each at the district's other school
			// and in another district; every one on the register with a plan.
			var kids []child.Child
			add := func(n int, schoolID int64, grade int, section string) {
				for range n {
					i := len(kids)
					kids = append(kids, child.Child{StudentID: fmt.Sprintf("PL%05d", i), LastName: "Planlı", FirstName: fmt.Sprint("Şagird", i),
						Sex: child.Male, BirthDate: time.Date(2014, 3, 1+i%28, 0, 0, 0, 0, time.UTC), SchoolID: schoolID, Grade: grade, Section: section})
				}
			}
			add(30, a, 5, "A")
			add(20, a, 7, "B")
			add(10, b, 5, "A")
			add(10, c, 5, "A")
			add(30, a, 5, "A") // interleaved in id order with the 7B plans above
			if err := db.InsertChildren(ctx, kids); err != nil {
				t.Fatal(err)
			}
			ents := make([]storage.BulkEntry, len(kids))
			for i, k := range kids {
				ents[i] = storage.BulkEntry{ChildID: k.ID, SchoolID: k.SchoolID, Level: screening.Medium, Status: screening.Active,
					Factors: `[]`, NextReview: f.clock.t.AddDate(0, 0, 30)}
			}
			if err := db.InsertRegisterBulk(ctx, ents); err != nil {
				t.Fatal(err)
			}
			if n, err := db.SeedPlansBulk(ctx, psych.UserID); err != nil || n != int64(len(kids)) {
				t.Fatalf("seeded %d plans: %v", n, err)
			}
			// Every plan, with its pupil, as the city sees them.
			all := map[int64]child.Child{}
			for _, p := range listAllPlans(t, db, f.users["city_specialist"], storage.PlanQuery{}) {
				all[p.ID] = kids[slices.IndexFunc(kids, func(k child.Child) bool { return k.LastName+" "+k.FirstName == p.ChildName })]
			}
			if len(all) != len(kids) {
				t.Fatalf("the city lists %d plans of %d", len(all), len(kids))
			}
			// The teacher carries an activity in one 7B pupil's plan.
			var carried int64
			for id, k := range all {
				if k.Grade == 7 && (carried == 0 || id > carried) {
					carried = id
				}
			}
			p, err := db.Plan(ctx, psych, carried)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.AddActivity(ctx, psych, p.ID, p.Version, storage.NewActivity{Activity: plan.Activity{Kind: plan.ClassTeacherSupport,
				Title: "Sinif rəhbərinin dəstəyi", Responsible: plan.Responsible{Kind: plan.PartyStaff, UserID: teacher.UserID},
				From: f.clock.t, Until: f.clock.t.AddDate(0, 0, 60), GoalIDs: []int64{p.Goals[0].ID}}}); err != nil {
				t.Fatal(err)
			}
			want := func(keep func(id int64, k child.Child) bool) []int64 {
				var ids []int64
				for id, k := range all {
					if keep(id, k) {
						ids = append(ids, id)
					}
				}
				slices.Sort(ids)
				slices.Reverse(ids)
				return ids
			}
			for _, tc := range []struct {
				user string
				want []int64
			}{
				{"school_psychologist", want(func(_ int64, k child.Child) bool { return k.SchoolID == a })},
				{"school_head", want(func(_ int64, k child.Child) bool { return k.SchoolID == a })},
				{"teacher", want(func(id int64, k child.Child) bool { return (k.SchoolID == a && k.Grade == 5) || id == carried })},
				{"district_specialist", want(func(_ int64, k child.Child) bool { return k.SchoolID != c })},
				{"city_specialist", want(func(int64, child.Child) bool { return true })},
				{"health_officer", nil},
				{"hotline_operator", nil},
			} {
				got := listAllPlans(t, db, f.users[tc.user], storage.PlanQuery{})
				ids := make([]int64, len(got))
				for i, p := range got {
					ids[i] = p.ID
				}
				if !slices.Equal(ids, tc.want) {
					t.Errorf("%s lists %d plans %v, want %d %v", tc.user, len(ids), ids, len(tc.want), tc.want)
				}
				// The list agrees with the plan page: every plan listed opens,
				// every other one does not.
				for _, id := range slices.Sorted(maps.Keys(all)) {
					_, err := db.Plan(ctx, f.users[tc.user], id)
					if listed := slices.Contains(ids, id); listed != (err == nil) {
						t.Errorf("%s: plan %d listed %v, opens: %v", tc.user, id, listed, err)
					}
					if err != nil && apperr.CodeOf(err) != apperr.NotFound {
						t.Fatal(err)
					}
				}
			}
			if l, err := db.ListPlans(ctx, psych, storage.PlanQuery{Status: plan.Closed}); err != nil || len(l) != 0 {
				t.Errorf("closed plans: %v %v", l, err)
			}
			if l, err := db.ListPlans(ctx, f.users["district_specialist"], storage.PlanQuery{SchoolID: b}); err != nil || len(l) != 10 {
				t.Errorf("the district's list of one school: %d %v", len(l), err)
			}
		})
	}
}

// listAllPlans pages through a's plan list, 50 at a time, checking the order.
func listAllPlans(t *testing.T, db *storage.DB, a audit.Actor, q storage.PlanQuery) []storage.PlanSummary {
	t.Helper()
	var out []storage.PlanSummary
	for {
		page, err := db.ListPlans(context.Background(), a, q)
		if err != nil {
			t.Fatal(err)
		}
		for i, p := range page {
			if (i > 0 && p.ID >= page[i-1].ID) || (q.Before != 0 && p.ID >= q.Before) {
				t.Fatalf("the list is not newest first: %v", page)
			}
		}
		out = append(out, page...)
		if len(page) < 50 {
			return out
		}
		q.Before = page[len(page)-1].ID
	}
}
