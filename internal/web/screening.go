package web

import (
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/authn"
	"dayaq/internal/httpx"
	"dayaq/internal/i18n"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
)

// ScreeningStore is what the screening and register pages need of storage.
type ScreeningStore interface {
	Instruments(ctx context.Context) ([]screening.Instrument, error)
	Instrument(ctx context.Context, code string, v int) (screening.Instrument, error)
	ImportInstrument(ctx context.Context, a audit.Actor, in screening.Instrument, licenceRef string) error
	RiskRules(ctx context.Context) (screening.Rules, error)
	SaveRiskRules(ctx context.Context, a audit.Actor, r screening.Rules) error
	Rounds(ctx context.Context, a audit.Actor) ([]storage.Round, error)
	CreateRound(ctx context.Context, a audit.Actor, r storage.Round) (storage.Round, error)
	RoundFor(ctx context.Context, a audit.Actor, id int64, grade int, section string) (storage.RoundView, error)
	SaveAnswers(ctx context.Context, a audit.Actor, roundID int64, sets []storage.NewAnswerSet) ([]storage.Saved, error)
	RegisterList(ctx context.Context, a audit.Actor, f storage.RegisterFilter) ([]storage.RegisterEntry, error)
	RollList(ctx context.Context, a audit.Actor, q storage.RollQuery) ([]storage.RollPupil, error)
	RegisterEntry(ctx context.Context, a audit.Actor, id int64) (storage.RegisterEntry, error)
	RegisterHistory(ctx context.Context, a audit.Actor, id int64) ([]storage.RegisterChange, error)
	SchoolStaff(ctx context.Context, a audit.Actor, schoolID int64) ([]storage.StaffMember, error)
	ConfirmRegister(ctx context.Context, a audit.Actor, d storage.RegisterDecision) (storage.RegisterEntry, error)
	DeclineRegister(ctx context.Context, a audit.Actor, d storage.RegisterDecision) (storage.RegisterEntry, error)
	ReviewRegister(ctx context.Context, a audit.Actor, d storage.RegisterDecision, cadence map[screening.Level]int) (storage.RegisterEntry, error)
	ExitRegister(ctx context.Context, a audit.Actor, d storage.RegisterDecision) (storage.RegisterEntry, error)
	ProposeRegister(ctx context.Context, a audit.Actor, n storage.NewProposal) (storage.RegisterEntry, error)
}

func (w *Web) screeningRoutes() []route {
	return []route{
		{"GET /screening", w.signedIn(w.screeningHome)},
		{"POST /screening/rounds", w.signedIn(w.screeningCreateRound)},
		{"GET /screening/rounds/{id}", w.signedIn(w.screeningRound)},
		{"GET /screening/rounds/{id}/grid", w.signedIn(w.screeningGrid)},
		{"POST /screening/rounds/{id}/grid", w.signedIn(w.screeningSaveGrid)},
		{"GET /screening/register", w.signedIn(w.registerList)},
		{"GET /screening/pupils", w.signedIn(w.rollList)},
		{"GET /screening/register/{id}", w.signedIn(w.registerPage)},
		{"POST /screening/register/{id}/{action}", w.signedIn(w.registerAction)},
		{"GET /screening/instruments", w.signedIn(w.instrumentsPage)},
		{"POST /screening/instruments", w.signedIn(w.instrumentImport)},
		{"POST /screening/rules", w.signedIn(w.rulesSave)},
		{"POST /screening/children/{id}/propose", w.signedIn(w.proposeChild)},
		{"POST /cases/{id}/register", w.signedIn(w.proposeFromCase)},
		{"POST /hotline/contacts/{id}/register", w.signedIn(w.proposeFromContact)},
	}
}

// instrumentNames maps instrument codes to their newest versions, for
// explanations.
func (w *Web) instrumentNames(ctx context.Context) map[string]screening.Instrument {
	m := map[string]screening.Instrument{}
	ins, _ := w.store.Instruments(ctx)
	for _, in := range ins {
		m[in.Code] = in
	}
	return m
}

// entryRow is a register entry as a list shows it.
type entryRow struct {
	storage.RegisterEntry
	Why     string
	Overdue bool
}

func (w *Web) entryRows(p Page, r *http.Request, es []storage.RegisterEntry) []entryRow {
	names := w.instrumentNames(r.Context())
	now := w.store.Now()
	out := make([]entryRow, len(es))
	for i, e := range es {
		out[i] = entryRow{e, screening.Explain(e.Factors, names, p.L, string(p.L.Lang), now), e.Overdue(now)}
	}
	return out
}

// screeningHomeData is the screening section's page.
type screeningHomeData struct {
	Rounds      []storage.Round
	CanRun      bool
	CanManage   bool
	Proposed    []entryRow
	Overdue     []entryRow
	Instruments []screening.Instrument
	Informants  []screening.Informant
	Form        *form
}

func (w *Web) screeningHome(rw http.ResponseWriter, r *http.Request) error {
	return w.renderScreeningHome(rw, r, http.StatusOK, nil)
}

func (w *Web) renderScreeningHome(rw http.ResponseWriter, r *http.Request, status int, f *form) error {
	a := authn.ActorFrom(r)
	ctx := r.Context()
	p := w.page(r, "section.screening.title", nil)
	d := screeningHomeData{CanRun: access.CanRunScreening(a.Principal), CanManage: access.CanManageInstruments(a.Principal), Form: f,
		Informants: []screening.Informant{screening.Teacher, screening.Parent, screening.Self}}
	var err error
	if d.Rounds, err = w.store.Rounds(ctx, a); err != nil {
		return err
	}
	if d.Instruments, err = w.store.Instruments(ctx); err != nil {
		return err
	}
	if len(access.ScreeningFilter(a.Principal).Classes) == 0 && !access.ScreeningFilter(a.Principal).Empty() {
		prop, err := w.store.RegisterList(ctx, a, storage.RegisterFilter{Status: screening.Proposed, Limit: 50})
		if err != nil {
			return err
		}
		od, err := w.store.RegisterList(ctx, a, storage.RegisterFilter{Overdue: true, Limit: 50})
		if err != nil {
			return err
		}
		d.Proposed, d.Overdue = w.entryRows(p, r, prop), w.entryRows(p, r, od)
	}
	p.Data = d
	return w.render(rw, status, "screening_home", p)
}

func (w *Web) screeningCreateRound(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "error.validation")
	}
	f := readForm(r, "round", "scope", "class", "starts_on", "ends_on")
	round := storage.Round{Scope: f.V("scope"), Instruments: r.PostForm["instrument"]}
	for _, i := range r.PostForm["informant"] {
		round.Informants = append(round.Informants, screening.Informant(i))
	}
	f.Values["instruments"] = strings.Join(round.Instruments, ",")
	f.Values["informants"] = strings.Join(r.PostForm["informant"], ",")
	var fs []apperr.FieldError
	if c := f.V("class"); c != "" {
		g, s, ok := parseClass(c)
		if !ok {
			fs = append(fs, apperr.Field("class", "screening.error.class"))
		}
		round.Grade, round.Section = g, s
	} else if round.Scope != "school" {
		fs = append(fs, apperr.Field("class", "error.required"))
	}
	var ok bool
	if round.StartsOn, ok = parseLocal(f.V("starts_on")); !ok {
		fs = append(fs, apperr.Field("starts_on", "screening.error.date"))
	}
	if round.EndsOn, ok = parseLocal(f.V("ends_on")); !ok {
		fs = append(fs, apperr.Field("ends_on", "screening.error.date"))
	}
	var err error
	if len(fs) > 0 {
		err = apperr.Validation(fs...)
	} else {
		var out storage.Round
		if out, err = w.store.CreateRound(r.Context(), a, round); err == nil {
			http.Redirect(rw, r, fmt.Sprintf("/screening/rounds/%d", out.ID), http.StatusSeeOther)
			return nil
		}
	}
	if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
		return ferr
	}
	return w.renderScreeningHome(rw, r, http.StatusUnprocessableEntity, f)
}

var classRe = regexp.MustCompile(`^\s*(\d{1,2})\s*[- ]?\s*(\p{L}?)\s*$`)

// parseClass reads "5A", "5-A", "5" (a grade).
func parseClass(s string) (int, string, bool) {
	m := classRe.FindStringSubmatch(s)
	if m == nil {
		return 0, "", false
	}
	g, _ := strconv.Atoi(m[1])
	return g, strings.ToUpper(m[2]), g <= 12
}

// classLink is one class of a round, for the round page.
type classLink struct {
	storage.ClassProgress
	Param string // "5-A"
}

type roundPageData struct {
	View        storage.RoundView
	Classes     []classLink
	Instruments []screening.Instrument
	Levels      map[int64]string
}

func (w *Web) screeningRound(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	v, err := w.store.RoundFor(r.Context(), authn.ActorFrom(r), id, -1, "")
	if err != nil {
		return err
	}
	d := roundPageData{View: v}
	for _, c := range v.Progress {
		d.Classes = append(d.Classes, classLink{c, fmt.Sprintf("%d-%s", c.Grade, c.Section)})
	}
	for _, c := range v.Instruments {
		in, err := w.store.Instrument(r.Context(), c, 0)
		if err != nil {
			return err
		}
		d.Instruments = append(d.Instruments, in)
	}
	return w.render(rw, http.StatusOK, "screening_round", w.page(r, "screening.round.title", d))
}

// gridCell is one input of the class grid.
type gridCell struct {
	Name, Value, Label, Error string
	Kind                      string // extra cells: text, date, number, difficulties
	Head                      string // extra cells: the column's heading
	Item                      screening.Item
	Checked                   bool
	Parts                     []gridCell // a category's own evidence note and date
}

// gridRow is one pupil's row of the grid.
type gridRow struct {
	Pupil  storage.Pupil
	Cells  []gridCell
	Extra  []gridCell // evidence and date, since, impact
	Result string     // the level just computed, after a save
	Why    string
}

type gridData struct {
	Round      storage.Round
	Instrument screening.Instrument
	Informant  screening.Informant
	Informants []screening.Informant
	Class      string
	Rows       []gridRow
	Alert      string
	Problems   []string // "pupil — item: what is wrong", for the alert
	Saved      bool
	CSRF       string
}

// gridName is the form name of pupil child's item.
func gridName(child int64, item string) string { return fmt.Sprintf("a.%d.%s", child, item) }

// loadGrid reads the round's class and the instrument for the grid.
func (w *Web) loadGrid(r *http.Request) (gridData, storage.RoundView, error) {
	var d gridData
	id, err := pathID(r)
	if err != nil {
		return d, storage.RoundView{}, err
	}
	q := r.URL.Query()
	g, s, ok := parseClass(q.Get("class"))
	if !ok || s == "" {
		return d, storage.RoundView{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	v, err := w.store.RoundFor(r.Context(), authn.ActorFrom(r), id, g, s)
	if err != nil {
		return d, v, err
	}
	code := q.Get("instrument")
	if !slices.Contains(v.Instruments, code) {
		return d, v, apperr.New(apperr.NotFound, "error.not_found")
	}
	in, err := w.store.Instrument(r.Context(), code, 0)
	if err != nil {
		return d, v, err
	}
	d = gridData{Round: v.Round, Instrument: in, Class: fmt.Sprintf("%d-%s", g, s)}
	for _, i := range v.Informants {
		if slices.Contains(in.Informants, i) {
			d.Informants = append(d.Informants, i)
		}
	}
	if len(d.Informants) == 0 {
		d.Informants = []screening.Informant{in.Informants[0]}
	}
	d.Informant = screening.Informant(q.Get("informant"))
	if !slices.Contains(d.Informants, d.Informant) {
		d.Informant = d.Informants[0]
	}
	return d, v, nil
}

// buildRows lays the grid out, from what was stored or, after a failed
// save, from what was typed.
func buildRows(p Page, d *gridData, v storage.RoundView, typed map[string]string, errs map[string]string) {
	lang := string(p.L.Lang)
	for _, pu := range v.Pupils {
		row := gridRow{Pupil: pu}
		stored, has := pu.Sets[d.Instrument.Code]
		val := func(item string) string {
			if typed != nil {
				return typed[gridName(pu.ChildID, item)]
			}
			if has && stored.Answers.Informant == d.Informant {
				if n, ok := stored.Answers.Values[item]; ok {
					return strconv.Itoa(n)
				}
			}
			return ""
		}
		detail := func(item, part string) string {
			if typed != nil {
				return typed[gridName(pu.ChildID, item+"."+part)]
			}
			if !has {
				return ""
			}
			dd := stored.Answers.Details[item]
			switch part {
			case "evidence":
				return dd.Evidence
			case "date":
				return dd.Date
			case "since":
				return dd.Since
			}
			return dd.Text
		}
		for _, it := range d.Instrument.Items {
			label := it.Code
			if t := it.Text.In(lang); t != "" {
				label = t
			}
			c := gridCell{Name: gridName(pu.ChildID, it.Code), Value: val(it.Code), Item: it,
				Label: pu.Name + " — " + label, Error: errs[gridName(pu.ChildID, it.Code)]}
			c.Checked = c.Value == "1"
			if it.Kind == screening.Category {
				c.Parts = []gridCell{
					{Name: gridName(pu.ChildID, it.Code+".evidence"), Value: detail(it.Code, "evidence"), Kind: "text",
						Label: c.Label + " — " + p.L.T("screening.grid.evidence"), Error: errs[gridName(pu.ChildID, it.Code+".evidence")]},
					{Name: gridName(pu.ChildID, it.Code+".date"), Value: detail(it.Code, "date"), Kind: "date",
						Label: c.Label + " — " + p.L.T("screening.grid.evidence_date"), Error: errs[gridName(pu.ChildID, it.Code+".date")]},
				}
			}
			row.Cells = append(row.Cells, c)
		}
		switch d.Instrument.Items[0].Kind {
		case screening.Category:
			row.Extra = append(row.Extra,
				gridCell{Name: gridName(pu.ChildID, "other.text"), Value: detail("other", "text"), Label: pu.Name + " — " + p.L.T("screening.grid.other_text"),
					Kind: "text", Head: p.L.T("screening.grid.other_text")})
		case screening.Sign:
			row.Extra = append(row.Extra, gridCell{Name: gridName(pu.ChildID, "_.since"), Value: detail("_", "since"),
				Label: pu.Name + " — " + p.L.T("screening.grid.since"), Error: errs[gridName(pu.ChildID, "_.since")], Kind: "date", Head: p.L.T("screening.grid.since")})
			if typed == nil && has {
				for _, dd := range stored.Answers.Details {
					if dd.Since != "" {
						row.Extra[0].Value = dd.Since
						break
					}
				}
			}
		}
		if d.Instrument.Impact != nil {
			diff := ""
			if typed != nil {
				diff = typed[gridName(pu.ChildID, "impact.difficulties")]
			} else if has && stored.Answers.Impact != nil {
				diff = stored.Answers.Impact.Difficulties
			}
			row.Extra = append(row.Extra, gridCell{Name: gridName(pu.ChildID, "impact.difficulties"), Value: diff,
				Label: pu.Name + " — " + p.L.T("screening.impact.difficulties"), Error: errs[gridName(pu.ChildID, "impact.difficulties")],
				Kind: "difficulties", Head: p.L.T("screening.impact.difficulties")})
			for _, c := range d.Instrument.Impact.Items[d.Informant] {
				v := ""
				if typed != nil {
					v = typed[gridName(pu.ChildID, "impact."+c)]
				} else if has && stored.Answers.Impact != nil {
					if n, ok := stored.Answers.Impact.Items[c]; ok {
						v = strconv.Itoa(n)
					}
				}
				row.Extra = append(row.Extra, gridCell{Name: gridName(pu.ChildID, "impact."+c), Value: v,
					Label: pu.Name + " — " + p.L.T("screening.impact."+c), Error: errs[gridName(pu.ChildID, "impact."+c)],
					Kind: "number", Head: p.L.T("screening.impact." + c)})
			}
		}
		for _, c := range append(slices.Clone(row.Cells), row.Extra...) {
			for _, c := range append([]gridCell{c}, c.Parts...) {
				if c.Error != "" {
					d.Problems = append(d.Problems, c.Label+": "+c.Error)
				}
			}
		}
		d.Rows = append(d.Rows, row)
	}
}

func (w *Web) screeningGrid(rw http.ResponseWriter, r *http.Request) error {
	d, v, err := w.loadGrid(r)
	if err != nil {
		return err
	}
	p := w.page(r, "screening.grid.title", nil)
	buildRows(p, &d, v, nil, nil)
	d.Saved = r.URL.Query().Get("saved") == "1"
	if d.Saved {
		names := w.instrumentNames(r.Context())
		for i, row := range d.Rows {
			if row.Pupil.Risk != nil {
				d.Rows[i].Result = string(row.Pupil.Risk.Assessment.Level)
				d.Rows[i].Why = screening.Explain(row.Pupil.Risk.Assessment.Factors, names, p.L, string(p.L.Lang), w.store.Now())
			}
		}
	}
	d.CSRF = p.CSRF
	p.Data = d
	return w.render(rw, http.StatusOK, "screening_grid", p)
}

var setField = regexp.MustCompile(`^sets\[(\d+)\]\.(.*)$`)

func (w *Web) screeningSaveGrid(rw http.ResponseWriter, r *http.Request) error {
	d, v, err := w.loadGrid(r)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return apperr.New(apperr.Invalid, "error.validation")
	}
	typed := map[string]string{}
	for k, vs := range r.PostForm {
		if strings.HasPrefix(k, "a.") && len(vs) > 0 {
			typed[k] = strings.TrimSpace(vs[len(vs)-1])
		}
	}
	errs := map[string]string{}
	p := w.page(r, "screening.grid.title", nil)
	var sets []storage.NewAnswerSet
	var owners []int64
	for _, pu := range v.Pupils {
		ans := screening.Answers{Informant: d.Informant, Values: map[string]int{}, Details: map[string]screening.Detail{}}
		if !pu.BirthDate.IsZero() {
			ans.Age = ageAt(pu.BirthDate, d.Round.StartsOn)
		}
		if ans.Age < d.Instrument.MinAge || ans.Age > d.Instrument.MaxAge {
			ans.Age = 0 // scored without an age band rather than refused
		}
		any := false
		for _, it := range d.Instrument.Items {
			s := typed[gridName(pu.ChildID, it.Code)]
			if s == "" || (it.Kind != screening.Likert && s == "0") {
				continue
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				errs[gridName(pu.ChildID, it.Code)] = p.L.T("screening.error.out_of_range")
				continue
			}
			ans.Values[it.Code], any = n, true
		}
		kind := d.Instrument.Items[0].Kind
		for code := range ans.Values {
			switch kind {
			case screening.Category:
				dd := screening.Detail{Evidence: typed[gridName(pu.ChildID, code+".evidence")], Date: typed[gridName(pu.ChildID, code+".date")]}
				if code == "other" {
					dd.Text = typed[gridName(pu.ChildID, "other.text")]
				}
				ans.Details[code] = dd
			case screening.Sign:
				ans.Details[code] = screening.Detail{Since: typed[gridName(pu.ChildID, "_.since")]}
			}
		}
		if d.Instrument.Impact != nil {
			if diff := typed[gridName(pu.ChildID, "impact.difficulties")]; diff != "" {
				ans.Impact = &screening.ImpactAnswers{Difficulties: diff, Items: map[string]int{}}
				for _, c := range d.Instrument.Impact.Items[d.Informant] {
					if s := typed[gridName(pu.ChildID, "impact."+c)]; s != "" {
						n, err := strconv.Atoi(s)
						if err != nil {
							errs[gridName(pu.ChildID, "impact."+c)] = p.L.T("screening.error.out_of_range")
						}
						ans.Impact.Items[c] = n
					}
				}
				any = true
			}
		}
		if !any {
			continue
		}
		sets = append(sets, storage.NewAnswerSet{ChildID: pu.ChildID, Instrument: d.Instrument.Code, Answers: ans})
		owners = append(owners, pu.ChildID)
	}
	alert := ""
	if len(errs) == 0 && len(sets) > 0 {
		_, err := w.store.SaveAnswers(r.Context(), authn.ActorFrom(r), d.Round.ID, sets)
		if err == nil {
			http.Redirect(rw, r, r.URL.Path+"?"+gridQuery(d)+"&saved=1", http.StatusSeeOther)
			return nil
		}
		e := apperr.As(err)
		if e.Code != apperr.Invalid {
			return err
		}
		for _, fe := range e.Fields {
			m := setField.FindStringSubmatch(fe.Field)
			if m == nil {
				continue
			}
			i, _ := strconv.Atoi(m[1])
			if i >= len(owners) {
				continue
			}
			rest := strings.TrimPrefix(m[2], "answers.")
			rest = strings.TrimPrefix(rest, "details.")
			if strings.HasSuffix(rest, ".since") { // a sign's: one date a row
				rest = "_.since"
			} // a category's evidence and date are its own cell's

			errs[gridName(owners[i], rest)] = p.L.T(fe.Key, fe.Args...)
		}
		alert = p.L.T(e.Key, e.Args...)
	} else if len(errs) > 0 {
		alert = p.L.T("error.validation")
	} else {
		http.Redirect(rw, r, r.URL.Path+"?"+gridQuery(d), http.StatusSeeOther)
		return nil
	}
	buildRows(p, &d, v, typed, errs)
	d.Alert, d.CSRF = alert, p.CSRF
	p.Data = d
	return w.render(rw, http.StatusUnprocessableEntity, "screening_grid", p)
}

func gridQuery(d gridData) string {
	return "class=" + d.Class + "&instrument=" + d.Instrument.Code + "&informant=" + string(d.Informant)
}

// ageAt is the age in whole years on day.
func ageAt(birth, day time.Time) int {
	age := day.Year() - birth.Year()
	if day.YearDay() < birth.YearDay() {
		age--
	}
	return age
}

type registerListData struct {
	Rows    []entryRow
	Status  string
	Overdue bool
}

func (w *Web) registerList(rw http.ResponseWriter, r *http.Request) error {
	a := authn.ActorFrom(r)
	q := r.URL.Query()
	f := storage.RegisterFilter{Status: screening.Status(q.Get("status")), Overdue: q.Get("overdue") == "1"}
	switch f.Status {
	case "", screening.Proposed, screening.Active, screening.Declined, screening.Exited:
	default:
		f.Status = ""
	}
	// a dashboard's number links here narrowed by level, school or district
	if lv := screening.Level(q.Get("level")); lv.Valid() && lv != screening.None {
		f.Level = lv
	}
	f.District = strings.ToUpper(q.Get("district"))
	if code := q.Get("school"); code != "" {
		o, err := w.store.OrgByCode(r.Context(), strings.ToUpper(code))
		if err != nil {
			return err
		}
		f.SchoolID = o.ID
	}
	es, err := w.store.RegisterList(r.Context(), a, f)
	if err != nil {
		return err
	}
	p := w.page(r, "screening.register.title", nil)
	p.Data = registerListData{Rows: w.entryRows(p, r, es), Status: string(f.Status), Overdue: f.Overdue}
	return w.render(rw, http.StatusOK, "screening_register", p)
}

type registerPageData struct {
	// ParentEvents are the awareness events the child's parent attended (issue 13).
	ParentEvents []storage.ChildEventAttendance
	Entry        entryRow
	History      []storage.RegisterChange
	Staff        []storage.StaffMember
	Levels       []screening.Level
	Exits        []string
	Form         *form
	Suggested    string // a first review date by the city's cadence
}

func (w *Web) registerPage(rw http.ResponseWriter, r *http.Request) error {
	return w.renderRegisterPage(rw, r, http.StatusOK, nil)
}

func (w *Web) renderRegisterPage(rw http.ResponseWriter, r *http.Request, status int, f *form) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	a := authn.ActorFrom(r)
	ctx := r.Context()
	e, err := w.store.RegisterEntry(ctx, a, id)
	if err != nil {
		return err
	}
	hs, err := w.store.RegisterHistory(ctx, a, id)
	if err != nil {
		return err
	}
	p := w.page(r, "screening.entry.title", nil)
	d := registerPageData{Entry: w.entryRows(p, r, []storage.RegisterEntry{e})[0], History: hs, Form: f,
		Levels: []screening.Level{screening.Low, screening.Medium, screening.High}, Exits: screening.ExitReasons()}
	if e.CanDecide {
		if d.Staff, err = w.store.SchoolStaff(ctx, a, e.SchoolID); err != nil {
			return err
		}
		d.Suggested = w.store.Now().In(baku()).AddDate(0, 0, 14).Format(time.DateOnly)
	}
	d.ParentEvents = w.childEvents(ctx, a, e.ChildID)
	p.Data = d
	return w.render(rw, status, "screening_entry", p)
}

func (w *Web) registerAction(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	action := r.PathValue("action")
	f := readForm(r, action, "version", "responsible_user_id", "first_review", "reason", "level", "note")
	v, _ := strconv.Atoi(f.V("version"))
	d := storage.RegisterDecision{ID: id, Version: v, Reason: f.V("reason"), Level: screening.Level(f.V("level"))}
	d.ResponsibleUserID, _ = strconv.ParseInt(f.V("responsible_user_id"), 10, 64)
	a := authn.ActorFrom(r)
	ctx := r.Context()
	switch action {
	case "confirm":
		if s := f.V("first_review"); s != "" {
			t, ok := parseLocal(s)
			if !ok {
				err = apperr.Validation(apperr.Field("first_review", "screening.error.date"))
				break
			}
			d.FirstReview = t
		}
		_, err = w.store.ConfirmRegister(ctx, a, d)
	case "decline":
		_, err = w.store.DeclineRegister(ctx, a, d)
	case "review":
		d.Reason = f.V("note")
		rules, rerr := w.store.RiskRules(ctx)
		if rerr != nil {
			return rerr
		}
		_, err = w.store.ReviewRegister(ctx, a, d, rules.Review)
	case "exit":
		if n := f.V("note"); n != "" {
			d.Reason += ": " + n
		}
		_, err = w.store.ExitRegister(ctx, a, d)
	default:
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	if err == nil {
		http.Redirect(rw, r, fmt.Sprintf("/screening/register/%d", id), http.StatusSeeOther)
		return nil
	}
	if e := apperr.As(err); e.Code == apperr.Forbidden {
		return err
	}
	if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
		return ferr
	}
	status := http.StatusUnprocessableEntity
	if apperr.CodeOf(err) == apperr.Conflict {
		status = http.StatusConflict
	}
	return w.renderRegisterPage(rw, r, status, f)
}

type instrumentsData struct {
	Instruments []screening.Instrument
	CanManage   bool
	Form        *form
	JSON        map[string]string
	Rules       screening.Rules
	RulesJSON   string
}

func (w *Web) instrumentsPage(rw http.ResponseWriter, r *http.Request) error {
	return w.renderInstruments(rw, r, http.StatusOK, nil)
}

func (w *Web) renderInstruments(rw http.ResponseWriter, r *http.Request, status int, f *form) error {
	a := authn.ActorFrom(r)
	ins, err := w.store.Instruments(r.Context())
	if err != nil {
		return err
	}
	d := instrumentsData{Instruments: ins, CanManage: access.CanManageInstruments(a.Principal), Form: f, JSON: map[string]string{}}
	if d.Rules, err = w.store.RiskRules(r.Context()); err != nil {
		return err
	}
	if d.CanManage {
		b, _ := json.MarshalIndent(d.Rules, "", "  ")
		d.RulesJSON = string(b)
		for _, in := range ins {
			b, _ := json.MarshalIndent(in, "", "  ")
			d.JSON[in.Code] = string(b)
		}
	}
	return w.render(rw, status, "screening_instruments", w.page(r, "screening.instruments.title", d))
}

func (w *Web) instrumentImport(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "import", "definition", "licence_ref")
	var in screening.Instrument
	var err error
	if jerr := json.Unmarshal([]byte(f.V("definition")), &in); jerr != nil {
		err = apperr.Validation(apperr.Field("definition", "screening.error.json"))
	} else if err = w.store.ImportInstrument(r.Context(), authn.ActorFrom(r), in, f.V("licence_ref")); err == nil {
		http.Redirect(rw, r, "/screening/instruments", http.StatusSeeOther)
		return nil
	}
	if e := apperr.As(err); e.Code == apperr.Forbidden {
		return err
	}
	if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
		return ferr
	}
	return w.renderInstruments(rw, r, http.StatusUnprocessableEntity, f)
}

func (w *Web) rulesSave(rw http.ResponseWriter, r *http.Request) error {
	f := readForm(r, "rules", "rules")
	var rules screening.Rules
	var err error
	if jerr := json.Unmarshal([]byte(f.V("rules")), &rules); jerr != nil {
		err = apperr.Validation(apperr.Field("rules", "screening.error.json"))
	} else if err = w.store.SaveRiskRules(r.Context(), authn.ActorFrom(r), rules); err == nil {
		http.Redirect(rw, r, "/screening/instruments", http.StatusSeeOther)
		return nil
	}
	if e := apperr.As(err); e.Code == apperr.Forbidden {
		return err
	}
	if ferr := f.fail(w.page(r, "", nil), err); ferr != nil {
		return ferr
	}
	return w.renderInstruments(rw, r, http.StatusUnprocessableEntity, f)
}

// proposeChild proposes the pupil for the register by hand, from the
// child's page.
func (w *Web) proposeChild(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	f := readForm(r, "propose", "level", "note")
	e, err := w.store.ProposeRegister(r.Context(), authn.ActorFrom(r), storage.NewProposal{ChildID: id, Level: screening.Level(f.V("level")),
		Source: screening.FromManual, Note: f.V("note"), Factors: []screening.Factor{}})
	if err != nil {
		return err
	}
	http.Redirect(rw, r, fmt.Sprintf("/screening/register/%d", e.ID), http.StatusSeeOther)
	return nil
}

// proposeForm proposes a pupil of a special case or a hotline contact for
// the register, from that page (the store checks that the reader may read
// the case or contact and that the pupil is in it).
type proposeForm struct {
	Action   string // where the form posts
	Back     string // the page it is on, where a proposal returns
	Done     bool   // a proposal was just made
	Children []proposeChild
	Child    string // what was chosen and typed
	Level    string
	Note     string
	Levels   []screening.Level
	Alert    string
	Errors   map[string]string
}

type proposeChild struct {
	ID   int64
	Name string
}

func newProposeForm(back string, kids []proposeChild) *proposeForm {
	if len(kids) == 0 {
		return nil
	}
	return &proposeForm{Action: back + "/register", Back: back, Children: kids, Levels: []screening.Level{screening.Medium, screening.High, screening.Low}}
}

// caseProposeForm offers the case's pupils the reader may see.
func caseProposeForm(d storage.CaseDetail) *proposeForm {
	var kids []proposeChild
	for _, ch := range d.Children {
		if ch.Decision.Allowed {
			kids = append(kids, proposeChild{ch.ID, ch.LastName + " " + ch.FirstName})
		}
	}
	return newProposeForm(fmt.Sprintf("/cases/%d", d.ID), kids)
}

// contactProposeForm offers the contact's pupils found in the registry.
func contactProposeForm(l i18n.Localizer, c storage.ContactRecord) *proposeForm {
	var kids []proposeChild
	for _, ch := range c.Children {
		if ch.ChildID != 0 {
			name := ch.Name
			if name == "" {
				name = l.T("hotline.child.registry", ch.ChildID)
			}
			kids = append(kids, proposeChild{ch.ChildID, name})
		}
	}
	return newProposeForm(fmt.Sprintf("/hotline/contacts/%d", c.ID), kids)
}

// propose reads the form and proposes the pupil from source id; on
// success it goes back to the page, which says so (the proposer need not
// be one who may see the register: a hotline operator is not). Otherwise it fills the form with what
// was typed and the messages, or returns the error that is not the
// user's to fix.
func (w *Web) propose(rw http.ResponseWriter, r *http.Request, source screening.Source, id int64, pf *proposeForm) (done bool, err error) {
	pf.Child, pf.Level, pf.Note = strings.TrimSpace(r.PostFormValue("child_id")), strings.TrimSpace(r.PostFormValue("level")), strings.TrimSpace(r.PostFormValue("note"))
	child, perr := strconv.ParseInt(pf.Child, 10, 64)
	if perr != nil || child <= 0 {
		err = apperr.Validation(apperr.Field("child_id", "error.required"))
	} else {
		_, err = w.store.ProposeRegister(r.Context(), authn.ActorFrom(r), storage.NewProposal{ChildID: child, Level: screening.Level(pf.Level),
			Source: source, SourceID: id, Note: pf.Note, Factors: []screening.Factor{}})
		if err == nil {
			http.Redirect(rw, r, pf.Back+"?proposed=1#register-propose", http.StatusSeeOther)
			return true, nil
		}
	}
	ae := apperr.As(err)
	if ae.Code == apperr.Internal || ae.Code == apperr.Unavailable || ae.Code == apperr.NotFound {
		return false, err
	}
	l := w.cat.For(httpx.Lang(r.Context()))
	pf.Alert, pf.Errors = l.T(ae.Key, ae.Args...), fieldMessages(l, ae, nil)
	return false, nil
}

func (w *Web) proposeFromCase(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	pd, err := w.caseDetail(r.Context(), authn.ActorFrom(r), id)
	if err != nil {
		return err
	}
	if pd.Propose == nil {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	done, perr := w.propose(rw, r, screening.FromCase, id, pd.Propose)
	if done || perr != nil {
		return perr
	}
	return w.renderCase(rw, r, http.StatusUnprocessableEntity, pd)
}

func (w *Web) proposeFromContact(rw http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	d, err := w.contactData(r, id, "", "")
	if err != nil {
		return err
	}
	if d.Propose == nil {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	done, perr := w.propose(rw, r, screening.FromContact, id, d.Propose)
	if done || perr != nil {
		return perr
	}
	return w.render(rw, http.StatusUnprocessableEntity, "hotline_contact", w.page(r, "hotline.contact.title", d))
}

// childScreening is the child page's screening part: nil when the
// screening policy does not reach the child.
type childScreening struct {
	storage.ChildScreening
	Results    []riskLine
	NowSays    string
	Entries    []entryRow
	ChildID    int64
	CanPropose bool // the reader may propose the pupil by hand, and no entry is open
	Levels     []screening.Level
	Error      string
}

type riskLine struct {
	storage.RiskResult
	Why string
}

// childScreeningView is the screening part of a page from a child's
// screening as read.
func (w *Web) childScreeningView(p Page, r *http.Request, id int64, cs storage.ChildScreening) *childScreening {
	names := w.instrumentNames(r.Context())
	now := w.store.Now()
	out := &childScreening{ChildScreening: cs, Entries: w.entryRows(p, r, cs.Register), ChildID: id,
		Levels: []screening.Level{screening.Medium, screening.High, screening.Low}}
	if rec, ok := p.Data.(childPageData); ok {
		facts := access.ChildFacts{SchoolID: rec.Rec.SchoolID, District: rec.Rec.School.DistrictCode, Grade: rec.Rec.Grade, Section: rec.Rec.Section}
		out.CanPropose = access.DecideScreening(p.User, access.Write, facts).Allowed &&
			!slices.ContainsFunc(cs.Register, func(e storage.RegisterEntry) bool { return e.Status.Open() })
	}
	for _, rr := range cs.Results {
		out.Results = append(out.Results, riskLine{rr, screening.Explain(rr.Assessment.Factors, names, p.L, string(p.L.Lang), now)})
	}
	if cs.NowSays != nil {
		out.NowSays = p.L.T("screening.level."+string(cs.NowSays.Level)) + " — " + screening.Explain(cs.NowSays.Factors, names, p.L, string(p.L.Lang), now)
	}
	return out
}

// fieldData is one labelled input of a screening form.
type fieldData struct{ ID, Name, Label, Type, Value, Error string }

// option is one <option> of a select.
type option struct {
	Value, Label string
	Selected     bool
}

// screeningFuncs are the template functions of the screening pages.
func screeningFuncs() template.FuncMap {
	return template.FuncMap{
		"signOptions": func(p Page, v string) []option {
			out := []option{{Value: "", Label: "—"}}
			for i, f := range screening.SignFrequencies() {
				n := strconv.Itoa(i + 1)
				out = append(out, option{n, p.L.T("screening.frequency." + f), v == n})
			}
			return out
		},
		"difficultyOptions": func(p Page, v string) []option {
			out := []option{{Value: "", Label: "—"}}
			for _, d := range screening.Difficulties() {
				out = append(out, option{d, p.L.T("screening.difficulties." + d), v == d})
			}
			return out
		},
		"screeningEntries": func(p Page, rows []entryRow, id string) map[string]any {
			return map[string]any{"Page": p, "Rows": rows, "ID": id}
		},
		"screeningInput": func(p Page, f *form, name, typ string) fieldData {
			return fieldData{ID: "screening-" + name, Name: name, Label: p.L.T("screening.field." + name), Type: typ, Value: f.V(name), Error: f.E(name)}
		},
		"list3":   func(a, b, c string) []string { return []string{a, b, c} },
		"hasWord": func(list, w string) bool { return slices.Contains(strings.Split(list, ","), w) },
	}
}
