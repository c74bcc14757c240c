-- Blocking keys for matching a child's name in any script and spelling
-- (internal/match): each child is filed under a few short text keys made of
-- phonetic skeletons and the birth date. The table is its own index
-- (WITHOUT ROWID), ordered by key, so that exact keys and key prefixes are
-- one index seek each. There is no index by child: a child's old keys are
-- recomputed from its old record when it changes. No foreign key either:
-- children are never deleted, and the check would cost every bulk insert.

-- +goose Up
CREATE TABLE child_match_keys (
    key      TEXT NOT NULL,
    child_id INTEGER NOT NULL,
    PRIMARY KEY (key, child_id)
) WITHOUT ROWID;

-- +goose Down
DROP TABLE child_match_keys;
