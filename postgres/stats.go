package postgres

import (
	"context"
	"time"
)

// Stats are the figures of the node's connection pool for an operator (the server's
// /metrics). Import workers, API requests and job scheduling all take their connections from
// it, so a pool too small for them shows as acquires that had to wait.
type Stats struct {
	AcquiredConns     int32 // in use
	IdleConns         int32
	ConstructingConns int32 // being opened
	MaxConns          int32 // the pool's size: pool_max_conns in the URL, else pgx's max(4, CPUs)

	Acquires         int64         // connections taken from the pool
	EmptyAcquires    int64         // of those, the ones that found no idle connection and waited for one
	CanceledAcquires int64         // waits given up because their request or work was cancelled
	AcquireWait      time.Duration // the time all acquires took, waits included

	// The app locks this node's writers took (package comment), and the time they waited
	// for them, first behind the node's earlier writers of the app (appGates), then at the
	// app's row lock behind other nodes': import pieces, and the other writes (the API's,
	// an import job's segment).
	PieceAppLocks, OtherAppLocks       int64
	PieceAppLockWait, OtherAppLockWait time.Duration
}

// Stats returns the pool's figures.
func (db *DB) Stats() Stats {
	st := db.pool.Stat()
	return Stats{
		AcquiredConns: st.AcquiredConns(), IdleConns: st.IdleConns(), ConstructingConns: st.ConstructingConns(),
		MaxConns: st.MaxConns(), Acquires: st.AcquireCount(), EmptyAcquires: st.EmptyAcquireCount(),
		CanceledAcquires: st.CanceledAcquireCount(), AcquireWait: st.AcquireDuration(),
		OtherAppLocks: db.appLocks[0].n.Load(), OtherAppLockWait: time.Duration(db.appLocks[0].wait.Load()),
		PieceAppLocks: db.appLocks[1].n.Load(), PieceAppLockWait: time.Duration(db.appLocks[1].wait.Load()),
	}
}

// Ping runs a query on a connection of the pool: it fails when PostgreSQL cannot be reached,
// or when no connection comes free before ctx ends.
func (db *DB) Ping(ctx context.Context) error {
	var n int64
	return db.pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n)
}
