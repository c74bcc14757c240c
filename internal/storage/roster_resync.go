package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/maphash"
	"strconv"
	"sync"

	"dayaq/internal/child"
	"dayaq/internal/roster"
)

// The nightly re-sync (ADR 0027). Re-importing the national roster with a
// few rows changed spent its time in the upsert of the rows that had not
// changed: each one an index seek and a comparison inside the database.
// An operator import now first reads what the registry holds — one
// sequential scan, kept as two 64-bit hashes a child (student ID, and the
// columns the upsert compares) — and sends the upsert only the rows that
// are new or differ. A row the snapshot calls unchanged is exactly one
// the upsert would have left alone (same student ID, same values in every
// compared column), so the same rows are written, with the same versions
// and the same audit events; a hash collision can only send an unchanged
// row to the upsert, which then leaves it alone. What the snapshot does
// not see: a child edited by someone else while the import runs keeps
// that edit when the file's row equals the value the snapshot read.

// rosterSnapshot maps a student ID's hash to the hash of the compared
// columns, as the registry held them when the import began: one map a
// range of IDs, each read by its own scan, so that a large registry is
// read on every core.
type rosterSnapshot struct {
	seed  maphash.Seed
	parts []map[uint64]uint64
	n     int // children
}

// snapshotPartRows is how many children one scan of the snapshot reads at
// least; snapshotParts bounds the scans.
const (
	snapshotPartRows = 250000
	snapshotParts    = 2
)

// loadRosterSnapshot reads every child's student ID and compared columns,
// in parts scans (0: one a snapshotPartRows children, up to snapshotParts).
func (db *DB) loadRosterSnapshot(ctx context.Context, parts int) (*rosterSnapshot, error) {
	s := &rosterSnapshot{seed: maphash.MakeSeed()}
	var maxID int64
	if err := db.reader().queryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(id), 0) FROM children`).Scan(&s.n, &maxID); err != nil {
		return nil, fmt.Errorf("roster snapshot: %w", err)
	}
	if parts <= 0 {
		parts = max(1, min(snapshotParts, s.n/snapshotPartRows))
	}
	s.parts = make([]map[uint64]uint64, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		lo, hi := maxID*int64(i)/int64(parts), maxID*int64(i+1)/int64(parts)
		wg.Go(func() { s.parts[i], errs[i] = db.snapshotPart(ctx, s.seed, lo, hi, s.n/parts) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("roster snapshot: %w", err)
	}
	return s, nil
}

// snapshotPart reads the children with lo < id <= hi into a map.
func (db *DB) snapshotPart(ctx context.Context, seed maphash.Seed, lo, hi int64, size int) (map[uint64]uint64, error) {
	m := make(map[uint64]uint64, size)
	if hi <= lo {
		return m, nil
	}
	// The stored hash (migration 00032) when there is one; the compared
	// columns only for a child without it (written before 00032, or by an
	// update that did not give one).
	rows, err := db.read.QueryContext(ctx, rebind(db.engine, `SELECT student_id, roster_hash,
		CASE WHEN roster_hash IS NULL THEN last_name END, CASE WHEN roster_hash IS NULL THEN first_name END,
		CASE WHEN roster_hash IS NULL THEN patronymic END, CASE WHEN roster_hash IS NULL THEN sex END,
		CASE WHEN roster_hash IS NULL THEN birth_date END, CASE WHEN roster_hash IS NULL THEN COALESCE(school_id, 0) END,
		CASE WHEN roster_hash IS NULL THEN grade END, CASE WHEN roster_hash IS NULL THEN section END
		FROM children WHERE id > ? AND id <= ? AND student_id IS NOT NULL`), lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	// sql.RawBytes: the values are hashed where the driver holds them,
	// never copied into strings (two million rows).
	var sid, last, first, patr, sex, birth, section sql.RawBytes
	var hash, school, grade sql.NullInt64
	var buf []byte
	for rows.Next() {
		if err := rows.Scan(&sid, &hash, &last, &first, &patr, &sex, &birth, &school, &grade, &section); err != nil {
			return nil, err
		}
		if hash.Valid {
			m[maphash.Bytes(seed, sid)] = uint64(hash.Int64)
			continue
		}
		// SQLite holds the date as written; PostgreSQL's comes as a
		// time, formatted RFC 3339: its first ten bytes are the date.
		if len(birth) > len(dateLayout) {
			birth = birth[:len(dateLayout)]
		}
		buf = snapshotKey(buf[:0], last, first, patr, sex, birth, school.Int64, int(grade.Int64), section)
		m[maphash.Bytes(seed, sid)] = uint64(rosterHash(buf))
	}
	return m, rows.Err()
}

// rosterHash is the stored hash of a child's compared columns (migration
// 00032, ADR 0046): 64-bit FNV-1a of their snapshotKey. It is the same in
// every process, unlike maphash, since it is kept in the database.
func rosterHash(key []byte) int64 {
	h := uint64(14695981039346656037)
	for _, c := range key {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return int64(h)
}

// childRosterHash is rosterHash of ch's compared columns as they are
// written (school: its ID, 0 for none), using buf.
func childRosterHash(buf []byte, ch *child.Child) ([]byte, int64) {
	buf = ch.BirthDate.AppendFormat(buf[:0], dateLayout)
	n := len(buf)
	buf = snapshotKey(buf, ch.LastName, ch.FirstName, ch.Patronymic, string(ch.Sex), string(buf[:n]),
		ch.SchoolID, ch.Grade, ch.Section)
	return buf, rosterHash(buf[n:])
}

// snapshotKey appends the compared columns, each ended by a zero byte.
func snapshotKey[S ~string | ~[]byte](b []byte, last, first, patr, sex, birth S, school int64, grade int, section S) []byte {
	for _, s := range [...]S{last, first, patr, sex, birth} {
		b = append(b, s...)
		b = append(b, 0)
	}
	b = strconv.AppendInt(b, school, 10)
	b = append(b, 0)
	b = strconv.AppendInt(b, int64(grade), 10)
	b = append(b, 0)
	return append(b, section...)
}

// unchanged reports whether the registry held r exactly as it is (its
// school resolved), so that the upsert would leave it alone.
func (s *rosterSnapshot) unchanged(r *roster.Record, buf []byte) ([]byte, bool) {
	buf, k, _ := s.kind(r, buf)
	return buf, k == rowSame
}

// kind tells what an import does with r: insert it (no child had its
// student ID), upsert it (one had, with other values, or a hash collided)
// or leave it alone (the registry held it exactly, its school resolved);
// and r's rosterHash, to be stored with it.
func (s *rosterSnapshot) kind(r *roster.Record, buf []byte) ([]byte, rowKind, int64) {
	buf, hash := childRosterHash(buf, &r.Child)
	k := maphash.String(s.seed, r.Child.StudentID)
	var h uint64
	ok := false
	for _, m := range s.parts {
		if h, ok = m[k]; ok {
			break
		}
	}
	switch {
	case !ok:
		return buf, rowNew, hash
	case uint64(hash) == h:
		return buf, rowSame, hash
	}
	return buf, rowChanged, hash
}
