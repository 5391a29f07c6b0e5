package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/sqlite"
)

// BenchmarkStorePutEndpoints commits one import piece of new endpoints per operation through
// the SQLite store's bulk path (ClaimPiece, then CommitPiece with one PutEndpoints), as the
// store section of the tool does. A piece holds as many generated rows as 4 MiB of CSV.
// Profile it with -cpuprofile to see what bounds the store limit.
func BenchmarkStorePutEndpoints(b *testing.B) {
	ctx := context.Background()
	db := sqlite.NewDB(filepath.Join(b.TempDir(), "pinfold.db"))
	if err := db.Open(); err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	sample := generate(b, 1, 1000, true)
	perPiece := rowsPerPiece(int64(len(sample)), 1000, 4<<20)
	appID := newID()
	var pieces [][]*pinfold.Endpoint
	for i := range b.N {
		chunk, err := buildPieces(generate(b, uint64(i+1), perPiece, true), appID, perPiece)
		if err != nil {
			b.Fatal(err)
		}
		pieces = append(pieces, chunk[0])
	}
	if _, err := planStoreJob(ctx, db, appID, pieces); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if done, err := commitPiece(ctx, db, pieces); done || err != nil {
			b.Fatalf("commit: done %v, %v", done, err)
		}
	}
	b.ReportMetric(float64(perPiece*b.N)/b.Elapsed().Seconds(), "endpoints/s")
}
