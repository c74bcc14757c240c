package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/screening"
)

// Instruments lists the newest version of every instrument: the built-in
// ones and those the city imported.
func (db *DB) Instruments(ctx context.Context) (ins []screening.Instrument, err error) {
	defer apperr.Wrap(&err, "storage.Instruments")
	byCode := map[string]screening.Instrument{}
	var order []string
	for _, in := range screening.Builtins() {
		byCode[in.Code] = in
		order = append(order, in.Code)
	}
	rows, err := db.reader().query(ctx, `SELECT definition FROM screening_instruments ORDER BY code, version`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var def string
		if err := rows.Scan(&def); err != nil {
			return nil, err
		}
		var in screening.Instrument
		if err := json.Unmarshal([]byte(def), &in); err != nil {
			return nil, err
		}
		if _, ok := byCode[in.Code]; !ok {
			order = append(order, in.Code)
		}
		if in.Version > byCode[in.Code].Version {
			byCode[in.Code] = in
		}
	}
	for _, c := range order {
		ins = append(ins, byCode[c])
	}
	return ins, rows.Err()
}

// Instrument returns instrument code at version v, or its newest version
// when v is 0.
func (db *DB) Instrument(ctx context.Context, code string, v int) (in screening.Instrument, err error) {
	defer apperr.Wrap(&err, "storage.Instrument(%q, %d)", code, v)
	return instrument(ctx, db.reader(), code, v)
}

func instrument(ctx context.Context, c conn, code string, v int) (screening.Instrument, error) {
	q, args := `SELECT definition FROM screening_instruments WHERE code = ? ORDER BY version DESC LIMIT 1`, []any{code}
	if v != 0 {
		q, args = `SELECT definition FROM screening_instruments WHERE code = ? AND version = ?`, []any{code, v}
	}
	var def string
	err := c.queryRow(ctx, q, args...).Scan(&def)
	if errors.Is(err, sql.ErrNoRows) {
		b, ok := screening.Builtin(code, max(v, 1))
		if !ok {
			return b, apperr.New(apperr.NotFound, "error.not_found")
		}
		return b, nil
	}
	if err != nil {
		return screening.Instrument{}, err
	}
	var in screening.Instrument
	if err := json.Unmarshal([]byte(def), &in); err != nil {
		return in, fmt.Errorf("instrument %s: %w", code, err)
	}
	return in, nil
}

// instrumentCache reads instrument versions once a transaction.
type instrumentCache map[string]screening.Instrument

func (ic instrumentCache) get(ctx context.Context, c conn, code string, v int) (screening.Instrument, error) {
	k := fmt.Sprintf("%s@%d", code, v)
	if in, ok := ic[k]; ok {
		return in, nil
	}
	in, err := instrument(ctx, c, code, v)
	if err == nil {
		ic[k] = in
	}
	return in, err
}

// ImportInstrument stores a new version of an instrument (the city's
// administrators only). A version that exists is never changed: an edit is
// a new version, which must be higher than the newest.
func (db *DB) ImportInstrument(ctx context.Context, a audit.Actor, in screening.Instrument, licenceRef string) (err error) {
	defer apperr.Wrap(&err, "storage.ImportInstrument(%q)", in.Code)
	if !access.CanManageInstruments(a.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	if ps := in.Check(); ps != nil {
		return problems(ps)
	}
	if in.NoWording && strings.TrimSpace(licenceRef) == "" {
		for _, it := range in.Items {
			if len(it.Text) > 0 {
				return apperr.Validation(apperr.Field("licence_ref", "screening.error.licence"))
			}
		}
	}
	def, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(c conn) error {
		cur, err := instrument(ctx, c, in.Code, 0)
		switch {
		case apperr.CodeOf(err) == apperr.NotFound:
		case err != nil:
			return err
		case in.Version <= cur.Version:
			return apperr.Validation(apperr.Field("version", "screening.error.version_exists"))
		}
		if _, err := c.exec(ctx, `INSERT INTO screening_instruments (code, version, definition, licence_ref, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, in.Code, in.Version, string(def), strings.TrimSpace(licenceRef), nullInt(a.UserID), c.now); err != nil {
			return err
		}
		e := a.Event("screening.instrument_import", "instrument", 0)
		e.Details = detailsJSON(map[string]any{"code": in.Code, "version": in.Version})
		return appendAudit(ctx, c, e)
	})
}

// problems turns the domain's problems into a validation error.
func problems(ps []screening.Problem) error {
	fs := make([]apperr.FieldError, len(ps))
	for i, p := range ps {
		fs[i] = apperr.Field(p.Field, p.Key)
	}
	return apperr.Validation(fs...)
}

// RiskRules returns the rules in force: the newest the city stored, or
// the built-in ones.
func (db *DB) RiskRules(ctx context.Context) (r screening.Rules, err error) {
	defer apperr.Wrap(&err, "storage.RiskRules")
	return riskRules(ctx, db.reader(), 0)
}

func riskRules(ctx context.Context, c conn, v int) (screening.Rules, error) {
	q, args := `SELECT definition FROM risk_rule_sets ORDER BY version DESC LIMIT 1`, []any{}
	if v != 0 {
		q, args = `SELECT definition FROM risk_rule_sets WHERE version = ?`, []any{v}
	}
	var def string
	err := c.queryRow(ctx, q, args...).Scan(&def)
	if errors.Is(err, sql.ErrNoRows) {
		return screening.DefaultRules(), nil
	}
	if err != nil {
		return screening.Rules{}, err
	}
	var r screening.Rules
	if err := json.Unmarshal([]byte(def), &r); err != nil {
		return r, fmt.Errorf("risk rules: %w", err)
	}
	return r, nil
}

// SaveRiskRules stores a new version of the risk rules (the city's
// administrators). Past results keep the version they were computed with.
func (db *DB) SaveRiskRules(ctx context.Context, a audit.Actor, r screening.Rules) (err error) {
	defer apperr.Wrap(&err, "storage.SaveRiskRules")
	if !access.CanManageInstruments(a.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	if ps := r.Check(); ps != nil {
		return problems(ps)
	}
	return db.inTx(ctx, func(c conn) error {
		cur, err := riskRules(ctx, c, 0)
		if err != nil {
			return err
		}
		if r.Version <= cur.Version {
			return apperr.Validation(apperr.Field("version", "screening.error.version_exists"))
		}
		def, err := json.Marshal(r)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, `INSERT INTO risk_rule_sets (version, definition, created_by, created_at) VALUES (?, ?, ?, ?)`,
			r.Version, string(def), nullInt(a.UserID), c.now); err != nil {
			return err
		}
		e := a.Event("screening.rules_save", "risk_rules", int64(r.Version))
		return appendAudit(ctx, c, e)
	})
}

// Round is a school's screening round.
type Round struct {
	ID          int64
	SchoolID    int64
	SchoolName  string
	Scope       string // school, grade, class
	Grade       int
	Section     string
	Instruments []string
	Informants  []screening.Informant
	StartsOn    time.Time
	EndsOn      time.Time
	Version     int
	CreatedAt   time.Time
}

// Covers reports whether a pupil of grade and section is in the round.
func (r Round) Covers(grade int, section string) bool {
	switch r.Scope {
	case "grade":
		return grade == r.Grade
	case "class":
		return grade == r.Grade && section == r.Section
	}
	return true
}

const roundColumns = `r.id, r.school_id, s.name_az, r.scope, r.grade, r.section, r.instruments, r.informants, r.starts_on, r.ends_on,
	r.version, r.created_at`

func scanRound(sc interface{ Scan(...any) error }) (Round, error) {
	var r Round
	var ins, infs string
	err := sc.Scan(&r.ID, &r.SchoolID, &r.SchoolName, &r.Scope, &r.Grade, &r.Section, &ins, &infs, date{&r.StartsOn}, date{&r.EndsOn},
		&r.Version, &r.CreatedAt)
	r.Instruments = strings.Split(ins, ",")
	for _, i := range strings.Split(infs, ",") {
		r.Informants = append(r.Informants, screening.Informant(i))
	}
	r.CreatedAt = r.CreatedAt.UTC()
	return r, err
}

// CreateRound starts a screening round at the principal's school.
func (db *DB) CreateRound(ctx context.Context, a audit.Actor, r Round) (out Round, err error) {
	defer apperr.Wrap(&err, "storage.CreateRound")
	if !access.CanRunScreening(a.Principal) {
		return out, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	var fs []apperr.FieldError
	switch r.Scope {
	case "school":
		r.Grade, r.Section = 0, ""
	case "grade":
		r.Section = ""
	case "class":
		if r.Section = strings.ToUpper(strings.TrimSpace(r.Section)); r.Section == "" {
			fs = append(fs, apperr.Field("section", "error.required"))
		}
	default:
		fs = append(fs, apperr.Field("scope", "screening.error.scope"))
	}
	if r.Grade < 0 || r.Grade > 12 {
		fs = append(fs, apperr.Field("grade", "error.range", 0, 12))
	}
	if len(r.Instruments) == 0 {
		fs = append(fs, apperr.Field("instruments", "error.required"))
	}
	for _, code := range r.Instruments {
		if _, err := db.Instrument(ctx, code, 0); err != nil {
			fs = append(fs, apperr.Field("instruments", "screening.error.unknown_instrument"))
			break
		}
	}
	if len(r.Informants) == 0 {
		fs = append(fs, apperr.Field("informants", "error.required"))
	}
	for _, i := range r.Informants {
		if !i.Valid() {
			fs = append(fs, apperr.Field("informants", "screening.error.informant"))
			break
		}
	}
	if r.StartsOn.IsZero() {
		fs = append(fs, apperr.Field("starts_on", "error.required"))
	}
	if r.EndsOn.IsZero() {
		fs = append(fs, apperr.Field("ends_on", "error.required"))
	} else if r.EndsOn.Before(r.StartsOn) {
		fs = append(fs, apperr.Field("ends_on", "screening.error.period"))
	}
	if len(fs) > 0 {
		return out, apperr.Validation(fs...)
	}
	infs := make([]string, len(r.Informants))
	for i, v := range r.Informants {
		infs[i] = string(v)
	}
	err = db.inTx(ctx, func(c conn) error {
		var id int64
		if err := c.queryRow(ctx, `INSERT INTO screening_rounds (school_id, scope, grade, section, instruments, informants, starts_on, ends_on,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			a.OrgID, r.Scope, r.Grade, r.Section, strings.Join(r.Instruments, ","), strings.Join(infs, ","),
			r.StartsOn.Format(dateLayout), r.EndsOn.Format(dateLayout), nullInt(a.UserID), c.now, c.now).Scan(&id); err != nil {
			return err
		}
		e := a.Event("screening.round_create", "screening_round", id)
		e.Details = detailsJSON(map[string]any{"scope": r.Scope, "grade": r.Grade, "section": r.Section})
		if err := appendAudit(ctx, c, e); err != nil {
			return err
		}
		out, err = scanRound(c.queryRow(ctx, `SELECT `+roundColumns+` FROM screening_rounds r JOIN orgs s ON s.id = r.school_id WHERE r.id = ?`, id))
		return err
	})
	return out, err
}

// roundFor reads a round p may see: one of their school's (a teacher's
// too) or, for district and city specialists, of their jurisdiction.
func roundFor(ctx context.Context, c conn, p access.Principal, id int64) (Round, error) {
	r, err := scanRound(c.queryRow(ctx, `SELECT `+roundColumns+` FROM screening_rounds r JOIN orgs s ON s.id = r.school_id WHERE r.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return r, err
	}
	var district string
	if err := c.queryRow(ctx, `SELECT COALESCE(district_code, '') FROM orgs WHERE id = ?`, r.SchoolID).Scan(&district); err != nil {
		return r, err
	}
	f := access.ScreeningFilter(p)
	if !(f.All || (f.District != "" && f.District == district) || (f.SchoolID != 0 && f.SchoolID == r.SchoolID)) {
		return r, apperr.New(apperr.NotFound, "error.not_found")
	}
	return r, nil
}

// Rounds lists the rounds a may see, the newest first.
func (db *DB) Rounds(ctx context.Context, a audit.Actor) (rs []Round, err error) {
	defer apperr.Wrap(&err, "storage.Rounds")
	f := access.ScreeningFilter(a.Principal)
	q := `SELECT ` + roundColumns + ` FROM screening_rounds r JOIN orgs s ON s.id = r.school_id`
	var args []any
	switch {
	case f.All:
	case f.District != "":
		q += ` WHERE s.district_code = ?`
		args = append(args, f.District)
	case f.SchoolID != 0:
		q += ` WHERE r.school_id = ?`
		args = append(args, f.SchoolID)
	default:
		return nil, nil
	}
	rows, err := db.reader().query(ctx, q+` ORDER BY r.id DESC LIMIT 200`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r, err := scanRound(rows)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// Pupil is one pupil of a round as the screening policy lets a principal
// see them, with what has been entered for them.
type Pupil struct {
	ChildID   int64
	Name      string
	StudentID string
	Grade     int
	Section   string
	BirthDate time.Time
	Sets      map[string]AnswerSet // instrument code → the set entered (by any informant of the round)
	Risk      *RiskResult
}

// Screened reports whether every instrument of r has a set for p.
func (p Pupil) Screened(r Round) bool {
	for _, c := range r.Instruments {
		if _, ok := p.Sets[c]; !ok {
			return false
		}
	}
	return true
}

// AnswerSet is one stored answer set, scored again from its version.
type AnswerSet struct {
	ID                int64
	RoundID           int64
	ChildID           int64
	InstrumentCode    string
	InstrumentVersion int
	Answers           screening.Answers
	Result            screening.Result
	EnteredBy         string
	Version           int
	UpdatedAt         time.Time
}

// RiskResult is a computed risk level, never rewritten.
type RiskResult struct {
	ID         int64
	ChildID    int64
	RoundID    int64
	Assessment screening.Assessment
	ComputedAt time.Time
}

// ClassProgress is one class's part of a round.
type ClassProgress struct {
	Grade    int
	Section  string
	Pupils   int
	Screened int
}

// RoundView is a round with its pupils as the reader may see them.
type RoundView struct {
	Round
	Pupils   []Pupil // sorted by class and name
	Progress []ClassProgress
	Missing  []Pupil // the pupils not yet fully screened
	CanEnter bool    // the reader may enter answers (for some pupils)
}

// RoundFor reads a round with the pupils of it a may see (a teacher: their
// classes), their answer sets and latest risk; grade/section (when grade
// ≥ 0 and section != "") narrow it to one class. The read of answers is
// audited.
func (db *DB) RoundFor(ctx context.Context, a audit.Actor, id int64, grade int, section string) (v RoundView, err error) {
	defer apperr.Wrap(&err, "storage.RoundFor(%d)", id)
	err = db.readAudited(ctx, func(c conn) error {
		if v.Round, err = roundFor(ctx, c, a.Principal, id); err != nil {
			return err
		}
		cond, args, ok := screeningWhere(a.Principal, c.now)
		if !ok {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		q := `SELECT c.id, c.last_name || ' ' || c.first_name, c.student_id, c.grade, c.section, c.birth_date FROM children c
			LEFT JOIN orgs s ON s.id = c.school_id WHERE c.school_id = ? AND c.merged_into IS NULL AND ` + cond
		qargs := append([]any{v.SchoolID}, args...)
		switch v.Scope {
		case "grade":
			q += ` AND c.grade = ?`
			qargs = append(qargs, v.Grade)
		case "class":
			q += ` AND c.grade = ? AND c.section = ?`
			qargs = append(qargs, v.Grade, v.Section)
		}
		if section != "" {
			q += ` AND c.grade = ? AND c.section = ?`
			qargs = append(qargs, grade, section)
		}
		rows, err := c.query(ctx, q+` ORDER BY c.grade, c.section, c.last_name, c.first_name, c.id`, qargs...)
		if err != nil {
			return err
		}
		idx := map[int64]int{}
		for rows.Next() {
			var p Pupil
			if err := rows.Scan(&p.ChildID, &p.Name, &p.StudentID, &p.Grade, &p.Section, date{&p.BirthDate}); err != nil {
				rows.Close()
				return err
			}
			p.Sets = map[string]AnswerSet{}
			idx[p.ChildID] = len(v.Pupils)
			v.Pupils = append(v.Pupils, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		ids := make([]int64, len(v.Pupils))
		for i, p := range v.Pupils {
			ids[i] = p.ChildID
		}
		ic := instrumentCache{}
		if err := forChunks(ids, func(_ []int64, marks string, args []any) error {
			sets, err := answerSets(ctx, c, ic, `a.round_id = ? AND a.child_id IN (`+marks+`)`, append([]any{id}, args...)...)
			if err != nil {
				return err
			}
			for _, s := range sets {
				v.Pupils[idx[s.ChildID]].Sets[s.InstrumentCode] = s
			}
			risks, err := riskResults(ctx, c, `r.round_id = ? AND r.child_id IN (`+marks+`)`, append([]any{id}, args...)...)
			for _, rr := range risks {
				v.Pupils[idx[rr.ChildID]].Risk = &rr
			}
			return err
		}); err != nil {
			return err
		}
		pos := map[string]int{}
		for _, p := range v.Pupils {
			k := fmt.Sprintf("%d%s", p.Grade, p.Section)
			i, ok := pos[k]
			if !ok {
				i = len(v.Progress)
				pos[k] = i
				v.Progress = append(v.Progress, ClassProgress{Grade: p.Grade, Section: p.Section})
			}
			v.Progress[i].Pupils++
			if p.Screened(v.Round) {
				v.Progress[i].Screened++
			} else {
				v.Missing = append(v.Missing, p)
			}
		}
		v.CanEnter = slices.ContainsFunc(a.Roles, func(r access.Role) bool {
			return a.Has(r) && (r == access.Teacher || r == access.SchoolHead || r == access.SchoolPsychologist)
		}) && a.OrgID == v.SchoolID
		return nil
	}, func() audit.Event {
		e := a.Event("screening.round_read", "screening_round", id)
		e.Details = detailsJSON(map[string]any{"pupils": len(v.Pupils), "grade": grade, "section": section})
		return e
	})
	return v, err
}

// readAudited runs read on the read pool (on SQLite its statements are
// prepared once, and it waits for no writer), then appends the event
// audit gives in a group commit: the read's result goes to no one unless
// the read is on the trail.
func (db *DB) readAudited(ctx context.Context, read func(c conn) error, event func() audit.Event) error {
	if err := read(db.reader()); err != nil {
		return err
	}
	e := event()
	return db.inGroupTx(ctx, func(ctx context.Context, c conn) error { return appendAudit(ctx, c, e) })
}

// answerSets reads answer sets matching where (on a) and scores each
// again from the version it was given in.
func answerSets(ctx context.Context, c conn, ic instrumentCache, where string, args ...any) ([]AnswerSet, error) {
	rows, err := c.query(ctx, `SELECT a.id, COALESCE(a.round_id, 0), a.child_id, a.instrument_code, a.instrument_version, a.answers,
		COALESCE(u.name, ''), a.version, a.updated_at FROM screening_answers a LEFT JOIN users u ON u.id = a.entered_by WHERE `+where+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, err
	}
	var out []AnswerSet
	for rows.Next() {
		var s AnswerSet
		var js string
		if err := rows.Scan(&s.ID, &s.RoundID, &s.ChildID, &s.InstrumentCode, &s.InstrumentVersion, &js, &s.EnteredBy, &s.Version, &s.UpdatedAt); err != nil {
			rows.Close()
			return nil, err
		}
		if err := json.Unmarshal([]byte(js), &s.Answers); err != nil {
			rows.Close()
			return nil, fmt.Errorf("answer set %d: %w", s.ID, err)
		}
		s.UpdatedAt = s.UpdatedAt.UTC()
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		in, err := ic.get(ctx, c, out[i].InstrumentCode, out[i].InstrumentVersion)
		if err != nil {
			return nil, err
		}
		out[i].Result = in.Score(out[i].Answers, "")
	}
	return out, nil
}

// riskResults reads risk results matching where (on r), oldest first.
func riskResults(ctx context.Context, c conn, where string, args ...any) ([]RiskResult, error) {
	rows, err := c.query(ctx, `SELECT r.id, r.child_id, COALESCE(r.round_id, 0), r.rules_version, r.level, r.points, r.factors, r.computed_at
		FROM risk_results r WHERE `+where+` ORDER BY r.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RiskResult
	for rows.Next() {
		var r RiskResult
		var fs string
		if err := rows.Scan(&r.ID, &r.ChildID, &r.RoundID, &r.Assessment.RulesVersion, &r.Assessment.Level, &r.Assessment.Points, &fs, &r.ComputedAt); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(fs), &r.Assessment.Factors); err != nil {
			return nil, err
		}
		r.ComputedAt = r.ComputedAt.UTC()
		out = append(out, r)
	}
	return out, rows.Err()
}

// NewAnswerSet is one pupil's answers to one instrument in a round.
type NewAnswerSet struct {
	ChildID    int64
	Instrument string
	Answers    screening.Answers
}

// Saved is what saving a pupil's answers gave.
type Saved struct {
	ChildID int64
	Risk    RiskResult
	Entry   *RegisterEntry // the register proposal, when the level proposes one
}

// SaveAnswers stores answer sets of a round in one transaction (a
// teacher's class grid, a school's whole round): each against the newest
// version of its instrument, replacing what the same informant entered
// before for that pupil. For every pupil touched the risk level is
// computed afresh from all their sets in the round under the rules in
// force and stored as a new result; medium and high propose the pupil for
// the register. Each pupil's write is audited; no answer enters the
// audit trail.
func (db *DB) SaveAnswers(ctx context.Context, a audit.Actor, roundID int64, sets []NewAnswerSet) (out []Saved, err error) {
	defer apperr.Wrap(&err, "storage.SaveAnswers(%d)", roundID)
	err = db.inTx(ctx, func(c conn) error {
		out, err = saveAnswers(ctx, db, c, a, roundID, sets)
		return err
	})
	return out, err
}

func saveAnswers(ctx context.Context, db *DB, c conn, a audit.Actor, roundID int64, sets []NewAnswerSet) ([]Saved, error) {
	r, err := roundFor(ctx, c, a.Principal, roundID)
	if err != nil {
		return nil, err
	}
	ic := instrumentCache{}
	rules, err := riskRules(ctx, c, 0)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(sets))
	for _, s := range sets {
		if !slices.Contains(ids, s.ChildID) {
			ids = append(ids, s.ChildID)
		}
	}
	pupils, err := screeningChildren(ctx, c, a.Principal, ids)
	if err != nil {
		return nil, err
	}
	var fs []apperr.FieldError
	for n, s := range sets {
		f := fmt.Sprintf("sets[%d]", n)
		ch, ok := pupils[s.ChildID]
		if !ok {
			return nil, apperr.New(apperr.NotFound, "error.not_found")
		}
		if !ch.write {
			return nil, apperr.New(apperr.Forbidden, "screening.error.no_write")
		}
		if ch.SchoolID != r.SchoolID || !r.Covers(ch.Grade, ch.Section) {
			fs = append(fs, apperr.Field(f+".child_id", "screening.error.not_in_round"))
			continue
		}
		if !slices.Contains(r.Instruments, s.Instrument) {
			fs = append(fs, apperr.Field(f+".instrument", "screening.error.unknown_instrument"))
			continue
		}
		if !slices.Contains(r.Informants, s.Answers.Informant) && s.Answers.Informant != screening.Staff {
			fs = append(fs, apperr.Field(f+".informant", "screening.error.informant"))
			continue
		}
		in, err := ic.get(ctx, c, s.Instrument, 0)
		if err != nil {
			return nil, err
		}
		for _, p := range in.Validate(s.Answers) {
			fs = append(fs, apperr.Field(f+"."+p.Field, p.Key))
		}
	}
	if len(fs) > 0 {
		return nil, apperr.Validation(fs...)
	}
	// What the same informants entered before for these pupils is
	// replaced; the rest is inserted many rows a statement.
	type key struct {
		child            int64
		instrument, from string
	}
	existing := map[key]bool{}
	if err := forChunks(ids, func(part []int64, marks string, args []any) error {
		rows, err := c.query(ctx, `SELECT child_id, instrument_code, informant FROM screening_answers WHERE round_id = ? AND child_id IN (`+marks+`)`,
			append([]any{roundID}, args...)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k key
			if err := rows.Scan(&k.child, &k.instrument, &k.from); err != nil {
				return err
			}
			existing[k] = true
		}
		return rows.Err()
	}); err != nil {
		return nil, err
	}
	var fresh []BulkAnswerSet
	for _, s := range sets {
		in, _ := ic.get(ctx, c, s.Instrument, 0)
		js, err := json.Marshal(s.Answers)
		if err != nil {
			return nil, err
		}
		if existing[key{s.ChildID, s.Instrument, string(s.Answers.Informant)}] {
			if _, err := c.exec(ctx, `UPDATE screening_answers SET instrument_version = ?, age = ?, answers = ?, entered_by = ?, version = version + 1,
				updated_at = ? WHERE round_id = ? AND child_id = ? AND instrument_code = ? AND informant = ?`,
				in.Version, s.Answers.Age, string(js), nullInt(a.UserID), c.now, roundID, s.ChildID, s.Instrument, s.Answers.Informant); err != nil {
				return nil, err
			}
			continue
		}
		existing[key{s.ChildID, s.Instrument, string(s.Answers.Informant)}] = true
		fresh = append(fresh, BulkAnswerSet{RoundID: roundID, ChildID: s.ChildID, SchoolID: r.SchoolID, Instrument: s.Instrument,
			Version: in.Version, Informant: s.Answers.Informant, Answers: string(js), age: s.Answers.Age})
	}
	for start := 0; start < len(fresh); start += bulkRows {
		part := fresh[start:min(start+bulkRows, len(fresh))]
		args := make([]any, 0, len(part)*11)
		for _, s := range part {
			args = append(args, s.RoundID, s.ChildID, s.SchoolID, s.Instrument, s.Version, s.Informant, s.age, s.Answers, nullInt(a.UserID), c.now, c.now)
		}
		if _, err := c.exec(ctx, `INSERT INTO screening_answers (round_id, child_id, school_id, instrument_code, instrument_version, informant,
			age, answers, entered_by, created_at, updated_at) VALUES `+strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", len(part)), ", "),
			args...); err != nil {
			return nil, err
		}
	}
	// Every pupil touched is assessed afresh from all their sets in the round.
	bySet := map[int64][]AnswerSet{}
	if err := forChunks(ids, func(part []int64, marks string, args []any) error {
		stored, err := answerSets(ctx, c, ic, `a.round_id = ? AND a.child_id IN (`+marks+`)`, append([]any{roundID}, args...)...)
		for _, s := range stored {
			bySet[s.ChildID] = append(bySet[s.ChildID], s)
		}
		return err
	}); err != nil {
		return nil, err
	}
	// Each pupil's level, stored many rows a statement.
	out := make([]Saved, 0, len(ids))
	var events []audit.Event
	var proposals []NewProposal
	for _, id := range ids {
		stored := bySet[id]
		scored := make([]screening.Scored, 0, len(stored))
		for _, s := range stored {
			in, err := ic.get(ctx, c, s.InstrumentCode, s.InstrumentVersion)
			if err != nil {
				return nil, err
			}
			scored = append(scored, screening.Scored{Instrument: in, Answers: s.Answers, Result: s.Result})
		}
		as := rules.Assess(scored)
		out = append(out, Saved{ChildID: id, Risk: RiskResult{ChildID: id, RoundID: roundID, Assessment: as, ComputedAt: c.now}})
		e := a.Event("screening.answers_save", "screening_round", roundID)
		e.ChildID = id
		e.Details = detailsJSON(map[string]any{"sets": len(stored), "level": as.Level})
		events = append(events, e)
	}
	const riskCols = 7
	for start := 0; start < len(out); start += bulkRows {
		part := out[start:min(start+bulkRows, len(out))]
		args := make([]any, 0, len(part)*riskCols)
		for _, sv := range part {
			as := sv.Risk.Assessment
			fjs, err := json.Marshal(as.Factors)
			if err != nil {
				return nil, err
			}
			args = append(args, sv.ChildID, roundID, as.RulesVersion, as.Level, as.Points, string(fjs), c.now)
		}
		rows, err := c.query(ctx, `INSERT INTO risk_results (child_id, round_id, rules_version, level, points, factors, computed_at)
			VALUES `+valuesList(len(part), riskCols)+` RETURNING id, child_id`, args...)
		if err != nil {
			return nil, err
		}
		got := make(map[int64]int64, len(part))
		for rows.Next() {
			var rid, child int64
			if err := rows.Scan(&rid, &child); err != nil {
				rows.Close()
				return nil, err
			}
			got[child] = rid
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for i := range part {
			if part[i].Risk.ID = got[part[i].ChildID]; part[i].Risk.ID == 0 {
				return nil, fmt.Errorf("storage: no risk result came back for child %d", part[i].ChildID)
			}
			if as := part[i].Risk.Assessment; as.Level.Proposes() {
				proposals = append(proposals, NewProposal{ChildID: part[i].ChildID, Level: as.Level, Source: screening.FromScreening,
					SourceID: part[i].Risk.ID, Factors: as.Factors})
			}
		}
	}
	// Medium and high propose the pupil for the register, in bulk.
	entries, evs, err := writeProposals(ctx, c, a, proposals, r.SchoolID)
	if err != nil {
		return nil, err
	}
	events = append(events, evs...)
	for i := range out {
		if e, ok := entries[out[i].ChildID]; ok {
			out[i].Entry = &e
		}
	}
	// The audit events come last, the head read and written once (ADR 0015's
	// batch head) and the events inserted many a statement: on PostgreSQL
	// the head's lock is held only for these statements.
	if err := appendAuditBatch(ctx, c, events); err != nil {
		return nil, err
	}
	return out, nil
}

// forChunks calls fn for ids in parts of at most 500, with the parts'
// placeholders and arguments.
func forChunks(ids []int64, fn func(part []int64, marks string, args []any) error) error {
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		if err := fn(part, strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", "), args); err != nil {
			return err
		}
	}
	return nil
}

// screeningPupil is a pupil with what the screening policy lets p do.
type screeningPupil struct {
	ChildRecord
	write bool
}

// screeningChildren loads the children ids that p reaches under the
// screening policy, in one query.
func screeningChildren(ctx context.Context, c conn, p access.Principal, ids []int64) (map[int64]screeningPupil, error) {
	out := map[int64]screeningPupil{}
	cond, args, ok := screeningWhere(p, c.now)
	if !ok || len(ids) == 0 {
		return out, nil
	}
	for start := 0; start < len(ids); start += 500 {
		part := ids[start:min(start+500, len(ids))]
		marks := strings.TrimSuffix(strings.Repeat("?, ", len(part)), ", ")
		qargs := make([]any, 0, len(part)+len(args))
		for _, id := range part {
			qargs = append(qargs, id)
		}
		qargs = append(qargs, args...)
		rows, err := c.query(ctx, `SELECT `+childRecordColumns+childFromWhere+`WHERE c.id IN (`+marks+`) AND c.merged_into IS NULL AND `+cond, qargs...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			r, err := scanChildRecord(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			facts := access.ChildFacts{SchoolID: r.SchoolID, District: r.School.DistrictCode, Grade: r.Grade, Section: r.Section}
			out[r.ID] = screeningPupil{ChildRecord: r, write: access.DecideScreening(p, access.Write, facts).Allowed}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ChildScreening is what the child's page shows of screening: the answer
// sets, the risk results (each with what the rules in force would say
// now), and the register entries.
type ChildScreening struct {
	Sets     []AnswerSet
	Results  []RiskResult
	NowSays  *screening.Assessment // the latest result re-assessed under the rules in force, when their version differs
	Register []RegisterEntry
}

// ChildScreeningFor reads a child's screening and register as a may see
// them: NotFound when the screening policy does not reach the child.
// Audited.
func (db *DB) ChildScreeningFor(ctx context.Context, a audit.Actor, childID int64) (v ChildScreening, err error) {
	defer apperr.Wrap(&err, "storage.ChildScreeningFor(%d)", childID)
	err = db.inTx(ctx, func(c conn) error {
		if _, err := loadScreeningChild(ctx, c, a.Principal, childID, false); err != nil {
			return err
		}
		if v, err = childScreening(ctx, c, a.Principal, childID); err != nil {
			return err
		}
		return appendAudit(ctx, c, childScreeningEvent(a, childID))
	})
	return v, err
}

// childScreening reads a child's answer sets, risk results and register
// entries; the caller has checked (loadScreeningChild) that the screening
// policy reaches the child.
func childScreening(ctx context.Context, c conn, p access.Principal, childID int64) (v ChildScreening, err error) {
	ic := instrumentCache{}
	if v.Sets, err = answerSets(ctx, c, ic, `a.child_id = ?`, childID); err != nil {
		return v, err
	}
	if v.Results, err = riskResults(ctx, c, `r.child_id = ?`, childID); err != nil {
		return v, err
	}
	if n := len(v.Results); n > 0 {
		rules, err := riskRules(ctx, c, 0)
		if err != nil {
			return v, err
		}
		last := v.Results[n-1]
		if rules.Version != last.Assessment.RulesVersion {
			var scored []screening.Scored
			for _, s := range v.Sets {
				if s.RoundID != last.RoundID {
					continue
				}
				in, err := ic.get(ctx, c, s.InstrumentCode, s.InstrumentVersion)
				if err != nil {
					return v, err
				}
				scored = append(scored, screening.Scored{Instrument: in, Answers: s.Answers, Result: s.Result})
			}
			now := rules.Assess(scored)
			v.NowSays = &now
		}
	}
	rows, err := c.query(ctx, `SELECT `+registerColumns+registerFrom+`WHERE e.child_id = ? ORDER BY e.id DESC`, childID)
	if err != nil {
		return v, err
	}
	for rows.Next() {
		e, err := scanRegister(rows)
		if err != nil {
			rows.Close()
			return v, err
		}
		e.CanDecide = access.CanDecideRegister(p, e.SchoolID)
		v.Register = append(v.Register, e)
	}
	rows.Close()
	return v, rows.Err()
}

// childScreeningEvent is the audit event of reading a child's screening.
func childScreeningEvent(a audit.Actor, childID int64) audit.Event {
	e := a.Event("screening.child_read", "child", childID)
	e.ChildID = childID
	return e
}
