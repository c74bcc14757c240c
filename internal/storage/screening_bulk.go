package storage

import (
	"context"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/child"
	"dayaq/internal/screening"
)

// The bulk loaders below fill a database for benchmarks: they write rows
// straight, with no policy and no audit, as InsertChildren does.

func insertRound(ctx context.Context, c conn, schoolID int64, r Round) (id int64, err error) {
	infs := make([]string, len(r.Informants))
	for i, v := range r.Informants {
		infs[i] = string(v)
	}
	err = c.queryRow(ctx, `INSERT INTO screening_rounds (school_id, scope, grade, section, instruments, informants, starts_on, ends_on,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, schoolID, r.Scope, r.Grade, r.Section,
		strings.Join(r.Instruments, ","), strings.Join(infs, ","), r.StartsOn.Format(dateLayout), r.EndsOn.Format(dateLayout), c.now, c.now).Scan(&id)
	return id, err
}

// BulkSchool is one school's pupils and round, loaded by
// InsertScreeningBulk; Sets gives the round's answer sets once the pupils
// have their IDs.
type BulkSchool struct {
	SchoolID int64
	Pupils   []child.Child
	Round    Round
	Sets     func(pupils []child.Child, roundID int64) []BulkAnswerSet
}

// InsertScreeningBulk loads schools' pupils, rounds and answer sets in one
// transaction, many rows a statement, with no policy and no audit (a
// benchmark's seeding): one commit for many schools instead of three a
// school.
func (db *DB) InsertScreeningBulk(ctx context.Context, schools []BulkSchool) (err error) {
	defer apperr.Wrap(&err, "storage.InsertScreeningBulk(%d)", len(schools))
	return db.inTx(ctx, func(c conn) error {
		for _, s := range schools {
			if err := insertChildren(ctx, c, s.Pupils); err != nil {
				return err
			}
			id, err := insertRound(ctx, c, s.SchoolID, s.Round)
			if err != nil {
				return err
			}
			if err := insertAnswerSets(ctx, c, s.Sets(s.Pupils, id)); err != nil {
				return err
			}
		}
		return nil
	})
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

// seedRows is how many answer sets one seeding statement carries (9
// arguments each, well under both engines' limits).
const seedRows = 1000

func insertAnswerSets(ctx context.Context, c conn, sets []BulkAnswerSet) error {
	for start := 0; start < len(sets); start += seedRows {
		part := sets[start:min(start+seedRows, len(sets))]
		args := make([]any, 0, len(part)*9)
		for _, s := range part {
			args = append(args, s.RoundID, s.ChildID, s.SchoolID, s.Instrument, s.Version, s.Informant, s.Answers, c.now, c.now)
		}
		if _, err := c.exec(ctx, `INSERT INTO screening_answers (round_id, child_id, school_id, instrument_code, instrument_version, informant, answers,
			created_at, updated_at) VALUES `+valuesList(len(part), 9), args...); err != nil {
			return err
		}
	}
	return nil
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
