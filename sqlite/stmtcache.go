package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds a stmtCache: queries built with a varying number of placeholders
// would otherwise add a statement for every length.
const maxCachedStmts = 128

// stmtCache prepares each query once on a pool; database/sql then keeps it prepared on each
// connection that runs it. Parsing a query is most of the cost of a small read in SQLite (half
// of a GetImportJob's time before this cache), so the API's frequent reads go through one.
type stmtCache struct {
	pool  *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, stmts: map[string]*sql.Stmt{}}
}

// stmt returns query prepared on the pool, or nil when the cache is full.
func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.stmts[query]; s != nil {
		return s, nil
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil, nil
	}
	s, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	c.stmts[query] = s
	return s, nil
}

// close closes every statement; call it before closing the pool.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.stmts {
		s.Close()
		delete(c.stmts, q)
	}
}

// cachedQueryer is a queryer whose queries run through a stmtCache: on the cache's pool, or
// in tx when it is not nil (tx must be a transaction of that pool).
type cachedQueryer struct {
	c  *stmtCache
	tx *sql.Tx
}

// plain is what the queries run on without a cached statement.
func (q cachedQueryer) plain() queryer {
	if q.tx != nil {
		return q.tx
	}
	return q.c.pool
}

func (q cachedQueryer) prepared(ctx context.Context, query string) *sql.Stmt {
	s, err := q.c.stmt(ctx, query)
	if err != nil || s == nil {
		return nil // the query runs unprepared, and reports its error itself
	}
	if q.tx != nil {
		return q.tx.StmtContext(ctx, s) // closed with the transaction
	}
	return s
}

func (q cachedQueryer) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if s := q.prepared(ctx, query); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return q.plain().QueryContext(ctx, query, args...)
}

func (q cachedQueryer) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	if s := q.prepared(ctx, query); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return q.plain().QueryRowContext(ctx, query, args...)
}

func (q cachedQueryer) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if s := q.prepared(ctx, query); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return q.plain().ExecContext(ctx, query, args...)
}
