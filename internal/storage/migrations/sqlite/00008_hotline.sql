-- The 146-2 hotline: the taxonomy's versions (each a whole tree, as JSON;
-- a version is never changed), contacts with their children and
-- categories, the operators' drafts, and the critical contacts' alerts.
--
-- A caller's number is never stored as typed: phone_key is a keyed hash
-- (HMAC-SHA256) that links a number's contacts, phone_masked what the
-- screen shows, phone_sealed the number encrypted (AES-256-GCM) for a
-- call-back, readable only through an audited reveal (ADR 0008).
--
-- idempotency_keys is shared with cases (migration 00007 creates the same
-- table); IF NOT EXISTS lets either migration come first.

-- +goose Up
CREATE TABLE taxonomy_versions (
    version     INTEGER PRIMARY KEY,
    nodes       TEXT NOT NULL,
    created_by  INTEGER,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE contacts (
    id                INTEGER PRIMARY KEY,
    taxonomy_version  INTEGER NOT NULL REFERENCES taxonomy_versions (version),
    channel           TEXT NOT NULL,
    call_type         TEXT NOT NULL,
    received_at       TIMESTAMP NOT NULL,
    caller_anonymous  BOOLEAN NOT NULL,
    caller_name       TEXT NOT NULL DEFAULT '',
    caller_relation   TEXT NOT NULL DEFAULT '',
    phone_key         TEXT,
    phone_masked      TEXT NOT NULL DEFAULT '',
    phone_sealed      TEXT NOT NULL DEFAULT '',
    danger_now        BOOLEAN NOT NULL DEFAULT FALSE,
    attempt_now       BOOLEAN NOT NULL DEFAULT FALSE,
    injured           BOOLEAN NOT NULL DEFAULT FALSE,
    urgency           TEXT NOT NULL CHECK (urgency IN ('critical', 'high', 'medium', 'low')),
    suggested         TEXT NOT NULL,
    narrative         TEXT NOT NULL DEFAULT '',
    outcome           TEXT NOT NULL,
    outcome_reason    TEXT NOT NULL DEFAULT '',
    case_id           INTEGER,
    referred_to       TEXT NOT NULL DEFAULT '',
    org_id            INTEGER NOT NULL REFERENCES orgs (id),
    created_by        INTEGER NOT NULL REFERENCES users (id),
    assigned_to       INTEGER REFERENCES users (id),
    created_at        TIMESTAMP NOT NULL,
    children_n        INTEGER NOT NULL,  -- how many contact_children rows belong to it: a check that none is missing
    categories_n      INTEGER NOT NULL,
    alert_open        BOOLEAN NOT NULL DEFAULT FALSE,
    taken_by          INTEGER REFERENCES users (id),
    taken_at          TIMESTAMP,
    version           INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX contacts_created_by ON contacts (created_by, id);
CREATE INDEX contacts_assigned_to ON contacts (assigned_to, id) WHERE assigned_to IS NOT NULL;
CREATE INDEX contacts_org ON contacts (org_id, id);
CREATE INDEX contacts_phone ON contacts (phone_key, id) WHERE phone_key IS NOT NULL;
CREATE INDEX contacts_alert ON contacts (id) WHERE alert_open = TRUE;
CREATE INDEX contacts_received ON contacts (received_at, id);

CREATE TABLE contact_children (
    contact_id  INTEGER NOT NULL REFERENCES contacts (id),
    ord         INTEGER NOT NULL,
    child_id    INTEGER REFERENCES children (id),
    name        TEXT NOT NULL DEFAULT '',
    age         INTEGER NOT NULL DEFAULT 0,
    school      TEXT NOT NULL DEFAULT '',
    district    TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (contact_id, ord)
);
CREATE INDEX contact_children_child ON contact_children (child_id) WHERE child_id IS NOT NULL;

CREATE TABLE contact_categories (
    contact_id  INTEGER NOT NULL REFERENCES contacts (id),
    code        TEXT NOT NULL,
    PRIMARY KEY (contact_id, code)
);
CREATE INDEX contact_categories_code ON contact_categories (code, contact_id);

CREATE TABLE contact_drafts (
    user_id     INTEGER PRIMARY KEY REFERENCES users (id),
    form        TEXT NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

CREATE TABLE app_secrets (
    name        TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS idempotency_keys (
    user_id     INTEGER NOT NULL,
    idem_key    TEXT NOT NULL,
    fingerprint TEXT NOT NULL,           -- SHA-256 of method, path and body: a reused key with another request is refused
    status      INTEGER NOT NULL,
    location    TEXT NOT NULL DEFAULT '',
    body        TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    PRIMARY KEY (user_id, idem_key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE app_secrets;
DROP TABLE contact_drafts;
DROP TABLE contact_categories;
DROP TABLE contact_children;
DROP TABLE contacts;
DROP TABLE taxonomy_versions;
