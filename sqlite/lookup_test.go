package sqlite_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/sqlite"
)

// BenchmarkPieceLookups measures the two reads a piece of an import makes in its write
// transaction before it merges: FindEndpoints of a piece's 12,000 IDs and FindUserEndpoints
// of its 4,000 users, in an app of 200,000 endpoints: "new" finds none of them, as a fresh
// import's pieces do, and "mixed" finds a quarter of the IDs and half of the users, as an
// import that adds to an app does. Each iteration takes a fresh random draw, so that the
// pages it reads are not all cached from the iteration before.
func BenchmarkPieceLookups(b *testing.B) {
	const stored, pieceIDs, pieceUsers = 200_000, 12_000, 4_000
	ctx := context.Background()
	db := mustOpenDB(b)
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: time.Now()}); err != nil {
		b.Fatal(err)
	}
	id := func(i int) string { return fmt.Sprintf("%08x-%04x-endpoint", uint32(i)*2654435761, i%65536) }
	user := func(i int) string { return fmt.Sprintf("user-%d", i) }
	for from := 0; from < stored; from += 10_000 {
		batch := make([]*pinfold.Endpoint, 0, 10_000)
		for i := from; i < from+10_000; i++ {
			batch = append(batch, &pinfold.Endpoint{AppID: "app", ID: id(i), ChannelType: "EMAIL",
				Address: fmt.Sprintf("u%d@example.com", i), User: pinfold.User{UserID: user(i / 3)},
				EndpointStatus: "ACTIVE", OptOut: "NONE", CohortID: "1", CreatedAt: time.Now(), EffectiveDate: "2026-11-29T00:00:00.000Z"})
		}
		if err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error { return tx.PutEndpoints(ctx, batch) }); err != nil {
			b.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name        string
		storedIDs   int // of every 4 IDs
		storedUsers int // of every 2 users
	}{{"new", 0, 0}, {"mixed", 1, 1}} {
		b.Run(tc.name, func(b *testing.B) {
			benchmarkPieceLookups(b, db, id, user, tc.storedIDs, tc.storedUsers)
		})
	}
}

func benchmarkPieceLookups(b *testing.B, db *sqlite.DB, id, user func(int) string, storedIDs, storedUsers int) {
	const stored, pieceIDs, pieceUsers = 200_000, 12_000, 4_000
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		ids, users := make([]string, pieceIDs), make([]string, pieceUsers)
		for i := range ids {
			n := r.IntN(stored)
			if i%4 >= storedIDs {
				n += stored // not stored
			}
			ids[i] = id(n)
		}
		for i := range users {
			n := r.IntN(stored / 3)
			if i%2 >= storedUsers {
				n += stored // no endpoint has this user
			}
			users[i] = user(n)
		}
		var found, members int
		err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
			e, err := tx.FindEndpoints(ctx, "app", ids)
			if err != nil {
				return err
			}
			m, err := tx.FindUserEndpoints(ctx, "app", users)
			found, members = len(e), len(m)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		if found < pieceIDs*storedIDs/5 || found > pieceIDs*storedIDs/4 || members < pieceUsers*storedUsers/3 || members > pieceUsers*storedUsers/2 {
			b.Fatalf("found %d endpoints of %d and %d users of %d", found, pieceIDs, members, pieceUsers)
		}
	}
}

// TestFindEndpointsNotUTF8 checks that an ID that is not valid UTF-8, which the API takes
// from a request's path as it comes, is found as itself: FindEndpoints passes its keys as
// JSON, which would turn the bytes into U+FFFD, the ID of another endpoint here. An ID that
// JSON escapes is found too.
func TestFindEndpointsNotUTF8(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ids := []string{"a\xffb", "a\uFFFDb", "plain", `<&"\>` + "\u2028\t"} // the last escaped by json.Marshal
	var batch []*pinfold.Endpoint
	for i, id := range ids {
		batch = append(batch, &pinfold.Endpoint{AppID: "app", ID: id, ChannelType: "EMAIL", Address: fmt.Sprintf("u%d@example.com", i),
			EndpointStatus: "ACTIVE", OptOut: "NONE", CohortID: "1", CreatedAt: time.Now(), EffectiveDate: "2026-11-29T00:00:00.000Z"})
	}
	err := db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
		if err := tx.PutEndpoints(ctx, batch); err != nil {
			return err
		}
		for _, want := range [][]string{{"a\xffb"}, {"a\uFFFDb"}, {ids[3]}, {"plain", "a\xffb", "a\uFFFDb", ids[3], "missing\xfe"}} {
			found, err := tx.FindEndpoints(ctx, "app", want)
			if err != nil {
				return err
			}
			if len(found) != min(len(want), 4) {
				t.Errorf("FindEndpoints(%q) found %d endpoints", want, len(found))
			}
			for id, e := range found {
				i := slices.Index(ids, id)
				if i < 0 || e.ID != id || e.Address != batch[i].Address {
					t.Errorf("FindEndpoints(%q) found %q as ID %q, address %q", want, id, e.ID, e.Address)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
