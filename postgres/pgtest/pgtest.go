// Package pgtest gives tests a real PostgreSQL: the one at PINFOLD_TEST_DATABASE_URL when set,
// else a throwaway cluster it starts from the machine's PostgreSQL binaries (pgcluster). Each
// test gets a database of its own in that server.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold/internal/pgcluster"
)

var (
	mu      sync.Mutex
	baseURL string // the server's URL, database "postgres"
	stop    func() // stops a cluster this process started
	started error  // why the cluster could not start
	once    sync.Once
)

// Main runs a test binary's tests and stops the throwaway cluster afterwards. Call it from
// TestMain: os.Exit(pgtest.Main(m)).
func Main(m interface{ Run() int }) int {
	code := m.Run()
	mu.Lock()
	defer mu.Unlock()
	if stop != nil {
		stop()
	}
	return code
}

// URL returns the URL of a new, empty database for t, dropped when t ends.
func URL(t testing.TB) string {
	t.Helper()
	once.Do(func() {
		if u := os.Getenv("PINFOLD_TEST_DATABASE_URL"); u != "" {
			baseURL = u
			return
		}
		// In the temporary folder, where the next test binary's Start stops and removes
		// this cluster if this binary dies before Main stops it.
		c, err := pgcluster.Start(context.Background(), pgcluster.Options{Prefix: "pinfold-pg-", Throwaway: true})
		if err != nil {
			started = err
			return
		}
		baseURL = c.URL
		mu.Lock()
		stop = func() { c.Stop(false) }
		mu.Unlock()
	})
	if started != nil {
		t.Fatalf("start a throwaway PostgreSQL (or set PINFOLD_TEST_DATABASE_URL): %v", started)
	}
	name := "pinfold_test_" + randomHex(6)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, baseURL)
	if err != nil {
		t.Fatalf("connect to test PostgreSQL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, baseURL)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u, _ := url.Parse(baseURL)
	u.Path = "/" + name
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
