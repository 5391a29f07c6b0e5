package sqlite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// StartImportJob creates job and takes it, as node "n", to INITIALIZING, where its pieces are
// planned. It is exported for the tests of package sqlite_test.
func StartImportJob(t *testing.T, db *DB, job *pinfold.ImportJob) {
	t.Helper()
	ctx := context.Background()
	if err := db.CreateImportJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	if j, err := db.ClaimImportJob(ctx, "n", 1, job.CreatedAt, job.CreatedAt.Add(time.Hour)); err != nil || j == nil {
		t.Fatalf("claim job: %v %v", j, err)
	}
	if ok, err := db.SetImportJobStatus(ctx, job.ID, []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); !ok || err != nil {
		t.Fatalf("to INITIALIZING: %v %v", ok, err)
	}
}

// claimFour opens a database with one import job of four pieces, all claimed by node "n".
func claimFour(t *testing.T) (*DB, []*pinfold.Piece) {
	t.Helper()
	ctx := context.Background()
	db := openTestDB(t)
	now := time.Now()
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	StartImportJob(t, db, &pinfold.ImportJob{ID: "j", AppID: "app", Status: pinfold.JobCreated, CreatedAt: now,
		Definition: pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv", RegisterEndpoints: true}})
	var planned []*pinfold.Piece
	for no := range 4 {
		planned = append(planned, &pinfold.Piece{No: no, AppID: "app", Bucket: "b", Key: "k", Start: int64(no) * 10, End: int64(no+1) * 10, FirstLine: 1})
	}
	if err := db.PlanImportJob(ctx, "j", planned); err != nil {
		t.Fatal(err)
	}
	var pieces []*pinfold.Piece
	for range 4 {
		p, _, err := db.ClaimPiece(ctx, "n", now, now.Add(time.Hour))
		if err != nil || p == nil {
			t.Fatalf("claim piece: %v %v", p, err)
		}
		pieces = append(pieces, p)
	}
	slices.SortFunc(pieces, func(a, b *pinfold.Piece) int { return a.No - b.No })
	return db, pieces
}

// writeOne is a piece's fn that writes endpoint id and then does then (if not nil).
func writeOne(id string, then func(tx pinfold.PieceTx) error) func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
	return func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		e := &pinfold.Endpoint{AppID: "app", ID: id, ChannelType: "EMAIL", Address: id + "@example.com", EndpointStatus: "ACTIVE"}
		if err := tx.PutEndpoints(context.Background(), []*pinfold.Endpoint{e}); err != nil {
			return nil, err
		}
		if then != nil {
			if err := then(tx); err != nil {
				return nil, err
			}
		}
		return &pinfold.PieceOutcome{Processed: 1}, nil
	}
}

// commitFour commits piece 0 alone while pieces 1–3 queue behind it, so that they commit as
// one group; fns[i] is piece i's fn after piece 0's. It returns each piece's error.
func commitFour(t *testing.T, db *DB, pieces []*pinfold.Piece, fns [3]func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error)) []error {
	t.Helper()
	ctx := context.Background()
	errs := make([]error, 4)
	done := make(chan int, 4)
	started, release := make(chan struct{}), make(chan struct{})
	go func() {
		errs[0] = db.CommitPiece(ctx, pieces[0], "n", writeOne("e0", func(pinfold.PieceTx) error {
			close(started)
			<-release
			return nil
		}))
		done <- 0
	}()
	<-started
	for i := 1; i < 4; i++ {
		go func() {
			errs[i] = db.CommitPiece(ctx, pieces[i], "n", fns[i-1])
			done <- i
		}()
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		db.group.mu.Lock()
		queued := len(db.group.queue)
		db.group.mu.Unlock()
		if queued == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d pieces queued behind the first, want 3", queued)
		}
	}
	close(release)
	for range 4 {
		<-done
	}
	return errs
}

// stored reports which of ids are stored, and the job's completed pieces.
func storedOf(t *testing.T, db *DB, ids ...string) ([]string, int) {
	t.Helper()
	var found []string
	for _, id := range ids {
		if _, err := db.FindEndpoint(context.Background(), "app", id); err == nil {
			found = append(found, id)
		} else if pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
			t.Fatal(err)
		}
	}
	job, err := db.FindImportJob(context.Background(), "app", "j")
	if err != nil {
		t.Fatal(err)
	}
	return found, job.CompletedPieces
}

// TestGroupCommit checks that pieces waiting for the writer commit as one group, and that a
// piece whose fn fails in the group is rolled back alone.
func TestGroupCommit(t *testing.T) {
	db, pieces := claimFour(t)
	boom := errors.New("boom")
	errs := commitFour(t, db, pieces, [3]func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error){
		writeOne("e1", nil),
		writeOne("e2", func(pinfold.PieceTx) error { return boom }),
		writeOne("e3", nil),
	})
	wantOnlyPieceTwoFailed(t, db, errs, boom, 1)
}

// wantOnlyPieceTwoFailed checks the end of a commitFour whose piece 2 failed with cause: the
// other pieces committed and completed, piece 2 wrote nothing, and groups groups of more than
// one piece committed.
func wantOnlyPieceTwoFailed(t *testing.T, db *DB, errs []error, cause error, groups int) {
	t.Helper()
	if errs[0] != nil || errs[1] != nil || !errors.Is(errs[2], cause) || errs[3] != nil {
		t.Fatalf("errors = %v, want only piece 2's", errs)
	}
	if db.group.groups.Load() != int64(groups) {
		t.Fatalf("%d groups committed, want %d", db.group.groups.Load(), groups)
	}
	if found, completed := storedOf(t, db, "e0", "e1", "e2", "e3"); !slices.Equal(found, []string{"e0", "e1", "e3"}) || completed != 3 {
		t.Fatalf("stored %v with %d pieces completed; want e0 e1 e3 and 3", found, completed)
	}
}

// TestGroupCommitTwoFailures checks that pieces failing one after the other in a group each
// get their own error, and that the piece left between them still commits.
func TestGroupCommitTwoFailures(t *testing.T) {
	db, pieces := claimFour(t)
	boom1, boom3 := errors.New("boom 1"), errors.New("boom 3")
	errs := commitFour(t, db, pieces, [3]func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error){
		writeOne("e1", func(pinfold.PieceTx) error { return boom1 }),
		writeOne("e2", nil),
		writeOne("e3", func(pinfold.PieceTx) error { return boom3 }),
	})
	if errs[0] != nil || !errors.Is(errs[1], boom1) || errs[2] != nil || !errors.Is(errs[3], boom3) {
		t.Fatalf("errors = %v, want piece 1's and piece 3's", errs)
	}
	if found, completed := storedOf(t, db, "e0", "e1", "e2", "e3"); !slices.Equal(found, []string{"e0", "e2"}) || completed != 2 {
		t.Fatalf("stored %v with %d pieces completed; want e0 e2 and 2", found, completed)
	}
}

// TestGroupCommitWholeRollback checks that when a piece's failure takes the group's whole
// transaction with it (as SQLite does after an interrupted statement or a full disk), every
// piece that did not fail itself is committed, as a group again.
func TestGroupCommitWholeRollback(t *testing.T) {
	db, pieces := claimFour(t)
	lost := errors.New("transaction lost")
	errs := commitFour(t, db, pieces, [3]func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error){
		writeOne("e1", nil),
		writeOne("e2", func(tx pinfold.PieceTx) error {
			if _, err := tx.(*pieceTx).tx.Exec(`ROLLBACK`); err != nil {
				return err
			}
			return lost
		}),
		writeOne("e3", nil),
	})
	wantOnlyPieceTwoFailed(t, db, errs, lost, 1)
}

// TestGroupCommitFailedCommit checks that when the group's commit fails with no piece to
// blame, each piece is committed alone, and only the one that breaks a commit fails.
func TestGroupCommitFailedCommit(t *testing.T) {
	db, pieces := claimFour(t)
	// A deferred foreign key is checked at COMMIT, not by the statement that breaks it.
	if _, err := db.write.Exec(`CREATE TABLE parent (id TEXT PRIMARY KEY);
		CREATE TABLE child (parent TEXT REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`); err != nil {
		t.Fatal(err)
	}
	errs := commitFour(t, db, pieces, [3]func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error){
		writeOne("e1", nil),
		writeOne("e2", func(tx pinfold.PieceTx) error {
			_, err := tx.(*pieceTx).tx.Exec(`INSERT INTO child (parent) VALUES ('none')`)
			return err
		}),
		writeOne("e3", nil),
	})
	if errs[0] != nil || errs[1] != nil || errs[2] == nil || !strings.Contains(errs[2].Error(), "FOREIGN KEY") || errs[3] != nil {
		t.Fatalf("errors = %v, want only piece 2's failed commit", errs)
	}
	if db.group.groups.Load() != 0 {
		t.Fatalf("%d groups committed, want none", db.group.groups.Load())
	}
	if found, completed := storedOf(t, db, "e0", "e1", "e2", "e3"); !slices.Equal(found, []string{"e0", "e1", "e3"}) || completed != 3 {
		t.Fatalf("stored %v with %d pieces completed; want e0 e1 e3 and 3", found, completed)
	}
}

// endsAfterFirstCheck is a context whose Err reports it canceled from its second call on: a
// piece whose context ends while PutEndpoints writes its rows (database/sql may be the one to
// call it first, from a goroutine of its own, so the row it ends at varies).
type endsAfterFirstCheck struct {
	context.Context
	checks atomic.Int32 // Err's calls, which come from both goroutines
}

func (c *endsAfterFirstCheck) Err() error {
	if c.checks.Add(1) > 1 {
		return context.Canceled
	}
	return nil
}

// TestPutEndpointsCanceled checks that a piece whose context ends while PutEndpoints writes
// (which checks it between rows, not through each row's statement) fails alone, with none of
// its rows stored, and the others in its group commit.
func TestPutEndpointsCanceled(t *testing.T) {
	db, pieces := claimFour(t)
	var endpoints []*pinfold.Endpoint
	var ids []string
	for i := range 3 * cancelCheckRows {
		id := fmt.Sprintf("c%04d", i)
		ids = append(ids, id)
		endpoints = append(endpoints, &pinfold.Endpoint{AppID: "app", ID: id, ChannelType: "EMAIL", Address: id + "@example.com", EndpointStatus: "ACTIVE"})
	}
	ctx := &endsAfterFirstCheck{Context: context.Background()}
	errs := commitFour(t, db, pieces, [3]func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error){
		writeOne("e1", nil),
		writeOne("e2", func(tx pinfold.PieceTx) error { return tx.PutEndpoints(ctx, endpoints) }),
		writeOne("e3", nil),
	})
	wantOnlyPieceTwoFailed(t, db, errs, context.Canceled, 1)
	if found, _ := storedOf(t, db, ids...); len(found) > 0 {
		t.Errorf("%d rows of the canceled piece stored, e.g. %s", len(found), found[0])
	}
}
