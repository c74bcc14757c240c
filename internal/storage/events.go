package storage

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
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

// Parent awareness events (capability 8): the topic catalogue and its
// materials, events, attendance, anonymous feedback and the city's view.
// The campaign is in campaign.go. ADR 0022.

// eventScope turns the events policy's filter into a condition on the
// school o (orgs) of an event; ok is false when it matches nothing.
func eventScope(f access.EventFilter) (cond string, args []any, ok bool) {
	switch {
	case f.All:
		return `1 = 1`, nil, true
	case f.District != "":
		return `o.district_code = ?`, []any{f.District}, true
	case f.SchoolID != 0:
		return `o.id = ?`, []any{f.SchoolID}, true
	}
	return ``, nil, false
}

// schoolFacts reads a school's district, refusing an organisation that is
// no school.
func schoolFacts(ctx context.Context, c conn, id int64) (access.EventFacts, string, error) {
	var typ, district, name string
	err := c.queryRow(ctx, `SELECT type, COALESCE(district_code, ''), name_az FROM orgs WHERE id = ?`, id).Scan(&typ, &district, &name)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && org.Type(typ) != org.School) {
		return access.EventFacts{}, "", apperr.Validation(apperr.Field("school", "events.error.school"))
	}
	return access.EventFacts{SchoolID: id, District: district}, name, err
}

// --- the topic catalogue ---

const topicColumns = `t.id, t.code, t.title_az, t.title_ru, t.title_en, t.active, t.version`

func scanTopic(s interface{ Scan(...any) error }) (events.Topic, error) {
	var t events.Topic
	err := s.Scan(&t.ID, &t.Code, &t.TitleAZ, &t.TitleRU, &t.TitleEN, &t.Active, &t.Version)
	return t, err
}

// EventTopics lists the catalogue (only the active topics unless all),
// each with its materials, for any signed-in member of staff.
func (db *DB) EventTopics(ctx context.Context, a audit.Actor, all bool) (ts []events.Topic, err error) {
	defer apperr.Wrap(&err, "storage.EventTopics")
	if !access.CanReadCatalogue(a.Principal) {
		return nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	c := db.reader()
	q := `SELECT ` + topicColumns + ` FROM event_topics t`
	if !all {
		q += ` WHERE t.active`
	}
	rows, err := c.query(ctx, q+` ORDER BY t.id`)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		t, err := scanTopic(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		ts = append(ts, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	files, err := eventFiles(ctx, c, `topic_id IS NOT NULL`)
	if err != nil {
		return nil, err
	}
	for i := range ts {
		for _, f := range files {
			if f.OwnerID == ts[i].ID {
				ts[i].Materials = append(ts[i].Materials, f)
			}
		}
	}
	return ts, nil
}

// EventTopic reads one topic with its materials.
func (db *DB) EventTopic(ctx context.Context, a audit.Actor, id int64) (t events.Topic, err error) {
	defer apperr.Wrap(&err, "storage.EventTopic(%d)", id)
	if !access.CanReadCatalogue(a.Principal) {
		return t, apperr.New(apperr.NotFound, "error.not_found")
	}
	c := db.reader()
	t, err = scanTopic(c.queryRow(ctx, `SELECT `+topicColumns+` FROM event_topics t WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return t, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return t, err
	}
	t.Materials, err = eventFiles(ctx, c, `topic_id = ?`, id)
	return t, err
}

func canEditTopics(a audit.Actor) error {
	if !access.CanEditTopics(a.Principal) {
		return apperr.New(apperr.Forbidden, "events.error.city_only")
	}
	return nil
}

// CreateEventTopic adds a topic to the catalogue (the city unit only).
func (db *DB) CreateEventTopic(ctx context.Context, a audit.Actor, t events.Topic) (_ events.Topic, err error) {
	defer apperr.Wrap(&err, "storage.CreateEventTopic")
	t.Code, t.TitleAZ, t.TitleRU, t.TitleEN = strings.TrimSpace(t.Code), strings.TrimSpace(t.TitleAZ), strings.TrimSpace(t.TitleRU), strings.TrimSpace(t.TitleEN)
	if err := canEditTopics(a); err != nil {
		return t, err
	}
	if err := t.Validate(); err != nil {
		return t, err
	}
	err = db.inTx(ctx, func(c conn) error {
		var n int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM event_topics WHERE code = ?`, t.Code).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return apperr.Validation(apperr.Field("code", "events.error.code_taken"))
		}
		if err := c.queryRow(ctx, `INSERT INTO event_topics (code, title_az, title_ru, title_en, active, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING id`, t.Code, t.TitleAZ, t.TitleRU, t.TitleEN, true, c.now, c.now).Scan(&t.ID); err != nil {
			return err
		}
		t.Active, t.Version = true, 1
		return appendAudit(ctx, c, a.Event("events.topic_create", "event_topic", t.ID))
	})
	return t, err
}

// UpdateEventTopic saves a topic's titles and whether it is offered, if t
// carries the version stored.
func (db *DB) UpdateEventTopic(ctx context.Context, a audit.Actor, t events.Topic) (_ events.Topic, err error) {
	defer apperr.Wrap(&err, "storage.UpdateEventTopic(%d)", t.ID)
	t.TitleAZ, t.TitleRU, t.TitleEN = strings.TrimSpace(t.TitleAZ), strings.TrimSpace(t.TitleRU), strings.TrimSpace(t.TitleEN)
	if err := canEditTopics(a); err != nil {
		return t, err
	}
	err = db.inTx(ctx, func(c conn) error {
		cur, err := scanTopic(c.queryRow(ctx, `SELECT `+topicColumns+` FROM event_topics t WHERE t.id = ?`, t.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if err != nil {
			return err
		}
		t.Code = cur.Code // a code never changes meaning
		if err := t.Validate(); err != nil {
			return err
		}
		if cur.Version != t.Version {
			return Stale(cur.Version, changed("title_az", cur.TitleAZ != t.TitleAZ, "title_ru", cur.TitleRU != t.TitleRU,
				"title_en", cur.TitleEN != t.TitleEN, "active", cur.Active != t.Active))
		}
		if _, err := c.exec(ctx, `UPDATE event_topics SET title_az = ?, title_ru = ?, title_en = ?, active = ?, version = version + 1,
			updated_at = ? WHERE id = ? AND version = ?`, t.TitleAZ, t.TitleRU, t.TitleEN, t.Active, c.now, t.ID, t.Version); err != nil {
			return err
		}
		t.Version++
		return appendAudit(ctx, c, a.Event("events.topic_update", "event_topic", t.ID))
	})
	return t, err
}

// --- files: a topic's materials, a campaign material's file ---

const fileColumns = `id, COALESCE(topic_id, campaign_id, 0), name, content_type, size, sha256, blob_key, created_at`

func eventFiles(ctx context.Context, c conn, where string, args ...any) ([]events.Material, error) {
	rows, err := c.query(ctx, `SELECT `+fileColumns+` FROM event_files WHERE `+where+` ORDER BY id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []events.Material
	for rows.Next() {
		var m events.Material
		if err := rows.Scan(&m.ID, &m.OwnerID, &m.Name, &m.ContentType, &m.Size, &m.SHA256, &m.BlobKey, &m.CreatedAt); err != nil {
			return nil, err
		}
		m.CreatedAt = m.CreatedAt.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// FileOwner says what a file belongs to: a topic or a campaign material.
type FileOwner struct {
	TopicID    int64
	CampaignID int64
}

// CanAddEventFile checks, before the bytes are stored, that a may add a
// file to owner and that owner exists.
func (db *DB) CanAddEventFile(ctx context.Context, a audit.Actor, owner FileOwner) (err error) {
	defer apperr.Wrap(&err, "storage.CanAddEventFile")
	if err := canEditTopics(a); err != nil {
		return err
	}
	return fileOwnerExists(ctx, db.reader(), owner)
}

func fileOwnerExists(ctx context.Context, c conn, owner FileOwner) error {
	q, id := `SELECT COUNT(*) FROM event_topics WHERE id = ?`, owner.TopicID
	if owner.CampaignID != 0 {
		q, id = `SELECT COUNT(*) FROM campaign_materials WHERE id = ?`, owner.CampaignID
	}
	var n int
	if err := c.queryRow(ctx, q, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 || (owner.TopicID == 0) == (owner.CampaignID == 0) {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	return nil
}

// AddEventFile records a file whose sealed bytes are in the blob store,
// checking its size and sniffed type again: a file the rules refuse is
// never recorded.
func (db *DB) AddEventFile(ctx context.Context, a audit.Actor, owner FileOwner, m events.Material) (_ events.Material, err error) {
	defer apperr.Wrap(&err, "storage.AddEventFile")
	if err := canEditTopics(a); err != nil {
		return m, err
	}
	if err := events.CheckFile(m.Size, m.ContentType); err != nil {
		return m, err
	}
	err = db.inTx(ctx, func(c conn) error {
		if err := fileOwnerExists(ctx, c, owner); err != nil {
			return err
		}
		if err := c.queryRow(ctx, `INSERT INTO event_files (topic_id, campaign_id, name, content_type, size, sha256, blob_key, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, nullInt(owner.TopicID), nullInt(owner.CampaignID), m.Name, m.ContentType,
			m.Size, m.SHA256, m.BlobKey, nullInt(a.UserID), c.now).Scan(&m.ID); err != nil {
			return err
		}
		m.OwnerID, m.CreatedAt = owner.TopicID+owner.CampaignID, c.now
		typ, id := "event_topic", owner.TopicID
		if owner.CampaignID != 0 {
			typ, id = "campaign_material", owner.CampaignID
		}
		e := a.Event("events.file_add", typ, id)
		e.Details = fmt.Sprintf(`{"file_id":%d,"size":%d}`, m.ID, m.Size)
		return appendAudit(ctx, c, e)
	})
	return m, err
}

// EventFile reads a file's record for a download by any member of staff,
// and audits the download.
func (db *DB) EventFile(ctx context.Context, a audit.Actor, id int64) (m events.Material, err error) {
	defer apperr.Wrap(&err, "storage.EventFile(%d)", id)
	if !access.CanReadCatalogue(a.Principal) {
		return m, apperr.New(apperr.NotFound, "error.not_found")
	}
	err = db.inTx(ctx, func(c conn) error {
		fs, err := eventFiles(ctx, c, `id = ?`, id)
		if err != nil {
			return err
		}
		if len(fs) == 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		m = fs[0]
		return appendAudit(ctx, c, a.Event("events.file_download", "event_file", id))
	})
	return m, err
}

// --- events ---

const eventColumns = `e.id, e.school_id, o.name_az, COALESCE(o.district_code, ''), e.starts_at, e.place, e.whole_school, e.classes,
	e.speaker_kind, e.speaker_body, e.speaker_name, e.status, e.head_count, e.notes, e.materials_used, e.feedback_code, e.version,
	(SELECT COUNT(*) FROM event_feedback f WHERE f.event_id = e.id),
	(SELECT COUNT(*) FROM parent_event_attendance pa WHERE pa.event_id = e.id)`

const eventFrom = ` FROM parent_events e JOIN orgs o ON o.id = e.school_id `

func scanEvent(s interface{ Scan(...any) error }) (events.Event, error) {
	var e events.Event
	var classes string
	err := s.Scan(&e.ID, &e.SchoolID, &e.SchoolName, &e.District, &e.StartsAt, &e.Place, &e.WholeSchool, &classes,
		&e.SpeakerKind, &e.SpeakerBody, &e.SpeakerName, &e.Status, &e.HeadCount, &e.Notes, &e.MaterialsUsed, &e.FeedbackCode,
		&e.Version, &e.Responses, &e.Attended)
	e.StartsAt = e.StartsAt.UTC()
	if classes != "" {
		e.Classes = strings.Split(classes, ",")
	}
	return e, err
}

// eventTopics fills each event's topics.
func eventTopics(ctx context.Context, c conn, es []events.Event) error {
	if len(es) == 0 {
		return nil
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = strconv.FormatInt(e.ID, 10)
	}
	rows, err := c.query(ctx, `SELECT pt.event_id, `+topicColumns+` FROM parent_event_topics pt JOIN event_topics t ON t.id = pt.topic_id
		WHERE pt.event_id IN (`+strings.Join(ids, ",")+`) ORDER BY t.id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	at := map[int64][]events.Topic{}
	for rows.Next() {
		var eid int64
		var t events.Topic
		if err := rows.Scan(&eid, &t.ID, &t.Code, &t.TitleAZ, &t.TitleRU, &t.TitleEN, &t.Active, &t.Version); err != nil {
			return err
		}
		at[eid] = append(at[eid], t)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	rows.Close()
	for i := range es {
		es[i].Topics = at[es[i].ID]
		es[i].TopicIDs = nil
		for _, t := range es[i].Topics {
			es[i].TopicIDs = append(es[i].TopicIDs, t.ID)
		}
	}
	files, err := eventFiles(ctx, c, `id IN (SELECT file_id FROM parent_event_files WHERE event_id IN (`+strings.Join(ids, ",")+`))`)
	if err != nil {
		return err
	}
	frows, err := c.query(ctx, `SELECT event_id, file_id FROM parent_event_files WHERE event_id IN (`+strings.Join(ids, ",")+`) ORDER BY file_id`)
	if err != nil {
		return err
	}
	defer frows.Close()
	byID := map[int64]events.Material{}
	for _, f := range files {
		byID[f.ID] = f
	}
	pos := map[int64]int{}
	for i, e := range es {
		pos[e.ID] = i
		es[i].FileIDs, es[i].Files = nil, nil
	}
	for frows.Next() {
		var eid, fid int64
		if err := frows.Scan(&eid, &fid); err != nil {
			return err
		}
		i := pos[eid]
		es[i].FileIDs = append(es[i].FileIDs, fid)
		es[i].Files = append(es[i].Files, byID[fid])
	}
	return frows.Err()
}

// EventQuery selects events for a calendar.
type EventQuery struct {
	From, To time.Time // starts_at in [From, To); zero: open
	SchoolID int64     // 0: every school the principal reaches
	// District and Status narrow the list to the events a dashboard's
	// number counts (the event's school in the district; planned, held,
	// cancelled).
	District string
	Status   events.Status
	Limit    int    // default and most 500
	After    string // a page's cursor: TimeCursor of the last event of the page before
}

// ParentEvents lists the events a may see (a school its own, a district
// its schools', the city all), filtered in SQL, earliest first.
func (db *DB) ParentEvents(ctx context.Context, a audit.Actor, q EventQuery) (es []events.Event, err error) {
	defer apperr.Wrap(&err, "storage.ParentEvents")
	cond, args, ok := eventScope(access.FilterEvents(a.Principal))
	if !ok {
		return nil, nil
	}
	sql := `SELECT ` + eventColumns + eventFrom + `WHERE (` + cond + `)`
	if !q.From.IsZero() {
		sql += ` AND e.starts_at >= ?`
		args = append(args, q.From.UTC())
	}
	if !q.To.IsZero() {
		sql += ` AND e.starts_at < ?`
		args = append(args, q.To.UTC())
	}
	scope, sargs := supportScope(`e.school_id`, StatsQuery{SchoolID: q.SchoolID, District: q.District})
	sql += ` AND ` + scope
	args = append(args, sargs...)
	if q.Status != "" {
		sql += ` AND e.status = ?`
		args = append(args, q.Status)
	}
	if q.After != "" {
		at, id, ok := ParseTimeCursor(q.After)
		if !ok {
			return nil, apperr.Validation(apperr.Field("after", "error.cursor"))
		}
		sql += ` AND (e.starts_at > ? OR (e.starts_at = ? AND e.id > ?))`
		args = append(args, at, at, id)
	}
	if q.Limit <= 0 || q.Limit > 500 {
		q.Limit = 500
	}
	c := db.reader()
	rows, err := c.query(ctx, sql+` ORDER BY e.starts_at, e.id LIMIT `+strconv.Itoa(q.Limit), args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		es = append(es, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return es, eventTopics(ctx, c, es)
}

// Attendee is a pupil whose parent came to an event.
type Attendee struct {
	ChildID int64
	Name    string
	Grade   int
	Section string
}

// EventRecord is one event with what the viewer may do with it and, for
// those who may see the school's pupils, whose parents came.
type EventRecord struct {
	events.Event
	CanWrite  bool
	Attendees []Attendee
}

func loadEvent(ctx context.Context, c conn, p access.Principal, id int64) (events.Event, access.Decision, error) {
	e, err := scanEvent(c.queryRow(ctx, `SELECT `+eventColumns+eventFrom+`WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, access.Decision{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return e, access.Decision{}, err
	}
	d := access.DecideEvent(p, access.Read, access.EventFacts{SchoolID: e.SchoolID, District: e.District})
	if !d.Allowed {
		return e, d, apperr.New(apperr.NotFound, "error.not_found")
	}
	es := []events.Event{e}
	if err := eventTopics(ctx, c, es); err != nil {
		return e, d, err
	}
	return es[0], d, nil
}

// ParentEvent reads one event. The pupils whose parents came are a
// child's data: they are listed only as far as each child's policy lets
// the viewer see the child, and the read is audited with their IDs.
func (db *DB) ParentEvent(ctx context.Context, a audit.Actor, id int64) (r EventRecord, err error) {
	defer apperr.Wrap(&err, "storage.ParentEvent(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		r.Event, _, err = loadEvent(ctx, c, a.Principal, id)
		if err != nil {
			return err
		}
		r.CanWrite = access.DecideEvent(a.Principal, access.Write, access.EventFacts{SchoolID: r.SchoolID, District: r.District}).Allowed
		rows, err := c.query(ctx, `SELECT child_id FROM parent_event_attendance WHERE event_id = ? ORDER BY child_id`, id)
		if err != nil {
			return err
		}
		var ids []int64
		for rows.Next() {
			var cid int64
			if err := rows.Scan(&cid); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, cid)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		var seen []int64
		for _, cid := range ids {
			ch, err := loadChild(ctx, c, a.Principal, access.Read, cid)
			if apperr.CodeOf(err) == apperr.NotFound {
				continue
			}
			if err != nil {
				return err
			}
			seen = append(seen, cid)
			r.Attendees = append(r.Attendees, Attendee{ChildID: cid, Name: ch.LastName + " " + ch.FirstName, Grade: ch.Grade,
				Section: ch.Section})
		}
		e := a.Event("events.event_read", "parent_event", id)
		if len(seen) > 0 {
			e.Details = fmt.Sprintf(`{"children":%s}`, idsJSON(seen))
		}
		return appendAudit(ctx, c, e)
	})
	return r, err
}

// newFeedbackCode makes an event's short-link code: 10 characters of
// base32, about 50 bits, so that links cannot be guessed one by one.
func newFeedbackCode() string {
	b := make([]byte, 7)
	_, _ = rand.Read(b)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))[:10]
}

// normalizeEvent trims an event's text and keeps its topics in order.
func normalizeEvent(e *events.Event) {
	e.Place, e.SpeakerName = strings.TrimSpace(e.Place), strings.TrimSpace(e.SpeakerName)
	e.Notes, e.MaterialsUsed = strings.TrimSpace(e.Notes), strings.TrimSpace(e.MaterialsUsed)
	slices.Sort(e.TopicIDs)
	e.TopicIDs = slices.Compact(e.TopicIDs)
	slices.Sort(e.FileIDs)
	e.FileIDs = slices.Compact(e.FileIDs)
	if e.WholeSchool {
		e.Classes = nil
	}
	if e.SpeakerKind != events.Invited {
		e.SpeakerBody = ""
	}
}

// checkTopics refuses a topic that is not in the catalogue or is no longer
// offered.
func checkTopics(ctx context.Context, c conn, ids []int64, allowInactive []int64) error {
	for _, id := range ids {
		var active bool
		err := c.queryRow(ctx, `SELECT active FROM event_topics WHERE id = ?`, id).Scan(&active)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && !active && !slices.Contains(allowInactive, id)) {
			return apperr.Validation(apperr.Field("topics", "events.error.topic_unknown"))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// setEventFiles replaces an event's chosen materials, refusing a file that
// does not exist.
func setEventFiles(ctx context.Context, c conn, eventID int64, ids []int64) error {
	if _, err := c.exec(ctx, `DELETE FROM parent_event_files WHERE event_id = ?`, eventID); err != nil {
		return err
	}
	for _, f := range ids {
		var n int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM event_files WHERE id = ?`, f).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.Validation(apperr.Field("files", "events.error.file_unknown"))
		}
		if _, err := c.exec(ctx, `INSERT INTO parent_event_files (event_id, file_id) VALUES (?, ?)`, eventID, f); err != nil {
			return err
		}
	}
	return nil
}

func setEventTopics(ctx context.Context, c conn, eventID int64, ids []int64) error {
	if _, err := c.exec(ctx, `DELETE FROM parent_event_topics WHERE event_id = ?`, eventID); err != nil {
		return err
	}
	for _, t := range ids {
		if _, err := c.exec(ctx, `INSERT INTO parent_event_topics (event_id, topic_id) VALUES (?, ?)`, eventID, t); err != nil {
			return err
		}
	}
	return nil
}

// CreateParentEvent plans an event at e.SchoolID (a school's staff: their
// own school, whatever is sent).
func (db *DB) CreateParentEvent(ctx context.Context, a audit.Actor, e events.Event) (_ events.Event, err error) {
	defer apperr.Wrap(&err, "storage.CreateParentEvent")
	if a.OrgType == org.School {
		e.SchoolID = a.OrgID
	}
	e.Status, e.HeadCount = events.Planned, 0
	normalizeEvent(&e)
	if err := e.Validate(); err != nil {
		return e, err
	}
	err = db.inTx(ctx, func(c conn) error {
		facts, name, err := schoolFacts(ctx, c, e.SchoolID)
		if err != nil {
			return err
		}
		if !access.DecideEvent(a.Principal, access.Write, facts).Allowed {
			return apperr.New(apperr.Forbidden, "events.error.not_yours")
		}
		if err := checkTopics(ctx, c, e.TopicIDs, nil); err != nil {
			return err
		}
		e.FeedbackCode, e.SchoolName, e.District = newFeedbackCode(), name, facts.District
		if err := c.queryRow(ctx, `INSERT INTO parent_events (school_id, starts_at, place, whole_school, classes, speaker_kind, speaker_body,
			speaker_name, status, head_count, notes, materials_used, feedback_code, version, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, 1, ?, ?, ?) RETURNING id`, e.SchoolID, e.StartsAt.UTC(), e.Place, e.WholeSchool,
			strings.Join(e.Classes, ","), e.SpeakerKind, e.SpeakerBody, e.SpeakerName, e.Status, e.Notes, e.MaterialsUsed,
			e.FeedbackCode, nullInt(a.UserID), c.now, c.now).Scan(&e.ID); err != nil {
			return err
		}
		if err := setEventTopics(ctx, c, e.ID, e.TopicIDs); err != nil {
			return err
		}
		if err := setEventFiles(ctx, c, e.ID, e.FileIDs); err != nil {
			return err
		}
		e.Version = 1
		return appendAudit(ctx, c, a.Event("events.event_create", "parent_event", e.ID))
	})
	return e, err
}

// UpdateParentEvent saves an event's plan and what was recorded after it
// (status, head count, notes, materials used), if e carries the version
// stored; otherwise a Conflict naming what changed.
func (db *DB) UpdateParentEvent(ctx context.Context, a audit.Actor, e events.Event) (_ events.Event, err error) {
	defer apperr.Wrap(&err, "storage.UpdateParentEvent(%d)", e.ID)
	normalizeEvent(&e)
	if err := e.Validate(); err != nil {
		return e, err
	}
	err = db.inTx(ctx, func(c conn) error {
		cur, _, err := loadEvent(ctx, c, a.Principal, e.ID)
		if err != nil {
			return err
		}
		if !access.DecideEvent(a.Principal, access.Write, access.EventFacts{SchoolID: cur.SchoolID, District: cur.District}).Allowed {
			return apperr.New(apperr.Forbidden, "events.error.not_yours")
		}
		if cur.Version != e.Version {
			return Stale(cur.Version, changed("starts_at", !cur.StartsAt.Equal(e.StartsAt.UTC()), "place", cur.Place != e.Place,
				"status", cur.Status != e.Status, "head_count", cur.HeadCount != e.HeadCount, "notes", cur.Notes != e.Notes,
				"topics", !slices.Equal(cur.TopicIDs, e.TopicIDs)))
		}
		if err := checkTopics(ctx, c, e.TopicIDs, cur.TopicIDs); err != nil {
			return err
		}
		res, err := c.exec(ctx, `UPDATE parent_events SET starts_at = ?, place = ?, whole_school = ?, classes = ?, speaker_kind = ?,
			speaker_body = ?, speaker_name = ?, status = ?, head_count = ?, notes = ?, materials_used = ?, version = version + 1,
			updated_at = ? WHERE id = ? AND version = ?`, e.StartsAt.UTC(), e.Place, e.WholeSchool, strings.Join(e.Classes, ","),
			e.SpeakerKind, e.SpeakerBody, e.SpeakerName, e.Status, e.HeadCount, e.Notes, e.MaterialsUsed, c.now, e.ID, e.Version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return Stale(cur.Version, nil)
		}
		if err := setEventTopics(ctx, c, e.ID, e.TopicIDs); err != nil {
			return err
		}
		if err := setEventFiles(ctx, c, e.ID, e.FileIDs); err != nil {
			return err
		}
		e.Version++
		e.SchoolID, e.SchoolName, e.District, e.FeedbackCode = cur.SchoolID, cur.SchoolName, cur.District, cur.FeedbackCode
		e.Responses, e.Attended = cur.Responses, cur.Attended
		return appendAudit(ctx, c, a.Event("events.event_update", "parent_event", e.ID))
	})
	return e, err
}

// Attendance is what a school records after an event.
type Attendance struct {
	EventID       int64
	Version       int
	HeadCount     int
	Notes         string
	MaterialsUsed string
	ChildIDs      []int64 // the pupils whose parents came (optional)
}

// RecordAttendance marks the event held and records its head count, notes,
// materials used and which pupils' parents came (replacing any earlier
// list). Each pupil must be of the event's school and one a may write
// for; each is audited against the child.
func (db *DB) RecordAttendance(ctx context.Context, a audit.Actor, at Attendance) (e events.Event, err error) {
	defer apperr.Wrap(&err, "storage.RecordAttendance(%d)", at.EventID)
	slices.Sort(at.ChildIDs)
	at.ChildIDs = slices.Compact(at.ChildIDs)
	if at.HeadCount < len(at.ChildIDs) {
		return e, apperr.Validation(apperr.Field("head_count", "events.error.head_count", len(at.ChildIDs)))
	}
	err = db.inTx(ctx, func(c conn) error {
		cur, _, err := loadEvent(ctx, c, a.Principal, at.EventID)
		if err != nil {
			return err
		}
		if !access.DecideEvent(a.Principal, access.Write, access.EventFacts{SchoolID: cur.SchoolID, District: cur.District}).Allowed {
			return apperr.New(apperr.Forbidden, "events.error.not_yours")
		}
		if cur.Version != at.Version {
			return Stale(cur.Version, changed("head_count", cur.HeadCount != at.HeadCount, "notes", cur.Notes != at.Notes))
		}
		e = cur
		e.Status, e.HeadCount, e.Notes, e.MaterialsUsed = events.Held, at.HeadCount, strings.TrimSpace(at.Notes), strings.TrimSpace(at.MaterialsUsed)
		if err := e.Validate(); err != nil {
			return err
		}
		var evs []audit.Event
		for _, cid := range at.ChildIDs {
			ch, err := loadChild(ctx, c, a.Principal, access.Write, cid)
			if code := apperr.CodeOf(err); code == apperr.NotFound || code == apperr.Forbidden || (err == nil && ch.SchoolID != cur.SchoolID) {
				return apperr.Validation(apperr.Field("children", "events.error.pupil", cid))
			}
			if err != nil {
				return err
			}
			ev := a.Event("events.attendance_record", "parent_event", at.EventID)
			ev.ChildID = cid
			evs = append(evs, ev)
		}
		if _, err := c.exec(ctx, `UPDATE parent_events SET status = ?, head_count = ?, notes = ?, materials_used = ?, version = version + 1,
			updated_at = ? WHERE id = ? AND version = ?`, e.Status, e.HeadCount, e.Notes, e.MaterialsUsed, c.now, e.ID, at.Version); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `DELETE FROM parent_event_attendance WHERE event_id = ?`, e.ID); err != nil {
			return err
		}
		for _, cid := range at.ChildIDs {
			if _, err := c.exec(ctx, `INSERT INTO parent_event_attendance (event_id, child_id, recorded_by, recorded_at) VALUES (?, ?, ?, ?)`,
				e.ID, cid, nullInt(a.UserID), c.now); err != nil {
				return err
			}
		}
		e.Version, e.Attended = at.Version+1, len(at.ChildIDs)
		ev := a.Event("events.attendance", "parent_event", e.ID)
		ev.Details = fmt.Sprintf(`{"head_count":%d,"pupils":%d}`, e.HeadCount, len(at.ChildIDs))
		if err := appendAudit(ctx, c, ev); err != nil {
			return err
		}
		for _, ev := range evs {
			if err := appendAudit(ctx, c, ev); err != nil {
				return err
			}
		}
		return nil
	})
	return e, err
}

// ChildEventAttendance is one event a child's parent attended, as the
// register and the recovery plan show it.
type ChildEventAttendance struct {
	EventID    int64
	StartsAt   time.Time
	SchoolName string
	Topics     []events.Topic
}

// ParentEventAttendance lists the events the parent of childID attended,
// the latest first, if a may read the child (the read is audited against
// the child; a child outside a's reach is NotFound). The register (issue
// 11) and the recovery plans (issue 12) call it.
func (db *DB) ParentEventAttendance(ctx context.Context, a audit.Actor, childID int64) (out []ChildEventAttendance, err error) {
	defer apperr.Wrap(&err, "storage.ParentEventAttendance(%d)", childID)
	err = db.inTx(ctx, func(c conn) error {
		if _, err := loadChild(ctx, c, a.Principal, access.Read, childID); err != nil {
			return err
		}
		if out, err = attendanceOf(ctx, c, childID); err != nil {
			return err
		}
		return appendAudit(ctx, c, attendanceEvent(a, childID))
	})
	return out, err
}

// attendanceOf reads the events the parent of childID attended, the latest
// first; the caller has checked the reader may read the child.
func attendanceOf(ctx context.Context, c conn, childID int64) ([]ChildEventAttendance, error) {
	rows, err := c.query(ctx, `SELECT `+eventColumns+eventFrom+`JOIN parent_event_attendance pa ON pa.event_id = e.id
		WHERE pa.child_id = ? ORDER BY e.starts_at DESC, e.id DESC LIMIT 100`, childID)
	if err != nil {
		return nil, err
	}
	var es []events.Event
	for rows.Next() {
		e, err := scanEvent(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		es = append(es, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if err := eventTopics(ctx, c, es); err != nil {
		return nil, err
	}
	var out []ChildEventAttendance
	for _, e := range es {
		out = append(out, ChildEventAttendance{EventID: e.ID, StartsAt: e.StartsAt, SchoolName: e.SchoolName, Topics: e.Topics})
	}
	return out, nil
}

// attendanceEvent is the audit event of reading a child's parent's attendance.
func attendanceEvent(a audit.Actor, childID int64) audit.Event {
	ev := a.Event("events.attendance_read", "child", childID)
	ev.ChildID = childID
	return ev
}

// --- anonymous feedback ---

// PublicEvent is what the feedback form shows of an event: no pupil, no
// staff member, only the school and the topics.
type PublicEvent struct {
	ID       int64
	StartsAt time.Time
	School   org.Org
	Topics   []events.Topic
	Status   events.Status
}

// EventByFeedbackCode finds the event behind a feedback link; it needs no
// sign-in. A cancelled event takes no feedback.
func (db *DB) EventByFeedbackCode(ctx context.Context, code string) (pe PublicEvent, err error) {
	defer apperr.Wrap(&err, "storage.EventByFeedbackCode")
	code = strings.ToLower(strings.TrimSpace(code))
	if len(code) != 10 {
		return pe, apperr.New(apperr.NotFound, "error.not_found")
	}
	c := db.reader()
	var sid int64
	err = c.queryRow(ctx, `SELECT e.id, e.starts_at, e.status, o.id, o.name_az, o.name_ru, o.name_en FROM parent_events e
		JOIN orgs o ON o.id = e.school_id WHERE e.feedback_code = ?`, code).
		Scan(&pe.ID, &pe.StartsAt, &pe.Status, &sid, &pe.School.NameAZ, &pe.School.NameRU, &pe.School.NameEN)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && pe.Status == events.Cancelled) {
		return pe, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return pe, err
	}
	pe.School.ID, pe.StartsAt = sid, pe.StartsAt.UTC()
	es := []events.Event{{ID: pe.ID}}
	if err := eventTopics(ctx, c, es); err != nil {
		return pe, err
	}
	pe.Topics = es[0].Topics
	return pe, nil
}

// AddFeedback stores one anonymous response to the event behind code. It
// takes no actor: nothing about who answered is kept, not even in the
// audit trail, whose event for it carries no address and no request. Once
// attendance is recorded, an event takes at most events.FeedbackCap(head
// count) responses; more are a Conflict (ADR 0031).
func (db *DB) AddFeedback(ctx context.Context, code string, f events.Feedback) (err error) {
	defer apperr.Wrap(&err, "storage.AddFeedback")
	f.Clear, f.NextTopic, f.Comment = strings.TrimSpace(f.Clear), strings.TrimSpace(f.NextTopic), strings.TrimSpace(f.Comment)
	if !slices.Contains(events.Languages(), f.Lang) {
		f.Lang = "az"
	}
	if err := f.Validate(); err != nil {
		return err
	}
	pe, err := db.EventByFeedbackCode(ctx, code)
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(c conn) error {
		// The no-op update locks the event's row (PostgreSQL; SQLite has one
		// writer), so that concurrent responses cannot both pass the cap.
		var head, n int
		if err := c.queryRow(ctx, `UPDATE parent_events SET head_count = head_count WHERE id = ? RETURNING head_count`, pe.ID).
			Scan(&head); err != nil {
			return err
		}
		if limit := events.FeedbackCap(head); limit > 0 {
			if err := c.queryRow(ctx, `SELECT COUNT(*) FROM event_feedback WHERE event_id = ?`, pe.ID).Scan(&n); err != nil {
				return err
			}
			if n >= limit {
				return apperr.New(apperr.Conflict, "events.error.feedback_full")
			}
		}
		day := c.now.In(time.FixedZone("AZT", 4*3600)).Format("2006-01-02")
		if _, err := c.exec(ctx, `INSERT INTO event_feedback (event_id, usefulness, clear_text, next_topic, comment, lang, day)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, pe.ID, f.Usefulness, f.Clear, f.NextTopic, f.Comment, f.Lang, day); err != nil {
			return err
		}
		return appendAudit(ctx, c, audit.System().Event("events.feedback", "parent_event", pe.ID))
	})
}

// FeedbackSummary is an event's responses in figures, and its free text.
type FeedbackSummary struct {
	Responses     int
	AvgUsefulness float64
	Counts        [6]int // Counts[n]: responses rating n
	Texts         []FeedbackText
}

// FeedbackText is one response's free text.
type FeedbackText struct {
	Usefulness                int
	Clear, NextTopic, Comment string
}

// EventFeedback summarises an event's feedback for those who may read the
// event.
func (db *DB) EventFeedback(ctx context.Context, a audit.Actor, eventID int64) (s FeedbackSummary, err error) {
	defer apperr.Wrap(&err, "storage.EventFeedback(%d)", eventID)
	c := db.reader()
	if _, _, err := loadEvent(ctx, c, a.Principal, eventID); err != nil {
		return s, err
	}
	rows, err := c.query(ctx, `SELECT usefulness, clear_text, next_topic, comment FROM event_feedback WHERE event_id = ? ORDER BY id`, eventID)
	if err != nil {
		return s, err
	}
	defer rows.Close()
	sum := 0
	for rows.Next() {
		var t FeedbackText
		if err := rows.Scan(&t.Usefulness, &t.Clear, &t.NextTopic, &t.Comment); err != nil {
			return s, err
		}
		s.Responses++
		sum += t.Usefulness
		if t.Usefulness >= 1 && t.Usefulness <= 5 {
			s.Counts[t.Usefulness]++
		}
		if t.Clear != "" || t.NextTopic != "" || t.Comment != "" {
			s.Texts = append(s.Texts, t)
		}
	}
	if s.Responses > 0 {
		s.AvgUsefulness = float64(sum) / float64(s.Responses)
	}
	return s, rows.Err()
}

// --- the city's view ---

// EventOverviewRow is one school and topic in the city's view.
type EventOverviewRow struct {
	SchoolID      int64
	SchoolName    string
	District      string
	TopicID       int64
	Events        int
	Parents       int // head counts summed
	Responses     int
	AvgUsefulness float64
}

// SchoolRef is a school named in the city's view.
type SchoolRef struct {
	ID       int64
	Name     string
	District string
}

// EventOverview is the city's (or a district's) view of a school year:
// which schools held which topics, parents attending, feedback scores,
// and where none were held.
type EventOverview struct {
	From, To       time.Time
	Rows           []EventOverviewRow
	HeldEvents     int
	Parents        int
	Responses      int
	AvgUsefulness  float64
	SchoolsWithout []SchoolRef    // schools with no event held or planned in the year
	SchoolsTotal   int            // schools in the view
	TopicsWithout  []events.Topic // active topics no school covered
}

// EventOverview reads the aggregate view of events starting in [from, to)
// for those who may see aggregates (access.SeesEventAggregates): the city
// and the Public Council the whole city, a district its own. Cancelled
// events do not count. It names schools and topics, never a pupil.
func (db *DB) EventOverview(ctx context.Context, a audit.Actor, from, to time.Time) (ov EventOverview, err error) {
	defer apperr.Wrap(&err, "storage.EventOverview")
	cond, args, ok := eventScope(access.AggregateFilter(a.Principal))
	if !ok {
		return ov, apperr.New(apperr.NotFound, "error.not_found")
	}
	ov.From, ov.To = from.UTC(), to.UTC()
	c := db.reader()
	q := `SELECT o.id, o.name_az, COALESCE(o.district_code, ''), pt.topic_id, COUNT(*), COALESCE(SUM(e.head_count), 0),
		COALESCE(SUM((SELECT COUNT(*) FROM event_feedback f WHERE f.event_id = e.id)), 0),
		COALESCE(SUM((SELECT SUM(f.usefulness) FROM event_feedback f WHERE f.event_id = e.id)), 0)
		FROM parent_events e JOIN orgs o ON o.id = e.school_id JOIN parent_event_topics pt ON pt.event_id = e.id
		WHERE (` + cond + `) AND e.status <> 'cancelled' AND e.starts_at >= ? AND e.starts_at < ?
		GROUP BY o.id, o.name_az, o.district_code, pt.topic_id ORDER BY o.district_code, o.name_az, pt.topic_id`
	rows, err := c.query(ctx, q, append(slices.Clone(args), ov.From, ov.To)...)
	if err != nil {
		return ov, err
	}
	covered := map[int64]bool{}
	for rows.Next() {
		var r EventOverviewRow
		var useSum int
		if err := rows.Scan(&r.SchoolID, &r.SchoolName, &r.District, &r.TopicID, &r.Events, &r.Parents, &r.Responses, &useSum); err != nil {
			rows.Close()
			return ov, err
		}
		if r.Responses > 0 {
			r.AvgUsefulness = float64(useSum) / float64(r.Responses)
		}
		covered[r.TopicID] = true
		ov.Rows = append(ov.Rows, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ov, err
	}
	var useSum int
	if err := c.queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(e.head_count), 0),
		COALESCE(SUM((SELECT COUNT(*) FROM event_feedback f WHERE f.event_id = e.id)), 0),
		COALESCE(SUM((SELECT SUM(f.usefulness) FROM event_feedback f WHERE f.event_id = e.id)), 0)
		FROM parent_events e JOIN orgs o ON o.id = e.school_id
		WHERE (`+cond+`) AND e.status = 'held' AND e.starts_at >= ? AND e.starts_at < ?`, append(slices.Clone(args), ov.From, ov.To)...).
		Scan(&ov.HeldEvents, &ov.Parents, &ov.Responses, &useSum); err != nil {
		return ov, err
	}
	if ov.Responses > 0 {
		ov.AvgUsefulness = float64(useSum) / float64(ov.Responses)
	}
	if err := c.queryRow(ctx, `SELECT COUNT(*) FROM orgs o WHERE o.type = 'school' AND (`+cond+`)`, args...).Scan(&ov.SchoolsTotal); err != nil {
		return ov, err
	}
	rows, err = c.query(ctx, `SELECT o.id, o.name_az, COALESCE(o.district_code, '') FROM orgs o WHERE o.type = 'school' AND (`+cond+`)
		AND NOT EXISTS (SELECT 1 FROM parent_events e WHERE e.school_id = o.id AND e.status <> 'cancelled' AND e.starts_at >= ? AND e.starts_at < ?)
		ORDER BY o.district_code, o.code LIMIT 1000`, append(slices.Clone(args), ov.From, ov.To)...)
	if err != nil {
		return ov, err
	}
	for rows.Next() {
		var s SchoolRef
		if err := rows.Scan(&s.ID, &s.Name, &s.District); err != nil {
			rows.Close()
			return ov, err
		}
		ov.SchoolsWithout = append(ov.SchoolsWithout, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return ov, err
	}
	rows, err = c.query(ctx, `SELECT `+topicColumns+` FROM event_topics t WHERE t.active ORDER BY t.id`)
	if err != nil {
		return ov, err
	}
	defer rows.Close()
	for rows.Next() {
		t, err := scanTopic(rows)
		if err != nil {
			return ov, err
		}
		if !covered[t.ID] {
			ov.TopicsWithout = append(ov.TopicsWithout, t)
		}
	}
	return ov, rows.Err()
}
