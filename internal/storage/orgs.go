package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"dayaq/internal/apperr"
	"dayaq/internal/org"
)

// Districts returns Baku's districts ordered by code.
func (db *DB) Districts(ctx context.Context) (_ []org.DistrictInfo, err error) {
	defer apperr.Wrap(&err, "storage.Districts")
	rows, err := db.reader().query(ctx, `SELECT code, name_az, name_ru, name_en FROM districts ORDER BY code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ds []org.DistrictInfo
	for rows.Next() {
		var d org.DistrictInfo
		if err := rows.Scan(&d.Code, &d.NameAZ, &d.NameRU, &d.NameEN); err != nil {
			return nil, err
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// DistrictCodes returns the set of known district codes, for validation.
func (db *DB) DistrictCodes(ctx context.Context) (map[string]bool, error) {
	ds, err := db.Districts(ctx)
	if err != nil {
		return nil, err
	}
	m := make(map[string]bool, len(ds))
	for _, d := range ds {
		m[d.Code] = true
	}
	return m, nil
}

// ImportResult counts what an import did.
type ImportResult struct {
	Created, Updated, Unchanged int
}

// ImportOrgs creates or updates organisations by code in one transaction:
// either all of them are stored or none is. A row equal to the stored one
// is left untouched, so importing the same file twice changes nothing.
func (db *DB) ImportOrgs(ctx context.Context, orgs []org.Org) (res ImportResult, err error) {
	defer apperr.Wrap(&err, "storage.ImportOrgs(%d rows)", len(orgs))
	defer db.auth.clear() // an organisation's district is part of its users' principals
	err = db.inTx(ctx, func(c conn) error {
		res = ImportResult{}
		for _, o := range orgs {
			old, err := getOrgByCode(ctx, c, o.Code)
			switch {
			case apperr.CodeOf(err) == apperr.NotFound:
				if _, err := c.exec(ctx, `INSERT INTO orgs (code, type, name_az, name_ru, name_en, district_code, created_at, updated_at)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
					o.Code, o.Type, o.NameAZ, o.NameRU, o.NameEN, nullString(o.DistrictCode), c.now, c.now); err != nil {
					return fmt.Errorf("insert %s: %w", o.Code, err)
				}
				res.Created++
			case err != nil:
				return err
			default:
				o.ID = old.ID
				if o == old {
					res.Unchanged++
					continue
				}
				if _, err := c.exec(ctx, `UPDATE orgs SET type = ?, name_az = ?, name_ru = ?, name_en = ?, district_code = ?, updated_at = ?
					WHERE id = ?`, o.Type, o.NameAZ, o.NameRU, o.NameEN, nullString(o.DistrictCode), c.now, o.ID); err != nil {
					return fmt.Errorf("update %s: %w", o.Code, err)
				}
				res.Updated++
			}
		}
		return nil
	})
	return res, err
}

// OrgByCode returns the organisation with the given code.
func (db *DB) OrgByCode(ctx context.Context, code string) (org.Org, error) {
	return getOrgByCode(ctx, db.reader(), code)
}

const orgColumns = `id, code, type, name_az, name_ru, name_en, COALESCE(district_code, '')`

func scanOrg(s interface{ Scan(...any) error }) (org.Org, error) {
	var o org.Org
	err := s.Scan(&o.ID, &o.Code, &o.Type, &o.NameAZ, &o.NameRU, &o.NameEN, &o.DistrictCode)
	return o, err
}

func getOrgByCode(ctx context.Context, c conn, code string) (org.Org, error) {
	o, err := scanOrg(c.queryRow(ctx, `SELECT `+orgColumns+` FROM orgs WHERE code = ?`, code))
	if errors.Is(err, sql.ErrNoRows) {
		return org.Org{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return org.Org{}, fmt.Errorf("storage: org %q: %w", code, err)
	}
	return o, nil
}

// OrgFilter selects organisations. After is the code of the last
// organisation of the previous page (keyset pagination by code).
type OrgFilter struct {
	Type     org.Type
	District string
	After    string
	Limit    int
}

// Orgs lists organisations ordered by code.
func (db *DB) Orgs(ctx context.Context, f OrgFilter) (_ []org.Org, err error) {
	defer apperr.Wrap(&err, "storage.Orgs")
	q := `SELECT ` + orgColumns + ` FROM orgs WHERE code > ?`
	args := []any{f.After}
	if f.Type != "" {
		q += ` AND type = ?`
		args = append(args, f.Type)
	}
	if f.District != "" {
		q += ` AND district_code = ?`
		args = append(args, f.District)
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 500
	}
	q += ` ORDER BY code LIMIT ?`
	args = append(args, f.Limit)
	rows, err := db.reader().query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var orgs []org.Org
	for rows.Next() {
		o, err := scanOrg(rows)
		if err != nil {
			return nil, err
		}
		orgs = append(orgs, o)
	}
	return orgs, rows.Err()
}

// CountOrgs counts organisations by type.
func (db *DB) CountOrgs(ctx context.Context) (_ map[org.Type]int, err error) {
	defer apperr.Wrap(&err, "storage.CountOrgs")
	rows, err := db.reader().query(ctx, `SELECT type, COUNT(*) FROM orgs GROUP BY type`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	m := map[org.Type]int{}
	for rows.Next() {
		var t org.Type
		var n int
		if err := rows.Scan(&t, &n); err != nil {
			return nil, err
		}
		m[t] = n
	}
	return m, rows.Err()
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
