-- The inter-agency working group: members from each body, meetings with an
-- agenda of cases, decisions, action items with an owner and a deadline
-- (escalated like referrals), and proposals for better cooperation.

-- +goose Up
CREATE TABLE wg_members (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL UNIQUE REFERENCES users (id),
    role        TEXT NOT NULL CHECK (role IN ('chair', 'secretary', 'member')),
    added_by    INTEGER,
    added_at    TIMESTAMP NOT NULL
);

CREATE TABLE wg_meetings (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    starts_at   TIMESTAMP NOT NULL,
    place       TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('planned', 'held', 'cancelled')),
    minutes     TEXT NOT NULL DEFAULT '',
    version     INTEGER NOT NULL DEFAULT 1,
    created_by  INTEGER,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX wg_meetings_starts ON wg_meetings (starts_at);

CREATE TABLE wg_agenda (
    id          INTEGER PRIMARY KEY,
    meeting_id  INTEGER NOT NULL REFERENCES wg_meetings (id) ON DELETE CASCADE,
    case_id     INTEGER NOT NULL REFERENCES cases (id),
    position    INTEGER NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    UNIQUE (meeting_id, case_id)
);

CREATE TABLE wg_decisions (
    id          INTEGER PRIMARY KEY,
    meeting_id  INTEGER NOT NULL REFERENCES wg_meetings (id) ON DELETE CASCADE,
    case_id     INTEGER,
    text        TEXT NOT NULL,
    created_by  INTEGER,
    created_at  TIMESTAMP NOT NULL
);
CREATE INDEX wg_decisions_meeting ON wg_decisions (meeting_id, id);

CREATE TABLE wg_actions (
    id             INTEGER PRIMARY KEY,
    meeting_id     INTEGER REFERENCES wg_meetings (id),
    title          TEXT NOT NULL,
    owner_user_id  INTEGER NOT NULL REFERENCES users (id),
    due_at         TIMESTAMP NOT NULL,
    status         TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'done', 'dropped')),
    version        INTEGER NOT NULL DEFAULT 1,
    done_at        TIMESTAMP,
    created_by     INTEGER,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL
);
CREATE INDEX wg_actions_owner ON wg_actions (owner_user_id, status, due_at);
CREATE INDEX wg_actions_due ON wg_actions (status, due_at);
CREATE INDEX wg_actions_meeting ON wg_actions (meeting_id);

CREATE TABLE wg_proposals (
    id          INTEGER PRIMARY KEY,
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'under_review', 'adopted', 'rejected', 'implemented')),
    author_id   INTEGER NOT NULL REFERENCES users (id),
    version     INTEGER NOT NULL DEFAULT 1,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL
);

-- +goose Down
DROP TABLE wg_proposals;
DROP TABLE wg_actions;
DROP TABLE wg_decisions;
DROP TABLE wg_agenda;
DROP TABLE wg_meetings;
DROP TABLE wg_members;
