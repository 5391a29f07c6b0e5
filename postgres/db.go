// Package postgres is Pinfold's store for production and scale-out: every store interface of
// the root package on PostgreSQL through pgx. Several nodes share one database: pieces are
// claimed with FOR UPDATE SKIP LOCKED, job claims are serialised by an advisory lock so that
// the active-jobs cap holds across nodes, and a node's work has a lease that other nodes take
// over when it stops renewing it.
//
// Every transaction that writes an app's endpoints or segments (an import job's segment
// too), or deletes the app, first locks the app's row (lockApp, through appTx). That serialises the writers of one app across nodes, as
// SQLite's single writer does, so the quotas pinfold.EndpointWriter checks inside a
// transaction (custom attribute names per app, endpoints per user) and the checks of a
// segment's base segments still hold when it commits. A row lock rather than an advisory
// lock: it needs no key scheme, it is released with the transaction whatever happens, and
// it also orders the writers against DeleteApp, which takes the same lock. The lock is
// always taken before any other row lock of the transaction (CommitPiece locks the app
// before its piece), so writers never wait on each other in a circle.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
	"github.com/pinfold/pinfold/internal/writegate"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Advisory lock keys: one serialises migrations, one serialises job claims.
const (
	migrateLock  = 7_360_001
	claimJobLock = 7_360_002
)

// DB is an open Pinfold database on PostgreSQL.
type DB struct {
	URL string
	Now func() time.Time
	// MaxAttributeNames is how many distinct custom attribute names (endpoint attributes,
	// metrics and user attributes together) each app may use; 0 means
	// pinfold.DefaultMaxAttributeNames. Set it before Open; every node should agree.
	MaxAttributeNames int

	pool  *pgxpool.Pool
	jobs  stored.JobCache
	gates appGates
	spare spareHints
	// appLocks counts the app locks appTx took and the time each waited for its lock (its
	// gate and the row lock), for other writes [0] and import pieces [1] (Stats).
	appLocks [2]struct{ n, wait atomic.Int64 }
}

// NewDB returns a DB for the PostgreSQL at url; call Open before use.
func NewDB(url string) *DB {
	return &DB{URL: url, Now: time.Now}
}

// Open connects and applies pending migrations; several nodes may open at once.
func (db *DB) Open(ctx context.Context) error {
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		return fmt.Errorf("database URL: %w", err)
	}
	if db.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return err
	}
	if err := db.pool.Ping(ctx); err != nil {
		db.pool.Close()
		return fmt.Errorf("connect: %w", err)
	}
	if err := db.migrate(ctx); err != nil {
		db.pool.Close()
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Close closes the pool.
func (db *DB) Close() error {
	if db.pool != nil {
		db.pool.Close()
	}
	return nil
}

// migrate applies the embedded migrations in order, each once, under an advisory lock so
// that nodes starting together do not race.
func (db *DB) migrate(ctx context.Context) error {
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, migrateLock); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY)`); err != nil {
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
		err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = $1`, version).Scan(&n); err != nil || n > 0 {
				return err
			}
			text, err := fs.ReadFile(migrations, name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(text)); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, version)
			return err
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// tx runs fn in a transaction and commits it when fn returns nil. The commit itself is not
// cancelled with ctx: a cancellation that arrived while COMMIT was under way would report an
// error for a transaction that did commit (the importer cancels a piece's context as soon as
// it sees the piece done, which can be before pgx has read the server's reply).
func (db *DB) tx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit(context.WithoutCancel(ctx))
}

// appTx runs fn in a transaction that takes appID's lock (lockApp) before anything else:
// every writer of an app's endpoints or segments, and DeleteApp, goes through it (see the
// package comment). The transaction begins once the node's earlier writers of the app have
// ended, in the order of the app's gate (appGates), as an import piece when bulk is set. When
// the app does not exist, fn does not run, and appTx returns what gone says.
func (db *DB) appTx(ctx context.Context, appID string, bulk bool, gone ifGone, fn func(tx pgx.Tx) error) error {
	start := time.Now()
	leave, err := db.gates.enter(ctx, appID, bulk)
	if err != nil {
		return err
	}
	defer leave()
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := lockApp(ctx, tx, appID); err != nil {
			if gone == goneIsNothing && pinfold.ErrorCode(err) == pinfold.ENOTFOUND {
				return nil
			}
			return err
		}
		locks := &db.appLocks[0]
		if bulk {
			locks = &db.appLocks[1]
		}
		locks.n.Add(1)
		locks.wait.Add(int64(time.Since(start)))
		return fn(tx)
	})
}

// ifGone is what appTx returns when the app does not exist.
type ifGone bool

const (
	goneIsNotFound ifGone = false // its ENOTFOUND
	goneIsNothing  ifGone = true  // nil: the app's deletion took with it what fn would write
)

// appGates are the gates (package writegate) of the apps this node writes. PostgreSQL queues
// the transactions that wait for an app's lock in the order they asked, so an API write that
// came during an import waited for every piece of the node queued before it, 1.1–1.2 s at
// the median with four import workers (docs/performance.md). Behind an app's gate the node's
// pieces of the app wait in Go, one at a time at the app's lock, and its other writes of the
// app go before them. Other nodes' writers still queue at the lock itself: one piece per node
// and app at most.
type appGates struct {
	mu    sync.Mutex
	gates map[string]*appGate
}

type appGate struct {
	writegate.Gate
	users int // holders and waiters; the gate is dropped when none is left
}

// enter enters appID's gate and returns the function that leaves it.
func (a *appGates) enter(ctx context.Context, appID string, bulk bool) (leave func(), err error) {
	a.mu.Lock()
	if a.gates == nil {
		a.gates = map[string]*appGate{}
	}
	g := a.gates[appID]
	if g == nil {
		g = &appGate{}
		a.gates[appID] = g
	}
	g.users++
	a.mu.Unlock()
	release := func() {
		a.mu.Lock()
		defer a.mu.Unlock()
		if g.users--; g.users == 0 {
			delete(a.gates, appID)
		}
	}
	if err := g.Enter(ctx, bulk); err != nil {
		release()
		return nil, err
	}
	return func() {
		g.Leave()
		release()
	}, nil
}

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }

// lockApp locks the app's row until tx ends (see the package comment); ENOTFOUND when the
// app does not exist.
func lockApp(ctx context.Context, tx pgx.Tx, appID string) error {
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM apps WHERE id = $1 FOR UPDATE`, appID).Scan(&id)
	if isNoRows(err) {
		return pinfold.Errorf(pinfold.ENOTFOUND, "Application %q not found", appID)
	} else if err != nil {
		return fmt.Errorf("lock app: %w", err)
	}
	return nil
}

func (db *DB) maxAttributeNames() int {
	if db.MaxAttributeNames > 0 {
		return db.MaxAttributeNames
	}
	return pinfold.DefaultMaxAttributeNames
}
