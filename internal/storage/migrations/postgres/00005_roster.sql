-- Roster imports and duplicate merging.
--
-- roster_imports records every import run (from the web, the API or the
-- command line) with its counts, updated as each batch commits, so that
-- progress survives the request that started it and any replica can show
-- it. roster_import_rejects keeps the rejected rows of web and API imports
-- for their uploader (the command line writes them to a file instead).
--
-- children.dup_key is a normalised name key (see child.DupKey) that finds
-- likely duplicates together with the birth date; merged_into hides a record
-- merged by a person into another, and child_merges records each merge and
-- the references it moved, so that it can be undone exactly.

-- +goose Up
ALTER TABLE children ADD COLUMN dup_key TEXT NOT NULL DEFAULT '';
ALTER TABLE children ADD COLUMN merged_into BIGINT REFERENCES children (id);
CREATE INDEX children_dup ON children (dup_key, birth_date) WHERE merged_into IS NULL;
CREATE INDEX children_merged_into ON children (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE roster_imports (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     BIGINT REFERENCES users (id),
    org_id      BIGINT REFERENCES orgs (id),
    file_name   TEXT NOT NULL DEFAULT '',
    status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    rows_read   INTEGER NOT NULL DEFAULT 0,
    inserted    INTEGER NOT NULL DEFAULT 0,
    updated     INTEGER NOT NULL DEFAULT 0,
    unchanged   INTEGER NOT NULL DEFAULT 0,
    rejected    INTEGER NOT NULL DEFAULT 0,
    error_key   TEXT NOT NULL DEFAULT '',
    error_args  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ
);
CREATE INDEX roster_imports_user ON roster_imports (user_id, id);

CREATE TABLE roster_import_rejects (
    import_id BIGINT NOT NULL REFERENCES roster_imports (id) ON DELETE CASCADE,
    line      INTEGER NOT NULL,
    reasons   TEXT NOT NULL,
    raw       TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);

CREATE TABLE child_merges (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    survivor_id   BIGINT NOT NULL REFERENCES children (id),
    merged_id     BIGINT NOT NULL REFERENCES children (id),
    moved         TEXT NOT NULL DEFAULT '{}',
    created_by    BIGINT REFERENCES users (id),
    created_at    TIMESTAMPTZ NOT NULL,
    undone_by     BIGINT REFERENCES users (id),
    undone_at     TIMESTAMPTZ
);
CREATE INDEX child_merges_merged ON child_merges (merged_id, id);
CREATE INDEX child_merges_survivor ON child_merges (survivor_id, id);

-- +goose Down
DROP TABLE child_merges;
DROP TABLE roster_import_rejects;
DROP TABLE roster_imports;
DROP INDEX children_merged_into;
DROP INDEX children_dup;
ALTER TABLE children DROP COLUMN merged_into;
ALTER TABLE children DROP COLUMN dup_key;
