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
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
	"modernc.org/sqlite" // the "sqlite" driver, and its errors
	sqlite3 "modernc.org/sqlite/lib"
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
	// ReserveBytes is the size of the reserve file kept beside the database (Path +
	// ".reserve"): when the disk is full, the file is deleted so that a job's failure can
	// still be recorded, and it is made again once there is room. 0 means
	// DefaultReserveBytes; a negative size keeps no reserve. Set it before Open.
	ReserveBytes int64
	// CacheBytes is the page cache of the write connection, which imports write through:
	// the larger, the more of the indexes they write at random stays in memory between
	// transactions. 0 means DefaultCacheBytes. Set it before Open. The first DB opened in a
	// process sizes SQLite's page cache buffer for the process (pagecache.go): its memory is
	// taken at that Open.
	CacheBytes int64

	// write is the pool of the one write connection. Every use of it that may have changed
	// rows ends by counting itself in writes, as exec, writeTx and recordTx do
	// (TestWritesCounted holds the package to them): FindImportJob keeps a job it read only
	// until the count moves.
	write    *sql.DB
	writes   atomic.Uint64 // the uses of write that have ended and may have changed rows
	writeKiB int64         // the write connection's cache_size, in KiB
	read     *sql.DB
	reads    *stmtCache // statements prepared on read
	jobs     stored.JobCache
	polled   jobSnapshots
	group    groupCommit
	lock     *os.File
	// addresses, users and ids are the apps' filters of the hashes of stored addresses, user
	// IDs and endpoint IDs (hashfilter.go), which only write transactions use.
	addresses, users, ids hashFilters
	// hashTier counts the entries added to the hash tables' tier 1 since it was last merged,
	// which merges at hashTierMax (hashtables.go).
	hashTier    atomic.Int64
	hashTierMax int64
	// idleTruncate is how long the checkpointer waits after its last pass before it empties
	// the WAL file (checkpointer.go), which tests lower.
	idleTruncate time.Duration

	// totalChanges is the write connection's total_changes() when a write transaction last
	// asked (changedRows).
	totalChanges int64

	ckpt *checkpointer // copies the WAL beside the writer (checkpointer.go)

	reserveMu    sync.Mutex
	reserveGone  bool      // deleted after a full disk, not yet made again
	reserveTried time.Time // when it was last made (or tried)
}

// readConns is how many read connections a DB keeps open.
const readConns = 4

// DefaultCacheBytes is the write connection's page cache when DB.CacheBytes is 0: see Open.
// 48 MiB made a 1M-row import 7% faster than 16 MiB, and keeps the server under 300 MB of RSS
// during one (docs/performance.md).
const DefaultCacheBytes = 48 << 20

// walCheckpointPages is how many pages the WAL may hold before the writer's commit
// checkpoints it (SQLite's default is 1,000). A group of import pieces writes a page of each
// endpoint index for nearly every row, tens of thousands of pages at a million endpoints; at
// 1,000 the writer copied them after every group. Since the checkpointer (checkpointer.go)
// copies the pages beside the writer, the writer's own checkpoint copies only those of the
// commits since the checkpointer's last pass, and is there to let the WAL start over from its
// beginning, which needs a checkpoint that the writer waits for. Each such start costs the
// writer one group's pages, so it comes seldom: at 100,000 pages (about 400 MiB) instead of
// 30,000, a fresh 1M-row import ran 0% to 17% faster and the store limit -1% to +19% (six
// alternating pairs, docs/performance.md, twentieth session), and the WAL file grew to 445-522 MB
// instead of 194-203 MB at 1M rows, and to 922 MB instead of 406 at 10M.
const walCheckpointPages = 100_000

// DefaultReserveBytes is the size of the reserve file when DB.ReserveBytes is 0.
const DefaultReserveBytes = 8 << 20

// NewDB returns a DB for the database file at path; call Open before use.
func NewDB(path string) *DB {
	return &DB{Path: path, Now: time.Now, addresses: hashFilters{source: addressSource},
		users: hashFilters{source: userSource}, ids: hashFilters{source: idSource}, hashTierMax: defaultHashTierMax,
		idleTruncate: idleTruncate}
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
	db.makeReserve() // best effort: a disk too full for it is full for the database too
	dsnWaiting := func(busy time.Duration) string {
		return "file:" + db.Path + fmt.Sprintf("?_pragma=busy_timeout(%d)&_pragma=journal_mode(WAL)", busy.Milliseconds()) +
			"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(on)&_txlock=immediate"
	}
	dsn := dsnWaiting(10 * time.Second)
	// The one write connection keeps the indexes that imports write at random in its own
	// page cache, from one transaction to the next (no other connection writes), and
	// checkpoints the WAL every walCheckpointPages, which lets it start over (the
	// checkpointer has copied most of its pages by then).
	cache := db.CacheBytes
	if cache <= 0 {
		cache = DefaultCacheBytes
	}
	configurePageCache(cache + readConns*readCacheBytes)
	db.writeKiB = max(cache>>10, 1)
	writeDSN := dsn + fmt.Sprintf("&_pragma=cache_size(%d)&_pragma=wal_autocheckpoint(%d)", -db.writeKiB, walCheckpointPages)
	if db.write, err = sql.Open("sqlite", writeDSN); err != nil {
		return err
	}
	db.write.SetMaxOpenConns(1)
	if db.read, err = sql.Open("sqlite", dsn); err != nil {
		return err
	}
	db.read.SetMaxOpenConns(readConns)
	// Keep them all open: database/sql keeps two idle by default, and a new connection
	// reads the schema and prepares every statement again (a third of GetImportJob's time
	// under 64 clients before this).
	db.read.SetMaxIdleConns(readConns)
	db.read.SetConnMaxIdleTime(0)
	db.reads = newStmtCache(db.read)
	if err := db.migrate(context.Background()); err != nil {
		db.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	var tier int64
	if err := db.write.QueryRow(countHashTier).Scan(&tier); err != nil {
		db.Close()
		return fmt.Errorf("count the hash tables' tier 1: %w", err)
	}
	db.hashTier.Store(tier)
	if db.ckpt, err = newCheckpointer(dsnWaiting(truncateBusy), db.walPath(), db.idleTruncate); err != nil {
		db.Close()
		return err
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
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.stop())
	}
	if db.reads != nil {
		db.reads.close()
	}
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
	if _, err := db.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)`); err != nil {
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

// exec runs one statement that inserts, updates or deletes rows on the write connection, in a
// transaction of its own. A statement that changed no row is not counted in db.writes.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	res, err := db.write.ExecContext(ctx, query, args...)
	if err != nil {
		db.writes.Add(1)
		return nil, err
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		db.writes.Add(1)
	}
	return res, nil
}

// writeTx runs fn in a write transaction and commits it when fn returns nil. A failure
// because the disk is full wraps pinfold.ErrDiskFull. A transaction that changed no row, or
// was rolled back, is not counted in db.writes: the import workers' claims that find nothing
// to do, a few a second on an idle node, would otherwise end every kept read of a job.
func (db *DB) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return checkFull(err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return checkFull(err)
	}
	changed := db.changedRows(ctx, tx)
	err = tx.Commit()
	if changed != 0 || err != nil {
		db.writes.Add(1) // after the commit
	}
	if err != nil {
		return checkFull(err)
	}
	if db.ckpt != nil {
		db.ckpt.changed(changed)
	}
	db.restoreReserve()
	return nil
}

// changedRows returns how many rows the write connection changed since the last write
// transaction that asked, and -1 when it cannot tell. SQLite's total_changes() counts every
// row the connection's statements inserted, updated or deleted, triggers' included; rows
// changed outside writeTx, or in a transaction rolled back, are counted by the next answer.
// tx is on the one write connection, so db.totalChanges has one user at a time.
func (db *DB) changedRows(ctx context.Context, tx *sql.Tx) int64 {
	var total int64
	if err := tx.QueryRowContext(ctx, `SELECT total_changes()`).Scan(&total); err != nil {
		return -1
	}
	changed := total - db.totalChanges
	db.totalChanges = total
	return changed
}

// recordTx is writeTx for the small writes that record a failure. When the disk is full it
// deletes the reserve file and tries once more, holding the one write connection all along so
// that no other writer takes the room the reserve left.
func (db *DB) recordTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	defer db.writes.Add(1)
	conn, err := db.write.Conn(ctx)
	if err != nil {
		return checkFull(err)
	}
	defer conn.Close()
	run := func() error {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return checkFull(err)
		}
		defer tx.Rollback()
		if err := fn(tx); err != nil {
			return checkFull(err)
		}
		return checkFull(tx.Commit())
	}
	err = run()
	if errors.Is(err, pinfold.ErrDiskFull) && db.releaseReserve() {
		err = run()
	}
	return err
}

// checkFull translates SQLite's "database or disk is full" into pinfold.ErrDiskFull.
func checkFull(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) || se.Code()&0xff != sqlite3.SQLITE_FULL {
		return err
	}
	return fmt.Errorf("%w (%v)", pinfold.ErrDiskFull, err)
}

// releaseReserve deletes the reserve file and reports whether there was one.
func (db *DB) releaseReserve() bool {
	db.reserveMu.Lock()
	defer db.reserveMu.Unlock()
	if db.reserveBytes() <= 0 || os.Remove(db.reservePath()) != nil {
		return false
	}
	db.reserveGone, db.reserveTried = true, db.Now()
	return true
}

// restoreReserve makes the reserve file again, at most once a minute, once the disk has room
// for it twice over.
func (db *DB) restoreReserve() {
	db.reserveMu.Lock()
	defer db.reserveMu.Unlock()
	if !db.reserveGone || db.Now().Sub(db.reserveTried) < time.Minute {
		return
	}
	db.reserveTried = db.Now()
	db.reserveGone = db.makeReserve() != nil
}

func (db *DB) reserveBytes() int64 {
	if db.ReserveBytes == 0 {
		return DefaultReserveBytes
	}
	return db.ReserveBytes
}

func (db *DB) reservePath() string { return db.Path + ".reserve" }

// makeReserve writes the reserve file unless it is there, when the disk has room for it
// twice over. Its blocks are written, not sparse, so that deleting it frees real space.
func (db *DB) makeReserve() error {
	size := db.reserveBytes()
	if size <= 0 {
		return nil
	}
	if st, err := os.Stat(db.reservePath()); err == nil && st.Size() >= size {
		return nil
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(filepath.Dir(db.Path), &fs); err != nil {
		return err
	} else if free := int64(fs.Bavail) * int64(fs.Bsize); free < 2*size {
		return fmt.Errorf("make reserve: %d bytes free, want %d", free, 2*size)
	}
	f, err := os.OpenFile(db.reservePath(), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	zeros := make([]byte, 1<<20)
	for written := int64(0); written < size && err == nil; written += int64(len(zeros)) {
		_, err = f.Write(zeros[:min(int64(len(zeros)), size-written)])
	}
	if err = errors.Join(err, f.Close()); err != nil {
		os.Remove(db.reservePath())
	}
	return err
}
