package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/danis"
	"dayaq/internal/hotline"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/org"
	"dayaq/internal/storage"
)

// DanisStore is what "Mənimlə danış" needs of storage.
type DanisStore interface {
	StartDanis(ctx context.Context, m danis.Message, lang string) (storage.DanisStarted, error)
	OpenDanis(ctx context.Context, code string) (string, storage.DanisConversation, error)
	DanisByToken(ctx context.Context, token string) (storage.DanisConversation, error)
	DanisChildWrite(ctx context.Context, token, text string) (storage.DanisConversation, error)
	CloseDanis(ctx context.Context, token string) error
	ListDanis(ctx context.Context, a audit.Actor, q storage.DanisQuery) ([]storage.DanisConversation, error)
	DanisFor(ctx context.Context, a audit.Actor, contactID int64) (storage.DanisConversation, error)
	TakeDanis(ctx context.Context, a audit.Actor, contactID int64) error
	AnswerDanis(ctx context.Context, a audit.Actor, contactID int64, text string) error
	DanisSettingsNow(ctx context.Context) (storage.DanisSettings, error)
	SaveDanisSettings(ctx context.Context, a audit.Actor, s storage.DanisSettings, basedOn int) (storage.DanisSettings, error)
	ClassifyWebContact(ctx context.Context, a audit.Actor, contactID int64, in storage.WebClassification, version int) error
	DanisWaiting(ctx context.Context, a audit.Actor) (int, error)
}

// DanisCookie holds the token of the child's open conversation page: the
// only cookie the channel sets, for /danis only, gone when the browser
// closes or at the quick exit.
const DanisCookie = "dayaq_danis"

// DanisExitURL is where the quick exit goes: a neutral site.
const DanisExitURL = "https://www.google.com/"

func (w *Web) danisRoutes() []route {
	return []route{
		{"GET /danis", w.danisHome},
		{"POST /danis", w.danisStart},
		{"POST /danis/open", w.danisOpen},
		{"GET /danis/c", w.danisThread},
		{"POST /danis/c", w.danisWrite},
		{"GET /danis/exit", w.danisExit},
		{"GET /hotline/danis", w.signedIn(w.danisQueue)},
		{"GET /hotline/danis/settings", w.signedIn(w.danisSettings)},
		{"POST /hotline/danis/settings", w.signedIn(w.danisSettingsSave)},
		{"GET /hotline/danis/{id}", w.signedIn(w.danisStaffThread)},
		{"POST /hotline/danis/{id}/take", w.signedIn(w.danisTake)},
		{"POST /hotline/danis/{id}/answer", w.signedIn(w.danisAnswer)},
		{"POST /hotline/danis/{id}/classify", w.signedIn(w.danisClassify)},
	}
}

// danisPage is what the child's pages get: no navigation, no user, the
// language carried in every link and form (?lang= from L) instead of a
// cookie. Its templates name only L and Data, so that the template check
// can render them with a Page too.
type danisPage struct {
	L     i18n.Localizer
	Title string
	Q     string // "?lang=az", for redirects
	Langs []LangLink
	Data  any
}

func (w *Web) danisPage(r *http.Request, title string, data any) danisPage {
	l := w.cat.For(httpx.Lang(r.Context()))
	p := danisPage{L: l, Title: title, Q: "?lang=" + string(l.Lang), Data: data}
	here := "/danis" // a form's answer cannot be fetched again: its language links lead to the first page
	if r.Method == http.MethodGet && r.URL.Path == "/danis/c" {
		here = r.URL.Path
	}
	for _, lang := range i18n.Langs() {
		p.Langs = append(p.Langs, LangLink{Lang: lang, Name: w.cat.T(lang, "lang.self"), URL: here + "?lang=" + string(lang),
			Current: lang == l.Lang})
	}
	return p
}

// renderDanis renders one of the child's pages in the channel's own plain
// layout. Nothing is cached, anywhere.
func (w *Web) renderDanis(rw http.ResponseWriter, status int, name string, p danisPage) error {
	t, ok := w.pages[name]
	if !ok {
		return errors.New("web: no page " + name)
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "danis", p); err != nil {
		return err
	}
	h := rw.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", string(p.L.Lang))
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	rw.WriteHeader(status)
	_, err := rw.Write([]byte(buf.String()))
	return err
}

// danisForm is the first page: the explanation, the message form, and the
// form to come back with a code.
type danisForm struct {
	Message, Age, Place, District, Upset string
	Ask                                  *danis.Ask // the simple question, when the channel is busy
	Errors                               map[string]string
	Busy                                 bool   // the minute's limit is reached: try again in a minute
	CodeError                            string // the message by the code field
	Paused                               bool
	Districts                            []org.DistrictInfo
	Upsets                               []int
}

// FieldError is the message for the named field.
func (f danisForm) FieldError(name string) string { return f.Errors[name] }

func (w *Web) newDanisForm(r *http.Request) danisForm {
	f := danisForm{Districts: org.BakuDistricts(), Upsets: []int{1, 2, 3, 4, 5, 6, 7}, Errors: map[string]string{}}
	if w.gate.Check(w.now()) == danis.Question {
		a := w.gate.NewAsk(w.now())
		f.Ask = &a
	}
	return f
}

func (w *Web) now() time.Time {
	if w.store != nil {
		return w.store.Now()
	}
	return time.Now()
}

func (w *Web) danisHome(rw http.ResponseWriter, r *http.Request) error {
	return w.renderDanis(rw, http.StatusOK, "danis_home", w.danisPage(r, "danis.title", w.newDanisForm(r)))
}

// readDanisForm parses a public form, with a bounded body: oversized input
// gets a plain message, not a failure.
func readDanisForm(rw http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(rw, r.Body, danis.MaxBodySize)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return apperr.Validation(apperr.Field("message", "danis.error.too_big"))
		}
		return apperr.Validation(apperr.Field("message", "danis.error.binary"))
	}
	return nil
}

func (w *Web) danisStart(rw http.ResponseWriter, r *http.Request) error {
	f := w.newDanisForm(r)
	p := w.danisPage(r, "danis.title", nil)
	again := func(status int, err error) error {
		switch e := apperr.As(err); {
		case err == nil:
		case e.Code == apperr.Invalid:
			f.Errors = fieldMessages(p.L, e, nil)
		case e.Code == apperr.Unavailable: // the channel has no hotline to receive it
			f.Errors["message"], status = p.L.T(e.Key, e.Args...), http.StatusServiceUnavailable
		default:
			return err
		}
		p.Data = f
		return w.renderDanis(rw, status, "danis_home", p)
	}
	if err := readDanisForm(rw, r); err != nil {
		return again(http.StatusRequestEntityTooLarge, err)
	}
	f.Message, f.Age, f.Place = r.PostFormValue("message"), r.PostFormValue("age"), r.PostFormValue("place")
	f.District, f.Upset = r.PostFormValue("district"), r.PostFormValue("upset")
	now := w.now()
	switch w.gate.Check(now) {
	case danis.Busy:
		f.Busy, f.Ask = true, nil
		rw.Header().Set("Retry-After", "60")
		return again(http.StatusTooManyRequests, nil)
	case danis.Question:
		if !w.gate.CheckAsk(r.PostFormValue("ask_token"), r.PostFormValue("answer"), now) {
			return again(http.StatusUnprocessableEntity, apperr.Validation(apperr.Field("answer", "danis.error.answer")))
		}
	}
	m, err := danisMessage(f.Message, f.Age, f.Place, f.District, f.Upset)
	if err != nil {
		return again(http.StatusUnprocessableEntity, err)
	}
	st, err := w.store.StartDanis(r.Context(), m, string(p.L.Lang))
	if err != nil {
		return again(http.StatusUnprocessableEntity, err)
	}
	w.gate.Started(now)
	setDanisCookie(rw, r, st.Token)
	p.Title, p.Data = "danis.code.title", danisCodeData{Code: st.Code.String(), Urgent: st.Urgent}
	return w.renderDanis(rw, http.StatusCreated, "danis_code", p)
}

// danisMessage reads the form's fields into a message; numbers that are
// not numbers are named.
func danisMessage(text, age, place, district, upset string) (danis.Message, error) {
	m := danis.Message{Text: text, Place: place, District: district}
	var fs []apperr.FieldError
	if s := strings.TrimSpace(age); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fs = append(fs, apperr.Field("age", "error.range", danis.MinAge, danis.MaxAge))
		}
		m.Age = n
	}
	if s := strings.TrimSpace(upset); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			fs = append(fs, apperr.Field("upset", "error.range", 1, danis.MaxUpset))
		}
		m.Upset = n
	}
	if len(fs) > 0 {
		return m, apperr.Validation(fs...)
	}
	return m, nil
}

// danisCodeData is the page that shows the code, once.
type danisCodeData struct {
	Code   string
	Urgent bool
}

func setDanisCookie(rw http.ResponseWriter, r *http.Request, token string) {
	http.SetCookie(rw, &http.Cookie{Name: DanisCookie, Value: token, Path: "/danis", HttpOnly: true, Secure: httpx.IsHTTPS(r),
		SameSite: http.SameSiteStrictMode})
}

func clearDanisCookie(rw http.ResponseWriter, r *http.Request) {
	http.SetCookie(rw, &http.Cookie{Name: DanisCookie, Value: "", Path: "/danis", MaxAge: -1, HttpOnly: true,
		Secure: httpx.IsHTTPS(r), SameSite: http.SameSiteStrictMode})
}

func (w *Web) danisOpen(rw http.ResponseWriter, r *http.Request) error {
	f := w.newDanisForm(r)
	p := w.danisPage(r, "danis.title", nil)
	if err := readDanisForm(rw, r); err != nil {
		f.CodeError = p.L.T("danis.error.code")
		p.Data = f
		return w.renderDanis(rw, http.StatusBadRequest, "danis_home", p)
	}
	now := w.now()
	if w.gate.WrongSpent(now) {
		f.CodeError, f.Paused = p.L.T("danis.error.paused"), true
		p.Data = f
		rw.Header().Set("Retry-After", "60")
		return w.renderDanis(rw, http.StatusTooManyRequests, "danis_home", p)
	}
	tok, _, err := w.store.OpenDanis(r.Context(), r.PostFormValue("code"))
	switch {
	case err == nil:
		setDanisCookie(rw, r, tok)
		http.Redirect(rw, r, "/danis/c"+p.Q, http.StatusSeeOther)
		return nil
	case storage.DanisPaused(err):
		f.CodeError, f.Paused = p.L.T("danis.error.paused"), true
		p.Data = f
		rw.Header().Set("Retry-After", strconv.Itoa(int(danis.Pause.Seconds())))
		return w.renderDanis(rw, http.StatusTooManyRequests, "danis_home", p)
	case storage.DanisWrongCode(err):
		if storage.DanisUnknownID(err) {
			w.gate.Wrong(now)
		}
		f.CodeError = p.L.T("danis.error.code")
		p.Data = f
		return w.renderDanis(rw, http.StatusNotFound, "danis_home", p)
	}
	return err
}

// danisThreadData is the child's conversation page.
type danisThreadData struct {
	Conversation storage.DanisConversation
	Waiting      bool // the child wrote last: an answer is still to come
	Message      string
	Error        string
}

// waiting reports whether the child wrote last.
func waiting(c storage.DanisConversation) bool {
	return len(c.Messages) > 0 && c.Messages[len(c.Messages)-1].Author == "child"
}

func (w *Web) danisToken(r *http.Request) string {
	c, err := r.Cookie(DanisCookie)
	if err != nil {
		return ""
	}
	return c.Value
}

func (w *Web) danisClosed(rw http.ResponseWriter, r *http.Request) error {
	clearDanisCookie(rw, r)
	p := w.danisPage(r, "danis.closed.title", nil)
	return w.renderDanis(rw, http.StatusOK, "danis_closed", p)
}

func (w *Web) danisThread(rw http.ResponseWriter, r *http.Request) error {
	tok := w.danisToken(r)
	if tok == "" {
		return w.danisClosed(rw, r)
	}
	conv, err := w.store.DanisByToken(r.Context(), tok)
	if apperr.CodeOf(err) == apperr.NotFound {
		return w.danisClosed(rw, r)
	}
	if err != nil {
		return err
	}
	return w.renderDanis(rw, http.StatusOK, "danis_thread", w.danisPage(r, "danis.thread.title", danisThreadData{Conversation: conv, Waiting: waiting(conv)}))
}

func (w *Web) danisWrite(rw http.ResponseWriter, r *http.Request) error {
	tok := w.danisToken(r)
	if tok == "" {
		return w.danisClosed(rw, r)
	}
	p := w.danisPage(r, "danis.thread.title", nil)
	fail := func(status int, err error) error {
		e := apperr.As(err)
		if e.Code == apperr.Internal {
			return err
		}
		conv, cerr := w.store.DanisByToken(r.Context(), tok)
		if apperr.CodeOf(cerr) == apperr.NotFound {
			return w.danisClosed(rw, r)
		}
		if cerr != nil {
			return cerr
		}
		msg := p.L.T(e.Key, e.Args...)
		if len(e.Fields) > 0 {
			msg = p.L.T(e.Fields[0].Key, e.Fields[0].Args...)
		}
		p.Data = danisThreadData{Conversation: conv, Waiting: waiting(conv), Message: r.PostFormValue("message"), Error: msg}
		return w.renderDanis(rw, status, "danis_thread", p)
	}
	if err := readDanisForm(rw, r); err != nil {
		return fail(http.StatusRequestEntityTooLarge, err)
	}
	_, err := w.store.DanisChildWrite(r.Context(), tok, r.PostFormValue("message"))
	switch apperr.CodeOf(err) {
	case "":
		http.Redirect(rw, r, "/danis/c"+p.Q+"#last", http.StatusSeeOther)
		return nil
	case apperr.NotFound:
		return w.danisClosed(rw, r)
	case apperr.Unavailable:
		return fail(http.StatusTooManyRequests, err)
	}
	return fail(http.StatusUnprocessableEntity, err)
}

// danisExit is the quick exit without JavaScript: the open page is
// forgotten, its cookie cleared, and the browser sent to a neutral site.
// (With JavaScript the page replaces its history entry with this one.)
func (w *Web) danisExit(rw http.ResponseWriter, r *http.Request) error {
	if tok := w.danisToken(r); tok != "" {
		if err := w.store.CloseDanis(r.Context(), tok); err != nil {
			w.log.WarnContext(context.Background(), "danis: quick exit", "err", "close failed")
		}
	}
	clearDanisCookie(rw, r)
	rw.Header().Set("Cache-Control", "no-store")
	rw.Header().Set("Clear-Site-Data", `"cache"`)
	http.Redirect(rw, r, DanisExitURL, http.StatusSeeOther)
	return nil
}

// ---- The operators' side ----

// danisQueueData is the operators' list of conversations.
type danisQueueData struct {
	View      string
	Items     []storage.DanisConversation
	CanAdjust bool
}

func (w *Web) danisQueue(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	view := r.URL.Query().Get("view")
	if view != "waiting" && view != "mine" {
		view = ""
	}
	items, err := w.store.ListDanis(r.Context(), a, storage.DanisQuery{View: view})
	if err != nil {
		return err
	}
	if access.DanisFilterFor(a.Principal).Empty() {
		return apperr.New(apperr.NotFound, "error.page_not_found")
	}
	return w.render(rw, http.StatusOK, "danis_queue", w.page(r, "danis.queue.title",
		danisQueueData{View: view, Items: items, CanAdjust: access.CanEditDanis(a.Principal)}))
}

// danisStaffData is one conversation as an operator sees it.
type danisStaffData struct {
	Conversation storage.DanisConversation
	Canned       []string
	Message      string
	Error        string
	Class        danisClassForm
	Groups       []catGroup
	Urgencies    []hotline.Urgency
	Outcomes     []hotline.Outcome
}

// danisClassForm is the classification form: what was chosen, and what is
// wrong with it.
type danisClassForm struct {
	Version                                 int
	Categories                              []string
	Urgency, Outcome, OutcomeReason, CaseID string
	ReferredTo, ChildID                     string
	Errors                                  map[string]string
	Saved                                   bool
}

// Has reports whether the category code is chosen.
func (f danisClassForm) Has(code string) bool { return slices.Contains(f.Categories, code) }

func (w *Web) danisStaffThread(rw http.ResponseWriter, r *http.Request) error {
	return w.renderStaffThread(rw, r, http.StatusOK, "", "", nil)
}

func (w *Web) renderStaffThread(rw http.ResponseWriter, r *http.Request, status int, message, errMsg string, class *danisClassForm) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := w.store.DanisFor(r.Context(), authn.ActorFrom(r), id)
	if err != nil {
		return err
	}
	s, err := w.store.DanisSettingsNow(r.Context())
	if err != nil {
		return err
	}
	canned := s.Canned[d.Lang]
	if len(canned) == 0 {
		canned = s.Canned[string(i18n.Default)]
	}
	tax, err := w.store.Taxonomy(r.Context(), 0)
	if err != nil {
		return err
	}
	data := danisStaffData{Conversation: d, Canned: canned, Message: message, Error: errMsg, Groups: groups(tax),
		Urgencies: hotline.Urgencies(), Outcomes: hotline.Outcomes()}
	if class != nil {
		data.Class = *class
	} else {
		data.Class = danisClassForm{Version: d.ContactVersion, Categories: d.Categories, Urgency: string(d.Urgency),
			Outcome: string(d.Outcome), OutcomeReason: d.OutcomeReason, ReferredTo: d.ReferredTo,
			Saved: r.URL.Query().Get("classified") == "1"}
		if d.CaseID > 0 {
			data.Class.CaseID = strconv.FormatInt(d.CaseID, 10)
		}
		if d.ChildID > 0 {
			data.Class.ChildID = strconv.FormatInt(d.ChildID, 10)
		}
	}
	return w.render(rw, status, "danis_staff", w.page(r, "danis.staff.title", data))
}

func (w *Web) danisClassify(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "error.validation")
	}
	f := danisClassForm{Categories: r.PostForm["categories"], Urgency: r.PostFormValue("urgency"),
		Outcome: r.PostFormValue("outcome"), OutcomeReason: r.PostFormValue("outcome_reason"),
		CaseID: strings.TrimSpace(r.PostFormValue("case_id")), ReferredTo: r.PostFormValue("referred_to"),
		ChildID: strings.TrimSpace(r.PostFormValue("child_id")), Errors: map[string]string{}}
	f.Version, _ = strconv.Atoi(r.PostFormValue("version"))
	l := w.cat.For(httpx.Lang(r.Context()))
	in := storage.WebClassification{Categories: f.Categories, Urgency: hotline.Urgency(f.Urgency),
		Outcome: hotline.Outcome(f.Outcome), OutcomeReason: f.OutcomeReason, ReferredTo: f.ReferredTo}
	if f.CaseID != "" {
		if in.CaseID, err = strconv.ParseInt(f.CaseID, 10, 64); err != nil {
			f.Errors["case_id"] = l.T("hotline.error.case_unknown")
		}
	}
	if f.ChildID != "" {
		if in.ChildID, err = strconv.ParseInt(f.ChildID, 10, 64); err != nil {
			f.Errors["child_id"] = l.T("hotline.error.child_unknown")
		}
	}
	if len(f.Errors) == 0 {
		err = w.store.ClassifyWebContact(r.Context(), authn.ActorFrom(r), id, in, f.Version)
		if err == nil {
			http.Redirect(rw, r, "/hotline/danis/"+strconv.FormatInt(id, 10)+"?classified=1", http.StatusSeeOther)
			return nil
		}
		e := apperr.As(err)
		switch e.Code {
		case apperr.Invalid:
			f.Errors = fieldMessages(l, e, nil)
			if len(e.Fields) == 0 {
				f.Errors["categories"] = l.T(e.Key, e.Args...)
			}
		case apperr.Conflict:
			return w.renderStaffThread(rw, r, http.StatusConflict, "", l.T(e.Key, e.Args...), nil)
		default:
			return err
		}
	}
	return w.renderStaffThread(rw, r, http.StatusUnprocessableEntity, "", "", &f)
}

func (w *Web) danisTake(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := w.store.TakeDanis(r.Context(), authn.ActorFrom(r), id); err != nil {
		if apperr.CodeOf(err) == apperr.Conflict || apperr.CodeOf(err) == apperr.Forbidden {
			e := apperr.As(err)
			return w.renderStaffThread(rw, r, http.StatusConflict, "", w.cat.For(httpx.Lang(r.Context())).T(e.Key, e.Args...), nil)
		}
		return err
	}
	http.Redirect(rw, r, "/hotline/danis/"+strconv.FormatInt(id, 10), http.StatusSeeOther)
	return nil
}

func (w *Web) danisAnswer(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	text := r.PostFormValue("message")
	if strings.TrimSpace(text) == "" {
		text = r.PostFormValue("canned") // no JavaScript: a chosen opening answer is sent as it is
	}
	if err := w.store.AnswerDanis(r.Context(), authn.ActorFrom(r), id, text); err != nil {
		e := apperr.As(err)
		switch e.Code {
		case apperr.Invalid, apperr.Forbidden:
			l := w.cat.For(httpx.Lang(r.Context()))
			msg := l.T(e.Key, e.Args...)
			if len(e.Fields) > 0 {
				msg = l.T(e.Fields[0].Key, e.Fields[0].Args...)
			}
			return w.renderStaffThread(rw, r, http.StatusUnprocessableEntity, r.PostFormValue("message"), msg, nil)
		}
		return err
	}
	http.Redirect(rw, r, "/hotline/danis/"+strconv.FormatInt(id, 10)+"#last", http.StatusSeeOther)
	return nil
}

// danisSettingsData is the settings form: one textarea per language for
// the urgent words (one a line) and the opening answers (a blank line
// between two).
type danisSettingsData struct {
	Version   int
	Retention string
	Langs     []danisLangSettings
	Errors    map[string]string
	Saved     bool
	CityAdmin bool
}

type danisLangSettings struct {
	Lang          i18n.Lang
	Name          string
	Words, Canned string
}

// FieldError is the message for the named field.
func (d danisSettingsData) FieldError(name string) string { return d.Errors[name] }

func (w *Web) settingsData(r *http.Request, s storage.DanisSettings) danisSettingsData {
	p := authn.PrincipalFrom(r.Context())
	d := danisSettingsData{Version: s.Version, Retention: strconv.Itoa(s.RetentionDays), Errors: map[string]string{},
		CityAdmin: access.CanSetDanisRetention(p)}
	for _, lang := range i18n.Langs() {
		d.Langs = append(d.Langs, danisLangSettings{Lang: lang, Name: w.cat.T(lang, "lang.self"),
			Words: strings.Join(s.Words[string(lang)], "\n"), Canned: strings.Join(s.Canned[string(lang)], "\n\n")})
	}
	return d
}

func (w *Web) danisSettings(rw http.ResponseWriter, r *http.Request) error {
	if !access.CanEditDanis(authn.PrincipalFrom(r.Context())) {
		return apperr.New(apperr.NotFound, "error.page_not_found")
	}
	s, err := w.store.DanisSettingsNow(r.Context())
	if err != nil {
		return err
	}
	d := w.settingsData(r, s)
	d.Saved = r.URL.Query().Get("saved") == "1"
	return w.render(rw, http.StatusOK, "danis_settings", w.page(r, "danis.settings.title", d))
}

// splitCanned reads opening answers separated by blank lines.
func splitCanned(s string) []string {
	var out []string
	for _, part := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

func (w *Web) danisSettingsSave(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	if !access.CanEditDanis(a.Principal) {
		return apperr.New(apperr.NotFound, "error.page_not_found")
	}
	version, _ := strconv.Atoi(r.PostFormValue("version"))
	s := storage.DanisSettings{Words: danis.Words{}, Canned: map[string][]string{}}
	days, err := strconv.Atoi(strings.TrimSpace(r.PostFormValue("retention_days")))
	if err != nil {
		days = -1
	}
	s.RetentionDays = days
	for _, lang := range i18n.Langs() {
		s.Words[string(lang)] = danis.ParseList(r.PostFormValue("words_" + string(lang)))
		s.Canned[string(lang)] = splitCanned(r.PostFormValue("canned_" + string(lang)))
	}
	if _, err := w.store.SaveDanisSettings(r.Context(), a, s, version); err != nil {
		e := apperr.As(err)
		if e.Code != apperr.Invalid && e.Code != apperr.Conflict {
			return err
		}
		d := w.settingsData(r, s)
		d.Version, d.Retention = version, r.PostFormValue("retention_days")
		p := w.page(r, "danis.settings.title", nil)
		d.Errors = fieldMessages(p.L, e, nil)
		if e.Code == apperr.Conflict {
			d.Errors["version"] = p.L.T(e.Key)
		}
		p.Data = d
		return w.render(rw, http.StatusUnprocessableEntity, "danis_settings", p)
	}
	http.Redirect(rw, r, "/hotline/danis/settings?saved=1", http.StatusSeeOther)
	return nil
}
