package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/events"
	"dayaq/internal/httpx"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// EventsStore is what the parent awareness events' and the campaign's API
// needs of storage.
type EventsStore interface {
	surface.EventFileStore
	EventTopics(ctx context.Context, a audit.Actor, all bool) ([]events.Topic, error)
	EventTopic(ctx context.Context, a audit.Actor, id int64) (events.Topic, error)
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

func (a *API) eventRoutes() []Route {
	return []Route{
		{"GET", Prefix + "/event-topics", a.listEventTopics},
		{"POST", Prefix + "/event-topics", a.createEventTopic},
		{"PATCH", Prefix + "/event-topics/{id}", a.updateEventTopic},
		{"POST", Prefix + "/event-topics/{id}/materials", a.addTopicMaterial},
		{"GET", Prefix + "/event-files/{id}", a.getEventFile},
		{"GET", Prefix + "/events", a.listEvents},
		{"POST", Prefix + "/events", a.createEvent},
		{"GET", Prefix + "/events/overview", a.eventOverview},
		{"GET", Prefix + "/events/{id}", a.getEvent},
		{"PATCH", Prefix + "/events/{id}", a.updateEvent},
		{"PUT", Prefix + "/events/{id}/attendance", a.putAttendance},
		{"GET", Prefix + "/events/{id}/feedback", a.getEventFeedback},
		{"POST", Prefix + "/feedback/{code}", a.postFeedback},
		{"GET", Prefix + "/parent-event-attendance/{id}", a.childParentEvents},
	}
}

type topicJSON struct {
	ID        int64          `json:"id"`
	Code      string         `json:"code"`
	TitleAZ   string         `json:"title_az"`
	TitleRU   string         `json:"title_ru"`
	TitleEN   string         `json:"title_en"`
	Active    bool           `json:"active"`
	Version   int            `json:"version"`
	Materials []materialJSON `json:"materials"`
}

type materialJSON struct {
	ID          int64  `json:"id"`
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	SHA256      string `json:"sha256"`
	URL         string `json:"url"`
}

func toMaterialJSON(m events.Material) materialJSON {
	return materialJSON{ID: m.ID, Name: m.Name, ContentType: m.ContentType, Size: m.Size, SHA256: m.SHA256,
		URL: fmt.Sprintf("%s/event-files/%d", Prefix, m.ID)}
}

func toTopicJSON(t events.Topic) topicJSON {
	j := topicJSON{ID: t.ID, Code: t.Code, TitleAZ: t.TitleAZ, TitleRU: t.TitleRU, TitleEN: t.TitleEN, Active: t.Active,
		Version: t.Version, Materials: []materialJSON{}}
	for _, m := range t.Materials {
		j.Materials = append(j.Materials, toMaterialJSON(m))
	}
	return j
}

func (a *API) listEventTopics(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	ts, err := a.store.EventTopics(r.Context(), act, r.URL.Query().Get("all") == "true")
	if err != nil {
		return err
	}
	out := listPage[topicJSON]{Items: []topicJSON{}}
	for _, t := range ts {
		out.Items = append(out.Items, toTopicJSON(t))
	}
	return writeJSON(w, http.StatusOK, out)
}

type topicInput struct {
	Code    string `json:"code"`
	TitleAZ string `json:"title_az"`
	TitleRU string `json:"title_ru"`
	TitleEN string `json:"title_en"`
	Active  *bool  `json:"active"`
}

func (a *API) createEventTopic(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in topicInput
	if err := decode(r, &in); err != nil {
		return err
	}
	t, err := a.store.CreateEventTopic(r.Context(), act, events.Topic{Code: in.Code, TitleAZ: in.TitleAZ, TitleRU: in.TitleRU, TitleEN: in.TitleEN})
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/event-topics/%d", Prefix, t.ID))
	w.Header().Set("ETag", etag(t.Version))
	return writeJSON(w, http.StatusCreated, toTopicJSON(t))
}

func (a *API) updateEventTopic(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in topicInput
	if err := decode(r, &in); err != nil {
		return err
	}
	active := true
	if in.Active != nil {
		active = *in.Active
	}
	t, err := a.store.UpdateEventTopic(r.Context(), act, events.Topic{ID: id, TitleAZ: in.TitleAZ, TitleRU: in.TitleRU, TitleEN: in.TitleEN,
		Active: active, Version: version})
	if err != nil {
		return err
	}
	if t, err = a.store.EventTopic(r.Context(), act, id); err != nil {
		return err
	}
	w.Header().Set("ETag", etag(t.Version))
	return writeJSON(w, http.StatusOK, toTopicJSON(t))
}

func (a *API) addTopicMaterial(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	hdr, data, err := surface.ReadEventUpload(w, r)
	if err != nil {
		return err
	}
	m, err := surface.StoreEventFile(r.Context(), a.vault, a.store, act, storage.FileOwner{TopicID: id}, hdr.Filename, data)
	if err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/event-files/%d", Prefix, m.ID))
	return writeJSON(w, http.StatusCreated, toMaterialJSON(m))
}

func (a *API) getEventFile(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	at, data, err := surface.LoadEventFile(r.Context(), a.vault, a.store, act, id)
	if err != nil {
		return err
	}
	return surface.ServeAttachment(w, at, data)
}

type eventJSON struct {
	ID            int64              `json:"id"`
	SchoolID      int64              `json:"school_id"`
	SchoolName    string             `json:"school_name"`
	District      string             `json:"district"`
	TopicIDs      []int64            `json:"topic_ids"`
	FileIDs       []int64            `json:"file_ids"`
	StartsAt      string             `json:"starts_at"`
	Place         string             `json:"place"`
	WholeSchool   bool               `json:"whole_school"`
	Classes       []string           `json:"classes"`
	SpeakerKind   events.SpeakerKind `json:"speaker_kind"`
	SpeakerBody   events.Body        `json:"speaker_body"`
	SpeakerName   string             `json:"speaker_name"`
	Status        events.Status      `json:"status"`
	HeadCount     int                `json:"head_count"`
	Notes         string             `json:"notes"`
	MaterialsUsed string             `json:"materials_used"`
	FeedbackPath  string             `json:"feedback_path"`
	Responses     int                `json:"responses"`
	Attended      int                `json:"pupils_attended"`
	Version       int                `json:"version"`
	Attendees     []attendeeJSON     `json:"attendees,omitempty"`
}

type attendeeJSON struct {
	ChildID int64  `json:"child_id"`
	Name    string `json:"name"`
	Class   string `json:"class"`
}

func toEventJSON(e events.Event) eventJSON {
	j := eventJSON{ID: e.ID, SchoolID: e.SchoolID, SchoolName: e.SchoolName, District: e.District, TopicIDs: e.TopicIDs,
		StartsAt: e.StartsAt.Format(time.RFC3339), Place: e.Place, WholeSchool: e.WholeSchool, Classes: e.Classes,
		SpeakerKind: e.SpeakerKind, SpeakerBody: e.SpeakerBody, SpeakerName: e.SpeakerName, Status: e.Status, HeadCount: e.HeadCount,
		Notes: e.Notes, MaterialsUsed: e.MaterialsUsed, FeedbackPath: "/f/" + e.FeedbackCode, Responses: e.Responses,
		Attended: e.Attended, Version: e.Version}
	if j.TopicIDs == nil {
		j.TopicIDs = []int64{}
	}
	j.FileIDs = e.FileIDs
	if j.FileIDs == nil {
		j.FileIDs = []int64{}
	}
	if j.Classes == nil {
		j.Classes = []string{}
	}
	return j
}

// parseMonthOrTime reads a query time: RFC 3339 or a date (2026-09-01).
func parseQueryTime(r *http.Request, name string) (time.Time, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t, nil
	}
	return parseTime(name, s)
}

func (a *API) listEvents(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var q storage.EventQuery
	var fs []apperr.FieldError
	q.SchoolID, q.District, q.From, q.To, fs = a.listPlaceAndPeriod(r)
	if s := events.Status(r.URL.Query().Get("status")); s != "" {
		if !slices.Contains(events.Statuses(), s) {
			fs = append(fs, apperr.Field("status", "events.error.status"))
		}
		q.Status = s
	}
	q.After = r.URL.Query().Get("after")
	if _, _, ok := storage.ParseTimeCursor(q.After); q.After != "" && !ok {
		fs = append(fs, apperr.Field("after", "error.cursor"))
	}
	if q.Limit, err = page(r, 200, 500); err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	es, err := a.store.ParentEvents(r.Context(), act, q)
	if err != nil {
		return err
	}
	out := listPage[eventJSON]{Items: []eventJSON{}}
	for _, e := range es {
		out.Items = append(out.Items, toEventJSON(e))
	}
	if len(es) == q.Limit {
		next := storage.TimeCursor(es[len(es)-1].StartsAt, es[len(es)-1].ID)
		out.Next = &next
	}
	return writeJSON(w, http.StatusOK, out)
}

// eventInput is an event's plan as clients send it.
type eventInput struct {
	School      string             `json:"school"`
	TopicIDs    []int64            `json:"topic_ids"`
	FileIDs     []int64            `json:"file_ids"`
	StartsAt    string             `json:"starts_at"`
	Place       string             `json:"place"`
	WholeSchool bool               `json:"whole_school"`
	Classes     []string           `json:"classes"`
	SpeakerKind events.SpeakerKind `json:"speaker_kind"`
	SpeakerBody events.Body        `json:"speaker_body"`
	SpeakerName string             `json:"speaker_name"`
	Status      events.Status      `json:"status"`
}

func (a *API) eventFrom(ctx context.Context, act audit.Actor, in eventInput) (events.Event, error) {
	e := events.Event{TopicIDs: in.TopicIDs, FileIDs: in.FileIDs, Place: in.Place, WholeSchool: in.WholeSchool, SpeakerKind: in.SpeakerKind,
		SpeakerBody: in.SpeakerBody, SpeakerName: in.SpeakerName, Status: in.Status}
	t, err := parseTime("starts_at", in.StartsAt)
	if err != nil {
		return e, err
	}
	e.StartsAt = t
	cls, ok := events.ParseClasses(strings.Join(in.Classes, ","))
	if !ok {
		return e, apperr.Validation(apperr.Field("classes", "events.error.classes"))
	}
	e.Classes = cls
	if in.School != "" {
		o, err := a.store.OrgByCode(ctx, strings.ToUpper(in.School))
		if err != nil {
			return e, apperr.Validation(apperr.Field("school", "events.error.school"))
		}
		e.SchoolID = o.ID
	}
	return e, nil
}

func (a *API) createEvent(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in eventInput
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := a.eventFrom(r.Context(), act, in)
	if err != nil {
		return err
	}
	if e, err = a.store.CreateParentEvent(r.Context(), act, e); err != nil {
		return err
	}
	w.Header().Set("Location", fmt.Sprintf("%s/events/%d", Prefix, e.ID))
	w.Header().Set("ETag", etag(e.Version))
	return writeJSON(w, http.StatusCreated, toEventJSON(e))
}

func (a *API) getEvent(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	rec, err := a.store.ParentEvent(r.Context(), act, id)
	if err != nil {
		return err
	}
	j := toEventJSON(rec.Event)
	for _, at := range rec.Attendees {
		j.Attendees = append(j.Attendees, attendeeJSON{ChildID: at.ChildID, Name: at.Name, Class: strconv.Itoa(at.Grade) + at.Section})
	}
	w.Header().Set("ETag", etag(rec.Version))
	return writeJSON(w, http.StatusOK, j)
}

func (a *API) updateEvent(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in eventInput
	if err := decode(r, &in); err != nil {
		return err
	}
	cur, err := a.store.ParentEvent(r.Context(), act, id)
	if err != nil {
		return err
	}
	e, err := a.eventFrom(r.Context(), act, in)
	if err != nil {
		return err
	}
	if e.Status == "" {
		e.Status = cur.Status
	}
	if in.FileIDs == nil {
		e.FileIDs = cur.FileIDs
	}
	e.ID, e.Version, e.HeadCount, e.Notes, e.MaterialsUsed = id, version, cur.HeadCount, cur.Notes, cur.MaterialsUsed
	if e, err = a.store.UpdateParentEvent(r.Context(), act, e); err != nil {
		return err
	}
	w.Header().Set("ETag", etag(e.Version))
	return writeJSON(w, http.StatusOK, toEventJSON(e))
}

func (a *API) putAttendance(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in struct {
		HeadCount     int     `json:"head_count"`
		Notes         string  `json:"notes"`
		MaterialsUsed string  `json:"materials_used"`
		ChildIDs      []int64 `json:"child_ids"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	e, err := a.store.RecordAttendance(r.Context(), act, storage.Attendance{EventID: id, Version: version, HeadCount: in.HeadCount,
		Notes: in.Notes, MaterialsUsed: in.MaterialsUsed, ChildIDs: in.ChildIDs})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(e.Version))
	return writeJSON(w, http.StatusOK, toEventJSON(e))
}

func (a *API) getEventFeedback(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	s, err := a.store.EventFeedback(r.Context(), act, id)
	if err != nil {
		return err
	}
	type text struct {
		Usefulness int    `json:"usefulness"`
		Clear      string `json:"clear"`
		NextTopic  string `json:"next_topic"`
		Comment    string `json:"comment"`
	}
	out := struct {
		Responses     int     `json:"responses"`
		AvgUsefulness float64 `json:"avg_usefulness"`
		Counts        []int   `json:"counts"`
		Texts         []text  `json:"texts"`
	}{Responses: s.Responses, AvgUsefulness: s.AvgUsefulness, Counts: s.Counts[1:], Texts: []text{}}
	for _, t := range s.Texts {
		out.Texts = append(out.Texts, text{t.Usefulness, t.Clear, t.NextTopic, t.Comment})
	}
	return writeJSON(w, http.StatusOK, out)
}

// postFeedback takes one anonymous response; it needs no sign-in and
// keeps nothing about who sent it (see storage.AddFeedback). An event
// takes FeedbackGate's limit a minute (429 after) and, once attendance is
// recorded, twice its head count (409 after).
func (a *API) postFeedback(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Usefulness int    `json:"usefulness"`
		Clear      string `json:"clear"`
		NextTopic  string `json:"next_topic"`
		Comment    string `json:"comment"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	code := r.PathValue("code")
	pe, err := a.store.EventByFeedbackCode(r.Context(), code)
	if err != nil {
		return err
	}
	// The event's budget of responses this minute (ADR 0031): it keys on
	// the event, never on the sender.
	now := a.now()
	if ok, retry := a.fbGate.Take(pe.ID, now); !ok {
		a.tooManyTitled(w, r, "events.feedback.busy", "events.feedback.busy", retry)
		return nil
	}
	if err := a.store.AddFeedback(r.Context(), code, events.Feedback{Usefulness: in.Usefulness, Clear: in.Clear,
		NextTopic: in.NextTopic, Comment: in.Comment, Lang: httpx.Lang(r.Context()).String()}); err != nil {
		a.fbGate.Return(pe.ID, now)
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// WithFeedbackGate shares g, the server's limit on each event's feedback a
// minute, with the web form.
func (a *API) WithFeedbackGate(g *events.FeedbackGate) *API {
	if g != nil {
		a.fbGate = g
	}
	return a
}

func (a *API) childParentEvents(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	as, err := a.store.ParentEventAttendance(r.Context(), act, id)
	if err != nil {
		return err
	}
	type item struct {
		EventID    int64   `json:"event_id"`
		StartsAt   string  `json:"starts_at"`
		SchoolName string  `json:"school_name"`
		TopicIDs   []int64 `json:"topic_ids"`
	}
	out := listPage[item]{Items: []item{}}
	for _, x := range as {
		it := item{EventID: x.EventID, StartsAt: x.StartsAt.Format(time.RFC3339), SchoolName: x.SchoolName, TopicIDs: []int64{}}
		for _, t := range x.Topics {
			it.TopicIDs = append(it.TopicIDs, t.ID)
		}
		out.Items = append(out.Items, it)
	}
	return writeJSON(w, http.StatusOK, out)
}

// schoolYearQuery reads ?year= (the year a school year starts in).
func schoolYearQuery(r *http.Request, now time.Time) (time.Time, time.Time, error) {
	s := r.URL.Query().Get("year")
	if s == "" {
		from, to := events.SchoolYear(now)
		return from, to, nil
	}
	y, err := strconv.Atoi(s)
	if err != nil || y < 2000 || y > 2100 {
		return time.Time{}, time.Time{}, apperr.Validation(apperr.Field("year", "error.range", 2000, 2100))
	}
	from, to := events.SchoolYear(time.Date(y, time.October, 1, 0, 0, 0, 0, time.UTC))
	return from, to, nil
}

func (a *API) eventOverview(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	from, to, err := schoolYearQuery(r, a.now())
	if err != nil {
		return err
	}
	ov, err := a.store.EventOverview(r.Context(), act, from, to)
	if err != nil {
		return err
	}
	type row struct {
		SchoolID      int64   `json:"school_id"`
		SchoolName    string  `json:"school_name"`
		District      string  `json:"district"`
		TopicID       int64   `json:"topic_id"`
		Events        int     `json:"events"`
		Parents       int     `json:"parents"`
		Responses     int     `json:"responses"`
		AvgUsefulness float64 `json:"avg_usefulness"`
	}
	type school struct {
		ID       int64  `json:"id"`
		Name     string `json:"name"`
		District string `json:"district"`
	}
	out := struct {
		From           string   `json:"from"`
		To             string   `json:"to"`
		HeldEvents     int      `json:"held_events"`
		Parents        int      `json:"parents"`
		Responses      int      `json:"responses"`
		AvgUsefulness  float64  `json:"avg_usefulness"`
		SchoolsTotal   int      `json:"schools_total"`
		Rows           []row    `json:"rows"`
		SchoolsWithout []school `json:"schools_without"`
		TopicsWithout  []int64  `json:"topics_without"`
	}{From: ov.From.Format(time.RFC3339), To: ov.To.Format(time.RFC3339), HeldEvents: ov.HeldEvents, Parents: ov.Parents,
		Responses: ov.Responses, AvgUsefulness: ov.AvgUsefulness, SchoolsTotal: ov.SchoolsTotal, Rows: []row{},
		SchoolsWithout: []school{}, TopicsWithout: []int64{}}
	for _, x := range ov.Rows {
		out.Rows = append(out.Rows, row{x.SchoolID, x.SchoolName, x.District, x.TopicID, x.Events, x.Parents, x.Responses, x.AvgUsefulness})
	}
	for _, s := range ov.SchoolsWithout {
		out.SchoolsWithout = append(out.SchoolsWithout, school{s.ID, s.Name, s.District})
	}
	for _, t := range ov.TopicsWithout {
		out.TopicsWithout = append(out.TopicsWithout, t.ID)
	}
	return writeJSON(w, http.StatusOK, out)
}
