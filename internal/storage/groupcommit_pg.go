package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"dayaq/internal/audit"
)

// Pipelined writes in a PostgreSQL group-commit batch (ADR 0027).
//
// The batch's transaction runs on one connection, and every statement was
// one network round trip: about ten a contact (its savepoint, reads,
// inserts, audit event, release). Most of them return nothing the request
// reads: the inserts of a contact's children and categories, its audit
// event, its Idempotency-Key row, the savepoints. Those a request files
// with execLater; the batch's pgPipe keeps them and sends them together,
// in one simple-protocol message, before the next statement whose answer
// is awaited and, at the latest, at the end of the request, so that a
// failure is still the request's own: its work is rolled back to its
// savepoint and it gets the error, as before. Nothing is acknowledged
// before the commit; the order of statements on the connection is the
// order they were issued in.

// pgPipe is the querier of a PostgreSQL batch's transaction: statements
// with an awaited answer run at once (after whatever is pending), those
// filed with later wait for the next flush.
type pgPipe struct {
	q        querier     // the batch's transaction (*sql.Tx), or in a pipelined batch the connection (*sql.Conn)
	queries  []string    // pending statements, with ? placeholders
	args     []any       // their arguments, in order
	failed   error       // the last flush's error, reported instead of the aborted transaction's
	taxonomy int         // the latest taxonomy version as the batch first read it (0: not read)
	queued   []int       // pipelined batch: how many of args each pending statement takes
	shapes   []rowsShape // pipelined batch: each pending statement's rows, if it only inserts rows (laterRows)
	// events are the batch's audit events, chained and inserted only just
	// before the commit (appendEvents), so that the audit head's lock is
	// held for two round trips and the commit, not for the whole batch:
	// several writers' batches then run side by side (pgWriters).
	events []audit.Event
	mark   int // len(events) when the current request began

	// A pipelined batch (commitPipelined, groupcommit_pipe.go) sends its
	// pending statements with pgx batches on sc, without savepoints.
	sc      *sql.Conn
	ws      *writerState
	fast    bool
	qmark   int        // len(queries) when the current request began
	amark   int        // len(args) then
	sent    bool       // some of the current request's work reached the server
	broken  bool       // the connection's state is unknown: discard it
	newHead audit.Head // the head the batch's events end at
	gen     int64      // hotlineState.taxGen before the final reads
}

// pgWriters is how many group-commit writers run on PostgreSQL by default,
// each its own connection and transaction (WithGroupWriters). One: a
// pipelined batch takes one round trip, every batch's commit waits on the
// audit head's lock for the one before it anyway, and with two the guessed
// head was wrong in half the batches (ADR 0036).
const pgWriters = 1

// WithGroupWriters sets how many group-commit writers run on PostgreSQL
// (default 1; SQLite has one writer connection whatever it says). Fewer
// writers make bigger batches, more let batches overlap.
func WithGroupWriters(n int) Option {
	return func(db *DB) {
		if n > 0 {
			db.pgWriters = n
		}
	}
}

// begin marks the start of a request's work in the batch.
func (p *pgPipe) begin() {
	p.mark, p.qmark, p.amark, p.sent = len(p.events), len(p.queries), len(p.args), false
}

// rollback forgets the current request's pending statements and audit
// events: its work is rolled back to its savepoint.
func (p *pgPipe) rollback() {
	if p.fast { // the batch's statements before this request's stay
		p.queries, p.args, p.queued, p.shapes = p.queries[:p.qmark], p.args[:p.amark], p.queued[:p.qmark], p.shapes[:p.qmark]
	} else {
		p.discard()
	}
	p.events = p.events[:p.mark]
}

// appendEvent files an audit event of the batch; see appendEvents.
func (p *pgPipe) appendEvent(e audit.Event) { p.events = append(p.events, e) }

// appendEvents chains the batch's audit events onto the head, read and
// locked now (FOR UPDATE, until the commit), and files their insert and
// the head's update, which the next flush sends. The chain is the one
// appendAudit would have made: events in the order they were appended,
// each linked to the one before.
func (p *pgPipe) appendEvents(ctx context.Context, head *batchHead) error {
	if len(p.events) == 0 {
		return nil
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	var h audit.Head
	if err := p.q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`).Scan(&h.Seq, &h.Hash); err != nil {
		return fmt.Errorf("storage: audit head: %w", err)
	}
	args := make([]any, 0, 15*len(p.events))
	for i := range p.events {
		e := &p.events[i]
		e.Seq, e.PrevHash = h.Seq+1, h.Hash
		e.Hash = audit.Hash(e.PrevHash, *e)
		h = audit.Head{Seq: e.Seq, Hash: e.Hash}
		args = append(args, e.Seq, e.At, e.ActorUserID, e.ActorOrgID, e.Action, e.ObjectType, e.ObjectID, e.ChildID,
			e.IP, e.RequestID, e.Reason, e.BreakGlass, e.Details, e.PrevHash, e.Hash)
	}
	p.later(`INSERT INTO audit_events (`+auditColumns+`) VALUES `+
		strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), `, len(p.events)), `, `), args...)
	p.later(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, h.Seq, h.Hash)
	p.events = p.events[:0]
	head.Head, head.read, head.dirty = h, true, false
	return nil
}

// later files a statement whose answer nobody reads.
func (p *pgPipe) later(q string, args ...any) { p.laterShaped(q, rowsShape{}, args) }

func (p *pgPipe) laterShaped(q string, shape rowsShape, args []any) {
	if p.fast {
		p.queued = append(p.queued, len(args))
		p.shapes = append(p.shapes, shape)
	}
	p.queries = append(p.queries, q)
	p.args = append(p.args, args...)
}

// discard forgets what is pending (a request that failed: its savepoint
// is rolled back).
func (p *pgPipe) discard() {
	p.queries, p.args, p.queued, p.shapes = p.queries[:0], p.args[:0], p.queued[:0], p.shapes[:0]
}

// flush sends every pending statement in one round trip. The simple
// protocol carries several statements in one message; pgx interpolates
// the arguments (standard_conforming_strings, UTF-8).
func (p *pgPipe) flush(ctx context.Context) error {
	if len(p.queries) == 0 {
		return nil
	}
	if p.fast {
		return p.send(ctx, "", nil, nil)
	}
	q := rebind(Postgres, strings.Join(p.queries, ";\n"))
	args := append(make([]any, 0, 1+len(p.args)), pgx.QueryExecModeSimpleProtocol)
	args = append(args, p.args...)
	p.discard()
	if _, err := p.q.ExecContext(ctx, q, args...); err != nil {
		p.failed = fmt.Errorf("storage: pipelined statements: %w", err)
		return p.failed
	}
	return nil
}

// finish ends a request's turn in the batch. When its work succeeded (err
// nil or an errCommit) its pending statements, the release of its
// savepoint sp and, when another request follows, the next one's savepoint
// go in one round trip; a failure there is this request's error, its work
// is then rolled back by the caller. It returns the savepoint now open for
// the next request ("" if none) and the request's outcome.
func (p *pgPipe) finish(ctx context.Context, err error, sp string, more bool, next string) (string, error) {
	var ec errCommit
	if err != nil && !errors.As(err, &ec) {
		if p.failed != nil { // the statement that failed was a pending one
			err = p.failed
		}
		// What is still pending may include sp itself (a request that
		// failed before its first awaited statement): send it, so that
		// the caller's rollback to sp finds the savepoint; the rest is
		// rolled back with it.
		_ = p.flush(ctx)
		p.failed = nil
		return "", err
	}
	p.later("RELEASE SAVEPOINT " + sp)
	opened := ""
	if more {
		p.later("SAVEPOINT " + next)
		opened = next
	}
	if ferr := p.flush(ctx); ferr != nil {
		p.failed = nil
		return "", ferr
	}
	return opened, err
}

func (p *pgPipe) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	p.sent = true
	return p.q.ExecContext(ctx, q, args...)
}

func (p *pgPipe) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if err := p.flush(ctx); err != nil {
		return nil, err
	}
	p.sent = true
	return p.q.QueryContext(ctx, q, args...)
}

func (p *pgPipe) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if err := p.flush(ctx); err != nil {
		// *sql.Row cannot be made with an error; a statement in the
		// aborted transaction reports it through Scan.
		return p.q.QueryRowContext(ctx, `SELECT 1 WHERE FALSE`)
	}
	p.sent = true
	return p.q.QueryRowContext(ctx, q, args...)
}

// execLater runs a statement whose result the caller does not read: in a
// PostgreSQL group-commit batch it is sent with the next statement that
// is awaited (see pgPipe); anywhere else it runs at once.
func (c conn) execLater(ctx context.Context, query string, args ...any) error {
	if p, ok := c.q.(*pgPipe); ok {
		p.later(query, args...)
		return nil
	}
	_, err := c.exec(ctx, query, args...)
	return err
}

// latestTaxonomyVersion reads the latest taxonomy version; a PostgreSQL
// batch reads it once, for all its contacts (a version published while the
// batch runs applies from the next batch, a few milliseconds later).
func (c conn) latestTaxonomyVersion(ctx context.Context) (int, error) {
	p, _ := c.q.(*pgPipe)
	if p != nil && p.taxonomy != 0 {
		return p.taxonomy, nil
	}
	if p == nil && c.head != nil && c.head.taxonomy != 0 {
		return c.head.taxonomy, nil
	}
	var v int
	const q = `SELECT COALESCE(MAX(version), 0) FROM taxonomy_versions`
	if p != nil && p.fast { // with whatever is pending, in one round trip
		if err := p.send(ctx, q, nil, func(rows pgx.Rows) error { return scanOne(rows, &v) }); err != nil {
			return 0, err
		}
	} else if err := c.queryRow(ctx, q).Scan(&v); err != nil {
		return 0, err
	}
	if p != nil {
		p.taxonomy = v
	} else if c.head != nil {
		c.head.taxonomy = v
	}
	return v, nil
}
