// Package storage keeps Dayaq's data in SQLite (embedded, the default) or
// PostgreSQL. Both engines sit behind database/sql and share one code path:
// queries are written with ? placeholders and rebound for PostgreSQL, and the
// few statements that must differ are chosen by Engine.
//
// SQLite is opened twice: one writer connection (so writers queue in Go, not
// on SQLITE_BUSY, and every write transaction starts IMMEDIATE) beside a pool
// of read-only connections. WAL lets readers run while the writer writes.
// synchronous=FULL makes a committed transaction survive a power cut, not
// only a crash: an acknowledged report must be on disk.
package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	_ "modernc.org/sqlite"           // registers the "sqlite" driver

	"dayaq/internal/calendar"
	"dayaq/internal/casework"
)

// Engine names a database engine.
type Engine string

const (
	SQLite   Engine = "sqlite"
	Postgres Engine = "postgres"

	// DefaultPath is where the SQLite database lives when none is given.
	DefaultPath = "./data/dayaq.db"
)

// DB is Dayaq's database handle, safe for concurrent use.
type DB struct {
	engine Engine
	read   *sql.DB    // the read pool
	stmts  *stmtCache // SQLite: the read pool's prepared statements (nil on PostgreSQL)
	// matchStmts are matching's prepared statements (SQLite; see matchReader).
	matchStmts *stmtCache
	auth       authCache // tokens and principals, read again after authCacheTTL
	write      *sql.DB   // one connection on SQLite; the same pool as read on PostgreSQL
	// counts is PostgreSQL's pool for the navigation's counts (NavCounts),
	// whose connections plan every statement once, generically
	// (plan_cache_mode): planning the counts' UNION for its parameters took
	// 3–7 ms on each of a connection's first five runs, where the generic
	// plan runs in under 1 ms (ADR 0048). nil on SQLite.
	counts *sql.DB
	now    func() time.Time
	hot    hotlineState // the hotline's caches, keys and group-commit writer (hotline.go)
	// deadlines are the deadlines per urgency the calendar counts (see Calendar).
	deadlines calendar.Deadlines
	cases     casework.Deadlines // the spans case deadlines are computed with (WithCaseDeadlines)
	health    health             // what the last writes said about the disk (failure.go)
	path      string             // SQLite: the database file (backups open it apart)
	// batchTimeout bounds one group-commit batch (WithBatchTimeout).
	batchTimeout time.Duration
	// matchPlan is the MatchPlan MatchChildren follows (SetMatchPlan).
	matchPlan atomic.Int32
	// pgWriters is how many group-commit writers run on PostgreSQL (WithGroupWriters).
	pgWriters int
}

// Option configures Open.
type Option func(*DB)

// WithClock sets the clock that stamps created_at and updated_at (tests set it).
func WithClock(now func() time.Time) Option { return func(db *DB) { db.now = now } }

// WithDeadlines sets the deadlines per urgency that Calendar's Due counts
// (default calendar.DefaultDeadlines).
func WithDeadlines(d calendar.Deadlines) Option { return func(db *DB) { db.deadlines = d } }

// EngineOf reports which engine dsn names: a postgres:// or postgresql://
// URL is PostgreSQL, anything else a SQLite file path.
func EngineOf(dsn string) Engine {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// Open connects to the database named by dsn (see EngineOf), creating a
// SQLite file and its directory on first use. It does not migrate.
func Open(ctx context.Context, dsn string, opts ...Option) (*DB, error) {
	if dsn == "" {
		dsn = DefaultPath
	}
	db := &DB{engine: EngineOf(dsn), now: time.Now, cases: casework.DefaultDeadlines(), batchTimeout: defaultBatchTimeout,
		pgWriters: pgWriters}
	db.matchPlan.Store(int32(MatchPlanOverlap))
	for _, o := range opts {
		o(db)
	}
	var err error
	switch db.engine {
	case Postgres:
		db.read, err = sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("storage.Open: postgres: %w", err)
		}
		db.read.SetMaxOpenConns(32)
		db.read.SetMaxIdleConns(32)
		db.read.SetConnMaxIdleTime(5 * time.Minute)
		db.write = db.read
		if db.counts, err = openGeneric(dsn); err != nil {
			db.read.Close()
			return nil, fmt.Errorf("storage.Open: postgres counts: %w", err)
		}
	default:
		db.path = dsn
		if err := os.MkdirAll(filepath.Dir(dsn), 0o750); err != nil {
			return nil, fmt.Errorf("storage.Open: create directory for %s: %w", dsn, err)
		}
		if db.write, err = sql.Open("sqlite", sqliteDSN(dsn, false)); err != nil {
			return nil, fmt.Errorf("storage.Open: sqlite writer: %w", err)
		}
		db.write.SetMaxOpenConns(1)
		db.write.SetConnMaxIdleTime(0)
		db.write.SetConnMaxLifetime(0)
		if db.read, err = sql.Open("sqlite", sqliteDSN(dsn, true)); err != nil {
			db.write.Close()
			return nil, fmt.Errorf("storage.Open: sqlite readers: %w", err)
		}
		n := max(4, runtime.NumCPU())
		db.read.SetMaxOpenConns(n)
		db.read.SetMaxIdleConns(n)
		db.stmts, db.matchStmts = newStmtCache(db.read), newStmtCache(db.read)
	}
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// sqliteDSN builds the modernc.org/sqlite connection string for path.
func sqliteDSN(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "temp_store(MEMORY)") // savepoints' sub-journals stay in memory (group commit, ADR 0009)
	q.Add("_time_format", "sqlite")
	if readOnly {
		q.Add("_pragma", "query_only(1)")
		q.Add("_pragma", "cache_size(-32000)") // 32 MB a reader
	} else {
		// The one writer's page cache holds the index pages bulk imports
		// touch: with 32 MB, importing past a million children spent its time
		// re-reading child_match_keys' pages (ADR 0004).
		q.Add("_pragma", "cache_size(-131072)") // 128 MB
		q.Set("_txlock", "immediate")
	}
	return "file:" + path + "?" + q.Encode()
}

// Engine reports the engine behind db.
func (db *DB) Engine() Engine { return db.engine }

// Now returns the current time from db's clock, in UTC, to the microsecond
// (what both engines keep).
func (db *DB) Now() time.Time { return db.now().UTC().Truncate(time.Microsecond) }

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.read.PingContext(ctx); err != nil {
		return fmt.Errorf("storage: ping %s: %w", db.engine, err)
	}
	if db.write != db.read {
		if err := db.write.PingContext(ctx); err != nil {
			return fmt.Errorf("storage: ping %s writer: %w", db.engine, err)
		}
	}
	return nil
}

// Close closes every connection.
func (db *DB) Close() error {
	db.stopGroupWriter()
	if db.stmts != nil {
		db.stmts.Close()
		db.matchStmts.Close()
	}
	err := db.read.Close()
	if db.counts != nil {
		err = errors.Join(err, db.counts.Close())
	}
	if db.write != db.read {
		err = errors.Join(err, db.write.Close())
	}
	return err
}

// Pools returns the connection pools by name, for metrics.
func (db *DB) Pools() map[string]*sql.DB {
	if db.write == db.read {
		return map[string]*sql.DB{"main": db.read, "counts": db.counts}
	}
	return map[string]*sql.DB{"read": db.read, "write": db.write}
}

// rebind turns ? placeholders into $1, $2, … for PostgreSQL. Dayaq's SQL has
// no ? inside string literals.
func rebind(e Engine, q string) string {
	if e != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// querier is what both *sql.DB and *sql.Tx offer.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs rebound queries on a pool or a transaction.
type conn struct {
	q      querier
	engine Engine
	now    time.Time  // frozen for the transaction
	head   *batchHead // in a group-commit batch: the audit head, read once and written before the commit
}

func (c conn) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return c.q.ExecContext(ctx, rebind(c.engine, query), args...)
}

func (c conn) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return c.q.QueryContext(ctx, rebind(c.engine, query), args...)
}

func (c conn) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return c.q.QueryRowContext(ctx, rebind(c.engine, query), args...)
}

// matchReader returns a conn on the read pool for matching, whose query
// texts vary with the number of keys and candidates: on SQLite they have a
// statement cache of their own, so that they never crowd out the others'.
func (db *DB) matchReader() conn {
	if db.matchStmts != nil {
		return conn{q: db.matchStmts, engine: db.engine, now: db.Now()}
	}
	return conn{q: db.read, engine: db.engine, now: db.Now()}
}

// reader returns a conn on the read pool.
// openGeneric opens a small PostgreSQL pool on dsn whose sessions use
// generic plans for prepared statements from their first run.
func openGeneric(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, err
	}
	cfg.RuntimeParams["plan_cache_mode"] = "force_generic_plan"
	p := stdlib.OpenDB(*cfg)
	p.SetMaxOpenConns(8)
	p.SetMaxIdleConns(8)
	p.SetConnMaxIdleTime(5 * time.Minute)
	return p, nil
}

// countsReader is reader() for the navigation's counts: on PostgreSQL the
// pool that plans them generically (DB.counts).
func (db *DB) countsReader() conn {
	if db.counts != nil {
		return conn{q: db.counts, engine: db.engine, now: db.Now()}
	}
	return db.reader()
}

func (db *DB) reader() conn {
	if db.stmts != nil {
		return conn{q: db.stmts, engine: db.engine, now: db.Now()}
	}
	return conn{q: db.read, engine: db.engine, now: db.Now()}
}

// inTx runs fn in a write transaction, committing when fn returns nil and
// rolling back otherwise: a failed request changes nothing. The one
// exception is errCommit: a refusal whose audit event must be kept, so the
// transaction commits and the refusal is returned.
func (db *DB) inTx(ctx context.Context, fn func(c conn) error) (err error) {
	return db.txOn(ctx, db.write, fn)
}

// txOn is inTx on b: the write pool, or a connection taken from it.
func (db *DB) txOn(ctx context.Context, b interface {
	BeginTx(context.Context, *sql.TxOptions) (*sql.Tx, error)
}, fn func(c conn) error) (err error) {
	defer func() { err = db.classify(err) }()
	tx, err := b.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("storage: begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback() // a no-op after the commit of an errCommit
		}
	}()
	if err = fn(conn{q: tx, engine: db.engine, now: db.Now()}); err != nil {
		if ec := (errCommit{}); errors.As(err, &ec) {
			if cerr := tx.Commit(); cerr != nil {
				return fmt.Errorf("storage: commit: %w", cerr)
			}
		}
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("storage: commit: %w", err)
	}
	return nil
}
