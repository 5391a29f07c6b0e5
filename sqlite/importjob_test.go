package sqlite_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/sqlite"
)

func mustOpenDB(t testing.TB) *sqlite.DB {
	t.Helper()
	path := filepath.Join(t.TempDir(), "pinfold.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	t.Cleanup(func() { sqlite.CheckHashTables(t, path) })
	return db
}

func mustCreateJobs(t testing.TB, db *sqlite.DB, n int) {
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

// TestExportJobStates checks that the triggers record the states of export jobs too: they
// live in import_jobs, and their states are changed by methods of their own.
func TestExportJobStates(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "pinfold.db")
	db := sqlite.NewDB(path)
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	job := &pinfold.ExportJob{ID: "x", AppID: "app", Status: pinfold.JobCreated, CreatedAt: now,
		Definition: pinfold.ExportDefinition{S3URLPrefix: "s3://exports/out/", RoleARN: "r"}}
	if err := db.CreateExportJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	if j, err := db.ClaimExportJob(ctx, "n", 1, now, now.Add(time.Minute)); err != nil || j == nil {
		t.Fatalf("claim: %+v %v", j, err)
	}
	if ok, err := db.SetExportJobStatus(ctx, "x", []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); !ok || err != nil {
		t.Fatalf("to INITIALIZING: %v %v", ok, err)
	}
	if err := db.FailExportJob(ctx, "x", "cannot write s3://exports/out/", now.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	rows, err := raw.Query(`SELECT status FROM job_states WHERE job_id = 'x' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var states []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		states = append(states, s)
	}
	want := []string{pinfold.JobCreated, pinfold.JobPreparingForInitialization, pinfold.JobInitializing, pinfold.JobFailed}
	if !slices.Equal(states, want) {
		t.Fatalf("states of an export job = %v, want %v", states, want)
	}
}

// BenchmarkFindImportJob measures the read behind GetImportJob, from 64 goroutines at once as
// in the API benchmark and with a context that can be canceled, as a request's: a job without
// failures ("a") and a failed one with its job-level failure ("b").
func BenchmarkFindImportJob(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := mustOpenDB(b)
	mustCreateJobs(b, db, 2)
	if err := db.FailImportJob(ctx, "b", "s3://b/k.csv: \"AccessDenied\"", time.Now()); err != nil {
		b.Fatal(err)
	}
	for _, id := range []string{"a", "b"} {
		b.Run(id, func(b *testing.B) {
			b.SetParallelism(32)
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := db.FindImportJob(ctx, "app", id); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
