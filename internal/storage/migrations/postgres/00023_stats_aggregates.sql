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
    school_id     BIGINT,
    lead_org_id   BIGINT,
    type_code     TEXT NOT NULL,
    month         TEXT NOT NULL,
    severity      TEXT NOT NULL,
    status        TEXT NOT NULL,
    closed_month  TEXT NOT NULL,  -- '' while closed_at is NULL
    owner_id      BIGINT NOT NULL,  -- 0: none
    due_month     TEXT NOT NULL,  -- the running deadline's month while open ('' when none)
    n             INTEGER NOT NULL
);

CREATE TABLE case_counts (
    scope     TEXT NOT NULL,
    type_code TEXT NOT NULL,
    month     TEXT NOT NULL,
    severity  TEXT NOT NULL,
    status    TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (scope, type_code, month, severity, status)
);

-- Open cases by their running deadline's month and owner: those due
-- before this month are overdue now; this month's are read from cases_due.
CREATE TABLE case_due_counts (
    scope     TEXT NOT NULL,
    type_code TEXT NOT NULL,
    owner_id  BIGINT NOT NULL,
    month     TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (scope, type_code, owner_id, month)
);

CREATE TABLE case_closed_counts (
    scope     TEXT NOT NULL,
    type_code TEXT NOT NULL,
    month     TEXT NOT NULL,
    n         BIGINT NOT NULL,
    PRIMARY KEY (scope, type_code, month)
);

-- A referral's deadlines as far as they do not depend on the clock:
-- acknowledged on time or late, still waiting (ack_at NULL, state 'sent');
-- completed on time or late, still open (closed_at NULL). Whether a
-- waiting one is open or missed is decided when read, from the few that
-- are not yet due (referrals_ack_waiting, referrals_done_waiting).
CREATE TABLE referral_count_delta (
    district_code TEXT,
    school_id     BIGINT,
    to_org_id     BIGINT NOT NULL,
    type_code     TEXT NOT NULL,
    month         TEXT NOT NULL,
    ack_met       BIGINT NOT NULL,
    ack_late      BIGINT NOT NULL,
    ack_waiting   BIGINT NOT NULL,
    done_met      BIGINT NOT NULL,
    done_late     BIGINT NOT NULL,
    done_waiting  BIGINT NOT NULL,
    n             INTEGER NOT NULL   -- the referral itself
);

CREATE TABLE referral_body_counts (
    scope        TEXT NOT NULL,     -- 'c', 'd:', 's:'
    to_org_id    BIGINT NOT NULL,
    type_code    TEXT NOT NULL,
    month        TEXT NOT NULL,
    ack_met      BIGINT NOT NULL,
    ack_late     BIGINT NOT NULL,
    ack_waiting  BIGINT NOT NULL,
    done_met     BIGINT NOT NULL,
    done_late    BIGINT NOT NULL,
    done_waiting BIGINT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (scope, to_org_id, type_code, month)
);

CREATE TABLE referral_school_counts (
    scope        TEXT NOT NULL,     -- 'c', 'd:', 'r:'
    school_id    BIGINT NOT NULL,
    type_code    TEXT NOT NULL,
    month        TEXT NOT NULL,
    ack_met      BIGINT NOT NULL,
    ack_late     BIGINT NOT NULL,
    ack_waiting  BIGINT NOT NULL,
    done_met     BIGINT NOT NULL,
    done_late    BIGINT NOT NULL,
    done_waiting BIGINT NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (scope, school_id, type_code, month)
);

-- Contacts by month and one dimension at a time: 'channel', 'category',
-- 'hour' (00..23), 'wday' (0 Sunday..6).
CREATE TABLE contact_count_delta (
    month TEXT NOT NULL,
    dim   TEXT NOT NULL,
    key   TEXT NOT NULL,
    n     BIGINT NOT NULL
);

CREATE TABLE contact_counts (
    month TEXT NOT NULL,
    dim   TEXT NOT NULL,
    key   TEXT NOT NULL,
    n     BIGINT NOT NULL,
    PRIMARY KEY (month, dim, key)
);

CREATE INDEX referrals_sent ON referrals (sent_at);
CREATE INDEX referrals_ack_waiting ON referrals (ack_due) WHERE ack_at IS NULL AND state = 'sent';
CREATE INDEX referrals_done_waiting ON referrals (complete_due) WHERE closed_at IS NULL;

-- +goose StatementBegin
CREATE FUNCTION cases_agg() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER cases_agg_insert_delete AFTER INSERT OR DELETE ON cases FOR EACH ROW EXECUTE FUNCTION cases_agg();
CREATE TRIGGER cases_agg_update AFTER UPDATE OF type_code, severity, status, district_code, school_id, lead_org_id, created_at, closed_at, owner_id, due_at, queue_key ON cases
    FOR EACH ROW WHEN ((OLD.type_code, OLD.severity, OLD.status, OLD.district_code, OLD.school_id, OLD.lead_org_id, OLD.created_at, OLD.closed_at, OLD.owner_id, OLD.due_at, OLD.queue_key < 100000000000000000)
        IS DISTINCT FROM (NEW.type_code, NEW.severity, NEW.status, NEW.district_code, NEW.school_id, NEW.lead_org_id, NEW.created_at, NEW.closed_at, NEW.owner_id, NEW.due_at, NEW.queue_key < 100000000000000000))
    EXECUTE FUNCTION cases_agg();

-- +goose StatementBegin
CREATE FUNCTION referrals_agg() RETURNS trigger LANGUAGE plpgsql AS $$
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

CREATE TRIGGER referrals_agg_insert_delete AFTER INSERT OR DELETE ON referrals FOR EACH ROW EXECUTE FUNCTION referrals_agg();
CREATE TRIGGER referrals_agg_update AFTER UPDATE OF case_id, to_org_id, state, sent_at, ack_due, complete_due, ack_at, closed_at ON referrals
    FOR EACH ROW WHEN ((OLD.case_id, OLD.to_org_id, OLD.state, OLD.sent_at, OLD.ack_due, OLD.complete_due, OLD.ack_at, OLD.closed_at)
        IS DISTINCT FROM (NEW.case_id, NEW.to_org_id, NEW.state, NEW.sent_at, NEW.ack_due, NEW.complete_due, NEW.ack_at, NEW.closed_at))
    EXECUTE FUNCTION referrals_agg();

-- +goose StatementBegin
CREATE FUNCTION contacts_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO contact_count_delta VALUES
            (to_char(OLD.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'channel', OLD.channel, -1),
            (to_char(OLD.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'hour', to_char(OLD.received_at AT TIME ZONE 'Asia/Baku', 'HH24'), -1),
            (to_char(OLD.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'wday', CAST(CAST(EXTRACT(DOW FROM OLD.received_at AT TIME ZONE 'Asia/Baku') AS INTEGER) AS TEXT), -1);
        INSERT INTO contact_count_delta SELECT to_char(OLD.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'category', g.code, -1 FROM contact_categories g WHERE g.contact_id = OLD.id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO contact_count_delta VALUES
            (to_char(NEW.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'channel', NEW.channel, 1),
            (to_char(NEW.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'hour', to_char(NEW.received_at AT TIME ZONE 'Asia/Baku', 'HH24'), 1),
            (to_char(NEW.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'wday', CAST(CAST(EXTRACT(DOW FROM NEW.received_at AT TIME ZONE 'Asia/Baku') AS INTEGER) AS TEXT), 1);
    END IF;
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO contact_count_delta SELECT to_char(NEW.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'category', g.code, 1 FROM contact_categories g WHERE g.contact_id = NEW.id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER contacts_agg_insert_delete AFTER INSERT OR DELETE ON contacts FOR EACH ROW EXECUTE FUNCTION contacts_agg();
CREATE TRIGGER contacts_agg_update AFTER UPDATE OF channel, received_at ON contacts
    FOR EACH ROW WHEN ((OLD.channel, OLD.received_at) IS DISTINCT FROM (NEW.channel, NEW.received_at))
    EXECUTE FUNCTION contacts_agg();

-- +goose StatementBegin
CREATE FUNCTION contact_categories_agg() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO contact_count_delta SELECT to_char(t.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'category', OLD.code, -1 FROM contacts t WHERE t.id = OLD.contact_id;
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        INSERT INTO contact_count_delta SELECT to_char(t.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'category', NEW.code, 1 FROM contacts t WHERE t.id = NEW.contact_id;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER contact_categories_agg AFTER INSERT OR DELETE OR UPDATE OF contact_id, code ON contact_categories
    FOR EACH ROW EXECUTE FUNCTION contact_categories_agg();

-- The counts of what is already there.
INSERT INTO case_count_delta
SELECT district_code, school_id, lead_org_id, type_code, to_char(created_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), severity, status,
    COALESCE(to_char(closed_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), ''),
    COALESCE(owner_id, 0), COALESCE(CASE WHEN queue_key < 100000000000000000 THEN to_char(due_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM') END, ''), 1 FROM cases;
INSERT INTO referral_count_delta
SELECT k.district_code, k.school_id, r.to_org_id, k.type_code, to_char(r.sent_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'),
    CASE WHEN r.ack_at IS NOT NULL AND r.ack_at <= r.ack_due THEN 1 ELSE 0 END,
            CASE WHEN r.ack_at IS NOT NULL AND r.ack_at > r.ack_due THEN 1 ELSE 0 END,
            CASE WHEN r.ack_at IS NULL AND r.state = 'sent' THEN 1 ELSE 0 END,
            CASE WHEN r.state = 'completed' AND r.closed_at <= r.complete_due THEN 1 ELSE 0 END,
            CASE WHEN r.state = 'completed' AND r.closed_at > r.complete_due THEN 1 ELSE 0 END,
            CASE WHEN r.closed_at IS NULL THEN 1 ELSE 0 END, 1
FROM referrals r JOIN cases k ON k.id = r.case_id;
INSERT INTO contact_count_delta SELECT to_char(received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'channel', channel, 1 FROM contacts;
INSERT INTO contact_count_delta SELECT to_char(received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'hour', to_char(received_at AT TIME ZONE 'Asia/Baku', 'HH24'), 1 FROM contacts;
INSERT INTO contact_count_delta SELECT to_char(received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'wday', CAST(CAST(EXTRACT(DOW FROM received_at AT TIME ZONE 'Asia/Baku') AS INTEGER) AS TEXT), 1 FROM contacts;
INSERT INTO contact_count_delta
SELECT to_char(t.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM'), 'category', g.code, 1 FROM contacts t JOIN contact_categories g ON g.contact_id = t.id;

-- +goose Down
DROP TRIGGER contact_categories_agg ON contact_categories;
DROP TRIGGER contacts_agg_update ON contacts;
DROP TRIGGER contacts_agg_insert_delete ON contacts;
DROP TRIGGER referrals_agg_update ON referrals;
DROP TRIGGER referrals_agg_insert_delete ON referrals;
DROP TRIGGER cases_agg_update ON cases;
DROP TRIGGER cases_agg_insert_delete ON cases;
DROP FUNCTION contact_categories_agg();
DROP FUNCTION contacts_agg();
DROP FUNCTION referrals_agg();
DROP FUNCTION cases_agg();
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
