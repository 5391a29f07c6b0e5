package sqlite

import (
	"context"
	"database/sql"
	"os"
)

// Stats are figures of the database for an operator (the server's /metrics): its files, the
// work of the writer and of the checkpointer, and the waits of its two connection pools.
type Stats struct {
	DatabaseBytes int64 // the database file
	WALBytes      int64 // the WAL file: up to about walCheckpointPages pages during imports, 0 once emptied

	Checkpoints    int64 // the checkpointer's passes (checkpointer.go)
	WALTruncations int64 // the times it emptied the WAL file
	GroupCommits   int64 // transactions that committed several import pieces together (groupcommit.go)
	GroupedPieces  int64 // the pieces they committed

	// Write and Read are the pools' own figures: Write is the one connection every write
	// queues for, and its WaitCount and WaitDuration are how often and how long writes
	// waited for it, behind imports among others.
	Write, Read sql.DBStats

	// ReserveReleased reports that the reserve file was deleted after the disk filled up
	// and has not been made again since: the first write at least a minute later that finds
	// room for it twice over makes it again.
	ReserveReleased bool
}

// Stats returns the database's figures. Sizes are read from the files; a file that cannot be
// read counts as 0 bytes.
func (db *DB) Stats() Stats {
	s := Stats{
		DatabaseBytes: fileSize(db.Path),
		WALBytes:      fileSize(db.walPath()),
		GroupCommits:  db.group.groups.Load(),
		GroupedPieces: db.group.pieces.Load(),
	}
	if db.ckpt != nil {
		s.Checkpoints, s.WALTruncations = db.ckpt.passes.Load(), db.ckpt.truncated.Load()
	}
	if db.write != nil {
		s.Write = db.write.Stats()
	}
	if db.read != nil {
		s.Read = db.read.Stats()
	}
	db.reserveMu.Lock()
	s.ReserveReleased = db.reserveGone
	db.reserveMu.Unlock()
	return s
}

// walPath is the WAL file's path, which SQLite names after the database file.
func (db *DB) walPath() string { return db.Path + "-wal" }

func fileSize(path string) int64 {
	fi, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// Ping reads the database through a read connection: it fails when the file cannot be read,
// or when every read connection stays busy until ctx ends.
func (db *DB) Ping(ctx context.Context) error {
	var n int64
	return db.read.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n)
}
