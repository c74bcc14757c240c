-- +goose Up
-- The contact totals' deltas of inserted contacts and categories are
-- written once a statement, not once a row (ADR 0042): a group-commit
-- batch inserts its contacts, and their categories, many rows a
-- statement, and a row-level PL/pgSQL trigger cost the server more per
-- contact than the contact's own insert. The statement's new rows are
-- counted by month, dimension and key into one delta row each, which adds
-- up to what the row-level trigger wrote (the totals sum n). Updates and
-- deletes keep their row-level triggers (contacts_agg,
-- contact_categories_agg, migration 00023). SQLite has no statement-level
-- triggers and keeps its row-level ones.

-- +goose StatementBegin
CREATE FUNCTION contacts_agg_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO contact_count_delta
    SELECT v.month, v.dim, v.key, COUNT(*)
    FROM new_rows r
    CROSS JOIN LATERAL (SELECT r.received_at AT TIME ZONE 'Asia/Baku' AS at) b
    CROSS JOIN LATERAL (VALUES
        (to_char(b.at, 'YYYY-MM'), 'channel', r.channel),
        (to_char(b.at, 'YYYY-MM'), 'hour', to_char(b.at, 'HH24')),
        (to_char(b.at, 'YYYY-MM'), 'wday', CAST(CAST(EXTRACT(DOW FROM b.at) AS INTEGER) AS TEXT))) v (month, dim, key)
    GROUP BY v.month, v.dim, v.key;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION contact_categories_agg_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The contact's month by a subquery a row, an index probe: a join with
    -- the transition table, which has no statistics, is planned as a scan
    -- of every contact.
    INSERT INTO contact_count_delta
    SELECT x.month, 'category', x.code, COUNT(*)
    FROM (SELECT g.code, (SELECT to_char(t.received_at AT TIME ZONE 'Asia/Baku', 'YYYY-MM') FROM contacts t WHERE t.id = g.contact_id) AS month
          FROM new_rows g) x
    WHERE x.month IS NOT NULL
    GROUP BY x.month, x.code;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

DROP TRIGGER contacts_agg_insert_delete ON contacts;
CREATE TRIGGER contacts_agg_delete AFTER DELETE ON contacts FOR EACH ROW EXECUTE FUNCTION contacts_agg();
CREATE TRIGGER contacts_agg_insert AFTER INSERT ON contacts REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contacts_agg_inserted();

DROP TRIGGER contact_categories_agg ON contact_categories;
CREATE TRIGGER contact_categories_agg AFTER DELETE OR UPDATE OF contact_id, code ON contact_categories
    FOR EACH ROW EXECUTE FUNCTION contact_categories_agg();
CREATE TRIGGER contact_categories_agg_insert AFTER INSERT ON contact_categories REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION contact_categories_agg_inserted();

-- +goose Down
DROP TRIGGER contact_categories_agg_insert ON contact_categories;
DROP TRIGGER contact_categories_agg ON contact_categories;
CREATE TRIGGER contact_categories_agg AFTER INSERT OR DELETE OR UPDATE OF contact_id, code ON contact_categories
    FOR EACH ROW EXECUTE FUNCTION contact_categories_agg();
DROP TRIGGER contacts_agg_insert ON contacts;
DROP TRIGGER contacts_agg_delete ON contacts;
CREATE TRIGGER contacts_agg_insert_delete AFTER INSERT OR DELETE ON contacts FOR EACH ROW EXECUTE FUNCTION contacts_agg();
DROP FUNCTION contact_categories_agg_inserted();
DROP FUNCTION contacts_agg_inserted();
