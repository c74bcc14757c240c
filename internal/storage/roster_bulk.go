package storage

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"dayaq/internal/apperr"
	"dayaq/internal/child"
	"dayaq/internal/org"
	"dayaq/internal/roster"
)

// The operator's import as a pipeline (ADR 0034). Loading the national
// roster into an empty registry spent its time in one goroutine doing
// everything in turn: parsing, looking up the school, the upsert of each
// row (an index probe and a comparison for a row that cannot exist yet),
// the match keys. Now three goroutines share the work:
//
//   - the reader parses the file, refuses repeats and resolves schools (on
//     the read pool), and cuts it into batches of BatchRows rows, as
//     before;
//   - the preparer waits for the registry's snapshot (roster_resync.go,
//     read while the reader starts), sorts each row into new, changed or
//     unchanged, and computes the match keys and name keys of the rows to
//     write, on the other core;
//   - the writer (the caller) writes each batch in one transaction as the
//     upsert path did — the same rows, versions, rejects, counts and one
//     audit event a batch naming what it inserted and updated — but inserts
//     the new rows without an upsert: multi-row prepared INSERTs on SQLite,
//     COPY into a temporary table and one INSERT … SELECT on PostgreSQL,
//     whose match keys go in by COPY too. Only changed rows, and new ones
//     whose student ID someone else inserted meanwhile, take the upsert.
//
// A batch stays a short transaction (BatchRows rows, the group writer's
// requests get the SQLite writer between them), so searches and hotline
// intake keep answering while a load runs.

// bulkBatchRows is the operator import's default batch: rows a transaction
// writes, and so how long it keeps other writers waiting on SQLite.
const bulkBatchRows = 5000

// bulkInsertRows is how many rows one SQLite INSERT carries (12 values a
// row, under SQLite's 32,766 bound parameters).
const bulkInsertRows = 1000

// bulkCacheKiB is the SQLite writer's page cache while an operator import
// runs (KiB): child_match_keys of two million children does not fit in the
// usual 128 MB, and each batch's keys land all over it.
const bulkCacheKiB = 768 << 10

// rowKind says what an import does with a good row (rosterSnapshot.kind).
type rowKind uint8

const (
	rowNew     rowKind = iota // no child had its student ID: inserted
	rowChanged                // one had, with other values: upserted
	rowSame                   // the registry held it exactly: left alone
)

// bulkRow is a row of a batch as the preparer leaves it.
type bulkRow struct {
	rec  roster.Record // rec.Reject set: refused for its school
	kind rowKind
	keys []string // match keys, for the rows to write
	dup  string   // child.DupKey, for the rows to write
}

// bulkChunk is one batch and the rows refused before it filled.
type bulkChunk struct {
	rejects []roster.Record // refused by the parser, or as a repeat, in file order
	rows    []bulkRow
	read    int // rows read when the batch was cut
	last    bool
	err     error // reading failed: the import fails after the batches before
}

type snapResult struct {
	s   *rosterSnapshot
	err error
}

// importBulk runs an operator import through the pipeline.
func (db *DB) importBulk(ctx context.Context, im *rosterImporter, src RosterSource) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snapc := make(chan snapResult, 1)
	go func() {
		s, err := db.loadRosterSnapshot(ctx)
		snapc <- snapResult{s, err}
	}()
	parsed, ready := make(chan bulkChunk, 32), make(chan bulkChunk, 4)
	go db.bulkRead(ctx, src, im.o.BatchRows, parsed)
	go bulkPrepare(ctx, snapc, parsed, ready)

	w, err := db.newBulkWriter(ctx)
	if err != nil {
		return err
	}
	defer w.close(context.WithoutCancel(ctx))
	for ch := range ready {
		for _, r := range ch.rejects {
			if err := im.reject(r); err != nil {
				return err
			}
		}
		if ch.err != nil {
			return ch.err
		}
		im.n.Read = ch.read
		if err := im.flushBulk(ctx, w, ch.rows, ch.last); err != nil {
			return err
		}
		if ch.last {
			return nil
		}
	}
	return ctx.Err() // the pipeline stopped without its last batch
}

// bulkRead reads src into batches of n good rows, refusing repeats and
// resolving schools, and sends them to out.
func (db *DB) bulkRead(ctx context.Context, src RosterSource, n int, out chan<- bulkChunk) {
	defer close(out)
	send := func(ch bulkChunk) bool {
		select {
		case out <- ch:
			return true
		case <-ctx.Done():
			return false
		}
	}
	schools := map[string]*org.Org{}
	seen := map[string]int32{}
	ch := bulkChunk{rows: make([]bulkRow, 0, n)}
	read := 0
	for {
		r, err := src.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			ch.err = err
			send(ch)
			return
		}
		read++
		if r.Reject == nil {
			if prev, dup := seen[r.Child.StudentID]; dup {
				r.Rejected(apperr.Field("student_id", "roster.error.duplicate", int(prev)))
			} else {
				seen[r.Child.StudentID] = int32(r.Line)
			}
		}
		if r.Reject != nil {
			ch.rejects = append(ch.rejects, r)
			continue
		}
		s, err := lookupSchool(ctx, db.reader(), schools, r.SchoolCode)
		if err != nil {
			ch.err = err
			send(ch)
			return
		}
		if s == nil {
			r.Rejected(apperr.Field("school_code", "child.error.school_unknown", r.SchoolCode))
		} else {
			r.Child.SchoolID = s.ID
		}
		ch.rows = append(ch.rows, bulkRow{rec: r})
		if len(ch.rows) == n {
			ch.read = read
			if !send(ch) {
				return
			}
			ch = bulkChunk{rows: make([]bulkRow, 0, n)}
		}
	}
	ch.read, ch.last = read, true
	send(ch)
}

// bulkPrepare sorts each batch's rows by the snapshot and computes the keys
// of those to write.
func bulkPrepare(ctx context.Context, snapc <-chan snapResult, in <-chan bulkChunk, out chan<- bulkChunk) {
	defer close(out)
	var snap *rosterSnapshot
	var buf []byte
	for ch := range in {
		if snap == nil {
			res := <-snapc
			if res.err != nil {
				ch = bulkChunk{rejects: ch.rejects, err: res.err}
			}
			snap = res.s
		}
		if ch.err == nil {
			for i := range ch.rows {
				r := &ch.rows[i]
				if r.rec.Reject != nil {
					continue
				}
				if buf, r.kind = snap.kind(&r.rec, buf); r.kind == rowSame {
					continue
				}
				r.keys = matchKeysFor(r.rec.Child)
				r.dup = child.DupKey(r.rec.Child.LastName, r.rec.Child.FirstName)
			}
		}
		select {
		case out <- ch:
		case <-ctx.Done():
			return
		}
		if ch.err != nil {
			return
		}
	}
}

// flushBulk writes one batch in one transaction, as flush does.
func (im *rosterImporter) flushBulk(ctx context.Context, w *bulkWriter, rows []bulkRow, last bool) error {
	var (
		n        = im.n
		inserted []int64
		updated  []int64
		rejected []roster.Record
		good     int
	)
	err := w.inTx(ctx, func(c conn) error {
		n, inserted, updated, rejected, good = im.n, nil, nil, nil, 0
		var fresh, upsert []int // indexes into rows
		for i := range rows {
			switch {
			case rows[i].rec.Reject != nil:
				rejected = append(rejected, rows[i].rec)
				continue
			case rows[i].kind == rowNew:
				fresh = append(fresh, i)
			case rows[i].kind == rowChanged:
				upsert = append(upsert, i)
			}
			good++
		}
		ins, clash, err := w.insertNew(ctx, c, rows, fresh)
		if err != nil {
			return err
		}
		inserted = ins
		upsert = append(upsert, clash...) // someone inserted these student IDs since the snapshot
		if len(upsert) > 0 {
			slices.Sort(upsert)
			recs, keys := make([]roster.Record, len(upsert)), make([][]string, len(upsert))
			for j, i := range upsert {
				recs[j], keys[j] = rows[i].rec, rows[i].keys
			}
			ins, upd, idOf, err := upsertRows(ctx, c, recs)
			if err != nil {
				return err
			}
			inserted, updated = append(inserted, ins...), upd
			if err := fileWrittenKeys(ctx, c, idOf, keys); err != nil {
				return err
			}
		}
		n.Inserted += len(inserted)
		n.Updated += len(updated)
		n.Unchanged += good - len(inserted) - len(updated)
		n.Rejected += len(rejected)
		return im.endBatch(ctx, c, n, inserted, updated, good, rejected, last)
	})
	if err != nil {
		return err
	}
	return im.afterBatch(n, rejected)
}

// bulkWriter writes an operator import's batches: on SQLite through the one
// writer connection, a transaction at a time, so the group writer gets it
// between batches; on PostgreSQL on one connection of its own, which holds
// the staging table.
type bulkWriter struct {
	db    *DB
	pg    *sql.Conn // PostgreSQL
	stmts map[int]*sql.Stmt
}

func (db *DB) newBulkWriter(ctx context.Context) (*bulkWriter, error) {
	w := &bulkWriter{db: db}
	if db.engine != Postgres {
		if _, err := db.write.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = -%d`, bulkCacheKiB)); err != nil {
			return nil, fmt.Errorf("storage: bulk import: %w", err)
		}
		return w, nil
	}
	c, err := db.write.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("storage: bulk import: %w", err)
	}
	// ON COMMIT DELETE ROWS: each batch's transaction starts it empty.
	if _, err := c.ExecContext(ctx, `CREATE TEMPORARY TABLE IF NOT EXISTS roster_stage (ord INTEGER NOT NULL,
		student_id TEXT NOT NULL, last_name TEXT NOT NULL, first_name TEXT NOT NULL, patronymic TEXT NOT NULL, sex TEXT NOT NULL,
		birth_date DATE NOT NULL, school_id BIGINT, grade INTEGER NOT NULL, section TEXT NOT NULL, dup_key TEXT NOT NULL)
		ON COMMIT DELETE ROWS`); err != nil {
		c.Close()
		return nil, fmt.Errorf("storage: bulk import: staging table: %w", err)
	}
	w.pg = c
	return w, nil
}

func (w *bulkWriter) close(ctx context.Context) {
	if w.pg == nil {
		_, _ = w.db.write.ExecContext(ctx, `PRAGMA cache_size = -131072`) // as sqliteDSN sets it
		return
	}
	_, _ = w.pg.ExecContext(ctx, `DROP TABLE IF EXISTS pg_temp.roster_stage`)
	w.pg.Close()
}

// inTx runs fn in one transaction on the writer's connection.
func (w *bulkWriter) inTx(ctx context.Context, fn func(c conn) error) error {
	if w.pg == nil {
		w.stmts = map[int]*sql.Stmt{}
		defer func() {
			for _, s := range w.stmts {
				s.Close()
			}
		}()
		return w.db.inTx(ctx, fn)
	}
	return w.db.txOn(ctx, w.pg, fn)
}

// insertNew inserts rows[fresh] (new by the snapshot) with their keys and
// returns the IDs inserted, in file order, and the rows that met a child
// with the same student ID (to be upserted instead).
func (w *bulkWriter) insertNew(ctx context.Context, c conn, rows []bulkRow, fresh []int) (ids []int64, clash []int, err error) {
	if len(fresh) == 0 {
		return nil, nil, nil
	}
	if w.pg != nil {
		return w.copyNew(ctx, c, rows, fresh)
	}
	idOf := make(map[string]int64, len(fresh))
	args := make([]any, 0, 12*bulkInsertRows)
	for start := 0; start < len(fresh); start += bulkInsertRows {
		part := fresh[start:min(start+bulkInsertRows, len(fresh))]
		args = args[:0]
		for _, i := range part {
			ch, r := &rows[i].rec.Child, &rows[i]
			args = append(args, ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, string(ch.Sex),
				ch.BirthDate.Format(dateLayout), ch.SchoolID, ch.Grade, ch.Section, r.dup, c.now, c.now)
		}
		st, err := c.prepared(ctx, w.stmts, len(part), func(n int) string {
			return `INSERT INTO children (student_id, last_name, first_name, patronymic, sex, birth_date, school_id, grade,
				section, dup_key, version, created_at, updated_at) VALUES ` +
				strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?),`, n), ",") +
				` ON CONFLICT (student_id) DO NOTHING RETURNING id, student_id`
		})
		if err != nil {
			return nil, nil, fmt.Errorf("insert children: %w", err)
		}
		if err := scanIDs(ctx, st, args, idOf); err != nil {
			return nil, nil, err
		}
	}
	var kids []int64
	var keys [][]string
	for _, i := range fresh {
		id, ok := idOf[rows[i].rec.Child.StudentID]
		if !ok {
			clash = append(clash, i)
			continue
		}
		ids, kids, keys = append(ids, id), append(kids, id), append(keys, rows[i].keys)
	}
	if err := insertMatchKeys(ctx, c, kids, keys); err != nil {
		return nil, nil, err
	}
	return ids, clash, nil
}

// scanIDs runs st and files the (id, student_id) rows it returns.
func scanIDs(ctx context.Context, st *sql.Stmt, args []any, idOf map[string]int64) error {
	rs, err := st.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("insert children: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var id int64
		var sid string
		if err := rs.Scan(&id, &sid); err != nil {
			return err
		}
		idOf[sid] = id
	}
	return rs.Err()
}

// copyNew is insertNew on PostgreSQL: COPY into the staging table, one
// INSERT … SELECT in file order, and COPY of the new children's keys.
func (w *bulkWriter) copyNew(ctx context.Context, c conn, rows []bulkRow, fresh []int) (ids []int64, clash []int, err error) {
	stage := make([][]any, len(fresh))
	for j, i := range fresh {
		ch := &rows[i].rec.Child
		var school any
		if ch.SchoolID != 0 {
			school = ch.SchoolID
		}
		stage[j] = []any{j, ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, string(ch.Sex), ch.BirthDate,
			school, ch.Grade, ch.Section, rows[i].dup}
	}
	if err := w.copy(ctx, "roster_stage", []string{"ord", "student_id", "last_name", "first_name", "patronymic", "sex",
		"birth_date", "school_id", "grade", "section", "dup_key"}, stage); err != nil {
		return nil, nil, fmt.Errorf("copy %d children: %w", len(fresh), err)
	}
	rs, err := c.query(ctx, `INSERT INTO children (student_id, last_name, first_name, patronymic, sex, birth_date, school_id,
		grade, section, dup_key, version, created_at, updated_at)
		SELECT student_id, last_name, first_name, patronymic, sex, birth_date, school_id, grade, section, dup_key, 1, ?, ?
		FROM roster_stage ORDER BY ord
		ON CONFLICT (student_id) DO NOTHING RETURNING id, student_id`, c.now, c.now)
	if err != nil {
		return nil, nil, fmt.Errorf("insert children: %w", err)
	}
	idOf := make(map[string]int64, len(fresh))
	for rs.Next() {
		var id int64
		var sid string
		if err := rs.Scan(&id, &sid); err != nil {
			rs.Close()
			return nil, nil, err
		}
		idOf[sid] = id
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, nil, err
	}
	type keyRow struct {
		key string
		id  int64
	}
	var krs []keyRow
	for _, i := range fresh {
		id, ok := idOf[rows[i].rec.Child.StudentID]
		if !ok {
			clash = append(clash, i)
			continue
		}
		ids = append(ids, id)
		for _, k := range rows[i].keys {
			krs = append(krs, keyRow{k, id})
		}
	}
	// Slices sorted by key, so that COPY fills the index in order; a new
	// child has no keys yet, so no row can conflict.
	slices.SortFunc(krs, func(a, b keyRow) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	kr := make([][]any, len(krs))
	for j, k := range krs {
		kr[j] = []any{k.key, k.id}
	}
	if err := w.copy(ctx, "child_match_keys", []string{"key", "child_id"}, kr); err != nil {
		return nil, nil, fmt.Errorf("copy %d match keys: %w", len(kr), err)
	}
	return ids, clash, nil
}

// copy runs COPY … FROM STDIN of rows into table on the writer's
// connection, inside its open transaction.
func (w *bulkWriter) copy(ctx context.Context, table string, cols []string, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	return w.pg.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("storage: COPY needs a pgx connection, not %T", dc)
		}
		_, err := sc.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return err
	})
}
