package sqlite_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/sqlite"
)

// mountTmpfs mounts a tmpfs of size bytes on a new folder and unmounts it when t ends. It
// skips t where mounting is not permitted (not root, or a container without the right).
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("disk-full test skipped: cannot mount a small tmpfs here (needs root): %v %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fill writes a file of zeros in dir until leave bytes are free on its file system.
func fill(t *testing.T, dir string, leave int64) string {
	t.Helper()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zeros := make([]byte, 64<<10)
	for n := int64(fs.Bavail)*int64(fs.Bsize) - leave; n > 0; n -= int64(len(zeros)) {
		if _, err := f.Write(zeros[:min(n, int64(len(zeros)))]); err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
	return path
}

// fillAfterCheckpoint empties the write-ahead log of the database in dir into its file, so
// that the next writes need new room, and then fills the disk (see fill).
func fillAfterCheckpoint(t *testing.T, dir string) string {
	t.Helper()
	raw, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "pinfold.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		t.Fatal(err)
	}
	return fill(t, dir, 0)
}

// openOnTmpfs opens a database on the clock now, on a 32 MiB tmpfs of its own, with one app,
// "app"; it is closed when t ends.
func openOnTmpfs(t *testing.T, now func() time.Time) (db *sqlite.DB, dir string) {
	t.Helper()
	dir = mountTmpfs(t, 32<<20)
	db = sqlite.NewDB(filepath.Join(dir, "pinfold.db"))
	db.Now = now
	if err := db.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.CreateApp(context.Background(), &pinfold.App{ID: "app", Name: "a", CreatedAt: now()}); err != nil {
		t.Fatal(err)
	}
	return db, dir
}

// TestDiskFull fills the disk under the database: writes fail with ErrDiskFull, a job's
// failure is still recorded (in the room of the reserve file, which it deletes), everything
// committed before stays readable, and once there is room again the reserve is made anew.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	db, dir := openOnTmpfs(t, func() time.Time { return now })
	reserve := filepath.Join(dir, "pinfold.db.reserve")
	if st, err := os.Stat(reserve); err != nil || st.Size() != sqlite.DefaultReserveBytes {
		t.Fatalf("reserve file: %v %v, want %d bytes", st, err, sqlite.DefaultReserveBytes)
	}
	put := func(batch int) error {
		return db.UpdateEndpoints(ctx, "app", func(tx pinfold.EndpointTx) error {
			var es []*pinfold.Endpoint
			for i := range 50 {
				es = append(es, &pinfold.Endpoint{ID: fmt.Sprintf("e%d-%d", batch, i), AppID: "app", ChannelType: "EMAIL",
					Address: fmt.Sprintf("%d-%d-%s@example.com", batch, i, strings.Repeat("x", 4000)), EndpointStatus: "ACTIVE",
					OptOut: "NONE", CohortID: "1", CreatedAt: now})
			}
			return tx.PutEndpoints(ctx, es)
		})
	}
	if err := put(0); err != nil {
		t.Fatal(err)
	}
	job := &pinfold.ImportJob{ID: "job", AppID: "app", Status: pinfold.JobCreated, CreatedAt: now,
		Definition: pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv"}}
	if err := db.CreateImportJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	filler := fillAfterCheckpoint(t, dir)

	batch := 1
	err := put(batch)
	if !errors.Is(err, pinfold.ErrDiskFull) || pinfold.ErrorMessage(err) != pinfold.ErrDiskFull.Message {
		t.Fatalf("a write on a full disk: %v, want ErrDiskFull", err)
	}
	// What was committed is there, and a failure can be recorded: in the reserve's room.
	if e, err := db.FindEndpoint(ctx, "app", "e0-7"); err != nil || !strings.HasPrefix(e.Address, "0-7-") {
		t.Fatalf("endpoint committed before the disk filled: %+v, %v", e, err)
	}
	if err := db.FailImportJob(ctx, "job", "the disk is full", now); err != nil {
		t.Fatalf("record a failure on a full disk: %v", err)
	}
	if _, err := os.Stat(reserve); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("reserve file after recording a failure on a full disk: %v, want it deleted", err)
	}
	if !db.Stats().ReserveReleased {
		t.Fatal("Stats: the reserve is not reported released")
	}
	if got, err := db.FindImportJob(ctx, "app", "job"); err != nil || got.Status != pinfold.JobFailed {
		t.Fatalf("failed job: %+v, %v", got, err)
	}

	// Room again: the next write a minute later makes the reserve again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	now = now.Add(2 * time.Minute)
	if err := put(batch); err != nil {
		t.Fatalf("write after space was freed: %v", err)
	}
	if st, err := os.Stat(reserve); err != nil || st.Size() != sqlite.DefaultReserveBytes {
		t.Fatalf("reserve file after space was freed: %v %v", st, err)
	}
	if db.Stats().ReserveReleased {
		t.Fatal("Stats: the reserve made again is still reported released")
	}
}

// TestDiskFullClaim fills the disk between two pieces of a job: the claim of the next piece is
// the write that fails, and the job ends FAILED saying why, rather than waiting in
// PROCESSING while every worker retries the claim.
func TestDiskFullClaim(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	now := time.Now()
	db, dir := openOnTmpfs(t, func() time.Time { return now })
	job := &pinfold.ImportJob{ID: "job", AppID: "app", Status: pinfold.JobCreated, CreatedAt: now,
		Definition: pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv"}}
	if err := db.CreateImportJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	if claimed, err := db.ClaimImportJob(ctx, "node", 1, now, now.Add(time.Minute)); err != nil || claimed == nil {
		t.Fatalf("claim job: %v %v", claimed, err)
	}
	if ok, err := db.SetImportJobStatus(ctx, "job", []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); err != nil || !ok {
		t.Fatalf("start planning: %v %v", ok, err)
	}
	var plan []*pinfold.Piece
	for i := range 3 {
		plan = append(plan, &pinfold.Piece{JobID: "job", AppID: "app", No: i, Bucket: "b", Key: "k.csv", ETag: "e",
			Start: int64(i * 100), End: int64(i*100 + 100), FirstLine: int64(i*10 + 2)})
	}
	if err := db.PlanImportJob(ctx, "job", plan); err != nil {
		t.Fatal(err)
	}
	fillAfterCheckpoint(t, dir)

	if p, _, err := db.ClaimPiece(ctx, "node", now, now.Add(time.Minute)); !errors.Is(err, pinfold.ErrDiskFull) {
		t.Fatalf("claim on a full disk: %v, %v; want ErrDiskFull", p, err)
	}
	got, err := db.FindImportJob(ctx, "app", "job")
	if err != nil || got.Status != pinfold.JobFailed || len(got.Failures) != 1 ||
		!strings.Contains(got.Failures[0], "could not be claimed") || !strings.Contains(got.Failures[0], "disk") {
		t.Fatalf("job after a claim failed on a full disk: %+v, %v", got, err)
	}
	if p, _, err := db.ClaimPiece(ctx, "node", now, now.Add(time.Minute)); p != nil || err != nil {
		t.Fatalf("claim after the job failed: %+v, %v; want nothing to claim", p, err)
	}
}
