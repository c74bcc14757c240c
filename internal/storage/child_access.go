package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/child"
	"dayaq/internal/org"
)

// ChildRecord is a child as one principal may see it: the record, where it
// sits, and how much of it the policy lets them see. Handlers show only
// what View allows.
type ChildRecord struct {
	child.Child
	School   org.Org
	Decision access.Decision
	CanWrite bool // the principal may also change it
}

// childFromWhere is the FROM clause every policy-filtered child query uses.
const childFromWhere = ` FROM children c LEFT JOIN orgs s ON s.id = c.school_id `

// childRecordColumns adds the school's columns to the child's.
const childRecordColumns = childColumns + `, COALESCE(s.id, 0), COALESCE(s.code, ''), COALESCE(s.type, ''),
	COALESCE(s.name_az, ''), COALESCE(s.name_ru, ''), COALESCE(s.name_en, ''), COALESCE(s.district_code, '')`

func scanChildRecord(sc interface{ Scan(...any) error }, extra ...any) (ChildRecord, error) {
	var r ChildRecord
	ch := &r.Child
	dest := []any{&ch.ID, &ch.StudentID, &ch.LastName, &ch.FirstName, &ch.Patronymic, &ch.Sex,
		date{&ch.BirthDate}, &ch.SchoolID, &ch.Grade, &ch.Section, &ch.Version, &ch.CreatedAt, &ch.UpdatedAt,
		&r.School.ID, &r.School.Code, &r.School.Type, &r.School.NameAZ, &r.School.NameRU, &r.School.NameEN,
		&r.School.DistrictCode}
	err := sc.Scan(append(dest, extra...)...)
	ch.CreatedAt, ch.UpdatedAt = ch.CreatedAt.UTC(), ch.UpdatedAt.UTC()
	return r, err
}

// liveGrant is the SQL condition of a grant that is in force at ?.
const liveGrant = `g.starts_at <= ? AND (g.ends_at IS NULL OR g.ends_at > ?)`

// filterBranches turns the policy's filter into SQL conditions on c and s,
// one per way of reaching a child; a child is visible when any holds.
func filterBranches(f access.ChildFilter, now time.Time) (conds []string, args [][]any) {
	add := func(cond string, a ...any) { conds = append(conds, cond); args = append(args, a) }
	if f.All {
		add(`1 = 1`)
		return conds, args
	}
	if f.District != "" {
		add(`s.district_code = ?`, f.District)
	}
	if f.SchoolID != 0 {
		if len(f.Classes) == 0 {
			add(`c.school_id = ?`, f.SchoolID)
		} else {
			var or []string
			a := []any{f.SchoolID}
			for _, cl := range f.Classes {
				if cl.Section == "" {
					or = append(or, `c.grade = ?`)
					a = append(a, cl.Grade)
				} else {
					or = append(or, `(c.grade = ? AND c.section = ?)`)
					a = append(a, cl.Grade, cl.Section)
				}
			}
			add(`c.school_id = ? AND (`+strings.Join(or, ` OR `)+`)`, a...)
		}
	}
	if f.GrantOrgID != 0 {
		add(`c.id IN (SELECT g.child_id FROM child_grants g WHERE g.org_id = ? AND `+liveGrant+`)`, f.GrantOrgID, now, now)
	}
	if f.GrantUserID != 0 {
		add(`c.id IN (SELECT g.child_id FROM child_grants g WHERE g.user_id = ? AND `+liveGrant+`)`, f.GrantUserID, now, now)
	}
	if f.BreakGlass != 0 {
		add(`c.id IN (SELECT b.child_id FROM break_glass b WHERE b.user_id = ? AND b.expires_at > ?)`, f.BreakGlass, now)
	}
	return conds, args
}

// factsColumns computes, for the principal p, the grant and break-glass
// facts of the child c, for access.Decide.
func factsColumns(p access.Principal, now time.Time) (string, []any) {
	return `,
	EXISTS (SELECT 1 FROM child_grants g WHERE g.child_id = c.id AND g.org_id = ? AND ` + liveGrant + `),
	EXISTS (SELECT 1 FROM child_grants g WHERE g.child_id = c.id AND g.user_id = ? AND ` + liveGrant + `),
	EXISTS (SELECT 1 FROM break_glass b WHERE b.child_id = c.id AND b.user_id = ? AND b.expires_at > ?)`,
		[]any{p.OrgID, now, now, p.UserID, now, now, p.UserID, now}
}

// decide applies the policy to a fetched record.
func decide(p access.Principal, a access.Action, r *ChildRecord, orgGrant, userGrant, breakGlass bool) {
	facts := access.ChildFacts{
		SchoolID: r.SchoolID, District: r.School.DistrictCode, Grade: r.Grade, Section: r.Section,
		OrgGrant: orgGrant, UserGrant: userGrant, BreakGlass: breakGlass, Unallocated: r.SchoolID == 0,
	}
	r.Decision = access.Decide(p, a, facts)
	r.CanWrite = access.Decide(p, access.Write, facts).Allowed
}

// loadChild reads one child for p under action a, filtered in SQL by the
// policy and decided by it. A child p may not see is NotFound, whether or
// not it exists; so is a record merged into another.
func loadChild(ctx context.Context, c conn, p access.Principal, a access.Action, id int64) (ChildRecord, error) {
	return loadChildRecord(ctx, c, p, a, id, false)
}

// loadChildRecord is loadChild, finding merged records too when
// withMerged is set (to undo a merge).
func loadChildRecord(ctx context.Context, c conn, p access.Principal, a access.Action, id int64, withMerged bool) (ChildRecord, error) {
	filterAction := a
	if a == access.Write {
		filterAction = access.Read
	}
	conds, cargs := filterBranches(access.Filter(p, filterAction), c.now)
	if len(conds) == 0 {
		return ChildRecord{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	facts, fargs := factsColumns(p, c.now)
	args := append([]any{}, fargs...)
	args = append(args, id)
	for _, a := range cargs {
		args = append(args, a...)
	}
	q := `SELECT ` + childRecordColumns + facts + childFromWhere + `WHERE c.id = ? AND ((` + strings.Join(conds, `) OR (`) + `))`
	if !withMerged {
		q += ` AND c.merged_into IS NULL`
	}
	var og, ug, bg bool
	r, err := scanChildRecord(c.queryRow(ctx, q, args...), &og, &ug, &bg)
	if errors.Is(err, sql.ErrNoRows) {
		return ChildRecord{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return ChildRecord{}, fmt.Errorf("load child %d: %w", id, err)
	}
	decide(p, filterAction, &r, og, ug, bg)
	if !r.Decision.Allowed {
		return ChildRecord{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if a == access.Write {
		read := r.Decision
		decide(p, access.Write, &r, og, ug, bg)
		if !r.Decision.Allowed {
			r.Decision = read
			return r, apperr.New(apperr.Forbidden, "child.error.no_write")
		}
	}
	return r, nil
}

// ChildFor returns the child with the given ID as a sees it, and records
// the read in the audit trail (marked when it is a break-glass read). A
// child outside a's reach is NotFound, and the attempt is audited too.
func (db *DB) ChildFor(ctx context.Context, a audit.Actor, id int64) (r ChildRecord, err error) {
	defer apperr.Wrap(&err, "storage.ChildFor(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		r, err = loadChild(ctx, c, a.Principal, access.Read, id)
		e := a.Event("child.read", "child", id)
		switch {
		case apperr.CodeOf(err) == apperr.NotFound:
			e.Action = "child.read_denied"
			if aerr := appendAudit(ctx, c, e); aerr != nil {
				return aerr
			}
			return errCommit{err}
		case err != nil:
			return err
		}
		e.ChildID = id
		if r.Decision.BreakGlass {
			e.BreakGlass = true
			e.Reason, err = breakGlassReason(ctx, c, a.UserID, id)
			if err != nil {
				return err
			}
		}
		return appendAudit(ctx, c, e)
	})
	var ec errCommit
	if errors.As(err, &ec) {
		return ChildRecord{}, ec.err
	}
	return r, err
}

// errCommit is an error to return to the caller after committing the
// transaction anyway: a denied read is refused, and its audit event kept.
type errCommit struct{ err error }

func (e errCommit) Error() string { return e.err.Error() }

// ChildQuery selects children within what the principal may list.
type ChildQuery struct {
	SchoolID int64 // only this school
	After    int64 // keyset cursor: the last ID of the previous page
	Limit    int   // 1..200, default 50
}

// ListChildren lists the children a may see, ordered by ID, a page at a
// time. Every way of reaching a child is its own indexed query; the union
// is filtered by the policy in SQL, not after the fact. The list is
// audited with the IDs it showed.
func (db *DB) ListChildren(ctx context.Context, a audit.Actor, q ChildQuery) (rs []ChildRecord, err error) {
	defer apperr.Wrap(&err, "storage.ListChildren")
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	err = db.inTx(ctx, func(c conn) error {
		conds, cargs := filterBranches(access.Filter(a.Principal, access.List), c.now)
		if len(conds) == 0 {
			rs = nil
			return nil
		}
		facts, fargs := factsColumns(a.Principal, c.now)
		var parts []string
		var args []any
		for i, cond := range conds {
			where := `(` + cond + `) AND c.id > ? AND c.merged_into IS NULL`
			bargs := append(append(append([]any{}, fargs...), cargs[i]...), q.After)
			if q.SchoolID != 0 {
				where += ` AND c.school_id = ?`
				bargs = append(bargs, q.SchoolID)
			}
			parts = append(parts, `SELECT * FROM (SELECT `+childRecordColumns+facts+childFromWhere+`WHERE `+where+
				` ORDER BY c.id LIMIT `+strconv.Itoa(q.Limit)+`) b`+strconv.Itoa(i))
			args = append(args, bargs...)
		}
		sqlq := strings.Join(parts, ` UNION `) + ` ORDER BY 1 LIMIT ` + strconv.Itoa(q.Limit)
		rows, err := c.query(ctx, sqlq, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		rs = rs[:0]
		ids := make([]int64, 0, q.Limit)
		for rows.Next() {
			var og, ug, bg bool
			r, err := scanChildRecord(rows, &og, &ug, &bg)
			if err != nil {
				return err
			}
			decide(a.Principal, access.List, &r, og, ug, bg)
			if !r.Decision.Allowed { // the SQL and the policy disagree: a bug; show nothing of it
				return fmt.Errorf("policy and filter disagree on child %d", r.ID)
			}
			rs = append(rs, r)
			ids = append(ids, r.ID)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		e := a.Event("child.list", "child", 0)
		e.Details = idsJSON(ids)
		return appendAudit(ctx, c, e)
	})
	return rs, err
}

func idsJSON(ids []int64) string {
	b, _ := json.Marshal(map[string]any{"ids": ids})
	return string(b)
}

// CreateChild adds a child to the registry at school, if a may write there.
func (db *DB) CreateChild(ctx context.Context, a audit.Actor, ch child.Child, schoolCode string) (r ChildRecord, err error) {
	defer apperr.Wrap(&err, "storage.CreateChild")
	err = db.inTx(ctx, func(c conn) error {
		school, err := getOrgByCode(ctx, c, schoolCode)
		if apperr.CodeOf(err) == apperr.NotFound || (err == nil && school.Type != org.School) {
			return apperr.Validation(apperr.Field("school_code", "child.error.school_unknown", schoolCode))
		}
		if err != nil {
			return err
		}
		d := access.Decide(a.Principal, access.Write, access.ChildFacts{SchoolID: school.ID, District: school.DistrictCode,
			Grade: ch.Grade, Section: ch.Section})
		if !d.Allowed {
			return apperr.Validation(apperr.Field("school_code", "child.error.school_not_yours", schoolCode))
		}
		var exists int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM children WHERE student_id = ?`, ch.StudentID).Scan(&exists); err != nil {
			return err
		}
		if exists > 0 {
			return apperr.Validation(apperr.Field("student_id", "child.error.student_id_taken"))
		}
		ch.SchoolID = school.ID
		_, hash := childRosterHash(nil, &ch)
		if err := c.queryRow(ctx, `INSERT INTO children
			(student_id, last_name, first_name, patronymic, sex, birth_date, school_id, grade, section, dup_key, roster_hash, version,
			created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
			ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, ch.Sex, ch.BirthDate.Format(dateLayout),
			ch.SchoolID, ch.Grade, ch.Section, child.DupKey(ch.LastName, ch.FirstName), hash, c.now, c.now).Scan(&ch.ID); err != nil {
			return err
		}
		ch.Version, ch.CreatedAt, ch.UpdatedAt = 1, c.now, c.now
		if err := insertMatchKeys(ctx, c, []int64{ch.ID}, [][]string{matchKeysFor(ch)}); err != nil {
			return err
		}
		r = ChildRecord{Child: ch, School: school, Decision: d, CanWrite: true}
		e := a.Event("child.create", "child", ch.ID)
		e.ChildID = ch.ID
		return appendAudit(ctx, c, e)
	})
	return r, err
}

// UpdateChild replaces a child's record with ch if a may write it and ch
// carries the version a read: a stale version is a Conflict and changes
// nothing. schoolCode moves the child to another school a may write in.
func (db *DB) UpdateChild(ctx context.Context, a audit.Actor, ch child.Child, schoolCode string) (r ChildRecord, err error) {
	defer apperr.Wrap(&err, "storage.UpdateChild(%d)", ch.ID)
	err = db.inTx(ctx, func(c conn) error {
		cur, err := loadChild(ctx, c, a.Principal, access.Write, ch.ID)
		if code := apperr.CodeOf(err); code == apperr.NotFound || code == apperr.Forbidden {
			// Refused: out of reach (404) or readable only (403). The
			// attempt is audited, like a refused read.
			if aerr := appendAudit(ctx, c, a.Event("child.write_denied", "child", ch.ID)); aerr != nil {
				return aerr
			}
			return errCommit{err}
		}
		if err != nil {
			return err
		}
		if cur.Version != ch.Version {
			return apperr.New(apperr.Conflict, "error.stale", cur.Version)
		}
		school := cur.School
		if schoolCode != "" && schoolCode != cur.School.Code {
			if school, err = getOrgByCode(ctx, c, schoolCode); err != nil || school.Type != org.School {
				return apperr.Validation(apperr.Field("school_code", "child.error.school_unknown", schoolCode))
			}
			d := access.Decide(a.Principal, access.Write, access.ChildFacts{SchoolID: school.ID, District: school.DistrictCode,
				Grade: ch.Grade, Section: ch.Section})
			if !d.Allowed {
				return apperr.Validation(apperr.Field("school_code", "child.error.school_not_yours", schoolCode))
			}
		}
		if ch.StudentID != cur.StudentID {
			var n int
			if err := c.queryRow(ctx, `SELECT COUNT(*) FROM children WHERE student_id = ? AND id <> ?`, ch.StudentID, ch.ID).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				return apperr.Validation(apperr.Field("student_id", "child.error.student_id_taken"))
			}
		}
		written := ch
		written.SchoolID = school.ID
		_, hash := childRosterHash(nil, &written)
		res, err := c.exec(ctx, `UPDATE children SET student_id = ?, last_name = ?, first_name = ?, patronymic = ?, sex = ?,
			birth_date = ?, school_id = ?, grade = ?, section = ?, dup_key = ?, roster_hash = ?, version = version + 1, updated_at = ?
			WHERE id = ? AND version = ?`,
			ch.StudentID, ch.LastName, ch.FirstName, ch.Patronymic, ch.Sex, ch.BirthDate.Format(dateLayout),
			school.ID, ch.Grade, ch.Section, child.DupKey(ch.LastName, ch.FirstName), hash, c.now, ch.ID, ch.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "error.stale", cur.Version)
		}
		if err := replaceMatchKeys(ctx, c, ch.ID, cur.Child, ch); err != nil {
			return err
		}
		e := a.Event("child.update", "child", ch.ID)
		e.ChildID = ch.ID
		e.Details = changedFields(cur.Child, ch, cur.School.Code != school.Code)
		ch.SchoolID, ch.Version, ch.CreatedAt, ch.UpdatedAt = school.ID, ch.Version+1, cur.CreatedAt, c.now
		r = ChildRecord{Child: ch, School: school, Decision: cur.Decision, CanWrite: true}
		return appendAudit(ctx, c, e)
	})
	var ec errCommit
	if errors.As(err, &ec) {
		return ChildRecord{}, ec.err
	}
	return r, err
}

// changedFields names (never shows) the fields an update changed.
func changedFields(old, new child.Child, schoolChanged bool) string {
	var f []string
	for _, x := range []struct {
		name string
		diff bool
	}{
		{"student_id", old.StudentID != new.StudentID}, {"last_name", old.LastName != new.LastName},
		{"first_name", old.FirstName != new.FirstName}, {"patronymic", old.Patronymic != new.Patronymic},
		{"sex", old.Sex != new.Sex}, {"birth_date", !old.BirthDate.Equal(new.BirthDate)},
		{"grade", old.Grade != new.Grade}, {"section", old.Section != new.Section}, {"school", schoolChanged},
	} {
		if x.diff {
			f = append(f, x.name)
		}
	}
	b, _ := json.Marshal(map[string]any{"changed": f})
	return string(b)
}

// grantChildAccess gives an organisation (a referral) or a user (an
// assignment) access to a child from now until ends (zero: until revoked),
// audited as a permission change. No surface grants access by itself —
// referrals grant it inside their own transaction (grantChildAccessTx) —
// so it is unexported; tests reach it through export_test.go.
func (db *DB) grantChildAccess(ctx context.Context, a audit.Actor, childID, orgID, userID int64, kind, source string, ends time.Time) (id int64, err error) {
	defer apperr.Wrap(&err, "storage.grantChildAccess(%d)", childID)
	err = db.inTx(ctx, func(c conn) error {
		var e audit.Event
		if id, e, err = grantChildAccessTx(ctx, c, a, childID, orgID, userID, kind, source, ends); err != nil {
			return err
		}
		return appendAudit(ctx, c, e)
	})
	return id, err
}

// grantChildAccessTx is GrantChildAccess inside the transaction c, for
// changes (a referral sent) that grant access as part of themselves. It
// returns the audit event for the caller to append last.
func grantChildAccessTx(ctx context.Context, c conn, a audit.Actor, childID, orgID, userID int64, kind, source string, ends time.Time) (id int64, e audit.Event, err error) {
	var endsAt sql.NullTime
	if !ends.IsZero() {
		endsAt = sql.NullTime{Time: ends.UTC(), Valid: true}
	}
	if err := c.queryRow(ctx, `INSERT INTO child_grants (child_id, org_id, user_id, kind, source, starts_at, ends_at, created_by, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, childID, nullInt(orgID), nullInt(userID), kind, source,
		c.now, endsAt, nullInt(a.UserID), c.now).Scan(&id); err != nil {
		return 0, e, err
	}
	e = a.Event("access.grant", "child_grant", id)
	e.ChildID = childID
	e.Details = fmt.Sprintf(`{"kind":%q,"org_id":%d,"user_id":%d}`, kind, orgID, userID)
	return id, e, nil
}

// EndChildAccess ends a grant now: the access ends with the referral.
func (db *DB) EndChildAccess(ctx context.Context, a audit.Actor, grantID int64) (err error) {
	defer apperr.Wrap(&err, "storage.EndChildAccess(%d)", grantID)
	return db.inTx(ctx, func(c conn) error {
		e, err := endChildAccessTx(ctx, c, a, grantID)
		if err != nil {
			return err
		}
		return appendAudit(ctx, c, e)
	})
}

// endChildAccessTx is EndChildAccess inside the transaction c; it returns
// the audit event for the caller to append last.
func endChildAccessTx(ctx context.Context, c conn, a audit.Actor, grantID int64) (e audit.Event, err error) {
	var childID int64
	err = c.queryRow(ctx, `UPDATE child_grants SET ends_at = ? WHERE id = ? AND (ends_at IS NULL OR ends_at > ?) RETURNING child_id`,
		c.now, grantID, c.now).Scan(&childID)
	if errors.Is(err, sql.ErrNoRows) {
		return e, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return e, err
	}
	e = a.Event("access.end", "child_grant", grantID)
	e.ChildID = childID
	return e, nil
}

func nullInt(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != 0} }
