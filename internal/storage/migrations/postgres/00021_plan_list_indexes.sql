-- +goose Up
-- The plan list reads, for each way the policy lets a principal reach
-- plans, the newest few by an index and only then joins them (ADR 0030):
-- a school's live plans in id order, a class's plans through its pupils,
-- and the plans of the activities a member of staff or a body carries.
CREATE INDEX plans_school_live ON plans (school_id, id) WHERE status IN ('draft', 'active');
CREATE INDEX plans_child ON plans (child_id, id);
CREATE INDEX plan_activities_user_plan ON plan_activities (resp_user_id, plan_id);
CREATE INDEX plan_activities_org_plan ON plan_activities (resp_org_id, plan_id);
DROP INDEX plan_activities_user;
DROP INDEX plan_activities_org;

-- +goose Down
CREATE INDEX plan_activities_org ON plan_activities (resp_org_id);
CREATE INDEX plan_activities_user ON plan_activities (resp_user_id);
DROP INDEX plan_activities_org_plan;
DROP INDEX plan_activities_user_plan;
DROP INDEX plans_child;
DROP INDEX plans_school_live;
