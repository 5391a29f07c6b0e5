package postgres_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/postgres/pgtest"
)

// TestPollAcrossNodes checks that a node polling a job sees what another node does to it:
// its progress, its failures, its end, and its app's deletion. The polling node keeps the
// job's constant parts after its first read; nothing else may be stale.
func TestPollAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url := pgtest.URL(t)
	poller, worker := mustOpen(t, url), mustOpen(t, url)
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	if err := worker.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	def := pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv", RoleARN: "arn:aws:iam::123456789012:role/r", ExternalID: "x"}
	if err := worker.CreateImportJob(ctx, &pinfold.ImportJob{ID: "j", AppID: "app", Status: pinfold.JobCreated, CreatedAt: now, Definition: def}); err != nil {
		t.Fatal(err)
	}
	poll := func() *pinfold.ImportJob {
		t.Helper()
		j, err := poller.FindImportJob(ctx, "app", "j")
		if err != nil {
			t.Fatal(err)
		}
		if j.Definition != def || !j.CreatedAt.Equal(now) || j.AppID != "app" {
			t.Fatalf("the job's constant parts changed: %+v", j)
		}
		return j
	}
	if j := poll(); j.Status != pinfold.JobCreated || j.Failures != nil {
		t.Fatalf("created job: %+v", j)
	}

	if j, err := worker.ClaimImportJob(ctx, "worker", 10, now, now.Add(time.Minute)); err != nil || j == nil {
		t.Fatalf("claim: %+v %v", j, err)
	}
	if ok, err := worker.SetImportJobStatus(ctx, "j", []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); !ok || err != nil {
		t.Fatalf("to INITIALIZING: %v %v", ok, err)
	}
	if err := worker.PlanImportJob(ctx, "j", []*pinfold.Piece{{No: 0, AppID: "app", Bucket: "b", Key: "k.csv", End: -1, FirstLine: 1}}); err != nil {
		t.Fatal(err)
	}
	p, _, err := worker.ClaimPiece(ctx, "worker", now, now.Add(time.Minute))
	if err != nil || p == nil {
		t.Fatalf("claim piece: %+v %v", p, err)
	}
	if err := worker.CommitPiece(ctx, p, "worker", func(pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		return &pinfold.PieceOutcome{Processed: 5, Failures: []pinfold.Failure{{Line: 2, Message: "k.csv:2: bad"}}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if j := poll(); j.Status != pinfold.JobProcessing || j.CompletedPieces != 1 || j.TotalProcessed != 5 || j.TotalFailures != 1 ||
		!slices.Equal(j.Failures, []string{"k.csv:2: bad"}) {
		t.Fatalf("job after another node's piece: %+v", j)
	}
	if ended, err := worker.FinishImportJob(ctx, "j", now.Add(time.Second)); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	if j := poll(); j.Status != pinfold.JobCompleted || !j.CompletedAt.Equal(now.Add(time.Second)) {
		t.Fatalf("job after another node finished it: %+v", j)
	}

	if _, err := worker.DeleteApp(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := poller.FindImportJob(ctx, "app", "j"); pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Fatalf("a job of an app another node deleted: %v", err)
	}
}

// BenchmarkFindImportJob measures the read behind GetImportJob, from 64 goroutines at once as
// in the API benchmark, of a job without failures.
func BenchmarkFindImportJob(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db := mustOpen(b, pgtest.URL(b))
	now := time.Now()
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	if err := db.CreateImportJob(ctx, &pinfold.ImportJob{ID: "j", AppID: "app", Status: pinfold.JobCreated, CreatedAt: now,
		Definition: pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv", RoleARN: "r"}}); err != nil {
		b.Fatal(err)
	}
	b.SetParallelism(32)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := db.FindImportJob(ctx, "app", "j"); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
