-- +goose Up
-- An open register entry (proposed or active) follows its pupil to a new
-- school (ADR 0049): the figures, the list and the policy already place it
-- where the pupil is now (ADR 0039), and the school on the entry is the one
-- that decides and reviews it, so the two must not part. A move in any
-- write path (the child's form, a roster import, a re-sync) moves the
-- entry in the same statement, bumps its version (a decision read before
-- the move is refused as stale) and writes a 'moved' line to its history,
-- dated with the child's update. Closed entries stay where they were. One
-- trigger call per statement, as the roll counts' (00026).
INSERT INTO register_history (entry_id, at, actor_user_id, action, from_status, to_status, level, note, next_review)
    SELECT e.id, c.updated_at, NULL, 'moved', e.status, e.status, e.level, '', e.next_review_due
    FROM register_entries e JOIN children c ON c.id = e.child_id
    WHERE e.status IN ('proposed', 'active') AND c.school_id IS NOT NULL AND c.school_id <> e.school_id;
UPDATE register_entries e SET school_id = c.school_id, version = e.version + 1, updated_at = c.updated_at
FROM children c
WHERE c.id = e.child_id AND e.status IN ('proposed', 'active') AND c.school_id IS NOT NULL AND c.school_id <> e.school_id;

-- +goose StatementBegin
CREATE FUNCTION register_follows_pupil() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH moved AS (
        SELECT n.id, n.school_id, n.updated_at FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE n.school_id IS NOT NULL AND o.school_id IS DISTINCT FROM n.school_id
    ), entries AS (
        UPDATE register_entries e SET school_id = m.school_id, version = e.version + 1, updated_at = m.updated_at
        FROM moved m
        WHERE e.child_id = m.id AND e.status IN ('proposed', 'active') AND e.school_id <> m.school_id
        RETURNING e.id, e.status, e.level, e.next_review_due, m.updated_at
    )
    INSERT INTO register_history (entry_id, at, actor_user_id, action, from_status, to_status, level, note, next_review)
        SELECT id, updated_at, NULL, 'moved', status, status, level, '', next_review_due FROM entries;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER register_follows_pupil AFTER UPDATE ON children REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION register_follows_pupil();

-- +goose Down
DROP TRIGGER register_follows_pupil ON children;
DROP FUNCTION register_follows_pupil();
