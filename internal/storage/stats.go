package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/stats"
)

// StatsQuery selects what a dashboard counts. Every field set narrows it.
type StatsQuery struct {
	From, To time.Time // cases created, referrals sent, contacts received in [From, To); zero: unbounded
	District string
	SchoolID int64
	BodyID   int64  // cases this body leads, referrals sent to it
	Type     string // a case type or a prefix of one
	// Exact counts only what the viewer may list (and every count can then
	// be shown as it is); otherwise the whole scope is counted, for a view
	// that the caller suppresses (access.StatsSuppressed).
	Exact bool
	// Scoped: with Exact, the district, school or body filter lies inside
	// the viewer's jurisdiction (access.DecideStats said StatsExact for
	// it), so every case it selects is one the policy lets the viewer list
	// (a case's school and district are among its places; a body's led
	// cases are its own) and the policy's branches can be left out.
	Scoped bool
}

// bucket is an engine's expression for the local (Baku) month, hour or
// weekday of a timestamp column, as text.
func bucket(e Engine, col, unit string) string {
	if e == Postgres {
		local := `(` + col + ` AT TIME ZONE 'Asia/Baku')`
		switch unit {
		case "month":
			return `to_char(` + local + `, 'YYYY-MM')`
		case "hour":
			return `to_char(` + local + `, 'HH24')`
		default:
			return `CAST(CAST(EXTRACT(DOW FROM ` + local + `) AS INTEGER) AS TEXT)`
		}
	}
	switch unit {
	case "month":
		return `strftime('%Y-%m', ` + col + `, '+4 hours')`
	case "hour":
		return `strftime('%H', ` + col + `, '+4 hours')`
	default:
		return `strftime('%w', ` + col + `, '+4 hours')`
	}
}

// caseScope is the condition on cases k for q: the filters, and with
// q.Exact the case policy's branches for p, exactly as the case list
// applies them.
func caseScope(c conn, p access.Principal, q StatsQuery) (string, []any, bool) {
	var where []string
	var args []any
	if q.Exact && !(q.Scoped && (q.District != "" || q.SchoolID != 0 || q.BodyID != 0)) {
		branches := caseBranches(access.FilterCases(p, access.List), c.now)
		if len(branches) == 0 {
			return "", nil, false
		}
		if !(len(branches) == 1 && branches[0].cond == `1 = 1`) {
			var parts []string
			for _, b := range branches {
				parts = append(parts, `SELECT k.id`+b.from+`WHERE `+b.cond)
				args = append(args, b.args...)
			}
			where = append(where, `k.id IN (`+strings.Join(parts, ` UNION `)+`)`)
		}
	}
	if !q.From.IsZero() {
		where = append(where, `k.created_at >= ?`)
		args = append(args, q.From)
	}
	if !q.To.IsZero() {
		where = append(where, `k.created_at < ?`)
		args = append(args, q.To)
	}
	if q.District != "" {
		where = append(where, `k.district_code = ?`)
		args = append(args, q.District)
	}
	if q.SchoolID != 0 {
		where = append(where, `k.school_id = ?`)
		args = append(args, q.SchoolID)
	}
	if q.BodyID != 0 {
		where = append(where, `k.lead_org_id = ?`)
		args = append(args, q.BodyID)
	}
	if q.Type != "" {
		where = append(where, `(k.type_code = ? OR (k.type_code >= ? AND k.type_code < ?))`)
		args = append(args, q.Type, q.Type+".", q.Type+"/")
	}
	if len(where) == 0 {
		return `1 = 1`, nil, true
	}
	return strings.Join(where, ` AND `), args, true
}

// sortedCounts turns a tally into counts ordered by key.
func sortedCounts(m map[string]int) []stats.Count {
	out := make([]stats.Count, 0, len(m))
	for k, n := range m {
		out = append(out, stats.Count{Key: k, N: n})
	}
	slices.SortFunc(out, func(a, b stats.Count) int { return strings.Compare(a.Key, b.Key) })
	return out
}

func countsBy(ctx context.Context, c conn, query string, args ...any) ([]stats.Count, int, error) {
	rows, err := c.query(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []stats.Count
	total := 0
	for rows.Next() {
		var k stats.Count
		if err := rows.Scan(&k.Key, &k.N); err != nil {
			return nil, 0, err
		}
		out = append(out, k)
		total += k.N
	}
	return out, total, rows.Err()
}

// DashboardCounts counts a dashboard's figures for a under q. Counts carry
// no child's data, so reading them is not audited; the lists behind them
// are.
//
// Where the viewer may count the whole scope (a suppressed view, or an
// exact one over a place inside their jurisdiction, or the city for those
// who see every case) and the scope is one place, the figures come from
// the pre-aggregated totals (stats_agg.go, ADR 0032) for the whole months
// of the period and from the base tables for its ragged edges; otherwise
// from the base tables under the case policy's own SQL.
func (db *DB) DashboardCounts(ctx context.Context, a audit.Actor, q StatsQuery) (d stats.Figures, err error) {
	defer apperr.Wrap(&err, "storage.DashboardCounts")
	c := db.reader()
	if s, ok := aggScopeOf(q); ok && wholeScope(c, a.Principal, q) {
		var overdue []stats.OwnerCount
		err = parallel(func() (err error) {
			d, err = dashboardFromTotals(ctx, c, q, s, splitPeriod(q.From, q.To))
			return err
		}, func() (err error) {
			overdue, err = aggOverdue(ctx, c, s, q)
			return err
		})
		if err != nil {
			return stats.Figures{}, err // no partial figures
		}
		d.OverdueByOwner = overdue
		return d, nil
	}
	return dashboardBase(ctx, c, a.Principal, q, baseAll)
}

// wholeScope reports whether q counts every case its filters select: not
// only those the viewer may list.
func wholeScope(c conn, p access.Principal, q StatsQuery) bool {
	if !q.Exact || (q.Scoped && (q.District != "" || q.SchoolID != 0 || q.BodyID != 0)) {
		return true
	}
	branches := caseBranches(access.FilterCases(p, access.List), c.now)
	return len(branches) == 1 && branches[0].cond == `1 = 1`
}

// baseParts says which of a dashboard's figures dashboardBase counts
// beside the cases and contacts.
type baseParts int

const (
	baseOverdue   baseParts = 1 << iota // the overdue queue by owner
	baseDeadlines                       // the referrals' deadlines by body and by school
	baseAll       = baseOverdue | baseDeadlines
)

// dashboardBase counts q's figures from the base tables; the overdue work
// and the deadlines only as what asks.
func dashboardBase(ctx context.Context, c conn, p access.Principal, q StatsQuery, what baseParts) (d stats.Figures, err error) {
	where, args, ok := caseScope(c, p, q)
	if !ok {
		return d, nil
	}
	// The parts read side by side on the read pool, each its own fields.
	parts := []func() error{func() error {
		// One scan gives the three breakdowns and the months: counted by
		// (type, severity, status, month) and summed up here.
		m := bucket(c.engine, `k.created_at`, "month")
		rows, err := c.query(ctx, `SELECT k.type_code, k.severity, k.status, `+m+`, COUNT(*) FROM cases k WHERE `+where+
			` GROUP BY k.type_code, k.severity, k.status, `+m, args...)
		if err != nil {
			return fmt.Errorf("case counts: %w", err)
		}
		defer rows.Close()
		byType, bySev, byStatus, byMonth := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
		for rows.Next() {
			var ty, sev, st, mo string
			var n int
			if err := rows.Scan(&ty, &sev, &st, &mo, &n); err != nil {
				return err
			}
			byType[ty] += n
			bySev[sev] += n
			byStatus[st] += n
			byMonth[mo] += n
			d.Cases += n
		}
		d.ByType, d.BySeverity, d.ByStatus, d.NewByMonth = sortedCounts(byType), sortedCounts(bySev), sortedCounts(byStatus), sortedCounts(byMonth)
		return rows.Err()
	}}
	// closed in the period: the period applies to closed_at here
	cq := q
	cq.From, cq.To = time.Time{}, time.Time{}
	parts = append(parts, func() (err error) {
		cwhere, cargs, _ := caseScope(c, p, cq)
		cwhere += ` AND k.closed_at IS NOT NULL`
		if !q.From.IsZero() {
			cwhere += ` AND k.closed_at >= ?`
			cargs = append(cargs, q.From)
		}
		if !q.To.IsZero() {
			cwhere += ` AND k.closed_at < ?`
			cargs = append(cargs, q.To)
		}
		cm := bucket(c.engine, `k.closed_at`, "month")
		if d.ClosedByMonth, _, err = countsBy(ctx, c, `SELECT `+cm+`, COUNT(*) FROM cases k WHERE `+cwhere+` GROUP BY 1 ORDER BY 1`, cargs...); err != nil {
			return fmt.Errorf("closed by month: %w", err)
		}
		return nil
	})
	if what&baseDeadlines != 0 {
		parts = append(parts, func() (err error) {
			d.ByBody, err = deadlineRows(ctx, c, p, q, `r.to_org_id`)
			return err
		}, func() (err error) {
			d.BySchool, err = deadlineRows(ctx, c, p, q, `k.school_id`)
			return err
		})
	}
	if what&baseOverdue != 0 {
		parts = append(parts, func() (err error) {
			d.OverdueByOwner, err = overdueByOwner(ctx, c, p, cq)
			return err
		})
	}
	if q.District == "" && q.SchoolID == 0 && q.BodyID == 0 && q.Type == "" {
		parts = append(parts, func() error { return contactCounts(ctx, c, q, &d) })
	}
	return d, parallel(parts...)
}

// overdueByOwner counts the open cases past their running deadline now,
// by owner (the unowned under user 0): the overdue queue's numbers.
func overdueByOwner(ctx context.Context, c conn, p access.Principal, q StatsQuery) ([]stats.OwnerCount, error) {
	return overdueByOwnerSince(ctx, c, p, q, time.Time{})
}

// overdueByOwnerSince is overdueByOwner for the cases whose running
// deadline is at or after since (zero: any).
func overdueByOwnerSince(ctx context.Context, c conn, p access.Principal, q StatsQuery, since time.Time) ([]stats.OwnerCount, error) {
	where, args, _ := caseScope(c, p, q)
	open := `k.queue_key < ?`
	if !since.IsZero() {
		// a few days of deadlines: walk cases_due, not every open case
		where += ` AND k.due_at >= ?`
		args = append(args, since)
		open = `+k.queue_key < ?`
	}
	args = append(args, closedOffset, c.now)
	rows, err := c.query(ctx, `SELECT COALESCE(k.owner_id, 0), COALESCE(u.name, ''), COUNT(*) FROM cases k LEFT JOIN users u ON u.id = k.owner_id
		WHERE `+where+` AND `+open+` AND k.due_at < ? GROUP BY k.owner_id, u.name ORDER BY 3 DESC, 1`, args...)
	if err != nil {
		return nil, fmt.Errorf("overdue by owner: %w", err)
	}
	defer rows.Close()
	var out []stats.OwnerCount
	for rows.Next() {
		var o stats.OwnerCount
		if err := rows.Scan(&o.UserID, &o.Name, &o.N); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// deadlineRows counts referrals sent in the period, of the cases in scope,
// by the organisation in column by (the body or the case's school), against
// their acknowledgement and completion deadlines.
func deadlineRows(ctx context.Context, c conn, p access.Principal, q StatsQuery, by string) ([]stats.DeadlineRow, error) {
	cq := q
	cq.From, cq.To, cq.BodyID = time.Time{}, time.Time{}, 0
	where, args, _ := caseScope(c, p, cq)
	if !q.From.IsZero() {
		where += ` AND r.sent_at >= ?`
		args = append(args, q.From)
	}
	if !q.To.IsZero() {
		where += ` AND r.sent_at < ?`
		args = append(args, q.To)
	}
	if q.BodyID != 0 {
		where += ` AND r.to_org_id = ?`
		args = append(args, q.BodyID)
	}
	now := c.now
	sel := `SELECT o.id, o.code, o.name_az, o.name_ru, o.name_en,
		SUM(CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN 1 ELSE 0 END),
		SUM(CASE WHEN (r.ack_at IS NOT NULL AND r.ack_at > r.ack_due) OR (r.ack_at IS NULL AND r.state = 'sent' AND r.ack_due < ?) THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.ack_at IS NULL AND r.state = 'sent' AND r.ack_due >= ? THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN 1 ELSE 0 END),
		SUM(CASE WHEN (r.state = 'completed' AND r.closed_at > r.complete_due) OR (r.closed_at IS NULL AND r.complete_due < ?) THEN 1 ELSE 0 END),
		SUM(CASE WHEN r.closed_at IS NULL AND r.complete_due >= ? THEN 1 ELSE 0 END)
		FROM referrals r CROSS JOIN cases k CROSS JOIN orgs o
		WHERE k.id = r.case_id AND o.id = ` + by + ` AND ` + where + `
		GROUP BY o.id, o.code, o.name_az, o.name_ru, o.name_en ORDER BY o.code`
	rows, err := c.query(ctx, sel, append([]any{now, now, now, now}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("deadlines by %s: %w", by, err)
	}
	defer rows.Close()
	var out []stats.DeadlineRow
	for rows.Next() {
		var d stats.DeadlineRow
		if err := rows.Scan(&d.OrgID, &d.Code, &d.NameAZ, &d.NameRU, &d.NameEN, &d.AckMet, &d.AckMissed, &d.AckOpen,
			&d.DoneMet, &d.DoneMissed, &d.DoneOpen); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// contactCounts counts the hotline's contacts received in the period, by
// channel, category, hour of day and weekday (Baku time). Contacts belong
// to the city's hotline, so only the city dashboard shows them.
func contactCounts(ctx context.Context, c conn, q StatsQuery, d *stats.Figures) error {
	where, args := `1 = 1`, []any{}
	if !q.From.IsZero() {
		where += ` AND t.received_at >= ?`
		args = append(args, q.From)
	}
	if !q.To.IsZero() {
		where += ` AND t.received_at < ?`
		args = append(args, q.To)
	}
	// channel, hour and weekday in one scan, summed up here
	rows, err := c.query(ctx, `SELECT t.channel, `+bucket(c.engine, `t.received_at`, "hour")+`, `+bucket(c.engine, `t.received_at`, "wday")+
		`, COUNT(*) FROM contacts t WHERE `+where+` GROUP BY 1, 2, 3`, args...)
	if err != nil {
		return fmt.Errorf("contacts by channel, hour and weekday: %w", err)
	}
	byChannel, byHour, byWday := map[string]int{}, map[string]int{}, map[string]int{}
	for rows.Next() {
		var ch, h, wd string
		var n int
		if err := rows.Scan(&ch, &h, &wd, &n); err != nil {
			rows.Close()
			return err
		}
		byChannel[ch] += n
		byHour[h] += n
		byWday[wd] += n
		d.Contacts += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	d.ContactsByChannel, d.ContactsByHour, d.ContactsByWday = sortedCounts(byChannel), sortedCounts(byHour), sortedCounts(byWday)
	if d.ByCategory, _, err = countsBy(ctx, c, `SELECT g.code, COUNT(*) FROM contacts t CROSS JOIN contact_categories g WHERE g.contact_id = t.id AND `+where+` GROUP BY g.code ORDER BY 1`, args...); err != nil {
		return fmt.Errorf("contacts by category: %w", err)
	}
	return nil
}

// PublicCaseCounts counts every case created in [from, to) by district,
// type and local month: the base of the public tables, which are then
// suppressed (internal/disclosure) before anyone sees them.
func (db *DB) PublicCaseCounts(ctx context.Context, from, to time.Time) (out []stats.Group, err error) {
	defer apperr.Wrap(&err, "storage.PublicCaseCounts")
	c := db.reader()
	m := bucket(c.engine, `k.created_at`, "month")
	rows, err := c.query(ctx, `SELECT COALESCE(k.district_code, ''), k.type_code, `+m+`, COUNT(*) FROM cases k
		WHERE k.created_at >= ? AND k.created_at < ? GROUP BY 1, 2, 3`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d, ty, m string
		var n int
		if err := rows.Scan(&d, &ty, &m, &n); err != nil {
			return nil, err
		}
		out = append(out, stats.Group{Keys: []string{d, ty, m}, N: n})
	}
	return out, rows.Err()
}

// PublicContactCounts counts the hotline's contacts received in [from, to)
// by category and local month.
func (db *DB) PublicContactCounts(ctx context.Context, from, to time.Time) (out []stats.Group, err error) {
	defer apperr.Wrap(&err, "storage.PublicContactCounts")
	c := db.reader()
	m := bucket(c.engine, `t.received_at`, "month")
	rows, err := c.query(ctx, `SELECT g.code, `+m+`, COUNT(*) FROM contacts t CROSS JOIN contact_categories g
		WHERE g.contact_id = t.id AND t.received_at >= ? AND t.received_at < ? GROUP BY 1, 2`, from, to)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var c, m string
		var n int
		if err := rows.Scan(&c, &m, &n); err != nil {
			return nil, err
		}
		out = append(out, stats.Group{Keys: []string{c, m}, N: n})
	}
	return out, rows.Err()
}
