package storage

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"dayaq/internal/access"
	"dayaq/internal/apperr"
	"dayaq/internal/audit"
	"dayaq/internal/calendar"
)

// CalendarDay is one day entered in the working-day calendar.
type CalendarDay struct {
	ID        int64
	Date      time.Time // civil date, UTC midnight
	Kind      calendar.DayKind
	Name      string
	CreatedAt time.Time
}

// CalendarDays lists the entered days of year (all years when year is 0), in date order.
func (db *DB) CalendarDays(ctx context.Context, year int) (ds []CalendarDay, err error) {
	defer apperr.Wrap(&err, "storage.CalendarDays(%d)", year)
	q := `SELECT id, day, kind, name, created_at FROM calendar_days`
	var args []any
	if year != 0 {
		q += ` WHERE year = ?`
		args = append(args, year)
	}
	rows, err := db.reader().query(ctx, q+` ORDER BY day`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var d CalendarDay
		if err := rows.Scan(&d.ID, date{&d.Date}, &d.Kind, &d.Name, &d.CreatedAt); err != nil {
			return nil, err
		}
		d.CreatedAt = d.CreatedAt.UTC()
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// Calendar builds the working-day calendar from the entered days of every
// year. It is cheap enough to build per request (a few dozen rows).
func (db *DB) Calendar(ctx context.Context, opts ...calendar.Option) (*calendar.Calendar, error) {
	ds, err := db.CalendarDays(ctx, 0)
	if err != nil {
		return nil, err
	}
	es := make([]calendar.Entry, len(ds))
	for i, d := range ds {
		es[i] = calendar.Entry{Date: d.Date, Kind: d.Kind, Name: d.Name}
	}
	if db.deadlines != nil {
		opts = append([]calendar.Option{calendar.WithDeadlines(db.deadlines)}, opts...)
	}
	return calendar.New(es, opts...), nil
}

// calendarNames are the names an entered day may carry.
func calendarNames() []string { return []string{"ramazan", "qurban", "transfer", "other"} }

// AddCalendarDay enters a day (a lunar holiday, a transferred day off, a
// working Saturday) for the city and system administrators; a date entered
// already is a conflict. Audited as calendar.add.
func (db *DB) AddCalendarDay(ctx context.Context, a audit.Actor, d CalendarDay) (out CalendarDay, err error) {
	defer apperr.Wrap(&err, "storage.AddCalendarDay")
	if !access.CanEditCalendar(a.Principal) {
		return out, apperr.New(apperr.Forbidden, "error.forbidden")
	}
	var fields []apperr.FieldError
	if d.Date.IsZero() {
		fields = append(fields, apperr.Field("date", "calendar.error.date"))
	} else if y := d.Date.Year(); y < 2000 || y > 2100 {
		fields = append(fields, apperr.Field("date", "calendar.error.date"))
	}
	if !d.Kind.Valid() {
		fields = append(fields, apperr.Field("kind", "calendar.error.kind"))
	}
	d.Name = strings.TrimSpace(d.Name)
	if d.Name == "" {
		d.Name = "other"
	}
	known := false
	for _, n := range calendarNames() {
		known = known || n == d.Name
	}
	if !known {
		fields = append(fields, apperr.Field("name", "calendar.error.name"))
	}
	if len(fields) > 0 {
		return out, apperr.Validation(fields...)
	}
	d.Date = time.Date(d.Date.Year(), d.Date.Month(), d.Date.Day(), 0, 0, 0, 0, time.UTC)
	err = db.inTx(ctx, func(c conn) error {
		var n int
		if err := c.queryRow(ctx, `SELECT COUNT(*) FROM calendar_days WHERE day = ?`, d.Date.Format(dateLayout)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return apperr.Validation(apperr.Field("date", "calendar.error.taken"))
		}
		if err := c.queryRow(ctx, `INSERT INTO calendar_days (day, year, kind, name, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, d.Date.Format(dateLayout), d.Date.Year(), d.Kind, d.Name,
			a.UserID, c.now).Scan(&d.ID); err != nil {
			return err
		}
		d.CreatedAt = c.now
		e := a.Event("calendar.add", "calendar_day", d.ID)
		b, _ := json.Marshal(map[string]string{"date": d.Date.Format(dateLayout), "kind": string(d.Kind), "name": d.Name})
		e.Details = string(b)
		return appendAudit(ctx, c, e)
	})
	return d, err
}

// DeleteCalendarDay removes an entered day. Audited as calendar.delete.
func (db *DB) DeleteCalendarDay(ctx context.Context, a audit.Actor, id int64) (err error) {
	defer apperr.Wrap(&err, "storage.DeleteCalendarDay(%d)", id)
	if !access.CanEditCalendar(a.Principal) {
		return apperr.New(apperr.Forbidden, "error.forbidden")
	}
	return db.inTx(ctx, func(c conn) error {
		var day time.Time
		var kind, name string
		if err := c.queryRow(ctx, `SELECT day, kind, name FROM calendar_days WHERE id = ?`, id).Scan(date{&day}, &kind, &name); err != nil {
			if isNoRows(err) {
				return apperr.New(apperr.NotFound, "error.not_found")
			}
			return err
		}
		if _, err := c.exec(ctx, `DELETE FROM calendar_days WHERE id = ?`, id); err != nil {
			return err
		}
		e := a.Event("calendar.delete", "calendar_day", id)
		b, _ := json.Marshal(map[string]string{"date": day.Format(dateLayout), "kind": kind, "name": name})
		e.Details = string(b)
		return appendAudit(ctx, c, e)
	})
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
