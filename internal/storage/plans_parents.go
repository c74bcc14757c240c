package storage

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/casework"
	"dayaq/internal/notify"
	"dayaq/internal/plan"
	"dayaq/internal/referral"
)

// AddPlanParent adds a parent or guardian to plan id.
func (db *DB) AddPlanParent(ctx context.Context, a audit.Actor, id int64, version int, p plan.Parent) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.AddPlanParent(%d)", id)
	if err := p.Validate(); err != nil {
		return r, err
	}
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		pid, err := insertParent(ctx, c, id, p)
		if err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.parent_add", *r, map[string]any{"parent_id": pid})
	})
}

// recordAgreement stores a parent's answer to the current version and, once
// the version stands agreed, makes the plan active.
func recordAgreement(ctx context.Context, c conn, r *PlanRecord, g plan.Agreement, by int64) error {
	if _, ok := r.Parent(g.ParentID); !ok {
		return apperr.Validation(apperr.Field("parent", "plans.error.parent"))
	}
	g.Version, g.At, g.Reason = r.ContentVersion, c.now, strings.TrimSpace(g.Reason)
	if err := g.Validate(); err != nil {
		return err
	}
	if _, err := c.exec(ctx, `INSERT INTO plan_agreements (plan_id, parent_id, version, agrees, reason, via, at, recorded_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, r.ID, g.ParentID, g.Version, g.Agrees, g.Reason, g.Via, g.At, nullInt(by)); err != nil {
		return err
	}
	r.Agreements = append(r.Agreements, g)
	agreed := plan.Agreed(r.Agreements, r.ContentVersion)
	status := plan.Draft
	if agreed {
		status = plan.Active
	}
	_, err := c.exec(ctx, `UPDATE plans SET status = ?, agreed_at = CASE WHEN ? THEN ? ELSE agreed_at END WHERE id = ?`,
		status, agreed, c.now, r.ID)
	r.Status = status
	return err
}

// RecordAgreement records, for staff, a parent's agreement or disagreement
// (with the reason) given on paper or in person.
func (db *DB) RecordAgreement(ctx context.Context, a audit.Actor, id int64, version int, g plan.Agreement) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.RecordAgreement(%d)", id)
	if g.Via == plan.ParentPage {
		return r, apperr.Validation(apperr.Field("via", "plans.error.method"))
	}
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		if err := recordAgreement(ctx, c, r, g, a.UserID); err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.agreement", *r, map[string]any{"parent_id": g.ParentID, "agrees": g.Agrees,
			"via": g.Via, "content_version": r.ContentVersion})
	})
}

// recordConsent stores a consent given or withdrawn and applies what a
// withdrawal means for the plan: sharing with the body stops (its live
// referral is withdrawn, which ends its access), the lead is told.
func (db *DB) recordConsent(ctx context.Context, c conn, a audit.Actor, r *PlanRecord, k plan.Consent) (plan.Effect, error) {
	if _, ok := r.Parent(k.ParentID); !ok {
		return "", apperr.Validation(apperr.Field("parent", "plans.error.parent"))
	}
	if k.At.IsZero() {
		k.At = c.now
	}
	if err := k.Validate(c.now); err != nil {
		return "", err
	}
	if k.Purpose == plan.ShareWithBody && !slices.ContainsFunc(r.Activities, func(x PlanActivity) bool {
		return x.Responsible.Kind == plan.PartyBody && x.Responsible.OrgID == k.OrgID
	}) {
		return "", apperr.Validation(apperr.Field("org", "plans.error.consent_body"))
	}
	var due sql.NullTime
	if k.Given && k.Method == plan.Verbal {
		cal, err := db.Calendar(ctx)
		if err != nil {
			return "", err
		}
		s, err := planSettings(ctx, c)
		if err != nil {
			return "", err
		}
		d, err := plan.ConfirmDue(cal, k.At, s.ConfirmDays)
		if err != nil {
			return "", err
		}
		due = nullTime(d.UTC())
	}
	var orgID sql.NullInt64
	if k.Purpose == plan.ShareWithBody {
		orgID = nullInt(k.OrgID)
	}
	var kid int64
	if err := c.queryRow(ctx, `INSERT INTO plan_consents (plan_id, parent_id, purpose, org_id, given, method, at, recorded_by, confirm_due)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, r.ID, k.ParentID, k.Purpose, orgID, k.Given, k.Method, k.At.UTC(),
		nullInt(a.UserID), due).Scan(&kid); err != nil {
		return "", err
	}
	k.ID = kid
	effect := plan.WithdrawalEffect(r.Consents, k, c.now)
	r.Consents = append(r.Consents, k)
	r.Standing = plan.Current(r.Consents, c.now)
	switch effect {
	case plan.StopSharing:
		for _, x := range r.Activities {
			if x.Responsible.OrgID == k.OrgID && x.ReferralID != 0 && x.ReferralState.Live() {
				if err := withdrawPlanReferral(ctx, c, a, x.ReferralID); err != nil {
					return "", err
				}
			}
		}
		fallthrough
	case plan.StopAloneSession, plan.Suspend:
		if err := notifyLead(ctx, c, *r, "notify.plans.consent_withdrawn"); err != nil {
			return "", err
		}
	}
	return effect, nil
}

// withdrawPlanReferral withdraws a live referral because the parents
// withdrew their consent to share with the body: the change goes through
// the referral's own history, the case's chronology and the end of the
// body's access, as any withdrawal does.
func withdrawPlanReferral(ctx context.Context, c conn, a audit.Actor, id int64) error {
	var state referral.State
	var caseID, childID, grantID int64
	var version int
	if err := c.queryRow(ctx, `SELECT state, case_id, child_id, COALESCE(grant_id, 0), version FROM referrals WHERE id = ?`, id).
		Scan(&state, &caseID, &childID, &grantID, &version); err != nil {
		return err
	}
	if !state.Live() {
		return nil
	}
	const note = "consent withdrawn by the parent"
	if _, err := c.exec(ctx, `UPDATE referrals SET state = 'withdrawn', note = ?, closed_at = ?, due_at = NULL, version = version + 1,
		updated_at = ? WHERE id = ? AND version = ?`, note, c.now, c.now, id, version); err != nil {
		return err
	}
	if err := referralEvent(ctx, c, a, id, state, referral.Withdrawn, note); err != nil {
		return err
	}
	if _, err := addCaseEvent(ctx, c, a, caseID, EventReferral, map[string]any{"referral_id": id, "action": referral.Withdraw,
		"from": state, "to": referral.Withdrawn, "consent_withdrawn": true}); err != nil {
		return err
	}
	if grantID != 0 {
		ge, err := endChildAccessTx(ctx, c, a, grantID)
		if err != nil && apperr.CodeOf(err) != apperr.NotFound {
			return err
		}
		if err == nil {
			if err := appendAudit(ctx, c, ge); err != nil {
				return err
			}
		}
	}
	e := a.Event("referral.withdraw", "referral", id)
	e.ChildID = childID
	e.Details = detailsJSON(map[string]any{"from": state, "to": referral.Withdrawn, "case_id": caseID, "consent_withdrawn": true})
	return appendAudit(ctx, c, e)
}

// RecordConsent records, for staff, a consent given or withdrawn on paper
// or verbally; verbal consent gets its written-confirmation deadline.
func (db *DB) RecordConsent(ctx context.Context, a audit.Actor, id int64, version int, k plan.Consent) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.RecordConsent(%d)", id)
	if k.Method == plan.ParentPage {
		return r, apperr.Validation(apperr.Field("method", "plans.error.method"))
	}
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		effect, err := db.recordConsent(ctx, c, a, r, k)
		if err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.consent", *r, map[string]any{"parent_id": k.ParentID, "purpose": k.Purpose,
			"org_id": k.OrgID, "given": k.Given, "method": k.Method, "effect": effect})
	})
}

// ConfirmConsent records the written confirmation of a verbal consent.
func (db *DB) ConfirmConsent(ctx context.Context, a audit.Actor, id int64, version int, consentID int64) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.ConfirmConsent(%d)", id)
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		res, err := c.exec(ctx, `UPDATE plan_consents SET confirmed_at = ?, confirm_due = NULL WHERE id = ? AND plan_id = ?
			AND method = 'verbal' AND given AND confirmed_at IS NULL`, c.now, consentID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return planAudit(ctx, c, a, "plan.consent_confirm", *r, map[string]any{"consent_id": consentID})
	})
}

// SendPlanReferral sends a referral activity's referral through the
// referral machinery (deadlines, the body's access, the case's
// chronology): the plan's special case, opened for the plan if it has
// none; the basis is the parents' standing consent to share with that body.
func (db *DB) SendPlanReferral(ctx context.Context, a audit.Actor, id int64, version int, activityID int64, u referral.Urgency, message string) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.SendPlanReferral(%d)", id)
	cal, err := db.Calendar(ctx)
	if err != nil {
		return r, err
	}
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		i := slices.IndexFunc(r.Activities, func(x PlanActivity) bool { return x.ID == activityID })
		if i < 0 || r.Activities[i].Kind != plan.ReferralActivity {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		act := r.Activities[i]
		if act.ReferralID != 0 && act.ReferralState.Live() {
			return apperr.New(apperr.Conflict, "plans.error.referral_sent")
		}
		var consent plan.Consent
		for _, s := range r.Standing {
			if s.Purpose == plan.ShareWithBody && s.OrgID == act.Responsible.OrgID && s.Given {
				consent = s.Last
			}
		}
		if consent.ID == 0 || !consent.Given {
			return apperr.New(apperr.Conflict, "plans.error.no_consent")
		}
		parent, _ := r.Parent(consent.ParentID)
		if r.CaseID == 0 {
			k, err := db.createCaseTx(ctx, c, a, casework.NewCase{Type: "support.recovery_plan", Severity: casework.Medium,
				Title: "PLAN-" + strconv.FormatInt(r.ID, 10), ChildIDs: []int64{r.ChildID}})
			if err != nil {
				return err
			}
			r.CaseID = k.ID
			if _, err := c.exec(ctx, `UPDATE plans SET case_id = ? WHERE id = ?`, k.ID, r.ID); err != nil {
				return err
			}
		}
		method := map[plan.Method]referral.ConsentMethod{plan.OnPaper: referral.Written, plan.Verbal: referral.Oral,
			plan.ParentPage: referral.Electronic}[consent.Method]
		refID, err := db.sendReferralTx(ctx, c, cal, a, NewReferral{CaseID: r.CaseID, ChildID: r.ChildID, ToOrgCode: act.ToOrg.Code,
			ServiceCode: act.ServiceCode, Urgency: u, Message: message, Share: []referral.Section{referral.ShareSummary, referral.ShareSchool},
			Basis: referral.Basis{Kind: referral.Consent, ConsentBy: parent.Name, ConsentRelated: parent.Relation, ConsentMethod: method,
				ConsentAt: consent.At}})
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE plan_activities SET referral_id = ? WHERE id = ?`, refID, activityID); err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.referral_send", *r, map[string]any{"activity_id": activityID, "referral_id": refID})
	})
}

// NewParentLink is what sending a parent link returns: the token and the
// short code exist only here (storage keeps their hashes).
type NewParentLink struct {
	Link  plan.Link
	Token string
	Code  string
}

// CreateParentLink opens a link to plan id's parent page for parent
// parentID, for lifetime (0: the default 14 days), and when sms is set
// sends it by SMS through the outbox: the SMS carries the address and the
// random token only.
func (db *DB) CreateParentLink(ctx context.Context, a audit.Actor, id int64, version int, parentID int64, lifetime time.Duration, sms bool) (nl NewParentLink, err error) {
	defer apperr.Wrap(&err, "storage.CreateParentLink(%d)", id)
	life, err := plan.Lifetime(lifetime)
	if err != nil {
		return nl, err
	}
	_, err = db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		p, ok := r.Parent(parentID)
		if !ok {
			return apperr.Validation(apperr.Field("parent", "plans.error.parent"))
		}
		if sms && p.Phone == "" {
			return apperr.Validation(apperr.Field("parent", "plans.error.no_phone"))
		}
		token, code, th, ch := plan.NewLinkToken()
		l := plan.Link{PlanID: id, ParentID: parentID, CreatedAt: c.now, ExpiresAt: c.now.Add(life)}
		if err := c.queryRow(ctx, `INSERT INTO plan_links (plan_id, parent_id, token_hash, code_hash, created_by, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, parentID, th, ch, nullInt(a.UserID), c.now, l.ExpiresAt).Scan(&l.ID); err != nil {
			return err
		}
		if sms {
			m, err := notify.New(notify.PlanParent, notify.Address(notify.SMS, p.Phone), "notify.plans.parent_link", "/p/"+token)
			if err != nil {
				return err
			}
			args, err := notify.MarshalArgs(m.Args())
			if err != nil {
				return err
			}
			if err := enqueue(ctx, c, notify.SMS, 0, p.Phone, p.Language, m, args); err != nil {
				return err
			}
		}
		nl = NewParentLink{Link: l, Token: token, Code: code}
		return planAudit(ctx, c, a, "plan.link_create", *r, map[string]any{"link_id": l.ID, "parent_id": parentID, "sms": sms,
			"days": int(life.Hours() / 24)})
	})
	return nl, err
}

// RevokeParentLink ends a parent link now.
func (db *DB) RevokeParentLink(ctx context.Context, a audit.Actor, id int64, version int, linkID int64) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.RevokeParentLink(%d)", id)
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		res, err := c.exec(ctx, `UPDATE plan_links SET revoked_at = ?, session_hash = '' WHERE id = ? AND plan_id = ? AND revoked_at IS NULL`,
			c.now, linkID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return planAudit(ctx, c, a, "plan.link_revoke", *r, map[string]any{"link_id": linkID})
	})
}

// ParentPage is what a parent's page shows: their plan in plain words,
// their own commitments, the next meetings, their consents.
type ParentPage struct {
	State       plan.LinkState
	Unlocked    bool
	TriesLeft   int
	Language    string
	Link        plan.Link
	Parent      plan.Parent
	PlanID      int64
	ChildFirst  string // the child's first name only
	SchoolName  string
	Status      plan.Status
	Version     int // the plan content version they answer to
	Agreed      *plan.Agreement
	Goals       []plan.Goal
	Commitments []plan.Activity
	Sessions    []plan.Session // the next meetings (from now)
	Standing    []plan.Standing
	Bodies      map[int64]string // bodies the plan may share with: id → name
	NextReview  time.Time
	CallAsked   bool
}

// parentActor is the audit actor of a parent acting through their page:
// no user; the details name the parent and the link.
func parentEvent(ctx context.Context, c conn, ip, reqID, action string, l plan.Link, childID int64, extra map[string]any) error {
	e := audit.Actor{IP: ip, RequestID: reqID}.Event(action, "plan", l.PlanID)
	e.ChildID = childID
	d := map[string]any{"as": "parent", "parent_id": l.ParentID, "link_id": l.ID}
	for k, v := range extra {
		d[k] = v
	}
	e.Details = detailsJSON(d)
	return appendAudit(ctx, c, e)
}

// linkByToken finds a link by its token or its short code.
func linkByToken(ctx context.Context, c conn, token string) (plan.Link, string, error) {
	var sessionHash string
	var sessionUntil sql.NullTime
	q := `SELECT ` + linkColumns + `, session_hash, session_until FROM plan_links WHERE token_hash = ?`
	arg := auth.HashToken(token)
	if len(token) <= 12 {
		q = `SELECT ` + linkColumns + `, session_hash, session_until FROM plan_links WHERE code_hash = ?`
		arg = plan.HashCode(token)
	}
	var l plan.Link
	var rev, locked, used sql.NullTime
	err := c.queryRow(ctx, q, arg).Scan(&l.ID, &l.PlanID, &l.ParentID, &l.CreatedAt, &l.ExpiresAt, &rev, &l.Failures, &locked, &used,
		&sessionHash, &sessionUntil)
	if errors.Is(err, sql.ErrNoRows) {
		return l, "", apperr.New(apperr.NotFound, "plans.parent.link_unknown")
	}
	if err != nil {
		return l, "", err
	}
	l.CreatedAt, l.ExpiresAt = l.CreatedAt.UTC(), l.ExpiresAt.UTC()
	l.RevokedAt, l.LockedAt, l.LastUsed = utcOf(rev), utcOf(locked), utcOf(used)
	if sessionUntil.Valid && sessionUntil.Time.After(c.now) {
		return l, sessionHash, nil
	}
	return l, "", nil
}

// ParentView opens the parent page of token for the browser holding
// session (the cookie set when the birth date was given, "" before). It
// shows the plan only to an unlocked browser on an open link; every visit
// is audited as the parent.
func (db *DB) ParentView(ctx context.Context, token, session, ip, reqID string) (pg ParentPage, err error) {
	defer apperr.Wrap(&err, "storage.ParentView")
	err = db.inTx(ctx, func(c conn) error {
		l, sh, err := linkByToken(ctx, c, token)
		if err != nil {
			return err
		}
		pg, err = parentPage(ctx, c, l, sh != "" && session != "" && sh == auth.HashToken(session))
		if err != nil {
			return err
		}
		var child int64
		_ = c.queryRow(ctx, `SELECT child_id FROM plans WHERE id = ?`, l.PlanID).Scan(&child)
		return parentEvent(ctx, c, ip, reqID, "plan.parent_visit", l, child, map[string]any{"state": pg.State, "unlocked": pg.Unlocked})
	})
	return pg, err
}

// parentPage builds the page of link l; unlocked says whether the browser
// gave the birth date.
func parentPage(ctx context.Context, c conn, l plan.Link, unlocked bool) (ParentPage, error) {
	pg := ParentPage{State: l.State(c.now), Link: l, TriesLeft: l.TriesLeft(), PlanID: l.PlanID}
	if err := c.queryRow(ctx, `SELECT name, relation, phone, language FROM plan_parents WHERE id = ?`, l.ParentID).
		Scan(&pg.Parent.Name, &pg.Parent.Relation, &pg.Parent.Phone, &pg.Language); err != nil {
		return pg, err
	}
	pg.Parent.ID, pg.Parent.Language = l.ParentID, pg.Language
	if pg.State != plan.LinkOpen || !unlocked {
		pg.Parent = plan.Parent{ID: l.ParentID, Language: pg.Language} // nothing before the birth date
		return pg, nil
	}
	pg.Unlocked = true
	var r PlanRecord
	var due sql.NullTime
	if err := c.queryRow(ctx, `SELECT pl.id, pl.child_id, pl.status, pl.content_version, pl.next_review_due, c.first_name, s.name_az
		FROM plans pl JOIN children c ON c.id = pl.child_id JOIN orgs s ON s.id = pl.school_id WHERE pl.id = ?`, l.PlanID).
		Scan(&r.ID, &r.ChildID, &pg.Status, &pg.Version, &due, &pg.ChildFirst, &pg.SchoolName); err != nil {
		return pg, err
	}
	pg.NextReview = utcOf(due)
	var err error
	if pg.Goals, err = planGoals(ctx, c, l.PlanID); err != nil {
		return pg, err
	}
	acts, err := planActivities(ctx, c, l.PlanID)
	if err != nil {
		return pg, err
	}
	pg.Bodies = map[int64]string{}
	for _, a := range acts {
		if a.Responsible.Kind == plan.PartyParent && a.Responsible.ParentID == l.ParentID {
			pg.Commitments = append(pg.Commitments, a.Activity)
		}
		if a.Responsible.Kind == plan.PartyBody {
			pg.Bodies[a.Responsible.OrgID] = a.ToOrg.Name(pg.Language)
		}
	}
	ss, err := planSessions(ctx, c, l.PlanID)
	if err != nil {
		return pg, err
	}
	for _, s := range ss {
		if !s.At.Before(c.now) {
			pg.Sessions = append(pg.Sessions, s)
		}
	}
	cs, err := planConsents(ctx, c, l.PlanID)
	if err != nil {
		return pg, err
	}
	mine := slices.DeleteFunc(cs, func(k plan.Consent) bool { return k.ParentID != l.ParentID })
	pg.Standing = plan.Current(mine, c.now)
	as, err := planAgreements(ctx, c, l.PlanID)
	if err != nil {
		return pg, err
	}
	for i := len(as) - 1; i >= 0; i-- {
		if as[i].ParentID == l.ParentID && as[i].Version == pg.Version {
			pg.Agreed = &as[i]
			break
		}
	}
	var open int
	if err := c.queryRow(ctx, `SELECT COUNT(*) FROM plan_call_requests WHERE plan_id = ? AND parent_id = ? AND done_at IS NULL`,
		l.PlanID, l.ParentID).Scan(&open); err != nil {
		return pg, err
	}
	pg.CallAsked = open > 0
	return pg, nil
}

// UnlockParentLink checks the child's date of birth a parent gave on the
// page of token. A right date unlocks the page for this browser (the
// returned session, for a cookie) for plan.UnlockedFor; a wrong one counts
// a try, and the fifth locks the link. Audited as the parent either way.
func (db *DB) UnlockParentLink(ctx context.Context, token string, birth time.Time, ip, reqID string) (pg ParentPage, session string, err error) {
	defer apperr.Wrap(&err, "storage.UnlockParentLink")
	err = db.inTx(ctx, func(c conn) error {
		l, _, err := linkByToken(ctx, c, token)
		if err != nil {
			return err
		}
		var child int64
		var actual time.Time
		if err := c.queryRow(ctx, `SELECT c.id, c.birth_date FROM plans pl JOIN children c ON c.id = pl.child_id WHERE pl.id = ?`,
			l.PlanID).Scan(&child, date{&actual}); err != nil {
			return err
		}
		if l.State(c.now) != plan.LinkOpen {
			pg, err = parentPage(ctx, c, l, false)
			if err != nil {
				return err
			}
			return parentEvent(ctx, c, ip, reqID, "plan.parent_unlock_refused", l, child, map[string]any{"state": pg.State})
		}
		l2, ok, err := plan.CheckBirthDate(l, birth, actual, c.now)
		if err != nil {
			return err
		}
		var sessionHash string
		var until sql.NullTime
		if ok {
			session = auth.NewSessionToken()
			sessionHash, until = auth.HashToken(session), nullTime(c.now.Add(plan.UnlockedFor))
		}
		if _, err := c.exec(ctx, `UPDATE plan_links SET failures = ?, locked_at = ?, last_used = ?, session_hash = ?, session_until = ?
			WHERE id = ?`, l2.Failures, nullTime(l2.LockedAt), nullTime(l2.LastUsed), sessionHash, until, l.ID); err != nil {
			return err
		}
		if pg, err = parentPage(ctx, c, l2, ok); err != nil {
			return err
		}
		action := "plan.parent_unlock"
		if !ok {
			action = "plan.parent_unlock_failed"
		}
		return parentEvent(ctx, c, ip, reqID, action, l2, child, map[string]any{"failures": l2.Failures, "locked": !l2.LockedAt.IsZero()})
	})
	return pg, session, err
}

// ParentAnswer is what a parent does on their page.
type ParentAnswer struct {
	Agree    *bool // agree or disagree with the current version
	Reason   string
	Consent  *plan.Consent // give or withdraw consent for one purpose
	CallNote *string       // ask to be called
}

// ParentAct applies a parent's answer on the page of token, for an
// unlocked browser only; audited as the parent. It returns the page as it
// is then.
func (db *DB) ParentAct(ctx context.Context, token, session, ip, reqID string, ans ParentAnswer) (pg ParentPage, err error) {
	defer apperr.Wrap(&err, "storage.ParentAct")
	err = db.inTx(ctx, func(c conn) error {
		l, sh, err := linkByToken(ctx, c, token)
		if err != nil {
			return err
		}
		if l.State(c.now) != plan.LinkOpen || sh == "" || session == "" || sh != auth.HashToken(session) {
			return apperr.New(apperr.Forbidden, "plans.parent.locked_page")
		}
		r, _, err := scanPlan(c.queryRow(ctx, `SELECT `+planColumns+planFrom+`WHERE pl.id = ?`, l.PlanID))
		if err != nil {
			return err
		}
		if !r.Status.Live() {
			return apperr.New(apperr.Conflict, "plans.error.closed")
		}
		r.Decision = access.PlanDecision{Allowed: true, View: access.PlanFull} // the parent's own plan, for the rules; the page shows less
		if r.Activities, err = planActivities(ctx, c, r.ID); err != nil {
			return err
		}
		if err := loadPlanParts(ctx, c, &r, access.Principal{}); err != nil {
			return err
		}
		actor := audit.Actor{IP: ip, RequestID: reqID}
		details := map[string]any{}
		switch {
		case ans.Agree != nil:
			if err := recordAgreement(ctx, c, &r, plan.Agreement{ParentID: l.ParentID, Agrees: *ans.Agree, Reason: ans.Reason,
				Via: plan.ParentPage}, 0); err != nil {
				return err
			}
			details["agrees"], details["content_version"] = *ans.Agree, r.ContentVersion
		case ans.Consent != nil:
			k := *ans.Consent
			k.ParentID, k.Method, k.At = l.ParentID, plan.ParentPage, c.now
			if k.Purpose == plan.ShareWithBody && !slices.ContainsFunc(r.Activities, func(x PlanActivity) bool {
				return x.Responsible.Kind == plan.PartyBody && x.Responsible.OrgID == k.OrgID
			}) {
				return apperr.Validation(apperr.Field("org", "plans.error.consent_body"))
			}
			effect, err := db.recordConsent(ctx, c, actor, &r, k)
			if err != nil {
				return err
			}
			details["purpose"], details["org_id"], details["given"], details["effect"] = k.Purpose, k.OrgID, k.Given, effect
		case ans.CallNote != nil:
			note := strings.TrimSpace(*ans.CallNote)
			if len([]rune(note)) > 500 {
				return apperr.Validation(apperr.Field("note", "error.too_long", 500))
			}
			if _, err := c.exec(ctx, `INSERT INTO plan_call_requests (plan_id, parent_id, note, at) VALUES (?, ?, ?, ?)`,
				r.ID, l.ParentID, note, c.now); err != nil {
				return err
			}
			if err := notifyLead(ctx, c, r, "notify.plans.call_asked"); err != nil {
				return err
			}
			details["call"] = true
		default:
			return apperr.Validation(apperr.Field("action", "plans.error.parent_action"))
		}
		if _, err := c.exec(ctx, `UPDATE plans SET version = version + 1, updated_at = ? WHERE id = ?`, c.now, r.ID); err != nil {
			return err
		}
		if err := parentEvent(ctx, c, ip, reqID, "plan.parent_answer", l, r.ChildID, details); err != nil {
			return err
		}
		pg, err = parentPage(ctx, c, l, true)
		return err
	})
	return pg, err
}

// ResolveCallRequest marks a parent's call request done.
func (db *DB) ResolveCallRequest(ctx context.Context, a audit.Actor, id int64, version int, callID int64) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.ResolveCallRequest(%d)", id)
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		res, err := c.exec(ctx, `UPDATE plan_call_requests SET done_at = ?, done_by = ? WHERE id = ? AND plan_id = ? AND done_at IS NULL`,
			c.now, a.UserID, callID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return planAudit(ctx, c, a, "plan.call_done", *r, map[string]any{"call_id": callID})
	})
}

// ParentLetter is what the printed letter to a parent carries: who it is
// for and in which language, the school that sends it, the short code and
// until when it opens the page. Nothing of the pupil or the plan's
// content: a letter can be lost on the way.
type ParentLetter struct {
	PlanID     int64
	LinkID     int64
	ParentName string
	Language   string
	SchoolName string
	Code       string
	ExpiresAt  time.Time
}

// PlanLetter checks that code is the short code of plan id's open link
// linkID — the school is shown it once, when the link is made, and only
// its hash is kept — and returns what the printed letter for that link's
// parent needs. Only those who may change the plan print letters; the
// printing is audited.
func (db *DB) PlanLetter(ctx context.Context, a audit.Actor, id, linkID int64, code string) (pl ParentLetter, err error) {
	defer apperr.Wrap(&err, "storage.PlanLetter(%d, %d)", id, linkID)
	c := db.reader()
	r, err := db.loadPlan(ctx, c, a.Principal, id, true)
	if err != nil {
		return pl, err
	}
	i := slices.IndexFunc(r.Links, func(l plan.Link) bool { return l.ID == linkID })
	if i < 0 {
		return pl, apperr.New(apperr.NotFound, "error.not_found")
	}
	l := r.Links[i]
	if l.State(c.now) != plan.LinkOpen {
		return pl, apperr.New(apperr.Conflict, "plans.error.letter_link")
	}
	var hash string
	if err := c.queryRow(ctx, `SELECT code_hash FROM plan_links WHERE id = ?`, linkID).Scan(&hash); err != nil {
		return pl, err
	}
	code = plan.NormalizeCode(code)
	if code == "" || subtle.ConstantTimeCompare([]byte(plan.HashCode(code)), []byte(hash)) != 1 {
		return pl, apperr.Validation(apperr.Field("code", "plans.error.letter_code"))
	}
	par, ok := r.Parent(l.ParentID)
	if !ok {
		return pl, apperr.New(apperr.NotFound, "error.not_found")
	}
	e := a.Event("plan.letter", "plan", id)
	e.ChildID = r.ChildID
	e.Details = detailsJSON(map[string]any{"link_id": linkID, "parent_id": l.ParentID})
	if err := db.inGroupTx(ctx, func(ctx context.Context, c conn) error { return appendAudit(ctx, c, e) }); err != nil {
		return pl, err
	}
	return ParentLetter{PlanID: id, LinkID: linkID, ParentName: par.Name, Language: par.Language, SchoolName: r.SchoolName,
		Code: code, ExpiresAt: l.ExpiresAt}, nil
}
