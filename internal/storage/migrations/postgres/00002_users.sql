-- Users, their roles and classes, browser sessions, API tokens and the
-- recovery codes of the second factor. Secrets are kept only as hashes:
-- argon2id for passwords, SHA-256 for the random session and API tokens and
-- for recovery codes. Times are compared in Go, from storage's clock.

-- +goose Up
CREATE TABLE users (
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    email          TEXT NOT NULL UNIQUE,  -- lower-cased
    name           TEXT NOT NULL,
    org_id         BIGINT NOT NULL REFERENCES orgs (id),
    password_hash  TEXT NOT NULL,
    totp_secret    TEXT,                  -- base32; set at enrolment, in force once totp_enabled
    totp_enabled   BOOLEAN NOT NULL DEFAULT FALSE,
    totp_last_step BIGINT NOT NULL DEFAULT 0, -- the newest TOTP period used, against replay
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TIMESTAMPTZ,
    disabled       BOOLEAN NOT NULL DEFAULT FALSE,
    version        INTEGER NOT NULL DEFAULT 1,
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX users_org ON users (org_id, id);

CREATE TABLE user_roles (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role    TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE teacher_classes (
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    grade   INTEGER NOT NULL CHECK (grade BETWEEN 0 AND 12),
    section TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (user_id, grade, section)
);

CREATE TABLE sessions (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash   TEXT NOT NULL UNIQUE,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    last_seen_at TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    mfa_done     BOOLEAN NOT NULL DEFAULT FALSE, -- fully signed in
    csrf_token   TEXT NOT NULL,
    ip           TEXT NOT NULL DEFAULT '',
    user_agent   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,         -- "read" or "read,write"
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_user ON api_tokens (user_id, id);

CREATE TABLE recovery_codes (
    user_id   BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   TIMESTAMPTZ,
    PRIMARY KEY (user_id, code_hash)
);

-- +goose Down
DROP TABLE recovery_codes;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE teacher_classes;
DROP TABLE user_roles;
DROP TABLE users;
