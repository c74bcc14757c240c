package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
)

// A pipelined group-commit batch on PostgreSQL (ADR 0036).
//
// The batch with savepoints (commit) awaits every request's end on the
// server, so that a failure there is that request's alone: a round trip a
// request at the least, more for each statement whose answer it reads.
// Most batches have no failure on the server at all: requests are refused
// by validation before they write. So a batch first runs optimistically,
// without savepoints: every statement whose answer nobody reads is queued
// and sent with pgx batches (the extended protocol with statements
// prepared once per connection), together with the next statement whose
// answer is awaited; new rows get IDs reserved ahead from their sequence
// instead of RETURNING them. A batch of contacts then takes three round
// trips in all: BEGIN with the taxonomy's version; the batch's statements
// with the audit head read FOR UPDATE; its audit events, the head and
// COMMIT. A request refused before any of its work reached the server is
// forgotten and gets its error, as before. If anything fails on the
// server, or a request fails after some of its work was sent, the
// transaction is rolled back (nothing of it committed) and the batch runs
// again the careful way, with savepoints (commit), which gives each
// request its own outcome. Nothing is acknowledged before the COMMIT.

// writerState is one PostgreSQL writer's own, kept across its batches.
type writerState struct {
	ids map[string][]int64 // sequence values reserved ahead, by table

	// The latest taxonomy version, read after the last batch's COMMIT.
	taxonomy int
	taxAt    time.Time
	taxGen   int64 // hotlineState.taxGen when it was read
}

// chainHead is the audit chain's head as the writers last left it: where
// the next pipelined batch chains its events on. A batch takes it and
// leaves its own events' end in it before it commits, so that the next
// batch, in another writer, chains onto that one; a check under the head
// row's lock on the server makes a batch whose guess was wrong (another
// transaction appended, or the batch before failed) chain again onto the
// real head. A wrong guess costs a round trip, never the chain.
type chainHead struct {
	mu   sync.Mutex
	head audit.Head
	ok   bool // head is worth guessing

	// turn is held by the one pipelined batch whose audit events and
	// COMMIT are on their way, from chaining them until the server has
	// answered (ADR 0047): a channel of one, taken by sending to it. The
	// next batch chains onto the head that one left only once it holds
	// turn, so it chains onto a committed head (or learns the commit
	// failed) instead of racing it to the head row's lock, which with two
	// writers guessed wrong in most batches. While it waits for turn, it
	// sends its other statements: its inserts overlap the other batch's
	// commit and fsync. It waits at most turnWait: the batch holding turn
	// may itself wait on the server for a lock this one took (the same
	// Idempotency-Key in both), a wait no deadlock detector sees; past
	// turnWait it chains without turn, and the head's check on the server
	// guards the chain as it always does. Only several writers
	// (WithGroupWriters) ever wait for it.
	turn chan struct{}
}

// turnWait is the longest a pipelined batch waits for the turn to chain
// its audit events (chainHead.turn): several commits' time.
const turnWait = 50 * time.Millisecond

// takeTurn takes ch's turn, waiting at most turnWait, and returns the
// function that gives it back (which does nothing if it was not taken).
func (ch *chainHead) takeTurn(ctx context.Context) (release func()) {
	t := time.NewTimer(turnWait)
	defer t.Stop()
	select {
	case ch.turn <- struct{}{}:
		return func() { <-ch.turn }
	case <-t.C:
	case <-ctx.Done():
	}
	return func() {}
}

func (ch *chainHead) leave(h audit.Head, ok bool) {
	ch.mu.Lock()
	ch.head, ch.ok = h, ok
	ch.mu.Unlock()
}

// reserveAhead is how many IDs a writer reserves from a sequence at once.
// A value reserved and never used is a gap, as a rolled-back insert's is.
const reserveAhead = 64

// taxonomyFresh is how long the taxonomy version read at the end of one
// batch serves the next: a version published meanwhile applies from the
// batch after (contacts record the version they were checked against).
const taxonomyFresh = 100 * time.Millisecond

// fastPipe reports whether c runs in a pipelined batch.
func (c conn) fastPipe() *pgPipe {
	if p, ok := c.q.(*pgPipe); ok && p.fast {
		return p
	}
	return nil
}

// reserveID returns a new ID for a row of table (whose id column is an
// identity or serial column) in a pipelined batch, from the IDs reserved
// ahead from its sequence (read with whatever is pending when there are
// none left); ok is false anywhere else, where the insert returns its ID.
func (c conn) reserveID(ctx context.Context, table string) (id int64, ok bool, err error) {
	p := c.fastPipe()
	if p == nil {
		return 0, false, nil
	}
	if p.ws.ids == nil {
		p.ws.ids = map[string][]int64{}
	}
	if len(p.ws.ids[table]) == 0 {
		q, args, scan := p.ws.refill(table)
		if err := p.send(ctx, q, args, scan); err != nil {
			return 0, false, err
		}
	}
	ids := p.ws.ids[table]
	if len(ids) == 0 {
		return 0, false, fmt.Errorf("storage: no IDs reserved for %s", table)
	}
	p.ws.ids[table] = ids[1:]
	return ids[0], true, nil
}

// refill is the query that reserves IDs ahead for table.
func (ws *writerState) refill(table string) (string, []any, func(pgx.Rows) error) {
	return `SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2)`, []any{table, reserveAhead},
		func(rows pgx.Rows) error {
			for rows.Next() {
				var v int64
				if err := rows.Scan(&v); err != nil {
					return err
				}
				ws.ids[table] = append(ws.ids[table], v)
			}
			return rows.Err()
		}
}

// scanOne scans the one row of rows into dest.
func scanOne(rows pgx.Rows, dest ...any) error {
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return sql.ErrNoRows
	}
	return rows.Scan(dest...)
}

// readQuery is a query sent after the pending statements, its rows handed
// to scan.
type readQuery struct {
	q    string
	args []any
	scan func(pgx.Rows) error
}

// send sends every pending statement and, when q is not empty, q with its
// rows handed to scan, in one pgx batch: one round trip. A failure is kept
// in p.failed: the batch cannot commit as it is.
func (p *pgPipe) send(ctx context.Context, q string, args []any, scan func(pgx.Rows) error) error {
	var reads []readQuery
	if q != "" {
		reads = []readQuery{{q, args, scan}}
	}
	_, err := p.sendReads(ctx, reads)
	return err
}

// sendReadQueries is send with several queries after the pending
// statements, in the same round trip.
func (p *pgPipe) sendReadQueries(ctx context.Context, reads []readQuery) error {
	_, err := p.sendReads(ctx, reads)
	return err
}

// sendReads is send with any number of queries after the pending
// statements (their rows merged, see plan). It reports the index of the
// statement that failed, as filed (the pending ones first, then reads), or
// -1.
func (p *pgPipe) sendReads(ctx context.Context, reads []readQuery) (int, error) {
	if p.failed != nil {
		return -1, p.failed
	}
	if len(p.queries) > p.qmark {
		p.sent = true // some of the current request's work goes with it
	}
	b := &pgx.Batch{}
	planned := p.plan()
	for _, st := range planned {
		b.Queue(rebind(Postgres, st.q), st.args...)
	}
	pending, queries := len(planned), len(p.queries)
	for _, r := range reads {
		b.Queue(r.q, r.args...)
	}
	p.discard()
	p.qmark, p.amark = 0, 0
	failedAt := -1
	err := p.sc.Raw(func(dc any) error {
		br := dc.(*stdlib.Conn).Conn().SendBatch(ctx, b)
		for i := range b.Len() {
			var err error
			if i < pending {
				_, err = br.Exec()
			} else {
				var rows pgx.Rows
				if rows, err = br.Query(); err == nil {
					err = reads[i-pending].scan(rows)
					rows.Close()
					if err == nil {
						err = rows.Err()
					}
				}
			}
			if err != nil {
				if failedAt = queries + i - pending; i < pending { // as an index of the statements filed
					failedAt = planned[i].first
				}
				_ = br.Close()
				return err
			}
		}
		return br.Close()
	})
	if err != nil {
		p.failed = fmt.Errorf("storage: pipelined statements: %w", err)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) {
			p.broken = true // not the server's answer: the connection's state is unknown
		}
		return failedAt, p.failed
	}
	return -1, nil
}

// errHeadMoved is the SQLSTATE of the check that the audit head is the
// one a pipelined batch chained its events onto (division by zero).
const errHeadMoved = "22012"

// commitPipelined runs batch as one pipelined transaction (see above) and
// answers every request; it reports false, having changed nothing, when
// the batch must run with savepoints instead.
func (b *batcher) commitPipelined(batch []batchReq, ws *writerState) bool {
	ctx, cancel := context.WithTimeout(context.Background(), b.db.batchTimeout)
	defer cancel()
	sc, err := b.db.write.Conn(ctx)
	if err != nil {
		return false // the batch with savepoints meets and reports it
	}
	p := &pgPipe{q: sc, sc: sc, ws: ws, fast: true}
	defer func() {
		if p.broken {
			_ = sc.Raw(func(any) error { return driver.ErrBadConn }) // database/sql discards it
		}
		sc.Close()
	}()
	// again rolls the transaction back; the batch runs with savepoints.
	again := func() bool {
		b.db.hot.again.Add(1)
		b.chain.leave(audit.Head{}, false)
		if !p.broken {
			if _, err := sc.ExecContext(ctx, "ROLLBACK"); err != nil {
				p.broken = true
			}
		}
		return false
	}
	errs := make([]error, len(batch))
	p.later("BEGIN")
	if ws.taxonomy != 0 && time.Since(ws.taxAt) < taxonomyFresh && ws.taxGen == b.db.hot.taxGen.Load() {
		p.taxonomy = ws.taxonomy
	}
	head := &batchHead{}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		p.begin()
		err := b.run1(ctx, r, conn{q: p, engine: Postgres, now: b.db.Now(), head: head})
		if p.failed != nil || ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			return again()
		}
		var ec errCommit
		if err != nil && !errors.As(err, &ec) {
			if p.sent { // some of its work is in the transaction: only a savepoint could undo it
				return again()
			}
			p.rollback()
		}
		errs[i] = err
	}
	// The audit events, chained onto the head the last batch left (checked
	// on the server, under the head's lock), or onto the head read now.
	check := -1
	if len(p.events) > 0 {
		select {
		case b.chain.turn <- struct{}{}:
			defer func() { <-b.chain.turn }()
		default:
			// Another batch is committing: send this one's statements
			// meanwhile, then chain onto the head it leaves.
			if err := p.send(ctx, "", nil, nil); err != nil {
				return again()
			}
			defer b.chain.takeTurn(ctx)()
		}
		b.chain.mu.Lock()
		if b.chain.ok {
			p.later("SAVEPOINT audit_head")
			check = len(p.queries)
			// Division by zero (errHeadMoved) unless the head is the one
			// guessed; seq - seq, not 0, so that the planner does not fold
			// the error into every execution.
			p.later(`SELECT CASE WHEN seq = ? AND hash = ? THEN 1 ELSE 1 / (seq - seq) END FROM audit_head WHERE id = 1 FOR UPDATE`,
				b.chain.head.Seq, b.chain.head.Hash)
			p.chainEvents(b.chain.head)
			p.later("RELEASE SAVEPOINT audit_head")
			b.chain.head = p.newHead
			b.chain.mu.Unlock()
		} else {
			b.chain.mu.Unlock()
			if !p.chainOnHead(ctx) {
				return again()
			}
			b.chain.leave(p.newHead, true)
		}
	}
	commit := len(p.queries)
	p.later("COMMIT")
	p.gen = b.db.hot.taxGen.Load() // before the read: a publish after it makes the next batch read again
	final := p.finalReads()
	failedAt, err := p.sendReads(ctx, final)
	if err != nil && failedAt == check && check >= 0 && sqlState(err) == errHeadMoved {
		// Another transaction moved the head: chain onto it instead.
		b.db.hot.moved.Add(1)
		p.failed = nil
		p.later("ROLLBACK TO SAVEPOINT audit_head")
		if !p.chainOnHead(ctx) {
			return again()
		}
		b.chain.leave(p.newHead, true)
		commit = len(p.queries)
		p.later("COMMIT")
		final = p.finalReads()
		failedAt, err = p.sendReads(ctx, final)
	}
	switch {
	case err == nil:
	case failedAt > commit: // committed; only what was read after it failed
		ws.taxonomy = 0
	case p.broken:
		// The COMMIT went out and its outcome is unknown: every request
		// gets the error, as a failed commit's.
		b.chain.leave(audit.Head{}, false)
		err = fmt.Errorf("storage: commit: %w", err)
		if ctx.Err() != nil {
			err = &apperr.Error{Code: apperr.Unavailable, Key: "error.unavailable", Err: err}
		}
		for _, r := range batch {
			r.done <- err
		}
		return true
	default: // refused by the server before or at COMMIT: nothing committed
		return again()
	}
	b.db.hot.pipelined.Add(1)
	for i, r := range batch {
		r.done <- errs[i]
	}
	return true
}

// chainEvents chains the batch's audit events onto h and queues their
// inserts and the head's update; the head the batch leaves is kept for the
// next batch, once this one has committed.
func (p *pgPipe) chainEvents(h audit.Head) {
	for i := range p.events {
		e := &p.events[i]
		e.Seq, e.PrevHash = h.Seq+1, h.Hash
		e.Hash = audit.Hash(e.PrevHash, *e)
		h = audit.Head{Seq: e.Seq, Hash: e.Hash}
		p.laterRows(rowsShape{auditEventsHead, auditEventRow, 1}, []any{e.Seq, e.At, e.ActorUserID, e.ActorOrgID, e.Action, e.ObjectType, e.ObjectID,
			e.ChildID, e.IP, e.RequestID, e.Reason, e.BreakGlass, e.Details, e.PrevHash, e.Hash})
	}
	p.later(`UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`, h.Seq, h.Hash)
	p.newHead = h
}

// chainOnHead reads the head FOR UPDATE with whatever is pending, then
// chains the events onto it.
func (p *pgPipe) chainOnHead(ctx context.Context) bool {
	var h audit.Head
	if err := p.send(ctx, `SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE`, nil,
		func(rows pgx.Rows) error { return scanOne(rows, &h.Seq, &h.Hash) }); err != nil {
		return false
	}
	p.chainEvents(h)
	return true
}

// finalReads are read after the COMMIT, in the same round trip, for the
// next batch: the latest taxonomy version and IDs for the tables running
// short.
func (p *pgPipe) finalReads() []readQuery {
	ws := p.ws
	gen := p.gen
	reads := []readQuery{{q: `SELECT COALESCE(MAX(version), 0) FROM taxonomy_versions`, scan: func(rows pgx.Rows) error {
		ws.taxGen = gen
		if err := scanOne(rows, &ws.taxonomy); err != nil {
			return err
		}
		ws.taxAt = time.Now()
		return nil
	}}}
	for table, ids := range ws.ids {
		if len(ids) < reserveAhead/2 {
			q, args, scan := ws.refill(table)
			reads = append(reads, readQuery{q, args, scan})
		}
	}
	return reads
}

// sqlState is err's SQLSTATE, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// PipelineStats reports how many PostgreSQL group-commit batches committed
// pipelined, how many of those found the audit head moved and chained
// again onto it, and how many ran again with savepoints (ADR 0036), for
// "dayaq bench intake".
func (db *DB) PipelineStats() (pipelined, moved, again int64) {
	return db.hot.pipelined.Load(), db.hot.moved.Load(), db.hot.again.Load()
}
