package storage

import (
	"context"
	"fmt"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/stats"
)

// supportScope is the condition on a school column for q's district or
// school: through the schools' own indexes (orgs by district, then each
// table's index led by the school), so a district's or a school's count
// reads only its rows.
func supportScope(col string, q StatsQuery) (string, []any) {
	where, args := `1 = 1`, []any{}
	if q.SchoolID != 0 {
		where += ` AND ` + col + ` = ?`
		args = append(args, q.SchoolID)
	}
	if q.District != "" {
		where += ` AND ` + col + ` IN (SELECT o.id FROM orgs o WHERE o.district_code = ? AND o.type = 'school')`
		args = append(args, q.District)
	}
	return where, args
}

// planScope is the condition on plans pl for a school or a district: a
// district's are the plans of its schools; a school's are its plans of
// the pupils still on its roll, as the plan policy lets the school list
// them (a pupil who moved keeps the plan at the old school, which no
// longer sees it; ADR 0039).
func planScope(schoolID int64, district string) (string, []any) {
	where, args := supportScope(`pl.school_id`, StatsQuery{SchoolID: schoolID, District: district})
	if schoolID != 0 {
		where += ` AND pl.child_id IN (SELECT ch.id FROM children ch WHERE ch.school_id = ?)`
		args = append(args, schoolID)
	}
	return where, args
}

// period adds q's period on the timestamp column col.
func period(where string, args []any, col string, q StatsQuery) (string, []any) {
	if !q.From.IsZero() {
		where += ` AND ` + col + ` >= ?`
		args = append(args, q.From)
	}
	if !q.To.IsZero() {
		where += ` AND ` + col + ` < ?`
		args = append(args, q.To)
	}
	return where, args
}

// SupportCounts counts the support figures of q's city, district or
// school: the register (now), the pupils on the roll and those screened in
// the period, the recovery plans (now), the parent events and the
// campaign's showings in the period. It counts the whole scope; the caller
// shows the counts as they are only where access.DecideSupportStats says
// the viewer may list every child or event counted, and suppresses them
// elsewhere. Counts carry no child's data, so they are not audited; the
// lists behind them are. A body's or a case type's dashboard has none.
func (db *DB) SupportCounts(ctx context.Context, a audit.Actor, q StatsQuery) (s stats.Support, err error) {
	defer apperr.Wrap(&err, "storage.SupportCounts")
	if q.BodyID != 0 || q.Type != "" || !a.Principal.Authenticated() {
		return s, nil
	}
	c := db.reader()
	one := func(query string, args ...any) (int, error) {
		var n int
		err := c.queryRow(ctx, query, args...).Scan(&n)
		return n, err
	}

	// Seven independent counts, read side by side on the read pool; each
	// sets its own fields of s.
	err = parallel(func() error {
		// an entry counts at the pupil's school now, where the screening
		// policy lists it (ADR 0039): a school's or a district's from its
		// pupils (children (school_id, …), then register_entries (child_id, …))
		where, args := supportScope(`ch.school_id`, q)
		from := `register_entries e`
		if q.SchoolID != 0 || q.District != "" {
			from, where = `children ch CROSS JOIN register_entries e`, `e.child_id = ch.id AND `+where
		}
		rows, err := c.query(ctx, `SELECT e.status, e.level, COUNT(*) FROM `+from+`
		WHERE e.status IN ('proposed', 'active') AND `+where+` GROUP BY e.status, e.level ORDER BY 1, 2`, args...)
		if err != nil {
			return fmt.Errorf("register: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var st, lv string
			var n int
			if err := rows.Scan(&st, &lv, &n); err != nil {
				return err
			}
			if st == "active" {
				s.RegisterByLevel = append(s.RegisterByLevel, stats.Count{Key: lv, N: n})
			} else {
				s.Proposed += n
			}
		}
		return rows.Err()
	}, func() (err error) {
		// the roll: each school's count kept by the children's triggers
		// (migration 00026), plus what is not folded yet
		where, args := supportScope(`x.school_id`, q)
		if s.Roll, err = one(`SELECT COALESCE(SUM(x.n), 0) FROM (SELECT school_id, n FROM child_roll_counts
		UNION ALL SELECT school_id, n FROM child_roll_delta) x WHERE `+where, args...); err != nil {
			return fmt.Errorf("roll: %w", err)
		}
		return nil
	}, func() (err error) {
		// screened: pupils on the roll with an answer set entered at their
		// school in the period, each once
		where, args := supportScope(`sa.school_id`, q)
		where, args = period(where, args, `sa.created_at`, q)
		if s.Screened, err = one(`SELECT COUNT(DISTINCT sa.child_id) FROM screening_answers sa CROSS JOIN children ch
		WHERE ch.id = sa.child_id AND ch.school_id = sa.school_id AND ch.merged_into IS NULL AND `+where, args...); err != nil {
			return fmt.Errorf("screened: %w", err)
		}
		return nil
	}, func() error {
		where, args := planScope(q.SchoolID, q.District)
		rows, err := c.query(ctx, `SELECT pl.status, pl.outcome, COUNT(*) FROM plans pl WHERE `+where+` GROUP BY pl.status, pl.outcome ORDER BY 1, 2`, args...)
		if err != nil {
			return fmt.Errorf("plans: %w", err)
		}
		defer rows.Close()
		byStatus, byOutcome := map[string]int{}, map[string]int{}
		for rows.Next() {
			var st, out string
			var n int
			if err := rows.Scan(&st, &out, &n); err != nil {
				return err
			}
			byStatus[st] += n
			if st == "closed" && out != "" {
				byOutcome[out] += n
			}
			if st != "closed" {
				s.LivePlans += n
			}
		}
		s.PlansByStatus, s.PlansByOutcome = sortedCounts(byStatus), sortedCounts(byOutcome)
		return rows.Err()
	}, func() (err error) {
		where, args := planScope(q.SchoolID, q.District)
		if s.ReviewsOverdue, err = one(`SELECT COUNT(*) FROM plans pl WHERE pl.status <> 'closed' AND pl.next_review_due < ? AND `+where,
			append([]any{c.now}, args...)...); err != nil {
			return fmt.Errorf("plan reviews: %w", err)
		}
		return nil
	}, func() error {
		where, args := supportScope(`ev.school_id`, q)
		where, args = period(where, args, `ev.starts_at`, q)
		rows, err := c.query(ctx, `SELECT ev.status, COUNT(*), COALESCE(SUM(ev.head_count), 0) FROM parent_events ev WHERE `+where+
			` GROUP BY ev.status ORDER BY 1`, args...)
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var st string
			var n, head int
			if err := rows.Scan(&st, &n, &head); err != nil {
				return err
			}
			s.EventsByStatus = append(s.EventsByStatus, stats.Count{Key: st, N: n})
			if st == "held" {
				s.HeadCount = head
			}
		}
		return rows.Err()
	}, func() error {
		where, args := supportScope(`sh.school_id`, q)
		where, args = period(where, args, `sh.shown_at`, q)
		rows, err := c.query(ctx, `SELECT m.kind, COUNT(*), COALESCE(SUM(sh.pupils), 0), COALESCE(SUM(sh.parents), 0)
		FROM campaign_showings sh CROSS JOIN campaign_materials m WHERE m.id = sh.material_id AND `+where+` GROUP BY m.kind ORDER BY 1`, args...)
		if err != nil {
			return fmt.Errorf("showings: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var kind string
			var n, pupils, parents int
			if err := rows.Scan(&kind, &n, &pupils, &parents); err != nil {
				return err
			}
			s.ShowingsByKind = append(s.ShowingsByKind, stats.Count{Key: kind, N: n})
			s.ReachPupils += pupils
			s.ReachParents += parents
		}
		return rows.Err()
	})
	return s, err
}

// PublicRegisterCounts counts the active register entries by the district
// of the pupil's school now (as the dashboards do, ADR 0039) and the risk
// level: the base of the public table "register by
// district × risk level", suppressed (internal/disclosure) before anyone
// sees it.
func (db *DB) PublicRegisterCounts(ctx context.Context) (out []stats.Group, err error) {
	defer apperr.Wrap(&err, "storage.PublicRegisterCounts")
	c := db.reader()
	rows, err := c.query(ctx, `SELECT COALESCE(o.district_code, ''), e.level, COUNT(*) FROM register_entries e CROSS JOIN children ch CROSS JOIN orgs o
		WHERE ch.id = e.child_id AND o.id = ch.school_id AND e.status = 'active' GROUP BY 1, 2 ORDER BY 1, 2`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d, lv string
		var n int
		if err := rows.Scan(&d, &lv, &n); err != nil {
			return nil, err
		}
		out = append(out, stats.Group{Keys: []string{d, lv}, N: n})
	}
	return out, rows.Err()
}
