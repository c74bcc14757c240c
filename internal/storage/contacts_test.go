package storage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"dayaq/internal/apperr"
	"dayaq/internal/hotline"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// renderID renders a created contact as its ID, for the tests.
func renderID(r storage.ContactRecord) (storage.StoredResponse, error) {
	b, err := json.Marshal(map[string]any{"id": r.ID, "urgency": r.Urgency, "version": r.TaxonomyVersion})
	return storage.StoredResponse{Status: 201, Location: fmt.Sprintf("/c/%d", r.ID), Body: b}, err
}

func createdID(t *testing.T, resp storage.StoredResponse) int64 {
	t.Helper()
	var v struct{ ID int64 }
	if err := json.Unmarshal(resp.Body, &v); err != nil || v.ID == 0 {
		t.Fatalf("body %s: %v", resp.Body, err)
	}
	return v.ID
}

func TestContacts(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			db, ctx := f.db, context.Background()
			op, other, sup := f.users["hotline_operator"], f.users["hotline_operator_other"], f.users["hotline_supervisor"]
			city, head, admin := f.users["city_specialist"], f.users["school_head"], f.users["city_admin"]
			contact := func() hotline.Contact {
				return hotline.Contact{Channel: hotline.Phone, ReceivedAt: f.clock.t, CallType: hotline.AboutChild,
					Caller:     hotline.Caller{Name: "Aynur", Relationship: "parent", Phone: "050 123 45 67"},
					Children:   []hotline.ChildRef{{ChildID: f.children["ownClass"]}, {Name: "Murad", Age: 11, District: "BAK-06"}},
					Categories: []string{"violence.bullying", "mental.distress.anxiety"}, Urgency: hotline.Medium,
					Outcome: hotline.Advice, Narrative: "Sinifdə incidirlər."}
			}

			// Logged, with an Idempotency-Key.
			resp, err := db.CreateContact(ctx, op, contact(), storage.ContactCreate{IdemKey: "k1", Fingerprint: "fp1", Render: renderID})
			if err != nil {
				t.Fatal(err)
			}
			id := createdID(t, resp)
			// A retry gets the same answer and makes nothing new.
			again, err := db.CreateContact(ctx, op, contact(), storage.ContactCreate{IdemKey: "k1", Fingerprint: "fp1", Render: renderID})
			if err != nil || string(again.Body) != string(resp.Body) || again.Location != resp.Location {
				t.Fatalf("retry = %s, %v; want %s", again.Body, err, resp.Body)
			}
			// The same key for another request is refused.
			if _, err := db.CreateContact(ctx, op, contact(), storage.ContactCreate{IdemKey: "k1", Fingerprint: "other", Render: renderID}); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("reused key: %v, want invalid", err)
			}

			// Who sees it.
			for _, tt := range []struct {
				name string
				who  string
				want bool
			}{
				{"operator who logged it", "hotline_operator", true}, {"another operator", "hotline_operator_other", false},
				{"supervisor", "hotline_supervisor", true}, {"city specialist", "city_specialist", true},
				{"school head", "school_head", false}, {"city admin", "city_admin", false}, {"police", "police_officer", false},
			} {
				r, err := db.ContactFor(ctx, f.users[tt.who], id)
				if got := err == nil; got != tt.want {
					t.Errorf("%s reads: %v, want allowed=%v", tt.name, err, tt.want)
				}
				if err == nil && (len(r.Children) != 2 || len(r.Categories) != 2 || r.PhoneMasked != "+994 50 *** ** 67" || r.Caller.Phone != "") {
					t.Errorf("%s reads %+v", tt.name, r)
				}
				if !tt.want && apperr.CodeOf(err) != apperr.NotFound {
					t.Errorf("%s: %v, want not found", tt.name, err)
				}
				pg, err := db.ListContacts(ctx, f.users[tt.who], storage.ContactQuery{})
				if err != nil {
					t.Fatal(err)
				}
				listed := slices.ContainsFunc(pg.Items, func(r storage.ContactRecord) bool { return r.ID == id })
				if listed != tt.want {
					t.Errorf("%s lists it: %v, want %v", tt.name, listed, tt.want)
				}
			}

			// A repeat caller: the same number, spelled differently.
			c2 := contact()
			c2.Caller.Phone = "+994501234567"
			resp2, err := db.CreateContact(ctx, op, c2, storage.ContactCreate{Render: renderID})
			if err != nil {
				t.Fatal(err)
			}
			r2, err := db.ContactFor(ctx, op, createdID(t, resp2))
			if err != nil {
				t.Fatal(err)
			}
			if len(r2.Earlier) != 1 || r2.Earlier[0].ID != id {
				t.Errorf("earlier = %+v, want contact %d", r2.Earlier, id)
			}
			// Another operator taking a call from that number sees none of it.
			resp3, err := db.CreateContact(ctx, other, c2, storage.ContactCreate{Render: renderID})
			if err != nil {
				t.Fatal(err)
			}
			if r3, err := db.ContactFor(ctx, other, createdID(t, resp3)); err != nil || len(r3.Earlier) != 0 {
				t.Errorf("other operator sees earlier %+v, %v", r3.Earlier, err)
			}
			if n, err := db.RevealPhone(ctx, op, id); err != nil || n != "+994501234567" {
				t.Errorf("reveal = %q, %v", n, err)
			}
			if _, err := db.RevealPhone(ctx, other, id); apperr.CodeOf(err) != apperr.NotFound {
				t.Errorf("other reveals: %v", err)
			}

			// A critical contact alerts the supervisor and the city until one takes it.
			crit := contact()
			crit.Categories = []string{"mental.suicidal"}
			crit.Answers.AttemptInProgress = true
			crit.Urgency = hotline.Critical
			respC, err := db.CreateContact(ctx, op, crit, storage.ContactCreate{Render: renderID})
			if err != nil {
				t.Fatal(err)
			}
			cid := createdID(t, respC)
			for _, who := range []string{"hotline_supervisor", "city_specialist", "hotline_operator"} {
				pg, err := db.ListContacts(ctx, f.users[who], storage.ContactQuery{})
				if err != nil {
					t.Fatal(err)
				}
				if len(pg.Alerts) != 1 || pg.Alerts[0].ID != cid || pg.Alerts[0].Suggested != hotline.Critical {
					t.Errorf("%s alerts = %+v", who, pg.Alerts)
				}
				if pg.Alerts[0].CanTake != (who != "hotline_operator") {
					t.Errorf("%s can take = %v", who, pg.Alerts[0].CanTake)
				}
			}
			// …and tells them at once, in the app and by e-mail, without the child's name.
			for _, who := range []string{"hotline_supervisor", "city_specialist"} {
				ns, err := db.Notifications(ctx, f.users[who], storage.NotificationFilter{})
				if err != nil || len(ns) != 1 || ns[0].Link != fmt.Sprintf("/hotline/contacts/%d", cid) || ns[0].Key != "notify.hotline.critical" {
					t.Errorf("%s notifications = %+v, %v", who, ns, err)
				}
			}
			if ns, _ := db.Notifications(ctx, op, storage.NotificationFilter{}); len(ns) != 0 {
				t.Errorf("the operator was alerted: %+v", ns)
			}
			out, err := db.Outbox(ctx, storage.OutboxFilter{})
			if err != nil {
				t.Fatal(err)
			}
			emails := 0
			for _, m := range out {
				if m.Channel == "email" && m.Key == "notify.hotline.critical" {
					emails++
				}
				if strings.Contains(fmt.Sprint(m.Args), "Murad") {
					t.Errorf("an alert carries the child's name: %+v", m)
				}
			}
			if emails != 2 {
				t.Errorf("%d alert e-mails queued, want 2 (supervisor, city specialist)", emails)
			}
			if err := db.TakeContact(ctx, op, cid); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("operator takes: %v", err)
			}
			if err := db.TakeContact(ctx, sup, cid); err != nil {
				t.Fatal(err)
			}
			if err := db.TakeContact(ctx, city, cid); apperr.CodeOf(err) != apperr.Conflict {
				t.Errorf("second take: %v, want conflict", err)
			}
			if pg, _ := db.ListContacts(ctx, city, storage.ContactQuery{}); len(pg.Alerts) != 0 {
				t.Errorf("alert still open: %+v", pg.Alerts)
			}
			if pg, _ := db.ListContacts(ctx, sup, storage.ContactQuery{View: "mine"}); len(pg.Items) != 1 || pg.Items[0].ID != cid {
				t.Errorf("supervisor's own = %+v", pg.Items)
			}

			// Bad input names the fields and changes nothing.
			bad := contact()
			bad.Categories = []string{"violence.nope"}
			bad.Children[0].ChildID = 999999
			_, err = db.CreateContact(ctx, op, bad, storage.ContactCreate{IdemKey: "k2", Fingerprint: "x", Render: renderID})
			var got []string
			for _, fe := range apperr.As(err).Fields {
				got = append(got, fe.Field)
			}
			if !slices.Equal(got, []string{"categories[0]", "children[0].child_id"}) {
				t.Errorf("fields = %v (%v)", got, err)
			}
			if _, err := db.CreateContact(ctx, head, contact(), storage.ContactCreate{Render: renderID}); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("school head logs: %v", err)
			}

			// The city admin publishes a new taxonomy version; new contacts use it.
			tax, err := db.Taxonomy(ctx, 0)
			if err != nil || tax.Version != 1 {
				t.Fatalf("taxonomy %d, %v", tax.Version, err)
			}
			next := tax
			next.Nodes = slices.Clone(tax.Nodes)
			next.Nodes[1].EN = "Abduction (kidnapping)"
			if _, err := db.PublishTaxonomy(ctx, city, next, 1); apperr.CodeOf(err) != apperr.Forbidden {
				t.Errorf("specialist publishes: %v", err)
			}
			if v2, err := db.PublishTaxonomy(ctx, admin, next, 1); err != nil || v2.Version != 2 {
				t.Fatalf("publish = %d, %v", v2.Version, err)
			}
			if _, err := db.PublishTaxonomy(ctx, admin, next, 1); apperr.CodeOf(err) != apperr.Conflict {
				t.Errorf("stale publish: %v", err)
			}
			resp4, err := db.CreateContact(ctx, op, contact(), storage.ContactCreate{Render: renderID})
			if err != nil {
				t.Fatal(err)
			}
			if r4, _ := db.ContactFor(ctx, op, createdID(t, resp4)); r4.TaxonomyVersion != 2 {
				t.Errorf("taxonomy version = %d, want 2", r4.TaxonomyVersion)
			}
			if old, _ := db.ContactFor(ctx, op, id); old.TaxonomyVersion != 1 {
				t.Errorf("old contact's version = %d, want 1", old.TaxonomyVersion)
			}

			// A contact opens a case in its own transaction; another attaches to it.
			opened := contact()
			opened.Outcome = hotline.CaseOpened
			respO, err := db.CreateContact(ctx, op, opened, storage.ContactCreate{Render: renderID})
			if err != nil {
				t.Fatalf("open a case: %v", err)
			}
			ro, err := db.ContactFor(ctx, op, createdID(t, respO))
			if err != nil || ro.CaseID == 0 {
				t.Fatalf("contact's case = %d, %v", ro.CaseID, err)
			}
			if _, err := db.CaseFor(ctx, city, ro.CaseID); err != nil {
				t.Errorf("the case the contact opened: %v", err)
			}
			att := contact()
			att.Outcome, att.CaseID = hotline.Attached, ro.CaseID
			if _, err := db.CreateContact(ctx, op, att, storage.ContactCreate{Render: renderID}); err != nil {
				t.Errorf("attach to the case: %v", err)
			}
			att.CaseID = 987654
			if _, err := db.CreateContact(ctx, op, att, storage.ContactCreate{Render: renderID}); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("attach to no case: %v", err)
			}

			// A silent call carries no data.
			if _, err := db.CreateContact(ctx, op, hotline.Contact{Channel: hotline.Phone, ReceivedAt: f.clock.t,
				CallType: hotline.Silent}, storage.ContactCreate{Render: renderID}); err != nil {
				t.Errorf("silent call: %v", err)
			}

			// Drafts.
			if err := db.SaveContactDraft(ctx, op.UserID, `{"narrative":"a"}`); err != nil {
				t.Fatal(err)
			}
			if err := db.SaveContactDraft(ctx, op.UserID, `{"narrative":"ab"}`); err != nil {
				t.Fatal(err)
			}
			if d, _, err := db.ContactDraft(ctx, op.UserID); err != nil || d != `{"narrative":"ab"}` {
				t.Errorf("draft = %q, %v", d, err)
			}
			if err := db.DeleteContactDraft(ctx, op.UserID); err != nil {
				t.Fatal(err)
			}
			if d, _, _ := db.ContactDraft(ctx, op.UserID); d != "" {
				t.Errorf("draft after delete = %q", d)
			}
			if _, bad, _, err := db.VerifyAudit(ctx); err != nil || bad != 0 {
				t.Errorf("audit chain: bad %d, %v", bad, err)
			}
		})
	}
}

// TestContactsGroupCommit logs contacts from many goroutines at once, one
// of them invalid: every valid one is committed whole, the invalid one not
// at all, and the audit chain stays whole.
func TestContactsGroupCommit(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			db, ctx := f.db, context.Background()
			op := f.users["hotline_operator"]
			const n = 64
			var wg sync.WaitGroup
			errs := make([]error, n)
			ids := make([]int64, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := hotline.Contact{Channel: hotline.Phone, ReceivedAt: f.clock.t, CallType: hotline.ChildSelf,
						Caller: hotline.Caller{Anonymous: true}, Children: []hotline.ChildRef{{Name: "Uşaq", Age: 10}},
						Categories: []string{"peers"}, Urgency: hotline.Low, Outcome: hotline.Advice}
					if i == 13 {
						c.Categories = []string{"nope"}
					}
					resp, err := db.CreateContact(ctx, op, c, storage.ContactCreate{IdemKey: fmt.Sprint("g", i), Fingerprint: "f", Render: renderID})
					errs[i] = err
					if err == nil {
						var v struct{ ID int64 }
						_ = json.Unmarshal(resp.Body, &v)
						ids[i] = v.ID
					}
				}()
			}
			wg.Wait()
			for i, err := range errs {
				if (err != nil) != (i == 13) {
					t.Errorf("contact %d: %v", i, err)
				}
			}
			pg, err := db.ListContacts(ctx, op, storage.ContactQuery{Limit: 200})
			if err != nil {
				t.Fatal(err)
			}
			if len(pg.Items) != n-1 {
				t.Errorf("%d contacts stored, want %d", len(pg.Items), n-1)
			}
			if h, err := db.HalfWrittenContacts(ctx); err != nil || h != 0 {
				t.Errorf("half-written: %d, %v", h, err)
			}
			if _, bad, _, err := db.VerifyAudit(ctx); err != nil || bad != 0 {
				t.Errorf("audit chain: bad %d, %v", bad, err)
			}
		})
	}
}

// BenchmarkCreateContact logs contacts from parallel goroutines through
// the group-commit writer (SQLite; go test -bench CreateContact -cpu 8).
func BenchmarkCreateContact(b *testing.B) {
	f := newMatrixFixture(b, storagetest.SQLiteDSN(b))
	db, ctx := f.db, context.Background()
	op := f.users["hotline_operator"]
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c := hotline.Contact{Channel: hotline.Phone, ReceivedAt: f.clock.t, CallType: hotline.ChildSelf,
				Caller: hotline.Caller{Anonymous: true}, Children: []hotline.ChildRef{{Name: "Uşaq", Age: 10}},
				Categories: []string{"peers"}, Urgency: hotline.Low, Outcome: hotline.Advice}
			if _, err := db.CreateContact(ctx, op, c, storage.ContactCreate{Render: renderID}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
