package storage

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/casework"
	"dayaq/internal/escalate"
)

// CasesDue is the escalation provider of special cases (ADR 0011): every
// open case whose running deadline (casework.Case.Due: the city's response
// while new or reopened, the resolution while worked, the review while
// monitored) is before before. The lead body is responsible, its owner
// the assignee; a case not yet triaged has neither, so its supervisors'
// step falls to the city unit. Each deadline is its own subject kind, so a
// case triaged late and then worked late escalates for both.
func (db *DB) CasesDue(ctx context.Context, before time.Time) (items []escalate.Item, err error) {
	defer apperr.Wrap(&err, "storage.CasesDue")
	rows, err := db.reader().query(ctx, `SELECT k.id, k.status, k.severity, k.owner_id, k.lead_org_id, k.created_at,
		k.updated_at, k.due_at, (SELECT MIN(cc.child_id) FROM case_children cc WHERE cc.case_id = k.id)
		FROM cases k WHERE k.due_at IS NOT NULL AND k.due_at < ? AND k.status <> ? ORDER BY k.due_at, k.id LIMIT 5000`,
		before.UTC(), string(casework.Closed))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var it escalate.Item
		var status casework.Status
		var sev casework.Severity
		var owner, lead, child sql.NullInt64
		var created, updated time.Time
		if err := rows.Scan(&it.SubjectID, &status, &sev, &owner, &lead, &created, &updated, &it.Due, &child); err != nil {
			return nil, err
		}
		it.Due = it.Due.UTC()
		it.Assignee, it.OrgID, it.ChildID = owner.Int64, lead.Int64, child.Int64
		it.What, it.Link = "escalate.what.case_deadline", "/cases/"+strconv.FormatInt(it.SubjectID, 10)
		switch status {
		case casework.New, casework.Reopened:
			it.SubjectKind, it.Start = "case_respond", created.UTC()
		case casework.Triaged, casework.InProgress:
			// The resolution runs from triage, which the row does not keep:
			// the span on the clock is near enough for the warning's lead.
			it.SubjectKind, it.Start = "case_resolve", it.Due.Add(-db.cases.By[sev].Resolve)
		default: // monitoring: the review runs from the move into monitoring
			it.SubjectKind, it.Start = "case_review", updated.UTC()
			if it.Start.After(it.Due) {
				it.Start = it.Due
			}
		}
		items = append(items, it)
	}
	return items, rows.Err()
}
