-- "Mənimlə danış", the anonymous written channel for children (ADR 0024).
-- A conversation is attached to a hotline contact of channel 'web'; it
-- holds no IP address, user agent or any other identifier of the child.
-- The follow-up code is kept as a public ID (its first group, in clear,
-- unique) and an argon2id hash of the rest. Conversations are deleted
-- after the city's retention period; the contact and its classification
-- stay.

-- +goose Up
CREATE TABLE danis_settings (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    retention_days  INTEGER NOT NULL CHECK (retention_days BETWEEN 1 AND 3650),
    words           TEXT NOT NULL,  -- JSON: language → urgent phrases
    canned          TEXT NOT NULL,  -- JSON: language → opening answers
    version         INTEGER NOT NULL DEFAULT 1,
    updated_by      INTEGER REFERENCES users (id),
    updated_at      TIMESTAMP NOT NULL
);

CREATE TABLE danis_conversations (
    id            INTEGER PRIMARY KEY,
    contact_id    INTEGER NOT NULL UNIQUE REFERENCES contacts (id),
    public_id     TEXT NOT NULL UNIQUE,
    secret_hash   TEXT NOT NULL,
    lang          TEXT NOT NULL,
    upset         INTEGER NOT NULL DEFAULT 0 CHECK (upset BETWEEN 0 AND 7),
    created_at    TIMESTAMP NOT NULL,
    last_child_at TIMESTAMP NOT NULL,
    last_staff_at TIMESTAMP,
    failed_tries  INTEGER NOT NULL DEFAULT 0,
    locked_until  TIMESTAMP
);
CREATE INDEX danis_conversations_last ON danis_conversations (last_child_at);

CREATE TABLE danis_messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES danis_conversations (id) ON DELETE CASCADE,
    author           TEXT NOT NULL CHECK (author IN ('child', 'staff')),
    user_id          INTEGER REFERENCES users (id),
    body             TEXT NOT NULL,
    created_at       TIMESTAMP NOT NULL
);
CREATE INDEX danis_messages_conversation ON danis_messages (conversation_id, id);

-- An open page: the one cookie the channel sets holds a random token whose
-- SHA-256 is kept here for OpenFor (30 minutes).
CREATE TABLE danis_opens (
    token_hash       TEXT PRIMARY KEY,
    conversation_id  INTEGER NOT NULL REFERENCES danis_conversations (id) ON DELETE CASCADE,
    expires_at       TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE danis_opens;
DROP TABLE danis_messages;
DROP TABLE danis_conversations;
DROP TABLE danis_settings;
