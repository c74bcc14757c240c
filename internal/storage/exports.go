package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/stats"
)

// DeidentifiedRow is one case of an analyst's export: pseudonymous IDs,
// categories, months, and of the child only the birth month and sex. No
// name, no exact date, no free text.
type DeidentifiedRow struct {
	Case, Child      string // pseudonyms, keyed per export project
	Type, Severity   string
	Status, District string
	Created, Closed  string // YYYY-MM, Baku time; Closed "" when open
	BirthMonth, Sex  string // YYYY-MM
}

// DeidentifiedLimit is the most rows one de-identified export returns.
const DeidentifiedLimit = 50_000

// DeidentifiedCases returns the cases under q (the whole scope: analysts
// see no child one by one) de-identified for export project, creating the
// project's key on first use. Only analysts may; the export is audited
// with the project and the filter (filter: as the request gave it).
func (db *DB) DeidentifiedCases(ctx context.Context, a audit.Actor, project, filter string, q StatsQuery) (out []DeidentifiedRow, err error) {
	defer apperr.Wrap(&err, "storage.DeidentifiedCases")
	if !access.MayExportDeidentified(a.Principal) {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	if project == "" || len(project) > 64 {
		return nil, apperr.Validation(apperr.Field("project", "stats.error.project"))
	}
	q.Exact = false
	err = db.inTx(ctx, func(c conn) error {
		var hexKey string
		err := c.queryRow(ctx, `SELECT hash_key FROM export_projects WHERE name = ?`, project).Scan(&hexKey)
		if errors.Is(err, sql.ErrNoRows) {
			k := make([]byte, 32)
			if _, err := rand.Read(k); err != nil {
				return err
			}
			hexKey = hex.EncodeToString(k)
			if _, err := c.exec(ctx, `INSERT INTO export_projects (name, hash_key, created_by, created_at) VALUES (?, ?, ?, ?)`,
				project, hexKey, nullInt(a.UserID), c.now); err != nil {
				return fmt.Errorf("new export project: %w", err)
			}
		} else if err != nil {
			return err
		}
		key, err := hex.DecodeString(hexKey)
		if err != nil {
			return err
		}
		where, args, _ := caseScope(c, a.Principal, q)
		rows, err := c.query(ctx, `SELECT k.id, k.type_code, k.severity, k.status, COALESCE(k.district_code, ''), k.created_at, k.closed_at,
			COALESCE(ch.id, 0), COALESCE(CAST(ch.birth_date AS TEXT), ''), COALESCE(ch.sex, '')
			FROM cases k LEFT JOIN case_children cc ON cc.case_id = k.id LEFT JOIN children ch ON ch.id = cc.child_id
			WHERE `+where+` ORDER BY k.id LIMIT `+fmt.Sprint(DeidentifiedLimit), args...)
		if err != nil {
			return fmt.Errorf("de-identified cases: %w", err)
		}
		defer rows.Close()
		baku := time.FixedZone("Asia/Baku", 4*3600)
		for rows.Next() {
			var id, child int64
			var r DeidentifiedRow
			var created time.Time
			var closed sql.NullTime
			var birth string
			if err := rows.Scan(&id, &r.Type, &r.Severity, &r.Status, &r.District, &created, &closed, &child, &birth, &r.Sex); err != nil {
				return err
			}
			r.Case = stats.Pseudonym(key, "case", id)
			if child != 0 {
				r.Child = stats.Pseudonym(key, "child", child)
			}
			r.Created = created.In(baku).Format("2006-01")
			if closed.Valid {
				r.Closed = closed.Time.In(baku).Format("2006-01")
			}
			if len(birth) >= 7 {
				r.BirthMonth = birth[:7]
			}
			out = append(out, r)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		e := a.Event("export.deidentified", "case", 0)
		e.Details = fmt.Sprintf(`{"project":%q,"filter":%q,"rows":%d}`, project, filter, len(out))
		e.Reason = "de-identified export"
		return appendAudit(ctx, c, e)
	})
	return out, err
}
