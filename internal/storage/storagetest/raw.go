package storagetest

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"testing"
	"time"

	"dayaq/internal/child"
	"dayaq/internal/storage"
)

// The store exposes no unchecked read of a child and no grant outside a
// referral (ADR 0016); tests of other packages that need one to set up or
// check a scene use these, which go to the tables directly. They are for
// tests only: nothing here is audited.

func pool(db *storage.DB) *sql.DB {
	ps := db.Pools()
	if p, ok := ps["write"]; ok {
		return p
	}
	return ps["main"]
}

// rebind turns ? into $n for PostgreSQL.
func rebind(db *storage.DB, q string) string {
	if db.Engine() != storage.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// Child reads the child with the given ID as stored.
func Child(t testing.TB, db *storage.DB, id int64) child.Child {
	t.Helper()
	var c child.Child
	var birth any
	err := pool(db).QueryRowContext(context.Background(), rebind(db, `SELECT id, student_id, last_name, first_name, patronymic, sex,
		birth_date, COALESCE(school_id, 0), grade, section, version FROM children WHERE id = ?`), id).Scan(
		&c.ID, &c.StudentID, &c.LastName, &c.FirstName, &c.Patronymic, &c.Sex, &birth, &c.SchoolID, &c.Grade, &c.Section, &c.Version)
	if err != nil {
		t.Fatalf("child %d: %v", id, err)
	}
	switch v := birth.(type) {
	case time.Time:
		c.BirthDate = time.Date(v.Year(), v.Month(), v.Day(), 0, 0, 0, 0, time.UTC)
	case string:
		c.BirthDate, err = time.Parse(time.DateOnly, v[:min(len(v), 10)])
	case []byte:
		c.BirthDate, err = time.Parse(time.DateOnly, string(v[:min(len(v), 10)]))
	}
	if err != nil {
		t.Fatalf("child %d: birth date: %v", id, err)
	}
	return c
}

// GrantChildAccess gives an organisation (orgID) or a user (userID) access
// to a child until revoked, as a referral or an assignment would, and
// returns the grant's ID (EndChildAccess ends it).
func GrantChildAccess(t testing.TB, db *storage.DB, childID, orgID, userID int64, kind string) int64 {
	t.Helper()
	null := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }
	now := db.Now()
	var id int64
	if err := pool(db).QueryRowContext(context.Background(), rebind(db, `INSERT INTO child_grants (child_id, org_id, user_id, kind,
		source, starts_at, created_at) VALUES (?, ?, ?, ?, 'test', ?, ?) RETURNING id`), childID, null(orgID), null(userID), kind,
		now, now).Scan(&id); err != nil {
		t.Fatalf("grant: %v", err)
	}
	return id
}
