-- +goose Up
-- The dashboards' narrower totals (ADR 0038), folded by fold_stats from the
-- same deltas as migration 00023's totals, so writes cost what they did:
-- case_rollups are the cases of all types by month and one dimension at a
-- time ('type', 'severity', 'status'), referral_rollups the referrals of
-- all types by organisation ('b' the body referred to, in the scopes of
-- referral_body_counts; 's' the case's school, in those of
-- referral_school_counts) and month, and over all months (month '*', as
-- the typed referral totals now keep too).
-- A dashboard with no case type reads
-- these: a few hundred rows a scope instead of thousands. child_roll_counts
-- are the pupils on each school's roll (children with a school, not merged
-- into another), kept by triggers through child_roll_delta as the others.

CREATE TABLE case_rollups (
    scope TEXT NOT NULL,
    dim   TEXT NOT NULL,
    key   TEXT NOT NULL,
    month TEXT NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (scope, dim, month, key)
);

CREATE TABLE referral_rollups (
    scope        TEXT NOT NULL,
    by_kind      TEXT NOT NULL,  -- 'b' or 's'
    org_id       INTEGER NOT NULL,
    month        TEXT NOT NULL,
    ack_met      INTEGER NOT NULL,
    ack_late     INTEGER NOT NULL,
    ack_waiting  INTEGER NOT NULL,
    done_met     INTEGER NOT NULL,
    done_late    INTEGER NOT NULL,
    done_waiting INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (scope, by_kind, month, org_id)
);

CREATE TABLE child_roll_delta (
    school_id INTEGER NOT NULL,
    n         INTEGER NOT NULL
);

CREATE TABLE child_roll_counts (
    school_id INTEGER PRIMARY KEY,
    n         INTEGER NOT NULL
);

-- A period's ragged edges (its partial months) are counted from the base
-- tables: these cover the city's counts of cases opened and contacts
-- received in a few days without reading the rows.
CREATE INDEX cases_created_counts ON cases (created_at, type_code, severity, status);
CREATE INDEX contacts_received_channel ON contacts (received_at, channel);

-- From the totals as they stand (their pending deltas are folded into
-- both later), and the roll from the children.
-- the referral totals over all months, as month '*' (the fold keeps them from now on)
INSERT INTO referral_body_counts SELECT scope, to_org_id, type_code, '*', SUM(ack_met), SUM(ack_late), SUM(ack_waiting), SUM(done_met),
    SUM(done_late), SUM(done_waiting), SUM(n) FROM referral_body_counts GROUP BY scope, to_org_id, type_code;
INSERT INTO referral_school_counts SELECT scope, school_id, type_code, '*', SUM(ack_met), SUM(ack_late), SUM(ack_waiting), SUM(done_met),
    SUM(done_late), SUM(done_waiting), SUM(n) FROM referral_school_counts GROUP BY scope, school_id, type_code;
CREATE INDEX referral_body_counts_month ON referral_body_counts (scope, month, type_code);
CREATE INDEX referral_school_counts_month ON referral_school_counts (scope, month, type_code);
INSERT INTO case_rollups SELECT scope, 'type', type_code, month, SUM(n) FROM case_counts GROUP BY scope, type_code, month;
INSERT INTO case_rollups SELECT scope, 'severity', severity, month, SUM(n) FROM case_counts GROUP BY scope, severity, month;
INSERT INTO case_rollups SELECT scope, 'status', status, month, SUM(n) FROM case_counts GROUP BY scope, status, month;
INSERT INTO referral_rollups SELECT scope, 'b', to_org_id, month, SUM(ack_met), SUM(ack_late), SUM(ack_waiting), SUM(done_met),
    SUM(done_late), SUM(done_waiting), SUM(n) FROM referral_body_counts GROUP BY scope, to_org_id, month;
INSERT INTO referral_rollups SELECT scope, 's', school_id, month, SUM(ack_met), SUM(ack_late), SUM(ack_waiting), SUM(done_met),
    SUM(done_late), SUM(done_waiting), SUM(n) FROM referral_school_counts GROUP BY scope, school_id, month;
INSERT INTO child_roll_counts SELECT school_id, COUNT(*) FROM children WHERE school_id IS NOT NULL AND merged_into IS NULL GROUP BY school_id;

-- +goose StatementBegin
CREATE TRIGGER children_roll_insert AFTER INSERT ON children
WHEN NEW.school_id IS NOT NULL AND NEW.merged_into IS NULL
BEGIN
    INSERT INTO child_roll_delta VALUES (NEW.school_id, 1);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER children_roll_delete AFTER DELETE ON children
WHEN OLD.school_id IS NOT NULL AND OLD.merged_into IS NULL
BEGIN
    INSERT INTO child_roll_delta VALUES (OLD.school_id, -1);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER children_roll_update AFTER UPDATE OF school_id, merged_into ON children
WHEN OLD.school_id IS NOT NEW.school_id OR OLD.merged_into IS NOT NEW.merged_into
BEGIN
    INSERT INTO child_roll_delta SELECT OLD.school_id, -1 WHERE OLD.school_id IS NOT NULL AND OLD.merged_into IS NULL;
    INSERT INTO child_roll_delta SELECT NEW.school_id, 1 WHERE NEW.school_id IS NOT NULL AND NEW.merged_into IS NULL;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER children_roll_update;
DROP TRIGGER children_roll_delete;
DROP TRIGGER children_roll_insert;
DROP TABLE child_roll_counts;
DROP TABLE child_roll_delta;
DROP TABLE referral_rollups;
DROP TABLE case_rollups;
DELETE FROM referral_body_counts WHERE month = '*';
DELETE FROM referral_school_counts WHERE month = '*';
DROP INDEX referral_school_counts_month;
DROP INDEX referral_body_counts_month;
DROP INDEX contacts_received_channel;
DROP INDEX cases_created_counts;
