package sqlite

import (
	"context"
	"database/sql"
	"testing"
	"time"
)

// TestCheckpointer checks that the WAL's pages reach the database file beside the writer:
// commits that change checkpointRows rows, a few hundred pages where the writer's own
// checkpoint waits for walCheckpointPages, are copied by the checkpointer, every frame; and
// that single-row writes leave it idle.
func TestCheckpointer(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	write := func(rows int) {
		t.Helper()
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
