package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/match"
)

// DuplicatePair is two records that may be one child, with a score in
// [0,1] and the reasons (catalogue keys) a person can read.
type DuplicatePair struct {
	A, B    ChildRecord
	Score   float64
	Level   match.Level
	Reasons []match.Reason
}

// mergeRefs are the columns that point at a child and move to the kept
// record when another is merged into it. A feature whose table refers to
// children adds its column here, so that merges move (and undo moves back)
// its rows too.
func mergeRefs() []struct{ table, column string } {
	return []struct{ table, column string }{
		{"child_grants", "child_id"},
		{"break_glass", "child_id"},
	}
}

// visibleIDs is a subquery of the IDs of the children p may list, not
// merged, with its arguments; "" when p may list none.
func visibleIDs(p access.Principal, now time.Time) (string, []any) {
	conds, cargs := filterBranches(access.Filter(p, access.List), now)
	if len(conds) == 0 {
		return "", nil
	}
	var args []any
	for _, a := range cargs {
		args = append(args, a...)
	}
	return `SELECT c.id FROM children c LEFT JOIN orgs s ON s.id = c.school_id WHERE c.merged_into IS NULL AND ((` +
		strings.Join(conds, `) OR (`) + `))`, args
}

// DuplicateChildren lists up to limit pairs of records that a may see and
// that may be one child: the same name key (child.DupKey) and birth date,
// ranked by what else they share. The records shown are audited.
func (db *DB) DuplicateChildren(ctx context.Context, a audit.Actor, limit int) (ps []DuplicatePair, err error) {
	defer apperr.Wrap(&err, "storage.DuplicateChildren")
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	err = db.inTx(ctx, func(c conn) error {
		ps = nil
		vis, vargs := visibleIDs(a.Principal, c.now)
		if vis == "" {
			return nil
		}
		q := `SELECT x.id, y.id FROM children x JOIN children y ON y.dup_key = x.dup_key AND y.birth_date = x.birth_date
			AND y.id > x.id AND y.merged_into IS NULL
			WHERE x.merged_into IS NULL AND x.dup_key <> '' AND x.id IN (` + vis + `) AND y.id IN (` + vis + `)
			ORDER BY x.id, y.id LIMIT ?`
		args := append(append(append([]any{}, vargs...), vargs...), limit)
		rows, err := c.query(ctx, q, args...)
		if err != nil {
			return err
		}
		var pairs [][2]int64
		for rows.Next() {
			var p [2]int64
			if err := rows.Scan(&p[0], &p[1]); err != nil {
				rows.Close()
				return err
			}
			pairs = append(pairs, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		recs := map[int64]ChildRecord{}
		var ids []int64
		for _, p := range pairs {
			for _, id := range p {
				if _, ok := recs[id]; ok {
					continue
				}
				r, err := loadChild(ctx, c, a.Principal, access.Read, id)
				if err != nil {
					return err
				}
				recs[id] = r
				ids = append(ids, id)
			}
			ps = append(ps, scorePair(recs[p[0]], recs[p[1]]))
		}
		slices.SortStableFunc(ps, func(x, y DuplicatePair) int {
			switch {
			case x.Score > y.Score:
				return -1
			case x.Score < y.Score:
				return 1
			}
			return 0
		})
		e := a.Event("child.duplicates", "child", 0)
		e.Details = idsJSON(ids)
		return appendAudit(ctx, c, e)
	})
	return ps, err
}

// scorePair scores a pair found by name key and birth date with the
// matching scorer (package match), the one record's name as the query
// against the other: the score, level and reasons a person reads.
func scorePair(x, y ChildRecord) DuplicatePair {
	q := match.Parse(match.Query{Name: x.FullName(), BirthDate: x.BirthDate, School: x.School.Code})
	r := match.Score(q, match.NewRecord(match.Person{LastName: y.LastName, FirstName: y.FirstName, Patronymic: y.Patronymic,
		BirthDate: y.BirthDate, School: y.School.Code}))
	p := DuplicatePair{A: x, B: y, Score: r.Score, Level: r.Level, Reasons: r.Reasons}
	if len(p.Reasons) == 0 {
		p.Reasons = []match.Reason{{Key: "dup.reason.same_key"}}
	}
	return p
}

// MergeRequest asks to merge MergedID into SurvivorID, each at the version
// the person looked at.
type MergeRequest struct {
	SurvivorID      int64
	SurvivorVersion int
	MergedID        int64
	MergedVersion   int
}

// ChildMerge is one merge as recorded.
type ChildMerge struct {
	ID         int64
	SurvivorID int64
	MergedID   int64
	Moved      map[string][]int64 // "table.column" → IDs of the rows moved
	CreatedBy  int64
	CreatedAt  time.Time
	UndoneAt   time.Time
}

// MergeChildren merges one record into another if a may change both and
// both are still at the versions a saw: the merged record is hidden
// (merged_into), the rows that point at it move to the kept one, both
// versions go up, and the merge is recorded so that UndoMerge can undo it
// exactly. Audited on both children.
func (db *DB) MergeChildren(ctx context.Context, a audit.Actor, m MergeRequest) (cm ChildMerge, err error) {
	defer apperr.Wrap(&err, "storage.MergeChildren(%d into %d)", m.MergedID, m.SurvivorID)
	if m.SurvivorID == m.MergedID {
		return cm, apperr.Validation(apperr.Field("merged_id", "dup.error.same"))
	}
	err = db.inTx(ctx, func(c conn) error {
		for _, x := range []struct {
			id      int64
			version int
		}{{m.SurvivorID, m.SurvivorVersion}, {m.MergedID, m.MergedVersion}} {
			r, err := loadChild(ctx, c, a.Principal, access.Write, x.id)
			if err != nil {
				return err
			}
			if r.Version != x.version {
				return apperr.New(apperr.Conflict, "dup.error.stale")
			}
		}
		cm = ChildMerge{SurvivorID: m.SurvivorID, MergedID: m.MergedID, Moved: map[string][]int64{}, CreatedBy: a.UserID, CreatedAt: c.now}
		for _, ref := range mergeRefs() {
			ids, err := moveRefs(ctx, c, ref.table, ref.column, m.MergedID, m.SurvivorID, nil)
			if err != nil {
				return err
			}
			if len(ids) > 0 {
				cm.Moved[ref.table+"."+ref.column] = ids
			}
		}
		if _, err := c.exec(ctx, `UPDATE children SET merged_into = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			m.SurvivorID, c.now, m.MergedID); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE children SET version = version + 1, updated_at = ? WHERE id = ?`, c.now, m.SurvivorID); err != nil {
			return err
		}
		moved, _ := json.Marshal(cm.Moved)
		if err := c.queryRow(ctx, `INSERT INTO child_merges (survivor_id, merged_id, moved, created_by, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, m.SurvivorID, m.MergedID, string(moved), nullInt(a.UserID), c.now).Scan(&cm.ID); err != nil {
			return err
		}
		return auditMerge(ctx, c, a, false, cm)
	})
	return cm, err
}

// auditMerge records a merge (or its undoing) on both children.
func auditMerge(ctx context.Context, c conn, a audit.Actor, undo bool, cm ChildMerge) error {
	for _, id := range []int64{cm.SurvivorID, cm.MergedID} {
		e := a.Event("child.merge", "child_merge", cm.ID)
		if undo {
			e.Action = "child.merge_undo"
		}
		e.ChildID = id
		e.Details = fmt.Sprintf(`{"survivor":%d,"merged":%d}`, cm.SurvivorID, cm.MergedID)
		if err := appendAudit(ctx, c, e); err != nil {
			return err
		}
	}
	return nil
}

// moveRefs points the rows of table whose column is from at to instead,
// only the rows with the given IDs when ids is not nil, and returns the
// IDs of the rows it moved.
func moveRefs(ctx context.Context, c conn, table, column string, from, to int64, only []int64) ([]int64, error) {
	q := `UPDATE ` + table + ` SET ` + column + ` = ? WHERE ` + column + ` = ?`
	args := []any{to, from}
	if only != nil {
		if len(only) == 0 {
			return nil, nil
		}
		q += ` AND id IN (?` + strings.Repeat(`, ?`, len(only)-1) + `)`
		for _, id := range only {
			args = append(args, id)
		}
	}
	rows, err := c.query(ctx, q+` RETURNING id`, args...)
	if err != nil {
		return nil, fmt.Errorf("move %s.%s: %w", table, column, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, rows.Err()
}

// UndoMerge undoes merge id if a may change both records: the merged
// record is shown again, the rows moved go back, and both versions go up.
// Audited on both children.
func (db *DB) UndoMerge(ctx context.Context, a audit.Actor, id int64) (cm ChildMerge, err error) {
	defer apperr.Wrap(&err, "storage.UndoMerge(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		var moved string
		var by sql.NullInt64
		var undone sql.NullTime
		err := c.queryRow(ctx, `SELECT id, survivor_id, merged_id, moved, created_by, created_at, undone_at FROM child_merges WHERE id = ?`, id).
			Scan(&cm.ID, &cm.SurvivorID, &cm.MergedID, &moved, &by, &cm.CreatedAt, &undone)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if err != nil {
			return err
		}
		cm.CreatedBy = by.Int64
		_ = json.Unmarshal([]byte(moved), &cm.Moved)
		if _, err := loadChildRecord(ctx, c, a.Principal, access.Write, cm.SurvivorID, false); err != nil {
			return err
		}
		if _, err := loadChildRecord(ctx, c, a.Principal, access.Write, cm.MergedID, true); err != nil {
			return err
		}
		if undone.Valid {
			return apperr.New(apperr.Conflict, "dup.error.undone")
		}
		for _, ref := range mergeRefs() {
			ids := cm.Moved[ref.table+"."+ref.column]
			if _, err := moveRefs(ctx, c, ref.table, ref.column, cm.SurvivorID, cm.MergedID, append([]int64{}, ids...)); err != nil {
				return err
			}
		}
		res, err := c.exec(ctx, `UPDATE children SET merged_into = NULL, version = version + 1, updated_at = ? WHERE id = ? AND merged_into = ?`,
			c.now, cm.MergedID, cm.SurvivorID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "dup.error.undone")
		}
		if _, err := c.exec(ctx, `UPDATE children SET version = version + 1, updated_at = ? WHERE id = ?`, c.now, cm.SurvivorID); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE child_merges SET undone_by = ?, undone_at = ? WHERE id = ?`, nullInt(a.UserID), c.now, id); err != nil {
			return err
		}
		cm.UndoneAt = c.now
		return auditMerge(ctx, c, a, true, cm)
	})
	return cm, err
}

// ChildMerges lists the merges not undone whose kept record a may change
// (and so may undo), newest first.
func (db *DB) ChildMerges(ctx context.Context, a audit.Actor, limit int) (ms []ChildMerge, err error) {
	defer apperr.Wrap(&err, "storage.ChildMerges")
	c := db.reader()
	vis, vargs := visibleIDs(a.Principal, c.now)
	if vis == "" {
		return nil, nil
	}
	rows, err := c.query(ctx, `SELECT id, survivor_id, merged_id, COALESCE(created_by, 0), created_at FROM child_merges
		WHERE undone_at IS NULL AND survivor_id IN (`+vis+`) ORDER BY id DESC LIMIT ?`, append(vargs, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m ChildMerge
		if err := rows.Scan(&m.ID, &m.SurvivorID, &m.MergedID, &m.CreatedBy, &m.CreatedAt); err != nil {
			return nil, err
		}
		m.CreatedAt = m.CreatedAt.UTC()
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	mine := ms[:0]
	for _, m := range ms {
		if _, err := loadChild(ctx, c, a.Principal, access.Write, m.SurvivorID); err == nil {
			mine = append(mine, m)
		}
	}
	return mine, nil
}
