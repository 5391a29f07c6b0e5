// Package writegate orders the writers that queue for something only one of them may hold at
// a time, and whose long holders are background work: on PostgreSQL an app's lock, which a
// node's import pieces hold for hundreds of milliseconds each (postgres.appGates).
//
// PostgreSQL queues a row lock's waiters in arrival order, so an API write (UpdateEndpoint,
// CreateSegment…) made during an import waited for every piece queued before it: 1.1–1.2 s at
// the median during a 1M-row import, against 4 ms on an idle server (docs/performance.md).
//
// A Gate has two queues. Short writes go first, in the order they came; bulk writes (import
// pieces) go when no short write waits, in the order they came. A short write then waits at
// most for the bulk write that holds the gate. A stream of short writes cannot keep bulk
// writes out for long: after MaxShortRun of them in a row while a bulk write waits, the bulk
// write goes next.
package writegate

import (
	"context"
	"sync"
)

// MaxShortRun is how many short writes may enter in a row while a bulk write waits. A short
// write takes a millisecond or two, a bulk write hundreds.
const MaxShortRun = 64

// Gate is a lock whose waiters enter in the order above. Its zero value is an open gate.
type Gate struct {
	mu       sync.Mutex
	busy     bool
	short    []chan struct{} // waiters, in order; a waiter's channel is closed when it enters
	bulk     []chan struct{}
	shortRun int // short writes let in since a bulk write last entered, while one waited
}

// Enter waits for the gate: as a bulk write when bulk is set, as a short write otherwise.
// It returns ctx's error, without entering, when ctx ends first; a ctx that has ended still
// enters a free gate, leaving its end to the writes that follow.
func (g *Gate) Enter(ctx context.Context, bulk bool) error {
	g.mu.Lock()
	if !g.busy {
		g.busy = true
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	queue := &g.short
	if bulk {
		queue = &g.bulk
	}
	*queue = append(*queue, turn)
	g.mu.Unlock()
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
	}
	g.mu.Lock()
	for i, c := range *queue {
		if c == turn {
			*queue = append((*queue)[:i], (*queue)[i+1:]...)
			g.mu.Unlock()
			return ctx.Err()
		}
	}
	g.mu.Unlock()
	// The turn came as ctx ended: hand it on.
	<-turn
	g.Leave()
	return ctx.Err()
}

// Leave ends the current turn and gives the gate to the next waiter.
func (g *Gate) Leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	var next chan struct{}
	switch {
	case len(g.short) > 0 && (len(g.bulk) == 0 || g.shortRun < MaxShortRun):
		next, g.short = g.short[0], g.short[1:]
		if len(g.bulk) > 0 {
			g.shortRun++
		}
	case len(g.bulk) > 0:
		next, g.bulk = g.bulk[0], g.bulk[1:]
		g.shortRun = 0
	default:
		g.busy = false
		return
	}
	close(next)
}

// Waiting returns how many short and bulk writes wait to enter.
func (g *Gate) Waiting() (short, bulk int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.short), len(g.bulk)
}
