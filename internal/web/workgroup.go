package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/minutes"
	"dayaq/internal/storage"
	"dayaq/internal/workgroup"
)

// WorkgroupStore is what the working group's pages need of storage.
type WorkgroupStore interface {
	WGSeatOf(ctx context.Context, a audit.Actor) (storage.WGSeat, error)
	WGMembers(ctx context.Context, a audit.Actor) ([]workgroup.Member, error)
	AddWGMember(ctx context.Context, a audit.Actor, email string, role workgroup.Role) error
	RemoveWGMember(ctx context.Context, a audit.Actor, id int64) error
	WGMeetings(ctx context.Context, a audit.Actor) ([]workgroup.Meeting, error)
	WGMeeting(ctx context.Context, a audit.Actor, id int64) (storage.MeetingRecord, error)
	CreateMeeting(ctx context.Context, a audit.Actor, m workgroup.Meeting) (workgroup.Meeting, error)
	UpdateMeeting(ctx context.Context, a audit.Actor, m workgroup.Meeting) (workgroup.Meeting, error)
	AddAgendaItem(ctx context.Context, a audit.Actor, meetingID, caseID int64, note string) error
	RemoveAgendaItem(ctx context.Context, a audit.Actor, meetingID, itemID int64) error
	AddDecision(ctx context.Context, a audit.Actor, d workgroup.Decision) (workgroup.Decision, error)
	ActionItems(ctx context.Context, a audit.Actor, f storage.ActionFilter) ([]workgroup.ActionItem, error)
	CreateActionItem(ctx context.Context, a audit.Actor, it workgroup.ActionItem) (workgroup.ActionItem, error)
	SetActionStatus(ctx context.Context, a audit.Actor, id int64, version int, status workgroup.ItemStatus) (workgroup.ActionItem, error)
	Proposals(ctx context.Context, a audit.Actor) ([]workgroup.Proposal, error)
	CreateProposal(ctx context.Context, a audit.Actor, p workgroup.Proposal) (workgroup.Proposal, error)
	SetProposalStatus(ctx context.Context, a audit.Actor, id int64, version int, status workgroup.ProposalStatus) (workgroup.Proposal, error)
}

func (w *Web) workgroupRoutes() []route {
	return []route{
		{"GET /working-group", w.signedIn(w.wgHome)},
		{"POST /working-group/members", w.signedIn(w.wgAddMember)},
		{"POST /working-group/members/{id}/remove", w.signedIn(w.wgRemoveMember)},
		{"POST /working-group/meetings", w.signedIn(w.wgCreateMeeting)},
		{"POST /working-group/proposals", w.signedIn(w.wgCreateProposal)},
		{"POST /working-group/proposals/{id}/status", w.signedIn(w.wgProposalStatus)},
		{"GET /working-group/meetings/{id}", w.signedIn(w.wgMeetingPage)},
		{"POST /working-group/meetings/{id}", w.signedIn(w.wgSaveMeeting)},
		{"GET /working-group/meetings/{id}/minutes.pdf", w.signedIn(w.wgMinutesPDF)},
		{"POST /working-group/meetings/{id}/agenda", w.signedIn(w.wgAddAgenda)},
		{"POST /working-group/meetings/{id}/agenda/{item}/remove", w.signedIn(w.wgRemoveAgenda)},
		{"POST /working-group/meetings/{id}/decisions", w.signedIn(w.wgAddDecision)},
		{"POST /working-group/meetings/{id}/actions", w.signedIn(w.wgAddAction)},
		{"POST /working-group/actions/{id}/status", w.signedIn(w.wgActionStatus)},
	}
}

// form is a submitted form: what was typed and what is wrong with it.
type form struct {
	Name   string // which form on the page, so that only it shows the errors
	Values map[string]string
	Errors map[string]string
	Alert  string
}

// V is the typed value of a field.
func (f *form) V(name string) string {
	if f == nil {
		return ""
	}
	return f.Values[name]
}

// E is the message for a field, "" when it is right.
func (f *form) E(name string) string {
	if f == nil {
		return ""
	}
	return f.Errors[name]
}

// Is reports whether this is the form named name.
func (f *form) Is(name string) bool { return f != nil && f.Name == name }

// readForm keeps the named fields of a POST, trimmed.
func readForm(r *http.Request, name string, fields ...string) *form {
	f := &form{Name: name, Values: map[string]string{}, Errors: map[string]string{}}
	for _, k := range fields {
		f.Values[k] = strings.TrimSpace(r.PostFormValue(k))
	}
	return f
}

// fail fills f's messages from err, in the page's language. It returns
// err itself when the error is not the user's to fix.
func (f *form) fail(p Page, err error) error {
	e := apperr.As(err)
	if e.Code == apperr.Internal || e.Code == apperr.Unavailable || e.Code == apperr.NotFound {
		return err
	}
	f.Errors = fieldMessages(p.L, e, nil)
	f.Alert = p.L.T(e.Key, e.Args...)
	return nil
}

// parseLocal reads a datetime-local or date input as Baku time.
func parseLocal(s string) (time.Time, bool) {
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, baku()); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// wgHomeData is the working group's page.
type wgHomeData struct {
	Seat      storage.WGSeat
	NoSeat    bool
	Members   []workgroup.Member
	Meetings  []workgroup.Meeting
	MyItems   []workgroup.ActionItem
	Overdue   []workgroup.ActionItem
	Proposals []workgroup.Proposal
	Form      *form
	Now       time.Time
	Roles     []workgroup.Role
	Next      map[workgroup.ProposalStatus][]workgroup.ProposalStatus
}

func (w *Web) wgHome(rw http.ResponseWriter, r *http.Request) error {
	return w.renderWGHome(rw, r, http.StatusOK, nil)
}

func (w *Web) renderWGHome(rw http.ResponseWriter, r *http.Request, status int, f *form) error {
	a := authn.ActorFrom(r)
	ctx := r.Context()
	p := w.page(r, "section.workgroup.title", nil)
	d := wgHomeData{Form: f, Now: w.store.Now(), Roles: workgroup.Roles(), Next: proposalNext()}
	seat, err := w.store.WGSeatOf(ctx, a)
	if apperr.CodeOf(err) == apperr.Forbidden {
		d.NoSeat = true
		p.Data = d
		return w.render(rw, http.StatusOK, "workgroup", p)
	}
	if err != nil {
		return err
	}
	d.Seat = seat
	if d.Members, err = w.store.WGMembers(ctx, a); err != nil {
		return err
	}
	if d.Meetings, err = w.store.WGMeetings(ctx, a); err != nil {
		return err
	}
	if d.MyItems, err = w.store.ActionItems(ctx, a, storage.ActionFilter{OwnerID: a.UserID, OpenOnly: true}); err != nil {
		return err
	}
	if seat.CanManage {
		if d.Overdue, err = w.store.ActionItems(ctx, a, storage.ActionFilter{DueBefore: d.Now}); err != nil {
			return err
		}
	}
	if d.Proposals, err = w.store.Proposals(ctx, a); err != nil {
		return err
	}
	p.Data = d
	return w.render(rw, status, "workgroup", p)
}

// proposalNext lists, for each proposal status, the statuses a manager may
// move it to.
func proposalNext() map[workgroup.ProposalStatus][]workgroup.ProposalStatus {
	out := map[workgroup.ProposalStatus][]workgroup.ProposalStatus{}
	for _, from := range workgroup.ProposalStatuses() {
		for _, to := range workgroup.ProposalStatuses() {
			if from != to && workgroup.CanMoveProposal(from, to) {
				out[from] = append(out[from], to)
			}
		}
	}
	return out
}

func (w *Web) wgAddMember(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "member", "email", "role")
	err := w.store.AddWGMember(r.Context(), authn.ActorFrom(r), f.V("email"), workgroup.Role(f.V("role")))
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderWGHome(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, "/working-group#members", http.StatusSeeOther)
	return nil
}

func (w *Web) wgRemoveMember(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := w.store.RemoveWGMember(r.Context(), authn.ActorFrom(r), id); err != nil {
		return err
	}
	http.Redirect(rw, r, "/working-group#members", http.StatusSeeOther)
	return nil
}

func (w *Web) wgCreateMeeting(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "meeting", "title", "starts_at", "place")
	m := workgroup.Meeting{Title: f.V("title"), Place: f.V("place")}
	var err error
	if t, ok := parseLocal(f.V("starts_at")); ok {
		m.StartsAt = t
		m, err = w.store.CreateMeeting(r.Context(), authn.ActorFrom(r), m)
	} else {
		err = apperr.Validation(apperr.Field("starts_at", "workgroup.error.starts_at"))
	}
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderWGHome(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, fmt.Sprintf("/working-group/meetings/%d", m.ID), http.StatusSeeOther)
	return nil
}

func (w *Web) wgCreateProposal(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "proposal", "title", "body", "status")
	_, err := w.store.CreateProposal(r.Context(), authn.ActorFrom(r), workgroup.Proposal{Title: f.V("title"), Body: f.V("body"),
		Status: workgroup.ProposalStatus(f.V("status"))})
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderWGHome(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, "/working-group#proposals", http.StatusSeeOther)
	return nil
}

func (w *Web) wgProposalStatus(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, "proposal_status", "version", "status")
	v, _ := strconv.Atoi(f.V("version"))
	if _, err := w.store.SetProposalStatus(r.Context(), authn.ActorFrom(r), id, v, workgroup.ProposalStatus(f.V("status"))); err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderWGHome(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, "/working-group#proposals", http.StatusSeeOther)
	return nil
}

// agendaLine is one case on a meeting's agenda as the viewer may see it.
type agendaLine struct {
	workgroup.AgendaItem
	Summary *CaseSummary // nil when the viewer may not see the case
}

// wgMeetingData is a meeting's page.
type wgMeetingData struct {
	storage.MeetingRecord
	Agenda   []agendaLine
	Members  []workgroup.Member
	Form     *form
	Current  *workgroup.Meeting // what is stored, after a stale save
	Statuses []workgroup.MeetingStatus
	Items    []workgroup.ItemStatus
	Now      time.Time
}

func (w *Web) wgMeetingPage(rw http.ResponseWriter, r *http.Request) error {
	return w.renderMeeting(rw, r, http.StatusOK, nil, nil)
}

func (w *Web) renderMeeting(rw http.ResponseWriter, r *http.Request, status int, f *form, typed *workgroup.Meeting) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	rec, err := w.store.WGMeeting(r.Context(), a, id)
	if err != nil {
		return err
	}
	d := wgMeetingData{MeetingRecord: rec, Form: f, Statuses: workgroup.MeetingStatuses(), Items: workgroup.ItemStatuses(), Now: w.store.Now()}
	if typed != nil { // a stale or invalid save: show what was typed, and what is stored now
		cur := rec.Meeting
		d.Current = &cur
		d.Meeting = *typed
		d.Meeting.Version = cur.Version
	}
	if d.Agenda, err = w.agendaLines(r.Context(), a, rec.Agenda); err != nil {
		return err
	}
	if d.Members, err = w.store.WGMembers(r.Context(), a); err != nil {
		return err
	}
	return w.render(rw, status, "workgroup_meeting", w.page(r, "workgroup.meeting.title", d))
}

// agendaLines looks each agenda case up through the case policy: a member
// who may not see a case gets its number only.
func (w *Web) agendaLines(ctx context.Context, a audit.Actor, items []workgroup.AgendaItem) ([]agendaLine, error) {
	out := make([]agendaLine, 0, len(items))
	for _, it := range items {
		s, err := w.caseSummary(ctx, a, it.CaseID)
		if err != nil {
			return nil, err
		}
		out = append(out, agendaLine{AgendaItem: it, Summary: s})
	}
	return out, nil
}

func (w *Web) wgSaveMeeting(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, "meeting", "version", "title", "starts_at", "place", "status", "minutes")
	v, _ := strconv.Atoi(f.V("version"))
	m := workgroup.Meeting{ID: id, Version: v, Title: f.V("title"), Place: f.V("place"),
		Status: workgroup.MeetingStatus(f.V("status")), Minutes: r.PostFormValue("minutes")}
	t, ok := parseLocal(f.V("starts_at"))
	m.StartsAt = t
	if ok {
		_, err = w.store.UpdateMeeting(r.Context(), authn.ActorFrom(r), m)
	} else {
		err = apperr.Validation(apperr.Field("starts_at", "workgroup.error.starts_at"))
	}
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderMeeting(rw, r, statusOf(err), f, &m)
	}
	http.Redirect(rw, r, fmt.Sprintf("/working-group/meetings/%d", id), http.StatusSeeOther)
	return nil
}

func (w *Web) wgAddAgenda(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, "agenda", "case_id", "note")
	caseID, _ := strconv.ParseInt(strings.TrimPrefix(strings.ToUpper(f.V("case_id")), "#"), 10, 64)
	if err := w.store.AddAgendaItem(r.Context(), authn.ActorFrom(r), id, caseID, f.V("note")); err != nil {
		if apperr.CodeOf(err) == apperr.NotFound && caseID > 0 {
			err = apperr.Validation(apperr.Field("case_id", "workgroup.error.case_unknown"))
		}
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderMeeting(rw, r, statusOf(err), f, nil)
	}
	http.Redirect(rw, r, fmt.Sprintf("/working-group/meetings/%d#agenda", id), http.StatusSeeOther)
	return nil
}

func (w *Web) wgRemoveAgenda(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	item, err := strconv.ParseInt(r.PathValue("item"), 10, 64)
	if err != nil {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	if err := w.store.RemoveAgendaItem(r.Context(), authn.ActorFrom(r), id, item); err != nil {
		return err
	}
	http.Redirect(rw, r, fmt.Sprintf("/working-group/meetings/%d#agenda", id), http.StatusSeeOther)
	return nil
}

func (w *Web) wgAddDecision(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, "decision", "text")
	if _, err := w.store.AddDecision(r.Context(), authn.ActorFrom(r), workgroup.Decision{MeetingID: id, Text: f.V("text")}); err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderMeeting(rw, r, statusOf(err), f, nil)
	}
	http.Redirect(rw, r, fmt.Sprintf("/working-group/meetings/%d#decisions", id), http.StatusSeeOther)
	return nil
}

func (w *Web) wgAddAction(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, "action", "title", "owner", "due")
	owner, _ := strconv.ParseInt(f.V("owner"), 10, 64)
	it := workgroup.ActionItem{MeetingID: id, Title: f.V("title"), OwnerUserID: owner}
	if t, ok := parseLocal(f.V("due")); ok {
		it.Due = t
	}
	if _, err := w.store.CreateActionItem(r.Context(), authn.ActorFrom(r), it); err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderMeeting(rw, r, statusOf(err), f, nil)
	}
	http.Redirect(rw, r, fmt.Sprintf("/working-group/meetings/%d#actions", id), http.StatusSeeOther)
	return nil
}

func (w *Web) wgActionStatus(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, _ := strconv.Atoi(r.PostFormValue("version"))
	it, err := w.store.SetActionStatus(r.Context(), authn.ActorFrom(r), id, v, workgroup.ItemStatus(r.PostFormValue("status")))
	if err != nil {
		return err
	}
	back := "/working-group"
	if it.MeetingID != 0 && r.PostFormValue("back") == "meeting" {
		back = fmt.Sprintf("/working-group/meetings/%d#actions", it.MeetingID)
	}
	http.Redirect(rw, r, back, http.StatusSeeOther)
	return nil
}

func (w *Web) wgMinutesPDF(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	rec, err := w.store.WGMeeting(r.Context(), a, id)
	if err != nil {
		return err
	}
	members, err := w.store.WGMembers(r.Context(), a)
	if err != nil {
		return err
	}
	l := w.page(r, "", nil).L
	var agenda []string
	for _, it := range rec.Agenda {
		line := l.T("workgroup.case_ref", it.CaseID)
		if it.Note != "" {
			line += " — " + it.Note
		}
		agenda = append(agenda, line)
	}
	rw.Header().Set("Content-Type", "application/pdf")
	rw.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="minutes-%d.pdf"`, id))
	rw.Header().Set("Cache-Control", "no-store")
	return minutes.Write(rw, minutes.Doc{Meeting: rec.Meeting, Members: members, Agenda: agenda, Decisions: rec.Decisions,
		Actions: rec.Actions, Loc: baku(), T: l.T})
}
