package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/sqlite"
)

func mustOpenDB(t *testing.T) *sqlite.DB {
	t.Helper()
	db := sqlite.NewDB(filepath.Join(t.TempDir(), "pinfold.db"))
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustCreateJobs(t *testing.T, db *sqlite.DB, n int) {
	t.Helper()
	ctx := context.Background()
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		j := &pinfold.ImportJob{ID: string(rune('a' + i)), AppID: "app", Status: pinfold.JobCreated, CreatedAt: time.Now(),
			Definition: pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv"}}
		if err := db.CreateImportJob(ctx, j); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenRequeuesAbandonedWork checks that reopening the database hands back what a killed
// process held.
func TestOpenRequeuesAbandonedWork(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pinfold.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	if err := sqlite.NewDB(path).Open(); err == nil {
		t.Fatal("a second process opened a database in use")
	}
	mustCreateJobs(t, db, 1)
	now := time.Now()
	db.ClaimImportJob(ctx, "dead", 10, now, now.Add(time.Hour))
	db.SetImportJobStatus(ctx, "a", []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing)
	db.PlanImportJob(ctx, "a", []*pinfold.Piece{{No: 0, AppID: "app", Bucket: "b", Key: "k", End: -1, FirstLine: 1}})
	if p, _, _ := db.ClaimPiece(ctx, "dead", now, now.Add(time.Hour)); p == nil {
		t.Fatal("no piece to claim")
	}
	db.Close()
	db = sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if p, _, err := db.ClaimPiece(ctx, "new", now, now.Add(time.Hour)); err != nil || p == nil {
		t.Fatalf("the dead process's piece was not requeued: %+v %v", p, err)
	}
}
