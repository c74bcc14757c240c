-- Special cases: the case itself, its children, its chronology (typed,
-- attributed, timestamped events whose JSON payload never holds a child's
-- name), notes, tasks, attachments (metadata only: the encrypted bytes live
-- in a blob store), linked hotline contacts, and the idempotency keys that
-- make a retried create return the first answer instead of a duplicate.
--
-- queue_key orders queues: open before closed, then severity (critical
-- first), then age (oldest first); it is computed in Go (storage.queueKey).
-- Lists page by (queue_key, id), and every filter has an index that starts
-- with its column and ends with (queue_key, id), so a page of 20 reads about
-- 20 index entries whatever the table's size.

-- +goose Up
CREATE TABLE cases (
    id               INTEGER PRIMARY KEY,
    type_code        TEXT NOT NULL,
    taxonomy_version INTEGER NOT NULL DEFAULT 0,
    severity         TEXT NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    status           TEXT NOT NULL CHECK (status IN ('new', 'triaged', 'in_progress', 'monitoring', 'closed', 'reopened')),
    title            TEXT NOT NULL,
    summary          TEXT NOT NULL DEFAULT '',
    source           TEXT NOT NULL CHECK (source IN ('school', 'hotline', 'city', 'agency')),
    lead_org_id      INTEGER REFERENCES orgs (id),
    owner_id         INTEGER REFERENCES users (id),
    school_id        INTEGER REFERENCES orgs (id),
    district_code    TEXT REFERENCES districts (code),
    created_by       INTEGER REFERENCES users (id),
    created_org_id   INTEGER REFERENCES orgs (id),
    detected_at      TIMESTAMP NOT NULL,
    report_due       TIMESTAMP,
    respond_due      TIMESTAMP,
    resolve_due      TIMESTAMP,
    review_at        TIMESTAMP,
    due_at           TIMESTAMP,            -- the deadline running now (casework.Case.Due); NULL when closed
    queue_key        INTEGER NOT NULL,
    closure_reason   TEXT NOT NULL DEFAULT '',
    closure_outcome  TEXT NOT NULL DEFAULT '',
    closed_at        TIMESTAMP,
    version          INTEGER NOT NULL DEFAULT 1,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);
CREATE INDEX cases_queue ON cases (queue_key, id);
CREATE INDEX cases_status_queue ON cases (status, queue_key, id);
CREATE INDEX cases_severity_queue ON cases (severity, queue_key, id);
CREATE INDEX cases_type_queue ON cases (type_code, queue_key, id);
CREATE INDEX cases_district_queue ON cases (district_code, queue_key, id);
CREATE INDEX cases_school_queue ON cases (school_id, queue_key, id);
CREATE INDEX cases_lead_queue ON cases (lead_org_id, queue_key, id);
CREATE INDEX cases_owner_queue ON cases (owner_id, queue_key, id);
CREATE INDEX cases_creator_queue ON cases (created_by, queue_key, id);
CREATE INDEX cases_due ON cases (due_at, id) WHERE due_at IS NOT NULL; -- the overdue list, most overdue first

CREATE TABLE case_children (
    case_id  INTEGER NOT NULL REFERENCES cases (id),
    child_id INTEGER NOT NULL REFERENCES children (id),
    PRIMARY KEY (case_id, child_id)
);
CREATE INDEX case_children_child ON case_children (child_id, case_id);

-- The places a case sits in, for jurisdiction: its own school and the
-- schools its children attended when they were linked. A school or district
-- sees a case through any of them; queue_key is kept equal to the case's so
-- that a school's or district's queue is one ordered index walk.
CREATE TABLE case_places (
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    school_id     INTEGER NOT NULL REFERENCES orgs (id),
    district_code TEXT REFERENCES districts (code),
    queue_key     INTEGER NOT NULL,
    PRIMARY KEY (case_id, school_id)
);
CREATE INDEX case_places_school ON case_places (school_id, queue_key, case_id);
CREATE INDEX case_places_district ON case_places (district_code, queue_key, case_id);

CREATE TABLE case_events (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    at            TIMESTAMP NOT NULL,
    actor_user_id INTEGER,
    actor_org_id  INTEGER,
    kind          TEXT NOT NULL CHECK (kind IN ('created', 'transition', 'updated', 'note', 'task', 'task_status',
                      'attachment', 'contact_linked', 'child_linked')),
    payload       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX case_events_case ON case_events (case_id, id);

CREATE TABLE case_notes (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    author_id  INTEGER REFERENCES users (id),
    body       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id, id);

CREATE TABLE case_tasks (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    title       TEXT NOT NULL,
    assignee_id INTEGER REFERENCES users (id),
    due_at      TIMESTAMP,
    status      TEXT NOT NULL CHECK (status IN ('open', 'done', 'cancelled')),
    version     INTEGER NOT NULL DEFAULT 1,
    created_by  INTEGER REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX case_tasks_case ON case_tasks (case_id, id);
CREATE INDEX case_tasks_assignee ON case_tasks (assignee_id, status, due_at);

CREATE TABLE case_attachments (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    sha256       TEXT NOT NULL,          -- of the plaintext, checked after decryption
    blob_key     TEXT NOT NULL UNIQUE,
    uploaded_by  INTEGER REFERENCES users (id),
    created_at   TIMESTAMP NOT NULL
);
CREATE INDEX case_attachments_case ON case_attachments (case_id, id);

CREATE TABLE case_contacts (
    case_id    INTEGER NOT NULL REFERENCES cases (id),
    contact_id INTEGER NOT NULL,
    linked_by  INTEGER,
    linked_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (case_id, contact_id)
);
CREATE INDEX case_contacts_contact ON case_contacts (contact_id, case_id);

CREATE TABLE idempotency_keys (
    user_id     INTEGER NOT NULL,
    idem_key    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,           -- SHA-256 of method, path and body: a reused key with another request is refused
    status      INTEGER NOT NULL,
    location    TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE case_contacts;
DROP TABLE case_attachments;
DROP TABLE case_tasks;
DROP TABLE case_notes;
DROP TABLE case_events;
DROP TABLE case_places;
DROP TABLE case_children;
DROP TABLE cases;
