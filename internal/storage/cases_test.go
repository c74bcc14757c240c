package storage_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/casework"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

func orgID(t *testing.T, db *storage.DB, code string) int64 {
	t.Helper()
	o, err := db.OrgByCode(context.Background(), code)
	if err != nil {
		t.Fatal(err)
	}
	return o.ID
}

func report(f *matrixFixture, child string) casework.NewCase {
	return casework.NewCase{Type: "violence.bullying", Severity: casework.High, Title: "Sinif yoldaşları incidir",
		Summary: "Fasilələrdə təkrarlanan təhqir", ChildIDs: []int64{f.children[child]}}
}

func kinds(d storage.CaseDetail) []string {
	var ks []string
	for _, e := range d.Events {
		ks = append(ks, e.Kind)
	}
	return ks
}

// A school reports a case about its pupil; the city unit triages it, works
// it, monitors it and closes it; it is reopened. Every step is in the
// chronology and the audit trail, and a stale version changes nothing.
func TestCaseLifecycle(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			head, spec := f.users["school_head"], f.users["city_specialist"]
			r, err := f.db.CreateCase(ctx, head, report(f, "ownClass"))
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != casework.New || r.Source != casework.FromSchool || r.School.Code != "BAK-06-001" || r.District != "BAK-06" {
				t.Fatalf("reported case: %+v", r.Case)
			}
			if !r.RespondDue.Equal(f.clock.t.Add(24*time.Hour)) || r.ReportDue.IsZero() {
				t.Errorf("deadlines: respond %v report %v", r.RespondDue, r.ReportDue)
			}
			if len(r.Children) != 1 || r.Children[0].LastName != "Əliyeva" {
				t.Errorf("children %+v", r.Children)
			}
			// The school may not triage; the city may.
			bsti := orgID(t, f.db, "BSTI")
			triage := casework.Move{To: casework.Triaged, LeadOrgID: bsti, OwnerID: spec.UserID}
			if _, err := f.db.TransitionCase(ctx, head, r.ID, r.Version, triage); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("school triages: %v, want forbidden", err)
			}
			if _, err := f.db.TransitionCase(ctx, spec, r.ID, r.Version, casework.Move{To: casework.Triaged}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("triage without lead and owner: %v, want invalid", err)
			}
			r2, err := f.db.TransitionCase(ctx, spec, r.ID, r.Version, triage)
			if err != nil {
				t.Fatal(err)
			}
			if r2.Version != r.Version+1 || r2.Status != casework.Triaged || r2.OwnerName != "city_specialist" || r2.LeadOrg.Code != "BSTI" {
				t.Fatalf("triaged: %+v", r2.Case)
			}
			// A second tab still holding the old version is refused.
			if _, err := f.db.TransitionCase(ctx, spec, r.ID, r.Version, casework.Move{To: casework.InProgress}); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("stale transition: %v, want conflict", err)
			}
			if _, err := f.db.UpdateCase(ctx, spec, r.ID, r.Version, casework.Edit{Title: new("x")}); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("stale edit: %v, want conflict", err)
			}
			r3, err := f.db.TransitionCase(ctx, spec, r.ID, r2.Version, casework.Move{To: casework.InProgress, Note: "Valideynlərlə görüş"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.AddCaseNote(ctx, head, r.ID, "Məktəb psixoloqu danışdı"); err != nil {
				t.Fatal(err)
			}
			task, err := f.db.AddCaseTask(ctx, spec, r.ID, storage.NewTask{Title: "Ailəyə zəng", AssigneeID: head.UserID, Due: f.clock.t.Add(48 * time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.AddCaseTask(ctx, spec, r.ID, storage.NewTask{Title: "x", AssigneeID: f.users["health_officer"].UserID}); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("task for someone outside the case: %v, want invalid", err)
			}
			if _, err := f.db.SetCaseTaskStatus(ctx, head, r.ID, task.ID, task.Version, storage.TaskDone); err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.SetCaseTaskStatus(ctx, head, r.ID, task.ID, task.Version, storage.TaskOpen); apperr.CodeOf(err) != apperr.Conflict {
				t.Errorf("stale task update: %v, want conflict", err)
			}
			r4, err := f.db.TransitionCase(ctx, spec, r.ID, r3.Version, casework.Move{To: casework.Monitoring, ReviewAt: f.clock.t.AddDate(0, 1, 0)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.TransitionCase(ctx, spec, r.ID, r4.Version, casework.Move{To: casework.Closed, Reason: "x"}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("closing without an outcome: %v, want invalid", err)
			}
			r5, err := f.db.TransitionCase(ctx, spec, r.ID, r4.Version, casework.Move{To: casework.Closed, Reason: "Uşaq təhlükəsizdir", Outcome: casework.OutcomeResolved})
			if err != nil {
				t.Fatal(err)
			}
			if r5.Status != casework.Closed || r5.ClosureOutcome != casework.OutcomeResolved || r5.ClosedAt.IsZero() {
				t.Fatalf("closed: %+v", r5.Case)
			}
			if _, err := f.db.AddCaseNote(ctx, f.users["health_officer"], r.ID, "x"); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("a stranger's note: %v, want not found", err)
			}
			r6, err := f.db.TransitionCase(ctx, spec, r.ID, r5.Version, casework.Move{To: casework.Reopened, Reason: "Yeni şikayət"})
			if err != nil {
				t.Fatal(err)
			}
			d, err := f.db.CaseFor(ctx, head, r.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := []string{"created", "transition", "transition", "note", "task", "task_status", "transition", "transition", "transition"}
			if !slices.Equal(kinds(d), want) {
				t.Errorf("chronology %v, want %v", kinds(d), want)
			}
			if d.Version != r6.Version || len(d.Notes) != 4 || len(d.Tasks) != 1 || d.Tasks[0].Status != storage.TaskDone {
				t.Errorf("detail: version %d notes %d tasks %+v", d.Version, len(d.Notes), d.Tasks)
			}
			for _, ev := range d.Events {
				if ev.ActorName == "" || ev.At.IsZero() {
					t.Errorf("event %s is not attributed and timestamped: %+v", ev.Kind, ev)
				}
				if ev.Kind == "note" && (ev.Note == nil || ev.Note.Body != "Məktəb psixoloqu danışdı") {
					t.Errorf("note event without its note: %+v", ev)
				}
			}
			events, err := f.db.AuditEvents(ctx, storage.AuditFilter{ChildID: f.children["ownClass"], Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, ev := range events {
				actions = append(actions, ev.Action)
			}
			for _, a := range []string{"case.create", "case.transition", "case.note", "case.task", "case.task_status", "case.read"} {
				if !slices.Contains(actions, a) {
					t.Errorf("audit lacks %s: %v", a, actions)
				}
			}
			if _, bad, reason, err := f.db.VerifyAudit(ctx); err != nil || bad != 0 {
				t.Fatalf("audit chain: bad %d %s %v", bad, reason, err)
			}
		})
	}
}

// The case access matrix: a case per matrix child (opened by the city),
// one the police lead, and one the hotline logged without a child.
// Everyone reads and lists exactly what the policy says, on both engines,
// and the SQL filter agrees with the policy.
func TestCaseAccessMatrix(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			admin := f.users["city_admin"]
			cases := map[string]int64{}
			for _, name := range matrixChildren {
				r, err := f.db.CreateCase(ctx, admin, report(f, name))
				if err != nil {
					t.Fatal(err)
				}
				cases[name] = r.ID
			}
			police := orgID(t, f.db, "POLICE")
			led, err := f.db.CreateCase(ctx, admin, casework.NewCase{Type: "missing.runaway", Severity: casework.Critical,
				Title: "Evdən qaçıb", LeadOrgID: police, OwnerID: f.users["police_officer"].UserID, SchoolID: orgID(t, f.db, "BAK-07-001")})
			if err != nil {
				t.Fatal(err)
			}
			cases["policeLead"] = led.ID
			logged, err := f.db.CreateCase(ctx, f.users["hotline_operator"], casework.NewCase{Type: "mental.distress",
				Severity: casework.Medium, Title: "Anonim zəng"})
			if err != nil {
				t.Fatal(err)
			}
			cases["hotlineLogged"] = logged.ID
			// Two children of two districts: the case sits at both schools.
			multi := report(f, "otherDistrict")
			multi.ChildIDs = append(multi.ChildIDs, f.children["ownClass"])
			both, err := f.db.CreateCase(ctx, admin, multi)
			if err != nil {
				t.Fatal(err)
			}
			cases["twoSchools"] = both.ID
			cols := append(append([]string{}, matrixChildren...), "policeLead", "hotlineLogged", "twoSchools")
			// R readable and listed, - neither.
			want := map[string]string{
				"city_admin":             "RRRRRRRRR",
				"city_specialist":        "RRRRRRRRR",
				"district_specialist":    "RRR-----R",
				"district_officer":       "RRR-----R",
				"school_head":            "RR------R",
				"school_psychologist":    "RR------R",
				"teacher":                "R-------R",
				"hotline_operator":       "----R--R-",
				"hotline_operator_other": "---------",
				"hotline_supervisor":     "---------",
				"police_officer":         "----R-R--",
				"police_supervisor":      "----R-R--",
				"health_officer":         "---------",
				"analyst":                "---------",
				"public_council":         "---------",
				"system_admin":           "---------",
			}
			for user, row := range want {
				a := f.users[user]
				listed := map[int64]bool{}
				q := storage.CaseQuery{Limit: 2}
				for {
					pg, err := f.db.ListCases(ctx, a, q)
					if err != nil {
						t.Fatalf("%s lists: %v", user, err)
					}
					for _, r := range pg.Cases {
						if listed[r.ID] {
							t.Fatalf("%s: case %d listed twice", user, r.ID)
						}
						listed[r.ID] = true
					}
					if pg.Next == "" {
						break
					}
					q.After = pg.Next
				}
				for i, col := range cols {
					id := cases[col]
					_, err := f.db.CaseFor(ctx, a, id)
					got := byte('-')
					switch {
					case err == nil:
						got = 'R'
					case apperr.CodeOf(err) != apperr.NotFound:
						t.Fatalf("%s reads %s: %v", user, col, err)
					}
					if got != row[i] {
						t.Errorf("%s reads case %s: %c, want %c", user, col, got, row[i])
					}
					if gotL := listed[id]; gotL != (row[i] == 'R') {
						t.Errorf("%s lists case %s: %v, want %c", user, col, gotL, row[i])
					}
				}
			}
			// A child the reader may not see is in the case by ID only.
			d, err := f.db.CaseFor(ctx, f.users["police_officer"], led.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(d.Children) != 0 {
				t.Errorf("police case children %+v", d.Children)
			}
		})
	}
}

// Pages walk the queue by (queue_key, id): new cases arriving between two
// pages never make a case appear twice or go missing.
func TestCaseKeysetStableUnderInserts(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			admin := f.users["city_admin"]
			sevs := casework.Severities()
			var before []int64
			for i := range 23 {
				n := report(f, matrixChildren[i%len(matrixChildren)])
				n.Severity = sevs[i%len(sevs)]
				r, err := f.db.CreateCase(ctx, admin, n)
				if err != nil {
					t.Fatal(err)
				}
				before = append(before, r.ID)
				f.clock.t = f.clock.t.Add(time.Minute)
			}
			seen := map[int64]int{}
			var order []storage.CaseRecord
			q := storage.CaseQuery{Limit: 5}
			for page := 0; ; page++ {
				pg, err := f.db.ListCases(ctx, admin, q)
				if err != nil {
					t.Fatal(err)
				}
				for _, r := range pg.Cases {
					seen[r.ID]++
					order = append(order, r)
				}
				// Between pages, a critical and a low case arrive.
				for _, s := range []casework.Severity{casework.Critical, casework.Low} {
					n := report(f, "ownClass")
					n.Severity = s
					if _, err := f.db.CreateCase(ctx, admin, n); err != nil {
						t.Fatal(err)
					}
					f.clock.t = f.clock.t.Add(time.Second)
				}
				if pg.Next == "" {
					break
				}
				q.After = pg.Next
				if page > 50 {
					t.Fatal("the walk does not end")
				}
			}
			for _, id := range before {
				if seen[id] != 1 {
					t.Errorf("case %d seen %d times", id, seen[id])
				}
			}
			for i := 1; i < len(order); i++ {
				a, b := order[i-1], order[i]
				if a.Severity.Rank() > b.Severity.Rank() || (a.Severity == b.Severity && a.CreatedAt.After(b.CreatedAt)) {
					t.Errorf("out of queue order at %d: %s/%v then %s/%v", i, a.Severity, a.CreatedAt, b.Severity, b.CreatedAt)
				}
			}
			// Filters narrow the list.
			pg, err := f.db.ListCases(ctx, admin, storage.CaseQuery{Severity: casework.Critical, Type: "violence", Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range pg.Cases {
				if r.Severity != casework.Critical || r.Type != "violence.bullying" {
					t.Errorf("filter let through %s %s", r.Severity, r.Type)
				}
			}
			if len(pg.Cases) == 0 {
				t.Error("severity filter found nothing")
			}
			if pg, _ := f.db.ListCases(ctx, admin, storage.CaseQuery{Type: "violenc"}); len(pg.Cases) != 0 {
				t.Error("a type prefix that is not a whole segment matched")
			}
			// Overdue: a day later the high cases' response deadline has passed.
			f.clock.t = f.clock.t.Add(25 * time.Hour)
			pg, err = f.db.ListCases(ctx, admin, storage.CaseQuery{Overdue: true, Severity: casework.High, Limit: 200})
			if err != nil || len(pg.Cases) == 0 {
				t.Fatalf("overdue: %d cases, %v", len(pg.Cases), err)
			}
			qc, err := f.db.CaseQueueCounts(ctx, admin)
			if err != nil || qc.New == 0 || qc.Overdue == 0 {
				t.Errorf("queue counts %+v, %v", qc, err)
			}
			if _, err := f.db.ListCases(ctx, admin, storage.CaseQuery{After: "garbage"}); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("bad cursor: %v, want invalid", err)
			}
		})
	}
}

// A retried create with the same key returns the first answer and creates
// nothing new, even when the retries race; another request under the same
// key is refused; a failed request keeps no key.
func TestIdempotentCreate(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			head := f.users["school_head"]
			create := func(n casework.NewCase) func(context.Context, storage.Tx) (storage.Response, error) {
				return func(ctx context.Context, tx storage.Tx) (storage.Response, error) {
					r, err := tx.CreateCase(ctx, head, n)
					if err != nil {
						return storage.Response{}, err
					}
					return storage.Response{Status: 201, Location: fmt.Sprint(r.ID), Body: []byte(fmt.Sprintf(`{"id":%d}`, r.ID))}, nil
				}
			}
			fp := storage.Fingerprint("POST", "/api/v1/cases", []byte("body"))
			var wg sync.WaitGroup
			res := make([]storage.Response, 6)
			errs := make([]error, 6)
			for i := range res {
				wg.Go(func() { res[i], errs[i] = f.db.Idempotent(ctx, head, "key-1", fp, create(report(f, "ownClass"))) })
			}
			wg.Wait()
			replays := 0
			for i := range res {
				if errs[i] != nil {
					t.Fatalf("attempt %d: %v", i, errs[i])
				}
				if string(res[i].Body) != string(res[0].Body) || res[i].Status != 201 {
					t.Errorf("attempt %d answered %d %s, want %s", i, res[i].Status, res[i].Body, res[0].Body)
				}
				if res[i].Replayed {
					replays++
				}
			}
			if replays != len(res)-1 {
				t.Errorf("%d replays, want %d", replays, len(res)-1)
			}
			pg, err := f.db.ListCases(ctx, head, storage.CaseQuery{Limit: 200})
			if err != nil || len(pg.Cases) != 1 {
				t.Fatalf("cases after retries: %d, %v", len(pg.Cases), err)
			}
			// The same key for another request.
			other := storage.Fingerprint("POST", "/api/v1/cases", []byte("other"))
			if _, err := f.db.Idempotent(ctx, head, "key-1", other, create(report(f, "ownClass"))); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("reused key: %v, want invalid", err)
			}
			// Another user's key of the same name is theirs.
			if r, err := f.db.Idempotent(ctx, f.users["city_admin"], "key-1", fp, func(ctx context.Context, tx storage.Tx) (storage.Response, error) {
				return storage.Response{Status: 201, Body: []byte(`{}`)}, nil
			}); err != nil || r.Replayed {
				t.Errorf("another user's key: %+v, %v", r, err)
			}
			// A failed request leaves no key behind.
			bad := report(f, "ownClass")
			bad.Title = ""
			if _, err := f.db.Idempotent(ctx, head, "key-2", fp, create(bad)); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("invalid create: %v", err)
			}
			if r, err := f.db.Idempotent(ctx, head, "key-2", fp, create(report(f, "ownClass"))); err != nil || r.Replayed {
				t.Errorf("retry after a failure: %+v, %v", r, err)
			}
		})
	}
}

// Nothing of a failed case write stays behind.
func TestCaseCreateAtomic(t *testing.T) {
	storagetest.Each(t, func(t *testing.T, db *storage.DB) {
		ctx := context.Background()
		if _, err := db.CreateCase(ctx, audit.Actor{}, casework.NewCase{}); apperr.CodeOf(err) != apperr.Forbidden {
			t.Errorf("anonymous create: %v, want forbidden", err)
		}
	})
}
