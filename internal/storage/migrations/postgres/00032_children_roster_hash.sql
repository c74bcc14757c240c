-- The roster re-sync's snapshot (ADR 0046) reads each child's student ID
-- and a 64-bit hash of the columns an import compares (last, first and
-- patronymic names, sex, birth date, school, grade, section), computed in
-- Go by every write of those columns (storage.rosterHash), instead of the
-- eight columns. NULL means "not known": the snapshot then reads the
-- columns. The trigger is the safety net: an update that changes a
-- compared column without giving a new hash leaves NULL, never a stale
-- hash that would make a changed row look unchanged.

-- +goose Up
ALTER TABLE children ADD COLUMN roster_hash BIGINT;

-- +goose StatementBegin
CREATE FUNCTION children_roster_hash_stale() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.roster_hash IS NOT DISTINCT FROM OLD.roster_hash
        AND (NEW.last_name, NEW.first_name, NEW.patronymic, NEW.sex, NEW.birth_date, NEW.school_id, NEW.grade, NEW.section)
            IS DISTINCT FROM (OLD.last_name, OLD.first_name, OLD.patronymic, OLD.sex, OLD.birth_date, OLD.school_id, OLD.grade, OLD.section) THEN
        NEW.roster_hash := NULL;
    END IF;
    RETURN NEW;
END $$;
-- +goose StatementEnd

CREATE TRIGGER children_roster_hash_stale BEFORE UPDATE OF last_name, first_name, patronymic, sex, birth_date, school_id,
    grade, section ON children FOR EACH ROW EXECUTE FUNCTION children_roster_hash_stale();

-- +goose Down
DROP TRIGGER children_roster_hash_stale ON children;
DROP FUNCTION children_roster_hash_stale();
ALTER TABLE children DROP COLUMN roster_hash;
