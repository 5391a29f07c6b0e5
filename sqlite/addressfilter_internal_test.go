package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// TestAddressFilterBloom checks that a filter holds every hash added to it, counts a hash
// added again once, and answers "maybe" for about 1% of others at capacity.
func TestAddressFilterBloom(t *testing.T) {
	const n = 100_000
	f := &addressFilter{words: make([]uint64, (n*filterBitsPerHash+63)/64), capacity: n}
	rng := rand.New(rand.NewPCG(3, 4))
	added := make([]int64, n)
	for i := range added {
		added[i] = rng.Int64()
		f.add(added[i])
	}
	for _, h := range added {
		if !f.mayHold(h) {
			t.Fatalf("hash %d was added but is not held", h)
		}
	}
	hashes := f.hashes
	for _, h := range added[:1000] {
		f.add(h)
	}
	if f.hashes != hashes || hashes < n*99/100 {
		t.Errorf("%d hashes counted for %d added, %d after adding 1,000 of them again", hashes, n, f.hashes)
	}
	falsePositives := 0
	for range n {
		if f.mayHold(rng.Int64()) {
			falsePositives++
		}
	}
	if rate := float64(falsePositives) / n; rate > 0.02 {
		t.Errorf("%.2f%% false positives at capacity, want about 1%%", 100*rate)
	}
}

// TestAddressFiltersInStore checks the filters as PutEndpoints uses them: an address stored
// before a restart, or in an app whose filter was dropped for another's, still makes the
// endpoints that had it INACTIVE; an API-sized write builds no filter; a filter takes the
// room only of idle ones; an app whose filter does not fit has none and still follows the
// rule; a filter is built again past its capacity, and deleting an app drops them all.
func TestAddressFiltersInStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pinfold.db")
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	for _, app := range []string{"a", "b", "c", "d"} {
		if err := db.CreateApp(ctx, &pinfold.App{ID: app, Name: app, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	// put writes endpoint id with address, in a batch of filterMinBatch addresses (an
	// import's) unless alone.
	put := func(app, id, address string, alone bool) {
		t.Helper()
		batch := []*pinfold.Endpoint{{AppID: app, ID: id, ChannelType: "EMAIL", Address: address, EndpointStatus: "ACTIVE"}}
		for i := 1; i < filterMinBatch && !alone; i++ {
			filler := fmt.Sprintf("%s-%d", id, i)
			batch = append(batch, &pinfold.Endpoint{AppID: app, ID: filler, ChannelType: "EMAIL", Address: filler + "@example.com", EndpointStatus: "ACTIVE"})
		}
		if err := db.UpdateEndpoints(ctx, app, func(tx pinfold.EndpointTx) error { return tx.PutEndpoints(ctx, batch) }); err != nil {
			t.Fatal(err)
		}
	}
	wantStatus := func(app, id, status string) {
		t.Helper()
		e, err := db.FindEndpoint(ctx, app, id)
		if err != nil || e.EndpointStatus != status {
			t.Fatalf("%s/%s = %+v, %v; want %s", app, id, e, err, status)
		}
	}
	appKey := func(app string) int64 {
		t.Helper()
		var key int64
		if err := db.read.QueryRowContext(ctx, `SELECT seq FROM apps WHERE id = ?`, app).Scan(&key); err != nil {
			t.Fatal(err)
		}
		return key
	}
	filter := func(app string) *addressFilter { return db.addresses.apps[appKey(app)] }
	// has reports whether app has a filter; describe says what app has, for messages.
	has := func(app string) bool { f := filter(app); return f != nil && f.words != nil }
	describe := func(app string) string {
		switch f := filter(app); {
		case f == nil:
			return "nothing"
		case f.words == nil:
			return "no filter until " + f.retry.Format(time.RFC3339)
		default:
			return fmt.Sprintf("a filter of %d bits, %d hashes, capacity %d", len(f.words)*64, f.hashes, f.capacity)
		}
	}
	x := keyHash("x@example.com").(int64)

	put("d", "d1", "x@example.com", true)
	if filter("d") != nil {
		t.Fatalf("an API-sized write left %s", describe("d"))
	}
	put("a", "a1", "x@example.com", false)
	if !has("a") || !filter("a").mayHold(x) || filter("a").mayHold(keyHash("y@example.com").(int64)) {
		t.Fatalf("app a after its first import batch: %s", describe("a"))
	}
	put("a", "a0", "y@example.com", true) // an API write adds to the filter
	if !filter("a").mayHold(keyHash("y@example.com").(int64)) {
		t.Fatal("an API write's address is not in the app's filter")
	}

	// After a restart the filter is built from the index.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	put("a", "a2", "x@example.com", false)
	wantStatus("a", "a1", "INACTIVE")
	wantStatus("a", "a2", "ACTIVE")

	// Room for one filter: b waits while a's is in use, then takes its room once it is idle,
	// and a, writing again at once, has none; the rule holds throughout.
	clock := time.Now()
	db.addresses.now = func() time.Time { return clock }
	db.addresses.budget = filterMinHashes*filterBitsPerHash + 64
	put("a", "a3", "x@example.com", false)
	put("b", "b1", "x@example.com", false)
	if !has("a") || filter("b") == nil || has("b") {
		t.Fatalf("with a's filter in use, a has %s and b %s", describe("a"), describe("b"))
	}
	clock = clock.Add(2 * filterIdle)
	put("b", "b2", "x@example.com", false)
	wantStatus("b", "b1", "INACTIVE")
	if filter("a") != nil || !has("b") {
		t.Fatalf("with a's filter idle, a has %s and b %s", describe("a"), describe("b"))
	}
	put("a", "a4", "x@example.com", false)
	wantStatus("a", "a3", "INACTIVE")
	wantStatus("b", "b2", "ACTIVE") // another app
	if filter("a") == nil || has("a") || !has("b") {
		t.Fatalf("after a's write, a has %s and b %s", describe("a"), describe("b"))
	}

	// Past its capacity a filter is built again, from what is stored, sized for twice the
	// hashes the full one took in (without counting the index again).
	db.addresses.budget = 0
	old := filter("b")
	old.hashes = old.capacity + 1
	put("b", "b3", "z@example.com", false)
	if f := filter("b"); f == old || !has("b") || !f.mayHold(x) || f.capacity != 2*(old.capacity+1) {
		t.Fatalf("b past its filter's capacity of %d: %s; want a new filter of capacity %d that holds x",
			old.capacity, describe("b"), 2*(old.capacity+1))
	}

	// No room at all: c has no filter, and the rule holds.
	db.addresses.budget = 64
	put("c", "c1", "x@example.com", false)
	put("c", "c2", "x@example.com", false)
	wantStatus("c", "c1", "INACTIVE")
	if filter("c") == nil || has("c") {
		t.Fatalf("c with no room: %s; want no filter", describe("c"))
	}

	if _, err := db.DeleteApp(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if len(db.addresses.apps) != 0 || db.addresses.bits != 0 {
		t.Fatalf("after DeleteApp: %d filters, %d bits", len(db.addresses.apps), db.addresses.bits)
	}
	db.addresses.budget = 0
	put("b", "b4", "z@example.com", false)
	wantStatus("b", "b3", "INACTIVE")
}
