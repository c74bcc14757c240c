package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
)

// RecordAudit appends e to the audit chain in a transaction of its own, for
// events that go with no stored change (a sign-in, a failed sign-in, an
// export). It sets e's Seq, At, PrevHash and Hash.
func (db *DB) RecordAudit(ctx context.Context, e audit.Event) (err error) {
	defer apperr.Wrap(&err, "storage.RecordAudit(%s)", e.Action)
	return db.inTx(ctx, func(c conn) error { return appendAudit(ctx, c, e) })
}

// appendAudit appends e to the chain inside the transaction c, so that the
// event and the change it records commit or roll back together. It takes
// Seq, At (the transaction's time) and PrevHash from the head, computes
// Hash, inserts the event and moves the head: one SELECT, one INSERT, one
// UPDATE. In a group-commit batch (c.head set) the head is read once a
// batch and written once before its commit (ADR 0015).
//
// On PostgreSQL the head row stays locked until c commits, so audited
// transactions serialise there (SQLite's one writer serialises them
// anyway). Call appendAudit as the last statement of a transaction: the
// lock is then held for the shortest time, and a transaction never waits
// for another row while holding it, so no deadlock can form around it. A
// group-commit batch holds the lock across its later requests' statements,
// which insert new rows (contacts, their parts, keys, notifications) and
// lock no existing one.
func appendAudit(ctx context.Context, c conn, e audit.Event) error {
	if e.Action == "" {
		return errors.New("storage: audit event without an action")
	}
	if p, ok := c.q.(*pgPipe); ok && c.head != nil { // chained just before the batch commits
		e = audit.Sanitize(e)
		e.At = c.now
		p.appendEvent(e)
		return nil
	}
	var head audit.Head
	if c.head != nil && c.head.read {
		head = c.head.Head
	} else {
		q := `SELECT seq, hash FROM audit_head WHERE id = 1`
		if c.engine == Postgres {
			q += ` FOR UPDATE`
		}
		if err := c.queryRow(ctx, q).Scan(&head.Seq, &head.Hash); err != nil {
			return fmt.Errorf("storage: audit head: %w", err)
		}
	}
	e = audit.Sanitize(e)
	e.Seq, e.At, e.PrevHash = head.Seq+1, c.now, head.Hash
	e.Hash = audit.Hash(e.PrevHash, e)
	if err := c.execLater(ctx, `INSERT INTO audit_events (seq, at, actor_user_id, actor_org_id, action, object_type,
		object_id, child_id, ip, request_id, reason, break_glass, details, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At, e.ActorUserID, e.ActorOrgID, e.Action, e.ObjectType, e.ObjectID, e.ChildID,
		e.IP, e.RequestID, e.Reason, e.BreakGlass, e.Details, e.PrevHash, e.Hash); err != nil {
		return fmt.Errorf("storage: audit event %d: %w", e.Seq, err)
	}
	if c.head != nil { // the batch writes the head once, before it commits
		c.head.Head, c.head.read, c.head.dirty = audit.Head{Seq: e.Seq, Hash: e.Hash}, true, true
		return nil
	}
	if _, err := c.exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, e.Seq, e.Hash); err != nil {
		return fmt.Errorf("storage: audit head: %w", err)
	}
	return nil
}

// appendAuditBatch appends events in order, as appendAudit one by one
// would (the same chain), but with the head read and written once and the
// events inserted many rows a statement: a school's round records one
// event a pupil. A PostgreSQL group-commit batch chains them itself.
func appendAuditBatch(ctx context.Context, c conn, events []audit.Event) error {
	if _, ok := c.q.(*pgPipe); (ok && c.head != nil) || len(events) < 2 {
		for _, e := range events {
			if err := appendAudit(ctx, c, e); err != nil {
				return err
			}
		}
		return nil
	}
	var head audit.Head
	if c.head != nil && c.head.read {
		head = c.head.Head
	} else {
		q := `SELECT seq, hash FROM audit_head WHERE id = 1`
		if c.engine == Postgres {
			q += ` FOR UPDATE`
		}
		if err := c.queryRow(ctx, q).Scan(&head.Seq, &head.Hash); err != nil {
			return fmt.Errorf("storage: audit head: %w", err)
		}
	}
	const cols = 15
	const perStatement = 200
	for start := 0; start < len(events); start += perStatement {
		part := events[start:min(start+perStatement, len(events))]
		args := make([]any, 0, len(part)*cols)
		for _, e := range part {
			if e.Action == "" {
				return errors.New("storage: audit event without an action")
			}
			e = audit.Sanitize(e)
			e.Seq, e.At, e.PrevHash = head.Seq+1, c.now, head.Hash
			e.Hash = audit.Hash(e.PrevHash, e)
			head = audit.Head{Seq: e.Seq, Hash: e.Hash}
			args = append(args, e.Seq, e.At, e.ActorUserID, e.ActorOrgID, e.Action, e.ObjectType, e.ObjectID, e.ChildID,
				e.IP, e.RequestID, e.Reason, e.BreakGlass, e.Details, e.PrevHash, e.Hash)
		}
		if _, err := c.exec(ctx, `INSERT INTO audit_events (`+auditColumns+`) VALUES `+valuesList(len(part), cols), args...); err != nil {
			return fmt.Errorf("storage: audit events to %d: %w", head.Seq, err)
		}
	}
	if c.head != nil {
		c.head.Head, c.head.read, c.head.dirty = head, true, true
		return nil
	}
	if _, err := c.exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, head.Seq, head.Hash); err != nil {
		return fmt.Errorf("storage: audit head: %w", err)
	}
	return nil
}

const auditColumns = `seq, at, actor_user_id, actor_org_id, action, object_type, object_id, child_id,
	ip, request_id, reason, break_glass, details, prev_hash, hash`

func scanAudit(s interface{ Scan(...any) error }) (audit.Event, error) {
	var e audit.Event
	err := s.Scan(&e.Seq, &e.At, &e.ActorUserID, &e.ActorOrgID, &e.Action, &e.ObjectType, &e.ObjectID, &e.ChildID,
		&e.IP, &e.RequestID, &e.Reason, &e.BreakGlass, &e.Details, &e.PrevHash, &e.Hash)
	e.At = e.At.UTC()
	return e, err
}

// auditPage is how many events VerifyAudit reads per query.
const auditPage = 5000

// VerifyAudit checks the whole audit chain against its head, reading the
// events in seq order a page at a time, in one read-only snapshot (events
// appended meanwhile are neither seen nor missed). checked counts the events
// read, up to and including the first broken one. When the chain is whole
// firstBad is 0 and reason ""; otherwise firstBad is the seq where it first
// breaks and reason an audit.Reason ("gap", "link", "hash" or "head"). A
// head that names no event (seq 0) but holds a hash gives firstBad 0 with
// reason "head".
func (db *DB) VerifyAudit(ctx context.Context) (checked, firstBad int64, reason string, err error) {
	defer apperr.Wrap(&err, "storage.VerifyAudit")
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead})
	if err != nil {
		return 0, 0, "", err
	}
	defer func() { _ = tx.Rollback() }()
	c := conn{q: tx, engine: db.engine, now: db.Now()}
	var head audit.Head
	if err := c.queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&head.Seq, &head.Hash); err != nil {
		return 0, 0, "", fmt.Errorf("audit head: %w", err)
	}
	var v audit.Verifier
	for after := int64(-1 << 63); ; {
		n, b, err := verifyPage(ctx, c, &v, after)
		if err != nil {
			return v.Checked(), 0, "", err
		}
		if b != nil {
			return v.Checked(), b.Seq, string(b.Reason), nil
		}
		if n < auditPage {
			break
		}
		after = v.Last().Seq
	}
	if b := v.End(head); b != nil {
		return v.Checked(), b.Seq, string(b.Reason), nil
	}
	return v.Checked(), 0, "", nil
}

// verifyPage feeds v the events after seq after, at most auditPage of them,
// and reports how many it read and the first break.
func verifyPage(ctx context.Context, c conn, v *audit.Verifier, after int64) (n int, b *audit.Break, err error) {
	rows, err := c.query(ctx, `SELECT `+auditColumns+` FROM audit_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, auditPage)
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return n, nil, err
		}
		n++
		if b = v.Add(e); b != nil {
			return n, b, nil
		}
	}
	return n, nil, rows.Err()
}

// AuditHead returns the head of the audit chain: the newest event's seq
// and hash, or (0, "") when there is none.
func (db *DB) AuditHead(ctx context.Context) (h audit.Head, err error) {
	defer apperr.Wrap(&err, "storage.AuditHead")
	err = db.reader().queryRow(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1`).Scan(&h.Seq, &h.Hash)
	return h, err
}

// AuditFilter selects audit events; zero fields do not filter. From and To
// bound At (From included, To excluded). Before is a seq cursor: only events
// older than it, for the next page (pass the last Seq of the previous page).
type AuditFilter struct {
	ActorUserID    int64
	ChildID        int64
	Action         string
	From, To       time.Time
	BreakGlassOnly bool
	Before         int64
	Limit          int // 100 when 0, at most 1000
}

// AuditEvents lists audit events matching f, newest first.
func (db *DB) AuditEvents(ctx context.Context, f AuditFilter) (es []audit.Event, err error) {
	defer apperr.Wrap(&err, "storage.AuditEvents")
	var where []string
	var args []any
	add := func(cond string, arg any) {
		where = append(where, cond)
		if arg != nil {
			args = append(args, arg)
		}
	}
	if f.ActorUserID != 0 {
		add(`actor_user_id = ?`, f.ActorUserID)
	}
	if f.ChildID != 0 {
		add(`child_id = ?`, f.ChildID)
	}
	if f.Action != "" {
		add(`action = ?`, f.Action)
	}
	// Times are bound in UTC: SQLite compares them as text.
	if !f.From.IsZero() {
		add(`at >= ?`, f.From.UTC())
	}
	if !f.To.IsZero() {
		add(`at < ?`, f.To.UTC())
	}
	if f.BreakGlassOnly {
		add(`break_glass = TRUE`, nil) // as in the partial index's predicate
	}
	if f.Before != 0 {
		add(`seq < ?`, f.Before)
	}
	limit := f.Limit
	switch {
	case limit <= 0:
		limit = 100
	case limit > 1000:
		limit = 1000
	}
	q := `SELECT ` + auditColumns + ` FROM audit_events`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY seq DESC LIMIT ?`
	rows, err := db.reader().query(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		e, err := scanAudit(rows)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, rows.Err()
}

// ExecRaw runs one statement on the write connection, with ? placeholders
// rebound for PostgreSQL. It bypasses every rule of this package and exists
// only for tests that tamper with the audit trail on purpose and for
// operator tooling; application code must never call it.
func (db *DB) ExecRaw(ctx context.Context, query string, args ...any) error {
	_, err := conn{q: db.write, engine: db.engine}.exec(ctx, query, args...)
	return err
}
