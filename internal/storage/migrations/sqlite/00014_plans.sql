-- Recovery plans (issue 12): one live plan per register entry, made with
-- the parents. Goals and activities are the current version's; each
-- superseded version is kept as a snapshot in plan_versions so that any two
-- can be compared. Consent is a history (given, withdrawn), never updated
-- but for a verbal consent's written confirmation. Parent links keep only
-- hashes of their token and short code.

-- +goose Up
CREATE TABLE plan_goal_catalogue (
    code     TEXT PRIMARY KEY,
    domain   TEXT NOT NULL CHECK (domain IN ('learning', 'emotional', 'behaviour', 'social', 'family', 'health', 'safety')),
    text_az  TEXT NOT NULL,
    text_ru  TEXT NOT NULL DEFAULT '',
    text_en  TEXT NOT NULL DEFAULT '',
    position INTEGER NOT NULL DEFAULT 0,
    active   BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE plans (
    id                INTEGER PRIMARY KEY,
    register_entry_id INTEGER NOT NULL REFERENCES register_entries (id),
    child_id          INTEGER NOT NULL REFERENCES children (id),
    school_id         INTEGER NOT NULL REFERENCES orgs (id),
    case_id           INTEGER REFERENCES cases (id),   -- the special case its referrals go through
    status            TEXT NOT NULL CHECK (status IN ('draft', 'active', 'closed')),
    level             TEXT NOT NULL CHECK (level IN ('low', 'medium', 'high')),
    lead_user_id      INTEGER REFERENCES users (id),
    concerns          TEXT NOT NULL DEFAULT '',
    baseline          TEXT NOT NULL DEFAULT '[]',      -- the register's risk factors as they were at opening
    content_version   INTEGER NOT NULL DEFAULT 1,      -- the plan's version the parents agree to
    opened_at         TIMESTAMP NOT NULL,
    agreed_at         TIMESTAMP,
    next_review_due   TIMESTAMP,                       -- NULL once closed
    missed_flag       BOOLEAN NOT NULL DEFAULT FALSE,
    outcome           TEXT NOT NULL DEFAULT '',
    closure_note      TEXT NOT NULL DEFAULT '',
    closed_at         TIMESTAMP,
    created_by        INTEGER REFERENCES users (id),
    version           INTEGER NOT NULL DEFAULT 1,      -- the row's version, for optimistic locking
    created_at        TIMESTAMP NOT NULL,
    updated_at        TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX plans_live ON plans (register_entry_id) WHERE status IN ('draft', 'active');
CREATE INDEX plans_school ON plans (school_id, status, id);
CREATE INDEX plans_review ON plans (next_review_due) WHERE status <> 'closed';

CREATE TABLE plan_parents (
    id       INTEGER PRIMARY KEY,
    plan_id  INTEGER NOT NULL REFERENCES plans (id),
    name     TEXT NOT NULL,
    relation TEXT NOT NULL,
    phone    TEXT NOT NULL DEFAULT '',
    language TEXT NOT NULL DEFAULT 'az'
);
CREATE INDEX plan_parents_plan ON plan_parents (plan_id);

CREATE TABLE plan_goals (
    id             INTEGER PRIMARY KEY,
    plan_id        INTEGER NOT NULL REFERENCES plans (id),
    domain         TEXT NOT NULL,
    catalogue_code TEXT NOT NULL DEFAULT '',
    statement      TEXT NOT NULL,
    indicator      TEXT NOT NULL,
    from_on        TIMESTAMP NOT NULL,
    until_on       TIMESTAMP NOT NULL,
    status         TEXT NOT NULL DEFAULT 'open'
);
CREATE INDEX plan_goals_plan ON plan_goals (plan_id, id);

CREATE TABLE plan_activities (
    id             INTEGER PRIMARY KEY,
    plan_id        INTEGER NOT NULL REFERENCES plans (id),
    kind           TEXT NOT NULL,
    title          TEXT NOT NULL,
    resp_kind      TEXT NOT NULL CHECK (resp_kind IN ('staff', 'body', 'parent')),
    resp_user_id   INTEGER REFERENCES users (id),
    resp_org_id    INTEGER REFERENCES orgs (id),
    resp_parent_id INTEGER REFERENCES plan_parents (id),
    frequency      TEXT NOT NULL DEFAULT '',
    from_on        TIMESTAMP NOT NULL,
    until_on       TIMESTAMP NOT NULL,
    goal_ids       TEXT NOT NULL DEFAULT '',   -- comma-separated plan_goals ids
    service_code   TEXT NOT NULL DEFAULT '',   -- a referral: the service asked for
    referral_id    INTEGER REFERENCES referrals (id)
);
CREATE INDEX plan_activities_plan ON plan_activities (plan_id, id);
CREATE INDEX plan_activities_user ON plan_activities (resp_user_id);
CREATE INDEX plan_activities_org ON plan_activities (resp_org_id);

CREATE TABLE plan_sessions (
    id            INTEGER PRIMARY KEY,
    plan_id       INTEGER NOT NULL REFERENCES plans (id),
    activity_id   INTEGER NOT NULL REFERENCES plan_activities (id),
    at            TIMESTAMP NOT NULL,
    kind          TEXT NOT NULL,
    with_whom     TEXT NOT NULL,               -- comma-separated: pupil, parent, staff
    attended      BOOLEAN NOT NULL,
    missed_reason TEXT NOT NULL DEFAULT '',
    note          TEXT NOT NULL DEFAULT '',
    next_steps    TEXT NOT NULL DEFAULT '',
    recorded_by   INTEGER REFERENCES users (id),
    created_at    TIMESTAMP NOT NULL
);
CREATE INDEX plan_sessions_plan ON plan_sessions (plan_id, at);

CREATE TABLE plan_agreements (
    id          INTEGER PRIMARY KEY,
    plan_id     INTEGER NOT NULL REFERENCES plans (id),
    parent_id   INTEGER NOT NULL REFERENCES plan_parents (id),
    version     INTEGER NOT NULL,
    agrees      BOOLEAN NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    via         TEXT NOT NULL,
    at          TIMESTAMP NOT NULL,
    recorded_by INTEGER REFERENCES users (id)
);
CREATE INDEX plan_agreements_plan ON plan_agreements (plan_id, id);

CREATE TABLE plan_consents (
    id           INTEGER PRIMARY KEY,
    plan_id      INTEGER NOT NULL REFERENCES plans (id),
    parent_id    INTEGER NOT NULL REFERENCES plan_parents (id),
    purpose      TEXT NOT NULL CHECK (purpose IN ('participation', 'sharing', 'sessions_alone')),
    org_id       INTEGER REFERENCES orgs (id),
    given        BOOLEAN NOT NULL,
    method       TEXT NOT NULL CHECK (method IN ('written', 'verbal', 'parent_page')),
    at           TIMESTAMP NOT NULL,
    recorded_by  INTEGER REFERENCES users (id),
    confirm_due  TIMESTAMP,                     -- verbal: written confirmation due (NULL once confirmed)
    confirmed_at TIMESTAMP
);
CREATE INDEX plan_consents_plan ON plan_consents (plan_id, id);
CREATE INDEX plan_consents_due ON plan_consents (confirm_due);

CREATE TABLE plan_reviews (
    id          INTEGER PRIMARY KEY,
    plan_id     INTEGER NOT NULL REFERENCES plans (id),
    due         TIMESTAMP,
    held_at     TIMESTAMP NOT NULL,
    progress    TEXT NOT NULL,                 -- {"goal id": 0-4}
    level_from  TEXT NOT NULL,
    level_to    TEXT NOT NULL,
    decision    TEXT NOT NULL CHECK (decision IN ('continue', 'revise', 'close')),
    note        TEXT NOT NULL DEFAULT '',
    recorded_by INTEGER REFERENCES users (id),
    approved_by INTEGER REFERENCES users (id),
    approved_at TIMESTAMP
);
CREATE INDEX plan_reviews_plan ON plan_reviews (plan_id, id);

CREATE TABLE plan_versions (
    id         INTEGER PRIMARY KEY,
    plan_id    INTEGER NOT NULL REFERENCES plans (id),
    version    INTEGER NOT NULL,
    snapshot   TEXT NOT NULL,                  -- internal/plan.Snapshot as JSON
    created_at TIMESTAMP NOT NULL,
    UNIQUE (plan_id, version)
);

CREATE TABLE plan_links (
    id         INTEGER PRIMARY KEY,
    plan_id    INTEGER NOT NULL REFERENCES plans (id),
    parent_id  INTEGER NOT NULL REFERENCES plan_parents (id),
    token_hash TEXT NOT NULL UNIQUE,
    code_hash  TEXT NOT NULL UNIQUE,
    created_by INTEGER REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP,
    failures   INTEGER NOT NULL DEFAULT 0,
    session_hash  TEXT NOT NULL DEFAULT '',   -- the browser that gave the birth date (a cookie's hash)
    session_until TIMESTAMP,
    locked_at  TIMESTAMP,
    last_used  TIMESTAMP
);
CREATE INDEX plan_links_plan ON plan_links (plan_id, id);

CREATE TABLE plan_call_requests (
    id        INTEGER PRIMARY KEY,
    plan_id   INTEGER NOT NULL REFERENCES plans (id),
    parent_id INTEGER NOT NULL REFERENCES plan_parents (id),
    note      TEXT NOT NULL DEFAULT '',
    at        TIMESTAMP NOT NULL,
    done_at   TIMESTAMP,
    done_by   INTEGER REFERENCES users (id)
);
CREATE INDEX plan_call_requests_plan ON plan_call_requests (plan_id, id);

-- The city's settings for plans: review cadence per level (weeks) and the
-- working days a verbal consent may wait for its written confirmation.
CREATE TABLE plan_settings (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    cadence      TEXT NOT NULL DEFAULT 'high=6,medium=12,low=18',
    confirm_days INTEGER NOT NULL DEFAULT 5,
    version      INTEGER NOT NULL DEFAULT 1
);
INSERT INTO plan_settings (id) VALUES (1);

INSERT INTO plan_goal_catalogue (code, domain, text_az, text_ru, text_en, position) VALUES
    ('attendance', 'learning', 'Həftədə ən azı 4 gün dərsə gəlir', 'Посещает уроки не меньше 4 дней в неделю', 'Attends school at least 4 days a week', 1),
    ('homework', 'learning', 'Ev tapşırıqlarının ən azı 80%-ni yerinə yetirir', 'Выполняет не меньше 80% домашних заданий', 'Completes at least 80% of homework', 2),
    ('calm', 'emotional', 'Narahatlıq anında sakitləşmə üsulundan istifadə edir', 'Использует приём успокоения, когда тревожится', 'Uses a calming technique when anxious', 1),
    ('no_fights', 'behaviour', 'Ay ərzində dava olmur', 'За месяц ни одной драки', 'No fights in a month', 1),
    ('club', 'social', 'Bir dərnəyə qoşulur və iştirak edir', 'Вступает в кружок и ходит на него', 'Joins a club and takes part', 1),
    ('family_meeting', 'family', 'Valideyn ayda bir dəfə məktəblə görüşür', 'Родитель встречается со школой раз в месяц', 'A parent meets the school once a month', 1),
    ('checkup', 'health', 'Tibbi müayinədən keçir', 'Проходит медицинский осмотр', 'Has a medical check-up', 1),
    ('safe_adult', 'safety', 'Etibar etdiyi böyüyün adını çəkə bilir', 'Может назвать взрослого, которому доверяет', 'Can name a trusted adult', 1);

-- +goose Down
DROP TABLE plan_call_requests;
DROP TABLE plan_links;
DROP TABLE plan_versions;
DROP TABLE plan_reviews;
DROP TABLE plan_consents;
DROP TABLE plan_agreements;
DROP TABLE plan_sessions;
DROP TABLE plan_activities;
DROP TABLE plan_goals;
DROP TABLE plan_parents;
DROP TABLE plans;
DROP TABLE plan_goal_catalogue;
DROP TABLE plan_settings;
