package storage

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
)

// BreakGlass is a justified, time-limited opening of a child's record
// outside the opener's jurisdiction.
type BreakGlass struct {
	ID         int64
	UserID     int64
	UserName   string
	ChildID    int64
	Reason     string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	ReviewedBy int64
	ReviewedAt time.Time
	ReviewNote string
}

// OpenBreakGlass lets a open the record of child id for
// access.BreakGlassFor, giving reason. Only the roles the policy names may;
// the opening is audited with its reason and listed for review.
func (db *DB) OpenBreakGlass(ctx context.Context, a audit.Actor, childID int64, reason string) (bg BreakGlass, err error) {
	defer apperr.Wrap(&err, "storage.OpenBreakGlass(%d)", childID)
	reason = strings.TrimSpace(reason)
	if !access.CanBreakGlass(a.Principal) {
		return BreakGlass{}, apperr.New(apperr.Forbidden, "breakglass.error.role")
	}
	if n := len([]rune(reason)); n < 10 || n > 1000 {
		return BreakGlass{}, apperr.Validation(apperr.Field("reason", "breakglass.error.reason", 10, 1000))
	}
	err = db.inTx(ctx, func(c conn) error {
		var n int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM children WHERE id = ?`, childID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		bg = BreakGlass{UserID: a.UserID, ChildID: childID, Reason: reason, CreatedAt: c.now, ExpiresAt: c.now.Add(access.BreakGlassFor)}
		if err := c.queryRow(ctx, `INSERT INTO break_glass (user_id, child_id, reason, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, bg.UserID, bg.ChildID, bg.Reason, bg.CreatedAt, bg.ExpiresAt).Scan(&bg.ID); err != nil {
			return err
		}
		e := a.Event("child.break_glass", "break_glass", bg.ID)
		e.ChildID, e.BreakGlass, e.Reason = childID, true, reason
		return appendAudit(ctx, c, e)
	})
	return bg, err
}

// breakGlassReason is the reason of the live break-glass opening of
// childID by userID, for the audit of each read it allows.
func breakGlassReason(ctx context.Context, c conn, userID, childID int64) (string, error) {
	var reason string
	err := c.queryRow(ctx, `SELECT reason FROM break_glass WHERE user_id = ? AND child_id = ? AND expires_at > ?
		ORDER BY id DESC LIMIT 1`, userID, childID, c.now).Scan(&reason)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return reason, err
}

// BreakGlassFilter selects break-glass openings for review.
type BreakGlassFilter struct {
	UnreviewedOnly bool
	Before         int64 // keyset cursor, newest first
	Limit          int
}

// BreakGlassOpenings lists openings newest first, for review.
func (db *DB) BreakGlassOpenings(ctx context.Context, f BreakGlassFilter) (_ []BreakGlass, err error) {
	defer apperr.Wrap(&err, "storage.BreakGlassOpenings")
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := `SELECT b.id, b.user_id, COALESCE(u.name, ''), b.child_id, b.reason, b.created_at, b.expires_at,
		COALESCE(b.reviewed_by, 0), b.reviewed_at, b.review_note
		FROM break_glass b LEFT JOIN users u ON u.id = b.user_id WHERE 1 = 1`
	var args []any
	if f.UnreviewedOnly {
		q += ` AND b.reviewed_at IS NULL`
	}
	if f.Before > 0 {
		q += ` AND b.id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY b.id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := db.reader().query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BreakGlass
	for rows.Next() {
		var b BreakGlass
		var reviewed sql.NullTime
		if err := rows.Scan(&b.ID, &b.UserID, &b.UserName, &b.ChildID, &b.Reason, &b.CreatedAt, &b.ExpiresAt,
			&b.ReviewedBy, &reviewed, &b.ReviewNote); err != nil {
			return nil, err
		}
		b.CreatedAt, b.ExpiresAt, b.ReviewedAt = b.CreatedAt.UTC(), b.ExpiresAt.UTC(), reviewed.Time.UTC()
		out = append(out, b)
	}
	return out, rows.Err()
}

// ReviewBreakGlass records that a reviewed opening id, with a note.
func (db *DB) ReviewBreakGlass(ctx context.Context, a audit.Actor, id int64, note string) (err error) {
	defer apperr.Wrap(&err, "storage.ReviewBreakGlass(%d)", id)
	if !access.CanBrowseAudit(a.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	note = strings.TrimSpace(note)
	if len([]rune(note)) > 1000 {
		return apperr.Validation(apperr.Field("note", "error.too_long", 1000))
	}
	return db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE break_glass SET reviewed_by = ?, reviewed_at = ?, review_note = ?
			WHERE id = ? AND reviewed_at IS NULL`, a.UserID, c.now, note, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return appendAudit(ctx, c, a.Event("break_glass.review", "break_glass", id))
	})
}
