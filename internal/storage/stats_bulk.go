package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/hotline"
)

// The bulk paths of `dayaq bench dashboard`: synthetic referrals and
// contacts, many rows a statement, with no validation or audit. The
// triggers of migration 00023 count them as any write; the bench then
// rebuilds the totals once (RebuildStats).

// CaseRef is what a synthetic referral needs of its case.
type CaseRef struct {
	ID, ChildID, SchoolID int64
	CreatedAt             time.Time
}

// ChildIDsBySchool lists every child's ID under their school, in ID order.
func (db *DB) ChildIDsBySchool(ctx context.Context) (m map[int64][]int64, err error) {
	defer apperr.Wrap(&err, "storage.ChildIDsBySchool")
	rows, err := db.reader().query(ctx, `SELECT school_id, id FROM children WHERE school_id IS NOT NULL ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m = map[int64][]int64{}
	for rows.Next() {
		var s, id int64
		if err := rows.Scan(&s, &id); err != nil {
			return nil, err
		}
		m[s] = append(m[s], id)
	}
	return m, rows.Err()
}

// CaseSample lists every every-th case (by ID) with one of its children.
func (db *DB) CaseSample(ctx context.Context, every int) (out []CaseRef, err error) {
	defer apperr.Wrap(&err, "storage.CaseSample")
	rows, err := db.reader().query(ctx, `SELECT k.id, MIN(cc.child_id), COALESCE(k.school_id, 0), k.created_at
		FROM cases k CROSS JOIN case_children cc WHERE cc.case_id = k.id AND k.id % ? = 0 GROUP BY k.id, k.school_id, k.created_at ORDER BY k.id`, every)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r CaseRef
		if err := rows.Scan(&r.ID, &r.ChildID, &r.SchoolID, &r.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// BulkReferral is one synthetic referral row.
type BulkReferral struct {
	CaseID, ChildID, FromOrgID, ToOrgID, SentBy int64
	Service, Urgency, State                     string
	SentAt, AckDue, CompleteDue                 time.Time
	AckAt, ClosedAt                             time.Time // zero: NULL
}

const bulkReferralColumns = 17

// InsertReferralsBulk inserts rs in one transaction, many rows a statement.
func (db *DB) InsertReferralsBulk(ctx context.Context, rs []BulkReferral) (err error) {
	defer apperr.Wrap(&err, "storage.InsertReferralsBulk(%d)", len(rs))
	const rowsPer = 400
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", bulkReferralColumns), ", ") + ")"
	return db.inTx(ctx, func(c conn) error {
		for start := 0; start < len(rs); start += rowsPer {
			part := rs[start:min(len(rs), start+rowsPer)]
			args := make([]any, 0, len(part)*bulkReferralColumns)
			for _, r := range part {
				due := r.AckDue
				if !r.AckAt.IsZero() {
					due = r.CompleteDue
				}
				var dueAt any = due
				if !r.ClosedAt.IsZero() {
					dueAt = nil
				}
				args = append(args, r.CaseID, r.ChildID, r.FromOrgID, r.ToOrgID, r.Service, r.Urgency,
					"Sintetik göndəriş", "child_in_danger", r.State, r.SentBy, r.SentAt, r.AckDue, r.CompleteDue,
					nullTime(r.AckAt), nullTime(r.ClosedAt), dueAt, r.SentAt)
			}
			if _, err := c.exec(ctx, `INSERT INTO referrals (case_id, child_id, from_org_id, to_org_id, service_code, urgency,
				message, basis, state, sent_by, sent_at, ack_due, complete_due, ack_at, closed_at, due_at, updated_at) VALUES `+
				strings.TrimSuffix(strings.Repeat(row+", ", len(part)), ", "), args...); err != nil {
				return fmt.Errorf("bulk referrals: %w", err)
			}
		}
		return nil
	})
}

// InsertContactsBulk inserts cs (with their categories) as logged by user
// at org, in one transaction, many rows a statement.
func (db *DB) InsertContactsBulk(ctx context.Context, orgID, userID int64, cs []hotline.Contact) (err error) {
	defer apperr.Wrap(&err, "storage.InsertContactsBulk(%d)", len(cs))
	const rowsPer, cols = 400, 14
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	return db.inTx(ctx, func(c conn) error {
		for start := 0; start < len(cs); start += rowsPer {
			part := cs[start:min(len(cs), start+rowsPer)]
			args := make([]any, 0, len(part)*cols)
			for _, ct := range part {
				args = append(args, 1, ct.Channel, ct.CallType, ct.ReceivedAt.UTC(), ct.Caller.Anonymous, ct.Urgency, ct.Urgency,
					ct.Narrative, ct.Outcome, orgID, userID, ct.ReceivedAt.UTC(), 0, len(ct.Categories))
			}
			ids, err := queryIDs(ctx, c, `INSERT INTO contacts (taxonomy_version, channel, call_type, received_at, caller_anonymous,
				urgency, suggested, narrative, outcome, org_id, created_by, created_at, children_n, categories_n) VALUES `+
				strings.TrimSuffix(strings.Repeat(row+", ", len(part)), ", ")+` RETURNING id`, args...)
			if err != nil {
				return fmt.Errorf("bulk contacts: %w", err)
			}
			if len(ids) != len(part) {
				return fmt.Errorf("bulk contacts: %d IDs for %d rows", len(ids), len(part))
			}
			slices.Sort(ids) // VALUES order; RETURNING's order is not promised
			var cats []string
			var cargs []any
			for i, ct := range part {
				for _, code := range ct.Categories {
					cats = append(cats, "(?, ?)")
					cargs = append(cargs, ids[i], code)
				}
			}
			if len(cats) > 0 {
				if _, err := c.exec(ctx, `INSERT INTO contact_categories (contact_id, code) VALUES `+strings.Join(cats, ", "), cargs...); err != nil {
					return fmt.Errorf("bulk contact categories: %w", err)
				}
			}
		}
		return nil
	})
}
