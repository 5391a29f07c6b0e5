package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// TestHashFilterBloom checks that a filter holds every hash added to it, counts a hash
// added again once, answers "maybe" for about 1% of others at capacity, and after growing a
// layer holds what both layers took in, with about 2% false positives once both are full.
func TestHashFilterBloom(t *testing.T) {
	const n = 100_000
	f := newHashFilter(n)
	rng := rand.New(rand.NewPCG(3, 4))
	added := make([]int64, 2*n)
	for i := range added[:n] {
		added[i] = rng.Int64()
		f.add(added[i])
	}
	for _, h := range added[:n] {
		if !f.mayHold(h) {
			t.Fatalf("hash %d was added but is not held", h)
		}
	}
	hashes := f.hashes
	for _, h := range added[:1000] {
		f.add(h)
	}
	if f.hashes != hashes || f.taken != hashes || hashes < n*99/100 {
		t.Errorf("%d hashes counted for %d added, %d (taken %d) after adding 1,000 of them again", hashes, n, f.hashes, f.taken)
	}
	falsePositives := func() float64 {
		positives := 0
		for range n {
			if f.mayHold(rng.Int64()) {
				positives++
			}
		}
		return float64(positives) / n
	}
	if rate := falsePositives(); rate > 0.02 {
		t.Errorf("%.2f%% false positives at capacity, want about 1%%", 100*rate)
	}

	f.grow(n)
	for i := range added[n:] {
		added[n+i] = rng.Int64()
		f.add(added[n+i])
	}
	for _, h := range added {
		if !f.mayHold(h) {
			t.Fatalf("hash %d was added but is not held by a filter of two layers", h)
		}
	}
	if len(f.layers) != 2 || f.bits != 2*layerBits(n) || f.hashes < n*97/100 || f.taken != hashes+f.hashes {
		t.Errorf("after growing: %d layers of %d bits, %d hashes in the new one, %d taken; want 2 of %d bits, about %d, %d",
			len(f.layers), f.bits, f.hashes, f.taken, 2*layerBits(n), n, hashes+f.hashes)
	}
	if rate := falsePositives(); rate > 0.035 {
		t.Errorf("%.2f%% false positives with two layers at capacity, want about 2%%", 100*rate)
	}
}

// TestAddressFiltersInStore checks the filters as PutEndpoints uses them: an address stored
// before a restart, or in an app whose filter was dropped for another's, still makes the
// endpoints that had it INACTIVE; an API-sized write builds no filter; a filter takes the
// room only of idle ones; an app whose filter does not fit has none and still follows the
// rule; a filter grows a layer past its capacity, is built again from the index past twice
// its capacity, is given up when a layer would not fit, and deleting an app drops them all.
func TestAddressFiltersInStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pinfold.db")
	db := openFilterDB(t, path, "a", "b", "c", "d")
	defer func() { db.Close() }()
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
	filter := func(app string) *hashFilter { return db.addresses.apps[appKey(app)] }
	// has reports whether app has a filter; describe says what app has, for messages.
	has := func(app string) bool { f := filter(app); return f != nil && f.layers != nil }
	describe := func(app string) string {
		switch f := filter(app); {
		case f == nil:
			return "nothing"
		case f.layers == nil:
			return "no filter until " + f.retry.Format(time.RFC3339)
		default:
			return fmt.Sprintf("a filter of %d layers, %d bits, %d hashes taken in, %d of a capacity of %d in the newest",
				len(f.layers), f.bits, f.taken, f.hashes, f.capacity)
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
	db = openFilterDB(t, path)
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

	// Past its capacity a filter grows a layer as large as all it took in, without reading
	// the index; past twice its capacity (small writes filled it) it is built again from the
	// index.
	db.addresses.budget = 0
	old := filter("b")
	old.hashes, old.taken = old.capacity+1, 3*filterMinHashes
	put("b", "b3", "z@example.com", false)
	if f := filter("b"); f != old || len(f.layers) != 2 || f.capacity != 3*filterMinHashes || f.hashes < filterMinBatch-1 ||
		!f.mayHold(x) || !f.mayHold(keyHash("z@example.com").(int64)) || db.addresses.bits != f.bits {
		t.Fatalf("b past its filter's capacity: %s, %d bits in the set; want a second layer of capacity %d that took in the batch, and x",
			describe("b"), db.addresses.bits, 3*filterMinHashes)
	}
	old = filter("b")
	old.hashes = 2*old.capacity + 1
	put("b", "b5", "z@example.com", false)
	// b's four batches wrote 4,000 addresses, x and z twice.
	if f := filter("b"); f == old || len(f.layers) != 1 || f.capacity != filterMinHashes || f.taken != 4*filterMinBatch-2 ||
		!f.mayHold(x) || !f.mayHold(keyHash("z@example.com").(int64)) || db.addresses.bits != f.bits {
		t.Fatalf("b past twice its filter's capacity: %s, %d bits in the set; want one built from the index that took in %d addresses",
			describe("b"), db.addresses.bits, 4*filterMinBatch-2)
	}
	wantStatus("b", "b3", "INACTIVE")

	// A layer that would take the filter over the budget: b has none, and the rule holds.
	db.addresses.budget = filter("b").bits + 64
	filter("b").hashes = filter("b").capacity + 1
	put("b", "b6", "z@example.com", false)
	wantStatus("b", "b5", "INACTIVE")
	if filter("b") == nil || has("b") || db.addresses.bits != 0 {
		t.Fatalf("b growing past the budget: %s, %d bits in the set; want no filter", describe("b"), db.addresses.bits)
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
	wantStatus("b", "b6", "INACTIVE")
}

// TestIDAndUserFiltersInStore checks FindEndpoints and FindUserEndpoints with the filters of
// IDs and users: a batch of an import's size builds them; what was stored before they were
// built (or before a restart), what an API write or the same transaction wrote after, and an
// endpoint that moved to another user are all found; and the filters are what decides, so an
// ID or user a filter does not hold is not looked up.
func TestIDAndUserFiltersInStore(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pinfold.db")
	db := openFilterDB(t, path, "a")
	defer func() { db.Close() }()
	endpoint := func(id, user string) *pinfold.Endpoint {
		return &pinfold.Endpoint{AppID: "a", ID: id, ChannelType: "EMAIL", Address: id + "@example.com",
			EndpointStatus: "ACTIVE", User: pinfold.User{UserID: user}}
	}
	update := func(fn func(tx pinfold.EndpointTx) error) {
		t.Helper()
		if err := db.UpdateEndpoints(ctx, "a", fn); err != nil {
			t.Fatal(err)
		}
	}
	put := func(endpoints ...*pinfold.Endpoint) {
		t.Helper()
		update(func(tx pinfold.EndpointTx) error { return tx.PutEndpoints(ctx, endpoints) })
	}
	// batch is filterMinBatch IDs and users (an import piece's) that are not stored, with
	// extra at the front.
	batch := func(extra ...string) []string {
		ids := slices.Clone(extra)
		for i := len(ids); i < filterMinBatch; i++ {
			ids = append(ids, fmt.Sprintf("new-%d", i))
		}
		return ids
	}
	// find looks up a batch of IDs and of users in one transaction, after writing more
	// endpoints in it first when there are any, and returns what was found of extra.
	find := func(extra []string, written ...*pinfold.Endpoint) (ids, users []string) {
		t.Helper()
		update(func(tx pinfold.EndpointTx) error {
			if err := tx.PutEndpoints(ctx, written); err != nil {
				return err
			}
			found, err := tx.FindEndpoints(ctx, "a", batch(extra...))
			if err != nil {
				return err
			}
			byUser, err := tx.FindUserEndpoints(ctx, "a", batch(extra...))
			if err != nil {
				return err
			}
			for _, x := range extra {
				if found[x] != nil {
					ids = append(ids, x)
				}
				if len(byUser[x]) > 0 {
					users = append(users, x)
				}
			}
			return nil
		})
		return ids, users
	}
	app := int64(0)
	if err := db.read.QueryRowContext(ctx, `SELECT seq FROM apps WHERE id = 'a'`).Scan(&app); err != nil {
		t.Fatal(err)
	}
	built := func() bool {
		i, u := db.ids.apps[app], db.users.apps[app]
		return i != nil && i.layers != nil && u != nil && u.layers != nil
	}

	put(endpoint("e1", "u1"))
	if built() {
		t.Fatal("an API-sized write built filters of IDs and users")
	}
	ids, users := find([]string{"e1", "u1"})
	if !built() || !slices.Equal(ids, []string{"e1"}) || !slices.Equal(users, []string{"u1"}) {
		t.Fatalf("first import-sized lookup: filters built %v, found IDs %v and users %v; want e1 and u1", built(), ids, users)
	}
	// Written after the filters were built: by an API write, then earlier in the same
	// transaction; e1 moves to user u3.
	put(endpoint("e2", "u2"))
	ids, users = find([]string{"e1", "e2", "e3", "u1", "u2", "u3"}, endpoint("e3", "u3"), endpoint("e1", "u3"))
	if !slices.Equal(ids, []string{"e1", "e2", "e3"}) || !slices.Equal(users, []string{"u2", "u3"}) {
		t.Fatalf("after more writes: found IDs %v and users %v; want e1 e2 e3, and u2 u3", ids, users)
	}

	// A filter that holds nothing is believed: the lookups find nothing.
	db.ids.apps[app].layers = [][]uint64{make([]uint64, 1<<10)}
	db.users.apps[app].layers = [][]uint64{make([]uint64, 1<<10)}
	if ids, users = find([]string{"e1", "u2"}); len(ids)+len(users) != 0 {
		t.Fatalf("with empty filters, found IDs %v and users %v; want none (the filters are not used)", ids, users)
	}

	// After a restart the filters are built again from the indexes.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = openFilterDB(t, path)
	ids, users = find([]string{"e1", "e2", "e4", "u1", "u2", "u3"})
	if !built() || !slices.Equal(ids, []string{"e1", "e2"}) || !slices.Equal(users, []string{"u2", "u3"}) {
		t.Fatalf("after a restart: found IDs %v and users %v; want e1 e2, and u2 u3", ids, users)
	}
	if _, err := db.DeleteApp(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if len(db.ids.apps)+len(db.users.apps) != 0 {
		t.Fatalf("after DeleteApp: %d filters of IDs, %d of users", len(db.ids.apps), len(db.users.apps))
	}
}

// openFilterDB opens the store at path, and creates apps in it.
func openFilterDB(t *testing.T, path string, apps ...string) *DB {
	t.Helper()
	db := NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	for _, app := range apps {
		if err := db.CreateApp(context.Background(), &pinfold.App{ID: app, Name: app, CreatedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// BenchmarkHashFilter measures a filter's probes as a 1M-endpoint import leaves it (three
// layers): mayHold of hashes it holds (a re-import's lookups), of hashes it does not (a fresh
// import's), and add of hashes it holds (a re-import's writes).
func BenchmarkHashFilter(b *testing.B) {
	f := newHashFilter(filterMinHashes)
	rng := rand.New(rand.NewPCG(5, 6))
	held := make([]int64, 1_000_000)
	for i := range held {
		if f.hashes > f.capacity {
			f.grow(f.taken)
		}
		held[i] = rng.Int64()
		f.add(held[i])
	}
	fresh := make([]int64, len(held))
	for i := range fresh {
		fresh[i] = rng.Int64()
	}
	b.Logf("%d layers, %d bits", len(f.layers), f.bits)
	for _, c := range []struct {
		name   string
		fn     func(h int64)
		hashes []int64
	}{
		{"mayHold/held", func(h int64) { f.mayHold(h) }, held},
		{"mayHold/new", func(h int64) { f.mayHold(h) }, fresh},
		{"add/held", f.add, held},
	} {
		b.Run(c.name, func(b *testing.B) {
			i := 0
			for b.Loop() {
				c.fn(c.hashes[i%len(c.hashes)])
				i++
			}
		})
	}
}
