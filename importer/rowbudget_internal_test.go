package importer

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinfold/pinfold/sqlite"
)

// TestRowBudget checks that a claim waits until the rows of one more piece, as large as the
// last one read, fit; that one piece goes through when nothing is held, however large; that
// before any piece is read they go one at a time, and the first read lets the others go; and
// that a wait ends with its context.
func TestRowBudget(t *testing.T) {
	ctx := context.Background()
	b := newRowBudget(100)
	reserve := func() <-chan int {
		got := make(chan int, 1)
		go func() {
			n, err := b.reserve(ctx, nil)
			if err != nil {
				t.Error(err)
			}
			got <- n
		}()
		return got
	}
	waits := func(got <-chan int) {
		t.Helper()
		select {
		case n := <-got:
			t.Fatalf("reserved %d rows with %d of %d held", n, b.held, b.max)
		case <-time.After(50 * time.Millisecond):
		}
	}
	gets := func(got <-chan int, want int) {
		t.Helper()
		select {
		case n := <-got:
			if n != want {
				t.Fatalf("reserved %d rows, want %d", n, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no reservation with %d of %d held", b.held, b.max)
		}
	}

	// The first estimate lets the waiting workers go, as many as fit, without a release.
	gets(reserve(), 1)
	second, third := reserve(), reserve()
	waits(second)
	b.settle(1, 30)
	gets(second, 30)
	gets(third, 30)
	if b.held != 90 {
		t.Fatalf("held %d after three pieces of 30", b.held)
	}

	b = newRowBudget(100)
	gets(reserve(), 1) // nothing read yet: one piece, which holds a row until it is read
	first := reserve() // no estimate: it waits for the first piece's
	waits(first)
	b.settle(1, 60) // 60 held and 60 more would not fit
	waits(first)
	b.release(60)
	gets(first, 60)
	b.settle(60, 60)
	got := reserve()
	waits(got)
	b.release(60)
	gets(got, 60)
	b.settle(60, 500) // a piece larger than the budget
	got = reserve()
	waits(got)
	b.release(500)
	gets(got, 500)   // nothing held: it goes through
	b.settle(500, 0) // reading it failed
	if b.held != 0 || b.last != 500 {
		t.Fatalf("after a failed read: %d held, estimate %d", b.held, b.last)
	}
	gets(reserve(), 500)
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.reserve(canceled, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("reserve with a canceled context = %v", err)
	}
	stop := make(chan struct{})
	close(stop)
	if _, err := b.reserve(ctx, stop); !errors.Is(err, errStopped) {
		t.Fatalf("reserve while stopping = %v", err)
	}
	b.release(500)
	// A piece's stored endpoints count beside its rows, and in the next estimate.
	n, err := b.reserve(ctx, nil)
	if err != nil || n != 500 {
		t.Fatalf("reserve = %d, %v", n, err)
	}
	b.settle(n, 30)
	b.grow(30)
	got = reserve() // 60 held, 60 more would not fit
	waits(got)
	b.release(60)
	gets(got, 60)
	b.release(60)
	if b.held != 0 {
		t.Fatalf("%d rows held at the end", b.held)
	}

	// A forgotten estimate: one piece at a time again, until one is read.
	b.forget()
	gets(reserve(), 1)
	got = reserve()
	waits(got)
	b.settle(1, 10)
	gets(got, 10)
}

// TestIdleWorkerForgetsEstimate checks the call site of forget: a worker whose claim finds no
// piece drops the estimate and holds nothing, and one whose claim fails keeps it (a store
// error says nothing about the next piece's weight).
func TestIdleWorkerForgetsEstimate(t *testing.T) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "pinfold.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	im := &Importer{Store: db, Node: "test"}
	im.setDefaults()
	im.budget = newRowBudget(100)
	im.stopped = make(chan struct{})
	learn := func() {
		t.Helper()
		n, err := im.budget.reserve(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		im.budget.settle(n, 40) // a piece of 40 rows was read…
		im.budget.release(40)   // …and committed
	}

	learn()
	worked, err := im.workImportPiece(ctx)
	if worked || err != nil {
		t.Fatalf("workImportPiece with no piece = %v, %v", worked, err)
	}
	if im.budget.last != 0 || im.budget.held != 0 {
		t.Fatalf("after an idle claim: estimate %d, %d held; want 0, 0", im.budget.last, im.budget.held)
	}

	learn()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if worked, err := im.workImportPiece(ctx); worked || err == nil {
		t.Fatalf("workImportPiece on a closed store = %v, %v; want an error", worked, err)
	}
	if im.budget.last != 40 || im.budget.held != 0 {
		t.Fatalf("after a failed claim: estimate %d, %d held; want 40, 0", im.budget.last, im.budget.held)
	}
}
