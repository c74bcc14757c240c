package web

import (
	"bytes"
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/plan"
	"dayaq/internal/referral"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// PlanStore is what the plan pages need of storage.
type PlanStore interface {
	surface.PlanStore
	RegisterEntry(ctx context.Context, a audit.Actor, id int64) (storage.RegisterEntry, error)
	RegisterList(ctx context.Context, a audit.Actor, f storage.RegisterFilter) ([]storage.RegisterEntry, error)
	SchoolStaff(ctx context.Context, a audit.Actor, schoolID int64) ([]storage.StaffMember, error)
	ParentView(ctx context.Context, token, session, ip, reqID string) (storage.ParentPage, error)
	UnlockParentLink(ctx context.Context, token string, birth time.Time, ip, reqID string) (storage.ParentPage, string, error)
	ParentAct(ctx context.Context, token, session, ip, reqID string, ans storage.ParentAnswer) (storage.ParentPage, error)
}

func (w *Web) planRoutes() []route {
	return []route{
		{"GET /plans", w.signedIn(w.planList)},
		{"GET /plans/new", w.signedIn(w.planNew)},
		{"POST /plans", w.signedIn(w.planCreate)},
		{"GET /plans/catalogue", w.signedIn(w.planCatalogue)},
		{"POST /plans/catalogue", w.signedIn(w.planCatalogueSave)},
		{"GET /plans/{id}", w.signedIn(w.planPage)},
		{"GET /plans/{id}/pdf", w.signedIn(w.planPDF)},
		{"POST /plans/{id}/{action}", w.signedIn(w.planAction)},
		{"GET /p/{token}", w.parentPage},
		{"POST /p/{token}", w.parentPost},
	}
}

// planListData is the Plans section's page.
type planListData struct {
	Plans   []storage.PlanSummary
	Entries []storage.RegisterEntry // active register entries without a live plan
	CanOpen bool
	Overdue bool
	Now     time.Time
	IsCity  bool
}

func (d planListData) Clock() time.Time { return d.Now }

func (w *Web) planList(rw http.ResponseWriter, r *http.Request) error {
	act := authn.ActorFrom(r)
	d := planListData{Now: w.store.Now(), Overdue: r.URL.Query().Get("overdue") == "1", IsCity: access.CanEditGoalCatalogue(act.Principal)}
	pq := storage.PlanQuery{Overdue: d.Overdue, Limit: 200}
	// a dashboard's number links here narrowed by status, outcome, school or district
	v := r.URL.Query()
	if st := plan.Status(v.Get("status")); slices.Contains(plan.Statuses(), st) {
		pq.Status = st
	}
	pq.Every = v.Get("status") == "all"
	switch v.Get("review") {
	case "overdue":
		pq.Overdue, d.Overdue = true, true
	case "in_time":
		pq.InTime = true
	}
	if out := plan.Outcome(v.Get("outcome")); slices.Contains(plan.Outcomes(), out) {
		pq.Outcome = out
	}
	pq.District = strings.ToUpper(v.Get("district"))
	if code := v.Get("school"); code != "" {
		o, err := w.store.OrgByCode(r.Context(), strings.ToUpper(code))
		if err != nil {
			return err
		}
		pq.SchoolID = o.ID
	}
	ps, err := w.store.ListPlans(r.Context(), act, pq)
	if err != nil {
		return err
	}
	d.Plans = ps
	if access.CanOpenPlan(act.Principal) {
		d.CanOpen = true
		es, err := w.store.RegisterList(r.Context(), act, storage.RegisterFilter{Status: screening.Active, Limit: 200})
		if err != nil {
			return err
		}
		for _, e := range es {
			if !planOpenFor(ps, e) {
				d.Entries = append(d.Entries, e)
			}
		}
	}
	return w.render(rw, http.StatusOK, "plans", w.page(r, "section.plans.title", d))
}

// planOpenFor reports whether the list has a live plan for e's pupil.
func planOpenFor(ps []storage.PlanSummary, e storage.RegisterEntry) bool {
	for _, p := range ps {
		if p.ChildName == e.ChildName && p.Grade == e.Grade && p.Section == e.Section {
			return true
		}
	}
	return false
}

// planNewData is the form that opens a plan.
type planNewData struct {
	Entry     storage.RegisterEntry
	Staff     []storage.StaffMember // who may lead the plan: the school's staff
	Me        int64
	Form      *form
	Relations []string
	Langs     []i18n.Lang
}

func (d planNewData) submitted() *form { return d.Form }

func (w *Web) planNew(rw http.ResponseWriter, r *http.Request) error {
	id, _ := strconv.ParseInt(r.URL.Query().Get("entry"), 10, 64)
	return w.renderPlanNew(rw, r, http.StatusOK, id, nil)
}

func (w *Web) renderPlanNew(rw http.ResponseWriter, r *http.Request, status int, entry int64, f *form) error {
	act := authn.ActorFrom(r)
	e, err := w.store.RegisterEntry(r.Context(), act, entry)
	if err != nil {
		return err
	}
	d := planNewData{Entry: e, Form: f, Relations: plan.Relations(), Langs: i18n.Langs(), Me: act.UserID}
	if e.CanDecide {
		if d.Staff, err = w.store.SchoolStaff(r.Context(), act, e.SchoolID); err != nil {
			return err
		}
	}
	return w.render(rw, status, "plan_new", w.page(r, "plans.new.title", d))
}

func (w *Web) planCreate(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "plan_new", "entry", "concerns", "parent_name", "relation", "phone", "language", "lead")
	entry, _ := strconv.ParseInt(f.V("entry"), 10, 64)
	n := storage.NewPlan{RegisterEntryID: entry, Concerns: f.V("concerns"), LeadUserID: formInt(f, "lead")}
	if f.V("parent_name") != "" {
		n.Parents = []plan.Parent{{Name: f.V("parent_name"), Relation: f.V("relation"), Phone: f.V("phone"), Language: f.V("language")}}
	}
	p, err := w.store.CreatePlan(r.Context(), authn.ActorFrom(r), n)
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		for k, v := range f.Errors {
			if after, ok := strings.CutPrefix(k, "parents.0."); ok {
				f.Errors["parent_"+strings.TrimPrefix(after, "parent_")] = v
				if after == "name" {
					f.Errors["parent_name"] = v
				}
			}
		}
		return w.renderPlanNew(rw, r, http.StatusUnprocessableEntity, entry, f)
	}
	http.Redirect(rw, r, "/plans/"+itoa(p.ID), http.StatusSeeOther)
	return nil
}

// planPageData is one plan's page.
type planPageData struct {
	// ParentEvents are the awareness events the child's parent attended (issue 13).
	ParentEvents []storage.ChildEventAttendance
	P            storage.PlanRecord
	Form         *form
	Now          time.Time
	Staff        []storage.StaffMember
	Bodies       []org.Org
	Services     []storage.Service
	Catalogue    []storage.CatalogueGoal
	Compare      []plan.Change
	From, To     int
	NewLink      *storage.NewParentLink
	Domains      []plan.Domain
	Kinds        []plan.ActivityKind
	Purposes     []plan.Purpose
	Outcomes     []plan.Outcome
	Decisions    []plan.Decision
	Levels       []plan.Level
	Scale        []plan.Progress
	Urgencies    []referral.Urgency
	Missed       int
	CanLog       bool           // may log sessions: a writer, or the class teacher for their own activities
	Removable    map[int64]bool // activities that may be taken out: no sessions, no referral
	GoalInUse    map[int64]bool // goals an activity serves or a review measured: they stay
	GoalByID     map[int64]plan.Goal
	BodyByID     map[int64]string
	ParentByID   map[int64]string
}

func (d planPageData) submitted() *form { return d.Form }

// Full reports whether the reader sees the whole plan.
func (d planPageData) Full() bool       { return d.P.Decision.View == access.PlanFull }
func (d planPageData) Clock() time.Time { return d.Now }

// Standing reports the consent standing for purpose (and body org).
func (d planPageData) Standing(purpose string, orgID int64) *plan.Standing {
	for i, s := range d.P.Standing {
		if string(s.Purpose) == purpose && (s.Purpose != plan.ShareWithBody || s.OrgID == orgID) {
			return &d.P.Standing[i]
		}
	}
	return nil
}

func (w *Web) planPage(rw http.ResponseWriter, r *http.Request) error {
	return w.renderPlan(rw, r, http.StatusOK, nil, nil)
}

func (w *Web) renderPlan(rw http.ResponseWriter, r *http.Request, status int, f *form, nl *storage.NewParentLink) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	act := authn.ActorFrom(r)
	p, err := w.store.Plan(r.Context(), act, id)
	if err != nil {
		return err
	}
	d := planPageData{P: p, Form: f, Now: w.store.Now(), NewLink: nl, Domains: plan.Domains(), Kinds: plan.ActivityKinds(),
		Purposes: plan.Purposes(), Outcomes: plan.Outcomes(), Decisions: plan.Decisions(), Levels: plan.Levels(),
		Scale: plan.ProgressScale(), Urgencies: referral.Urgencies(), Missed: plan.MissedInARow(p.Sessions),
		GoalByID: map[int64]plan.Goal{}, BodyByID: map[int64]string{}, ParentByID: map[int64]string{},
		Removable: map[int64]bool{}, GoalInUse: map[int64]bool{}}
	l := w.cat.For(httpx.Lang(r.Context()))
	for _, g := range p.Goals {
		d.GoalByID[g.ID] = g
	}
	for _, rv := range p.Reviews {
		for g := range rv.Progress {
			d.GoalInUse[g] = true
		}
	}
	for _, a := range p.Activities {
		if a.Responsible.Kind == plan.PartyBody {
			d.BodyByID[a.Responsible.OrgID] = a.ToOrg.Name(string(l.Lang))
		}
		for _, g := range a.GoalIDs {
			d.GoalInUse[g] = true
		}
		d.Removable[a.ID] = a.ReferralID == 0 && !slices.ContainsFunc(p.Sessions, func(s plan.Session) bool { return s.ActivityID == a.ID })
		if a.Mine && p.Decision.View == access.PlanTeacher {
			d.CanLog = true
		}
	}
	d.CanLog = d.CanLog || p.Decision.CanWrite
	for _, x := range p.Parents {
		d.ParentByID[x.ID] = x.Name
	}
	if p.Decision.CanWrite {
		if d.Staff, err = w.store.SchoolStaff(r.Context(), act, p.SchoolID); err != nil {
			return err
		}
		if d.Bodies, err = w.receivingBodies(r.Context()); err != nil {
			return err
		}
		if d.Services, err = w.store.ReferralServices(r.Context(), false); err != nil {
			return err
		}
		if d.Catalogue, err = w.store.GoalCatalogue(r.Context(), false); err != nil {
			return err
		}
	}
	q := r.URL.Query()
	if from, to := q.Get("from"), q.Get("to"); from != "" && to != "" && p.Decision.View == access.PlanFull {
		d.From, _ = strconv.Atoi(from)
		d.To, _ = strconv.Atoi(to)
		if d.Compare, err = w.store.ComparePlanVersions(r.Context(), act, id, d.From, d.To); err != nil && apperr.CodeOf(err) != apperr.Invalid {
			return err
		}
	}
	d.ParentEvents = w.childEvents(r.Context(), act, p.ChildID)
	return w.render(rw, status, "plan", w.page(r, "plans.page.title", d))
}

// planDate reads a date field of a plan form.
func planDate(f *form, name string, fs *[]apperr.FieldError) time.Time {
	v := f.V(name)
	if v == "" {
		return time.Time{}
	}
	t, ok := parseLocal(v)
	if !ok {
		*fs = append(*fs, apperr.Field(name, "plans.error.date"))
	}
	return t
}

func formInt(f *form, name string) int64 {
	n, _ := strconv.ParseInt(f.V(name), 10, 64)
	return n
}

// planAction applies one of the plan page's forms.
func (w *Web) planAction(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "error.validation")
	}
	action := r.PathValue("action")
	act, ctx := authn.ActorFrom(r), r.Context()
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	s := w.store
	var fs []apperr.FieldError
	var nl *storage.NewParentLink
	f := readForm(r, action, "domain", "catalogue_code", "statement", "indicator", "from", "until", "kind", "title",
		"responsible", "staff", "body", "service", "parent", "frequency", "at", "attended", "missed_reason", "note",
		"next_steps", "activity", "agrees", "reason", "via", "purpose", "org", "given", "method", "level", "decision",
		"outcome", "urgency", "message", "name", "relation", "phone", "language", "sms", "days", "target", "status", "lead", "code")
	goals := func() []int64 {
		var out []int64
		for _, v := range r.PostForm["goals"] {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				out = append(out, n)
			}
		}
		return out
	}
	switch action {
	case "goal":
		g := plan.Goal{Domain: plan.Domain(f.V("domain")), CatalogueCode: f.V("catalogue_code"), Statement: f.V("statement"),
			Indicator: f.V("indicator"), From: planDate(f, "from", &fs), Until: planDate(f, "until", &fs)}
		if g.CatalogueCode != "" && g.Statement == "" {
			cat, _ := s.GoalCatalogue(ctx, false)
			for _, c := range cat {
				if c.Code == g.CatalogueCode {
					g.Statement, g.Domain = c.Text(string(httpx.Lang(ctx))), c.Domain
				}
			}
		}
		if len(fs) == 0 {
			_, err = s.AddGoal(ctx, act, id, version, g)
		}
	case "goal-edit":
		g := plan.Goal{ID: formInt(f, "target"), Domain: plan.Domain(f.V("domain")), CatalogueCode: f.V("catalogue_code"),
			Statement: f.V("statement"), Indicator: f.V("indicator"), From: planDate(f, "from", &fs), Until: planDate(f, "until", &fs)}
		if len(fs) == 0 {
			_, err = s.UpdateGoal(ctx, act, id, version, g)
		}
	case "goal-remove":
		_, err = s.RemoveGoal(ctx, act, id, version, formInt(f, "target"))
	case "activity-remove":
		_, err = s.RemoveActivity(ctx, act, id, version, formInt(f, "target"))
	case "lead":
		_, err = s.SetPlanLead(ctx, act, id, version, formInt(f, "lead"))
	case "letter":
		// The code shown once when the link was made comes back from the
		// page; storage checks it against the link's hash.
		var pl storage.ParentLetter
		if pl, err = s.PlanLetter(ctx, act, id, formInt(f, "target"), f.V("code")); err == nil {
			var buf bytes.Buffer
			if err := surface.PlanLetterPDF(&buf, w.cat.For(surface.LetterLang(pl)), pl, surface.SiteBase(r, w.publicURL), s.Now()); err != nil {
				return err
			}
			rw.Header().Set("Content-Type", "application/pdf")
			rw.Header().Set("Content-Disposition", `inline; filename="letter-`+itoa(id)+`.pdf"`)
			rw.Header().Set("Cache-Control", "no-store")
			_, err = buf.WriteTo(rw)
			return err
		}
	case "goal-status":
		_, err = s.SetGoalStatus(ctx, act, id, version, formInt(f, "target"), plan.GoalStatus(f.V("status")))
	case "activity":
		kind := plan.ActivityKind(f.V("kind"))
		res := plan.Responsible{Kind: plan.PartyStaff, UserID: formInt(f, "staff")}
		switch {
		case kind == plan.ParentCommitment:
			res = plan.Responsible{Kind: plan.PartyParent, ParentID: formInt(f, "parent")}
		case kind == plan.ReferralActivity || f.V("body") != "":
			res = plan.Responsible{Kind: plan.PartyBody}
		}
		n := storage.NewActivity{Activity: plan.Activity{Kind: kind, Title: f.V("title"), Responsible: res, Frequency: f.V("frequency"),
			From: planDate(f, "from", &fs), Until: planDate(f, "until", &fs), GoalIDs: goals()}, ToOrgCode: f.V("body"), ServiceCode: f.V("service")}
		if len(fs) == 0 {
			_, err = s.AddActivity(ctx, act, id, version, n)
		}
	case "referral":
		_, err = s.SendPlanReferral(ctx, act, id, version, formInt(f, "activity"), referral.Urgency(f.V("urgency")), f.V("message"))
	case "session":
		var with []plan.Participant
		for _, v := range r.PostForm["with"] {
			with = append(with, plan.Participant(v))
		}
		at := planDate(f, "at", &fs)
		if at.IsZero() && len(fs) == 0 {
			fs = append(fs, apperr.Field("at", "error.required"))
		}
		if len(fs) == 0 {
			_, err = s.LogSession(ctx, act, id, version, plan.Session{ActivityID: formInt(f, "activity"), At: at, With: with,
				Attended: f.V("attended") == "yes", MissedReason: f.V("missed_reason"), Note: f.V("note"), NextSteps: f.V("next_steps")})
		}
	case "parent":
		_, err = s.AddPlanParent(ctx, act, id, version, plan.Parent{Name: f.V("name"), Relation: f.V("relation"), Phone: f.V("phone"),
			Language: f.V("language")})
	case "agreement":
		_, err = s.RecordAgreement(ctx, act, id, version, plan.Agreement{ParentID: formInt(f, "parent"), Agrees: f.V("agrees") == "yes",
			Reason: f.V("reason"), Via: plan.Method(f.V("via"))})
	case "consent":
		_, err = s.RecordConsent(ctx, act, id, version, plan.Consent{ParentID: formInt(f, "parent"), Purpose: plan.Purpose(f.V("purpose")),
			OrgID: formInt(f, "org"), Given: f.V("given") == "yes", Method: plan.Method(f.V("method"))})
	case "confirm":
		_, err = s.ConfirmConsent(ctx, act, id, version, formInt(f, "target"))
	case "review":
		rv := plan.Review{Progress: map[int64]plan.Progress{}, LevelTo: plan.Level(f.V("level")), Decision: plan.Decision(f.V("decision")),
			Note: f.V("note")}
		for k, vs := range r.PostForm {
			if g, ok := strings.CutPrefix(k, "progress."); ok && len(vs) > 0 && vs[0] != "" {
				gid, _ := strconv.ParseInt(g, 10, 64)
				n, _ := strconv.Atoi(vs[0])
				rv.Progress[gid] = plan.Progress(n)
				f.Values[k] = vs[0]
			}
		}
		_, err = s.RecordReview(ctx, act, id, version, rv)
	case "approve":
		_, err = s.ApproveReview(ctx, act, id, version, formInt(f, "target"))
	case "close":
		_, err = s.ClosePlan(ctx, act, id, version, plan.Closure{Outcome: plan.Outcome(f.V("outcome")), Note: f.V("note")})
	case "link":
		days, _ := strconv.Atoi(f.V("days"))
		var link storage.NewParentLink
		link, err = s.CreateParentLink(ctx, act, id, version, formInt(f, "parent"), time.Duration(days)*24*time.Hour, f.V("sms") == "yes")
		if err == nil {
			nl = &link
		}
	case "revoke":
		_, err = s.RevokeParentLink(ctx, act, id, version, formInt(f, "target"))
	case "call-done":
		_, err = s.ResolveCallRequest(ctx, act, id, version, formInt(f, "target"))
	default:
		return apperr.New(apperr.NotFound, "error.page_not_found")
	}
	if len(fs) > 0 {
		err = apperr.Validation(fs...)
	}
	if err != nil {
		if apperr.CodeOf(err) == apperr.Forbidden {
			return err // one who may only read the plan: the error page, 403
		}
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		status := http.StatusUnprocessableEntity
		if apperr.CodeOf(err) == apperr.Conflict {
			status = http.StatusConflict
		}
		return w.renderPlan(rw, r, status, f, nil)
	}
	if nl != nil {
		// The code and the link are shown once, for a printed letter.
		return w.renderPlan(rw, r, http.StatusOK, nil, nl)
	}
	http.Redirect(rw, r, "/plans/"+itoa(id)+"#"+action, http.StatusSeeOther)
	return nil
}

func (w *Web) planPDF(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	p, err := w.store.Plan(r.Context(), authn.ActorFrom(r), id)
	if err != nil {
		return err
	}
	lang := httpx.Lang(r.Context())
	if r.URL.Query().Get("lang") == "" && len(p.Parents) > 0 {
		if l, ok := i18n.Parse(p.Parents[0].Language); ok {
			lang = l
		}
	}
	var buf bytes.Buffer
	if err := surface.PlanPDF(&buf, w.cat.For(lang), p); err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "application/pdf")
	rw.Header().Set("Content-Disposition", `inline; filename="plan-`+itoa(id)+`.pdf"`)
	rw.Header().Set("Cache-Control", "no-store")
	_, err = buf.WriteTo(rw)
	return err
}

// planCatalogueData is the city's goal catalogue page.
type planCatalogueData struct {
	Goals    []storage.CatalogueGoal
	Settings storage.PlanSettings
	CanEdit  bool
	Form     *form
	Domains  []plan.Domain
	Levels   []plan.Level
}

func (d planCatalogueData) submitted() *form { return d.Form }

// Weeks is the cadence in weeks for level l.
func (d planCatalogueData) Weeks(l string) int { return d.Settings.Cadence[plan.Level(l)] }

func (w *Web) planCatalogue(rw http.ResponseWriter, r *http.Request) error {
	return w.renderCatalogue(rw, r, http.StatusOK, nil)
}

func (w *Web) renderCatalogue(rw http.ResponseWriter, r *http.Request, status int, f *form) error {
	gs, err := w.store.GoalCatalogue(r.Context(), true)
	if err != nil {
		return err
	}
	st, err := w.store.PlanSettings(r.Context())
	if err != nil {
		return err
	}
	d := planCatalogueData{Goals: gs, Settings: st, CanEdit: access.CanEditGoalCatalogue(authn.PrincipalFrom(r.Context())), Form: f,
		Domains: plan.Domains(), Levels: plan.Levels()}
	return w.render(rw, status, "plan_catalogue", w.page(r, "plans.catalogue.title", d))
}

func (w *Web) planCatalogueSave(rw http.ResponseWriter, r *http.Request) error {
	act := authn.ActorFrom(r)
	f := readForm(r, r.PostFormValue("form"), "code", "domain", "text_az", "text_ru", "text_en", "position", "active",
		"high", "medium", "low", "confirm_days", "version")
	var err error
	if f.Name == "settings" {
		c := plan.Cadence{}
		for _, l := range plan.Levels() {
			n, _ := strconv.Atoi(f.V(string(l)))
			c[l] = n
		}
		days, _ := strconv.Atoi(f.V("confirm_days"))
		v, _ := strconv.Atoi(f.V("version"))
		_, err = w.store.SavePlanSettings(r.Context(), act, storage.PlanSettings{Cadence: c, ConfirmDays: days, Version: v})
	} else {
		f.Name = "goal"
		pos, _ := strconv.Atoi(f.V("position"))
		err = w.store.SaveCatalogueGoal(r.Context(), act, storage.CatalogueGoal{Code: f.V("code"), Domain: plan.Domain(f.V("domain")),
			TextAZ: f.V("text_az"), TextRU: f.V("text_ru"), TextEN: f.V("text_en"), Position: pos, Active: f.V("active") != "no"})
	}
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderCatalogue(rw, r, http.StatusUnprocessableEntity, f)
	}
	http.Redirect(rw, r, "/plans/catalogue", http.StatusSeeOther)
	return nil
}
