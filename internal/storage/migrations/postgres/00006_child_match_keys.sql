-- Blocking keys for matching a child's name in any script and spelling
-- (internal/match): each child is filed under a few short text keys made of
-- phonetic skeletons and the birth date. The primary key is the index,
-- ordered by key in the C collation (byte order, as in SQLite), so that
-- exact keys and key prefixes are one index-only scan each. There is no
-- index by child: a child's old keys are recomputed from its old record
-- when it changes. No foreign key either: children are never deleted, and
-- the check would cost every bulk insert.

-- +goose Up
CREATE TABLE child_match_keys (
    key      TEXT COLLATE "C" NOT NULL,
    child_id BIGINT NOT NULL,
    PRIMARY KEY (key, child_id)
);

-- +goose Down
DROP TABLE child_match_keys;
