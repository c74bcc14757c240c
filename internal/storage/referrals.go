package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/escalate"
	"dayaq/internal/notify"
	"dayaq/internal/org"
	"dayaq/internal/referral"
)

// EventReferral is the case chronology's entry for a referral sent or moved on.
const EventReferral = "referral"

// Service is one service a body can be asked for.
type Service struct {
	Code     string
	OrgType  org.Type
	NameAZ   string
	NameRU   string
	NameEN   string
	Position int
	Active   bool
}

// Name is the service's name in lang, falling back to Azerbaijani.
func (s Service) Name(lang string) string {
	return org.Org{NameAZ: s.NameAZ, NameRU: s.NameRU, NameEN: s.NameEN}.Name(lang)
}

// ReferralServices lists the service list, active ones only unless all.
func (db *DB) ReferralServices(ctx context.Context, all bool) (ss []Service, err error) {
	defer apperr.Wrap(&err, "storage.ReferralServices")
	q := `SELECT code, org_type, name_az, name_ru, name_en, position, active FROM referral_services`
	if !all {
		q += ` WHERE active`
	}
	rows, err := db.reader().query(ctx, q+` ORDER BY org_type, position, code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s Service
		if err := rows.Scan(&s.Code, &s.OrgType, &s.NameAZ, &s.NameRU, &s.NameEN, &s.Position, &s.Active); err != nil {
			return nil, err
		}
		ss = append(ss, s)
	}
	return ss, rows.Err()
}

// SaveReferralService adds a service or changes one: the city's
// administrators keep the list.
func (db *DB) SaveReferralService(ctx context.Context, a audit.Actor, s Service) (err error) {
	defer apperr.Wrap(&err, "storage.SaveReferralService(%q)", s.Code)
	if !access.CanEditReferralServices(a.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	s.Code, s.NameAZ = strings.ToLower(strings.TrimSpace(s.Code)), strings.TrimSpace(s.NameAZ)
	var fs []apperr.FieldError
	if len(s.Code) < 3 || len(s.Code) > 64 || strings.ContainsAny(s.Code, " ,") {
		fs = append(fs, apperr.Field("code", "referral.error.service_code"))
	}
	if !s.OrgType.Valid() || !referral.Receivable(s.OrgType) {
		fs = append(fs, apperr.Field("org_type", "referral.error.service_org_type"))
	}
	if s.NameAZ == "" {
		fs = append(fs, apperr.Field("name_az", "error.required"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return db.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `INSERT INTO referral_services (code, org_type, name_az, name_ru, name_en, position, active)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET org_type = excluded.org_type, name_az = excluded.name_az,
			name_ru = excluded.name_ru, name_en = excluded.name_en, position = excluded.position, active = excluded.active`,
			s.Code, s.OrgType, s.NameAZ, strings.TrimSpace(s.NameRU), strings.TrimSpace(s.NameEN), s.Position, s.Active); err != nil {
			return err
		}
		e := a.Event("referral_service.save", "referral_service", 0)
		e.Details = detailsJSON(map[string]any{"code": s.Code, "active": s.Active})
		return appendAudit(ctx, c, e)
	})
}

// NewReferral is a referral as the sender fills it in.
type NewReferral struct {
	CaseID      int64
	ChildID     int64 // one of the case's children; 0: the case's first
	ToOrgCode   string
	ServiceCode string
	Urgency     referral.Urgency
	Message     string
	Share       []referral.Section
	Basis       referral.Basis
}

// ReferralRecord is a referral as one principal may see it.
type ReferralRecord struct {
	referral.Referral
	FromOrg    org.Org
	ToOrg      org.Org
	Service    Service
	SenderName string
	Party      referral.Party
	Actions    []referral.Action // what the principal may do now
	// Child is the referred child as the policy lets the principal see
	// them, nil when it does not (a third body, or the receiver once the
	// referral has ended).
	Child *ChildRecord
	// Case is the case as the policy lets the principal see it, nil when it
	// does not; the receiving body sees only the sections Share names.
	Case   *CaseRecord
	Events []ReferralEvent
}

// ReferralEvent is one change of a referral's state.
type ReferralEvent struct {
	At        time.Time
	ActorName string
	OrgName   string
	From, To  referral.State
	Note      string
}

const referralColumns = `r.id, r.case_id, r.child_id, r.from_org_id, r.to_org_id, r.service_code, r.urgency, r.message, r.share,
	r.basis, r.consent_by, r.consent_relation, r.consent_method, r.consent_at, r.basis_reference, r.override_reason,
	r.state, r.note, COALESCE(r.sent_by, 0), r.sent_at, r.ack_due, r.complete_due, r.ack_at, r.closed_at, COALESCE(r.grant_id, 0),
	r.version, COALESCE(u.name, ''),
	fo.code, fo.type, fo.name_az, fo.name_ru, fo.name_en, COALESCE(fo.district_code, ''),
	t.code, t.type, t.name_az, t.name_ru, t.name_en, COALESCE(t.district_code, ''),
	sv.code, sv.org_type, sv.name_az, sv.name_ru, sv.name_en, sv.position, sv.active`

const referralFrom = ` FROM referrals r JOIN orgs fo ON fo.id = r.from_org_id JOIN orgs t ON t.id = r.to_org_id
	JOIN referral_services sv ON sv.code = r.service_code LEFT JOIN users u ON u.id = r.sent_by `

// referralRow is a referral with what the row holds beyond the domain type.
type referralRow struct {
	ReferralRecord
	grantID int64
}

func scanReferral(s interface{ Scan(...any) error }) (referralRow, error) {
	var rr referralRow
	r := &rr.Referral
	var share string
	var consentAt, ackAt, closedAt sql.NullTime
	err := s.Scan(&r.ID, &r.CaseID, &r.ChildID, &r.FromOrgID, &r.ToOrgID, &r.ServiceCode, &r.Urgency, &r.Message, &share,
		&r.Basis.Kind, &r.Basis.ConsentBy, &r.Basis.ConsentRelated, &r.Basis.ConsentMethod, &consentAt, &r.Basis.Reference,
		&r.Basis.Reason, &r.State, &r.Note, &r.SentBy, &r.SentAt, &r.AckDue, &r.CompleteDue, &ackAt, &closedAt, &rr.grantID,
		&r.Version, &rr.SenderName,
		&rr.FromOrg.Code, &rr.FromOrg.Type, &rr.FromOrg.NameAZ, &rr.FromOrg.NameRU, &rr.FromOrg.NameEN, &rr.FromOrg.DistrictCode,
		&rr.ToOrg.Code, &rr.ToOrg.Type, &rr.ToOrg.NameAZ, &rr.ToOrg.NameRU, &rr.ToOrg.NameEN, &rr.ToOrg.DistrictCode,
		&rr.Service.Code, &rr.Service.OrgType, &rr.Service.NameAZ, &rr.Service.NameRU, &rr.Service.NameEN, &rr.Service.Position,
		&rr.Service.Active)
	if err != nil {
		return rr, err
	}
	rr.FromOrg.ID, rr.ToOrg.ID = r.FromOrgID, r.ToOrgID
	r.Share, _ = referral.ParseSections(strings.Split(share, ","))
	r.SentAt, r.AckDue, r.CompleteDue = r.SentAt.UTC(), r.AckDue.UTC(), r.CompleteDue.UTC()
	r.Basis.ConsentAt, r.AckAt, r.ClosedAt = consentAt.Time.UTC(), ackAt.Time.UTC(), closedAt.Time.UTC()
	if !consentAt.Valid {
		r.Basis.ConsentAt = time.Time{}
	}
	if !ackAt.Valid {
		r.AckAt = time.Time{}
	}
	if !closedAt.Valid {
		r.ClosedAt = time.Time{}
	}
	return rr, nil
}

func shareText(ss []referral.Section) string {
	parts := make([]string, len(ss))
	for i, s := range ss {
		parts[i] = string(s)
	}
	return strings.Join(parts, ",")
}

// SendReferral refers a child of a case to a body for a service. Only
// someone who may take part in the case may send it; the consent or legal
// basis is checked (an override needs a senior role and a reason, and is
// marked in the audit and on the case). The deadlines come from the
// working-day calendar. In the same transaction the receiving body is
// granted its shared view of the child, the case's chronology records the
// referral, and the audit trail the sending.
func (db *DB) SendReferral(ctx context.Context, a audit.Actor, n NewReferral) (r ReferralRecord, err error) {
	defer apperr.Wrap(&err, "storage.SendReferral(case %d)", n.CaseID)
	cal, err := db.Calendar(ctx)
	if err != nil {
		return r, err
	}
	var id int64
	err = db.inTx(ctx, func(c conn) (err error) {
		id, err = db.sendReferralTx(ctx, c, cal, a, n)
		return err
	})
	if err != nil {
		return r, err
	}
	return db.ReferralFor(ctx, a, id)
}

// sendReferralTx is SendReferral inside the caller's transaction (a
// recovery plan's referral activity sends one this way).
func (db *DB) sendReferralTx(ctx context.Context, c conn, cal referral.Calendar, a audit.Actor, n NewReferral) (id int64, err error) {
	k, err := db.loadCase(ctx, c, a.Principal, access.Write, n.CaseID, true)
	if err != nil {
		return 0, err
	}
	var fs []apperr.FieldError
	to, err := getOrgByCode(ctx, c, strings.ToUpper(strings.TrimSpace(n.ToOrgCode)))
	switch {
	case apperr.CodeOf(err) == apperr.NotFound || (err == nil && !referral.Receivable(to.Type)):
		fs = append(fs, apperr.Field("to_org", "referral.error.to_org"))
	case err != nil:
		return 0, err
	case to.ID == a.OrgID:
		fs = append(fs, apperr.Field("to_org", "referral.error.to_self"))
	}
	if n.ChildID == 0 && len(k.Children) > 0 {
		n.ChildID = k.Children[0].ID
	}
	if !slices.ContainsFunc(k.Children, func(ch ChildRecord) bool { return ch.ID == n.ChildID }) {
		fs = append(fs, apperr.Field("child_id", "referral.error.child"))
	}
	var svc Service
	err = c.queryRow(ctx, `SELECT code, org_type, name_az, name_ru, name_en, position, active FROM referral_services WHERE code = ? AND active`,
		n.ServiceCode).Scan(&svc.Code, &svc.OrgType, &svc.NameAZ, &svc.NameRU, &svc.NameEN, &svc.Position, &svc.Active)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		fs = append(fs, apperr.Field("service", "referral.error.service"))
	case err != nil:
		return 0, err
	case to.ID != 0 && svc.OrgType != to.Type:
		fs = append(fs, apperr.Field("service", "referral.error.service_body"))
	}
	ref := referral.Referral{CaseID: k.ID, ChildID: n.ChildID, FromOrgID: a.OrgID, ToOrgID: to.ID, ServiceCode: n.ServiceCode,
		Urgency: n.Urgency, Message: strings.TrimSpace(n.Message), Share: n.Share, Basis: n.Basis, State: referral.Sent,
		SentBy: a.UserID, SentAt: c.now, Version: 1}
	if to.ID == 0 {
		ref.ToOrgID = -1 // reported above; keeps Validate from reporting it twice
	}
	if err := ref.Validate(); err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if len(fs) > 0 {
		return 0, apperr.Validation(fs...)
	}
	if err := referral.CheckBasis(a.Principal, n.Basis, c.now); err != nil {
		return 0, err
	}
	if ref.AckDue, ref.CompleteDue, err = referral.Deadlines(cal, ref.Urgency, c.now); err != nil {
		return 0, err
	}
	b := n.Basis
	if err := c.queryRow(ctx, `INSERT INTO referrals (case_id, child_id, from_org_id, to_org_id, service_code, urgency, message, share,
		basis, consent_by, consent_relation, consent_method, consent_at, basis_reference, override_reason, state, sent_by, sent_at,
		ack_due, complete_due, due_at, version, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?) RETURNING id`,
		ref.CaseID, ref.ChildID, ref.FromOrgID, ref.ToOrgID, ref.ServiceCode, ref.Urgency, ref.Message, shareText(ref.Share),
		b.Kind, strings.TrimSpace(b.ConsentBy), strings.TrimSpace(b.ConsentRelated), b.ConsentMethod, nullTime(b.ConsentAt),
		strings.TrimSpace(b.Reference), strings.TrimSpace(b.Reason), ref.State, nullInt(a.UserID), c.now,
		ref.AckDue, ref.CompleteDue, ref.AckDue, c.now).Scan(&id); err != nil {
		return 0, err
	}
	grant, ge, err := grantChildAccessTx(ctx, c, a, ref.ChildID, to.ID, 0, "referral", "referral:"+strconv.FormatInt(id, 10), time.Time{})
	if err != nil {
		return 0, err
	}
	if _, err := c.exec(ctx, `UPDATE referrals SET grant_id = ? WHERE id = ?`, grant, id); err != nil {
		return 0, err
	}
	if err := referralEvent(ctx, c, a, id, "", referral.Sent, ""); err != nil {
		return 0, err
	}
	payload := map[string]any{"referral_id": id, "action": "sent", "to_org": to.Code, "service": svc.Code,
		"urgency": ref.Urgency, "basis": b.Kind}
	if b.Kind == referral.Override {
		payload["override"] = true
	}
	if _, err := addCaseEvent(ctx, c, a, k.ID, EventReferral, payload); err != nil {
		return 0, err
	}
	if err := touchCase(ctx, c, k.ID); err != nil {
		return 0, err
	}
	if err := notifyReceivers(ctx, c, id, to.ID, ref.AckDue); err != nil {
		return 0, err
	}
	if err := appendAudit(ctx, c, ge); err != nil {
		return 0, err
	}
	e := a.Event("referral.send", "referral", id)
	e.ChildID = ref.ChildID
	d := map[string]any{"case_id": k.ID, "to_org": to.Code, "service": svc.Code, "basis": b.Kind, "share": shareText(ref.Share)}
	if b.Kind == referral.Override {
		d["override"] = true
		e.Reason = strings.TrimSpace(b.Reason)
	}
	e.Details = detailsJSON(d)
	return id, appendAudit(ctx, c, e)
}

// notifyReceivers tells the receiving body's officers and supervisors that
// a referral arrived: its number and deadline, never the child's name.
func notifyReceivers(ctx context.Context, c conn, id, orgID int64, ackDue time.Time) error {
	users, err := usersWhere(ctx, c, `u.org_id = ?`, append(officerRoles(), supervisorRoles()...), orgID)
	if err != nil {
		return err
	}
	var msgs []notify.Message
	for _, u := range users {
		m, err := notify.New(notify.ReferralReceived, notify.User(u), "notify.referral.received",
			"/referrals/"+strconv.FormatInt(id, 10), notify.ID(id), notify.At(ackDue))
		if err != nil {
			return err
		}
		msgs = append(msgs, m)
	}
	return notifyTx(ctx, c, msgs...)
}

// notifySender tells whoever sent r (unless they made the change) that it
// moved to state to.
func notifySender(ctx context.Context, c conn, a audit.Actor, r referral.Referral, to referral.State) error {
	if r.SentBy == 0 || r.SentBy == a.UserID {
		return nil
	}
	m, err := notify.New(notify.ReferralChanged, notify.User(r.SentBy), "notify.referral.changed",
		"/referrals/"+strconv.FormatInt(r.ID, 10), notify.ID(r.ID), notify.Key(stateKey(to)))
	if err != nil {
		return err
	}
	return notifyTx(ctx, c, m)
}

// stateKey is the catalogue key naming state s.
func stateKey(s referral.State) string {
	return map[referral.State]string{
		referral.Sent: "referral.state.sent", referral.Acknowledged: "referral.state.acknowledged",
		referral.Accepted: "referral.state.accepted", referral.Declined: "referral.state.declined",
		referral.InProgress: "referral.state.in_progress", referral.Completed: "referral.state.completed",
		referral.Withdrawn: "referral.state.withdrawn",
	}[s]
}

// referralEvent records a change of state.
func referralEvent(ctx context.Context, c conn, a audit.Actor, id int64, from, to referral.State, note string) error {
	_, err := c.exec(ctx, `INSERT INTO referral_events (referral_id, at, actor_user_id, actor_org_id, from_state, to_state, note)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, id, c.now, nullInt(a.UserID), nullInt(a.OrgID), from, to, note)
	return err
}

// partyOf works out how p stands to r: the receiving body's staff, the
// sending side (who may take part in the case), the city unit.
func (db *DB) partyOf(ctx context.Context, c conn, p access.Principal, r referral.Referral) (referral.Party, *CaseRecord, error) {
	party := referral.Party{Principal: p, CityUnit: access.InCityUnit(p), Receiver: p.OrgID == r.ToOrgID}
	k, err := db.loadCase(ctx, c, p, access.Read, r.CaseID, false)
	switch apperr.CodeOf(err) {
	case "":
		party.Sender = k.CanWrite && k.Decision.View == access.ViewFull
		return party, &k, nil
	case apperr.NotFound:
		return party, nil, nil
	}
	return party, nil, err
}

// loadReferral reads referral id for p: NotFound unless p is its receiving
// body, the city unit, or may read its case.
func (db *DB) loadReferral(ctx context.Context, c conn, p access.Principal, id int64, lock bool) (referralRow, error) {
	q := `SELECT ` + referralColumns + referralFrom + `WHERE r.id = ?`
	if lock && c.engine == Postgres {
		q += ` FOR UPDATE OF r`
	}
	rr, err := scanReferral(c.queryRow(ctx, q, id))
	if errors.Is(err, sql.ErrNoRows) {
		return rr, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return rr, fmt.Errorf("load referral %d: %w", id, err)
	}
	party, k, err := db.partyOf(ctx, c, p, rr.Referral)
	if err != nil {
		return rr, err
	}
	// Reaching the case only through a referral's grant (a shared view) is
	// no reason to see the other referrals of that case.
	full := k != nil && k.Decision.View == access.ViewFull
	if !(party.Receiver && access.ReceivesReferrals(p)) && !party.CityUnit && !full {
		return rr, apperr.New(apperr.NotFound, "error.not_found")
	}
	rr.Party, rr.Case = party, k
	rr.Actions = referral.Allowed(rr.State, party)
	return rr, nil
}

// ReferralFor returns referral id as a may see it, with its history, and
// the child and case as far as the policy lets a see them, and audits the
// read. A referral a may not see is NotFound.
func (db *DB) ReferralFor(ctx context.Context, a audit.Actor, id int64) (r ReferralRecord, err error) {
	defer apperr.Wrap(&err, "storage.ReferralFor(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		rr, err := db.loadReferral(ctx, c, a.Principal, id, false)
		if apperr.CodeOf(err) == apperr.NotFound {
			if aerr := appendAudit(ctx, c, a.Event("referral.read_denied", "referral", id)); aerr != nil {
				return aerr
			}
			return errCommit{err}
		}
		if err != nil {
			return err
		}
		ch, err := loadChild(ctx, c, a.Principal, access.Read, rr.ChildID)
		switch apperr.CodeOf(err) {
		case "":
			rr.Child = &ch
		case apperr.NotFound:
		default:
			return err
		}
		if rr.Child == nil && rr.Case == nil && !rr.Party.CityUnit {
			// The receiving body once the referral has ended: what it did, not the child's data.
			rr.Message, rr.Basis, rr.Share = "", referral.Basis{Kind: rr.Basis.Kind}, nil
		}
		if rr.Events, err = referralEvents(ctx, c, id); err != nil {
			return err
		}
		r = rr.ReferralRecord
		e := a.Event("referral.read", "referral", id)
		if rr.Child != nil {
			e.ChildID = rr.ChildID
		}
		return appendAudit(ctx, c, e)
	})
	var ec errCommit
	if errors.As(err, &ec) {
		return ReferralRecord{}, ec.err
	}
	return r, err
}

func referralEvents(ctx context.Context, c conn, id int64) ([]ReferralEvent, error) {
	rows, err := c.query(ctx, `SELECT e.at, COALESCE(u.name, ''), COALESCE(o.name_az, ''), e.from_state, e.to_state, e.note
		FROM referral_events e LEFT JOIN users u ON u.id = e.actor_user_id LEFT JOIN orgs o ON o.id = e.actor_org_id
		WHERE e.referral_id = ? ORDER BY e.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReferralEvent
	for rows.Next() {
		var e ReferralEvent
		if err := rows.Scan(&e.At, &e.ActorName, &e.OrgName, &e.From, &e.To, &e.Note); err != nil {
			return nil, err
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// staleReferral is the Conflict of a change based on an old version: it
// says what the referral is now.
func staleReferral(cur referral.Referral) error {
	keys := map[referral.State]string{
		referral.Sent:         "referral.error.stale.sent",
		referral.Acknowledged: "referral.error.stale.acknowledged",
		referral.Accepted:     "referral.error.stale.accepted",
		referral.Declined:     "referral.error.stale.declined",
		referral.InProgress:   "referral.error.stale.in_progress",
		referral.Completed:    "referral.error.stale.completed",
		referral.Withdrawn:    "referral.error.stale.withdrawn",
	}
	return apperr.New(apperr.Conflict, keys[cur.State], cur.Version)
}

// ChangeReferral applies ch to referral id if a may and the referral is
// still at version. The change is attributed (referral_events), lands in
// the case's chronology and the audit trail; ending the referral ends the
// receiving body's access to the child, in the same transaction.
func (db *DB) ChangeReferral(ctx context.Context, a audit.Actor, id int64, version int, ch referral.Change) (r ReferralRecord, err error) {
	defer apperr.Wrap(&err, "storage.ChangeReferral(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		rr, err := db.loadReferral(ctx, c, a.Principal, id, true)
		if err != nil {
			return err
		}
		if rr.Version != version {
			return staleReferral(rr.Referral)
		}
		to, err := referral.Next(rr.State, rr.Party, ch)
		if err != nil {
			return err
		}
		note := strings.TrimSpace(ch.Note)
		var due, ackAt, closedAt sql.NullTime
		ackAt = nullTime(rr.AckAt)
		if rr.AckAt.IsZero() && rr.State == referral.Sent && ch.Action != referral.Withdraw {
			ackAt = nullTime(c.now)
		}
		if to.Live() {
			due = nullTime(rr.CompleteDue)
		} else {
			closedAt = nullTime(c.now)
		}
		res, err := c.exec(ctx, `UPDATE referrals SET state = ?, note = ?, ack_at = ?, closed_at = ?, due_at = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			to, note, ackAt, closedAt, due, c.now, id, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return staleReferral(rr.Referral)
		}
		if err := referralEvent(ctx, c, a, id, rr.State, to, note); err != nil {
			return err
		}
		if _, err := addCaseEvent(ctx, c, a, rr.CaseID, EventReferral, map[string]any{"referral_id": id, "action": ch.Action,
			"from": rr.State, "to": to, "to_org": rr.ToOrg.Code}); err != nil {
			return err
		}
		if err := touchCase(ctx, c, rr.CaseID); err != nil {
			return err
		}
		if err := notifySender(ctx, c, a, rr.Referral, to); err != nil {
			return err
		}
		var events []audit.Event
		if !to.Live() && rr.grantID != 0 {
			ge, err := endChildAccessTx(ctx, c, a, rr.grantID)
			if err != nil && apperr.CodeOf(err) != apperr.NotFound {
				return err
			}
			if err == nil {
				events = append(events, ge)
			}
		}
		e := a.Event("referral."+string(ch.Action), "referral", id)
		e.ChildID = rr.ChildID
		e.Details = detailsJSON(map[string]any{"from": rr.State, "to": to, "case_id": rr.CaseID})
		for _, ev := range append(events, e) {
			if err := appendAudit(ctx, c, ev); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	return db.ReferralFor(ctx, a, id)
}

// ReferralQuery selects referrals within what the principal may see.
type ReferralQuery struct {
	CaseID   int64
	ToOrgID  int64
	State    referral.State
	OpenOnly bool // live referrals only
	Overdue  bool // live referrals past their current deadline
	Before   int64
	Limit    int
}

// referralBranches are the ways p reaches referrals, as SQL conditions on
// referrals r: the city unit sees all; a receiving body's staff those sent
// to their body; anyone those whose case they may list (the sending side).
func referralBranches(p access.Principal, now time.Time) (conds []string, args [][]any) {
	if !p.Authenticated() {
		return nil, nil
	}
	if access.InCityUnit(p) {
		return []string{`1 = 1`}, [][]any{nil}
	}
	if access.ReceivesReferrals(p) {
		conds, args = append(conds, `r.to_org_id = ?`), append(args, []any{p.OrgID})
	}
	f := access.FilterCases(p, access.List)
	f.Children.GrantOrgID, f.Children.GrantUserID = 0, 0 // a referral's grant shows that referral, not its siblings
	for _, b := range caseBranches(f, now) {
		conds = append(conds, `r.case_id IN (SELECT k.id`+b.from+`WHERE `+b.cond+`)`)
		args = append(args, b.args)
	}
	return conds, args
}

// visibleReferrals builds the WHERE clause of referrals p may see under q.
func visibleReferrals(p access.Principal, q ReferralQuery, now time.Time) (string, []any, bool) {
	conds, cargs := referralBranches(p, now)
	if len(conds) == 0 {
		return "", nil, false
	}
	var args []any
	for _, a := range cargs {
		args = append(args, a...)
	}
	where := `((` + strings.Join(conds, `) OR (`) + `))`
	if q.CaseID != 0 {
		where += ` AND r.case_id = ?`
		args = append(args, q.CaseID)
	}
	if q.ToOrgID != 0 {
		where += ` AND r.to_org_id = ?`
		args = append(args, q.ToOrgID)
	}
	if q.State != "" {
		where += ` AND r.state = ?`
		args = append(args, q.State)
	}
	if q.OpenOnly {
		where += ` AND r.due_at IS NOT NULL`
	}
	if q.Overdue {
		where += ` AND r.due_at < ?`
		args = append(args, now)
	}
	if q.Before > 0 {
		where += ` AND r.id < ?`
		args = append(args, q.Before)
	}
	return where, args, true
}

// ListReferrals lists the referrals a may see, newest first, filtered in
// SQL. Lists carry no child's data (the case's number, the bodies, the
// service and the deadlines); the list is audited with the IDs it showed.
func (db *DB) ListReferrals(ctx context.Context, a audit.Actor, q ReferralQuery) (rs []ReferralRecord, err error) {
	defer apperr.Wrap(&err, "storage.ListReferrals")
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	err = db.inTx(ctx, func(c conn) error {
		where, args, ok := visibleReferrals(a.Principal, q, c.now)
		if !ok {
			return nil
		}
		rows, err := c.query(ctx, `SELECT `+referralColumns+referralFrom+`WHERE `+where+` ORDER BY r.id DESC LIMIT `+strconv.Itoa(q.Limit), args...)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			rr, err := scanReferral(rows)
			if err != nil {
				rows.Close()
				return err
			}
			rr.Message, rr.Note, rr.Basis = "", "", referral.Basis{Kind: rr.Basis.Kind} // not in lists
			rs = append(rs, rr.ReferralRecord)
			ids = append(ids, rr.ID)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		e := a.Event("referral.list", "referral", 0)
		e.Details = idsJSON(ids)
		return appendAudit(ctx, c, e)
	})
	return rs, err
}

// BoardRow is one body on the "who is waiting on whom" board.
type BoardRow struct {
	Org            org.Org
	Open           int
	Overdue        int
	MedianAck      time.Duration // sent → acknowledged, over the referrals acknowledged
	MedianComplete time.Duration // sent → completed, over the referrals completed
	Acked, Done    int           // how many the medians are over
}

// ReferralBoard is the "who is waiting on whom" board over the referrals a
// may see, sent in the last year: per receiving body, how many are open and
// overdue now, and the median times to acknowledge and to complete.
func (db *DB) ReferralBoard(ctx context.Context, a audit.Actor) (rows []BoardRow, err error) {
	defer apperr.Wrap(&err, "storage.ReferralBoard")
	c := db.reader()
	where, args, ok := visibleReferrals(a.Principal, ReferralQuery{}, c.now)
	if !ok {
		return nil, nil
	}
	q := `SELECT r.to_org_id, t.code, t.type, t.name_az, t.name_ru, t.name_en, r.state, r.sent_at, r.ack_at, r.closed_at, r.due_at
		FROM referrals r JOIN orgs t ON t.id = r.to_org_id WHERE ` + where + ` AND r.sent_at > ?`
	rs, err := c.query(ctx, q, append(args, c.now.AddDate(-1, 0, 0))...)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	byOrg := map[int64]*BoardRow{}
	acks, dones := map[int64][]time.Duration{}, map[int64][]time.Duration{}
	var order []int64
	for rs.Next() {
		var o org.Org
		var state referral.State
		var sent time.Time
		var ack, closed, due sql.NullTime
		if err := rs.Scan(&o.ID, &o.Code, &o.Type, &o.NameAZ, &o.NameRU, &o.NameEN, &state, &sent, &ack, &closed, &due); err != nil {
			return nil, err
		}
		row := byOrg[o.ID]
		if row == nil {
			row = &BoardRow{Org: o}
			byOrg[o.ID] = row
			order = append(order, o.ID)
		}
		if state.Live() {
			row.Open++
			if due.Valid && c.now.After(due.Time) {
				row.Overdue++
			}
		}
		if ack.Valid {
			acks[o.ID] = append(acks[o.ID], ack.Time.Sub(sent))
		}
		if state == referral.Completed && closed.Valid {
			dones[o.ID] = append(dones[o.ID], closed.Time.Sub(sent))
		}
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	for _, id := range order {
		row := byOrg[id]
		row.MedianAck, row.Acked = referral.Median(acks[id]), len(acks[id])
		row.MedianComplete, row.Done = referral.Median(dones[id]), len(dones[id])
		rows = append(rows, *row)
	}
	slices.SortFunc(rows, func(x, y BoardRow) int {
		if x.Overdue != y.Overdue {
			return y.Overdue - x.Overdue
		}
		if x.Open != y.Open {
			return y.Open - x.Open
		}
		return strings.Compare(x.Org.Code, y.Org.Code)
	})
	return rows, nil
}

// ReferralsDue is the escalation provider of referrals: every live
// referral whose current deadline (to acknowledge while sent, else to
// complete) is before before. The receiving body is responsible.
func (db *DB) ReferralsDue(ctx context.Context, before time.Time) (items []escalate.Item, err error) {
	defer apperr.Wrap(&err, "storage.ReferralsDue")
	rows, err := db.reader().query(ctx, `SELECT id, state, child_id, to_org_id, sent_at, due_at FROM referrals
		WHERE due_at IS NOT NULL AND due_at < ? ORDER BY due_at, id LIMIT 5000`, before.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var it escalate.Item
		var state referral.State
		if err := rows.Scan(&it.SubjectID, &state, &it.ChildID, &it.OrgID, &it.Start, &it.Due); err != nil {
			return nil, err
		}
		it.Start, it.Due = it.Start.UTC(), it.Due.UTC()
		it.SubjectKind, it.What = "referral_complete", "escalate.what.referral_complete"
		if state == referral.Sent {
			it.SubjectKind, it.What = "referral_ack", "escalate.what.referral_ack"
		}
		it.Link = "/referrals/" + strconv.FormatInt(it.SubjectID, 10)
		items = append(items, it)
	}
	return items, rows.Err()
}

// ActionItemsDue is the escalation provider of the working group's action
// items: every open item due before before, its owner responsible.
func (db *DB) ActionItemsDue(ctx context.Context, before time.Time) (items []escalate.Item, err error) {
	defer apperr.Wrap(&err, "storage.ActionItemsDue")
	rows, err := db.reader().query(ctx, `SELECT a.id, a.owner_user_id, u.org_id, a.created_at, a.due_at FROM wg_actions a
		JOIN users u ON u.id = a.owner_user_id WHERE a.status IN ('open', 'in_progress') AND a.due_at < ?
		ORDER BY a.due_at, a.id LIMIT 5000`, before.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		it := escalate.Item{SubjectKind: "action_item", What: "escalate.what.action_item", Link: "/working-group"}
		if err := rows.Scan(&it.SubjectID, &it.Assignee, &it.OrgID, &it.Start, &it.Due); err != nil {
			return nil, err
		}
		it.Start, it.Due = it.Start.UTC(), it.Due.UTC()
		items = append(items, it)
	}
	return items, rows.Err()
}

// ReferralDeadlines reports the deadlines a referral of urgency u sent now
// would get, for the form to show before sending.
func (db *DB) ReferralDeadlines(ctx context.Context, u referral.Urgency) (ack, complete time.Time, err error) {
	defer apperr.Wrap(&err, "storage.ReferralDeadlines(%s)", u)
	if !u.Valid() {
		return ack, complete, apperr.Validation(apperr.Field("urgency", "referral.error.urgency"))
	}
	cal, err := db.Calendar(ctx)
	if err != nil {
		return ack, complete, err
	}
	return referral.Deadlines(cal, u, db.Now())
}

// CaseBrief returns case id as a may see it, without its chronology or
// notes, for an agenda or a referral form; NotFound when the policy does
// not let a see it. The read is audited.
func (db *DB) CaseBrief(ctx context.Context, a audit.Actor, id int64) (r CaseRecord, err error) {
	defer apperr.Wrap(&err, "storage.CaseBrief(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		if r, err = db.loadCase(ctx, c, a.Principal, access.Read, id, false); err != nil {
			return err
		}
		e := a.Event("case.read", "case", id)
		e.ChildID = firstChild(r)
		e.Details = detailsJSON(map[string]any{"brief": true})
		return appendAudit(ctx, c, e)
	})
	return r, err
}
