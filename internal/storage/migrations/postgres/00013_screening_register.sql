-- Screening and the vulnerable-group register (issue 11). Instruments and
-- risk rules are versioned data: the built-in ones live in the code
-- (internal/screening), the ones the city imports live here as JSON, one
-- row per version, never changed once an answer set uses them. Answer sets
-- are stored against the exact instrument version; a risk result records
-- the rules version it was computed with and is never rewritten. The
-- register entry is the contract the recovery plan (issue 12) hangs on.

-- +goose Up
CREATE TABLE screening_instruments (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code        TEXT NOT NULL,
    version     INTEGER NOT NULL,
    definition  TEXT NOT NULL,              -- the instrument as JSON (internal/screening.Instrument)
    licence_ref TEXT NOT NULL DEFAULT '',   -- the deployment's licence reference, when wording is loaded
    created_by  BIGINT REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (code, version)
);

CREATE TABLE risk_rule_sets (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version     INTEGER NOT NULL UNIQUE,
    definition  TEXT NOT NULL,              -- internal/screening.Rules as JSON
    created_by  BIGINT REFERENCES users (id),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE screening_rounds (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    school_id   BIGINT NOT NULL REFERENCES orgs (id),
    scope       TEXT NOT NULL CHECK (scope IN ('school', 'grade', 'class')),
    grade       INTEGER NOT NULL DEFAULT 0,
    section     TEXT NOT NULL DEFAULT '',
    instruments TEXT NOT NULL,              -- comma-separated instrument codes
    informants  TEXT NOT NULL,              -- comma-separated: teacher, parent, self
    starts_on   TEXT NOT NULL,
    ends_on     TEXT NOT NULL,
    created_by  BIGINT REFERENCES users (id),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX screening_rounds_school ON screening_rounds (school_id, id);

CREATE TABLE screening_answers (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    round_id           BIGINT REFERENCES screening_rounds (id),
    child_id           BIGINT NOT NULL REFERENCES children (id),
    school_id          BIGINT NOT NULL REFERENCES orgs (id),
    instrument_code    TEXT NOT NULL,
    instrument_version INTEGER NOT NULL,
    informant          TEXT NOT NULL CHECK (informant IN ('teacher', 'parent', 'self', 'staff')),
    age                INTEGER NOT NULL DEFAULT 0,
    answers            TEXT NOT NULL,       -- internal/screening.Answers as JSON: health data, never logged
    entered_by         BIGINT REFERENCES users (id),
    version            INTEGER NOT NULL DEFAULT 1,
    created_at         TIMESTAMPTZ NOT NULL,
    updated_at         TIMESTAMPTZ NOT NULL
);
CREATE UNIQUE INDEX screening_answers_one ON screening_answers (round_id, child_id, instrument_code, informant);
CREATE INDEX screening_answers_child ON screening_answers (child_id, id);

CREATE TABLE risk_results (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    child_id      BIGINT NOT NULL REFERENCES children (id),
    round_id      BIGINT REFERENCES screening_rounds (id),
    rules_version INTEGER NOT NULL,
    level         TEXT NOT NULL CHECK (level IN ('none', 'low', 'medium', 'high')),
    points        INTEGER NOT NULL,
    factors       TEXT NOT NULL,            -- the reasons, as data the page words in the reader's language
    computed_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX risk_results_child ON risk_results (child_id, id);
CREATE INDEX risk_results_round ON risk_results (round_id, child_id);

CREATE TABLE register_entries (
    id                  BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    child_id            BIGINT NOT NULL REFERENCES children (id),
    school_id           BIGINT NOT NULL REFERENCES orgs (id),
    level               TEXT NOT NULL CHECK (level IN ('low', 'medium', 'high')),
    status              TEXT NOT NULL CHECK (status IN ('proposed', 'active', 'declined', 'exited')),
    source              TEXT NOT NULL CHECK (source IN ('screening', 'case', 'contact', 'manual')),
    source_id           BIGINT NOT NULL DEFAULT 0,   -- the risk result, case or contact that proposed it
    factors             TEXT NOT NULL DEFAULT '[]',   -- the risk factors, as for risk_results
    responsible_user_id BIGINT REFERENCES users (id),
    next_review_due     TIMESTAMPTZ,
    decline_reason      TEXT NOT NULL DEFAULT '',
    exit_reason         TEXT NOT NULL DEFAULT '',
    note                TEXT NOT NULL DEFAULT '',
    proposed_by         BIGINT REFERENCES users (id),
    version             INTEGER NOT NULL DEFAULT 1,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL
);
CREATE INDEX register_entries_school ON register_entries (school_id, status, id);
CREATE INDEX register_entries_child ON register_entries (child_id, id);
CREATE INDEX register_entries_review ON register_entries (status, next_review_due, id);
-- One open (proposed or active) entry per child.
CREATE UNIQUE INDEX register_entries_open ON register_entries (child_id) WHERE status IN ('proposed', 'active');

CREATE TABLE register_history (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id      BIGINT NOT NULL REFERENCES register_entries (id),
    at            TIMESTAMPTZ NOT NULL,
    actor_user_id BIGINT,
    action        TEXT NOT NULL,            -- proposed, confirmed, declined, reviewed, level_changed, exited
    from_status   TEXT NOT NULL DEFAULT '',
    to_status     TEXT NOT NULL,
    level         TEXT NOT NULL DEFAULT '',
    note          TEXT NOT NULL DEFAULT '',
    next_review   TIMESTAMPTZ
);
CREATE INDEX register_history_entry ON register_history (entry_id, id);

-- +goose Down
DROP TABLE register_history;
DROP TABLE register_entries;
DROP TABLE risk_results;
DROP TABLE screening_answers;
DROP TABLE screening_rounds;
DROP TABLE risk_rule_sets;
DROP TABLE screening_instruments;
