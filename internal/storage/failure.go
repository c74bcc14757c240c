package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"dayaq/internal/apperr"
)

// Classify is the one place that recognises the database drivers' errors
// for what they mean to a caller (ADR 0028):
//
//   - the database cannot be reached (PostgreSQL stopped, restarting,
//     refusing connections, a connection cut mid-query; SQLite's disk
//     failing with SQLITE_IOERR): apperr.Unavailable, "ops.error.db_unavailable";
//   - the disk is full (SQLITE_FULL, PostgreSQL's 53100 disk_full):
//     apperr.InsufficientStorage, "ops.error.disk_full";
//   - PostgreSQL refused the request to break a lock cycle with another
//     transaction (40P01 deadlock_detected; two group-commit writers
//     claiming the same Idempotency-Keys in another order): its work was
//     rolled back, so apperr.Conflict, "ops.error.lock_conflict", to send
//     again.
//
// Any other error is returned unchanged, as is an error that already
// carries a code. The driver's error stays in the chain as the internal
// cause.
func Classify(err error) error {
	if err == nil {
		return nil
	}
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code != apperr.Internal {
		return err
	}
	switch {
	case diskFull(err):
		return &apperr.Error{Code: apperr.InsufficientStorage, Key: "ops.error.disk_full", Err: err}
	case unreachable(err):
		return &apperr.Error{Code: apperr.Unavailable, Key: "ops.error.db_unavailable", Err: err}
	case lockCycle(err):
		return &apperr.Error{Code: apperr.Conflict, Key: "ops.error.lock_conflict", Err: err}
	}
	return err
}

// diskFull reports whether err says the database's disk is full.
func diskFull(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_FULL {
		return true
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "53100" { // disk_full
		return true
	}
	return errors.Is(err, syscall.ENOSPC)
}

// lockCycle reports whether err says PostgreSQL broke a lock cycle by
// refusing this request's statement (deadlock_detected).
func lockCycle(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "40P01"
}

// unreachable reports whether err says the database cannot be reached or
// cannot do I/O right now, as opposed to refusing this one statement.
func unreachable(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
			return true
		}
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		// 08: connection exception; 57P01..03: the server is shutting down,
		// crashed or starting; 53300: too many connections.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" ||
			pe.Code == "57P03" || pe.Code == "53300"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &ce), errors.As(err, &oe), errors.As(err, &ne):
		return true
	case errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	// pgx reports a connection it closed after a failure this way, without a type.
	return strings.Contains(err.Error(), "conn closed")
}

// health is what the database's last writes said about the disk: the
// readiness check reports a full disk until a write goes through again.
type health struct {
	fullSince atomic.Int64 // unix nanoseconds of the first SQLITE_FULL since the last good write; 0 when none
}

// classify is Classify, remembering a full disk for Ready and forgetting it
// after a good write. Every write path (inTx, the group-commit writer)
// returns through it.
func (db *DB) classify(err error) error {
	if err == nil {
		db.health.fullSince.Store(0)
		return nil
	}
	err = Classify(err)
	if apperr.CodeOf(err) == apperr.InsufficientStorage {
		db.health.fullSince.CompareAndSwap(0, time.Now().UnixNano())
	}
	return err
}

// Ready reports whether the database can serve: nil, or an apperr with
// code Unavailable (it does not answer) or InsufficientStorage (a write
// failed for want of space and a probe write still fails). After a disk-full
// failure it probes with a small real write, so that the server reports
// ready again as soon as space is freed even when no other write arrives.
func (db *DB) Ready(ctx context.Context) error {
	if err := db.Ping(ctx); err != nil {
		return Classify(err)
	}
	if db.health.fullSince.Load() == 0 {
		return nil
	}
	return db.probeWrite(ctx)
}

// probeSize is what the readiness probe writes: a few pages, so that it
// needs the space a small real write needs.
const probeSize = 16 << 10

func (db *DB) probeWrite(ctx context.Context) error {
	err := db.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `INSERT INTO ops_probe (id, pad) VALUES (1, ?)`, strings.Repeat("x", probeSize)); err != nil {
			return fmt.Errorf("storage: probe write: %w", err)
		}
		if _, err := c.exec(ctx, `DELETE FROM ops_probe`); err != nil {
			return fmt.Errorf("storage: probe write: %w", err)
		}
		return nil
	})
	return err
}
