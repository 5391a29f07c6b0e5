package sqlite

import (
	"context"
	"fmt"
	"os"
	"testing"
	"unsafe"

	"github.com/pinfold/pinfold"
	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// TestMain gives SQLite its page cache buffer before any test opens a connection: some open
// raw ones, and SQLite takes the buffer only before its first.
func TestMain(m *testing.M) {
	configurePageCache(DefaultCacheBytes + readConns*readCacheBytes)
	os.Exit(m.Run())
}

// sqliteStatus reads the current value of sqlite3_status64(op).
func sqliteStatus(t *testing.T, op int32) int64 {
	t.Helper()
	tls := libc.NewTLS()
	defer tls.Close()
	if rc := sqlite3.Xsqlite3_status64(tls, op, uintptr(unsafe.Pointer(&statusValues[0])), uintptr(unsafe.Pointer(&statusValues[1])), 0); rc != sqlite3.SQLITE_OK {
		t.Fatalf("sqlite3_status64(%d): %d", op, rc)
	}
	return statusValues[0]
}

// statusValues is where sqlite3_status64 writes the current value and the highest: a variable of the package, which the garbage
// collector never moves.
var statusValues [2]int64

// TestPageCacheBuffer checks that SQLite takes its cached pages from the buffer of exact
// slots, not from malloc, which served each one from a slot twice its size.
func TestPageCacheBuffer(t *testing.T) {
	if n, err := PageCacheBuffer(); err != nil || n < DefaultCacheBytes {
		t.Fatalf("page cache buffer of %d bytes, %v; want at least the write connection's %d", n, err, DefaultCacheBytes)
	}
	if pageCache.size < pageSize || pageCache.size > pageSize+1024 {
		t.Fatalf("slots of %d bytes for pages of %d", pageCache.size, pageSize)
	}
	db, pieces := claimFour(t)
	var endpoints []*pinfold.Endpoint
	for i := range 2000 {
		id := fmt.Sprintf("p%05d", i)
		endpoints = append(endpoints, &pinfold.Endpoint{AppID: "app", ID: id, ChannelType: "EMAIL", Address: id + "@example.com", EndpointStatus: "ACTIVE"})
	}
	err := db.CommitPiece(context.Background(), pieces[0], "n", func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		return &pinfold.PieceOutcome{Processed: int64(len(endpoints))}, tx.PutEndpoints(context.Background(), endpoints)
	})
	if err != nil {
		t.Fatal(err)
	}
	if used := sqliteStatus(t, sqlite3.SQLITE_STATUS_PAGECACHE_USED); used < 100 {
		t.Fatalf("%d slots of the buffer in use after writing %d endpoints", used, len(endpoints))
	}
}
