package postgres_test

import (
	"context"
	"os"
	"testing"

	"github.com/pinfold/pinfold/postgres"
	"github.com/pinfold/pinfold/postgres/pgtest"
	"github.com/pinfold/pinfold/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func mustOpenDB(t *testing.T) *postgres.DB {
	t.Helper()
	return mustOpen(t, pgtest.URL(t))
}

// mustOpen opens the database at url, closed when t ends.
func mustOpen(t testing.TB, url string) *postgres.DB {
	t.Helper()
	db := postgres.NewDB(url)
	if err := db.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store { return mustOpenDB(t) })
}
