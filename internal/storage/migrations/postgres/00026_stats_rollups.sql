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
    n     BIGINT NOT NULL,
    PRIMARY KEY (scope, dim, month, key)
);

CREATE TABLE referral_rollups (
    scope        TEXT NOT NULL,
    by_kind      TEXT NOT NULL,  -- 'b' or 's'
    org_id       BIGINT NOT NULL,
    month        TEXT NOT NULL,
    ack_met      BIGINT NOT NULL,
    ack_late     BIGINT NOT NULL,
    ack_waiting  BIGINT NOT NULL,
    done_met     BIGINT NOT NULL,
    done_late    BIGINT NOT NULL,
    done_waiting BIGINT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (scope, by_kind, month, org_id)
);

CREATE TABLE child_roll_delta (
    school_id BIGINT NOT NULL,
    n         BIGINT NOT NULL
);

CREATE TABLE child_roll_counts (
    school_id BIGINT PRIMARY KEY,
    n         BIGINT NOT NULL
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

-- The roll, a statement at a time: a roster load inserts many children in
-- one statement, and each statement's rows are counted once by school.
-- +goose StatementBegin
CREATE FUNCTION children_roll_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO child_roll_delta SELECT school_id, COUNT(*) FROM new_rows
        WHERE school_id IS NOT NULL AND merged_into IS NULL GROUP BY school_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION children_roll_del() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO child_roll_delta SELECT school_id, -COUNT(*) FROM old_rows
        WHERE school_id IS NOT NULL AND merged_into IS NULL GROUP BY school_id;
    RETURN NULL;
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION children_roll_upd() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO child_roll_delta SELECT school_id, SUM(n) FROM (
        SELECT school_id, -1 AS n FROM old_rows WHERE school_id IS NOT NULL AND merged_into IS NULL
        UNION ALL
        SELECT school_id, 1 FROM new_rows WHERE school_id IS NOT NULL AND merged_into IS NULL
    ) x GROUP BY school_id HAVING SUM(n) <> 0;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER children_roll_insert AFTER INSERT ON children REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION children_roll_ins();
CREATE TRIGGER children_roll_delete AFTER DELETE ON children REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION children_roll_del();
CREATE TRIGGER children_roll_update AFTER UPDATE ON children REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION children_roll_upd();

-- +goose Down
DROP TRIGGER children_roll_update ON children;
DROP TRIGGER children_roll_delete ON children;
DROP TRIGGER children_roll_insert ON children;
DROP FUNCTION children_roll_upd();
DROP FUNCTION children_roll_del();
DROP FUNCTION children_roll_ins();
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
