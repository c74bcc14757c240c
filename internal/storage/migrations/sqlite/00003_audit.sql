-- The audit trail: one row per audited action, chained by SHA-256 (see
-- package audit), and the chain's head, so that deleting the newest events
-- is detected too. Rows are appended only: triggers refuse UPDATE and
-- DELETE, so that no bug and no casual statement rewrites history (someone
-- who drops the triggers is caught by the hash chain instead).
--
-- No foreign keys: an event outlives the user, organisation or child it
-- names. details is TEXT, not JSON: it must come back byte for byte, or the
-- hash would not match.

-- +goose Up
CREATE TABLE audit_events (
    seq           INTEGER PRIMARY KEY,
    at            TIMESTAMP NOT NULL,
    actor_user_id INTEGER NOT NULL DEFAULT 0,
    actor_org_id  INTEGER NOT NULL DEFAULT 0,
    action        TEXT NOT NULL,
    object_type   TEXT NOT NULL DEFAULT '',
    object_id     TEXT NOT NULL DEFAULT '',
    child_id      INTEGER NOT NULL DEFAULT 0,
    ip            TEXT NOT NULL DEFAULT '',
    request_id    TEXT NOT NULL DEFAULT '',
    reason        TEXT NOT NULL DEFAULT '',
    break_glass   BOOLEAN NOT NULL DEFAULT FALSE,
    details       TEXT NOT NULL DEFAULT '',
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_actor ON audit_events (actor_user_id, seq);
CREATE INDEX audit_events_child ON audit_events (child_id, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_break_glass ON audit_events (seq) WHERE break_glass = TRUE;

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit_events is append-only');
END;
-- +goose StatementEnd

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_events;
