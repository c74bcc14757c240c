-- The working-day calendar's entered days (lunar holidays, transferred days
-- off, working Saturdays; the fixed holidays are built into
-- internal/calendar), notifications in the app, per-user channel choices,
-- the outbox of e-mails and SMS with every delivery attempt, escalation
-- steps (each recorded once: the UNIQUE constraint is what stops two workers
-- notifying twice) and the runs of background jobs.

-- +goose Up
CREATE TABLE calendar_days (
    id          INTEGER PRIMARY KEY,
    day         TEXT NOT NULL UNIQUE,  -- YYYY-MM-DD
    year        INTEGER NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('holiday', 'day_off', 'working_day')),
    name        TEXT NOT NULL DEFAULT '',
    created_by  INTEGER,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX calendar_days_year ON calendar_days (year, day);

-- Ramazan and Qurban bayramı, two days each, as expected from the lunar
-- calendar for 2026 and 2027: estimates that the administrator confirms or
-- corrects when the Cabinet of Ministers publishes the year's days.
INSERT INTO calendar_days (day, year, kind, name, created_at) VALUES
    ('2026-03-20', 2026, 'holiday', 'ramazan', '2026-01-01 00:00:00'),
    ('2026-03-21', 2026, 'holiday', 'ramazan', '2026-01-01 00:00:00'),
    ('2026-05-27', 2026, 'holiday', 'qurban', '2026-01-01 00:00:00'),
    ('2026-05-28', 2026, 'holiday', 'qurban', '2026-01-01 00:00:00'),
    ('2027-03-10', 2027, 'holiday', 'ramazan', '2026-01-01 00:00:00'),
    ('2027-03-11', 2027, 'holiday', 'ramazan', '2026-01-01 00:00:00'),
    ('2027-05-17', 2027, 'holiday', 'qurban', '2026-01-01 00:00:00'),
    ('2027-05-18', 2027, 'holiday', 'qurban', '2026-01-01 00:00:00');

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,
    msg_key     TEXT NOT NULL,
    args        TEXT NOT NULL DEFAULT '[]',
    link        TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMP NOT NULL,
    read_at     TIMESTAMP
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE notify_prefs (
    user_id  INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind     TEXT NOT NULL,
    channel  TEXT NOT NULL CHECK (channel IN ('inapp', 'email', 'sms')),
    enabled  BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, kind, channel)
);

CREATE TABLE notify_settings (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    phone       TEXT NOT NULL DEFAULT '',
    lang        TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    channel          TEXT NOT NULL CHECK (channel IN ('email', 'sms')),
    user_id          INTEGER REFERENCES users (id) ON DELETE SET NULL,
    address          TEXT NOT NULL,
    kind             TEXT NOT NULL,
    msg_key          TEXT NOT NULL,
    args             TEXT NOT NULL DEFAULT '[]',
    link             TEXT NOT NULL DEFAULT '',
    lang             TEXT NOT NULL DEFAULT '',
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMP NOT NULL,
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMP NOT NULL,
    sent_at          TIMESTAMP
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';

CREATE TABLE outbox_attempts (
    id         INTEGER PRIMARY KEY,
    outbox_id  INTEGER NOT NULL REFERENCES outbox (id) ON DELETE CASCADE,
    at         TIMESTAMP NOT NULL,
    ok         BOOLEAN NOT NULL,
    error      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_attempts_outbox ON outbox_attempts (outbox_id, id);

CREATE TABLE escalations (
    id            INTEGER PRIMARY KEY,
    subject_kind  TEXT NOT NULL,
    subject_id    INTEGER NOT NULL,
    step          TEXT NOT NULL,
    due_at        TIMESTAMP NOT NULL,
    org_id        INTEGER,
    child_id      INTEGER,
    notified      INTEGER NOT NULL DEFAULT 0, -- how many users were notified
    created_at    TIMESTAMP NOT NULL,
    UNIQUE (subject_kind, subject_id, step)
);

CREATE TABLE job_runs (
    name         TEXT PRIMARY KEY,
    started_at   TIMESTAMP NOT NULL,
    finished_at  TIMESTAMP,
    runs         INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT ''
);

-- +goose Down
DROP TABLE job_runs;
DROP TABLE escalations;
DROP TABLE outbox_attempts;
DROP TABLE outbox;
DROP TABLE notify_settings;
DROP TABLE notify_prefs;
DROP TABLE notifications;
DROP TABLE calendar_days;
