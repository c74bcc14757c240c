package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"dayaq/internal/apperr"
)

// The bulk paths of `dayaq bench dashboard` for the support figures
// (ADR 0045): parent events with attendance, campaign showings, and the
// spread of plans over statuses, outcomes and reviews. Rows go straight
// in, many a statement, with no policy and no audit, as the other bulk
// seeders (a benchmark's seeding is nobody's reading or writing).

// BulkEvent is one parent event to load, with the pupils whose parents came.
type BulkEvent struct {
	SchoolID  int64
	StartsAt  time.Time
	Status    string // planned, held or cancelled
	HeadCount int
	Attended  []int64 // children
}

// InsertEventsBulk loads es and their attendance in one transaction.
func (db *DB) InsertEventsBulk(ctx context.Context, es []BulkEvent) (err error) {
	defer apperr.Wrap(&err, "storage.InsertEventsBulk(%d)", len(es))
	return db.inTx(ctx, func(c conn) error {
		var base int64
		if err := c.queryRow(ctx, `SELECT COALESCE(MAX(id), 0) FROM parent_events`).Scan(&base); err != nil {
			return err
		}
		const rowsPer, cols = 500, 9
		for start := 0; start < len(es); start += rowsPer {
			part := es[start:min(len(es), start+rowsPer)]
			args := make([]any, 0, len(part)*cols)
			for i, e := range part {
				args = append(args, e.SchoolID, e.StartsAt, "Akt zalı", e.Status, e.HeadCount,
					fmt.Sprintf("BENCH-%d", base+int64(start+i)+1), "bench", c.now, c.now)
			}
			ids, err := queryIDs(ctx, c, `INSERT INTO parent_events (school_id, starts_at, place, whole_school, speaker_kind, status, head_count,
				feedback_code, notes, created_at, updated_at) VALUES `+valuesWith(len(part), `(?, ?, ?, TRUE, 'psychologist', ?, ?, ?, ?, ?, ?)`)+` RETURNING id`, args...)
			if err != nil {
				return fmt.Errorf("bulk events: %w", err)
			}
			if len(ids) != len(part) {
				return fmt.Errorf("bulk events: %d IDs for %d rows", len(ids), len(part))
			}
			slices.Sort(ids) // VALUES order; RETURNING's order is not promised
			var aargs []any
			n := 0
			flush := func() error {
				if n == 0 {
					return nil
				}
				_, err := c.exec(ctx, `INSERT INTO parent_event_attendance (event_id, child_id, recorded_at) VALUES `+valuesList(n, 3), aargs...)
				aargs, n = aargs[:0], 0
				return err
			}
			for i, e := range part {
				for _, ch := range e.Attended {
					aargs = append(aargs, ids[i], ch, c.now)
					if n++; n == 3000 {
						if err := flush(); err != nil {
							return fmt.Errorf("bulk attendance: %w", err)
						}
					}
				}
			}
			if err := flush(); err != nil {
				return fmt.Errorf("bulk attendance: %w", err)
			}
		}
		return nil
	})
}

// BulkShowing is one campaign showing to load, of a material of Kind.
type BulkShowing struct {
	SchoolID        int64
	Kind            string // video, poster or leaflet
	ShownAt         time.Time
	Pupils, Parents int
}

// InsertShowingsBulk loads ss in one transaction, with one synthetic
// material of each kind they name (made the first time).
func (db *DB) InsertShowingsBulk(ctx context.Context, ss []BulkShowing) (err error) {
	defer apperr.Wrap(&err, "storage.InsertShowingsBulk(%d)", len(ss))
	return db.inTx(ctx, func(c conn) error {
		material := map[string]int64{}
		for _, s := range ss {
			if material[s.Kind] != 0 {
				continue
			}
			var id int64
			err := c.queryRow(ctx, `SELECT COALESCE(MIN(id), 0) FROM campaign_materials WHERE kind = ? AND title = 'Sintetik material'`, s.Kind).Scan(&id)
			if err != nil {
				return err
			}
			if id == 0 {
				if err := c.queryRow(ctx, `INSERT INTO campaign_materials (kind, title, languages, audience, created_at, updated_at)
					VALUES (?, 'Sintetik material', 'az,ru', 'children', ?, ?) RETURNING id`, s.Kind, c.now, c.now).Scan(&id); err != nil {
					return err
				}
			}
			material[s.Kind] = id
		}
		const rowsPer, cols = 1000, 8
		for start := 0; start < len(ss); start += rowsPer {
			part := ss[start:min(len(ss), start+rowsPer)]
			args := make([]any, 0, len(part)*cols)
			for _, s := range part {
				args = append(args, s.SchoolID, material[s.Kind], s.ShownAt, s.Pupils, s.Parents, "psixoloq", c.now, c.now)
			}
			if _, err := c.exec(ctx, `INSERT INTO campaign_showings (school_id, material_id, shown_at, pupils, parents, shown_by, created_at, updated_at)
				VALUES `+valuesList(len(part), cols), args...); err != nil {
				return fmt.Errorf("bulk showings: %w", err)
			}
		}
		return nil
	})
}

// SpreadPlansBulk gives the plans SeedPlansBulk opened (those with no
// creator: it names none, every user's plan has one) the spread of a
// running year: of every 20 by ID, 6 closed with an outcome (goals met,
// partly met, not met, moved), 2 still drafts, and of the live ones one in
// four past its review date. It returns how many it closed.
func (db *DB) SpreadPlansBulk(ctx context.Context) (closed int64, err error) {
	defer apperr.Wrap(&err, "storage.SpreadPlansBulk")
	err = db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE plans SET status = 'closed', next_review_due = NULL, closed_at = ?, closure_note = 'Sintetik',
			outcome = CASE id % 4 WHEN 0 THEN 'goals_met' WHEN 1 THEN 'partly_met' WHEN 2 THEN 'not_met' ELSE 'moved' END
			WHERE status = 'active' AND created_by IS NULL AND id % 20 < 6`, c.now.AddDate(0, 0, -10))
		if err != nil {
			return err
		}
		closed, _ = res.RowsAffected()
		if _, err := c.exec(ctx, `UPDATE plans SET status = 'draft', agreed_at = NULL WHERE status = 'active' AND created_by IS NULL AND id % 20 IN (6, 7)`); err != nil {
			return err
		}
		_, err = c.exec(ctx, `UPDATE plans SET next_review_due = ? WHERE status <> 'closed' AND created_by IS NULL AND id % 4 = 1`, c.now.AddDate(0, 0, -5))
		return err
	})
	return closed, err
}

// valuesWith is n copies of row, comma-separated.
func valuesWith(n int, row string) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// OpenEntryChildren lists the children with an open register entry
// (proposed or active), who can have no second one: for the bench's
// seeding, over a registry the demo's entries are in already.
func (db *DB) OpenEntryChildren(ctx context.Context) (m map[int64]bool, err error) {
	defer apperr.Wrap(&err, "storage.OpenEntryChildren")
	rows, err := db.reader().query(ctx, `SELECT child_id FROM register_entries WHERE status IN ('proposed', 'active')`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m = map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		m[id] = true
	}
	return m, rows.Err()
}

// BenchSupportSeeded tells whether the dashboard bench's support data are
// in: the synthetic campaign material its last step makes.
func (db *DB) BenchSupportSeeded(ctx context.Context) (ok bool, err error) {
	defer apperr.Wrap(&err, "storage.BenchSupportSeeded")
	err = db.reader().queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM campaign_materials WHERE title = 'Sintetik material')`).Scan(&ok)
	return ok, err
}
