package sqlite

import (
	"context"
	"database/sql"
	"os"
	"sync"
	"sync/atomic"
	"time"
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
//
// SQLite writes the WAL over from its beginning rather than shrink it: the file kept the size
// of an import's stretch between two of the writer's checkpoints, 445-522 MB after a 1M-row
// import and 922 MB after a 10M-row one, until the server stopped. Once the writes that ask for
// passes have stopped for idleTruncate, the checkpointer empties the file with a TRUNCATE
// checkpoint. Not sooner: a truncated WAL grows again, and SQLite's own limit
// (journal_size_limit, which truncates at the first commit after the WAL starts over) cut it
// during imports, each cut 120-195 ms of the writer's time, and made them slower
// (docs/performance.md, twenty-first session).

// checkpointRows is how many rows the writer's commits change before the checkpointer runs.
// Below it, e.g. between the single endpoints the API writes, the checkpointer stays idle and
// does not sync the files for every few pages.
const checkpointRows = 2_000

// idleTruncate is how long after its last pass the checkpointer waits for another before it
// truncates the WAL; truncateBusy bounds the writer's wait for such a truncation: a TRUNCATE
// checkpoint holds the write lock while it waits for readers of the WAL to finish, and gives
// up past truncateBusy, to try again after twice as long as it waited before, up to 64 times
// idleTruncate (a reader may hold the WAL for minutes, an error may last).
const (
	idleTruncate = 2 * time.Second
	truncateBusy = 100 * time.Millisecond
)

type checkpointer struct {
	conn    *sql.DB
	wal     string        // the WAL file's path
	idle    time.Duration // idleTruncate, which tests lower
	pending atomic.Int64  // rows changed since the last pass was asked for
	kick    chan struct{} // asks for a pass
	done    chan struct{} // closed when run returns

	mu      sync.Mutex // guards stopped and the closing of kick
	stopped bool

	passes    atomic.Int64 // checkpoints run (DB.Stats)
	last      atomic.Value // [2]int64: the last pass's frames in the WAL and frames copied, for tests
	truncated atomic.Int64 // truncations of the WAL (DB.Stats)
}

// newCheckpointer opens the checkpointer's connection with dsn, whose busy timeout should be
// truncateBusy, and starts it. wal is the WAL file's path; idle is idleTruncate, or less in
// tests.
func newCheckpointer(dsn, wal string, idle time.Duration) (*checkpointer, error) {
	conn, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	c := &checkpointer{conn: conn, wal: wal, idle: idle, kick: make(chan struct{}, 1), done: make(chan struct{})}
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
	var idle *time.Timer
	var idleC <-chan time.Time // after a pass, until the WAL is truncated or the next pass
	var wait time.Duration     // until the next try to truncate
	defer func() {
		if idle != nil {
			idle.Stop()
		}
	}()
	for {
		select {
		case _, ok := <-c.kick:
			if !ok {
				return
			}
			// PASSIVE waits for no one: a reader keeps the frames it may still read, and a
			// checkpoint of the writer's own that runs now makes this one return at once. An
			// error (a full disk) leaves the WAL as it was, for the next pass or the writer.
			var busy, log, copied int64
			if err := c.conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err == nil {
				c.last.Store([2]int64{log, copied})
			}
			c.passes.Add(1)
			wait = c.idle
			if idle == nil {
				idle = time.NewTimer(wait)
			} else {
				idle.Reset(wait)
			}
			idleC = idle.C
		case <-idleC:
			idleC = nil
			if !c.truncate() {
				wait = min(2*wait, 64*c.idle)
				idle.Reset(wait)
				idleC = idle.C
			}
		}
	}
}

// truncate copies what is left of the WAL into the database file and empties the WAL, unless
// it is empty already. It reports false when the WAL could not be emptied, because a writer
// or a reader of the WAL held on past truncateBusy.
func (c *checkpointer) truncate() bool {
	if fi, err := os.Stat(c.wal); err != nil || fi.Size() == 0 {
		return true
	}
	// busy is 1 when the write lock or the readers were not had within the busy timeout; an
	// error (a full disk) leaves the WAL as it was, for the next pass.
	var busy, log, copied int64
	err := c.conn.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &log, &copied)
	if err != nil || busy != 0 {
		return false
	}
	c.truncated.Add(1)
	return true
}

// stop waits for a pass or a truncation that runs, and closes the connection.
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
