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

func mustCreateJobs(t *testing.T, db *sqlite.DB, n int) []*pinfold.ImportJob {
	t.Helper()
	ctx := context.Background()
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	var jobs []*pinfold.ImportJob
	for i := range n {
		j := &pinfold.ImportJob{ID: string(rune('a' + i)), AppID: "app", Status: pinfold.JobCreated, CreatedAt: time.Now(),
			Definition: pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv"}}
		if err := db.CreateImportJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, j)
	}
	return jobs
}

func status(t *testing.T, db *sqlite.DB, id string) string {
	t.Helper()
	j, err := db.FindImportJob(context.Background(), "app", id)
	if err != nil {
		t.Fatal(err)
	}
	return j.Status
}

// TestActiveJobCap checks that no more than maxActive jobs run, that the others wait in
// PENDING_JOB in creation order, and that planning a dead node left behind is taken over.
func TestActiveJobCap(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	mustCreateJobs(t, db, 3)
	now := time.Now()
	j, err := db.ClaimImportJob(ctx, "node-a", 1, now, now.Add(time.Minute))
	if err != nil || j == nil || j.ID != "a" || j.Status != pinfold.JobPreparingForInitialization {
		t.Fatalf("first claim = %+v, %v", j, err)
	}
	if j, err := db.ClaimImportJob(ctx, "node-b", 1, now, now.Add(time.Minute)); err != nil || j != nil {
		t.Fatalf("claim over the cap = %+v, %v", j, err)
	}
	if status(t, db, "b") != pinfold.JobPendingJob || status(t, db, "c") != pinfold.JobPendingJob {
		t.Fatalf("waiting jobs are %s and %s, want PENDING_JOB", status(t, db, "b"), status(t, db, "c"))
	}
	// node-a dies while planning: once its lease runs out, another node plans the job.
	later := now.Add(2 * time.Minute)
	j, err = db.ClaimImportJob(ctx, "node-b", 1, later, later.Add(time.Minute))
	if err != nil || j == nil || j.ID != "a" {
		t.Fatalf("claim after the lease = %+v, %v", j, err)
	}
	if err := db.FailImportJob(ctx, "a", "no objects", later); err != nil {
		t.Fatal(err)
	}
	j, err = db.ClaimImportJob(ctx, "node-b", 1, later, later.Add(time.Minute))
	if err != nil || j == nil || j.ID != "b" || status(t, db, "b") != pinfold.JobPreparingForInitialization {
		t.Fatalf("claim after a slot freed = %+v, %v", j, err)
	}
	// A job never goes back: FailImportJob on an ended job changes nothing.
	if err := db.FailImportJob(ctx, "a", "again", later); err != nil {
		t.Fatal(err)
	}
	if a, _ := db.FindImportJob(ctx, "app", "a"); a.Status != pinfold.JobFailed || len(a.Failures) != 1 || a.Failures[0] != "no objects" {
		t.Fatalf("job a = %+v", a)
	}
}

// TestPieceLeases checks that a piece whose lease ran out is claimed again and that the node
// that lost it can no longer commit it.
func TestPieceLeases(t *testing.T) {
	ctx := context.Background()
	db := mustOpenDB(t)
	mustCreateJobs(t, db, 1)
	now := time.Now()
	if _, err := db.ClaimImportJob(ctx, "a", 10, now, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.SetImportJobStatus(ctx, "a", []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); !ok || err != nil {
		t.Fatalf("to INITIALIZING: %v %v", ok, err)
	}
	if ok, _ := db.SetImportJobStatus(ctx, "a", []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); ok {
		t.Fatal("a second move from PREPARING_FOR_INITIALIZATION succeeded")
	}
	pieces := []*pinfold.Piece{{No: 0, AppID: "app", Bucket: "b", Key: "k.csv", End: 10, FirstLine: 1},
		{No: 1, AppID: "app", Bucket: "b", Key: "k.csv", Start: 10, End: -1, FirstLine: 3, Header: "Id"}}
	if err := db.PlanImportJob(ctx, "a", pieces); err != nil {
		t.Fatal(err)
	}
	lease := now.Add(time.Minute)
	p0, _, err := db.ClaimPiece(ctx, "node-a", now, lease)
	if err != nil || p0 == nil || p0.No != 0 || p0.Attempts != 1 {
		t.Fatalf("claim = %+v, %v", p0, err)
	}
	p1, _, _ := db.ClaimPiece(ctx, "node-b", now, lease)
	if p1 == nil || p1.No != 1 || p1.Header != "Id" || p1.FirstLine != 3 {
		t.Fatalf("second claim = %+v", p1)
	}
	if p, _, _ := db.ClaimPiece(ctx, "node-c", now, lease); p != nil {
		t.Fatalf("claimed a held piece: %+v", p)
	}
	later := now.Add(2 * time.Minute)
	if ok, _ := db.ExtendPieceLease(ctx, p1, "node-b", later.Add(time.Minute)); !ok {
		t.Fatal("node-b could not extend its lease")
	}
	taken, _, err := db.ClaimPiece(ctx, "node-c", later, later.Add(time.Minute))
	if err != nil || taken == nil || taken.No != 0 || taken.Attempts != 2 {
		t.Fatalf("claim of an expired piece = %+v, %v", taken, err)
	}
	called := false
	if err := db.CommitPiece(ctx, p0, "node-a", func(pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		called = true
		return &pinfold.PieceOutcome{Processed: 5}, nil
	}); err != nil || called {
		t.Fatalf("the node that lost the piece committed it: %v %v", called, err)
	}
	for _, c := range []struct {
		p    *pinfold.Piece
		node string
		out  pinfold.PieceOutcome
	}{
		{taken, "node-c", pinfold.PieceOutcome{Processed: 2, Failures: []pinfold.Failure{{Piece: 0, Line: 2, Message: "k:2: bad"}}}},
		{p1, "node-b", pinfold.PieceOutcome{Processed: 3}},
	} {
		if err := db.CommitPiece(ctx, c.p, c.node, func(pinfold.PieceTx) (*pinfold.PieceOutcome, error) { return &c.out, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if ended, err := db.FinishImportJob(ctx, "a", later); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	j, _ := db.FindImportJob(ctx, "app", "a")
	if j.Status != pinfold.JobCompleted || j.TotalProcessed != 5 || j.TotalFailures != 1 || j.CompletedPieces != 2 ||
		j.TotalPieces != 2 || len(j.Failures) != 1 || j.CompletedAt.IsZero() {
		t.Fatalf("job = %+v", j)
	}
	if ended, _ := db.FinishImportJob(ctx, "a", later); ended {
		t.Fatal("a finished job finished again")
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
