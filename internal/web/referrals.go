package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/org"
	"dayaq/internal/referral"
	"dayaq/internal/storage"
)

// ReferralStore is what the referral pages need of storage.
type ReferralStore interface {
	SendReferral(ctx context.Context, a audit.Actor, n storage.NewReferral) (storage.ReferralRecord, error)
	ReferralFor(ctx context.Context, a audit.Actor, id int64) (storage.ReferralRecord, error)
	ChangeReferral(ctx context.Context, a audit.Actor, id int64, version int, ch referral.Change) (storage.ReferralRecord, error)
	ListReferrals(ctx context.Context, a audit.Actor, q storage.ReferralQuery) ([]storage.ReferralRecord, error)
	ReferralBoard(ctx context.Context, a audit.Actor) ([]storage.BoardRow, error)
	ReferralServices(ctx context.Context, all bool) ([]storage.Service, error)
	ReferralDeadlines(ctx context.Context, u referral.Urgency) (ack, complete time.Time, err error)
	CaseBrief(ctx context.Context, a audit.Actor, id int64) (storage.CaseRecord, error)
	SaveReferralService(ctx context.Context, a audit.Actor, s storage.Service) error
}

func (w *Web) referralRoutes() []route {
	return []route{
		{"GET /referrals", w.signedIn(w.referralList)},
		{"GET /referrals/board", w.signedIn(w.referralBoard)},
		{"GET /referrals/services", w.signedIn(w.serviceList)},
		{"POST /referrals/services", w.signedIn(w.serviceSave)},
		{"GET /referrals/{id}", w.signedIn(w.referralPage)},
		{"POST /referrals/{id}", w.signedIn(w.referralChange)},
		{"GET /cases/{id}/refer", w.signedIn(w.referralNew)},
		{"POST /cases/{id}/refer", w.signedIn(w.referralSend)},
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// referralListData is the Referrals section's page.
type referralListData struct {
	Referrals []storage.ReferralRecord
	Bodies    []org.Org
	To        string
	State     string
	Open      bool
	Overdue   bool
	Next      string
	Now       time.Time
	States    []referral.State
	// CanExport: the viewer may export the list (access.MayExportList);
	// ExportQuery is its filter for the export links.
	CanExport   bool
	ExportQuery string
}

func (d referralListData) Clock() time.Time { return d.Now }

func (w *Web) referralList(rw http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	d := referralListData{To: strings.ToUpper(q.Get("to")), State: q.Get("state"), Open: q.Get("open") == "1",
		Overdue: q.Get("overdue") == "1", Now: w.store.Now(), States: referral.States()}
	rq := storage.ReferralQuery{OpenOnly: d.Open, Overdue: d.Overdue, Limit: 50}
	if d.To != "" {
		o, err := w.store.OrgByCode(r.Context(), d.To)
		if err != nil {
			return apperr.Validation(apperr.Field("to", "referral.error.to_org"))
		}
		rq.ToOrgID = o.ID
	}
	if s := referral.State(d.State); s.Valid() {
		rq.State = s
	}
	if s := q.Get("before"); s != "" {
		rq.Before, _ = strconv.ParseInt(s, 10, 64)
	}
	if s := q.Get("case"); s != "" {
		rq.CaseID, _ = strconv.ParseInt(s, 10, 64)
	}
	rs, err := w.store.ListReferrals(r.Context(), authn.ActorFrom(r), rq)
	if err != nil {
		return err
	}
	d.Referrals = rs
	if len(rs) == rq.Limit {
		v := url.Values{"before": {itoa(rs[len(rs)-1].ID)}}
		for k, val := range map[string]string{"to": d.To, "state": d.State} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if d.Open {
			v.Set("open", "1")
		}
		if d.Overdue {
			v.Set("overdue", "1")
		}
		d.Next = "/referrals?" + v.Encode()
	}
	if d.Bodies, err = w.receivingBodies(r.Context()); err != nil {
		return err
	}
	if d.CanExport = access.MayExportList(authn.ActorFrom(r).Principal, "referrals"); d.CanExport {
		ev := exportFilter(q)
		ev.Del("before")
		d.ExportQuery = ev.Encode()
	}
	return w.render(rw, http.StatusOK, "referrals", w.page(r, "section.referrals.title", d))
}

// receivingBodies lists the bodies a referral may go to, but schools (of
// which there are thousands: they are named by code).
func (w *Web) receivingBodies(ctx context.Context) ([]org.Org, error) {
	var out []org.Org
	for _, t := range []org.Type{org.CityDepartment, org.Police, org.Health, org.SocialProtection, org.StateCommittee,
		org.Commission, org.District} {
		os, err := w.store.Orgs(ctx, storage.OrgFilter{Type: t, Limit: 200})
		if err != nil {
			return nil, err
		}
		out = append(out, os...)
	}
	return out, nil
}

// boardData is the "who is waiting on whom" page.
type boardData struct {
	Rows []storage.BoardRow
}

func (w *Web) referralBoard(rw http.ResponseWriter, r *http.Request) error {
	rows, err := w.store.ReferralBoard(r.Context(), authn.ActorFrom(r))
	if err != nil {
		return err
	}
	return w.render(rw, http.StatusOK, "referral_board", w.page(r, "referral.board.title", boardData{Rows: rows}))
}

// referralPageData is one referral's page.
type referralPageData struct {
	storage.ReferralRecord
	Now   time.Time
	Full  bool // the reader is on the sending side or the city unit: the whole case is theirs to see
	Form  *form
	Needs map[referral.Action]string // the text each action needs: "reason", "feedback" or ""
}

func (d referralPageData) Clock() time.Time { return d.Now }
func (d referralPageData) submitted() *form { return d.Form }

// ShowSchool reports whether the page shows the child's school and class.
func (d referralPageData) ShowSchool() bool { return d.Full || d.Shares(referral.ShareSchool) }

// ShowSummary reports whether the page shows the case's summary.
func (d referralPageData) ShowSummary() bool {
	return d.Case != nil && (d.Full || d.Shares(referral.ShareSummary))
}

func (w *Web) referralPage(rw http.ResponseWriter, r *http.Request) error {
	return w.renderReferral(rw, r, http.StatusOK, nil)
}

func (w *Web) renderReferral(rw http.ResponseWriter, r *http.Request, status int, f *form) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rec, err := w.store.ReferralFor(r.Context(), authn.ActorFrom(r), id)
	if err != nil {
		return err
	}
	d := referralPageData{ReferralRecord: rec, Now: w.store.Now(), Full: rec.Party.Sender || rec.Party.CityUnit, Form: f,
		Needs: map[referral.Action]string{}}
	for _, a := range referral.Actions() {
		d.Needs[a] = referral.NeedsNote(a)
	}
	return w.render(rw, status, "referral", w.page(r, "referral.title", d))
}

func (w *Web) referralChange(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, "change", "version", "action", "note")
	v, _ := strconv.Atoi(f.V("version"))
	_, err = w.store.ChangeReferral(r.Context(), authn.ActorFrom(r), id, v, referral.Change{Action: referral.Action(f.V("action")),
		Note: f.V("note")})
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderReferral(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, fmt.Sprintf("/referrals/%d", id), http.StatusSeeOther)
	return nil
}

// referralFormData is the form that refers a case.
type referralFormData struct {
	Case      storage.CaseRecord
	Bodies    []org.Org
	Services  []storage.Service
	Form      *form
	Share     map[string]bool
	Sections  []referral.Section
	Urgencies []referral.Urgency
	Due       map[referral.Urgency][2]time.Time // what each urgency's deadlines would be if sent now
	Bases     []referral.BasisKind
	Methods   []referral.ConsentMethod
	Override  bool // the reader may send without a basis
	Now       time.Time
}

func (d referralFormData) submitted() *form { return d.Form }
func (d referralFormData) Clock() time.Time { return d.Now }

func (w *Web) referralNew(rw http.ResponseWriter, r *http.Request) error {
	f := &form{Name: "ref_new", Values: map[string]string{"urgency": string(referral.Medium), "basis": string(referral.Consent)},
		Errors: map[string]string{}}
	return w.renderReferralForm(rw, r, http.StatusOK, f, map[string]bool{string(referral.ShareSummary): true})
}

func (w *Web) renderReferralForm(rw http.ResponseWriter, r *http.Request, status int, f *form, share map[string]bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	k, err := w.store.CaseBrief(r.Context(), a, id)
	if err != nil {
		return err
	}
	if !k.CanWrite {
		return apperr.New(apperr.Forbidden, "case.error.no_write")
	}
	d := referralFormData{Case: k, Form: f, Share: share, Sections: referral.Sections(), Urgencies: referral.Urgencies(),
		Due: map[referral.Urgency][2]time.Time{}, Bases: referral.BasisKinds(), Methods: referral.ConsentMethods(),
		Override: referral.CanOverride(a.Principal), Now: w.store.Now()}
	if d.Bodies, err = w.receivingBodies(r.Context()); err != nil {
		return err
	}
	if d.Services, err = w.store.ReferralServices(r.Context(), false); err != nil {
		return err
	}
	for _, u := range d.Urgencies {
		ack, done, err := w.store.ReferralDeadlines(r.Context(), u)
		if err != nil {
			return err
		}
		d.Due[u] = [2]time.Time{ack, done}
	}
	return w.render(rw, status, "referral_form", w.page(r, "referral.new.title", d))
}

func (w *Web) referralSend(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, "ref_new", "child_id", "to", "to_school", "service", "urgency", "message", "basis", "consent_by",
		"consent_relation", "consent_method", "consent_at", "basis_reference", "override_reason")
	share := map[string]bool{}
	for _, s := range r.PostForm["share"] {
		share[s] = true
	}
	sections, _ := referral.ParseSections(r.PostForm["share"])
	childID, _ := strconv.ParseInt(f.V("child_id"), 10, 64)
	to := f.V("to")
	if f.V("to_school") != "" {
		to = f.V("to_school")
	}
	b := referral.Basis{Kind: referral.BasisKind(f.V("basis")), ConsentBy: f.V("consent_by"), ConsentRelated: f.V("consent_relation"),
		ConsentMethod: referral.ConsentMethod(f.V("consent_method")), Reference: f.V("basis_reference"), Reason: f.V("override_reason")}
	if t, ok := parseLocal(f.V("consent_at")); ok {
		b.ConsentAt = t
	}
	rec, err := w.store.SendReferral(r.Context(), authn.ActorFrom(r), storage.NewReferral{CaseID: id, ChildID: childID, ToOrgCode: to,
		ServiceCode: f.V("service"), Urgency: referral.Urgency(f.V("urgency")), Message: f.V("message"), Share: sections, Basis: b})
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		if msg, ok := f.Errors["to_org"]; ok { // the form names the body in two controls
			f.Errors["to"] = msg
		}
		return w.renderReferralForm(rw, r, statusOf(err), f, share)
	}
	http.Redirect(rw, r, fmt.Sprintf("/referrals/%d", rec.ID), http.StatusSeeOther)
	return nil
}

// servicesData is the service list's page: everyone sees it, the city's
// administrators change it.
type servicesData struct {
	Services []storage.Service
	CanEdit  bool
	Types    []org.Type
	Form     *form
}

func (d servicesData) submitted() *form { return d.Form }

func (w *Web) serviceList(rw http.ResponseWriter, r *http.Request) error {
	return w.renderServices(rw, r, http.StatusOK, nil)
}

func (w *Web) renderServices(rw http.ResponseWriter, r *http.Request, status int, f *form) error {
	p := authn.PrincipalFrom(r.Context())
	ss, err := w.store.ReferralServices(r.Context(), true)
	if err != nil {
		return err
	}
	d := servicesData{Services: ss, CanEdit: access.CanEditReferralServices(p), Form: f}
	for _, t := range org.Types() {
		if referral.Receivable(t) {
			d.Types = append(d.Types, t)
		}
	}
	return w.render(rw, status, "referral_services", w.page(r, "referral.services.title", d))
}

func (w *Web) serviceSave(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "ref_service", "code", "org_type", "name_az", "name_ru", "name_en", "position", "active")
	pos, _ := strconv.Atoi(f.V("position"))
	err := w.store.SaveReferralService(r.Context(), authn.ActorFrom(r), storage.Service{Code: f.V("code"), OrgType: org.Type(f.V("org_type")),
		NameAZ: f.V("name_az"), NameRU: f.V("name_ru"), NameEN: f.V("name_en"), Position: pos, Active: f.V("active") == "1"})
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderServices(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, "/referrals/services", http.StatusSeeOther)
	return nil
}
