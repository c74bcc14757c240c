-- +goose Up
-- The referrals still waiting for a deadline not yet passed, by the day
-- (Baku) the deadline falls on (ADR 0044), so that a dashboard reads "open
-- now" from totals: the days after today from referral_open_counts (and the
-- pending deltas), today's from the base tables. The delta rows carry the
-- two deadlines' days; the triggers that write them are replaced by the same
-- ones writing the days too. due_kind 'a' is the acknowledgement (waiting:
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
    PRIMARY KEY (scope, by_kind, due_kind, due_day, month, org_id, type_code)
);

-- From the base tables. Deltas pending now carry no day and are left out of
-- these totals when folded: the base tables already hold their writes.
INSERT INTO referral_open_counts
SELECT scope, by_kind, due_kind, due_day, month, org_id, type_code, COUNT(*) FROM (
    WITH w AS (
        SELECT k.district_code, k.school_id, r.to_org_id, k.type_code, strftime('%Y-%m', r.sent_at, '+4 hours') AS month,
            'a' AS due_kind, strftime('%Y-%m-%d', r.ack_due, '+4 hours') AS due_day
        FROM referrals r JOIN cases k ON k.id = r.case_id WHERE r.ack_at IS NULL AND r.state = 'sent' AND r.ack_due IS NOT NULL
        UNION ALL
        SELECT k.district_code, k.school_id, r.to_org_id, k.type_code, strftime('%Y-%m', r.sent_at, '+4 hours'),
            'd', strftime('%Y-%m-%d', r.complete_due, '+4 hours')
        FROM referrals r JOIN cases k ON k.id = r.case_id WHERE r.closed_at IS NULL AND r.complete_due IS NOT NULL
    )
    SELECT 'c' AS scope, 'b' AS by_kind, due_kind, due_day, month, to_org_id AS org_id, type_code FROM w
    UNION ALL SELECT 'd:' || district_code, 'b', due_kind, due_day, month, to_org_id, type_code FROM w WHERE district_code IS NOT NULL
    UNION ALL SELECT 's:' || school_id, 'b', due_kind, due_day, month, to_org_id, type_code FROM w WHERE school_id IS NOT NULL
    UNION ALL SELECT 'c', 's', due_kind, due_day, month, school_id, type_code FROM w WHERE school_id IS NOT NULL
    UNION ALL SELECT 'd:' || district_code, 's', due_kind, due_day, month, school_id, type_code FROM w WHERE school_id IS NOT NULL AND district_code IS NOT NULL
    UNION ALL SELECT 'r:' || to_org_id, 's', due_kind, due_day, month, school_id, type_code FROM w WHERE school_id IS NOT NULL
) x GROUP BY scope, by_kind, due_kind, due_day, month, org_id, type_code;

DROP TRIGGER cases_agg_update;
DROP TRIGGER referrals_agg_insert;
DROP TRIGGER referrals_agg_delete;
DROP TRIGGER referrals_agg_update;

-- +goose StatementBegin
CREATE TRIGGER cases_agg_update AFTER UPDATE OF type_code, severity, status, district_code, school_id, lead_org_id, created_at, closed_at, owner_id, due_at, queue_key ON cases
WHEN OLD.type_code IS NOT NEW.type_code OR OLD.severity IS NOT NEW.severity OR OLD.status IS NOT NEW.status
    OR OLD.district_code IS NOT NEW.district_code OR OLD.school_id IS NOT NEW.school_id OR OLD.lead_org_id IS NOT NEW.lead_org_id
    OR OLD.created_at IS NOT NEW.created_at OR OLD.closed_at IS NOT NEW.closed_at
    OR OLD.owner_id IS NOT NEW.owner_id OR OLD.due_at IS NOT NEW.due_at OR (OLD.queue_key < 100000000000000000) <> (NEW.queue_key < 100000000000000000)
BEGIN
    INSERT INTO case_count_delta VALUES (OLD.district_code, OLD.school_id, OLD.lead_org_id, OLD.type_code,
        strftime('%Y-%m', OLD.created_at, '+4 hours'), OLD.severity, OLD.status,
        COALESCE(strftime('%Y-%m', OLD.closed_at, '+4 hours'), ''),
        COALESCE(OLD.owner_id, 0), COALESCE(CASE WHEN OLD.queue_key < 100000000000000000 THEN strftime('%Y-%m', OLD.due_at, '+4 hours') END, ''), -1);
    INSERT INTO case_count_delta VALUES (NEW.district_code, NEW.school_id, NEW.lead_org_id, NEW.type_code,
        strftime('%Y-%m', NEW.created_at, '+4 hours'), NEW.severity, NEW.status,
        COALESCE(strftime('%Y-%m', NEW.closed_at, '+4 hours'), ''),
        COALESCE(NEW.owner_id, 0), COALESCE(CASE WHEN NEW.queue_key < 100000000000000000 THEN strftime('%Y-%m', NEW.due_at, '+4 hours') END, ''), 1);
    -- the case's referrals are counted under its district, school and type
    INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n, ack_due_day, done_due_day)
    SELECT OLD.district_code, OLD.school_id, r.to_org_id, OLD.type_code, strftime('%Y-%m', r.sent_at, '+4 hours'),
        CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN -1 ELSE 0 END, CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN -1 ELSE 0 END,
        CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN -1 ELSE 0 END,
        CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN -1 ELSE 0 END, CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN -1 ELSE 0 END,
        CASE WHEN r.closed_at IS NULL THEN -1 ELSE 0 END, -1,
        COALESCE(strftime('%Y-%m-%d', r.ack_due, '+4 hours'), ''), COALESCE(strftime('%Y-%m-%d', r.complete_due, '+4 hours'), '')
    FROM referrals r
    WHERE r.case_id = NEW.id AND (OLD.type_code IS NOT NEW.type_code OR OLD.district_code IS NOT NEW.district_code OR OLD.school_id IS NOT NEW.school_id);
    INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n, ack_due_day, done_due_day)
    SELECT NEW.district_code, NEW.school_id, r.to_org_id, NEW.type_code, strftime('%Y-%m', r.sent_at, '+4 hours'),
        CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN 1 ELSE 0 END, CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN 1 ELSE 0 END,
        CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN 1 ELSE 0 END,
        CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN 1 ELSE 0 END, CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN 1 ELSE 0 END,
        CASE WHEN r.closed_at IS NULL THEN 1 ELSE 0 END, 1,
        COALESCE(strftime('%Y-%m-%d', r.ack_due, '+4 hours'), ''), COALESCE(strftime('%Y-%m-%d', r.complete_due, '+4 hours'), '')
    FROM referrals r
    WHERE r.case_id = NEW.id AND (OLD.type_code IS NOT NEW.type_code OR OLD.district_code IS NOT NEW.district_code OR OLD.school_id IS NOT NEW.school_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER referrals_agg_insert AFTER INSERT ON referrals
BEGIN
    INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n, ack_due_day, done_due_day)
    SELECT k.district_code, k.school_id, NEW.to_org_id, k.type_code, strftime('%Y-%m', NEW.sent_at, '+4 hours'),
        CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at <= NEW.ack_due THEN 1 ELSE 0 END, CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at > NEW.ack_due THEN 1 ELSE 0 END,
        CASE WHEN NEW.ack_at IS NULL AND NEW.state = 'sent' THEN 1 ELSE 0 END,
        CASE WHEN NEW.state = 'completed' AND NEW.closed_at <= NEW.complete_due THEN 1 ELSE 0 END, CASE WHEN NEW.state = 'completed' AND NEW.closed_at > NEW.complete_due THEN 1 ELSE 0 END,
        CASE WHEN NEW.closed_at IS NULL THEN 1 ELSE 0 END, 1,
        COALESCE(strftime('%Y-%m-%d', NEW.ack_due, '+4 hours'), ''), COALESCE(strftime('%Y-%m-%d', NEW.complete_due, '+4 hours'), '')
    FROM cases k WHERE k.id = NEW.case_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER referrals_agg_delete AFTER DELETE ON referrals
BEGIN
    INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n, ack_due_day, done_due_day)
    SELECT k.district_code, k.school_id, OLD.to_org_id, k.type_code, strftime('%Y-%m', OLD.sent_at, '+4 hours'),
        CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at <= OLD.ack_due THEN -1 ELSE 0 END, CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at > OLD.ack_due THEN -1 ELSE 0 END,
        CASE WHEN OLD.ack_at IS NULL AND OLD.state = 'sent' THEN -1 ELSE 0 END,
        CASE WHEN OLD.state = 'completed' AND OLD.closed_at <= OLD.complete_due THEN -1 ELSE 0 END, CASE WHEN OLD.state = 'completed' AND OLD.closed_at > OLD.complete_due THEN -1 ELSE 0 END,
        CASE WHEN OLD.closed_at IS NULL THEN -1 ELSE 0 END, -1,
        COALESCE(strftime('%Y-%m-%d', OLD.ack_due, '+4 hours'), ''), COALESCE(strftime('%Y-%m-%d', OLD.complete_due, '+4 hours'), '')
    FROM cases k WHERE k.id = OLD.case_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER referrals_agg_update AFTER UPDATE OF case_id, to_org_id, state, sent_at, ack_due, complete_due, ack_at, closed_at ON referrals
WHEN OLD.case_id IS NOT NEW.case_id OR OLD.to_org_id IS NOT NEW.to_org_id OR OLD.state IS NOT NEW.state
    OR OLD.sent_at IS NOT NEW.sent_at OR OLD.ack_due IS NOT NEW.ack_due OR OLD.complete_due IS NOT NEW.complete_due
    OR OLD.ack_at IS NOT NEW.ack_at OR OLD.closed_at IS NOT NEW.closed_at
BEGIN
    INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n, ack_due_day, done_due_day)
    SELECT k.district_code, k.school_id, OLD.to_org_id, k.type_code, strftime('%Y-%m', OLD.sent_at, '+4 hours'),
        CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at <= OLD.ack_due THEN -1 ELSE 0 END, CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at > OLD.ack_due THEN -1 ELSE 0 END,
        CASE WHEN OLD.ack_at IS NULL AND OLD.state = 'sent' THEN -1 ELSE 0 END,
        CASE WHEN OLD.state = 'completed' AND OLD.closed_at <= OLD.complete_due THEN -1 ELSE 0 END, CASE WHEN OLD.state = 'completed' AND OLD.closed_at > OLD.complete_due THEN -1 ELSE 0 END,
        CASE WHEN OLD.closed_at IS NULL THEN -1 ELSE 0 END, -1,
        COALESCE(strftime('%Y-%m-%d', OLD.ack_due, '+4 hours'), ''), COALESCE(strftime('%Y-%m-%d', OLD.complete_due, '+4 hours'), '')
    FROM cases k WHERE k.id = OLD.case_id;
    INSERT INTO referral_count_delta (district_code, school_id, to_org_id, type_code, month, ack_met, ack_late, ack_waiting, done_met, done_late, done_waiting, n, ack_due_day, done_due_day)
    SELECT k.district_code, k.school_id, NEW.to_org_id, k.type_code, strftime('%Y-%m', NEW.sent_at, '+4 hours'),
        CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at <= NEW.ack_due THEN 1 ELSE 0 END, CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at > NEW.ack_due THEN 1 ELSE 0 END,
        CASE WHEN NEW.ack_at IS NULL AND NEW.state = 'sent' THEN 1 ELSE 0 END,
        CASE WHEN NEW.state = 'completed' AND NEW.closed_at <= NEW.complete_due THEN 1 ELSE 0 END, CASE WHEN NEW.state = 'completed' AND NEW.closed_at > NEW.complete_due THEN 1 ELSE 0 END,
        CASE WHEN NEW.closed_at IS NULL THEN 1 ELSE 0 END, 1,
        COALESCE(strftime('%Y-%m-%d', NEW.ack_due, '+4 hours'), ''), COALESCE(strftime('%Y-%m-%d', NEW.complete_due, '+4 hours'), '')
    FROM cases k WHERE k.id = NEW.case_id;
END;
-- +goose StatementEnd


-- +goose Down
DROP TRIGGER cases_agg_update;
DROP TRIGGER referrals_agg_insert;
DROP TRIGGER referrals_agg_delete;
DROP TRIGGER referrals_agg_update;
-- +goose StatementBegin
CREATE TRIGGER cases_agg_update AFTER UPDATE OF type_code, severity, status, district_code, school_id, lead_org_id, created_at, closed_at, owner_id, due_at, queue_key ON cases
WHEN OLD.type_code IS NOT NEW.type_code OR OLD.severity IS NOT NEW.severity OR OLD.status IS NOT NEW.status
    OR OLD.district_code IS NOT NEW.district_code OR OLD.school_id IS NOT NEW.school_id OR OLD.lead_org_id IS NOT NEW.lead_org_id
    OR OLD.created_at IS NOT NEW.created_at OR OLD.closed_at IS NOT NEW.closed_at
    OR OLD.owner_id IS NOT NEW.owner_id OR OLD.due_at IS NOT NEW.due_at OR (OLD.queue_key < 100000000000000000) <> (NEW.queue_key < 100000000000000000)
BEGIN
    INSERT INTO case_count_delta VALUES (OLD.district_code, OLD.school_id, OLD.lead_org_id, OLD.type_code,
        strftime('%Y-%m', OLD.created_at, '+4 hours'), OLD.severity, OLD.status,
        COALESCE(strftime('%Y-%m', OLD.closed_at, '+4 hours'), ''),
        COALESCE(OLD.owner_id, 0), COALESCE(CASE WHEN OLD.queue_key < 100000000000000000 THEN strftime('%Y-%m', OLD.due_at, '+4 hours') END, ''), -1);
    INSERT INTO case_count_delta VALUES (NEW.district_code, NEW.school_id, NEW.lead_org_id, NEW.type_code,
        strftime('%Y-%m', NEW.created_at, '+4 hours'), NEW.severity, NEW.status,
        COALESCE(strftime('%Y-%m', NEW.closed_at, '+4 hours'), ''),
        COALESCE(NEW.owner_id, 0), COALESCE(CASE WHEN NEW.queue_key < 100000000000000000 THEN strftime('%Y-%m', NEW.due_at, '+4 hours') END, ''), 1);
    -- the case's referrals are counted under its district, school and type
    INSERT INTO referral_count_delta
    SELECT OLD.district_code, OLD.school_id, r.to_org_id, OLD.type_code, strftime('%Y-%m', r.sent_at, '+4 hours'),
        CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN -1 ELSE 0 END, CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN -1 ELSE 0 END,
        CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN -1 ELSE 0 END,
        CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN -1 ELSE 0 END, CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN -1 ELSE 0 END,
        CASE WHEN r.closed_at IS NULL THEN -1 ELSE 0 END, -1
    FROM referrals r
    WHERE r.case_id = NEW.id AND (OLD.type_code IS NOT NEW.type_code OR OLD.district_code IS NOT NEW.district_code OR OLD.school_id IS NOT NEW.school_id);
    INSERT INTO referral_count_delta
    SELECT NEW.district_code, NEW.school_id, r.to_org_id, NEW.type_code, strftime('%Y-%m', r.sent_at, '+4 hours'),
        CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN 1 ELSE 0 END, CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN 1 ELSE 0 END,
        CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN 1 ELSE 0 END,
        CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN 1 ELSE 0 END, CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN 1 ELSE 0 END,
        CASE WHEN r.closed_at IS NULL THEN 1 ELSE 0 END, 1
    FROM referrals r
    WHERE r.case_id = NEW.id AND (OLD.type_code IS NOT NEW.type_code OR OLD.district_code IS NOT NEW.district_code OR OLD.school_id IS NOT NEW.school_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER referrals_agg_insert AFTER INSERT ON referrals
BEGIN
    INSERT INTO referral_count_delta
    SELECT k.district_code, k.school_id, NEW.to_org_id, k.type_code, strftime('%Y-%m', NEW.sent_at, '+4 hours'),
        CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at <= NEW.ack_due THEN 1 ELSE 0 END, CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at > NEW.ack_due THEN 1 ELSE 0 END,
        CASE WHEN NEW.ack_at IS NULL AND NEW.state = 'sent' THEN 1 ELSE 0 END,
        CASE WHEN NEW.state = 'completed' AND NEW.closed_at <= NEW.complete_due THEN 1 ELSE 0 END, CASE WHEN NEW.state = 'completed' AND NEW.closed_at > NEW.complete_due THEN 1 ELSE 0 END,
        CASE WHEN NEW.closed_at IS NULL THEN 1 ELSE 0 END, 1
    FROM cases k WHERE k.id = NEW.case_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER referrals_agg_delete AFTER DELETE ON referrals
BEGIN
    INSERT INTO referral_count_delta
    SELECT k.district_code, k.school_id, OLD.to_org_id, k.type_code, strftime('%Y-%m', OLD.sent_at, '+4 hours'),
        CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at <= OLD.ack_due THEN -1 ELSE 0 END, CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at > OLD.ack_due THEN -1 ELSE 0 END,
        CASE WHEN OLD.ack_at IS NULL AND OLD.state = 'sent' THEN -1 ELSE 0 END,
        CASE WHEN OLD.state = 'completed' AND OLD.closed_at <= OLD.complete_due THEN -1 ELSE 0 END, CASE WHEN OLD.state = 'completed' AND OLD.closed_at > OLD.complete_due THEN -1 ELSE 0 END,
        CASE WHEN OLD.closed_at IS NULL THEN -1 ELSE 0 END, -1
    FROM cases k WHERE k.id = OLD.case_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER referrals_agg_update AFTER UPDATE OF case_id, to_org_id, state, sent_at, ack_due, complete_due, ack_at, closed_at ON referrals
WHEN OLD.case_id IS NOT NEW.case_id OR OLD.to_org_id IS NOT NEW.to_org_id OR OLD.state IS NOT NEW.state
    OR OLD.sent_at IS NOT NEW.sent_at OR OLD.ack_due IS NOT NEW.ack_due OR OLD.complete_due IS NOT NEW.complete_due
    OR OLD.ack_at IS NOT NEW.ack_at OR OLD.closed_at IS NOT NEW.closed_at
BEGIN
    INSERT INTO referral_count_delta
    SELECT k.district_code, k.school_id, OLD.to_org_id, k.type_code, strftime('%Y-%m', OLD.sent_at, '+4 hours'),
        CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at <= OLD.ack_due THEN -1 ELSE 0 END, CASE WHEN OLD.ack_at IS NOT NULL AND OLD.ack_at > OLD.ack_due THEN -1 ELSE 0 END,
        CASE WHEN OLD.ack_at IS NULL AND OLD.state = 'sent' THEN -1 ELSE 0 END,
        CASE WHEN OLD.state = 'completed' AND OLD.closed_at <= OLD.complete_due THEN -1 ELSE 0 END, CASE WHEN OLD.state = 'completed' AND OLD.closed_at > OLD.complete_due THEN -1 ELSE 0 END,
        CASE WHEN OLD.closed_at IS NULL THEN -1 ELSE 0 END, -1
    FROM cases k WHERE k.id = OLD.case_id;
    INSERT INTO referral_count_delta
    SELECT k.district_code, k.school_id, NEW.to_org_id, k.type_code, strftime('%Y-%m', NEW.sent_at, '+4 hours'),
        CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at <= NEW.ack_due THEN 1 ELSE 0 END, CASE WHEN NEW.ack_at IS NOT NULL AND NEW.ack_at > NEW.ack_due THEN 1 ELSE 0 END,
        CASE WHEN NEW.ack_at IS NULL AND NEW.state = 'sent' THEN 1 ELSE 0 END,
        CASE WHEN NEW.state = 'completed' AND NEW.closed_at <= NEW.complete_due THEN 1 ELSE 0 END, CASE WHEN NEW.state = 'completed' AND NEW.closed_at > NEW.complete_due THEN 1 ELSE 0 END,
        CASE WHEN NEW.closed_at IS NULL THEN 1 ELSE 0 END, 1
    FROM cases k WHERE k.id = NEW.case_id;
END;
-- +goose StatementEnd

DROP TABLE referral_open_counts;
ALTER TABLE referral_count_delta DROP COLUMN done_due_day;
ALTER TABLE referral_count_delta DROP COLUMN ack_due_day;
