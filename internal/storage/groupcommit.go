package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
)

// Group commit (ADR 0009). A durable commit costs one fsync of the WAL
// (SQLite, synchronous=FULL) or of the WAL record (PostgreSQL), and on both
// engines audited transactions serialise on the audit chain's head. So
// instead of one transaction per request, one writer goroutine takes every
// request waiting, runs each in a savepoint of one transaction, commits
// once, and only then answers each of them: a request that failed rolled
// back to its savepoint and gets its error; the others are acknowledged
// after the commit that made them durable, never before. While one batch
// commits the next fills, so the batch grows with the load and a lone
// request waits for nobody.

// maxBatch caps how many requests one transaction carries.
const maxBatch = 128

// batchReq is one request for the group-commit writer.
type batchReq struct {
	ctx  context.Context
	fn   func(ctx context.Context, c conn) error
	done chan error
}

// batcher is the group-commit writer goroutine.
type batcher struct {
	db   *DB
	reqs chan batchReq
	quit chan struct{}
	wg   sync.WaitGroup
	// mu orders sends against Close: a request is queued under the read
	// lock while closed is false, and Close sets closed under the write
	// lock before it closes quit, so every request queued is one the writer
	// answers or refuses; none waits forever for a writer that has gone.
	mu     sync.RWMutex
	closed bool

	// SQLite only: statements prepared on the one write connection, reused
	// by every batch (parsing SQL is a good part of a contact's cost), and
	// those a batch met for the first time, to prepare after it.
	prepared map[string]*sql.Stmt
	missed   []string

	chain chainHead // PostgreSQL: the audit head pipelined batches chain onto (ADR 0036)

	// inflight counts the requests queued or in a batch; peak is the most
	// there were at once since the last batch began, the writer's guess of
	// how many will share the next one (ADR 0042).
	inflight, peak atomic.Int64
	// batches and requests count the batches run and the requests in them.
	batches, requests atomic.Int64
}

func newBatcher(db *DB) *batcher {
	b := &batcher{db: db, reqs: make(chan batchReq, maxBatch), quit: make(chan struct{}), prepared: map[string]*sql.Stmt{}}
	b.chain.turn = make(chan struct{}, 1)
	n := 1
	if db.engine == Postgres {
		n = db.pgWriters // ADR 0036
	}
	b.wg.Add(n)
	for range n {
		go b.run()
	}
	return b
}

// constError is an error that can be a constant.
type constError string

func (e constError) Error() string { return string(e) }

// errClosed answers requests made after Close.
const errClosed = constError("storage: closed")

// defaultBatchTimeout bounds one batch, from BEGIN to COMMIT (see
// WithBatchTimeout).
const defaultBatchTimeout = 10 * time.Second

// WithBatchTimeout bounds how long one group-commit batch may take, from
// its BEGIN to its COMMIT (default 10 s). A stalled database — a lock
// held elsewhere, a disk that does not answer — then fails the batch's
// requests with apperr.Unavailable (503 and Retry-After at the edge)
// instead of holding every waiting request for as long as it stalls.
func WithBatchTimeout(d time.Duration) Option { return func(db *DB) { db.batchTimeout = d } }

// errPanicked marks the error of a request whose work panicked.
const errPanicked = constError("storage: group commit: request panicked")

// inGroupTx runs fn in a savepoint of a shared write transaction and
// returns once that transaction has committed (nil, or fn's errCommit) or
// fn's work was rolled back (its error). Like inTx, a failed fn changes
// nothing; unlike inTx, fn must not keep state across calls that it
// relies on after a failed commit. fn runs its statements with the context
// it is given, which the caller's cancellation does not reach: a statement
// interrupted midway would abort the whole shared transaction. The batch's
// deadline does reach it: past it the batch is rolled back and every
// request in it gets apperr.Unavailable.
func (db *DB) inGroupTx(ctx context.Context, fn func(ctx context.Context, c conn) error) error {
	b := db.groupWriter()
	if b == nil {
		return errClosed
	}
	req := batchReq{ctx: ctx, fn: fn, done: make(chan error, 1)}
	n := b.inflight.Add(1)
	defer b.inflight.Add(-1)
	for p := b.peak.Load(); n > p && !b.peak.CompareAndSwap(p, n); p = b.peak.Load() {
	}
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		return errClosed
	}
	select {
	case b.reqs <- req:
		b.mu.RUnlock()
	case <-ctx.Done():
		b.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued, wait for the answer even if ctx ends: the commit may
	// already be on its way to disk, and the caller must know.
	return db.classify(<-req.done)
}

// GroupCommitStats reports how many group-commit batches ran and how many
// requests they carried, for "dayaq bench intake".
func (db *DB) GroupCommitStats() (batches, requests int64) {
	if b := db.groupWriter(); b != nil {
		return b.batches.Load(), b.requests.Load()
	}
	return 0, 0
}

func (db *DB) groupWriter() *batcher {
	db.hot.batchOnce.Do(func() { db.hot.batch = newBatcher(db) })
	return db.hot.batch
}

// stopGroupWriter stops the writer after the batch in hand; requests still
// queued are refused.
func (db *DB) stopGroupWriter() {
	db.hot.batchOnce.Do(func() {}) // no writer may start after this
	if b := db.hot.batch; b != nil {
		b.mu.Lock()
		if !b.closed {
			b.closed = true
			close(b.quit)
		}
		b.mu.Unlock()
		b.wg.Wait()
	}
}

// linger bounds how long a PostgreSQL writer waits, from a batch's first
// request, for the requests it expects to share it (ADR 0042): as many as
// were in flight at once during the batch before. The requests that batch
// answered come back a few hundred microseconds later; while the batch is
// on the server the writer is idle anyway, and a fuller batch costs the
// server less a request. A lone request waits for nobody: then one was in
// flight.
const linger = time.Millisecond

// sqliteLinger is how long the SQLite writer waits for one more request
// when the previous batch was bigger than the batch in hand. The writer
// itself executes every statement, on a core of its own, so it waits
// little: a wait is time it does not write.
const sqliteLinger = 300 * time.Microsecond

func (b *batcher) run() {
	defer b.wg.Done()
	defer func() {
		for _, st := range b.prepared {
			st.Close()
		}
	}()
	batch := make([]batchReq, 0, maxBatch)
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	ws := &writerState{} // PostgreSQL: this writer's reserved IDs
	last := 0            // SQLite: the previous batch's size
	for {
		select {
		case <-b.quit:
			b.refuse()
			return
		case r := <-b.reqs:
			batch = append(batch[:0], r)
		}
		start := time.Now()
		// The most in flight at once during the last batch; from now on,
		// those still in flight.
		expect := int(b.peak.Swap(b.inflight.Load()))
		switch {
		case b.db.engine == SQLite:
			expect = last
		case b.db.pgWriters > 1:
			// Writers side by side share the requests: each waits for its
			// share of those in flight (ADR 0047).
			expect = (expect + b.db.pgWriters - 1) / b.db.pgWriters
		}
	drain:
		for len(batch) < maxBatch {
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
				continue
			default:
			}
			wait := linger - time.Since(start)
			if b.db.engine == SQLite {
				wait = sqliteLinger
			}
			if len(batch) >= expect || wait <= 0 {
				break drain
			}
			timer.Reset(wait)
			select {
			case r := <-b.reqs:
				batch = append(batch, r)
				if !timer.Stop() {
					<-timer.C
				}
			case <-timer.C:
				break drain
			}
		}
		last = len(batch)
		b.batches.Add(1)
		b.requests.Add(int64(len(batch)))
		if b.db.engine != Postgres || !b.commitPipelined(batch, ws) {
			b.commit(batch)
		}
		b.prepareMissed()
	}
}

// prepareMissed prepares, on the write connection and outside any
// transaction, the statements the last batch used for the first time.
func (b *batcher) prepareMissed() {
	if len(b.missed) == 0 { // always so on PostgreSQL, whose writers run side by side
		return
	}
	for _, q := range b.missed {
		if _, ok := b.prepared[q]; ok {
			continue
		}
		st, err := b.db.write.PrepareContext(context.Background(), q)
		if err != nil {
			continue // it will be prepared in the transaction again, and tried again after
		}
		b.prepared[q] = st
	}
	b.missed = b.missed[:0]
}

// txStmts runs a transaction's statements through prepared statements:
// those of the write connection when it has them, else prepared in the
// transaction (and noted, to be prepared on the connection after it). It
// is a querier, so conn uses it like a *sql.Tx.
type txStmts struct {
	b     *batcher
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (t *txStmts) stmt(ctx context.Context, q string) (*sql.Stmt, error) {
	if st, ok := t.stmts[q]; ok {
		return st, nil
	}
	var st *sql.Stmt
	if p, ok := t.b.prepared[q]; ok {
		st = t.tx.StmtContext(ctx, p)
	} else {
		var err error
		if st, err = t.tx.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
		t.b.missed = append(t.b.missed, q)
	}
	t.stmts[q] = st
	return st, nil
}

func (t *txStmts) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (t *txStmts) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (t *txStmts) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	st, err := t.stmt(ctx, q)
	if err != nil {
		return t.tx.QueryRowContext(ctx, q, args...) // reports the same error through Scan
	}
	return st.QueryRowContext(ctx, args...)
}

// batchHead is the audit chain's head as a batch's transaction sees it.
// appendAudit reads the head row once a batch (on PostgreSQL it stays
// locked until the commit) and keeps the head here; the batch writes it
// back once, before committing, and restores it when a request's work is
// rolled back to its savepoint. It saves two statements an audited request.
type batchHead struct {
	audit.Head
	read  bool // Head holds the head as this transaction sees it
	dirty bool // Head is newer than the row

	// taxonomy is the latest taxonomy version as the batch first read it
	// (0: not read): one read a batch, not one a contact, as a PostgreSQL
	// batch does (pgPipe.taxonomy). A version published meanwhile applies
	// from the next batch; contacts record the version they were checked
	// against (ADR 0042).
	taxonomy int
}

// refuse answers every queued request with errClosed.
func (b *batcher) refuse() {
	for {
		select {
		case r := <-b.reqs:
			r.done <- errClosed
		default:
			return
		}
	}
}

// commit runs batch in one transaction, each request in a savepoint of
// its own, and answers each request. On PostgreSQL it is the way a batch
// runs when commitPipelined could not (a statement failed, or a request
// failed after some of its work had been sent).
func (b *batcher) commit(batch []batchReq) {
	errs := make([]error, len(batch))
	ok := make([]bool, len(batch)) // its work is in the transaction
	fail := func(err error) {
		for i, r := range batch {
			if errs[i] == nil || ok[i] {
				errs[i] = err
			}
			r.done <- errs[i]
		}
	}
	// One request's cancellation must not abort the others', but the batch
	// as a whole has a deadline: past it the transaction is rolled back and
	// every request in it answered Unavailable.
	ctx, cancel := context.WithTimeout(context.Background(), b.db.batchTimeout)
	defer cancel()
	stalled := func(err error) error {
		if ctx.Err() != nil {
			return &apperr.Error{Code: apperr.Unavailable, Key: "error.unavailable", Err: err}
		}
		return err
	}
	tx, err := b.db.write.BeginTx(ctx, nil)
	if err != nil {
		fail(stalled(fmt.Errorf("storage: begin: %w", err)))
		return
	}
	var q querier = tx
	var pipe *pgPipe           // PostgreSQL: statements nobody awaits go together (groupcommit_pg.go)
	if b.db.engine == SQLite { // pgx caches prepared statements per connection itself
		q = &txStmts{b: b, tx: tx, stmts: map[string]*sql.Stmt{}}
	} else {
		pipe = &pgPipe{q: tx}
		q = pipe
	}
	head := &batchHead{}
	opened := "" // PostgreSQL: the savepoint the last flush already opened
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			errs[i] = err
			continue
		}
		before := *head
		sp := "g" + strconv.Itoa(i)
		if pipe != nil {
			pipe.begin()
			if opened != sp {
				pipe.later("SAVEPOINT " + sp)
			}
		} else if _, err := tx.ExecContext(ctx, "SAVEPOINT "+sp); err != nil {
			_ = tx.Rollback()
			fail(stalled(fmt.Errorf("storage: savepoint: %w", err)))
			return
		}
		err := b.run1(ctx, r, conn{q: q, engine: b.db.engine, now: b.db.Now(), head: head})
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) { // past the batch's deadline: the transaction is gone
			_ = tx.Rollback()
			fail(stalled(fmt.Errorf("storage: batch deadline: %w", ctx.Err())))
			return
		}
		var ec errCommit
		if pipe != nil {
			opened, err = pipe.finish(ctx, err, sp, i+1 < len(batch), "g"+strconv.Itoa(i+1))
		}
		if pipe != nil && (err == nil || errors.As(err, &ec)) {
			errs[i], ok[i] = err, true // released by finish
			continue
		}
		if err == nil || errors.As(err, &ec) {
			if _, rerr := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+sp); rerr != nil {
				_ = tx.Rollback()
				fail(stalled(fmt.Errorf("storage: release savepoint: %w", rerr)))
				return
			}
			errs[i], ok[i] = err, true
			continue
		}
		errs[i] = err
		*head = before // the events it appended are rolled back with it
		if pipe != nil {
			pipe.rollback()
		}
		if _, rerr := tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT "+sp); rerr != nil {
			_ = tx.Rollback()
			fail(stalled(fmt.Errorf("storage: rollback to savepoint: %w", rerr)))
			return
		}
		if _, rerr := tx.ExecContext(ctx, "RELEASE SAVEPOINT "+sp); rerr != nil {
			_ = tx.Rollback()
			fail(stalled(fmt.Errorf("storage: release savepoint: %w", rerr)))
			return
		}
	}
	if pipe != nil { // the batch's audit events, then everything pending
		err := pipe.appendEvents(ctx, head)
		if err == nil {
			err = pipe.flush(ctx)
		}
		if err != nil {
			_ = tx.Rollback()
			fail(stalled(err))
			return
		}
	}
	if head.dirty {
		if _, err := (conn{q: q, engine: b.db.engine}).exec(ctx, `UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1`,
			head.Seq, head.Hash); err != nil {
			_ = tx.Rollback()
			fail(stalled(fmt.Errorf("storage: audit head: %w", err)))
			return
		}
	}
	if err := tx.Commit(); err != nil {
		fail(stalled(fmt.Errorf("storage: commit: %w", err)))
		return
	}
	for i, r := range batch {
		r.done <- errs[i]
	}
}

// run1 runs one request's work with the batch's deadline but without the
// request's own cancellation. A panic in it fails that request alone: its
// work is rolled back to its savepoint like any failure, and the writer
// goes on with the rest of the batch.
func (b *batcher) run1(batchCtx context.Context, r batchReq, c conn) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = &apperr.Error{Code: apperr.Internal, Key: "error.internal",
				Err: fmt.Errorf("%w: %v\n%s", errPanicked, p, debug.Stack())}
		}
	}()
	return r.fn(requestValues{Context: batchCtx, values: r.ctx}, c)
}

// requestValues is the batch's context (its deadline, its cancellation)
// carrying one request's values (its request ID, for the logs).
type requestValues struct {
	context.Context
	values context.Context
}

func (c requestValues) Value(key any) any { return c.values.Value(key) }
