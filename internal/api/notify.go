package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/calendar"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/notify"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// NotifyStore is what the notification and calendar routes need of
// storage (shared with the web UI).
type NotifyStore = surface.NotifyStore

// notifyRoutes are the notifications, their preferences and the working-day calendar.
func (a *API) notifyRoutes() []Route {
	return []Route{
		{"GET", Prefix + "/notifications", a.listNotifications},
		{"POST", Prefix + "/notifications/{id}/read", a.readNotification},
		{"POST", Prefix + "/notifications/read-all", a.readAllNotifications},
		{"GET", Prefix + "/notifications/preferences", a.getNotifyPrefs},
		{"PUT", Prefix + "/notifications/preferences", a.putNotifyPrefs},
		{"GET", Prefix + "/calendar/{year}", a.getCalendar},
		{"POST", Prefix + "/calendar/days", a.addCalendarDay},
		{"DELETE", Prefix + "/calendar/days/{id}", a.deleteCalendarDay},
		{"GET", Prefix + "/deadlines", a.getDeadlines},
	}
}

type notificationJSON struct {
	ID        int64       `json:"id"`
	Kind      notify.Kind `json:"kind"`
	Text      string      `json:"text"`
	Link      string      `json:"link,omitempty"`
	CreatedAt time.Time   `json:"created_at"`
	ReadAt    *time.Time  `json:"read_at"`
}

func (a *API) listNotifications(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	limit, err := page(r, 50, 200)
	if err != nil {
		return err
	}
	f := storage.NotificationFilter{Limit: limit, UnreadOnly: r.URL.Query().Get("unread") == "true"}
	if s := r.URL.Query().Get("before"); s != "" {
		if f.Before, err = strconv.ParseInt(s, 10, 64); err != nil || f.Before < 1 {
			return apperr.Validation(apperr.Field("before", "error.number"))
		}
	}
	list, err := a.store.Notifications(r.Context(), act, f)
	if err != nil {
		return err
	}
	unread, err := a.store.UnreadCount(r.Context(), act.UserID)
	if err != nil {
		return err
	}
	l := a.cat.For(httpx.Lang(r.Context()))
	out := struct {
		Items  []notificationJSON `json:"items"`
		Unread int                `json:"unread"`
		Next   string             `json:"next,omitempty"`
	}{Items: []notificationJSON{}, Unread: unread}
	for _, n := range list {
		j := notificationJSON{ID: n.ID, Kind: n.Kind, Text: notify.Text(l, n.Key, n.Args), Link: n.Link, CreatedAt: n.CreatedAt}
		if !n.ReadAt.IsZero() {
			t := n.ReadAt
			j.ReadAt = &t
		}
		out.Items = append(out.Items, j)
	}
	if len(list) == limit {
		out.Next = Prefix + "/notifications?limit=" + strconv.Itoa(limit) + "&before=" + strconv.FormatInt(list[len(list)-1].ID, 10)
		if f.UnreadOnly {
			out.Next += "&unread=true"
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) readNotification(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	if err := a.store.MarkNotificationRead(r.Context(), act, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) readAllNotifications(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	n, err := a.store.MarkAllNotificationsRead(r.Context(), act)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]int64{"marked": n})
}

// prefsJSON is a user's notification preferences.
type prefsJSON struct {
	Phone    string                                  `json:"phone"`
	Lang     string                                  `json:"lang"`
	Version  int                                     `json:"version"`
	Channels map[notify.Kind]map[notify.Channel]bool `json:"channels"`
}

func (a *API) writePrefs(w http.ResponseWriter, p storage.NotifyPrefs) error {
	w.Header().Set("ETag", etag(p.Version))
	return writeJSON(w, http.StatusOK, prefsJSON{Phone: p.Phone, Lang: string(p.Lang), Version: p.Version, Channels: p.Channels})
}

func (a *API) getNotifyPrefs(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	p, err := a.store.NotifyPrefsOf(r.Context(), act)
	if err != nil {
		return err
	}
	return a.writePrefs(w, p)
}

// putNotifyPrefs replaces the preferences; kinds and channels left out
// keep their current choice.
func (a *API) putNotifyPrefs(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	version, err := ifMatch(r)
	if err != nil {
		return err
	}
	var in struct {
		Phone    *string                                 `json:"phone"`
		Lang     *string                                 `json:"lang"`
		Channels map[notify.Kind]map[notify.Channel]bool `json:"channels"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	p, err := a.store.NotifyPrefsOf(r.Context(), act)
	if err != nil {
		return err
	}
	p.Version = version
	if in.Phone != nil {
		p.Phone = *in.Phone
	}
	if in.Lang != nil {
		p.Lang = i18n.Lang(*in.Lang)
	}
	for k, chs := range in.Channels {
		if p.Channels[k] == nil {
			p.Channels[k] = map[notify.Channel]bool{}
		}
		for ch, on := range chs {
			p.Channels[k][ch] = on
		}
	}
	saved, err := a.store.SaveNotifyPrefs(r.Context(), act, p)
	if err != nil {
		return err
	}
	return a.writePrefs(w, saved)
}

type calendarDayJSON struct {
	ID   int64  `json:"id"`
	Date string `json:"date"`
	Kind string `json:"kind"`
	Name string `json:"name"`
}

type dayOffJSON struct {
	Date    string   `json:"date"`
	Working bool     `json:"working"`
	Names   []string `json:"names"`
}

func (a *API) getCalendar(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor(r); err != nil {
		return err
	}
	year, err := strconv.Atoi(r.PathValue("year"))
	if err != nil || year < 2000 || year > 2100 {
		return apperr.Validation(apperr.Field("year", "error.range", 2000, 2100))
	}
	days, err := a.store.CalendarDays(r.Context(), year)
	if err != nil {
		return err
	}
	cal, err := a.store.Calendar(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Year    int               `json:"year"`
		Entries []calendarDayJSON `json:"entries"`
		DaysOff []dayOffJSON      `json:"days_off"`
	}{Year: year, Entries: []calendarDayJSON{}, DaysOff: []dayOffJSON{}}
	for _, d := range days {
		out.Entries = append(out.Entries, calendarDayJSON{ID: d.ID, Date: d.Date.Format(time.DateOnly), Kind: string(d.Kind), Name: d.Name})
	}
	for _, d := range cal.DaysOff(year) {
		names := d.Names
		if names == nil {
			names = []string{}
		}
		out.DaysOff = append(out.DaysOff, dayOffJSON{Date: d.Date.Format(time.DateOnly), Working: d.Working, Names: names})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) addCalendarDay(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in struct {
		Date string `json:"date"`
		Kind string `json:"kind"`
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	d := storage.CalendarDay{Kind: calendar.DayKind(strings.TrimSpace(in.Kind)), Name: in.Name}
	if in.Date != "" {
		t, ok := surface.ParseDate(in.Date)
		if !ok {
			return apperr.Validation(apperr.Field("date", "calendar.error.date"))
		}
		d.Date = t
	}
	saved, err := a.store.AddCalendarDay(r.Context(), act, d)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, calendarDayJSON{ID: saved.ID, Date: saved.Date.Format(time.DateOnly), Kind: string(saved.Kind), Name: saved.Name})
}

func (a *API) deleteCalendarDay(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	if err := a.store.DeleteCalendarDay(r.Context(), act, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// getDeadlines answers when work of an urgency started at a moment falls
// due: GET /api/v1/deadlines?urgency=high&start=2026-03-19T10:00:00+04:00
// (start defaults to now).
func (a *API) getDeadlines(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor(r); err != nil {
		return err
	}
	q := r.URL.Query()
	u := calendar.Urgency(q.Get("urgency"))
	var fs []apperr.FieldError
	if !u.Valid() {
		fs = append(fs, apperr.Field("urgency", "calendar.error.urgency"))
	}
	start := a.now()
	if s := q.Get("start"); s != "" {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			fs = append(fs, apperr.Field("start", "calendar.error.start"))
		}
		start = t
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	cal, err := a.store.Calendar(r.Context())
	if err != nil {
		return err
	}
	ack, err := cal.Due(start, u, calendar.Acknowledge)
	if err != nil {
		return err
	}
	done, err := cal.Due(start, u, calendar.Complete)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"urgency": u, "start": start.In(cal.Location()),
		"acknowledge_due": ack, "complete_due": done})
}
