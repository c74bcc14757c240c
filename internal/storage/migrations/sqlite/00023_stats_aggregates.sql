-- +goose Up
-- Pre-aggregated dashboard counts (ADR 0032). Every write to cases,
-- referrals, contacts and contact_categories appends a signed row (+1 for
-- the new state, -1 for the old) to a *_delta table by trigger, in the
-- writer's own transaction; the job fold_stats adds the deltas into the
-- totals and empties them; `dayaq stats rebuild` recomputes the totals
-- from the base tables. A dashboard reads totals + deltas, so it is exact
-- at every commit. Months are Baku time (YYYY-MM), as storage.bucket.
-- Scopes: 'c' the city, 'd:<code>' a district, 's:<id>' a school,
-- 'b:<id>' the body leading the case, 'r:<id>' the body referred to.

CREATE TABLE case_count_delta (
    district_code TEXT,
    school_id     INTEGER,
    lead_org_id   INTEGER,
    type_code     TEXT NOT NULL,
    month         TEXT NOT NULL,
    severity      TEXT NOT NULL,
    status        TEXT NOT NULL,
    closed_month  TEXT NOT NULL,  -- '' while closed_at is NULL
    owner_id      INTEGER NOT NULL,  -- 0: none
    due_month     TEXT NOT NULL,  -- the running deadline's month while open ('' when none)
    n             INTEGER NOT NULL
);

CREATE TABLE case_counts (
    scope     TEXT NOT NULL,
    type_code TEXT NOT NULL,
    month     TEXT NOT NULL,
    severity  TEXT NOT NULL,
    status    TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (scope, type_code, month, severity, status)
);

-- Open cases by their running deadline's month and owner: those due
-- before this month are overdue now; this month's are read from cases_due.
CREATE TABLE case_due_counts (
    scope     TEXT NOT NULL,
    type_code TEXT NOT NULL,
    owner_id  INTEGER NOT NULL,
    month     TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (scope, type_code, owner_id, month)
);

CREATE TABLE case_closed_counts (
    scope     TEXT NOT NULL,
    type_code TEXT NOT NULL,
    month     TEXT NOT NULL,
    n         INTEGER NOT NULL,
    PRIMARY KEY (scope, type_code, month)
);

-- A referral's deadlines as far as they do not depend on the clock:
-- acknowledged on time or late, still waiting (ack_at NULL, state 'sent');
-- completed on time or late, still open (closed_at NULL). Whether a
-- waiting one is open or missed is decided when read, from the few that
-- are not yet due (referrals_ack_waiting, referrals_done_waiting).
CREATE TABLE referral_count_delta (
    district_code TEXT,
    school_id     INTEGER,
    to_org_id     INTEGER NOT NULL,
    type_code     TEXT NOT NULL,
    month         TEXT NOT NULL,
    ack_met       INTEGER NOT NULL,
    ack_late      INTEGER NOT NULL,
    ack_waiting   INTEGER NOT NULL,
    done_met      INTEGER NOT NULL,
    done_late     INTEGER NOT NULL,
    done_waiting  INTEGER NOT NULL,
    n             INTEGER NOT NULL   -- the referral itself
);

CREATE TABLE referral_body_counts (
    scope        TEXT NOT NULL,     -- 'c', 'd:', 's:'
    to_org_id    INTEGER NOT NULL,
    type_code    TEXT NOT NULL,
    month        TEXT NOT NULL,
    ack_met      INTEGER NOT NULL,
    ack_late     INTEGER NOT NULL,
    ack_waiting  INTEGER NOT NULL,
    done_met     INTEGER NOT NULL,
    done_late    INTEGER NOT NULL,
    done_waiting INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (scope, to_org_id, type_code, month)
);

CREATE TABLE referral_school_counts (
    scope        TEXT NOT NULL,     -- 'c', 'd:', 'r:'
    school_id    INTEGER NOT NULL,
    type_code    TEXT NOT NULL,
    month        TEXT NOT NULL,
    ack_met      INTEGER NOT NULL,
    ack_late     INTEGER NOT NULL,
    ack_waiting  INTEGER NOT NULL,
    done_met     INTEGER NOT NULL,
    done_late    INTEGER NOT NULL,
    done_waiting INTEGER NOT NULL,
    n            INTEGER NOT NULL,
    PRIMARY KEY (scope, school_id, type_code, month)
);

-- Contacts by month and one dimension at a time: 'channel', 'category',
-- 'hour' (00..23), 'wday' (0 Sunday..6).
CREATE TABLE contact_count_delta (
    month TEXT NOT NULL,
    dim   TEXT NOT NULL,
    key   TEXT NOT NULL,
    n     INTEGER NOT NULL
);

CREATE TABLE contact_counts (
    month TEXT NOT NULL,
    dim   TEXT NOT NULL,
    key   TEXT NOT NULL,
    n     INTEGER NOT NULL,
    PRIMARY KEY (month, dim, key)
);

CREATE INDEX referrals_sent ON referrals (sent_at);
CREATE INDEX referrals_ack_waiting ON referrals (ack_due) WHERE ack_at IS NULL AND state = 'sent';
CREATE INDEX referrals_done_waiting ON referrals (complete_due) WHERE closed_at IS NULL;

-- +goose StatementBegin
CREATE TRIGGER cases_agg_insert AFTER INSERT ON cases
BEGIN
    INSERT INTO case_count_delta VALUES (NEW.district_code, NEW.school_id, NEW.lead_org_id, NEW.type_code,
        strftime('%Y-%m', NEW.created_at, '+4 hours'), NEW.severity, NEW.status,
        COALESCE(strftime('%Y-%m', NEW.closed_at, '+4 hours'), ''),
        COALESCE(NEW.owner_id, 0), COALESCE(CASE WHEN NEW.queue_key < 100000000000000000 THEN strftime('%Y-%m', NEW.due_at, '+4 hours') END, ''), 1);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER cases_agg_delete AFTER DELETE ON cases
BEGIN
    INSERT INTO case_count_delta VALUES (OLD.district_code, OLD.school_id, OLD.lead_org_id, OLD.type_code,
        strftime('%Y-%m', OLD.created_at, '+4 hours'), OLD.severity, OLD.status,
        COALESCE(strftime('%Y-%m', OLD.closed_at, '+4 hours'), ''),
        COALESCE(OLD.owner_id, 0), COALESCE(CASE WHEN OLD.queue_key < 100000000000000000 THEN strftime('%Y-%m', OLD.due_at, '+4 hours') END, ''), -1);
END;
-- +goose StatementEnd

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

-- +goose StatementBegin
CREATE TRIGGER contacts_agg_insert AFTER INSERT ON contacts
BEGIN
    INSERT INTO contact_count_delta VALUES
        (strftime('%Y-%m', NEW.received_at, '+4 hours'), 'channel', NEW.channel, 1),
        (strftime('%Y-%m', NEW.received_at, '+4 hours'), 'hour', strftime('%H', NEW.received_at, '+4 hours'), 1),
        (strftime('%Y-%m', NEW.received_at, '+4 hours'), 'wday', strftime('%w', NEW.received_at, '+4 hours'), 1);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER contacts_agg_delete AFTER DELETE ON contacts
BEGIN
    INSERT INTO contact_count_delta VALUES
        (strftime('%Y-%m', OLD.received_at, '+4 hours'), 'channel', OLD.channel, -1),
        (strftime('%Y-%m', OLD.received_at, '+4 hours'), 'hour', strftime('%H', OLD.received_at, '+4 hours'), -1),
        (strftime('%Y-%m', OLD.received_at, '+4 hours'), 'wday', strftime('%w', OLD.received_at, '+4 hours'), -1);
    INSERT INTO contact_count_delta
    SELECT strftime('%Y-%m', OLD.received_at, '+4 hours'), 'category', g.code, -1 FROM contact_categories g WHERE g.contact_id = OLD.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER contacts_agg_update AFTER UPDATE OF channel, received_at ON contacts
WHEN OLD.channel IS NOT NEW.channel OR OLD.received_at IS NOT NEW.received_at
BEGIN
    INSERT INTO contact_count_delta VALUES
        (strftime('%Y-%m', OLD.received_at, '+4 hours'), 'channel', OLD.channel, -1),
        (strftime('%Y-%m', OLD.received_at, '+4 hours'), 'hour', strftime('%H', OLD.received_at, '+4 hours'), -1),
        (strftime('%Y-%m', OLD.received_at, '+4 hours'), 'wday', strftime('%w', OLD.received_at, '+4 hours'), -1),
        (strftime('%Y-%m', NEW.received_at, '+4 hours'), 'channel', NEW.channel, 1),
        (strftime('%Y-%m', NEW.received_at, '+4 hours'), 'hour', strftime('%H', NEW.received_at, '+4 hours'), 1),
        (strftime('%Y-%m', NEW.received_at, '+4 hours'), 'wday', strftime('%w', NEW.received_at, '+4 hours'), 1);
    INSERT INTO contact_count_delta
    SELECT strftime('%Y-%m', OLD.received_at, '+4 hours'), 'category', g.code, -1 FROM contact_categories g WHERE g.contact_id = NEW.id;
    INSERT INTO contact_count_delta
    SELECT strftime('%Y-%m', NEW.received_at, '+4 hours'), 'category', g.code, 1 FROM contact_categories g WHERE g.contact_id = NEW.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER contact_categories_agg_insert AFTER INSERT ON contact_categories
BEGIN
    INSERT INTO contact_count_delta
    SELECT strftime('%Y-%m', t.received_at, '+4 hours'), 'category', NEW.code, 1 FROM contacts t WHERE t.id = NEW.contact_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER contact_categories_agg_delete AFTER DELETE ON contact_categories
BEGIN
    INSERT INTO contact_count_delta
    SELECT strftime('%Y-%m', t.received_at, '+4 hours'), 'category', OLD.code, -1 FROM contacts t WHERE t.id = OLD.contact_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER contact_categories_agg_update AFTER UPDATE OF contact_id, code ON contact_categories
BEGIN
    INSERT INTO contact_count_delta
    SELECT strftime('%Y-%m', t.received_at, '+4 hours'), 'category', OLD.code, -1 FROM contacts t WHERE t.id = OLD.contact_id;
    INSERT INTO contact_count_delta
    SELECT strftime('%Y-%m', t.received_at, '+4 hours'), 'category', NEW.code, 1 FROM contacts t WHERE t.id = NEW.contact_id;
END;
-- +goose StatementEnd

-- The counts of what is already there.
INSERT INTO case_count_delta
SELECT district_code, school_id, lead_org_id, type_code, strftime('%Y-%m', created_at, '+4 hours'), severity, status,
    COALESCE(strftime('%Y-%m', closed_at, '+4 hours'), ''),
    COALESCE(owner_id, 0), COALESCE(CASE WHEN queue_key < 100000000000000000 THEN strftime('%Y-%m', due_at, '+4 hours') END, ''), 1 FROM cases;
INSERT INTO referral_count_delta
SELECT k.district_code, k.school_id, r.to_org_id, k.type_code, strftime('%Y-%m', r.sent_at, '+4 hours'),
    CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN 1 ELSE 0 END, CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN 1 ELSE 0 END,
    CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN 1 ELSE 0 END,
    CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN 1 ELSE 0 END, CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN 1 ELSE 0 END,
    CASE WHEN r.closed_at IS NULL THEN 1 ELSE 0 END, 1
FROM referrals r JOIN cases k ON k.id = r.case_id;
INSERT INTO contact_count_delta SELECT strftime('%Y-%m', received_at, '+4 hours'), 'channel', channel, 1 FROM contacts;
INSERT INTO contact_count_delta SELECT strftime('%Y-%m', received_at, '+4 hours'), 'hour', strftime('%H', received_at, '+4 hours'), 1 FROM contacts;
INSERT INTO contact_count_delta SELECT strftime('%Y-%m', received_at, '+4 hours'), 'wday', strftime('%w', received_at, '+4 hours'), 1 FROM contacts;
INSERT INTO contact_count_delta
SELECT strftime('%Y-%m', t.received_at, '+4 hours'), 'category', g.code, 1 FROM contacts t JOIN contact_categories g ON g.contact_id = t.id;

-- +goose Down
DROP TRIGGER contact_categories_agg_update;
DROP TRIGGER contact_categories_agg_delete;
DROP TRIGGER contact_categories_agg_insert;
DROP TRIGGER contacts_agg_update;
DROP TRIGGER contacts_agg_delete;
DROP TRIGGER contacts_agg_insert;
DROP TRIGGER referrals_agg_update;
DROP TRIGGER referrals_agg_delete;
DROP TRIGGER referrals_agg_insert;
DROP TRIGGER cases_agg_update;
DROP TRIGGER cases_agg_delete;
DROP TRIGGER cases_agg_insert;
DROP INDEX referrals_done_waiting;
DROP INDEX referrals_ack_waiting;
DROP INDEX referrals_sent;
DROP TABLE contact_counts;
DROP TABLE contact_count_delta;
DROP TABLE referral_school_counts;
DROP TABLE referral_body_counts;
DROP TABLE referral_count_delta;
DROP TABLE case_closed_counts;
DROP TABLE case_due_counts;
DROP TABLE case_counts;
DROP TABLE case_count_delta;
