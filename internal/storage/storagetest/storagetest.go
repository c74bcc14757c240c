// Package storagetest gives tests real databases: a fresh SQLite file, and a
// fresh database on a throwaway PostgreSQL 15 cluster that it starts itself
// when the server binaries are on the machine. Nothing is mocked.
//
// Without the binaries the PostgreSQL half of a test is skipped with a
// message that says so, unless DAYAQ_REQUIRE_POSTGRES=1, when it fails: CI
// sets it, so CI always runs both engines.
package storagetest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver for admin connections

	"dayaq/internal/storage"
	"dayaq/internal/storage/pgtemp"
)

// PGBin is where Debian puts the PostgreSQL 15 server binaries.
const PGBin = pgtemp.PGBin

// Engine is one database engine a test runs against.
type Engine struct {
	Name storage.Engine
	// DSN makes a fresh, empty database for t and returns its DSN; it skips
	// or fails t when the engine is not available.
	DSN func(t testing.TB) string
}

// Engines returns SQLite and PostgreSQL, in that order.
func Engines() []Engine {
	return []Engine{
		{Name: storage.SQLite, DSN: SQLiteDSN},
		{Name: storage.Postgres, DSN: PostgresDSN},
	}
}

// Each runs fn as a subtest once per engine, with a migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *storage.DB)) {
	t.Helper()
	for _, e := range Engines() {
		t.Run(string(e.Name), func(t *testing.T) {
			fn(t, Open(t, e.DSN(t)))
		})
	}
}

// Open opens and migrates the database at dsn and closes it when t ends.
func Open(t testing.TB, dsn string, opts ...storage.Option) *storage.DB {
	t.Helper()
	ctx := context.Background()
	db, err := storage.Open(ctx, dsn, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", storage.EngineOf(dsn), err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// SQLiteDSN returns the path of a new SQLite file in t's temporary directory.
func SQLiteDSN(t testing.TB) string {
	return filepath.Join(t.TempDir(), "dayaq.db")
}

var (
	clusterOnce sync.Once
	clusterURL  string // admin URL of the shared cluster, "" when none
	clusterErr  error
	clusterStop func()
	dbSeq       atomic.Int64
)

// PostgresDSN creates a new database on the package's throwaway cluster
// (started on first use) and returns its URL.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	if url := os.Getenv("DAYAQ_TEST_POSTGRES_URL"); url != "" {
		return createDatabase(t, url)
	}
	if _, err := os.Stat(filepath.Join(PGBin, "postgres")); err != nil {
		msg := "PostgreSQL 15 server binaries not found in " + PGBin + ": skipping the PostgreSQL run of this test"
		if os.Getenv("DAYAQ_REQUIRE_POSTGRES") == "1" {
			t.Fatal(msg + ", but DAYAQ_REQUIRE_POSTGRES=1 requires it")
		}
		t.Skip(msg + " (install the postgresql package to run it)")
	}
	clusterOnce.Do(func() { clusterURL, clusterStop, clusterErr = pgtemp.Start() })
	if clusterErr != nil {
		t.Fatalf("start throwaway PostgreSQL cluster: %v", clusterErr)
	}
	return createDatabase(t, clusterURL)
}

// Main runs a package's tests and stops the throwaway cluster afterwards.
// Use it from TestMain: func TestMain(m *testing.M) { storagetest.Main(m) }.
func Main(m *testing.M, after ...func() (ok bool)) {
	code := m.Run()
	for _, f := range after { // checks over the whole run (openapitest.Report)
		if !f() && code == 0 {
			code = 1
		}
	}
	if clusterStop != nil {
		clusterStop()
	}
	os.Exit(code)
}

func createDatabase(t testing.TB, adminURL string) string {
	t.Helper()
	name := fmt.Sprintf("dayaq_test_%d_%d", os.Getpid(), dbSeq.Add(1))
	admin, err := sql.Open("pgx", adminURL)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	defer admin.Close()
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	url := strings.Replace(adminURL, "/postgres?", "/"+name+"?", 1)
	t.Cleanup(func() {
		admin, err := sql.Open("pgx", adminURL)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
	})
	return url
}
