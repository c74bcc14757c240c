package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/auth"
	"dayaq/internal/danis"
	"dayaq/internal/hotline"
	"dayaq/internal/org"
)

// DanisSettings are the channel's settings: how long conversations are
// kept, the urgent words and the opening answers per language. Version 0
// means the defaults, never saved.
type DanisSettings struct {
	RetentionDays int
	Words         danis.Words
	Canned        map[string][]string
	Version       int
}

// DefaultDanisRetention is how long conversations are kept until the city
// sets its own period.
const DefaultDanisRetention = 90

// DanisMessage is one message of a conversation.
type DanisMessage struct {
	ID       int64
	Author   string // "child" or "staff"
	UserName string // the operator who wrote it; never shown to the child
	Body     string
	At       time.Time
}

// DanisConversation is a conversation with what its reader may know.
type DanisConversation struct {
	ID, ContactID          int64
	Lang                   string
	Upset                  int
	Urgency                hotline.Urgency
	AlertOpen              bool
	OrgID, AssignedTo      int64
	AssignedName           string
	Age                    int
	Place, District        string
	CreatedAt, LastChildAt time.Time
	LastStaffAt            time.Time // zero: not answered yet
	Messages               []DanisMessage
	CanTake, CanAnswer     bool
	Unanswered             bool // the child wrote last
	UrgentHits             []string
	ChildMessages, Answers int
	FirstWords             string // the start of the first message, for the operators' list

	// The contact's classification, for the operator's form (DanisFor).
	ContactVersion int
	Categories     []string
	Outcome        hotline.Outcome
	OutcomeReason  string
	CaseID         int64
	ChildID        int64
	ReferredTo     string
}

// DanisStarted is a new conversation: its code (shown once, then only its
// hash is kept) and the token of the page opened for it.
type DanisStarted struct {
	Code         danis.Code
	Token        string
	Urgent       bool // the message raised an alert
	Conversation DanisConversation
}

// intakeEmail is the account the channel's contacts are logged by: a
// disabled user without roles, made on first use in the receiving hotline.
const intakeEmail = "danis@intake.invalid"

// DanisSettingsNow returns the channel's settings.
func (db *DB) DanisSettingsNow(ctx context.Context) (s DanisSettings, err error) {
	defer apperr.Wrap(&err, "storage.DanisSettingsNow")
	return danisSettings(ctx, db.reader())
}

func danisSettings(ctx context.Context, c conn) (DanisSettings, error) {
	s := DanisSettings{RetentionDays: DefaultDanisRetention, Words: danis.DefaultWords(), Canned: danis.DefaultCanned()}
	var words, canned string
	err := c.queryRow(ctx, `SELECT retention_days, words, canned, version FROM danis_settings WHERE id = 1`).
		Scan(&s.RetentionDays, &words, &canned, &s.Version)
	if errors.Is(err, sql.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, fmt.Errorf("danis settings: %w", err)
	}
	if err := json.Unmarshal([]byte(words), &s.Words); err != nil {
		return s, fmt.Errorf("danis words: %w", err)
	}
	if err := json.Unmarshal([]byte(canned), &s.Canned); err != nil {
		return s, fmt.Errorf("danis canned: %w", err)
	}
	return s, nil
}

// SaveDanisSettings saves the channel's settings for a, based on the
// version a read (a stale one is a Conflict). The hotline's supervisors and
// the city administrators edit the words and answers; only the city sets
// the retention period.
func (db *DB) SaveDanisSettings(ctx context.Context, a audit.Actor, s DanisSettings, basedOn int) (saved DanisSettings, err error) {
	defer apperr.Wrap(&err, "storage.SaveDanisSettings")
	if !access.CanEditDanis(a.Principal) {
		return DanisSettings{}, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	if s.RetentionDays < 1 || s.RetentionDays > 3650 {
		return DanisSettings{}, apperr.Validation(apperr.Field("retention_days", "error.range", 1, 3650))
	}
	err = db.inTx(ctx, func(c conn) error {
		cur, err := danisSettings(ctx, c)
		if err != nil {
			return err
		}
		if cur.Version != basedOn {
			return apperr.New(apperr.Conflict, "danis.error.stale")
		}
		if s.RetentionDays != cur.RetentionDays && !access.CanSetDanisRetention(a.Principal) {
			return apperr.Validation(apperr.Field("retention_days", "danis.error.retention_city"))
		}
		words, _ := json.Marshal(s.Words)
		canned, _ := json.Marshal(s.Canned)
		if cur.Version == 0 {
			_, err = c.exec(ctx, `INSERT INTO danis_settings (id, retention_days, words, canned, version, updated_by, updated_at)
				VALUES (1, ?, ?, ?, 1, ?, ?)`, s.RetentionDays, string(words), string(canned), a.UserID, c.now)
		} else {
			_, err = c.exec(ctx, `UPDATE danis_settings SET retention_days = ?, words = ?, canned = ?, version = version + 1,
				updated_by = ?, updated_at = ? WHERE id = 1`, s.RetentionDays, string(words), string(canned), a.UserID, c.now)
		}
		if err != nil {
			return fmt.Errorf("save danis settings: %w", err)
		}
		s.Version = cur.Version + 1
		saved = s
		e := a.Event("danis.settings", "danis_settings", 1)
		e.Details = detailsJSON(map[string]any{"retention_days": s.RetentionDays, "version": s.Version})
		return appendAudit(ctx, c, e)
	})
	return saved, err
}

// childActor is who acts for the child: nobody, from nowhere. The audit
// event of a child's action carries no address and no request ID.
func childActor() audit.Actor { return audit.Actor{} }

// StartDanis starts a conversation with the child's first message: a
// contact of channel web in the receiving hotline's queue, the
// conversation attached to it, a new follow-up code (kept as its public ID
// and an argon2id hash of the secret) and an open page's token. An urgent
// word or an upset of 6–7 makes the contact critical and alerts the duty
// supervisors at once, in the same transaction. Nothing that identifies
// the child is stored.
func (db *DB) StartDanis(ctx context.Context, m danis.Message, lang string) (st DanisStarted, err error) {
	defer apperr.Wrap(&err, "storage.StartDanis")
	m.Normalize()
	if err := m.Validate(); err != nil {
		return DanisStarted{}, err
	}
	for try := 0; ; try++ {
		code, err := danis.NewCode()
		if err != nil {
			return DanisStarted{}, err
		}
		hash, err := auth.HashPassword(code.Secret)
		if err != nil {
			return DanisStarted{}, err
		}
		st, err = db.startDanis(ctx, m, lang, code, hash)
		if apperr.CodeOf(err) == apperr.Conflict && try < 5 {
			continue // the public ID was taken: draw another code
		}
		return st, err
	}
}

func (db *DB) startDanis(ctx context.Context, m danis.Message, lang string, code danis.Code, hash string) (st DanisStarted, err error) {
	err = db.inTx(ctx, func(c conn) error {
		var taken int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM danis_conversations WHERE public_id = ?`, code.ID).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return apperr.New(apperr.Conflict, "danis.error.retry")
		}
		settings, err := danisSettings(ctx, c)
		if err != nil {
			return err
		}
		orgID, userID, err := danisIntake(ctx, c)
		if err != nil {
			return err
		}
		tax, err := db.taxonomyOn(ctx, c, 0)
		if err != nil {
			return err
		}
		hits := settings.Words.Match(m.Text)
		ct := hotline.Contact{Channel: hotline.Web, CallType: hotline.ChildSelf, ReceivedAt: c.now,
			Caller: hotline.Caller{Anonymous: true, Relationship: "self"}, Urgency: danis.Suggest(hits, m.Upset),
			Outcome: hotline.Advice, OrgID: orgID, CreatedBy: userID}
		ct.Suggested = ct.Urgency
		ct.AlertOpen = ct.Urgency == hotline.Critical
		if m.Age != 0 || m.Place != "" || m.District != "" {
			ct.Children = []hotline.ChildRef{{Age: m.Age, School: m.Place, District: m.District}}
		}
		if err := c.queryRow(ctx, `INSERT INTO contacts (taxonomy_version, channel, call_type, received_at, caller_anonymous,
			caller_relation, urgency, suggested, outcome, org_id, created_by, created_at, children_n, categories_n, alert_open)
			VALUES (?, ?, ?, ?, TRUE, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?) RETURNING id`,
			tax.Version, ct.Channel, ct.CallType, ct.ReceivedAt, ct.Caller.Relationship, ct.Urgency, ct.Suggested, ct.Outcome,
			ct.OrgID, ct.CreatedBy, c.now, len(ct.Children), ct.AlertOpen).Scan(&ct.ID); err != nil {
			return fmt.Errorf("insert web contact: %w", err)
		}
		if err := insertContactParts(ctx, c, &ct); err != nil {
			return err
		}
		var convID int64
		if err := c.queryRow(ctx, `INSERT INTO danis_conversations (contact_id, public_id, secret_hash, lang, upset, created_at,
			last_child_at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`, ct.ID, code.ID, hash, lang, m.Upset, c.now, c.now).Scan(&convID); err != nil {
			return fmt.Errorf("insert conversation: %w", err)
		}
		if _, err := c.exec(ctx, `INSERT INTO danis_messages (conversation_id, author, body, created_at) VALUES (?, 'child', ?, ?)`,
			convID, m.Text, c.now); err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		tok, err := openDanisTx(ctx, c, convID)
		if err != nil {
			return err
		}
		if ct.AlertOpen {
			if err := alertCritical(ctx, c, &ct); err != nil {
				return err
			}
		}
		e := childActor().Event("danis.start", "contact", ct.ID)
		e.Details = detailsJSON(map[string]any{"urgency": ct.Urgency, "alert": ct.AlertOpen, "urgent_words": len(hits)})
		if err := appendAudit(ctx, c, e); err != nil {
			return err
		}
		st = DanisStarted{Code: code, Token: tok, Urgent: ct.AlertOpen}
		st.Conversation, err = childThread(ctx, c, convID)
		return err
	})
	return st, err
}

// danisIntake finds the hotline that receives the channel (the first
// hotline) and the intake account its contacts are logged by, making the
// account on first use.
func danisIntake(ctx context.Context, c conn) (orgID, userID int64, err error) {
	err = c.queryRow(ctx, `SELECT id FROM orgs WHERE type = ? ORDER BY id LIMIT 1`, org.Hotline).Scan(&orgID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, apperr.New(apperr.Unavailable, "danis.error.closed")
	}
	if err != nil {
		return 0, 0, fmt.Errorf("danis hotline: %w", err)
	}
	if _, err := c.exec(ctx, `INSERT INTO users (email, name, org_id, password_hash, disabled, created_at, updated_at)
		VALUES (?, ?, ?, '!', TRUE, ?, ?) ON CONFLICT (email) DO NOTHING`, intakeEmail, "Mənimlə danış", orgID, c.now, c.now); err != nil {
		return 0, 0, fmt.Errorf("danis intake user: %w", err)
	}
	err = c.queryRow(ctx, `SELECT id FROM users WHERE email = ?`, intakeEmail).Scan(&userID)
	return orgID, userID, err
}

// openDanisTx opens a page for the conversation: a random token, kept as
// its SHA-256, for danis.OpenFor.
func openDanisTx(ctx context.Context, c conn, convID int64) (string, error) {
	if _, err := c.exec(ctx, `DELETE FROM danis_opens WHERE expires_at < ?`, c.now); err != nil {
		return "", err
	}
	tok := auth.NewSessionToken()
	if _, err := c.exec(ctx, `INSERT INTO danis_opens (token_hash, conversation_id, expires_at) VALUES (?, ?, ?)`,
		auth.HashToken(tok), convID, c.now.Add(danis.OpenFor)); err != nil {
		return "", fmt.Errorf("open conversation: %w", err)
	}
	return tok, nil
}

// The refusals a child may meet when coming back with a code.
var (
	errDanisCode   = apperr.New(apperr.NotFound, "danis.error.code")
	errDanisPaused = apperr.New(apperr.Unavailable, "danis.error.paused")
)

// DanisWrongCode reports whether err is the plain "no conversation with
// this code" (not a pause, not a failure).
func DanisWrongCode(err error) bool { return errors.Is(err, errDanisCode) }

// DanisPaused reports whether err is the pause after too many wrong codes.
func DanisPaused(err error) bool { return errors.Is(err, errDanisPaused) }

// errDanisUnknownID is a code whose public ID no conversation has; the
// caller counts it against the global budget of wrong codes.
var errDanisUnknownID = fmt.Errorf("unknown id: %w", errDanisCode)

// DanisUnknownID reports whether err is a code whose ID is nobody's.
func DanisUnknownID(err error) bool { return errors.Is(err, errDanisUnknownID) }

// OpenDanis checks a follow-up code and opens the conversation's page: the
// token for the page's cookie, and the conversation as the child sees it.
// A wrong secret counts against the conversation; after danis.MaxTries the
// conversation takes no code for danis.Pause. A code that is not one, or
// whose ID is nobody's, is the same plain refusal.
func (db *DB) OpenDanis(ctx context.Context, typed string) (token string, conv DanisConversation, err error) {
	code, ok := danis.ParseCode(typed)
	if !ok {
		return "", DanisConversation{}, errDanisCode
	}
	var id int64
	var hash string
	var tries int
	var locked sql.NullTime
	err = db.reader().queryRow(ctx, `SELECT id, secret_hash, failed_tries, locked_until FROM danis_conversations WHERE public_id = ?`,
		code.ID).Scan(&id, &hash, &tries, &locked)
	if errors.Is(err, sql.ErrNoRows) {
		auth.CheckDummy(code.Secret) // the same time as a wrong secret
		return "", DanisConversation{}, errDanisUnknownID
	}
	if err != nil {
		return "", DanisConversation{}, fmt.Errorf("storage.OpenDanis: %w", err)
	}
	now := db.Now()
	if locked.Valid && now.Before(locked.Time) {
		return "", DanisConversation{}, errDanisPaused
	}
	good, err := auth.CheckPassword(hash, code.Secret)
	if err != nil {
		return "", DanisConversation{}, fmt.Errorf("storage.OpenDanis: %w", err)
	}
	err = db.inTx(ctx, func(c conn) error {
		if !good {
			if tries+1 >= danis.MaxTries {
				_, err := c.exec(ctx, `UPDATE danis_conversations SET failed_tries = 0, locked_until = ? WHERE id = ?`, c.now.Add(danis.Pause), id)
				if err != nil {
					return err
				}
				return errCommit{errDanisPaused}
			}
			if _, err := c.exec(ctx, `UPDATE danis_conversations SET failed_tries = failed_tries + 1 WHERE id = ?`, id); err != nil {
				return err
			}
			return errCommit{errDanisCode}
		}
		if _, err := c.exec(ctx, `UPDATE danis_conversations SET failed_tries = 0, locked_until = NULL WHERE id = ?`, id); err != nil {
			return err
		}
		if token, err = openDanisTx(ctx, c, id); err != nil {
			return err
		}
		conv, err = childThread(ctx, c, id)
		return err
	})
	var ec errCommit
	if errors.As(err, &ec) {
		return "", DanisConversation{}, ec.err
	}
	return token, conv, err
}

// danisByToken finds the conversation of an open page's token; an unknown
// or expired one is NotFound.
func danisByToken(ctx context.Context, c conn, token string) (int64, error) {
	var id int64
	var exp time.Time
	err := c.queryRow(ctx, `SELECT conversation_id, expires_at FROM danis_opens WHERE token_hash = ?`, auth.HashToken(token)).Scan(&id, &exp)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !c.now.Before(exp)) {
		return 0, apperr.New(apperr.NotFound, "danis.error.closed_page")
	}
	return id, err
}

// DanisByToken returns the conversation of an open page as the child sees
// it.
func (db *DB) DanisByToken(ctx context.Context, token string) (conv DanisConversation, err error) {
	defer apperr.Wrap(&err, "storage.DanisByToken")
	c := db.reader()
	id, err := danisByToken(ctx, c, token)
	if err != nil {
		return DanisConversation{}, err
	}
	return childThread(ctx, c, id)
}

// CloseDanis forgets an open page's token (the quick exit).
func (db *DB) CloseDanis(ctx context.Context, token string) (err error) {
	defer apperr.Wrap(&err, "storage.CloseDanis")
	return db.inTx(ctx, func(c conn) error {
		_, err := c.exec(ctx, `DELETE FROM danis_opens WHERE token_hash = ?`, auth.HashToken(token))
		return err
	})
}

// DanisChildWrite adds the child's message to the conversation of an open
// page. An urgent word raises the contact to critical and alerts the duty
// supervisors, unless an alert is open already. One conversation takes at
// most danis.MaxChildMessagesPerHour messages an hour.
func (db *DB) DanisChildWrite(ctx context.Context, token, text string) (conv DanisConversation, err error) {
	defer apperr.Wrap(&err, "storage.DanisChildWrite")
	text, fe := danis.CleanText("message", text, danis.MaxMessage)
	if fe != nil {
		return DanisConversation{}, apperr.Validation(*fe)
	}
	if text == "" {
		return DanisConversation{}, apperr.Validation(apperr.Field("message", "danis.error.empty"))
	}
	err = db.inTx(ctx, func(c conn) error {
		id, err := danisByToken(ctx, c, token)
		if err != nil {
			return err
		}
		var recent int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM danis_messages WHERE conversation_id = ? AND author = 'child' AND created_at > ?`,
			id, c.now.Add(-time.Hour)).Scan(&recent); err != nil {
			return err
		}
		if recent >= danis.MaxChildMessagesPerHour {
			return apperr.New(apperr.Unavailable, "danis.error.slow_down")
		}
		settings, err := danisSettings(ctx, c)
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, `INSERT INTO danis_messages (conversation_id, author, body, created_at) VALUES (?, 'child', ?, ?)`,
			id, text, c.now); err != nil {
			return fmt.Errorf("insert message: %w", err)
		}
		if _, err := c.exec(ctx, `UPDATE danis_conversations SET last_child_at = ? WHERE id = ?`, c.now, id); err != nil {
			return err
		}
		var ct hotline.Contact
		if err := c.queryRow(ctx, `SELECT k.id, k.org_id, k.urgency, k.alert_open FROM contacts k
			JOIN danis_conversations d ON d.contact_id = k.id WHERE d.id = ?`, id).Scan(&ct.ID, &ct.OrgID, &ct.Urgency, &ct.AlertOpen); err != nil {
			return err
		}
		hits := settings.Words.Match(text)
		e := childActor().Event("danis.write", "contact", ct.ID)
		if len(hits) > 0 && !ct.AlertOpen {
			if _, err := c.exec(ctx, `UPDATE contacts SET urgency = 'critical', suggested = 'critical', alert_open = TRUE,
				version = version + 1 WHERE id = ?`, ct.ID); err != nil {
				return err
			}
			ct.ReceivedAt = c.now
			if err := alertCritical(ctx, c, &ct); err != nil {
				return err
			}
		}
		e.Details = detailsJSON(map[string]any{"urgent_words": len(hits)})
		if err := appendAudit(ctx, c, e); err != nil {
			return err
		}
		conv, err = childThread(ctx, c, id)
		return err
	})
	return conv, err
}

// childThread is the conversation as the child sees it: the messages,
// without the operators' names.
func childThread(ctx context.Context, c conn, id int64) (DanisConversation, error) {
	var conv DanisConversation
	if err := c.queryRow(ctx, `SELECT id, contact_id, lang, created_at FROM danis_conversations WHERE id = ?`, id).
		Scan(&conv.ID, &conv.ContactID, &conv.Lang, &conv.CreatedAt); err != nil {
		return conv, fmt.Errorf("conversation %d: %w", id, err)
	}
	conv.CreatedAt = conv.CreatedAt.UTC()
	ms, err := danisMessages(ctx, c, id)
	for i := range ms {
		ms[i].UserName = ""
	}
	conv.Messages = ms
	return conv, err
}

func danisMessages(ctx context.Context, c conn, id int64) ([]DanisMessage, error) {
	rows, err := c.query(ctx, `SELECT m.id, m.author, COALESCE(u.name, ''), m.body, m.created_at FROM danis_messages m
		LEFT JOIN users u ON u.id = m.user_id WHERE m.conversation_id = ? ORDER BY m.id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DanisMessage
	for rows.Next() {
		var m DanisMessage
		if err := rows.Scan(&m.ID, &m.Author, &m.UserName, &m.Body, &m.At); err != nil {
			return nil, err
		}
		m.At = m.At.UTC()
		out = append(out, m)
	}
	return out, rows.Err()
}

// danisColumns are read by scanDanis, from danis_conversations d joined to
// contacts k and the taker t.
const danisColumns = `d.id, d.contact_id, d.lang, d.upset, d.created_at, d.last_child_at, d.last_staff_at, k.urgency, k.alert_open,
	k.org_id, COALESCE(k.assigned_to, 0), COALESCE(t.name, ''),
	COALESCE((SELECT x.age FROM contact_children x WHERE x.contact_id = k.id AND x.ord = 0), 0),
	COALESCE((SELECT x.school FROM contact_children x WHERE x.contact_id = k.id AND x.ord = 0), ''),
	COALESCE((SELECT x.district FROM contact_children x WHERE x.contact_id = k.id AND x.ord = 0), '')`

const danisFrom = ` FROM danis_conversations d JOIN contacts k ON k.id = d.contact_id LEFT JOIN users t ON t.id = k.assigned_to `

func scanDanis(s interface{ Scan(...any) error }) (DanisConversation, error) {
	var d DanisConversation
	var staff sql.NullTime
	err := s.Scan(&d.ID, &d.ContactID, &d.Lang, &d.Upset, &d.CreatedAt, &d.LastChildAt, &staff, &d.Urgency, &d.AlertOpen,
		&d.OrgID, &d.AssignedTo, &d.AssignedName, &d.Age, &d.Place, &d.District)
	d.CreatedAt, d.LastChildAt = d.CreatedAt.UTC(), d.LastChildAt.UTC()
	if staff.Valid {
		d.LastStaffAt = staff.Time.UTC()
	}
	d.Unanswered = d.LastStaffAt.Before(d.LastChildAt)
	return d, err
}

func danisFacts(d DanisConversation) access.DanisFacts {
	return access.DanisFacts{OrgID: d.OrgID, AssignedTo: d.AssignedTo}
}

func (d *DanisConversation) decide(p access.Principal) {
	d.CanTake = access.DanisCanTake(p, danisFacts(*d))
	d.CanAnswer = access.DecideDanis(p, access.Write, danisFacts(*d))
}

func danisWhere(f access.DanisFilter) (string, []any) {
	switch {
	case f.All:
		return `1 = 1`, nil
	case f.UserID != 0:
		return `k.org_id = ? AND (k.assigned_to IS NULL OR k.assigned_to = ?)`, []any{f.OrgID, f.UserID}
	}
	return `k.org_id = ?`, []any{f.OrgID}
}

// DanisQuery selects the operators' list.
type DanisQuery struct {
	View  string // "" (waiting and mine), "waiting", "mine"
	Limit int    // 1..200, default 100
}

// ListDanis lists the conversations a may see, filtered in SQL by the
// policy, unanswered first, and audits the list with the contact IDs it
// showed. Each item carries the start of its first message.
func (db *DB) ListDanis(ctx context.Context, a audit.Actor, q DanisQuery) (out []DanisConversation, err error) {
	defer apperr.Wrap(&err, "storage.ListDanis")
	f := access.DanisFilterFor(a.Principal)
	if f.Empty() {
		return nil, nil
	}
	if q.Limit <= 0 || q.Limit > 200 {
		q.Limit = 100
	}
	err = db.inTx(ctx, func(c conn) error {
		out = nil
		where, args := danisWhere(f)
		switch q.View {
		case "waiting":
			where += ` AND k.assigned_to IS NULL`
		case "mine":
			where += ` AND k.assigned_to = ?`
			args = append(args, a.UserID)
		}
		rows, err := c.query(ctx, `SELECT `+danisColumns+`,
			(SELECT m.body FROM danis_messages m WHERE m.conversation_id = d.id ORDER BY m.id LIMIT 1)`+danisFrom+
			`WHERE `+where+` ORDER BY CASE WHEN k.alert_open THEN 0 ELSE 1 END,
			CASE WHEN d.last_staff_at IS NULL OR d.last_staff_at < d.last_child_at THEN 0 ELSE 1 END, d.last_child_at DESC
			LIMIT ?`, append(args, q.Limit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		var ids []int64
		for rows.Next() {
			var first sql.NullString
			var d DanisConversation
			var staff sql.NullTime
			if err := rows.Scan(&d.ID, &d.ContactID, &d.Lang, &d.Upset, &d.CreatedAt, &d.LastChildAt, &staff, &d.Urgency,
				&d.AlertOpen, &d.OrgID, &d.AssignedTo, &d.AssignedName, &d.Age, &d.Place, &d.District, &first); err != nil {
				return err
			}
			d.CreatedAt, d.LastChildAt = d.CreatedAt.UTC(), d.LastChildAt.UTC()
			if staff.Valid {
				d.LastStaffAt = staff.Time.UTC()
			}
			d.Unanswered = d.LastStaffAt.Before(d.LastChildAt)
			if r := []rune(first.String); len(r) > 120 {
				d.FirstWords = string(r[:120]) + "…"
			} else {
				d.FirstWords = first.String
			}
			d.decide(a.Principal)
			out = append(out, d)
			ids = append(ids, d.ContactID)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		rows.Close()
		e := a.Event("danis.list", "contact", 0)
		e.Details = idsJSON(ids)
		return appendAudit(ctx, c, e)
	})
	return out, err
}

// loadDanis reads the conversation of contact contactID for p, filtered in
// SQL and decided by the policy; one p may not see is NotFound.
func loadDanis(ctx context.Context, c conn, p access.Principal, contactID int64) (DanisConversation, error) {
	f := access.DanisFilterFor(p)
	if f.Empty() {
		return DanisConversation{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	where, args := danisWhere(f)
	d, err := scanDanis(c.queryRow(ctx, `SELECT `+danisColumns+danisFrom+`WHERE d.contact_id = ? AND `+where,
		append([]any{contactID}, args...)...))
	if errors.Is(err, sql.ErrNoRows) {
		return DanisConversation{}, apperr.New(apperr.NotFound, "error.not_found")
	}
	if err != nil {
		return DanisConversation{}, fmt.Errorf("load conversation of contact %d: %w", contactID, err)
	}
	if !access.DecideDanis(p, access.Read, danisFacts(d)) {
		return DanisConversation{}, fmt.Errorf("policy and filter disagree on conversation %d", d.ID)
	}
	d.decide(p)
	return d, nil
}

// DanisFor returns the conversation attached to contact contactID with its
// messages, as a may see it, and audits the read in the same transaction;
// a refused read is audited too.
func (db *DB) DanisFor(ctx context.Context, a audit.Actor, contactID int64) (d DanisConversation, err error) {
	defer apperr.Wrap(&err, "storage.DanisFor(%d)", contactID)
	err = db.inTx(ctx, func(c conn) error {
		d, err = loadDanis(ctx, c, a.Principal, contactID)
		e := a.Event("danis.read", "contact", contactID)
		if apperr.CodeOf(err) == apperr.NotFound {
			e.Action = "danis.read_denied"
			if aerr := appendAudit(ctx, c, e); aerr != nil {
				return aerr
			}
			return errCommit{err}
		}
		if err != nil {
			return err
		}
		if d.Messages, err = danisMessages(ctx, c, d.ID); err != nil {
			return err
		}
		if err := c.queryRow(ctx, `SELECT version, outcome, outcome_reason, COALESCE(case_id, 0), referred_to,
			COALESCE((SELECT x.child_id FROM contact_children x WHERE x.contact_id = k.id AND x.ord = 0), 0)
			FROM contacts k WHERE id = ?`, contactID).Scan(&d.ContactVersion, &d.Outcome, &d.OutcomeReason, &d.CaseID,
			&d.ReferredTo, &d.ChildID); err != nil {
			return err
		}
		if err := func() error {
			rows, err := c.query(ctx, `SELECT code FROM contact_categories WHERE contact_id = ? ORDER BY code`, contactID)
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var code string
				if err := rows.Scan(&code); err != nil {
					return err
				}
				d.Categories = append(d.Categories, code)
			}
			return rows.Err()
		}(); err != nil {
			return err
		}
		settings, err := danisSettings(ctx, c)
		if err != nil {
			return err
		}
		for _, m := range d.Messages {
			if m.Author == "child" {
				d.ChildMessages++
				for _, h := range settings.Words.Match(m.Body) {
					if !slices.Contains(d.UrgentHits, h) {
						d.UrgentHits = append(d.UrgentHits, h)
					}
				}
			} else {
				d.Answers++
			}
		}
		e.Details = detailsJSON(map[string]any{"messages": len(d.Messages)})
		return appendAudit(ctx, c, e)
	})
	var ec errCommit
	if errors.As(err, &ec) {
		return DanisConversation{}, ec.err
	}
	return d, err
}

// TakeDanis takes a waiting conversation: a answers it from now on, and
// its contact is assigned to a (so it is in a's hotline queue). One taken
// already is a Conflict.
func (db *DB) TakeDanis(ctx context.Context, a audit.Actor, contactID int64) (err error) {
	defer apperr.Wrap(&err, "storage.TakeDanis(%d)", contactID)
	return db.inTx(ctx, func(c conn) error {
		d, err := loadDanis(ctx, c, a.Principal, contactID)
		if err != nil {
			return err
		}
		if d.AssignedTo != 0 {
			return apperr.New(apperr.Conflict, "danis.error.taken", d.AssignedName)
		}
		if !d.CanTake {
			return apperr.New(apperr.Forbidden, "danis.error.cannot_take")
		}
		res, err := c.exec(ctx, `UPDATE contacts SET assigned_to = ?, version = version + 1 WHERE id = ? AND assigned_to IS NULL`,
			a.UserID, contactID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return apperr.New(apperr.Conflict, "danis.error.taken", "")
		}
		return appendAudit(ctx, c, a.Event("danis.take", "contact", contactID))
	})
}

// AnswerDanis adds a's answer to the conversation of contact contactID;
// the child reads it on their next visit. Only the one who took it, the
// hotline's supervisors and the city unit answer.
func (db *DB) AnswerDanis(ctx context.Context, a audit.Actor, contactID int64, text string) (err error) {
	defer apperr.Wrap(&err, "storage.AnswerDanis(%d)", contactID)
	text, fe := danis.CleanText("message", text, danis.MaxMessage)
	if fe != nil {
		return apperr.Validation(*fe)
	}
	if text == "" {
		return apperr.Validation(apperr.Field("message", "danis.error.empty"))
	}
	return db.inTx(ctx, func(c conn) error {
		d, err := loadDanis(ctx, c, a.Principal, contactID)
		if err != nil {
			return err
		}
		if !d.CanAnswer {
			return apperr.New(apperr.Forbidden, "danis.error.cannot_answer")
		}
		if _, err := c.exec(ctx, `INSERT INTO danis_messages (conversation_id, author, user_id, body, created_at) VALUES (?, 'staff', ?, ?, ?)`,
			d.ID, a.UserID, text, c.now); err != nil {
			return fmt.Errorf("insert answer: %w", err)
		}
		if _, err := c.exec(ctx, `UPDATE danis_conversations SET last_staff_at = ? WHERE id = ?`, c.now, d.ID); err != nil {
			return err
		}
		return appendAudit(ctx, c, a.Event("danis.answer", "contact", contactID))
	})
}

// PruneDanis deletes the conversations (their messages and open pages)
// whose last message is older than the retention period; their contacts
// stay, with their classification. It returns how many it deleted.
func (db *DB) PruneDanis(ctx context.Context) (n int64, err error) {
	defer apperr.Wrap(&err, "storage.PruneDanis")
	err = db.inTx(ctx, func(c conn) error {
		s, err := danisSettings(ctx, c)
		if err != nil {
			return err
		}
		before := c.now.AddDate(0, 0, -s.RetentionDays)
		old := `SELECT id FROM danis_conversations WHERE last_child_at < ? AND (last_staff_at IS NULL OR last_staff_at < ?)`
		if _, err := c.exec(ctx, `DELETE FROM danis_opens WHERE conversation_id IN (`+old+`) OR expires_at < ?`, before, before, c.now); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `DELETE FROM danis_messages WHERE conversation_id IN (`+old+`)`, before, before); err != nil {
			return err
		}
		res, err := c.exec(ctx, `DELETE FROM danis_conversations WHERE last_child_at < ? AND (last_staff_at IS NULL OR last_staff_at < ?)`,
			before, before)
		if err != nil {
			return err
		}
		if n, _ = res.RowsAffected(); n == 0 {
			return nil
		}
		e := audit.System().Event("danis.prune", "danis_conversation", 0)
		e.Details = detailsJSON(map[string]any{"deleted": n, "retention_days": s.RetentionDays})
		return appendAudit(ctx, c, e)
	})
	return n, err
}

// WebClassification is how an operator classifies a web contact after
// reading its conversation, like any contact: the taxonomy's categories,
// the urgency they decide, the outcome, and the registry child and the
// case when the child has said enough.
type WebClassification struct {
	Categories    []string
	Urgency       hotline.Urgency
	Outcome       hotline.Outcome
	OutcomeReason string
	CaseID        int64  // the case it is attached to (outcome case_attached)
	ReferredTo    string // the organisation's code (outcome referred)
	ChildID       int64  // a registry child the operator found by matching; 0: none
}

// ClassifyWebContact classifies the web contact contactID for a, based on
// the version a read (another is a Conflict). It is checked by the
// hotline's rules against the taxonomy in force, opens or attaches a case
// as the outcome says, and is audited, in one transaction. Only web
// contacts are classified after the fact; a call is classified as it is
// logged.
func (db *DB) ClassifyWebContact(ctx context.Context, a audit.Actor, contactID int64, in WebClassification, version int) (err error) {
	defer apperr.Wrap(&err, "storage.ClassifyWebContact(%d)", contactID)
	return db.inTx(ctx, func(c conn) error {
		r, err := loadContact(ctx, c, a.Principal, contactID)
		if err != nil {
			return err
		}
		if !access.DecideContact(a.Principal, access.Write, contactFacts(r)) {
			return apperr.New(apperr.Forbidden, "danis.error.cannot_answer")
		}
		if r.Channel != hotline.Web {
			return apperr.New(apperr.Invalid, "danis.error.not_web")
		}
		var cur int
		if err := c.queryRow(ctx, `SELECT version FROM contacts WHERE id = ?`, contactID).Scan(&cur); err != nil {
			return err
		}
		if cur != version {
			return apperr.New(apperr.Conflict, "danis.error.stale_contact")
		}
		one := []ContactRecord{r}
		if err := loadContactParts(ctx, c, one); err != nil {
			return err
		}
		ct := one[0].Contact
		ct.Categories, ct.Urgency, ct.Outcome = in.Categories, in.Urgency, in.Outcome
		ct.OutcomeReason, ct.CaseID, ct.ReferredTo = in.OutcomeReason, in.CaseID, in.ReferredTo
		if len(ct.Children) == 0 && in.ChildID > 0 {
			ct.Children = []hotline.ChildRef{{}}
		}
		if len(ct.Children) > 0 {
			ct.Children[0].ChildID = in.ChildID
		}
		ct.Normalize()
		tax, err := db.taxonomyOn(ctx, c, 0)
		if err != nil {
			return err
		}
		var fs []apperr.FieldError
		if verr := ct.Validate(ct.ReceivedAt, tax); verr != nil {
			for _, f := range apperr.As(verr).Fields {
				if f.Field == "children[0].child_id" {
					f.Field = "child_id"
				}
				fs = append(fs, f)
			}
		}
		if in.ChildID > 0 {
			var n int
			if err := c.queryRow(ctx, `SELECT COUNT(*) FROM children WHERE id = ?`, in.ChildID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				fs = append(fs, apperr.Field("child_id", "hotline.error.child_unknown"))
			}
		}
		if ct.Outcome == hotline.Referred && ct.ReferredTo != "" {
			if _, err := getOrgByCode(ctx, c, ct.ReferredTo); apperr.CodeOf(err) == apperr.NotFound {
				fs = append(fs, apperr.Field("referred_to", "hotline.error.org_unknown", ct.ReferredTo))
			} else if err != nil {
				return err
			}
		}
		if len(fs) > 0 {
			return apperr.Validation(fs...)
		}
		ct.TaxonomyVersion = tax.Version
		ct.AlertOpen = r.AlertOpen
		var caseID sql.NullInt64
		switch {
		case ct.Outcome == hotline.Attached && ct.CaseID > 0:
			caseID = sql.NullInt64{Int64: ct.CaseID, Valid: true}
		case ct.Outcome == hotline.CaseOpened && r.CaseID > 0: // classified again: the case it opened stays
			caseID = sql.NullInt64{Int64: r.CaseID, Valid: true}
			ct.CaseID = r.CaseID
		}
		if _, err := c.exec(ctx, `UPDATE contacts SET taxonomy_version = ?, urgency = ?, outcome = ?, outcome_reason = ?,
			referred_to = ?, case_id = ?, children_n = ?, categories_n = ?, version = version + 1 WHERE id = ?`,
			ct.TaxonomyVersion, ct.Urgency, ct.Outcome, ct.OutcomeReason, ct.ReferredTo, caseID, len(ct.Children),
			len(ct.Categories), contactID); err != nil {
			return fmt.Errorf("classify contact: %w", err)
		}
		if _, err := c.exec(ctx, `DELETE FROM contact_children WHERE contact_id = ?`, contactID); err != nil {
			return err
		}
		if _, err := c.exec(ctx, `DELETE FROM contact_categories WHERE contact_id = ?`, contactID); err != nil {
			return err
		}
		if err := insertContactParts(ctx, c, &ct); err != nil {
			return err
		}
		if ct.Outcome == hotline.CaseOpened && r.CaseID == 0 || ct.Outcome == hotline.Attached && r.CaseID != ct.CaseID {
			if err := caseForContact(ctx, c, db, a, tax, &ct); err != nil {
				return err
			}
		}
		e := a.Event("contact.classify", "contact", contactID)
		e.ChildID = in.ChildID
		e.Details = detailsJSON(map[string]any{"urgency": ct.Urgency, "categories": ct.Categories, "outcome": ct.Outcome,
			"case": ct.CaseID})
		return appendAudit(ctx, c, e)
	})
}

// DanisWaiting counts the conversations a could take now (none has taken
// them yet), for a notice in the hotline queue; it reads no child's words,
// so it is not audited.
func (db *DB) DanisWaiting(ctx context.Context, a audit.Actor) (n int, err error) {
	defer apperr.Wrap(&err, "storage.DanisWaiting")
	f := access.DanisFilterFor(a.Principal)
	if f.Empty() {
		return 0, nil
	}
	where, args := danisWhere(f)
	err = db.reader().queryRow(ctx, `SELECT COUNT(*)`+danisFrom+`WHERE k.assigned_to IS NULL AND `+where, args...).Scan(&n)
	return n, err
}
