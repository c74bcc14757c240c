package storage

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/roster"
	"dayaq/internal/stats"
)

// The store's unchecked paths, for its own tests only (package storage_test
// compiles with them; no other package sees them).

// Child returns the child with the given ID, with no policy and no audit.
func (db *DB) Child(ctx context.Context, id int64) (child.Child, error) { return db.childByID(ctx, id) }

// GrantChildAccess grants access to a child as a referral would.
func (db *DB) GrantChildAccess(ctx context.Context, a audit.Actor, childID, orgID, userID int64, kind, source string, ends time.Time) (int64, error) {
	return db.grantChildAccess(ctx, a, childID, orgID, userID, kind, source, ends)
}

// DashboardRecount counts q's figures over the whole scope from the base
// tables alone, as the dashboards did before the totals.
func (db *DB) DashboardRecount(ctx context.Context, q StatsQuery) (stats.Figures, error) {
	q.Exact = false
	return dashboardBase(ctx, db.reader(), access.Principal{}, q, baseAll)
}

// StatsTotals is every total row of the dashboards' aggregates, keyed by
// table and key, and how many delta rows are pending.
func (db *DB) StatsTotals(ctx context.Context) (map[string]int, int, error) {
	out := map[string]int{}
	c := db.reader()
	for _, q := range []string{
		`SELECT 'case|' || scope || '|' || type_code || '|' || month || '|' || severity || '|' || status, n FROM case_counts`,
		`SELECT 'closed|' || scope || '|' || type_code || '|' || month, n FROM case_closed_counts`,
		`SELECT 'due|' || scope || '|' || type_code || '|' || owner_id || '|' || month, n FROM case_due_counts`,
		`SELECT 'contact|' || month || '|' || dim || '|' || key, n FROM contact_counts`,
		`SELECT 'rollup|' || scope || '|' || dim || '|' || key || '|' || month, n FROM case_rollups`,
		`SELECT 'roll|' || school_id, n FROM child_roll_counts`,
		`SELECT 'open|' || scope || '|' || by_kind || '|' || due_kind || '|' || due_day || '|' || month || '|' || org_id || '|' || type_code, n FROM referral_open_counts`,
	} {
		if err := db.collect(ctx, c, q, func(k string, v int) { out[k] = v }); err != nil {
			return nil, 0, err
		}
	}
	for _, t := range []string{`referral_body_counts`, `referral_school_counts`, `referral_rollups`} {
		col, typ := `to_org_id`, `type_code`
		switch t {
		case `referral_school_counts`:
			col = `school_id`
		case `referral_rollups`:
			col, typ = `by_kind || '|' || org_id`, `''`
		}
		for _, v := range strings.Split(refCols, ", ") {
			q := `SELECT '` + t + `|` + v + `|' || scope || '|' || ` + col + ` || '|' || ` + typ + ` || '|' || month, ` + v + ` FROM ` + t
			if err := db.collect(ctx, c, q, func(k string, n int) {
				if n != 0 {
					out[k] = n
				}
			}); err != nil {
				return nil, 0, err
			}
		}
	}
	var pending int
	err := c.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM case_count_delta) + (SELECT COUNT(*) FROM referral_count_delta)
		+ (SELECT COUNT(*) FROM contact_count_delta) + (SELECT COUNT(*) FROM child_roll_delta)`).Scan(&pending)
	return out, pending, err
}

// RollRecount counts the pupils on a school's roll (0: every school's)
// from the children themselves.
func (db *DB) RollRecount(ctx context.Context, schoolID int64) (n int, err error) {
	err = db.reader().queryRow(ctx, `SELECT COUNT(*) FROM children WHERE school_id IS NOT NULL AND merged_into IS NULL
		AND (? = 0 OR school_id = ?)`, schoolID, schoolID).Scan(&n)
	return n, err
}

func (db *DB) collect(ctx context.Context, c conn, q string, f func(string, int)) error {
	rows, err := c.query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		f(k, n)
	}
	return rows.Err()
}

// ImportRosterUpsert is ImportRoster through the batched upsert only, the
// path operator imports took before the pipeline (ADR 0034), to compare
// the two.
func (db *DB) ImportRosterUpsert(ctx context.Context, a audit.Actor, id int64, src RosterSource, o RosterImportOptions) (RosterCounts, error) {
	return db.importRoster(ctx, a, id, src, o, false)
}

// MatchKeys lists every filed match key as "key child_id", in order.
func (db *DB) MatchKeys(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT key, child_id FROM child_match_keys ORDER BY key, child_id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		var id int64
		if err := rows.Scan(&k, &id); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprintf("%s %d", k, id))
	}
	return out, rows.Err()
}

// ChildRows lists every child's stored columns, dup_key included, by ID.
func (db *DB) ChildRows(ctx context.Context) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, student_id, last_name, first_name, patronymic, sex, birth_date,
		COALESCE(school_id, 0), grade, section, dup_key, version, created_at, updated_at FROM children ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vs := make([]any, 14)
		ps := make([]any, len(vs))
		for i := range vs {
			ps[i] = &vs[i]
		}
		if err := rows.Scan(ps...); err != nil {
			return nil, err
		}
		out = append(out, fmt.Sprint(vs...))
	}
	return out, rows.Err()
}

// ChildIndexes lists children's indexes by name.
func (db *DB) ChildIndexes(ctx context.Context) ([]string, error) {
	q := `SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'children' ORDER BY name`
	if db.engine == Postgres {
		q = `SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'children' ORDER BY indexname`
	}
	rows, err := db.read.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// StopBulkLoad leaves a bulk load of import id as a process killed in its
// middle would: the indexes dropped and recorded, no keys filed.
func (db *DB) StopBulkLoad(ctx context.Context, id int64) error {
	w := &bulkWriter{db: db}
	return w.deferIndexes(ctx, id)
}

// RosterSnapshotKinds reads the registry's re-sync snapshot in parts scans
// and tells what an operator import does with each record (its school
// already resolved): "new", "changed" or "same".
func (db *DB) RosterSnapshotKinds(ctx context.Context, parts int, recs []roster.Record) ([]string, error) {
	s, err := db.loadRosterSnapshot(ctx, parts)
	if err != nil {
		return nil, err
	}
	var buf []byte
	out := make([]string, len(recs))
	for i := range recs {
		var k rowKind
		buf, k, _ = s.kind(&recs[i], buf)
		out[i] = [...]string{rowNew: "new", rowChanged: "changed", rowSame: "same"}[k]
	}
	return out, nil
}

// RosterHashes recomputes every child's rosterHash from its columns and
// counts the children whose stored hash differs (stale) and those with
// none (missing, NULL: the snapshot reads their columns).
func (db *DB) RosterHashes(ctx context.Context) (stale, missing int, err error) {
	rows, err := db.read.QueryContext(ctx, `SELECT roster_hash, last_name, first_name, patronymic, sex, birth_date,
		COALESCE(school_id, 0), grade, section FROM children`)
	if err != nil {
		return 0, 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var hash sql.NullInt64
		var ch child.Child
		var sex string
		if err := rows.Scan(&hash, &ch.LastName, &ch.FirstName, &ch.Patronymic, &sex, date{&ch.BirthDate}, &ch.SchoolID, &ch.Grade,
			&ch.Section); err != nil {
			return 0, 0, err
		}
		ch.Sex = child.Sex(sex)
		switch _, want := childRosterHash(nil, &ch); {
		case !hash.Valid:
			missing++
		case hash.Int64 != want:
			stale++
		}
	}
	return stale, missing, rows.Err()
}
