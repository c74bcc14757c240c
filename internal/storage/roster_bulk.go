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
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"dayaq/internal/apperr"
	"dayaq/internal/child"
	"dayaq/internal/match"
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

// bulkBatchRowsPG is the operator import's default batch on PostgreSQL,
// where a batch's transaction keeps no reader and no other writer waiting
// (the audit head is locked only for its last statement and the commit);
// on SQLite it stays 5,000, which bounds how long the one writer
// connection is kept from the group writer's requests.
const bulkBatchRowsPG = 20000

// bulkCommitEvery bounds how long an import goes without a commit while
// its batches have little to write: its progress (and the import's
// updated_at, which tells a running import from a stopped one) moves on.
const bulkCommitEvery = time.Second

// bulkInsertRows is how many rows one SQLite INSERT carries (13 values a
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
	hash int64    // rosterHash of the row (migration 00032)
}

// bulkChunk is one batch and the rows refused before it filled.
type bulkChunk struct {
	rejects []roster.Record // refused by the parser, or as a repeat, in file order
	rows    []bulkRow
	// run holds the match keys of the batch's new rows, sorted by key and
	// then by row (the order of their IDs, which are given in file order),
	// made by the preparer so that the writer files them in order.
	run   []keyRef
	same  int // rows the registry held exactly, left out of rows by the preparer
	read  int // rows read when the batch was cut
	last  bool
	empty bool  // the registry had no child when the import began
	err   error // reading failed: the import fails after the batches before
}

type snapResult struct {
	s   *rosterSnapshot
	err error
}

// importBulk runs an operator import through the pipeline.
func (db *DB) importBulk(ctx context.Context, im *rosterImporter, src RosterSource) (err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	snapc := make(chan snapResult, 1)
	go func() {
		s, err := db.loadRosterSnapshot(ctx, 0)
		snapc <- snapResult{s, err}
	}()
	parsed, ready := make(chan bulkChunk, 32), make(chan bulkChunk, 4)
	go db.bulkRead(ctx, src, im.o.BatchRows, parsed)
	go bulkPrepare(ctx, snapc, parsed, ready)

	if err := db.finishBulkLoads(ctx, 0); err != nil { // one stopped half-way
		return err
	}
	w, err := db.newBulkWriter(ctx)
	if err != nil {
		return err
	}
	defer w.close(context.WithoutCancel(ctx))
	defer func() {
		if err != nil && w.deferred { // build what the batches committed need, from the database
			err = errors.Join(err, db.finishBulkLoads(context.WithoutCancel(ctx), im.id))
		}
	}()
	first := true
	var acc bulkChunk
	committed := time.Now()
	for ch := range ready {
		for _, r := range ch.rejects {
			if err := im.reject(r); err != nil {
				return err
			}
		}
		if ch.err != nil {
			return ch.err
		}
		if first && ch.empty && !ch.last { // a load into an empty registry, of more than a batch
			if err := w.deferIndexes(ctx, im.id); err != nil {
				return err
			}
		}
		first = false
		if ch.last && w.deferred {
			// The indexes and keys are built before the last batch, whose
			// transaction marks the import done: it files its own keys.
			if err := w.finishDeferred(ctx); err != nil {
				return err
			}
		}
		// Batches with little to write (a re-sync's) go together, up to
		// BatchRows rows written or bulkCommitEvery, so that the changed
		// rows of a re-sync are written in a few transactions.
		acc.add(ch)
		if !ch.last && len(acc.rows) < im.o.BatchRows && time.Since(committed) < bulkCommitEvery {
			continue
		}
		im.n.Read = acc.read
		if err := im.flushBulk(ctx, w, acc); err != nil {
			return err
		}
		if ch.last {
			return nil
		}
		acc, committed = bulkChunk{}, time.Now()
	}
	return ctx.Err() // the pipeline stopped without its last batch
}

// A load into an empty registry (ADR 0034) builds what does not have to
// be there while the rows go in afterwards, each sorted once instead of
// inserted row by row all over a growing B-tree: children's secondary
// indexes (dropped, and made again by CREATE INDEX), and on SQLite the
// match keys (kept in memory, sorted, and inserted in order a chunk a
// transaction). roster_bulk_pending records both in the transaction that
// drops the indexes, so that a load stopped half-way is finished by the
// next Migrate or import (finishBulkLoads). Until the load's end, matching
// does not find the children it inserted, and lists by school walk the
// table: the registry was empty.

// bulkKeyChunk is how many sorted keys one transaction inserts at a load's end.
const bulkKeyChunk = 50000

// keyRow is a match key of a child.
type keyRow struct {
	key string
	id  int64
}

// keyRef is a match key of a batch's row (its index), before the row has an ID.
type keyRef struct {
	key string
	row int32
}

func compareKeyRefs(a, b keyRef) int {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	return cmp.Compare(a.row, b.row)
}

func compareKeyRows(a, b keyRow) int {
	if c := strings.Compare(a.key, b.key); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// deferIndexes drops children's secondary indexes (but those
// bulkKeepsIndex keeps), recording them (and on SQLite the keys to come)
// in roster_bulk_pending, in one transaction.
func (w *bulkWriter) deferIndexes(ctx context.Context, importID int64) error {
	err := w.db.inTx(ctx, func(c conn) error {
		q := `SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'children' AND sql IS NOT NULL
			AND sql NOT LIKE 'CREATE UNIQUE%'`
		if c.engine == Postgres {
			q = `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'children'
				AND indexdef NOT LIKE 'CREATE UNIQUE%'`
		}
		rs, err := c.query(ctx, q)
		if err != nil {
			return err
		}
		var names, defs []string
		for rs.Next() {
			var n, d string
			if err := rs.Scan(&n, &d); err != nil {
				rs.Close()
				return err
			}
			if !bulkKeepsIndex(d) {
				names, defs = append(names, n), append(defs, d)
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		for i, n := range names {
			if _, err := c.exec(ctx, `INSERT INTO roster_bulk_pending (name, sql, import_id) VALUES (?, ?, ?)`, n, defs[i], importID); err != nil {
				return err
			}
			if _, err := c.exec(ctx, `DROP INDEX `+quoteIdent(n)); err != nil {
				return err
			}
		}
		_, err = c.exec(ctx, `INSERT INTO roster_bulk_pending (name, sql, from_id, import_id)
			VALUES ('', '', (SELECT COALESCE(MAX(id), 0) FROM children), ?)`, importID)
		return err
	})
	if err != nil {
		return fmt.Errorf("storage: bulk load: drop indexes: %w", err)
	}
	w.deferred, w.deferKeys, w.direct = true, true, w.pg != nil
	return nil
}

// bulkKeepsIndex reports whether a load keeps the index def makes rather
// than dropping and building it again: a partial index of merged children
// (merged_into IS NOT NULL) holds none of the rows a roster load inserts,
// which never sets merged_into, so keeping it costs the load nothing,
// while building it again at the end would read the whole table while
// holding SQLite's one writer. The predicate is compared as both engines
// write it (PostgreSQL's indexdef puts it in parentheses).
func bulkKeepsIndex(def string) bool {
	_, pred, ok := strings.Cut(def, " WHERE ")
	if !ok {
		return false
	}
	pred = strings.TrimSpace(pred)
	for len(pred) > 1 && pred[0] == '(' && pred[len(pred)-1] == ')' {
		pred = strings.TrimSpace(pred[1 : len(pred)-1])
	}
	return pred == "merged_into IS NOT NULL"
}

// finishDeferred files the kept keys in order and builds the dropped
// indexes again, each in transactions of its own. The batches' sorted runs
// of keys are merged on another goroutine while the writer inserts the
// merged chunks; SQLite sorts the indexes' rows on two threads.
func (w *bulkWriter) finishDeferred(ctx context.Context) error {
	if w.deferKeys {
		ctx, cancel := context.WithCancel(ctx)
		chunks := make(chan []keyRow, 2)
		go func() {
			defer close(chunks)
			mergeKeyRuns(w.runs, bulkKeyChunk, func(part []keyRow) bool {
				select {
				case chunks <- part:
					return true
				case <-ctx.Done():
					return false
				}
			})
		}()
		err := w.fileMerged(ctx, chunks)
		cancel()
		for range chunks { // let the merge end
		}
		if err != nil {
			return fmt.Errorf("storage: bulk load: match keys: %w", err)
		}
		w.runs, w.deferKeys = nil, false
	}
	if w.pg == nil {
		if _, err := w.db.write.ExecContext(ctx, `PRAGMA threads = 2`); err != nil {
			return fmt.Errorf("storage: bulk load: %w", err)
		}
		defer w.db.write.ExecContext(context.WithoutCancel(ctx), `PRAGMA threads = 0`)
	}
	if err := w.db.buildPending(ctx, func(name string, _ int64) bool { return name != "" }); err != nil {
		return err
	}
	w.deferred = false
	return nil
}

// fileMerged inserts the chunks of merged keys, one transaction each (by
// COPY on PostgreSQL); the last one (or, with no keys, an empty one)
// removes the load's record of keys to come. A child edited while the load
// ran may have filed some of its keys itself: a chunk that meets one is
// inserted again without COPY, leaving those alone.
func (w *bulkWriter) fileMerged(ctx context.Context, chunks <-chan []keyRow) error {
	part := <-chunks
	for {
		next, ok := <-chunks
		if !ok && ctx.Err() != nil { // the merge stopped short
			return ctx.Err()
		}
		done := !ok
		file := func(c conn, copyKeys bool) error {
			var err error
			if copyKeys {
				err = w.copyKeys(ctx, part)
			} else {
				err = insertKeyRows(ctx, c, part)
			}
			if err != nil || !done {
				return err
			}
			_, err = c.exec(ctx, `DELETE FROM roster_bulk_pending WHERE name = ''`)
			return err
		}
		err := w.inTx(ctx, func(c conn) error { return file(c, w.pg != nil) })
		if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == pgUniqueViolation {
			err = w.inTx(ctx, func(c conn) error { return file(c, false) })
		}
		if err != nil || done {
			return err
		}
		part = next
	}
}

// pgUniqueViolation is PostgreSQL's SQLSTATE for a duplicate key.
const pgUniqueViolation = "23505"

// mergeKeyRuns merges sorted runs into chunks of n rows, in order, calling
// emit with each until it returns false. A chunk is emit's to keep.
func mergeKeyRuns(runs [][]keyRow, n int, emit func([]keyRow) bool) {
	h := make([][]keyRow, 0, len(runs)) // a min-heap of the runs' rests, by their first row
	less := func(i, j int) bool { return compareKeyRows(h[i][0], h[j][0]) < 0 }
	down := func(i int) {
		for {
			l := 2*i + 1
			if l >= len(h) {
				return
			}
			m := l
			if r := l + 1; r < len(h) && less(r, l) {
				m = r
			}
			if !less(m, i) {
				return
			}
			h[i], h[m] = h[m], h[i]
			i = m
		}
	}
	for _, r := range runs {
		if len(r) > 0 {
			h = append(h, r)
		}
	}
	for i := len(h)/2 - 1; i >= 0; i-- {
		down(i)
	}
	part := make([]keyRow, 0, n)
	for len(h) > 0 {
		part = append(part, h[0][0])
		if h[0] = h[0][1:]; len(h[0]) == 0 {
			h[0] = h[len(h)-1]
			h = h[:len(h)-1]
		}
		down(0)
		if len(part) == n {
			if !emit(part) {
				return
			}
			part = make([]keyRow, 0, n)
		}
	}
	if len(part) > 0 {
		emit(part)
	}
}

// buildPending builds the pending indexes that want names again, each
// with the removal of its record in one transaction.
func (db *DB) buildPending(ctx context.Context, want func(name string, importID int64) bool) error {
	rs, err := db.read.QueryContext(ctx, `SELECT name, sql, import_id FROM roster_bulk_pending WHERE name <> '' ORDER BY name`)
	if err != nil {
		return fmt.Errorf("storage: bulk load: %w", err)
	}
	var names, defs []string
	for rs.Next() {
		var n, d string
		var imp int64
		if err := rs.Scan(&n, &d, &imp); err != nil {
			rs.Close()
			return err
		}
		if want(n, imp) {
			names, defs = append(names, n), append(defs, d)
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	for i, n := range names {
		def, ok := strings.CutPrefix(defs[i], "CREATE INDEX ")
		if !ok {
			return fmt.Errorf("storage: bulk load: index %s: not a CREATE INDEX: %q", n, defs[i])
		}
		err := db.inTx(ctx, func(c conn) error {
			if c.engine == Postgres { // the sort in memory, not in temporary files
				if _, err := c.exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
					return err
				}
			}
			if _, err := c.exec(ctx, `CREATE INDEX IF NOT EXISTS `+def); err != nil {
				return err
			}
			_, err := c.exec(ctx, `DELETE FROM roster_bulk_pending WHERE name = ?`, n)
			return err
		})
		if err != nil {
			return fmt.Errorf("storage: bulk load: build index %s: %w", n, err)
		}
	}
	return nil
}

// finishBulkLoads finishes what loads stopped half-way left (their
// indexes, their children's keys): import only's when only is not 0, else
// those of imports no longer running.
func (db *DB) finishBulkLoads(ctx context.Context, only int64) error {
	rs, err := db.read.QueryContext(ctx, `SELECT p.name, p.from_id, p.import_id, r.status, r.updated_at
		FROM roster_bulk_pending p JOIN roster_imports r ON r.id = p.import_id ORDER BY p.name`)
	if err != nil {
		return fmt.Errorf("storage: bulk load: %w", err)
	}
	keysFrom := map[int64]int64{} // import → its children's keys to file after
	finish := map[int64]bool{}
	for rs.Next() {
		var name string
		var from, imp int64
		var ri RosterImport
		if err := rs.Scan(&name, &from, &imp, &ri.Status, &ri.UpdatedAt); err != nil {
			rs.Close()
			return err
		}
		if only != 0 {
			finish[imp] = imp == only
		} else {
			finish[imp] = ri.Status != "running" || ri.Stale(db.Now())
		}
		if name == "" && finish[imp] {
			keysFrom[imp] = from
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return err
	}
	for imp, from := range keysFrom {
		if _, err := db.fileKeysAfter(ctx, from); err != nil {
			return fmt.Errorf("storage: bulk load: match keys: %w", err)
		}
		if _, err := db.write.ExecContext(ctx, rebind(db.engine, `DELETE FROM roster_bulk_pending WHERE name = '' AND import_id = ?`), imp); err != nil {
			return err
		}
	}
	if len(finish) == 0 {
		return nil
	}
	return db.buildPending(ctx, func(_ string, imp int64) bool { return finish[imp] })
}

// insertKeyRows inserts sorted key rows, many a statement.
func insertKeyRows(ctx context.Context, c conn, rs []keyRow) error {
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	args := make([]any, 0, 2*keyRowsPerStatement)
	for start := 0; start < len(rs); start += keyRowsPerStatement {
		part := rs[start:min(start+keyRowsPerStatement, len(rs))]
		args = args[:0]
		for _, r := range part {
			args = append(args, r.key, r.id)
		}
		st, err := c.prepared(ctx, stmts, len(part), func(n int) string {
			return `INSERT INTO child_match_keys (key, child_id) VALUES ` + valuesList(n, 2) + ` ON CONFLICT DO NOTHING`
		})
		if err != nil {
			return fmt.Errorf("storage: insert match keys: %w", err)
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return fmt.Errorf("storage: insert match keys: %w", err)
		}
	}
	return nil
}

// quoteIdent quotes an SQL identifier.
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

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
	seen := newSeenIDs()
	ch := bulkChunk{rows: make([]bulkRow, 0, n)}
	read := 0
	next := parallelRecords(ctx, src)
	for {
		r, err := next()
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
			if prev, dup := seen.add(r.Child.StudentID, r.Line); dup {
				r.Rejected(apperr.Field("student_id", "roster.error.duplicate", prev))
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
	keys := match.NewKeyMaker() // a roster's names repeat: each parsed once
	for ch := range in {
		if snap == nil {
			res := <-snapc
			if res.err != nil {
				ch = bulkChunk{rejects: ch.rejects, err: res.err}
			}
			snap = res.s
		}
		ch.empty = snap != nil && snap.n == 0
		if ch.err == nil {
			for i := range ch.rows {
				r := &ch.rows[i]
				if r.rec.Reject != nil {
					continue
				}
				if buf, r.kind, r.hash = snap.kind(&r.rec, buf); r.kind == rowSame {
					continue
				}
				c := &r.rec.Child
				r.keys = keys.Keys(match.Person{LastName: c.LastName, FirstName: c.FirstName, Patronymic: c.Patronymic, BirthDate: c.BirthDate})
				r.dup = child.DupKey(r.rec.Child.LastName, r.rec.Child.FirstName)
				if r.kind == rowNew {
					for _, k := range r.keys {
						ch.run = append(ch.run, keyRef{k, int32(i)})
					}
				}
			}
			slices.SortFunc(ch.run, compareKeyRefs)
			ch.dropSame()
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

// dropSame leaves out of ch.rows the rows the registry held exactly,
// counting them in ch.same: the writer is sent only what it writes.
func (ch *bulkChunk) dropSame() {
	at := make([]int32, len(ch.rows)) // old row → new
	kept := ch.rows[:0]
	for i, r := range ch.rows {
		if r.rec.Reject == nil && r.kind == rowSame {
			ch.same++
			continue
		}
		at[i] = int32(len(kept))
		kept = append(kept, r)
	}
	clear(ch.rows[len(kept):]) // let the records left out go
	ch.rows = kept
	for j := range ch.run {
		ch.run[j].row = at[ch.run[j].row]
	}
}

// add appends what o holds to be written to ch (when ch holds nothing,
// o becomes ch), and takes o's place in the file.
func (ch *bulkChunk) add(o bulkChunk) {
	if len(ch.rows) == 0 && ch.same == 0 {
		*ch = o
		return
	}
	base := int32(len(ch.rows))
	ch.rows = append(ch.rows, o.rows...)
	for _, k := range o.run {
		ch.run = append(ch.run, keyRef{k.key, base + k.row})
	}
	slices.SortFunc(ch.run, compareKeyRefs)
	ch.same += o.same
	ch.read, ch.last = o.read, o.last
}

// flushBulk writes one batch in one transaction, as flush does.
func (im *rosterImporter) flushBulk(ctx context.Context, w *bulkWriter, ch bulkChunk) error {
	rows, run, last := ch.rows, ch.run, ch.last
	var (
		n        = im.n
		inserted []int64
		updated  []int64
		rejected []roster.Record
		good     int
	)
	write := func(c conn) error {
		n, inserted, updated, rejected, good = im.n, nil, nil, nil, ch.same
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
		ins, clash, err := w.insertNew(ctx, c, rows, fresh, run)
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
	}
	err := w.inTx(ctx, write)
	if errors.Is(err, errDirectClash) { // once met, the rest of the load goes through the staging table
		w.direct = false
		err = w.inTx(ctx, write)
	}
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
	// deferred: the children's secondary indexes are dropped until the
	// load's end; deferKeys: so are (SQLite) the keys, kept in runs (each
	// batch's, sorted).
	deferred, deferKeys bool
	runs                [][]keyRow
	// direct (PostgreSQL, a load into an empty registry): new rows are
	// copied straight into children (copyDirect).
	direct bool
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
		birth_date DATE NOT NULL, school_id BIGINT, grade INTEGER NOT NULL, section TEXT NOT NULL, dup_key TEXT NOT NULL,
		roster_hash BIGINT NOT NULL)
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

// insertNew inserts rows[fresh] (new by the snapshot) with their keys (run,
// sorted) and returns the IDs inserted, in file order, and the rows that
// met a child with the same student ID (to be upserted instead).
func (w *bulkWriter) insertNew(ctx context.Context, c conn, rows []bulkRow, fresh []int, run []keyRef) (ids []int64, clash []int, err error) {
	if len(fresh) == 0 {
		return nil, nil, nil
	}
	if w.pg != nil {
		return w.copyNew(ctx, c, rows, fresh, run)
	}
	idAt := make([]int64, len(rows)) // row → its ID, 0 when it was not inserted
	args := make([]any, 0, 13*bulkInsertRows)
	for start := 0; start < len(fresh); start += bulkInsertRows {
		part := fresh[start:min(start+bulkInsertRows, len(fresh))]
		args = args[:0]
		for _, i := range part {
			ch, r := &rows[i].rec.Child, &rows[i]
			args = append(args, ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, string(ch.Sex),
				ch.BirthDate.Format(dateLayout), ch.SchoolID, ch.Grade, ch.Section, r.dup, r.hash, c.now, c.now)
		}
		st, err := c.prepared(ctx, w.stmts, len(part), bulkInsertSQL)
		if err != nil {
			return nil, nil, fmt.Errorf("insert children: %w", err)
		}
		res, err := st.ExecContext(ctx, args...)
		if err != nil {
			return nil, nil, fmt.Errorf("insert children: %w", err)
		}
		if err := insertedIDs(ctx, c, res, rows, part, idAt); err != nil {
			return nil, nil, fmt.Errorf("insert children: %w", err)
		}
	}
	for _, i := range fresh {
		if idAt[i] == 0 {
			clash = append(clash, i)
			continue
		}
		ids = append(ids, idAt[i])
	}
	krs := keyRowsOf(run, idAt)
	if w.deferKeys {
		w.runs = append(w.runs, krs)
		return ids, clash, nil
	}
	if err := insertKeyRows(ctx, c, krs); err != nil {
		return nil, nil, err
	}
	return ids, clash, nil
}

// bulkInsertSQL is the SQLite insert of n new children, thirteen values a
// row. No RETURNING: the IDs are told by insertedIDs. (Numbered
// parameters would bind the time once, but the driver looks each
// parameter's name up in a list as long as the statement's: quadratic.)
func bulkInsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO children (student_id, last_name, first_name, patronymic, sex, birth_date, school_id, grade,
		section, dup_key, roster_hash, version, created_at, updated_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)")
	}
	b.WriteString(` ON CONFLICT (student_id) DO NOTHING`)
	return b.String()
}

// insertedIDs sets idAt[i] for the rows of part that the SQLite insert res
// inserted. A rowid table gives each inserted row the largest rowid plus
// one, in the order of the VALUES, so the statement's rows are the
// RowsAffected rowids that end at LastInsertId: all of part, in order, when
// none was skipped; else they are read back by rowid.
func insertedIDs(ctx context.Context, c conn, res sql.Result, rows []bulkRow, part []int, idAt []int64) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	last, err := res.LastInsertId()
	if err != nil {
		return err
	}
	first := last - n + 1
	if int(n) == len(part) {
		for j, i := range part {
			idAt[i] = first + int64(j)
		}
		return nil
	}
	rs, err := c.query(ctx, `SELECT id, student_id FROM children WHERE id BETWEEN ? AND ?`, first, last)
	if err != nil {
		return err
	}
	defer rs.Close()
	idOf := make(map[string]int64, n)
	for rs.Next() {
		var id int64
		var sid string
		if err := rs.Scan(&id, &sid); err != nil {
			return err
		}
		idOf[sid] = id
	}
	if err := rs.Err(); err != nil {
		return err
	}
	for _, i := range part {
		idAt[i] = idOf[rows[i].rec.Child.StudentID]
	}
	return nil
}

// keyRowsOf gives the keys of run (sorted) the IDs of their rows, leaving
// out the rows not inserted; the order stays sorted, since the IDs grow
// with the rows.
func keyRowsOf(run []keyRef, idAt []int64) []keyRow {
	krs := make([]keyRow, 0, len(run))
	for _, k := range run {
		if id := idAt[k.row]; id != 0 {
			krs = append(krs, keyRow{k.key, id})
		}
	}
	return krs
}

// copyNew is insertNew on PostgreSQL: COPY into the staging table, one
// INSERT … SELECT in file order, and COPY of the new children's keys.
func (w *bulkWriter) copyNew(ctx context.Context, c conn, rows []bulkRow, fresh []int, run []keyRef) (ids []int64, clash []int, err error) {
	if w.direct {
		idAt, err := w.copyDirect(ctx, c, rows, fresh)
		if err != nil {
			return nil, nil, err
		}
		for _, i := range fresh {
			ids = append(ids, idAt[i])
		}
		return ids, nil, w.fileNewKeys(ctx, keyRowsOf(run, idAt))
	}
	stage := make([][]any, len(fresh))
	for j, i := range fresh {
		ch := &rows[i].rec.Child
		var school any
		if ch.SchoolID != 0 {
			school = ch.SchoolID
		}
		stage[j] = []any{j, ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, string(ch.Sex), ch.BirthDate,
			school, ch.Grade, ch.Section, rows[i].dup, rows[i].hash}
	}
	if err := w.copy(ctx, "roster_stage", []string{"ord", "student_id", "last_name", "first_name", "patronymic", "sex",
		"birth_date", "school_id", "grade", "section", "dup_key", "roster_hash"}, stage); err != nil {
		return nil, nil, fmt.Errorf("copy %d children: %w", len(fresh), err)
	}
	rs, err := c.query(ctx, `INSERT INTO children (student_id, last_name, first_name, patronymic, sex, birth_date, school_id,
		grade, section, dup_key, roster_hash, version, created_at, updated_at)
		SELECT student_id, last_name, first_name, patronymic, sex, birth_date, school_id, grade, section, dup_key, roster_hash, 1, ?, ?
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
	idAt := make([]int64, len(rows))
	for _, i := range fresh {
		id, ok := idOf[rows[i].rec.Child.StudentID]
		if !ok {
			clash = append(clash, i)
			continue
		}
		ids, idAt[i] = append(ids, id), id
	}
	return ids, clash, w.fileNewKeys(ctx, keyRowsOf(run, idAt))
}

// fileNewKeys keeps the new children's keys (sorted) for the load's end,
// or copies them now: a new child has no keys yet, so none can conflict.
func (w *bulkWriter) fileNewKeys(ctx context.Context, krs []keyRow) error {
	if w.deferKeys {
		w.runs = append(w.runs, krs)
		return nil
	}
	return w.copyKeys(ctx, krs)
}

// errDirectClash says that a batch copied straight into children met a
// student ID inserted since the snapshot: it is written again through the
// staging table, whose INSERT … ON CONFLICT tells which.
var errDirectClash = errors.New("storage: bulk load: a student ID arrived meanwhile")

// copyDirect is copyNew in a load into an empty registry (PostgreSQL): the
// batch's IDs are taken from the sequence, in file order, and its rows
// copied straight into children, without the staging table and its
// INSERT … SELECT. It returns each row's ID (0 for the rows not in fresh).
func (w *bulkWriter) copyDirect(ctx context.Context, c conn, rows []bulkRow, fresh []int) ([]int64, error) {
	rs, err := c.query(ctx, `SELECT nextval(pg_get_serial_sequence('children', 'id')) FROM generate_series(1, ?) ORDER BY 1`, len(fresh))
	if err != nil {
		return nil, fmt.Errorf("reserve %d IDs: %w", len(fresh), err)
	}
	ids := make([]int64, 0, len(fresh))
	for rs.Next() {
		var id int64
		if err := rs.Scan(&id); err != nil {
			rs.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	if len(ids) != len(fresh) {
		return nil, fmt.Errorf("reserve %d IDs: got %d", len(fresh), len(ids))
	}
	idAt := make([]int64, len(rows))
	data := make([][]any, len(fresh))
	for j, i := range fresh {
		ch := &rows[i].rec.Child
		var school any
		if ch.SchoolID != 0 {
			school = ch.SchoolID
		}
		idAt[i] = ids[j]
		data[j] = []any{ids[j], ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, string(ch.Sex), ch.BirthDate,
			school, ch.Grade, ch.Section, rows[i].dup, rows[i].hash, 1, c.now, c.now}
	}
	// COPY writes an identity column's values as given (as OVERRIDING
	// SYSTEM VALUE would), so the IDs are those reserved.
	err = w.copy(ctx, "children", []string{"id", "student_id", "last_name", "first_name", "patronymic", "sex", "birth_date",
		"school_id", "grade", "section", "dup_key", "roster_hash", "version", "created_at", "updated_at"}, data)
	if pe := (*pgconn.PgError)(nil); errors.As(err, &pe) && pe.Code == pgUniqueViolation {
		return nil, fmt.Errorf("%w: %w", errDirectClash, err)
	}
	if err != nil {
		return nil, fmt.Errorf("copy %d children: %w", len(fresh), err)
	}
	return idAt, nil
}

// copyKeys copies key rows into child_match_keys.
func (w *bulkWriter) copyKeys(ctx context.Context, krs []keyRow) error {
	kr := make([][]any, len(krs))
	for j, k := range krs {
		kr[j] = []any{k.key, k.id}
	}
	if err := w.copy(ctx, "child_match_keys", []string{"key", "child_id"}, kr); err != nil {
		return fmt.Errorf("copy %d match keys: %w", len(kr), err)
	}
	return nil
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
