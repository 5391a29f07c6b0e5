package sqlite

import (
	"database/sql/driver"

	sqlitedriver "modernc.org/sqlite"
)

// The indexes on an endpoint's user and address (migration 0007) hold a 64-bit hash of the
// value instead of the value: 9 bytes instead of 40–170 (a user ID, an e-mail address, a
// 163-character FCM token). Imports write these indexes at random, and the smaller they
// are, the fewer pages a commit dirties and the more of them stay cached: a bare loop of
// 1M random-ID upserts measured 35–40% faster with them (docs/performance.md). Two values
// may share a hash, so every query that seeks by hash also compares the value itself.
//
// The hash is FNV-1a, fixed forever: it is stored. pinfold_key_hash(v) is the same function
// in SQL, for migrations.

// keyHash64 is the hash of a user ID or address as the indexes store it, and false for ""
// (NULL, not in the partial index). A variable so that a test can make every value collide.
var keyHash64 = func(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return int64(h), true
}

// keyHash is keyHash64 as a statement's argument: nil (NULL) for "". The filters
// (hashfilter.go) call keyHash64, which does not allocate.
func keyHash(s string) any {
	if h, ok := keyHash64(s); ok {
		return h
	}
	return nil
}

func init() {
	sqlitedriver.MustRegisterDeterministicScalarFunction("pinfold_key_hash", 1, func(_ *sqlitedriver.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return keyHash(v), nil
		case []byte:
			return keyHash(string(v)), nil
		}
		return nil, nil
	})
}
