package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/hotline"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
	"dayaq/internal/taxonomy"
)

// HotlineStore is what the hotline's routes need of storage (shared with
// the web UI).
type HotlineStore = surface.HotlineStore

// hotlineRoutes are the 146-2 hotline's routes: contacts and the taxonomy.
func (a *API) hotlineRoutes() []Route {
	return []Route{
		{"POST", Prefix + "/contacts", a.createContact},
		{"GET", Prefix + "/contacts", a.listContacts},
		{"GET", Prefix + "/contacts/{id}", a.getContact},
		{"POST", Prefix + "/contacts/{id}/take", a.takeContact},
		{"POST", Prefix + "/contacts/{id}/phone", a.revealPhone},
		{"GET", Prefix + "/taxonomy", a.getTaxonomy},
		{"PUT", Prefix + "/taxonomy", a.putTaxonomy},
	}
}

// ContactInput is a contact as clients send it.
type ContactInput struct {
	Channel       string             `json:"channel"`
	ReceivedAt    string             `json:"received_at,omitempty"` // RFC 3339; now when left out
	CallType      string             `json:"call_type"`
	Caller        hotline.Caller     `json:"caller"`
	Children      []hotline.ChildRef `json:"children,omitempty"`
	Categories    []string           `json:"categories,omitempty"`
	Answers       hotline.Answers    `json:"answers"`
	Urgency       string             `json:"urgency,omitempty"` // the rules' suggestion when left out
	Narrative     string             `json:"narrative,omitempty"`
	Outcome       string             `json:"outcome"`
	OutcomeReason string             `json:"outcome_reason,omitempty"`
	CaseID        int64              `json:"case_id,omitempty"`
	ReferredTo    string             `json:"referred_to,omitempty"`
}

// Contact turns the input into a contact; storage validates it against the
// taxonomy in force.
func (in ContactInput) Contact(now time.Time) (hotline.Contact, error) {
	c := hotline.Contact{Channel: hotline.Channel(in.Channel), CallType: hotline.CallType(in.CallType), Caller: in.Caller,
		Children: in.Children, Categories: in.Categories, Answers: in.Answers, Urgency: hotline.Urgency(in.Urgency),
		Narrative: in.Narrative, Outcome: hotline.Outcome(in.Outcome), OutcomeReason: in.OutcomeReason, CaseID: in.CaseID,
		ReferredTo: in.ReferredTo, ReceivedAt: now}
	if in.ReceivedAt != "" {
		t, err := time.Parse(time.RFC3339, in.ReceivedAt)
		if err != nil {
			return c, apperr.Validation(apperr.Field("received_at", "hotline.error.time_format"))
		}
		c.ReceivedAt = t
	}
	if c.Urgency == "" && c.CallType.CarriesData() {
		c.Urgency = hotline.Suggest(c.Categories, c.Answers)
	}
	return c, nil
}

type callerJSON struct {
	Anonymous    bool   `json:"anonymous"`
	Name         string `json:"name,omitempty"`
	Relationship string `json:"relationship,omitempty"`
	PhoneMasked  string `json:"phone_masked,omitempty"`
}

type alertJSON struct {
	Open    bool   `json:"open"`
	TakenBy int64  `json:"taken_by,omitempty"`
	TakenAt string `json:"taken_at,omitempty"`
}

// contactJSON is a contact as the API shows it. It does not depend on the
// request's language, so a replayed 201 is the same bytes.
type contactJSON struct {
	ID              int64              `json:"id"`
	TaxonomyVersion int                `json:"taxonomy_version"`
	Channel         hotline.Channel    `json:"channel"`
	ReceivedAt      string             `json:"received_at"`
	CallType        hotline.CallType   `json:"call_type"`
	Caller          callerJSON         `json:"caller"`
	Children        []hotline.ChildRef `json:"children"`
	Categories      []string           `json:"categories"`
	Answers         hotline.Answers    `json:"answers"`
	Urgency         hotline.Urgency    `json:"urgency"`
	Suggested       hotline.Urgency    `json:"suggested_urgency"`
	Narrative       string             `json:"narrative,omitempty"`
	Outcome         hotline.Outcome    `json:"outcome"`
	OutcomeReason   string             `json:"outcome_reason,omitempty"`
	CaseID          int64              `json:"case_id,omitempty"`
	ReferredTo      string             `json:"referred_to,omitempty"`
	CreatedBy       int64              `json:"created_by"`
	AssignedTo      int64              `json:"assigned_to,omitempty"`
	CreatedAt       string             `json:"created_at"`
	Alert           *alertJSON         `json:"alert,omitempty"`
	Earlier         []contactJSON      `json:"earlier_from_same_number,omitempty"`
}

func toContactJSON(r storage.ContactRecord) contactJSON {
	j := contactJSON{ID: r.ID, TaxonomyVersion: r.TaxonomyVersion, Channel: r.Channel,
		ReceivedAt: r.ReceivedAt.Format(time.RFC3339), CallType: r.CallType,
		Caller:   callerJSON{r.Caller.Anonymous, r.Caller.Name, string(r.Caller.Relationship), r.PhoneMasked},
		Children: r.Children, Categories: r.Categories, Answers: r.Answers, Urgency: r.Urgency, Suggested: r.Suggested,
		Narrative: r.Narrative, Outcome: r.Outcome, OutcomeReason: r.OutcomeReason, CaseID: r.CaseID,
		ReferredTo: r.ReferredTo, CreatedBy: r.CreatedBy, AssignedTo: r.AssignedTo, CreatedAt: r.CreatedAt.Format(time.RFC3339Nano)}
	if j.Children == nil {
		j.Children = []hotline.ChildRef{}
	}
	if j.Categories == nil {
		j.Categories = []string{}
	}
	if r.Urgency == hotline.Critical {
		j.Alert = &alertJSON{Open: r.AlertOpen, TakenBy: r.TakenBy}
		if !r.TakenAt.IsZero() {
			j.Alert.TakenAt = r.TakenAt.Format(time.RFC3339)
		}
	}
	for _, e := range r.Earlier {
		j.Earlier = append(j.Earlier, toContactJSON(e))
	}
	return j
}

func (a *API) createContact(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	if !access.CanLogContact(act.Principal) {
		return apperr.New(apperr.Forbidden, "hotline.error.cannot_log")
	}
	key, err := storage.IdempotencyKey(r.Header.Get("Idempotency-Key"))
	if err != nil {
		return err
	}
	body, err := readBody(r)
	if err != nil {
		return err
	}
	var in ContactInput
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := in.Contact(a.now())
	if err != nil {
		return err
	}
	resp, err := a.store.CreateContact(r.Context(), act, c, storage.ContactCreate{
		IdemKey: key, Fingerprint: storage.Fingerprint(r.Method, r.URL.Path, body),
		Render: func(rec storage.ContactRecord) (storage.StoredResponse, error) {
			b, err := json.Marshal(toContactJSON(rec))
			return storage.StoredResponse{Status: http.StatusCreated, Location: fmt.Sprintf("%s/contacts/%d", Prefix, rec.ID),
				Body: append(b, '\n')}, err
		}})
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Location", resp.Location)
	if resp.Replayed {
		h.Set("Idempotent-Replayed", "true")
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(resp.Status)
	_, err = w.Write(resp.Body)
	return err
}

func (a *API) getContact(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	rec, err := a.store.ContactFor(r.Context(), act, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toContactJSON(rec))
}

// contactPageJSON is a page of the hotline queue.
type contactPageJSON struct {
	Alerts []contactJSON `json:"alerts"`
	Items  []contactJSON `json:"items"`
	Next   *string       `json:"next,omitempty"`
}

func (a *API) listContacts(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	var fs []apperr.FieldError
	cq := storage.ContactQuery{View: q.Get("view"), Urgency: hotline.Urgency(q.Get("urgency"))}
	switch cq.View {
	case "", "all", "mine", "new", "critical":
	default:
		fs = append(fs, apperr.Field("view", "hotline.error.view"))
	}
	if cq.Urgency != "" && cq.Urgency.Rank() == 0 {
		fs = append(fs, apperr.Field("urgency", "hotline.error.urgency"))
	}
	if s := q.Get("before"); s != "" {
		if cq.Before, err = strconv.ParseInt(s, 10, 64); err != nil || cq.Before < 1 {
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
	cq.Limit = limit
	pg, err := a.store.ListContacts(r.Context(), act, cq)
	if err != nil {
		return err
	}
	out := contactPageJSON{Alerts: []contactJSON{}, Items: []contactJSON{}}
	for _, c := range pg.Alerts {
		out.Alerts = append(out.Alerts, toContactJSON(c))
	}
	for _, c := range pg.Items {
		out.Items = append(out.Items, toContactJSON(c))
	}
	if len(pg.Items) == limit {
		next := strconv.FormatInt(pg.Items[len(pg.Items)-1].ID, 10)
		out.Next = &next
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) takeContact(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	if err := a.store.TakeContact(r.Context(), act, id); err != nil {
		return err
	}
	rec, err := a.store.ContactFor(r.Context(), act, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toContactJSON(rec))
}

func (a *API) revealPhone(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	n, err := a.store.RevealPhone(r.Context(), act, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]string{"phone": n})
}

func (a *API) getTaxonomy(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor(r); err != nil {
		return err
	}
	v := 0
	if s := r.URL.Query().Get("version"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return apperr.Validation(apperr.Field("version", "error.range", 1, 1<<31-1))
		}
		v = n
	}
	t, err := a.store.Taxonomy(r.Context(), v)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(t.Version))
	return writeJSON(w, http.StatusOK, t)
}

func (a *API) putTaxonomy(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	if !access.CanEditTaxonomy(act.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	basedOn, err := ifMatch(r)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return &apperr.Error{Code: apperr.Invalid, Key: "error.json", Err: err}
	}
	next, err := taxonomy.Parse(body)
	if err != nil {
		if apperr.CodeOf(err) == apperr.Internal {
			return &apperr.Error{Code: apperr.Invalid, Key: "error.json", Err: err}
		}
		return err
	}
	t, err := a.store.PublishTaxonomy(r.Context(), act, next, basedOn)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", etag(t.Version))
	return writeJSON(w, http.StatusCreated, t)
}
