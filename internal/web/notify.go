package web

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/authn"
	"dayaq/internal/calendar"
	"dayaq/internal/i18n"
	"dayaq/internal/notify"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
)

// NotifyStore is what the notification, preference and calendar pages
// need of storage: what the API needs too, and the outbox's health.
type NotifyStore interface {
	surface.NotifyStore
	OutboxHealth(ctx context.Context) (storage.OutboxStats, error)
}

func (w *Web) notifyRoutes() []route {
	return []route{
		{"GET /notifications", w.signedIn(w.notificationsPage)},
		{"POST /notifications/{id}/read", w.signedIn(w.notificationRead)},
		{"POST /notifications/read-all", w.signedIn(w.notificationsReadAll)},
		{"GET /account/notifications", w.signedIn(w.prefsPage)},
		{"POST /account/notifications", w.signedIn(w.prefsSave)},
		{"GET /calendar", w.signedIn(w.calendarPage)},
		{"POST /calendar/days", w.signedIn(w.calendarAdd)},
		{"POST /calendar/days/{id}/delete", w.signedIn(w.calendarDelete)},
	}
}

// Remaining says how far due is from the page's time: "due in 3 h",
// "overdue by 2 days" (templates: {{$.Remaining .Due}}).
func (p Page) Remaining(due time.Time) string {
	r := calendar.Humanize(p.now, due)
	return p.L.N(r.Key, r.N)
}

// BakuTime formats t in Baku time, as deadlines are shown.
func (p Page) BakuTime(t time.Time) string {
	return t.In(calendar.Baku()).Format("2006-01-02 15:04")
}

// notificationRow is one notification as the page shows it.
type notificationRow struct {
	ID        int64
	Text      string
	Link      string
	CreatedAt time.Time
	Unread    bool
}

type notificationsData struct {
	Items      []notificationRow
	UnreadOnly bool
	Next       string
	Outbox     *storage.OutboxStats // for the city and system administrators
}

func (w *Web) notificationsPage(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	f := storage.NotificationFilter{Limit: 50, UnreadOnly: r.URL.Query().Get("unread") == "1"}
	f.Before, _ = strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	ns, err := w.store.Notifications(r.Context(), a, f)
	if err != nil {
		return err
	}
	p := w.page(r, "notifications.title", nil)
	d := notificationsData{UnreadOnly: f.UnreadOnly}
	for _, n := range ns {
		d.Items = append(d.Items, notificationRow{ID: n.ID, Text: notify.Text(p.L, n.Key, n.Args), Link: n.Link,
			CreatedAt: n.CreatedAt, Unread: n.ReadAt.IsZero()})
	}
	if access.CanEditCalendar(authn.PrincipalFrom(r.Context())) {
		h, err := w.store.OutboxHealth(r.Context())
		if err != nil {
			return err
		}
		d.Outbox = &h
	}
	if len(ns) == f.Limit {
		q := url.Values{"before": {strconv.FormatInt(ns[len(ns)-1].ID, 10)}}
		if f.UnreadOnly {
			q.Set("unread", "1")
		}
		d.Next = "/notifications?" + q.Encode()
	}
	p.Data = d
	return w.render(rw, http.StatusOK, "notifications", p)
}

// notificationRead marks one read and goes to what it links to (when the
// form asks to open it) or back to the list.
func (w *Web) notificationRead(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := w.store.MarkNotificationRead(r.Context(), authn.ActorFrom(r), id); err != nil {
		return err
	}
	next := "/notifications"
	if open := r.PostFormValue("open"); open != "" && strings.HasPrefix(open, "/") && !strings.HasPrefix(open, "//") {
		next = open
	}
	http.Redirect(rw, r, next, http.StatusSeeOther)
	return nil
}

func (w *Web) notificationsReadAll(rw http.ResponseWriter, r *http.Request) error {
	if _, err := w.store.MarkAllNotificationsRead(r.Context(), authn.ActorFrom(r)); err != nil {
		return err
	}
	http.Redirect(rw, r, "/notifications", http.StatusSeeOther)
	return nil
}

// prefsData is the notification preferences form.
type prefsData struct {
	Kinds    []notify.Kind
	Channels []notify.Channel
	On       map[notify.Kind]map[notify.Channel]bool
	Phone    string
	Lang     string
	Langs    []i18n.Lang
	Version  int
	Saved    bool
	Errors   map[string]string
	Error    string // a form-wide message (a stale version)
}

// FieldError is the message for the named field.
func (d prefsData) FieldError(name string) string { return d.Errors[name] }

// Checked reports whether kind k goes by channel ch.
func (d prefsData) Checked(k notify.Kind, ch notify.Channel) bool { return d.On[k][ch] }

func (w *Web) prefsPage(rw http.ResponseWriter, r *http.Request) error {
	p, err := w.store.NotifyPrefsOf(r.Context(), authn.ActorFrom(r))
	if err != nil {
		return err
	}
	d := prefsData{On: p.Channels, Phone: p.Phone, Lang: string(p.Lang), Version: p.Version, Saved: r.URL.Query().Get("saved") == "1"}
	return w.renderPrefs(rw, r, http.StatusOK, d)
}

func (w *Web) renderPrefs(rw http.ResponseWriter, r *http.Request, status int, d prefsData) error {
	d.Kinds, d.Channels, d.Langs = notify.Kinds(), notify.Channels(), i18n.Langs()
	return w.render(rw, status, "notify_prefs", w.page(r, "notifications.prefs.title", d))
}

func (w *Web) prefsSave(rw http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "error.validation")
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	p := storage.NotifyPrefs{Phone: r.PostFormValue("notify_phone"), Lang: i18n.Lang(r.PostFormValue("lang")), Version: version,
		Channels: map[notify.Kind]map[notify.Channel]bool{}}
	for _, k := range notify.Kinds() {
		p.Channels[k] = map[notify.Channel]bool{}
		for _, ch := range notify.Channels() {
			p.Channels[k][ch] = r.PostForm.Has(string(k) + "." + string(ch))
		}
	}
	_, err := w.store.SaveNotifyPrefs(r.Context(), authn.ActorFrom(r), p)
	if err == nil {
		http.Redirect(rw, r, "/account/notifications?saved=1", http.StatusSeeOther)
		return nil
	}
	e := apperr.As(err)
	l := w.page(r, "", nil).L
	d := prefsData{On: p.Channels, Phone: r.PostFormValue("notify_phone"), Lang: string(p.Lang), Version: version, Errors: map[string]string{}}
	switch e.Code {
	case apperr.Invalid:
		d.Errors = fieldMessages(l, e, func(f string) string { return "notify_" + f })
		return w.renderPrefs(rw, r, http.StatusUnprocessableEntity, d)
	case apperr.Conflict:
		cur, cerr := w.store.NotifyPrefsOf(r.Context(), authn.ActorFrom(r))
		if cerr != nil {
			return cerr
		}
		d.Version = cur.Version // what the user typed stays; saving again overwrites knowingly
		d.Error = l.T(e.Key, e.Args...)
		return w.renderPrefs(rw, r, http.StatusConflict, d)
	}
	return err
}

// calendarData is the working-day calendar page.
type calendarData struct {
	Year, Prev, Next int
	DaysOff          []calendar.DayInfo
	Entries          []storage.CalendarDay
	CanEdit          bool
	Kinds            []calendar.DayKind
	Names            []string
	Deadlines        []deadlineRow
	// the add form as typed
	Date, Kind, Name string
	Errors           map[string]string
	// the deadline calculator: the start as typed, the urgency, and the answer
	Start, Urgency  string
	Urgencies       []calendar.Urgency
	AckDue, DoneDue time.Time
}

// deadlineRow is one urgency's deadlines, in words.
type deadlineRow struct {
	Urgency               calendar.Urgency
	Acknowledge, Complete string
}

// spanText says a span in words: "24 hours on the clock", "5 working days".
func spanText(l i18n.Localizer, s calendar.Span) string {
	switch {
	case s.Clock > 0:
		return l.N("calendar.span.clock_hours", int(s.Clock.Hours()))
	case s.WorkingHours > 0:
		return l.N("calendar.span.working_hours", int(s.WorkingHours.Hours()))
	}
	return l.N("calendar.span.working_days", s.WorkingDays)
}

// FieldError is the message for the named field of the add form.
func (d calendarData) FieldError(name string) string { return d.Errors[name] }

func (w *Web) calendarPage(rw http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	year, _ := strconv.Atoi(q.Get("year"))
	d := calendarData{Year: year, Start: strings.TrimSpace(q.Get("start")), Urgency: q.Get("urgency"), Errors: map[string]string{}}
	status := http.StatusOK
	if d.Start != "" || d.Urgency != "" {
		l := w.page(r, "", nil).L
		start, err := time.ParseInLocation("2006-01-02T15:04", d.Start, calendar.Baku())
		if err != nil {
			d.Errors["start"] = l.T("calendar.error.start_local")
		}
		u := calendar.Urgency(d.Urgency)
		if !u.Valid() {
			d.Errors["urgency"] = l.T("calendar.error.urgency")
		}
		if len(d.Errors) > 0 {
			status = http.StatusUnprocessableEntity
		} else {
			cal, err := w.store.Calendar(r.Context())
			if err != nil {
				return err
			}
			if d.AckDue, err = cal.Due(start, u, calendar.Acknowledge); err != nil {
				return err
			}
			if d.DoneDue, err = cal.Due(start, u, calendar.Complete); err != nil {
				return err
			}
			if year == 0 {
				d.Year = start.Year()
			}
		}
	}
	return w.renderCalendar(rw, r, status, d)
}

func (w *Web) renderCalendar(rw http.ResponseWriter, r *http.Request, status int, d calendarData) error {
	if d.Year < 2000 || d.Year > 2100 {
		d.Year = w.store.Now().In(calendar.Baku()).Year()
	}
	d.Prev, d.Next = d.Year-1, d.Year+1
	cal, err := w.store.Calendar(r.Context())
	if err != nil {
		return err
	}
	if d.Entries, err = w.store.CalendarDays(r.Context(), d.Year); err != nil {
		return err
	}
	d.DaysOff = cal.DaysOff(d.Year)
	d.CanEdit = access.CanEditCalendar(authn.PrincipalFrom(r.Context()))
	d.Kinds = calendar.Kinds()
	d.Urgencies = calendar.Urgencies()
	if d.Urgency == "" {
		d.Urgency = string(calendar.High)
	}
	d.Names = []string{"ramazan", "qurban", "transfer", "other"}
	p := w.page(r, "calendar.title", nil)
	dl := cal.Deadlines()
	for _, u := range calendar.Urgencies() {
		d.Deadlines = append(d.Deadlines, deadlineRow{Urgency: u, Acknowledge: spanText(p.L, dl[u].Acknowledge),
			Complete: spanText(p.L, dl[u].Complete)})
	}
	p.Data = d
	return w.render(rw, status, "calendar", p)
}

func (w *Web) calendarAdd(rw http.ResponseWriter, r *http.Request) error {
	d := calendarData{Date: strings.TrimSpace(r.PostFormValue("holiday_date")), Kind: r.PostFormValue("kind"), Name: r.PostFormValue("name"),
		Errors: map[string]string{}}
	cd := storage.CalendarDay{Kind: calendar.DayKind(d.Kind), Name: d.Name}
	l := w.page(r, "", nil).L
	if t, err := time.Parse(time.DateOnly, d.Date); err == nil {
		cd.Date = t
		d.Year = t.Year()
	} else if d.Date != "" {
		d.Errors["holiday_date"] = l.T("calendar.error.date")
	}
	if len(d.Errors) == 0 {
		_, err := w.store.AddCalendarDay(r.Context(), authn.ActorFrom(r), cd)
		if err == nil {
			http.Redirect(rw, r, "/calendar?year="+strconv.Itoa(cd.Date.Year()), http.StatusSeeOther)
			return nil
		}
		e := apperr.As(err)
		if e.Code != apperr.Invalid {
			return err
		}
		for _, f := range e.Fields {
			name := f.Field
			if name == "date" {
				name = "holiday_date"
			}
			d.Errors[name] = l.T(f.Key, f.Args...)
		}
	}
	return w.renderCalendar(rw, r, http.StatusUnprocessableEntity, d)
}

func (w *Web) calendarDelete(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := w.store.DeleteCalendarDay(r.Context(), authn.ActorFrom(r), id); err != nil {
		return err
	}
	year, _ := strconv.Atoi(r.PostFormValue("year"))
	http.Redirect(rw, r, "/calendar?year="+strconv.Itoa(year), http.StatusSeeOther)
	return nil
}
