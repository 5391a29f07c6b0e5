package sqlite

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"
)

// TestCheckpointer checks that the WAL's pages reach the database file beside the writer:
// commits that change checkpointRows rows, a few hundred pages where the writer's own
// checkpoint waits for walCheckpointPages, are copied by the checkpointer, every frame; and
// that single-row writes leave it idle.
func TestCheckpointer(t *testing.T) {
	db := openTestDB(t)
	write := func(rows int) { t.Helper(); writeScratch(t, db, rows) }
	// Rows changed before this test's writes (migrations, requeueing) are counted by its
	// first commit: a few, far from checkpointRows.
	write(1)
	passes := func(want int64, within time.Duration) int64 {
		t.Helper()
		deadline := time.Now().Add(within)
		for db.ckpt.passes.Load() < want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		return db.ckpt.passes.Load()
	}

	for range 20 {
		write(1)
	}
	if n := passes(1, 200*time.Millisecond); n != 0 {
		t.Fatalf("21 single-row commits: %d checkpoints, want none", n)
	}

	write(checkpointRows)
	if n := passes(1, 10*time.Second); n != 1 {
		t.Fatalf("a commit of %d rows: %d checkpoints, want 1", checkpointRows, n)
	}
	if n := passes(2, 200*time.Millisecond); n != 1 {
		t.Fatalf("a commit of %d rows: %d checkpoints, want 1", checkpointRows, n)
	}
	last, _ := db.ckpt.last.Load().([2]int64)
	if last[0] < 100 || last[1] != last[0] {
		t.Fatalf("the checkpoint found %d frames in the WAL and copied %d; want at least 100, all copied", last[0], last[1])
	}
}

// writeScratch commits rows rows of about 500 bytes each in one write transaction.
func writeScratch(t *testing.T, db *DB, rows int) {
	t.Helper()
	ctx := context.Background()
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS scratch (n INTEGER, pad TEXT)`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ?)
			INSERT INTO scratch SELECT n, printf('%.500c', 'x') FROM s`, rows)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestWALTruncated checks that the WAL file does not keep the size large writes gave it:
// once the writes that ask the checkpointer for passes stop, it empties the file; while they
// go on, it does not; and a reader that holds frames of the WAL makes it try again later,
// not hold up the writer.
func TestWALTruncated(t *testing.T) {
	// Long enough that a commit of checkpointRows rows, under -race on a loaded machine,
	// comes well within it after the one before.
	const idle = time.Second
	db := openTestDB(t, func(db *DB) { db.idleTruncate = idle })
	wal := func() int64 {
		t.Helper()
		fi, err := os.Stat(db.Path + "-wal")
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	var timeout int
	if err := db.ckpt.conn.QueryRow(`PRAGMA busy_timeout`).Scan(&timeout); err != nil || timeout != int(truncateBusy.Milliseconds()) {
		t.Fatalf("the checkpointer's busy_timeout = %d, %v; want %d", timeout, err, truncateBusy.Milliseconds())
	}

	// Commits that ask for passes, one after the other: no truncation.
	for range 8 {
		writeScratch(t, db, checkpointRows)
	}
	if n := db.ckpt.truncated.Load(); n != 0 {
		t.Fatalf("%d truncations while the writes went on", n)
	}
	if n := wal(); n < 1<<20 {
		t.Fatalf("the WAL after 8 commits of %d rows: %d bytes, want over 1 MiB", checkpointRows, n)
	}

	// A reader that began when every frame was in the database file reads the file alone;
	// once a write adds frames, they cannot be copied under it, and so the WAL cannot be
	// emptied until it ends.
	ctx := context.Background()
	rtx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	var rows int
	if err := rtx.QueryRow(`SELECT count(*) FROM scratch`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	writeScratch(t, db, 1)
	time.Sleep(idle * 3 / 2) // past the first try

	if n := db.ckpt.truncated.Load(); n != 0 || wal() == 0 {
		t.Fatalf("the WAL was truncated under a reader (%d truncations)", n)
	}
	// A write meanwhile waits at most for one try's busy timeout.
	began := time.Now()
	writeScratch(t, db, 1)
	if d := time.Since(began); d > 5*truncateBusy {
		t.Errorf("a write during the tries to truncate took %v", d)
	}
	if err := rtx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// Once the reader is gone, the next try empties the WAL (the count follows the
	// truncation).
	for deadline := time.Now().Add(10 * time.Second); db.ckpt.truncated.Load() == 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no truncation %v after the last write; the WAL is %d bytes", 10*time.Second, wal())
		}
	}
	if n, size := db.ckpt.truncated.Load(), wal(); n != 1 || size != 0 {
		t.Fatalf("%d truncations, want 1; the WAL is %d bytes, want 0", n, size)
	}
	// Every row is still there, and writing goes on.
	writeScratch(t, db, 1)
	if err := db.read.QueryRow(`SELECT count(*) FROM scratch`).Scan(&rows); err != nil || rows != 8*checkpointRows+3 {
		t.Fatalf("rows = %d, %v; want %d", rows, err, 8*checkpointRows+3)
	}
}

// TestCheckpointerStops checks that stop, which Close calls, stops the checkpointer while it
// may be running.
func TestCheckpointerStops(t *testing.T) {
	db := openTestDB(t)
	db.ckpt.changed(checkpointRows)
	if err := db.ckpt.stop(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-db.ckpt.done:
	default:
		t.Fatal("the checkpointer runs after Close")
	}
	db.ckpt.changed(checkpointRows) // after stop: must not send on the closed channel
	if err := db.ckpt.stop(); err != nil {
		t.Fatal(err)
	}
}
