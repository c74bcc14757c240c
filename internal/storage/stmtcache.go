package storage

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// stmtCacheMax bounds the statements a stmtCache keeps; past it, new
// queries run unprepared. Most read queries are constants in the code,
// with a few shapes built from filters. Queries built per call with lists
// of values (more than stmtCacheMaxArgs placeholders) are never cached, and
// matching, whose query texts vary with the number of keys and candidates,
// has a cache of its own (DB.matchReader), so that the bound is not reached
// at the expense of the queries every request makes.
const (
	stmtCacheMax     = 512
	stmtCacheMaxArgs = 64 // the navigation counts of a school take 43 (ADR 0043)
)

// stmtCache is a querier on a pool that prepares each query once and
// reuses the statement (database/sql prepares it again on each connection
// that needs it). modernc.org/sqlite parses a query on every unprepared
// call; on the read path that parse was an eighth of the CPU time of an
// API request (token, user and organisation lookups). pgx caches
// statements per connection itself, so only SQLite's read pool uses this.
type stmtCache struct {
	db *sql.DB
	mu sync.RWMutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// stmt returns q prepared, or nil when it cannot be (the cache is full,
// or preparing failed: the unprepared call then reports the error).
func (c *stmtCache) stmt(ctx context.Context, q string) *sql.Stmt {
	c.mu.RLock()
	st, ok := c.m[q]
	full := len(c.m) >= stmtCacheMax
	c.mu.RUnlock()
	if ok || full || strings.Count(q, "?") > stmtCacheMaxArgs {
		return st
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if st, ok := c.m[q]; ok {
		return st
	}
	st, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.m[q] = st
	return st
}

func (c *stmtCache) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if st := c.stmt(ctx, q); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return c.db.ExecContext(ctx, q, args...)
}

func (c *stmtCache) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	if st := c.stmt(ctx, q); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.db.QueryContext(ctx, q, args...)
}

func (c *stmtCache) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	if st := c.stmt(ctx, q); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.db.QueryRowContext(ctx, q, args...)
}

// Close closes the prepared statements.
func (c *stmtCache) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, st := range c.m {
		st.Close()
		delete(c.m, q)
	}
}
