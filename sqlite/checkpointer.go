package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
)

// A checkpoint copies the pages of the WAL into the database file and syncs both. SQLite runs
// one from the commit that takes the WAL past wal_autocheckpoint pages, on the connection
// that committed: the writer's, which waits for it. At 30,000 pages that was 0.23-0.47 s every
// 1.4 s or so of a fresh import, 4.1 s of a 25 s import at 1M rows; the CPU profiles hardly
// showed it, since most of it is waiting for the disk (docs/performance.md, twentieth session).
//
// The checkpointer copies the pages on a connection of its own, beside the writer, once the
// writer's commits have changed checkpointRows rows since it last ran. The writer's own
// checkpoint still comes, at walCheckpointPages, because only a checkpoint that ends with no
// page written since it began lets the WAL start over from its beginning, and the writer is
// the one that can wait for that; but it copies only what the writer wrote since the
// checkpointer's last pass.

// checkpointRows is how many rows the writer's commits change before the checkpointer runs.
// Below it, e.g. between the single endpoints the API writes, the checkpointer stays idle and
// does not sync the files for every few pages.
const checkpointRows = 2_000

type checkpointer struct {
	conn    *sql.DB
	pending atomic.Int64  // rows changed since the last pass was asked for
	kick    chan struct{} // asks for a pass
	done    chan struct{} // closed when run returns

	mu      sync.Mutex // guards stopped and the closing of kick
	stopped bool

	passes atomic.Int64 // checkpoints run, for tests
	last   atomic.Value // [2]int64: the last pass's frames in the WAL and frames copied, for tests
}

// newCheckpointer opens the checkpointer's connection with dsn and starts it.
func newCheckpointer(dsn string) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go c.run()
	return c, nil
}

// changed records that a commit of the writer changed rows rows, and asks for a pass once
// they add up to checkpointRows. It does not block.
func (c *checkpointer) changed(rows int64) {
	if rows <= 0 || c.pending.Add(rows) < checkpointRows {
		return
	}
	c.pending.Store(0)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stopped {
		return
	}
	select {
	case c.kick <- struct{}{}:
	default: // a pass is asked for already
	}
}

func (c *checkpointer) run() {
	defer close(c.done)
	for range c.kick {
		// PASSIVE waits for no one: a reader keeps the frames it may still read, and a
		// checkpoint of the writer's own that runs now makes this one return at once. An
		// error (a full disk) leaves the WAL as it was, for the next pass or the writer.
		var busy, log, copied int64
		if err := c.conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err == nil {
			c.last.Store([2]int64{log, copied})
		}
		c.passes.Add(1)
	}
}

// stop waits for a pass that runs and closes the connection.
func (c *checkpointer) stop() error {
	c.mu.Lock()
	if c.stopped {
		c.mu.Unlock()
		return nil
	}
	c.stopped = true
	close(c.kick)
	c.mu.Unlock()
	<-c.done
	return c.conn.Close()
}
