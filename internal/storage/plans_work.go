package storage

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/escalate"
	"dayaq/internal/plan"
)

// LogSession records a session held or missed under one of the plan's
// activities. Staff carrying that activity may log it too (a teacher's
// support sessions). Missed sessions in a row raise the flag to the lead.
func (db *DB) LogSession(ctx context.Context, a audit.Actor, id int64, version int, s plan.Session) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.LogSession(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		r, err := db.loadPlan(ctx, c, a.Principal, id, false)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(r.Activities, func(x PlanActivity) bool { return x.ID == s.ActivityID })
		if !r.Decision.CanWrite && (i < 0 || !r.Activities[i].Mine || r.Decision.View != access.PlanTeacher) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if r.Version != version {
			return stalePlan(r)
		}
		if !r.Status.Live() {
			return apperr.New(apperr.Conflict, "plans.error.closed")
		}
		if i < 0 && s.ActivityID != 0 {
			return apperr.Validation(apperr.Field("activity", "plans.error.activity"))
		}
		s.MissedReason, s.Note, s.NextSteps = strings.TrimSpace(s.MissedReason), strings.TrimSpace(s.Note), strings.TrimSpace(s.NextSteps)
		if s.Attended {
			s.MissedReason = ""
		}
		if err := s.Validate(c.now); err != nil {
			return err
		}
		if s.Kind == "" {
			s.Kind = r.Activities[i].Kind
		}
		with := make([]string, len(s.With))
		for j, w := range s.With {
			with[j] = string(w)
		}
		if err := c.queryRow(ctx, `INSERT INTO plan_sessions (plan_id, activity_id, at, kind, with_whom, attended, missed_reason, note,
			next_steps, recorded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, s.ActivityID, s.At.UTC(), s.Kind,
			strings.Join(with, ","), s.Attended, s.MissedReason, s.Note, s.NextSteps, nullInt(a.UserID), c.now).Scan(&s.ID); err != nil {
			return err
		}
		all := append(r.Sessions, s)
		flag := plan.MissedFlag(all)
		if flag && !r.MissedFlag {
			if err := notifyLead(ctx, c, r, "notify.plans.sessions_missed"); err != nil {
				return err
			}
		}
		res, err := c.exec(ctx, `UPDATE plans SET missed_flag = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			flag, c.now, id, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return stalePlan(r)
		}
		return planAudit(ctx, c, a, "plan.session", r, map[string]any{"session_id": s.ID, "activity_id": s.ActivityID,
			"attended": s.Attended, "missed_in_a_row": plan.MissedInARow(all)})
	})
	if err != nil {
		return r, err
	}
	return db.Plan(ctx, a, id)
}

// RecordReview records a review of plan id: progress per goal, the risk
// level after it, the decision. The next review is due on the city's
// cadence for the new level; a changed level is carried to the register
// entry's history. A head or supervisor approves it (ApproveReview).
func (db *DB) RecordReview(ctx context.Context, a audit.Actor, id int64, version int, rv plan.Review) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.RecordReview(%d)", id)
	cal, err := db.Calendar(ctx)
	if err != nil {
		return r, err
	}
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		rv.LevelFrom = r.Level
		if rv.LevelTo == "" {
			rv.LevelTo = r.Level
		}
		if rv.HeldAt.IsZero() {
			rv.HeldAt = c.now
		}
		rv.Note = strings.TrimSpace(rv.Note)
		if err := rv.Validate(r.Goals, c.now); err != nil {
			return err
		}
		progress := map[string]int{}
		for g, p := range rv.Progress {
			progress[strconv.FormatInt(g, 10)] = int(p)
		}
		pj, _ := json.Marshal(progress)
		var rid int64
		if err := c.queryRow(ctx, `INSERT INTO plan_reviews (plan_id, due, held_at, progress, level_from, level_to, decision, note, recorded_by)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, id, nullTime(r.NextReviewDue), rv.HeldAt.UTC(), string(pj), rv.LevelFrom,
			rv.LevelTo, rv.Decision, rv.Note, nullInt(a.UserID)).Scan(&rid); err != nil {
			return err
		}
		s, err := planSettings(ctx, c)
		if err != nil {
			return err
		}
		next, err := plan.NextReview(cal, s.Cadence, rv.LevelTo, rv.HeldAt)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE plans SET level = ?, next_review_due = ? WHERE id = ?`, rv.LevelTo, next.UTC(), id); err != nil {
			return err
		}
		if rv.LevelChanged() {
			if _, err := c.exec(ctx, `INSERT INTO register_history (entry_id, at, actor_user_id, action, from_status, to_status, level, note)
				SELECT id, ?, ?, 'plan_review_level', status, status, ?, ? FROM register_entries WHERE id = ?`, c.now, nullInt(a.UserID),
				rv.LevelTo, "plan:"+strconv.FormatInt(id, 10), r.RegisterEntryID); err != nil {
				return err
			}
		}
		return planAudit(ctx, c, a, "plan.review", *r, map[string]any{"review_id": rid, "decision": rv.Decision,
			"level_from": rv.LevelFrom, "level_to": rv.LevelTo})
	})
}

// ApproveReview records the head's or supervisor's approval of a review.
func (db *DB) ApproveReview(ctx context.Context, a audit.Actor, id int64, version int, reviewID int64) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.ApproveReview(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		r, err := db.loadPlan(ctx, c, a.Principal, id, false)
		if err != nil {
			return err
		}
		if !r.CanApprove {
			return apperr.New(apperr.Forbidden, "plans.error.approve_role")
		}
		if r.Version != version {
			return stalePlan(r)
		}
		res, err := c.exec(ctx, `UPDATE plan_reviews SET approved_by = ?, approved_at = ? WHERE id = ? AND plan_id = ? AND approved_at IS NULL`,
			a.UserID, c.now, reviewID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if _, err := c.exec(ctx, `UPDATE plans SET version = version + 1, updated_at = ? WHERE id = ?`, c.now, id); err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.review_approve", r, map[string]any{"review_id": reviewID})
	})
	if err != nil {
		return r, err
	}
	return db.Plan(ctx, a, id)
}

// ClosePlan closes plan id with its outcome, which the register entry's
// history records; open parent links end with it.
func (db *DB) ClosePlan(ctx context.Context, a audit.Actor, id int64, version int, cl plan.Closure) (r PlanRecord, err error) {
	defer apperr.Wrap(&err, "storage.ClosePlan(%d)", id)
	cl.Note = strings.TrimSpace(cl.Note)
	if err := cl.Validate(); err != nil {
		return r, err
	}
	return db.changePlan(ctx, a, id, version, func(c conn, r *PlanRecord) error {
		if err := plan.CanClose(r.Status); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE plans SET status = 'closed', outcome = ?, closure_note = ?, closed_at = ?, next_review_due = NULL
			WHERE id = ?`, cl.Outcome, cl.Note, c.now, id); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE plan_links SET revoked_at = ?, session_hash = '' WHERE plan_id = ? AND revoked_at IS NULL`, c.now, id); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `INSERT INTO register_history (entry_id, at, actor_user_id, action, from_status, to_status, level, note)
			SELECT id, ?, ?, 'plan_closed', status, status, level, ? FROM register_entries WHERE id = ?`, c.now, nullInt(a.UserID),
			"plan:"+strconv.FormatInt(id, 10)+" outcome:"+string(cl.Outcome), r.RegisterEntryID); err != nil {
			return err
		}
		return planAudit(ctx, c, a, "plan.close", *r, map[string]any{"outcome": cl.Outcome})
	})
}

// PlanReviewsDue is the escalation provider of plan reviews: every live
// plan whose review is due before before; its lead is responsible.
func (db *DB) PlanReviewsDue(ctx context.Context, before time.Time) (items []escalate.Item, err error) {
	defer apperr.Wrap(&err, "storage.PlanReviewsDue")
	rows, err := db.reader().query(ctx, `SELECT id, child_id, school_id, COALESCE(lead_user_id, 0), opened_at, next_review_due FROM plans
		WHERE status <> 'closed' AND next_review_due < ? ORDER BY next_review_due, id LIMIT 5000`, before.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		it := escalate.Item{SubjectKind: "plan_review", What: "escalate.what.plan_review"}
		if err := rows.Scan(&it.SubjectID, &it.ChildID, &it.OrgID, &it.Assignee, &it.Start, &it.Due); err != nil {
			return nil, err
		}
		it.Start, it.Due = it.Start.UTC(), it.Due.UTC()
		it.Link = "/plans/" + strconv.FormatInt(it.SubjectID, 10)
		items = append(items, it)
	}
	return items, rows.Err()
}

// PlanConsentsDue is the escalation provider of verbal consents waiting
// for their written confirmation; the plan's lead is responsible.
func (db *DB) PlanConsentsDue(ctx context.Context, before time.Time) (items []escalate.Item, err error) {
	defer apperr.Wrap(&err, "storage.PlanConsentsDue")
	rows, err := db.reader().query(ctx, `SELECT k.id, pl.id, pl.child_id, pl.school_id, COALESCE(pl.lead_user_id, 0), k.at, k.confirm_due
		FROM plan_consents k JOIN plans pl ON pl.id = k.plan_id
		WHERE k.confirm_due IS NOT NULL AND k.confirm_due < ? AND pl.status <> 'closed' ORDER BY k.confirm_due, k.id LIMIT 5000`, before.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		it := escalate.Item{SubjectKind: "plan_consent", What: "escalate.what.plan_consent"}
		var planID int64
		if err := rows.Scan(&it.SubjectID, &planID, &it.ChildID, &it.OrgID, &it.Assignee, &it.Start, &it.Due); err != nil {
			return nil, err
		}
		it.Start, it.Due = it.Start.UTC(), it.Due.UTC()
		it.Link = "/plans/" + strconv.FormatInt(planID, 10)
		items = append(items, it)
	}
	return items, rows.Err()
}

// CatalogueGoal is one of the city's common goals.
type CatalogueGoal struct {
	Code     string
	Domain   plan.Domain
	TextAZ   string
	TextRU   string
	TextEN   string
	Position int
	Active   bool
}

// Text is the goal's wording in lang, falling back to Azerbaijani.
func (g CatalogueGoal) Text(lang string) string {
	switch {
	case lang == "ru" && g.TextRU != "":
		return g.TextRU
	case lang == "en" && g.TextEN != "":
		return g.TextEN
	}
	return g.TextAZ
}

// GoalCatalogue lists the city's common goals, active ones only unless all.
func (db *DB) GoalCatalogue(ctx context.Context, all bool) (gs []CatalogueGoal, err error) {
	defer apperr.Wrap(&err, "storage.GoalCatalogue")
	q := `SELECT code, domain, text_az, text_ru, text_en, position, active FROM plan_goal_catalogue`
	if !all {
		q += ` WHERE active`
	}
	rows, err := db.reader().query(ctx, q+` ORDER BY domain, position, code`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var g CatalogueGoal
		if err := rows.Scan(&g.Code, &g.Domain, &g.TextAZ, &g.TextRU, &g.TextEN, &g.Position, &g.Active); err != nil {
			return nil, err
		}
		gs = append(gs, g)
	}
	return gs, rows.Err()
}

// SaveCatalogueGoal adds or changes one of the city's common goals.
func (db *DB) SaveCatalogueGoal(ctx context.Context, a audit.Actor, g CatalogueGoal) (err error) {
	defer apperr.Wrap(&err, "storage.SaveCatalogueGoal(%q)", g.Code)
	if !access.CanEditGoalCatalogue(a.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	g.Code, g.TextAZ = strings.ToLower(strings.TrimSpace(g.Code)), strings.TrimSpace(g.TextAZ)
	var fs []apperr.FieldError
	if len(g.Code) < 3 || len(g.Code) > 64 || strings.ContainsAny(g.Code, " ,/") {
		fs = append(fs, apperr.Field("code", "plans.error.catalogue_code"))
	}
	if !g.Domain.Valid() {
		fs = append(fs, apperr.Field("domain", "plans.error.domain"))
	}
	if g.TextAZ == "" {
		fs = append(fs, apperr.Field("text_az", "error.required"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	return db.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `INSERT INTO plan_goal_catalogue (code, domain, text_az, text_ru, text_en, position, active)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (code) DO UPDATE SET domain = excluded.domain, text_az = excluded.text_az,
			text_ru = excluded.text_ru, text_en = excluded.text_en, position = excluded.position, active = excluded.active`,
			g.Code, g.Domain, g.TextAZ, strings.TrimSpace(g.TextRU), strings.TrimSpace(g.TextEN), g.Position, g.Active); err != nil {
			return err
		}
		e := a.Event("plan_catalogue.save", "plan_goal_catalogue", 0)
		e.Details = detailsJSON(map[string]any{"code": g.Code, "active": g.Active})
		return appendAudit(ctx, c, e)
	})
}

