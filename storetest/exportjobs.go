package storetest

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

func mustCreateExport(t *testing.T, s Store, app, id string, def pinfold.ExportDefinition) {
	t.Helper()
	if def.S3URLPrefix == "" {
		def.S3URLPrefix, def.RoleARN = "s3://exports/out/", "arn:aws:iam::123456789012:role/r"
	}
	if err := s.CreateExportJob(ctx, &pinfold.ExportJob{ID: id, AppID: app, Status: pinfold.JobCreated, CreatedAt: t0, Definition: def}); err != nil {
		t.Fatal(err)
	}
}

func mustExport(t *testing.T, s Store, app, id string) *pinfold.ExportJob {
	t.Helper()
	j, err := s.FindExportJob(ctx, app, id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// exportPieces returns n export pieces as the exporter plans them: the first starts at the
// first page, the last has no end.
func exportPieces(app, job string, n int) []*pinfold.Piece {
	var pieces []*pinfold.Piece
	for i := range n {
		p := &pinfold.Piece{No: i, AppID: app, Bucket: "exports", Key: fmt.Sprintf("out/%s/part-%05d.json.gz", job, i),
			SegmentVersion: 3}
		if i > 0 {
			p.StartToken = fmt.Sprintf("token-%d", i)
		}
		if i < n-1 {
			p.ThroughID = fmt.Sprintf("id-%d", i)
		}
		pieces = append(pieces, p)
	}
	return pieces
}

// mustPlanExport takes an export job through claiming and planning to PROCESSING with n
// pieces.
func mustPlanExport(t *testing.T, s Store, app, id string, n int) {
	t.Helper()
	j, err := s.ClaimExportJob(ctx, "planner", 100, t0, t0.Add(time.Minute))
	if err != nil || j == nil || j.ID != id || j.Status != pinfold.JobPreparingForInitialization {
		t.Fatalf("claim %s = %+v, %v", id, j, err)
	}
	if ok, err := s.SetExportJobStatus(ctx, id, []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); !ok || err != nil {
		t.Fatalf("to INITIALIZING: %v %v", ok, err)
	}
	if err := s.PlanExportJob(ctx, id, exportPieces(app, id, n)); err != nil {
		t.Fatal(err)
	}
}

// testExportJobs checks that export jobs are stored and listed apart from import jobs.
func testExportJobs(t *testing.T, s Store) {
	mustCreateApp(t, s, "a")
	mustCreateJob(t, s, "a", "import-0", pinfold.ImportDefinition{SegmentID: "seg"})
	for i := range 5 {
		def := pinfold.ExportDefinition{}
		if i%2 == 0 {
			def = pinfold.ExportDefinition{RoleARN: "r", S3URLPrefix: "s3://b/p", SegmentID: "seg", SegmentVersion: i}
		}
		mustCreateExport(t, s, "a", fmt.Sprintf("export-%d", i), def)
	}
	j := mustExport(t, s, "a", "export-2")
	want := pinfold.ExportDefinition{RoleARN: "r", S3URLPrefix: "s3://b/p", SegmentID: "seg", SegmentVersion: 2}
	if j.Status != pinfold.JobCreated || !j.CreatedAt.Equal(t0) || j.AppID != "a" || j.Definition != want || j.TotalPieces != 0 {
		t.Fatalf("export-2 = %+v", j)
	}
	for _, err := range []error{
		func() error { _, err := s.FindExportJob(ctx, "a", "import-0"); return err }(),
		func() error { _, err := s.FindImportJob(ctx, "a", "export-0"); return err }(),
		func() error { _, err := s.FindExportJob(ctx, "other", "export-0"); return err }(),
		func() error { _, _, err := s.FindExportJobs(ctx, "other", "", pinfold.Page{}); return err }(),
	} {
		wantCode(t, err, pinfold.ENOTFOUND)
	}
	if imports, _, err := s.FindImportJobs(ctx, "a", "", pinfold.Page{}); err != nil || len(imports) != 1 || imports[0].ID != "import-0" {
		t.Fatalf("FindImportJobs lists %v, %v; want only the import job", imports, err)
	}
	for _, tc := range []struct {
		segment string
		want    []string
	}{
		{"", []string{"export-4", "export-3", "export-2", "export-1", "export-0"}},
		{"seg", []string{"export-4", "export-2", "export-0"}},
	} {
		var got []string
		page := pinfold.Page{Size: 2}
		for {
			jobs, next, err := s.FindExportJobs(ctx, "a", tc.segment, page)
			if err != nil {
				t.Fatal(err)
			}
			for _, j := range jobs {
				got = append(got, j.ID)
			}
			if page.Token = next; next == "" {
				break
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Fatalf("export jobs of segment %q = %v, want %v", tc.segment, got, tc.want)
		}
	}
	_, _, err := s.FindExportJobs(ctx, "a", "", pinfold.Page{Token: "garbage"})
	wantCode(t, err, pinfold.EINVALID)
}

// testExportJobCap checks that export jobs have a cap of their own: active imports do not
// hold exports back, exports over the cap wait in PENDING_JOB, and neither kind's claim
// starts the other kind's jobs.
func testExportJobCap(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateJob(t, s, "app", "i1", pinfold.ImportDefinition{})
	mustCreateJob(t, s, "app", "i2", pinfold.ImportDefinition{})
	for _, id := range []string{"e1", "e2", "e3"} {
		mustCreateExport(t, s, "app", id, pinfold.ExportDefinition{})
	}
	if j, err := s.ClaimImportJob(ctx, "n", 1, t0, t0.Add(time.Minute)); err != nil || j == nil || j.ID != "i1" {
		t.Fatalf("import claim = %+v, %v", j, err)
	}
	if j, _ := s.ClaimImportJob(ctx, "n", 1, t0, t0.Add(time.Minute)); j != nil {
		t.Fatalf("import claim over its cap = %+v", j)
	}
	j, err := s.ClaimExportJob(ctx, "n", 2, t0, t0.Add(time.Minute))
	if err != nil || j == nil || j.ID != "e1" || j.Status != pinfold.JobPreparingForInitialization {
		t.Fatalf("export claim beside an active import = %+v, %v", j, err)
	}
	if j, _ := s.ClaimExportJob(ctx, "n", 2, t0, t0.Add(time.Minute)); j == nil || j.ID != "e2" {
		t.Fatalf("second export claim = %+v", j)
	}
	if j, _ := s.ClaimExportJob(ctx, "n", 2, t0, t0.Add(time.Minute)); j != nil {
		t.Fatalf("export claim over its cap = %+v", j)
	}
	if e3 := mustExport(t, s, "app", "e3"); e3.Status != pinfold.JobPendingJob {
		t.Fatalf("e3 is %s, want PENDING_JOB", e3.Status)
	}
	if i2 := mustJob(t, s, "app", "i2"); i2.Status != pinfold.JobPendingJob {
		t.Fatalf("i2 is %s, want PENDING_JOB", i2.Status)
	}
	// Planning of a node that died is taken over after its lease; then a failed job frees its slot.
	later := t0.Add(2 * time.Minute)
	if j, _ := s.ClaimExportJob(ctx, "m", 2, later, later.Add(time.Minute)); j == nil || j.ID != "e1" {
		t.Fatalf("claim after the lease = %+v", j)
	}
	if err := s.FailExportJob(ctx, "e1", "cannot write s3://exports/: access denied", later); err != nil {
		t.Fatal(err)
	}
	if err := s.FailImportJob(ctx, "e2", "not an import", later); err != nil {
		t.Fatal(err)
	}
	if e2 := mustExport(t, s, "app", "e2"); e2.Status != pinfold.JobPreparingForInitialization {
		t.Fatalf("FailImportJob moved export job e2 to %s", e2.Status)
	}
	if j, _ := s.ClaimExportJob(ctx, "m", 2, t0, t0.Add(time.Minute)); j == nil || j.ID != "e3" {
		t.Fatalf("claim after a slot freed = %+v", j)
	}
	e1 := mustExport(t, s, "app", "e1")
	if e1.Status != pinfold.JobFailed || !e1.CompletedAt.Equal(later) || !slices.Equal(e1.Failures, []string{"cannot write s3://exports/: access denied"}) {
		t.Fatalf("failed export = %+v", e1)
	}
	if ok, _ := s.SetImportJobStatus(ctx, "e3", []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); ok {
		t.Fatal("SetImportJobStatus moved an export job")
	}
}

// testExportPieces checks an export job's pieces: what planning stores, that import claims
// leave them alone, leases, completion by the holder only, and finishing.
func testExportPieces(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateExport(t, s, "app", "x", pinfold.ExportDefinition{})
	mustCreateJob(t, s, "app", "imp", pinfold.ImportDefinition{})
	mustPlanExport(t, s, "app", "x", 3)
	if j := mustExport(t, s, "app", "x"); j.Status != pinfold.JobProcessing || j.TotalPieces != 3 {
		t.Fatalf("planned export = %+v", j)
	}
	if p, _, err := s.ClaimPiece(ctx, "n", t0, t0.Add(time.Minute)); p != nil || err != nil {
		t.Fatalf("ClaimPiece took an export piece: %+v %v", p, err)
	}
	lease := t0.Add(time.Minute)
	p0, job, err := s.ClaimExportPiece(ctx, "node-a", t0, lease)
	want := exportPieces("app", "x", 3)[0]
	want.JobID, want.End, want.Gzip, want.Attempts = "x", -1, true, 1
	if err != nil || job == nil || job.ID != "x" || !reflect.DeepEqual(p0, want) {
		t.Fatalf("claim = %+v %+v, %v\nwant %+v", p0, job, err, want)
	}
	p1, _, _ := s.ClaimExportPiece(ctx, "node-b", t0, lease)
	p2, _, _ := s.ClaimExportPiece(ctx, "node-b", t0, lease)
	if p1 == nil || p1.No != 1 || p1.StartToken != "token-1" || p1.ThroughID != "id-1" || p2 == nil || p2.ThroughID != "" || p2.SegmentVersion != 3 {
		t.Fatalf("claims = %+v %+v", p1, p2)
	}
	if p, _, _ := s.ClaimExportPiece(ctx, "node-c", t0, lease); p != nil {
		t.Fatalf("claimed a held piece: %+v", p)
	}
	later := t0.Add(2 * time.Minute)
	if ok, _ := s.ExtendPieceLease(ctx, p1, "node-b", later.Add(time.Minute)); !ok {
		t.Fatal("node-b could not extend its lease")
	}
	if err := s.ReleasePiece(ctx, p2, "node-b", t0); err != nil {
		t.Fatal(err)
	}
	taken, _, err := s.ClaimExportPiece(ctx, "node-c", later, later.Add(time.Minute))
	if err != nil || taken == nil || taken.No != 0 || taken.Attempts != 2 {
		t.Fatalf("claim of an expired piece = %+v, %v", taken, err)
	}
	// The node that lost piece 0 wrote its object; its completion counts for nothing.
	if err := s.CompleteExportPiece(ctx, p0, "node-a", 1000); err != nil {
		t.Fatal(err)
	}
	if j := mustExport(t, s, "app", "x"); j.CompletedPieces != 0 || j.TotalProcessed != 0 {
		t.Fatalf("a lost piece was counted: %+v", j)
	}
	p2, _, _ = s.ClaimExportPiece(ctx, "node-c", later, later.Add(time.Minute))
	if p2 == nil || p2.No != 2 || p2.Attempts != 2 {
		t.Fatalf("claim of the released piece = %+v", p2)
	}
	for _, c := range []struct {
		p       *pinfold.Piece
		node    string
		written int64
	}{{taken, "node-c", 1000}, {p1, "node-b", 1000}, {p2, "node-c", 7}} {
		if ended, _ := s.FinishExportJob(ctx, "x", later); ended {
			t.Fatal("a job with pieces left finished")
		}
		if err := s.CompleteExportPiece(ctx, c.p, c.node, c.written); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err := s.UnfinishedExportJobs(ctx); err != nil || !slices.Equal(ids, []string{"x"}) {
		t.Fatalf("UnfinishedExportJobs = %v, %v", ids, err)
	}
	if ids, err := s.UnfinishedImportJobs(ctx); err != nil || len(ids) != 0 {
		t.Fatalf("UnfinishedImportJobs = %v, %v", ids, err)
	}
	if _, err := s.FinishImportJob(ctx, "x", later); pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Fatalf("FinishImportJob of an export job: %v", err)
	}
	if ended, err := s.FinishExportJob(ctx, "x", later); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	j := mustExport(t, s, "app", "x")
	if j.Status != pinfold.JobCompleted || j.CompletedPieces != 3 || j.TotalProcessed != 2007 || j.FailedPieces != 0 ||
		!j.CompletedAt.Equal(later) || len(j.Failures) != 0 {
		t.Fatalf("finished export = %+v", j)
	}
	if ended, _ := s.FinishExportJob(ctx, "x", later); ended {
		t.Fatal("a finished job finished again")
	}
	if _, err := s.DeleteApp(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	mustCreateApp(t, s, "app")
	if jobs, _, err := s.FindExportJobs(ctx, "app", "", pinfold.Page{}); err != nil || len(jobs) != 0 {
		t.Fatalf("export jobs survived their app: %v %v", jobs, err)
	}
}

// testFailingExport checks that a failed piece fails an export job once its other pieces
// are done.
func testFailingExport(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateExport(t, s, "app", "x", pinfold.ExportDefinition{})
	mustPlanExport(t, s, "app", "x", 2)
	p0, _, _ := s.ClaimExportPiece(ctx, "n", t0, t0.Add(time.Minute))
	p1, _, _ := s.ClaimExportPiece(ctx, "n", t0, t0.Add(time.Minute))
	if err := s.FailPiece(ctx, p0, "n", "s3://exports/out/x/part-00000.json.gz: bucket \"exports\" does not exist"); err != nil {
		t.Fatal(err)
	}
	if j := mustExport(t, s, "app", "x"); j.Status != pinfold.JobFailing || j.FailedPieces != 1 {
		t.Fatalf("after a failed piece: %+v", j)
	}
	if err := s.CompleteExportPiece(ctx, p1, "n", 5); err != nil {
		t.Fatal(err)
	}
	if ended, err := s.FinishExportJob(ctx, "x", t0); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	j := mustExport(t, s, "app", "x")
	if j.Status != pinfold.JobFailed || j.CompletedPieces != 1 || j.FailedPieces != 1 || j.TotalProcessed != 5 || len(j.Failures) != 1 {
		t.Fatalf("failed export = %+v", j)
	}
}

// testEndpointIDs checks the reads an export pages an app with: IDs in byte order across
// pages, and endpoints by ID.
func testEndpointIDs(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateApp(t, s, "empty")
	var updates []*pinfold.EndpointUpdate
	for _, id := range []string{"b", "ab", "a-c", "A", "é", "z"} {
		updates = append(updates, &pinfold.EndpointUpdate{ID: id, ChannelType: sp("EMAIL"), Address: sp(id + "@example.com")})
	}
	MustWriteEndpoints(t, s, "app", t0, updates...)
	var got []string
	page := pinfold.Page{Size: 4}
	for pages := 1; ; pages++ {
		ids, next, err := s.FindEndpointIDs(ctx, "app", page)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ids...)
		if next == "" {
			if pages != 2 {
				t.Fatalf("%d pages of 4, want 2", pages)
			}
			break
		}
		page.Token = next
	}
	want := []string{"A", "a-c", "ab", "b", "z", "é"} // by bytes, as SQLite and Go order strings
	if !slices.Equal(got, want) {
		t.Fatalf("FindEndpointIDs = %q, want %q", got, want)
	}
	if ids, next, err := s.FindEndpointIDs(ctx, "empty", pinfold.Page{}); err != nil || len(ids) != 0 || next != "" {
		t.Fatalf("IDs of an empty app = %v %q %v", ids, next, err)
	}
	_, _, err := s.FindEndpointIDs(ctx, "nope", pinfold.Page{})
	wantCode(t, err, pinfold.ENOTFOUND)
	_, _, err = s.FindEndpointIDs(ctx, "app", pinfold.Page{Token: "garbage"})
	wantCode(t, err, pinfold.EINVALID)

	found, err := s.FindEndpointsByID(ctx, "app", []string{"z", "missing", "a-c", "ab"})
	if err != nil || len(found) != 3 || found[0].ID != "a-c" || found[1].ID != "ab" || found[2].ID != "z" {
		t.Fatalf("FindEndpointsByID = %+v, %v", found, err)
	}
	if !reflect.DeepEqual(found[2], mustEndpoint(t, s, "app", "z")) {
		t.Fatalf("FindEndpointsByID gave %+v, FindEndpoint %+v", found[2], mustEndpoint(t, s, "app", "z"))
	}
	if found, err := s.FindEndpointsByID(ctx, "app", nil); err != nil || len(found) != 0 {
		t.Fatalf("FindEndpointsByID(nil) = %v, %v", found, err)
	}
	_, err = s.FindEndpointsByID(ctx, "nope", []string{"z"})
	wantCode(t, err, pinfold.ENOTFOUND)
}
