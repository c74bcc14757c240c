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
		return fmt.Errorf("storage: date %q: %w", s, err)
	}
	*d.t = t
	return nil
}

// InsertChildren adds children in one transaction and sets their IDs. It is
// the bulk path used by demo data and benchmarks; every child must be valid.
func (db *DB) InsertChildren(ctx context.Context, cs []child.Child) (err error) {
	defer apperr.Wrap(&err, "storage.InsertChildren(%d)", len(cs))
	return db.inTx(ctx, func(c conn) error {
		stmt, err := c.q.(*sql.Tx).PrepareContext(ctx, rebind(c.engine, `INSERT INTO children
			(student_id, last_name, first_name, patronymic, sex, birth_date, school_id, grade, section, dup_key, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range cs {
			ch := &cs[i]
			if err := stmt.QueryRowContext(ctx, ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, ch.Sex,
				ch.BirthDate.Format(dateLayout), ch.SchoolID, ch.Grade, ch.Section, child.DupKey(ch.LastName, ch.FirstName),
				c.now, c.now).Scan(&ch.ID); err != nil {
				return fmt.Errorf("child %s: %w", ch.StudentID, err)
			}
			ch.Version, ch.CreatedAt, ch.UpdatedAt = 1, c.now, c.now
		}
		return nil
	})
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

// Child returns the child with the given ID.
func (db *DB) Child(ctx context.Context, id int64) (child.Child, error) {
	ch, err := scanChild(db.reader().queryRow(ctx, `SELECT `+childColumns+` FROM children c WHERE c.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return child.Child{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return child.Child{}, fmt.Errorf("storage.Child(%d): %w", id, err)
	}
	return ch, nil
}

// CountChildren counts the children in the registry.
func (db *DB) CountChildren(ctx context.Context) (n int, err error) {
	defer apperr.Wrap(&err, "storage.CountChildren")
	err = db.reader().queryRow(ctx, `SELECT COUNT(*) FROM children`).Scan(&n)
	return n, err
}
