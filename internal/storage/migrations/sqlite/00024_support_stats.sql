-- The dashboards' support figures (issue 15, ADR 0033): pupils screened in
-- a period at a school (distinct children), and the pupils on a school's
-- roll, counted from an index alone instead of the tables' rows. And the
-- exports too large to stream as XLSX: queued with their filter and
-- purpose, built by a background job as the requester, and kept for them
-- alone to download for a few days.

-- +goose Up
CREATE INDEX screening_answers_school_time ON screening_answers (school_id, created_at, child_id);
CREATE INDEX children_roll ON children (school_id) WHERE merged_into IS NULL;
CREATE INDEX register_entries_level ON register_entries (school_id, status, level);

CREATE TABLE export_jobs (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    kind          TEXT NOT NULL CHECK (kind IN ('cases', 'referrals', 'contacts')),
    format        TEXT NOT NULL CHECK (format IN ('csv', 'xlsx')),
    filter        TEXT NOT NULL DEFAULT '',
    purpose       TEXT NOT NULL,
    lang          TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed')),
    rows          INTEGER NOT NULL DEFAULT 0,
    content       BLOB,
    error         TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    started_at    TIMESTAMP,
    finished_at   TIMESTAMP
);
CREATE INDEX export_jobs_user ON export_jobs (user_id, id);
CREATE INDEX export_jobs_status ON export_jobs (status, id);

-- +goose Down
DROP TABLE export_jobs;
DROP INDEX register_entries_level;
DROP INDEX children_roll;
DROP INDEX screening_answers_school_time;
