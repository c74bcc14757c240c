package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/casework"
	"dayaq/internal/hotline"
	"dayaq/internal/notify"
	"dayaq/internal/org"
	"dayaq/internal/taxonomy"
)

// ContactRecord is a contact as one principal may see it.
type ContactRecord struct {
	hotline.Contact
	CreatedByName string
	TakenByName   string
	HasPhone      bool            // a call-back number is sealed with it
	Earlier       []ContactRecord // earlier contacts from the same number that the principal may see (ContactFor only)
	CanTake       bool            // the principal may take its alert
}

// StoredResponse is the answer to a create request, kept with its
// Idempotency-Key so that a retry gets the same answer: the one Response
// of every create (idempotency.go).
type StoredResponse = Response

// ContactCreate is what CreateContact needs besides the contact: the
// request's Idempotency-Key (may be empty) and fingerprint, and how to
// render the 201 answer, which is kept with the key in the same
// transaction.
type ContactCreate struct {
	IdemKey     string
	Fingerprint string
	Render      func(ContactRecord) (StoredResponse, error)
}

// CreateContact logs a contact for a and answers with the rendered
// response. It validates the contact against the current taxonomy, links
// registry children, keeps the caller's number hashed, masked and sealed,
// opens an alert when it is critical, and audits it — all in one
// transaction, committed (with others, by group commit) before it returns.
// With an Idempotency-Key already used by a for the same request, it
// returns the stored answer and changes nothing; for another request it
// is Invalid.
func (db *DB) CreateContact(ctx context.Context, a audit.Actor, in hotline.Contact, cc ContactCreate) (resp StoredResponse, err error) {
	defer apperr.Wrap(&err, "storage.CreateContact")
	if !access.CanLogContact(a.Principal) {
		return StoredResponse{}, apperr.New(apperr.Forbidden, "hotline.error.cannot_log")
	}
	keys, err := db.phoneKeys(ctx)
	if err != nil {
		return StoredResponse{}, err
	}
	in.Normalize()
	key, err := IdempotencyKey(cc.IdemKey)
	if err != nil {
		return StoredResponse{}, err
	}
	var known map[int64]bool
	if ids := registryChildIDs(in); len(ids) > 0 && db.engine == Postgres { // beside the batch, not in it (ADR 0036)
		if known, err = db.registryChildren(ctx, ids); err != nil {
			return StoredResponse{}, err
		}
	}
	err = db.inGroupTx(ctx, func(ctx context.Context, c conn) error {
		resp, err = idempotentTx(ctx, c, a.UserID, key, cc.Fingerprint, func() (Response, error) {
			rec, err := insertContact(ctx, c, db, a, in, keys, known)
			if err != nil {
				return Response{}, err
			}
			return cc.Render(rec)
		})
		return err
	})
	return resp, err
}

// knownChildren reports which of the children ids exist.
func knownChildren(ctx context.Context, c conn, ids []any) (map[int64]bool, error) {
	found := map[int64]bool{}
	rows, err := c.query(ctx, `SELECT id FROM children WHERE id IN (`+placeholders(len(ids))+`)`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		found[id] = true
	}
	return found, rows.Err()
}

// maxKnownChildren bounds hotlineState.kids; past it the set starts again.
const maxKnownChildren = 1 << 16

// registryChildren reports which of the registry children ids exist, from
// the children a contact named before when it can, else read on the read
// pool. A child seen to exist may since have gone (merged away): the
// foreign key then refuses the contact's insert, and the batch runs again
// with savepoints, which reads the children in the transaction (ADR 0036).
func (db *DB) registryChildren(ctx context.Context, ids []any) (map[int64]bool, error) {
	known := make(map[int64]bool, len(ids))
	var missing []any
	db.hot.mu.Lock()
	for _, id := range ids {
		if _, ok := db.hot.kids[id.(int64)]; ok {
			known[id.(int64)] = true
		} else {
			missing = append(missing, id)
		}
	}
	db.hot.mu.Unlock()
	if len(missing) == 0 {
		return known, nil
	}
	found, err := knownChildren(ctx, db.reader(), missing)
	if err != nil {
		return nil, err
	}
	db.hot.mu.Lock()
	defer db.hot.mu.Unlock()
	if db.hot.kids == nil || len(db.hot.kids)+len(found) > maxKnownChildren {
		db.hot.kids = map[int64]struct{}{}
	}
	for id := range found {
		known[id] = true
		db.hot.kids[id] = struct{}{}
	}
	return known, nil
}

// registryChildIDs are the registry children a contact names.
func registryChildIDs(in hotline.Contact) []any {
	var ids []any
	for _, r := range in.Children {
		if r.ChildID > 0 {
			ids = append(ids, r.ChildID)
		}
	}
	return ids
}

// insertContact validates and inserts one contact with its children and
// categories, and appends its audit event. known, when not nil, is which
// of its registry children existed a moment before: a pipelined batch
// (ADR 0036) relies on it instead of reading them again in the
// transaction, and on the foreign key should one have gone since (the
// batch then runs again with savepoints, which reads them).
func insertContact(ctx context.Context, c conn, db *DB, a audit.Actor, in hotline.Contact, keys *phoneKeys, known map[int64]bool) (ContactRecord, error) {
	tax, err := db.taxonomyOn(ctx, c, 0)
	if err != nil {
		return ContactRecord{}, err
	}
	verr := in.Validate(c.now, tax)
	var fs []apperr.FieldError
	if verr != nil {
		fs = apperr.As(verr).Fields
	}
	// Registry children must exist; the operator found them by matching.
	ids := registryChildIDs(in)
	if len(ids) > 0 {
		found := known
		if found == nil || c.fastPipe() == nil {
			if found, err = knownChildren(ctx, c, ids); err != nil {
				return ContactRecord{}, err
			}
		}
		for i, r := range in.Children {
			if r.ChildID > 0 && !found[r.ChildID] {
				fs = append(fs, apperr.Field(fmt.Sprintf("children[%d].child_id", i), "hotline.error.child_unknown"))
			}
		}
	}
	if in.Outcome == hotline.Referred && in.ReferredTo != "" {
		if _, err := getOrgByCode(ctx, c, in.ReferredTo); apperr.CodeOf(err) == apperr.NotFound {
			fs = append(fs, apperr.Field("referred_to", "hotline.error.org_unknown", in.ReferredTo))
		} else if err != nil {
			return ContactRecord{}, err
		}
	}
	if len(fs) > 0 {
		return ContactRecord{}, apperr.Validation(fs...)
	}

	rec := ContactRecord{Contact: in, CreatedByName: a.Name}
	ct := &rec.Contact
	ct.TaxonomyVersion = tax.Version
	ct.ReceivedAt = ct.ReceivedAt.UTC().Truncate(time.Microsecond)
	ct.Suggested = hotline.Suggest(ct.Categories, ct.Answers)
	ct.CreatedBy, ct.OrgID, ct.CreatedAt = a.UserID, a.OrgID, c.now
	ct.AlertOpen = ct.Urgency == hotline.Critical
	var phoneKey sql.NullString
	var sealed string
	if ct.Caller.Phone != "" {
		n, _ := hotline.NormalizePhone(ct.Caller.Phone)
		phoneKey = sql.NullString{String: hotline.PhoneKey(keys.hash, n), Valid: true}
		ct.PhoneMasked, sealed = hotline.MaskPhone(n), keys.sealPhone(n)
		rec.HasPhone = true
	}
	ct.Caller.Phone = "" // never kept or echoed as typed
	var caseID sql.NullInt64
	if ct.CaseID > 0 {
		caseID = sql.NullInt64{Int64: ct.CaseID, Valid: true}
	}
	const cols = `taxonomy_version, channel, call_type, received_at, caller_anonymous,
		caller_name, caller_relation, phone_key, phone_masked, phone_sealed, danger_now, attempt_now, injured, urgency,
		suggested, narrative, outcome, outcome_reason, case_id, referred_to, org_id, created_by, created_at,
		children_n, categories_n, alert_open`
	vals := []any{ct.TaxonomyVersion, ct.Channel, ct.CallType, ct.ReceivedAt, ct.Caller.Anonymous, ct.Caller.Name,
		ct.Caller.Relationship, phoneKey, ct.PhoneMasked, sealed, ct.Answers.DangerNow, ct.Answers.AttemptInProgress,
		ct.Answers.Injured, ct.Urgency, ct.Suggested, ct.Narrative, ct.Outcome, ct.OutcomeReason, caseID, ct.ReferredTo,
		ct.OrgID, ct.CreatedBy, c.now, len(ct.Children), len(ct.Categories), ct.AlertOpen}
	if id, ok, err := c.reserveID(ctx, "contacts"); err != nil {
		return ContactRecord{}, fmt.Errorf("insert contact: %w", err)
	} else if ok { // a pipelined batch: the ID is known, nothing to await
		ct.ID = id
		if err := c.insertRowsLater(ctx, `INSERT INTO contacts (id, `+cols+`) OVERRIDING SYSTEM VALUE VALUES `,
			`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, 1, append([]any{id}, vals...)...); err != nil {
			return ContactRecord{}, fmt.Errorf("insert contact: %w", err)
		}
	} else if err := c.queryRow(ctx, `INSERT INTO contacts (`+cols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, vals...).Scan(&ct.ID); err != nil {
		return ContactRecord{}, fmt.Errorf("insert contact: %w", err)
	}
	if err := insertContactParts(ctx, c, ct); err != nil {
		return ContactRecord{}, err
	}
	if err := caseForContact(ctx, c, db, a, tax, ct); err != nil {
		return ContactRecord{}, err
	}
	e := a.Event("contact.create", "contact", ct.ID)
	var childIDs []int64
	for _, r := range ct.Children {
		if r.ChildID > 0 {
			childIDs = append(childIDs, r.ChildID)
		}
	}
	if len(childIDs) > 0 {
		e.ChildID = childIDs[0]
	}
	e.Details = detailsJSON(map[string]any{"urgency": ct.Urgency, "children": childIDs, "alert": ct.AlertOpen})
	if ct.AlertOpen {
		if err := alertCritical(ctx, c, ct); err != nil {
			return ContactRecord{}, err
		}
	}
	if err := appendAudit(ctx, c, e); err != nil {
		return ContactRecord{}, err
	}
	rec.CanTake = ct.AlertOpen && access.AlertedBy(a.Principal, ct.OrgID)
	return rec, nil
}

// insertContactParts inserts a contact's children and categories, each
// kind in one statement.
func insertContactParts(ctx context.Context, c conn, ct *hotline.Contact) error {
	if n := len(ct.Children); n > 0 {
		args := make([]any, 0, 7*n)
		for i, r := range ct.Children {
			var childID sql.NullInt64
			if r.ChildID > 0 {
				childID = sql.NullInt64{Int64: r.ChildID, Valid: true}
			}
			args = append(args, ct.ID, i, childID, r.Name, r.Age, r.School, r.District)
		}
		if err := c.insertRowsLater(ctx, `INSERT INTO contact_children (contact_id, ord, child_id, name, age, school, district) VALUES `,
			"(?, ?, ?, ?, ?, ?, ?)", n, args...); err != nil {
			return fmt.Errorf("insert contact children: %w", err)
		}
	}
	if n := len(ct.Categories); n > 0 {
		args := make([]any, 0, 2*n)
		for _, code := range ct.Categories {
			args = append(args, ct.ID, code)
		}
		if err := c.insertRowsLater(ctx, `INSERT INTO contact_categories (contact_id, code) VALUES `, "(?, ?)", n, args...); err != nil {
			return fmt.Errorf("insert contact categories: %w", err)
		}
	}
	return nil
}

// BaselineInsertContact inserts the rows of one contact (the contact, its
// children and categories) for a, straight into the database in a
// transaction of its own, with no validation, audit or group commit. It
// exists only for "dayaq bench intake", whose baseline it is; it stays
// exported for that command (ADR 0016) but behind the same policy
// question as CreateContact, so it is no way around the gate.
func (db *DB) BaselineInsertContact(ctx context.Context, a audit.Actor, ct hotline.Contact) error {
	if !access.CanLogContact(a.Principal) {
		return apperr.New(apperr.Forbidden, "hotline.error.cannot_log")
	}
	return db.inTx(ctx, func(c conn) error { return insertContactRaw(ctx, c, a, &ct) })
}

// InsertPastContacts inserts past contacts for a, as BaselineInsertContact
// does (no validation, audit, case or alert; no caller's number), all in
// one transaction. It is for synthetic demo data, which shows the
// hotline's contact volume beside the campaign's reach; it asks the same
// policy question as CreateContact.
func (db *DB) InsertPastContacts(ctx context.Context, a audit.Actor, cts []hotline.Contact) (err error) {
	defer apperr.Wrap(&err, "storage.InsertPastContacts")
	if !access.CanLogContact(a.Principal) {
		return apperr.New(apperr.Forbidden, "hotline.error.cannot_log")
	}
	return db.inTx(ctx, func(c conn) error {
		for i := range cts {
			if err := insertContactRaw(ctx, c, a, &cts[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

// insertContactRaw inserts one contact's rows as they are.
func insertContactRaw(ctx context.Context, c conn, a audit.Actor, ct *hotline.Contact) error {
	if err := c.queryRow(ctx, `INSERT INTO contacts (taxonomy_version, channel, call_type, received_at, caller_anonymous,
		caller_name, caller_relation, urgency, suggested, narrative, outcome, org_id, created_by, created_at,
		children_n, categories_n) VALUES (1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		ct.Channel, ct.CallType, ct.ReceivedAt.UTC(), ct.Caller.Anonymous, ct.Caller.Name, ct.Caller.Relationship,
		ct.Urgency, ct.Urgency, ct.Narrative, ct.Outcome, a.OrgID, a.UserID, c.now, len(ct.Children),
		len(ct.Categories)).Scan(&ct.ID); err != nil {
		return err
	}
	return insertContactParts(ctx, c, ct)
}

// contactColumns are read by scanContact, from contacts k joined to the
// creator u and the taker t.
const contactColumns = `k.id, k.taxonomy_version, k.channel, k.call_type, k.received_at, k.caller_anonymous, k.caller_name,
	k.caller_relation, k.phone_masked, k.phone_sealed <> '', k.danger_now, k.attempt_now, k.injured, k.urgency, k.suggested,
	k.narrative, k.outcome, k.outcome_reason, COALESCE(k.case_id, 0), k.referred_to, k.org_id, k.created_by,
	COALESCE(k.assigned_to, 0), k.created_at, k.alert_open, COALESCE(k.taken_by, 0), k.taken_at,
	COALESCE(u.name, ''), COALESCE(t.name, '')`

const contactFrom = ` FROM contacts k LEFT JOIN users u ON u.id = k.created_by LEFT JOIN users t ON t.id = k.taken_by `

func scanContact(s interface{ Scan(...any) error }) (ContactRecord, error) {
	var r ContactRecord
	ct := &r.Contact
	var taken sql.NullTime
	err := s.Scan(&ct.ID, &ct.TaxonomyVersion, &ct.Channel, &ct.CallType, &ct.ReceivedAt, &ct.Caller.Anonymous,
		&ct.Caller.Name, &ct.Caller.Relationship, &ct.PhoneMasked, &r.HasPhone, &ct.Answers.DangerNow,
		&ct.Answers.AttemptInProgress, &ct.Answers.Injured, &ct.Urgency, &ct.Suggested, &ct.Narrative, &ct.Outcome,
		&ct.OutcomeReason, &ct.CaseID, &ct.ReferredTo, &ct.OrgID, &ct.CreatedBy, &ct.AssignedTo, &ct.CreatedAt,
		&ct.AlertOpen, &ct.TakenBy, &taken, &r.CreatedByName, &r.TakenByName)
	ct.ReceivedAt, ct.CreatedAt = ct.ReceivedAt.UTC(), ct.CreatedAt.UTC()
	if taken.Valid {
		ct.TakenAt = taken.Time.UTC()
	}
	return r, err
}

// contactWhere turns the policy's filter into SQL on k.
func contactWhere(f access.ContactFilter) (string, []any) {
	if f.All {
		return `1 = 1`, nil
	}
	var conds []string
	var args []any
	if f.OrgID != 0 {
		conds = append(conds, `k.org_id = ?`)
		args = append(args, f.OrgID)
	}
	if f.UserID != 0 {
		conds = append(conds, `k.created_by = ?`, `k.assigned_to = ?`)
		args = append(args, f.UserID, f.UserID)
	}
	return `(` + strings.Join(conds, ` OR `) + `)`, args
}

func contactFacts(r ContactRecord) access.ContactFacts {
	return access.ContactFacts{OrgID: r.OrgID, CreatedBy: r.CreatedBy, AssignedTo: r.AssignedTo}
}

// loadContact reads one contact for p, filtered in SQL and decided by the
// policy; one p may not see is NotFound.
func loadContact(ctx context.Context, c conn, p access.Principal, id int64) (ContactRecord, error) {
	f := access.ContactFilterFor(p)
	if f.Empty() {
		return ContactRecord{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	where, args := contactWhere(f)
	r, err := scanContact(c.queryRow(ctx, `SELECT `+contactColumns+contactFrom+`WHERE k.id = ? AND `+where,
		append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return ContactRecord{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return ContactRecord{}, fmt.Errorf("load contact %d: %w", id, err)
	}
	if !access.DecideContact(p, access.Read, contactFacts(r)) {
		return ContactRecord{}, fmt.Errorf("policy and filter disagree on contact %d", id)
	}
	r.CanTake = r.AlertOpen && access.AlertedBy(p, r.OrgID)
	return r, nil
}

// loadContactParts fills the children and categories of rs.
func loadContactParts(ctx context.Context, c conn, rs []ContactRecord) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]any, len(rs))
	at := map[int64]int{}
	for i, r := range rs {
		ids[i] = r.ID
		at[r.ID] = i
	}
	in := `(` + placeholders(len(ids)) + `)`
	rows, err := c.query(ctx, `SELECT contact_id, COALESCE(child_id, 0), name, age, school, district FROM contact_children
		WHERE contact_id IN `+in+` ORDER BY contact_id, ord`, ids...)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id int64
		var ref hotline.ChildRef
		if err := rows.Scan(&id, &ref.ChildID, &ref.Name, &ref.Age, &ref.School, &ref.District); err != nil {
			rows.Close()
			return err
		}
		rs[at[id]].Children = append(rs[at[id]].Children, ref)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = c.query(ctx, `SELECT contact_id, code FROM contact_categories WHERE contact_id IN `+in+` ORDER BY contact_id, code`, ids...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			return err
		}
		rs[at[id]].Categories = append(rs[at[id]].Categories, code)
	}
	return rows.Err()
}

// ContactFor returns one contact as a may see it, with the earlier
// contacts from the same number that a may see, and audits the read. A
// contact out of a's reach is NotFound, and the attempt is audited.
func (db *DB) ContactFor(ctx context.Context, a audit.Actor, id int64) (r ContactRecord, err error) {
	defer apperr.Wrap(&err, "storage.ContactFor(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		r, err = loadContact(ctx, c, a.Principal, id)
		e := a.Event("contact.read", "contact", id)
		if apperr.CodeOf(err) == apperr.NotFound {
			e.Action = "contact.read_denied"
			if aerr := appendAudit(ctx, c, e); aerr != nil {
				return aerr
			}
			return errCommit{err}
		}
		if err != nil {
			return err
		}
		one := []ContactRecord{r}
		if err := loadContactParts(ctx, c, one); err != nil {
			return err
		}
		r = one[0]
		if r.Earlier, err = earlierContacts(ctx, c, a.Principal, r.ID); err != nil {
			return err
		}
		var childIDs, earlier []int64
		for _, ch := range r.Children {
			if ch.ChildID > 0 {
				childIDs = append(childIDs, ch.ChildID)
			}
		}
		if len(childIDs) > 0 {
			e.ChildID = childIDs[0]
		}
		for _, x := range r.Earlier {
			earlier = append(earlier, x.ID)
		}
		e.Details = detailsJSON(map[string]any{"children": childIDs, "earlier": earlier})
		return appendAudit(ctx, c, e)
	})
	var ec errCommit
	if errors.As(err, &ec) {
		return ContactRecord{}, ec.err
	}
	return r, err
}

// earlierContacts lists, newest first, up to 20 other contacts from the
// same number as contact id that p may see.
func earlierContacts(ctx context.Context, c conn, p access.Principal, id int64) ([]ContactRecord, error) {
	where, args := contactWhere(access.ContactFilterFor(p))
	rows, err := c.query(ctx, `SELECT `+contactColumns+contactFrom+`
		WHERE k.phone_key = (SELECT phone_key FROM contacts WHERE id = ?) AND k.id <> ? AND `+where+`
		ORDER BY k.id DESC LIMIT 20`, append([]any{id, id}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ContactRecord
	for rows.Next() {
		r, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, loadContactParts(ctx, c, out)
}

// ContactQuery selects the hotline queue.
type ContactQuery struct {
	View    string          // "" or "all", "mine", "new" (the last 24 hours), "critical"
	Urgency hotline.Urgency // only this level
	Before  int64           // keyset cursor: the last ID of the previous page
	Limit   int             // 1..200, default 50
}

// ContactPage is a page of the queue: the open alerts a may see (on the
// first page only, always on top), then the contacts newest first.
type ContactPage struct {
	Alerts []ContactRecord
	Items  []ContactRecord
}

// ListContacts lists the contacts a may see, filtered in SQL by the
// policy, and audits the list with the IDs it showed.
func (db *DB) ListContacts(ctx context.Context, a audit.Actor, q ContactQuery) (pg ContactPage, err error) {
	defer apperr.Wrap(&err, "storage.ListContacts")
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	f := access.ContactFilterFor(a.Principal)
	if f.Empty() {
		return ContactPage{}, nil
	}
	err = db.inTx(ctx, func(c conn) error {
		pg = ContactPage{}
		where, args := contactWhere(f)
		conds := []string{where}
		switch q.View {
		case "mine":
			conds = append(conds, `(k.created_by = ? OR k.assigned_to = ? OR k.taken_by = ?)`)
			args = append(args, a.UserID, a.UserID, a.UserID)
		case "new":
			conds = append(conds, `k.received_at >= ?`)
			args = append(args, c.now.Add(-24*time.Hour))
		case "critical":
			conds = append(conds, `k.urgency = 'critical'`)
		}
		if q.Urgency != "" {
			conds = append(conds, `k.urgency = ?`)
			args = append(args, q.Urgency)
		}
		if q.Before == 0 {
			aw, aargs := contactWhere(f)
			rows, err := c.query(ctx, `SELECT `+contactColumns+contactFrom+`WHERE k.alert_open = TRUE AND `+aw+
				` ORDER BY k.id LIMIT 50`, aargs...)
			if err != nil {
				return err
			}
			if pg.Alerts, err = scanContacts(rows); err != nil {
				return err
			}
		}
		if q.Before != 0 {
			conds = append(conds, `k.id < ?`)
			args = append(args, q.Before)
		}
		rows, err := c.query(ctx, `SELECT `+contactColumns+contactFrom+`WHERE `+strings.Join(conds, ` AND `)+
			` ORDER BY k.id DESC LIMIT `+strconv.Itoa(q.Limit), args...)
		if err != nil {
			return err
		}
		if pg.Items, err = scanContacts(rows); err != nil {
			return err
		}
		if err := loadContactParts(ctx, c, pg.Alerts); err != nil {
			return err
		}
		if err := loadContactParts(ctx, c, pg.Items); err != nil {
			return err
		}
		var ids []int64
		for _, rs := range [][]ContactRecord{pg.Alerts, pg.Items} {
			for i := range rs {
				rs[i].CanTake = rs[i].AlertOpen && access.AlertedBy(a.Principal, rs[i].OrgID)
				ids = append(ids, rs[i].ID)
			}
		}
		e := a.Event("contact.list", "contact", 0)
		e.Details = idsJSON(ids)
		return appendAudit(ctx, c, e)
	})
	return pg, err
}

func scanContacts(rows *sql.Rows) ([]ContactRecord, error) {
	defer rows.Close()
	var out []ContactRecord
	for rows.Next() {
		r, err := scanContact(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// TakeContact takes a critical contact's alert: a takes charge of it, the
// alert closes for everyone, and the contact is assigned to a. Only those
// the alert goes to may take it; one already taken is a Conflict.
func (db *DB) TakeContact(ctx context.Context, a audit.Actor, id int64) (err error) {
	defer apperr.Wrap(&err, "storage.TakeContact(%d)", id)
	return db.inTx(ctx, func(c conn) error {
		r, err := loadContact(ctx, c, a.Principal, id)
		if err != nil {
			return err
		}
		if !access.AlertedBy(a.Principal, r.OrgID) || !access.DecideContact(a.Principal, access.Write, contactFacts(r)) {
			return apperr.New(apperr.Forbidden, "hotline.error.cannot_take")
		}
		if !r.AlertOpen {
			return apperr.New(apperr.Conflict, "hotline.error.taken", r.TakenByName)
		}
		res, err := c.exec(ctx, `UPDATE contacts SET alert_open = FALSE, taken_by = ?, taken_at = ?, assigned_to = ?,
			version = version + 1 WHERE id = ? AND alert_open = TRUE`, a.UserID, c.now, a.UserID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "hotline.error.taken", "")
		}
		return appendAudit(ctx, c, a.Event("contact.take", "contact", id))
	})
}

// RevealPhone returns the call-back number of a contact a may see, and
// audits that it was shown.
func (db *DB) RevealPhone(ctx context.Context, a audit.Actor, id int64) (number string, err error) {
	defer apperr.Wrap(&err, "storage.RevealPhone(%d)", id)
	keys, err := db.phoneKeys(ctx)
	if err != nil {
		return "", err
	}
	err = db.inTx(ctx, func(c conn) error {
		if _, err := loadContact(ctx, c, a.Principal, id); err != nil {
			return err
		}
		var sealed string
		if err := c.queryRow(ctx, `SELECT phone_sealed FROM contacts WHERE id = ?`, id).Scan(&sealed); err != nil {
			return err
		}
		if sealed == "" {
			return apperr.New(apperr.NotFound, "hotline.error.no_phone")
		}
		if number, err = keys.openPhone(sealed); err != nil {
			return err
		}
		return appendAudit(ctx, c, a.Event("contact.phone_reveal", "contact", id))
	})
	return number, err
}

// PublishTaxonomy makes next the taxonomy's new version, if a may edit it
// and next is based on the current version (basedOn; a stale one is a
// Conflict) and keeps every code's meaning.
func (db *DB) PublishTaxonomy(ctx context.Context, a audit.Actor, next taxonomy.Taxonomy, basedOn int) (t taxonomy.Taxonomy, err error) {
	defer apperr.Wrap(&err, "storage.PublishTaxonomy")
	if !access.CanEditTaxonomy(a.Principal) {
		return taxonomy.Taxonomy{}, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	err = db.inTx(ctx, func(c conn) error {
		cur, err := db.taxonomyOn(ctx, c, 0)
		if err != nil {
			return err
		}
		if cur.Version != basedOn {
			return apperr.New(apperr.Conflict, "taxonomy.error.stale", cur.Version)
		}
		if t, err = taxonomy.Evolve(cur, next); err != nil {
			return err
		}
		b, err := json.Marshal(t.Nodes)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, `INSERT INTO taxonomy_versions (version, nodes, created_by, created_at) VALUES (?, ?, ?, ?)`,
			t.Version, string(b), a.UserID, c.now); err != nil {
			return err
		}
		e := a.Event("taxonomy.publish", "taxonomy", int64(t.Version))
		return appendAudit(ctx, c, e)
	})
	db.hot.taxGen.Add(1) // pipelined batches read the version again (ADR 0036)
	return t, err
}

// SaveContactDraft keeps the form a user is typing (as JSON), replacing
// the one before.
func (db *DB) SaveContactDraft(ctx context.Context, userID int64, form string) (err error) {
	defer apperr.Wrap(&err, "storage.SaveContactDraft")
	if len(form) > 64<<10 {
		return apperr.New(apperr.Invalid, "hotline.error.draft_large")
	}
	return db.inTx(ctx, func(c conn) error {
		_, err := c.exec(ctx, `INSERT INTO contact_drafts (user_id, form, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (user_id) DO UPDATE SET form = excluded.form, updated_at = excluded.updated_at`, userID, form, c.now)
		return err
	})
}

// ContactDraft returns the user's draft ("" when there is none) and when
// it was saved.
func (db *DB) ContactDraft(ctx context.Context, userID int64) (form string, at time.Time, err error) {
	defer apperr.Wrap(&err, "storage.ContactDraft")
	err = db.reader().queryRow(ctx, `SELECT form, updated_at FROM contact_drafts WHERE user_id = ?`, userID).Scan(&form, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", time.Time{}, nil
	}
	return form, at.UTC(), err
}

// DeleteContactDraft forgets the user's draft.
func (db *DB) DeleteContactDraft(ctx context.Context, userID int64) (err error) {
	defer apperr.Wrap(&err, "storage.DeleteContactDraft")
	return db.inTx(ctx, func(c conn) error {
		_, err := c.exec(ctx, `DELETE FROM contact_drafts WHERE user_id = ?`, userID)
		return err
	})
}

// HalfWrittenContacts counts contacts whose children or categories rows
// are not all there; the durability test expects 0.
func (db *DB) HalfWrittenContacts(ctx context.Context) (n int, err error) {
	err = db.reader().queryRow(ctx, `SELECT COUNT(*) FROM contacts k WHERE
		k.children_n <> (SELECT COUNT(*) FROM contact_children x WHERE x.contact_id = k.id) OR
		k.categories_n <> (SELECT COUNT(*) FROM contact_categories x WHERE x.contact_id = k.id)`).Scan(&n)
	return n, err
}

// alertCritical tells the hotline's supervisors and the city special-cases
// unit of a critical contact, in the same transaction: in the app, by
// e-mail and (by default) SMS through the outbox. The message says what to
// do and links to the contact; it never carries a child's name.
func alertCritical(ctx context.Context, c conn, ct *hotline.Contact) error {
	if p := c.fastPipe(); p != nil {
		return alertCriticalPiped(ctx, c, p, ct)
	}
	rows, err := c.query(ctx, `SELECT DISTINCT u.id FROM users u JOIN user_roles r ON r.user_id = u.id JOIN orgs o ON o.id = u.org_id
		WHERE `+alertRecipients, access.HotlineSupervisor, ct.OrgID, access.CitySpecialist, org.CityDepartment)
	if err != nil {
		return fmt.Errorf("alert recipients: %w", err)
	}
	var to []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		to = append(to, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	msgs := make([]notify.Message, 0, len(to))
	for _, id := range to {
		m, err := criticalAlert(id, ct)
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	return notifyTx(ctx, c, msgs...)
}

// alertRecipients selects, from users u with roles r in orgs o, those a
// critical contact alerts: the supervisors of its hotline and the city's
// specialists (arguments: the two roles, the contact's org, the city's org
// type).
const alertRecipients = `u.disabled = FALSE AND ((r.role = ? AND u.org_id = ?) OR (r.role = ? AND o.type = ?))`

func criticalAlert(userID int64, ct *hotline.Contact) (notify.Message, error) {
	return notify.New(notify.CriticalAlert, notify.User(userID), "notify.hotline.critical",
		fmt.Sprintf("/hotline/contacts/%d", ct.ID), notify.ID(ct.ID), notify.At(ct.ReceivedAt))
}

// alertCriticalPiped is alertCritical in a pipelined batch (ADR 0042): the
// recipients, their addresses and their channel choices are read in one
// round trip with whatever is pending, and the messages filed awaiting
// nothing; the rows are those notifyTx would write.
func alertCriticalPiped(ctx context.Context, c conn, p *pgPipe, ct *hotline.Contact) error {
	args := []any{access.HotlineSupervisor, ct.OrgID, access.CitySpecialist, org.CityDepartment}
	var to []userAddress
	prefs := map[int64]map[notify.Channel]bool{}
	err := p.sendReadQueries(ctx, []readQuery{
		{q: rebind(Postgres, `SELECT DISTINCT u.id, u.email, COALESCE(s.phone, ''), COALESCE(s.lang, '')
			FROM users u JOIN user_roles r ON r.user_id = u.id JOIN orgs o ON o.id = u.org_id
			LEFT JOIN notify_settings s ON s.user_id = u.id WHERE `+alertRecipients+` ORDER BY u.id`), args: args,
			scan: func(rows pgx.Rows) error {
				for rows.Next() {
					var u userAddress
					if err := rows.Scan(&u.id, &u.email, &u.phone, &u.lang); err != nil {
						return err
					}
					to = append(to, u)
				}
				return rows.Err()
			}},
		{q: rebind(Postgres, `SELECT p.user_id, p.channel, p.enabled FROM notify_prefs p WHERE p.kind = ? AND p.user_id IN (
			SELECT u.id FROM users u JOIN user_roles r ON r.user_id = u.id JOIN orgs o ON o.id = u.org_id WHERE `+alertRecipients+`)`),
			args: append([]any{notify.CriticalAlert}, args...),
			scan: func(rows pgx.Rows) error {
				for rows.Next() {
					var id int64
					var ch notify.Channel
					var on bool
					if err := rows.Scan(&id, &ch, &on); err != nil {
						return err
					}
					if prefs[id] == nil {
						prefs[id] = map[notify.Channel]bool{}
					}
					prefs[id][ch] = on
				}
				return rows.Err()
			}},
	})
	if err != nil {
		return fmt.Errorf("alert recipients: %w", err)
	}
	for _, u := range to {
		m, err := criticalAlert(u.id, ct)
		if err != nil {
			return err
		}
		if err := m.Check(); err != nil {
			return err
		}
		margs, err := notify.MarshalArgs(m.Args())
		if err != nil {
			return err
		}
		on := defaultChannels(m.Kind())
		maps.Copy(on, prefs[u.id])
		if err := fileForUser(ctx, c, m, margs, u, on); err != nil {
			return err
		}
	}
	return nil
}

// caseForContact opens a case from the contact, or attaches the contact to
// the case it names, in the contact's own transaction (the cases'
// storage does the case's part): both commit or neither does.
func caseForContact(ctx context.Context, c conn, db *DB, a audit.Actor, tax taxonomy.Taxonomy, ct *hotline.Contact) error {
	switch ct.Outcome {
	case hotline.CaseOpened:
		var kids []int64
		for _, r := range ct.Children {
			if r.ChildID > 0 {
				kids = append(kids, r.ChildID)
			}
		}
		title := ct.Categories[0]
		if n, ok := tax.Node(title); ok {
			title = n.AZ
		}
		summary := ct.Narrative
		if r := []rune(summary); len(r) > casework.MaxSummary {
			summary = string(r[:casework.MaxSummary])
		}
		k, err := db.createCaseTx(ctx, c, a, casework.NewCase{Type: ct.Categories[0], TaxonomyVersion: tax.Version,
			Severity: casework.Severity(ct.Urgency), Title: fmt.Sprintf("146-2 #%d: %s", ct.ID, title), Summary: summary,
			ChildIDs: kids, DetectedAt: ct.ReceivedAt, ContactID: ct.ID})
		if err != nil {
			if e := apperr.As(err); e.Code == apperr.Invalid {
				fs := make([]apperr.FieldError, 0, len(e.Fields))
				for _, f := range e.Fields {
					fs = append(fs, apperr.Field("outcome", f.Key, f.Args...))
				}
				return apperr.Validation(fs...)
			}
			return err
		}
		ct.CaseID = k.ID
	case hotline.Attached:
		if _, err := db.loadCase(ctx, c, a.Principal, access.Write, ct.CaseID, true); err != nil {
			if code := apperr.CodeOf(err); code == apperr.NotFound || code == apperr.Forbidden {
				return apperr.Validation(apperr.Field("case_id", "hotline.error.case_unknown"))
			}
			return err
		}
		if err := linkContactTx(ctx, c, a, ct.CaseID, ct.ID); err != nil {
			return err
		}
	default:
		return nil
	}
	_, err := c.exec(ctx, `UPDATE contacts SET case_id = ? WHERE id = ?`, ct.CaseID, ct.ID)
	return err
}
