package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/httpx"
	"dayaq/internal/minutes"
	"dayaq/internal/storage"
	"dayaq/internal/workgroup"
)

// WorkgroupStore is what the working group's API needs of storage.
type WorkgroupStore interface {
	WGMembers(ctx context.Context, a audit.Actor) ([]workgroup.Member, error)
	AddWGMember(ctx context.Context, a audit.Actor, email string, role workgroup.Role) error
	WGMeetings(ctx context.Context, a audit.Actor) ([]workgroup.Meeting, error)
	WGMeeting(ctx context.Context, a audit.Actor, id int64) (storage.MeetingRecord, error)
	CreateMeeting(ctx context.Context, a audit.Actor, m workgroup.Meeting) (workgroup.Meeting, error)
	UpdateMeeting(ctx context.Context, a audit.Actor, m workgroup.Meeting) (workgroup.Meeting, error)
	AddAgendaItem(ctx context.Context, a audit.Actor, meetingID, caseID int64, note string) error
	AddDecision(ctx context.Context, a audit.Actor, d workgroup.Decision) (workgroup.Decision, error)
	ActionItems(ctx context.Context, a audit.Actor, f storage.ActionFilter) ([]workgroup.ActionItem, error)
	CreateActionItem(ctx context.Context, a audit.Actor, it workgroup.ActionItem) (workgroup.ActionItem, error)
	SetActionStatus(ctx context.Context, a audit.Actor, id int64, version int, status workgroup.ItemStatus) (workgroup.ActionItem, error)
	Proposals(ctx context.Context, a audit.Actor) ([]workgroup.Proposal, error)
	CreateProposal(ctx context.Context, a audit.Actor, p workgroup.Proposal) (workgroup.Proposal, error)
	SetProposalStatus(ctx context.Context, a audit.Actor, id int64, version int, status workgroup.ProposalStatus) (workgroup.Proposal, error)
}

func (a *API) workgroupRoutes() []Route {
	const p = Prefix + "/working-group"
	return []Route{
		{"GET", p + "/members", a.wgMembers},
		{"POST", p + "/members", a.wgAddMember},
		{"GET", p + "/meetings", a.wgMeetings},
		{"POST", p + "/meetings", a.wgCreateMeeting},
		{"GET", p + "/meetings/{id}", a.wgMeeting},
		{"PATCH", p + "/meetings/{id}", a.wgUpdateMeeting},
		{"GET", p + "/meetings/{id}/minutes.pdf", a.wgMinutes},
		{"POST", p + "/meetings/{id}/agenda", a.wgAddAgenda},
		{"POST", p + "/meetings/{id}/decisions", a.wgAddDecision},
		{"POST", p + "/meetings/{id}/action-items", a.wgCreateAction},
		{"GET", p + "/action-items", a.wgActions},
		{"PATCH", p + "/action-items/{id}", a.wgUpdateAction},
		{"GET", p + "/proposals", a.wgProposals},
		{"POST", p + "/proposals", a.wgCreateProposal},
		{"PATCH", p + "/proposals/{id}", a.wgUpdateProposal},
	}
}

type memberJSON struct {
	ID       int64          `json:"id"`
	UserID   int64          `json:"user_id"`
	UserName string         `json:"user_name"`
	OrgName  string         `json:"org_name"`
	Role     workgroup.Role `json:"role"`
}

type meetingJSON struct {
	ID        int64                   `json:"id"`
	Title     string                  `json:"title"`
	StartsAt  string                  `json:"starts_at"`
	Place     string                  `json:"place"`
	Status    workgroup.MeetingStatus `json:"status"`
	Minutes   string                  `json:"minutes"`
	Version   int                     `json:"version"`
	Agenda    []agendaJSON            `json:"agenda,omitempty"`
	Decisions []decisionJSON          `json:"decisions,omitempty"`
	Actions   []actionJSON            `json:"action_items,omitempty"`
}

type agendaJSON struct {
	ID     int64  `json:"id"`
	CaseID int64  `json:"case_id"`
	Note   string `json:"note,omitempty"`
}

type decisionJSON struct {
	ID     int64  `json:"id"`
	CaseID int64  `json:"case_id,omitempty"`
	Text   string `json:"text"`
}

type actionJSON struct {
	ID          int64                `json:"id"`
	MeetingID   int64                `json:"meeting_id,omitempty"`
	Title       string               `json:"title"`
	OwnerUserID int64                `json:"owner_user_id"`
	OwnerName   string               `json:"owner_name"`
	Due         string               `json:"due"`
	Status      workgroup.ItemStatus `json:"status"`
	Overdue     bool                 `json:"overdue"`
	Version     int                  `json:"version"`
}

type proposalJSON struct {
	ID         int64                    `json:"id"`
	Title      string                   `json:"title"`
	Body       string                   `json:"body"`
	Status     workgroup.ProposalStatus `json:"status"`
	AuthorName string                   `json:"author_name"`
	OrgName    string                   `json:"org_name"`
	Version    int                      `json:"version"`
	CreatedAt  string                   `json:"created_at"`
}

func toMeetingJSON(m workgroup.Meeting) meetingJSON {
	return meetingJSON{ID: m.ID, Title: m.Title, StartsAt: m.StartsAt.Format(time.RFC3339), Place: m.Place, Status: m.Status,
		Minutes: m.Minutes, Version: m.Version}
}

func toActionJSON(it workgroup.ActionItem, now time.Time) actionJSON {
	return actionJSON{ID: it.ID, MeetingID: it.MeetingID, Title: it.Title, OwnerUserID: it.OwnerUserID, OwnerName: it.OwnerName,
		Due: it.Due.Format(time.RFC3339), Status: it.Status, Overdue: it.Overdue(now), Version: it.Version}
}

func toProposalJSON(p workgroup.Proposal) proposalJSON {
	return proposalJSON{ID: p.ID, Title: p.Title, Body: p.Body, Status: p.Status, AuthorName: p.AuthorName, OrgName: p.OrgName,
		Version: p.Version, CreatedAt: p.CreatedAt.Format(time.RFC3339)}
}

// parseTime reads an RFC 3339 time, naming field when it is not one.
func parseTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, apperr.Validation(apperr.Field(field, "referral.error.time_format"))
	}
	return t.UTC(), nil
}

func (a *API) wgMembers(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	s := a.store
	ms, err := s.WGMembers(r.Context(), act)
	if err != nil {
		return err
	}
	out := listPage[memberJSON]{Items: []memberJSON{}}
	for _, m := range ms {
		out.Items = append(out.Items, memberJSON{m.ID, m.UserID, m.UserName, m.OrgName, m.Role})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) wgAddMember(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	s := a.store
	var in struct {
		Email string         `json:"email"`
		Role  workgroup.Role `json:"role"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.AddWGMember(r.Context(), act, in.Email, in.Role); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) wgMeetings(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	s := a.store
	ms, err := s.WGMeetings(r.Context(), act)
	if err != nil {
		return err
	}
	out := listPage[meetingJSON]{Items: []meetingJSON{}}
	for _, m := range ms {
		out.Items = append(out.Items, toMeetingJSON(m))
	}
	return writeJSON(w, http.StatusOK, out)
}

// meetingInput is a meeting as clients send it.
type meetingInput struct {
	Title    string                  `json:"title"`
	StartsAt string                  `json:"starts_at"`
	Place    string                  `json:"place"`
	Status   workgroup.MeetingStatus `json:"status"`
	Minutes  string                  `json:"minutes"`
}

func (in meetingInput) meeting() (workgroup.Meeting, error) {
	m := workgroup.Meeting{Title: in.Title, Place: in.Place, Status: in.Status, Minutes: in.Minutes}
	t, err := parseTime("starts_at", in.StartsAt)
	m.StartsAt = t
	return m, err
}

func (a *API) wgCreateMeeting(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	s := a.store
	var in meetingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := in.meeting()
	if err != nil {
		return err
	}
	if m, err = s.CreateMeeting(r.Context(), act, m); err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/working-group/meetings/%d", Prefix, m.ID))
	w.Header().Set("ETag", etag(m.Version))
	return writeJSON(w, http.StatusCreated, toMeetingJSON(m))
}

func (a *API) wgMeeting(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	s := a.store
	rec, err := s.WGMeeting(r.Context(), act, id)
	if err != nil {
		return err
	}
	j := toMeetingJSON(rec.Meeting)
	for _, it := range rec.Agenda {
		j.Agenda = append(j.Agenda, agendaJSON{it.ID, it.CaseID, it.Note})
	}
	for _, d := range rec.Decisions {
		j.Decisions = append(j.Decisions, decisionJSON{d.ID, d.CaseID, d.Text})
	}
	for _, it := range rec.Actions {
		j.Actions = append(j.Actions, toActionJSON(it, a.now()))
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, j)
}

func (a *API) wgUpdateMeeting(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	s := a.store
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in meetingInput
	if err := decode(r, &in); err != nil {
		return err
	}
	m, err := in.meeting()
	if err != nil {
		return err
	}
	m.ID, m.Version = id, version
	if m, err = s.UpdateMeeting(r.Context(), act, m); err != nil {
		return err
	}
	w.Header().Set("ETag", etag(m.Version))
	return writeJSON(w, http.StatusOK, toMeetingJSON(m))
}

func (a *API) wgMinutes(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	s := a.store
	rec, err := s.WGMeeting(r.Context(), act, id)
	if err != nil {
		return err
	}
	members, err := s.WGMembers(r.Context(), act)
	if err != nil {
		return err
	}
	l := a.cat.For(httpx.Lang(r.Context()))
	var agenda []string
	for _, it := range rec.Agenda {
		line := l.T("workgroup.case_ref", it.CaseID)
		if it.Note != "" {
			line += " — " + it.Note
		}
		agenda = append(agenda, line)
	}
	var buf bytes.Buffer
	if err := minutes.Write(&buf, minutes.Doc{Meeting: rec.Meeting, Members: members, Agenda: agenda, Decisions: rec.Decisions,
		Actions: rec.Actions, Loc: time.FixedZone("Asia/Baku", 4*3600), T: l.T}); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Cache-Control", "no-store")
	_, err = buf.WriteTo(w)
	return err
}

func (a *API) wgAddAgenda(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	s := a.store
	var in struct {
		CaseID int64  `json:"case_id"`
		Note   string `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := s.AddAgendaItem(r.Context(), act, id, in.CaseID, in.Note); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) wgAddDecision(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	s := a.store
	var in struct {
		CaseID int64  `json:"case_id"`
		Text   string `json:"text"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	d, err := s.AddDecision(r.Context(), act, workgroup.Decision{MeetingID: id, CaseID: in.CaseID, Text: in.Text})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, decisionJSON{d.ID, d.CaseID, d.Text})
}

func (a *API) wgCreateAction(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	s := a.store
	var in struct {
		Title       string `json:"title"`
		OwnerUserID int64  `json:"owner_user_id"`
		Due         string `json:"due"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	due, err := parseTime("due", in.Due)
	if err != nil {
		return err
	}
	it, err := s.CreateActionItem(r.Context(), act, workgroup.ActionItem{MeetingID: id, Title: in.Title, OwnerUserID: in.OwnerUserID, Due: due})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(it.Version))
	return writeJSON(w, http.StatusCreated, toActionJSON(it, a.now()))
}

func (a *API) wgActions(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	s := a.store
	q := r.URL.Query()
	f := storage.ActionFilter{OpenOnly: q.Get("open") == "true"}
	switch owner := q.Get("owner"); owner {
	case "":
	case "me":
		f.OwnerID = act.UserID
	default:
		if f.OwnerID, err = strconv.ParseInt(owner, 10, 64); err != nil {
			return apperr.Validation(apperr.Field("owner", "error.number"))
		}
	}
	if q.Get("overdue") == "true" {
		f.DueBefore = a.now()
	}
	items, err := s.ActionItems(r.Context(), act, f)
	if err != nil {
		return err
	}
	out := listPage[actionJSON]{Items: []actionJSON{}}
	for _, it := range items {
		out.Items = append(out.Items, toActionJSON(it, a.now()))
	}
	return writeJSON(w, http.StatusOK, out)
}

// statusInput is a requested change of an item's or a proposal's status.
type statusInput[S any] struct {
	Status S `json:"status"`
}

func (a *API) wgUpdateAction(w http.ResponseWriter, r *http.Request) error {
	return updateJSON(w, r, func(ctx context.Context, act audit.Actor, id int64, version int, in statusInput[workgroup.ItemStatus]) (workgroup.ActionItem, error) {
		return a.store.SetActionStatus(ctx, act, id, version, in.Status)
	}, func(it workgroup.ActionItem) int { return it.Version }, func(it workgroup.ActionItem) actionJSON { return toActionJSON(it, a.now()) })
}

func (a *API) wgProposals(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	s := a.store
	ps, err := s.Proposals(r.Context(), act)
	if err != nil {
		return err
	}
	out := listPage[proposalJSON]{Items: []proposalJSON{}}
	for _, p := range ps {
		out.Items = append(out.Items, toProposalJSON(p))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) wgCreateProposal(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	s := a.store
	var in struct {
		Title  string                   `json:"title"`
		Body   string                   `json:"body"`
		Status workgroup.ProposalStatus `json:"status"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := s.CreateProposal(r.Context(), act, workgroup.Proposal{Title: in.Title, Body: in.Body, Status: in.Status})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(p.Version))
	return writeJSON(w, http.StatusCreated, toProposalJSON(p))
}

func (a *API) wgUpdateProposal(w http.ResponseWriter, r *http.Request) error {
	return updateJSON(w, r, func(ctx context.Context, act audit.Actor, id int64, version int, in statusInput[workgroup.ProposalStatus]) (workgroup.Proposal, error) {
		return a.store.SetProposalStatus(ctx, act, id, version, in.Status)
	}, func(p workgroup.Proposal) int { return p.Version }, toProposalJSON)
}
