package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/org"
	"dayaq/internal/roster"
)

// RosterSource yields the records of a roster; *roster.Reader is one.
type RosterSource interface {
	Read() (roster.Record, error)
}

// RosterCounts count what an import did with the rows it read.
type RosterCounts struct {
	Read      int `json:"rows"`
	Inserted  int `json:"inserted"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Rejected  int `json:"rejected"`
}

// RosterImportOptions tune ImportRoster.
type RosterImportOptions struct {
	// Operator is the command line run on the server: the whole city,
	// audited as the system. Never set it for a request.
	Operator bool
	// BatchRows is how many rows one transaction writes; default 5000.
	BatchRows int
	// KeepRejects stores rejected rows in the import's record, for the web
	// page and the API (the command line writes them to a file instead).
	KeepRejects bool
	// OnReject, if set, is called with every rejected row.
	OnReject func(roster.Record) error
	// OnProgress, if set, is called after every batch commits.
	OnProgress func(RosterCounts)
}

// MaxKeptRejects bounds the rejected rows kept for one import; the count
// goes on beyond it.
const MaxKeptRejects = 10000

// upsertChunk is how many rows one INSERT statement carries: 500 rows of
// 14 values stay well under both engines' limits on bound parameters.
const upsertChunk = 500

// RosterImport is one import run as recorded.
type RosterImport struct {
	ID         int64
	UserID     int64
	OrgID      int64
	FileName   string
	Status     string // running, done, failed
	Counts     RosterCounts
	ErrorKey   string // why a failed import failed (a catalogue key)
	ErrorArgs  []any
	CreatedAt  time.Time
	UpdatedAt  time.Time
	FinishedAt time.Time
}

// Stale reports whether a running import has not moved for a minute at
// now: its process was stopped, and it will not finish.
func (ri RosterImport) Stale(now time.Time) bool {
	return ri.Status == "running" && now.Sub(ri.UpdatedAt) > time.Minute
}

// RosterReject is a rejected row as kept for the uploader.
type RosterReject struct {
	Line    int
	Reasons []apperr.FieldError
	Raw     []string // in roster.Columns order
}

// StartRosterImport records a new import run by a (the system on the
// command line) of the named file, and returns its ID.
func (db *DB) StartRosterImport(ctx context.Context, a audit.Actor, fileName string) (id int64, err error) {
	defer apperr.Wrap(&err, "storage.StartRosterImport")
	err = db.inTx(ctx, func(c conn) error {
		if err := c.queryRow(ctx, `INSERT INTO roster_imports (user_id, org_id, file_name, status, created_at, updated_at)
			VALUES (?, ?, ?, 'running', ?, ?) RETURNING id`, nullInt(a.UserID), nullInt(a.OrgID), fileName, c.now, c.now).Scan(&id); err != nil {
			return err
		}
		e := a.Event("child.import_start", "roster_import", id)
		return appendAudit(ctx, c, e)
	})
	return id, err
}

// FailRosterImport marks an import failed for the reason err gives (its
// catalogue key when it has one).
func (db *DB) FailRosterImport(ctx context.Context, a audit.Actor, id int64, cause error) (err error) {
	defer apperr.Wrap(&err, "storage.FailRosterImport(%d)", id)
	e := apperr.As(cause)
	key, args := e.Key, e.Args
	if e.Code == apperr.Internal {
		key, args = "roster.error.failed", nil
	}
	b, _ := json.Marshal(args)
	return db.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `UPDATE roster_imports SET status = 'failed', error_key = ?, error_args = ?, updated_at = ?, finished_at = ?
			WHERE id = ?`, key, string(b), c.now, c.now, id); err != nil {
			return err
		}
		ev := a.Event("child.import_failed", "roster_import", id)
		ev.Details = fmt.Sprintf(`{"error":%q}`, key)
		return appendAudit(ctx, c, ev)
	})
}

// RosterImportFor returns import id with its kept rejects (at most limit,
// by line), if a started it. Another user's import is NotFound.
func (db *DB) RosterImportFor(ctx context.Context, a audit.Actor, id int64, limit int) (ri RosterImport, rejects []RosterReject, err error) {
	defer apperr.Wrap(&err, "storage.RosterImportFor(%d)", id)
	c := db.reader()
	var uid, oid sql.NullInt64
	var fin sql.NullTime
	var args string
	err = c.queryRow(ctx, `SELECT id, user_id, org_id, file_name, status, rows_read, inserted, updated, unchanged, rejected,
		error_key, error_args, created_at, updated_at, finished_at FROM roster_imports WHERE id = ?`, id).Scan(
		&ri.ID, &uid, &oid, &ri.FileName, &ri.Status, &ri.Counts.Read, &ri.Counts.Inserted, &ri.Counts.Updated,
		&ri.Counts.Unchanged, &ri.Counts.Rejected, &ri.ErrorKey, &args, &ri.CreatedAt, &ri.UpdatedAt, &fin)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && (uid.Int64 != a.UserID || a.UserID == 0)) {
		return RosterImport{}, nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return RosterImport{}, nil, err
	}
	ri.UserID, ri.OrgID = uid.Int64, oid.Int64
	ri.CreatedAt, ri.UpdatedAt = ri.CreatedAt.UTC(), ri.UpdatedAt.UTC()
	if fin.Valid {
		ri.FinishedAt = fin.Time.UTC()
	}
	if args != "" {
		_ = json.Unmarshal([]byte(args), &ri.ErrorArgs)
	}
	if limit <= 0 {
		return ri, nil, nil
	}
	rows, err := c.query(ctx, `SELECT line, reasons, raw FROM roster_import_rejects WHERE import_id = ? ORDER BY line LIMIT ?`, id, limit)
	if err != nil {
		return ri, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var rj RosterReject
		var reasons, raw string
		if err := rows.Scan(&rj.Line, &reasons, &raw); err != nil {
			return ri, nil, err
		}
		rj.Reasons = decodeReasons(reasons)
		_ = json.Unmarshal([]byte(raw), &rj.Raw)
		rejects = append(rejects, rj)
	}
	if err := rows.Err(); err != nil {
		return ri, nil, err
	}
	if len(rejects) > 0 { // they hold names and birth dates: reading them is audited (ADR 0016)
		e := a.Event("child.import_rejects_read", "roster_import", id)
		e.Details = fmt.Sprintf(`{"rejects":%d}`, len(rejects))
		if err := db.RecordAudit(ctx, e); err != nil {
			return ri, nil, err
		}
	}
	return ri, rejects, nil
}

// reasonJSON is a reject reason as stored.
type reasonJSON struct {
	Field string `json:"field,omitempty"`
	Key   string `json:"key"`
	Args  []any  `json:"args,omitempty"`
}

func encodeReasons(fs []apperr.FieldError) string {
	rs := make([]reasonJSON, len(fs))
	for i, f := range fs {
		rs[i] = reasonJSON{f.Field, f.Key, f.Args}
	}
	b, _ := json.Marshal(rs)
	return string(b)
}

func decodeReasons(s string) []apperr.FieldError {
	var rs []reasonJSON
	_ = json.Unmarshal([]byte(s), &rs)
	fs := make([]apperr.FieldError, len(rs))
	for i, r := range rs {
		// JSON numbers come back as float64; %d wants integers.
		for j, a := range r.Args {
			if f, ok := a.(float64); ok && f == float64(int64(f)) {
				r.Args[j] = int64(f)
			}
		}
		fs[i] = apperr.FieldError{Field: r.Field, Key: r.Key, Args: r.Args}
	}
	return fs
}

// ImportRoster reads every record of src and stores the good ones under
// import id (from StartRosterImport): a new student_id is inserted, a known
// one updated when anything differs (version+1) and left alone when nothing
// does, so that importing the same file twice changes nothing. Rows are
// written in batches of o.BatchRows, each in one transaction with its
// audit event and the import's counts, by multi-row upserts; a rejected row
// is never written and never stops the others.
//
// Storage rejects what the parser cannot know: an unknown school, a school
// (or an existing child's school) outside a's reach, and a student_id seen
// before in the same file. The import ends done, or failed when src cannot
// be read or the database fails; the batches committed before stay.
//
// An operator import goes through the pipeline of roster_bulk.go (ADR
// 0034): the same rows, rejects, counts and audit, with new rows inserted
// without the upsert.
func (db *DB) ImportRoster(ctx context.Context, a audit.Actor, id int64, src RosterSource, o RosterImportOptions) (n RosterCounts, err error) {
	defer apperr.Wrap(&err, "storage.ImportRoster(%d)", id)
	return db.importRoster(ctx, a, id, src, o, o.Operator)
}

// importRoster is ImportRoster, through the pipeline when bulk (operator
// imports only) and else through the batched upsert.
func (db *DB) importRoster(ctx context.Context, a audit.Actor, id int64, src RosterSource, o RosterImportOptions, bulk bool) (n RosterCounts, err error) {
	if o.BatchRows <= 0 {
		o.BatchRows = 5000
		if bulk && db.engine == Postgres {
			o.BatchRows = bulkBatchRowsPG
		}
	}
	if o.Operator && a.Authenticated() {
		return n, errors.New("operator imports are audited as the system")
	}
	im := &rosterImporter{db: db, a: a, id: id, o: o, schools: map[string]*org.Org{}, seen: map[string]int32{}}
	defer func() {
		n = im.n
		if err != nil {
			if ferr := db.FailRosterImport(context.WithoutCancel(ctx), a, id, err); ferr != nil {
				err = errors.Join(err, ferr)
			}
		}
	}()
	if bulk && o.Operator {
		return n, db.importBulk(ctx, im, src)
	}
	if o.Operator { // the nightly re-sync: unchanged rows are told apart before the upsert (roster_resync.go)
		if im.snap, err = db.loadRosterSnapshot(ctx, 0); err != nil {
			return n, err
		}
	}
	batch := make([]roster.Record, 0, o.BatchRows)
	for {
		r, rerr := src.Read()
		if errors.Is(rerr, io.EOF) {
			break
		}
		if rerr != nil {
			return n, rerr
		}
		im.n.Read++
		if r.Reject == nil {
			if prev, dup := im.seen[r.Child.StudentID]; dup {
				r.Rejected(apperr.Field("student_id", "roster.error.duplicate", int(prev)))
			} else {
				im.seen[r.Child.StudentID] = int32(r.Line)
			}
		}
		if r.Reject != nil {
			if err := im.reject(r); err != nil {
				return n, err
			}
			continue
		}
		batch = append(batch, r)
		if len(batch) == cap(batch) {
			if err := im.flush(ctx, batch, false); err != nil {
				return n, err
			}
			batch = batch[:0]
		}
	}
	return n, im.flush(ctx, batch, true)
}

// rosterImporter is the state of one ImportRoster call.
type rosterImporter struct {
	db      *DB
	a       audit.Actor
	id      int64
	o       RosterImportOptions
	n       RosterCounts
	schools map[string]*org.Org // by code; nil when there is no such school
	seen    map[string]int32    // student_id → line, to refuse a repeat
	pending []roster.Record     // rejects not yet stored
	snap    *rosterSnapshot     // operator imports: the registry as the import began
	keyBuf  []byte
	kept    int
	batches int
}

func (im *rosterImporter) reject(r roster.Record) error {
	im.n.Rejected++
	if im.o.OnReject != nil {
		if err := im.o.OnReject(r); err != nil {
			return err
		}
	}
	if im.o.KeepRejects && im.kept < MaxKeptRejects {
		im.kept++
		im.pending = append(im.pending, r)
	}
	return nil
}

// school returns the school with the given code, from the cache or c.
func (im *rosterImporter) school(ctx context.Context, c conn, code string) (*org.Org, error) {
	return lookupSchool(ctx, c, im.schools, code)
}

// lookupSchool returns the school with the given code from cache, or reads
// it from c into cache; nil when there is no such school.
func lookupSchool(ctx context.Context, c conn, cache map[string]*org.Org, code string) (*org.Org, error) {
	if s, ok := cache[code]; ok {
		return s, nil
	}
	o, err := getOrgByCode(ctx, c, code)
	switch {
	case apperr.CodeOf(err) == apperr.NotFound:
		cache[code] = nil
		return nil, nil
	case err != nil:
		return nil, err
	case o.Type != org.School:
		cache[code] = nil
		return nil, nil
	}
	cache[code] = &o
	return &o, nil
}

// flush writes one batch in one transaction: the rows, the rejects found
// meanwhile, the audit event, the import's counts.
func (im *rosterImporter) flush(ctx context.Context, batch []roster.Record, last bool) error {
	var (
		n        = im.n
		inserted []int64
		updated  []int64
		rejected []roster.Record
	)
	err := im.db.inTx(ctx, func(c conn) error {
		n, inserted, updated, rejected = im.n, nil, nil, nil
		good := make([]roster.Record, 0, len(batch))
		for _, r := range batch {
			s, err := im.school(ctx, c, r.SchoolCode)
			if err != nil {
				return err
			}
			switch {
			case s == nil:
				r.Rejected(apperr.Field("school_code", "child.error.school_unknown", r.SchoolCode))
			case !im.o.Operator && !access.Decide(im.a.Principal, access.Write, access.ChildFacts{SchoolID: s.ID,
				District: s.DistrictCode, Grade: r.Child.Grade, Section: r.Child.Section}).Allowed:
				r.Rejected(apperr.Field("school_code", "child.error.school_not_yours", r.SchoolCode))
			default:
				r.Child.SchoolID = s.ID
				good = append(good, r)
				continue
			}
			rejected = append(rejected, r)
		}
		if !im.o.Operator {
			var err error
			var theirs []roster.Record
			if good, theirs, err = im.notTheirs(ctx, c, good); err != nil {
				return err
			}
			for _, r := range theirs {
				r.Rejected(apperr.Field("student_id", "roster.error.not_yours"))
				rejected = append(rejected, r)
			}
		}
		write := good
		if im.snap != nil {
			write = make([]roster.Record, 0, len(good))
			for i := range good {
				var same bool
				if im.keyBuf, same = im.snap.unchanged(&good[i], im.keyBuf); !same {
					write = append(write, good[i])
				}
			}
		}
		// The rows' match keys are computed on another goroutine (the
		// other core) while the upsert runs, from the rows as written.
		keysc := make(chan [][]string, 1)
		go func() {
			ks := make([][]string, len(write))
			for i := range write {
				ks[i] = matchKeysFor(write[i].Child)
			}
			keysc <- ks
		}()
		var idOf []int64
		var err error
		inserted, updated, idOf, err = upsertRows(ctx, c, write)
		keys := <-keysc
		if err != nil {
			return err
		}
		n.Inserted += len(inserted)
		n.Updated += len(updated)
		n.Unchanged += len(good) - len(inserted) - len(updated)
		n.Rejected += len(rejected)
		if err := fileWrittenKeys(ctx, c, idOf, keys); err != nil {
			return err
		}
		return im.endBatch(ctx, c, n, inserted, updated, len(good), rejected, last)
	})
	if err != nil {
		return err
	}
	return im.afterBatch(n, rejected)
}

// endBatch ends a batch's transaction c: it stores the rejects kept, the
// import's counts n and status, and the batch's audit event (when it wrote
// anything: good rows, of which it inserted and updated those given) and
// the import's last (when last).
func (im *rosterImporter) endBatch(ctx context.Context, c conn, n RosterCounts, inserted, updated []int64, good int,
	rejected []roster.Record, last bool) error {
	keep, kept := im.pending, im.kept
	for _, r := range rejected {
		if im.o.KeepRejects && kept < MaxKeptRejects {
			kept++
			keep = append(keep, r)
		}
	}
	if err := storeRejects(ctx, c, im.id, keep); err != nil {
		return err
	}
	im.kept = kept
	status, finished := "running", sql.NullTime{}
	if last {
		status, finished = "done", sql.NullTime{Time: c.now, Valid: true}
	}
	if _, err := c.exec(ctx, `UPDATE roster_imports SET status = ?, rows_read = ?, inserted = ?, updated = ?, unchanged = ?,
		rejected = ?, updated_at = ?, finished_at = ? WHERE id = ?`, status, n.Read, n.Inserted, n.Updated, n.Unchanged,
		n.Rejected, c.now, finished, im.id); err != nil {
		return err
	}
	if len(inserted)+len(updated) > 0 {
		e := im.a.Event("child.import", "roster_import", im.id)
		e.Details = importDetails(im.batches+1, inserted, updated, good-len(inserted)-len(updated))
		if err := appendAudit(ctx, c, e); err != nil {
			return err
		}
	}
	if last {
		e := im.a.Event("child.import_done", "roster_import", im.id)
		b, _ := json.Marshal(n)
		e.Details = string(b)
		return appendAudit(ctx, c, e)
	}
	return nil
}

// afterBatch follows a batch's commit: the rows it rejected go to OnReject,
// its counts n become the import's.
func (im *rosterImporter) afterBatch(n RosterCounts, rejected []roster.Record) error {
	im.batches++
	for _, r := range rejected {
		if im.o.OnReject != nil {
			if err := im.o.OnReject(r); err != nil {
				return err
			}
		}
	}
	im.pending = im.pending[:0]
	im.n = n
	if im.o.OnProgress != nil {
		im.o.OnProgress(n)
	}
	return nil
}

// importDetails is a batch's audit detail: which children it inserted and
// updated (IDs only, never a name), and how many rows it left unchanged.
func importDetails(batch int, inserted, updated []int64, unchanged int) string {
	var b strings.Builder
	b.WriteString(`{"batch":`)
	b.WriteString(strconv.Itoa(batch))
	for _, part := range []struct {
		name string
		ids  []int64
	}{{"inserted", inserted}, {"updated", updated}} {
		b.WriteString(`,"` + part.name + `":[`)
		for i, id := range part.ids {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(strconv.FormatInt(id, 10))
		}
		b.WriteByte(']')
	}
	b.WriteString(`,"unchanged":` + strconv.Itoa(unchanged) + `}`)
	return b.String()
}

// notTheirs splits rs into the rows a may write and those whose student_id
// belongs to a child a may not change (another school's pupil): an import
// must not move a child out of a school its author does not manage.
func (im *rosterImporter) notTheirs(ctx context.Context, c conn, rs []roster.Record) (ok, theirs []roster.Record, err error) {
	if len(rs) == 0 {
		return rs, nil, nil
	}
	type place struct {
		school   int64
		district string
		grade    int
		section  string
	}
	existing := map[string]place{}
	for i := 0; i < len(rs); i += upsertChunk {
		part := rs[i:min(i+upsertChunk, len(rs))]
		args := make([]any, len(part))
		for j, r := range part {
			args[j] = r.Child.StudentID
		}
		rows, err := c.query(ctx, `SELECT c.student_id, COALESCE(c.school_id, 0), COALESCE(s.district_code, ''), c.grade, c.section
			FROM children c LEFT JOIN orgs s ON s.id = c.school_id
			WHERE c.student_id IN (?`+strings.Repeat(`, ?`, len(part)-1)+`)`, args...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var sid string
			var p place
			if err := rows.Scan(&sid, &p.school, &p.district, &p.grade, &p.section); err != nil {
				rows.Close()
				return nil, nil, err
			}
			existing[sid] = p
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	ok = rs[:0:0]
	for _, r := range rs {
		p, found := existing[r.Child.StudentID]
		if found && !access.Decide(im.a.Principal, access.Write, access.ChildFacts{SchoolID: p.school, District: p.district,
			Grade: p.grade, Section: p.section, Unallocated: p.school == 0}).Allowed {
			theirs = append(theirs, r)
			continue
		}
		ok = append(ok, r)
	}
	return ok, theirs, nil
}

// upsertSQL returns the upsert of n rows: insert, or update when anything
// differs. Rows that differ in nothing are left alone (no version, no
// updated_at change) and are not returned; an inserted row comes back with
// version 1, an updated one with a higher version.
func upsertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO children (student_id, last_name, first_name, patronymic, sex, birth_date, school_id, grade, section,
		dup_key, roster_hash, version, created_at, updated_at) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)`)
	}
	b.WriteString(` ON CONFLICT (student_id) DO UPDATE SET last_name = excluded.last_name, first_name = excluded.first_name,
		patronymic = excluded.patronymic, sex = excluded.sex, birth_date = excluded.birth_date, school_id = excluded.school_id,
		grade = excluded.grade, section = excluded.section, dup_key = excluded.dup_key, roster_hash = excluded.roster_hash,
		version = children.version + 1, updated_at = excluded.updated_at
	WHERE children.last_name <> excluded.last_name OR children.first_name <> excluded.first_name
		OR children.patronymic <> excluded.patronymic OR children.sex <> excluded.sex
		OR children.birth_date <> excluded.birth_date OR children.school_id IS DISTINCT FROM excluded.school_id
		OR children.grade <> excluded.grade OR children.section <> excluded.section
	RETURNING id, version, student_id`)
	return b.String()
}

// upsertRows writes rs in multi-row upserts of upsertChunk rows, the full
// chunks through one statement prepared for the transaction.
// idOf[i] is the ID of rs[i] when it was inserted or updated, else 0.
func upsertRows(ctx context.Context, c conn, rs []roster.Record) (inserted, updated, idOf []int64, err error) {
	var full *sql.Stmt
	if tx, ok := c.q.(*sql.Tx); ok && len(rs) >= upsertChunk {
		if full, err = tx.PrepareContext(ctx, rebind(c.engine, upsertSQL(upsertChunk))); err != nil {
			return nil, nil, nil, fmt.Errorf("prepare upsert: %w", err)
		}
		defer full.Close()
	}
	idOf = make([]int64, len(rs))
	for i := 0; i < len(rs); i += upsertChunk {
		ins, upd, err := upsertChildren(ctx, c, full, rs[i:min(i+upsertChunk, len(rs))], idOf[i:])
		if err != nil {
			return nil, nil, nil, err
		}
		inserted, updated = append(inserted, ins...), append(updated, upd...)
	}
	return inserted, updated, idOf, nil
}

// fileWrittenKeys files the rows an import wrote under their match keys
// (keys[i] computed from row i as written, idOf[i] its ID or 0).
func fileWrittenKeys(ctx context.Context, c conn, idOf []int64, keys [][]string) error {
	var ids []int64
	var ks [][]string
	for i, id := range idOf {
		if id != 0 {
			ids, ks = append(ids, id), append(ks, keys[i])
		}
	}
	if len(ids) == 0 {
		return nil
	}
	return insertMatchKeys(ctx, c, ids, ks)
}

// upsertChildren writes rs (at most upsertChunk) with one statement (full
// when rs is a full chunk and full is prepared) and reports the IDs it
// inserted and updated.
func upsertChildren(ctx context.Context, c conn, full *sql.Stmt, rs []roster.Record, idOf []int64) (inserted, updated []int64, err error) {
	at := make(map[string]int, len(rs)) // RETURNING's order is not the rows' order
	for i := range rs {
		at[rs[i].Child.StudentID] = i
	}
	args := make([]any, 0, len(rs)*13)
	var buf []byte
	for _, r := range rs {
		ch := &r.Child
		var hash int64
		buf, hash = childRosterHash(buf, ch)
		args = append(args, ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, string(ch.Sex),
			ch.BirthDate.Format(dateLayout), ch.SchoolID, ch.Grade, ch.Section, child.DupKey(ch.LastName, ch.FirstName),
			hash, c.now, c.now)
	}
	var rows *sql.Rows
	if full != nil && len(rs) == upsertChunk {
		rows, err = full.QueryContext(ctx, args...)
	} else {
		rows, err = c.query(ctx, upsertSQL(len(rs)), args...)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("upsert %d children: %w", len(rs), err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var version int
		var sid string
		if err := rows.Scan(&id, &version, &sid); err != nil {
			return nil, nil, err
		}
		if i, ok := at[sid]; ok {
			idOf[i] = id
		}
		if version == 1 {
			inserted = append(inserted, id)
		} else {
			updated = append(updated, id)
		}
	}
	return inserted, updated, rows.Err()
}

// storeRejects keeps rejected rows for the import's uploader.
func storeRejects(ctx context.Context, c conn, id int64, rs []roster.Record) error {
	for i := 0; i < len(rs); i += upsertChunk {
		part := rs[i:min(i+upsertChunk, len(rs))]
		args := make([]any, 0, len(part)*4)
		for _, r := range part {
			raw, _ := json.Marshal(r.Raw)
			args = append(args, id, r.Line, encodeReasons(r.Reject.Reasons), string(raw))
		}
		if _, err := c.exec(ctx, `INSERT INTO roster_import_rejects (import_id, line, reasons, raw) VALUES (?, ?, ?, ?)`+
			strings.Repeat(`, (?, ?, ?, ?)`, len(part)-1)+` ON CONFLICT (import_id, line) DO NOTHING`, args...); err != nil {
			return fmt.Errorf("store %d rejects: %w", len(part), err)
		}
	}
	return nil
}
