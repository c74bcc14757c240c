package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/calendar"
	"dayaq/internal/casework"
	"dayaq/internal/org"
)

// WithCaseDeadlines sets the spans case deadlines are computed with
// (default casework.DefaultDeadlines).
func WithCaseDeadlines(d casework.Deadlines) Option { return func(db *DB) { db.cases = d } }

// CaseDeadlines returns the spans case deadlines are computed with.
func (db *DB) CaseDeadlines() casework.Deadlines { return db.cases }

// CaseRecord is a case as one principal may see it: the case, its
// children (each with the policy's decision for this principal: a child
// they may not see is there by ID only), the names of its lead body, owner
// and school, and what the principal may do with it.
type CaseRecord struct {
	casework.Case
	Children    []ChildRecord
	LeadOrg     org.Org
	OwnerName   string
	CreatorName string
	School      org.Org
	Places      []access.Place // the case's school and its children's, for the policy
	Decision    access.Decision
	Relation    casework.Relation
	CanWrite    bool              // may take part: notes, tasks, attachments
	Transitions []casework.Status // the moves this principal may make now
}

// closedOffset and severityStep build queue_key: open cases before closed
// ones, then by severity, then oldest first (microseconds since 1970 stay
// below 10^16 until the year 2286).
const (
	closedOffset = int64(1e17)
	severityStep = int64(1e16)
)

// queueKey is the case's place in every queue.
func queueKey(c casework.Case) int64 {
	k := int64(c.Severity.Rank())*severityStep + c.CreatedAt.UnixMicro()
	if c.Status == casework.Closed {
		k += closedOffset
	}
	return k
}

func nullTime(t time.Time) sql.NullTime {
	return sql.NullTime{Time: t.UTC(), Valid: !t.IsZero()}
}

// caseColumns are a case's columns with its lead body, owner, creator and
// school, for queries over cases k.
const caseColumns = `k.id, k.type_code, k.taxonomy_version, k.severity, k.status, k.title, k.summary, k.source,
	COALESCE(k.lead_org_id, 0), COALESCE(k.owner_id, 0), COALESCE(k.school_id, 0), COALESCE(k.district_code, ''),
	COALESCE(k.created_by, 0), COALESCE(k.created_org_id, 0), k.detected_at, k.report_due, k.respond_due,
	k.resolve_due, k.review_at, k.closure_reason, k.closure_outcome, k.closed_at, k.version, k.created_at, k.updated_at,
	COALESCE(lo.code, ''), COALESCE(lo.type, ''), COALESCE(lo.name_az, ''), COALESCE(lo.name_ru, ''), COALESCE(lo.name_en, ''),
	COALESCE(ow.name, ''), COALESCE(cr.name, ''),
	COALESCE(sc.code, ''), COALESCE(sc.name_az, ''), COALESCE(sc.name_ru, ''), COALESCE(sc.name_en, '')`

const caseFrom = ` FROM cases k LEFT JOIN orgs lo ON lo.id = k.lead_org_id LEFT JOIN users ow ON ow.id = k.owner_id
	LEFT JOIN users cr ON cr.id = k.created_by LEFT JOIN orgs sc ON sc.id = k.school_id `

func scanCase(s interface{ Scan(...any) error }) (CaseRecord, error) {
	var r CaseRecord
	k := &r.Case
	var reportDue, respondDue, resolveDue, reviewAt, closedAt sql.NullTime
	err := s.Scan(&k.ID, &k.Type, &k.TaxonomyVersion, &k.Severity, &k.Status, &k.Title, &k.Summary, &k.Source,
		&k.LeadOrgID, &k.OwnerID, &k.SchoolID, &k.District, &k.CreatedBy, &k.CreatedOrgID, &k.DetectedAt,
		&reportDue, &respondDue, &resolveDue, &reviewAt, &k.ClosureReason, &k.ClosureOutcome, &closedAt,
		&k.Version, &k.CreatedAt, &k.UpdatedAt,
		&r.LeadOrg.Code, &r.LeadOrg.Type, &r.LeadOrg.NameAZ, &r.LeadOrg.NameRU, &r.LeadOrg.NameEN,
		&r.OwnerName, &r.CreatorName, &r.School.Code, &r.School.NameAZ, &r.School.NameRU, &r.School.NameEN)
	if err != nil {
		return r, err
	}
	r.LeadOrg.ID, r.School.ID, r.School.DistrictCode = k.LeadOrgID, k.SchoolID, k.District
	k.DetectedAt, k.CreatedAt, k.UpdatedAt = k.DetectedAt.UTC(), k.CreatedAt.UTC(), k.UpdatedAt.UTC()
	for _, x := range []struct {
		dst *time.Time
		src sql.NullTime
	}{{&k.ReportDue, reportDue}, {&k.RespondDue, respondDue}, {&k.ResolveDue, resolveDue}, {&k.ReviewAt, reviewAt}, {&k.ClosedAt, closedAt}} {
		if x.src.Valid {
			*x.dst = x.src.Time.UTC()
		}
	}
	return r, nil
}

// casePlaces loads the places of the cases ids.
func casePlaces(ctx context.Context, c conn, ids []int64) (map[int64][]access.Place, error) {
	places := map[int64][]access.Place{}
	if len(ids) == 0 {
		return places, nil
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = "?", id
	}
	rows, err := c.query(ctx, `SELECT case_id, school_id, COALESCE(district_code, '') FROM case_places
		WHERE case_id IN (`+strings.Join(ph, ", ")+`) ORDER BY case_id, school_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("case places: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var pl access.Place
		if err := rows.Scan(&id, &pl.SchoolID, &pl.District); err != nil {
			return nil, err
		}
		places[id] = append(places[id], pl)
	}
	return places, rows.Err()
}

// addPlaces records the places of case k: its school and its children's.
func addPlaces(ctx context.Context, c conn, k casework.Case, children []ChildRecord) error {
	seen := map[int64]bool{}
	add := func(school int64, district string) error {
		if school == 0 || seen[school] {
			return nil
		}
		seen[school] = true
		_, err := c.exec(ctx, `INSERT INTO case_places (case_id, school_id, district_code, queue_key, status, due_at) VALUES (?, ?, ?, ?, ?, ?)`,
			k.ID, school, nullString(district), queueKey(k), k.Status, nullTime(k.Due()))
		return err
	}
	if err := add(k.SchoolID, k.District); err != nil {
		return fmt.Errorf("case place: %w", err)
	}
	for _, ch := range children {
		if err := add(ch.SchoolID, ch.School.DistrictCode); err != nil {
			return fmt.Errorf("case place: %w", err)
		}
	}
	return nil
}

// caseChildren loads the children of the cases ids with the grant and
// break-glass facts for p, decided by the policy for p.
func caseChildren(ctx context.Context, c conn, p access.Principal, ids []int64) (map[int64][]ChildRecord, map[int64][]access.ChildFacts, error) {
	recs := map[int64][]ChildRecord{}
	facts := map[int64][]access.ChildFacts{}
	if len(ids) == 0 {
		return recs, facts, nil
	}
	fcols, fargs := factsColumns(p, c.now)
	args := append([]any{}, fargs...)
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = "?"
		args = append(args, id)
	}
	rows, err := c.query(ctx, `SELECT `+childRecordColumns+fcols+`, cc.case_id FROM case_children cc
		JOIN children c ON c.id = cc.child_id LEFT JOIN orgs s ON s.id = c.school_id
		WHERE cc.case_id IN (`+strings.Join(ph, ", ")+`) ORDER BY cc.case_id, c.id`, args...)
	if err != nil {
		return nil, nil, fmt.Errorf("case children: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var og, ug, bg bool
		var caseID int64
		r, err := scanChildRecord(rows, &og, &ug, &bg, &caseID)
		if err != nil {
			return nil, nil, err
		}
		f := access.ChildFacts{SchoolID: r.SchoolID, District: r.School.DistrictCode, Grade: r.Grade, Section: r.Section,
			OrgGrant: og, UserGrant: ug, BreakGlass: bg, Unallocated: r.SchoolID == 0}
		decide(p, access.Read, &r, og, ug, bg)
		if !r.Decision.Allowed { // there by ID only
			id := r.ID
			r = ChildRecord{Decision: r.Decision}
			r.ID = id
		}
		facts[caseID] = append(facts[caseID], f)
		recs[caseID] = append(recs[caseID], r)
	}
	return recs, facts, rows.Err()
}

// caseFacts is what the policy needs about r.
func caseFacts(r CaseRecord, children []access.ChildFacts) access.CaseFacts {
	return access.CaseFacts{Places: r.Places, LeadOrgID: r.LeadOrgID, OwnerID: r.OwnerID,
		CreatedBy: r.CreatedBy, Children: children}
}

// finishCase decides r for p (action a) and fills in what p may do.
func (db *DB) finishCase(p access.Principal, a access.Action, r *CaseRecord, children []ChildRecord, facts []access.ChildFacts, places []access.Place) {
	r.Children, r.Places = children, places
	f := caseFacts(*r, facts)
	r.Decision = access.DecideCase(p, a, f)
	r.CanWrite = access.DecideCase(p, access.Write, f).Allowed
	r.Relation = casework.RelationOf(p, r.Case)
	if r.CanWrite {
		r.Transitions = casework.Transitions(r.Case, r.Relation)
	}
}

// loadCase reads case id for p: NotFound unless the policy lets p read it;
// for a = Write, Forbidden when p may read it but not take part.
func (db *DB) loadCase(ctx context.Context, c conn, p access.Principal, a access.Action, id int64, lock bool) (CaseRecord, error) {
	q := `SELECT ` + caseColumns + caseFrom + `WHERE k.id = ?`
	if lock && c.engine == Postgres {
		q += ` FOR UPDATE OF k`
	}
	r, err := scanCase(c.queryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return CaseRecord{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return CaseRecord{}, fmt.Errorf("load case %d: %w", id, err)
	}
	kids, facts, err := caseChildren(ctx, c, p, []int64{id})
	if err != nil {
		return CaseRecord{}, err
	}
	places, err := casePlaces(ctx, c, []int64{id})
	if err != nil {
		return CaseRecord{}, err
	}
	db.finishCase(p, access.Read, &r, kids[id], facts[id], places[id])
	if !r.Decision.Allowed {
		return CaseRecord{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if a == access.Write && !r.CanWrite {
		return r, apperr.New(apperr.Forbidden, "case.error.no_write")
	}
	return r, nil
}

// firstChild is the child an audit event about a case names.
func firstChild(r CaseRecord) int64 {
	if len(r.Children) > 0 {
		return r.Children[0].ID
	}
	return 0
}

// caseAudit appends the audit event e about case r, naming its children's
// IDs (never their names).
func caseAudit(ctx context.Context, c conn, e audit.Event, r CaseRecord, extra map[string]any) error {
	ids := make([]int64, 0, len(r.Children))
	for _, ch := range r.Children {
		ids = append(ids, ch.ID)
	}
	e.ChildID = firstChild(r)
	d := map[string]any{"children": ids}
	for k, v := range extra {
		d[k] = v
	}
	e.Details = detailsJSON(d)
	return appendAudit(ctx, c, e)
}

// Case event kinds: the chronology's entries.
const (
	EventCreated       = "created"
	EventTransition    = "transition"
	EventUpdated       = "updated"
	EventNote          = "note"
	EventTask          = "task"
	EventTaskStatus    = "task_status"
	EventAttachment    = "attachment"
	EventContactLinked = "contact_linked"
)

// addCaseEvent appends an entry to case caseID's chronology; payload is
// IDs, codes and statuses, never a child's name.
func addCaseEvent(ctx context.Context, c conn, a audit.Actor, caseID int64, kind string, payload map[string]any) (int64, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return 0, err
	}
	var id int64
	err = c.queryRow(ctx, `INSERT INTO case_events (case_id, at, actor_user_id, actor_org_id, kind, payload)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, caseID, c.now, nullInt(a.UserID), nullInt(a.OrgID), kind, string(b)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("case event %s: %w", kind, err)
	}
	return id, nil
}

// sourceFor is how a case p opens came in: from their kind of body.
func sourceFor(p access.Principal) casework.Source {
	switch p.OrgType {
	case org.School:
		return casework.FromSchool
	case org.Hotline:
		return casework.FromHotline
	case org.CityDepartment, org.District:
		return casework.FromCity
	}
	return casework.FromAgency
}

// CreateCase opens a case as a (see createCaseTx) in a transaction of its own.
func (db *DB) CreateCase(ctx context.Context, a audit.Actor, n casework.NewCase) (r CaseRecord, err error) {
	defer apperr.Wrap(&err, "storage.CreateCase")
	err = db.inTx(ctx, func(c conn) error {
		r, err = db.createCaseTx(ctx, c, a, n)
		return err
	})
	return r, err
}

// createCaseTx opens a case inside the caller's transaction c: the hotline
// calls it while it saves the contact that opens the case, so both commit
// or neither does. The source comes from a's body; the case's place is its
// first child's school (else n.SchoolID, else a's own school). a must be
// able to read every child (the hotline, which found the child by matching,
// may link a child it cannot read), and must see child data at all. It
// writes the case, its children, the "created" entry of the chronology and
// the audit event, and links n.ContactID when set.
func (db *DB) createCaseTx(ctx context.Context, c conn, a audit.Actor, n casework.NewCase) (CaseRecord, error) {
	p := a.Principal
	if !access.DecideCase(p, access.Write, access.CaseFacts{CreatedBy: p.UserID}).Allowed {
		return CaseRecord{}, apperr.New(apperr.Forbidden, "case.error.no_create")
	}
	n.Source = sourceFor(p)
	n.Normalize()
	if err := n.Validate(c.now); err != nil {
		return CaseRecord{}, err
	}
	hotline := access.ReportsAboutUnseenChildren(p)
	// The children: they exist, and a may see each (unless a is the hotline).
	var fs []apperr.FieldError
	schoolID := n.SchoolID
	var kids map[int64]ChildRecord
	if len(n.ChildIDs) > 0 {
		var facts map[int64]access.ChildFacts
		var err error
		kids, facts, err = loadChildrenFacts(ctx, c, p, n.ChildIDs)
		if err != nil {
			return CaseRecord{}, err
		}
		var childSchool int64
		for _, id := range n.ChildIDs {
			f, ok := facts[id]
			if !ok || (!hotline && !access.Decide(p, access.Read, f).Allowed) {
				fs = append(fs, apperr.Field("child_ids", "case.error.child_unknown", id))
				continue
			}
			if childSchool == 0 {
				childSchool = kids[id].SchoolID
			}
		}
		if childSchool != 0 {
			schoolID = childSchool
		}
	}
	if schoolID == 0 && p.OrgType == org.School {
		schoolID = p.OrgID
	}
	var district sql.NullString
	if schoolID != 0 {
		var d sql.NullString
		var typ org.Type
		err := c.queryRow(ctx, `SELECT type, district_code FROM orgs WHERE id = ?`, schoolID).Scan(&typ, &d)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && typ != org.School) {
			fs = append(fs, apperr.Field("school", "case.error.school_unknown"))
		} else if err != nil {
			return CaseRecord{}, err
		}
		district = d
	}
	if n.LeadOrgID != 0 || n.OwnerID != 0 {
		if err := checkAssignment(ctx, c, n.LeadOrgID, n.OwnerID, &fs); err != nil {
			return CaseRecord{}, err
		}
	}
	if len(fs) > 0 {
		return CaseRecord{}, apperr.Validation(fs...)
	}
	dl, cal, err := db.deadlinesNow(ctx)
	if err != nil {
		return CaseRecord{}, err
	}
	k := casework.Open(n, dl, c.now)
	if err := cal.Err(); err != nil {
		return CaseRecord{}, err
	}
	k.SchoolID, k.District, k.CreatedBy, k.CreatedOrgID = schoolID, district.String, p.UserID, p.OrgID
	err = c.queryRow(ctx, `INSERT INTO cases (type_code, taxonomy_version, severity, status, title, summary, source,
		lead_org_id, owner_id, school_id, district_code, created_by, created_org_id, detected_at, report_due, respond_due,
		resolve_due, review_at, due_at, queue_key, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`,
		k.Type, k.TaxonomyVersion, k.Severity, k.Status, k.Title, k.Summary, k.Source, nullInt(k.LeadOrgID), nullInt(k.OwnerID),
		nullInt(k.SchoolID), nullString(k.District), nullInt(k.CreatedBy), nullInt(k.CreatedOrgID), k.DetectedAt,
		nullTime(k.ReportDue), nullTime(k.RespondDue), nullTime(k.ResolveDue), nullTime(k.ReviewAt), nullTime(k.Due()),
		queueKey(k), k.CreatedAt, k.UpdatedAt).Scan(&k.ID)
	if err != nil {
		return CaseRecord{}, fmt.Errorf("insert case: %w", err)
	}
	var linked []ChildRecord
	for _, cid := range n.ChildIDs {
		if _, err := c.exec(ctx, `INSERT INTO case_children (case_id, child_id) VALUES (?, ?)`, k.ID, cid); err != nil {
			return CaseRecord{}, fmt.Errorf("case child: %w", err)
		}
		linked = append(linked, kids[cid])
	}
	if err := addPlaces(ctx, c, k, linked); err != nil {
		return CaseRecord{}, err
	}
	if _, err := addCaseEvent(ctx, c, a, k.ID, EventCreated, map[string]any{"type": k.Type, "severity": k.Severity,
		"source": k.Source, "children": len(n.ChildIDs)}); err != nil {
		return CaseRecord{}, err
	}
	r, err := db.loadCase(ctx, c, p, access.Read, k.ID, false)
	if err != nil {
		return CaseRecord{}, err
	}
	if n.ContactID != 0 {
		if err := linkContactTx(ctx, c, a, k.ID, n.ContactID); err != nil {
			return CaseRecord{}, err
		}
	}
	return r, caseAudit(ctx, c, a.Event("case.create", "case", r.ID), r, map[string]any{"severity": k.Severity, "type": k.Type})
}

// loadChildrenFacts loads the children ids as records with p's facts.
func loadChildrenFacts(ctx context.Context, c conn, p access.Principal, ids []int64) (map[int64]ChildRecord, map[int64]access.ChildFacts, error) {
	fcols, fargs := factsColumns(p, c.now)
	args := append([]any{}, fargs...)
	ph := make([]string, len(ids))
	for i, id := range ids {
		ph[i] = "?"
		args = append(args, id)
	}
	rows, err := c.query(ctx, `SELECT `+childRecordColumns+fcols+childFromWhere+`WHERE c.id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	recs, facts := map[int64]ChildRecord{}, map[int64]access.ChildFacts{}
	for rows.Next() {
		var og, ug, bg bool
		r, err := scanChildRecord(rows, &og, &ug, &bg)
		if err != nil {
			return nil, nil, err
		}
		recs[r.ID] = r
		facts[r.ID] = access.ChildFacts{SchoolID: r.SchoolID, District: r.School.DistrictCode, Grade: r.Grade,
			Section: r.Section, OrgGrant: og, UserGrant: ug, BreakGlass: bg, Unallocated: r.SchoolID == 0}
	}
	return recs, facts, rows.Err()
}

// checkAssignment checks that the lead body exists and the owner works in
// it, adding field errors to fs.
func checkAssignment(ctx context.Context, c conn, leadOrgID, ownerID int64, fs *[]apperr.FieldError) error {
	if leadOrgID != 0 {
		var n int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM orgs WHERE id = ?`, leadOrgID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			*fs = append(*fs, apperr.Field("lead_org", "case.error.org_unknown"))
		}
	}
	if ownerID != 0 {
		orgID, err := userOrg(ctx, c, ownerID)
		if err != nil {
			return err
		}
		switch {
		case orgID == 0:
			*fs = append(*fs, apperr.Field("owner", "case.error.owner_unknown"))
		case orgID != leadOrgID:
			*fs = append(*fs, apperr.Field("owner", "case.error.owner_not_in_lead"))
		}
	}
	return nil
}

// userOrg is the organisation of an enabled user, 0 if there is none.
func userOrg(ctx context.Context, c conn, userID int64) (int64, error) {
	var orgID int64
	err := c.queryRow(ctx, `SELECT org_id FROM users WHERE id = ? AND disabled = ?`, userID, false).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return orgID, err
}

// linkContactTx links the hotline contact contactID to case caseID inside
// the caller's transaction: the chronology records it and the audit trail
// too. Linking the same contact twice changes nothing.
func linkContactTx(ctx context.Context, c conn, a audit.Actor, caseID, contactID int64) error {
	res, err := c.exec(ctx, `INSERT INTO case_contacts (case_id, contact_id, linked_by, linked_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (case_id, contact_id) DO NOTHING`, caseID, contactID, nullInt(a.UserID), c.now)
	if err != nil {
		return fmt.Errorf("link contact: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	if _, err := addCaseEvent(ctx, c, a, caseID, EventContactLinked, map[string]any{"contact_id": contactID}); err != nil {
		return err
	}
	if _, err := c.exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, c.now, caseID); err != nil {
		return err
	}
	e := a.Event("case.contact_link", "case", caseID)
	e.Details = detailsJSON(map[string]any{"contact_id": contactID})
	return appendAudit(ctx, c, e)
}

// LinkContact links a hotline contact to a case a may take part in.
func (db *DB) LinkContact(ctx context.Context, a audit.Actor, caseID, contactID int64) (err error) {
	defer apperr.Wrap(&err, "storage.LinkContact(%d)", caseID)
	return db.inTx(ctx, func(c conn) error {
		if _, err := db.loadCase(ctx, c, a.Principal, access.Write, caseID, true); err != nil {
			return err
		}
		return linkContactTx(ctx, c, a, caseID, contactID)
	})
}

// saveCase writes k over the stored case if its version is still
// expected, bumping the version: a stale one is a Conflict.
func saveCase(ctx context.Context, c conn, k casework.Case, expected int) error {
	res, err := c.exec(ctx, `UPDATE cases SET type_code = ?, taxonomy_version = ?, severity = ?, status = ?, title = ?,
		summary = ?, lead_org_id = ?, owner_id = ?, report_due = ?, respond_due = ?, resolve_due = ?, review_at = ?,
		due_at = ?, queue_key = ?, closure_reason = ?, closure_outcome = ?, closed_at = ?, version = version + 1,
		updated_at = ? WHERE id = ? AND version = ?`,
		k.Type, k.TaxonomyVersion, k.Severity, k.Status, k.Title, k.Summary, nullInt(k.LeadOrgID), nullInt(k.OwnerID),
		nullTime(k.ReportDue), nullTime(k.RespondDue), nullTime(k.ResolveDue), nullTime(k.ReviewAt), nullTime(k.Due()),
		queueKey(k), k.ClosureReason, string(k.ClosureOutcome), nullTime(k.ClosedAt), c.now, k.ID, expected)
	if err != nil {
		return fmt.Errorf("save case %d: %w", k.ID, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return apperr.New(apperr.Conflict, "error.stale", expected)
	}
	// The places keep the case's queue key, status and deadline (migration 00027).
	if _, err := c.exec(ctx, `UPDATE case_places SET queue_key = ?, status = ?, due_at = ? WHERE case_id = ?`,
		queueKey(k), k.Status, nullTime(k.Due()), k.ID); err != nil {
		return fmt.Errorf("save case %d places: %w", k.ID, err)
	}
	return nil
}

// staleCase is the Conflict for an update based on version when the case is
// at cur.
func staleCase(cur CaseRecord) error {
	return apperr.New(apperr.Conflict, "case.error.stale", cur.Version)
}

// TransitionCase moves case id as a asks, if the case is still at version
// (optimistic locking) and the lifecycle lets a make the move with what it
// carries. The move enters the chronology (with its note) and the audit
// trail in the same transaction.
func (db *DB) TransitionCase(ctx context.Context, a audit.Actor, id int64, version int, m casework.Move) (r CaseRecord, err error) {
	defer apperr.Wrap(&err, "storage.TransitionCase(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		cur, err := db.loadCase(ctx, c, a.Principal, access.Write, id, true)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return staleCase(cur)
		}
		if m.OwnerID != 0 {
			if m.OwnerOrgID, err = userOrg(ctx, c, m.OwnerID); err != nil {
				return err
			}
		} else if cur.OwnerID != 0 {
			if m.OwnerOrgID, err = userOrg(ctx, c, cur.OwnerID); err != nil {
				return err
			}
		}
		if m.LeadOrgID != 0 && m.LeadOrgID != cur.LeadOrgID {
			var fs []apperr.FieldError
			if err := checkAssignment(ctx, c, m.LeadOrgID, 0, &fs); err != nil {
				return err
			}
			if len(fs) > 0 {
				return apperr.Validation(fs...)
			}
		}
		dl, cal, err := db.deadlinesNow(ctx)
		if err != nil {
			return err
		}
		next, err := casework.Apply(cur.Case, cur.Relation, m, dl, c.now)
		if err == nil {
			err = cal.Err()
		}
		if err != nil {
			return err
		}
		if err := saveCase(ctx, c, next, version); err != nil {
			return err
		}
		payload := map[string]any{"from": cur.Status, "to": next.Status}
		if next.Status == casework.Triaged {
			payload["severity"], payload["lead_org_id"], payload["owner_id"] = next.Severity, next.LeadOrgID, next.OwnerID
		}
		if next.Status == casework.Closed {
			payload["outcome"] = next.ClosureOutcome
		}
		if !next.ReviewAt.IsZero() {
			payload["review_at"] = next.ReviewAt.Format(time.RFC3339)
		}
		if m.Reason != "" || m.Note != "" {
			// The reason and the note are free text: they go to the notes,
			// which only those who may see the case read, not to the payload.
			body := strings.TrimSpace(strings.Join(slices.DeleteFunc([]string{strings.TrimSpace(m.Reason), strings.TrimSpace(m.Note)},
				func(s string) bool { return s == "" }), "\n\n"))
			nid, err := insertNote(ctx, c, a, id, body)
			if err != nil {
				return err
			}
			payload["note_id"] = nid
		}
		if _, err := addCaseEvent(ctx, c, a, id, EventTransition, payload); err != nil {
			return err
		}
		if r, err = db.loadCase(ctx, c, a.Principal, access.Read, id, false); err != nil {
			return err
		}
		return caseAudit(ctx, c, a.Event("case.transition", "case", r.ID), r, map[string]any{"from": cur.Status, "to": next.Status})
	})
	return r, err
}

// UpdateCase applies an edit to case id if it is still at version.
func (db *DB) UpdateCase(ctx context.Context, a audit.Actor, id int64, version int, e casework.Edit) (r CaseRecord, err error) {
	defer apperr.Wrap(&err, "storage.UpdateCase(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		cur, err := db.loadCase(ctx, c, a.Principal, access.Write, id, true)
		if err != nil {
			return err
		}
		if cur.Version != version {
			return staleCase(cur)
		}
		var fs []apperr.FieldError
		lead := cur.LeadOrgID
		if e.LeadOrgID != nil {
			lead = *e.LeadOrgID
		}
		if e.LeadOrgID != nil && *e.LeadOrgID != cur.LeadOrgID {
			if err := checkAssignment(ctx, c, lead, 0, &fs); err != nil {
				return err
			}
		}
		if e.OwnerID != nil && *e.OwnerID != 0 {
			if e.OwnerOrgID, err = userOrg(ctx, c, *e.OwnerID); err != nil {
				return err
			}
			if e.OwnerOrgID == 0 {
				fs = append(fs, apperr.Field("owner", "case.error.owner_unknown"))
			}
		}
		if len(fs) > 0 {
			return apperr.Validation(fs...)
		}
		dl, cal, err := db.deadlinesNow(ctx)
		if err != nil {
			return err
		}
		next, changed, err := casework.ApplyEdit(cur.Case, cur.Relation, e, dl, c.now)
		if err == nil {
			err = cal.Err()
		}
		if err != nil {
			return err
		}
		if len(changed) == 0 {
			r = cur
			return nil
		}
		if err := saveCase(ctx, c, next, version); err != nil {
			return err
		}
		if _, err := addCaseEvent(ctx, c, a, id, EventUpdated, map[string]any{"changed": changed}); err != nil {
			return err
		}
		if r, err = db.loadCase(ctx, c, a.Principal, access.Read, id, false); err != nil {
			return err
		}
		return caseAudit(ctx, c, a.Event("case.update", "case", r.ID), r, map[string]any{"changed": changed})
	})
	return r, err
}

// CaseQuery selects cases within what the principal may list; every field
// set narrows the list.
type CaseQuery struct {
	Statuses  []casework.Status
	OpenOnly  bool // every status but closed
	Severity  casework.Severity
	Type      string // a taxonomy code, or a prefix of one ("violence" matches "violence.bullying")
	District  string
	SchoolID  int64
	OwnerID   int64
	LeadOrgID int64
	Overdue   bool      // the running deadline has passed
	From, To  time.Time // created in [From, To); zero: unbounded (the dashboards' period)
	After     string    // the cursor of the previous page's last case ("" for the first page)
	Limit     int       // 1..200, default 20
}

// CasePage is a page of cases and the cursor of the next one ("" on the last).
type CasePage struct {
	Cases []CaseRecord
	Next  string
}

// cursorOf is the keyset cursor after case r: its sort key and ID. Queues
// sort by queue_key; the overdue list by the deadline (most overdue first),
// its cursor marked with a "d".
func cursorOf(r CaseRecord, byDue bool) string {
	if byDue {
		return "d" + strconv.FormatInt(r.Due().UnixMicro(), 10) + "_" + strconv.FormatInt(r.ID, 10)
	}
	return strconv.FormatInt(queueKey(r.Case), 10) + "_" + strconv.FormatInt(r.ID, 10)
}

// ParseCaseCursor checks a cursor's shape: byDue for the overdue list's.
func ParseCaseCursor(s string) (byDue bool, key, id int64, ok bool) {
	s, byDue = strings.CutPrefix(s, "d")
	a, b, found := strings.Cut(s, "_")
	if !found {
		return false, 0, 0, false
	}
	key, err1 := strconv.ParseInt(a, 10, 64)
	id, err2 := strconv.ParseInt(b, 10, 64)
	return byDue, key, id, err1 == nil && err2 == nil && id > 0
}

// caseBranches turns the case policy's filter into one SQL condition per
// way of reaching a case. Each is its own query: a condition on cases k
// (served by the index on its column and (queue_key, id)), or, for the
// children, a join from the children p may see to their cases.
type caseBranch struct {
	from    string // the FROM clause, giving cases k
	key, id string // the branch's sort key and ID columns (an index walks them in order)
	cond    string
	args    []any
	// place is the case_places index a places branch walks without a
	// status or deadline (case_places_school, case_places_district); with
	// them its _status or _due sibling (migration 00027), which hold the
	// case's status and deadline. SQLite is told which (INDEXED BY): with
	// the siblings present it may otherwise walk one of them and sort.
	place string
	// pcond is a places branch's condition on case_places p alone: when
	// the query asks only for what the places copy (status, open, overdue),
	// the branch reads case_places without joining cases.
	pcond string
	// index is the index that serves a branch on one column of cases
	// (owner, creator, lead body). SQLite is told to use it (caseIDsSQL):
	// its statistics are averages, and a column with a few very common
	// values (most cases have no lead body yet) looks less selective than
	// the status or deadline filter, whose index then walks every new or
	// overdue case in the city to find one user's few.
	index string
}

func caseBranches(f access.CaseFilter, now time.Time) []caseBranch {
	const plain = ` FROM cases k `
	// CROSS JOIN fixes SQLite's join order: from the index that serves the
	// branch, not a scan of every case.
	const places = ` FROM case_places p CROSS JOIN cases k `
	var bs []caseBranch
	add := func(from, cond string, a ...any) {
		key, id, pcond := `k.queue_key`, `k.id`, ""
		if from == places {
			key, id, pcond, cond = `p.queue_key`, `p.case_id`, cond, `k.id = p.case_id AND `+cond
		}
		bs = append(bs, caseBranch{from: from, key: key, id: id, cond: cond, pcond: pcond, args: a})
	}
	indexed := func(index string) { bs[len(bs)-1].index = index }
	if f.All {
		add(plain, `1 = 1`)
		return bs
	}
	if f.District != "" {
		add(places, `p.district_code = ?`, f.District)
		bs[len(bs)-1].place = "case_places_district"
	}
	if f.SchoolID != 0 {
		add(places, `p.school_id = ?`, f.SchoolID)
		bs[len(bs)-1].place = "case_places_school"
	}
	if f.LeadOrgID != 0 {
		add(plain, `k.lead_org_id = ?`, f.LeadOrgID)
		indexed("cases_lead_queue")
	}
	if f.UserID != 0 {
		add(plain, `k.owner_id = ?`, f.UserID)
		indexed("cases_owner_queue")
		add(plain, `k.created_by = ?`, f.UserID)
		indexed("cases_creator_queue")
	}
	conds, args := filterBranches(f.Children, now)
	for i, cond := range conds {
		add(` FROM children c LEFT JOIN orgs s ON s.id = c.school_id CROSS JOIN case_children cc CROSS JOIN cases k `,
			`cc.child_id = c.id AND k.id = cc.case_id AND (`+cond+`)`, args[i]...)
	}
	return bs
}

// listCaseIDs returns the IDs of the next page of cases p may list under q,
// in queue order: one query per branch of the policy, each walking its index
// from the cursor, joined and cut to the page.
func listCaseIDs(ctx context.Context, c conn, p access.Principal, q CaseQuery) ([]int64, error) {
	sqlq, args, err := caseIDsSQL(c, p, q, false)
	if err != nil || sqlq == "" {
		return nil, err
	}
	rows, err := c.query(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("list cases: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var key any
		var id int64
		if err := rows.Scan(&key, &id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// caseIDsSQL is listCaseIDs' statement: rows of (sort key, case ID), the
// policy's branches in its WHERE; with count, instead, one row counting
// them up to q.Limit, in no order, so each branch's walk stops at the
// limit instead of reading every row it would sort. "" when p may list no
// case at all.
func caseIDsSQL(c conn, p access.Principal, q CaseQuery, count bool) (string, []any, error) {
	branches := caseBranches(access.FilterCases(p, access.List), c.now)
	if len(branches) == 0 {
		return "", nil, nil
	}
	// The cases an owner sees through the policy's owner branch are all the
	// cases they own: asked for them ("mine"), the other branches add
	// nothing but the walk through every case of their school.
	for _, b := range branches {
		if q.OwnerID != 0 && b.index == "cases_owner_queue" && len(b.args) == 1 && b.args[0] == any(q.OwnerID) {
			branches = []caseBranch{b}
			break
		}
		// Likewise the cases of a school whose places p sees (the school's
		// tab): every case has its own school among its places (addPlaces
		// and the bulk insert write it, nothing changes a case's school or
		// removes a place), so that branch holds every case of the school
		// and the others add nothing. It is read from the cases' school
		// index, not by joining the school's places to their cases
		// (TestSchoolTabIsTheSchoolsCases, ADR 0048).
		if q.SchoolID != 0 && b.place == "case_places_school" && len(b.args) == 1 && b.args[0] == any(q.SchoolID) {
			sb := caseBranch{from: ` FROM cases k `, key: `k.queue_key`, id: `k.id`, cond: `k.school_id = ?`, args: b.args}
			if !q.Overdue && len(q.Statuses) == 0 {
				sb.index = "cases_school_queue"
			}
			branches = []caseBranch{sb}
			break
		}
	}
	open := q.OpenOnly || (len(q.Statuses) > 0 && !slices.Contains(q.Statuses, casework.Closed))
	var where []string
	var wargs []any
	if len(q.Statuses) > 0 {
		ph := make([]string, len(q.Statuses))
		for i, s := range q.Statuses {
			ph[i] = "?"
			wargs = append(wargs, string(s))
		}
		where = append(where, `k.status IN (`+strings.Join(ph, ", ")+`)`)
	}
	if q.OpenOnly {
		where = append(where, `k.queue_key < ?`)
		wargs = append(wargs, closedOffset)
	}
	if q.Severity != "" {
		where = append(where, `k.severity = ?`)
		wargs = append(wargs, string(q.Severity))
	}
	if q.Type != "" {
		where = append(where, `(k.type_code = ? OR (k.type_code >= ? AND k.type_code < ?))`)
		wargs = append(wargs, q.Type, q.Type+".", q.Type+"/") // '/' follows '.'
	}
	if q.District != "" {
		where = append(where, `k.district_code = ?`)
		wargs = append(wargs, q.District)
	}
	if q.SchoolID != 0 {
		where = append(where, `k.school_id = ?`)
		wargs = append(wargs, q.SchoolID)
	}
	if q.OwnerID != 0 {
		where = append(where, `k.owner_id = ?`)
		wargs = append(wargs, q.OwnerID)
	}
	if q.LeadOrgID != 0 {
		where = append(where, `k.lead_org_id = ?`)
		wargs = append(wargs, q.LeadOrgID)
	}
	if q.Overdue {
		where = append(where, `k.due_at < ?`)
		wargs = append(wargs, c.now)
	}
	if !q.From.IsZero() {
		where = append(where, `k.created_at >= ?`)
		wargs = append(wargs, q.From)
	}
	if !q.To.IsZero() {
		where = append(where, `k.created_at < ?`)
		wargs = append(wargs, q.To)
	}
	// Asked only for statuses, open cases or overdue ones (the queues and
	// their counts), the places branches need nothing of the case but the
	// places' copies (migration 00027).
	copied := q.Severity == "" && q.Type == "" && q.District == "" && q.SchoolID == 0 && q.OwnerID == 0 &&
		q.LeadOrgID == 0 && q.From.IsZero() && q.To.IsZero()
	// The overdue list walks the deadline index, most overdue first; every
	// other list walks a queue index.
	var after []any
	if q.After != "" {
		byDue, key, id, ok := ParseCaseCursor(q.After)
		if !ok || byDue != q.Overdue {
			return "", nil, apperr.Validation(apperr.Field("after", "error.cursor"))
		}
		var k any = key
		if byDue {
			k = time.UnixMicro(key).UTC()
		}
		after = []any{k, k, id}
	}
	lim := strconv.Itoa(q.Limit)
	var parts []string
	var args []any
	for i, b := range branches {
		key, id := b.key, b.id
		if q.Overdue {
			key, id = `k.due_at`, `k.id`
		}
		w := append([]string{b.cond}, where...)
		bargs := append(append([]any{}, b.args...), wargs...)
		from := b.from
		if b.place != "" && copied {
			w, bargs, from = []string{b.pcond}, append([]any{}, b.args...), ` FROM case_places p `
		}
		if b.place != "" {
			// The places' own copies of the queue key, status and deadline,
			// so that their index walks only the open cases, the cases of
			// the statuses asked for, or the overdue ones.
			if open {
				w = append(w, `p.queue_key < ?`)
				bargs = append(bargs, closedOffset)
			}
			index := b.place
			switch {
			case q.Overdue:
				key, id, index = `p.due_at`, `p.case_id`, b.place+"_due"
				w = append(w, `p.due_at < ?`)
				bargs = append(bargs, c.now)
			case len(q.Statuses) > 0:
				index = b.place + "_status"
			}
			// the statuses asked for, overdue or not: a places branch
			// that reads case_places alone has no k.status to test
			if len(q.Statuses) > 0 {
				w = append(w, `p.status IN (`+strings.Repeat(`?, `, len(q.Statuses)-1)+`?)`)
				for _, st := range q.Statuses {
					bargs = append(bargs, string(st))
				}
			}
			if c.engine == SQLite {
				from = strings.Replace(from, ` case_places p `, ` case_places p INDEXED BY `+index+` `, 1)
			}
		}
		if after != nil {
			w = append(w, `(`+key+` > ? OR (`+key+` = ? AND `+id+` > ?))`)
			bargs = append(bargs, after...)
		}
		if b.index != "" && c.engine == SQLite {
			index := b.index
			switch {
			case q.Overdue: // the same column with the deadline (migration 00027)
				index = strings.TrimSuffix(index, "_queue") + "_due"
			case len(q.Statuses) > 0: // the same column with the status (migration 00018)
				index = strings.TrimSuffix(index, "_queue") + "_status"
			}
			from = ` FROM cases k INDEXED BY ` + index + ` `
		}
		if count {
			// Any Limit of each branch will do: their union has Limit
			// distinct cases exactly when the whole has at least as many.
			parts = append(parts, `SELECT id FROM (SELECT `+id+` AS id`+from+`WHERE `+strings.Join(w, ` AND `)+
				` LIMIT `+lim+`) b`+strconv.Itoa(i))
		} else {
			parts = append(parts, `SELECT * FROM (SELECT DISTINCT `+key+` AS sort_key, `+id+` AS id`+from+`WHERE `+strings.Join(w, ` AND `)+
				` ORDER BY `+key+`, `+id+` LIMIT `+lim+`) b`+strconv.Itoa(i))
		}
		args = append(args, bargs...)
	}
	if count {
		return `SELECT COUNT(*) FROM (` + strings.Join(parts, ` UNION `) + ` LIMIT ` + lim + `) n`, args, nil
	}
	sqlq := parts[0]
	if len(parts) > 1 {
		sqlq = strings.Join(parts, ` UNION `) + ` ORDER BY 1, 2 LIMIT ` + lim
	}
	return sqlq, args, nil
}

// ListCases lists the cases a may see, in queue order (open first, most
// severe first, oldest first), a page at a time, filtered in SQL by the
// policy. The list is audited with the IDs it showed before it is returned.
func (db *DB) ListCases(ctx context.Context, a audit.Actor, q CaseQuery) (pg CasePage, err error) {
	defer apperr.Wrap(&err, "storage.ListCases")
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 20
	}
	// Read on the read pool, then audited in a group commit; the page is
	// returned only once its event is committed (readAudited, ADR 0043).
	err = db.readAudited(ctx, func(c conn) error {
		pg, err = db.listCases(ctx, c, a.Principal, q)
		return err
	}, func() audit.Event {
		ids := make([]int64, len(pg.Cases))
		for i, r := range pg.Cases {
			ids[i] = r.ID
		}
		e := a.Event("case.list", "case", 0)
		e.Details = idsJSON(ids)
		return e
	})
	if err != nil {
		return CasePage{}, err
	}
	return pg, nil
}

func (db *DB) listCases(ctx context.Context, c conn, p access.Principal, q CaseQuery) (CasePage, error) {
	ids, err := listCaseIDs(ctx, c, p, q)
	if err != nil || len(ids) == 0 {
		return CasePage{}, err
	}
	ph := make([]string, len(ids))
	args := make([]any, len(ids))
	for i, id := range ids {
		ph[i], args[i] = "?", id
	}
	rows, err := c.query(ctx, `SELECT `+caseColumns+caseFrom+`WHERE k.id IN (`+strings.Join(ph, ", ")+`)`, args...)
	if err != nil {
		return CasePage{}, err
	}
	byID := map[int64]CaseRecord{}
	for rows.Next() {
		r, err := scanCase(rows)
		if err != nil {
			rows.Close()
			return CasePage{}, err
		}
		byID[r.ID] = r
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return CasePage{}, err
	}
	kids, facts, err := caseChildren(ctx, c, p, ids)
	if err != nil {
		return CasePage{}, err
	}
	places, err := casePlaces(ctx, c, ids)
	if err != nil {
		return CasePage{}, err
	}
	pg := CasePage{Cases: make([]CaseRecord, 0, len(ids))}
	for _, id := range ids {
		r := byID[id]
		db.finishCase(p, access.List, &r, kids[id], facts[id], places[id])
		if !r.Decision.Allowed { // the SQL and the policy disagree: a bug; show nothing of it
			return CasePage{}, fmt.Errorf("policy and filter disagree on case %d", id)
		}
		pg.Cases = append(pg.Cases, r)
	}
	if len(pg.Cases) == q.Limit {
		pg.Next = cursorOf(pg.Cases[len(pg.Cases)-1], q.Overdue)
	}
	return pg, nil
}

// QueueCounts are the sizes of a principal's queues, each counted up to
// CountCap (the navigation shows "99+"): cheap whatever the table's size.
type QueueCounts struct {
	New, Mine, Overdue int
}

// CountCap is where queue counts stop counting.
const CountCap = 100

// CaseQueueCounts counts a's queues: new cases, open cases a owns, and
// overdue open cases, each up to CountCap. Counting shows no child's data
// and is not audited.
func (db *DB) CaseQueueCounts(ctx context.Context, a audit.Actor) (qc QueueCounts, err error) {
	defer apperr.Wrap(&err, "storage.CaseQueueCounts")
	c := db.reader()
	ns := []*int{&qc.New, &qc.Mine, &qc.Overdue}
	for i, q := range queueQueries(a) {
		ids, err := listCaseIDs(ctx, c, a.Principal, q)
		if err != nil {
			return qc, err
		}
		*ns[i] = len(ids)
	}
	return qc, nil
}

// NavCounts are the counts the navigation shows on every signed-in page:
// the bell's unread notifications and the case queues' badges.
type NavCounts struct {
	Unread int
	Queues QueueCounts
	// Register: proposals awaiting a decision and reviews overdue, for
	// those who decide on their school's register (0 for everyone else).
	Register int
}

// NavCounts reads a's unread notifications and case queue counts (each
// up to CountCap, the policy's filter in the SQL as in CaseQueueCounts) in
// one statement of scalar subqueries: one round trip a page instead of
// four. Counting shows no child's data and is not audited.
func (db *DB) NavCounts(ctx context.Context, a audit.Actor) (nc NavCounts, err error) {
	defer apperr.Wrap(&err, "storage.NavCounts")
	c := db.countsReader()
	cols := []string{`(SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL)`}
	args := []any{a.UserID}
	for _, q := range queueQueries(a) {
		sq, qargs, err := caseIDsSQL(c, a.Principal, q, true)
		if err != nil {
			return nc, err
		}
		if sq == "" {
			cols = append(cols, `0`)
			continue
		}
		cols = append(cols, `(`+sq+`)`)
		args = append(args, qargs...)
	}
	if sq, rargs, ok := registerAwaitingSQL(a.Principal, c.now); ok {
		cols = append(cols, `(`+sq+`)`)
		args = append(args, rargs...)
	} else {
		cols = append(cols, `0`)
	}
	err = c.queryRow(ctx, `SELECT `+strings.Join(cols, `, `), args...).Scan(&nc.Unread, &nc.Queues.New, &nc.Queues.Mine, &nc.Queues.Overdue, &nc.Register)
	return nc, err
}

// queueQueries are the queries of a's queues, in QueueCounts' order: new,
// mine, overdue, each limited to CountCap.
func queueQueries(a audit.Actor) []CaseQuery {
	return []CaseQuery{
		{Statuses: []casework.Status{casework.New}, Limit: CountCap},
		{OpenOnly: true, OwnerID: a.UserID, Limit: CountCap},
		{OpenOnly: true, Overdue: true, Limit: CountCap},
	}
}

// workingTime adapts the working-day calendar to casework.Calendar. The
// interface returns a time only, so a span the calendar cannot count (no
// working day within ten years) runs on the clock for the moment and the
// error is kept: the caller asks err after the rules ran, and fails.
type workingTime struct {
	c   *calendar.Calendar
	err error
}

func (w *workingTime) Add(from time.Time, d time.Duration) time.Time {
	var t time.Time
	var err error
	if d%(24*time.Hour) == 0 {
		t, err = w.c.AddWorkingDays(from, int(d/(24*time.Hour)))
	} else {
		t, err = w.c.AddWorkingHours(from, d)
	}
	if err != nil {
		if w.err == nil {
			w.err = fmt.Errorf("storage: case deadline: %w", err)
		}
		return from.Add(d)
	}
	return t.UTC()
}

// Err is the first span the calendar could not count, or nil.
func (w *workingTime) Err() error {
	if w == nil {
		return nil
	}
	return w.err
}

// deadlinesNow are the case deadlines with the working-day calendar as it
// stands (holidays entered by the city), for non-critical cases; the
// calendar is checked with cal.Err() once the deadlines were counted.
func (db *DB) deadlinesNow(ctx context.Context) (d casework.Deadlines, cal *workingTime, err error) {
	c, err := db.Calendar(ctx)
	if err != nil {
		return d, nil, fmt.Errorf("storage: case deadlines: %w", err)
	}
	d, cal = db.cases, &workingTime{c: c}
	d.Calendar = cal
	return d, cal, nil
}
