package storage

import (
	"context"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/screening"
)

// The bulk loaders below fill a database for benchmarks: they write rows
// straight, with no policy and no audit, as InsertChildren does.

// InsertRoundBulk stores a round for school without an actor.
func (db *DB) InsertRoundBulk(ctx context.Context, schoolID int64, r Round) (id int64, err error) {
	defer apperr.Wrap(&err, "storage.InsertRoundBulk")
	infs := make([]string, len(r.Informants))
	for i, v := range r.Informants {
		infs[i] = string(v)
	}
	err = db.inTx(ctx, func(c conn) error {
		return c.queryRow(ctx, `INSERT INTO screening_rounds (school_id, scope, grade, section, instruments, informants, starts_on, ends_on,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, schoolID, r.Scope, r.Grade, r.Section,
			strings.Join(r.Instruments, ","), strings.Join(infs, ","), r.StartsOn.Format(dateLayout), r.EndsOn.Format(dateLayout), c.now, c.now).Scan(&id)
	})
	return id, err
}

// BulkAnswerSet is one answer set to load.
type BulkAnswerSet struct {
	RoundID, ChildID, SchoolID int64
	Instrument                 string
	Version                    int
	Informant                  screening.Informant
	Answers                    string // JSON
	age                        int
}

// BulkEntry is one register entry to load.
type BulkEntry struct {
	ChildID, SchoolID int64
	Level             screening.Level
	Status            screening.Status
	NextReview        time.Time
	Factors           string // JSON
}

const bulkRows = 300

// InsertAnswerSetsBulk loads answer sets, many rows a statement, in one
// transaction.
func (db *DB) InsertAnswerSetsBulk(ctx context.Context, sets []BulkAnswerSet) (err error) {
	defer apperr.Wrap(&err, "storage.InsertAnswerSetsBulk(%d)", len(sets))
	return db.inTx(ctx, func(c conn) error {
		for start := 0; start < len(sets); start += bulkRows {
			part := sets[start:min(start+bulkRows, len(sets))]
			args := make([]any, 0, len(part)*10)
			for _, s := range part {
				args = append(args, s.RoundID, s.ChildID, s.SchoolID, s.Instrument, s.Version, s.Informant, s.Answers, c.now, c.now)
			}
			q := `INSERT INTO screening_answers (round_id, child_id, school_id, instrument_code, instrument_version, informant, answers,
				created_at, updated_at) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(part)), ", ")
			if _, err := c.exec(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// InsertRegisterBulk loads register entries in one transaction.
func (db *DB) InsertRegisterBulk(ctx context.Context, es []BulkEntry) (err error) {
	defer apperr.Wrap(&err, "storage.InsertRegisterBulk(%d)", len(es))
	return db.inTx(ctx, func(c conn) error {
		for start := 0; start < len(es); start += bulkRows {
			part := es[start:min(start+bulkRows, len(es))]
			args := make([]any, 0, len(part)*8)
			for _, e := range part {
				args = append(args, e.ChildID, e.SchoolID, e.Level, e.Status, e.Factors, nullTime(e.NextReview), c.now, c.now)
			}
			q := `INSERT INTO register_entries (child_id, school_id, level, status, source, factors, next_review_due, created_at, updated_at) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, 'screening', ?, ?, ?, ?), ", len(part)), ", ")
			if _, err := c.exec(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
}
