package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/child"
)

// dateLayout is how dates travel to both engines: SQLite keeps the text,
// PostgreSQL casts it to DATE.
const dateLayout = "2006-01-02"

// date scans a DATE (PostgreSQL gives time.Time) or its text (SQLite).
type date struct{ t *time.Time }

// errBadDate reports a date column that does not hold a date.
const errBadDate = constError("storage: a date column holds something that is not a date")

func (d date) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		*d.t = time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)
	case string:
		return d.parse(v)
	case []byte:
		return d.parse(string(v))
	case nil:
		*d.t = time.Time{}
	default:
		return fmt.Errorf("storage: cannot scan %T into a date", v)
	}
	return nil
}

func (d date) parse(s string) error {
	if len(s) > len(dateLayout) {
		s = s[:len(dateLayout)]
	}
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		// Not the value, nor time.Parse's error, which quotes it: a date
		// column holds birth dates, and this error can reach a 500's log.
		return errBadDate
	}
	*d.t = t
	return nil
}

// InsertChildren adds children in one transaction, files them under their
// match keys, and sets their IDs. It is the bulk path used by demo data and
// benchmarks; every child must be valid.
func (db *DB) InsertChildren(ctx context.Context, cs []child.Child) (err error) {
	defer apperr.Wrap(&err, "storage.InsertChildren(%d)", len(cs))
	return db.inTx(ctx, func(c conn) error { return insertChildren(ctx, c, cs) })
}

// childRowsPerStatement is how many children one INSERT carries: fewer
// statements make bulk inserts several times faster on both engines.
const childRowsPerStatement = 400

// insertChildren inserts children many rows per statement, sets their IDs,
// versions and times, and files them under their match keys.
func insertChildren(ctx context.Context, c conn, cs []child.Child) error {
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	for start := 0; start < len(cs); start += childRowsPerStatement {
		batch := cs[start:min(start+childRowsPerStatement, len(cs))]
		args := make([]any, 0, len(batch)*13)
		at := make(map[string]int, len(batch))
		var buf []byte
		for i := range batch {
			ch := &batch[i]
			var hash int64
			buf, hash = childRosterHash(buf, ch)
			args = append(args, ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, ch.Sex,
				ch.BirthDate.Format(dateLayout), nullInt(ch.SchoolID), ch.Grade, ch.Section,
				child.DupKey(ch.LastName, ch.FirstName), hash, c.now, c.now)
			at[ch.StudentID] = i
		}
		st, err := c.prepared(ctx, stmts, len(batch), func(n int) string {
			return `INSERT INTO children
			(student_id, last_name, first_name, patronymic, sex, birth_date, school_id, grade, section, dup_key, roster_hash,
			created_at, updated_at)
			VALUES ` + valuesList(n, 13) + ` RETURNING id, student_id`
		})
		if err != nil {
			return fmt.Errorf("insert children: %w", err)
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("insert children %d to %d: %w", start+1, start+len(batch), err)
		}
		n := 0
		for rows.Next() {
			var id int64
			var sid string
			if err := rows.Scan(&id, &sid); err != nil {
				rows.Close()
				return err
			}
			i, ok := at[sid]
			if !ok {
				rows.Close()
				return fmt.Errorf("insert children %d to %d: a row came back that was not sent", start+1, start+len(batch)) // IDs only in errors
			}
			batch[i].ID = id
			n++
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("insert children %d to %d: %w", start+1, start+len(batch), err)
		}
		if n != len(batch) {
			return fmt.Errorf("insert children: %d rows returned for %d (a student ID twice?)", n, len(batch))
		}
		ids := make([]int64, len(batch))
		keys := make([][]string, len(batch))
		for i := range batch {
			ch := &batch[i]
			ch.Version, ch.CreatedAt, ch.UpdatedAt = 1, c.now, c.now
			ids[i], keys[i] = ch.ID, matchKeysFor(*ch)
		}
		if err := insertMatchKeys(ctx, c, ids, keys); err != nil {
			return err
		}
	}
	return nil
}

// childColumns are a child's columns, for queries that name the children
// table c.
const childColumns = `c.id, c.student_id, c.last_name, c.first_name, c.patronymic, c.sex, c.birth_date,
	COALESCE(c.school_id, 0), c.grade, c.section, c.version, c.created_at, c.updated_at`

func scanChild(s interface{ Scan(...any) error }) (child.Child, error) {
	var ch child.Child
	err := s.Scan(&ch.ID, &ch.StudentID, &ch.LastName, &ch.FirstName, &ch.Patronymic, &ch.Sex,
		date{&ch.BirthDate}, &ch.SchoolID, &ch.Grade, &ch.Section, &ch.Version, &ch.CreatedAt, &ch.UpdatedAt)
	ch.CreatedAt, ch.UpdatedAt = ch.CreatedAt.UTC(), ch.UpdatedAt.UTC()
	return ch, err
}

// childByID returns the child with the given ID, with no policy and no
// audit: for the store's own use only. Surfaces read a child with ChildFor.
func (db *DB) childByID(ctx context.Context, id int64) (child.Child, error) {
	ch, err := scanChild(db.reader().queryRow(ctx, `SELECT `+childColumns+` FROM children c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return child.Child{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return child.Child{}, fmt.Errorf("storage.childByID(%d): %w", id, err)
	}
	return ch, nil
}

// CountChildren counts the children in the registry.
func (db *DB) CountChildren(ctx context.Context) (n int, err error) {
	defer apperr.Wrap(&err, "storage.CountChildren")
	err = db.reader().queryRow(ctx, `SELECT COUNT(*) FROM children`).Scan(&n)
	return n, err
}
