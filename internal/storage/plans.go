package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/notify"
	"dayaq/internal/org"
	"dayaq/internal/plan"
	"dayaq/internal/referral"
	"dayaq/internal/screening"
)

// PlanRecord is a recovery plan as one principal may see it: the view
// (access.DecidePlan) decides which parts are filled in.
type PlanRecord struct {
	ID              int64
	RegisterEntryID int64
	ChildID         int64
	SchoolID        int64
	CaseID          int64
	Status          plan.Status
	Level           plan.Level
	LeadUserID      int64
	LeadName        string
	Concerns        string             // full view only
	Baseline        []screening.Factor // the register's risk factors at opening; full view only
	ContentVersion  int
	OpenedAt        time.Time
	AgreedAt        time.Time
	NextReviewDue   time.Time
	MissedFlag      bool
	Outcome         plan.Outcome
	ClosureNote     string
	ClosedAt        time.Time
	Version         int

	ChildName  string
	Grade      int
	Section    string
	SchoolName string

	Goals      []plan.Goal
	Activities []PlanActivity
	Sessions   []plan.Session   // full view, or the teacher's own activities'
	Parents    []plan.Parent    // full view only
	Agreements []plan.Agreement // full view only
	Consents   []plan.Consent   // full view only
	Standing   []plan.Standing  // full view only
	Reviews    []plan.Review
	Links      []plan.Link   // full view only
	Calls      []CallRequest // full view only
	Versions   []int         // the versions there are to compare

	Decision   access.PlanDecision
	Agreed     bool // the parents agreed to the current version
	CanApprove bool // the reader may approve a review
}

// PlanActivity is an activity with who carries it out, named, and for a
// referral its state.
type PlanActivity struct {
	plan.Activity
	ResponsibleName string
	ToOrg           org.Org // a body's activity: the body
	ServiceCode     string  // a referral: the service asked for
	ReferralState   referral.State
	ReferralVersion int
	Mine            bool // the reader carries it out
}

// CallRequest is a parent's request to be called: a task for the lead.
type CallRequest struct {
	ID       int64
	ParentID int64
	Note     string
	At       time.Time
	DoneAt   time.Time
}

// Overdue reports whether the plan's review is overdue at now.
func (p PlanRecord) Overdue(now time.Time) bool {
	return p.Status.Live() && plan.Overdue(p.NextReviewDue, now)
}

// Parent returns the plan's parent id.
func (p PlanRecord) Parent(id int64) (plan.Parent, bool) {
	i := slices.IndexFunc(p.Parents, func(x plan.Parent) bool { return x.ID == id })
	if i < 0 {
		return plan.Parent{}, false
	}
	return p.Parents[i], true
}

const planColumns = `pl.id, pl.register_entry_id, pl.child_id, pl.school_id, COALESCE(pl.case_id, 0), pl.status, pl.level,
	COALESCE(pl.lead_user_id, 0), COALESCE(lu.name, ''), pl.concerns, pl.baseline, pl.content_version, pl.opened_at, pl.agreed_at,
	pl.next_review_due, pl.missed_flag, pl.outcome, pl.closure_note, pl.closed_at, pl.version,
	c.last_name || ' ' || c.first_name, c.grade, c.section, s.name_az, COALESCE(s.district_code, '')`

const planFrom = ` FROM plans pl JOIN children c ON c.id = pl.child_id JOIN orgs s ON s.id = pl.school_id
	LEFT JOIN users lu ON lu.id = pl.lead_user_id `

func scanPlan(sc interface{ Scan(...any) error }) (PlanRecord, string, error) {
	var p PlanRecord
	var baseline, district string
	var agreed, due, closed sql.NullTime
	err := sc.Scan(&p.ID, &p.RegisterEntryID, &p.ChildID, &p.SchoolID, &p.CaseID, &p.Status, &p.Level, &p.LeadUserID, &p.LeadName,
		&p.Concerns, &baseline, &p.ContentVersion, &p.OpenedAt, &agreed, &due, &p.MissedFlag, &p.Outcome, &p.ClosureNote, &closed,
		&p.Version, &p.ChildName, &p.Grade, &p.Section, &p.SchoolName, &district)
	if err != nil {
		return p, "", err
	}
	_ = json.Unmarshal([]byte(baseline), &p.Baseline)
	p.OpenedAt = p.OpenedAt.UTC()
	p.AgreedAt, p.NextReviewDue, p.ClosedAt = utcOf(agreed), utcOf(due), utcOf(closed)
	return p, district, nil
}

func utcOf(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// planFacts fills the policy's facts of plan p from its activities.
func planFacts(p PlanRecord, district string, acts []PlanActivity) access.PlanFacts {
	f := access.PlanFacts{Child: access.ChildFacts{SchoolID: p.SchoolID, District: district, Grade: p.Grade, Section: p.Section}}
	for _, a := range acts {
		switch r := a.Responsible; {
		case r.Kind == plan.PartyStaff && r.UserID != 0:
			f.StaffUserIDs = append(f.StaffUserIDs, r.UserID)
		case r.Kind == plan.PartyBody && a.ReferralState.Live():
			f.BodyOrgIDs = append(f.BodyOrgIDs, r.OrgID)
		}
	}
	return f
}

// loadPlan reads plan id with every part p's view allows: NotFound when
// the policy does not reach it, Forbidden for a change by one who may only
// read it. The policy's facts come from the activities, which the page
// shows anyway, so that deciding costs no query of its own.
func (db *DB) loadPlan(ctx context.Context, c conn, p access.Principal, id int64, write bool) (PlanRecord, error) {
	var r PlanRecord
	var district string
	var acts []PlanActivity
	err := readParts(c,
		func() (err error) {
			r, district, err = scanPlan(c.queryRow(ctx, `SELECT `+planColumns+planFrom+`WHERE pl.id = ?`, id))
			return err
		},
		func() (err error) { acts, err = planActivities(ctx, c, id); return err })
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return r, err
	}
	r.Decision = access.DecidePlan(p, planFacts(r, district, acts))
	if !r.Decision.Allowed {
		return PlanRecord{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if write && !r.Decision.CanWrite {
		// They see the plan, so its existence is no secret from them.
		return PlanRecord{}, apperr.New(apperr.Forbidden, "plans.error.read_only")
	}
	r.Activities = acts
	r.CanApprove = r.Decision.View == access.PlanFull && access.CanApprovePlanReview(p) && (p.OrgType != org.School || p.OrgID == r.SchoolID)
	if err := loadPlanParts(ctx, c, &r, p); err != nil {
		return r, err
	}
	return r, nil
}

// readParts runs the reads fn, which fill parts of one record: one after
// the other in a transaction or on SQLite (in process, each a few
// microseconds), side by side on PostgreSQL's read pool, where each is a
// round trip and the page would otherwise wait for them in turn.
func readParts(c conn, fn ...func() error) error {
	if _, pool := c.q.(*sql.DB); !pool || c.engine != Postgres {
		for _, f := range fn {
			if err := f(); err != nil {
				return err
			}
		}
		return nil
	}
	errs := make([]error, len(fn))
	var wg sync.WaitGroup
	for i, f := range fn {
		wg.Go(func() { errs[i] = f() })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// loadPlanParts reads the goals, sessions, parents, consents, reviews and
// links of r, whose activities are read, and trims them to the reader's
// view; the parts a narrower view never shows are not read at all.
func loadPlanParts(ctx context.Context, c conn, r *PlanRecord, p access.Principal) error {
	full := r.Decision.View == access.PlanFull
	parts := []func() error{
		func() (err error) { r.Goals, err = planGoals(ctx, c, r.ID); return err },
		func() (err error) { r.Sessions, err = planSessions(ctx, c, r.ID); return err },
		func() (err error) { r.Agreements, err = planAgreements(ctx, c, r.ID); return err },
	}
	if full {
		parts = append(parts,
			func() (err error) { r.Parents, err = planParents(ctx, c, r.ID); return err },
			func() (err error) { r.Reviews, err = planReviews(ctx, c, r.ID); return err },
			func() (err error) { r.Consents, err = planConsents(ctx, c, r.ID); return err },
			func() (err error) { r.Links, err = planLinks(ctx, c, r.ID); return err },
			func() (err error) { r.Calls, err = planCalls(ctx, c, r.ID); return err })
	}
	if err := readParts(c, parts...); err != nil {
		return err
	}
	for i := range r.Activities {
		a := &r.Activities[i]
		a.Mine = (a.Responsible.Kind == plan.PartyStaff && a.Responsible.UserID == p.UserID) ||
			(a.Responsible.Kind == plan.PartyBody && a.Responsible.OrgID == p.OrgID)
		if a.Responsible.Kind == plan.PartyParent {
			if par, ok := r.Parent(a.Responsible.ParentID); ok {
				a.ResponsibleName = par.Name
			}
		}
	}
	r.Agreed = plan.Agreed(r.Agreements, r.ContentVersion)
	for v := 1; v <= r.ContentVersion; v++ {
		r.Versions = append(r.Versions, v)
	}
	if full {
		r.Standing = plan.Current(r.Consents, c.now)
		return nil
	}
	// Goals the reader's activities serve (a teacher sees all goals), their
	// own activities and sessions; nothing of the family or the screening.
	var acts []plan.Activity
	var ids []int64
	for _, a := range r.Activities {
		if a.Mine {
			acts = append(acts, a.Activity)
			ids = append(ids, a.ID)
		}
	}
	r.Activities = slices.DeleteFunc(r.Activities, func(a PlanActivity) bool { return !a.Mine })
	if r.Decision.View == access.PlanBody {
		r.Goals = slices.DeleteFunc(r.Goals, func(g plan.Goal) bool {
			return !slices.ContainsFunc(acts, func(a plan.Activity) bool { return a.Serves(g.ID) })
		})
	}
	r.Sessions = slices.DeleteFunc(r.Sessions, func(s plan.Session) bool { return !slices.Contains(ids, s.ActivityID) })
	r.Concerns, r.Baseline, r.Agreements, r.ClosureNote = "", nil, nil, ""
	for i := range r.Activities {
		if r.Activities[i].Responsible.Kind == plan.PartyParent {
			r.Activities[i].ResponsibleName = ""
		}
	}
	return nil
}

func planGoals(ctx context.Context, c conn, id int64) ([]plan.Goal, error) {
	rows, err := c.query(ctx, `SELECT id, domain, catalogue_code, statement, indicator, from_on, until_on, status
		FROM plan_goals WHERE plan_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plan.Goal
	for rows.Next() {
		var g plan.Goal
		if err := rows.Scan(&g.ID, &g.Domain, &g.CatalogueCode, &g.Statement, &g.Indicator, &g.From, &g.Until, &g.Status); err != nil {
			return nil, err
		}
		g.From, g.Until = g.From.UTC(), g.Until.UTC()
		out = append(out, g)
	}
	return out, rows.Err()
}

func planActivities(ctx context.Context, c conn, id int64) ([]PlanActivity, error) {
	rows, err := c.query(ctx, `SELECT a.id, a.kind, a.title, a.resp_kind, COALESCE(a.resp_user_id, 0), COALESCE(a.resp_org_id, 0),
		COALESCE(a.resp_parent_id, 0), a.frequency, a.from_on, a.until_on, a.goal_ids, a.service_code, COALESCE(a.referral_id, 0),
		COALESCE(u.name, ''), COALESCE(o.code, ''), COALESCE(o.type, ''), COALESCE(o.name_az, ''), COALESCE(o.name_ru, ''),
		COALESCE(o.name_en, ''), COALESCE(r.state, ''), COALESCE(r.version, 0)
		FROM plan_activities a LEFT JOIN users u ON u.id = a.resp_user_id LEFT JOIN orgs o ON o.id = a.resp_org_id
		LEFT JOIN referrals r ON r.id = a.referral_id WHERE a.plan_id = ? ORDER BY a.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []PlanActivity
	for rows.Next() {
		var a PlanActivity
		var goals string
		r := &a.Responsible
		if err := rows.Scan(&a.ID, &a.Kind, &a.Title, &r.Kind, &r.UserID, &r.OrgID, &r.ParentID, &a.Frequency, &a.From, &a.Until,
			&goals, &a.ServiceCode, &a.ReferralID, &a.ResponsibleName, &a.ToOrg.Code, &a.ToOrg.Type, &a.ToOrg.NameAZ,
			&a.ToOrg.NameRU, &a.ToOrg.NameEN, &a.ReferralState, &a.ReferralVersion); err != nil {
			return nil, err
		}
		a.ToOrg.ID = r.OrgID
		a.From, a.Until = a.From.UTC(), a.Until.UTC()
		a.GoalIDs = parseIDs(goals)
		if r.Kind == plan.PartyBody {
			a.ResponsibleName = a.ToOrg.NameAZ
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func parseIDs(s string) []int64 {
	var out []int64
	for p := range strings.SplitSeq(s, ",") {
		if n, err := strconv.ParseInt(strings.TrimSpace(p), 10, 64); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

func idsText(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(parts, ",")
}

func planSessions(ctx context.Context, c conn, id int64) ([]plan.Session, error) {
	rows, err := c.query(ctx, `SELECT id, activity_id, at, kind, with_whom, attended, missed_reason, note, next_steps
		FROM plan_sessions WHERE plan_id = ? ORDER BY at, id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plan.Session
	for rows.Next() {
		var s plan.Session
		var with string
		if err := rows.Scan(&s.ID, &s.ActivityID, &s.At, &s.Kind, &with, &s.Attended, &s.MissedReason, &s.Note, &s.NextSteps); err != nil {
			return nil, err
		}
		s.At = s.At.UTC()
		for w := range strings.SplitSeq(with, ",") {
			if w != "" {
				s.With = append(s.With, plan.Participant(w))
			}
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

func planParents(ctx context.Context, c conn, id int64) ([]plan.Parent, error) {
	rows, err := c.query(ctx, `SELECT id, name, relation, phone, language FROM plan_parents WHERE plan_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plan.Parent
	for rows.Next() {
		var p plan.Parent
		if err := rows.Scan(&p.ID, &p.Name, &p.Relation, &p.Phone, &p.Language); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

func planAgreements(ctx context.Context, c conn, id int64) ([]plan.Agreement, error) {
	rows, err := c.query(ctx, `SELECT parent_id, version, agrees, reason, via, at FROM plan_agreements WHERE plan_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plan.Agreement
	for rows.Next() {
		var a plan.Agreement
		if err := rows.Scan(&a.ParentID, &a.Version, &a.Agrees, &a.Reason, &a.Via, &a.At); err != nil {
			return nil, err
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

func planConsents(ctx context.Context, c conn, id int64) ([]plan.Consent, error) {
	rows, err := c.query(ctx, `SELECT id, parent_id, purpose, COALESCE(org_id, 0), given, method, at, COALESCE(recorded_by, 0),
		confirm_due, confirmed_at FROM plan_consents WHERE plan_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plan.Consent
	for rows.Next() {
		var k plan.Consent
		var due, conf sql.NullTime
		if err := rows.Scan(&k.ID, &k.ParentID, &k.Purpose, &k.OrgID, &k.Given, &k.Method, &k.At, &k.RecordedBy, &due, &conf); err != nil {
			return nil, err
		}
		k.At, k.ConfirmDue, k.ConfirmedAt = k.At.UTC(), utcOf(due), utcOf(conf)
		out = append(out, k)
	}
	return out, rows.Err()
}

func planReviews(ctx context.Context, c conn, id int64) ([]plan.Review, error) {
	rows, err := c.query(ctx, `SELECT id, due, held_at, progress, level_from, level_to, decision, note, COALESCE(approved_by, 0), approved_at
		FROM plan_reviews WHERE plan_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plan.Review
	for rows.Next() {
		var r plan.Review
		var due, appr sql.NullTime
		var progress string
		if err := rows.Scan(&r.ID, &due, &r.HeldAt, &progress, &r.LevelFrom, &r.LevelTo, &r.Decision, &r.Note, &r.ApprovedBy, &appr); err != nil {
			return nil, err
		}
		r.Due, r.ApprovedAt, r.HeldAt = utcOf(due), utcOf(appr), r.HeldAt.UTC()
		r.Progress = map[int64]plan.Progress{}
		var m map[string]int
		_ = json.Unmarshal([]byte(progress), &m)
		for k, v := range m {
			if id, err := strconv.ParseInt(k, 10, 64); err == nil {
				r.Progress[id] = plan.Progress(v)
			}
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func planLinks(ctx context.Context, c conn, id int64) ([]plan.Link, error) {
	rows, err := c.query(ctx, `SELECT `+linkColumns+` FROM plan_links WHERE plan_id = ? ORDER BY id DESC`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plan.Link
	for rows.Next() {
		l, err := scanLink(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

const linkColumns = `id, plan_id, parent_id, created_at, expires_at, revoked_at, failures, locked_at, last_used`

func scanLink(sc interface{ Scan(...any) error }) (plan.Link, error) {
	var l plan.Link
	var rev, locked, used sql.NullTime
	err := sc.Scan(&l.ID, &l.PlanID, &l.ParentID, &l.CreatedAt, &l.ExpiresAt, &rev, &l.Failures, &locked, &used)
	l.CreatedAt, l.ExpiresAt = l.CreatedAt.UTC(), l.ExpiresAt.UTC()
	l.RevokedAt, l.LockedAt, l.LastUsed = utcOf(rev), utcOf(locked), utcOf(used)
	return l, err
}

func planCalls(ctx context.Context, c conn, id int64) ([]CallRequest, error) {
	rows, err := c.query(ctx, `SELECT id, parent_id, note, at, done_at FROM plan_call_requests WHERE plan_id = ? ORDER BY id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []CallRequest
	for rows.Next() {
		var k CallRequest
		var done sql.NullTime
		if err := rows.Scan(&k.ID, &k.ParentID, &k.Note, &k.At, &done); err != nil {
			return nil, err
		}
		k.At, k.DoneAt = k.At.UTC(), utcOf(done)
		out = append(out, k)
	}
	return out, rows.Err()
}

// planAudit appends the audit event of an action on plan r.
func planAudit(ctx context.Context, c conn, a audit.Actor, action string, r PlanRecord, details map[string]any) error {
	e := a.Event(action, "plan", r.ID)
	e.ChildID = r.ChildID
	if details != nil {
		e.Details = detailsJSON(details)
	}
	return appendAudit(ctx, c, e)
}

// Plan returns plan id as a may see it and audits the read (or the refused
// attempt). It reads on the read pool, outside any write transaction, and
// answers only once the audit event is durable (the group commit): a plan
// whose reading could not be audited is not shown.
func (db *DB) Plan(ctx context.Context, a audit.Actor, id int64) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.Plan(%d)", id)
	r, err = db.loadPlan(ctx, db.reader(), a.Principal, id, false)
	e := a.Event("plan.read_denied", "plan", id)
	switch {
	case apperr.CodeOf(err) == apperr.NotFound:
	case err != nil:
		return PlanRecord{}, err
	default:
		e = a.Event("plan.read", "plan", id)
		e.ChildID = r.ChildID
		e.Details = detailsJSON(map[string]any{"view": int(r.Decision.View)})
	}
	if aerr := db.inGroupTx(ctx, func(ctx context.Context, c conn) error { return appendAudit(ctx, c, e) }); aerr != nil {
		return PlanRecord{}, aerr
	}
	if err != nil {
		return PlanRecord{}, err
	}
	return r, nil
}

// PlanSettings are the city's settings for plans.
type PlanSettings struct {
	Cadence     plan.Cadence
	ConfirmDays int
	Version     int
}

// PlanSettings reads the city's settings.
func (db *DB) PlanSettings(ctx context.Context) (s PlanSettings, err error) {
	defer apperr.Wrap(&err, "storage.PlanSettings")
	return planSettings(ctx, db.reader())
}

func planSettings(ctx context.Context, c conn) (PlanSettings, error) {
	var s PlanSettings
	var cadence string
	err := c.queryRow(ctx, `SELECT cadence, confirm_days, version FROM plan_settings WHERE id = 1`).Scan(&cadence, &s.ConfirmDays, &s.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return PlanSettings{Cadence: plan.DefaultCadence(), ConfirmDays: plan.DefaultConfirmDays, Version: 1}, nil
	}
	if err != nil {
		return s, err
	}
	if s.Cadence, err = plan.ParseCadence(cadence); err != nil {
		s.Cadence = plan.DefaultCadence()
	}
	return s, nil
}

// SavePlanSettings changes the city's settings: its administrators and
// specialists may.
func (db *DB) SavePlanSettings(ctx context.Context, a audit.Actor, s PlanSettings) (out PlanSettings, err error) {
	defer apperr.Wrap(&err, "storage.SavePlanSettings")
	if !access.CanEditGoalCatalogue(a.Principal) {
		return out, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	var fs []apperr.FieldError
	var parts []string
	for _, l := range plan.Levels() {
		w := s.Cadence[l]
		if w < 1 || w > 52 {
			fs = append(fs, apperr.Field("cadence."+string(l), "plans.error.cadence"))
		}
		parts = append(parts, string(l)+"="+strconv.Itoa(w))
	}
	if s.ConfirmDays < 1 || s.ConfirmDays > 30 {
		fs = append(fs, apperr.Field("confirm_days", "plans.error.confirm_days"))
	}
	if len(fs) > 0 {
		return out, apperr.Validation(fs...)
	}
	err = db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE plan_settings SET cadence = ?, confirm_days = ?, version = version + 1 WHERE id = 1 AND version = ?`,
			strings.Join(parts, ","), s.ConfirmDays, s.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "plans.error.settings_stale")
		}
		e := a.Event("plan_settings.save", "plan_settings", 1)
		e.Details = detailsJSON(map[string]any{"cadence": strings.Join(parts, ","), "confirm_days": s.ConfirmDays})
		if err := appendAudit(ctx, c, e); err != nil {
			return err
		}
		out, err = planSettings(ctx, c)
		return err
	})
	return out, err
}

// NewPlan is a plan as the psychologist opens it from a register entry.
type NewPlan struct {
	RegisterEntryID int64
	LeadUserID      int64 // 0: the opener
	Concerns        string
	Parents         []plan.Parent
}

// CreatePlan opens a plan for an active register entry: only the school's
// psychologist or head, one live plan per entry. The screening results it
// starts from are copied as they are now; the first review is due on the
// city's cadence for the entry's level.
func (db *DB) CreatePlan(ctx context.Context, a audit.Actor, n NewPlan) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.CreatePlan(entry %d)", n.RegisterEntryID)
	cal, err := db.Calendar(ctx)
	if err != nil {
		return r, err
	}
	var id int64
	err = db.inTx(ctx, func(c conn) error {
		e, err := loadRegister(ctx, c, a.Principal, n.RegisterEntryID)
		if apperr.CodeOf(err) == apperr.NotFound {
			return apperr.Validation(apperr.Field("register_entry_id", "plans.error.entry"))
		}
		if err != nil {
			return err
		}
		if !e.CanDecide {
			return apperr.New(apperr.Forbidden, "plans.error.not_yours")
		}
		var fs []apperr.FieldError
		if e.Status != screening.Active {
			fs = append(fs, apperr.Field("register_entry_id", "plans.error.entry_not_active"))
		}
		if len(strings.TrimSpace(n.Concerns)) > plan.MaxText {
			fs = append(fs, apperr.Field("concerns", "error.too_long", plan.MaxText))
		}
		if n.LeadUserID == 0 {
			n.LeadUserID = a.UserID
		}
		if n.LeadUserID != a.UserID {
			if org, err := userOrg(ctx, c, n.LeadUserID); err != nil || org != e.SchoolID {
				fs = append(fs, apperr.Field("lead_user_id", "plans.error.lead"))
			}
		}
		for i, p := range n.Parents {
			if err := p.Validate(); err != nil {
				for _, f := range apperr.As(err).Fields {
					fs = append(fs, apperr.Field("parents."+strconv.Itoa(i)+"."+f.Field, f.Key, f.Args...))
				}
			}
		}
		if len(fs) > 0 {
			return apperr.Validation(fs...)
		}
		var live int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM plans WHERE register_entry_id = ? AND status IN ('draft', 'active')`, e.ID).Scan(&live); err != nil {
			return err
		}
		if live > 0 {
			return apperr.New(apperr.Conflict, "plans.error.live_exists")
		}
		level := plan.Level(e.Level)
		settings, err := planSettings(ctx, c)
		if err != nil {
			return err
		}
		due, err := plan.NextReview(cal, settings.Cadence, level, c.now)
		if err != nil {
			return err
		}
		baseline, _ := json.Marshal(e.Factors)
		var caseID sql.NullInt64
		if e.Source == screening.Source("case") && e.SourceID != 0 {
			caseID = nullInt(e.SourceID)
		}
		if err := c.queryRow(ctx, `INSERT INTO plans (register_entry_id, child_id, school_id, case_id, status, level, lead_user_id, concerns,
			baseline, content_version, opened_at, next_review_due, created_by, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?, 1, ?, ?, ?, 1, ?, ?) RETURNING id`,
			e.ID, e.ChildID, e.SchoolID, caseID, level, n.LeadUserID, strings.TrimSpace(n.Concerns), string(baseline), c.now,
			due.UTC(), a.UserID, c.now, c.now).Scan(&id); err != nil {
			return err
		}
		for _, p := range n.Parents {
			if _, err := insertParent(ctx, c, id, p); err != nil {
				return err
			}
		}
		if _, err := c.exec(ctx, `INSERT INTO register_history (entry_id, at, actor_user_id, action, from_status, to_status, level, note)
			VALUES (?, ?, ?, 'plan_opened', ?, ?, ?, ?)`, e.ID, c.now, nullInt(a.UserID), e.Status, e.Status, e.Level,
			"plan:"+strconv.FormatInt(id, 10)); err != nil {
			return err
		}
		ev := a.Event("plan.create", "plan", id)
		ev.ChildID = e.ChildID
		ev.Details = detailsJSON(map[string]any{"register_entry_id": e.ID, "parents": len(n.Parents)})
		return appendAudit(ctx, c, ev)
	})
	if err != nil {
		return r, err
	}
	return db.Plan(ctx, a, id)
}

func insertParent(ctx context.Context, c conn, planID int64, p plan.Parent) (int64, error) {
	var id int64
	err := c.queryRow(ctx, `INSERT INTO plan_parents (plan_id, name, relation, phone, language) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		planID, strings.TrimSpace(p.Name), p.Relation, NormalizePhone(p.Phone), p.Language).Scan(&id)
	return id, err
}

// PlanQuery selects plans within what the principal may see.
type PlanQuery struct {
	SchoolID int64
	Status   plan.Status  // "" for the live ones
	Overdue  bool         // live plans whose review is overdue
	InTime   bool         // live plans whose review is not overdue (none set, or not yet due)
	Every    bool         // with Status "": plans of every status, closed ones too
	District string       // plans of this district's schools (a dashboard's number)
	Outcome  plan.Outcome // with Status closed: plans that ended so
	Before   int64
	Limit    int
}

// PlanSummary is one row of a plan list: no family details, no screening.
type PlanSummary struct {
	ID            int64
	ChildName     string
	Grade         int
	Section       string
	SchoolName    string
	Status        plan.Status
	Level         plan.Level
	LeadName      string
	NextReviewDue time.Time
	MissedFlag    bool
	Version       int
}

// planBranches is the plan policy as SQL: one SELECT of plan IDs for
// each way access.FilterPlans lets p reach plans, each narrowed by the
// list's own conditions on pl (cond), ordered by an index and cut at
// limit, so that the list is the newest limit of their union and no
// branch reads more than its own newest (ADR 0030). A branch filters on
// the plan's school as access.DecidePlan does and, where the older list
// filtered on the pupil's, on that too: the list never shows a plan the
// plan page would refuse. ScreeningFilter gives no grant or break-glass
// branch: those do not reach a plan.
func planBranches(p access.Principal, cond string, cargs []any, limit int) (string, []any, bool) {
	f := access.FilterPlans(p)
	if f.Empty() {
		return "", nil, false
	}
	var parts []string
	var args []any
	lim := ` LIMIT ` + strconv.Itoa(limit)
	add := func(q string, a ...any) {
		parts = append(parts, `SELECT id FROM (`+q+`) AS b`+strconv.Itoa(len(parts)))
		args = append(append(args, a...), cargs...)
	}
	ch := f.Children
	switch {
	case ch.All:
		add(`SELECT pl.id FROM plans pl WHERE ` + cond + ` ORDER BY pl.id DESC` + lim)
	case ch.District != "":
		add(`SELECT pl.id FROM plans pl JOIN orgs s ON s.id = pl.school_id WHERE s.district_code = ? AND `+cond+
			` ORDER BY pl.id DESC`+lim, ch.District)
	case ch.SchoolID != 0 && len(ch.Classes) == 0:
		add(`SELECT pl.id FROM plans pl JOIN children c ON c.id = pl.child_id WHERE pl.school_id = ? AND c.school_id = ? AND `+cond+
			` ORDER BY pl.id DESC`+lim, ch.SchoolID, ch.SchoolID)
	case ch.SchoolID != 0:
		// The class's pupils first (children (school_id, grade, section)),
		// then their plans (plans (child_id)): a class is a few dozen.
		var or []string
		a := []any{ch.SchoolID, ch.SchoolID}
		for _, cl := range ch.Classes {
			if cl.Section == "" {
				or = append(or, `c.grade = ?`)
				a = append(a, cl.Grade)
			} else {
				or = append(or, `(c.grade = ? AND c.section = ?)`)
				a = append(a, cl.Grade, cl.Section)
			}
		}
		add(`SELECT pl.id FROM plans pl WHERE pl.school_id = ? AND pl.child_id IN (SELECT c.id FROM children c WHERE c.school_id = ? AND (`+
			strings.Join(or, ` OR `)+`)) AND `+cond+` ORDER BY pl.id DESC`+lim, a...)
	}
	// The activities a member of staff or a body carries lead to their
	// plans; CROSS JOIN keeps SQLite from starting at the plans instead.
	if f.UserID != 0 {
		add(`SELECT DISTINCT a.plan_id AS id FROM plan_activities a CROSS JOIN plans pl WHERE pl.id = a.plan_id AND a.resp_user_id = ?
			AND pl.school_id = ? AND `+cond+` ORDER BY a.plan_id DESC`+lim, f.UserID, p.OrgID)
	}
	if f.OrgID != 0 {
		add(`SELECT DISTINCT a.plan_id AS id FROM plan_activities a CROSS JOIN plans pl JOIN referrals r ON r.id = a.referral_id
			WHERE pl.id = a.plan_id AND a.resp_org_id = ? AND r.state IN ('sent', 'acknowledged', 'accepted', 'in_progress') AND `+cond+
			` ORDER BY a.plan_id DESC`+lim, f.OrgID)
	}
	if len(parts) == 0 {
		return "", nil, false
	}
	return strings.Join(parts, ` UNION `), args, true // UNION: a plan two branches reach is listed once
}

// ListPlans lists the plans a may see, filtered in SQL, newest first. It
// reads on the read pool and then audits the list with the IDs it showed
// through the group commit, answering only once that event is durable.
func (db *DB) ListPlans(ctx context.Context, a audit.Actor, q PlanQuery) (ps []PlanSummary, err error) {
	defer apperr.Wrap(&err, "storage.ListPlans")
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 50
	}
	c := db.reader()
	cond := `pl.status IN ('draft', 'active')`
	var cargs []any
	switch {
	case q.Status != "":
		cond, cargs = `pl.status = ?`, []any{q.Status}
	case q.Every:
		cond = `1 = 1`
	}
	if q.SchoolID != 0 || q.District != "" {
		// as SupportCounts counts them (planScope)
		scope, sargs := planScope(q.SchoolID, q.District)
		cond += ` AND ` + scope
		cargs = append(cargs, sargs...)
	}
	if q.Outcome != "" {
		cond += ` AND pl.outcome = ?`
		cargs = append(cargs, q.Outcome)
	}
	if q.Overdue {
		cond += ` AND pl.next_review_due < ?`
		cargs = append(cargs, c.now)
	}
	if q.InTime {
		cond += ` AND (pl.next_review_due IS NULL OR pl.next_review_due >= ?)`
		cargs = append(cargs, c.now)
	}
	if q.Before > 0 {
		cond += ` AND pl.id < ?`
		cargs = append(cargs, q.Before)
	}
	branches, args, ok := planBranches(a.Principal, cond, cargs, q.Limit)
	if !ok {
		return nil, nil
	}
	// The union is a table the rows are joined to, not an IN: PostgreSQL's
	// generic plan of a prepared IN walked every plan by its key to probe
	// the union (40–60 ms at 50,000); a join from the union stays a few
	// key lookups whatever the plan cache picks.
	rows, err := c.query(ctx, `SELECT pl.id, c.last_name || ' ' || c.first_name, c.grade, c.section, s.name_az, pl.status, pl.level,
		COALESCE(lu.name, ''), pl.next_review_due, pl.missed_flag, pl.version
		FROM (`+branches+`) AS ids JOIN plans pl ON pl.id = ids.id JOIN children c ON c.id = pl.child_id JOIN orgs s ON s.id = pl.school_id
		LEFT JOIN users lu ON lu.id = pl.lead_user_id ORDER BY pl.id DESC LIMIT `+strconv.Itoa(q.Limit), args...)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for rows.Next() {
		var s PlanSummary
		var due sql.NullTime
		if err := rows.Scan(&s.ID, &s.ChildName, &s.Grade, &s.Section, &s.SchoolName, &s.Status, &s.Level, &s.LeadName, &due,
			&s.MissedFlag, &s.Version); err != nil {
			rows.Close()
			return nil, err
		}
		s.NextReviewDue = utcOf(due)
		ps = append(ps, s)
		ids = append(ids, s.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	e := a.Event("plan.list", "plan", 0)
	e.Details = idsJSON(ids)
	if err := db.inGroupTx(ctx, func(ctx context.Context, c conn) error { return appendAudit(ctx, c, e) }); err != nil {
		return nil, err
	}
	return ps, nil
}

// stalePlan is the Conflict of a change based on an old version.
func stalePlan(cur PlanRecord) error {
	return apperr.New(apperr.Conflict, "plans.error.stale", cur.Version)
}

// changePlan runs fn on plan id, which a must be allowed to change and
// which must still be live and at version; it bumps the row's version.
func (db *DB) changePlan(ctx context.Context, a audit.Actor, id int64, version int, fn func(c conn, r *PlanRecord) error) (PlanRecord, error) {
	err := db.inTx(ctx, func(c conn) error {
		r, err := db.loadPlan(ctx, c, a.Principal, id, true)
		if err != nil {
			return err
		}
		if r.Version != version {
			return stalePlan(r)
		}
		if !r.Status.Live() {
			return apperr.New(apperr.Conflict, "plans.error.closed")
		}
		if err := fn(c, &r); err != nil {
			return err
		}
		res, err := c.exec(ctx, `UPDATE plans SET version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, c.now, id, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return stalePlan(r)
		}
		return nil
	})
	if err != nil {
		return PlanRecord{}, err
	}
	return db.Plan(ctx, a, id)
}

// newVersionIfAgreed starts a new version of the plan's content when the
// parents agreed to the current one: the current content is kept as that
// version's snapshot and the plan goes back to draft until they agree again.
func newVersionIfAgreed(ctx context.Context, c conn, r *PlanRecord) error {
	if !plan.NeedsNewVersion(r.Agreed) {
		return nil
	}
	snap := snapshotOf(*r)
	b, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	if _, err := c.exec(ctx, `INSERT INTO plan_versions (plan_id, version, snapshot, created_at) VALUES (?, ?, ?, ?)`,
		r.ID, r.ContentVersion, string(b), c.now); err != nil {
		return err
	}
	r.ContentVersion++
	r.Agreed = false
	_, err = c.exec(ctx, `UPDATE plans SET content_version = ?, status = 'draft' WHERE id = ?`, r.ContentVersion, r.ID)
	return err
}

func snapshotOf(r PlanRecord) plan.Snapshot {
	s := plan.Snapshot{Goals: r.Goals}
	for _, a := range r.Activities {
		s.Activities = append(s.Activities, a.Activity)
	}
	return s
}

// AddGoal adds a goal to plan id (a new version if the parents had agreed).
func (db *DB) AddGoal(ctx context.Context, a audit.Actor, id int64, version int, g plan.Goal) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.AddGoal(%d)", id)
	g.Statement, g.Indicator = strings.TrimSpace(g.Statement), strings.TrimSpace(g.Indicator)
	if g.Status == "" {
		g.Status = plan.GoalOpen
	}
	if err := g.Validate(); err != nil {
		return r, err
	}
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		if err := checkCatalogueCode(ctx, c, g.CatalogueCode, g.Domain); err != nil {
			return err
		}
		if err := newVersionIfAgreed(ctx, c, r); err != nil {
			return err
		}
		var gid int64
		if err := c.queryRow(ctx, `INSERT INTO plan_goals (plan_id, domain, catalogue_code, statement, indicator, from_on, until_on, status)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, g.Domain, g.CatalogueCode, g.Statement, g.Indicator, g.From.UTC(),
			g.Until.UTC(), g.Status).Scan(&gid); err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.goal_add", *r, map[string]any{"goal_id": gid, "domain": g.Domain, "content_version": r.ContentVersion})
	})
}

// SetGoalStatus records how far a goal has come; it does not change what
// the parents agreed to, so it makes no new version.
func (db *DB) SetGoalStatus(ctx context.Context, a audit.Actor, id int64, version int, goalID int64, s plan.GoalStatus) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.SetGoalStatus(%d)", id)
	if !s.Valid() {
		return r, apperr.Validation(apperr.Field("status", "plans.error.goal_status"))
	}
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		res, err := c.exec(ctx, `UPDATE plan_goals SET status = ? WHERE id = ? AND plan_id = ?`, s, goalID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return planAudit(ctx, c, a, "plan.goal_status", *r, map[string]any{"goal_id": goalID, "status": s})
	})
}

// checkCatalogueCode refuses a catalogue code that is not an active goal
// of the catalogue in domain d.
func checkCatalogueCode(ctx context.Context, c conn, code string, d plan.Domain) error {
	if code == "" {
		return nil
	}
	var domain plan.Domain
	err := c.queryRow(ctx, `SELECT domain FROM plan_goal_catalogue WHERE code = ? AND active`, code).Scan(&domain)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && domain != d) {
		return apperr.Validation(apperr.Field("catalogue_code", "plans.error.catalogue_code"))
	}
	return err
}

// UpdateGoal changes what goal g.ID of plan id says — its domain,
// statement, indicator and period — keeping its status (SetGoalStatus);
// a new version if the parents had agreed.
func (db *DB) UpdateGoal(ctx context.Context, a audit.Actor, id int64, version int, g plan.Goal) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.UpdateGoal(%d, %d)", id, g.ID)
	g.Statement, g.Indicator = strings.TrimSpace(g.Statement), strings.TrimSpace(g.Indicator)
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		i := slices.IndexFunc(r.Goals, func(x plan.Goal) bool { return x.ID == g.ID })
		if i < 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		g.Status = r.Goals[i].Status
		if err := g.Validate(); err != nil {
			return err
		}
		if err := checkCatalogueCode(ctx, c, g.CatalogueCode, g.Domain); err != nil {
			return err
		}
		if err := newVersionIfAgreed(ctx, c, r); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE plan_goals SET domain = ?, catalogue_code = ?, statement = ?, indicator = ?, from_on = ?, until_on = ?
			WHERE id = ? AND plan_id = ?`, g.Domain, g.CatalogueCode, g.Statement, g.Indicator, g.From.UTC(), g.Until.UTC(), g.ID, id); err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.goal_edit", *r, map[string]any{"goal_id": g.ID, "domain": g.Domain, "content_version": r.ContentVersion})
	})
}

// RemoveGoal takes a goal out of plan id (a new version if the parents had
// agreed). A goal that an activity serves or a review measured stays: take
// it out of the activity first, or mark it dropped.
func (db *DB) RemoveGoal(ctx context.Context, a audit.Actor, id int64, version int, goalID int64) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.RemoveGoal(%d, %d)", id, goalID)
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		if !slices.ContainsFunc(r.Goals, func(x plan.Goal) bool { return x.ID == goalID }) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		served := slices.ContainsFunc(r.Activities, func(x PlanActivity) bool { return x.Serves(goalID) })
		measured := slices.ContainsFunc(r.Reviews, func(x plan.Review) bool { _, ok := x.Progress[goalID]; return ok })
		if served || measured {
			return apperr.New(apperr.Conflict, "plans.error.goal_in_use")
		}
		if err := newVersionIfAgreed(ctx, c, r); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `DELETE FROM plan_goals WHERE id = ? AND plan_id = ?`, goalID, id); err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.goal_remove", *r, map[string]any{"goal_id": goalID, "content_version": r.ContentVersion})
	})
}

// SetPlanLead makes userID, a member of the plan's school's staff, the
// plan's lead specialist, and tells them.
func (db *DB) SetPlanLead(ctx context.Context, a audit.Actor, id int64, version int, userID int64) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.SetPlanLead(%d)", id)
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		if o, err := userOrg(ctx, c, userID); err != nil || o != r.SchoolID {
			return apperr.Validation(apperr.Field("lead_user_id", "plans.error.lead"))
		}
		if userID == r.LeadUserID {
			return nil
		}
		if _, err := c.exec(ctx, `UPDATE plans SET lead_user_id = ? WHERE id = ?`, userID, id); err != nil {
			return err
		}
		from := r.LeadUserID
		r.LeadUserID = userID
		if userID != a.UserID {
			if err := notifyLead(ctx, c, *r, "notify.plans.lead"); err != nil {
				return err
			}
		}
		return planAudit(ctx, c, a, "plan.lead", *r, map[string]any{"from": from, "to": userID})
	})
}

// NewActivity is an activity as the form fills it in: a body by its code
// and, for a referral, the service asked for.
type NewActivity struct {
	plan.Activity
	ToOrgCode   string
	ServiceCode string
}

// AddActivity adds an activity to plan id (a new version if the parents had
// agreed). A referral activity names the body and the service; the referral
// itself is sent with SendPlanReferral once the basis for sharing is there.
func (db *DB) AddActivity(ctx context.Context, a audit.Actor, id int64, version int, n NewActivity) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.AddActivity(%d)", id)
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		act := n.Activity
		act.Title, act.Frequency = strings.TrimSpace(act.Title), strings.TrimSpace(act.Frequency)
		var fs []apperr.FieldError
		if act.Responsible.Kind == plan.PartyBody {
			o, err := getOrgByCode(ctx, c, strings.ToUpper(strings.TrimSpace(n.ToOrgCode)))
			switch {
			case apperr.CodeOf(err) == apperr.NotFound || (err == nil && !referral.Receivable(o.Type)):
				fs = append(fs, apperr.Field("to_org", "referral.error.to_org"))
				act.Responsible.OrgID = -1
			case err != nil:
				return err
			default:
				act.Responsible.OrgID = o.ID
			}
			if act.Kind == plan.ReferralActivity && err == nil {
				var svcType org.Type
				err := c.queryRow(ctx, `SELECT org_type FROM referral_services WHERE code = ? AND active`, n.ServiceCode).Scan(&svcType)
				switch {
				case errors.Is(err, sql.ErrNoRows):
					fs = append(fs, apperr.Field("service", "referral.error.service"))
				case err != nil:
					return err
				case svcType != o.Type:
					fs = append(fs, apperr.Field("service", "referral.error.service_body"))
				}
			}
		}
		if act.Responsible.Kind == plan.PartyParent {
			if _, ok := r.Parent(act.Responsible.ParentID); !ok {
				fs = append(fs, apperr.Field("responsible", "plans.error.parent"))
			}
		}
		if act.Responsible.Kind == plan.PartyStaff && act.Responsible.UserID != 0 {
			if o, err := userOrg(ctx, c, act.Responsible.UserID); err != nil || o != r.SchoolID {
				fs = append(fs, apperr.Field("responsible", "plans.error.staff"))
			}
		}
		for _, g := range act.GoalIDs {
			if !slices.ContainsFunc(r.Goals, func(x plan.Goal) bool { return x.ID == g }) {
				fs = append(fs, apperr.Field("goals", "plans.error.activity_goals"))
				break
			}
		}
		if err := act.Validate(); err != nil {
			for _, f := range apperr.As(err).Fields {
				if !slices.ContainsFunc(fs, func(x apperr.FieldError) bool { return x.Field == f.Field }) {
					fs = append(fs, f)
				}
			}
		}
		if len(fs) > 0 {
			return apperr.Validation(fs...)
		}
		if err := newVersionIfAgreed(ctx, c, r); err != nil {
			return err
		}
		res := act.Responsible
		var aid int64
		if err := c.queryRow(ctx, `INSERT INTO plan_activities (plan_id, kind, title, resp_kind, resp_user_id, resp_org_id, resp_parent_id,
			frequency, from_on, until_on, goal_ids, service_code) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			id, act.Kind, act.Title, res.Kind, nullInt(res.UserID), nullInt(res.OrgID), nullInt(res.ParentID), act.Frequency,
			act.From.UTC(), act.Until.UTC(), idsText(act.GoalIDs), strings.TrimSpace(n.ServiceCode)).Scan(&aid); err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.activity_add", *r, map[string]any{"activity_id": aid, "kind": act.Kind,
			"responsible": res.Kind, "content_version": r.ContentVersion})
	})
}

// RemoveActivity takes an activity out of the plan (a new version if the
// parents had agreed); a live referral it sent is withdrawn.
func (db *DB) RemoveActivity(ctx context.Context, a audit.Actor, id int64, version int, activityID int64) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.RemoveActivity(%d)", id)
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		i := slices.IndexFunc(r.Activities, func(x PlanActivity) bool { return x.ID == activityID })
		if i < 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		var sessions int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM plan_sessions WHERE activity_id = ?`, activityID).Scan(&sessions); err != nil {
			return err
		}
		if sessions > 0 || r.Activities[i].ReferralID != 0 {
			return apperr.New(apperr.Conflict, "plans.error.activity_in_use")
		}
		if err := newVersionIfAgreed(ctx, c, r); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `DELETE FROM plan_activities WHERE id = ? AND plan_id = ?`, activityID, id); err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.activity_remove", *r, map[string]any{"activity_id": activityID, "content_version": r.ContentVersion})
	})
}

// ComparePlanVersions lists what changed between versions v1 and v2 of plan
// id (the current version compares as it stands now).
func (db *DB) ComparePlanVersions(ctx context.Context, a audit.Actor, id int64, v1, v2 int) (cs []plan.Change, err error) {
	defer apperr.Wrap(&err, "storage.ComparePlanVersions(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		r, err := db.loadPlan(ctx, c, a.Principal, id, false)
		if err != nil {
			return err
		}
		if r.Decision.View != access.PlanFull {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		snap := func(v int) (plan.Snapshot, error) {
			if v == r.ContentVersion {
				return snapshotOf(r), nil
			}
			var s string
			err := c.queryRow(ctx, `SELECT snapshot FROM plan_versions WHERE plan_id = ? AND version = ?`, id, v).Scan(&s)
			if errors.Is(err, sql.ErrNoRows) {
				return plan.Snapshot{}, apperr.Validation(apperr.Field("version", "plans.error.version"))
			}
			var out plan.Snapshot
			if err == nil {
				err = json.Unmarshal([]byte(s), &out)
			}
			return out, err
		}
		s1, err := snap(v1)
		if err != nil {
			return err
		}
		s2, err := snap(v2)
		if err != nil {
			return err
		}
		cs = plan.Compare(s1, s2)
		return planAudit(ctx, c, a, "plan.compare", r, map[string]any{"v1": v1, "v2": v2})
	})
	return cs, err
}

// notifyLead tells the plan's lead about something to act on: never the
// pupil's name, the plan's number and a link.
func notifyLead(ctx context.Context, c conn, r PlanRecord, key string) error {
	if r.LeadUserID == 0 {
		return nil
	}
	m, err := notify.New(notify.PlanTask, notify.User(r.LeadUserID), key, "/plans/"+strconv.FormatInt(r.ID, 10), notify.ID(r.ID))
	if err != nil {
		return err
	}
	return notifyTx(ctx, c, m)
}
