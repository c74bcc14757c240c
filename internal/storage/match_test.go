package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/match"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// TestMatchChildren runs matching through storage on both engines: the
// candidates come from the keys kept with each child, only those the
// caller may list come back, and the search is audited without the name.
func TestMatchChildren(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db := f.db
			q := match.Query{Name: "Алиева Айсель", BirthDate: time.Date(2015, 4, 1, 0, 0, 0, 0, time.UTC)}

			// What each user finds is what they may list.
			for _, m := range matrix {
				cs, err := db.MatchChildren(ctx, f.users[m.user], q)
				if err != nil {
					t.Fatalf("%s: %v", m.user, err)
				}
				var got []int64
				for _, c := range cs {
					got = append(got, c.ID)
					if c.Level != match.Exact {
						t.Errorf("%s: child %d level %s, want exact (reasons %v)", m.user, c.ID, c.Level, c.Reasons)
					}
				}
				var want []int64
				for i, name := range matrixChildren {
					if m.read[i] != '-' {
						want = append(want, f.children[name])
					}
				}
				slices.Sort(got)
				if !slices.Equal(got, want) {
					t.Errorf("%s found %v, want %v", m.user, got, want)
				}
			}

			// The search is audited with the IDs shown, never the name.
			admin := f.users["city_admin"]
			es, err := db.AuditEvents(ctx, storage.AuditFilter{ActorUserID: admin.UserID, Action: "child.match"})
			if err != nil || len(es) != 1 {
				t.Fatalf("audit events: %v, %v", es, err)
			}
			if d := es[0].Details; !strings.Contains(d, `"ids":[`) || strings.Contains(d, "Ал") || strings.Contains(d, "Aysel") {
				t.Errorf("audit details %s", d)
			}

			// A bad query names its field and changes nothing.
			if _, err := db.MatchChildren(ctx, admin, match.Query{Name: " ,. "}); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("empty name: %v, want invalid", err)
			}

			// Created and updated children are found under their new names only.
			created, err := db.CreateChild(ctx, admin, child.Child{StudentID: "NEW-1", LastName: "Cəfərov", FirstName: "Elçin",
				Patronymic: "Rəşad oğlu", Sex: child.Male, BirthDate: time.Date(2014, 3, 5, 0, 0, 0, 0, time.UTC), Grade: 5}, "BAK-06-001")
			if err != nil {
				t.Fatal(err)
			}
			find := func(name string) []int64 {
				t.Helper()
				cs, err := db.MatchChildren(ctx, admin, match.Query{Name: name, BirthDate: time.Date(2014, 3, 5, 0, 0, 0, 0, time.UTC)})
				if err != nil {
					t.Fatal(err)
				}
				var ids []int64
				for _, c := range cs {
					if c.Level != match.Possible {
						ids = append(ids, c.ID)
					}
				}
				return ids
			}
			if got := find("Dzhafarov Elchin Rashadovich"); !slices.Equal(got, []int64{created.ID}) {
				t.Errorf("created child: found %v, want [%d]", got, created.ID)
			}
			ch := created.Child
			ch.LastName, ch.FirstName = "Xəlilov", "Tural"
			if _, err := db.UpdateChild(ctx, admin, ch, ""); err != nil {
				t.Fatal(err)
			}
			if got := find("Dzhafarov Elchin"); len(got) != 0 {
				t.Errorf("old name still found: %v", got)
			}
			if got := find("Халилов Турал"); !slices.Equal(got, []int64{created.ID}) {
				t.Errorf("updated child: found %v, want [%d]", got, created.ID)
			}

			// Reindexing files every child again, and finds the same.
			n, err := db.ReindexMatchKeys(ctx)
			if err != nil || n != len(matrixChildren)+1 {
				t.Fatalf("reindex: %d, %v", n, err)
			}
			if got := find("Khalilov Tural"); !slices.Equal(got, []int64{created.ID}) {
				t.Errorf("after reindex: found %v, want [%d]", got, created.ID)
			}
		})
	}
}

// TestMatchAfterRosterImport checks that the roster import files children
// under their match keys, on insert and on update.
func TestMatchAfterRosterImport(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			w := newRosterWorld(t, e.DSN(t))
			ctx := context.Background()
			csv := rosterHeader + "S-1,Hüseynova,Aysel,Elvin qızı,f,2015-03-09,BAK-06-001,5A\n" +
				"S-2,Quliyev,Tural,Rəşad oğlu,m,2014-11-20,BAK-06-002,6B\n"
			w.importCSV(t, audit.System(), csv)
			find := func(name string, d time.Time) []string {
				t.Helper()
				cs, err := w.db.MatchChildren(ctx, w.users["city"], match.Query{Name: name, BirthDate: d})
				if err != nil {
					t.Fatal(err)
				}
				var out []string
				for _, c := range cs {
					if c.Level != match.Possible {
						out = append(out, c.StudentID)
					}
				}
				return out
			}
			if got := find("Гусейнова Айсель", time.Date(2015, 3, 9, 0, 0, 0, 0, time.UTC)); !slices.Equal(got, []string{"S-1"}) {
				t.Errorf("imported child: %v", got)
			}
			// A re-import with a new surname and date: found under the new ones.
			w.importCSV(t, audit.System(), strings.Replace(csv, "S-2,Quliyev,Tural,Rəşad oğlu,m,2014-11-20", "S-2,Cəfərov,Tural,Rəşad oğlu,m,2014-11-21", 1))
			if got := find("Jafarov Tural", time.Date(2014, 11, 21, 0, 0, 0, 0, time.UTC)); !slices.Equal(got, []string{"S-2"}) {
				t.Errorf("updated child: %v", got)
			}
		})
	}
}

// TestMatchLimitCountsOnlyReachableChildren fills a broad key range with
// namesakes in another district, sorted before the school head's own
// pupil: the range's limit must count only children the head may list, so
// the pupil is still found (and the others neither shown nor able to push
// it out).
func TestMatchLimitCountsOnlyReachableChildren(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, head := f.db, f.users["school_head"]
			ids := orgIDs(t, db)
			var kids []child.Child
			for i := range 3 * match.BroadLimitDated {
				kids = append(kids, child.Child{StudentID: fmt.Sprint("FAR-", i), LastName: "Məmmədov", FirstName: "Əli",
					Patronymic: "Ağa oğlu", Sex: child.Male, BirthDate: time.Date(2012, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i),
					SchoolID: ids["BAK-07-001"], Grade: 6, Section: "A"})
			}
			kids = append(kids, child.Child{StudentID: "NEAR-1", LastName: "Məmmədov", FirstName: "Əli", Patronymic: "Zaur oğlu",
				Sex: child.Male, BirthDate: time.Date(2013, 6, 15, 0, 0, 0, 0, time.UTC), SchoolID: ids["BAK-06-001"], Grade: 7, Section: "B"})
			if err := db.InsertChildren(ctx, kids); err != nil {
				t.Fatal(err)
			}
			near := kids[len(kids)-1].ID
			// A date nobody has: the exact keys find nothing, the broad range is read.
			cs, err := db.MatchChildren(ctx, head, match.Query{Name: "Mammadov Ali", BirthDate: time.Date(2011, 9, 9, 0, 0, 0, 0, time.UTC)})
			if err != nil {
				t.Fatal(err)
			}
			if len(cs) != 1 || cs[0].ID != near {
				var got []string
				for _, c := range cs {
					got = append(got, c.StudentID)
				}
				t.Errorf("found %v, want only NEAR-1", got)
			}
		})
	}
}

// TestMatchPlansAgree asks, on both engines, the same queries under every
// plan: among them a child whose two names are both mistyped in their
// first letter (found only by the fallback ranges), born on a day shared
// with children named far from the query and one named near it. The plan
// of ADR 0035 reads fewer children, and shows the same ones in the same
// order with the same scores; so does the plan of ADR 0041.
func TestMatchPlansAgree(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db, city := f.db, f.users["city_admin"]
			ids := orgIDs(t, db)
			day := time.Date(2010, 7, 11, 0, 0, 0, 0, time.UTC)
			var kids []child.Child
			for i, n := range [][2]string{{"Abbasov", "Zaur"}, {"Axundov", "Ələkbər"}, {"Aslanov", "Aysel"}, {"Babayev", "Ramil"},
				{"Abasov", "Nur"}, {"Əliyev", "Araz"}} {
				kids = append(kids, child.Child{StudentID: fmt.Sprint("FB-", i), LastName: n[0], FirstName: n[1], Patronymic: "Rauf oğlu",
					Sex: child.Male, BirthDate: day, SchoolID: ids["BAK-06-001"], Grade: 9, Section: "A"})
			}
			if err := db.InsertChildren(ctx, kids); err != nil {
				t.Fatal(err)
			}
			find := func(plan storage.MatchPlan, q match.Query) []string {
				db.SetMatchPlan(plan)
				defer db.SetMatchPlan(db.MatchPlan())
				cs, err := db.MatchChildren(ctx, city, q)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, c := range cs {
					got = append(got, fmt.Sprintf("%s %.3f %s", c.StudentID, c.Score, c.Level))
				}
				return got
			}
			for _, q := range []match.Query{
				{Name: "bAbasov aur", BirthDate: day},
				{Name: "Abbasov Zaur", BirthDate: day},
				{Name: "Abbasov Zaur"},
				{Name: "Abbasov Zaur Rauf oğlu", BirthDate: day.AddDate(0, 0, 3)},
				{Name: "Axundov Ələkbər", BirthDate: day.AddDate(1, 0, 0)},
				{Name: "Alıyev Arzu", BirthDate: day},
			} {
				near, keys, overlap := find(storage.MatchPlanNear, q), find(storage.MatchPlanKeys, q), find(storage.MatchPlanOverlap, q)
				if !slices.Equal(near, keys) {
					t.Errorf("%q %s: plan near found %v, plan keys %v", q.Name, q.BirthDate.Format("2006-01-02"), near, keys)
				}
				if !slices.Equal(overlap, near) {
					t.Errorf("%q %s: plan overlap found %v, plan near %v", q.Name, q.BirthDate.Format("2006-01-02"), overlap, near)
				}
				if q.Name == "bAbasov aur" && (len(near) == 0 || !strings.HasPrefix(near[0], "FB-0 ")) {
					t.Errorf("%q: found %v, want FB-0 (Abbasov Zaur) first", q.Name, near)
				}
			}
		})
	}
}

// TestMatchNamesakesShownAlike asks, on both engines, for a name with more
// namesakes than any step's limit, spread over schools and districts, as
// users whom the policy lets see all, a district or one school, twice
// under each plan: the namesakes a limit keeps are the same every time
// (in key and child order), so both plans show the same children, in the
// same order, with the same decisions, and each search's audit event names
// the children it showed.
func TestMatchNamesakesShownAlike(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			ctx := context.Background()
			f := newMatrixFixture(t, e.DSN(t))
			db := f.db
			ids := orgIDs(t, db)
			codes := []string{"BAK-06-001", "BAK-06-002", "BAK-07-001"}
			day := time.Date(2011, 3, 4, 0, 0, 0, 0, time.UTC)
			var kids []child.Child
			for i := range 130 {
				father := "Rauf oğlu"
				if i%3 == 0 {
					father = "Elçin oğlu"
				}
				kids = append(kids, child.Child{StudentID: fmt.Sprint("NS-", i), LastName: "Məmmədov", FirstName: "Əli",
					Patronymic: father, Sex: child.Male, BirthDate: day.AddDate(0, 0, i%90), SchoolID: ids[codes[i%3]],
					Grade: 5, Section: "A"})
			}
			if err := db.InsertChildren(ctx, kids); err != nil {
				t.Fatal(err)
			}
			for _, who := range []string{"city_admin", "district_specialist", "school_head"} {
				a := f.users[who]
				for _, q := range []match.Query{
					{Name: "Məmmədov Əli", BirthDate: day},                            // found: namesakes cut to 20
					{Name: "Mammadov Ali Rauf oglu", BirthDate: day.AddDate(0, 0, 5)}, // found, with the named key
					{Name: "Məmmədov Əli", BirthDate: day.AddDate(0, 0, 200)},         // not found: 40, and the fallback
					{Name: "Məmmədov Əli"},                                            // no date, no school: 40
					{Name: "Məmmədov Əli Elçin oğlu", School: "BAK-06-002"},           // no date, a school: 300
				} {
					var got [][]string
					for _, plan := range []storage.MatchPlan{storage.MatchPlanNear, storage.MatchPlanOverlap, storage.MatchPlanNear,
						storage.MatchPlanOverlap} {
						db.SetMatchPlan(plan)
						cs, err := db.MatchChildren(ctx, a, q)
						if err != nil {
							t.Fatal(err)
						}
						var shown []string
						var ids []int64
						for _, c := range cs {
							shown = append(shown, fmt.Sprintf("%s %.3f %s %v %v", c.StudentID, c.Score, c.Level,
								c.Decision.View, c.CanWrite))
							ids = append(ids, c.ID)
						}
						got = append(got, shown)
						if ev := lastMatchEvent(t, db, a); ev != idsList(ids) {
							t.Errorf("%s %q plan %d: audited %s, showed %s", who, q.Name, plan, ev, idsList(ids))
						}
					}
					db.SetMatchPlan(storage.MatchPlanOverlap)
					if len(got[0]) == 0 {
						t.Errorf("%s %q: nothing found", who, q.Name)
					}
					for i := 1; i < len(got); i++ {
						if !slices.Equal(got[i], got[0]) {
							t.Errorf("%s %q %s: search %d found %v, the first %v", who, q.Name, q.BirthDate.Format("2006-01-02"),
								i, got[i], got[0])
						}
					}
				}
			}
		})
	}
}

// lastMatchEvent is the details of a's latest child.match audit event.
func lastMatchEvent(t *testing.T, db *storage.DB, a audit.Actor) string {
	t.Helper()
	es, err := db.AuditEvents(context.Background(), storage.AuditFilter{ActorUserID: a.UserID, Action: "child.match"})
	if err != nil || len(es) == 0 {
		t.Fatalf("audit events: %v, %v", es, err)
	}
	last := es[0]
	for _, e := range es {
		if e.Seq > last.Seq {
			last = e
		}
	}
	return last.Details
}

// idsList is how a child.match event's details name the children shown.
func idsList(ids []int64) string {
	b, _ := json.Marshal(map[string]any{"ids": append(make([]int64, 0, len(ids)), ids...)})
	return string(b)
}

// orgIDs is every organisation's ID by its code.
func orgIDs(t *testing.T, db *storage.DB) map[string]int64 {
	t.Helper()
	orgs, err := db.Orgs(context.Background(), storage.OrgFilter{})
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]int64{}
	for _, o := range orgs {
		ids[o.Code] = o.ID
	}
	return ids
}
