package web

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/authn"
	"dayaq/internal/hotline"
	"dayaq/internal/httpx"
	"dayaq/internal/org"
	"dayaq/internal/storage"
	"dayaq/internal/surface"
	"dayaq/internal/taxonomy"
)

// hotlineStore is what the hotline pages need of storage.
type hotlineStore interface {
	surface.HotlineStore
	SaveContactDraft(ctx context.Context, userID int64, form string) error
	ContactDraft(ctx context.Context, userID int64) (string, time.Time, error)
	DeleteContactDraft(ctx context.Context, userID int64) error
}

func (w *Web) hotlineRoutes() []route {
	return []route{
		{"GET /hotline", w.signedIn(w.hotlineQueue)},
		{"GET /hotline/new", w.signedIn(w.contactNew)},
		{"POST /hotline/new", w.signedIn(w.contactCreate)},
		{"POST /hotline/draft", w.signedIn(w.contactDraft)},
		{"POST /hotline/urgency", w.signedIn(w.contactUrgency)},
		{"GET /hotline/contacts/{id}", w.signedIn(w.contactPage)},
		{"POST /hotline/contacts/{id}/take", w.signedIn(w.contactTake)},
		{"POST /hotline/contacts/{id}/phone", w.signedIn(w.contactPhone)},
		{"GET /hotline/taxonomy", w.signedIn(w.taxonomyPage)},
		{"POST /hotline/taxonomy", w.signedIn(w.taxonomyPublish)},
	}
}

// localLayout is how a datetime-local input writes a time.
const localLayout = "2006-01-02T15:04"

// catGroup is a top-level category with its subcategories, for the picker.
type catGroup struct {
	Node taxonomy.Node
	Subs []taxonomy.Node
}

// groups arranges the active nodes of t under their top-level category.
func groups(t taxonomy.Taxonomy) []catGroup {
	var gs []catGroup
	for _, n := range t.Nodes {
		if !n.Active {
			continue
		}
		if n.Parent == "" {
			gs = append(gs, catGroup{Node: n})
			continue
		}
		top, _, _ := strings.Cut(n.Code, ".")
		for i := range gs {
			if gs[i].Node.Code == top {
				gs[i].Subs = append(gs[i].Subs, n)
			}
		}
	}
	return gs
}

// childRow is one child of the intake form.
type childRow struct {
	N                                    int // 1, 2, … as the legend says
	ChildID, Name, Age, School, District string
}

// contactForm is the intake form: what was typed, and what is wrong.
type contactForm struct {
	Channel, ReceivedAt, CallType              string
	Anonymous                                  bool
	CallerName, Relationship, Phone            string
	Children                                   []childRow
	Categories                                 []string
	DangerNow, Attempt, Injured                bool
	Urgency, Narrative, Outcome, OutcomeReason string
	CaseID, ReferredTo                         string
	Idem                                       string // the form's one-time Idempotency-Key
	Suggested                                  hotline.Urgency
	Errors                                     map[string]string
	Alert                                      string
	DraftAt                                    string // when the restored draft was saved, "" when none
	Groups                                     []catGroup
	Districts                                  []org.DistrictInfo
	Channels                                   []hotline.Channel
	CallTypes                                  []hotline.CallType
	Relationships                              []hotline.Relationship
	Urgencies                                  []hotline.Urgency
	Outcomes                                   []hotline.Outcome
}

// FieldError is the message for the named field.
func (f contactForm) FieldError(name string) string { return f.Errors[name] }

// fieldMsg is one field's name and message, for the form's partials.
type fieldMsg struct{ Name, Msg string }

// Err is the named field with its message.
func (f contactForm) Err(name string) fieldMsg { return fieldMsg{name, f.Errors[name]} }

// Checked reports whether the category code is ticked.
func (f contactForm) Checked(code string) bool { return slices.Contains(f.Categories, code) }

// childRows is how many children the form offers.
const childRows = 2

func newContactForm(now time.Time) contactForm {
	return contactForm{Channel: string(hotline.Phone), ReceivedAt: now.In(baku()).Format(localLayout),
		CallType: string(hotline.ChildSelf), Anonymous: true, Outcome: string(hotline.Advice),
		Children: make([]childRow, childRows)}
}

// contactFormFrom reads the form (or a saved draft) from v.
func contactFormFrom(v url.Values) contactForm {
	g := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	f := contactForm{Channel: g("channel"), ReceivedAt: g("received_at"), CallType: g("call_type"),
		Anonymous: v.Get("anonymous") != "", CallerName: g("caller_name"), Relationship: g("relationship"),
		Phone: g("phone"), Categories: v["category"], DangerNow: v.Get("danger_now") != "",
		Attempt: v.Get("attempt_in_progress") != "", Injured: v.Get("injured") != "", Urgency: g("urgency"),
		Narrative: g("narrative"), Outcome: g("outcome"), OutcomeReason: g("outcome_reason"), CaseID: g("case_id"),
		ReferredTo: g("referred_to"), Idem: g("idem")}
	for i := range childRows {
		p := fmt.Sprintf("child%d_", i)
		f.Children = append(f.Children, childRow{N: i + 1, ChildID: g(p + "id"), Name: g(p + "name"), Age: g(p + "age"),
			School: g(p + "school"), District: g(p + "district")})
	}
	return f
}

func (f contactForm) answers() hotline.Answers {
	return hotline.Answers{DangerNow: f.DangerNow, AttemptInProgress: f.Attempt, Injured: f.Injured}
}

// contact turns the form into a contact, naming the fields it cannot read.
// Field names are the API's, mapped to the form's inputs by formField.
// An empty time is now.
func (f contactForm) contact(now time.Time) (hotline.Contact, []apperr.FieldError) {
	var fs []apperr.FieldError
	c := hotline.Contact{Channel: hotline.Channel(f.Channel), CallType: hotline.CallType(f.CallType),
		Caller:     hotline.Caller{Anonymous: f.Anonymous, Name: f.CallerName, Relationship: hotline.Relationship(f.Relationship), Phone: f.Phone},
		Categories: f.Categories, Answers: f.answers(), Urgency: hotline.Urgency(f.Urgency), Narrative: f.Narrative,
		Outcome: hotline.Outcome(f.Outcome), OutcomeReason: f.OutcomeReason, ReferredTo: f.ReferredTo, ReceivedAt: now}
	if t, err := time.ParseInLocation(localLayout, f.ReceivedAt, baku()); err == nil {
		c.ReceivedAt = t
	} else if f.ReceivedAt != "" {
		fs = append(fs, apperr.Field("received_at", "hotline.error.time_format"))
	}
	if f.CaseID != "" {
		n, err := strconv.ParseInt(f.CaseID, 10, 64)
		if err != nil || n < 1 {
			fs = append(fs, apperr.Field("case_id", "hotline.error.number"))
		}
		c.CaseID = n
	}
	for i, r := range f.Children {
		if r == (childRow{N: r.N}) {
			continue
		}
		ref := hotline.ChildRef{Name: r.Name, School: r.School, District: r.District}
		if r.ChildID != "" {
			n, err := strconv.ParseInt(r.ChildID, 10, 64)
			if err != nil || n < 1 {
				fs = append(fs, apperr.Field(fmt.Sprintf("children[%d].child_id", i), "hotline.error.number"))
			}
			ref.ChildID = n
		}
		if r.Age != "" {
			n, err := strconv.Atoi(r.Age)
			if err != nil {
				fs = append(fs, apperr.Field(fmt.Sprintf("children[%d].age", i), "hotline.error.number"))
			}
			ref.Age = n
		}
		c.Children = append(c.Children, ref)
	}
	if c.Urgency == "" && c.CallType.CarriesData() {
		c.Urgency = hotline.Suggest(c.Categories, c.Answers)
	}
	return c, fs
}

// formField maps a validation field ("children[0].age", "caller.phone",
// "categories[1]") to the form input that shows its message.
func formField(field string) string {
	switch {
	case strings.HasPrefix(field, "children["):
		i, rest, _ := strings.Cut(strings.TrimPrefix(field, "children["), "].")
		if rest == "child_id" {
			rest = "id"
		}
		return "child" + i + "_" + rest
	case strings.HasPrefix(field, "categories"):
		return "categories"
	case strings.HasPrefix(field, "caller."):
		switch f := strings.TrimPrefix(field, "caller."); f {
		case "name":
			return "caller_name"
		default:
			return f
		}
	}
	return field
}

// renderContactForm shows the intake form with what was typed and what is
// wrong.
func (w *Web) renderContactForm(rw http.ResponseWriter, r *http.Request, status int, f contactForm, err error) error {
	p := w.page(r, "hotline.new.title", nil)
	if err != nil {
		e, st, keep := w.formFailure(rw, r, status, err)
		if !keep {
			return err
		}
		status = st
		f.Errors = fieldMessages(p.L, e, formField)
		f.Alert = p.L.T(e.Key, e.Args...)
	}
	tax, terr := w.store.Taxonomy(r.Context(), 0)
	if terr != nil {
		return terr
	}
	f.Groups = groups(tax)
	f.Districts = org.BakuDistricts()
	f.Channels, f.CallTypes, f.Relationships = hotline.Channels(), hotline.CallTypes(), hotline.Relationships()
	f.Urgencies, f.Outcomes = hotline.Urgencies(), hotline.Outcomes()
	f.Suggested = hotline.Suggest(f.Categories, f.answers())
	for len(f.Children) < childRows {
		f.Children = append(f.Children, childRow{})
	}
	for i := range f.Children {
		f.Children[i].N = i + 1
	}
	if len(f.Idem) < 16 || len(f.Idem) > 64 {
		f.Idem = rand.Text()
	}
	p.Data = f
	return w.render(rw, status, "hotline_form", p)
}

func (w *Web) contactNew(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	if !access.CanLogContact(a.Principal) {
		return apperr.New(apperr.Forbidden, "hotline.error.cannot_log")
	}
	f := newContactForm(w.store.Now())
	draft, at, err := w.store.ContactDraft(r.Context(), a.UserID)
	if err != nil {
		return err
	}
	if draft != "" && r.URL.Query().Get("fresh") == "" {
		var v url.Values
		if json.Unmarshal([]byte(draft), &v) == nil {
			f = contactFormFrom(v)
			f.DraftAt = at.In(baku()).Format("15:04:05")
		}
	}
	return w.renderContactForm(rw, r, http.StatusOK, f, nil)
}

func (w *Web) contactCreate(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "error.validation")
	}
	f := contactFormFrom(r.PostForm)
	c, fs := f.contact(w.store.Now())
	if len(fs) > 0 {
		return w.renderContactForm(rw, r, http.StatusUnprocessableEntity, f, apperr.Validation(fs...))
	}
	// The form's one-time key makes a resubmitted form (a double Enter, a
	// retry after a lost answer) land on the contact logged the first time.
	resp, err := w.store.CreateContact(r.Context(), a, c, storage.ContactCreate{
		IdemKey: f.Idem, Fingerprint: "web-form",
		Render: func(rec storage.ContactRecord) (storage.StoredResponse, error) {
			return storage.StoredResponse{Status: http.StatusSeeOther, Location: fmt.Sprintf("/hotline/contacts/%d", rec.ID)}, nil
		}})
	if err != nil {
		return w.renderContactForm(rw, r, statusOf(err), f, err)
	}
	if err := w.store.DeleteContactDraft(r.Context(), a.UserID); err != nil {
		w.log.WarnContext(r.Context(), "draft not deleted", "err", err)
	}
	http.Redirect(rw, r, resp.Location+"?logged=1", http.StatusSeeOther)
	return nil
}

// renderFragment renders one named template of a page, for htmx.
func (w *Web) renderFragment(rw http.ResponseWriter, page, name string, p Page) error {
	var buf bytes.Buffer
	if err := w.pages[page].ExecuteTemplate(&buf, name, p); err != nil {
		return fmt.Errorf("web: render %s/%s: %w", page, name, err)
	}
	rw.Header().Set("Content-Type", "text/html; charset=utf-8")
	rw.Header().Set("Cache-Control", "no-store")
	_, err := buf.WriteTo(rw)
	return err
}

// contactDraft keeps what the operator has typed so far (htmx, as they
// type), so that a closed tab loses nothing.
func (w *Web) contactDraft(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "error.validation")
	}
	v := url.Values{}
	for k, vs := range r.PostForm {
		if k != "csrf" && k != "idem" {
			v[k] = vs
		}
	}
	b, _ := json.Marshal(v)
	if err := w.store.SaveContactDraft(r.Context(), a.UserID, string(b)); err != nil {
		return err
	}
	p := w.page(r, "hotline.new.title", nil)
	p.Data = contactForm{DraftAt: w.store.Now().In(baku()).Format("15:04:05")}
	return w.renderFragment(rw, "hotline_form", "hotline_draft_status", p)
}

// contactUrgency answers the urgency the rules suggest for the form as it
// stands (htmx, live).
func (w *Web) contactUrgency(rw http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "error.validation")
	}
	f := contactFormFrom(r.PostForm)
	p := w.page(r, "hotline.new.title", nil)
	p.Data = contactForm{Suggested: hotline.Suggest(f.Categories, f.answers())}
	return w.renderFragment(rw, "hotline_form", "hotline_suggestion", p)
}

// queueData is the hotline queue page.
type queueData struct {
	View     string
	Views    []string
	Alerts   []storage.ContactRecord
	Items    []storage.ContactRecord
	Next     string
	CanLog   bool
	CanEdit  bool // the taxonomy
	Tax      map[int]taxonomy.Taxonomy
	Nothing  bool // the user's role sees no contacts at all
	TakenMsg string
	Danis    int // "Mənimlə danış" conversations waiting for someone to take them
	// CanExport: the viewer may export the queue (access.MayExportList).
	CanExport bool
}

// Label is the label of a category code in the version a contact used.
func (d queueData) Label(version int, code, lang string) string {
	if n, ok := d.Tax[version].Node(code); ok {
		return n.Label(lang)
	}
	return code
}

// taxonomies loads the versions the contacts used.
func (w *Web) taxonomies(ctx context.Context, rss ...[]storage.ContactRecord) (map[int]taxonomy.Taxonomy, error) {
	m := map[int]taxonomy.Taxonomy{}
	for _, rs := range rss {
		for _, r := range rs {
			if _, ok := m[r.TaxonomyVersion]; ok {
				continue
			}
			t, err := w.store.Taxonomy(ctx, r.TaxonomyVersion)
			if err != nil {
				return nil, err
			}
			m[r.TaxonomyVersion] = t
		}
	}
	return m, nil
}

func (w *Web) hotlineQueue(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	d := queueData{View: r.URL.Query().Get("view"), Views: []string{"all", "mine", "new", "critical"},
		CanLog: access.CanLogContact(a.Principal), CanEdit: access.CanEditTaxonomy(a.Principal)}
	if !slices.Contains(d.Views, d.View) {
		d.View = "all"
	}
	q := storage.ContactQuery{View: d.View, Limit: 50}
	if s := r.URL.Query().Get("before"); s != "" {
		q.Before, _ = strconv.ParseInt(s, 10, 64)
	}
	d.Nothing = access.ContactFilterFor(a.Principal).Empty()
	d.CanExport = access.MayExportList(a.Principal, "contacts")
	if n, err := w.store.DanisWaiting(r.Context(), a); err == nil {
		d.Danis = n
	} else {
		return err
	}
	if !d.Nothing {
		pg, err := w.store.ListContacts(r.Context(), a, q)
		if err != nil {
			return err
		}
		d.Alerts, d.Items = pg.Alerts, pg.Items
		if len(pg.Items) == q.Limit {
			d.Next = fmt.Sprintf("/hotline?view=%s&before=%d", d.View, pg.Items[len(pg.Items)-1].ID)
		}
		if d.Tax, err = w.taxonomies(r.Context(), d.Alerts, d.Items); err != nil {
			return err
		}
	}
	return w.render(rw, http.StatusOK, "hotline", w.page(r, "section.hotline.title", d))
}

// contactData is a contact's page.
type contactData struct {
	queueData
	C      storage.ContactRecord
	Phone  string // revealed
	Logged bool   // just logged: say so
	Error  string
	// Propose proposes the contact's registry pupils for the register.
	Propose *proposeForm
}

func (w *Web) contactPage(rw http.ResponseWriter, r *http.Request) error {
	return w.showContact(rw, r, "", "")
}

func (w *Web) showContact(rw http.ResponseWriter, r *http.Request, phone, msg string) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := w.contactData(r, id, phone, msg)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if msg != "" {
		status = http.StatusConflict
	}
	return w.render(rw, status, "hotline_contact", w.page(r, "hotline.contact.title", d))
}

// contactData reads contact id for the page, with the form proposing its
// pupils for the register.
func (w *Web) contactData(r *http.Request, id int64, phone, msg string) (contactData, error) {
	c, err := w.store.ContactFor(r.Context(), authn.ActorFrom(r), id)
	if err != nil {
		return contactData{}, err
	}
	d := contactData{C: c, Phone: phone, Logged: r.URL.Query().Get("logged") != "", Error: msg,
		Propose: contactProposeForm(w.cat.For(httpx.Lang(r.Context())), c)}
	if d.Propose != nil {
		d.Propose.Done = r.Method == http.MethodGet && r.URL.Query().Get("proposed") != ""
	}
	if d.Tax, err = w.taxonomies(r.Context(), []storage.ContactRecord{c}, c.Earlier); err != nil {
		return d, err
	}
	return d, nil
}

func (w *Web) contactTake(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	if err := w.store.TakeContact(r.Context(), authn.ActorFrom(r), id); err != nil {
		if apperr.CodeOf(err) == apperr.Conflict {
			e := apperr.As(err)
			return w.showContact(rw, r, "", w.cat.For(w.page(r, "", nil).L.Lang).T(e.Key, e.Args...))
		}
		return err
	}
	http.Redirect(rw, r, fmt.Sprintf("/hotline/contacts/%d", id), http.StatusSeeOther)
	return nil
}

func (w *Web) contactPhone(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	n, err := w.store.RevealPhone(r.Context(), authn.ActorFrom(r), id)
	if err != nil {
		return err
	}
	return w.showContact(rw, r, n, "")
}

// taxonomyData is the taxonomy page.
type taxonomyData struct {
	Tax     taxonomy.Taxonomy
	CanEdit bool
	Alert   string
	Errors  map[string]string
	New     taxonomy.Node // the node being added, as typed
}

func (w *Web) taxonomyPage(rw http.ResponseWriter, r *http.Request) error {
	t, err := w.store.Taxonomy(r.Context(), 0)
	if err != nil {
		return err
	}
	p := authn.PrincipalFrom(r.Context())
	return w.render(rw, http.StatusOK, "hotline_taxonomy", w.page(r, "hotline.taxonomy.title",
		taxonomyData{Tax: t, CanEdit: access.CanEditTaxonomy(p)}))
}

// taxonomyPublish publishes the edited labels and activity, and the node
// added, as a new version.
func (w *Web) taxonomyPublish(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	if !access.CanEditTaxonomy(a.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	base, _ := strconv.Atoi(r.PostFormValue("version"))
	cur, err := w.store.Taxonomy(r.Context(), base)
	if err != nil {
		return err
	}
	next := taxonomy.Taxonomy{}
	for _, n := range cur.Nodes {
		k := "n." + n.Code + "."
		if v := strings.TrimSpace(r.PostFormValue(k + "az")); r.PostForm.Has(k + "az") {
			n.AZ, n.RU, n.EN = v, strings.TrimSpace(r.PostFormValue(k+"ru")), strings.TrimSpace(r.PostFormValue(k+"en"))
			n.Active = r.PostFormValue(k+"active") != ""
		}
		next.Nodes = append(next.Nodes, n)
	}
	add := taxonomy.Node{Code: strings.TrimSpace(r.PostFormValue("new_code")), AZ: strings.TrimSpace(r.PostFormValue("new_az")),
		RU: strings.TrimSpace(r.PostFormValue("new_ru")), EN: strings.TrimSpace(r.PostFormValue("new_en")),
		CHI: strings.TrimSpace(r.PostFormValue("new_chi")), Active: true}
	if add.Code != "" {
		if i := strings.LastIndex(add.Code, "."); i > 0 {
			add.Parent = add.Code[:i]
		}
		// Insert after the parent's last descendant, so parents come first.
		at := len(next.Nodes)
		if add.Parent != "" {
			for i, n := range next.Nodes {
				if taxonomy.Under(n.Code, add.Parent) {
					at = i + 1
				}
			}
		}
		next.Nodes = slices.Insert(next.Nodes, at, add)
	}
	if _, err := w.store.PublishTaxonomy(r.Context(), a, next, base); err != nil {
		e := apperr.As(err)
		if e.Code != apperr.Invalid && e.Code != apperr.Conflict {
			return err
		}
		p := w.page(r, "hotline.taxonomy.title", nil)
		d := taxonomyData{Tax: next, CanEdit: true, Alert: p.L.T(e.Key, e.Args...), Errors: map[string]string{}, New: add}
		d.Tax.Version = base
		for _, fe := range e.Fields {
			d.Errors[fe.Field] = p.L.T(fe.Key, fe.Args...)
			if d.Alert == p.L.T("error.validation") {
				d.Alert = p.L.T(fe.Key, fe.Args...)
			}
		}
		p.Data = d
		return w.render(rw, statusOf(err), "hotline_taxonomy", p)
	}
	http.Redirect(rw, r, "/hotline/taxonomy", http.StatusSeeOther)
	return nil
}
