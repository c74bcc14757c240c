package storage

import (
	"context"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/audit"
	"dayaq/internal/child"
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
	return dashboardBase(ctx, db.reader(), access.Principal{}, q, true)
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
	} {
		if err := db.collect(ctx, c, q, func(k string, v int) { out[k] = v }); err != nil {
			return nil, 0, err
		}
	}
	for _, t := range []string{`referral_body_counts`, `referral_school_counts`} {
		col := `to_org_id`
		if t == `referral_school_counts` {
			col = `school_id`
		}
		for _, v := range strings.Split(refCols, ", ") {
			q := `SELECT '` + t + `|` + v + `|' || scope || '|' || ` + col + ` || '|' || type_code || '|' || month, ` + v + ` FROM ` + t
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
		+ (SELECT COUNT(*) FROM contact_count_delta)`).Scan(&pending)
	return out, pending, err
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
