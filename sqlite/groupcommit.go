package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pinfold/pinfold"
)

// Pieces that are ready to commit at the same time commit in one transaction.
//
// SQLite has one writer, so an import's workers queue for it: while one piece commits, the
// next ones finish decoding and wait. The first of them to get the write connection commits
// every piece waiting then, in one transaction. Random endpoint IDs make a commit
// write a page of each endpoint index for nearly every row; pieces committed together share
// many of those pages, so a group costs less than its pieces one by one (docs/performance.md).
//
// A piece whose fn fails gets its error and rolls the group's transaction back; the others
// commit again as a group without it. If the transaction fails and no piece did (the commit
// itself may fail), every piece is committed again alone, so that one piece's trouble is never
// another's.
type groupCommit struct {
	mu      sync.Mutex // guards queue
	queue   []*pieceCommit
	leading sync.Mutex   // held by the goroutine committing a group
	groups  atomic.Int64 // groups of more than one piece committed
	pieces  atomic.Int64 // the pieces of those groups
}

type pieceCommit struct {
	ctx  context.Context
	p    *pinfold.Piece
	node string
	fn   func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error)
	err  error
	done bool // guarded by groupCommit.leading
}

// CommitPiece runs fn and completes the piece in one transaction, which it may share with other
// pieces ready at the same time (see groupCommit). fn may run more than once, each time in a
// new transaction.
func (db *DB) CommitPiece(ctx context.Context, p *pinfold.Piece, node string, fn func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error)) error {
	c := &pieceCommit{ctx: ctx, p: p, node: node, fn: fn}
	g := &db.group
	g.mu.Lock()
	g.queue = append(g.queue, c)
	g.mu.Unlock()

	g.leading.Lock()
	defer g.leading.Unlock()
	if c.done { // a group committed before this goroutine's turn took it
		return c.err
	}
	g.mu.Lock()
	group := g.queue // c among them: whoever took the queue before finished it
	g.queue = nil
	g.mu.Unlock()
	db.commitGroup(group)
	return c.err
}

// commitGroup commits the pieces of group and sets each one's err and done.
//
// The group's transaction has no savepoint per piece: SQLite copies every page a savepoint's
// statements change into its sub-journal first, which spills to a temporary file beyond 64 KiB,
// and at 1M endpoints that was two write system calls for each of hundreds of thousands of
// index pages (docs/performance.md). A piece that fails rolls the whole transaction back
// instead, and the pieces that have not failed run again as a group without it.
func (db *DB) commitGroup(group []*pieceCommit) {
	all := group
	finished := false
	defer func() {
		for _, c := range all {
			if !finished && c.err == nil { // fn panicked: nothing of the group committed
				c.err = errors.New("the commit of a group of pieces stopped")
			}
			c.done = true
		}
	}()
	for len(group) > 1 {
		pieceFailed := false
		// The transaction is not bound to any one piece's context: a piece cancelled while it
		// waited is skipped, and one cancelled while it runs fails on its own statements.
		err := db.writeTx(context.Background(), func(tx *sql.Tx) error {
			for _, c := range group {
				if c.err = c.ctx.Err(); c.err != nil {
					continue
				}
				if c.err = checkFull(db.commitPiece(c.ctx, tx, c)); c.err != nil {
					pieceFailed = true
					return c.err
				}
			}
			return nil
		})
		if err == nil {
			db.group.groups.Add(1)
			db.group.pieces.Add(int64(len(group)))
			finished = true
			return
		}
		if !pieceFailed {
			break // the transaction failed, not a piece: each piece goes alone
		}
		group = slices.DeleteFunc(slices.Clone(group), func(c *pieceCommit) bool { return c.err != nil })
	}
	// Nothing of the group committed: each piece that did not fail on its own goes alone.
	for _, c := range group {
		if c.err == nil {
			c.err = db.writeTx(c.ctx, func(tx *sql.Tx) error { return db.commitPiece(c.ctx, tx, c) })
		}
	}
	finished = true
}

// commitPiece is one piece's part of a CommitPiece transaction.
func (db *DB) commitPiece(ctx context.Context, tx *sql.Tx, c *pieceCommit) error {
	if held, err := holdsPiece(ctx, tx, c.p, c.node); err != nil || !held {
		return err
	}
	out, err := c.fn(&pieceTx{endpointTx{tx: tx, db: db}})
	if err != nil {
		return err
	}
	if err := insertFailures(ctx, tx, c.p.JobID, out.Failures); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE import_pieces SET state = 'done', owner = '', lease_until = 0 WHERE job_id = ? AND no = ?`, c.p.JobID, c.p.No); err != nil {
		return fmt.Errorf("complete piece: %w", err)
	}
	_, err = tx.ExecContext(ctx, `UPDATE import_jobs SET completed_pieces = completed_pieces + 1,
		total_processed = total_processed + ?, total_failures = total_failures + ? WHERE id = ?`,
		out.Processed, len(out.Failures), c.p.JobID)
	return err
}
