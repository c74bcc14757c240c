package storage

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"dayaq/internal/apperr"
	"dayaq/internal/audit"
)

// ExportJob is an export too large to stream as XLSX, queued to be built
// in the background as its requester and downloaded by them alone.
type ExportJob struct {
	ID, UserID int64
	Kind       string // cases, referrals, contacts
	Format     string // xlsx
	Filter     string // the list's filter as a query string
	Purpose    string
	Lang       string
	Status     string // pending, running, done, failed
	Rows       int
	Error      string // why it failed (no child data)
	CreatedAt  time.Time
	FinishedAt time.Time
}

// ExportKeep is how long a finished export stays to be downloaded.
const ExportKeep = 7 * 24 * time.Hour

// exportEvent is the audit event of an export of kind, queued or
// streamed alike: case.export, referral.export, contact.export.
func exportEvent(a audit.Actor, kind string, id int64) audit.Event {
	e := a.Event("case.export", "export_job", id)
	switch kind {
	case "referrals":
		e.Action = "referral.export"
	case "contacts":
		e.Action = "contact.export"
	}
	return e
}

// QueueExport queues j for a (its UserID is a's) and audits the request
// with its filter and purpose, in one transaction. The caller has checked
// that a may export the list at all; the job builds it through the list's
// own policy as a.
func (db *DB) QueueExport(ctx context.Context, a audit.Actor, j ExportJob) (out ExportJob, err error) {
	defer apperr.Wrap(&err, "storage.QueueExport")
	if !a.Principal.Authenticated() || a.UserID <= 0 {
		return out, apperr.New(apperr.NotFound, "error.not_found")
	}
	j.UserID, j.Status, j.Format = a.UserID, "pending", "xlsx"
	err = db.inTx(ctx, func(c conn) error {
		j.CreatedAt = c.now
		if err := c.queryRow(ctx, `INSERT INTO export_jobs (user_id, kind, format, filter, purpose, lang, status, created_at)
			VALUES (?, ?, ?, ?, ?, ?, 'pending', ?) RETURNING id`, j.UserID, j.Kind, j.Format, j.Filter, j.Purpose, j.Lang, c.now).Scan(&j.ID); err != nil {
			return err
		}
		e := exportEvent(a, j.Kind, j.ID)
		e.Reason = j.Purpose
		e.Details = detailsJSON(map[string]any{"format": j.Format, "filter": j.Filter, "queued": true})
		return appendAudit(ctx, c, e)
	})
	return j, err
}

const exportJobColumns = `id, user_id, kind, format, filter, purpose, lang, status, rows, error, created_at, finished_at`

func scanExportJob(sc interface{ Scan(...any) error }) (ExportJob, error) {
	var j ExportJob
	var fin sql.NullTime
	err := sc.Scan(&j.ID, &j.UserID, &j.Kind, &j.Format, &j.Filter, &j.Purpose, &j.Lang, &j.Status, &j.Rows, &j.Error, &j.CreatedAt, &fin)
	j.CreatedAt, j.FinishedAt = j.CreatedAt.UTC(), utcOf(fin)
	return j, err
}

// ExportJobs lists a's own exports of the last ExportKeep, newest first.
func (db *DB) ExportJobs(ctx context.Context, a audit.Actor) (js []ExportJob, err error) {
	defer apperr.Wrap(&err, "storage.ExportJobs")
	c := db.reader()
	rows, err := c.query(ctx, `SELECT `+exportJobColumns+` FROM export_jobs WHERE user_id = ? AND created_at >= ? ORDER BY id DESC LIMIT 50`,
		a.UserID, c.now.Add(-ExportKeep))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		j, err := scanExportJob(rows)
		if err != nil {
			return nil, err
		}
		js = append(js, j)
	}
	return js, rows.Err()
}

// ExportDownload returns a's finished export id and its file, and audits
// the download. Another user's export is NotFound, as is one not yet done
// or past ExportKeep.
func (db *DB) ExportDownload(ctx context.Context, a audit.Actor, id int64) (j ExportJob, content []byte, err error) {
	defer apperr.Wrap(&err, "storage.ExportDownload(%d)", id)
	denied := false
	err = db.inTx(ctx, func(c conn) error {
		j, err = scanExportJob(c.queryRow(ctx, `SELECT `+exportJobColumns+` FROM export_jobs WHERE id = ? AND user_id = ?`, id, a.UserID))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (j.Status != "done" || j.CreatedAt.Before(c.now.Add(-ExportKeep)))) {
			denied = true // the refusal is audited and committed; the caller gets NotFound
			return appendAudit(ctx, c, a.Event("export.download_denied", "export_job", id))
		}
		if err != nil {
			return err
		}
		if err := c.queryRow(ctx, `SELECT content FROM export_jobs WHERE id = ?`, id).Scan(&content); err != nil {
			return err
		}
		ev := a.Event("export.download", "export_job", id)
		ev.Details = detailsJSON(map[string]any{"kind": j.Kind, "filter": j.Filter, "rows": j.Rows})
		return appendAudit(ctx, c, ev)
	})
	if err == nil && denied {
		return ExportJob{}, nil, apperr.New(apperr.NotFound, "error.not_found")
	}
	return j, content, err
}

// ClaimExportJob takes the oldest pending export (or one left running for
// an hour by a process that stopped) for the background job, and forgets
// the files older than ExportKeep.
func (db *DB) ClaimExportJob(ctx context.Context) (j ExportJob, ok bool, err error) {
	defer apperr.Wrap(&err, "storage.ClaimExportJob")
	err = db.inTx(ctx, func(c conn) error {
		if _, err := c.exec(ctx, `UPDATE export_jobs SET content = NULL WHERE created_at < ? AND content IS NOT NULL`, c.now.Add(-ExportKeep)); err != nil {
			return err
		}
		j, err = scanExportJob(c.queryRow(ctx, `SELECT `+exportJobColumns+` FROM export_jobs
			WHERE status = 'pending' OR (status = 'running' AND started_at < ?) ORDER BY id LIMIT 1`, c.now.Add(-time.Hour)))
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		ok = true
		_, err = c.exec(ctx, `UPDATE export_jobs SET status = 'running', started_at = ? WHERE id = ?`, c.now, j.ID)
		return err
	})
	return j, ok, err
}

// FinishExportJob stores a built export's file, or why it failed.
func (db *DB) FinishExportJob(ctx context.Context, id int64, content []byte, rows int, failure string) (err error) {
	defer apperr.Wrap(&err, "storage.FinishExportJob(%d)", id)
	return db.inTx(ctx, func(c conn) error {
		status := "done"
		if failure != "" {
			status, content = "failed", nil
		}
		_, err := c.exec(ctx, `UPDATE export_jobs SET status = ?, content = ?, rows = ?, error = ?, finished_at = ? WHERE id = ?`,
			status, content, rows, failure, c.now, id)
		return err
	})
}
