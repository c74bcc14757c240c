package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"dayaq/internal/apperr"
	"dayaq/internal/casework"
)

// BulkCase is a case for the bulk path, with its children.
type BulkCase struct {
	casework.Case
	ChildIDs []int64
}

// bulkCaseColumns is how many values one case row binds.
const bulkCaseColumns = 24

// InsertCasesBulk adds cases and their children in one transaction with
// multi-row INSERTs, unaudited: it is the path of benchmarks and demo data,
// never of a request. Each case must be valid; IDs are set. A case's place
// is its own school only: give it children of that school.
func (db *DB) InsertCasesBulk(ctx context.Context, cs []BulkCase) (err error) {
	defer apperr.Wrap(&err, "storage.InsertCasesBulk(%d)", len(cs))
	const rowsPer = 400 // 400 × 24 = 9,600 values: under SQLite's 32,766 and PostgreSQL's 65,535
	return db.inTx(ctx, func(c conn) error {
		row := "(" + strings.TrimSuffix(strings.Repeat("?, ", bulkCaseColumns), ", ") + ")"
		for start := 0; start < len(cs); start += rowsPer {
			part := cs[start:min(len(cs), start+rowsPer)]
			rows := make([]string, len(part))
			args := make([]any, 0, len(part)*bulkCaseColumns)
			for i := range part {
				k := &part[i].Case
				rows[i] = row
				args = append(args, k.Type, k.TaxonomyVersion, k.Severity, k.Status, k.Title, k.Summary, k.Source,
					nullInt(k.LeadOrgID), nullInt(k.OwnerID), nullInt(k.SchoolID), nullString(k.District),
					nullInt(k.CreatedBy), nullInt(k.CreatedOrgID), k.DetectedAt, nullTime(k.ReportDue),
					nullTime(k.RespondDue), nullTime(k.ResolveDue), nullTime(k.ReviewAt), nullTime(k.Due()),
					queueKey(*k), k.Version, k.CreatedAt, k.UpdatedAt, nullTime(k.ClosedAt))
			}
			q := `INSERT INTO cases (type_code, taxonomy_version, severity, status, title, summary, source, lead_org_id,
				owner_id, school_id, district_code, created_by, created_org_id, detected_at, report_due, respond_due,
				resolve_due, review_at, due_at, queue_key, version, created_at, updated_at, closed_at) VALUES ` +
				strings.Join(rows, ", ") + ` RETURNING id`
			rs, err := c.query(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("bulk cases: %w", err)
			}
			var ids []int64
			for rs.Next() {
				var id int64
				if err := rs.Scan(&id); err != nil {
					rs.Close()
					return err
				}
				ids = append(ids, id)
			}
			rs.Close()
			if err := rs.Err(); err != nil {
				return err
			}
			if len(ids) != len(part) {
				return fmt.Errorf("bulk cases: %d IDs for %d rows", len(ids), len(part))
			}
			// IDs are given in VALUES order; RETURNING's order is not promised,
			// so sort them back into it.
			slices.Sort(ids)
			var links, places []string
			var largs, pargs []any
			for i := range part {
				part[i].ID = ids[i]
				for _, ch := range part[i].ChildIDs {
					links = append(links, "(?, ?)")
					largs = append(largs, ids[i], ch)
				}
				if k := part[i].Case; k.SchoolID != 0 {
					places = append(places, "(?, ?, ?, ?, ?, ?)")
					pargs = append(pargs, ids[i], k.SchoolID, nullString(k.District), queueKey(k), k.Status, nullTime(k.Due()))
				}
			}
			if len(places) > 0 {
				if _, err := c.exec(ctx, `INSERT INTO case_places (case_id, school_id, district_code, queue_key, status, due_at) VALUES `+
					strings.Join(places, ", "), pargs...); err != nil {
					return fmt.Errorf("bulk case places: %w", err)
				}
			}
			if len(links) > 0 {
				if _, err := c.exec(ctx, `INSERT INTO case_children (case_id, child_id) VALUES `+strings.Join(links, ", "), largs...); err != nil {
					return fmt.Errorf("bulk case children: %w", err)
				}
			}
		}
		return nil
	})
}

// CountCases counts every case, for benchmarks and tools (not a request path).
func (db *DB) CountCases(ctx context.Context) (n int, err error) {
	defer apperr.Wrap(&err, "storage.CountCases")
	err = db.reader().queryRow(ctx, `SELECT COUNT(*) FROM cases`).Scan(&n)
	return n, err
}

// Analyze refreshes the query planner's statistics after a bulk load.
// On SQLite it keeps the averages (sqlite_stat1) and drops the samples
// (sqlite_stat4, ADR 0043): with samples of a column, every statement that
// binds a value to it is prepared again on every run, prepared statements
// included, and that re-preparing was a third of the navigation counts'
// time. The plans that averages mislead name their index (caseIDsSQL).
func (db *DB) Analyze(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `ANALYZE`); err != nil {
		return fmt.Errorf("storage.Analyze: %w", err)
	}
	if db.engine != SQLite {
		return nil
	}
	var stat4 int
	if err := db.write.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_schema WHERE name = 'sqlite_stat4'`).Scan(&stat4); err != nil {
		return fmt.Errorf("storage.Analyze: %w", err)
	}
	if stat4 == 0 {
		return nil
	}
	// ANALYZE sqlite_schema reloads the statistics for the connections' next statements.
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sqlite_stat4; ANALYZE sqlite_schema`); err != nil {
		return fmt.Errorf("storage.Analyze: drop samples: %w", err)
	}
	return nil
}

// SeedCache gives the SQLite writer the operator import's large page cache
// (bulkCacheKiB) while a benchmark seeds in bulk, or takes it back to the
// usual 128 MB (big false); a no-op on PostgreSQL. Two million children
// and a million cases spread their index inserts over far more than
// 128 MB, and past it every insert reads its pages back from the file.
func (db *DB) SeedCache(ctx context.Context, big bool) error {
	if db.engine == Postgres {
		return nil
	}
	kib := 131072 // as sqliteDSN sets it
	if big {
		kib = bulkCacheKiB
	}
	if _, err := db.write.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, kib)); err != nil {
		return fmt.Errorf("storage.SeedCache: %w", err)
	}
	return nil
}
