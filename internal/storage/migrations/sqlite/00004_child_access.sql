-- Access to a child's record beyond jurisdiction: grants (a live referral to
-- a body, an assignment to a person) and break-glass openings, which are
-- time-limited, justified and reviewed. Classes get a section (5A, 5B) so
-- that a teacher sees only their own classes.

-- +goose Up
ALTER TABLE children ADD COLUMN section TEXT NOT NULL DEFAULT '';
CREATE INDEX children_school_class ON children (school_id, grade, section, id);

CREATE TABLE child_grants (
    id          INTEGER PRIMARY KEY,
    child_id    INTEGER NOT NULL REFERENCES children (id),
    org_id      INTEGER REFERENCES orgs (id),
    user_id     INTEGER REFERENCES users (id),
    kind        TEXT NOT NULL CHECK (kind IN ('referral', 'assignment')),
    source      TEXT NOT NULL DEFAULT '',
    starts_at   TIMESTAMP NOT NULL,
    ends_at     TIMESTAMP,
    created_by  INTEGER,
    created_at  TIMESTAMP NOT NULL,
    CHECK ((org_id IS NULL) != (user_id IS NULL))
);
CREATE INDEX child_grants_org ON child_grants (org_id, child_id);
CREATE INDEX child_grants_user ON child_grants (user_id, child_id);
CREATE INDEX child_grants_child ON child_grants (child_id);

CREATE TABLE break_glass (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    child_id    INTEGER NOT NULL REFERENCES children (id),
    reason      TEXT NOT NULL,
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    reviewed_by INTEGER,
    reviewed_at TIMESTAMP,
    review_note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX break_glass_user_child ON break_glass (user_id, child_id, expires_at);
CREATE INDEX break_glass_review ON break_glass (reviewed_at, created_at);

-- +goose Down
DROP TABLE break_glass;
DROP TABLE child_grants;
DROP INDEX children_school_class;
ALTER TABLE children DROP COLUMN section;
