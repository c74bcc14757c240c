package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/org"
	"dayaq/internal/referral"
	"dayaq/internal/storage"
)

// ReferralStore is what the referrals' API needs of storage.
type ReferralStore interface {
	SendReferral(ctx context.Context, a audit.Actor, n storage.NewReferral) (storage.ReferralRecord, error)
	ReferralFor(ctx context.Context, a audit.Actor, id int64) (storage.ReferralRecord, error)
	ChangeReferral(ctx context.Context, a audit.Actor, id int64, version int, ch referral.Change) (storage.ReferralRecord, error)
	ListReferrals(ctx context.Context, a audit.Actor, q storage.ReferralQuery) ([]storage.ReferralRecord, error)
	ReferralBoard(ctx context.Context, a audit.Actor) ([]storage.BoardRow, error)
	ReferralServices(ctx context.Context, all bool) ([]storage.Service, error)
	SaveReferralService(ctx context.Context, a audit.Actor, s storage.Service) error
}

func (a *API) referralRoutes() []Route {
	return []Route{
		{"GET", Prefix + "/referrals", a.listReferrals},
		{"POST", Prefix + "/referrals", a.sendReferral},
		{"GET", Prefix + "/referrals/board", a.referralBoard},
		{"GET", Prefix + "/referrals/{id}", a.getReferral},
		{"POST", Prefix + "/referrals/{id}/transitions", a.changeReferral},
		{"GET", Prefix + "/referral-services", a.listServices},
		{"PUT", Prefix + "/referral-services/{code}", a.saveService},
	}
}

type bodyJSON struct {
	Code   string   `json:"code"`
	Type   org.Type `json:"type"`
	NameAZ string   `json:"name_az"`
}

type basisJSON struct {
	Kind           referral.BasisKind     `json:"kind"`
	ConsentBy      string                 `json:"consent_by,omitempty"`
	ConsentRelated string                 `json:"consent_relation,omitempty"`
	ConsentMethod  referral.ConsentMethod `json:"consent_method,omitempty"`
	ConsentAt      string                 `json:"consent_at,omitempty"`
	Reference      string                 `json:"reference,omitempty"`
	Reason         string                 `json:"override_reason,omitempty"`
}

type referralEventJSON struct {
	At    string         `json:"at"`
	Actor string         `json:"actor"`
	Org   string         `json:"org"`
	From  referral.State `json:"from,omitempty"`
	To    referral.State `json:"to"`
	Note  string         `json:"note,omitempty"`
}

type sharedChildJSON struct {
	ID         int64  `json:"id"`
	LastName   string `json:"last_name"`
	FirstName  string `json:"first_name"`
	Patronymic string `json:"patronymic,omitempty"`
	BirthDate  string `json:"birth_date,omitempty"`
	School     string `json:"school,omitempty"`
	Class      string `json:"class,omitempty"`
}

type referralJSON struct {
	ID          int64               `json:"id"`
	CaseID      int64               `json:"case_id"`
	From        bodyJSON            `json:"from"`
	To          bodyJSON            `json:"to"`
	Service     string              `json:"service"`
	ServiceName string              `json:"service_name"`
	Urgency     referral.Urgency    `json:"urgency"`
	State       referral.State      `json:"state"`
	Message     string              `json:"message,omitempty"`
	Share       []referral.Section  `json:"share"`
	Basis       *basisJSON          `json:"basis,omitempty"`
	Note        string              `json:"note,omitempty"`
	SentAt      string              `json:"sent_at"`
	AckDue      string              `json:"acknowledge_due"`
	CompleteDue string              `json:"complete_due"`
	Due         string              `json:"due,omitempty"`
	Overdue     bool                `json:"overdue"`
	Version     int                 `json:"version"`
	Actions     []referral.Action   `json:"actions,omitempty"`
	Child       *sharedChildJSON    `json:"child,omitempty"`
	CaseTitle   string              `json:"case_title,omitempty"`
	CaseSummary string              `json:"case_summary,omitempty"`
	Events      []referralEventJSON `json:"events,omitempty"`
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// toReferralJSON shows r as its reader may see it: the receiving body sees
// the child's identity and the case's summary or school only when the
// referral shares them.
func toReferralJSON(r storage.ReferralRecord, now time.Time) referralJSON {
	j := referralJSON{ID: r.ID, CaseID: r.CaseID, From: bodyJSON{r.FromOrg.Code, r.FromOrg.Type, r.FromOrg.NameAZ},
		To: bodyJSON{r.ToOrg.Code, r.ToOrg.Type, r.ToOrg.NameAZ}, Service: r.ServiceCode, ServiceName: r.Service.NameAZ,
		Urgency: r.Urgency, State: r.State, Message: r.Message, Share: r.Share, Note: r.Note, SentAt: rfc3339(r.SentAt),
		AckDue: rfc3339(r.AckDue), CompleteDue: rfc3339(r.CompleteDue), Due: rfc3339(r.Due()), Overdue: r.Overdue(now), Version: r.Version,
		Actions: r.Actions}
	if j.Share == nil {
		j.Share = []referral.Section{}
	}
	if r.Message != "" {
		b := r.Basis
		j.Basis = &basisJSON{Kind: b.Kind, ConsentBy: b.ConsentBy, ConsentRelated: b.ConsentRelated, ConsentMethod: b.ConsentMethod,
			ConsentAt: rfc3339(b.ConsentAt), Reference: b.Reference, Reason: b.Reason}
	}
	full := r.Party.Sender || r.Party.CityUnit
	if ch := r.Child; ch != nil {
		c := &sharedChildJSON{ID: ch.ID, LastName: ch.LastName, FirstName: ch.FirstName, Patronymic: ch.Patronymic,
			BirthDate: ch.BirthDate.Format("2006-01-02")}
		if full || r.Shares(referral.ShareSchool) {
			c.School, c.Class = ch.School.Code, ch.Class()
		}
		j.Child = c
	}
	if k := r.Case; k != nil && (full || r.Shares(referral.ShareSummary)) {
		j.CaseTitle, j.CaseSummary = k.Title, k.Summary
	}
	for _, e := range r.Events {
		j.Events = append(j.Events, referralEventJSON{rfc3339(e.At), e.ActorName, e.OrgName, e.From, e.To, e.Note})
	}
	return j
}

type referralInput struct {
	CaseID  int64            `json:"case_id"`
	ChildID int64            `json:"child_id"`
	To      string           `json:"to"`
	Service string           `json:"service"`
	Urgency referral.Urgency `json:"urgency"`
	Message string           `json:"message"`
	Share   []string         `json:"share"`
	Basis   basisJSON        `json:"basis"`
}

func (a *API) sendReferral(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in referralInput
	if err := decode(r, &in); err != nil {
		return err
	}
	var fs []apperr.FieldError
	share, bad := referral.ParseSections(in.Share)
	if bad != "" {
		fs = append(fs, apperr.Field("share", "referral.error.share", bad))
	}
	b := referral.Basis{Kind: in.Basis.Kind, ConsentBy: in.Basis.ConsentBy, ConsentRelated: in.Basis.ConsentRelated,
		ConsentMethod: in.Basis.ConsentMethod, Reference: in.Basis.Reference, Reason: in.Basis.Reason}
	if in.Basis.ConsentAt != "" {
		if b.ConsentAt, err = parseTime("consent_at", in.Basis.ConsentAt); err != nil {
			fs = append(fs, apperr.As(err).Fields...)
		}
	}
	if in.CaseID <= 0 {
		fs = append(fs, apperr.Field("case_id", "error.required"))
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	rec, err := a.store.SendReferral(r.Context(), act, storage.NewReferral{CaseID: in.CaseID, ChildID: in.ChildID, ToOrgCode: in.To,
		ServiceCode: in.Service, Urgency: in.Urgency, Message: in.Message, Share: share, Basis: b})
	if apperr.CodeOf(err) == apperr.NotFound {
		return apperr.Validation(apperr.Field("case_id", "referral.error.case_unknown"))
	}
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/referrals/%d", Prefix, rec.ID))
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusCreated, toReferralJSON(rec, a.now()))
}

func (a *API) getReferral(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	rec, err := a.store.ReferralFor(r.Context(), act, id)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, toReferralJSON(rec, a.now()))
}

// referralChange is a requested change of a referral's state.
type referralChange struct {
	Action referral.Action `json:"action"`
	Note   string          `json:"note"`
}

func (a *API) changeReferral(w http.ResponseWriter, r *http.Request) error {
	return updateJSON(w, r, func(ctx context.Context, act audit.Actor, id int64, version int, in referralChange) (storage.ReferralRecord, error) {
		return a.store.ChangeReferral(ctx, act, id, version, referral.Change{Action: in.Action, Note: in.Note})
	}, func(rec storage.ReferralRecord) int { return rec.Version }, func(rec storage.ReferralRecord) referralJSON { return toReferralJSON(rec, a.now()) })
}

func (a *API) listReferrals(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var fs []apperr.FieldError
	rq := storage.ReferralQuery{OpenOnly: q.Get("open") == "true", Overdue: q.Get("overdue") == "true"}
	if s := q.Get("case"); s != "" {
		if rq.CaseID, err = strconv.ParseInt(s, 10, 64); err != nil {
			fs = append(fs, apperr.Field("case", "error.number"))
		}
	}
	if s := q.Get("to"); s != "" {
		o, err := a.store.OrgByCode(r.Context(), strings.ToUpper(s))
		if err != nil {
			fs = append(fs, apperr.Field("to", "referral.error.to_org"))
		}
		rq.ToOrgID = o.ID
	}
	if s := q.Get("state"); s != "" {
		if rq.State = referral.State(s); !rq.State.Valid() {
			fs = append(fs, apperr.Field("state", "referral.error.state_filter"))
		}
	}
	if s := q.Get("before"); s != "" {
		if rq.Before, err = strconv.ParseInt(s, 10, 64); err != nil {
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
	rq.Limit = limit
	rs, err := a.store.ListReferrals(r.Context(), act, rq)
	if err != nil {
		return err
	}
	p := listPage[referralJSON]{Items: make([]referralJSON, 0, len(rs))}
	for _, rec := range rs {
		p.Items = append(p.Items, toReferralJSON(rec, a.now()))
	}
	if len(rs) == limit {
		next := strconv.FormatInt(rs[len(rs)-1].ID, 10)
		p.Next = &next
	}
	return writeJSON(w, http.StatusOK, p)
}

type boardRowJSON struct {
	Org                   bodyJSON `json:"org"`
	Open                  int      `json:"open"`
	Overdue               int      `json:"overdue"`
	MedianAckSeconds      int64    `json:"median_acknowledge_seconds"`
	MedianCompleteSeconds int64    `json:"median_complete_seconds"`
	Acknowledged          int      `json:"acknowledged"`
	Completed             int      `json:"completed"`
}

func (a *API) referralBoard(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	rows, err := a.store.ReferralBoard(r.Context(), act)
	if err != nil {
		return err
	}
	out := listPage[boardRowJSON]{Items: []boardRowJSON{}}
	for _, b := range rows {
		out.Items = append(out.Items, boardRowJSON{bodyJSON{b.Org.Code, b.Org.Type, b.Org.NameAZ}, b.Open, b.Overdue,
			int64(b.MedianAck / time.Second), int64(b.MedianComplete / time.Second), b.Acked, b.Done})
	}
	return writeJSON(w, http.StatusOK, out)
}

type serviceJSON struct {
	Code     string   `json:"code"`
	OrgType  org.Type `json:"org_type"`
	NameAZ   string   `json:"name_az"`
	NameRU   string   `json:"name_ru,omitempty"`
	NameEN   string   `json:"name_en,omitempty"`
	Position int      `json:"position"`
	Active   bool     `json:"active"`
}

func (a *API) listServices(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor(r); err != nil {
		return err
	}
	ss, err := a.store.ReferralServices(r.Context(), r.URL.Query().Get("all") == "true")
	if err != nil {
		return err
	}
	out := listPage[serviceJSON]{Items: []serviceJSON{}}
	for _, s := range ss {
		out.Items = append(out.Items, serviceJSON{s.Code, s.OrgType, s.NameAZ, s.NameRU, s.NameEN, s.Position, s.Active})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) saveService(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in struct {
		OrgType  org.Type `json:"org_type"`
		NameAZ   string   `json:"name_az"`
		NameRU   string   `json:"name_ru"`
		NameEN   string   `json:"name_en"`
		Position int      `json:"position"`
		Active   *bool    `json:"active"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	active := in.Active == nil || *in.Active
	if err := a.store.SaveReferralService(r.Context(), act, storage.Service{Code: r.PathValue("code"), OrgType: in.OrgType,
		NameAZ: in.NameAZ, NameRU: in.NameRU, NameEN: in.NameEN, Position: in.Position, Active: active}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
