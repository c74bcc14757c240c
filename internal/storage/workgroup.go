package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/workgroup"
)

// WGSeat is how a principal stands to the working group: their membership
// (nil when they are not a member) and whether they may run it. Someone
// who is neither a member nor from the city unit may not see the group.
type WGSeat struct {
	Member    *workgroup.Member
	CanManage bool
}

// wgSeat looks a principal up in the group, refusing those who have no
// seat in it.
func wgSeat(ctx context.Context, c conn, p access.Principal) (WGSeat, error) {
	var m workgroup.Member
	err := c.queryRow(ctx, `SELECT m.id, m.user_id, u.name, u.org_id, o.name_az, m.role FROM wg_members m
		JOIN users u ON u.id = m.user_id JOIN orgs o ON o.id = u.org_id WHERE m.user_id = ?`, p.UserID).
		Scan(&m.ID, &m.UserID, &m.UserName, &m.OrgID, &m.OrgName, &m.Role)
	s := WGSeat{}
	switch {
	case err == nil:
		s.Member = &m
	case !errors.Is(err, sql.ErrNoRows):
		return s, err
	}
	s.CanManage = workgroup.CanManage(p, s.Member)
	if s.Member == nil && !s.CanManage {
		return s, apperr.New(apperr.Forbidden, "workgroup.error.not_member")
	}
	return s, nil
}

// WGSeatOf reports how a stands to the working group; Forbidden when they
// have no seat in it.
func (db *DB) WGSeatOf(ctx context.Context, a audit.Actor) (s WGSeat, err error) {
	defer apperr.Wrap(&err, "storage.WGSeatOf")
	return wgSeat(ctx, db.reader(), a.Principal)
}

// manage checks that a may run the group.
func manage(ctx context.Context, c conn, a audit.Actor) (WGSeat, error) {
	s, err := wgSeat(ctx, c, a.Principal)
	if err != nil {
		return s, err
	}
	if !s.CanManage {
		return s, apperr.New(apperr.Forbidden, "workgroup.error.not_manager")
	}
	return s, nil
}

// WGMembers lists the group's members by body and name.
func (db *DB) WGMembers(ctx context.Context, a audit.Actor) (ms []workgroup.Member, err error) {
	defer apperr.Wrap(&err, "storage.WGMembers")
	c := db.reader()
	if _, err := wgSeat(ctx, c, a.Principal); err != nil {
		return nil, err
	}
	rows, err := c.query(ctx, `SELECT m.id, m.user_id, u.name, u.org_id, o.name_az, m.role FROM wg_members m
		JOIN users u ON u.id = m.user_id JOIN orgs o ON o.id = u.org_id ORDER BY o.name_az, u.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m workgroup.Member
		if err := rows.Scan(&m.ID, &m.UserID, &m.UserName, &m.OrgID, &m.OrgName, &m.Role); err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// AddWGMember seats the user with the given e-mail in the group.
func (db *DB) AddWGMember(ctx context.Context, a audit.Actor, email string, role workgroup.Role) (err error) {
	defer apperr.Wrap(&err, "storage.AddWGMember")
	if !role.Valid() {
		return apperr.Validation(apperr.Field("role", "workgroup.error.role"))
	}
	return db.inTx(ctx, func(c conn) error {
		if _, err := manage(ctx, c, a); err != nil {
			return err
		}
		var uid int64
		err := c.queryRow(ctx, `SELECT id FROM users WHERE email = ? AND NOT disabled`, strings.ToLower(strings.TrimSpace(email))).Scan(&uid)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.Validation(apperr.Field("email", "workgroup.error.user_unknown"))
		}
		if err != nil {
			return err
		}
		var n int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM wg_members WHERE user_id = ?`, uid).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return apperr.Validation(apperr.Field("email", "workgroup.error.already_member"))
		}
		var id int64
		if err := c.queryRow(ctx, `INSERT INTO wg_members (user_id, role, added_by, added_at) VALUES (?, ?, ?, ?) RETURNING id`,
			uid, role, nullInt(a.UserID), c.now).Scan(&id); err != nil {
			return err
		}
		e := a.Event("workgroup.member_add", "wg_member", id)
		e.Details = fmt.Sprintf(`{"user_id":%d,"role":%q}`, uid, role)
		return appendAudit(ctx, c, e)
	})
}

// RemoveWGMember takes a member's seat away.
func (db *DB) RemoveWGMember(ctx context.Context, a audit.Actor, id int64) (err error) {
	defer apperr.Wrap(&err, "storage.RemoveWGMember(%d)", id)
	return db.inTx(ctx, func(c conn) error {
		if _, err := manage(ctx, c, a); err != nil {
			return err
		}
		res, err := c.exec(ctx, `DELETE FROM wg_members WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return appendAudit(ctx, c, a.Event("workgroup.member_remove", "wg_member", id))
	})
}

const meetingColumns = `id, title, starts_at, place, status, minutes, version`

func scanMeeting(s interface{ Scan(...any) error }) (workgroup.Meeting, error) {
	var m workgroup.Meeting
	err := s.Scan(&m.ID, &m.Title, &m.StartsAt, &m.Place, &m.Status, &m.Minutes, &m.Version)
	m.StartsAt = m.StartsAt.UTC()
	return m, err
}

// WGMeetings lists meetings, the newest first.
func (db *DB) WGMeetings(ctx context.Context, a audit.Actor) (ms []workgroup.Meeting, err error) {
	defer apperr.Wrap(&err, "storage.WGMeetings")
	c := db.reader()
	if _, err := wgSeat(ctx, c, a.Principal); err != nil {
		return nil, err
	}
	rows, err := c.query(ctx, `SELECT `+meetingColumns+` FROM wg_meetings ORDER BY starts_at DESC, id DESC LIMIT 200`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// MeetingRecord is a meeting with everything recorded at it.
type MeetingRecord struct {
	workgroup.Meeting
	Agenda    []workgroup.AgendaItem
	Decisions []workgroup.Decision
	Actions   []workgroup.ActionItem
	Seat      WGSeat
}

// WGMeeting reads one meeting with its agenda, decisions and action items.
// The agenda names cases by ID only; what a viewer sees of each case is
// decided by the case's own policy when it is shown.
func (db *DB) WGMeeting(ctx context.Context, a audit.Actor, id int64) (r MeetingRecord, err error) {
	defer apperr.Wrap(&err, "storage.WGMeeting(%d)", id)
	c := db.reader()
	if r.Seat, err = wgSeat(ctx, c, a.Principal); err != nil {
		return r, err
	}
	r.Meeting, err = scanMeeting(c.queryRow(ctx, `SELECT `+meetingColumns+` FROM wg_meetings WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return r, err
	}
	rows, err := c.query(ctx, `SELECT id, meeting_id, case_id, position, note FROM wg_agenda WHERE meeting_id = ? ORDER BY position, id`, id)
	if err != nil {
		return r, err
	}
	for rows.Next() {
		var it workgroup.AgendaItem
		if err := rows.Scan(&it.ID, &it.MeetingID, &it.CaseID, &it.Position, &it.Note); err != nil {
			rows.Close()
			return r, err
		}
		r.Agenda = append(r.Agenda, it)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	rows, err = c.query(ctx, `SELECT id, meeting_id, COALESCE(case_id, 0), text FROM wg_decisions WHERE meeting_id = ? ORDER BY id`, id)
	if err != nil {
		return r, err
	}
	for rows.Next() {
		var d workgroup.Decision
		if err := rows.Scan(&d.ID, &d.MeetingID, &d.CaseID, &d.Text); err != nil {
			rows.Close()
			return r, err
		}
		r.Decisions = append(r.Decisions, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return r, err
	}
	r.Actions, err = actionItems(ctx, c, ActionFilter{MeetingID: id})
	return r, err
}

// CreateMeeting plans a meeting.
func (db *DB) CreateMeeting(ctx context.Context, a audit.Actor, m workgroup.Meeting) (_ workgroup.Meeting, err error) {
	defer apperr.Wrap(&err, "storage.CreateMeeting")
	m.Status = workgroup.Planned
	if err := m.Validate(); err != nil {
		return m, err
	}
	err = db.inTx(ctx, func(c conn) error {
		if _, err := manage(ctx, c, a); err != nil {
			return err
		}
		if err := c.queryRow(ctx, `INSERT INTO wg_meetings (title, starts_at, place, status, minutes, version, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id`, strings.TrimSpace(m.Title), m.StartsAt.UTC(), strings.TrimSpace(m.Place),
			m.Status, m.Minutes, nullInt(a.UserID), c.now, c.now).Scan(&m.ID); err != nil {
			return err
		}
		m.Version = 1
		return appendAudit(ctx, c, a.Event("workgroup.meeting_create", "wg_meeting", m.ID))
	})
	return m, err
}

// UpdateMeeting saves m (title, time, place, status, minutes) if it carries
// the version stored; otherwise it is a Conflict that names what changed
// meanwhile.
func (db *DB) UpdateMeeting(ctx context.Context, a audit.Actor, m workgroup.Meeting) (_ workgroup.Meeting, err error) {
	defer apperr.Wrap(&err, "storage.UpdateMeeting(%d)", m.ID)
	if err := m.Validate(); err != nil {
		return m, err
	}
	err = db.inTx(ctx, func(c conn) error {
		if _, err := manage(ctx, c, a); err != nil {
			return err
		}
		cur, err := scanMeeting(c.queryRow(ctx, `SELECT `+meetingColumns+` FROM wg_meetings WHERE id = ?`, m.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if err != nil {
			return err
		}
		if cur.Version != m.Version {
			return Stale(cur.Version, changed(
				"title", cur.Title != strings.TrimSpace(m.Title), "starts_at", !cur.StartsAt.Equal(m.StartsAt.UTC()),
				"place", cur.Place != strings.TrimSpace(m.Place), "status", cur.Status != m.Status, "minutes", cur.Minutes != m.Minutes))
		}
		if _, err := c.exec(ctx, `UPDATE wg_meetings SET title = ?, starts_at = ?, place = ?, status = ?, minutes = ?,
			version = version + 1, updated_at = ? WHERE id = ? AND version = ?`, strings.TrimSpace(m.Title), m.StartsAt.UTC(),
			strings.TrimSpace(m.Place), m.Status, m.Minutes, c.now, m.ID, m.Version); err != nil {
			return err
		}
		m.Version++
		return appendAudit(ctx, c, a.Event("workgroup.meeting_update", "wg_meeting", m.ID))
	})
	return m, err
}

// Stale is the Conflict of an update based on an old version: it says the
// version now stored and which fields differ from what was sent.
func Stale(version int, fields []string) error {
	if len(fields) == 0 {
		return apperr.New(apperr.Conflict, "error.stale", version)
	}
	return apperr.New(apperr.Conflict, "workgroup.error.stale_fields", version, strings.Join(fields, ", "))
}

// changed takes pairs of a field name and whether it differs, and returns
// the names that differ.
func changed(pairs ...any) []string {
	var out []string
	for i := 0; i+1 < len(pairs); i += 2 {
		if d, _ := pairs[i+1].(bool); d {
			out = append(out, pairs[i].(string))
		}
	}
	return out
}

// AddAgendaItem puts a case on a meeting's agenda, at the end.
func (db *DB) AddAgendaItem(ctx context.Context, a audit.Actor, meetingID, caseID int64, note string) (err error) {
	defer apperr.Wrap(&err, "storage.AddAgendaItem(%d)", meetingID)
	if caseID <= 0 {
		return apperr.Validation(apperr.Field("case_id", "error.required"))
	}
	return db.inTx(ctx, func(c conn) error {
		if _, err := manage(ctx, c, a); err != nil {
			return err
		}
		if err := meetingExists(ctx, c, meetingID); err != nil {
			return err
		}
		if err := caseExists(ctx, c, caseID); err != nil {
			return err
		}
		var n, pos int
		if err := c.queryRow(ctx, `SELECT COUNT(*), COALESCE(MAX(position), 0) FROM wg_agenda WHERE meeting_id = ?`, meetingID).Scan(&n, &pos); err != nil {
			return err
		}
		var dup int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM wg_agenda WHERE meeting_id = ? AND case_id = ?`, meetingID, caseID).Scan(&dup); err != nil {
			return err
		}
		if dup > 0 {
			return apperr.Validation(apperr.Field("case_id", "workgroup.error.on_agenda"))
		}
		var id int64
		if err := c.queryRow(ctx, `INSERT INTO wg_agenda (meeting_id, case_id, position, note) VALUES (?, ?, ?, ?) RETURNING id`,
			meetingID, caseID, pos+1, strings.TrimSpace(note)).Scan(&id); err != nil {
			return err
		}
		e := a.Event("workgroup.agenda_add", "wg_meeting", meetingID)
		e.Details = fmt.Sprintf(`{"case_id":%d}`, caseID)
		return appendAudit(ctx, c, e)
	})
}

// RemoveAgendaItem takes an item off a meeting's agenda.
func (db *DB) RemoveAgendaItem(ctx context.Context, a audit.Actor, meetingID, itemID int64) (err error) {
	defer apperr.Wrap(&err, "storage.RemoveAgendaItem(%d)", itemID)
	return db.inTx(ctx, func(c conn) error {
		if _, err := manage(ctx, c, a); err != nil {
			return err
		}
		res, err := c.exec(ctx, `DELETE FROM wg_agenda WHERE id = ? AND meeting_id = ?`, itemID, meetingID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		return appendAudit(ctx, c, a.Event("workgroup.agenda_remove", "wg_meeting", meetingID))
	})
}

func meetingExists(ctx context.Context, c conn, id int64) error {
	var n int
	if err := c.queryRow(ctx, `SELECT COUNT(*) FROM wg_meetings WHERE id = ?`, id).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		return apperr.New(apperr.NotFound, "error.not_found")
	}
	return nil
}

// AddDecision records a decision of a meeting.
func (db *DB) AddDecision(ctx context.Context, a audit.Actor, d workgroup.Decision) (_ workgroup.Decision, err error) {
	defer apperr.Wrap(&err, "storage.AddDecision(%d)", d.MeetingID)
	d.Text = strings.TrimSpace(d.Text)
	if err := d.Validate(); err != nil {
		return d, err
	}
	err = db.inTx(ctx, func(c conn) error {
		if _, err := manage(ctx, c, a); err != nil {
			return err
		}
		if err := meetingExists(ctx, c, d.MeetingID); err != nil {
			return err
		}
		if err := c.queryRow(ctx, `INSERT INTO wg_decisions (meeting_id, case_id, text, created_by, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			d.MeetingID, nullInt(d.CaseID), d.Text, nullInt(a.UserID), c.now).Scan(&d.ID); err != nil {
			return err
		}
		return appendAudit(ctx, c, a.Event("workgroup.decision_add", "wg_meeting", d.MeetingID))
	})
	return d, err
}

// ActionFilter selects action items.
type ActionFilter struct {
	MeetingID int64
	OwnerID   int64
	OpenOnly  bool
	DueBefore time.Time // only open items due before this moment (overdue when it is now)
}

const actionColumns = `a.id, COALESCE(a.meeting_id, 0), a.title, a.owner_user_id, u.name, a.due_at, a.status, a.version, a.done_at`

func actionItems(ctx context.Context, c conn, f ActionFilter) (out []workgroup.ActionItem, err error) {
	q := `SELECT ` + actionColumns + ` FROM wg_actions a JOIN users u ON u.id = a.owner_user_id WHERE 1 = 1`
	var args []any
	if f.MeetingID != 0 {
		q += ` AND a.meeting_id = ?`
		args = append(args, f.MeetingID)
	}
	if f.OwnerID != 0 {
		q += ` AND a.owner_user_id = ?`
		args = append(args, f.OwnerID)
	}
	if f.OpenOnly || !f.DueBefore.IsZero() {
		q += ` AND a.status IN ('open', 'in_progress')`
	}
	if !f.DueBefore.IsZero() {
		q += ` AND a.due_at < ?`
		args = append(args, f.DueBefore)
	}
	q += ` ORDER BY a.due_at, a.id LIMIT 500`
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		it, err := scanAction(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

func scanAction(s interface{ Scan(...any) error }) (workgroup.ActionItem, error) {
	var it workgroup.ActionItem
	var done sql.NullTime
	err := s.Scan(&it.ID, &it.MeetingID, &it.Title, &it.OwnerUserID, &it.OwnerName, &it.Due, &it.Status, &it.Version, &done)
	it.Due, it.DoneAt = it.Due.UTC(), done.Time.UTC()
	return it, err
}

// ActionItems lists action items for a member of the group.
func (db *DB) ActionItems(ctx context.Context, a audit.Actor, f ActionFilter) (_ []workgroup.ActionItem, err error) {
	defer apperr.Wrap(&err, "storage.ActionItems")
	c := db.reader()
	if _, err := wgSeat(ctx, c, a.Principal); err != nil {
		return nil, err
	}
	return actionItems(ctx, c, f)
}

// CreateActionItem gives someone a task with a deadline.
func (db *DB) CreateActionItem(ctx context.Context, a audit.Actor, it workgroup.ActionItem) (_ workgroup.ActionItem, err error) {
	defer apperr.Wrap(&err, "storage.CreateActionItem")
	it.Title = strings.TrimSpace(it.Title)
	it.Status = workgroup.Open
	if err := it.Validate(); err != nil {
		return it, err
	}
	err = db.inTx(ctx, func(c conn) error {
		if _, err := manage(ctx, c, a); err != nil {
			return err
		}
		if it.MeetingID != 0 {
			if err := meetingExists(ctx, c, it.MeetingID); err != nil {
				return err
			}
		}
		var n int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE id = ? AND NOT disabled`, it.OwnerUserID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.Validation(apperr.Field("owner", "workgroup.error.user_unknown"))
		}
		if err := c.queryRow(ctx, `INSERT INTO wg_actions (meeting_id, title, owner_user_id, due_at, status, version, created_by, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id`, nullInt(it.MeetingID), it.Title, it.OwnerUserID, it.Due.UTC(), it.Status,
			nullInt(a.UserID), c.now, c.now).Scan(&it.ID); err != nil {
			return err
		}
		it.Version = 1
		return appendAudit(ctx, c, a.Event("workgroup.action_create", "wg_action", it.ID))
	})
	return it, err
}

// SetActionStatus moves an action item to status, if a is its owner or
// runs the group and version is the one stored.
func (db *DB) SetActionStatus(ctx context.Context, a audit.Actor, id int64, version int, status workgroup.ItemStatus) (it workgroup.ActionItem, err error) {
	defer apperr.Wrap(&err, "storage.SetActionStatus(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		seat, err := wgSeat(ctx, c, a.Principal)
		if err != nil {
			return err
		}
		it, err = scanAction(c.queryRow(ctx, `SELECT `+actionColumns+` FROM wg_actions a JOIN users u ON u.id = a.owner_user_id WHERE a.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if err != nil {
			return err
		}
		if !workgroup.CanUpdateItem(a.Principal, seat.Member, it) {
			return apperr.New(apperr.Forbidden, "workgroup.error.not_owner")
		}
		if it.Version != version {
			return Stale(it.Version, changed("status", it.Status != status))
		}
		if !workgroup.CanMoveItem(it.Status, status) {
			return apperr.Validation(apperr.Field("status", "workgroup.error.status"))
		}
		var done sql.NullTime
		if status == workgroup.Done {
			done = sql.NullTime{Time: c.now, Valid: true}
		}
		if _, err := c.exec(ctx, `UPDATE wg_actions SET status = ?, done_at = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			status, done, c.now, id, version); err != nil {
			return err
		}
		it.Status, it.Version, it.DoneAt = status, it.Version+1, done.Time
		e := a.Event("workgroup.action_status", "wg_action", id)
		e.Details = fmt.Sprintf(`{"status":%q}`, status)
		return appendAudit(ctx, c, e)
	})
	return it, err
}

const proposalColumns = `p.id, p.title, p.body, p.status, p.author_id, u.name, o.name_az, p.version, p.created_at`

func scanProposal(s interface{ Scan(...any) error }) (workgroup.Proposal, error) {
	var p workgroup.Proposal
	err := s.Scan(&p.ID, &p.Title, &p.Body, &p.Status, &p.AuthorID, &p.AuthorName, &p.OrgName, &p.Version, &p.CreatedAt)
	p.CreatedAt = p.CreatedAt.UTC()
	return p, err
}

// Proposals lists the group's proposals, the newest first.
func (db *DB) Proposals(ctx context.Context, a audit.Actor) (ps []workgroup.Proposal, err error) {
	defer apperr.Wrap(&err, "storage.Proposals")
	c := db.reader()
	if _, err := wgSeat(ctx, c, a.Principal); err != nil {
		return nil, err
	}
	rows, err := c.query(ctx, `SELECT `+proposalColumns+` FROM wg_proposals p JOIN users u ON u.id = p.author_id
		JOIN orgs o ON o.id = u.org_id ORDER BY p.id DESC LIMIT 200`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanProposal(rows)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// CreateProposal puts a member's proposal to the group as a draft or
// submitted.
func (db *DB) CreateProposal(ctx context.Context, a audit.Actor, p workgroup.Proposal) (_ workgroup.Proposal, err error) {
	defer apperr.Wrap(&err, "storage.CreateProposal")
	p.Title, p.Body = strings.TrimSpace(p.Title), strings.TrimSpace(p.Body)
	if p.Status == "" {
		p.Status = workgroup.Submitted
	}
	if p.Status != workgroup.Draft && p.Status != workgroup.Submitted {
		return p, apperr.Validation(apperr.Field("status", "workgroup.error.status"))
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	err = db.inTx(ctx, func(c conn) error {
		if _, err := wgSeat(ctx, c, a.Principal); err != nil {
			return err
		}
		if err := c.queryRow(ctx, `INSERT INTO wg_proposals (title, body, status, author_id, version, created_at, updated_at)
			VALUES (?, ?, ?, ?, 1, ?, ?) RETURNING id`, p.Title, p.Body, p.Status, a.UserID, c.now, c.now).Scan(&p.ID); err != nil {
			return err
		}
		p.AuthorID, p.Version, p.CreatedAt = a.UserID, 1, c.now
		return appendAudit(ctx, c, a.Event("workgroup.proposal_create", "wg_proposal", p.ID))
	})
	return p, err
}

// SetProposalStatus moves a proposal on: its author submits their draft;
// those who run the group review, adopt, reject and mark it implemented.
func (db *DB) SetProposalStatus(ctx context.Context, a audit.Actor, id int64, version int, status workgroup.ProposalStatus) (p workgroup.Proposal, err error) {
	defer apperr.Wrap(&err, "storage.SetProposalStatus(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		seat, err := wgSeat(ctx, c, a.Principal)
		if err != nil {
			return err
		}
		p, err = scanProposal(c.queryRow(ctx, `SELECT `+proposalColumns+` FROM wg_proposals p JOIN users u ON u.id = p.author_id
			JOIN orgs o ON o.id = u.org_id WHERE p.id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		if err != nil {
			return err
		}
		author := p.AuthorID == a.UserID && p.Status == workgroup.Draft && status == workgroup.Submitted
		if !author && !seat.CanManage {
			return apperr.New(apperr.Forbidden, "workgroup.error.not_manager")
		}
		if p.Version != version {
			return Stale(p.Version, changed("status", p.Status != status))
		}
		if !workgroup.CanMoveProposal(p.Status, status) {
			return apperr.Validation(apperr.Field("status", "workgroup.error.status"))
		}
		if _, err := c.exec(ctx, `UPDATE wg_proposals SET status = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			status, c.now, id, version); err != nil {
			return err
		}
		p.Status, p.Version = status, p.Version+1
		e := a.Event("workgroup.proposal_status", "wg_proposal", id)
		e.Details = fmt.Sprintf(`{"status":%q}`, status)
		return appendAudit(ctx, c, e)
	})
	return p, err
}
