package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pinfold/pinfold/storetest"
)

// TestQueryPlans checks that lookups by a user or an address seek the tables of its hashes
// (migrations 0009 and 0010), each tier, and then each row by its rid, not a walk of the
// app's endpoints, and that a piece's lookups seek once per key.
func TestQueryPlans(t *testing.T) {
	db := openTestDB(t)
	const (
		app   = "SCALAR SUBQUERY %d\nSEARCH apps USING COVERING INDEX sqlite_autoindex_apps_1 (id=?)"
		byRid = "SEARCH e USING INTEGER PRIMARY KEY (rowid=?)"
	)
	for _, tc := range []struct {
		query string
		args  []any
		want  []string // in this order, each a run of the plan's lines
	}{
		{findUserEndpoints, []any{"app", 1, "user"}, []string{
			"SEARCH endpoint_users USING PRIMARY KEY (app=? AND hash=?)\n" + fmt.Sprintf(app, 1) + "\n" + byRid,
			"SEARCH endpoint_users_recent USING PRIMARY KEY (app=? AND hash=?)\n" + fmt.Sprintf(app, 3) + "\n" + byRid}},
		{deleteUserEndpoints, []any{"app", 1, "user"}, []string{
			"SEARCH endpoints USING INTEGER PRIMARY KEY (rowid=?)\nLIST SUBQUERY",
			"SEARCH endpoint_users USING PRIMARY KEY (app=? AND hash=?)",
			"SEARCH endpoint_users_recent USING PRIMARY KEY (app=? AND hash=?)"}},
		{deactivateAddresses, []any{1, "[1]", `["a"]`, `["e"]`}, []string{
			"SEARCH endpoints USING INTEGER PRIMARY KEY (rowid=?)\nLIST SUBQUERY",
			"LEFT-MOST SUBQUERY\nSCAN k VIRTUAL TABLE INDEX 1:\nSEARCH a USING PRIMARY KEY (app=? AND hash=?)",
			"UNION ALL\nSCAN k VIRTUAL TABLE INDEX 1:\nSEARCH a USING PRIMARY KEY (app=? AND hash=?)"}},
		// The keys drive the join: one seek of the index per key, no ephemeral index of them.
		{findEndpoints, []any{"app", `["a","b"]`}, []string{"SCAN k VIRTUAL TABLE INDEX 1:\nSEARCH e USING INDEX endpoints_key (app=? AND id=?)"}},
		{findUsersEndpoints, []any{"app", "[1,2]"}, []string{
			"LEFT-MOST SUBQUERY\nSCAN k VIRTUAL TABLE INDEX 1:\nSEARCH u USING PRIMARY KEY (app=? AND hash=?)\n" + fmt.Sprintf(app, 1) + "\n" + byRid,
			"UNION ALL\nSCAN k VIRTUAL TABLE INDEX 1:\nSEARCH u USING PRIMARY KEY (app=? AND hash=?)\n" + fmt.Sprintf(app, 3) + "\n" + byRid}},
	} {
		rows, err := db.read.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+tc.query, tc.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		rest := text
		for _, want := range tc.want {
			i := strings.Index(rest, want)
			if i < 0 {
				t.Errorf("plan of %s:\n%s\nwant, after what came before it, %s", tc.query, text, want)
				break
			}
			rest = rest[i+len(want):]
		}
	}
}

// TestStoreWithCollidingHashes runs the conformance suite with every user ID and address
// sharing one hash, so that each lookup through the hashed indexes must tell values apart by
// the values themselves. The hash tables merge their tiers every few entries, so that
// lookups, updates and deletes meet entries in both (TestStore's never merge).
func TestStoreWithCollidingHashes(t *testing.T) {
	h := keyHash64
	t.Cleanup(func() { keyHash64 = h }) // after the suite's parallel subtests, unlike defer
	keyHash64 = func(s string) (int64, bool) { return 7, s != "" }
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return openTestDB(t, func(db *DB) { db.hashTierMax = 5 })
	})
}

// TestWriteConnectionPragmas checks that the write connection has the page cache and the WAL
// checkpoint interval Open asks for; SQLite ignores a pragma it cannot parse.
func TestWriteConnectionPragmas(t *testing.T) {
	db := NewDB(filepath.Join(t.TempDir(), "pinfold.db"))
	db.CacheBytes = 3 << 20
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for pragma, want := range map[string]int{"cache_size": -3 << 10, "wal_autocheckpoint": walCheckpointPages} {
		var got int
		if err := db.write.QueryRow("PRAGMA " + pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("PRAGMA %s = %d on the write connection, want %d", pragma, got, want)
		}
	}
}
