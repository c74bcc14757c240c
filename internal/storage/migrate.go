package storage

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"
)

// Migrations live beside this file, one directory per engine: the schemas
// are the same in meaning and differ only where the SQL must.
//
//go:embed migrations
var migrationsFS embed.FS

// Migrate brings the schema up to date and reports how many migrations it
// applied. Running it again applies none. On PostgreSQL it holds an advisory
// lock, so replicas starting together migrate once.
func (db *DB) Migrate(ctx context.Context) (int, error) {
	p, err := db.migrator()
	if err != nil {
		return 0, err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return 0, fmt.Errorf("storage.Migrate: %w", err)
	}
	for _, r := range results {
		if r.Source != nil && r.Source.Version == matchKeysMigration {
			// The keys are computed in Go: file the children already there.
			if _, err := db.ReindexMatchKeys(ctx); err != nil {
				return len(results), fmt.Errorf("storage.Migrate: %w", err)
			}
		}
	}
	// A bulk roster load stopped half-way left indexes or keys to build.
	if err := db.finishBulkLoads(ctx, 0); err != nil {
		return len(results), fmt.Errorf("storage.Migrate: %w", err)
	}
	if err := db.seedTaxonomy(ctx); err != nil {
		return len(results), fmt.Errorf("storage.Migrate: %w", err)
	}
	return len(results), nil
}

// SchemaVersion reports the newest applied migration and the newest known.
func (db *DB) SchemaVersion(ctx context.Context) (current, latest int64, err error) {
	p, err := db.migrator()
	if err != nil {
		return 0, 0, err
	}
	if current, err = p.GetDBVersion(ctx); err != nil {
		return 0, 0, fmt.Errorf("storage.SchemaVersion: %w", err)
	}
	sources := p.ListSources()
	if len(sources) > 0 {
		latest = sources[len(sources)-1].Version
	}
	return current, latest, nil
}

// matchKeysMigration creates child_match_keys, which Go fills.
const matchKeysMigration = 6

func (db *DB) migrator() (*goose.Provider, error) {
	dir := "migrations/sqlite"
	dialect := database.DialectSQLite3
	// Out of order: a migration numbered below the newest applied one is
	// still applied (ADR 0037), so a database migrated by a branch whose
	// migration got a higher number takes main's lower ones later.
	opts := []goose.ProviderOption{goose.WithAllowOutofOrder(true)}
	if db.engine == Postgres {
		dir, dialect = "migrations/postgres", database.DialectPostgres
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, fmt.Errorf("storage: migration lock: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	sub, err := fs.Sub(migrationsFS, dir)
	if err != nil {
		return nil, fmt.Errorf("storage: migrations: %w", err)
	}
	p, err := goose.NewProvider(dialect, db.write, sub, opts...)
	if err != nil {
		return nil, fmt.Errorf("storage: migrations: %w", err)
	}
	return p, nil
}
