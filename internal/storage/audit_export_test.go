package storage

import (
	"context"

	"dayaq/internal/audit"
)

// InTxForTest runs fn in a write transaction, giving it appendAudit bound to
// that transaction, so that the external tests can check that audit events
// commit and roll back with the transaction that appends them. (A _test.go
// file of package storage: compiled only into the test binary, visible to
// package storage_test.)
func InTxForTest(db *DB, ctx context.Context, fn func(add func(audit.Event) error) error) error {
	return db.inTx(ctx, func(c conn) error {
		return fn(func(e audit.Event) error { return appendAudit(ctx, c, e) })
	})
}

// InGroupTxForTest is InTxForTest through the group-commit writer: fn runs
// in a savepoint of a shared transaction.
func InGroupTxForTest(db *DB, ctx context.Context, fn func(add func(audit.Event) error) error) error {
	return db.inGroupTx(ctx, func(ctx context.Context, c conn) error {
		return fn(func(e audit.Event) error { return appendAudit(ctx, c, e) })
	})
}
