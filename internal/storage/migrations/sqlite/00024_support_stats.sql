-- The dashboards' support figures (issue 15, ADR 0033): pupils screened in
-- a period at a school (distinct children), and the pupils on a school's
-- roll, counted from an index alone instead of the tables' rows.

-- +goose Up
CREATE INDEX screening_answers_school_time ON screening_answers (school_id, created_at, child_id);
CREATE INDEX children_roll ON children (school_id) WHERE merged_into IS NULL;
CREATE INDEX register_entries_level ON register_entries (school_id, status, level);

-- +goose Down
DROP INDEX register_entries_level;
DROP INDEX children_roll;
DROP INDEX screening_answers_school_time;
