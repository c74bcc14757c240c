package storage

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"dayaq/internal/apperr"
)

// RunExclusive runs fn as the job named name unless another replica is
// running it or started it less than every/2 ago; ran says whether fn ran.
// Each run is recorded in job_runs (start, end, count, last error).
//
// On PostgreSQL a session advisory lock, held on one connection for the
// run, keeps two replicas from running a job at once (a replica that dies
// loses its connection and with it the lock); the job_runs claim, an
// UPDATE that only succeeds when the last start is old enough, keeps the
// replicas from running it once each per period. On SQLite the one writer
// serialises the claim.
func (db *DB) RunExclusive(ctx context.Context, name string, every time.Duration, fn func(ctx context.Context) error) (ran bool, err error) {
	defer apperr.Wrap(&err, "storage.RunExclusive(%s)", name)
	if db.engine == Postgres {
		conn, err := db.write.Conn(ctx)
		if err != nil {
			return false, err
		}
		defer conn.Close()
		key := lockKey(name)
		var got bool
		if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
			return false, err
		}
		if !got {
			return false, nil
		}
		defer func() {
			if _, uerr := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key); uerr != nil {
				// The lock dies with the connection: drop it rather than return it to the pool.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	claimed := false
	err = db.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `INSERT INTO job_runs (name, started_at, runs) VALUES (?, ?, 0) ON CONFLICT (name) DO NOTHING`,
			name, c.now.Add(-every)); err != nil {
			return err
		}
		res, err := c.exec(ctx, `UPDATE job_runs SET started_at = ?, finished_at = NULL, runs = runs + 1
			WHERE name = ? AND started_at <= ?`, c.now, name, c.now.Add(-every/2))
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		claimed = n == 1
		return err
	})
	if err != nil || !claimed {
		return false, err
	}
	runErr := fn(ctx)
	msg := ""
	if runErr != nil {
		msg = runErr.Error()
		if len(msg) > 1000 {
			msg = msg[:1000]
		}
	}
	// The run's end is recorded even when ctx ended with it (shutdown): with
	// ctx itself the statement would fail, finished_at stay NULL and a good
	// run report context.Canceled.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
	defer cancel()
	if err := db.inTx(fctx, func(c conn) error {
		_, err := c.exec(fctx, `UPDATE job_runs SET finished_at = ?, last_error = ? WHERE name = ?`, c.now, msg, name)
		return err
	}); err != nil {
		return true, errors.Join(runErr, err)
	}
	return true, runErr
}

// finishTimeout bounds recording a job run's end after its context ended.
const finishTimeout = 10 * time.Second

// JobRun is the record of a job's latest run.
type JobRun struct {
	Name       string
	StartedAt  time.Time
	FinishedAt time.Time
	Runs       int
	LastError  string
}

// JobRuns lists the jobs' latest runs.
func (db *DB) JobRuns(ctx context.Context) (rs []JobRun, err error) {
	defer apperr.Wrap(&err, "storage.JobRuns")
	rows, err := db.reader().query(ctx, `SELECT name, started_at, finished_at, runs, last_error FROM job_runs ORDER BY name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r JobRun
		var fin sql.NullTime
		if err := rows.Scan(&r.Name, &r.StartedAt, &fin, &r.Runs, &r.LastError); err != nil {
			return nil, err
		}
		r.StartedAt = r.StartedAt.UTC()
		if fin.Valid {
			r.FinishedAt = fin.Time.UTC()
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// lockKey is the advisory lock number of a job: "dayaq.job."+name hashed.
func lockKey(name string) int64 {
	h := fnv.New64a()
	fmt.Fprint(h, "dayaq.job.", name)
	return int64(h.Sum64())
}
