package importer_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold/internal/testserver"
	"go.uber.org/goleak"
)

// heapInUse returns HeapInuse after a full collection.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// rss returns the process's resident memory in bytes (0 where /proc is missing): SQLite's
// memory is outside the Go heap.
func rss() uint64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, resident uint64
	fmt.Sscan(string(data), &size, &resident)
	return resident * uint64(os.Getpagesize())
}

// settledGoroutines waits up to a second for the goroutine count to fall to want or below
// (connections and timers wind down) and returns the last count.
func settledGoroutines(want int) int {
	n := runtime.NumGoroutine()
	for deadline := time.Now().Add(time.Second); n > want && time.Now().Before(deadline); n = runtime.NumGoroutine() {
		time.Sleep(10 * time.Millisecond)
	}
	return n
}

// TestSoak runs small imports one after another on one server: every one completes with
// exact counters, the heap in use (after GC) and the goroutine count come back to where they
// were after the first imports, and once the server stops no goroutine is left (goleak). The
// normal suite runs 50 imports; PINFOLD_LONG_TESTS=1 runs 1,000. Not parallel: it counts the
// process's goroutines and heap.
func TestSoak(t *testing.T) {
	imports := 50
	if os.Getenv("PINFOLD_LONG_TESTS") == "1" {
		imports = 1000
	}
	// Registered first, so it runs last: after the server's own cleanup has stopped it. Keep-
	// alive connections of the test's HTTP clients are the clients', not the server's.
	t.Cleanup(func() {
		goleak.VerifyNone(t, goleak.IgnoreCurrent(),
			goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
			goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
			goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
	})
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	const rows = 200
	var csv strings.Builder
	csv.WriteString("Id,ChannelType,Address,Attributes.n\n")
	for i := range rows {
		fmt.Fprintf(&csv, "soak-%d,EMAIL,soak%d@example.com,%d\n", i, i, i)
	}
	s.Put(t, "imports", "soak.csv", []byte(csv.String()))

	run := func(i int) {
		j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/soak.csv"),
			RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(i%10 == 0)})
		wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, rows, 0})
	}
	const warmup = 5
	for i := range warmup {
		run(i)
	}
	heap0, g0, rss0 := heapInUse(), settledGoroutines(0), rss()
	start := time.Now()
	peak := heap0
	for i := warmup; i < imports; i++ {
		run(i)
		if i%50 == 0 {
			peak = max(peak, heapInUse())
		}
	}
	took := time.Since(start)
	heap1, g1, rss1 := heapInUse(), settledGoroutines(g0), rss()
	t.Logf("%d imports of %d rows in %v (%v each): heap in use %.1f MB after the first %d, %.1f MB peak, %.1f MB at the end; "+
		"goroutines %d then %d; resident memory %.1f MB then %.1f MB",
		imports, rows, took.Round(time.Millisecond), (took / time.Duration(imports-warmup)).Round(time.Millisecond),
		float64(heap0)/(1<<20), warmup, float64(peak)/(1<<20), float64(heap1)/(1<<20), g0, g1, float64(rss0)/(1<<20), float64(rss1)/(1<<20))
	if g1 > g0+2 {
		t.Errorf("goroutines grew from %d to %d over %d imports", g0, g1, imports)
	}
	if heap1 > heap0+8<<20 {
		t.Errorf("heap in use grew from %d to %d bytes over %d imports", heap0, heap1, imports)
	}
}
