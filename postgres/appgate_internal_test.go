package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// TestAppGateLetsAPIWritesIn checks that an API write of an app that came while one of the
// node's import pieces held the app's lock, and another waited for it, goes before the
// waiting piece: PostgreSQL alone would give the lock to the piece that asked first.
func TestAppGateLetsAPIWritesIn(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	now := time.Now()
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateImportJob(ctx, &pinfold.ImportJob{ID: "j", AppID: "app", Status: pinfold.JobCreated, CreatedAt: now,
		Definition: pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv", RegisterEndpoints: true}}); err != nil {
		t.Fatal(err)
	}
	if j, err := db.ClaimImportJob(ctx, "n", 1, now, now.Add(time.Hour)); err != nil || j == nil {
		t.Fatalf("claim job: %v %v", j, err)
	}
	if ok, err := db.SetImportJobStatus(ctx, "j", []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); !ok || err != nil {
		t.Fatalf("to INITIALIZING: %v %v", ok, err)
	}
	planned := []*pinfold.Piece{
		{No: 0, AppID: "app", Bucket: "b", Key: "k", Start: 0, End: 10, FirstLine: 1},
		{No: 1, AppID: "app", Bucket: "b", Key: "k", Start: 10, End: 20, FirstLine: 2},
	}
	if err := db.PlanImportJob(ctx, "j", planned); err != nil {
		t.Fatal(err)
	}
	pieces := map[int]*pinfold.Piece{}
	for range planned {
		p, _, err := db.ClaimPiece(ctx, "n", now, now.Add(time.Hour))
		if err != nil || p == nil {
			t.Fatalf("claim piece: %v %v", p, err)
		}
		pieces[p.No] = p
	}
	put := func(tx pinfold.EndpointTx, id string) error {
		return tx.PutEndpoints(ctx, []*pinfold.Endpoint{{AppID: "app", ID: id, ChannelType: "EMAIL", Address: id + "@example.com", EndpointStatus: "ACTIVE"}})
	}
	waiting := func(short, bulk int) {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
			db.gates.mu.Lock()
			s, b := -1, -1
			if g := db.gates.gates["app"]; g != nil {
				s, b = g.Waiting()
			}
			db.gates.mu.Unlock()
			if s == short && b == bulk {
				return
			}
			if time.Now().After(deadline) {
				// Not Fatal: piece 0 waits for release, and the test for it.
				t.Errorf("%d short and %d bulk writes wait at the app's gate, want %d and %d", s, b, short, bulk)
				return
			}
		}
	}

	done := make(chan error, 3)
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		done <- db.CommitPiece(ctx, pieces[0], "n", func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
			close(started)
			<-release
			return &pinfold.PieceOutcome{Processed: 1}, put(tx, "e0")
		})
	}()
	<-started
	sawAPI := false
	go func() {
		done <- db.CommitPiece(ctx, pieces[1], "n", func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
			found, err := tx.FindEndpoints(ctx, "app", []string{"api"})
			sawAPI = found["api"] != nil
			if err == nil {
				err = put(tx, "e1")
			}
			return &pinfold.PieceOutcome{Processed: 1}, err
		})
	}()
	waiting(0, 1)
	go func() {
		done <- db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error { return put(tx, "api") })
	}()
	waiting(1, 1)
	close(release)
	for range 3 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if !sawAPI {
		t.Fatal("the waiting piece went before the API write")
	}
	for _, id := range []string{"e0", "e1", "api"} {
		if _, err := db.FindEndpoint(ctx, "app", id); err != nil {
			t.Fatal(fmt.Errorf("%s: %w", id, err))
		}
	}
	db.gates.mu.Lock()
	defer db.gates.mu.Unlock()
	if len(db.gates.gates) != 0 {
		t.Fatalf("%d gates left, want none", len(db.gates.gates))
	}
}
