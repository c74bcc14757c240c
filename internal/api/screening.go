package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/httpx"
	"dayaq/internal/screening"
	"dayaq/internal/storage"
)

// ScreeningStore is what the screening and register API needs of storage.
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
	ChildScreeningFor(ctx context.Context, a audit.Actor, childID int64) (storage.ChildScreening, error)
	RegisterList(ctx context.Context, a audit.Actor, f storage.RegisterFilter) ([]storage.RegisterEntry, error)
	RollList(ctx context.Context, a audit.Actor, q storage.RollQuery) ([]storage.RollPupil, error)
	RegisterEntry(ctx context.Context, a audit.Actor, id int64) (storage.RegisterEntry, error)
	RegisterHistory(ctx context.Context, a audit.Actor, id int64) ([]storage.RegisterChange, error)
	ProposeRegister(ctx context.Context, a audit.Actor, n storage.NewProposal) (storage.RegisterEntry, error)
	ConfirmRegister(ctx context.Context, a audit.Actor, d storage.RegisterDecision) (storage.RegisterEntry, error)
	DeclineRegister(ctx context.Context, a audit.Actor, d storage.RegisterDecision) (storage.RegisterEntry, error)
	ReviewRegister(ctx context.Context, a audit.Actor, d storage.RegisterDecision, cadence map[screening.Level]int) (storage.RegisterEntry, error)
	ExitRegister(ctx context.Context, a audit.Actor, d storage.RegisterDecision) (storage.RegisterEntry, error)
}

func (a *API) screeningRoutes() []Route {
	return []Route{
		{"GET", Prefix + "/instruments", a.listInstruments},
		{"POST", Prefix + "/instruments", a.importInstrument},
		{"GET", Prefix + "/instruments/{code}", a.getInstrument},
		{"POST", Prefix + "/instruments/{code}/score", a.scoreInstrument},
		{"GET", Prefix + "/risk-rules", a.getRiskRules},
		{"POST", Prefix + "/risk-rules", a.saveRiskRules},
		{"GET", Prefix + "/screening/rounds", a.listRounds},
		{"POST", Prefix + "/screening/rounds", a.createRound},
		{"GET", Prefix + "/screening/rounds/{id}", a.getRound},
		{"POST", Prefix + "/screening/rounds/{id}/answers", a.saveAnswers},
		{"GET", Prefix + "/screening/children/{id}", a.childScreening},
		{"GET", Prefix + "/register", a.listRegister},
		{"GET", Prefix + "/screening/pupils", a.listRoll},
		{"POST", Prefix + "/register", a.proposeRegister},
		{"GET", Prefix + "/register/{id}", a.getRegister},
		{"POST", Prefix + "/register/{id}/confirm", a.registerDecision("confirm")},
		{"POST", Prefix + "/register/{id}/decline", a.registerDecision("decline")},
		{"POST", Prefix + "/register/{id}/review", a.registerDecision("review")},
		{"POST", Prefix + "/register/{id}/exit", a.registerDecision("exit")},
	}
}

// scoreJSON is one score: null when missing, its band null when none.
type scoreJSON struct {
	Score *int    `json:"score"`
	Band  *string `json:"band"`
}

func toScores(in screening.Instrument, r screening.Result) map[string]scoreJSON {
	out := make(map[string]scoreJSON, len(r.Scores))
	for _, c := range in.ScoreCodes() {
		s := r.Scores[c]
		j := scoreJSON{Score: s.Score}
		if s.Band != "" {
			b := s.Band
			j.Band = &b
		}
		out[c] = j
	}
	return out
}

type instrumentSummaryJSON struct {
	Code       string                `json:"code"`
	Version    int                   `json:"version"`
	Name       screening.Text        `json:"name"`
	Informants []screening.Informant `json:"informants"`
	Scores     []string              `json:"scores"`
}

func (a *API) listInstruments(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor(r); err != nil {
		return err
	}
	ins, err := a.store.Instruments(r.Context())
	if err != nil {
		return err
	}
	out := listPage[instrumentSummaryJSON]{Items: []instrumentSummaryJSON{}}
	for _, in := range ins {
		out.Items = append(out.Items, instrumentSummaryJSON{in.Code, in.Version, in.Name, in.Informants, in.ScoreCodes()})
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getInstrument(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor(r); err != nil {
		return err
	}
	in, err := a.store.Instrument(r.Context(), r.PathValue("code"), 0)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, in)
}

func (a *API) importInstrument(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in struct {
		LicenceRef string               `json:"licence_ref"`
		Instrument screening.Instrument `json:"instrument"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	if err := a.store.ImportInstrument(r.Context(), act, in.Instrument, in.LicenceRef); err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/instruments/"+in.Instrument.Code)
	return writeJSON(w, http.StatusCreated, in.Instrument)
}

// decodeAnswers reads an answer set, naming the field of a value of the
// wrong type.
func decodeAnswers(r *http.Request, v any) error {
	err := decode(r, v)
	var fe *screening.FieldError
	if errors.As(err, &fe) {
		return apperr.Validation(apperr.Field(fe.Field, "error.json_type"))
	}
	return err
}

// scoreInstrument scores an answer set without storing anything: no
// child is named, so nothing is audited.
func (a *API) scoreInstrument(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor(r); err != nil {
		return err
	}
	in, err := a.store.Instrument(r.Context(), r.PathValue("code"), 0)
	if err != nil {
		return err
	}
	var ans screening.Answers
	if err := decodeAnswers(r, &ans); err != nil {
		return err
	}
	if ps := in.Validate(ans); ps != nil {
		return validation(ps)
	}
	return writeJSON(w, http.StatusOK, toScores(in, in.Score(ans, "")))
}

func validation(ps []screening.Problem) error {
	fs := make([]apperr.FieldError, len(ps))
	for i, p := range ps {
		fs[i] = apperr.Field(p.Field, p.Key)
	}
	return apperr.Validation(fs...)
}

func (a *API) getRiskRules(w http.ResponseWriter, r *http.Request) error {
	if _, err := actor(r); err != nil {
		return err
	}
	rules, err := a.store.RiskRules(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rules)
}

func (a *API) saveRiskRules(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var rules screening.Rules
	if err := decode(r, &rules); err != nil {
		return err
	}
	if err := a.store.SaveRiskRules(r.Context(), act, rules); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, rules)
}

type roundJSON struct {
	ID          int64                 `json:"id"`
	SchoolID    int64                 `json:"school_id"`
	SchoolName  string                `json:"school_name"`
	Scope       string                `json:"scope"`
	Grade       int                   `json:"grade"`
	Section     string                `json:"section"`
	Instruments []string              `json:"instruments"`
	Informants  []screening.Informant `json:"informants"`
	StartsOn    string                `json:"starts_on"`
	EndsOn      string                `json:"ends_on"`
	Version     int                   `json:"version"`
}

func toRoundJSON(r storage.Round) roundJSON {
	return roundJSON{r.ID, r.SchoolID, r.SchoolName, r.Scope, r.Grade, r.Section, r.Instruments, r.Informants,
		r.StartsOn.Format(time.DateOnly), r.EndsOn.Format(time.DateOnly), r.Version}
}

func (a *API) listRounds(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	rs, err := a.store.Rounds(r.Context(), act)
	if err != nil {
		return err
	}
	out := listPage[roundJSON]{Items: []roundJSON{}}
	for _, x := range rs {
		out.Items = append(out.Items, toRoundJSON(x))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) createRound(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in struct {
		Scope       string                `json:"scope"`
		Grade       int                   `json:"grade"`
		Section     string                `json:"section"`
		Instruments []string              `json:"instruments"`
		Informants  []screening.Informant `json:"informants"`
		StartsOn    string                `json:"starts_on"`
		EndsOn      string                `json:"ends_on"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	round := storage.Round{Scope: in.Scope, Grade: in.Grade, Section: in.Section, Instruments: in.Instruments, Informants: in.Informants}
	var fs []apperr.FieldError
	for _, d := range []struct {
		field, s string
		t        *time.Time
	}{{"starts_on", in.StartsOn, &round.StartsOn}, {"ends_on", in.EndsOn, &round.EndsOn}} {
		t, err := time.Parse(time.DateOnly, d.s)
		if err != nil {
			fs = append(fs, apperr.Field(d.field, "screening.error.date"))
		}
		*d.t = t
	}
	if len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	out, err := a.store.CreateRound(r.Context(), act, round)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, toRoundJSON(out))
}

type answerSetJSON struct {
	ID                int64                `json:"id"`
	ChildID           int64                `json:"child_id"`
	RoundID           int64                `json:"round_id"`
	Instrument        string               `json:"instrument"`
	InstrumentVersion int                  `json:"instrument_version"`
	Answers           screening.Answers    `json:"answers"`
	Scores            map[string]scoreJSON `json:"scores"`
	Version           int                  `json:"version"`
}

type riskJSON struct {
	ID           int64              `json:"id"`
	ChildID      int64              `json:"child_id"`
	RoundID      int64              `json:"round_id"`
	RulesVersion int                `json:"rules_version"`
	Level        screening.Level    `json:"level"`
	Points       int                `json:"points"`
	Factors      []screening.Factor `json:"factors"`
	Explanation  string             `json:"explanation"`
	ComputedAt   string             `json:"computed_at"`
}

// instrumentsByCode names instruments for explanations.
func (a *API) instrumentsByCode(ctx context.Context) map[string]screening.Instrument {
	m := map[string]screening.Instrument{}
	ins, _ := a.store.Instruments(ctx)
	for _, in := range ins {
		m[in.Code] = in
	}
	return m
}

func (a *API) toRiskJSON(r *http.Request, names map[string]screening.Instrument, rr storage.RiskResult) riskJSON {
	l := a.cat.For(httpx.Lang(r.Context()))
	return riskJSON{rr.ID, rr.ChildID, rr.RoundID, rr.Assessment.RulesVersion, rr.Assessment.Level, rr.Assessment.Points,
		rr.Assessment.Factors, screening.Explain(rr.Assessment.Factors, names, l, string(l.Lang), a.now()), rr.ComputedAt.Format(time.RFC3339)}
}

type pupilJSON struct {
	ChildID   int64     `json:"child_id"`
	Name      string    `json:"name"`
	Grade     int       `json:"grade"`
	Section   string    `json:"section"`
	Screened  bool      `json:"screened"`
	Level     string    `json:"level"`
	Completed []string  `json:"completed"`
	Risk      *riskJSON `json:"risk"`
}

func (a *API) getRound(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	grade, section := -1, ""
	if c := r.URL.Query().Get("class"); c != "" {
		g, s, ok := strings.Cut(c, "-")
		n, err := strconv.Atoi(g)
		if !ok || err != nil || n < 0 || n > 12 || s == "" {
			return apperr.Validation(apperr.Field("class", "screening.error.class"))
		}
		grade, section = n, strings.ToUpper(s)
	}
	v, err := a.store.RoundFor(r.Context(), act, id, grade, section)
	if err != nil {
		return err
	}
	names := a.instrumentsByCode(r.Context())
	out := struct {
		roundJSON
		Progress []storage.ClassProgress `json:"progress"`
		Pupils   []pupilJSON             `json:"pupils"`
		Missing  []int64                 `json:"missing"`
	}{roundJSON: toRoundJSON(v.Round), Progress: []storage.ClassProgress{}, Pupils: []pupilJSON{}, Missing: []int64{}}
	out.Progress = append(out.Progress, v.Progress...)
	for _, p := range v.Pupils {
		pj := pupilJSON{ChildID: p.ChildID, Name: p.Name, Grade: p.Grade, Section: p.Section, Screened: p.Screened(v.Round), Completed: []string{}}
		for _, c := range v.Instruments {
			if _, ok := p.Sets[c]; ok {
				pj.Completed = append(pj.Completed, c)
			}
		}
		if p.Risk != nil {
			rj := a.toRiskJSON(r, names, *p.Risk)
			pj.Risk, pj.Level = &rj, string(p.Risk.Assessment.Level)
		}
		out.Pupils = append(out.Pupils, pj)
	}
	for _, p := range v.Missing {
		out.Missing = append(out.Missing, p.ChildID)
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) saveAnswers(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	var in struct {
		Sets []struct {
			ChildID    int64             `json:"child_id"`
			Instrument string            `json:"instrument"`
			Answers    screening.Answers `json:"answers"`
		} `json:"sets"`
	}
	if err := decodeAnswers(r, &in); err != nil {
		return err
	}
	if len(in.Sets) == 0 || len(in.Sets) > 5000 {
		return apperr.Validation(apperr.Field("sets", "error.range", 1, 5000))
	}
	sets := make([]storage.NewAnswerSet, len(in.Sets))
	for i, s := range in.Sets {
		sets[i] = storage.NewAnswerSet{ChildID: s.ChildID, Instrument: s.Instrument, Answers: s.Answers}
	}
	saved, err := a.store.SaveAnswers(r.Context(), act, id, sets)
	if err != nil {
		return err
	}
	names := a.instrumentsByCode(r.Context())
	out := struct {
		Results []struct {
			Risk          riskJSON `json:"risk"`
			RegisterEntry *int64   `json:"register_entry_id"`
		} `json:"results"`
	}{}
	for _, s := range saved {
		var e *int64
		if s.Entry != nil {
			e = &s.Entry.ID
		}
		out.Results = append(out.Results, struct {
			Risk          riskJSON `json:"risk"`
			RegisterEntry *int64   `json:"register_entry_id"`
		}{a.toRiskJSON(r, names, s.Risk), e})
	}
	return writeJSON(w, http.StatusOK, out)
}

type registerJSON struct {
	ID                int64              `json:"id"`
	ChildID           int64              `json:"child_id"`
	ChildName         string             `json:"child_name"`
	Grade             int                `json:"grade"`
	Section           string             `json:"section"`
	SchoolID          int64              `json:"school_id"`
	SchoolName        string             `json:"school_name"`
	Level             screening.Level    `json:"level"`
	Status            screening.Status   `json:"status"`
	Source            screening.Source   `json:"source"`
	Factors           []screening.Factor `json:"factors"`
	Explanation       string             `json:"explanation"`
	ResponsibleUserID *int64             `json:"responsible_user_id"`
	ResponsibleName   string             `json:"responsible_name"`
	NextReviewDue     *string            `json:"next_review_due"`
	Overdue           bool               `json:"overdue"`
	DeclineReason     string             `json:"decline_reason"`
	ExitReason        string             `json:"exit_reason"`
	Version           int                `json:"version"`
	History           []historyJSON      `json:"history,omitempty"`
}

type historyJSON struct {
	At         string  `json:"at"`
	ActorName  string  `json:"actor_name"`
	Action     string  `json:"action"`
	From       string  `json:"from"`
	To         string  `json:"to"`
	Level      string  `json:"level"`
	Note       string  `json:"note"`
	NextReview *string `json:"next_review"`
}

func (a *API) toRegisterJSON(r *http.Request, names map[string]screening.Instrument, e storage.RegisterEntry) registerJSON {
	l := a.cat.For(httpx.Lang(r.Context()))
	j := registerJSON{ID: e.ID, ChildID: e.ChildID, ChildName: e.ChildName, Grade: e.Grade, Section: e.Section, SchoolID: e.SchoolID,
		SchoolName: e.SchoolName, Level: e.Level, Status: e.Status, Source: e.Source, Factors: e.Factors,
		Explanation: screening.Explain(e.Factors, names, l, string(l.Lang), a.now()), ResponsibleName: e.ResponsibleName,
		Overdue: e.Overdue(a.now()), DeclineReason: e.DeclineReason, ExitReason: e.ExitReason, Version: e.Version}
	if e.ResponsibleUserID != 0 {
		id := e.ResponsibleUserID
		j.ResponsibleUserID = &id
	}
	if !e.NextReviewDue.IsZero() {
		s := e.NextReviewDue.Format(time.RFC3339)
		j.NextReviewDue = &s
	}
	return j
}

func (a *API) listRegister(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := storage.RegisterFilter{Status: screening.Status(q.Get("status")), Overdue: q.Get("overdue") == "true"}
	var fs []apperr.FieldError
	switch f.Status {
	case "", screening.Proposed, screening.Active, screening.Declined, screening.Exited:
	default:
		fs = append(fs, apperr.Field("status", "screening.error.status"))
	}
	// a dashboard's number lists its entries by level, school or district
	if lv := screening.Level(q.Get("level")); lv != "" {
		if !lv.Valid() || lv == screening.None {
			fs = append(fs, apperr.Field("level", "screening.error.level"))
		}
		f.Level = lv
	}
	var sfs []apperr.FieldError
	f.SchoolID, f.District, sfs = a.listScope(r)
	if f.Limit, err = page(r, 200, 500); err != nil {
		fs = append(fs, apperr.As(err).Fields...)
	}
	if fs = append(fs, sfs...); len(fs) > 0 {
		return apperr.Validation(fs...)
	}
	es, err := a.store.RegisterList(r.Context(), act, f)
	if err != nil {
		return err
	}
	names := a.instrumentsByCode(r.Context())
	out := listPage[registerJSON]{Items: []registerJSON{}}
	for _, e := range es {
		out.Items = append(out.Items, a.toRegisterJSON(r, names, e))
	}
	return writeJSON(w, http.StatusOK, out)
}

func (a *API) getRegister(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	e, err := a.store.RegisterEntry(r.Context(), act, id)
	if err != nil {
		return err
	}
	hs, err := a.store.RegisterHistory(r.Context(), act, id)
	if err != nil {
		return err
	}
	j := a.toRegisterJSON(r, a.instrumentsByCode(r.Context()), e)
	for _, h := range hs {
		hj := historyJSON{At: h.At.Format(time.RFC3339), ActorName: h.ActorName, Action: h.Action, From: string(h.From), To: string(h.To),
			Level: string(h.Level), Note: h.Note}
		if !h.NextReview.IsZero() {
			s := h.NextReview.Format(time.RFC3339)
			hj.NextReview = &s
		}
		j.History = append(j.History, hj)
	}
	w.Header().Set("ETag", etag(e.Version))
	return writeJSON(w, http.StatusOK, j)
}

func (a *API) proposeRegister(w http.ResponseWriter, r *http.Request) error {
	act, err := actor(r)
	if err != nil {
		return err
	}
	var in struct {
		ChildID  int64            `json:"child_id"`
		Level    screening.Level  `json:"level"`
		Source   screening.Source `json:"source"`
		SourceID int64            `json:"source_id"`
		Note     string           `json:"note"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	var factors []screening.Factor
	switch in.Source {
	case screening.FromCase, screening.FromContact:
		factors = []screening.Factor{{Kind: string(in.Source), Code: string(in.Source), Text: itoa64(in.SourceID)}}
	case screening.FromScreening:
		return apperr.Validation(apperr.Field("source", "screening.error.source"))
	}
	e, err := a.store.ProposeRegister(r.Context(), act, storage.NewProposal{ChildID: in.ChildID, Level: in.Level, Source: in.Source,
		SourceID: in.SourceID, Factors: factors, Note: in.Note})
	if err != nil {
		return err
	}
	w.Header().Set("Location", Prefix+"/register/"+itoa64(e.ID))
	return writeJSON(w, http.StatusCreated, a.toRegisterJSON(r, a.instrumentsByCode(r.Context()), e))
}

// registerDecision handles confirm, decline, review and exit: each needs
// the version read in If-Match.
func (a *API) registerDecision(kind string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		act, id, err := actorAndID(r)
		if err != nil {
			return err
		}
		v, err := ifMatch(r)
		if err != nil {
			return err
		}
		var in struct {
			ResponsibleUserID int64           `json:"responsible_user_id"`
			FirstReview       string          `json:"first_review"`
			Reason            string          `json:"reason"`
			Level             screening.Level `json:"level"`
		}
		if err := decode(r, &in); err != nil {
			return err
		}
		d := storage.RegisterDecision{ID: id, Version: v, ResponsibleUserID: in.ResponsibleUserID, Reason: in.Reason, Level: in.Level}
		var e storage.RegisterEntry
		ctx := r.Context()
		switch kind {
		case "confirm":
			if in.FirstReview != "" {
				t, err := time.Parse(time.DateOnly, in.FirstReview)
				if err != nil {
					return apperr.Validation(apperr.Field("first_review", "screening.error.date"))
				}
				d.FirstReview = t
			}
			e, err = a.store.ConfirmRegister(ctx, act, d)
		case "decline":
			e, err = a.store.DeclineRegister(ctx, act, d)
		case "review":
			rules, rerr := a.store.RiskRules(ctx)
			if rerr != nil {
				return rerr
			}
			e, err = a.store.ReviewRegister(ctx, act, d, rules.Review)
		default:
			e, err = a.store.ExitRegister(ctx, act, d)
		}
		if err != nil {
			return err
		}
		w.Header().Set("ETag", etag(e.Version))
		return writeJSON(w, http.StatusOK, a.toRegisterJSON(r, a.instrumentsByCode(ctx), e))
	}
}

func (a *API) childScreening(w http.ResponseWriter, r *http.Request) error {
	act, id, err := actorAndID(r)
	if err != nil {
		return err
	}
	cs, err := a.store.ChildScreeningFor(r.Context(), act, id)
	if err != nil {
		return err
	}
	names := a.instrumentsByCode(r.Context())
	out := struct {
		Sets     []answerSetJSON `json:"sets"`
		Results  []riskJSON      `json:"results"`
		NowSays  *riskJSON       `json:"now_says"`
		Register []registerJSON  `json:"register"`
	}{Sets: []answerSetJSON{}, Results: []riskJSON{}, Register: []registerJSON{}}
	for _, s := range cs.Sets {
		in, err := a.store.Instrument(r.Context(), s.InstrumentCode, s.InstrumentVersion)
		if err != nil {
			return err
		}
		out.Sets = append(out.Sets, answerSetJSON{s.ID, s.ChildID, s.RoundID, s.InstrumentCode, s.InstrumentVersion, s.Answers,
			toScores(in, s.Result), s.Version})
	}
	for _, rr := range cs.Results {
		out.Results = append(out.Results, a.toRiskJSON(r, names, rr))
	}
	if cs.NowSays != nil {
		rj := a.toRiskJSON(r, names, storage.RiskResult{ChildID: id, Assessment: *cs.NowSays, ComputedAt: a.now()})
		out.NowSays = &rj
	}
	for _, e := range cs.Register {
		out.Register = append(out.Register, a.toRegisterJSON(r, names, e))
	}
	return writeJSON(w, http.StatusOK, out)
}

func itoa64(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
