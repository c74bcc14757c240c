package storage

import (
	"context"

	"dayaq/internal/audit"
)

// InGroupTxLaterForTest is InGroupTxForTest with execLater too: fn may
// file statements whose answer nobody reads (pipelined on PostgreSQL).
func InGroupTxLaterForTest(db *DB, ctx context.Context, fn func(add func(audit.Event) error, later func(q string, args ...any) error) error) error {
	return db.inGroupTx(ctx, func(ctx context.Context, c conn) error {
		return fn(func(e audit.Event) error { return appendAudit(ctx, c, e) },
			func(q string, args ...any) error { return c.execLater(ctx, q, args...) })
	})
}
