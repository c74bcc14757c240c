package storage

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"dayaq/internal/audit"
)

// SnapshotInfo is what a backup records about the database it copied, read
// in the same snapshot as the copy: the schema version, the audit chain's
// head, and the number of rows in each table.
type SnapshotInfo struct {
	SchemaVersion int64
	AuditHead     audit.Head
	Rows          map[string]int64
}

// Info reads SnapshotInfo from the database as it is now, in one read
// transaction.
func (db *DB) Info(ctx context.Context) (info SnapshotInfo, err error) {
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: db.snapshotIsolation()})
	if err != nil {
		return info, fmt.Errorf("storage.Info: %w", err)
	}
	defer tx.Rollback()
	return snapshotInfo(ctx, conn{q: tx, engine: db.engine})
}

func (db *DB) snapshotIsolation() sql.IsolationLevel {
	if db.engine == Postgres {
		return sql.LevelRepeatableRead
	}
	return sql.LevelDefault // a SQLite read transaction is a snapshot
}

func snapshotInfo(ctx context.Context, c conn) (info SnapshotInfo, err error) {
	if err = c.queryRow(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version WHERE is_applied`).Scan(&info.SchemaVersion); err != nil {
		return info, fmt.Errorf("storage: schema version: %w", err)
	}
	if err = c.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&info.AuditHead.Seq, &info.AuditHead.Hash); err != nil {
		return info, fmt.Errorf("storage: audit head: %w", err)
	}
	tables, err := tableNames(ctx, c)
	if err != nil {
		return info, err
	}
	info.Rows = make(map[string]int64, len(tables))
	for _, t := range tables {
		var n int64
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM `+t).Scan(&n); err != nil {
			return info, fmt.Errorf("storage: count %s: %w", t, err)
		}
		info.Rows[t] = n
	}
	return info, nil
}

// tableNames lists the database's own tables (not SQLite's, not goose's).
func tableNames(ctx context.Context, c conn) ([]string, error) {
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if c.engine == Postgres {
		q = `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()`
	}
	rows, err := c.query(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("storage: list tables: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return nil, err
		}
		if t != "goose_db_version" {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, rows.Err()
}

// HasTables reports whether the database holds any table yet: a restore
// goes only into an empty one.
func (db *DB) HasTables(ctx context.Context) (bool, error) {
	ts, err := tableNames(ctx, conn{q: db.read, engine: db.engine})
	return len(ts) > 0, err
}

// VacuumInto writes a consistent copy of a SQLite database to the file
// dest, which must not exist, while the server goes on writing (VACUUM
// INTO reads one snapshot; writers are not blocked in WAL mode).
func (db *DB) VacuumInto(ctx context.Context, dest string) error {
	if db.engine != SQLite {
		return fmt.Errorf("storage.VacuumInto: a SQLite database only")
	}
	// A connection of its own: the readers are query_only (VACUUM INTO is
	// refused there), and the one writer must go on writing meanwhile.
	c, err := sql.Open("sqlite", "file:"+db.path+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return fmt.Errorf("storage.VacuumInto: %w", err)
	}
	defer c.Close()
	if _, err := c.ExecContext(ctx, `VACUUM INTO ?`, dest); err != nil {
		return fmt.Errorf("storage.VacuumInto: %w", Classify(err))
	}
	return nil
}

// ExportSnapshot runs fn with the name of an exported PostgreSQL snapshot
// (for pg_dump --snapshot) and what that snapshot holds: the dump and the
// manifest then describe the very same data.
func (db *DB) ExportSnapshot(ctx context.Context, fn func(snapshot string, info SnapshotInfo) error) error {
	if db.engine != Postgres {
		return fmt.Errorf("storage.ExportSnapshot: a PostgreSQL database only")
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return fmt.Errorf("storage.ExportSnapshot: %w", Classify(err))
	}
	defer tx.Rollback()
	var snap string
	if err := tx.QueryRowContext(ctx, `SELECT pg_export_snapshot()`).Scan(&snap); err != nil {
		return fmt.Errorf("storage.ExportSnapshot: %w", Classify(err))
	}
	info, err := snapshotInfo(ctx, conn{q: tx, engine: db.engine})
	if err != nil {
		return fmt.Errorf("storage.ExportSnapshot: %w", err)
	}
	return fn(snap, info) // the snapshot lives until the transaction ends
}

// BlobKeys lists the blob keys every attachment row points at, for a
// backup's check that it holds them all.
func (db *DB) BlobKeys(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT blob_key FROM case_attachments`)
	if err != nil {
		return nil, fmt.Errorf("storage.BlobKeys: %w", Classify(err))
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// LatestSchemaVersion is the newest migration this build knows for
// engine: a backup from a newer schema is refused.
func LatestSchemaVersion(engine Engine) (int64, error) {
	dir := "migrations/sqlite"
	if engine == Postgres {
		dir = "migrations/postgres"
	}
	es, err := fs.ReadDir(migrationsFS, dir)
	if err != nil {
		return 0, err
	}
	var latest int64
	for _, e := range es {
		num, _, ok := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseInt(num, 10, 64); ok && err == nil {
			latest = max(latest, v)
		}
	}
	return latest, nil
}
