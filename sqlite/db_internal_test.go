package sqlite

import (
	"path/filepath"
	"testing"
)

// openTestDB opens a new database for t, closed when t ends.
func openTestDB(t testing.TB) *DB {
	t.Helper()
	db := NewDB(filepath.Join(t.TempDir(), "pinfold.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
