package sqlite

import (
	"context"
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
// endpoints that had it INACTIVE; an app whose filter does not fit the budget has none and
// still follows the rule; a filter is built again past its capacity, and deleting an app
// drops them all.
func TestAddressFiltersInStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pinfold.db")
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer func() { db.Close() }()
	for _, app := range []string{"a", "b", "c"} {
		if err := db.CreateApp(ctx, &pinfold.App{ID: app, Name: app, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	put := func(app, id, address string) {
		t.Helper()
		e := &pinfold.Endpoint{AppID: app, ID: id, ChannelType: "EMAIL", Address: address, EndpointStatus: "ACTIVE"}
		if err := db.UpdateEndpoints(ctx, app, func(tx pinfold.EndpointTx) error { return tx.PutEndpoints(ctx, []*pinfold.Endpoint{e}) }); err != nil {
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
	x := keyHash("x@example.com").(int64)

	put("a", "a1", "x@example.com")
	if f := filter("a"); f == nil || !f.mayHold(x) || f.mayHold(keyHash("y@example.com").(int64)) {
		t.Fatalf("app a's filter after its first write: %+v", f)
	}

	// After a restart the filter is built from the index.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	put("a", "a2", "x@example.com")
	wantStatus("a", "a1", "INACTIVE")
	wantStatus("a", "a2", "ACTIVE")

	// Room for one filter: b's drops a's, and a's drops b's again when a writes.
	db.addresses.budget = filterMinHashes*filterBitsPerHash + 64
	put("b", "b1", "x@example.com")
	if filter("a") != nil || filter("b") == nil {
		t.Fatalf("with room for one filter, a has %+v and b %+v", filter("a"), filter("b"))
	}
	put("a", "a3", "x@example.com")
	wantStatus("a", "a2", "INACTIVE")
	wantStatus("b", "b1", "ACTIVE") // another app
	if filter("a") == nil || filter("b") != nil {
		t.Fatalf("after a's write, a has %+v and b %+v", filter("a"), filter("b"))
	}

	// Past its capacity a filter is built again, from what is stored.
	filter("a").hashes = filter("a").capacity + 1
	put("a", "a4", "z@example.com")
	if f := filter("a"); f.hashes != 2 || !f.mayHold(x) {
		t.Fatalf("rebuilt filter of a: %d hashes, holds x: %v; want 2 (x of a1 to a3, z of a4), true", f.hashes, f.mayHold(x))
	}

	// No room at all: c has no filter, and the rule holds.
	db.addresses.budget = 64
	put("c", "c1", "x@example.com")
	put("c", "c2", "x@example.com")
	wantStatus("c", "c1", "INACTIVE")
	if f := filter("c"); f == nil || f.words != nil {
		t.Fatalf("c's filter with no room: %+v; want an entry without a filter", f)
	}

	if _, err := db.DeleteApp(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if len(db.addresses.apps) != 0 || db.addresses.bits != 0 {
		t.Fatalf("after DeleteApp: %d filters, %d bits", len(db.addresses.apps), db.addresses.bits)
	}
	put("a", "a5", "z@example.com")
	wantStatus("a", "a4", "INACTIVE")
}
