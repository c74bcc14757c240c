-- A case's status and running deadline copied into its places (ADR 0043),
-- kept equal to the case's by the statements that write queue_key. The
-- navigation counts a school's (or district's) new and overdue cases on
-- every page: through case_places (school_id, queue_key) it walked the
-- place's open cases and looked each one up in cases to test its status or
-- deadline; with these indexes each count reads at most CountCap entries.
-- The branches on one column of cases (lead body, owner, creator) get
-- deadline indexes too, so that their overdue counts do not walk every
-- open case to test its deadline either.

-- +goose Up
ALTER TABLE case_places ADD COLUMN status TEXT NOT NULL DEFAULT '';
ALTER TABLE case_places ADD COLUMN due_at TIMESTAMP;
UPDATE case_places SET status = k.status, due_at = k.due_at FROM cases k WHERE k.id = case_places.case_id;
CREATE INDEX case_places_school_status ON case_places (school_id, status, queue_key, case_id);
CREATE INDEX case_places_district_status ON case_places (district_code, status, queue_key, case_id);
CREATE INDEX case_places_school_due ON case_places (school_id, due_at, case_id, queue_key) WHERE due_at IS NOT NULL;
CREATE INDEX case_places_district_due ON case_places (district_code, due_at, case_id, queue_key) WHERE due_at IS NOT NULL;
CREATE INDEX cases_lead_due ON cases (lead_org_id, due_at, id, queue_key) WHERE due_at IS NOT NULL;
CREATE INDEX cases_owner_due ON cases (owner_id, due_at, id, queue_key) WHERE due_at IS NOT NULL;
CREATE INDEX cases_creator_due ON cases (created_by, due_at, id, queue_key) WHERE due_at IS NOT NULL;

-- +goose Down
DROP INDEX cases_creator_due;
DROP INDEX cases_owner_due;
DROP INDEX cases_lead_due;
DROP INDEX case_places_district_due;
DROP INDEX case_places_school_due;
DROP INDEX case_places_district_status;
DROP INDEX case_places_school_status;
ALTER TABLE case_places DROP COLUMN due_at;
ALTER TABLE case_places DROP COLUMN status;
