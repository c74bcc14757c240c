-- +goose Up
-- An open register entry (proposed or active) follows its pupil to a new
-- school (ADR 0049): the figures, the list and the policy already place it
-- where the pupil is now (ADR 0039), and the school on the entry is the one
-- that decides and reviews it, so the two must not part. A move in any
-- write path (the child's form, a roster import, a re-sync) moves the
-- entry in the same statement, bumps its version (a decision read before
-- the move is refused as stale) and writes a 'moved' line to its history,
-- dated with the child's update. Closed entries stay where they were.
INSERT INTO register_history (entry_id, at, actor_user_id, action, from_status, to_status, level, note, next_review)
    SELECT e.id, c.updated_at, NULL, 'moved', e.status, e.status, e.level, '', e.next_review_due
    FROM register_entries e JOIN children c ON c.id = e.child_id
    WHERE e.status IN ('proposed', 'active') AND c.school_id IS NOT NULL AND c.school_id <> e.school_id;
UPDATE register_entries SET school_id = (SELECT c.school_id FROM children c WHERE c.id = register_entries.child_id),
    version = version + 1, updated_at = (SELECT c.updated_at FROM children c WHERE c.id = register_entries.child_id)
WHERE status IN ('proposed', 'active') AND EXISTS (SELECT 1 FROM children c WHERE c.id = register_entries.child_id
    AND c.school_id IS NOT NULL AND c.school_id <> register_entries.school_id);

-- +goose StatementBegin
CREATE TRIGGER register_follows_pupil AFTER UPDATE OF school_id ON children
WHEN NEW.school_id IS NOT NULL AND OLD.school_id IS NOT NEW.school_id
BEGIN
    INSERT INTO register_history (entry_id, at, actor_user_id, action, from_status, to_status, level, note, next_review)
        SELECT id, NEW.updated_at, NULL, 'moved', status, status, level, '', next_review_due FROM register_entries
        WHERE child_id = NEW.id AND status IN ('proposed', 'active') AND school_id <> NEW.school_id;
    UPDATE register_entries SET school_id = NEW.school_id, version = version + 1, updated_at = NEW.updated_at
        WHERE child_id = NEW.id AND status IN ('proposed', 'active') AND school_id <> NEW.school_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER register_follows_pupil;
