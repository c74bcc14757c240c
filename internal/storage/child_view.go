package storage

import (
	"context"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
)

// ChildView is what a child's page shows: the record, the events the
// parent attended, and the screening and register when the screening
// policy reaches the child.
type ChildView struct {
	Record   ChildRecord
	Attended []ChildEventAttendance
	// Screening is nil when the screening policy does not reach the child.
	Screening *ChildScreening
}

// ChildView reads a child's page as a sees it: what ChildFor,
// ParentEventAttendance and ChildScreeningFor read, each under its policy,
// on the read pool, with the same audit events appended in one group
// commit (ADR 0043) instead of three write transactions. Nothing is
// returned unless those events are committed. A child outside a's reach is
// NotFound, and the attempt is audited as ChildFor audits it.
func (db *DB) ChildView(ctx context.Context, a audit.Actor, id int64) (v ChildView, err error) {
	defer apperr.Wrap(&err, "storage.ChildView(%d)", id)
	c := db.reader()
	v.Record, err = loadChild(ctx, c, a.Principal, access.Read, id)
	if apperr.CodeOf(err) == apperr.NotFound {
		e := a.Event("child.read_denied", "child", id)
		if aerr := db.inGroupTx(ctx, func(ctx context.Context, c conn) error { return appendAudit(ctx, c, e) }); aerr != nil {
			return ChildView{}, aerr
		}
		return ChildView{}, err
	}
	if err != nil {
		return ChildView{}, err
	}
	read := a.Event("child.read", "child", id)
	read.ChildID = id
	if v.Record.Decision.BreakGlass {
		read.BreakGlass = true
		if read.Reason, err = breakGlassReason(ctx, c, a.UserID, id); err != nil {
			return ChildView{}, err
		}
	}
	evs := []audit.Event{read, attendanceEvent(a, id)}
	if v.Attended, err = attendanceOf(ctx, c, id); err != nil {
		return ChildView{}, err
	}
	switch _, serr := loadScreeningChild(ctx, c, a.Principal, id, false); {
	case apperr.CodeOf(serr) == apperr.NotFound:
	case serr != nil:
		return ChildView{}, serr
	default:
		cs, err := childScreening(ctx, c, a.Principal, id)
		if err != nil {
			return ChildView{}, err
		}
		v.Screening = &cs
		evs = append(evs, childScreeningEvent(a, id))
	}
	err = db.inGroupTx(ctx, func(ctx context.Context, c conn) error {
		for _, e := range evs {
			if err := appendAudit(ctx, c, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return ChildView{}, err
	}
	return v, nil
}
