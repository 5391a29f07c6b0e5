package sqlite

import (
	"fmt"
	"sync"
	"unsafe"

	"modernc.org/libc"
	"modernc.org/libc/sys/types"
	sqlite3 "modernc.org/sqlite/lib"
)

// SQLite's page caches draw from one buffer of page-sized slots rather than from malloc.
//
// SQLite allocates each cached page with its header, 4 KiB and about 300 bytes, and
// modernc.org's malloc serves every size up to 16 KiB from a slot of the next power of two: a
// page cache of N bytes took 2N of memory. With SQLITE_CONFIG_PAGECACHE SQLite takes pages from
// a buffer of slots of exactly that size first, and from malloc only when the buffer is used up
// (docs/performance.md). It must be set before SQLite initializes, that is before the
// process's first connection, so the first Open sets it for the process.

var pageCache struct {
	once  sync.Once
	slots int   // slots in the buffer; 0 if SQLite was initialized before Open could set it
	size  int   // bytes of a slot
	err   error // why the buffer could not be set, if it could not
}

// pageHeaderSize is where SQLITE_CONFIG_PCACHE_HDRSZ writes the bytes SQLite adds to each
// cached page: a variable of the package, which the garbage collector never moves.
var pageHeaderSize int32

// readCacheBytes is the page cache of each read connection: SQLite's default of 2,000 KiB.
const readCacheBytes = 2000 << 10

// configurePageCache gives SQLite a buffer of slots for bytes of pages, once per process.
func configurePageCache(bytes int64) {
	pageCache.once.Do(func() {
		pageCache.slots, pageCache.size, pageCache.err = setPageCache(bytes)
	})
}

// PageCacheBuffer reports the buffer SQLite's page caches draw from in this process, which its
// first Open sets: its bytes, or why there is none (SQLite was initialized before, so cached
// pages come from malloc at about twice their size).
func PageCacheBuffer() (bytes int64, err error) {
	return int64(pageCache.slots) * int64(pageCache.size), pageCache.err
}

// setPageCache sets SQLITE_CONFIG_PAGECACHE to a buffer of slots of 4 KiB pages. The buffer is
// never freed: SQLite uses it for the life of the process.
func setPageCache(bytes int64) (slots, size int, err error) {
	tls := libc.NewTLS()
	defer tls.Close()
	if rc := config(tls, sqlite3.SQLITE_CONFIG_PCACHE_HDRSZ, uintptr(unsafe.Pointer(&pageHeaderSize))); rc != sqlite3.SQLITE_OK {
		return 0, 0, fmt.Errorf("page cache: SQLITE_CONFIG_PCACHE_HDRSZ: %d", rc)
	}
	size = (pageSize + int(pageHeaderSize) + 7) &^ 7
	slots = int(bytes / int64(size))
	buf := libc.Xmalloc(tls, types.Size_t(slots*size))
	if buf == 0 {
		return 0, 0, fmt.Errorf("page cache: out of memory for %d bytes", slots*size)
	}
	if rc := config(tls, sqlite3.SQLITE_CONFIG_PAGECACHE, buf, int32(size), int32(slots)); rc != sqlite3.SQLITE_OK {
		libc.Xfree(tls, buf)
		// SQLITE_MISUSE: a connection opened before this one, so SQLite keeps malloc.
		return 0, 0, fmt.Errorf("page cache: SQLITE_CONFIG_PAGECACHE: %d", rc)
	}
	return slots, size, nil
}

// config calls sqlite3_config(op, args...).
func config(tls *libc.TLS, op int32, args ...any) int32 {
	va := libc.NewVaList(args...)
	defer libc.Xfree(tls, va)
	return sqlite3.Xsqlite3_config(tls, op, va)
}

// pageSize is the page size of Pinfold's databases: SQLite's default.
const pageSize = 4096
