package storage

import (
	"context"
	"time"

	"dayaq/internal/audit"
	"dayaq/internal/child"
)

// The store's unchecked paths, for its own tests only (package storage_test
// compiles with them; no other package sees them).

// Child returns the child with the given ID, with no policy and no audit.
func (db *DB) Child(ctx context.Context, id int64) (child.Child, error) { return db.childByID(ctx, id) }

// GrantChildAccess grants access to a child as a referral would.
func (db *DB) GrantChildAccess(ctx context.Context, a audit.Actor, childID, orgID, userID int64, kind, source string, ends time.Time) (int64, error) {
	return db.grantChildAccess(ctx, a, childID, orgID, userID, kind, source, ends)
}
