package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/postgres"
	"github.com/pinfold/pinfold/sqlite"
)

// store is every store interface, on the database --database names.
type store interface {
	pinfold.AppStore
	pinfold.EndpointStore
	pinfold.SegmentStore
	pinfold.ImportJobStore
	pinfold.KeyStore
	pinfold.ExportJobStore
	Ping(ctx context.Context) error
	Close() error
}

// isPostgres reports whether a --database value names a PostgreSQL server.
func isPostgres(url string) bool {
	return strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://")
}

// openStore opens (and migrates) the database: PostgreSQL for a postgres:// URL, else SQLite
// in the data folder.
func openStore(ctx context.Context, cfg Config) (store, error) {
	if isPostgres(cfg.Database) {
		db := postgres.NewDB(cfg.Database)
		if err := db.Open(ctx); err != nil {
			return nil, fmt.Errorf("open PostgreSQL: %w", err)
		}
		return db, nil
	}
	db := sqlite.NewDB(filepath.Join(cfg.Data, "pinfold.db"))
	db.CacheBytes = cfg.SQLiteCache
	if err := db.Open(); err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	return db, nil
}
