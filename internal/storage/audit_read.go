package storage

import (
	"context"
	"encoding/json"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
)

// Reading the trail is itself on the trail (ADR 0016): the audit browser,
// the break-glass review (its reasons name the child's situation) and a
// roster import's rejects (names and birth dates) are read for a person,
// whom the policy must allow and the audit names. The data is handed out
// only once that event is recorded. AuditEvents and BreakGlass's plain
// list stay for the CLI and tests, which read as the system.

// AuditEventsFor lists the audit events matching f for a, who must be
// allowed to browse the trail; the reading is audited as audit.read (with
// the filter; with the child, when the filter names one).
func (db *DB) AuditEventsFor(ctx context.Context, a audit.Actor, f AuditFilter) (es []audit.Event, err error) {
	defer apperr.Wrap(&err, "storage.AuditEventsFor")
	if !access.CanBrowseAudit(a.Principal) {
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	if es, err = db.AuditEvents(ctx, f); err != nil {
		return nil, err
	}
	e := a.Event("audit.read", "audit", 0)
	e.ChildID = f.ChildID
	d, _ := json.Marshal(map[string]any{"actor_user_id": f.ActorUserID, "child_id": f.ChildID, "action": f.Action,
		"break_glass_only": f.BreakGlassOnly, "before": f.Before, "returned": len(es)})
	e.Details = string(d)
	if err := db.RecordAudit(ctx, e); err != nil {
		return nil, err
	}
	return es, nil
}

// BreakGlassOpeningsFor lists break-glass openings for a's review, with
// their reasons; audited as break_glass.list.
func (db *DB) BreakGlassOpeningsFor(ctx context.Context, a audit.Actor, f BreakGlassFilter) (bs []BreakGlass, err error) {
	defer apperr.Wrap(&err, "storage.BreakGlassOpeningsFor")
	if !access.CanBrowseAudit(a.Principal) {
		return nil, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	if bs, err = db.BreakGlassOpenings(ctx, f); err != nil {
		return nil, err
	}
	e := a.Event("break_glass.list", "break_glass", 0)
	d, _ := json.Marshal(map[string]any{"unreviewed_only": f.UnreviewedOnly, "before": f.Before, "returned": len(bs)})
	e.Details = string(d)
	if err := db.RecordAudit(ctx, e); err != nil {
		return nil, err
	}
	return bs, nil
}
