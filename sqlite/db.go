// Package sqlite is Pinfold's embedded store: every store interface of the root package on
// one SQLite database in the data folder, through the pure-Go modernc.org/sqlite driver.
//
// SQLite has one writer at a time, so the store keeps two pools: one connection for writes
// (callers queue in Go instead of spinning on SQLITE_BUSY) and several for reads, which WAL
// lets run beside the writer. A lock file keeps a second process off the same database, which
// is also what lets Open hand back the work a killed process held.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is an open Pinfold database.
type DB struct {
	Path string
	Now  func() time.Time
	// MaxAttributeNames is how many distinct custom attribute names (endpoint attributes,
	// metrics and user attributes together) each app may use; 0 means
	// pinfold.DefaultMaxAttributeNames. Set it before Open.
	MaxAttributeNames int

	write *sql.DB
	read  *sql.DB
	lock  *os.File
}

// NewDB returns a DB for the database file at path; call Open before use.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: time.Now}
}

// Open locks the database file for this process, opens it, applies pending migrations, and
// returns to the queue the pieces and planning that a previous process left unfinished.
func (db *DB) Open() (err error) {
	if err := os.MkdirAll(filepath.Dir(db.Path), 0o700); err != nil {
		return fmt.Errorf("create database folder: %w", err)
	}
	db.lock, err = os.OpenFile(db.Path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(db.lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		db.lock.Close()
		return fmt.Errorf("database %s is in use by another process", db.Path)
	}
	dsn := "file:" + db.Path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(on)&_txlock=immediate"
	if db.write, err = sql.Open("sqlite", dsn); err != nil {
		return err
	}
	db.write.SetMaxOpenConns(1)
	if db.read, err = sql.Open("sqlite", dsn); err != nil {
		return err
	}
	db.read.SetMaxOpenConns(4)
	if err := db.migrate(context.Background()); err != nil {
		db.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	if err := db.requeueAbandoned(context.Background()); err != nil {
		db.Close()
		return fmt.Errorf("requeue abandoned work: %w", err)
	}
	return nil
}

// Close closes the database and releases its lock.
func (db *DB) Close() error {
	var errs []error
	for _, d := range []*sql.DB{db.read, db.write} {
		if d != nil {
			errs = append(errs, d.Close())
		}
	}
	if db.lock != nil {
		errs = append(errs, db.lock.Close())
	}
	return errors.Join(errs...)
}

func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.write.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
		return err
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Strings(names)
	for _, name := range names {
		version, err := strconv.Atoi(strings.SplitN(filepath.Base(name), "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with a number", name)
		}
		if err := db.writeTx(ctx, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil || n > 0 {
				return err
			}
			text, err := fs.ReadFile(migrations, name)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(text)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES (?)`, version)
			return err
		}); err != nil {
			return err
		}
	}
	return nil
}

// requeueAbandoned hands back what a killed process held: the lock file proves no other
// process uses this database, so every lease still open is a dead one.
func (db *DB) requeueAbandoned(ctx context.Context) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE import_pieces SET state = 'pending', owner = '', lease_until = 0 WHERE state = 'running'`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE import_jobs SET lease_until = 0 WHERE owner <> ''`)
		return err
	})
}

// writeTx runs fn in a write transaction and commits it when fn returns nil.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}
