package storage_test

import (
	"context"
	"strings"
	"testing"

	"dayaq/internal/apperr"
	"dayaq/internal/hotline"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// keyField is the catalogue key of err's Idempotency-Key field, or "".
func keyField(err error) string {
	for _, f := range apperr.As(err).Fields {
		if f.Field == "Idempotency-Key" {
			return f.Key
		}
	}
	return ""
}

// Contacts and the other creates share one idempotency mechanism: the same
// key rules, the same refusal of a key reused for another request, and a
// replay marked as one.
func TestOneIdempotencyMechanism(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx, op := context.Background(), f.users["hotline_operator"]
			c := hotline.Contact{Channel: hotline.Phone, ReceivedAt: f.clock.t, CallType: hotline.AboutChild,
				Caller:     hotline.Caller{Anonymous: true},
				Children:   []hotline.ChildRef{{Name: "Murad", Age: 11, District: "BAK-06"}},
				Categories: []string{"violence.bullying"}, Urgency: hotline.Medium, Outcome: hotline.Advice}
			contact := func(key, fp string) (storage.StoredResponse, error) {
				return f.db.CreateContact(ctx, op, c, storage.ContactCreate{IdemKey: key, Fingerprint: fp, Render: renderID})
			}
			other := func(key, fp string) (storage.Response, error) {
				return f.db.Idempotent(ctx, op, key, fp, func(context.Context, storage.Tx) (storage.Response, error) {
					return storage.Response{Status: 201, Body: []byte("{}")}, nil
				})
			}
			first, err := contact("k-1", "fp")
			if err != nil || first.Replayed {
				t.Fatalf("first: %+v %v", first, err)
			}
			if again, err := contact("k-1", "fp"); err != nil || !again.Replayed || string(again.Body) != string(first.Body) {
				t.Errorf("retry of a contact: %+v %v, want the first answer, replayed", again, err)
			}
			if _, err := other("k-2", "fp"); err != nil {
				t.Fatal(err)
			}
			_, cerr := contact("k-1", "another")
			_, oerr := other("k-2", "another")
			if keyField(cerr) != "error.idempotency_reused" || keyField(oerr) != "error.idempotency_reused" {
				t.Errorf("key reused for another request: contact %v, other %v; want both error.idempotency_reused", cerr, oerr)
			}
			// A request that fails keeps nothing under its key: the same key
			// then serves a request that succeeds, not replayed (SQLite
			// keeps the key in one insert after the work, ADR 0047).
			bad := c
			bad.Categories = []string{"no.such.category"}
			if _, err := f.db.CreateContact(ctx, op, bad, storage.ContactCreate{IdemKey: "k-3", Fingerprint: "fp", Render: renderID}); apperr.CodeOf(err) != apperr.Invalid {
				t.Errorf("contact with an unknown category: %v, want Invalid", err)
			}
			if ok, err := contact("k-3", "fp"); err != nil || ok.Replayed {
				t.Errorf("key of a failed request used again: %+v %v, want a new contact", ok, err)
			} else if again, err := contact("k-3", "fp"); err != nil || !again.Replayed || string(again.Body) != string(ok.Body) {
				t.Errorf("retry: %+v %v, want the answer replayed", again, err)
			}
			long := strings.Repeat("k", storage.MaxIdempotencyKey+1)
			_, cerr = contact(long, "fp")
			_, oerr = other(long, "fp")
			if keyField(cerr) != "error.idempotency_key" || keyField(oerr) != "error.idempotency_key" {
				t.Errorf("key too long: contact %v, other %v; want both error.idempotency_key", cerr, oerr)
			}
			_, cerr = contact("a key", "fp")
			_, oerr = other("a key", "fp")
			if keyField(cerr) != "error.idempotency_key" || keyField(oerr) != "error.idempotency_key" {
				t.Errorf("key with a space: contact %v, other %v; want both error.idempotency_key", cerr, oerr)
			}
		})
	}
}
