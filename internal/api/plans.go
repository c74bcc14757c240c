package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/plan"
	"dayaq/internal/referral"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

func (a *API) planRoutes() []Route {
	p := Prefix + "/plans"
	return []Route{
		{"GET", p, a.listPlans},
		{"POST", p, a.createPlan},
		{"GET", p + "/{id}", a.getPlan},
		{"GET", p + "/{id}/pdf", a.getPlanPDF},
		{"POST", p + "/{id}/goals", a.addGoal},
		{"PUT", p + "/{id}/goals/{goal}", a.updateGoal},
		{"DELETE", p + "/{id}/goals/{goal}", a.planSubAction("goal", surface.PlanStore.RemoveGoal)},
		{"PUT", p + "/{id}/goals/{goal}/status", a.setGoalStatus},
		{"PUT", p + "/{id}/lead", a.setPlanLead},
		{"POST", p + "/{id}/activities", a.addActivity},
		{"DELETE", p + "/{id}/activities/{activity}", a.planSubAction("activity", surface.PlanStore.RemoveActivity)},
		{"POST", p + "/{id}/activities/{activity}/referral", a.sendPlanReferral},
		{"POST", p + "/{id}/parents", a.addPlanParent},
		{"POST", p + "/{id}/agreements", a.recordAgreement},
		{"POST", p + "/{id}/consents", a.recordConsent},
		{"POST", p + "/{id}/consents/{consent}/confirmation", a.planSubAction("consent", surface.PlanStore.ConfirmConsent)},
		{"POST", p + "/{id}/sessions", a.logSession},
		{"POST", p + "/{id}/reviews", a.recordReview},
		{"POST", p + "/{id}/reviews/{review}/approval", a.planSubAction("review", surface.PlanStore.ApproveReview)},
		{"POST", p + "/{id}/closure", a.closePlan},
		{"GET", p + "/{id}/versions/compare", a.compareVersions},
		{"POST", p + "/{id}/links", a.createParentLink},
		{"DELETE", p + "/{id}/links/{link}", a.planSubAction("link", surface.PlanStore.RevokeParentLink)},
		{"POST", p + "/{id}/links/{link}/letter", a.planLetter},
		{"POST", p + "/{id}/calls/{call}/done", a.planSubAction("call", surface.PlanStore.ResolveCallRequest)},
		{"GET", Prefix + "/plan-goal-catalogue", a.listGoalCatalogue},
		{"PUT", Prefix + "/plan-goal-catalogue/{code}", a.saveGoalCatalogue},
		{"GET", Prefix + "/plan-settings", a.getPlanSettings},
		{"PUT", Prefix + "/plan-settings", a.savePlanSettings},
	}
}

type goalJSON struct {
	ID            int64           `json:"id"`
	Domain        plan.Domain     `json:"domain"`
	CatalogueCode string          `json:"catalogue_code,omitempty"`
	Statement     string          `json:"statement"`
	Indicator     string          `json:"indicator"`
	From          string          `json:"from"`
	Until         string          `json:"until"`
	Status        plan.GoalStatus `json:"status"`
}

type activityJSON struct {
	ID              int64             `json:"id"`
	Kind            plan.ActivityKind `json:"kind"`
	Title           string            `json:"title"`
	Responsible     plan.PartyKind    `json:"responsible"`
	ResponsibleID   int64             `json:"responsible_id"`
	ResponsibleName string            `json:"responsible_name,omitempty"`
	Body            string            `json:"body,omitempty"`
	Frequency       string            `json:"frequency,omitempty"`
	From            string            `json:"from"`
	Until           string            `json:"until"`
	Goals           []int64           `json:"goals"`
	Service         string            `json:"service,omitempty"`
	ReferralID      int64             `json:"referral_id,omitempty"`
	ReferralState   referral.State    `json:"referral_state,omitempty"`
}

type sessionJSON struct {
	ID           int64              `json:"id"`
	Activity     int64              `json:"activity"`
	At           string             `json:"at"`
	Kind         plan.ActivityKind  `json:"kind"`
	With         []plan.Participant `json:"with"`
	Attended     bool               `json:"attended"`
	MissedReason string             `json:"missed_reason,omitempty"`
	Note         string             `json:"note,omitempty"`
	NextSteps    string             `json:"next_steps,omitempty"`
}

type parentJSON struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Relation string `json:"relation"`
	Phone    string `json:"phone,omitempty"`
	Language string `json:"language"`
}

type agreementJSON struct {
	Parent  int64       `json:"parent"`
	Version int         `json:"version"`
	Agrees  bool        `json:"agrees"`
	Reason  string      `json:"reason,omitempty"`
	Via     plan.Method `json:"via"`
	At      string      `json:"at"`
}

type consentJSON struct {
	ID          int64        `json:"id"`
	Parent      int64        `json:"parent"`
	Purpose     plan.Purpose `json:"purpose"`
	Org         int64        `json:"org,omitempty"`
	Given       bool         `json:"given"`
	Method      plan.Method  `json:"method"`
	At          string       `json:"at"`
	ConfirmDue  string       `json:"confirm_due,omitempty"`
	ConfirmedAt string       `json:"confirmed_at,omitempty"`
}

type standingJSON struct {
	Purpose plan.Purpose `json:"purpose"`
	Org     int64        `json:"org,omitempty"`
	Given   bool         `json:"given"`
	Lapsed  bool         `json:"lapsed"`
}

type reviewJSON struct {
	ID         int64          `json:"id"`
	Due        string         `json:"due,omitempty"`
	HeldAt     string         `json:"held_at"`
	Progress   map[string]int `json:"progress"`
	LevelFrom  plan.Level     `json:"level_from"`
	LevelTo    plan.Level     `json:"level_to"`
	Decision   plan.Decision  `json:"decision"`
	Note       string         `json:"note,omitempty"`
	ApprovedBy int64          `json:"approved_by,omitempty"`
	ApprovedAt string         `json:"approved_at,omitempty"`
}

type linkJSON struct {
	ID        int64          `json:"id"`
	Parent    int64          `json:"parent"`
	State     plan.LinkState `json:"state"`
	CreatedAt string         `json:"created_at"`
	ExpiresAt string         `json:"expires_at"`
	Failures  int            `json:"failures"`
}

type callJSON struct {
	ID     int64  `json:"id"`
	Parent int64  `json:"parent"`
	Note   string `json:"note,omitempty"`
	At     string `json:"at"`
	Done   bool   `json:"done"`
}

type planJSON struct {
	ID              int64           `json:"id"`
	RegisterEntryID int64           `json:"register_entry_id"`
	ChildID         int64           `json:"child_id"`
	ChildName       string          `json:"child_name"`
	Class           string          `json:"class"`
	School          string          `json:"school"`
	CaseID          int64           `json:"case_id,omitempty"`
	Status          plan.Status     `json:"status"`
	Level           plan.Level      `json:"level"`
	Lead            string          `json:"lead,omitempty"`
	View            string          `json:"view"`
	CanWrite        bool            `json:"can_write"`
	Concerns        string          `json:"concerns,omitempty"`
	ContentVersion  int             `json:"content_version"`
	Agreed          bool            `json:"agreed"`
	OpenedAt        string          `json:"opened_at"`
	AgreedAt        string          `json:"agreed_at,omitempty"`
	NextReviewDue   string          `json:"next_review_due,omitempty"`
	ReviewOverdue   bool            `json:"review_overdue"`
	MissedFlag      bool            `json:"missed_flag"`
	Outcome         plan.Outcome    `json:"outcome,omitempty"`
	ClosureNote     string          `json:"closure_note,omitempty"`
	ClosedAt        string          `json:"closed_at,omitempty"`
	Version         int             `json:"version"`
	Goals           []goalJSON      `json:"goals"`
	Activities      []activityJSON  `json:"activities"`
	Sessions        []sessionJSON   `json:"sessions"`
	Parents         []parentJSON    `json:"parents,omitempty"`
	Agreements      []agreementJSON `json:"agreements,omitempty"`
	Consents        []consentJSON   `json:"consents,omitempty"`
	Standing        []standingJSON  `json:"consent_standing,omitempty"`
	Reviews         []reviewJSON    `json:"reviews,omitempty"`
	Links           []linkJSON      `json:"links,omitempty"`
	Calls           []callJSON      `json:"calls,omitempty"`
}

// PlanViewName names a plan view for clients.
func PlanViewName(v access.PlanView) string {
	switch v {
	case access.PlanFull:
		return "full"
	case access.PlanTeacher:
		return "teacher"
	case access.PlanBody:
		return "body"
	}
	return "none"
}

func dateOnly(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.DateOnly)
}

func toPlanJSON(p storage.PlanRecord, now time.Time) planJSON {
	j := planJSON{ID: p.ID, RegisterEntryID: p.RegisterEntryID, ChildID: p.ChildID, ChildName: p.ChildName,
		Class: strconv.Itoa(p.Grade) + p.Section, School: p.SchoolName, CaseID: p.CaseID, Status: p.Status, Level: p.Level,
		Lead: p.LeadName, View: PlanViewName(p.Decision.View), CanWrite: p.Decision.CanWrite, Concerns: p.Concerns,
		ContentVersion: p.ContentVersion, Agreed: p.Agreed, OpenedAt: rfc3339(p.OpenedAt), AgreedAt: rfc3339(p.AgreedAt),
		NextReviewDue: rfc3339(p.NextReviewDue), ReviewOverdue: p.Overdue(now), MissedFlag: p.MissedFlag, Outcome: p.Outcome,
		ClosureNote: p.ClosureNote, ClosedAt: rfc3339(p.ClosedAt), Version: p.Version,
		Goals: []goalJSON{}, Activities: []activityJSON{}, Sessions: []sessionJSON{}}
	for _, g := range p.Goals {
		j.Goals = append(j.Goals, goalJSON{g.ID, g.Domain, g.CatalogueCode, g.Statement, g.Indicator, dateOnly(g.From), dateOnly(g.Until), g.Status})
	}
	for _, x := range p.Activities {
		r := x.Responsible
		id := r.UserID
		switch r.Kind {
		case plan.PartyBody:
			id = r.OrgID
		case plan.PartyParent:
			id = r.ParentID
		}
		goals := x.GoalIDs
		if goals == nil {
			goals = []int64{}
		}
		j.Activities = append(j.Activities, activityJSON{ID: x.ID, Kind: x.Kind, Title: x.Title, Responsible: r.Kind, ResponsibleID: id,
			ResponsibleName: x.ResponsibleName, Body: x.ToOrg.Code, Frequency: x.Frequency, From: dateOnly(x.From), Until: dateOnly(x.Until),
			Goals: goals, Service: x.ServiceCode, ReferralID: x.ReferralID, ReferralState: x.ReferralState})
	}
	for _, s := range p.Sessions {
		with := s.With
		if with == nil {
			with = []plan.Participant{}
		}
		j.Sessions = append(j.Sessions, sessionJSON{s.ID, s.ActivityID, rfc3339(s.At), s.Kind, with, s.Attended, s.MissedReason, s.Note, s.NextSteps})
	}
	for _, x := range p.Parents {
		j.Parents = append(j.Parents, parentJSON{x.ID, x.Name, x.Relation, x.Phone, x.Language})
	}
	for _, g := range p.Agreements {
		j.Agreements = append(j.Agreements, agreementJSON{g.ParentID, g.Version, g.Agrees, g.Reason, g.Via, rfc3339(g.At)})
	}
	for _, k := range p.Consents {
		j.Consents = append(j.Consents, consentJSON{k.ID, k.ParentID, k.Purpose, k.OrgID, k.Given, k.Method, rfc3339(k.At),
			rfc3339(k.ConfirmDue), rfc3339(k.ConfirmedAt)})
	}
	for _, s := range p.Standing {
		j.Standing = append(j.Standing, standingJSON{s.Purpose, s.OrgID, s.Given, s.Lapsed})
	}
	for _, rv := range p.Reviews {
		pr := map[string]int{}
		for g, v := range rv.Progress {
			pr[strconv.FormatInt(g, 10)] = int(v)
		}
		j.Reviews = append(j.Reviews, reviewJSON{rv.ID, rfc3339(rv.Due), rfc3339(rv.HeldAt), pr, rv.LevelFrom, rv.LevelTo, rv.Decision,
			rv.Note, rv.ApprovedBy, rfc3339(rv.ApprovedAt)})
	}
	for _, l := range p.Links {
		j.Links = append(j.Links, linkJSON{l.ID, l.ParentID, l.State(now), rfc3339(l.CreatedAt), rfc3339(l.ExpiresAt), l.Failures})
	}
	for _, c := range p.Calls {
		j.Calls = append(j.Calls, callJSON{c.ID, c.ParentID, c.Note, rfc3339(c.At), !c.DoneAt.IsZero()})
	}
	return j
}

func (a *API) writePlan(w http.ResponseWriter, status int, p storage.PlanRecord) error {
	w.Header().Set("ETag", etag(p.Version))
	return writeJSON(w, status, toPlanJSON(p, a.now()))
}

// planChange reads the actor, the plan's ID and the If-Match version that
// every change to a plan starts with.
func planChange(r *http.Request) (audit.Actor, int64, int, error) {
	act, id, err := actorAndID(r)
	if err != nil {
		return act, 0, 0, err
	}
	version, err := ifMatch(r)
	return act, id, version, err
}

func subID(r *http.Request, name string) (int64, error) {
	n, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	if err != nil || n <= 0 {
		return 0, apperr.New(apperr.NotFound, "error.not_found")
	}
	return n, nil
}

func dateField(field, s string, fs *[]apperr.FieldError) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, ok := surface.ParseDate(s)
	if !ok {
		*fs = append(*fs, apperr.Field(field, "plans.error.date"))
	}
	return t
}

func (a *API) listPlans(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var fs []apperr.FieldError
	pq := storage.PlanQuery{Overdue: q.Get("overdue") == "true"}
	switch s := q.Get("status"); s {
	case "":
	case "all":
		pq.Every = true
	default:
		if pq.Status = plan.Status(s); !pq.Status.Valid() {
			fs = append(fs, apperr.Field("status", "plans.error.status"))
		}
	}
	// a dashboard's number lists its plans by outcome, review, school or district
	if s := q.Get("outcome"); s != "" {
		if pq.Outcome = plan.Outcome(s); !slices.Contains(plan.Outcomes(), pq.Outcome) {
			fs = append(fs, apperr.Field("outcome", "plans.error.outcome"))
		}
	}
	switch q.Get("review") {
	case "":
	case "overdue":
		pq.Overdue = true
	case "in_time":
		pq.InTime = true
	default:
		fs = append(fs, apperr.Field("review", "plans.error.review"))
	}
	var sfs []apperr.FieldError
	pq.SchoolID, pq.District, sfs = a.listScope(r)
	fs = append(fs, sfs...)
	if s := q.Get("before"); s != "" {
		if pq.Before, err = strconv.ParseInt(s, 10, 64); err != nil {
			fs = append(fs, apperr.Field("before", "error.cursor"))
		}
	}
	limit, err := page(r, 50, 200)
	if err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	pq.Limit = limit
	ps, err := a.store.ListPlans(r.Context(), act, pq)
	if err != nil {
		return err
	}
	type row struct {
		ID            int64       `json:"id"`
		ChildName     string      `json:"child_name"`
		Class         string      `json:"class"`
		School        string      `json:"school"`
		Status        plan.Status `json:"status"`
		Level         plan.Level  `json:"level"`
		Lead          string      `json:"lead,omitempty"`
		NextReviewDue string      `json:"next_review_due,omitempty"`
		ReviewOverdue bool        `json:"review_overdue"`
		MissedFlag    bool        `json:"missed_flag"`
		Version       int         `json:"version"`
	}
	out := listPage[row]{Items: []row{}}
	now := a.now()
	for _, p := range ps {
		out.Items = append(out.Items, row{p.ID, p.ChildName, strconv.Itoa(p.Grade) + p.Section, p.SchoolName, p.Status, p.Level, p.LeadName,
			rfc3339(p.NextReviewDue), p.Status.Live() && plan.Overdue(p.NextReviewDue, now), p.MissedFlag, p.Version})
	}
	if len(ps) == limit {
		next := strconv.FormatInt(ps[len(ps)-1].ID, 10)
		out.Next = &next
	}
	return writeJSON(w, http.StatusOK, out)
}

type parentInput struct {
	Name     string `json:"name"`
	Relation string `json:"relation"`
	Phone    string `json:"phone"`
	Language string `json:"language"`
}

func (p parentInput) parent() plan.Parent {
	return plan.Parent{Name: p.Name, Relation: p.Relation, Phone: p.Phone, Language: p.Language}
}

func (a *API) createPlan(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in struct {
		RegisterEntryID int64         `json:"register_entry_id"`
		LeadUserID      int64         `json:"lead_user_id"`
		Concerns        string        `json:"concerns"`
		Parents         []parentInput `json:"parents"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.RegisterEntryID <= 0 {
		return apperr.Validation(apperr.Field("register_entry_id", "error.required"))
	}
	n := storage.NewPlan{RegisterEntryID: in.RegisterEntryID, LeadUserID: in.LeadUserID, Concerns: in.Concerns}
	for _, p := range in.Parents {
		n.Parents = append(n.Parents, p.parent())
	}
	p, err := a.store.CreatePlan(r.Context(), act, n)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/plans/%d", Prefix, p.ID))
	return a.writePlan(w, http.StatusCreated, p)
}

func (a *API) getPlan(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	p, err := a.store.Plan(r.Context(), act, id)
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusOK, p)
}

// goalInput is a goal as the API takes it, to add or to change.
type goalInput struct {
	Domain        plan.Domain `json:"domain"`
	CatalogueCode string      `json:"catalogue_code"`
	Statement     string      `json:"statement"`
	Indicator     string      `json:"indicator"`
	From          string      `json:"from"`
	Until         string      `json:"until"`
}

func readGoal(r *http.Request) (plan.Goal, error) {
	var in goalInput
	if err := decode(r, &in); err != nil {
		return plan.Goal{}, err
	}
	var fs []apperr.FieldError
	g := plan.Goal{Domain: in.Domain, CatalogueCode: in.CatalogueCode, Statement: in.Statement, Indicator: in.Indicator,
		From: dateField("from", in.From, &fs), Until: dateField("until", in.Until, &fs)}
	if len(fs) > 0 {
		return g, apperr.Validation(fs...)
	}
	return g, nil
}

func (a *API) addGoal(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	g, err := readGoal(r)
	if err != nil {
		return err
	}
	p, err := a.store.AddGoal(r.Context(), act, id, version, g)
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusCreated, p)
}

func (a *API) updateGoal(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	goal, err := subID(r, "goal")
	if err != nil {
		return err
	}
	g, err := readGoal(r)
	if err != nil {
		return err
	}
	g.ID = goal
	p, err := a.store.UpdateGoal(r.Context(), act, id, version, g)
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusOK, p)
}

func (a *API) setPlanLead(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	var in struct {
		LeadUserID int64 `json:"lead_user_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.LeadUserID <= 0 {
		return apperr.Validation(apperr.Field("lead_user_id", "error.required"))
	}
	p, err := a.store.SetPlanLead(r.Context(), act, id, version, in.LeadUserID)
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusOK, p)
}

// planLetter prints the letter for a link's parent, in the parent's
// language: the code shown once when the link was made comes back in the
// body, since only its hash is kept.
func (a *API) planLetter(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	link, err := subID(r, "link")
	if err != nil {
		return err
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Code == "" {
		return apperr.Validation(apperr.Field("code", "error.required"))
	}
	pl, err := a.store.PlanLetter(r.Context(), act, id, link, in.Code)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := surface.PlanLetterPDF(&buf, a.cat.For(surface.LetterLang(pl)), pl, surface.SiteBase(r, a.publicURL), a.now()); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `inline; filename="letter-`+strconv.FormatInt(id, 10)+`.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	_, err = buf.WriteTo(w)
	return err
}

func (a *API) setGoalStatus(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	goal, err := subID(r, "goal")
	if err != nil {
		return err
	}
	var in struct {
		Status plan.GoalStatus `json:"status"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.store.SetGoalStatus(r.Context(), act, id, version, goal, in.Status)
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusOK, p)
}

func (a *API) addActivity(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	var in struct {
		Kind          plan.ActivityKind `json:"kind"`
		Title         string            `json:"title"`
		Responsible   plan.PartyKind    `json:"responsible"`
		ResponsibleID int64             `json:"responsible_id"`
		Body          string            `json:"body"`
		Service       string            `json:"service"`
		Frequency     string            `json:"frequency"`
		From          string            `json:"from"`
		Until         string            `json:"until"`
		Goals         []int64           `json:"goals"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	var fs []apperr.FieldError
	res := plan.Responsible{Kind: in.Responsible}
	switch in.Responsible {
	case plan.PartyStaff:
		res.UserID = in.ResponsibleID
	case plan.PartyParent:
		res.ParentID = in.ResponsibleID
	}
	n := storage.NewActivity{Activity: plan.Activity{Kind: in.Kind, Title: in.Title, Responsible: res, Frequency: in.Frequency,
		From: dateField("from", in.From, &fs), Until: dateField("until", in.Until, &fs), GoalIDs: in.Goals},
		ToOrgCode: in.Body, ServiceCode: in.Service}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	p, err := a.store.AddActivity(r.Context(), act, id, version, n)
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusCreated, p)
}

func (a *API) sendPlanReferral(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	aid, err := subID(r, "activity")
	if err != nil {
		return err
	}
	var in struct {
		Urgency referral.Urgency `json:"urgency"`
		Message string           `json:"message"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.store.SendPlanReferral(r.Context(), act, id, version, aid, in.Urgency, in.Message)
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusCreated, p)
}

func (a *API) addPlanParent(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	var in parentInput
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.store.AddPlanParent(r.Context(), act, id, version, in.parent())
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusCreated, p)
}

func (a *API) recordAgreement(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	var in struct {
		Parent int64       `json:"parent"`
		Agrees bool        `json:"agrees"`
		Reason string      `json:"reason"`
		Via    plan.Method `json:"via"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.store.RecordAgreement(r.Context(), act, id, version, plan.Agreement{ParentID: in.Parent, Agrees: in.Agrees,
		Reason: in.Reason, Via: in.Via})
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusCreated, p)
}

func (a *API) recordConsent(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	var in struct {
		Parent  int64        `json:"parent"`
		Purpose plan.Purpose `json:"purpose"`
		Org     int64        `json:"org"`
		Given   bool         `json:"given"`
		Method  plan.Method  `json:"method"`
		At      string       `json:"at"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	k := plan.Consent{ParentID: in.Parent, Purpose: in.Purpose, OrgID: in.Org, Given: in.Given, Method: in.Method}
	if in.At != "" {
		if k.At, err = parseTime("at", in.At); err != nil {
			return err
		}
	}
	p, err := a.store.RecordConsent(r.Context(), act, id, version, k)
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusCreated, p)
}

func (a *API) logSession(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	var in struct {
		Activity     int64              `json:"activity"`
		At           string             `json:"at"`
		With         []plan.Participant `json:"with"`
		Attended     bool               `json:"attended"`
		MissedReason string             `json:"missed_reason"`
		Note         string             `json:"note"`
		NextSteps    string             `json:"next_steps"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	s := plan.Session{ActivityID: in.Activity, With: in.With, Attended: in.Attended, MissedReason: in.MissedReason, Note: in.Note,
		NextSteps: in.NextSteps}
	if in.At != "" {
		if s.At, err = parseTime("at", in.At); err != nil {
			return err
		}
	}
	p, err := a.store.LogSession(r.Context(), act, id, version, s)
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusCreated, p)
}

func (a *API) recordReview(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	var in struct {
		Progress map[string]int `json:"progress"`
		Level    plan.Level     `json:"level"`
		Decision plan.Decision  `json:"decision"`
		Note     string         `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	rv := plan.Review{Progress: map[int64]plan.Progress{}, LevelTo: in.Level, Decision: in.Decision, Note: in.Note}
	for k, v := range in.Progress {
		g, err := strconv.ParseInt(k, 10, 64)
		if err != nil {
			return apperr.Validation(apperr.Field("progress."+k, "plans.error.progress_goal"))
		}
		rv.Progress[g] = plan.Progress(v)
	}
	p, err := a.store.RecordReview(r.Context(), act, id, version, rv)
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusCreated, p)
}

func (a *API) closePlan(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	var in struct {
		Outcome plan.Outcome `json:"outcome"`
		Note    string       `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.store.ClosePlan(r.Context(), act, id, version, plan.Closure{Outcome: in.Outcome, Note: in.Note})
	if err != nil {
		return err
	}
	return a.writePlan(w, http.StatusOK, p)
}

func (a *API) compareVersions(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	v1, err1 := strconv.Atoi(r.URL.Query().Get("from"))
	v2, err2 := strconv.Atoi(r.URL.Query().Get("to"))
	var fs []apperr.FieldError
	if err1 != nil || v1 < 1 {
		fs = append(fs, apperr.Field("from", "plans.error.version"))
	}
	if err2 != nil || v2 < 1 {
		fs = append(fs, apperr.Field("to", "plans.error.version"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	cs, err := a.store.ComparePlanVersions(r.Context(), act, id, v1, v2)
	if err != nil {
		return err
	}
	type change struct {
		What   string   `json:"what"`
		ID     int64    `json:"id"`
		Kind   string   `json:"kind"`
		Fields []string `json:"fields,omitempty"`
		Old    string   `json:"old,omitempty"`
		New    string   `json:"new,omitempty"`
	}
	out := listPage[change]{Items: []change{}}
	for _, c := range cs {
		out.Items = append(out.Items, change{c.What, c.ID, c.Kind, c.Fields, c.Old, c.New})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createParentLink(w http.ResponseWriter, r *http.Request) error {
	act, id, version, err := planChange(r)
	if err != nil {
		return err
	}
	var in struct {
		Parent       int64 `json:"parent"`
		LifetimeDays int   `json:"lifetime_days"`
		SMS          bool  `json:"sms"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	nl, err := a.store.CreateParentLink(r.Context(), act, id, version, in.Parent, time.Duration(in.LifetimeDays)*24*time.Hour, in.SMS)
	if err != nil {
		return err
	}
	// The token and the code are shown once, for a printed letter; the
	// SMS carries the link itself.
	return writeJSON(w, http.StatusCreated, struct {
		linkJSON
		Path string `json:"path"`
		Code string `json:"code"`
	}{linkJSON{nl.Link.ID, nl.Link.ParentID, nl.Link.State(a.now()), rfc3339(nl.Link.CreatedAt), rfc3339(nl.Link.ExpiresAt), 0},
		"/p/" + nl.Token, nl.Code})
}

// planSubAction is a handler for a change to one part of a plan named in
// the path (an activity, consent, review, link or call request): the plan's
// ID and the version read (If-Match), the part's ID, then the store's
// method (a method expression, so building the routes needs no store);
// it answers the plan.
func (a *API) planSubAction(part string, do func(st surface.PlanStore, ctx context.Context, a audit.Actor, id int64, version int, partID int64) (storage.PlanRecord, error)) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		act, id, version, err := planChange(r)
		if err != nil {
			return err
		}
		pid, err := subID(r, part)
		if err != nil {
			return err
		}
		p, err := do(a.store, r.Context(), act, id, version, pid)
		if err != nil {
			return err
		}
		return a.writePlan(w, http.StatusOK, p)
	}
}

type catalogueGoalJSON struct {
	Code     string      `json:"code"`
	Domain   plan.Domain `json:"domain"`
	TextAZ   string      `json:"text_az"`
	TextRU   string      `json:"text_ru,omitempty"`
	TextEN   string      `json:"text_en,omitempty"`
	Position int         `json:"position"`
	Active   bool        `json:"active"`
}

func (a *API) listGoalCatalogue(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor(r); err != nil {
		return err
	}
	gs, err := a.store.GoalCatalogue(r.Context(), r.URL.Query().Get("all") == "true")
	if err != nil {
		return err
	}
	out := listPage[catalogueGoalJSON]{Items: []catalogueGoalJSON{}}
	for _, g := range gs {
		out.Items = append(out.Items, catalogueGoalJSON{g.Code, g.Domain, g.TextAZ, g.TextRU, g.TextEN, g.Position, g.Active})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) saveGoalCatalogue(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in catalogueGoalJSON
	in.Active = true
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.store.SaveCatalogueGoal(r.Context(), act, storage.CatalogueGoal{Code: r.PathValue("code"), Domain: in.Domain,
		TextAZ: in.TextAZ, TextRU: in.TextRU, TextEN: in.TextEN, Position: in.Position, Active: in.Active}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

type planSettingsJSON struct {
	Cadence     map[plan.Level]int `json:"cadence_weeks"`
	ConfirmDays int                `json:"confirm_days"`
	Version     int                `json:"version"`
}

func (a *API) getPlanSettings(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor(r); err != nil {
		return err
	}
	s, err := a.store.PlanSettings(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(s.Version))
	return writeJSON(w, http.StatusOK, planSettingsJSON{s.Cadence, s.ConfirmDays, s.Version})
}

func (a *API) savePlanSettings(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in planSettingsJSON
	if err := decode(r, &in); err != nil {
		return err
	}
	s, err := a.store.SavePlanSettings(r.Context(), act, storage.PlanSettings{Cadence: plan.Cadence(in.Cadence), ConfirmDays: in.ConfirmDays, Version: version})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(s.Version))
	return writeJSON(w, http.StatusOK, planSettingsJSON{s.Cadence, s.ConfirmDays, s.Version})
}

func (a *API) getPlanPDF(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	p, err := a.store.Plan(r.Context(), act, id)
	if err != nil {
		return err
	}
	lang := httpx.Lang(r.Context())
	if s := r.URL.Query().Get("lang"); s == "" && len(p.Parents) > 0 {
		if l, ok := i18n.Parse(p.Parents[0].Language); ok {
			lang = l
		}
	}
	var buf bytes.Buffer
	if err := surface.PlanPDF(&buf, a.cat.For(lang), p); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Cache-Control", "no-store")
	_, err = buf.WriteTo(w)
	return err
}
