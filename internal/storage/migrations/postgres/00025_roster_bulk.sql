-- +goose Up
-- roster_bulk_pending holds what a bulk load into an empty registry has
-- still to build (ADR 0034): the children's secondary indexes it dropped,
-- each with its CREATE INDEX statement, and (name '', SQLite) the match
-- keys of the children it inserted after from_id. A row is written in the
-- transaction that drops the index, and deleted in the one that builds it
-- again, so a load stopped half-way is finished by the next Migrate or
-- import. It is empty at rest.
CREATE TABLE roster_bulk_pending (
    name      TEXT PRIMARY KEY,
    sql       TEXT NOT NULL,
    from_id   BIGINT NOT NULL DEFAULT 0,
    import_id BIGINT NOT NULL REFERENCES roster_imports (id)
);

-- +goose Down
DROP TABLE roster_bulk_pending;
