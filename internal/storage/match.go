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
	type row struct {
		key string
		id  int64
	}
	var rs []row
	for i, id := range ids {
		for _, k := range keys[i] {
			rs = append(rs, row{k, id})
		}
	}
	slices.SortFunc(rs, func(a, b row) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return cmp.Compare(a.id, b.id)
	})
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, s := range stmts {
			s.Close()
		}
	}()
	args := make([]any, 0, 2*keyRowsPerStatement)
	for start := 0; start < len(rs); start += keyRowsPerStatement {
		batch := rs[start:min(start+keyRowsPerStatement, len(rs))]
		args = args[:0]
		for _, r := range batch {
			args = append(args, r.key, r.id)
		}
		st, err := c.prepared(ctx, stmts, len(batch), func(n int) string {
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

// fileMatchKeys files the children with the given IDs under the keys of
// their records as they are now, for writers that do not have the old
// record at hand (the roster's upsert). Keys the old names or date had stay
// behind: they can only bring a child up as a candidate, where the scorer,
// which reads the current record, ranks it by what it is now;
// ReindexMatchKeys clears them.
func fileMatchKeys(ctx context.Context, c conn, ids []int64) error {
	const page = 500
	for start := 0; start < len(ids); start += page {
		part := ids[start:min(start+page, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := c.query(ctx, `SELECT `+childColumns+` FROM children c WHERE c.id IN (?`+strings.Repeat(`, ?`, len(part)-1)+`)`, args...)
		if err != nil {
			return fmt.Errorf("storage: file match keys: %w", err)
		}
		var got []int64
		var keys [][]string
		for rows.Next() {
			ch, err := scanChild(rows)
			if err != nil {
				rows.Close()
				return err
			}
			got, keys = append(got, ch.ID), append(keys, matchKeysFor(ch))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := insertMatchKeys(ctx, c, got, keys); err != nil {
			return err
		}
	}
	return nil
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
	const page = 5000
	var after int64
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

// MatchCandidate is a child that may be the one a query names, as the
// caller may see it, with its score, level and reasons.
type MatchCandidate struct {
	ChildRecord
	match.Result
}

const (
	// MatchLimit is the most candidates MatchChildren returns.
	MatchLimit = 10
	// matchBroadLimit bounds the children a broad key range (the names
	// without a date) brings: a name as common as Məmmədov Əli has
	// thousands of namesakes, and without a date none of them is likely.
	matchBroadLimit = 1000
)

// MatchChildren finds the children a may see who may be the child q names,
// best first, at most MatchLimit. Candidates come from the blocking keys
// (internal/match), are filtered by the access policy in the SQL, and are
// scored here; a query with a date whose exact keys find nothing strong
// looks further (the fallback ranges). The search is audited with the IDs
// it showed, never with the name searched for.
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
	keys := pq.Keys()
	err = db.inTx(ctx, func(c conn) error {
		cs = cs[:0]
		conds, cargs := filterBranches(f, c.now)
		if len(conds) > 0 {
			seen := map[int64]bool{}
			var found []MatchCandidate
			fetch := func(exact []string, ranges []match.Range, limit int) error {
				got, err := matchFetch(ctx, c, a.Principal, conds, cargs, exact, ranges, limit)
				if err != nil {
					return err
				}
				for _, r := range got {
					if !seen[r.ID] {
						seen[r.ID] = true
						found = append(found, MatchCandidate{ChildRecord: r})
					}
				}
				return nil
			}
			if err := fetch(keys.Exact, nil, 0); err != nil {
				return err
			}
			if err := fetch(nil, keys.Broad, matchBroadLimit); err != nil {
				return err
			}
			cs = rank(pq, found)
			if len(keys.Fallback) > 0 && (len(cs) == 0 || cs[0].Level == match.Possible) {
				if err := fetch(nil, keys.Fallback, 0); err != nil {
					return err
				}
				cs = rank(pq, found)
			}
		}
		ids := make([]int64, len(cs))
		for i, m := range cs {
			ids[i] = m.ID
		}
		e := a.Event("child.match", "child", 0)
		e.Details = idsJSON(ids)
		return appendAudit(ctx, c, e)
	})
	return cs, err
}

// rank scores the records and keeps the best MatchLimit.
func rank(q match.ParsedQuery, found []MatchCandidate) []MatchCandidate {
	ids := make([]int64, len(found))
	recs := make([]match.Record, len(found))
	byID := make(map[int64]ChildRecord, len(found))
	for i, f := range found {
		ids[i] = f.ID
		recs[i] = match.NewRecord(match.Person{LastName: f.LastName, FirstName: f.FirstName, Patronymic: f.Patronymic,
			BirthDate: f.BirthDate, School: f.School.Code})
		byID[f.ID] = f.ChildRecord
	}
	ranked := match.Rank(q, ids, recs, MatchLimit)
	out := make([]MatchCandidate, len(ranked))
	for i, r := range ranked {
		out[i] = MatchCandidate{ChildRecord: byID[r.ID], Result: r.Result}
	}
	return out
}

// matchFetch reads the children filed under the exact keys or within the
// key ranges (each range at most limit children when limit > 0) whom p may
// list. It takes two short queries rather than one join, so that both
// engines plan them the same way at any size: index seeks into the keys,
// then primary-key reads of the children, the policy's branches filtering.
func matchFetch(ctx context.Context, c conn, p access.Principal, conds []string, cargs [][]any,
	exact []string, ranges []match.Range, limit int) ([]ChildRecord, error) {
	operator := !p.Authenticated() // MatchChildrenAsOperator: the whole registry
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
		q := `SELECT child_id FROM child_match_keys WHERE key >= ? AND key < ?`
		if limit > 0 {
			q = `SELECT child_id FROM (` + q + ` ORDER BY key LIMIT ` + strconv.Itoa(limit) + `) r` + strconv.Itoa(i)
		}
		parts = append(parts, q)
		args = append(args, r.From, r.To)
	}
	if len(parts) == 0 {
		return nil, nil
	}
	rows, err := c.query(ctx, strings.Join(parts, ` UNION `), args...)
	if err != nil {
		return nil, fmt.Errorf("match keys: %w", err)
	}
	var ids []any
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("match keys: %w", err)
	}
	var rs []ChildRecord
	const perQuery = 500
	for start := 0; start < len(ids); start += perQuery {
		part := ids[start:min(start+perQuery, len(ids))]
		facts, fargs := factsColumns(p, c.now)
		q := `SELECT ` + childRecordColumns + facts + childFromWhere + `WHERE c.id IN (` +
			strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ") + `) AND c.merged_into IS NULL AND ((` + strings.Join(conds, `) OR (`) + `))`
		// The placeholders come in the text's order: the facts, the IDs, the filter.
		rows, err := c.query(ctx, q, append(append(append([]any{}, fargs...), part...), flatten(cargs)...)...)
		if err != nil {
			return nil, fmt.Errorf("match children: %w", err)
		}
		for rows.Next() {
			var og, ug, bg bool
			r, err := scanChildRecord(rows, &og, &ug, &bg)
			if err != nil {
				rows.Close()
				return nil, err
			}
			if operator {
				r.Decision = access.Decision{Allowed: true, View: access.ViewFull}
			} else {
				decide(p, access.List, &r, og, ug, bg)
			}
			if !r.Decision.Allowed {
				rows.Close()
				return nil, fmt.Errorf("policy and filter disagree on child %d", r.ID)
			}
			rs = append(rs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

func flatten(as [][]any) []any {
	var out []any
	for _, a := range as {
		out = append(out, a...)
	}
	return out
}
