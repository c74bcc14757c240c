-- +goose Up
-- The register list of one school (its psychologist or head, a teacher's
-- classes) goes from the school's children to their entries: this index
-- answers "this child's entries of this status, by next review" without
-- reading the entries' rows, so that only the page's 50 are read whole
-- (issue 11's speed target, ADR 0029).
CREATE INDEX register_entries_child_status ON register_entries (child_id, status, next_review_due, id);

-- +goose Down
DROP INDEX register_entries_child_status;
