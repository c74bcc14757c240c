package storage

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/match"
)

// Matching a child's name keeps blocking keys (see internal/match) in
// child_match_keys, written in the same transaction as the child: whoever
// inserts or changes a child's names or birth date calls matchKeysFor and
// insertMatchKeys (or replaceMatchKeys).

// matchKeysFor returns the blocking keys of a child.
func matchKeysFor(ch child.Child) []string {
	return match.Keys(match.Person{LastName: ch.LastName, FirstName: ch.FirstName, Patronymic: ch.Patronymic,
		BirthDate: ch.BirthDate})
}

// keyRowsPerStatement is how many (key, child) rows one INSERT carries.
const keyRowsPerStatement = 500

// insertMatchKeys files the children with the given IDs under their keys,
// many rows per statement, in key order (B-tree inserts in order touch
// each page once). keys[i] belongs to ids[i]. A key already there is left
// as it is.
func insertMatchKeys(ctx context.Context, c conn, ids []int64, keys [][]string) error {
	var rs []keyRow
	for i, id := range ids {
		for _, k := range keys[i] {
			rs = append(rs, keyRow{k, id})
		}
	}
	slices.SortFunc(rs, func(a, b keyRow) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	return insertKeyRows(ctx, c, rs)
}

// prepared returns the statement for n rows from the cache, preparing it
// (with text made by build) on the transaction the first time: compiling
// a statement of hundreds of rows costs more than running it.
func (c conn) prepared(ctx context.Context, cache map[int]*sql.Stmt, n int, build func(n int) string) (*sql.Stmt, error) {
	if st, ok := cache[n]; ok {
		return st, nil
	}
	p, ok := c.q.(interface {
		PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	})
	if !ok {
		return nil, fmt.Errorf("storage: cannot prepare statements on %T", c.q)
	}
	st, err := p.PrepareContext(ctx, rebind(c.engine, build(n)))
	if err != nil {
		return nil, err
	}
	cache[n] = st
	return st, nil
}

// replaceMatchKeys re-files a child whose record changed from old to new.
func replaceMatchKeys(ctx context.Context, c conn, id int64, old, new child.Child) error {
	ok, nk := matchKeysFor(old), matchKeysFor(new)
	if strings.Join(ok, "\n") == strings.Join(nk, "\n") {
		return nil
	}
	for _, k := range ok {
		if _, err := c.exec(ctx, `DELETE FROM child_match_keys WHERE key = ? AND child_id = ?`, k, id); err != nil {
			return fmt.Errorf("storage: delete match key: %w", err)
		}
	}
	return insertMatchKeys(ctx, c, []int64{id}, [][]string{nk})
}

// valuesList is "(?, ?), (?, ?), …": rows groups of cols placeholders.
func valuesList(rows, cols int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", cols), ", ") + ")"
	var b strings.Builder
	b.Grow(rows * (len(one) + 2))
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(one)
	}
	return b.String()
}

// ReindexMatchKeys files every child again under the keys the current
// matching computes: after a change to internal/match's keys, or when the
// keys table was added to a registry that already had children. It reports
// how many children it filed.
func (db *DB) ReindexMatchKeys(ctx context.Context) (n int, err error) {
	defer apperr.Wrap(&err, "storage.ReindexMatchKeys")
	if _, err := db.write.ExecContext(ctx, `DELETE FROM child_match_keys`); err != nil {
		return 0, err
	}
	return db.fileKeysAfter(ctx, 0)
}

// fileKeysAfter files the children with an ID above after under their
// keys (a key already filed is left as it is), a page a transaction.
func (db *DB) fileKeysAfter(ctx context.Context, after int64) (n int, err error) {
	const page = 5000
	for {
		var cs []child.Child
		rows, err := db.read.QueryContext(ctx, rebind(db.engine, `SELECT `+childColumns+` FROM children c WHERE c.id > ? ORDER BY c.id LIMIT `+strconv.Itoa(page)), after)
		if err != nil {
			return n, err
		}
		for rows.Next() {
			ch, err := scanChild(rows)
			if err != nil {
				rows.Close()
				return n, err
			}
			cs = append(cs, ch)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return n, err
		}
		if len(cs) == 0 {
			return n, nil
		}
		err = db.inTx(ctx, func(c conn) error {
			ids := make([]int64, len(cs))
			keys := make([][]string, len(cs))
			for i, ch := range cs {
				ids[i], keys[i] = ch.ID, matchKeysFor(ch)
			}
			return insertMatchKeys(ctx, c, ids, keys)
		})
		if err != nil {
			return n, err
		}
		n += len(cs)
		after = cs[len(cs)-1].ID
	}
}

// MatchPlan is how MatchChildren reads the candidates a search's steps
// name (ADR 0035).
type MatchPlan int32

const (
	// MatchPlanNear reads the fallback ranges' keys alone
	// and only the children whose skeleton there is near a word of the
	// query (match.Range.Admits).
	MatchPlanNear MatchPlan = iota
	// MatchPlanKeys is the plan before ADR 0035: every child filed in a
	// fallback range is read and scored. dayaq bench match times it beside
	// MatchPlanNear, in the same run.
	MatchPlanKeys
	// MatchPlanOverlap, the default, is MatchPlanNear with the search's
	// audit event committed while the records of the candidates are read,
	// not after (ADR 0041); the answer still waits for both.
	MatchPlanOverlap
)

// SetMatchPlan sets the plan MatchChildren follows from now on (dayaq
// bench match compares them; a server keeps the default).
func (db *DB) SetMatchPlan(p MatchPlan) { db.matchPlan.Store(int32(p)) }

// MatchPlan reports the plan MatchChildren follows.
func (db *DB) MatchPlan() MatchPlan { return MatchPlan(db.matchPlan.Load()) }

// MatchCandidate is a child that may be the one a query names, as the
// caller may see it, with its score, level and reasons.
type MatchCandidate struct {
	ChildRecord
	match.Result
}

// MatchLimit is the most candidates MatchChildren returns.
const MatchLimit = 10

// MatchChildren finds the children a may see who may be the child q names,
// best first, at most MatchLimit. Candidates come from the blocking keys
// (internal/match), are filtered by the access policy in the SQL, and are
// scored here, searching as match.ParsedQuery.Search says: a query whose
// exact keys find a strong candidate costs a few index seeks. The search
// is audited with the IDs it showed, never with the name searched for.
func (db *DB) MatchChildren(ctx context.Context, a audit.Actor, q match.Query) (cs []MatchCandidate, err error) {
	defer apperr.Wrap(&err, "storage.MatchChildren")
	return db.matchChildren(ctx, a, q, access.Filter(a.Principal, access.List))
}

// MatchChildrenAsOperator is MatchChildren for the operator of the server
// at the command line (dayaq children match without --as), who reaches the
// database directly and so the whole registry: no policy filter, audited
// as the system.
func (db *DB) MatchChildrenAsOperator(ctx context.Context, q match.Query) (cs []MatchCandidate, err error) {
	defer apperr.Wrap(&err, "storage.MatchChildrenAsOperator")
	return db.matchChildren(ctx, audit.System(), q, access.ChildFilter{All: true})
}

func (db *DB) matchChildren(ctx context.Context, a audit.Actor, q match.Query, f access.ChildFilter) (cs []MatchCandidate, err error) {
	if err := q.Validate(); err != nil {
		return nil, err
	}
	pq := match.Parse(q)
	// The search reads through the read pool; its audit event, with the IDs
	// it found, is committed before they are returned (through the group
	// writer, so that concurrent searches share the commit).
	c := db.matchReader()
	e := a.Event("child.match", "child", 0)
	audited := func(ids []int64) error {
		e.Details = idsJSON(ids)
		return db.inGroupTx(ctx, func(ctx context.Context, c conn) error { return appendAudit(ctx, c, e) })
	}
	var overlapped chan error // MatchPlanOverlap: the audit event's commit, under way
	if conds, cargs := filterBranches(f, c.now); len(conds) > 0 {
		// Score every candidate from its names, date and school as it is
		// found; read the full record (with the facts the policy decides
		// on) of the best MatchLimit only.
		seen := map[int64]bool{}
		var scored, ranked []match.Candidate
		add := func(id int64, p match.Person) {
			if seen[id] {
				return
			}
			seen[id] = true
			if res := match.Score(pq, match.NewRecord(p)); res.Score >= match.MinScore {
				scored = append(scored, match.Candidate{ID: id, Result: res})
			}
		}
		plan := MatchPlan(db.matchPlan.Load())
		search := pq.Search
		fetch := func(exact []string, ranges []match.Range, limit int) error {
			return matchFetchNear(ctx, c, conds, cargs, exact, ranges, limit, seen, add)
		}
		if plan == MatchPlanKeys {
			search = pq.SearchUnfiltered
			fetch = func(exact []string, ranges []match.Range, limit int) error {
				return matchFetch(ctx, c, conds, cargs, exact, ranges, limit, add)
			}
		}
		best := func() match.Level {
			if ranked = match.Best(scored, MatchLimit); len(ranked) == 0 {
				return ""
			}
			return ranked[0].Level
		}
		if err := search(fetch, best); err != nil {
			return nil, err
		}
		best()
		if plan == MatchPlanOverlap && len(ranked) > 0 {
			// The event names the children whose records are read now: those
			// shown, and one renamed or merged since the first read, if any,
			// whose record is read but no longer shown.
			ids := make([]int64, len(ranked))
			for i, m := range ranked {
				ids[i] = m.ID
			}
			overlapped = make(chan error, 1)
			go func() { overlapped <- audited(ids) }()
		}
		cs, err = matchRecords(ctx, c, a.Principal, conds, cargs, pq, ranked)
		if overlapped != nil {
			// Nothing is returned before the event's commit has an outcome.
			if aerr := <-overlapped; aerr != nil {
				return nil, aerr
			}
		}
		if err != nil {
			return nil, err
		}
	}
	if overlapped != nil {
		return cs, nil
	}
	ids := make([]int64, len(cs))
	for i, m := range cs {
		ids[i] = m.ID
	}
	if err := audited(ids); err != nil {
		return nil, err
	}
	return cs, nil
}

// matchFetch calls add with each child filed under the exact keys or
// within the key ranges (each range at most limit children when limit > 0)
// whom the filter's branches let the caller list, with what scoring needs.
// It takes two short queries rather than one join, so that both engines
// plan them the same way at any size: index seeks into the keys, then
// primary-key reads of the children, the policy's branches filtering.
func matchFetch(ctx context.Context, c conn, conds []string, cargs [][]any,
	exact []string, ranges []match.Range, limit int, add func(id int64, p match.Person)) error {
	var parts []string
	var args []any
	if len(exact) > 0 {
		parts = append(parts, `SELECT child_id FROM child_match_keys WHERE key IN (`+
			strings.TrimSuffix(strings.Repeat("?, ", len(exact)), ", ")+`)`)
		for _, k := range exact {
			args = append(args, k)
		}
	}
	for i, r := range ranges {
		if limit == 0 {
			parts = append(parts, `SELECT child_id FROM child_match_keys WHERE key >= ? AND key < ?`)
			args = append(args, r.From, r.To)
			continue
		}
		// The limit counts children the caller may list: applied before the
		// filter, records out of their reach would take the places (and
		// betray that they exist).
		parts = append(parts, `SELECT child_id FROM (SELECT k.child_id FROM child_match_keys k
			JOIN children c ON c.id = k.child_id LEFT JOIN orgs s ON s.id = c.school_id
			WHERE k.key >= ? AND k.key < ? AND c.merged_into IS NULL AND ((`+strings.Join(conds, `) OR (`)+`))
			ORDER BY k.key LIMIT `+strconv.Itoa(limit)+`) r`+strconv.Itoa(i))
		args = append(append(args, r.From, r.To), flatten(cargs)...)
	}
	if len(parts) == 0 {
		return nil
	}
	rows, err := c.query(ctx, strings.Join(parts, ` UNION `), args...)
	if err != nil {
		return fmt.Errorf("match keys: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("match keys: %w", err)
	}
	const perQuery = 500
	for start := 0; start < len(ids); start += perQuery {
		part := ids[start:min(start+perQuery, len(ids))]
		q := `SELECT c.id, c.last_name, c.first_name, c.patronymic, c.birth_date, COALESCE(s.code, '')` + childFromWhere +
			`WHERE c.id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ") +
			`) AND c.merged_into IS NULL AND ((` + strings.Join(conds, `) OR (`) + `))`
		rows, err := c.query(ctx, q, append(append([]any{}, part...), flatten(cargs)...)...)
		if err != nil {
			return fmt.Errorf("match children: %w", err)
		}
		for rows.Next() {
			var id int64
			var p match.Person
			if err := rows.Scan(&id, &p.LastName, &p.FirstName, &p.Patronymic, date{&p.BirthDate}, &p.School); err != nil {
				rows.Close()
				return err
			}
			add(id, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("match children: %w", err)
		}
	}
	return nil
}

// matchFetchNear is matchFetch for MatchPlanNear (ADR 0035). The
// unlimited (fallback) ranges are read from the keys alone, key and child,
// so that a range's keys it does not admit are passed over and a child
// already seen is not read again; the children left are read by primary
// key, the policy's branches filtering. The exact keys (the children born
// on one day under one name) and the limited ranges read what scoring
// needs in one statement that joins the keys to the children and applies
// the filter (and the limit): one round trip a step.
func matchFetchNear(ctx context.Context, c conn, conds []string, cargs [][]any,
	exact []string, ranges []match.Range, limit int, seen map[int64]bool, add func(id int64, p match.Person)) error {
	filter := `c.merged_into IS NULL AND ((` + strings.Join(conds, `) OR (`) + `))`
	var ids []any
	if limit == 0 && len(ranges) > 0 {
		var parts []string
		var args []any
		for i, r := range ranges {
			parts = append(parts, `SELECT `+strconv.Itoa(i)+`, key, child_id FROM child_match_keys WHERE key >= ? AND key < ?`)
			args = append(args, r.From, r.To)
		}
		rows, err := c.query(ctx, strings.Join(parts, ` UNION ALL `), args...)
		if err != nil {
			return fmt.Errorf("match keys: %w", err)
		}
		picked := map[int64]bool{}
		for rows.Next() {
			var i int
			var key string
			var id int64
			if err := rows.Scan(&i, &key, &id); err != nil {
				rows.Close()
				return err
			}
			if seen[id] || picked[id] || !ranges[i].Admits(key) {
				continue
			}
			picked[id] = true
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("match keys: %w", err)
		}
	}
	scan := func(q string, args []any) error {
		rows, err := c.query(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("match children: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			var p match.Person
			if err := rows.Scan(&id, &p.LastName, &p.FirstName, &p.Patronymic, date{&p.BirthDate}, &p.School); err != nil {
				return err
			}
			add(id, p)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("match children: %w", err)
		}
		return nil
	}
	if len(exact) > 0 {
		args := make([]any, 0, len(exact))
		for _, k := range exact {
			args = append(args, k)
		}
		q := `SELECT c.id, c.last_name, c.first_name, c.patronymic, c.birth_date, COALESCE(s.code, '')
			FROM child_match_keys k JOIN children c ON c.id = k.child_id LEFT JOIN orgs s ON s.id = c.school_id
			WHERE k.key IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(exact)), ", ") + `) AND ` + filter
		if err := scan(q, append(args, flatten(cargs)...)); err != nil {
			return err
		}
	}
	if limit > 0 && len(ranges) > 0 {
		// The limit counts children the caller may list: applied before the
		// filter, records out of their reach would take the places (and
		// betray that they exist). Namesakes filed under one key come in
		// the child's order, so that the ten shown are the same every time
		// (PostgreSQL's plan chose before, ADR 0041).
		var parts []string
		var args []any
		for i, r := range ranges {
			parts = append(parts, `SELECT * FROM (SELECT c.id, c.last_name, c.first_name, c.patronymic, c.birth_date, COALESCE(s.code, '')
				FROM child_match_keys k JOIN children c ON c.id = k.child_id LEFT JOIN orgs s ON s.id = c.school_id
				WHERE k.key >= ? AND k.key < ? AND `+filter+` ORDER BY k.key, k.child_id LIMIT `+strconv.Itoa(limit)+`) r`+strconv.Itoa(i))
			args = append(append(args, r.From, r.To), flatten(cargs)...)
		}
		if err := scan(strings.Join(parts, ` UNION ALL `), args); err != nil {
			return err
		}
	}
	const perQuery = 500
	for start := 0; start < len(ids); start += perQuery {
		part := ids[start:min(start+perQuery, len(ids))]
		q := `SELECT c.id, c.last_name, c.first_name, c.patronymic, c.birth_date, COALESCE(s.code, '')` + childFromWhere +
			`WHERE c.id IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ") + `) AND ` + filter
		if err := scan(q, append(append([]any{}, part...), flatten(cargs)...)); err != nil {
			return err
		}
	}
	return nil
}

// matchRecords reads the ranked candidates' records, filtered and decided
// by the policy as every read of a child is, scores them again and returns
// them best first.
func matchRecords(ctx context.Context, c conn, p access.Principal, conds []string, cargs [][]any,
	pq match.ParsedQuery, ranked []match.Candidate) ([]MatchCandidate, error) {
	if len(ranked) == 0 {
		return nil, nil
	}
	operator := !p.Authenticated() // MatchChildrenAsOperator: the whole registry
	ids := make([]any, len(ranked))
	for i, r := range ranked {
		ids[i] = r.ID
	}
	facts, fargs := factsColumns(p, c.now)
	q := `SELECT ` + childRecordColumns + facts + childFromWhere + `WHERE c.id IN (` +
		strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ") + `) AND c.merged_into IS NULL AND ((` + strings.Join(conds, `) OR (`) + `))`
	// The placeholders come in the text's order: the facts, the IDs, the filter.
	rows, err := c.query(ctx, q, append(append(append([]any{}, fargs...), ids...), flatten(cargs)...)...)
	if err != nil {
		return nil, fmt.Errorf("match children: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64]ChildRecord, len(ranked))
	for rows.Next() {
		var og, ug, bg bool
		r, err := scanChildRecord(rows, &og, &ug, &bg)
		if err != nil {
			return nil, err
		}
		if operator {
			r.Decision = access.Decision{Allowed: true, View: access.ViewFull}
		} else {
			decide(p, access.List, &r, og, ug, bg)
		}
		if !r.Decision.Allowed {
			return nil, fmt.Errorf("policy and filter disagree on child %d", r.ID)
		}
		byID[r.ID] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("match children: %w", err)
	}
	// Score again from the records read here: a child renamed or merged
	// since the narrow read is shown for what it is now.
	var again []match.Candidate
	for _, r := range ranked {
		rec, ok := byID[r.ID]
		if !ok {
			continue
		}
		res := match.Score(pq, match.NewRecord(match.Person{LastName: rec.LastName, FirstName: rec.FirstName,
			Patronymic: rec.Patronymic, BirthDate: rec.BirthDate, School: rec.School.Code}))
		if res.Score >= match.MinScore {
			again = append(again, match.Candidate{ID: r.ID, Result: res})
		}
	}
	again = match.Best(again, len(again))
	out := make([]MatchCandidate, len(again))
	for i, r := range again {
		out[i] = MatchCandidate{ChildRecord: byID[r.ID], Result: r.Result}
	}
	return out, nil
}

func flatten(as [][]any) []any {
	var out []any
	for _, a := range as {
		out = append(out, a...)
	}
	return out
}
