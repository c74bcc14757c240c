package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/casework"
)

// CaseEvent is one entry of a case's chronology.
type CaseEvent struct {
	ID        int64
	At        time.Time
	ActorID   int64
	ActorName string
	Kind      string
	Payload   map[string]any
	// Filled in from the payload for the page: the note's text, the task, the attachment.
	Note       *CaseNote
	Task       *CaseTask
	Attachment *Attachment
}

// CaseNote is a note on a case.
type CaseNote struct {
	ID         int64
	CaseID     int64
	AuthorID   int64
	AuthorName string
	Body       string
	CreatedAt  time.Time
}

// Task statuses.
const (
	TaskOpen      = "open"
	TaskDone      = "done"
	TaskCancelled = "cancelled"
)

// CaseTask is a piece of work on a case.
type CaseTask struct {
	ID           int64
	CaseID       int64
	Title        string
	AssigneeID   int64
	AssigneeName string
	Due          time.Time
	Status       string
	Version      int
	CreatedBy    int64
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Overdue reports whether an open task's due date has passed at now.
func (t CaseTask) Overdue(now time.Time) bool {
	return t.Status == TaskOpen && !t.Due.IsZero() && now.After(t.Due)
}

// Attachment is a file on a case: its metadata here, its encrypted bytes in
// a blob store under BlobKey.
type Attachment struct {
	ID           int64
	CaseID       int64
	Name         string
	ContentType  string
	Size         int64
	SHA256       string // hex, of the plaintext
	BlobKey      string
	UploadedBy   int64
	UploaderName string
	CreatedAt    time.Time
}

// CaseDetail is a case's page: the case and everything on it.
type CaseDetail struct {
	CaseRecord
	Events      []CaseEvent // the chronology, oldest first
	Notes       []CaseNote
	Tasks       []CaseTask
	Attachments []Attachment
	Contacts    []int64 // linked hotline contacts
}

// CaseFor returns case id with its chronology, notes, tasks and
// attachments as a may see it, and audits the read. A case outside a's
// reach is NotFound, and the attempt is audited too.
func (db *DB) CaseFor(ctx context.Context, a audit.Actor, id int64) (d CaseDetail, err error) {
	defer apperr.Wrap(&err, "storage.CaseFor(%d)", id)
	err = db.inTx(ctx, func(c conn) error {
		r, err := db.loadCase(ctx, c, a.Principal, access.Read, id, false)
		if apperr.CodeOf(err) == apperr.NotFound {
			e := a.Event("case.read_denied", "case", id)
			if aerr := appendAudit(ctx, c, e); aerr != nil {
				return aerr
			}
			return errCommit{err}
		}
		if err != nil {
			return err
		}
		d = CaseDetail{CaseRecord: r}
		if r.Decision.View == access.ViewShared {
			// Reached only through a referral or an assignment: need to know is
			// the referral's share (see ReferralFor), not the case file.
			d.Summary = ""
		} else if err := loadCaseParts(ctx, c, &d); err != nil {
			return err
		}
		e := a.Event("case.read", "case", id)
		e.ChildID = firstChild(r)
		if r.Decision.BreakGlass {
			e.BreakGlass = true
			if e.Reason, err = breakGlassReason(ctx, c, a.UserID, e.ChildID); err != nil {
				return err
			}
		}
		return appendAudit(ctx, c, e)
	})
	var ec errCommit
	if errors.As(err, &ec) {
		return CaseDetail{}, ec.err
	}
	return d, err
}

// loadCaseParts reads the chronology, notes, tasks, attachments and
// contacts of d.
func loadCaseParts(ctx context.Context, c conn, d *CaseDetail) error {
	id := d.ID
	rows, err := c.query(ctx, `SELECT n.id, n.case_id, COALESCE(n.author_id, 0), COALESCE(u.name, ''), n.body, n.created_at
		FROM case_notes n LEFT JOIN users u ON u.id = n.author_id WHERE n.case_id = ? ORDER BY n.id`, id)
	if err != nil {
		return err
	}
	for rows.Next() {
		var n CaseNote
		if err := rows.Scan(&n.ID, &n.CaseID, &n.AuthorID, &n.AuthorName, &n.Body, &n.CreatedAt); err != nil {
			rows.Close()
			return err
		}
		n.CreatedAt = n.CreatedAt.UTC()
		d.Notes = append(d.Notes, n)
	}
	rows.Close()
	if d.Tasks, err = caseTasks(ctx, c, `t.case_id = ?`, id); err != nil {
		return err
	}
	if d.Attachments, err = caseAttachments(ctx, c, `a.case_id = ?`, id); err != nil {
		return err
	}
	crows, err := c.query(ctx, `SELECT contact_id FROM case_contacts WHERE case_id = ? ORDER BY linked_at, contact_id`, id)
	if err != nil {
		return err
	}
	for crows.Next() {
		var cid int64
		if err := crows.Scan(&cid); err != nil {
			crows.Close()
			return err
		}
		d.Contacts = append(d.Contacts, cid)
	}
	crows.Close()
	erows, err := c.query(ctx, `SELECT e.id, e.at, COALESCE(e.actor_user_id, 0), COALESCE(u.name, ''), e.kind, e.payload
		FROM case_events e LEFT JOIN users u ON u.id = e.actor_user_id WHERE e.case_id = ? ORDER BY e.id`, id)
	if err != nil {
		return err
	}
	defer erows.Close()
	for erows.Next() {
		var e CaseEvent
		var payload string
		if err := erows.Scan(&e.ID, &e.At, &e.ActorID, &e.ActorName, &e.Kind, &payload); err != nil {
			return err
		}
		e.At = e.At.UTC()
		if err := json.Unmarshal([]byte(payload), &e.Payload); err != nil {
			return fmt.Errorf("case event %d payload: %w", e.ID, err)
		}
		ref := func(key string) int64 {
			v, _ := e.Payload[key].(float64)
			return int64(v)
		}
		for i := range d.Notes {
			if d.Notes[i].ID == ref("note_id") {
				e.Note = &d.Notes[i]
			}
		}
		for i := range d.Tasks {
			if d.Tasks[i].ID == ref("task_id") {
				e.Task = &d.Tasks[i]
			}
		}
		for i := range d.Attachments {
			if d.Attachments[i].ID == ref("attachment_id") {
				e.Attachment = &d.Attachments[i]
			}
		}
		d.Events = append(d.Events, e)
	}
	return erows.Err()
}

func insertNote(ctx context.Context, c conn, a audit.Actor, caseID int64, body string) (int64, error) {
	var id int64
	err := c.queryRow(ctx, `INSERT INTO case_notes (case_id, author_id, body, created_at) VALUES (?, ?, ?, ?) RETURNING id`,
		caseID, nullInt(a.UserID), body, c.now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("insert note: %w", err)
	}
	return id, nil
}

// touchCase marks a case as worked on (a note, a task, a file). The version
// stays: a note by a colleague does not make someone's open transition form
// stale; only changes to the case itself do.
func touchCase(ctx context.Context, c conn, id int64) error {
	_, err := c.exec(ctx, `UPDATE cases SET updated_at = ? WHERE id = ?`, c.now, id)
	return err
}

// AddCaseNote adds a note to case id, if a may take part in it.
func (db *DB) AddCaseNote(ctx context.Context, a audit.Actor, caseID int64, body string) (n CaseNote, err error) {
	defer apperr.Wrap(&err, "storage.AddCaseNote(%d)", caseID)
	body = strings.TrimSpace(body)
	switch {
	case body == "":
		return n, apperr.Validation(apperr.Field("body", "error.required"))
	case len([]rune(body)) > casework.MaxNote:
		return n, apperr.Validation(apperr.Field("body", "error.too_long", casework.MaxNote))
	}
	err = db.inTx(ctx, func(c conn) error {
		r, err := db.loadCase(ctx, c, a.Principal, access.Write, caseID, false)
		if err != nil {
			return err
		}
		id, err := insertNote(ctx, c, a, caseID, body)
		if err != nil {
			return err
		}
		n = CaseNote{ID: id, CaseID: caseID, AuthorID: a.UserID, AuthorName: a.Name, Body: body, CreatedAt: c.now}
		if _, err := addCaseEvent(ctx, c, a, caseID, EventNote, map[string]any{"note_id": id}); err != nil {
			return err
		}
		if err := touchCase(ctx, c, caseID); err != nil {
			return err
		}
		return caseAudit(ctx, c, a.Event("case.note", "case", r.ID), r, map[string]any{"note_id": id})
	})
	return n, err
}

// NewTask is a task to add to a case.
type NewTask struct {
	Title      string
	AssigneeID int64 // 0: nobody yet
	Due        time.Time
}

// MaxTaskTitle limits a task's title.
const MaxTaskTitle = 300

// AddCaseTask adds a task to case caseID, if a may take part in it. The
// assignee must be someone who may take part in the case too.
func (db *DB) AddCaseTask(ctx context.Context, a audit.Actor, caseID int64, nt NewTask) (t CaseTask, err error) {
	defer apperr.Wrap(&err, "storage.AddCaseTask(%d)", caseID)
	nt.Title = strings.Join(strings.Fields(nt.Title), " ")
	var fs []apperr.FieldError
	switch {
	case nt.Title == "":
		fs = append(fs, apperr.Field("title", "error.required"))
	case len([]rune(nt.Title)) > MaxTaskTitle:
		fs = append(fs, apperr.Field("title", "error.too_long", MaxTaskTitle))
	}
	err = db.inTx(ctx, func(c conn) error {
		r, err := db.loadCase(ctx, c, a.Principal, access.Write, caseID, false)
		if err != nil {
			return err
		}
		if !nt.Due.IsZero() && nt.Due.Before(c.now.Add(-24*time.Hour)) {
			fs = append(fs, apperr.Field("due", "case.error.task_due_past"))
		}
		if nt.AssigneeID != 0 {
			p, err := db.principalIn(ctx, c, nt.AssigneeID)
			if err != nil {
				return err
			}
			if !p.Authenticated() || !access.DecideCase(p, access.Write, caseFacts(r, childFactsOf(r))).Allowed {
				fs = append(fs, apperr.Field("assignee", "case.error.assignee"))
			}
		}
		if len(fs) > 0 {
			return apperr.Validation(fs...)
		}
		t = CaseTask{CaseID: caseID, Title: nt.Title, AssigneeID: nt.AssigneeID, Due: nt.Due, Status: TaskOpen, Version: 1,
			CreatedBy: a.UserID, CreatedAt: c.now, UpdatedAt: c.now}
		if err := c.queryRow(ctx, `INSERT INTO case_tasks (case_id, title, assignee_id, due_at, status, version, created_by,
			created_at, updated_at) VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?) RETURNING id`, caseID, t.Title, nullInt(t.AssigneeID),
			nullTime(t.Due), t.Status, nullInt(t.CreatedBy), c.now, c.now).Scan(&t.ID); err != nil {
			return err
		}
		if _, err := addCaseEvent(ctx, c, a, caseID, EventTask, map[string]any{"task_id": t.ID, "assignee_id": t.AssigneeID}); err != nil {
			return err
		}
		if err := touchCase(ctx, c, caseID); err != nil {
			return err
		}
		return caseAudit(ctx, c, a.Event("case.task", "case", r.ID), r, map[string]any{"task_id": t.ID})
	})
	return t, err
}

// childFactsOf rebuilds the policy facts of r's children as r holds them
// (no grants: enough to decide jurisdiction and relations).
func childFactsOf(r CaseRecord) []access.ChildFacts {
	fs := make([]access.ChildFacts, 0, len(r.Children))
	for _, ch := range r.Children {
		if ch.Decision.Allowed {
			fs = append(fs, access.ChildFacts{SchoolID: ch.SchoolID, District: ch.School.DistrictCode, Grade: ch.Grade, Section: ch.Section})
		}
	}
	return fs
}

// principalIn reads a user's principal inside the transaction c; the zero
// Principal when there is no such enabled user.
func (db *DB) principalIn(ctx context.Context, c conn, id int64) (access.Principal, error) {
	u, err := getUser(ctx, c, `u.id = ?`, id)
	if apperr.CodeOf(err) == apperr.NotFound || (err == nil && u.Disabled) {
		return access.Principal{}, nil
	}
	if err != nil {
		return access.Principal{}, err
	}
	var district sql.NullString
	if err := c.queryRow(ctx, `SELECT district_code FROM orgs WHERE id = ?`, u.OrgID).Scan(&district); err != nil {
		return access.Principal{}, err
	}
	return u.Principal(district.String), nil
}

// SetCaseTaskStatus sets a task's status (open, done, cancelled) if it is
// still at version.
func (db *DB) SetCaseTaskStatus(ctx context.Context, a audit.Actor, caseID, taskID int64, version int, status string) (t CaseTask, err error) {
	defer apperr.Wrap(&err, "storage.SetCaseTaskStatus(%d)", taskID)
	if status != TaskOpen && status != TaskDone && status != TaskCancelled {
		return t, apperr.Validation(apperr.Field("status", "case.error.task_status"))
	}
	err = db.inTx(ctx, func(c conn) error {
		r, err := db.loadCase(ctx, c, a.Principal, access.Write, caseID, false)
		if err != nil {
			return err
		}
		ts, err := caseTasks(ctx, c, `t.id = ? AND t.case_id = ?`, taskID, caseID)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		t = ts[0]
		if t.Version != version {
			return apperr.New(apperr.Conflict, "case.error.task_stale", t.Version)
		}
		if t.Status == status {
			return nil
		}
		res, err := c.exec(ctx, `UPDATE case_tasks SET status = ?, version = version + 1, updated_at = ? WHERE id = ? AND version = ?`,
			status, c.now, taskID, version)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "case.error.task_stale", t.Version)
		}
		from := t.Status
		t.Status, t.Version, t.UpdatedAt = status, t.Version+1, c.now
		if _, err := addCaseEvent(ctx, c, a, caseID, EventTaskStatus, map[string]any{"task_id": taskID, "from": from, "to": status}); err != nil {
			return err
		}
		if err := touchCase(ctx, c, caseID); err != nil {
			return err
		}
		return caseAudit(ctx, c, a.Event("case.task_status", "case", r.ID), r, map[string]any{"task_id": taskID, "to": status})
	})
	return t, err
}

func caseTasks(ctx context.Context, c conn, where string, args ...any) ([]CaseTask, error) {
	rows, err := c.query(ctx, `SELECT t.id, t.case_id, t.title, COALESCE(t.assignee_id, 0), COALESCE(u.name, ''), t.due_at,
		t.status, t.version, COALESCE(t.created_by, 0), t.created_at, t.updated_at
		FROM case_tasks t LEFT JOIN users u ON u.id = t.assignee_id WHERE `+where+` ORDER BY t.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ts []CaseTask
	for rows.Next() {
		var t CaseTask
		var due sql.NullTime
		if err := rows.Scan(&t.ID, &t.CaseID, &t.Title, &t.AssigneeID, &t.AssigneeName, &due, &t.Status, &t.Version,
			&t.CreatedBy, &t.CreatedAt, &t.UpdatedAt); err != nil {
			return nil, err
		}
		if due.Valid {
			t.Due = due.Time.UTC()
		}
		t.CreatedAt, t.UpdatedAt = t.CreatedAt.UTC(), t.UpdatedAt.UTC()
		ts = append(ts, t)
	}
	return ts, rows.Err()
}

func caseAttachments(ctx context.Context, c conn, where string, args ...any) ([]Attachment, error) {
	rows, err := c.query(ctx, `SELECT a.id, a.case_id, a.name, a.content_type, a.size, a.sha256, a.blob_key,
		COALESCE(a.uploaded_by, 0), COALESCE(u.name, ''), a.created_at
		FROM case_attachments a LEFT JOIN users u ON u.id = a.uploaded_by WHERE `+where+` ORDER BY a.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var as []Attachment
	for rows.Next() {
		var at Attachment
		if err := rows.Scan(&at.ID, &at.CaseID, &at.Name, &at.ContentType, &at.Size, &at.SHA256, &at.BlobKey,
			&at.UploadedBy, &at.UploaderName, &at.CreatedAt); err != nil {
			return nil, err
		}
		at.CreatedAt = at.CreatedAt.UTC()
		as = append(as, at)
	}
	return as, rows.Err()
}

// CanWriteCase checks, before a file is stored, that a may add to case id:
// nil, NotFound or Forbidden. The check is repeated when the attachment's
// metadata is saved.
func (db *DB) CanWriteCase(ctx context.Context, a audit.Actor, id int64) (err error) {
	defer apperr.Wrap(&err, "storage.CanWriteCase(%d)", id)
	_, err = db.loadCase(ctx, db.reader(), a.Principal, access.Write, id, false)
	return err
}

// AddCaseAttachment records the metadata of a file whose encrypted bytes
// were stored under at.BlobKey, if a may take part in the case.
func (db *DB) AddCaseAttachment(ctx context.Context, a audit.Actor, at Attachment) (_ Attachment, err error) {
	defer apperr.Wrap(&err, "storage.AddCaseAttachment(%d)", at.CaseID)
	err = db.inTx(ctx, func(c conn) error {
		r, err := db.loadCase(ctx, c, a.Principal, access.Write, at.CaseID, false)
		if err != nil {
			return err
		}
		at.UploadedBy, at.UploaderName, at.CreatedAt = a.UserID, a.Name, c.now
		if err := c.queryRow(ctx, `INSERT INTO case_attachments (case_id, name, content_type, size, sha256, blob_key,
			uploaded_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`, at.CaseID, at.Name, at.ContentType,
			at.Size, at.SHA256, at.BlobKey, nullInt(a.UserID), c.now).Scan(&at.ID); err != nil {
			return err
		}
		if _, err := addCaseEvent(ctx, c, a, at.CaseID, EventAttachment, map[string]any{"attachment_id": at.ID, "size": at.Size}); err != nil {
			return err
		}
		if err := touchCase(ctx, c, at.CaseID); err != nil {
			return err
		}
		return caseAudit(ctx, c, a.Event("case.attachment_add", "case", r.ID), r, map[string]any{"attachment_id": at.ID, "size": at.Size})
	})
	return at, err
}

// CaseAttachmentFor returns the metadata of attachment attID of case
// caseID for download, if a may read the case, and audits the download.
func (db *DB) CaseAttachmentFor(ctx context.Context, a audit.Actor, caseID, attID int64) (at Attachment, err error) {
	defer apperr.Wrap(&err, "storage.CaseAttachmentFor(%d)", attID)
	err = db.inTx(ctx, func(c conn) error {
		r, err := db.loadCase(ctx, c, a.Principal, access.Read, caseID, false)
		if err != nil {
			return err
		}
		as, err := caseAttachments(ctx, c, `a.id = ? AND a.case_id = ?`, attID, caseID)
		if err != nil {
			return err
		}
		if len(as) == 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		at = as[0]
		return caseAudit(ctx, c, a.Event("case.attachment_read", "case", r.ID), r, map[string]any{"attachment_id": attID})
	})
	return at, err
}

// CaseOwners lists the users who may own a case led by orgID: the enabled
// staff of that body who may see children's data, for the triage form.
func (db *DB) CaseOwners(ctx context.Context, orgID int64) (_ []UserRef, err error) {
	defer apperr.Wrap(&err, "storage.CaseOwners(%d)", orgID)
	rows, err := db.reader().query(ctx, `SELECT u.id, u.name, o.code FROM users u JOIN orgs o ON o.id = u.org_id
		WHERE u.org_id = ? AND u.disabled = ? AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id
		AND r.role NOT IN ('analyst', 'public_council', 'system_admin')) ORDER BY u.name, u.id LIMIT 500`, orgID, false)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var us []UserRef
	for rows.Next() {
		var u UserRef
		if err := rows.Scan(&u.ID, &u.Name, &u.OrgCode); err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	return us, rows.Err()
}

// UserRef names a user for a choice in a form.
type UserRef struct {
	ID      int64
	Name    string
	OrgCode string
}
