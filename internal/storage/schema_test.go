package storage_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"dayaq/internal/storage"
	"dayaq/internal/storage/storagetest"
)

// schema is what both engines must agree on after migration: the tables,
// each column and whether it may be NULL, each CHECK (col IN (…)) list, and
// the named indexes.
type schema struct {
	columns map[string]string   // "table.column" → "null" / "not null"
	checks  map[string][]string // "table.column" → allowed values, sorted
	indexes map[string]string   // index name → its table
}

func newSchema() schema {
	return schema{columns: map[string]string{}, checks: map[string][]string{}, indexes: map[string]string{}}
}

// sqliteIn matches "col IN ('a', 'b')" in SQLite's stored CREATE TABLE text.
var sqliteIn = regexp.MustCompile(`(?i)\b([a-z_]+)\s+IN\s*\(\s*('[^)]*')\s*\)`)

// pgAny matches "(col = ANY (ARRAY['a'::text, …]))" as pg_get_constraintdef prints a CHECK IN.
var pgAny = regexp.MustCompile(`\(\(?([a-z_]+)\)?(?:::text)?\s*=\s*ANY\s*\(\(?ARRAY\[([^\]]*)\]`)

var quoted = regexp.MustCompile(`'([^']*)'`)

func values(list string) []string {
	var vs []string
	for _, m := range quoted.FindAllStringSubmatch(list, -1) {
		vs = append(vs, m[1])
	}
	slices.Sort(vs)
	return vs
}

func readSQLite(t *testing.T, dsn string) schema {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newSchema()
	rows, err := db.Query(`SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	type table struct{ name, sql string }
	var tables []table
	for rows.Next() {
		var tb table
		if err := rows.Scan(&tb.name, &tb.sql); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, tb)
	}
	rows.Close()
	for _, tb := range tables {
		cols, err := db.Query(`SELECT name, "notnull", pk FROM pragma_table_info(?)`, tb.name)
		if err != nil {
			t.Fatal(err)
		}
		for cols.Next() {
			var name string
			var notNull, pk int
			if err := cols.Scan(&name, &notNull, &pk); err != nil {
				t.Fatal(err)
			}
			n := "null"
			if notNull == 1 || pk > 0 {
				n = "not null"
			}
			s.columns[tb.name+"."+name] = n
		}
		cols.Close()
		for _, m := range sqliteIn.FindAllStringSubmatch(tb.sql, -1) {
			s.checks[tb.name+"."+strings.ToLower(m[1])] = values(m[2])
		}
	}
	ix, err := db.Query(`SELECT name, tbl_name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_autoindex_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for ix.Next() {
		var name, tbl string
		if err := ix.Scan(&name, &tbl); err != nil {
			t.Fatal(err)
		}
		s.indexes[name] = tbl
	}
	return s
}

func readPostgres(t *testing.T, dsn string) schema {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s := newSchema()
	rows, err := db.Query(`SELECT table_name, column_name, is_nullable FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name <> 'goose_db_version'`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var tb, col, nullable string
		if err := rows.Scan(&tb, &col, &nullable); err != nil {
			t.Fatal(err)
		}
		n := "null"
		if nullable == "NO" {
			n = "not null"
		}
		s.columns[tb+"."+col] = n
	}
	rows.Close()
	cs, err := db.Query(`SELECT c.conrelid::regclass::text, pg_get_constraintdef(c.oid) FROM pg_constraint c
		JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND c.contype = 'c'`)
	if err != nil {
		t.Fatal(err)
	}
	for cs.Next() {
		var tb, def string
		if err := cs.Scan(&tb, &def); err != nil {
			t.Fatal(err)
		}
		for _, m := range pgAny.FindAllStringSubmatch(def, -1) {
			s.checks[tb+"."+m[1]] = values(m[2])
		}
	}
	cs.Close()
	// Named indexes only: not those PostgreSQL makes for a primary key or a
	// UNIQUE constraint (SQLite's sqlite_autoindex_*).
	ix, err := db.Query(`SELECT i.relname, t.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
		JOIN pg_class t ON t.oid = x.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
		WHERE n.nspname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)`)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	for ix.Next() {
		var name, tbl string
		if err := ix.Scan(&name, &tbl); err != nil {
			t.Fatal(err)
		}
		s.indexes[name] = tbl
	}
	return s
}

func diff[V any](t *testing.T, what string, lite, pg map[string]V) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(lite))
	for k := range pg {
		if _, ok := lite[k]; !ok {
			keys = append(keys, k)
		}
	}
	for _, k := range keys {
		l, lok := lite[k]
		p, pok := pg[k]
		switch {
		case !lok:
			t.Errorf("%s %s: on PostgreSQL only (%v)", what, k, p)
		case !pok:
			t.Errorf("%s %s: on SQLite only (%v)", what, k, l)
		case fmt.Sprint(l) != fmt.Sprint(p):
			t.Errorf("%s %s: SQLite %v, PostgreSQL %v", what, k, l, p)
		}
	}
}

// After every migration the two engines have the same tables and columns,
// the same nullability, the same CHECK lists and the same named indexes:
// a migration written for one engine and forgotten, or written
// differently, for the other fails here.
func TestSchemasAgree(t *testing.T) {
	ctx := context.Background()
	var got [2]schema
	for i, e := range storagetest.Engines() {
		dsn := e.DSN(t)
		db, err := storage.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if e.Name == storage.SQLite {
			got[i] = readSQLite(t, dsn)
		} else {
			got[i] = readPostgres(t, dsn)
		}
	}
	lite, pg := got[0], got[1]
	if len(lite.columns) < 100 || len(lite.checks) < 10 || len(lite.indexes) < 20 {
		t.Fatalf("SQLite schema read too small: %d columns, %d checks, %d indexes", len(lite.columns), len(lite.checks), len(lite.indexes))
	}
	if len(pg.checks) < 10 || len(pg.indexes) < 20 {
		t.Fatalf("PostgreSQL schema read too small: %d checks, %d indexes", len(pg.checks), len(pg.indexes))
	}
	diff(t, "column", lite.columns, pg.columns)
	diff(t, "check", lite.checks, pg.checks)
	diff(t, "index", lite.indexes, pg.indexes)
}
