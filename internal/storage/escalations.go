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
	"dayaq/internal/escalate"
	"dayaq/internal/org"
)

// RecordEscalation records one escalation step and queues its messages, in
// one transaction. The step is inserted first, under the UNIQUE constraint
// on (subject_kind, subject_id, step): when it is there already — another
// worker, on another replica, recorded it — nothing else happens and
// recorded is false. On PostgreSQL a second worker inserting at the same
// moment waits for the first to commit, then finds the row; so each step
// notifies once. A step about a child's data is audited (escalation.step).
func (db *DB) RecordEscalation(ctx context.Context, r escalate.Record) (recorded bool, err error) {
	it := r.Item
	defer apperr.Wrap(&err, "storage.RecordEscalation(%s %d %s)", it.SubjectKind, it.SubjectID, r.Step)
	err = db.inTx(ctx, func(c conn) error {
		var id int64
		err := c.queryRow(ctx, `INSERT INTO escalations (subject_kind, subject_id, step, due_at, org_id, child_id, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (subject_kind, subject_id, step) DO NOTHING RETURNING id`,
			it.SubjectKind, it.SubjectID, string(r.Step), it.Due.UTC(),
			sql.NullInt64{Int64: it.OrgID, Valid: it.OrgID != 0}, sql.NullInt64{Int64: it.ChildID, Valid: it.ChildID != 0},
			c.now).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return nil // recorded already
		}
		if err != nil {
			return err
		}
		recorded = true
		var users []int64
		if r.Notify && r.Messages != nil {
			if users, err = audienceOf(ctx, c, it, r.Step.Audiences()); err != nil {
				return err
			}
			msgs, err := r.Messages(users)
			if err != nil {
				return err
			}
			if err := notifyTx(ctx, c, msgs...); err != nil {
				return err
			}
			if _, err := c.exec(ctx, `UPDATE escalations SET notified = ? WHERE id = ?`, len(users), id); err != nil {
				return err
			}
		}
		if it.ChildID != 0 {
			e := audit.System().Event("escalation.step", it.SubjectKind, it.SubjectID)
			e.ChildID = it.ChildID
			d, _ := json.Marshal(map[string]any{"step": r.Step, "notified": len(users), "escalation_id": id})
			e.Details = string(d)
			if err := appendAudit(ctx, c, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return recorded, nil
}

// EscalationSteps returns the steps recorded for the given subjects of a kind.
func (db *DB) EscalationSteps(ctx context.Context, subjectKind string, ids []int64) (steps map[int64][]escalate.Step, err error) {
	defer apperr.Wrap(&err, "storage.EscalationSteps(%s)", subjectKind)
	steps = map[int64][]escalate.Step{}
	c := db.reader()
	for chunk := range slices.Chunk(ids, 500) {
		q := `SELECT subject_id, step FROM escalations WHERE subject_kind = ? AND subject_id IN (?` +
			strings.Repeat(", ?", len(chunk)-1) + `)`
		args := []any{subjectKind}
		for _, id := range chunk {
			args = append(args, id)
		}
		rows, err := c.query(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var s escalate.Step
			if err := rows.Scan(&id, &s); err != nil {
				rows.Close()
				return nil, err
			}
			steps[id] = append(steps[id], s)
		}
		if err := rows.Close(); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// EscalationRow is one recorded step.
type EscalationRow struct {
	ID          int64
	SubjectKind string
	SubjectID   int64
	Step        escalate.Step
	DueAt       time.Time
	Notified    int
	CreatedAt   time.Time
}

// Escalations lists the steps recorded for a subject kind, oldest first (tests, operators).
func (db *DB) Escalations(ctx context.Context, subjectKind string) (rs []EscalationRow, err error) {
	defer apperr.Wrap(&err, "storage.Escalations(%s)", subjectKind)
	rows, err := db.reader().query(ctx, `SELECT id, subject_kind, subject_id, step, due_at, notified, created_at
		FROM escalations WHERE subject_kind = ? ORDER BY id`, subjectKind)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r EscalationRow
		if err := rows.Scan(&r.ID, &r.SubjectKind, &r.SubjectID, &r.Step, &r.DueAt, &r.Notified, &r.CreatedAt); err != nil {
			return nil, err
		}
		r.DueAt, r.CreatedAt = r.DueAt.UTC(), r.CreatedAt.UTC()
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// Who each audience is, by role.
func officerRoles() []access.Role {
	return []access.Role{access.AgencyOfficer, access.CitySpecialist, access.SchoolPsychologist, access.SchoolHead,
		access.HotlineOperator}
}

func supervisorRoles() []access.Role {
	return []access.Role{access.AgencySupervisor, access.HotlineSupervisor, access.SchoolHead, access.CityAdmin}
}

func cityRoles() []access.Role { return []access.Role{access.CitySpecialist, access.CityAdmin} }

// audienceOf resolves audiences to the IDs of active users: the assignee
// (else the responsible body's officers), the body's supervisors (else, when
// it has none, the city unit), the city department's special-cases unit.
func audienceOf(ctx context.Context, c conn, it escalate.Item, auds []escalate.Audience) ([]int64, error) {
	var out []int64
	add := func(ids []int64) {
		for _, id := range ids {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	for _, a := range auds {
		var ids []int64
		var err error
		switch a {
		case escalate.Assignee:
			if it.Assignee != 0 {
				ids, err = usersWhere(ctx, c, `u.id = ?`, nil, it.Assignee)
			} else if it.OrgID != 0 {
				ids, err = usersWhere(ctx, c, `u.org_id = ?`, officerRoles(), it.OrgID)
			}
		case escalate.Supervisors:
			if it.OrgID != 0 {
				ids, err = usersWhere(ctx, c, `u.org_id = ?`, supervisorRoles(), it.OrgID)
			}
			if err == nil && len(ids) == 0 && !slices.Contains(auds, escalate.CityUnit) {
				ids, err = usersWhere(ctx, c, `o.type = ?`, cityRoles(), string(org.CityDepartment))
			}
		case escalate.CityUnit:
			ids, err = usersWhere(ctx, c, `o.type = ?`, cityRoles(), string(org.CityDepartment))
		}
		if err != nil {
			return nil, fmt.Errorf("storage: audience %s: %w", a, err)
		}
		add(ids)
	}
	return out, nil
}

// usersWhere returns active users matching cond (over u, users, and o, their
// org) who hold any of roles (any role when roles is nil).
func usersWhere(ctx context.Context, c conn, cond string, roles []access.Role, arg any) ([]int64, error) {
	q := `SELECT u.id FROM users u JOIN orgs o ON o.id = u.org_id WHERE u.disabled = ? AND ` + cond
	args := []any{false, arg}
	if roles != nil {
		q += ` AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role IN (?` + strings.Repeat(", ?", len(roles)-1) + `))`
		for _, r := range roles {
			args = append(args, string(r))
		}
	}
	return queryIDs(ctx, c, q+` ORDER BY u.id`, args...)
}
