-- +goose Up
-- The referrals still waiting for a deadline not yet passed, by the day
-- (Baku, UTC+4) the deadline falls on (ADR 0044), so that a dashboard reads "open
-- now" from totals: the days after today from referral_open_counts (and the
-- pending deltas), today's from the base tables. The delta rows carry the
-- two deadlines' days; the trigger functions that write them are replaced by
-- the same ones writing the days too. due_kind 'a' is the acknowledgement (waiting:
-- ack_at NULL and state 'sent'), 'd' the completion (closed_at NULL); by_kind
-- and scope as in referral_rollups; month is the month sent.

ALTER TABLE referral_count_delta ADD COLUMN ack_due_day TEXT NOT NULL DEFAULT '';
ALTER TABLE referral_count_delta ADD COLUMN done_due_day TEXT NOT NULL DEFAULT '';

CREATE TABLE referral_open_counts (
    scope     TEXT NOT NULL,
    by_kind   TEXT NOT NULL,  -- 'b' the body referred to, 's' the case's school
    due_kind  TEXT NOT NULL,  -- 'a' acknowledgement, 'd' completion
    due_day   TEXT NOT NULL,  -- YYYY-MM-DD, Baku
    month     TEXT NOT NULL,  -- sent
    org_id    INTEGER NOT NULL,
    type_code TEXT NOT NULL,
    n         INTEGER NOT NULL,
    -- n rides in the key's index, so that a dashboard's range of days after
    -- today is an index-only scan (ADR 0044: the rows of a day lie scattered
    -- over the heap, one page each)
    PRIMARY KEY (scope, by_kind, due_kind, due_day, month, org_id, type_code) INCLUDE (n)
);

-- What a dashboard reads of the base tables beside the totals, from the
-- index alone (ADR 0044): the waiting referrals' partial indexes carry what
-- "open now" filters and joins on, and cases_due what the overdue count of
-- this month filters and groups on (the rows lie one a heap page: a city's
-- month of deadlines was thousands of page reads).
DROP INDEX referrals_ack_waiting;
CREATE INDEX referrals_ack_waiting ON referrals (ack_due) INCLUDE (sent_at, to_org_id, case_id) WHERE ack_at IS NULL AND state = 'sent';
DROP INDEX referrals_done_waiting;
CREATE INDEX referrals_done_waiting ON referrals (complete_due) INCLUDE (sent_at, to_org_id, case_id) WHERE closed_at IS NULL;
DROP INDEX cases_due;
CREATE INDEX cases_due ON cases (due_at, id) INCLUDE (queue_key, owner_id, district_code, school_id, lead_org_id, type_code) WHERE due_at IS NOT NULL;

-- From the base tables. Deltas pending now carry no day and are left out of
-- these totals when folded: the base tables already hold their writes.
INSERT INTO referral_open_counts
SELECT scope, by_kind, due_kind, due_day, month, org_id, type_code, COUNT(*) FROM (
    WITH w AS (
        SELECT k.district_code, k.school_id, r.to_org_id, k.type_code, to_char(r.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM') AS month,
            'a' AS due_kind, to_char((r.ack_due AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD') AS due_day
        FROM referrals r JOIN cases k ON k.id = r.case_id WHERE r.ack_at IS NULL AND r.state = 'sent' AND r.ack_due IS NOT NULL
        UNION ALL
        SELECT k.district_code, k.school_id, r.to_org_id, k.type_code, to_char(r.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'),
            'd', to_char((r.complete_due AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD')
        FROM referrals r JOIN cases k ON k.id = r.case_id WHERE r.closed_at IS NULL AND r.complete_due IS NOT NULL
    )
    SELECT 'c' AS scope, 'b' AS by_kind, due_kind, due_day, month, to_org_id AS org_id, type_code FROM w
    UNION ALL SELECT 'd:' || district_code, 'b', due_kind, due_day, month, to_org_id, type_code FROM w WHERE district_code IS NOT NULL
    UNION ALL SELECT 's:' || school_id, 'b', due_kind, due_day, month, to_org_id, type_code FROM w WHERE school_id IS NOT NULL
    UNION ALL SELECT 'c', 's', due_kind, due_day, month, school_id, type_code FROM w WHERE school_id IS NOT NULL
    UNION ALL SELECT 'd:' || district_code, 's', due_kind, due_day, month, school_id, type_code FROM w WHERE school_id IS NOT NULL AND district_code IS NOT NULL
    UNION ALL SELECT 'r:' || to_org_id, 's', due_kind, due_day, month, school_id, type_code FROM w WHERE school_id IS NOT NULL
) x GROUP BY scope, by_kind, due_kind, due_day, month, org_id, type_code;

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION cases_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO case_count_delta VALUES (OLD.district_code, OLD.school_id, OLD.lead_org_id, OLD.type_code,
            to_char(OLD.created_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), OLD.severity, OLD.status,
            COALESCE(to_char(OLD.closed_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), ''),
            COALESCE(OLD.owner_id, 0), COALESCE(CASE WHEN OLD.queue_key < 100000000000000000 THEN to_char(OLD.due_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM') END, ''), -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO case_count_delta VALUES (NEW.district_code, NEW.school_id, NEW.lead_org_id, NEW.type_code,
            to_char(NEW.created_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), NEW.severity, NEW.status,
            COALESCE(to_char(NEW.closed_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), ''),
            COALESCE(NEW.owner_id, 0), COALESCE(CASE WHEN NEW.queue_key < 100000000000000000 THEN to_char(NEW.due_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM') END, ''), 1);
    END IF;
    -- the case's referrals are counted under its district, school and type
    IF TG_OP = 'UPDATE' AND (OLD.type_code, OLD.district_code, OLD.school_id) IS DISTINCT FROM (NEW.type_code, NEW.district_code, NEW.school_id) THEN
        INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n, ack_due_day, done_due_day)
        SELECT OLD.district_code, OLD.school_id, r.to_org_id, OLD.type_code, to_char(r.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'),
            CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN -1 ELSE 0 END,
            CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN -1 ELSE 0 END,
            CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN -1 ELSE 0 END,
            CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN -1 ELSE 0 END,
            CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN -1 ELSE 0 END,
            CASE WHEN r.closed_at IS NULL THEN -1 ELSE 0 END, -1,
            COALESCE(to_char((r.ack_due AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD'), ''),
            COALESCE(to_char((r.complete_due AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD'), '')
        FROM referrals r WHERE r.case_id = OLD.id;
        INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n, ack_due_day, done_due_day)
        SELECT NEW.district_code, NEW.school_id, r.to_org_id, NEW.type_code, to_char(r.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'),
            CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN 1 ELSE 0 END,
            CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN 1 ELSE 0 END,
            CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN 1 ELSE 0 END,
            CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN 1 ELSE 0 END,
            CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN 1 ELSE 0 END,
            CASE WHEN r.closed_at IS NULL THEN 1 ELSE 0 END, 1,
            COALESCE(to_char((r.ack_due AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD'), ''),
            COALESCE(to_char((r.complete_due AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD'), '')
        FROM referrals r WHERE r.case_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION referrals_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n, ack_due_day, done_due_day)
        SELECT k.district_code, k.school_id, OLD.to_org_id, k.type_code, to_char(OLD.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'),
            CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at <= OLD.ack_due THEN -1 ELSE 0 END,
            CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at > OLD.ack_due THEN -1 ELSE 0 END,
            CASE WHEN OLD.ack_at IS NULL AND OLD.state = 'sent' THEN -1 ELSE 0 END,
            CASE WHEN OLD.state = 'completed' AND OLD.closed_at <= OLD.complete_due THEN -1 ELSE 0 END,
            CASE WHEN OLD.state = 'completed' AND OLD.closed_at > OLD.complete_due THEN -1 ELSE 0 END,
            CASE WHEN OLD.closed_at IS NULL THEN -1 ELSE 0 END, -1,
            COALESCE(to_char((OLD.ack_due AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD'), ''),
            COALESCE(to_char((OLD.complete_due AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD'), '')
        FROM cases k WHERE k.id = OLD.case_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n, ack_due_day, done_due_day)
        SELECT k.district_code, k.school_id, NEW.to_org_id, k.type_code, to_char(NEW.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'),
            CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at <= NEW.ack_due THEN 1 ELSE 0 END,
            CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at > NEW.ack_due THEN 1 ELSE 0 END,
            CASE WHEN NEW.ack_at IS NULL AND NEW.state = 'sent' THEN 1 ELSE 0 END,
            CASE WHEN NEW.state = 'completed' AND NEW.closed_at <= NEW.complete_due THEN 1 ELSE 0 END,
            CASE WHEN NEW.state = 'completed' AND NEW.closed_at > NEW.complete_due THEN 1 ELSE 0 END,
            CASE WHEN NEW.closed_at IS NULL THEN 1 ELSE 0 END, 1,
            COALESCE(to_char((NEW.ack_due AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD'), ''),
            COALESCE(to_char((NEW.complete_due AT TIME ZONE 'UTC') + interval '4 hours', 'YYYY-MM-DD'), '')
        FROM cases k WHERE k.id = NEW.case_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION cases_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO case_count_delta VALUES (OLD.district_code, OLD.school_id, OLD.lead_org_id, OLD.type_code,
            to_char(OLD.created_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), OLD.severity, OLD.status,
            COALESCE(to_char(OLD.closed_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), ''),
            COALESCE(OLD.owner_id, 0), COALESCE(CASE WHEN OLD.queue_key < 100000000000000000 THEN to_char(OLD.due_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM') END, ''), -1);
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO case_count_delta VALUES (NEW.district_code, NEW.school_id, NEW.lead_org_id, NEW.type_code,
            to_char(NEW.created_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), NEW.severity, NEW.status,
            COALESCE(to_char(NEW.closed_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), ''),
            COALESCE(NEW.owner_id, 0), COALESCE(CASE WHEN NEW.queue_key < 100000000000000000 THEN to_char(NEW.due_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM') END, ''), 1);
    END IF;
    -- the case's referrals are counted under its district, school and type
    IF TG_OP = 'UPDATE' AND (OLD.type_code, OLD.district_code, OLD.school_id) IS DISTINCT FROM (NEW.type_code, NEW.district_code, NEW.school_id) THEN
        INSERT INTO referral_count_delta
        SELECT OLD.district_code, OLD.school_id, r.to_org_id, OLD.type_code, to_char(r.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'),
            CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN -1 ELSE 0 END,
            CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN -1 ELSE 0 END,
            CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN -1 ELSE 0 END,
            CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN -1 ELSE 0 END,
            CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN -1 ELSE 0 END,
            CASE WHEN r.closed_at IS NULL THEN -1 ELSE 0 END, -1
        FROM referrals r WHERE r.case_id = OLD.id;
        INSERT INTO referral_count_delta
        SELECT NEW.district_code, NEW.school_id, r.to_org_id, NEW.type_code, to_char(r.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'),
            CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN 1 ELSE 0 END,
            CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN 1 ELSE 0 END,
            CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN 1 ELSE 0 END,
            CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN 1 ELSE 0 END,
            CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN 1 ELSE 0 END,
            CASE WHEN r.closed_at IS NULL THEN 1 ELSE 0 END, 1
        FROM referrals r WHERE r.case_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION referrals_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO referral_count_delta
        SELECT k.district_code, k.school_id, OLD.to_org_id, k.type_code, to_char(OLD.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'),
            CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at <= OLD.ack_due THEN -1 ELSE 0 END,
            CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at > OLD.ack_due THEN -1 ELSE 0 END,
            CASE WHEN OLD.ack_at IS NULL AND OLD.state = 'sent' THEN -1 ELSE 0 END,
            CASE WHEN OLD.state = 'completed' AND OLD.closed_at <= OLD.complete_due THEN -1 ELSE 0 END,
            CASE WHEN OLD.state = 'completed' AND OLD.closed_at > OLD.complete_due THEN -1 ELSE 0 END,
            CASE WHEN OLD.closed_at IS NULL THEN -1 ELSE 0 END, -1
        FROM cases k WHERE k.id = OLD.case_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO referral_count_delta
        SELECT k.district_code, k.school_id, NEW.to_org_id, k.type_code, to_char(NEW.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'),
            CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at <= NEW.ack_due THEN 1 ELSE 0 END,
            CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at > NEW.ack_due THEN 1 ELSE 0 END,
            CASE WHEN NEW.ack_at IS NULL AND NEW.state = 'sent' THEN 1 ELSE 0 END,
            CASE WHEN NEW.state = 'completed' AND NEW.closed_at <= NEW.complete_due THEN 1 ELSE 0 END,
            CASE WHEN NEW.state = 'completed' AND NEW.closed_at > NEW.complete_due THEN 1 ELSE 0 END,
            CASE WHEN NEW.closed_at IS NULL THEN 1 ELSE 0 END, 1
        FROM cases k WHERE k.id = NEW.case_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP INDEX cases_due;
CREATE INDEX cases_due ON cases (due_at, id) WHERE due_at IS NOT NULL;
DROP INDEX referrals_done_waiting;
CREATE INDEX referrals_done_waiting ON referrals (complete_due) WHERE closed_at IS NULL;
DROP INDEX referrals_ack_waiting;
CREATE INDEX referrals_ack_waiting ON referrals (ack_due) WHERE ack_at IS NULL AND state = 'sent';
DROP TABLE referral_open_counts;
ALTER TABLE referral_count_delta DROP COLUMN done_due_day;
ALTER TABLE referral_count_delta DROP COLUMN ack_due_day;
