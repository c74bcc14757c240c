package storage_test

import (
	"context"
	"strconv"
	"testing"

	"dayaq/internal/apperr"
	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// A refused read or write of a child is refused and its attempt is kept in
// the audit: the transaction that records it commits although the call
// fails. (It once rolled back, losing every "child.read_denied".)
func TestRefusalsAudited(t *testing.T) {
	for _, e := range storagetest.Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			f := newMatrixFixture(t, e.DSN(t))
			ctx := context.Background()
			admin := f.users["city_admin"]
			for _, tt := range []struct {
				user, child, action string
				write               bool
				code                apperr.Code
			}{
				{"school_head", "otherDistrict", "child.read_denied", false, apperr.NotFound},
				{"analyst", "ownSchool", "child.read_denied", false, apperr.NotFound},
				{"school_head", "otherDistrict", "child.write_denied", true, apperr.NotFound},
				{"teacher", "ownClass", "child.write_denied", true, apperr.Forbidden}, // may read, not write
				{"police_officer", "referred", "child.write_denied", true, apperr.Forbidden},
			} {
				a := f.users[tt.user]
				id := f.children[tt.child]
				before, err := f.db.AuditEvents(ctx, storage.AuditFilter{Limit: 1})
				if err != nil {
					t.Fatal(err)
				}
				cur, err := f.db.ChildFor(ctx, admin, id)
				if err != nil {
					t.Fatal(err)
				}
				if tt.write {
					upd := cur.Child
					upd.FirstName = "Dəyişdirilmiş"
					_, err = f.db.UpdateChild(ctx, a, upd, "")
				} else {
					_, err = f.db.ChildFor(ctx, a, id)
				}
				if apperr.CodeOf(err) != tt.code {
					t.Fatalf("%s on %s by %s: %v, want %s", tt.action, tt.child, tt.user, err, tt.code)
				}
				es, err := f.db.AuditEvents(ctx, storage.AuditFilter{ActorUserID: a.UserID, Action: tt.action, Limit: 10})
				if err != nil {
					t.Fatal(err)
				}
				if len(es) == 0 || es[0].Seq <= before[0].Seq || es[0].ObjectID != strconv.FormatInt(id, 10) {
					t.Errorf("%s by %s on %s: not in the audit (%+v)", tt.action, tt.user, tt.child, es)
				}
				if c, _ := f.db.Child(ctx, id); c.FirstName == "Dəyişdirilmiş" {
					t.Errorf("a refused write by %s changed %s", tt.user, tt.child)
				}
			}
			if _, bad, reason, err := f.db.VerifyAudit(ctx); err != nil || bad != 0 {
				t.Fatalf("audit chain: bad %d (%s), %v", bad, reason, err)
			}
		})
	}
}
