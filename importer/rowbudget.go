package importer

import (
	"context"
	"errors"
	"sync"
)

// rowBudget bounds what the import pieces a node holds at once weigh: the rows of the pieces
// it has claimed, read and not yet committed, plus the stored endpoints each read in its
// transaction, which it holds beside its rows until it ends (a row or a stored endpoint is
// one to two KB of heap: its strings and maps). Pieces beyond the ones the store is writing
// only wait, and when they keep the heap at --memory-limit, the collector runs a dozen times
// a second: on SQLite, four workers re-importing 4 MiB CSV pieces held four pieces of 12,372
// rows and the endpoints of the two being written, and a re-import ran at two thirds of a
// fresh import (docs/performance.md). A worker reserves what the last piece weighed before
// it claims one, and waits while that would not fit; one piece is always let through. Until
// a piece has been read there is no estimate, and pieces go one at a time: eight workers
// starting an import together would otherwise all claim at once, whatever the budget. A
// node that finds no piece to claim forgets its estimate, so that the pieces of a small
// file do not stand for those of a large one imported later.
type rowBudget struct {
	mu      sync.Mutex
	max     int
	held    int           // rows and stored endpoints reserved or read, not yet released
	last    int           // what the last piece read weighed: the next piece's estimate
	changed chan struct{} // closed, and replaced, when held falls or a first estimate is learned
}

func newRowBudget(max int) *rowBudget {
	return &rowBudget{max: max, changed: make(chan struct{})}
}

// errStopped is reserve's error when the importer stops claiming while it waits.
var errStopped = errors.New("the importer is stopping")

// reserve waits until one more piece fits, and reserves its estimate; it returns how much.
// It gives up when ctx ends or stop is closed.
func (b *rowBudget) reserve(ctx context.Context, stop <-chan struct{}) (int, error) {
	for {
		b.mu.Lock()
		// Without an estimate, a piece reserves one row, so that the next worker waits for it.
		if n := max(b.last, 1); b.held == 0 || b.last > 0 && b.held+n <= b.max {
			b.held += n
			b.mu.Unlock()
			return n, nil
		}
		changed := b.changed
		b.mu.Unlock()
		select {
		case <-changed:
		case <-stop:
			return 0, errStopped
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

// settle turns a reservation of reserved rows into the rows a piece read, and learns from
// them; read is 0 when reading failed.
func (b *rowBudget) settle(reserved, read int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	learned := read > 0 && b.last == 0
	if read > 0 {
		b.last = read
	}
	b.add(read - reserved)
	if learned {
		b.wake() // the workers waiting for a first estimate
	}
}

// grow adds n rows (or takes -n back) to a piece's: the stored endpoints it read, which it
// holds beside its own rows until it ends. The next piece's estimate includes them.
func (b *rowBudget) grow(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last += n
	b.add(n)
}

// forget drops the estimate: the next pieces go one at a time until one has been read.
func (b *rowBudget) forget() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.last = 0
}

// release gives back n rows that were reserved, settled or grown.
func (b *rowBudget) release(n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.add(-n)
}

// add changes held by n, waking the waiters when it falls; b.mu is held.
func (b *rowBudget) add(n int) {
	b.held += n
	if n < 0 {
		b.wake()
	}
}

// wake wakes the workers waiting in reserve; b.mu is held.
func (b *rowBudget) wake() {
	close(b.changed)
	b.changed = make(chan struct{})
}
