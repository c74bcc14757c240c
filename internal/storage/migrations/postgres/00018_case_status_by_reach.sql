-- Case lists and queue counts by status within one user's or body's reach
-- (ADR 0027): the navigation counts a school's new cases on every page;
-- through (lead_org_id, queue_key) it walked every case the school leads to
-- find the few new ones. With the status in the index it seeks them.

-- +goose Up
CREATE INDEX cases_lead_status ON cases (lead_org_id, status, queue_key, id);
CREATE INDEX cases_owner_status ON cases (owner_id, status, queue_key, id);
CREATE INDEX cases_creator_status ON cases (created_by, status, queue_key, id);

-- +goose Down
DROP INDEX cases_creator_status;
DROP INDEX cases_owner_status;
DROP INDEX cases_lead_status;
