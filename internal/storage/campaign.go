package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/events"
	"dayaq/internal/org"
)

// The "Mənimlə danış" campaign (capability 9): the materials library,
// showings in schools, figures imported from outside, and the reach beside
// the hotline's contact volume. ADR 0023.

const campaignColumns = `id, kind, title, languages, edition, audience, external_url, version`

func scanCampaignMaterial(s interface{ Scan(...any) error }) (events.CampaignMaterial, error) {
	var m events.CampaignMaterial
	var langs string
	err := s.Scan(&m.ID, &m.Kind, &m.Title, &langs, &m.Edition, &m.Audience, &m.ExternalURL, &m.Version)
	m.Languages = events.LangList(langs)
	return m, err
}

// CampaignMaterials lists the library, the newest first, each with its
// file when it has one; every member of staff may read it.
func (db *DB) CampaignMaterials(ctx context.Context, a audit.Actor) (ms []events.CampaignMaterial, err error) {
	defer apperr.Wrap(&err, "storage.CampaignMaterials")
	if !access.CanReadCatalogue(a.Principal) {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	c := db.reader()
	rows, err := c.query(ctx, `SELECT `+campaignColumns+` FROM campaign_materials ORDER BY id DESC LIMIT 500`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		m, err := scanCampaignMaterial(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ms = append(ms, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	files, err := eventFiles(ctx, c, `campaign_id IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	for i := range ms {
		for _, f := range files {
			if f.OwnerID == ms[i].ID {
				ms[i].File = &f
			}
		}
	}
	return ms, nil
}

// CampaignMaterial reads one item of the library.
func (db *DB) CampaignMaterial(ctx context.Context, a audit.Actor, id int64) (m events.CampaignMaterial, err error) {
	defer apperr.Wrap(&err, "storage.CampaignMaterial(%d)", id)
	if !access.CanReadCatalogue(a.Principal) {
		return m, apperr.New(apperr.NotFound, "error.not_found")
	}
	c := db.reader()
	m, err = scanCampaignMaterial(c.queryRow(ctx, `SELECT `+campaignColumns+` FROM campaign_materials WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return m, err
	}
	fs, err := eventFiles(ctx, c, `campaign_id = ?`, id)
	if len(fs) > 0 {
		m.File = &fs[len(fs)-1]
	}
	return m, err
}

func normalizeMaterial(m *events.CampaignMaterial) {
	m.Title, m.Edition, m.ExternalURL = strings.TrimSpace(m.Title), strings.TrimSpace(m.Edition), strings.TrimSpace(m.ExternalURL)
	slices.Sort(m.Languages)
	m.Languages = slices.Compact(m.Languages)
}

// CreateCampaignMaterial adds an item to the library (the city unit). Its
// file, if any, is added afterwards with AddEventFile.
func (db *DB) CreateCampaignMaterial(ctx context.Context, a audit.Actor, m events.CampaignMaterial) (_ events.CampaignMaterial, err error) {
	defer apperr.Wrap(&err, "storage.CreateCampaignMaterial")
	normalizeMaterial(&m)
	if err := canEditTopics(a); err != nil {
		return m, err
	}
	if err := m.Validate(); err != nil {
		return m, err
	}
	err = db.inTx(ctx, func(c conn) error {
		if err := c.queryRow(ctx, `INSERT INTO campaign_materials (kind, title, languages, edition, audience, external_url, version,
			created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id`, m.Kind, m.Title,
			strings.Join(m.Languages, ","), m.Edition, m.Audience, m.ExternalURL, nullInt(a.UserID), c.now, c.now).Scan(&m.ID); err != nil {
			return err
		}
		m.Version = 1
		return appendAudit(ctx, c, a.Event("campaign.material_create", "campaign_material", m.ID))
	})
	return m, err
}

// UpdateCampaignMaterial saves an item of the library if m carries the
// version stored.
func (db *DB) UpdateCampaignMaterial(ctx context.Context, a audit.Actor, m events.CampaignMaterial) (_ events.CampaignMaterial, err error) {
	defer apperr.Wrap(&err, "storage.UpdateCampaignMaterial(%d)", m.ID)
	normalizeMaterial(&m)
	if err := canEditTopics(a); err != nil {
		return m, err
	}
	if err := m.Validate(); err != nil {
		return m, err
	}
	err = db.inTx(ctx, func(c conn) error {
		cur, err := scanCampaignMaterial(c.queryRow(ctx, `SELECT `+campaignColumns+` FROM campaign_materials WHERE id = ?`, m.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if err != nil {
			return err
		}
		if cur.Version != m.Version {
			return Stale(cur.Version, changed("title", cur.Title != m.Title, "kind", cur.Kind != m.Kind, "edition", cur.Edition != m.Edition,
				"audience", cur.Audience != m.Audience, "languages", !slices.Equal(cur.Languages, m.Languages),
				"external_url", cur.ExternalURL != m.ExternalURL))
		}
		if _, err := c.exec(ctx, `UPDATE campaign_materials SET kind = ?, title = ?, languages = ?, edition = ?, audience = ?,
			external_url = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, m.Kind, m.Title,
			strings.Join(m.Languages, ","), m.Edition, m.Audience, m.ExternalURL, c.now, m.ID, m.Version); err != nil {
			return err
		}
		m.Version++
		return appendAudit(ctx, c, a.Event("campaign.material_update", "campaign_material", m.ID))
	})
	return m, err
}

// --- showings ---

const showingColumns = `s.id, s.school_id, o.name_az, COALESCE(o.district_code, ''), s.material_id, m.title, m.kind, s.shown_at, s.classes,
	s.pupils, s.parents, s.shown_by, s.version`

const showingFrom = ` FROM campaign_showings s JOIN orgs o ON o.id = s.school_id JOIN campaign_materials m ON m.id = s.material_id `

func scanShowing(sc interface{ Scan(...any) error }) (events.Showing, error) {
	var s events.Showing
	var classes string
	err := sc.Scan(&s.ID, &s.SchoolID, &s.SchoolName, &s.District, &s.MaterialID, &s.MaterialTitle, &s.MaterialKind, &s.ShownAt, &classes,
		&s.Pupils, &s.Parents, &s.ShownBy, &s.Version)
	s.ShownAt = s.ShownAt.UTC()
	if classes != "" {
		s.Classes = strings.Split(classes, ",")
	}
	return s, err
}

// ShowingQuery selects showings: in a period, and narrowed to what a
// dashboard's number counts (the kind of material, the school or the
// district of the school that showed it).
type ShowingQuery struct {
	From, To time.Time // shown_at in [From, To); zero: open
	Kind     events.Kind
	SchoolID int64
	District string
	Limit    int    // default and most 500
	After    string // a page's cursor: TimeCursor of the last showing of the page before
}

// Showings lists the showings a may see (a school its own, a district its
// schools', the city all), the latest first, a page of at most 500.
func (db *DB) Showings(ctx context.Context, a audit.Actor, sq ShowingQuery) (ss []events.Showing, err error) {
	defer apperr.Wrap(&err, "storage.Showings")
	cond, args, ok := eventScope(access.FilterEvents(a.Principal))
	if !ok {
		return nil, nil
	}
	q := `SELECT ` + showingColumns + showingFrom + `WHERE (` + cond + `)`
	if !sq.From.IsZero() {
		q += ` AND s.shown_at >= ?`
		args = append(args, sq.From.UTC())
	}
	if !sq.To.IsZero() {
		q += ` AND s.shown_at < ?`
		args = append(args, sq.To.UTC())
	}
	if sq.Kind != "" {
		q += ` AND m.kind = ?`
		args = append(args, sq.Kind)
	}
	scope, sargs := supportScope(`s.school_id`, StatsQuery{SchoolID: sq.SchoolID, District: sq.District})
	q += ` AND ` + scope
	args = append(args, sargs...)
	if sq.After != "" {
		at, id, ok := ParseTimeCursor(sq.After)
		if !ok {
			return nil, apperr.Validation(apperr.Field("after", "error.cursor"))
		}
		q += ` AND (s.shown_at < ? OR (s.shown_at = ? AND s.id < ?))`
		args = append(args, at, at, id)
	}
	if sq.Limit <= 0 || sq.Limit > 500 {
		sq.Limit = 500
	}
	rows, err := db.reader().query(ctx, q+` ORDER BY s.shown_at DESC, s.id DESC LIMIT `+strconv.Itoa(sq.Limit), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		s, err := scanShowing(rows)
		if err != nil {
			return nil, err
		}
		ss = append(ss, s)
	}
	return ss, rows.Err()
}

// CreateShowing records a showing at s.SchoolID (a school's staff: their
// own school, whatever is sent).
func (db *DB) CreateShowing(ctx context.Context, a audit.Actor, s events.Showing) (_ events.Showing, err error) {
	defer apperr.Wrap(&err, "storage.CreateShowing")
	if a.OrgType == org.School {
		s.SchoolID = a.OrgID
	}
	s.ShownBy = strings.TrimSpace(s.ShownBy)
	if err := s.Validate(); err != nil {
		return s, err
	}
	err = db.inTx(ctx, func(c conn) error {
		facts, name, err := schoolFacts(ctx, c, s.SchoolID)
		if err != nil {
			return err
		}
		if !access.DecideEvent(a.Principal, access.Write, facts).Allowed {
			return apperr.New(apperr.Forbidden, "events.error.not_yours")
		}
		if err := c.queryRow(ctx, `SELECT title FROM campaign_materials WHERE id = ?`, s.MaterialID).Scan(&s.MaterialTitle); errors.Is(err, sql.ErrNoRows) {
			return apperr.Validation(apperr.Field("material", "campaign.error.material"))
		} else if err != nil {
			return err
		}
		if err := c.queryRow(ctx, `INSERT INTO campaign_showings (school_id, material_id, shown_at, classes, pupils, parents, shown_by,
			version, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id`, s.SchoolID, s.MaterialID,
			s.ShownAt.UTC(), strings.Join(s.Classes, ","), s.Pupils, s.Parents, s.ShownBy, nullInt(a.UserID), c.now, c.now).Scan(&s.ID); err != nil {
			return err
		}
		s.Version, s.SchoolName, s.District = 1, name, facts.District
		return appendAudit(ctx, c, a.Event("campaign.showing_create", "campaign_showing", s.ID))
	})
	return s, err
}

// UpdateShowing corrects a showing if s carries the version stored.
func (db *DB) UpdateShowing(ctx context.Context, a audit.Actor, s events.Showing) (_ events.Showing, err error) {
	defer apperr.Wrap(&err, "storage.UpdateShowing(%d)", s.ID)
	s.ShownBy = strings.TrimSpace(s.ShownBy)
	if err := s.Validate(); err != nil {
		return s, err
	}
	err = db.inTx(ctx, func(c conn) error {
		cur, err := scanShowing(c.queryRow(ctx, `SELECT `+showingColumns+showingFrom+`WHERE s.id = ?`, s.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if err != nil {
			return err
		}
		facts := access.EventFacts{SchoolID: cur.SchoolID, District: cur.District}
		if !access.DecideEvent(a.Principal, access.Read, facts).Allowed {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if !access.DecideEvent(a.Principal, access.Write, facts).Allowed {
			return apperr.New(apperr.Forbidden, "events.error.not_yours")
		}
		if cur.Version != s.Version {
			return Stale(cur.Version, changed("pupils", cur.Pupils != s.Pupils, "parents", cur.Parents != s.Parents,
				"shown_at", !cur.ShownAt.Equal(s.ShownAt.UTC()), "material", cur.MaterialID != s.MaterialID))
		}
		if err := c.queryRow(ctx, `SELECT title FROM campaign_materials WHERE id = ?`, s.MaterialID).Scan(&s.MaterialTitle); errors.Is(err, sql.ErrNoRows) {
			return apperr.Validation(apperr.Field("material", "campaign.error.material"))
		} else if err != nil {
			return err
		}
		if _, err := c.exec(ctx, `UPDATE campaign_showings SET material_id = ?, shown_at = ?, classes = ?, pupils = ?, parents = ?,
			shown_by = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, s.MaterialID, s.ShownAt.UTC(),
			strings.Join(s.Classes, ","), s.Pupils, s.Parents, s.ShownBy, c.now, s.ID, s.Version); err != nil {
			return err
		}
		s.Version++
		s.SchoolID, s.SchoolName, s.District = cur.SchoolID, cur.SchoolName, cur.District
		return appendAudit(ctx, c, a.Event("campaign.showing_update", "campaign_showing", s.ID))
	})
	return s, err
}

// --- imported figures ---

// AddFigure records a figure imported from outside (the city unit), with
// its source and the date it was true on.
func (db *DB) AddFigure(ctx context.Context, a audit.Actor, f events.Figure) (_ events.Figure, err error) {
	defer apperr.Wrap(&err, "storage.AddFigure")
	f.Source, f.District = strings.TrimSpace(f.Source), strings.ToUpper(strings.TrimSpace(f.District))
	if err := canEditTopics(a); err != nil {
		return f, err
	}
	if err := f.Validate(); err != nil {
		return f, err
	}
	err = db.inTx(ctx, func(c conn) error {
		if f.MaterialID != 0 {
			var n int
			if err := c.queryRow(ctx, `SELECT COUNT(*) FROM campaign_materials WHERE id = ?`, f.MaterialID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return apperr.Validation(apperr.Field("material", "campaign.error.material"))
			}
		}
		if f.District != "" {
			var n int
			if err := c.queryRow(ctx, `SELECT COUNT(*) FROM districts WHERE code = ?`, f.District).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return apperr.Validation(apperr.Field("district", "campaign.error.district"))
			}
		}
		if err := c.queryRow(ctx, `INSERT INTO campaign_figures (material_id, district, metric, value, period_start, period_end, source,
			as_of, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, nullInt(f.MaterialID), f.District, f.Metric,
			f.Value, f.PeriodStart.UTC(), f.PeriodEnd.UTC(), f.Source, f.AsOf.UTC(), nullInt(a.UserID), c.now).Scan(&f.ID); err != nil {
			return err
		}
		return appendAudit(ctx, c, a.Event("campaign.figure_add", "campaign_figure", f.ID))
	})
	return f, err
}

// AddFigures imports figures from a file (events.ParseFiguresCSV) in one
// transaction: every line's material and district must exist, else
// nothing is stored and the refusal names the lines (field "file"). Each
// figure is audited as AddFigure's are.
func (db *DB) AddFigures(ctx context.Context, a audit.Actor, rows []events.FigureRow) (out []events.Figure, err error) {
	defer apperr.Wrap(&err, "storage.AddFigures")
	if err := canEditTopics(a); err != nil {
		return nil, err
	}
	var bad []apperr.FieldError
	for _, r := range rows {
		if verr := r.Validate(); verr != nil {
			for _, fe := range apperr.As(verr).Fields {
				bad = append(bad, events.LineError(r.Line, fe.Field))
			}
		}
	}
	if len(bad) > 0 {
		return nil, apperr.Validation(bad...)
	}
	err = db.inTx(ctx, func(c conn) error {
		known := map[string]bool{}
		exists := func(q string, arg any) (bool, error) {
			k := fmt.Sprint(q, arg)
			if ok, seen := known[k]; seen {
				return ok, nil
			}
			var n int
			if err := c.queryRow(ctx, q, arg).Scan(&n); err != nil {
				return false, err
			}
			known[k] = n > 0
			return n > 0, nil
		}
		for _, r := range rows {
			if r.MaterialID != 0 {
				ok, err := exists(`SELECT COUNT(*) FROM campaign_materials WHERE id = ?`, r.MaterialID)
				if err != nil {
					return err
				}
				if !ok {
					bad = append(bad, events.LineError(r.Line, "material_id"))
				}
			}
			if r.District != "" {
				ok, err := exists(`SELECT COUNT(*) FROM districts WHERE code = ?`, r.District)
				if err != nil {
					return err
				}
				if !ok {
					bad = append(bad, events.LineError(r.Line, "district"))
				}
			}
		}
		if len(bad) > 0 {
			return apperr.Validation(bad[:min(len(bad), 10)]...)
		}
		for _, r := range rows {
			f := r.Figure
			f.Source = strings.TrimSpace(f.Source)
			if err := c.queryRow(ctx, `INSERT INTO campaign_figures (material_id, district, metric, value, period_start, period_end, source,
				as_of, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, nullInt(f.MaterialID), f.District, f.Metric,
				f.Value, f.PeriodStart.UTC(), f.PeriodEnd.UTC(), f.Source, f.AsOf.UTC(), nullInt(a.UserID), c.now).Scan(&f.ID); err != nil {
				return err
			}
			if err := appendAudit(ctx, c, a.Event("campaign.figure_add", "campaign_figure", f.ID)); err != nil {
				return err
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Figures lists imported figures whose period overlaps [from, to), for
// those who see aggregates (a district's staff: their district's and the
// city-wide ones).
func (db *DB) Figures(ctx context.Context, a audit.Actor, from, to time.Time) (fs []events.Figure, err error) {
	defer apperr.Wrap(&err, "storage.Figures")
	f := access.AggregateFilter(a.Principal)
	if f.Empty() {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	q := `SELECT id, COALESCE(material_id, 0), district, metric, value, period_start, period_end, source, as_of FROM campaign_figures
		WHERE period_start < ? AND period_end >= ?`
	args := []any{to.UTC(), from.UTC()}
	if f.District != "" {
		q += ` AND district IN ('', ?)`
		args = append(args, f.District)
	}
	rows, err := db.reader().query(ctx, q+` ORDER BY period_start, id LIMIT 500`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var x events.Figure
		if err := rows.Scan(&x.ID, &x.MaterialID, &x.District, &x.Metric, &x.Value, &x.PeriodStart, &x.PeriodEnd, &x.Source, &x.AsOf); err != nil {
			return nil, err
		}
		x.PeriodStart, x.PeriodEnd, x.AsOf = x.PeriodStart.UTC(), x.PeriodEnd.UTC(), x.AsOf.UTC()
		fs = append(fs, x)
	}
	return fs, rows.Err()
}

// --- reach ---

// Reach is the campaign's reach month by month in [from, to) beside the
// hotline's contacts in the same months, for the whole view (district ""
// for the city) or one district. Contacts are counted by where their
// children are: the school's district of a child in the registry, else the
// district the operator entered.
type Reach struct {
	District string
	Rows     []events.ReachRow
	Schools  []SchoolReach
}

// SchoolReach is one school's showings in the period.
type SchoolReach struct {
	SchoolID int64
	Name     string
	District string
	Showings int
	Pupils   int
	Parents  int
}

// CampaignReach reads Reach for those who see aggregates; a district's
// staff see only their district whatever they ask.
func (db *DB) CampaignReach(ctx context.Context, a audit.Actor, from, to time.Time, district string) (r Reach, err error) {
	defer apperr.Wrap(&err, "storage.CampaignReach")
	f := access.AggregateFilter(a.Principal)
	if f.Empty() {
		return r, apperr.New(apperr.NotFound, "error.not_found")
	}
	if f.District != "" {
		district = f.District
	}
	r.District = strings.ToUpper(strings.TrimSpace(district))
	from, to = from.UTC(), to.UTC()
	months := events.Months(from, to.Add(-time.Nanosecond))
	rows := make([]events.ReachRow, len(months))
	index := map[string]int{}
	for i, m := range months {
		rows[i] = events.ReachRow{Month: m, District: r.District}
		index[events.MonthKey(m)] = i
	}
	c := db.reader()
	q := `SELECT s.school_id, o.name_az, COALESCE(o.district_code, ''), s.shown_at, s.pupils, s.parents FROM campaign_showings s
		JOIN orgs o ON o.id = s.school_id WHERE s.shown_at >= ? AND s.shown_at < ?`
	args := []any{from, to}
	if r.District != "" {
		q += ` AND o.district_code = ?`
		args = append(args, r.District)
	}
	srows, err := c.query(ctx, q+` ORDER BY o.district_code, o.code`, args...)
	if err != nil {
		return r, err
	}
	schools := map[int64]int{}
	for srows.Next() {
		var sr SchoolReach
		var at time.Time
		var pupils, parents int
		if err := srows.Scan(&sr.SchoolID, &sr.Name, &sr.District, &at, &pupils, &parents); err != nil {
			srows.Close()
			return r, err
		}
		if i, ok := index[events.MonthKey(at)]; ok {
			rows[i].Showings++
			rows[i].Pupils += pupils
			rows[i].Parents += parents
		}
		j, ok := schools[sr.SchoolID]
		if !ok {
			j = len(r.Schools)
			schools[sr.SchoolID] = j
			r.Schools = append(r.Schools, sr)
		}
		r.Schools[j].Showings++
		r.Schools[j].Pupils += pupils
		r.Schools[j].Parents += parents
	}
	srows.Close()
	if err := srows.Err(); err != nil {
		return r, err
	}
	for i, m := range months {
		end := m.AddDate(0, 1, 0)
		var n int
		if r.District == "" {
			err = c.queryRow(ctx, `SELECT COUNT(*) FROM contacts WHERE received_at >= ? AND received_at < ?`, m, end).Scan(&n)
		} else {
			err = c.queryRow(ctx, `SELECT COUNT(DISTINCT k.id) FROM contacts k JOIN contact_children cc ON cc.contact_id = k.id
				LEFT JOIN children ch ON ch.id = cc.child_id LEFT JOIN orgs o ON o.id = ch.school_id
				WHERE k.received_at >= ? AND k.received_at < ? AND COALESCE(o.district_code, NULLIF(cc.district, '')) = ?`,
				m, end, r.District).Scan(&n)
		}
		if err != nil {
			return r, fmt.Errorf("contacts in %s: %w", events.MonthKey(m), err)
		}
		rows[i].Contacts = n
	}
	r.Rows = rows
	return r, nil
}

// CampaignMonthLabel is a month as reach tables print it.
func CampaignMonthLabel(t time.Time) string { return t.Format("01.2006") }
