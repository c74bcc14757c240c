package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/events"
	"dayaq/internal/httpx"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// EventsStore is what the parent awareness events' and the campaign's
// pages need of storage.
type EventsStore interface {
	surface.EventFileStore
	EventTopics(ctx context.Context, a audit.Actor, all bool) ([]events.Topic, error)
	CreateEventTopic(ctx context.Context, a audit.Actor, t events.Topic) (events.Topic, error)
	UpdateEventTopic(ctx context.Context, a audit.Actor, t events.Topic) (events.Topic, error)
	ParentEvents(ctx context.Context, a audit.Actor, q storage.EventQuery) ([]events.Event, error)
	ParentEvent(ctx context.Context, a audit.Actor, id int64) (storage.EventRecord, error)
	CreateParentEvent(ctx context.Context, a audit.Actor, e events.Event) (events.Event, error)
	UpdateParentEvent(ctx context.Context, a audit.Actor, e events.Event) (events.Event, error)
	RecordAttendance(ctx context.Context, a audit.Actor, at storage.Attendance) (events.Event, error)
	ParentEventAttendance(ctx context.Context, a audit.Actor, childID int64) ([]storage.ChildEventAttendance, error)
	EventByFeedbackCode(ctx context.Context, code string) (storage.PublicEvent, error)
	AddFeedback(ctx context.Context, code string, f events.Feedback) error
	EventFeedback(ctx context.Context, a audit.Actor, eventID int64) (storage.FeedbackSummary, error)
	EventOverview(ctx context.Context, a audit.Actor, from, to time.Time) (storage.EventOverview, error)
	CampaignStore
}

func (w *Web) eventRoutes() []route {
	return []route{
		{"GET /events", w.signedIn(w.eventsCalendar)},
		{"GET /events/new", w.signedIn(w.eventNew)},
		{"POST /events/new", w.signedIn(w.eventCreate)},
		{"GET /events/overview", w.signedIn(w.eventsOverview)},
		{"GET /events/topics", w.signedIn(w.eventTopics)},
		{"POST /events/topics", w.signedIn(w.eventTopicCreate)},
		{"POST /events/topics/{id}/save", w.signedIn(w.eventTopicSave)},
		{"POST /events/topics/{id}/files", w.signedIn(w.eventTopicFile)},
		{"GET /events/files/{id}/download", w.signedIn(w.eventFileDownload)},
		{"GET /events/{id}", w.signedIn(w.eventPage)},
		{"POST /events/{id}/attendance", w.signedIn(w.eventAttendance)},
		{"POST /events/{id}/status", w.signedIn(w.eventStatus)},
		{"GET /events/{id}/qr.svg", w.signedIn(w.eventQR)},
		// The anonymous feedback form: no sign-in, no session.
		{"GET /f/{code}", w.feedbackForm},
		{"POST /f/{code}", w.feedbackSubmit},
	}
}

// eventFuncs are the template functions of the events' and campaign's
// pages.
func eventFuncs() template.FuncMap {
	return template.FuncMap{
		"topicTitle": func(p Page, t events.Topic) string { return t.Title(p.L.Lang.String()) },
		"evInput":    evInput,
		"score": func(v float64) string {
			if v == 0 {
				return "—"
			}
			return strconv.FormatFloat(v, 'f', 1, 64)
		},
		"hasID":  func(ids []int64, id int64) bool { return slices.Contains(ids, id) },
		"list5":  func() []int { return []int{5, 4, 3, 2, 1} },
		"hasStr": func(ss []string, s string) bool { return slices.Contains(ss, s) },
		"attended": func(p Page, items []storage.ChildEventAttendance) attendedData {
			return attendedData{P: p, Items: items}
		},
		"orgName": func(p Page, o org.Org) string {
			return o.Name(p.L.Lang.String())
		},
	}
}

// attendedData is the "events_attended" partial's data: the events a
// pupil's parent attended, for the child's page, the register entry and
// the recovery plan.
type attendedData struct {
	P     Page
	Items []storage.ChildEventAttendance
}

// evInput builds a control of the form formName with its label from
// prefix+".field."+name; value and message come from f when it is this
// form, else value is the stored one.
func evInput(p Page, f *form, prefix, formName, name, typ, stored string) wgInputData {
	in := wgInputData{ID: formName + "-" + name, Name: name, Label: p.L.T(prefix + ".field." + name), Type: typ, Value: stored}
	if f.Is(formName) {
		in.Value, in.Error = f.V(name), f.E(name)
	}
	return in
}

// schoolYearOf reads ?year= (the year a school year starts in), default
// the current school year.
func schoolYearOf(r *http.Request, now time.Time) (from, to time.Time, year int) {
	from, to = events.SchoolYear(now)
	year = from.Add(4 * time.Hour).Year()
	if y, err := strconv.Atoi(r.URL.Query().Get("year")); err == nil && y >= 2000 && y <= 2100 {
		from, to = events.SchoolYear(time.Date(y, time.October, 1, 0, 0, 0, 0, time.UTC))
		year = y
	}
	return from, to, year
}

// monthGroup is one month of a calendar.
type monthGroup struct {
	Month  time.Time
	Events []events.Event
}

type eventsCalendarData struct {
	Year      int
	Prev      int
	Next      int
	Months    []monthGroup
	CanPlan   bool
	Aggregate bool // may open the city's view
	EditTopic bool
	Scope     string // "school", "district", "city"
	// Filtered: the list is narrowed to a dashboard's number (its scope,
	// period and status in words) instead of showing a school year.
	Filtered                                bool
	FilterScope, FilterPeriod, FilterStatus string
	NextPage                                string // the next page's address, when the events go on
}

func (w *Web) eventsCalendar(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	from, to, year := schoolYearOf(r, w.store.Now())
	if access.FilterEvents(a.Principal).Empty() && access.SeesEventAggregates(a.Principal) {
		// The Public Council and the hotline's supervisors see no event, only figures.
		http.Redirect(rw, r, "/events/overview", http.StatusSeeOther)
		return nil
	}
	eq, ef, filtered, err := w.eventFilter(r)
	if err != nil {
		return err
	}
	if !filtered {
		eq = storage.EventQuery{From: from, To: to}
	}
	v := r.URL.Query()
	eq.Limit, eq.After = 500, v.Get("after")
	es, err := w.store.ParentEvents(r.Context(), a, eq)
	if err != nil {
		return err
	}
	l := w.page(r, "", nil).L
	d := eventsCalendarData{Year: year, Filtered: filtered, FilterScope: scopeWords(l, ef), FilterPeriod: periodWords(l, ef), FilterStatus: string(eq.Status), Prev: year - 1, Next: year + 2, CanPlan: canPlanEvents(a.Principal), Aggregate: access.SeesEventAggregates(a.Principal),
		EditTopic: access.CanEditTopics(a.Principal)}
	switch f := access.FilterEvents(a.Principal); {
	case f.All:
		d.Scope = "city"
	case f.District != "":
		d.Scope = "district"
	default:
		d.Scope = "school"
	}
	for _, e := range es {
		m := time.Date(e.StartsAt.In(baku()).Year(), e.StartsAt.In(baku()).Month(), 1, 0, 0, 0, 0, time.UTC)
		if n := len(d.Months); n == 0 || !d.Months[n-1].Month.Equal(m) {
			d.Months = append(d.Months, monthGroup{Month: m})
		}
		d.Months[len(d.Months)-1].Events = append(d.Months[len(d.Months)-1].Events, e)
	}
	if len(es) == eq.Limit {
		d.NextPage = nextPage("/events", v, storage.TimeCursor(es[len(es)-1].StartsAt, es[len(es)-1].ID))
	}
	return w.render(rw, http.StatusOK, "events_calendar", w.page(r, "section.events.title", d))
}

// canPlanEvents is the policy's CanPlanEvents.
func canPlanEvents(p access.Principal) bool { return access.CanPlanEvents(p) }

type eventFormData struct {
	Form     *form
	Topics   []events.Topic
	Campaign []events.CampaignMaterial // the library's items with a file
	Chosen   []int64
	Files    []int64 // materials chosen
	Kinds    []events.SpeakerKind
	Bodies   []events.Body
	AtSchool bool // the planner is a school: no school field
}

func (d eventFormData) submitted() *form { return d.Form }

func (w *Web) eventNew(rw http.ResponseWriter, r *http.Request) error {
	return w.renderEventForm(rw, r, http.StatusOK, nil, nil, nil)
}

func (w *Web) renderEventForm(rw http.ResponseWriter, r *http.Request, status int, f *form, chosen, files []int64) error {
	a := authn.ActorFrom(r)
	if !canPlanEvents(a.Principal) {
		return apperr.New(apperr.NotFound, "error.page_not_found")
	}
	ts, err := w.store.EventTopics(r.Context(), a, false)
	if err != nil {
		return err
	}
	if chosen == nil {
		if id, err := strconv.ParseInt(r.URL.Query().Get("topic"), 10, 64); err == nil {
			chosen = []int64{id}
		}
	}
	d := eventFormData{Form: f, Topics: ts, Chosen: chosen, Files: files, Kinds: events.SpeakerKinds(), Bodies: events.Bodies(),
		AtSchool: a.OrgType == org.School}
	ms, err := w.store.CampaignMaterials(r.Context(), a)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.File != nil {
			d.Campaign = append(d.Campaign, m)
		}
	}
	return w.render(rw, status, "events_form", w.page(r, "events.plan.title", d))
}

// formIDs reads the repeated field name as IDs, ignoring what is not one.
func formIDs(r *http.Request, name string) []int64 {
	var out []int64
	for _, s := range r.PostForm[name] {
		if id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64); err == nil && id > 0 {
			out = append(out, id)
		}
	}
	return out
}

func (w *Web) eventCreate(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "plan", "starts_at", "place", "whole_school", "classes", "speaker_kind", "speaker_body", "speaker_name", "school")
	a := authn.ActorFrom(r)
	topics, files := formIDs(r, "topics"), formIDs(r, "files")
	e := events.Event{TopicIDs: topics, FileIDs: files, Place: f.V("place"), WholeSchool: f.V("whole_school") == "1",
		SpeakerKind: events.SpeakerKind(f.V("speaker_kind")), SpeakerBody: events.Body(f.V("speaker_body")), SpeakerName: f.V("speaker_name")}
	var fields []apperr.FieldError
	if t, ok := parseLocal(f.V("starts_at")); ok {
		e.StartsAt = t
	} else {
		fields = append(fields, apperr.Field("starts_at", "events.error.time"))
	}
	if cls, ok := events.ParseClasses(f.V("classes")); ok {
		e.Classes = cls
	} else {
		fields = append(fields, apperr.Field("classes", "events.error.classes"))
	}
	if a.OrgType != org.School {
		o, err := w.store.OrgByCode(r.Context(), strings.ToUpper(f.V("school")))
		if err != nil || o.Type != org.School {
			fields = append(fields, apperr.Field("school", "events.error.school"))
		} else {
			e.SchoolID = o.ID
		}
	}
	var err error
	if len(fields) > 0 {
		if verr := e.Validate(); verr != nil {
			fields = append(fields, apperr.As(verr).Fields...)
		}
		err = apperr.Validation(fields...)
	} else {
		e, err = w.store.CreateParentEvent(r.Context(), a, e)
	}
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderEventForm(rw, r, statusOf(err), f, topics, files)
	}
	http.Redirect(rw, r, fmt.Sprintf("/events/%d", e.ID), http.StatusSeeOther)
	return nil
}

type eventPageData struct {
	Rec       storage.EventRecord
	Feedback  storage.FeedbackSummary
	Link      string
	Pupils    []storage.ChildRecord
	Came      []int64
	Form      *form
	Statuses  []events.Status
	Aggregate bool
}

func (d eventPageData) submitted() *form { return d.Form }

// feedbackLink is the short link to an event's feedback form, absolute
// (for the QR code): on the configured public address (serve
// --public-url), else on the request's own host.
func (w *Web) feedbackLink(r *http.Request, code string) string {
	if w.publicURL != "" {
		return w.publicURL + "/f/" + code
	}
	scheme := "http"
	if httpx.IsHTTPS(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/f/" + code
}

func (w *Web) eventPage(rw http.ResponseWriter, r *http.Request) error {
	return w.renderEvent(rw, r, http.StatusOK, nil)
}

func (w *Web) renderEvent(rw http.ResponseWriter, r *http.Request, status int, f *form) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	ctx := r.Context()
	rec, err := w.store.ParentEvent(ctx, a, id)
	if err != nil {
		return err
	}
	d := eventPageData{Rec: rec, Link: w.feedbackLink(r, rec.FeedbackCode), Form: f, Statuses: events.Statuses(),
		Aggregate: access.SeesEventAggregates(a.Principal)}
	if d.Feedback, err = w.store.EventFeedback(ctx, a, id); err != nil {
		return err
	}
	for _, at := range rec.Attendees {
		d.Came = append(d.Came, at.ChildID)
	}
	if f != nil {
		d.Came = formIDs(r, "children")
	}
	if rec.CanWrite {
		if d.Pupils, err = w.audiencePupils(ctx, a, rec.Event); err != nil {
			return err
		}
	}
	return w.render(rw, status, "events_event", w.page(r, "events.event.title", d))
}

// audiencePupils lists the pupils of the event's school in its audience
// (every class for the whole school), for ticking whose parents came.
func (w *Web) audiencePupils(ctx context.Context, a audit.Actor, e events.Event) ([]storage.ChildRecord, error) {
	var out []storage.ChildRecord
	var after int64
	for range 5 {
		page, err := w.store.ListChildren(ctx, a, storage.ChildQuery{SchoolID: e.SchoolID, After: after, Limit: 200})
		if err != nil {
			return nil, err
		}
		for _, c := range page {
			if c.SchoolID != e.SchoolID {
				continue
			}
			g := strconv.Itoa(c.Grade)
			if e.WholeSchool || slices.Contains(e.Classes, g) || slices.Contains(e.Classes, g+strings.ToUpper(c.Section)) {
				out = append(out, c)
			}
		}
		if len(page) < 200 {
			break
		}
		after = page[len(page)-1].ID
	}
	return out, nil
}

func (w *Web) eventAttendance(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, "attendance", "head_count", "notes", "materials_used", "version")
	version, _ := strconv.Atoi(f.V("version"))
	at := storage.Attendance{EventID: id, Version: version, Notes: f.V("notes"), MaterialsUsed: f.V("materials_used"),
		ChildIDs: formIDs(r, "children")}
	n, cerr := strconv.Atoi(f.V("head_count"))
	if cerr != nil {
		err = apperr.Validation(apperr.Field("head_count", "events.error.number"))
	} else {
		at.HeadCount = n
		_, err = w.store.RecordAttendance(r.Context(), authn.ActorFrom(r), at)
	}
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderEvent(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, fmt.Sprintf("/events/%d#attendance", id), http.StatusSeeOther)
	return nil
}

// eventStatus reschedules an event (time, place) or cancels it, with the
// version it was read at: a stale version is refused and the form shows
// what changed.
func (w *Web) eventStatus(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, "reschedule", "status", "version", "starts_at", "place")
	a := authn.ActorFrom(r)
	rec, err := w.store.ParentEvent(r.Context(), a, id)
	if err != nil {
		return err
	}
	e := rec.Event
	if s := f.V("status"); s != "" {
		e.Status = events.Status(s)
	}
	if f.V("place") != "" {
		e.Place = f.V("place")
	}
	e.Version, _ = strconv.Atoi(f.V("version"))
	if v := f.V("starts_at"); v != "" {
		if t, ok := parseLocal(v); ok {
			e.StartsAt = t
		} else {
			err = apperr.Validation(apperr.Field("starts_at", "events.error.time"))
		}
	}
	if err == nil {
		_, err = w.store.UpdateParentEvent(r.Context(), a, e)
	}
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderEvent(rw, r, statusOf(err), f)
	}
	http.Redirect(rw, r, fmt.Sprintf("/events/%d", id), http.StatusSeeOther)
	return nil
}

func (w *Web) eventQR(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	rec, err := w.store.ParentEvent(r.Context(), authn.ActorFrom(r), id)
	if err != nil {
		return err
	}
	l := w.cat.For(httpx.Lang(r.Context()))
	svg, err := QRSVG(w.feedbackLink(r, rec.FeedbackCode), l.T("events.qr.alt"))
	if err != nil {
		return err
	}
	rw.Header().Set("Content-Type", "image/svg+xml")
	rw.Header().Set("Cache-Control", "private, no-store")
	_, err = rw.Write([]byte(svg))
	return err
}

type overviewData struct {
	Year     int
	Ov       storage.EventOverview
	Topics   map[int64]events.Topic
	District bool
}

func (w *Web) eventsOverview(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	from, to, year := schoolYearOf(r, w.store.Now())
	ov, err := w.store.EventOverview(r.Context(), a, from, to)
	if err != nil {
		return err
	}
	ts, err := w.store.EventTopics(r.Context(), a, true)
	if err != nil {
		return err
	}
	d := overviewData{Year: year, Ov: ov, Topics: map[int64]events.Topic{}, District: access.AggregateFilter(a.Principal).District != ""}
	for _, t := range ts {
		d.Topics[t.ID] = t
	}
	return w.render(rw, http.StatusOK, "events_overview", w.page(r, "events.overview.title", d))
}

type topicsData struct {
	Topics  []events.Topic
	CanEdit bool
	Form    *form
	FormID  int64 // the topic whose form f is
	MaxMB   int
}

func (d topicsData) submitted() *form { return d.Form }

func (w *Web) eventTopics(rw http.ResponseWriter, r *http.Request) error {
	return w.renderTopics(rw, r, http.StatusOK, nil, 0)
}

func (w *Web) renderTopics(rw http.ResponseWriter, r *http.Request, status int, f *form, formID int64) error {
	a := authn.ActorFrom(r)
	canEdit := access.CanEditTopics(a.Principal)
	ts, err := w.store.EventTopics(r.Context(), a, canEdit)
	if err != nil {
		return err
	}
	return w.render(rw, status, "events_topics", w.page(r, "events.topics.title",
		topicsData{Topics: ts, CanEdit: canEdit, Form: f, FormID: formID, MaxMB: events.MaxMaterialSize >> 20}))
}

func (w *Web) eventTopicCreate(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "topic", "code", "title_az", "title_ru", "title_en")
	_, err := w.store.CreateEventTopic(r.Context(), authn.ActorFrom(r), events.Topic{Code: f.V("code"), TitleAZ: f.V("title_az"),
		TitleRU: f.V("title_ru"), TitleEN: f.V("title_en")})
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderTopics(rw, r, statusOf(err), f, 0)
	}
	http.Redirect(rw, r, "/events/topics", http.StatusSeeOther)
	return nil
}

func (w *Web) eventTopicSave(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, fmt.Sprintf("topic-%d", id), "title_az", "title_ru", "title_en", "active", "version")
	version, _ := strconv.Atoi(f.V("version"))
	_, err = w.store.UpdateEventTopic(r.Context(), authn.ActorFrom(r), events.Topic{ID: id, TitleAZ: f.V("title_az"),
		TitleRU: f.V("title_ru"), TitleEN: f.V("title_en"), Active: f.V("active") == "1", Version: version})
	if err != nil {
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderTopics(rw, r, statusOf(err), f, id)
	}
	http.Redirect(rw, r, fmt.Sprintf("/events/topics#topic-%d", id), http.StatusSeeOther)
	return nil
}

func (w *Web) eventTopicFile(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	hdr, data, err := surface.ReadEventUpload(rw, r)
	if err == nil {
		_, err = surface.StoreEventFile(r.Context(), w.vault, w.store, a, storage.FileOwner{TopicID: id}, hdr.Filename, data)
	}
	if err != nil {
		f := &form{Name: fmt.Sprintf("file-%d", id), Values: map[string]string{}}
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		return w.renderTopics(rw, r, statusOf(err), f, id)
	}
	http.Redirect(rw, r, fmt.Sprintf("/events/topics#topic-%d", id), http.StatusSeeOther)
	return nil
}

func (w *Web) eventFileDownload(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	at, data, err := surface.LoadEventFile(r.Context(), w.vault, w.store, authn.ActorFrom(r), id)
	if err != nil {
		return err
	}
	return surface.ServeAttachment(rw, at, data)
}

// --- the anonymous feedback form ---

type feedbackData struct {
	Event    storage.PublicEvent
	Code     string
	Form     *form
	Answered bool
	Thanks   bool
}

func (d feedbackData) submitted() *form { return d.Form }

// feedbackCookie is the one cookie the form sets: it says "this browser
// has answered for this event" and nothing else (its value is "1", the
// same for everyone), so that one browser answers once.
func feedbackCookie(code string) string { return "dayaq_fb_" + code }

func (w *Web) feedbackForm(rw http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	pe, err := w.store.EventByFeedbackCode(r.Context(), code)
	if err != nil {
		return err
	}
	_, answered := r.Cookie(feedbackCookie(code))
	d := feedbackData{Event: pe, Code: code, Answered: answered == nil}
	return w.renderFeedback(rw, r, http.StatusOK, d)
}

func (w *Web) renderFeedback(rw http.ResponseWriter, r *http.Request, status int, d feedbackData) error {
	rw.Header().Set("Referrer-Policy", "no-referrer")
	return w.render(rw, status, "events_feedback", w.page(r, "events.feedback.title", d))
}

func (w *Web) feedbackSubmit(rw http.ResponseWriter, r *http.Request) error {
	code := r.PathValue("code")
	pe, err := w.store.EventByFeedbackCode(r.Context(), code)
	if err != nil {
		return err
	}
	d := feedbackData{Event: pe, Code: code}
	if _, err := r.Cookie(feedbackCookie(code)); err == nil {
		d.Answered = true
		return w.renderFeedback(rw, r, http.StatusConflict, d)
	}
	f := readForm(r, "feedback", "usefulness", "clear", "next_topic", "comment")
	// The event's budget of responses this minute (ADR 0031): it keys on
	// the event, never on the sender.
	now := w.store.Now()
	if ok, retry := w.fbGate.Take(pe.ID, now); !ok {
		f.Alert = w.cat.For(httpx.Lang(r.Context())).T("events.feedback.busy")
		d.Form = f
		rw.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())))
		return w.renderFeedback(rw, r, http.StatusTooManyRequests, d)
	}
	n, _ := strconv.Atoi(f.V("usefulness"))
	err = w.store.AddFeedback(r.Context(), code, events.Feedback{Usefulness: n, Clear: f.V("clear"), NextTopic: f.V("next_topic"),
		Comment: f.V("comment"), Lang: httpx.Lang(r.Context()).String()})
	if err != nil {
		w.fbGate.Return(pe.ID, now)
		if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
			return ferr
		}
		d.Form = f
		return w.renderFeedback(rw, r, statusOf(err), d)
	}
	http.SetCookie(rw, &http.Cookie{Name: feedbackCookie(code), Value: "1", Path: "/f/" + code, MaxAge: 400 * 24 * 3600,
		HttpOnly: true, Secure: httpx.IsHTTPS(r), SameSite: http.SameSiteLaxMode})
	d.Thanks = true
	return w.renderFeedback(rw, r, http.StatusOK, d)
}

// childEvents is the events a child's parent attended, for the child's
// page; nil when the viewer may not read them.
func (w *Web) childEvents(ctx context.Context, a audit.Actor, childID int64) []storage.ChildEventAttendance {
	out, err := w.store.ParentEventAttendance(ctx, a, childID)
	if err != nil {
		if apperr.CodeOf(err) != apperr.NotFound {
			w.log.WarnContext(ctx, "parent event attendance", "err", err)
		}
		return nil
	}
	return out
}
