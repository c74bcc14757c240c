package storage

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/casework"
)

// Tx is a write transaction handed to the function run by Idempotent, so
// that what a request creates and the response it stores commit together.
// Features add methods for what they create inside it.
type Tx struct {
	db *DB
	c  conn
}

// CreateCase opens a case inside the transaction (see createCaseTx).
func (t Tx) CreateCase(ctx context.Context, a audit.Actor, n casework.NewCase) (CaseRecord, error) {
	return t.db.createCaseTx(ctx, t.c, a, n)
}

// LinkContact links a hotline contact to a case inside the transaction.
func (t Tx) LinkContact(ctx context.Context, a audit.Actor, caseID, contactID int64) error {
	return linkContactTx(ctx, t.c, a, caseID, contactID)
}

// Response is what a create request answered, kept under its idempotency key.
type Response struct {
	Status   int
	Location string
	Body     []byte
	Replayed bool // this is the stored answer to an earlier request with the same key
}

// MaxIdempotencyKey is the longest key accepted.
const MaxIdempotencyKey = 255

// IdempotencyKey checks an Idempotency-Key header's value: none, or 1 to
// MaxIdempotencyKey visible ASCII characters. Every create, on every
// surface, reads its key through here.
func IdempotencyKey(k string) (string, error) {
	k = strings.TrimSpace(k)
	if len(k) > MaxIdempotencyKey || strings.IndexFunc(k, func(c rune) bool { return c < '!' || c > '~' }) >= 0 {
		return "", apperr.Validation(apperr.Field("Idempotency-Key", "error.idempotency_key", MaxIdempotencyKey))
	}
	return k, nil
}

// Fingerprint identifies a request for an idempotency key: its method, path
// and body. A key reused with another fingerprint is refused.
func Fingerprint(method, path string, body []byte) string {
	h := sha256.New()
	fmt.Fprintf(h, "%s %s\n", method, path)
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// Idempotent runs fn in one write transaction and keeps its response under
// (a's user, key), so that a retry of the same request — after a timeout on
// a slow line, say — gets the first response back instead of creating a
// second record (idempotentTx). With an empty key fn simply runs in a
// transaction. The hotline's contacts use the same mechanism inside their
// group-commit transaction (CreateContact).
func (db *DB) Idempotent(ctx context.Context, a audit.Actor, key, fingerprint string, fn func(ctx context.Context, tx Tx) (Response, error)) (res Response, err error) {
	defer apperr.Wrap(&err, "storage.Idempotent")
	if key, err = IdempotencyKey(key); err != nil {
		return res, err
	}
	err = db.inTx(ctx, func(c conn) error {
		res, err = idempotentTx(ctx, c, a.UserID, key, fingerprint, func() (Response, error) { return fn(ctx, Tx{db, c}) })
		return err
	})
	return res, err
}

// idempotentTx is the one idempotency mechanism, inside the transaction c.
// The key's row is claimed first: a concurrent retry waits for the first
// request to commit (the row's primary key), then replays its answer. A
// key used with a different request (another fingerprint) is Invalid. Only
// a success (2xx, or a form's 303) is kept: a failed request leaves nothing
// behind, so it can be retried with the same key.
func idempotentTx(ctx context.Context, c conn, userID int64, key, fingerprint string, fn func() (Response, error)) (res Response, err error) {
	if key == "" {
		return fn()
	}
	if c.fastPipe() != nil {
		// A pipelined batch (ADR 0036) inserts the key with its answer and
		// awaits nothing: a key already used, committed or in another
		// batch, fails the insert on the server, and the batch then runs
		// again with savepoints, which claims the key first and replays.
		if res, err = fn(); err != nil {
			return res, err
		}
		if res.Status < 200 || res.Status > 399 {
			return res, fmt.Errorf("idempotent request answered %d without an error", res.Status)
		}
		err = c.insertRowsLater(ctx, `INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, status, location, body, created_at) VALUES `,
			`(?, ?, ?, ?, ?, ?, ?)`, 1, userID, key, fingerprint, res.Status, res.Location, string(res.Body), c.now)
		return res, err
	}
	if c.engine == SQLite {
		return idempotentSQLite(ctx, c, userID, key, fingerprint, fn)
	}
	r, err := c.exec(ctx, `INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, status, location, body, created_at)
		VALUES (?, ?, ?, 0, '', '', ?) ON CONFLICT (user_id, idem_key) DO NOTHING`, userID, key, fingerprint, c.now)
	if err != nil {
		return res, fmt.Errorf("claim idempotency key: %w", err)
	}
	if n, _ := r.RowsAffected(); n == 0 {
		var fp, body string
		var status int
		err := c.queryRow(ctx, `SELECT fingerprint, status, location, body FROM idempotency_keys WHERE user_id = ? AND idem_key = ?`,
			userID, key).Scan(&fp, &status, &res.Location, &body)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && status == 0) {
			return res, apperr.New(apperr.Conflict, "error.idempotency_busy")
		}
		if err != nil {
			return res, err
		}
		return replayed(fp, fingerprint, status, body, res)
	}
	if res, err = fn(); err != nil {
		return res, err
	}
	if res.Status < 200 || res.Status > 399 {
		return res, fmt.Errorf("idempotent request answered %d without an error", res.Status)
	}
	err = c.execLater(ctx, `UPDATE idempotency_keys SET status = ?, location = ?, body = ? WHERE user_id = ? AND idem_key = ?`,
		res.Status, res.Location, string(res.Body), userID, key) // pipelined on PostgreSQL (ADR 0027)
	return res, err
}

// replayed is the stored answer fp, status, body (and res.Location) to a
// request with fingerprint, or Invalid if the key was used for another.
func replayed(fp, fingerprint string, status int, body string, res Response) (Response, error) {
	if fp != fingerprint {
		return res, apperr.Validation(apperr.Field("Idempotency-Key", "error.idempotency_reused"))
	}
	res.Status, res.Body, res.Replayed = status, []byte(body), true
	return res, nil
}

// idempotentSQLite is idempotentTx on SQLite, in one insert instead of a
// claim and an update (ADR 0047). SQLite writes one transaction at a time,
// so no other transaction can claim the key between the read and the
// insert; a key inserted earlier in the same transaction (another request
// of the batch) is read like a committed one. Should one appear anyway,
// the insert fails on the primary key and the request changes nothing.
func idempotentSQLite(ctx context.Context, c conn, userID int64, key, fingerprint string, fn func() (Response, error)) (res Response, err error) {
	var fp, body string
	var status int
	err = c.queryRow(ctx, `SELECT fingerprint, status, location, body FROM idempotency_keys WHERE user_id = ? AND idem_key = ?`,
		userID, key).Scan(&fp, &status, &res.Location, &body)
	switch {
	case err == nil && status == 0: // claimed by the two-statement way, not yet answered
		return res, apperr.New(apperr.Conflict, "error.idempotency_busy")
	case err == nil:
		return replayed(fp, fingerprint, status, body, res)
	case !errors.Is(err, sql.ErrNoRows):
		return res, fmt.Errorf("read idempotency key: %w", err)
	}
	if res, err = fn(); err != nil {
		return res, err
	}
	if res.Status < 200 || res.Status > 399 {
		return res, fmt.Errorf("idempotent request answered %d without an error", res.Status)
	}
	if _, err = c.exec(ctx, `INSERT INTO idempotency_keys (user_id, idem_key, fingerprint, status, location, body, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, userID, key, fingerprint, res.Status, res.Location, string(res.Body), c.now); err != nil {
		return res, fmt.Errorf("keep idempotency key: %w", err)
	}
	return res, nil
}
