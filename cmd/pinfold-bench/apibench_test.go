package main

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestLoadPastItsDeadline checks that a load whose time has passed before its clients start,
// as a short --api-duration's warm-up can on a loaded machine, still makes one call from each
// client and reports it, rather than having no latency to report; and that a failed call
// fails the load.
func TestLoadPastItsDeadline(t *testing.T) {
	var calls atomic.Int64
	r, err := load(context.Background(), 4, 0, func(context.Context) error {
		calls.Add(1)
		time.Sleep(time.Millisecond)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls.Load() != 4 || r.perSec <= 0 || r.p50 < 1 || r.p99 < r.p50 {
		t.Fatalf("%d calls, %+v; want 4 calls of 1 ms or more", calls.Load(), r)
	}

	failed := errors.New("no")
	if _, err := load(context.Background(), 4, time.Hour, func(context.Context) error { return failed }); !errors.Is(err, failed) {
		t.Fatalf("load of a failing call = %v", err)
	}
}
