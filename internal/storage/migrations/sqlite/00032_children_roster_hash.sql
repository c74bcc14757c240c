-- The roster re-sync's snapshot (ADR 0046) reads each child's student ID
-- and a 64-bit hash of the columns an import compares (last, first and
-- patronymic names, sex, birth date, school, grade, section), computed in
-- Go by every write of those columns (storage.rosterHash), instead of the
-- eight columns. NULL means "not known": the snapshot then reads the
-- columns. The trigger is the safety net: an update that changes a
-- compared column without giving a new hash leaves NULL, never a stale
-- hash that would make a changed row look unchanged.

-- +goose Up
ALTER TABLE children ADD COLUMN roster_hash INTEGER;

-- +goose StatementBegin
CREATE TRIGGER children_roster_hash_stale AFTER UPDATE OF last_name, first_name, patronymic, sex, birth_date, school_id,
    grade, section ON children
WHEN NEW.roster_hash IS NOT NULL AND NEW.roster_hash IS OLD.roster_hash
    AND (OLD.last_name IS NOT NEW.last_name OR OLD.first_name IS NOT NEW.first_name OR OLD.patronymic IS NOT NEW.patronymic
        OR OLD.sex IS NOT NEW.sex OR OLD.birth_date IS NOT NEW.birth_date OR OLD.school_id IS NOT NEW.school_id
        OR OLD.grade IS NOT NEW.grade OR OLD.section IS NOT NEW.section)
BEGIN
    UPDATE children SET roster_hash = NULL WHERE id = NEW.id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER children_roster_hash_stale;
ALTER TABLE children DROP COLUMN roster_hash;
