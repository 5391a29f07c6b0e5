package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/pinfold/pinfold"
)

// A hashFilter is a Bloom filter of the hashes of one column that an app's stored endpoints
// may have, kept by the write connection: a hash it does not hold belongs to no endpoint of
// the app, so the write transaction need not seek an index or a hash table for it. In a
// fresh import nothing is stored yet, and each set's seeks, which then find nothing, were a
// tenth to a fifth of the writer's time (docs/performance.md). The DB keeps three sets of filters:
//   - addresses: before PutEndpoints writes a batch, the app's other endpoints with the
//     batch's addresses become INACTIVE, an UPDATE that seeks the table of address hashes
//     (hashtables.go) for every address of the batch. An address the filter does not hold
//     is left out of the UPDATE, which is skipped when none is left.
//   - ids: an import piece's FindEndpoints reads the stored endpoints of the piece's IDs, to
//     merge the rows into them; it leaves out the IDs the filter does not hold.
//   - users: FindUserEndpoints, for the 15 endpoints a user may have and for rows that only
//     name a user, leaves out the users the filter does not hold.
//
// A filter is built from its index (the key index, or the table of user or address hashes of
// hashtables.go; "the index" below) by the app's first large batch (an import piece's) after
// the process starts (or after it was dropped), inside the write transaction, so it sees every
// committed endpoint and the transaction's own; PutEndpoints, the only writer of endpoints,
// adds the hashes of every endpoint it writes to its app's filters before it writes them.
// What a rolled-back transaction added, or a deleted endpoint left, only makes a filter answer
// "maybe". A filter is sized for twice the hashes stored when it is built. Once it has taken in
// as many new hashes as its newest layer is sized for, it grows a layer as large as all it has
// taken in (a Bloom filter cannot grow in place, and building it again would read the index
// inside the write transaction at every doubling of an import: 3-4% of the writer's time);
// a hash is held when one layer holds it. A filter that small writes filled past twice its
// newest layer's size is built again from the index. The filters of one set share a budget
// of filterBudgetBits: a filter that would not fit takes the room of those idle for
// filterIdle, or is not built (its app's batches seek the index) for that long; an app whose
// filter alone would not fit has none until the process ends or an app is deleted.

const (
	// filterBitsPerHash and filterProbes give about 1% false positives per layer at capacity.
	filterBitsPerHash = 10
	filterProbes      = 7
	// filterMinHashes is the smallest capacity a layer is made with.
	filterMinHashes = 1 << 18
	// filterBudgetBits is the memory of one set's filters together: 4 MiB, 3.3M hashes at
	// capacity.
	filterBudgetBits = 4 << 20 * 8
	// filterMinBatch is the smallest batch of hashes that builds or grows a filter: an import
	// piece's, not an API write's, which would read the app's index for one endpoint.
	filterMinBatch = 1000
	// filterIdle is how long a filter goes unused before another app's may take its room,
	// and how long an app that found no room waits before it tries again.
	filterIdle = time.Minute
)

// hashFilter is one app's Bloom filter of one column's hashes, in layers.
type hashFilter struct {
	layers   [][]uint64 // nil: the app has no filter (it did not fit the budget)
	bits     int        // of all layers
	taken    int        // hashes taken in, stored ones included, that no layer held
	hashes   int        // of them, taken in by the newest layer
	capacity int        // hashes the newest layer holds at filterBitsPerHash
	used     time.Time  // when it was last used
	retry    time.Time  // without layers: when building one may be tried again
}

// newHashFilter returns a filter of one layer for capacity hashes.
func newHashFilter(capacity int) *hashFilter {
	f := &hashFilter{}
	f.grow(capacity)
	return f
}

// layerBits is the size of a layer for capacity hashes.
func layerBits(capacity int) int { return (capacity*filterBitsPerHash + 63) / 64 * 64 }

// grow adds an empty layer for capacity hashes, which takes in the hashes added from now on.
func (f *hashFilter) grow(capacity int) {
	bits := layerBits(capacity)
	f.layers = append(f.layers, make([]uint64, bits/64))
	f.bits += bits
	f.hashes, f.capacity = 0, capacity
}

// mix spreads the bits of a stored hash, which is FNV-1a, with SplitMix64's finalizer; the two
// halves of the result give a layer's probes by double hashing.
func mix(h int64) uint64 {
	x := uint64(h)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// add adds hash h. Only a hash that no layer holds counts towards the capacity, so that
// writing stored endpoints again (a re-import) does not make the filter grow.
func (f *hashFilter) add(h int64) {
	x := mix(h)
	if f.holds(x) {
		return
	}
	words := f.layers[len(f.layers)-1]
	a, b, n := x&0xffffffff, x>>32|1, uint64(len(words))*64
	for i := range uint64(filterProbes) {
		bit := (a + i*b) % n
		words[bit/64] |= 1 << (bit % 64)
	}
	f.taken++
	f.hashes++
}

// mayHold reports whether an endpoint of the app may have a value of hash h.
func (f *hashFilter) mayHold(h int64) bool { return f.holds(mix(h)) }

// holds reports whether a layer holds the mixed hash x.
func (f *hashFilter) holds(x uint64) bool {
	a, b := x&0xffffffff, x>>32|1
layers:
	for _, words := range f.layers {
		n := uint64(len(words)) * 64
		for i := range uint64(filterProbes) {
			if bit := (a + i*b) % n; words[bit/64]&(1<<(bit%64)) == 0 {
				continue layers
			}
		}
		return true
	}
	return false
}

// hashFilters are the filters of one column of the apps, by app key. Only write transactions
// use them.
type hashFilters struct {
	source *filterSource
	mu     sync.Mutex
	apps   map[int64]*hashFilter
	bits   int              // of all filters
	budget int              // bits of all filters at most; 0 is filterBudgetBits
	now    func() time.Time // nil is time.Now
}

// get returns app's filter for a batch of n hashes, or nil when the app has none. A batch of
// at least filterMinBatch (an import's) builds the filter from the index in tx when there is
// none, and grows it when its newest layer holds as many hashes as it is sized for; a
// smaller one (an API write) uses the filter as it is, which is never wrong, only less sure
// past its capacity.
func (fs *hashFilters) get(ctx context.Context, tx *sql.Tx, app int64, n int) (*hashFilter, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	now := time.Now()
	if fs.now != nil {
		now = fs.now()
	}
	f := fs.apps[app]
	switch {
	case f != nil && f.layers != nil && (f.hashes <= f.capacity || n < filterMinBatch):
		f.used = now
		return f, nil
	case n < filterMinBatch, f != nil && f.layers == nil && now.Before(f.retry):
		return nil, nil
	}
	if fs.apps == nil {
		fs.apps = map[int64]*hashFilter{}
	}
	budget := fs.budget
	if budget == 0 {
		budget = filterBudgetBits
	}
	if f != nil && f.layers != nil && f.hashes <= 2*f.capacity {
		// Full: a new layer doubles what the filter holds.
		capacity := max(f.taken, filterMinHashes)
		f.used = now // not idle: the room made below is others'
		if !fs.room(app, f.bits+layerBits(capacity), layerBits(capacity), budget, now) {
			return nil, nil
		}
		f.grow(capacity)
		fs.bits += layerBits(capacity)
		return f, nil
	}
	// None, or one filled past twice its newest layer by small writes: built from the index.
	if f != nil {
		fs.bits -= f.bits
		delete(fs.apps, app)
	}
	var stored int
	if err := tx.QueryRowContext(ctx, fs.source.count, app).Scan(&stored); err != nil {
		return nil, fmt.Errorf("count %s: %w", fs.source.name, err)
	}
	capacity := max(2*stored, filterMinHashes)
	if !fs.room(app, layerBits(capacity), layerBits(capacity), budget, now) {
		return nil, nil
	}
	f = newHashFilter(capacity)
	f.used = now
	rows, err := tx.QueryContext(ctx, fs.source.load, app)
	if err != nil {
		return nil, fmt.Errorf("read the hashes of %s: %w", fs.source.name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var h sql.NullInt64 // NULL: keyHash's hash of "", which no filter holds
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		if h.Valid {
			f.add(h.Int64)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the hashes of %s: %w", fs.source.name, err)
	}
	fs.apps[app] = f
	fs.bits += f.bits
	return f, nil
}

// room makes room for more bits of app's filter, whose size would then be total, by dropping
// filters idle for filterIdle, and reports whether there is room. When there is none, the
// app's filter is dropped and the app marked to go without one: for filterIdle, or while the
// process runs when total alone is over budget. fs.mu is held.
func (fs *hashFilters) room(app int64, total, more, budget int, now time.Time) bool {
	retry := now.Add(filterIdle)
	if total > budget {
		retry = now.Add(1<<63 - 1)
	} else {
		for fs.bits+more > budget {
			if !fs.dropIdle(now) {
				break
			}
		}
		if fs.bits+more <= budget {
			return true
		}
	}
	if f := fs.apps[app]; f != nil {
		fs.bits -= f.bits
	}
	fs.apps[app] = &hashFilter{retry: retry}
	return false
}

// dropIdle drops the filter used least recently if it has been idle for filterIdle, and
// reports whether it did; fs.mu is held.
func (fs *hashFilters) dropIdle(now time.Time) bool {
	var oldest int64
	var of *hashFilter
	for app, f := range fs.apps {
		if f.layers != nil && (of == nil || f.used.Before(of.used)) {
			oldest, of = app, f
		}
	}
	if of == nil || now.Sub(of.used) < filterIdle {
		return false
	}
	fs.bits -= of.bits
	delete(fs.apps, oldest)
	return true
}

// add adds the hashes of the endpoints of app about to be written, when the app has a filter.
func (fs *hashFilters) add(app int64, hashes []int64) {
	fs.adding(app, func(f *hashFilter) {
		for _, h := range hashes {
			f.add(h)
		}
	})
}

// addEach adds the hash of each value that value gives for endpoints (it returns false for
// those that are not app's) when the app has a filter, and hashes nothing otherwise.
func (fs *hashFilters) addEach(app int64, endpoints []*pinfold.Endpoint, value func(*pinfold.Endpoint) (string, bool)) {
	fs.adding(app, func(f *hashFilter) {
		for _, e := range endpoints {
			if v, ok := value(e); ok {
				if h, ok := keyHash64(v); ok {
					f.add(h)
				}
			}
		}
	})
}

// adding calls fn with app's filter, under fs.mu, when the app has one.
func (fs *hashFilters) adding(app int64, fn func(f *hashFilter)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if f := fs.apps[app]; f != nil && f.layers != nil {
		fn(f)
	}
}

// reset drops every filter, as when apps are deleted: they are built again when used.
func (fs *hashFilters) reset() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.apps, fs.bits = nil, 0
}

// filterSource says where a set of filters takes its hashes from: two queries of the
// endpoints of the app whose key is their one argument, through the index or hash table that
// the filters spare. count counts the hashes, and load returns them, int64 each.
type filterSource struct {
	name        string // what the hashes are of, for errors
	count, load string
}

var (
	addressSource = &filterSource{"addresses",
		`SELECT (SELECT count(*) FROM endpoint_addresses WHERE app = ?1) + (SELECT count(*) FROM endpoint_addresses_recent WHERE app = ?1)`,
		`SELECT hash FROM endpoint_addresses WHERE app = ?1 UNION ALL SELECT hash FROM endpoint_addresses_recent WHERE app = ?1`}
	userSource = &filterSource{"users",
		`SELECT (SELECT count(*) FROM endpoint_users WHERE app = ?1) + (SELECT count(*) FROM endpoint_users_recent WHERE app = ?1)`,
		`SELECT hash FROM endpoint_users WHERE app = ?1 UNION ALL SELECT hash FROM endpoint_users_recent WHERE app = ?1`}
	// The key index holds the IDs themselves: they are hashed as the filter needs.
	idSource = &filterSource{"endpoint IDs",
		`SELECT count(*) FROM endpoints INDEXED BY endpoints_key WHERE app = ?`,
		`SELECT pinfold_key_hash(id) FROM endpoints INDEXED BY endpoints_key WHERE app = ?`}
)
