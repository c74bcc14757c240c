package storage

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/i18n"
	"dayaq/internal/notify"
)

// Notification is one message in a user's in-app list.
type Notification struct {
	ID        int64
	UserID    int64
	Kind      notify.Kind
	Key       string
	Args      []notify.Arg
	Link      string
	CreatedAt time.Time
	ReadAt    time.Time // zero while unread
}

// Notify queues msgs in a transaction of its own: use it for events that
// change nothing else. Storage code that changes something queues its
// messages with notifyTx in the same transaction as the change.
func (db *DB) Notify(ctx context.Context, msgs ...notify.Message) (err error) {
	defer apperr.Wrap(&err, "storage.Notify(%d)", len(msgs))
	return db.inTx(ctx, func(c conn) error { return notifyTx(ctx, c, msgs...) })
}

// notifyTx queues msgs inside the transaction c, so that they are sent if
// and only if the change that caused them commits: for a user, in the app
// and in the outbox by each channel their preferences choose (e-mail to
// their account's address, SMS to the phone they gave); for an address,
// in the outbox by its channel.
func notifyTx(ctx context.Context, c conn, msgs ...notify.Message) error {
	for _, m := range msgs {
		if err := m.Check(); err != nil {
			return err
		}
		args, err := notify.MarshalArgs(m.Args())
		if err != nil {
			return err
		}
		to := m.To()
		if to.UserID == 0 {
			if err := enqueue(ctx, c, to.Channel, 0, to.Address, "", m, args); err != nil {
				return err
			}
			continue
		}
		var email, phone, lang string
		var disabled bool
		err = c.queryRow(ctx, `SELECT u.email, u.disabled, COALESCE(s.phone, ''), COALESCE(s.lang, '')
			FROM users u LEFT JOIN notify_settings s ON s.user_id = u.id WHERE u.id = ?`, to.UserID).
			Scan(&email, &disabled, &phone, &lang)
		if errors.Is(err, sql.ErrNoRows) || disabled {
			continue // nobody to tell
		}
		if err != nil {
			return fmt.Errorf("storage: notify user %d: %w", to.UserID, err)
		}
		on, err := channelsFor(ctx, c, to.UserID, m.Kind())
		if err != nil {
			return err
		}
		if err := fileForUser(ctx, c, m, args, userAddress{to.UserID, email, phone, lang}, on); err != nil {
			return err
		}
	}
	return nil
}

// userAddress is where a user's messages go.
type userAddress struct {
	id                 int64
	email, phone, lang string
}

// fileForUser files message m (args marshalled) for user u by the channels
// on, awaiting nothing (execLater): in the app, and in the outbox by
// e-mail and SMS where u has an address.
func fileForUser(ctx context.Context, c conn, m notify.Message, args string, u userAddress, on map[notify.Channel]bool) error {
	if on[notify.InApp] {
		if err := c.execLater(ctx, `INSERT INTO notifications (user_id, kind, msg_key, args, link, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, u.id, m.Kind(), m.Key(), args, m.Link(), c.now); err != nil {
			return fmt.Errorf("storage: notification: %w", err)
		}
	}
	if on[notify.Email] && u.email != "" {
		if err := enqueue(ctx, c, notify.Email, u.id, u.email, u.lang, m, args); err != nil {
			return err
		}
	}
	if on[notify.SMS] && u.phone != "" {
		if err := enqueue(ctx, c, notify.SMS, u.id, u.phone, u.lang, m, args); err != nil {
			return err
		}
	}
	return nil
}

func enqueue(ctx context.Context, c conn, ch notify.Channel, userID int64, addr, lang string, m notify.Message, args string) error {
	if err := c.execLater(ctx, `INSERT INTO outbox (channel, user_id, address, kind, msg_key, args, link, lang,
		next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ch, sql.NullInt64{Int64: userID, Valid: userID != 0}, addr, m.Kind(), m.Key(), args, m.Link(), lang, c.now, c.now); err != nil {
		return fmt.Errorf("storage: outbox: %w", err)
	}
	return nil
}

// defaultChannels are the channels on for kind when a user chose nothing.
func defaultChannels(kind notify.Kind) map[notify.Channel]bool {
	on := map[notify.Channel]bool{}
	for _, ch := range notify.Channels() {
		on[ch] = notify.DefaultOn(kind, ch)
	}
	return on
}

// channelsFor returns which channels user chose for kind, defaults filled in.
func channelsFor(ctx context.Context, c conn, userID int64, kind notify.Kind) (map[notify.Channel]bool, error) {
	on := defaultChannels(kind)
	rows, err := c.query(ctx, `SELECT channel, enabled FROM notify_prefs WHERE user_id = ? AND kind = ?`, userID, kind)
	if err != nil {
		return nil, fmt.Errorf("storage: notify prefs: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ch notify.Channel
		var enabled bool
		if err := rows.Scan(&ch, &enabled); err != nil {
			return nil, err
		}
		on[ch] = enabled
	}
	return on, rows.Err()
}

// NotificationFilter selects a user's notifications, newest first.
type NotificationFilter struct {
	UnreadOnly bool
	Before     int64 // only IDs below this (the next page); 0 for the first page
	Limit      int   // default 50
}

// Notifications returns a's own notifications.
func (db *DB) Notifications(ctx context.Context, a audit.Actor, f NotificationFilter) (ns []Notification, err error) {
	defer apperr.Wrap(&err, "storage.Notifications")
	if !a.Authenticated() {
		return nil, apperr.New(apperr.Unauthorized, "error.unauthorized")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	q := `SELECT id, user_id, kind, msg_key, args, link, created_at, read_at FROM notifications WHERE user_id = ?`
	args := []any{a.UserID}
	if f.UnreadOnly {
		q += ` AND read_at IS NULL`
	}
	if f.Before > 0 {
		q += ` AND id < ?`
		args = append(args, f.Before)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := db.reader().query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var n Notification
		var argJSON string
		var readAt sql.NullTime
		if err := rows.Scan(&n.ID, &n.UserID, &n.Kind, &n.Key, &argJSON, &n.Link, &n.CreatedAt, &readAt); err != nil {
			return nil, err
		}
		if n.Args, err = notify.UnmarshalArgs(argJSON); err != nil {
			return nil, err
		}
		n.CreatedAt = n.CreatedAt.UTC()
		if readAt.Valid {
			n.ReadAt = readAt.Time.UTC()
		}
		ns = append(ns, n)
	}
	return ns, rows.Err()
}

// UnreadCount counts a user's unread notifications: one index lookup
// (notifications_unread), cheap enough for every page.
func (db *DB) UnreadCount(ctx context.Context, userID int64) (n int, err error) {
	defer apperr.Wrap(&err, "storage.UnreadCount")
	err = db.reader().queryRow(ctx, `SELECT COUNT(*) FROM notifications WHERE user_id = ? AND read_at IS NULL`, userID).Scan(&n)
	return n, err
}

// MarkNotificationRead marks one of a's notifications read; another's or
// a missing one is not found. Marking twice is not an error.
func (db *DB) MarkNotificationRead(ctx context.Context, a audit.Actor, id int64) (err error) {
	defer apperr.Wrap(&err, "storage.MarkNotificationRead(%d)", id)
	if !a.Authenticated() {
		return apperr.New(apperr.Unauthorized, "error.unauthorized")
	}
	return db.inTx(ctx, func(c conn) error {
		var n int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM notifications WHERE id = ? AND user_id = ?`, id, a.UserID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return apperr.New(apperr.NotFound, "error.not_found")
		}
		_, err := c.exec(ctx, `UPDATE notifications SET read_at = ? WHERE id = ? AND read_at IS NULL`, c.now, id)
		return err
	})
}

// MarkAllNotificationsRead marks all of a's notifications read and says how many were unread.
func (db *DB) MarkAllNotificationsRead(ctx context.Context, a audit.Actor) (n int64, err error) {
	defer apperr.Wrap(&err, "storage.MarkAllNotificationsRead")
	if !a.Authenticated() {
		return 0, apperr.New(apperr.Unauthorized, "error.unauthorized")
	}
	err = db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `UPDATE notifications SET read_at = ? WHERE user_id = ? AND read_at IS NULL`, c.now, a.UserID)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// NotifyPrefs are a user's notification choices.
type NotifyPrefs struct {
	Phone    string // for SMS; "" for none
	Lang     i18n.Lang
	Channels map[notify.Kind]map[notify.Channel]bool // every kind and channel, defaults filled in
	Version  int                                     // 1 before the first save
}

// NotifyPrefsOf returns a's notification preferences.
func (db *DB) NotifyPrefsOf(ctx context.Context, a audit.Actor) (p NotifyPrefs, err error) {
	defer apperr.Wrap(&err, "storage.NotifyPrefsOf")
	if !a.Authenticated() {
		return p, apperr.New(apperr.Unauthorized, "error.unauthorized")
	}
	c := db.reader()
	var lang string
	p.Version = 1
	err = c.queryRow(ctx, `SELECT phone, lang, version FROM notify_settings WHERE user_id = ?`, a.UserID).Scan(&p.Phone, &lang, &p.Version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return p, err
	}
	p.Lang = i18n.Lang(lang)
	p.Channels = map[notify.Kind]map[notify.Channel]bool{}
	for _, k := range notify.Kinds() {
		p.Channels[k] = map[notify.Channel]bool{}
		for _, ch := range notify.Channels() {
			p.Channels[k][ch] = notify.DefaultOn(k, ch)
		}
	}
	rows, err := c.query(ctx, `SELECT kind, channel, enabled FROM notify_prefs WHERE user_id = ?`, a.UserID)
	if err != nil {
		return p, err
	}
	defer rows.Close()
	for rows.Next() {
		var k notify.Kind
		var ch notify.Channel
		var on bool
		if err := rows.Scan(&k, &ch, &on); err != nil {
			return p, err
		}
		if m, ok := p.Channels[k]; ok && ch.Valid() {
			m[ch] = on
		}
	}
	return p, rows.Err()
}

// NormalizePhone keeps the digits of a phone number, with a leading + when
// given: "+994 (50) 123-45-67" → "+994501234567".
func NormalizePhone(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for i, r := range s {
		if r == '+' && i == 0 {
			b.WriteRune(r)
		} else if unicode.IsDigit(r) && r < 128 {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// SaveNotifyPrefs stores a's choices, checked against the version read
// (a stale one is a conflict). Unknown kinds or channels, a phone that is
// not 9–15 digits, or a language not offered are invalid. It is audited
// (notify.prefs), without the phone number.
func (db *DB) SaveNotifyPrefs(ctx context.Context, a audit.Actor, p NotifyPrefs) (saved NotifyPrefs, err error) {
	defer apperr.Wrap(&err, "storage.SaveNotifyPrefs")
	if !a.Authenticated() {
		return saved, apperr.New(apperr.Unauthorized, "error.unauthorized")
	}
	var fields []apperr.FieldError
	p.Phone = NormalizePhone(p.Phone)
	if digits := strings.TrimPrefix(p.Phone, "+"); p.Phone != "" && (len(digits) < 9 || len(digits) > 15) {
		fields = append(fields, apperr.Field("phone", "notify.error.phone"))
	}
	if _, ok := i18n.Parse(string(p.Lang)); p.Lang != "" && !ok {
		fields = append(fields, apperr.Field("lang", "notify.error.lang"))
	}
	for k, chs := range p.Channels {
		for ch := range chs {
			if !k.Valid() || !ch.Valid() {
				fields = append(fields, apperr.Field("channels", "notify.error.channel", string(k)+"/"+string(ch)))
			}
		}
	}
	if len(fields) > 0 {
		return saved, apperr.Validation(fields...)
	}
	err = db.inTx(ctx, func(c conn) error {
		var version int
		err := c.queryRow(ctx, `SELECT version FROM notify_settings WHERE user_id = ?`, a.UserID).Scan(&version)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if p.Version != 1 {
				return apperr.New(apperr.Conflict, "error.stale", 1)
			}
			_, err = c.exec(ctx, `INSERT INTO notify_settings (user_id, phone, lang, version, updated_at) VALUES (?, ?, ?, 2, ?)`,
				a.UserID, p.Phone, string(p.Lang), c.now)
		case err != nil:
			return err
		case version != p.Version:
			return apperr.New(apperr.Conflict, "error.stale", version)
		default:
			_, err = c.exec(ctx, `UPDATE notify_settings SET phone = ?, lang = ?, version = version + 1, updated_at = ? WHERE user_id = ?`,
				p.Phone, string(p.Lang), c.now, a.UserID)
		}
		if err != nil {
			return err
		}
		if _, err := c.exec(ctx, `DELETE FROM notify_prefs WHERE user_id = ?`, a.UserID); err != nil {
			return err
		}
		for k, chs := range p.Channels {
			for ch, on := range chs {
				if on == notify.DefaultOn(k, ch) {
					continue // keep only the choices that differ from the defaults
				}
				if _, err := c.exec(ctx, `INSERT INTO notify_prefs (user_id, kind, channel, enabled) VALUES (?, ?, ?, ?)`,
					a.UserID, k, ch, on); err != nil {
					return err
				}
			}
		}
		return appendAudit(ctx, c, a.Event("notify.prefs", "user", a.UserID))
	})
	if err != nil {
		return saved, err
	}
	return db.NotifyPrefsOf(ctx, a)
}

// OutboxMessage is one queued e-mail or SMS.
type OutboxMessage struct {
	ID        int64
	Channel   notify.Channel
	UserID    int64
	Address   string
	Kind      notify.Kind
	Key       string
	Args      []notify.Arg
	Link      string
	Lang      i18n.Lang
	Status    string // pending, sent, failed
	Attempts  int    // including the one being made, once claimed
	LastError string
	CreatedAt time.Time
	SentAt    time.Time
}

// ClaimOutbox takes up to limit pending messages of the given channels that are due, and
// pushes their next attempt lease into the future, so that another worker
// (another replica) skips them while this one sends; a worker that dies
// mid-send leaves them to be retried when the lease ends. On PostgreSQL
// rows another worker is claiming are skipped (FOR UPDATE SKIP LOCKED).
func (db *DB) ClaimOutbox(ctx context.Context, channels []notify.Channel, limit int, lease time.Duration) (ms []OutboxMessage, err error) {
	defer apperr.Wrap(&err, "storage.ClaimOutbox")
	if len(channels) == 0 {
		return nil, nil
	}
	err = db.inTx(ctx, func(c conn) error {
		q := `SELECT id, channel, COALESCE(user_id, 0), address, kind, msg_key, args, link, lang, status, attempts,
			last_error, created_at FROM outbox WHERE status = 'pending' AND next_attempt_at <= ?
			AND channel IN (?` + strings.Repeat(", ?", len(channels)-1) + `)
			ORDER BY next_attempt_at, id LIMIT ?`
		if c.engine == Postgres {
			q += ` FOR UPDATE SKIP LOCKED`
		}
		args := []any{c.now}
		for _, ch := range channels {
			args = append(args, string(ch))
		}
		rows, err := c.query(ctx, q, append(args, limit)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var m OutboxMessage
			var args, lang string
			if err := rows.Scan(&m.ID, &m.Channel, &m.UserID, &m.Address, &m.Kind, &m.Key, &args, &m.Link, &lang,
				&m.Status, &m.Attempts, &m.LastError, &m.CreatedAt); err != nil {
				return err
			}
			m.Lang = i18n.Lang(lang)
			if m.Args, err = notify.UnmarshalArgs(args); err != nil {
				return err
			}
			m.Attempts++
			ms = append(ms, m)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		for _, m := range ms {
			if _, err := c.exec(ctx, `UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?`,
				c.now.Add(lease), m.ID); err != nil {
				return err
			}
		}
		return nil
	})
	return ms, err
}

// OutboxResult records an attempt to send message id: sent when sendErr
// is nil; otherwise retried at retryAt, or given up (failed) when retryAt
// is zero. Every attempt is kept in outbox_attempts.
func (db *DB) OutboxResult(ctx context.Context, id int64, sendErr error, retryAt time.Time) (err error) {
	defer apperr.Wrap(&err, "storage.OutboxResult(%d)", id)
	return db.inTx(ctx, func(c conn) error {
		msg := ""
		if sendErr != nil {
			msg = sendErr.Error()
			if len(msg) > 1000 {
				msg = msg[:1000]
			}
			msg = strings.ToValidUTF8(msg, "?")
		}
		if _, err := c.exec(ctx, `INSERT INTO outbox_attempts (outbox_id, at, ok, error) VALUES (?, ?, ?, ?)`,
			id, c.now, sendErr == nil, msg); err != nil {
			return err
		}
		var err error
		switch {
		case sendErr == nil:
			_, err = c.exec(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, last_error = '' WHERE id = ?`, c.now, id)
		case retryAt.IsZero():
			_, err = c.exec(ctx, `UPDATE outbox SET status = 'failed', last_error = ? WHERE id = ?`, msg, id)
		default:
			_, err = c.exec(ctx, `UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?`, retryAt.UTC(), msg, id)
		}
		return err
	})
}

// OutboxFilter selects outbox messages for operators and tests.
type OutboxFilter struct {
	Status string // "" for any
	Limit  int
}

// Outbox lists outbox messages, newest first.
func (db *DB) Outbox(ctx context.Context, f OutboxFilter) (ms []OutboxMessage, err error) {
	defer apperr.Wrap(&err, "storage.Outbox")
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q := `SELECT id, channel, COALESCE(user_id, 0), address, kind, msg_key, args, link, lang, status, attempts,
		last_error, created_at, sent_at FROM outbox`
	args := []any{}
	if f.Status != "" {
		q += ` WHERE status = ?`
		args = append(args, f.Status)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, f.Limit)
	rows, err := db.reader().query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m OutboxMessage
		var args, lang string
		var sent sql.NullTime
		if err := rows.Scan(&m.ID, &m.Channel, &m.UserID, &m.Address, &m.Kind, &m.Key, &args, &m.Link, &lang,
			&m.Status, &m.Attempts, &m.LastError, &m.CreatedAt, &sent); err != nil {
			return nil, err
		}
		m.Lang = i18n.Lang(lang)
		if m.Args, err = notify.UnmarshalArgs(args); err != nil {
			return nil, err
		}
		if sent.Valid {
			m.SentAt = sent.Time.UTC()
		}
		ms = append(ms, m)
	}
	return ms, rows.Err()
}

// OutboxAttempts counts the attempts recorded for message id, and how many failed.
func (db *DB) OutboxAttempts(ctx context.Context, id int64) (total, failed int, err error) {
	defer apperr.Wrap(&err, "storage.OutboxAttempts(%d)", id)
	err = db.reader().queryRow(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN ok THEN 0 ELSE 1 END), 0)
		FROM outbox_attempts WHERE outbox_id = ?`, id).Scan(&total, &failed)
	return total, failed, err
}

// Retention of notification data: read in-app notifications, sent
// messages (with their attempts) and failed ones are deleted after these
// ages; unread notifications and pending messages are kept.
const (
	KeepReadNotifications = 90 * 24 * time.Hour
	KeepSentMessages      = 30 * 24 * time.Hour
	KeepFailedMessages    = 180 * 24 * time.Hour
)

// PruneNotifications deletes what the retention periods allow and says
// how many notifications and outbox messages it deleted.
func (db *DB) PruneNotifications(ctx context.Context) (notifications, messages int64, err error) {
	defer apperr.Wrap(&err, "storage.PruneNotifications")
	err = db.inTx(ctx, func(c conn) error {
		res, err := c.exec(ctx, `DELETE FROM notifications WHERE read_at IS NOT NULL AND read_at < ?`, c.now.Add(-KeepReadNotifications))
		if err != nil {
			return err
		}
		if notifications, err = res.RowsAffected(); err != nil {
			return err
		}
		old := `SELECT id FROM outbox WHERE (status = 'sent' AND sent_at < ?) OR (status = 'failed' AND created_at < ?)`
		args := []any{c.now.Add(-KeepSentMessages), c.now.Add(-KeepFailedMessages)}
		if _, err := c.exec(ctx, `DELETE FROM outbox_attempts WHERE outbox_id IN (`+old+`)`, args...); err != nil {
			return err
		}
		res, err = c.exec(ctx, `DELETE FROM outbox WHERE id IN (`+old+`)`, args...)
		if err != nil {
			return err
		}
		messages, err = res.RowsAffected()
		return err
	})
	return notifications, messages, err
}

// OutboxStats is the outbox's health: what waits, what failed for good,
// and since when the oldest waiting message waits (zero when none).
type OutboxStats struct {
	Pending, Failed int
	OldestPending   time.Time
}

// OutboxHealth counts the pending and failed messages.
func (db *DB) OutboxHealth(ctx context.Context) (s OutboxStats, err error) {
	defer apperr.Wrap(&err, "storage.OutboxHealth")
	c := db.reader()
	if err := c.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE status = 'pending'`).Scan(&s.Pending); err != nil {
		return s, err
	}
	if s.Pending > 0 {
		// Not MIN(created_at): SQLite's driver returns an aggregate's time as text.
		if err := c.queryRow(ctx, `SELECT created_at FROM outbox WHERE status = 'pending' ORDER BY created_at LIMIT 1`).
			Scan(&s.OldestPending); err != nil {
			return s, err
		}
		s.OldestPending = s.OldestPending.UTC()
	}
	err = c.queryRow(ctx, `SELECT COUNT(*) FROM outbox WHERE status = 'failed'`).Scan(&s.Failed)
	return s, err
}
