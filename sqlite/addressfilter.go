package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// Before PutEndpoints writes a batch, the app's other endpoints with the batch's addresses
// become INACTIVE: an UPDATE that seeks the index on the address hash for every address of
// the batch. In a fresh import no address is stored yet, and the UPDATE finds nothing for a
// tenth to a fifth of the writer's time (docs/performance.md). An addressFilter is a Bloom
// filter of the address hashes an app's endpoints may have, kept by the write connection:
// an address it does not hold is stored by no endpoint of the app, and is left out of the
// UPDATE, which is skipped when no address is left.
//
// A filter is built from the index by the app's first import batch after the process starts
// (or after it was dropped), inside the write transaction, so it sees every committed
// endpoint and the transaction's own; PutEndpoints, the only writer of endpoints'
// addresses, adds every address it writes to an app's filter, before it writes them. What a
// rolled-back transaction added, or a deleted endpoint left, only makes the filter answer
// "maybe". A filter is sized for twice the addresses stored when it is built, and built
// again once it has taken in as many new hashes as it is sized for. The filters of all apps
// share a budget of filterBudgetBits: a filter that would not fit takes the room of those
// idle for filterIdle, or is not built (its app's batches run the UPDATE) for that long; an
// app whose filter alone would not fit has none until the process ends or an app is deleted.

const (
	// filterBitsPerHash and filterProbes give about 1% false positives at capacity.
	filterBitsPerHash = 10
	filterProbes      = 7
	// filterMinHashes is the smallest capacity a filter is built with.
	filterMinHashes = 1 << 18
	// filterBudgetBits is the memory of all filters together: 4 MiB, a filter of 3.3M
	// addresses at capacity.
	filterBudgetBits = 4 << 20 * 8
	// filterMinBatch is the smallest batch of addresses that builds a filter: an import
	// piece's, not an API write's, which would read the app's index for one address.
	filterMinBatch = 1000
	// filterIdle is how long a filter goes unused before another app's may take its room,
	// and how long an app that found no room waits before it tries again.
	filterIdle = time.Minute
)

// addressFilter is one app's Bloom filter of address hashes.
type addressFilter struct {
	words    []uint64  // nil: the app has no filter (it did not fit the budget)
	hashes   int       // added since it was built, stored ones included, that set a bit
	capacity int       // hashes it holds at filterBitsPerHash; past it, it is built again
	used     time.Time // when it was last used
	retry    time.Time // without words: when building one may be tried again
}

// probes calls fn with the bit index of each of the filter's probes for hash h.
func (f *addressFilter) probes(h int64, fn func(bit uint64)) {
	// The stored hash is FNV-1a; mixing it (SplitMix64's finalizer) spreads its bits, and
	// its two halves give the probes by double hashing.
	x := uint64(h)
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	a, b := x&0xffffffff, x>>32|1
	n := uint64(len(f.words)) * 64
	for i := range uint64(filterProbes) {
		fn((a + i*b) % n)
	}
}

// add adds hash h. Only a hash that sets a new bit counts towards the capacity, so that
// writing stored endpoints again (a re-import) does not make the filter be built again.
func (f *addressFilter) add(h int64) {
	fresh := false
	f.probes(h, func(bit uint64) {
		w, m := &f.words[bit/64], uint64(1)<<(bit%64)
		fresh = fresh || *w&m == 0
		*w |= m
	})
	if fresh {
		f.hashes++
	}
}

// mayHold reports whether an endpoint of the app may have an address of hash h.
func (f *addressFilter) mayHold(h int64) bool {
	all := true
	f.probes(h, func(bit uint64) { all = all && f.words[bit/64]&(1<<(bit%64)) != 0 })
	return all
}

// addressFilters are the filters of the apps, by app key. Only write transactions use them.
type addressFilters struct {
	mu     sync.Mutex
	apps   map[int64]*addressFilter
	bits   int              // of all filters
	budget int              // bits of all filters at most; 0 is filterBudgetBits
	now    func() time.Time // nil is time.Now
}

// get returns app's filter for a batch of n addresses, or nil when the app has none. A
// batch of at least filterMinBatch (an import's) builds the filter from the index in tx when
// there is none or it holds as many hashes as it is sized for; a smaller one (an API write)
// uses the filter as it is, which is never wrong, only less sure past its capacity.
func (fs *addressFilters) get(ctx context.Context, tx *sql.Tx, app int64, n int) (*addressFilter, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	now := time.Now()
	if fs.now != nil {
		now = fs.now()
	}
	f := fs.apps[app]
	switch {
	case f != nil && f.words != nil && (f.hashes <= f.capacity || n < filterMinBatch):
		f.used = now
		return f, nil
	case n < filterMinBatch, f != nil && f.words == nil && now.Before(f.retry):
		return nil, nil
	}
	// A full filter's count of the hashes it took in stands for what is stored (a little
	// more: what rolled-back writes added); otherwise the index is counted, one more pass
	// over it before the one that fills the filter.
	stored := -1
	if f != nil {
		if f.words != nil {
			stored = f.hashes
		}
		fs.bits -= len(f.words) * 64
		delete(fs.apps, app)
	}
	if stored < 0 {
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM endpoints INDEXED BY endpoints_address
			WHERE app = ? AND address_hash IS NOT NULL`, app).Scan(&stored); err != nil {
			return nil, fmt.Errorf("count addresses: %w", err)
		}
	}
	capacity := max(2*stored, filterMinHashes)
	words := (capacity*filterBitsPerHash + 63) / 64
	if fs.apps == nil {
		fs.apps = map[int64]*addressFilter{}
	}
	budget := fs.budget
	if budget == 0 {
		budget = filterBudgetBits
	}
	if words*64 > budget {
		// Too large for the budget: none while the process runs (or until an app is deleted).
		fs.apps[app] = &addressFilter{retry: now.Add(1<<63 - 1)}
		return nil, nil
	}
	// Only filters idle for filterIdle make room: two imports into two large apps at once
	// would otherwise drop each other's at every piece and read their indexes again.
	for fs.bits+words*64 > budget {
		if !fs.dropIdle(now) {
			fs.apps[app] = &addressFilter{retry: now.Add(filterIdle)}
			return nil, nil
		}
	}
	f = &addressFilter{words: make([]uint64, words), capacity: capacity, used: now}
	rows, err := tx.QueryContext(ctx, `SELECT address_hash FROM endpoints INDEXED BY endpoints_address
		WHERE app = ? AND address_hash IS NOT NULL`, app)
	if err != nil {
		return nil, fmt.Errorf("read address hashes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var h int64
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		f.add(h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read address hashes: %w", err)
	}
	fs.apps[app] = f
	fs.bits += words * 64
	return f, nil
}

// dropIdle drops the filter used least recently if it has been idle for filterIdle, and
// reports whether it did; fs.mu is held.
func (fs *addressFilters) dropIdle(now time.Time) bool {
	var oldest int64
	var of *addressFilter
	for app, f := range fs.apps {
		if f.words != nil && (of == nil || f.used.Before(of.used)) {
			oldest, of = app, f
		}
	}
	if of == nil || now.Sub(of.used) < filterIdle {
		return false
	}
	fs.bits -= len(of.words) * 64
	delete(fs.apps, oldest)
	return true
}

// add adds the address hashes of the endpoints of app about to be written, when the app has
// a filter.
func (fs *addressFilters) add(app int64, hashes []any) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	f := fs.apps[app]
	if f == nil || f.words == nil {
		return
	}
	for _, h := range hashes {
		if h, ok := h.(int64); ok {
			f.add(h)
		}
	}
}

// reset drops every filter, as when apps are deleted: they are built again when used.
func (fs *addressFilters) reset() {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.apps, fs.bits = nil, 0
}
