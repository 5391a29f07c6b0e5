package sqlite

import (
	"context"
	"fmt"
)

// The tables of user and address hashes (migration 0009) stand where two indexes of the
// endpoints table stood. Lookups by a user or an address seek them, then each row by its rid.
//
// Their entries go in two tiers, two tables each since migration 0010: tier 0 has the name,
// tier 1 the name with "_recent". PutEndpoints adds the entries of the rows it inserts to
// tier 1 in one statement per table (indexNewHashes); updates and deletes change entries
// through triggers. Tier 1 stays small, and so in the write connection's cache. Once it holds
// DB.hashTierMax entries, indexNewEndpoints moves them into tier 0, which is as large as all
// the endpoints, in key order: each page of tier 0 is rewritten once for all the commits
// since the last merge. As indexes, every commit of an import's pieces
// rewrote most of their pages, half of the store limit's time (docs/performance.md).

// defaultHashTierMax is the size of tier 1, in entries of both tables together, at which a
// PutEndpoints merges it into tier 0 (DB.hashTierMax, which tests lower). An entry takes about 20 bytes: 2^19 of them fill about
// 2,600 pages of 4 KiB, 10 MiB of the write connection's 48 MiB cache.
const defaultHashTierMax = 1 << 19

// indexNewHashes add the user and address hashes of the endpoint rows past rid ?1 to tier 1
// of their tables. An entry a trigger added first is left. The entries go in as SQLite reads
// the new rows, not sorted by hash first: tier 1 is in the cache, where SQLite's sort of a
// group's entries cost more than it saved the inserts (docs/performance.md, nineteenth
// session).
var indexNewHashes = []string{
	`INSERT OR IGNORE INTO endpoint_users_recent (app, hash, rid)
	SELECT app, user_hash, rid FROM endpoints WHERE rid > ?1 AND user_hash IS NOT NULL`,
	`INSERT OR IGNORE INTO endpoint_addresses_recent (app, hash, rid)
	SELECT app, address_hash, rid FROM endpoints WHERE rid > ?1 AND address_hash IS NOT NULL`,
}

// mergeHashTiers move tier 1 of each table into tier 0, in key order, and empty it (a
// DELETE without WHERE of a table without triggers frees its pages at once).
var mergeHashTiers = []string{
	`INSERT INTO endpoint_users (app, hash, rid) SELECT app, hash, rid FROM endpoint_users_recent`,
	`DELETE FROM endpoint_users_recent`,
	`INSERT INTO endpoint_addresses (app, hash, rid) SELECT app, hash, rid FROM endpoint_addresses_recent`,
	`DELETE FROM endpoint_addresses_recent`,
}

// countHashTier counts the entries in tier 1 of both tables.
const countHashTier = `SELECT (SELECT count(*) FROM endpoint_users_recent) + (SELECT count(*) FROM endpoint_addresses_recent)`

// indexNewEndpoints adds the hashes of the endpoint rows past rid last (those PutEndpoints
// has just inserted) to tier 1, and merges tier 1 into tier 0 once it has grown to
// DB.hashTierMax entries.
func (p *endpointTx) indexNewEndpoints(ctx context.Context, last int64) error {
	added := int64(0)
	for _, q := range indexNewHashes {
		res, err := p.tx.ExecContext(ctx, q, last)
		if err != nil {
			return fmt.Errorf("index the new endpoints: %w", err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		added += n
	}
	// The count is of what was added, whether or not it committed: a transaction that rolls
	// back brings the merge forward, no more.
	if p.db.hashTier.Add(added) < p.db.hashTierMax {
		return nil
	}
	for _, q := range mergeHashTiers {
		if _, err := p.tx.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("merge the hash tables' tiers: %w", err)
		}
	}
	p.db.hashTier.Store(0)
	return nil
}
