-- +goose Up
-- ops_probe is written and emptied by the readiness check after a write
-- failed for want of disk space, to learn whether writes go through again
-- (ADR 0028). It is empty at rest.
CREATE TABLE ops_probe (
    id INTEGER PRIMARY KEY,
    pad TEXT NOT NULL
);

-- +goose Down
DROP TABLE ops_probe;
