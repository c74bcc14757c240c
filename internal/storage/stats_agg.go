package storage

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/stats"
)

// The dashboards' pre-aggregated counts (migration 00023, ADR 0032).
// Triggers append signed rows to the *_delta tables in every writer's own
// transaction; FoldStats adds them into the totals; RebuildStats
// recomputes everything from the base tables. A dashboard reads totals
// plus deltas in one statement, so its counts are exact at every commit.

// bakuZone is Baku's offset, the one storage.bucket uses on SQLite.
var bakuZone = time.FixedZone("AZT", 4*60*60)

// monthStart is the first instant of t's month, Baku time, in UTC: the
// instants here become query arguments, and SQLite compares timestamps as
// the text the driver writes in the value's own zone, so an instant in
// Baku's zone ("…+04:00") would be compared four hours off against the
// stored UTC ("…+00:00").
func monthStart(t time.Time) time.Time {
	l := t.In(bakuZone)
	return time.Date(l.Year(), l.Month(), 1, 0, 0, 0, 0, bakuZone).UTC()
}

// nextMonth is the first instant of the Baku month after t's, in UTC.
func nextMonth(t time.Time) time.Time {
	l := t.In(bakuZone)
	return time.Date(l.Year(), l.Month()+1, 1, 0, 0, 0, 0, bakuZone).UTC()
}

func monthKey(t time.Time) string { return t.In(bakuZone).Format("2006-01") }

// aggWindow splits a period into the whole Baku months the totals answer,
// [m1, m2) as YYYY-MM ("" unbounded), and the ragged edges the base
// tables answer. ok is false when no whole month lies in the period.
type aggWindow struct {
	m1, m2 string
	edges  [][2]time.Time
	ok     bool
}

func splitPeriod(from, to time.Time) aggWindow {
	var w aggWindow
	from, to = from.UTC(), to.UTC() // query arguments, as monthStart's
	fullFrom, fullTo := from, to
	if !from.IsZero() {
		if s := monthStart(from); !s.Equal(from) {
			fullFrom = nextMonth(from)
		}
		w.m1 = monthKey(fullFrom)
	}
	if !to.IsZero() {
		fullTo = monthStart(to)
		w.m2 = monthKey(fullTo)
	}
	if !from.IsZero() && !to.IsZero() && !fullFrom.Before(fullTo) {
		w.edges = [][2]time.Time{{from, to}}
		return w
	}
	w.ok = true
	if !from.IsZero() && from.Before(fullFrom) {
		w.edges = append(w.edges, [2]time.Time{from, fullFrom})
	}
	if !to.IsZero() && fullTo.Before(to) {
		w.edges = append(w.edges, [2]time.Time{fullTo, to})
	}
	return w
}

// monthCond is the condition on column col for the window's months.
func (w aggWindow) monthCond(col string) (string, []any) {
	cond, args := `1 = 1`, []any{}
	if w.m1 != "" {
		cond += ` AND ` + col + ` >= ?`
		args = append(args, w.m1)
	}
	if w.m2 != "" {
		cond += ` AND ` + col + ` < ?`
		args = append(args, w.m2)
	}
	return cond, args
}

// aggScope is the one place a dashboard is for, as the totals name it.
type aggScope struct {
	kind string // "c", "d", "s", "b" (the lead body; for referrals, the body referred to)
	val  string // as in the scope's key
	arg  any    // as a parameter: the district's code or the organisation's ID
}

func (s aggScope) key() string {
	if s.kind == "c" {
		return "c"
	}
	return s.kind + ":" + s.val
}

// aggScopeOf is q's scope, or false when q combines places the totals do
// not cross (a district and a school, say): the base tables answer those.
func aggScopeOf(q StatsQuery) (aggScope, bool) {
	n := 0
	s := aggScope{kind: "c"}
	if q.District != "" {
		n, s = n+1, aggScope{"d", q.District, q.District}
	}
	if q.SchoolID != 0 {
		n, s = n+1, aggScope{"s", strconv.FormatInt(q.SchoolID, 10), q.SchoolID}
	}
	if q.BodyID != 0 {
		n, s = n+1, aggScope{"b", strconv.FormatInt(q.BodyID, 10), q.BodyID}
	}
	return s, n <= 1
}

func typeCond(col, typ string) (string, []any) {
	if typ == "" {
		return `1 = 1`, nil
	}
	return `(` + col + ` = ? OR (` + col + ` >= ? AND ` + col + ` < ?))`, []any{typ, typ + ".", typ + "/"}
}

// aggCases adds the totals' case figures for s in w to d.
func aggCases(ctx context.Context, c conn, s aggScope, typ string, w aggWindow, d *stats.Figures,
	byType, bySev, byStatus, byMonth, closed map[string]int) error {
	mc, margs := w.monthCond(`month`)
	tc, targs := typeCond(`type_code`, typ)
	dcol, dargs := deltaCaseCol(s)
	if typ == "" {
		if err := aggCaseRollups(ctx, c, s, w, d, byType, bySev, byStatus, byMonth); err != nil {
			return err
		}
	} else {
		args := append(append(append([]any{s.key()}, margs...), targs...), dargs...)
		args = append(append(args, margs...), targs...)
		rows, err := c.query(ctx, `SELECT type_code, severity, status, month, SUM(n) FROM (
		SELECT type_code, severity, status, month, n FROM case_counts WHERE scope = ? AND `+mc+` AND `+tc+`
		UNION ALL
		SELECT type_code, severity, status, month, n FROM case_count_delta WHERE `+dcol+` AND `+mc+` AND `+tc+`
	) x GROUP BY type_code, severity, status, month`, args...)
		if err != nil {
			return fmt.Errorf("case totals: %w", err)
		}
		for rows.Next() {
			var ty, sev, st, mo string
			var n int
			if err := rows.Scan(&ty, &sev, &st, &mo, &n); err != nil {
				rows.Close()
				return err
			}
			if n == 0 {
				continue
			}
			byType[ty] += n
			bySev[sev] += n
			byStatus[st] += n
			byMonth[mo] += n
			d.Cases += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	cmc, cmargs := w.monthCond(`closed_month`)
	args := append(append(append([]any{s.key()}, margs...), targs...), dargs...)
	args = append(append(args, cmargs...), targs...)
	rows, err := c.query(ctx, `SELECT month, SUM(n) FROM (
		SELECT month, n FROM case_closed_counts WHERE scope = ? AND `+mc+` AND `+tc+`
		UNION ALL
		SELECT closed_month, n FROM case_count_delta WHERE `+dcol+` AND closed_month <> '' AND `+cmc+` AND `+tc+`
	) x GROUP BY month`, args...)
	if err != nil {
		return fmt.Errorf("closed totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var mo string
		var n int
		if err := rows.Scan(&mo, &n); err != nil {
			return err
		}
		if n != 0 {
			closed[mo] += n
		}
	}
	return rows.Err()
}

// aggCaseRollups adds the case figures of every type for s in w from
// case_rollups (and the pending deltas): one dimension at a time, so a
// few hundred rows a scope.
func aggCaseRollups(ctx context.Context, c conn, s aggScope, w aggWindow, d *stats.Figures, byType, bySev, byStatus, byMonth map[string]int) error {
	mc, margs := w.monthCond(`month`)
	dcol, dargs := deltaCaseCol(s)
	args := append([]any{s.key()}, margs...)
	delta := ``
	for _, dim := range []string{"type", "severity", "status"} {
		col := dim
		if dim == "type" {
			col = "type_code"
		}
		delta += ` UNION ALL SELECT '` + dim + `', ` + col + `, month, n FROM case_count_delta WHERE ` + dcol + ` AND ` + mc
		args = append(append(args, dargs...), margs...)
	}
	rows, err := c.query(ctx, `SELECT dim, key, month, SUM(n) FROM (
		SELECT dim, key, month, n FROM case_rollups WHERE scope = ? AND `+mc+delta+`
	) x GROUP BY dim, key, month`, args...)
	if err != nil {
		return fmt.Errorf("case rollups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var dim, key, mo string
		var n int
		if err := rows.Scan(&dim, &key, &mo, &n); err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		switch dim {
		case "type":
			byType[key] += n
			byMonth[mo] += n
			d.Cases += n
		case "severity":
			bySev[key] += n
		case "status":
			byStatus[key] += n
		}
	}
	return rows.Err()
}

func deltaCaseCol(s aggScope) (string, []any) {
	switch s.kind {
	case "d":
		return `district_code = ?`, []any{s.arg}
	case "s":
		return `school_id = ?`, []any{s.arg}
	case "b":
		return `lead_org_id = ?`, []any{s.arg}
	}
	return `1 = 1`, nil
}

// refTally is one organisation's referrals as the totals keep them.
type refTally struct {
	met, late, waiting, doneMet, doneLate, doneWaiting, n int
	ackOpen, doneOpen                                     int
}

// deadlineScope is how the referral totals by body (by = "body") or by
// the case's school select s: the totals' scope, an extra condition on
// their organisation column orgCol, and the condition on the pending
// deltas, each with its arguments.
func deadlineScope(s aggScope, by, orgCol string) (scope, extra string, eargs []any, dcond string, dargs []any) {
	scope, extra, eargs, dcond = "c", `1 = 1`, []any{}, `1 = 1`
	switch {
	case s.kind == "d":
		scope, dcond, dargs = s.key(), `district_code = ?`, []any{s.arg}
	case s.kind == "s" && by == "body":
		scope, dcond, dargs = s.key(), `school_id = ?`, []any{s.arg}
	case s.kind == "s":
		extra, eargs, dcond, dargs = orgCol+` = ?`, []any{s.arg}, `school_id = ?`, []any{s.arg}
	case s.kind == "b" && by == "school":
		scope, dcond, dargs = "r:"+s.val, `to_org_id = ?`, []any{s.arg}
	case s.kind == "b":
		extra, eargs, dcond, dargs = orgCol+` = ?`, []any{s.arg}, `to_org_id = ?`, []any{s.arg}
	}
	return scope, extra, eargs, dcond, dargs
}

// aggDeadlines gives the deadline rows by body (by = "body") or by the
// case's school ("school") for s in w from the totals; addOpen then
// splits the waiting into open and missed.
func aggDeadlines(ctx context.Context, c conn, s aggScope, typ string, w aggWindow, by string) (map[int64]*refTally, error) {
	table, col := `referral_body_counts`, `to_org_id`
	if by == "school" {
		table, col = `referral_school_counts`, `school_id`
	}
	scope, extra, eargs, dcond, dargs := deadlineScope(s, by, col)
	mc, margs := w.monthCond(`month`)
	tc, targs := typeCond(`type_code`, typ)
	args := append(append(append(append([]any{scope}, eargs...), margs...), targs...), dargs...)
	args = append(append(args, margs...), targs...)
	// The totals keep each organisation over all months as month '*'.
	months := `month <> '*' AND ` + mc
	if w.m1 == "" && w.m2 == "" {
		months = `month = '*'`
	}
	totals := `SELECT ` + col + ` AS org, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n FROM ` + table + `
			WHERE scope = ? AND ` + extra + ` AND ` + months + ` AND ` + tc
	if typ == "" { // every type: the rollups, a row an organisation and month
		kind := "b"
		if by == "school" {
			kind = "s"
		}
		totals = `SELECT org_id AS org, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n FROM referral_rollups
			WHERE scope = ? AND by_kind = '` + kind + `' AND ` + strings.Replace(extra, col, `org_id`, 1) + ` AND ` + months
	}
	rows, err := c.query(ctx, `SELECT org, SUM(ack_met), SUM(ack_late), SUM(ack_waiting), SUM(done_met), SUM(done_late), SUM(done_waiting), SUM(n) FROM (
		`+totals+`
		UNION ALL
		SELECT `+col+`, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n FROM referral_count_delta
			WHERE `+col+` IS NOT NULL AND `+dcond+` AND `+mc+` AND `+tc+`
	) x GROUP BY org`, args...)
	if err != nil {
		return nil, fmt.Errorf("deadline totals by %s: %w", by, err)
	}
	out := map[int64]*refTally{}
	for rows.Next() {
		var id int64
		var t refTally
		if err := rows.Scan(&id, &t.met, &t.late, &t.waiting, &t.doneMet, &t.doneLate, &t.doneWaiting, &t.n); err != nil {
			rows.Close()
			return nil, err
		}
		if t.n != 0 {
			out[id] = &t
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// addOpen counts the waiting referrals not yet due (openNow) as open; the
// rest of the waiting are missed.
func addOpen(out map[int64]*refTally, open map[int64][2]int) {
	for id, o := range open {
		t := out[id]
		if t == nil { // not in the totals: cannot be, but count it rather than lose it
			t = &refTally{}
			out[id] = t
		}
		t.ackOpen += o[0]
		t.doneOpen += o[1]
	}
}

// refScope is the condition on referrals r of cases k for s, a case type
// and the period p of sending.
func refScope(s aggScope, typ string, p [2]time.Time) (string, []any) {
	where, wargs := `1 = 1`, []any{}
	switch s.kind {
	case "d":
		where, wargs = `k.district_code = ?`, []any{s.arg}
	case "s":
		where, wargs = `k.school_id = ?`, []any{s.arg}
	case "b":
		where, wargs = `r.to_org_id = ?`, []any{s.arg}
	}
	if typ != "" {
		tc, targs := typeCond(`k.type_code`, typ)
		where += ` AND ` + tc
		wargs = append(wargs, targs...)
	}
	if !p[0].IsZero() {
		where += ` AND r.sent_at >= ?`
		wargs = append(wargs, p[0])
	}
	if !p[1].IsZero() {
		where += ` AND r.sent_at < ?`
		wargs = append(wargs, p[1])
	}
	return where, wargs
}

// baseTallies counts s's referrals sent in p as the totals keep them, by
// the body referred to and by the case's school, from the base tables.
func baseTallies(ctx context.Context, c conn, s aggScope, typ string, p [2]time.Time) (body, school map[int64]*refTally, err error) {
	where, wargs := refScope(s, typ, p)
	rows, err := c.query(ctx, `SELECT org, school, `+refSums+` FROM (SELECT r.to_org_id AS org, COALESCE(k.school_id, 0) AS school, `+refFlags+`
		FROM referrals r CROSS JOIN cases k WHERE k.id = r.case_id AND `+where+`) x GROUP BY org, school`, wargs...)
	if err != nil {
		return nil, nil, fmt.Errorf("deadline tallies: %w", err)
	}
	defer rows.Close()
	body, school = map[int64]*refTally{}, map[int64]*refTally{}
	for rows.Next() {
		var org, sch int64
		var t refTally
		if err := rows.Scan(&org, &sch, &t.met, &t.late, &t.waiting, &t.doneMet, &t.doneLate, &t.doneWaiting, &t.n); err != nil {
			return nil, nil, err
		}
		addTally(body, org, t, 1)
		if sch != 0 {
			addTally(school, sch, t, 1)
		}
	}
	return body, school, rows.Err()
}

// addTally adds sign × t to m's tally of org, and drops a tally that
// comes to no referral.
func addTally(m map[int64]*refTally, org int64, t refTally, sign int) {
	a := m[org]
	if a == nil {
		a = &refTally{}
		m[org] = a
	}
	a.met += sign * t.met
	a.late += sign * t.late
	a.waiting += sign * t.waiting
	a.doneMet += sign * t.doneMet
	a.doneLate += sign * t.doneLate
	a.doneWaiting += sign * t.doneWaiting
	a.n += sign * t.n
	if a.n == 0 {
		delete(m, org)
	}
}

// openNow counts s's referrals sent in p that wait for a
// deadline not yet passed — acknowledgement, completion — by the body
// referred to (body) and by the case's school (school), in one statement
// over the two partial indexes of the waiting (few rows). With until set,
// only the deadlines before until: today's, beside openTotals.
func openNow(ctx context.Context, c conn, s aggScope, typ string, p [2]time.Time, until time.Time) (body, school map[int64][2]int, err error) {
	where, wargs := refScope(s, typ, p)
	from := ` FROM referrals r JOIN cases k ON k.id = r.case_id WHERE `
	ack, done := `r.ack_due >= ?`, `r.complete_due >= ?`
	aargs, dargs := []any{c.now}, []any{c.now}
	if !until.IsZero() {
		// a day of deadlines: on SQLite walk the waiting index, not the
		// place's cases (PostgreSQL's planner chooses so from its statistics)
		if c.engine != Postgres {
			where = strings.NewReplacer(`k.district_code = ?`, `+k.district_code = ?`, `k.school_id = ?`, `+k.school_id = ?`).Replace(where)
		}
		ack, done = ack+` AND r.ack_due < ?`, done+` AND r.complete_due < ?`
		aargs, dargs = append(aargs, until), append(dargs, until)
	}
	rows, err := c.query(ctx, `SELECT org, school, SUM(a), SUM(b) FROM (
		SELECT r.to_org_id AS org, COALESCE(k.school_id, 0) AS school, 1 AS a, 0 AS b`+from+`r.ack_at IS NULL AND r.state = 'sent' AND `+ack+` AND `+where+`
		UNION ALL
		SELECT r.to_org_id, COALESCE(k.school_id, 0), 0, 1`+from+`r.closed_at IS NULL AND `+done+` AND `+where+`
	) x GROUP BY org, school`, append(append(append(aargs, wargs...), dargs...), wargs...)...)
	if err != nil {
		return nil, nil, fmt.Errorf("deadlines open now: %w", err)
	}
	defer rows.Close()
	body, school = map[int64][2]int{}, map[int64][2]int{}
	for rows.Next() {
		var org, sch int64
		var a, b int
		if err := rows.Scan(&org, &sch, &a, &b); err != nil {
			return nil, nil, err
		}
		o := body[org]
		body[org] = [2]int{o[0] + a, o[1] + b}
		if sch != 0 {
			o := school[sch]
			school[sch] = [2]int{o[0] + a, o[1] + b}
		}
	}
	return body, school, rows.Err()
}

// dueDay is an engine's expression for the Baku day (UTC+4, as bakuZone)
// of a timestamp column, as the triggers of migration 00031 write it.
func dueDay(e Engine, col string) string {
	if e == Postgres {
		return `to_char((` + col + ` AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD')`
	}
	return `strftime('%Y-%m-%d', ` + col + `, '+4 hours')`
}

// dayAfter is the first instant of the Baku day after t's, in UTC (an
// argument SQLite compares as text with the stored UTC times).
func dayAfter(t time.Time) time.Time {
	l := t.In(bakuZone)
	return time.Date(l.Year(), l.Month(), l.Day()+1, 0, 0, 0, 0, bakuZone).UTC()
}

// openDeadlines counts s's referrals sent in w's whole months that wait
// for a deadline not yet passed, as openNow does: those due after today
// from referral_open_counts and its pending deltas (migration 00031),
// today's from the base tables.
func openDeadlines(ctx context.Context, c conn, s aggScope, typ string, w aggWindow) (body, school map[int64][2]int, err error) {
	var tb, ts map[int64][2]int
	err = parallel(func() (err error) {
		body, school, err = openNow(ctx, c, s, typ, periodOf(w), dayAfter(c.now))
		return err
	}, func() (err error) {
		tb, err = openTotals(ctx, c, s, typ, w, "body")
		return err
	}, func() (err error) {
		ts, err = openTotals(ctx, c, s, typ, w, "school")
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for _, p := range []struct{ into, from map[int64][2]int }{{body, tb}, {school, ts}} {
		for id, o := range p.from {
			x := p.into[id]
			p.into[id] = [2]int{x[0] + o[0], x[1] + o[1]}
		}
	}
	return body, school, nil
}

// openTotals counts the waiting referrals of s sent in w whose deadline
// falls after today, by body (by = "body") or by the case's school, from
// referral_open_counts and the pending deltas: [acknowledgement, completion].
func openTotals(ctx context.Context, c conn, s aggScope, typ string, w aggWindow, by string) (map[int64][2]int, error) {
	kind, col := "b", `to_org_id`
	if by == "school" {
		kind, col = "s", `school_id`
	}
	scope, extra, eargs, dcond, dargs := deadlineScope(s, by, `org_id`)
	today := c.now.In(bakuZone).Format(time.DateOnly)
	mc, margs := w.monthCond(`month`)
	tc, targs := typeCond(`type_code`, typ)
	var parts []string
	var args []any
	for _, dk := range []string{"a", "d"} {
		parts = append(parts, `SELECT org_id AS org, due_kind, n FROM referral_open_counts WHERE scope = ? AND by_kind = ? AND due_kind = ? AND due_day > ? AND `+
			extra+` AND `+mc+` AND `+tc)
		args = append(append(append(append(args, scope, kind, dk, today), eargs...), margs...), targs...)
	}
	for _, dk := range []struct{ kind, n, day string }{{"a", "ack_waiting", "ack_due_day"}, {"d", "done_waiting", "done_due_day"}} {
		parts = append(parts, `SELECT `+col+`, '`+dk.kind+`', `+dk.n+` FROM referral_count_delta WHERE `+col+` IS NOT NULL AND `+dcond+
			` AND `+dk.n+` <> 0 AND `+dk.day+` > ? AND `+mc+` AND `+tc)
		args = append(append(append(append(args, dargs...), today), margs...), targs...)
	}
	rows, err := c.query(ctx, `SELECT org, due_kind, SUM(n) FROM (`+strings.Join(parts, ` UNION ALL `)+`) x GROUP BY org, due_kind`, args...)
	if err != nil {
		return nil, fmt.Errorf("open deadline totals by %s: %w", by, err)
	}
	defer rows.Close()
	out := map[int64][2]int{}
	for rows.Next() {
		var id int64
		var dk string
		var n int
		if err := rows.Scan(&id, &dk, &n); err != nil {
			return nil, err
		}
		o := out[id]
		if dk == "a" {
			o[0] += n
		} else {
			o[1] += n
		}
		out[id] = o
	}
	return out, rows.Err()
}

// periodOf is the window's whole months as instants.
func periodOf(w aggWindow) [2]time.Time {
	var p [2]time.Time
	if w.m1 != "" {
		t, _ := time.ParseInLocation("2006-01", w.m1, bakuZone)
		p[0] = t.UTC()
	}
	if w.m2 != "" {
		t, _ := time.ParseInLocation("2006-01", w.m2, bakuZone)
		p[1] = t.UTC()
	}
	return p
}

// deadlineRowsOf names the tallies' organisations and orders them by code.
func deadlineRowsOf(ctx context.Context, c conn, ts map[int64]*refTally) ([]stats.DeadlineRow, error) {
	if len(ts) == 0 {
		return nil, nil
	}
	ids := make([]any, 0, len(ts))
	for id := range ts {
		ids = append(ids, id)
	}
	rows, err := c.query(ctx, `SELECT id, code, name_az, name_ru, name_en FROM orgs WHERE id IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+`)`, ids...)
	if err != nil {
		return nil, fmt.Errorf("deadline organisations: %w", err)
	}
	defer rows.Close()
	var out []stats.DeadlineRow
	for rows.Next() {
		var d stats.DeadlineRow
		if err := rows.Scan(&d.OrgID, &d.Code, &d.NameAZ, &d.NameRU, &d.NameEN); err != nil {
			return nil, err
		}
		t := ts[d.OrgID]
		d.AckMet, d.AckMissed, d.AckOpen = t.met, t.late+t.waiting-t.ackOpen, t.ackOpen
		d.DoneMet, d.DoneMissed, d.DoneOpen = t.doneMet, t.doneLate+t.doneWaiting-t.doneOpen, t.doneOpen
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b stats.DeadlineRow) int { return strings.Compare(a.Code, b.Code) })
	return out, nil
}

// aggContacts adds the totals' contact figures in w.
func aggContacts(ctx context.Context, c conn, w aggWindow, by map[string]map[string]int) error {
	mc, margs := w.monthCond(`month`)
	rows, err := c.query(ctx, `SELECT dim, key, SUM(n) FROM (
		SELECT dim, key, n FROM contact_counts WHERE `+mc+`
		UNION ALL
		SELECT dim, key, n FROM contact_count_delta WHERE `+mc+`
	) x GROUP BY dim, key`, append(margs, margs...)...)
	if err != nil {
		return fmt.Errorf("contact totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var dim, key string
		var n int
		if err := rows.Scan(&dim, &key, &n); err != nil {
			return err
		}
		if n == 0 {
			continue
		}
		if by[dim] == nil {
			by[dim] = map[string]int{}
		}
		by[dim][key] += n
	}
	return rows.Err()
}

// mergeDeadlines adds rows b into a, by organisation.
func mergeDeadlines(a, b []stats.DeadlineRow) []stats.DeadlineRow {
	for _, r := range b {
		i := slices.IndexFunc(a, func(x stats.DeadlineRow) bool { return x.OrgID == r.OrgID })
		if i < 0 {
			a = append(a, r)
			continue
		}
		a[i].AckMet += r.AckMet
		a[i].AckMissed += r.AckMissed
		a[i].AckOpen += r.AckOpen
		a[i].DoneMet += r.DoneMet
		a[i].DoneMissed += r.DoneMissed
		a[i].DoneOpen += r.DoneOpen
	}
	slices.SortFunc(a, func(x, y stats.DeadlineRow) int { return strings.Compare(x.Code, y.Code) })
	return a
}

// dashboardFromTotals counts q's figures from the totals for the whole
// months of its period and from the base tables for its ragged edges.
func dashboardFromTotals(ctx context.Context, c conn, q StatsQuery, s aggScope, w aggWindow) (stats.Figures, error) {
	var d stats.Figures
	byType, bySev, byStatus, byMonth, closed := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
	contacts := map[string]map[string]int{}
	withContacts := q.District == "" && q.SchoolID == 0 && q.BodyID == 0 && q.Type == ""
	// The parts read side by side on the read pool: each its own figures,
	// merged once all are in.
	var byBody, bySchool map[int64]*refTally
	var openBody, openSchool map[int64][2]int
	parts := []func() error{
		func() error { return aggCases(ctx, c, s, q.Type, w, &d, byType, bySev, byStatus, byMonth, closed) },
		func() (err error) { byBody, err = aggDeadlines(ctx, c, s, q.Type, w, "body"); return err },
		func() (err error) { bySchool, err = aggDeadlines(ctx, c, s, q.Type, w, "school"); return err },
		func() (err error) { openBody, openSchool, err = openDeadlines(ctx, c, s, q.Type, w); return err },
	}
	if withContacts {
		parts = append(parts, func() error { return aggContacts(ctx, c, w, contacts) })
	}
	// The ragged edges of the period, from the base tables (the whole
	// scope: the caller has made sure the viewer may count all of it). An
	// edge that is most of its month is counted as the month's totals less
	// the base tables' count of the rest of the month: every figure adds up
	// over time (a deadline's "waiting" is split into open and missed on
	// the edge itself, openNow).
	type edgeParts struct {
		add, sub  []stats.Figures
		deadlines [2][]stats.DeadlineRow
	}
	eds := make([]edgeParts, len(w.edges))
	for i, e := range w.edges {
		// the base tables' figures of [from, to); what: the deadlines too
		// (an edge's rest of the month takes its deadlines from
		// baseTallies below), and none of an empty stretch
		base := func(from, to time.Time, into *stats.Figures, what baseParts) func() error {
			eq := q
			eq.From, eq.To, eq.Exact = from, to, false
			return func() (err error) {
				if !from.Before(to) {
					return nil
				}
				*into, err = dashboardBase(ctx, c, access.Principal{}, eq, what)
				return err
			}
		}
		ms := monthStart(e[0])
		me := nextMonth(e[0])
		if e[1].After(me) || e[0].Sub(ms)+me.Sub(e[1]) >= e[1].Sub(e[0]) {
			eds[i].add = make([]stats.Figures, 1)
			parts = append(parts, base(e[0], e[1], &eds[i].add[0], baseDeadlines))
			continue
		}
		eds[i].add = make([]stats.Figures, 1)
		eds[i].sub = make([]stats.Figures, 2)
		mw := aggWindow{m1: monthKey(ms), m2: monthKey(me), ok: true}
		parts = append(parts, func() error {
			f := &eds[i].add[0]
			mt, ms2, mst, mm, mc := map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}, map[string]int{}
			if err := aggCases(ctx, c, s, q.Type, mw, f, mt, ms2, mst, mm, mc); err != nil {
				return err
			}
			f.ByType, f.BySeverity, f.ByStatus, f.NewByMonth, f.ClosedByMonth = sortedCounts(mt), sortedCounts(ms2), sortedCounts(mst), sortedCounts(mm), sortedCounts(mc)
			if withContacts {
				cs := map[string]map[string]int{}
				if err := aggContacts(ctx, c, mw, cs); err != nil {
					return err
				}
				f.ContactsByChannel, f.ByCategory = sortedCounts(cs["channel"]), sortedCounts(cs["category"])
				f.ContactsByHour, f.ContactsByWday = sortedCounts(cs["hour"]), sortedCounts(cs["wday"])
			}
			return nil
		}, base(ms, e[0], &eds[i].sub[0], 0), base(e[1], me, &eds[i].sub[1], 0),
			func() error {
				// the month's deadline totals less the rest's, and the open now of the edge
				tb, err := aggDeadlines(ctx, c, s, q.Type, mw, "body")
				if err != nil {
					return err
				}
				ts, err := aggDeadlines(ctx, c, s, q.Type, mw, "school")
				if err != nil {
					return err
				}
				for _, rest := range [][2]time.Time{{ms, e[0]}, {e[1], me}} {
					if !rest[0].Before(rest[1]) {
						continue
					}
					bb, bs, err := baseTallies(ctx, c, s, q.Type, rest)
					if err != nil {
						return err
					}
					for id, t := range bb {
						addTally(tb, id, *t, -1)
					}
					for id, t := range bs {
						addTally(ts, id, *t, -1)
					}
				}
				ob, osch, err := openNow(ctx, c, s, q.Type, e, time.Time{})
				if err != nil {
					return err
				}
				addOpen(tb, ob)
				addOpen(ts, osch)
				if eds[i].deadlines[0], err = deadlineRowsOf(ctx, c, tb); err != nil {
					return err
				}
				eds[i].deadlines[1], err = deadlineRowsOf(ctx, c, ts)
				return err
			})
	}
	if err := parallel(parts...); err != nil {
		return d, err
	}
	addOpen(byBody, openBody)
	addOpen(bySchool, openSchool)
	var err error
	if d.ByBody, err = deadlineRowsOf(ctx, c, byBody); err != nil {
		return d, err
	}
	if d.BySchool, err = deadlineRowsOf(ctx, c, bySchool); err != nil {
		return d, err
	}
	merge := func(ed stats.Figures, sign int) {
		add := func(m map[string]int, cs []stats.Count) {
			for _, k := range cs {
				m[k.Key] += sign * k.N
			}
		}
		d.Cases += sign * ed.Cases
		add(byType, ed.ByType)
		add(bySev, ed.BySeverity)
		add(byStatus, ed.ByStatus)
		add(byMonth, ed.NewByMonth)
		add(closed, ed.ClosedByMonth)
		if withContacts {
			for dim, cs := range map[string][]stats.Count{"channel": ed.ContactsByChannel, "category": ed.ByCategory,
				"hour": ed.ContactsByHour, "wday": ed.ContactsByWday} {
				if contacts[dim] == nil {
					contacts[dim] = map[string]int{}
				}
				add(contacts[dim], cs)
			}
		}
	}
	for _, ed := range eds {
		for _, f := range ed.add {
			merge(f, 1)
			d.ByBody = mergeDeadlines(d.ByBody, f.ByBody)
			d.BySchool = mergeDeadlines(d.BySchool, f.BySchool)
		}
		for _, f := range ed.sub {
			merge(f, -1)
		}
		d.ByBody = mergeDeadlines(d.ByBody, ed.deadlines[0])
		d.BySchool = mergeDeadlines(d.BySchool, ed.deadlines[1])
	}
	for _, m := range append([]map[string]int{byType, bySev, byStatus, byMonth, closed}, contacts["channel"], contacts["category"],
		contacts["hour"], contacts["wday"]) {
		maps.DeleteFunc(m, func(_ string, n int) bool { return n == 0 })
	}
	d.ByType, d.BySeverity, d.ByStatus, d.NewByMonth = sortedCounts(byType), sortedCounts(bySev), sortedCounts(byStatus), sortedCounts(byMonth)
	d.ClosedByMonth = sortedCounts(closed)
	if withContacts {
		d.ContactsByChannel, d.ByCategory = sortedCounts(contacts["channel"]), sortedCounts(contacts["category"])
		d.ContactsByHour, d.ContactsByWday = sortedCounts(contacts["hour"]), sortedCounts(contacts["wday"])
		for _, k := range d.ContactsByChannel {
			d.Contacts += k.N
		}
	}
	return d, nil
}

// parallel runs fns side by side and returns their errors.
func parallel(fns ...func() error) error {
	errs := make([]error, len(fns))
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() { errs[i] = fn() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// deltaSource is the delta rows of each total as a relation: the delta
// table itself (SQLite, one writer), or on PostgreSQL the rows one
// DELETE … RETURNING took, so that exactly what is folded is removed even
// while writers append.
func caseFoldSQL(src string) (counts, closed, due, rollups string) {
	expand := func(cols, where string) string {
		return `SELECT 'c' AS scope, ` + cols + ` FROM ` + src + ` WHERE ` + where + `
			UNION ALL SELECT 'd:' || district_code, ` + cols + ` FROM ` + src + ` WHERE district_code IS NOT NULL AND ` + where + `
			UNION ALL SELECT 's:' || school_id, ` + cols + ` FROM ` + src + ` WHERE school_id IS NOT NULL AND ` + where + `
			UNION ALL SELECT 'b:' || lead_org_id, ` + cols + ` FROM ` + src + ` WHERE lead_org_id IS NOT NULL AND ` + where
	}
	counts = `INSERT INTO case_counts (scope, type_code, month, severity, status, n)
		SELECT scope, type_code, month, severity, status, SUM(n) FROM (` + expand(`type_code, month, severity, status, n`, `1 = 1`) + `) x
		GROUP BY scope, type_code, month, severity, status
		ON CONFLICT (scope, type_code, month, severity, status) DO UPDATE SET n = case_counts.n + excluded.n`
	closed = `INSERT INTO case_closed_counts (scope, type_code, month, n)
		SELECT scope, type_code, closed_month, SUM(n) FROM (` + expand(`type_code, closed_month, n`, `closed_month <> ''`) + `) x
		GROUP BY scope, type_code, closed_month
		ON CONFLICT (scope, type_code, month) DO UPDATE SET n = case_closed_counts.n + excluded.n`
	rollups = `INSERT INTO case_rollups (scope, dim, key, month, n)
		SELECT scope, dim, key, month, SUM(n) FROM (` + expand(`'type' AS dim, type_code AS key, month, n`, `1 = 1`) + `
			UNION ALL ` + expand(`'severity', severity, month, n`, `1 = 1`) + `
			UNION ALL ` + expand(`'status', status, month, n`, `1 = 1`) + `) x
		GROUP BY scope, dim, key, month
		ON CONFLICT (scope, dim, month, key) DO UPDATE SET n = case_rollups.n + excluded.n`
	due = `INSERT INTO case_due_counts (scope, type_code, owner_id, month, n)
		SELECT scope, type_code, owner_id, due_month, SUM(n) FROM (` + expand(`type_code, owner_id, due_month, n`, `due_month <> ''`) + `) x
		GROUP BY scope, type_code, owner_id, due_month
		ON CONFLICT (scope, type_code, owner_id, month) DO UPDATE SET n = case_due_counts.n + excluded.n`
	return counts, closed, due, rollups
}

const refSums = `SUM(ack_met), SUM(ack_late), SUM(ack_waiting), SUM(done_met), SUM(done_late), SUM(done_waiting), SUM(n)`
const refCols = `ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n`

// refFlags are a referral r's columns refCols, as the triggers write them.
const refFlags = `CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN 1 ELSE 0 END AS ack_met,
		CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN 1 ELSE 0 END AS ack_late,
		CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN 1 ELSE 0 END AS ack_waiting,
		CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN 1 ELSE 0 END AS done_met,
		CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN 1 ELSE 0 END AS done_late,
		CASE WHEN r.closed_at IS NULL THEN 1 ELSE 0 END AS done_waiting, 1 AS n`

func refUpdate(table string) string {
	var s []string
	for _, c := range strings.Split(refCols, ", ") {
		s = append(s, c+` = `+table+`.`+c+` + excluded.`+c)
	}
	return strings.Join(s, ", ")
}

func referralFoldSQL(src string) (body, school, bodyRollups, schoolRollups string) {
	bodyRows := `SELECT 'c' AS scope, to_org_id, type_code, month, ` + refCols + ` FROM ` + src + `
			UNION ALL SELECT 'd:' || district_code, to_org_id, type_code, month, ` + refCols + ` FROM ` + src + ` WHERE district_code IS NOT NULL
			UNION ALL SELECT 's:' || school_id, to_org_id, type_code, month, ` + refCols + ` FROM ` + src + ` WHERE school_id IS NOT NULL`
	schoolRows := `SELECT 'c' AS scope, school_id, type_code, month, ` + refCols + ` FROM ` + src + ` WHERE school_id IS NOT NULL
			UNION ALL SELECT 'd:' || district_code, school_id, type_code, month, ` + refCols + ` FROM ` + src + ` WHERE school_id IS NOT NULL AND district_code IS NOT NULL
			UNION ALL SELECT 'r:' || to_org_id, school_id, type_code, month, ` + refCols + ` FROM ` + src + ` WHERE school_id IS NOT NULL`
	// by month, and over all months as month '*' (ADR 0038)
	allMonths := func(rows string) string {
		return `SELECT x.*, x.month AS m FROM (` + rows + `) x UNION ALL SELECT x.*, '*' FROM (` + rows + `) x`
	}
	body = `INSERT INTO referral_body_counts (scope, to_org_id, type_code, month, ` + refCols + `)
		SELECT scope, to_org_id, type_code, m, ` + refSums + ` FROM (` + allMonths(bodyRows) + `) y GROUP BY scope, to_org_id, type_code, m
		ON CONFLICT (scope, to_org_id, type_code, month) DO UPDATE SET ` + refUpdate("referral_body_counts")
	school = `INSERT INTO referral_school_counts (scope, school_id, type_code, month, ` + refCols + `)
		SELECT scope, school_id, type_code, m, ` + refSums + ` FROM (` + allMonths(schoolRows) + `) y GROUP BY scope, school_id, type_code, m
		ON CONFLICT (scope, school_id, type_code, month) DO UPDATE SET ` + refUpdate("referral_school_counts")
	rollup := func(kind, col, rows string) string {
		return `INSERT INTO referral_rollups (scope, by_kind, org_id, month, ` + refCols + `)
		SELECT scope, '` + kind + `', ` + col + `, m, ` + refSums + ` FROM (` + allMonths(rows) + `) y GROUP BY scope, ` + col + `, m
		ON CONFLICT (scope, by_kind, month, org_id) DO UPDATE SET ` + refUpdate("referral_rollups")
	}
	return body, school, rollup("b", "to_org_id", bodyRows), rollup("s", "school_id", schoolRows)
}

// openFoldSQL adds the waiting referrals' deltas in src into
// referral_open_counts, by the day each deadline falls on (migration
// 00031); a delta row with no day (written before it) is left out, the
// migration having counted the base tables.
func openFoldSQL(src string) string {
	w := `SELECT district_code, school_id, to_org_id, type_code, month, 'a' AS due_kind, ack_due_day AS due_day, ack_waiting AS n FROM ` + src + `
			WHERE ack_waiting <> 0 AND ack_due_day <> ''
		UNION ALL SELECT district_code, school_id, to_org_id, type_code, month, 'd', done_due_day, done_waiting FROM ` + src + `
			WHERE done_waiting <> 0 AND done_due_day <> ''`
	return `INSERT INTO referral_open_counts (scope, by_kind, due_kind, due_day, month, org_id, type_code, n)
		SELECT scope, by_kind, due_kind, due_day, month, org_id, type_code, SUM(n) FROM (
			SELECT 'c' AS scope, 'b' AS by_kind, due_kind, due_day, month, to_org_id AS org_id, type_code, n FROM (` + w + `) w
			UNION ALL SELECT 'd:' || district_code, 'b', due_kind, due_day, month, to_org_id, type_code, n FROM (` + w + `) w WHERE district_code IS NOT NULL
			UNION ALL SELECT 's:' || school_id, 'b', due_kind, due_day, month, to_org_id, type_code, n FROM (` + w + `) w WHERE school_id IS NOT NULL
			UNION ALL SELECT 'c', 's', due_kind, due_day, month, school_id, type_code, n FROM (` + w + `) w WHERE school_id IS NOT NULL
			UNION ALL SELECT 'd:' || district_code, 's', due_kind, due_day, month, school_id, type_code, n FROM (` + w + `) w
				WHERE school_id IS NOT NULL AND district_code IS NOT NULL
			UNION ALL SELECT 'r:' || to_org_id, 's', due_kind, due_day, month, school_id, type_code, n FROM (` + w + `) w WHERE school_id IS NOT NULL
		) x GROUP BY scope, by_kind, due_kind, due_day, month, org_id, type_code
		ON CONFLICT (scope, by_kind, due_kind, due_day, month, org_id, type_code) DO UPDATE SET n = referral_open_counts.n + excluded.n`
}

func contactFoldSQL(src string) string {
	return `INSERT INTO contact_counts (month, dim, key, n)
		SELECT month, dim, key, SUM(n) FROM ` + src + ` x GROUP BY month, dim, key
		ON CONFLICT (month, dim, key) DO UPDATE SET n = contact_counts.n + excluded.n`
}

// fold adds every delta into the totals and removes it, in c's
// transaction.
func fold(ctx context.Context, c conn) error {
	cc, ccl, cdu, cro := caseFoldSQL(`case_count_delta`)
	rb, rs, rbr, rsr := referralFoldSQL(`referral_count_delta`)
	ro := openFoldSQL(`referral_count_delta`)
	ct := contactFoldSQL(`contact_count_delta`)
	roll := rollFoldSQL(`child_roll_delta`)
	if c.engine == Postgres {
		// One statement per delta table: what DELETE … RETURNING removed
		// is what is added, whatever commits meanwhile.
		cc, ccl, cdu, cro = caseFoldSQL(`d`)
		rb, rs, rbr, rsr = referralFoldSQL(`d`)
		ro = openFoldSQL(`d`)
		for _, st := range []string{
			`WITH d AS (DELETE FROM case_count_delta RETURNING *), a AS (` + cc + ` RETURNING 1), b AS (` + ccl + ` RETURNING 1), e AS (` + cro + ` RETURNING 1) ` + cdu,
			`WITH d AS (DELETE FROM referral_count_delta RETURNING *), a AS (` + rb + ` RETURNING 1), b AS (` + rbr + ` RETURNING 1), e AS (` + rsr + ` RETURNING 1), f AS (` + ro + ` RETURNING 1) ` + rs,
			`WITH d AS (DELETE FROM contact_count_delta RETURNING *) ` + contactFoldSQL(`d`),
			`WITH d AS (DELETE FROM child_roll_delta RETURNING *) ` + rollFoldSQL(`d`),
		} {
			if _, err := c.exec(ctx, st); err != nil {
				return fmt.Errorf("fold: %w", err)
			}
		}
	} else {
		for _, st := range []string{cc, ccl, cdu, cro, `DELETE FROM case_count_delta`, rb, rs, rbr, rsr, ro, `DELETE FROM referral_count_delta`,
			ct, `DELETE FROM contact_count_delta`, roll, `DELETE FROM child_roll_delta`} {
			if _, err := c.exec(ctx, st); err != nil {
				return fmt.Errorf("fold: %w", err)
			}
		}
	}
	// Totals that came to zero carry nothing.
	for _, t := range []string{`case_counts`, `case_closed_counts`, `case_due_counts`, `contact_counts`, `case_rollups`, `child_roll_counts`, `referral_open_counts`} {
		if _, err := c.exec(ctx, `DELETE FROM `+t+` WHERE n = 0`); err != nil {
			return fmt.Errorf("fold: %w", err)
		}
	}
	for _, t := range []string{`referral_body_counts`, `referral_school_counts`, `referral_rollups`} {
		if _, err := c.exec(ctx, `DELETE FROM `+t+` WHERE n = 0 AND ack_met = 0 AND ack_late = 0 AND ack_waiting = 0
			AND done_met = 0 AND done_late = 0 AND done_waiting = 0`); err != nil {
			return fmt.Errorf("fold: %w", err)
		}
	}
	return nil
}

// rollFoldSQL adds the roll's deltas in src into the schools' rolls.
func rollFoldSQL(src string) string {
	return `INSERT INTO child_roll_counts (school_id, n)
		SELECT school_id, SUM(n) FROM ` + src + ` x GROUP BY school_id
		ON CONFLICT (school_id) DO UPDATE SET n = child_roll_counts.n + excluded.n`
}

// FoldStats adds the dashboards' pending deltas into their totals (the
// job fold_stats). Counts only, no child's data. It returns the delta
// rows it folded.
func (db *DB) FoldStats(ctx context.Context) (n int, err error) {
	defer apperr.Wrap(&err, "storage.FoldStats")
	err = db.inTx(ctx, func(c conn) error {
		if err := c.queryRow(ctx, `SELECT (SELECT COUNT(*) FROM case_count_delta) + (SELECT COUNT(*) FROM referral_count_delta)
			+ (SELECT COUNT(*) FROM contact_count_delta) + (SELECT COUNT(*) FROM child_roll_delta)`).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		return fold(ctx, c)
	})
	return n, err
}

// The delta rows of everything in the base tables, as the triggers would
// have written them one write at a time.
func rebuildSQL(e Engine) []string {
	m := func(col string) string { return bucket(e, col, "month") }
	return []string{
		`INSERT INTO case_count_delta SELECT k.district_code, k.school_id, k.lead_org_id, k.type_code, ` + m(`k.created_at`) +
			`, k.severity, k.status, COALESCE(` + m(`k.closed_at`) + `, ''), COALESCE(k.owner_id, 0), COALESCE(CASE WHEN k.queue_key < ` +
			strconv.FormatInt(closedOffset, 10) + ` THEN ` + m(`k.due_at`) + ` END, ''), 1 FROM cases k`,
		`INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ` + refCols + `, ack_due_day, done_due_day)
			SELECT k.district_code, k.school_id, r.to_org_id, k.type_code, ` + m(`r.sent_at`) + `, ` + refFlags + `,
			COALESCE(` + dueDay(e, `r.ack_due`) + `, ''), COALESCE(` + dueDay(e, `r.complete_due`) + `, '') FROM referrals r JOIN cases k ON k.id = r.case_id`,
		`INSERT INTO contact_count_delta SELECT ` + m(`t.received_at`) + `, 'channel', t.channel, 1 FROM contacts t`,
		`INSERT INTO contact_count_delta SELECT ` + m(`t.received_at`) + `, 'hour', ` + bucket(e, `t.received_at`, "hour") + `, 1 FROM contacts t`,
		`INSERT INTO contact_count_delta SELECT ` + m(`t.received_at`) + `, 'wday', ` + bucket(e, `t.received_at`, "wday") + `, 1 FROM contacts t`,
		`INSERT INTO contact_count_delta SELECT ` + m(`t.received_at`) + `, 'category', g.code, 1 FROM contacts t JOIN contact_categories g ON g.contact_id = t.id`,
		`INSERT INTO child_roll_delta SELECT ch.school_id, COUNT(*) FROM children ch WHERE ch.school_id IS NOT NULL AND ch.merged_into IS NULL GROUP BY ch.school_id`,
	}
}

// aggTables are the totals and deltas, emptied by a rebuild.
var aggTables = []string{`case_counts`, `case_closed_counts`, `case_due_counts`, `referral_body_counts`, `referral_school_counts`, `contact_counts`,
	`case_count_delta`, `referral_count_delta`, `contact_count_delta`, `case_rollups`, `referral_rollups`, `child_roll_counts`, `child_roll_delta`, `referral_open_counts`}

// RebuildStats recomputes the dashboards' totals from the base tables
// (`dayaq stats rebuild`, and after a bulk load). On PostgreSQL the base
// tables are locked against writes (not reads) meanwhile, so that no write
// is counted twice or lost. Counts only, no child's data.
func (db *DB) RebuildStats(ctx context.Context) (err error) {
	defer apperr.Wrap(&err, "storage.RebuildStats")
	return db.inTx(ctx, func(c conn) error {
		if c.engine == Postgres {
			if _, err := c.exec(ctx, `LOCK TABLE cases, referrals, contacts, contact_categories, children IN SHARE MODE`); err != nil {
				return err
			}
			if _, err := c.exec(ctx, `LOCK TABLE `+strings.Join(aggTables, ", ")+` IN EXCLUSIVE MODE`); err != nil {
				return err
			}
		}
		for _, t := range aggTables {
			if _, err := c.exec(ctx, `DELETE FROM `+t); err != nil {
				return err
			}
		}
		for _, st := range rebuildSQL(c.engine) {
			if _, err := c.exec(ctx, st); err != nil {
				return fmt.Errorf("rebuild: %w", err)
			}
		}
		return fold(ctx, c)
	})
}

// aggOverdue counts the open cases of s past their running deadline now,
// by owner: those due before this month from the totals, this month's
// from the base tables (cases_due).
func aggOverdue(ctx context.Context, c conn, s aggScope, q StatsQuery) ([]stats.OwnerCount, error) {
	this := monthStart(c.now)
	tc, targs := typeCond(`type_code`, q.Type)
	dcol, dargs := deltaCaseCol(s)
	m := monthKey(this)
	args := append(append([]any{s.key(), m}, targs...), dargs...)
	args = append(append(args, m), targs...)
	rows, err := c.query(ctx, `SELECT owner_id, SUM(n) FROM (
		SELECT owner_id, n FROM case_due_counts WHERE scope = ? AND month < ? AND `+tc+`
		UNION ALL
		SELECT owner_id, n FROM case_count_delta WHERE `+dcol+` AND due_month <> '' AND due_month < ? AND `+tc+`
	) x GROUP BY owner_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("overdue totals: %w", err)
	}
	by := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			rows.Close()
			return nil, err
		}
		if n != 0 {
			by[id] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	cq := q
	cq.From, cq.To, cq.Exact = time.Time{}, time.Time{}, false
	recent, err := overdueByOwnerSince(ctx, c, access.Principal{}, cq, this)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, o := range recent {
		by[o.UserID] += o.N
		names[o.UserID] = o.Name
	}
	var ids []any
	for id := range by {
		if _, ok := names[id]; !ok && id != 0 {
			ids = append(ids, id)
		}
	}
	if len(ids) > 0 {
		rows, err := c.query(ctx, `SELECT id, name FROM users WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")+`)`, ids...)
		if err != nil {
			return nil, fmt.Errorf("overdue owners: %w", err)
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			names[id] = name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	out := make([]stats.OwnerCount, 0, len(by))
	for id, n := range by {
		out = append(out, stats.OwnerCount{UserID: id, Name: names[id], N: n})
	}
	slices.SortFunc(out, func(a, b stats.OwnerCount) int {
		if a.N != b.N {
			return b.N - a.N
		}
		return int(a.UserID - b.UserID)
	})
	return out, nil
}
