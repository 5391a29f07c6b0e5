package sqlite

import (
	"database/sql"
	"path/filepath"
	"testing"
)

// openTestDB opens a new database for t, after setup, closed when t ends, after
// CheckHashTables.
func openTestDB(t testing.TB, setup ...func(db *DB)) *DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pinfold.db")
	db := NewDB(path)
	for _, f := range setup {
		f(db)
	}
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	t.Cleanup(func() { CheckHashTables(t, path) })
	return db
}

// hashTableDifferences counts the entries of the tables of user and address hashes (migrations
// 0009 and 0010, both tiers) that the endpoints do not have, those of the endpoints that the
// tables miss, and the entries in both tiers.
const hashTableDifferences = `SELECT
	(SELECT count(*) FROM (SELECT app, user_hash, rid FROM endpoints WHERE user_hash IS NOT NULL
		EXCEPT SELECT app, hash, rid FROM endpoint_users EXCEPT SELECT app, hash, rid FROM endpoint_users_recent)),
	(SELECT count(*) FROM (SELECT app, hash, rid FROM endpoint_users UNION ALL SELECT app, hash, rid FROM endpoint_users_recent
		EXCEPT SELECT app, user_hash, rid FROM endpoints WHERE user_hash IS NOT NULL)),
	(SELECT count(*) FROM (SELECT app, address_hash, rid FROM endpoints WHERE address_hash IS NOT NULL
		EXCEPT SELECT app, hash, rid FROM endpoint_addresses EXCEPT SELECT app, hash, rid FROM endpoint_addresses_recent)),
	(SELECT count(*) FROM (SELECT app, hash, rid FROM endpoint_addresses UNION ALL SELECT app, hash, rid FROM endpoint_addresses_recent
		EXCEPT SELECT app, address_hash, rid FROM endpoints WHERE address_hash IS NOT NULL)),
	(SELECT count(*) FROM (SELECT app, hash, rid FROM endpoint_users INTERSECT SELECT app, hash, rid FROM endpoint_users_recent)) +
	(SELECT count(*) FROM (SELECT app, hash, rid FROM endpoint_addresses INTERSECT SELECT app, hash, rid FROM endpoint_addresses_recent))`

// CheckHashTables fails t unless the tables of user and address hashes of the database at
// path hold exactly the entries of its endpoints, which PutEndpoints and the triggers of
// migration 0009 keep. The sqlite tests run it on every database they open, as the test ends.
func CheckHashTables(t testing.TB, path string) {
	t.Helper()
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var usersMissing, usersStale, addressesMissing, addressesStale, twice int
	if err := raw.QueryRow(hashTableDifferences).Scan(&usersMissing, &usersStale, &addressesMissing, &addressesStale, &twice); err != nil {
		t.Fatalf("compare the hash tables with the endpoints: %v", err)
	}
	if usersMissing+usersStale+addressesMissing+addressesStale+twice > 0 {
		t.Errorf("hash tables against the endpoints: %d user entries missing, %d stale; %d address entries missing, %d stale; %d in both tiers",
			usersMissing, usersStale, addressesMissing, addressesStale, twice)
	}
}
