package storage

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"dayaq/internal/access"
	"dayaq/internal/match"
)

// MatchPlanOne on PostgreSQL (ADR 0041). Each statement is a round trip to
// the server, and each new statement text is one more (pgx prepares it on
// the connection first), so the plan reads
//
//   - in one statement, everything Search's steps but the fallback may
//     fetch (match.ParsedQuery.Ahead): the exact and shifted keys and the
//     named and broad ranges, each range up to the largest limit the step
//     may use, in key order; Search's fetches are then served from it, each
//     range cut to the limit the step asks for, so that the candidates are
//     those MatchPlanNear finds;
//   - with every candidate's record and the policy's facts about it, in
//     that statement, so that the ten shown need no read of their own;
//   - the keys and ranges as arrays, so that the statement's text is the
//     same for every query (one statement prepared on each connection);
//     each range's LIMIT bounds its estimate, so PostgreSQL keeps planning
//     it for the values given (a generic plan costs far more);
//   - the fallback, when Search takes it, as MatchPlanNear does: the keys
//     alone, then the admitted children (with their records).
//
// A query whose child is found costs one statement and the audit event's
// commit; one that takes the fallback, three and the commit.

// oneRecord is a candidate's record as the plan read it, with the facts
// the policy decides on.
type oneRecord struct {
	ChildRecord
	orgGrant, userGrant, breakGlass bool
}

// oneRow is one row of a read: the part it answers (0 the exact keys, i a
// range's position from 1) and the key it was found under.
type oneRow struct {
	part int
	key  string
	id   int64
}

// oneReader reads for MatchPlanOne, keeping every record it read.
type oneReader struct {
	c       conn
	conds   []string
	cargs   []any
	facts   string
	fargs   []any
	records map[int64]oneRecord
}

// filter is the policy's filter branches as one condition.
func (r *oneReader) filter() string {
	return `c.merged_into IS NULL AND ((` + strings.Join(r.conds, `) OR (`) + `))`
}

// scan reads the records of a query whose columns are the record's, its
// facts, then the part and the key, and returns the rows in order.
func (r *oneReader) scan(ctx context.Context, q string, args []any) ([]oneRow, error) {
	rows, err := r.c.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("match children: %w", err)
	}
	defer rows.Close()
	var out []oneRow
	for rows.Next() {
		var rec oneRecord
		var row oneRow
		rec.ChildRecord, err = scanChildRecord(rows, &rec.orgGrant, &rec.userGrant, &rec.breakGlass, &row.part, &row.key)
		if err != nil {
			return nil, err
		}
		row.id = rec.ID
		r.records[rec.ID] = rec
		out = append(out, row)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("match children: %w", err)
	}
	return out, nil
}

// keysAndRanges reads the children filed under the exact keys (part 0) and
// within the ranges (part i for ranges[i-1], at most limit each, limit
// counting only children the caller may list), in part, key and child
// order.
func (r *oneReader) keysAndRanges(ctx context.Context, exact []string, ranges []match.Range, limit int) ([]oneRow, error) {
	lo, hi := make([]string, len(ranges)), make([]string, len(ranges))
	for i, rg := range ranges {
		lo[i], hi[i] = rg.From, rg.To
	}
	f := r.filter()
	q := `SELECT ` + childRecordColumns + r.facts + `, m.part, m.key
		FROM (SELECT 0 AS part, k.key, k.child_id FROM child_match_keys k WHERE k.key = ANY(?::text[])
			UNION ALL
			SELECT r.i, x.key, x.child_id FROM unnest(?::text[], ?::text[]) WITH ORDINALITY AS r(lo, hi, i)
			CROSS JOIN LATERAL (SELECT k.key, k.child_id FROM child_match_keys k JOIN children c ON c.id = k.child_id
				LEFT JOIN orgs s ON s.id = c.school_id
				WHERE k.key >= r.lo COLLATE "C" AND k.key < r.hi COLLATE "C" AND ` + f + `
				ORDER BY k.key, k.child_id LIMIT ?) x) m
		JOIN children c ON c.id = m.child_id LEFT JOIN orgs s ON s.id = c.school_id
		WHERE ` + f + ` ORDER BY m.part, m.key, c.id`
	// The placeholders in the text's order: the facts, the keys, the
	// ranges, the filter, the limit, the filter.
	args := append([]any{}, r.fargs...)
	args = append(append(append(args, exact, lo, hi), r.cargs...), limit)
	return r.scan(ctx, q, append(args, r.cargs...))
}

// fallback reads the children within the fallback ranges that the ranges
// admit and that were not seen yet: the keys alone, then the records.
func (r *oneReader) fallback(ctx context.Context, ranges []match.Range, seen map[int64]bool) ([]oneRow, error) {
	ids, err := matchAdmitted(ctx, r.c, ranges, seen)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	q := `SELECT ` + childRecordColumns + r.facts + `, 0, ''` + childFromWhere + `WHERE c.id = ANY(?::bigint[]) AND ` + r.filter()
	return r.scan(ctx, q, append(append(append([]any{}, r.fargs...), ids), r.cargs...))
}

// matchOne is matchChildren's search under MatchPlanOne (PostgreSQL only):
// it returns the ranked candidates with their records, decided by the
// policy.
func (db *DB) matchOne(ctx context.Context, c conn, p access.Principal, conds []string, cargs [][]any,
	pq match.ParsedQuery) ([]MatchCandidate, error) {
	facts, fargs := factsColumns(p, c.now)
	r := &oneReader{c: c, conds: conds, cargs: flatten(cargs), facts: facts, fargs: fargs, records: map[int64]oneRecord{}}
	exact, ranges, most := pq.Ahead()
	ahead, err := r.keysAndRanges(ctx, exact, ranges, most)
	if err != nil {
		return nil, err
	}
	byKey := map[string][]int64{}
	byPart := make([][]int64, len(ranges)+1)
	for _, row := range ahead {
		if row.part == 0 {
			byKey[row.key] = append(byKey[row.key], row.id)
		} else if row.part <= len(ranges) {
			byPart[row.part] = append(byPart[row.part], row.id)
		}
	}
	seen := map[int64]bool{}
	var scored, ranked []match.Candidate
	add := func(id int64) {
		if seen[id] {
			return
		}
		seen[id] = true
		rec := r.records[id]
		res := match.Score(pq, match.NewRecord(match.Person{LastName: rec.LastName, FirstName: rec.FirstName,
			Patronymic: rec.Patronymic, BirthDate: rec.BirthDate, School: rec.School.Code}))
		if res.Score >= match.MinScore {
			scored = append(scored, match.Candidate{ID: id, Result: res})
		}
	}
	addRows := func(rows []oneRow) {
		for _, row := range rows {
			add(row.id)
		}
	}
	// fetch serves Search's fetches from what was read ahead when it
	// covers them, and reads the rest.
	fetch := func(keys []string, rs []match.Range, limit int) error {
		if served(keys, rs, limit, exact, ranges, most) {
			for _, k := range keys {
				for _, id := range byKey[k] {
					add(id)
				}
			}
			for _, rg := range rs {
				part := 1 + slices.Index(ranges, rg)
				ids := byPart[part]
				for _, id := range ids[:min(limit, len(ids))] {
					add(id)
				}
			}
			return nil
		}
		if limit == 0 && len(keys) == 0 {
			rows, err := r.fallback(ctx, rs, seen)
			addRows(rows)
			return err
		}
		rows, err := r.keysAndRanges(ctx, keys, rs, limit)
		if err != nil {
			return err
		}
		// Exact keys first, then each range in turn, as the steps read them.
		addRows(rows)
		return nil
	}
	best := func() match.Level {
		if ranked = match.Best(scored, MatchLimit); len(ranked) == 0 {
			return ""
		}
		return ranked[0].Level
	}
	if err := pq.Search(fetch, best); err != nil {
		return nil, err
	}
	best()
	operator := !p.Authenticated() // MatchChildrenAsOperator: the whole registry
	out := make([]MatchCandidate, 0, len(ranked))
	for _, m := range ranked {
		rec := r.records[m.ID]
		if operator {
			rec.Decision = access.Decision{Allowed: true, View: access.ViewFull}
		} else {
			decide(p, access.List, &rec.ChildRecord, rec.orgGrant, rec.userGrant, rec.breakGlass)
		}
		if !rec.Decision.Allowed {
			return nil, fmt.Errorf("policy and filter disagree on child %d", m.ID)
		}
		out = append(out, MatchCandidate{ChildRecord: rec.ChildRecord, Result: m.Result})
	}
	return out, nil
}

// served reports whether a fetch of keys and rs (at most limit each) is
// within what was read ahead: exact keys, ranges, up to most each.
func served(keys []string, rs []match.Range, limit int, exact []string, ranges []match.Range, most int) bool {
	if len(rs) > 0 && (limit <= 0 || limit > most) {
		return false
	}
	for _, k := range keys {
		if !slices.Contains(exact, k) {
			return false
		}
	}
	for _, rg := range rs {
		if !slices.Contains(ranges, rg) {
			return false
		}
	}
	return true
}
