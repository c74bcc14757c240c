package storage_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/danis"
	"dayaq/internal/hotline"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// A child starts a conversation with an urgent phrase: it is a critical
// web contact whose supervisor is alerted; the code opens it again, a
// wrong one is refused and pauses it after MaxTries; operators see what
// the policy lets them, take it, answer it (audited), and the child reads
// the answer; after the retention period the conversation is gone and the
// contact stays.
func TestDanisConversation(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			db, ctx := f.db, context.Background()
			op, other, sup := f.users["hotline_operator"], f.users["hotline_operator_other"], f.users["hotline_supervisor"]

			st, err := db.StartDanis(ctx, danis.Message{Text: "Mən artıq yaşamaq istəmirəm.", Age: 14, Upset: 3}, "az")
			if err != nil {
				t.Fatal(err)
			}
			cid := st.Conversation.ContactID
			if len(st.Code.String()) != 24 || st.Token == "" || len(st.Conversation.Messages) != 1 {
				t.Fatalf("started %+v", st)
			}
			calm, err := db.StartDanis(ctx, danis.Message{Text: "Sinifdə mənə gülürlər.", Upset: 2}, "az")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.StartDanis(ctx, danis.Message{Text: "\x00\x01PK"}, "az"); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("binary message: %v, want invalid", err)
			}

			// The contact: web, critical, alerting the supervisor.
			k, err := db.ContactFor(ctx, sup, cid)
			if err != nil {
				t.Fatal(err)
			}
			if k.Channel != hotline.Web || k.Urgency != hotline.Critical || !k.AlertOpen || len(k.Children) != 1 || k.Children[0].Age != 14 {
				t.Fatalf("contact %+v", k.Contact)
			}
			ns, err := db.Notifications(ctx, sup, storage.NotificationFilter{})
			if err != nil || len(ns) == 0 || ns[0].Link != fmt.Sprintf("/hotline/contacts/%d", cid) {
				t.Fatalf("supervisor's notifications %+v, %v", ns, err)
			}
			kc, err := db.ContactFor(ctx, sup, calm.Conversation.ContactID)
			if err != nil || kc.Urgency != hotline.Medium || kc.AlertOpen {
				t.Fatalf("calm contact %+v %v", kc.Contact, err)
			}

			// Who sees the waiting conversation.
			for who, want := range map[string]bool{"hotline_operator": true, "hotline_operator_other": true, "hotline_supervisor": true,
				"city_specialist": true, "school_head": false, "city_admin": false, "police_officer": false} {
				_, err := db.DanisFor(ctx, f.users[who], cid)
				if (err == nil) != want {
					t.Errorf("%s reads the waiting conversation: %v, want allowed=%v", who, err, want)
				}
			}
			if err := db.AnswerDanis(ctx, op, cid, "Salam"); apperr.CodeOf(err) != apperr.Forbidden {
				t.Fatalf("answering before taking: %v, want forbidden", err)
			}
			if n, err := db.DanisWaiting(ctx, other); err != nil || n != 2 {
				t.Fatalf("waiting for an operator: %d %v, want 2", n, err)
			}
			if n, err := db.DanisWaiting(ctx, f.users["school_head"]); err != nil || n != 0 {
				t.Fatalf("waiting for a school head: %d %v, want 0", n, err)
			}
			if err := db.TakeDanis(ctx, op, cid); err != nil {
				t.Fatal(err)
			}
			if n, err := db.DanisWaiting(ctx, other); err != nil || n != 1 {
				t.Fatalf("waiting after one was taken: %d %v, want 1", n, err)
			}
			if err := db.TakeDanis(ctx, other, cid); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("another operator takes it: %v, want not found (no longer theirs to see)", err)
			}
			list, err := db.ListDanis(ctx, other, storage.DanisQuery{})
			if err != nil || len(list) != 1 || list[0].ContactID != calm.Conversation.ContactID {
				t.Fatalf("the other operator's list %+v %v, want the calm one only", list, err)
			}
			list, err = db.ListDanis(ctx, sup, storage.DanisQuery{})
			if err != nil || len(list) != 2 || list[0].ContactID != cid || !strings.HasPrefix(list[0].FirstWords, "Mən artıq") {
				t.Fatalf("the supervisor's list %+v %v, want the alert first", list, err)
			}
			if err := db.AnswerDanis(ctx, op, cid, "Salam, mən buradayam. Sən indi təhlükəsizsən?"); err != nil {
				t.Fatal(err)
			}
			d, err := db.DanisFor(ctx, op, cid)
			if err != nil || len(d.Messages) != 2 || d.Messages[1].UserName == "" || len(d.UrgentHits) == 0 {
				t.Fatalf("operator reads %+v %v", d, err)
			}
			ev, err := db.AuditEvents(ctx, storage.AuditFilter{Action: "danis.read"})
			if err != nil || len(ev) == 0 {
				t.Fatalf("no danis.read audited: %v", err)
			}
			for _, e := range ev {
				if e.ActorUserID == 0 {
					t.Errorf("an operator read audited without its reader: %+v", e)
				}
			}

			// The operator classifies the web contact like any contact.
			cl := storage.WebClassification{Categories: []string{"mental.suicidal"}, Urgency: hotline.Critical,
				Outcome: hotline.Advice, ChildID: f.children["ownClass"]}
			if err := db.ClassifyWebContact(ctx, op, cid, cl, d.ContactVersion+1); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("classify on a stale version: %v, want conflict", err)
			}
			bad := cl
			bad.Categories = []string{"no.such.code"}
			if err := db.ClassifyWebContact(ctx, op, cid, bad, d.ContactVersion); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("classify with an unknown category: %v, want invalid", err)
			}
			if err := db.ClassifyWebContact(ctx, other, cid, cl, d.ContactVersion); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("another operator classifies: %v, want not found", err)
			}
			if err := db.ClassifyWebContact(ctx, op, cid, cl, d.ContactVersion); err != nil {
				t.Fatal(err)
			}
			k, err = db.ContactFor(ctx, sup, cid)
			if err != nil || len(k.Categories) != 1 || k.Categories[0] != "mental.suicidal" || len(k.Children) != 1 ||
				k.Children[0].ChildID != f.children["ownClass"] || k.Children[0].Age != 14 {
				t.Fatalf("classified contact %+v %v", k.Contact, err)
			}

			// It opens a case; classified again, it keeps the same case.
			cl.Outcome = hotline.CaseOpened
			for range 2 {
				k, err = db.ContactFor(ctx, sup, cid)
				if err != nil {
					t.Fatal(err)
				}
				d, err := db.DanisFor(ctx, op, cid)
				if err != nil {
					t.Fatal(err)
				}
				if err := db.ClassifyWebContact(ctx, op, cid, cl, d.ContactVersion); err != nil {
					t.Fatal(err)
				}
			}
			k2, err := db.ContactFor(ctx, sup, cid)
			if err != nil || k2.CaseID == 0 || k2.Outcome != hotline.CaseOpened || (k.CaseID != 0 && k.CaseID != k2.CaseID) {
				t.Fatalf("the case of the classified contact: before %d, after %d (%v)", k.CaseID, k2.CaseID, err)
			}

			// The child comes back with the code.
			f.clock.t = f.clock.t.Add(time.Hour)
			tok, conv, err := db.OpenDanis(ctx, strings.ToLower(st.Code.String()))
			if err != nil || tok == "" || len(conv.Messages) != 2 || conv.Messages[1].Author != "staff" || conv.Messages[1].UserName != "" {
				t.Fatalf("open with the code: %+v %v", conv, err)
			}
			if _, err := db.DanisChildWrite(ctx, tok, "Bəli. Sağ ol."); err != nil {
				t.Fatal(err)
			}
			// A wrong secret for its ID: refused, then paused.
			wrong := st.Code.ID + strings.Repeat("A", danis.SecretLen)
			if wrong == st.Code.ID+st.Code.Secret {
				wrong = st.Code.ID + strings.Repeat("B", danis.SecretLen)
			}
			for i := 1; i <= danis.MaxTries; i++ {
				_, _, err := db.OpenDanis(ctx, wrong)
				if i < danis.MaxTries && !storage.DanisWrongCode(err) {
					t.Fatalf("wrong try %d: %v, want the plain refusal", i, err)
				}
				if i == danis.MaxTries && !storage.DanisPaused(err) {
					t.Fatalf("wrong try %d: %v, want a pause", i, err)
				}
			}
			if _, _, err := db.OpenDanis(ctx, st.Code.String()); !storage.DanisPaused(err) {
				t.Fatalf("the right code during the pause: %v, want paused", err)
			}
			f.clock.t = f.clock.t.Add(danis.Pause + time.Second)
			if _, _, err := db.OpenDanis(ctx, st.Code.String()); err != nil {
				t.Fatalf("the right code after the pause: %v", err)
			}
			if _, _, err := db.OpenDanis(ctx, "2222-3333-4444-5555-6666"); !storage.DanisUnknownID(err) && !storage.DanisWrongCode(err) {
				t.Fatalf("a code of nobody: %v", err)
			}
			// Quick exit forgets the page.
			if err := db.CloseDanis(ctx, tok); err != nil {
				t.Fatal(err)
			}
			if _, err := db.DanisByToken(ctx, tok); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("closed page: %v, want not found", err)
			}

			// Settings: the supervisor edits words; only the city sets retention.
			s, err := db.DanisSettingsNow(ctx)
			if err != nil || s.Version != 0 || s.RetentionDays != storage.DefaultDanisRetention {
				t.Fatalf("settings %+v %v", s, err)
			}
			s.Words["az"] = append(s.Words["az"], "körpünün üstündəyəm")
			if s, err = db.SaveDanisSettings(ctx, sup, s, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := db.SaveDanisSettings(ctx, sup, s, 0); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("stale settings: %v, want conflict", err)
			}
			s.RetentionDays = 30
			if _, err := db.SaveDanisSettings(ctx, sup, s, s.Version); apperr.CodeOf(err) != apperr.Invalid {
				t.Fatalf("supervisor sets retention: %v, want invalid", err)
			}
			if s, err = db.SaveDanisSettings(ctx, f.users["city_admin"], s, s.Version); err != nil {
				t.Fatal(err)
			}
			// A new urgent phrase from the edited list raises the calm one.
			tok2, _, err := db.OpenDanis(ctx, calm.Code.String())
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.DanisChildWrite(ctx, tok2, "İndi körpünün üstündəyəm"); err != nil {
				t.Fatal(err)
			}
			if kc, err = db.ContactFor(ctx, sup, calm.Conversation.ContactID); err != nil || kc.Urgency != hotline.Critical || !kc.AlertOpen {
				t.Fatalf("after an urgent message: %+v %v", kc.Contact, err)
			}

			// Retention.
			f.clock.t = f.clock.t.Add(31 * 24 * time.Hour)
			n, err := db.PruneDanis(ctx)
			if err != nil || n != 2 {
				t.Fatalf("pruned %d %v, want 2", n, err)
			}
			if _, err := db.DanisFor(ctx, sup, cid); apperr.CodeOf(err) != apperr.NotFound {
				t.Fatalf("a pruned conversation: %v, want not found", err)
			}
			if k, err := db.ContactFor(ctx, sup, cid); err != nil || k.Urgency != hotline.Critical || len(k.Categories) != 1 {
				t.Fatalf("the contact after pruning: %+v %v", k.Contact, err)
			}
		})
	}
}
