-- Export projects of the analysts' de-identified exports (issue 15, ADR
-- 0026): each project has its own key for the pseudonymous IDs, so that
-- records link across the exports of one project and to nothing else.

-- +goose Up
CREATE TABLE export_projects (
    name        TEXT PRIMARY KEY,
    hash_key    TEXT NOT NULL,           -- hex, 32 random bytes; never shown
    created_by  INTEGER REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL
);

-- The dashboards' period filters and closings by month (issue 15).
CREATE INDEX cases_created ON cases (created_at, id);
CREATE INDEX cases_closed ON cases (closed_at, id) WHERE closed_at IS NOT NULL;

-- +goose Down
DROP INDEX cases_closed;
DROP INDEX cases_created;
DROP TABLE export_projects;
