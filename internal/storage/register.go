package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/calendar"
	"dayaq/internal/escalate"
	"dayaq/internal/screening"
)

// RegisterEntry is a pupil's entry in the vulnerable-group register (the
// contract the recovery plan of issue 12 hangs on): the level, where it
// stands, who answers for it and when it is next reviewed.
type RegisterEntry struct {
	ID                int64
	ChildID           int64
	SchoolID          int64
	Level             screening.Level
	Status            screening.Status
	Source            screening.Source
	SourceID          int64
	Factors           []screening.Factor
	ResponsibleUserID int64     // 0 until confirmed
	ResponsibleName   string    // the responsible user's name
	NextReviewDue     time.Time // zero when no review is due
	DeclineReason     string
	ExitReason        string
	Note              string
	ProposedBy        int64
	Version           int
	CreatedAt         time.Time
	UpdatedAt         time.Time

	// The child and school, for lists and headings.
	ChildName  string
	StudentID  string
	Grade      int
	Section    string
	SchoolName string

	// CanDecide: the reader may confirm, decline, review or exit it.
	CanDecide bool
}

// Overdue reports whether the entry's review is past due at now.
func (e RegisterEntry) Overdue(now time.Time) bool {
	return e.Status == screening.Active && !e.NextReviewDue.IsZero() && now.After(e.NextReviewDue)
}

const registerColumns = `e.id, e.child_id, e.school_id, e.level, e.status, e.source, e.source_id, e.factors,
	COALESCE(e.responsible_user_id, 0), COALESCE(ru.name, ''), e.next_review_due, e.decline_reason, e.exit_reason, e.note,
	COALESCE(e.proposed_by, 0), e.version, e.created_at, e.updated_at,
	c.last_name || ' ' || c.first_name, c.student_id, c.grade, c.section, es.name_az`

// registerFrom joins an entry to its child and the child's school now
// (whose place the policy filters on, as c and s: a pupil who moved is
// seen where they are, ADR 0039), the school that opened the entry and
// decides on it (es), and its responsible user.
const registerFrom = ` FROM register_entries e JOIN children c ON c.id = e.child_id LEFT JOIN orgs s ON s.id = c.school_id
	JOIN orgs es ON es.id = e.school_id LEFT JOIN users ru ON ru.id = e.responsible_user_id `

func scanRegister(sc interface{ Scan(...any) error }) (RegisterEntry, error) {
	var e RegisterEntry
	var factors string
	var due sql.NullTime
	err := sc.Scan(&e.ID, &e.ChildID, &e.SchoolID, &e.Level, &e.Status, &e.Source, &e.SourceID, &factors,
		&e.ResponsibleUserID, &e.ResponsibleName, &due, &e.DeclineReason, &e.ExitReason, &e.Note,
		&e.ProposedBy, &e.Version, &e.CreatedAt, &e.UpdatedAt,
		&e.ChildName, &e.StudentID, &e.Grade, &e.Section, &e.SchoolName)
	if err != nil {
		return e, err
	}
	if due.Valid {
		e.NextReviewDue = due.Time.UTC()
	}
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	if err := json.Unmarshal([]byte(factors), &e.Factors); err != nil {
		return e, fmt.Errorf("register entry %d factors: %w", e.ID, err)
	}
	return e, nil
}

// screeningWhere turns the screening policy for p into a condition on c
// and s, with its arguments; ok is false when p may see no pupil at all.
func screeningWhere(p access.Principal, now time.Time) (cond string, args []any, ok bool) {
	conds, cargs := filterBranches(access.ScreeningFilter(p), now)
	if len(conds) == 0 {
		return "", nil, false
	}
	for _, a := range cargs {
		args = append(args, a...)
	}
	return `((` + strings.Join(conds, `) OR (`) + `))`, args, true
}

// loadRegister reads one entry as p may see it: NotFound when the policy
// does not reach its pupil.
func loadRegister(ctx context.Context, c conn, p access.Principal, id int64) (RegisterEntry, error) {
	cond, args, ok := screeningWhere(p, c.now)
	if !ok {
		return RegisterEntry{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	e, err := scanRegister(c.queryRow(ctx, `SELECT `+registerColumns+registerFrom+`WHERE e.id = ? AND `+cond,
		append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return e, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return e, err
	}
	e.CanDecide = access.CanDecideRegister(p, e.SchoolID)
	return e, nil
}

// RegisterEntry reads one register entry as a sees it, through the
// screening policy, and records the read (or the refused attempt) in the
// audit trail.
func (db *DB) RegisterEntry(ctx context.Context, a audit.Actor, id int64) (e RegisterEntry, err error) {
	defer apperr.Wrap(&err, "storage.RegisterEntry(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		e, err = loadRegister(ctx, c, a.Principal, id)
		ev := a.Event("register.read", "register_entry", id)
		switch {
		case apperr.CodeOf(err) == apperr.NotFound:
			ev.Action = "register.read_denied"
			if aerr := appendAudit(ctx, c, ev); aerr != nil {
				return aerr
			}
			return errCommit{err}
		case err != nil:
			return err
		}
		ev.ChildID = e.ChildID
		return appendAudit(ctx, c, ev)
	})
	var ec errCommit
	if errors.As(err, &ec) {
		return RegisterEntry{}, ec.err
	}
	return e, err
}

// addRegisterHistory records one change of an entry.
func addRegisterHistory(ctx context.Context, c conn, a audit.Actor, e RegisterEntry, action string, from screening.Status, note string) error {
	_, err := c.exec(ctx, `INSERT INTO register_history (entry_id, at, actor_user_id, action, from_status, to_status, level, note, next_review)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.ID, c.now, nullInt(a.UserID), action, string(from), e.Status, e.Level, note, nullTime(e.NextReviewDue))
	return err
}

// RegisterChange is one line of an entry's history.
type RegisterChange struct {
	At         time.Time
	ActorName  string
	Action     string
	From, To   screening.Status
	Level      screening.Level
	Note       string
	NextReview time.Time
}

// registerHistory lists an entry's changes, oldest first.
func registerHistory(ctx context.Context, c conn, id int64) ([]RegisterChange, error) {
	rows, err := c.query(ctx, `SELECT h.at, COALESCE(u.name, ''), h.action, h.from_status, h.to_status, h.level, h.note, h.next_review
		FROM register_history h LEFT JOIN users u ON u.id = h.actor_user_id WHERE h.entry_id = ? ORDER BY h.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hs []RegisterChange
	for rows.Next() {
		var h RegisterChange
		var next sql.NullTime
		if err := rows.Scan(&h.At, &h.ActorName, &h.Action, &h.From, &h.To, &h.Level, &h.Note, &next); err != nil {
			return nil, err
		}
		h.At = h.At.UTC()
		if next.Valid {
			h.NextReview = next.Time.UTC()
		}
		hs = append(hs, h)
	}
	return hs, rows.Err()
}

// screeningChild is a pupil as the screening policy decides on them.
type screeningChild struct {
	ChildRecord
	Decision access.Decision
}

// loadScreeningChild reads child id for p under the screening policy:
// NotFound when it does not reach them, Forbidden when p may only read and
// write is asked for.
func loadScreeningChild(ctx context.Context, c conn, p access.Principal, id int64, write bool) (screeningChild, error) {
	cond, args, ok := screeningWhere(p, c.now)
	if !ok {
		return screeningChild{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	r, err := scanChildRecord(c.queryRow(ctx, `SELECT `+childRecordColumns+childFromWhere+`WHERE c.id = ? AND c.merged_into IS NULL AND `+cond,
		append([]any{id}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return screeningChild{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return screeningChild{}, err
	}
	sc := screeningChild{ChildRecord: r}
	facts := access.ChildFacts{SchoolID: r.SchoolID, District: r.School.DistrictCode, Grade: r.Grade, Section: r.Section}
	if sc.Decision = access.DecideScreening(p, access.Read, facts); !sc.Decision.Allowed {
		return sc, fmt.Errorf("screening policy and filter disagree on child %d", id)
	}
	if write && !access.DecideScreening(p, access.Write, facts).Allowed {
		return sc, apperr.New(apperr.Forbidden, "screening.error.no_write")
	}
	return sc, nil
}

// NewProposal proposes a pupil for the register.
type NewProposal struct {
	ChildID  int64
	Level    screening.Level
	Source   screening.Source
	SourceID int64 // the risk result, case or contact
	Factors  []screening.Factor
	Note     string
}

// ProposeRegister proposes a pupil for the register. From screening (or by
// hand) the proposer must reach the pupil under the screening policy with
// the right to write; from a special case or a hotline contact, they must
// be able to read that case or contact, and the pupil must be in it. A
// pupil who already has an open entry keeps it: the existing entry is
// returned, its level raised when the new one is higher.
func (db *DB) ProposeRegister(ctx context.Context, a audit.Actor, n NewProposal) (e RegisterEntry, err error) {
	defer apperr.Wrap(&err, "storage.ProposeRegister")
	if !n.Level.Proposes() && n.Level != screening.Low {
		return e, apperr.Validation(apperr.Field("level", "screening.error.level"))
	}
	if !n.Source.Valid() {
		return e, apperr.Validation(apperr.Field("source", "screening.error.source"))
	}
	if n.Factors == nil {
		n.Factors = []screening.Factor{}
	}
	err = db.inTx(ctx, func(c conn) error {
		e, err = proposeRegister(ctx, db, c, a, n)
		return err
	})
	return e, err
}

func proposeRegister(ctx context.Context, db *DB, c conn, a audit.Actor, n NewProposal) (RegisterEntry, error) {
	var schoolID int64
	switch n.Source {
	case screening.FromCase:
		r, err := db.loadCase(ctx, c, a.Principal, access.Read, n.SourceID, false)
		if err != nil {
			return RegisterEntry{}, err
		}
		in := false
		for _, ch := range r.Children {
			if ch.ID == n.ChildID {
				in, schoolID = true, ch.SchoolID
			}
		}
		if !in {
			return RegisterEntry{}, apperr.Validation(apperr.Field("child_id", "screening.error.child_not_in_source"))
		}
	case screening.FromContact:
		r, err := loadContact(ctx, c, a.Principal, n.SourceID)
		if err != nil {
			return RegisterEntry{}, err
		}
		rs := []ContactRecord{r}
		if err := loadContactParts(ctx, c, rs); err != nil {
			return RegisterEntry{}, err
		}
		in := false
		for _, ch := range rs[0].Children {
			in = in || ch.ChildID == n.ChildID
		}
		if !in {
			return RegisterEntry{}, apperr.Validation(apperr.Field("child_id", "screening.error.child_not_in_source"))
		}
		if err := c.queryRow(ctx, `SELECT COALESCE(school_id, 0) FROM children WHERE id = ?`, n.ChildID).Scan(&schoolID); err != nil {
			return RegisterEntry{}, err
		}
	default:
		ch, err := loadScreeningChild(ctx, c, a.Principal, n.ChildID, true)
		if err != nil {
			return RegisterEntry{}, err
		}
		schoolID = ch.SchoolID
	}
	if schoolID == 0 {
		return RegisterEntry{}, apperr.Validation(apperr.Field("child_id", "screening.error.no_school"))
	}
	e, ev, err := writeProposal(ctx, c, a, n, schoolID)
	if err != nil {
		return e, err
	}
	return e, appendAudit(ctx, c, ev)
}

// writeProposal writes a proposal whose access has been checked and
// returns the audit event to append.
func writeProposal(ctx context.Context, c conn, a audit.Actor, n NewProposal, schoolID int64) (RegisterEntry, audit.Event, error) {
	var none audit.Event
	factors, err := json.Marshal(n.Factors)
	if err != nil {
		return RegisterEntry{}, none, err
	}
	var id int64
	var level screening.Level
	err = c.queryRow(ctx, `SELECT id, level FROM register_entries WHERE child_id = ? AND status IN ('proposed', 'active')`, n.ChildID).Scan(&id, &level)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if err := c.queryRow(ctx, `INSERT INTO register_entries (child_id, school_id, level, status, source, source_id, factors, note,
			proposed_by, created_at, updated_at) VALUES (?, ?, ?, 'proposed', ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
			n.ChildID, schoolID, n.Level, n.Source, n.SourceID, string(factors), strings.TrimSpace(n.Note), nullInt(a.UserID),
			c.now, c.now).Scan(&id); err != nil {
			return RegisterEntry{}, none, err
		}
		e := RegisterEntry{ID: id, Status: screening.Proposed, Level: n.Level}
		if err := addRegisterHistory(ctx, c, a, e, "proposed", "", string(n.Source)); err != nil {
			return RegisterEntry{}, none, err
		}
	case err != nil:
		return RegisterEntry{}, none, err
	case n.Level.Rank() > level.Rank():
		if _, err := c.exec(ctx, `UPDATE register_entries SET level = ?, factors = ?, version = version + 1, updated_at = ? WHERE id = ?`,
			n.Level, string(factors), c.now, id); err != nil {
			return RegisterEntry{}, none, err
		}
		var st screening.Status
		if err := c.queryRow(ctx, `SELECT status FROM register_entries WHERE id = ?`, id).Scan(&st); err != nil {
			return RegisterEntry{}, none, err
		}
		if err := addRegisterHistory(ctx, c, a, RegisterEntry{ID: id, Status: st, Level: n.Level}, "level_changed", st, string(n.Source)); err != nil {
			return RegisterEntry{}, none, err
		}
	}
	e, err := loadRegisterRaw(ctx, c, id)
	if err != nil {
		return e, none, err
	}
	ev := a.Event("register.propose", "register_entry", id)
	ev.ChildID = n.ChildID
	ev.Details = detailsJSON(map[string]any{"level": n.Level, "source": n.Source})
	return e, ev, nil
}

// writeProposals is writeProposal for many pupils of school schoolID (a
// school's round), their access checked: a few statements for them all
// instead of four each. It returns the entries by child and the audit
// events to append.
func writeProposals(ctx context.Context, c conn, a audit.Actor, ns []NewProposal, schoolID int64) (map[int64]RegisterEntry, []audit.Event, error) {
	out := map[int64]RegisterEntry{}
	if len(ns) == 0 {
		return out, nil, nil
	}
	ids := make([]int64, len(ns))
	for i, n := range ns {
		ids[i] = n.ChildID
	}
	type open struct {
		id     int64
		level  screening.Level
		status screening.Status
	}
	have := map[int64]open{}
	if err := forChunks(ids, func(_ []int64, marks string, args []any) error {
		rows, err := c.query(ctx, `SELECT id, child_id, level, status FROM register_entries WHERE status IN ('proposed', 'active') AND child_id IN (`+marks+`)`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var o open
			var child int64
			if err := rows.Scan(&o.id, &child, &o.level, &o.status); err != nil {
				return err
			}
			have[child] = o
		}
		return rows.Err()
	}); err != nil {
		return nil, nil, err
	}
	entryOf := map[int64]int64{} // child → entry
	source := map[int64]screening.Source{}
	var fresh []NewProposal
	var history []any
	for _, n := range ns {
		factors, err := json.Marshal(n.Factors)
		if err != nil {
			return nil, nil, err
		}
		o, ok := have[n.ChildID]
		switch {
		case !ok:
			fresh = append(fresh, n)
			source[n.ChildID] = n.Source
			continue
		case n.Level.Rank() > o.level.Rank():
			if _, err := c.exec(ctx, `UPDATE register_entries SET level = ?, factors = ?, version = version + 1, updated_at = ? WHERE id = ?`,
				n.Level, string(factors), c.now, o.id); err != nil {
				return nil, nil, err
			}
			history = append(history, o.id, c.now, nullInt(a.UserID), "level_changed", string(o.status), o.status, n.Level, string(n.Source), nullTime(time.Time{}))
		}
		entryOf[n.ChildID] = o.id
	}
	const entryCols = 11
	for start := 0; start < len(fresh); start += bulkRows {
		part := fresh[start:min(start+bulkRows, len(fresh))]
		args := make([]any, 0, len(part)*entryCols)
		for _, n := range part {
			factors, err := json.Marshal(n.Factors)
			if err != nil {
				return nil, nil, err
			}
			args = append(args, n.ChildID, schoolID, n.Level, screening.Proposed, n.Source, n.SourceID, string(factors), strings.TrimSpace(n.Note),
				nullInt(a.UserID), c.now, c.now)
		}
		rows, err := c.query(ctx, `INSERT INTO register_entries (child_id, school_id, level, status, source, source_id, factors, note,
			proposed_by, created_at, updated_at) VALUES `+valuesList(len(part), entryCols)+` RETURNING id, child_id, level`, args...)
		if err != nil {
			return nil, nil, err
		}
		for rows.Next() {
			var id, child int64
			var level screening.Level
			if err := rows.Scan(&id, &child, &level); err != nil {
				rows.Close()
				return nil, nil, err
			}
			entryOf[child] = id
			history = append(history, id, c.now, nullInt(a.UserID), "proposed", "", screening.Proposed, level, string(source[child]), nullTime(time.Time{}))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, nil, err
		}
	}
	const histCols = 9
	for start := 0; start < len(history); start += bulkRows * histCols {
		part := history[start:min(start+bulkRows*histCols, len(history))]
		if _, err := c.exec(ctx, `INSERT INTO register_history (entry_id, at, actor_user_id, action, from_status, to_status, level, note, next_review)
			VALUES `+valuesList(len(part)/histCols, histCols), part...); err != nil {
			return nil, nil, err
		}
	}
	entryIDs := make([]int64, 0, len(entryOf))
	for _, n := range ns {
		entryIDs = append(entryIDs, entryOf[n.ChildID])
	}
	if err := forChunks(entryIDs, func(_ []int64, marks string, args []any) error {
		es, err := scanRegisters(ctx, c, access.Principal{}, `SELECT `+registerColumns+registerFrom+`WHERE e.id IN (`+marks+`)`, args...)
		for _, e := range es {
			out[e.ChildID] = e
		}
		return err
	}); err != nil {
		return nil, nil, err
	}
	events := make([]audit.Event, 0, len(ns))
	for _, n := range ns {
		ev := a.Event("register.propose", "register_entry", entryOf[n.ChildID])
		ev.ChildID = n.ChildID
		ev.Details = detailsJSON(map[string]any{"level": n.Level, "source": n.Source})
		events = append(events, ev)
	}
	return out, events, nil
}

// loadRegisterRaw reads an entry without a policy, for a write that has
// already checked one.
func loadRegisterRaw(ctx context.Context, c conn, id int64) (RegisterEntry, error) {
	e, err := scanRegister(c.queryRow(ctx, `SELECT `+registerColumns+registerFrom+`WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return e, apperr.New(apperr.NotFound, "error.not_found")
	}
	return e, err
}

// RegisterDecision is the psychologist's or head's answer to a proposal,
// a review, or an exit.
type RegisterDecision struct {
	ID      int64
	Version int // the version read: a stale one is a conflict
	// Confirm: the responsible person and the first review date.
	ResponsibleUserID int64
	FirstReview       time.Time
	// Decline or exit: the reason; review: a note.
	Reason string
	Level  screening.Level // review: the level now (empty: unchanged)
}

// decideRegister loads entry d.ID for a change by a: it must reach it,
// may decide on it, and must have read its current version.
func decideRegister(ctx context.Context, c conn, a audit.Actor, d RegisterDecision, want screening.Status) (RegisterEntry, error) {
	e, err := loadRegister(ctx, c, a.Principal, d.ID)
	if err != nil {
		return e, err
	}
	if !e.CanDecide {
		return e, apperr.New(apperr.Forbidden, "screening.error.not_decider")
	}
	if e.Version != d.Version {
		return e, apperr.New(apperr.Conflict, "error.stale")
	}
	if e.Status != want {
		return e, apperr.New(apperr.Conflict, "screening.error.status")
	}
	return e, nil
}

// finishRegister writes e's new state, its history line and the audit
// event.
func finishRegister(ctx context.Context, c conn, a audit.Actor, e RegisterEntry, from screening.Status, action, note string) (RegisterEntry, error) {
	res, err := c.exec(ctx, `UPDATE register_entries SET status = ?, level = ?, responsible_user_id = ?, next_review_due = ?,
		decline_reason = ?, exit_reason = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
		e.Status, e.Level, nullInt(e.ResponsibleUserID), nullTime(e.NextReviewDue), e.DeclineReason, e.ExitReason, c.now, e.ID, e.Version)
	if err != nil {
		return e, err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return e, apperr.New(apperr.Conflict, "error.stale")
	}
	if err := addRegisterHistory(ctx, c, a, e, action, from, note); err != nil {
		return e, err
	}
	ev := a.Event("register."+action, "register_entry", e.ID)
	ev.ChildID = e.ChildID
	ev.Details = detailsJSON(map[string]any{"status": e.Status, "level": e.Level})
	if err := appendAudit(ctx, c, ev); err != nil {
		return e, err
	}
	out, err := loadRegisterRaw(ctx, c, e.ID)
	out.CanDecide = e.CanDecide
	return out, err
}

// ConfirmRegister puts a proposed pupil on the register with a responsible
// person (a user of the pupil's school) and a first review date.
func (db *DB) ConfirmRegister(ctx context.Context, a audit.Actor, d RegisterDecision) (e RegisterEntry, err error) {
	defer apperr.Wrap(&err, "storage.ConfirmRegister(%d)", d.ID)
	var fs []apperr.FieldError
	if d.ResponsibleUserID == 0 {
		fs = append(fs, apperr.Field("responsible_user_id", "error.required"))
	}
	if d.FirstReview.IsZero() {
		fs = append(fs, apperr.Field("first_review", "error.required"))
	} else if now := db.Now().In(calendar.Baku()); d.FirstReview.Before(time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, calendar.Baku())) {
		fs = append(fs, apperr.Field("first_review", "screening.error.review_past"))
	}
	if len(fs) > 0 {
		return e, apperr.Validation(fs...)
	}
	err = db.inTx(ctx, func(c conn) error {
		if e, err = decideRegister(ctx, c, a, d, screening.Proposed); err != nil {
			return err
		}
		var n int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM users WHERE id = ? AND org_id = ? AND NOT disabled`,
			d.ResponsibleUserID, e.SchoolID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.Validation(apperr.Field("responsible_user_id", "screening.error.responsible"))
		}
		e.Status, e.ResponsibleUserID, e.NextReviewDue = screening.Active, d.ResponsibleUserID, d.FirstReview.UTC()
		e, err = finishRegister(ctx, c, a, e, screening.Proposed, "confirmed", strings.TrimSpace(d.Reason))
		return err
	})
	return e, err
}

// DeclineRegister declines a proposal, with a reason.
func (db *DB) DeclineRegister(ctx context.Context, a audit.Actor, d RegisterDecision) (e RegisterEntry, err error) {
	defer apperr.Wrap(&err, "storage.DeclineRegister(%d)", d.ID)
	if d.Reason = strings.TrimSpace(d.Reason); d.Reason == "" {
		return e, apperr.Validation(apperr.Field("reason", "error.required"))
	}
	err = db.inTx(ctx, func(c conn) error {
		if e, err = decideRegister(ctx, c, a, d, screening.Proposed); err != nil {
			return err
		}
		e.Status, e.DeclineReason = screening.Declined, d.Reason
		e, err = finishRegister(ctx, c, a, e, screening.Proposed, "declined", d.Reason)
		return err
	})
	return e, err
}

// ReviewRegister records a review of an active entry: the level now, a
// note, and the next review, which the city's cadence for the level sets
// on the working-day calendar (cadence: level → working days).
func (db *DB) ReviewRegister(ctx context.Context, a audit.Actor, d RegisterDecision, cadence map[screening.Level]int) (e RegisterEntry, err error) {
	defer apperr.Wrap(&err, "storage.ReviewRegister(%d)", d.ID)
	if d.Level != "" && (!d.Level.Valid() || d.Level == screening.None) {
		return e, apperr.Validation(apperr.Field("level", "screening.error.level"))
	}
	if d.Reason = strings.TrimSpace(d.Reason); d.Reason == "" {
		return e, apperr.Validation(apperr.Field("note", "error.required"))
	}
	cal, err := db.Calendar(ctx)
	if err != nil {
		return e, err
	}
	err = db.inTx(ctx, func(c conn) error {
		if e, err = decideRegister(ctx, c, a, d, screening.Active); err != nil {
			return err
		}
		if d.Level != "" {
			e.Level = d.Level
		}
		days := cadence[e.Level]
		if days <= 0 {
			days = 20
		}
		if e.NextReviewDue, err = cal.AddWorkingDays(c.now, days); err != nil {
			return err
		}
		e, err = finishRegister(ctx, c, a, e, screening.Active, "reviewed", d.Reason)
		return err
	})
	return e, err
}

// ExitRegister takes a pupil off the register, with one of the exit
// reasons.
func (db *DB) ExitRegister(ctx context.Context, a audit.Actor, d RegisterDecision) (e RegisterEntry, err error) {
	defer apperr.Wrap(&err, "storage.ExitRegister(%d)", d.ID)
	reason, _, _ := strings.Cut(strings.TrimSpace(d.Reason), ":")
	ok := false
	for _, r := range screening.ExitReasons() {
		ok = ok || r == reason
	}
	if !ok {
		return e, apperr.Validation(apperr.Field("reason", "screening.error.exit_reason"))
	}
	err = db.inTx(ctx, func(c conn) error {
		if e, err = decideRegister(ctx, c, a, d, screening.Active); err != nil {
			return err
		}
		e.Status, e.ExitReason, e.NextReviewDue = screening.Exited, strings.TrimSpace(d.Reason), time.Time{}
		e, err = finishRegister(ctx, c, a, e, screening.Active, "exited", e.ExitReason)
		return err
	})
	return e, err
}

// RegisterFilter narrows the register list.
type RegisterFilter struct {
	Status  screening.Status // "" for the open ones (proposed and active)
	Overdue bool             // only active entries past their review
	ChildID int64
	// Level, SchoolID and District narrow the list to the entries a
	// dashboard's number counts: by the pupil's school now and its
	// district, as the policy places them (ADR 0039).
	Level    screening.Level
	SchoolID int64
	District string
	Limit    int
}

// RegisterList lists the entries a may see, filtered in SQL by the
// screening policy, and audits the listing.
func (db *DB) RegisterList(ctx context.Context, a audit.Actor, f RegisterFilter) (es []RegisterEntry, err error) {
	defer apperr.Wrap(&err, "storage.RegisterList")
	cond, args, ok := screeningWhere(a.Principal, db.Now())
	if !ok {
		return nil, nil
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 200
	}
	// Proposals first (oldest first), then active entries by their next
	// review: one query a status, each in the order of the index on
	// (status, next_review_due, id), so that the city's list of 50,000 is
	// not sorted whole.
	type part struct {
		status screening.Status
		extra  string
		args   []any
	}
	var parts []part
	switch {
	case f.Overdue:
		parts = []part{{screening.Active, ` AND e.next_review_due < ?`, []any{db.Now()}}}
	case f.Status != "":
		parts = []part{{f.Status, "", nil}}
	default:
		parts = []part{{screening.Proposed, "", nil}, {screening.Active, "", nil}}
	}
	// One school's list (a psychologist's, a head's, a teacher's classes)
	// starts from the school's children instead: their entries are found
	// through the index on (child_id, status, next_review_due, id) and only
	// the page's are read whole.
	// the pupil's school now, as SupportCounts counts the register
	scope, sargs := supportScope(`c.school_id`, StatsQuery{SchoolID: f.SchoolID, District: f.District})
	pf := access.ScreeningFilter(a.Principal)
	oneSchool := !pf.All && pf.District == "" && pf.SchoolID != 0 && pf.GrantOrgID == 0 && pf.GrantUserID == 0 && pf.BreakGlass == 0
	err = db.readAudited(ctx, func(c conn) error {
		for _, pt := range parts {
			if len(es) >= f.Limit {
				break
			}
			head := append([]any{pt.status}, pt.args...)
			extra := pt.extra
			if f.ChildID != 0 {
				extra += ` AND e.child_id = ?`
				head = append(head, f.ChildID)
			}
			if f.Level != "" {
				extra += ` AND e.level = ?`
				head = append(head, f.Level)
			}
			head = append(head, sargs...)
			limit := fmt.Sprintf(` LIMIT %d`, f.Limit-len(es))
			if !oneSchool {
				q := `SELECT ` + registerColumns + registerFrom + `WHERE e.status = ?` + extra + ` AND ` + scope + ` AND ` + cond + ` ORDER BY e.status, e.next_review_due, e.id` + limit
				part, err := scanRegisters(ctx, c, a.Principal, q, append(head, args...)...)
				if err != nil {
					return err
				}
				es = append(es, part...)
				continue
			}
			// SQLite takes the join in the order written (CROSS JOIN);
			// PostgreSQL would rather hash every entry of the status in
			// the city, unless the school's children are walked one by
			// one (LATERAL with OFFSET 0, which it does not flatten).
			q := `SELECT e.id` + childFromWhere + `CROSS JOIN register_entries e WHERE e.child_id = c.id AND e.status = ?` + extra + ` AND ` + scope + ` AND ` + cond
			if c.engine == Postgres {
				q = `SELECT e.id` + childFromWhere + `CROSS JOIN LATERAL (SELECT e.id, e.next_review_due FROM register_entries e
					WHERE e.child_id = c.id AND e.status = ?` + extra + ` OFFSET 0) e WHERE ` + scope + ` AND ` + cond
			}
			ids, err := queryIDs(ctx, c, q+` ORDER BY e.next_review_due, e.id`+limit, append(head, args...)...)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				continue
			}
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
			qargs := make([]any, 0, len(ids)+len(args))
			for _, id := range ids {
				qargs = append(qargs, id)
			}
			part, err := scanRegisters(ctx, c, a.Principal, `SELECT `+registerColumns+registerFrom+`WHERE e.id IN (`+marks+`) AND `+cond,
				append(qargs, args...)...)
			if err != nil {
				return err
			}
			at := make(map[int64]int, len(ids))
			for i, id := range ids {
				at[id] = i
			}
			slices.SortFunc(part, func(x, y RegisterEntry) int { return at[x.ID] - at[y.ID] })
			es = append(es, part...)
		}
		return nil
	}, func() audit.Event {
		ev := a.Event("register.list", "register_entry", 0)
		ev.Details = detailsJSON(map[string]any{"status": f.Status, "overdue": f.Overdue, "level": f.Level, "school": f.SchoolID,
			"district": f.District, "n": len(es)})
		if f.ChildID != 0 {
			ev.ChildID = f.ChildID
		}
		return ev
	})
	return es, err
}

// scanRegisters runs q, a query of registerColumns, and reads its entries
// as p sees them.
func scanRegisters(ctx context.Context, c conn, p access.Principal, q string, args ...any) ([]RegisterEntry, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var es []RegisterEntry
	for rows.Next() {
		e, err := scanRegister(rows)
		if err != nil {
			return nil, err
		}
		e.CanDecide = access.CanDecideRegister(p, e.SchoolID)
		es = append(es, e)
	}
	return es, rows.Err()
}

// queryIDs runs q, a query of one ID column.
func queryIDs(ctx context.Context, c conn, q string, args ...any) ([]int64, error) {
	rows, err := c.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// registerAwaitingSQL counts, up to CountCap, what awaits p's decision
// on their school's register: proposals, and active entries past their
// review, of pupils the screening policy lets p see. ok is false for
// those who decide on no register.
func registerAwaitingSQL(p access.Principal, now time.Time) (q string, args []any, ok bool) {
	if !access.CanDecideRegister(p, p.OrgID) {
		return "", nil, false
	}
	cond, cargs, ok := screeningWhere(p, now)
	if !ok {
		return "", nil, false
	}
	return `SELECT COUNT(*) FROM (SELECT 1 FROM register_entries e JOIN children c ON c.id = e.child_id LEFT JOIN orgs s ON s.id = c.school_id
		WHERE e.school_id = ? AND (e.status = 'proposed' OR (e.status = 'active' AND e.next_review_due < ?)) AND ` + cond +
		fmt.Sprintf(` LIMIT %d) w`, CountCap), append([]any{p.OrgID, now}, cargs...), true
}

// RegisterAwaiting counts what awaits a's decision on their school's
// register (up to CountCap; 0 for those who decide on none), as the
// navigation's badge does. A count shows no child's data and is not
// audited.
func (db *DB) RegisterAwaiting(ctx context.Context, a audit.Actor) (n int, err error) {
	defer apperr.Wrap(&err, "storage.RegisterAwaiting")
	c := db.reader()
	q, args, ok := registerAwaitingSQL(a.Principal, c.now)
	if !ok {
		return 0, nil
	}
	err = c.queryRow(ctx, q, args...).Scan(&n)
	return n, err
}

// RegisterHistory lists entry id's changes as a may see them, audited.
func (db *DB) RegisterHistory(ctx context.Context, a audit.Actor, id int64) (hs []RegisterChange, err error) {
	defer apperr.Wrap(&err, "storage.RegisterHistory(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		e, err := loadRegister(ctx, c, a.Principal, id)
		if err != nil {
			return err
		}
		if hs, err = registerHistory(ctx, c, id); err != nil {
			return err
		}
		ev := a.Event("register.history", "register_entry", id)
		ev.ChildID = e.ChildID
		return appendAudit(ctx, c, ev)
	})
	return hs, err
}

// RegisterReviewsDue is the escalation provider of the register: every
// active entry whose review falls due before before, its responsible
// person assigned and the pupil's school answering for it.
func (db *DB) RegisterReviewsDue(ctx context.Context, before time.Time) (items []escalate.Item, err error) {
	defer apperr.Wrap(&err, "storage.RegisterReviewsDue")
	rows, err := db.reader().query(ctx, `SELECT id, COALESCE(responsible_user_id, 0), school_id, child_id, updated_at, next_review_due
		FROM register_entries WHERE status = 'active' AND next_review_due IS NOT NULL AND next_review_due < ?
		ORDER BY next_review_due, id LIMIT 5000`, before.UTC())
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		it := escalate.Item{SubjectKind: "register_review", What: "escalate.what.register_review"}
		if err := rows.Scan(&it.SubjectID, &it.Assignee, &it.OrgID, &it.ChildID, &it.Start, &it.Due); err != nil {
			return nil, err
		}
		it.Start, it.Due = it.Start.UTC(), it.Due.UTC()
		if !it.Start.Before(it.Due) {
			it.Start = it.Due.Add(-24 * time.Hour)
		}
		it.Link = "/screening/register/" + strconv.FormatInt(it.SubjectID, 10)
		items = append(items, it)
	}
	return items, rows.Err()
}

// StaffMember is a user of a school, for choosing a responsible person.
type StaffMember struct {
	ID   int64
	Name string
}

// SchoolStaff lists the active users of school schoolID, for those who may
// decide on its register entries.
func (db *DB) SchoolStaff(ctx context.Context, a audit.Actor, schoolID int64) (ss []StaffMember, err error) {
	defer apperr.Wrap(&err, "storage.SchoolStaff(%d)", schoolID)
	if !access.CanDecideRegister(a.Principal, schoolID) {
		return nil, apperr.New(apperr.Forbidden, "screening.error.not_decider")
	}
	rows, err := db.reader().query(ctx, `SELECT id, name FROM users WHERE org_id = ? AND NOT disabled ORDER BY name, id LIMIT 500`, schoolID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var s StaffMember
		if err := rows.Scan(&s.ID, &s.Name); err != nil {
			return nil, err
		}
		ss = append(ss, s)
	}
	return ss, rows.Err()
}
