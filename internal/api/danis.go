package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/danis"
	"dayaq/internal/hotline"
	"dayaq/internal/httpx"
	"dayaq/internal/storage"
)

// DanisStore is what the "Mənimlə danış" routes need of storage.
type DanisStore interface {
	StartDanis(ctx context.Context, m danis.Message, lang string) (storage.DanisStarted, error)
	OpenDanis(ctx context.Context, code string) (string, storage.DanisConversation, error)
	DanisChildWrite(ctx context.Context, token, text string) (storage.DanisConversation, error)
	CloseDanis(ctx context.Context, token string) error
	ListDanis(ctx context.Context, a audit.Actor, q storage.DanisQuery) ([]storage.DanisConversation, error)
	DanisFor(ctx context.Context, a audit.Actor, contactID int64) (storage.DanisConversation, error)
	TakeDanis(ctx context.Context, a audit.Actor, contactID int64) error
	AnswerDanis(ctx context.Context, a audit.Actor, contactID int64, text string) error
	ClassifyWebContact(ctx context.Context, a audit.Actor, contactID int64, in storage.WebClassification, version int) error
}

// danisRoutes are the children's anonymous channel: the public routes
// (no sign-in; the code is the key, sent in the body, never in the URL)
// and the operators' routes.
func (a *API) danisRoutes() []Route {
	return []Route{
		{"GET", Prefix + "/danis/question", a.danisQuestion},
		{"POST", Prefix + "/danis/start", a.danisStart},
		{"POST", Prefix + "/danis/read", a.danisRead},
		{"POST", Prefix + "/danis/write", a.danisWrite},
		{"GET", Prefix + "/danis/conversations", a.listDanis},
		{"GET", Prefix + "/danis/conversations/{id}", a.getDanis},
		{"POST", Prefix + "/danis/conversations/{id}/take", a.takeDanis},
		{"POST", Prefix + "/danis/conversations/{id}/answers", a.answerDanis},
		{"PUT", Prefix + "/danis/conversations/{id}/classification", a.classifyDanis},
	}
}

// WithDanisGate shares the children's channel's limits with the web UI.
func (a *API) WithDanisGate(g *danis.Gate) *API {
	a.gate = g
	return a
}

func (a *API) danisGate() *danis.Gate { return a.gate }

// DanisQuestion says whether a new conversation must answer a question now.
type DanisQuestion struct {
	Needed bool   `json:"needed"`
	A      int    `json:"a,omitempty"`
	B      int    `json:"b,omitempty"`
	Token  string `json:"token,omitempty"`
}

func (a *API) danisQuestion(w http.ResponseWriter, _ *http.Request) error {
	g, now := a.danisGate(), a.now()
	q := DanisQuestion{}
	if g.Check(now) != danis.Open {
		ask := g.NewAsk(now)
		q = DanisQuestion{Needed: true, A: ask.A, B: ask.B, Token: ask.Token}
	}
	return writeJSON(w, http.StatusOK, q)
}

// DanisStartInput is a child's first message.
type DanisStartInput struct {
	Message  string `json:"message"`
	Age      int    `json:"age,omitempty"`
	Place    string `json:"place,omitempty"`
	District string `json:"district,omitempty"`
	Upset    int    `json:"upset,omitempty"`
	AskToken string `json:"ask_token,omitempty"`
	Answer   string `json:"answer,omitempty"`
}

// DanisChildMessage is a message as the child sees it.
type DanisChildMessage struct {
	Author string    `json:"author"` // child or helpline
	Body   string    `json:"body"`
	At     time.Time `json:"at"`
}

// DanisChildView is the conversation as the child sees it.
type DanisChildView struct {
	Messages []DanisChildMessage `json:"messages"`
}

func childView(c storage.DanisConversation) DanisChildView {
	v := DanisChildView{Messages: []DanisChildMessage{}}
	for _, m := range c.Messages {
		author := "child"
		if m.Author == "staff" {
			author = "helpline"
		}
		v.Messages = append(v.Messages, DanisChildMessage{Author: author, Body: m.Body, At: m.At})
	}
	return v
}

// DanisStarted is the answer to a new conversation: the code, shown once.
type DanisStarted struct {
	Code         string         `json:"code"`
	Urgent       bool           `json:"urgent"`
	Conversation DanisChildView `json:"conversation"`
}

// decodeDanis reads a public body: bounded, and a body that is too big or
// not JSON text gets a plain message.
func decodeDanis(w http.ResponseWriter, r *http.Request, v any) error {
	r.Body = http.MaxBytesReader(w, r.Body, danis.MaxBodySize)
	b, err := io.ReadAll(r.Body)
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return apperr.Validation(apperr.Field("message", "danis.error.too_big"))
	}
	if err != nil {
		return &apperr.Error{Code: apperr.Invalid, Key: "error.json", Err: err}
	}
	if !json.Valid(b) {
		return apperr.Validation(apperr.Field("message", "danis.error.binary"))
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return apperr.Validation(apperr.Field("message", "error.json"))
	}
	return nil
}

// tooMany answers 429 with a plain problem and when to try again.
func (a *API) tooMany(w http.ResponseWriter, r *http.Request, key string, retry time.Duration) {
	a.tooManyTitled(w, r, "danis.error.busy", key, retry)
}

// tooManyTitled is tooMany with the problem's title from titleKey.
func (a *API) tooManyTitled(w http.ResponseWriter, r *http.Request, titleKey, key string, retry time.Duration) {
	l := a.cat.For(httpx.Lang(r.Context()))
	w.Header().Set("Retry-After", strconv.Itoa(int(retry.Seconds())))
	w.Header().Set("Content-Type", "application/problem+json; charset=utf-8")
	w.Header().Set("Content-Language", string(l.Lang))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusTooManyRequests)
	_ = json.NewEncoder(w).Encode(Problem{Type: "urn:dayaq:problem:too_many_requests", Title: l.T(titleKey),
		Status: http.StatusTooManyRequests, Detail: l.T(key)})
}

func (a *API) danisStart(w http.ResponseWriter, r *http.Request) error {
	var in DanisStartInput
	if err := decodeDanis(w, r, &in); err != nil {
		return err
	}
	g, now := a.danisGate(), a.now()
	switch g.Check(now) {
	case danis.Busy:
		a.tooMany(w, r, "danis.error.busy", time.Minute)
		return nil
	case danis.Question:
		if !g.CheckAsk(in.AskToken, in.Answer, now) {
			return apperr.Validation(apperr.Field("answer", "danis.error.answer"))
		}
	}
	m := danis.Message{Text: in.Message, Age: in.Age, Place: in.Place, District: in.District, Upset: in.Upset}
	st, err := a.store.StartDanis(r.Context(), m, string(httpx.Lang(r.Context())))
	if err != nil {
		return err
	}
	g.Started(now)
	// The API client has the code; the page token is not needed.
	if err := a.store.CloseDanis(r.Context(), st.Token); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, DanisStarted{Code: st.Code.String(), Urgent: st.Urgent, Conversation: childView(st.Conversation)})
}

// DanisCodeInput carries a follow-up code, and for writing the message.
type DanisCodeInput struct {
	Code    string `json:"code"`
	Message string `json:"message,omitempty"`
}

// openWithCode checks the code like the web page does: a plain 404 for a
// wrong one, 429 during the pause. ok false means the answer is written.
func (a *API) openWithCode(w http.ResponseWriter, r *http.Request, code string) (string, storage.DanisConversation, bool, error) {
	g, now := a.danisGate(), a.now()
	if g.WrongSpent(now) {
		a.tooMany(w, r, "danis.error.paused", time.Minute)
		return "", storage.DanisConversation{}, false, nil
	}
	tok, conv, err := a.store.OpenDanis(r.Context(), code)
	switch {
	case err == nil:
		return tok, conv, true, nil
	case storage.DanisPaused(err):
		a.tooMany(w, r, "danis.error.paused", danis.Pause)
		return "", conv, false, nil
	case storage.DanisUnknownID(err):
		g.Wrong(now)
	}
	return "", conv, false, err
}

func (a *API) danisRead(w http.ResponseWriter, r *http.Request) error {
	var in DanisCodeInput
	if err := decodeDanis(w, r, &in); err != nil {
		return err
	}
	tok, conv, ok, err := a.openWithCode(w, r, in.Code)
	if !ok {
		return err
	}
	if err := a.store.CloseDanis(r.Context(), tok); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, childView(conv))
}

func (a *API) danisWrite(w http.ResponseWriter, r *http.Request) error {
	var in DanisCodeInput
	if err := decodeDanis(w, r, &in); err != nil {
		return err
	}
	tok, _, ok, err := a.openWithCode(w, r, in.Code)
	if !ok {
		return err
	}
	conv, err := a.store.DanisChildWrite(r.Context(), tok, in.Message)
	if cerr := a.store.CloseDanis(r.Context(), tok); cerr != nil && err == nil {
		err = cerr
	}
	if apperr.CodeOf(err) == apperr.Unavailable {
		a.tooMany(w, r, "danis.error.slow_down", time.Hour)
		return nil
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, childView(conv))
}

// DanisSummary is a conversation in the operators' list.
type DanisSummary struct {
	ContactID   int64      `json:"contact_id"`
	Lang        string     `json:"lang"`
	Urgency     string     `json:"urgency"`
	AlertOpen   bool       `json:"alert_open"`
	Upset       int        `json:"upset,omitempty"`
	AssignedTo  int64      `json:"assigned_to,omitempty"`
	Unanswered  bool       `json:"unanswered"`
	FirstWords  string     `json:"first_words,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	LastChildAt time.Time  `json:"last_child_at"`
	LastStaffAt *time.Time `json:"last_staff_at"`
	CanTake     bool       `json:"can_take"`
	CanAnswer   bool       `json:"can_answer"`
}

// DanisStaffMessage is a message as an operator sees it.
type DanisStaffMessage struct {
	Author   string    `json:"author"` // child or staff
	UserName string    `json:"user_name,omitempty"`
	Body     string    `json:"body"`
	At       time.Time `json:"at"`
}

// DanisStaffView is one conversation as an operator sees it.
type DanisStaffView struct {
	DanisSummary
	Age        int                 `json:"age,omitempty"`
	Place      string              `json:"place,omitempty"`
	District   string              `json:"district,omitempty"`
	UrgentHits []string            `json:"urgent_words"`
	Messages   []DanisStaffMessage `json:"messages"`
	// The contact's classification and the version to send back with a change.
	Version       int      `json:"version"`
	Categories    []string `json:"categories"`
	Outcome       string   `json:"outcome"`
	OutcomeReason string   `json:"outcome_reason,omitempty"`
	CaseID        int64    `json:"case_id,omitempty"`
	ReferredTo    string   `json:"referred_to,omitempty"`
	ChildID       int64    `json:"child_id,omitempty"`
}

func danisSummary(d storage.DanisConversation) DanisSummary {
	s := DanisSummary{ContactID: d.ContactID, Lang: d.Lang, Urgency: string(d.Urgency), AlertOpen: d.AlertOpen, Upset: d.Upset,
		AssignedTo: d.AssignedTo, Unanswered: d.Unanswered, FirstWords: d.FirstWords, CreatedAt: d.CreatedAt,
		LastChildAt: d.LastChildAt, CanTake: d.CanTake, CanAnswer: d.CanAnswer}
	if !d.LastStaffAt.IsZero() {
		t := d.LastStaffAt
		s.LastStaffAt = &t
	}
	return s
}

func staffView(d storage.DanisConversation) DanisStaffView {
	v := DanisStaffView{DanisSummary: danisSummary(d), Age: d.Age, Place: d.Place, District: d.District,
		UrgentHits: append([]string{}, d.UrgentHits...), Messages: []DanisStaffMessage{}, Version: d.ContactVersion,
		Categories: append([]string{}, d.Categories...), Outcome: string(d.Outcome), OutcomeReason: d.OutcomeReason,
		CaseID: d.CaseID, ReferredTo: d.ReferredTo, ChildID: d.ChildID}
	for _, m := range d.Messages {
		v.Messages = append(v.Messages, DanisStaffMessage{Author: m.Author, UserName: m.UserName, Body: m.Body, At: m.At})
	}
	return v
}

func (a *API) listDanis(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	view := r.URL.Query().Get("view")
	if view != "" && view != "waiting" && view != "mine" {
		return apperr.Validation(apperr.Field("view", "hotline.error.view"))
	}
	limit, err := page(r, 100, 200)
	if err != nil {
		return err
	}
	items, err := a.store.ListDanis(r.Context(), act, storage.DanisQuery{View: view, Limit: limit})
	if err != nil {
		return err
	}
	out := struct {
		Items []DanisSummary `json:"items"`
	}{Items: []DanisSummary{}}
	for _, d := range items {
		out.Items = append(out.Items, danisSummary(d))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getDanis(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	d, err := a.store.DanisFor(r.Context(), act, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, staffView(d))
}

func (a *API) takeDanis(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	if err := a.store.TakeDanis(r.Context(), act, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// DanisAnswerInput is an operator's answer.
type DanisAnswerInput struct {
	Message string `json:"message"`
}

func (a *API) answerDanis(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	var in DanisAnswerInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.store.AnswerDanis(r.Context(), act, id, in.Message); err != nil {
		return err
	}
	d, err := a.store.DanisFor(r.Context(), act, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, staffView(d))
}

// DanisClassificationInput classifies a web contact; Version is the
// contact's version the client read.
type DanisClassificationInput struct {
	Version       int      `json:"version"`
	Categories    []string `json:"categories"`
	Urgency       string   `json:"urgency"`
	Outcome       string   `json:"outcome"`
	OutcomeReason string   `json:"outcome_reason,omitempty"`
	CaseID        int64    `json:"case_id,omitempty"`
	ReferredTo    string   `json:"referred_to,omitempty"`
	ChildID       int64    `json:"child_id,omitempty"`
}

func (a *API) classifyDanis(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	var in DanisClassificationInput
	if err := decode(r, &in); err != nil {
		return err
	}
	if in.Version < 1 {
		return apperr.Validation(apperr.Field("version", "error.required"))
	}
	if err := a.store.ClassifyWebContact(r.Context(), act, id, storage.WebClassification{Categories: in.Categories,
		Urgency: hotline.Urgency(in.Urgency), Outcome: hotline.Outcome(in.Outcome), OutcomeReason: in.OutcomeReason,
		CaseID: in.CaseID, ReferredTo: in.ReferredTo, ChildID: in.ChildID}, in.Version); err != nil {
		return err
	}
	d, err := a.store.DanisFor(r.Context(), act, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, staffView(d))
}
