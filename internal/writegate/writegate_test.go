package writegate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// gateWaiters waits until g has short and bulk waiters.
func waiters(t *testing.T, g *Gate, short, bulk int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		s, b := g.Waiting()
		if s == short && b == bulk {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d short and %d bulk waiters, want %d and %d", s, b, short, bulk)
		}
	}
}

// order holds g while the waiters of names queue, one after the other, then lets them
// in and returns the order they entered in. A name starting with "b" is a bulk write.
func order(t *testing.T, g *Gate, names ...string) []string {
	t.Helper()
	if err := g.Enter(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var order []string
	var wg sync.WaitGroup
	short, bulk := 0, 0
	for _, name := range names {
		isBulk := name[0] == 'b'
		wg.Go(func() {
			if err := g.Enter(context.Background(), isBulk); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			g.Leave()
		})
		if isBulk {
			bulk++
		} else {
			short++
		}
		waiters(t, g, short, bulk) // in this order
	}
	g.Leave()
	wg.Wait()
	if g.busy || len(g.short) > 0 || len(g.bulk) > 0 {
		t.Fatalf("gate left busy=%v with %d short and %d bulk waiters", g.busy, len(g.short), len(g.bulk))
	}
	return order
}

// TestOrder checks that short writes go before bulk writes, each kind in the order it came.
func TestOrder(t *testing.T) {
	var g Gate
	got := order(t, &g, "b1", "s1", "b2", "s2", "s3")
	if want := []string{"s1", "s2", "s3", "b1", "b2"}; !slices.Equal(got, want) {
		t.Fatalf("entered in order %v, want %v", got, want)
	}
}

// TestShortRun checks that a bulk write waits for at most MaxShortRun short writes.
func TestShortRun(t *testing.T) {
	var g Gate
	names := []string{"b1"}
	for i := range MaxShortRun + 2 {
		names = append(names, fmt.Sprintf("s%d", i))
	}
	got := order(t, &g, names...)
	want := slices.Concat(names[1:MaxShortRun+1], []string{"b1"}, names[MaxShortRun+1:])
	if !slices.Equal(got, want) {
		t.Fatalf("entered in order %v, want %v", got, want)
	}
}

// TestCanceled checks that a waiter whose context ends leaves the queue with its
// error, and that the gate goes on to the next waiter.
func TestCanceled(t *testing.T) {
	var g Gate
	if err := g.Enter(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	canceled := make(chan error)
	go func() { canceled <- g.Enter(ctx, false) }()
	waiters(t, &g, 1, 0)
	entered := make(chan error)
	go func() { entered <- g.Enter(context.Background(), true) }()
	waiters(t, &g, 1, 1)
	cancel()
	if err := <-canceled; !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled waiter: %v, want context.Canceled", err)
	}
	waiters(t, &g, 0, 1)
	g.Leave()
	if err := <-entered; err != nil {
		t.Fatal(err)
	}
	g.Leave()
	if g.busy || len(g.short) > 0 || len(g.bulk) > 0 {
		t.Fatalf("gate left busy=%v with %d short and %d bulk waiters", g.busy, len(g.short), len(g.bulk))
	}
	// A context that has ended before the call still enters a free gate: the caller's own
	// statements report it.
	if err := g.Enter(ctx, false); err != nil {
		t.Fatal(err)
	}
	g.Leave()
}

// TestCancelRace lets contexts end while turns are handed to them: every turn is
// either taken or handed on, so the gate never stays busy with nobody in it.
func TestCancelRace(t *testing.T) {
	var g Gate
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Duration(i%7)*50*time.Microsecond)
			defer cancel()
			if g.Enter(ctx, i%3 == 0) == nil {
				time.Sleep(20 * time.Microsecond)
				g.Leave()
			}
		})
	}
	wg.Wait()
	if err := g.Enter(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	g.Leave()
	if g.busy || len(g.short) > 0 || len(g.bulk) > 0 {
		t.Fatalf("gate left busy=%v with %d short and %d bulk waiters", g.busy, len(g.short), len(g.bulk))
	}
}
