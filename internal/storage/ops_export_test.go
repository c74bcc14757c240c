package storage

import (
	"context"
	"database/sql"
	"fmt"
)

// SetMaxPageCountForTest caps the SQLite writer's database file at n pages,
// a full disk simulated where no small file system can be mounted.
func SetMaxPageCountForTest(db *DB, ctx context.Context, n int) error {
	_, err := db.write.ExecContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n))
	return err
}

// PageCountForTest is the SQLite database file's size in pages.
func PageCountForTest(db *DB, ctx context.Context) (n int, err error) {
	err = db.write.QueryRowContext(ctx, "PRAGMA page_count").Scan(&n)
	return n, err
}

// QueryRowForTest runs a query on the SQLite writer (a pragma).
func QueryRowForTest(db *DB, ctx context.Context, q string) *sql.Row {
	return db.write.QueryRowContext(ctx, q)
}
