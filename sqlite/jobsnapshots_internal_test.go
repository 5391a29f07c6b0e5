package sqlite

import (
	"context"
	"database/sql"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/storetest"
)

// TestWritesCounted holds the package to DB.write's rule: outside Open and Close, only the
// functions that count the write when it ends (DB.writes) may use the write connection. A
// write that is not counted would let FindImportJob return a job as it was before it. Stats
// reads the pool's figures, and runs nothing on it.
func TestWritesCounted(t *testing.T) {
	allowed := map[string]bool{"Open": true, "Close": true, "exec": true, "writeTx": true, "recordTx": true, "Stats": true}
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	uses := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok {
				continue
			}
			ast.Inspect(fn, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "write" {
					return true
				}
				uses++
				if !allowed[fn.Name.Name] {
					t.Errorf("%s: %s uses the write connection directly; go through exec, writeTx or recordTx, which count the write",
						fset.Position(sel.Pos()), fn.Name.Name)
				}
				return true
			})
		}
	}
	if uses < len(allowed) {
		t.Fatalf("found %d uses of the write connection, want at least %d: is the field still named write?", uses, len(allowed))
	}
}

// TestFindImportJobKeepsReads checks that a job read since the last write ended is not read
// again, and that a write ending lets the next read see the database.
func TestFindImportJobKeepsReads(t *testing.T) {
	ctx := context.Background()
	db := openTestDB(t)
	if err := db.CreateApp(ctx, &pinfold.App{ID: "app", Name: "a", CreatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateImportJob(ctx, &pinfold.ImportJob{ID: "job", AppID: "app", Status: pinfold.JobCreated, CreatedAt: time.Now(),
		Definition: pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv"}}); err != nil {
		t.Fatal(err)
	}
	find := func() *pinfold.ImportJob {
		t.Helper()
		j, err := db.FindImportJob(ctx, "app", "job")
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	// The first write transaction learns the connection's count of changed rows (the
	// statements above changed some): from here on, one that changes nothing is not counted.
	if err := db.writeTx(ctx, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	find()
	// Writes that change no row do not end the kept read: a claim that finds nothing (rolled
	// back), an empty transaction, a statement that matches nothing.
	if p, _, err := db.ClaimPiece(ctx, "node", time.Now(), time.Now().Add(time.Minute)); err != nil || p != nil {
		t.Fatalf("ClaimPiece = %v, %v", p, err)
	}
	if err := db.writeTx(ctx, func(*sql.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if ok, err := db.SetImportJobStatus(ctx, "job", []string{pinfold.JobProcessing}, pinfold.JobCompleted); ok || err != nil {
		t.Fatalf("SetImportJobStatus of a job not processing = %v, %v", ok, err)
	}
	// A change that bypasses the count is not seen: the job is the one read before.
	if _, err := db.write.ExecContext(ctx, `UPDATE import_jobs SET total_processed = 7 WHERE id = 'job'`); err != nil {
		t.Fatal(err)
	}
	if j := find(); j.TotalProcessed != 0 {
		t.Fatalf("TotalProcessed = %d, want the kept 0", j.TotalProcessed)
	}
	if _, err := db.FindImportJob(ctx, "other", "job"); pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Fatalf("job of another app: %v, want NotFound", err)
	}
	// One that changes a row does.
	if ok, err := db.SetImportJobStatus(ctx, "job", []string{pinfold.JobCreated}, pinfold.JobPendingJob); !ok || err != nil {
		t.Fatalf("SetImportJobStatus = %v, %v", ok, err)
	}
	if j := find(); j.TotalProcessed != 7 || j.Status != pinfold.JobPendingJob {
		t.Fatalf("job = %+v after a write ended, want 7 rows and %s", j, pinfold.JobPendingJob)
	}
	if err := db.writeTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE import_jobs SET total_processed = 8 WHERE id = 'job'`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if j := find(); j.TotalProcessed != 8 {
		t.Fatalf("TotalProcessed = %d after a transaction changed it, want 8", j.TotalProcessed)
	}
	// What a caller gets is its own.
	if _, err := db.exec(ctx, `INSERT INTO import_failures (job_id, piece, line, seq, message) VALUES ('job', 0, 1, 0, 'bad row')`); err != nil {
		t.Fatal(err)
	}
	j := find()
	j.Failures[0], j.Status = "changed", "changed"
	if j := find(); !slices.Equal(j.Failures, []string{"bad row"}) || j.Status != pinfold.JobPendingJob {
		t.Fatalf("job = %+v after the caller changed its copy", j)
	}
	// The job's app goes, and with it the job.
	if _, err := db.DeleteApp(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindImportJob(ctx, "app", "job"); pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Fatalf("job of a deleted app: %v, want NotFound", err)
	}
}

// TestJobSnapshotsCount checks that jobSnapshots keeps reads of the latest count only.
func TestJobSnapshotsCount(t *testing.T) {
	var c jobSnapshots
	c.put(&pinfold.ImportJob{ID: "a", Status: "1"}, 5)
	if _, ok := c.get("a", 6); ok {
		t.Fatal("a read under 5 was kept for 6")
	}
	c.put(&pinfold.ImportJob{ID: "b"}, 4) // began before a write that a read under 5 saw end
	if _, ok := c.get("b", 4); ok {
		t.Fatal("a read under 4 was kept after one under 5")
	}
	c.put(&pinfold.ImportJob{ID: "b"}, 6)
	if _, ok := c.get("a", 6); ok {
		t.Fatal("a read under 5 survived one under 6")
	}
	if j, ok := c.get("b", 6); !ok || j.ID != "b" {
		t.Fatalf("get b = %+v, %v", j, ok)
	}
}

// checkedDB checks every FindImportJob of the store suite against a read of the database.
type checkedDB struct {
	*DB
	t *testing.T
}

func (c checkedDB) FindImportJob(ctx context.Context, appID, jobID string) (*pinfold.ImportJob, error) {
	got, err := c.DB.FindImportJob(ctx, appID, jobID)
	want, wantErr := c.DB.readImportJob(ctx, appID, jobID)
	if pinfold.ErrorCode(err) != pinfold.ErrorCode(wantErr) || !reflect.DeepEqual(got, want) {
		c.t.Errorf("FindImportJob(%q, %q) = %+v, %v; the database has %+v, %v", appID, jobID, got, err, want, wantErr)
	}
	return got, err
}

// TestStoreJobsAsStored runs the store suite with every FindImportJob checked against the
// database: a write that did not count itself would show as a job read before it.
func TestStoreJobsAsStored(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Store {
		return checkedDB{openTestDB(t), t}
	})
}
