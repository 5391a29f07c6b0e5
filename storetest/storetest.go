// Package storetest is the conformance suite every Pinfold store passes: the same tests run
// against SQLite and PostgreSQL, so the two stores behave alike to the letter.
package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// Store is everything a Pinfold store implements.
type Store interface {
	pinfold.AppStore
	pinfold.EndpointStore
	pinfold.SegmentStore
	pinfold.ImportJobStore
	pinfold.KeyStore
	pinfold.ExportJobStore
}

// Run runs the suite; open returns a new, empty store that t closes.
func Run(t *testing.T, open func(t *testing.T) Store) {
	for _, tc := range []struct {
		name string
		fn   func(t *testing.T, s Store)
	}{
		{"Apps", testApps},
		{"AppsPaging", testAppsPaging},
		{"ImportJobsPaging", testImportJobsPaging},
		{"ActiveJobCap", testActiveJobCap},
		{"PieceLeases", testPieceLeases},
		{"PieceWrites", testPieceWrites},
		{"PieceReimports", testPieceReimports},
		{"BulkPut", testBulkPut},
		{"SegmentVersions", testSegmentVersions},
		{"FailingJob", testFailingJob},
		{"PolledJob", testPolledJob},
		{"FailuresPaging", testFailuresPaging},
		{"JobStates", testJobStates},
		{"ConcurrentPieces", testConcurrentPieces},
		{"DeleteApp", testDeleteApp},
		{"UpdateEndpoints", testUpdateEndpoints},
		{"InactiveRule", testInactiveRule},
		{"AttributeNameQuota", testAttributeNameQuota},
		{"ConcurrentWriters", testConcurrentWriters},
		{"DeleteEndpoints", testDeleteEndpoints},
		{"SegmentWrites", testSegmentWrites},
		{"SegmentMembers", testSegmentMembers},
		{"Keys", testKeys},
		{"KeysPaging", testKeysPaging},
		{"ConcurrentRevokes", testConcurrentRevokes},
		{"ExportJobs", testExportJobs},
		{"ExportJobCap", testExportJobCap},
		{"ExportPieces", testExportPieces},
		{"FailingExport", testFailingExport},
		{"EndpointIDs", testEndpointIDs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, open(t))
		})
	}
}

var ctx = context.Background()

// t0 is the suite's clock: whole milliseconds in UTC, so stored times compare equal.
var t0 = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

func mustCreateApp(t *testing.T, s Store, id string) {
	t.Helper()
	if err := s.CreateApp(ctx, &pinfold.App{ID: id, Name: "app " + id, Tags: map[string]string{"k": "v"}, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
}

func mustCreateJob(t *testing.T, s Store, app, id string, def pinfold.ImportDefinition) {
	t.Helper()
	if def.Format == "" {
		def.Format, def.S3URL, def.RoleARN = "CSV", "s3://b/k.csv", "arn:aws:iam::123456789012:role/r"
	}
	if err := s.CreateImportJob(ctx, &pinfold.ImportJob{ID: id, AppID: app, Status: pinfold.JobCreated, CreatedAt: t0, Definition: def}); err != nil {
		t.Fatal(err)
	}
}

func member(id, channel string) pinfold.Member {
	return pinfold.Member{EndpointID: id, ChannelType: channel}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if pinfold.ErrorCode(err) != code {
		t.Fatalf("error = %v, want code %s", err, code)
	}
}

func mustJob(t *testing.T, s Store, app, id string) *pinfold.ImportJob {
	t.Helper()
	j, err := s.FindImportJob(ctx, app, id)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// mustPlan takes a job through claiming and planning to PROCESSING with n pieces.
func mustPlan(t *testing.T, s Store, app, id string, n int) {
	t.Helper()
	j, err := s.ClaimImportJob(ctx, "planner", 100, t0, t0.Add(time.Minute))
	if err != nil || j == nil || j.ID != id {
		t.Fatalf("claim %s = %+v, %v", id, j, err)
	}
	if ok, err := s.SetImportJobStatus(ctx, id, []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); !ok || err != nil {
		t.Fatalf("to INITIALIZING: %v %v", ok, err)
	}
	var pieces []*pinfold.Piece
	for i := range n {
		pieces = append(pieces, &pinfold.Piece{No: i, AppID: app, Bucket: "b", Key: "k.csv", ETag: `"e"`,
			Start: int64(i * 100), End: int64(i*100 + 100), FirstLine: int64(i*10 + 1), Header: "Id", Gzip: i%2 == 1})
	}
	if err := s.PlanImportJob(ctx, id, pieces); err != nil {
		t.Fatal(err)
	}
}

func testApps(t *testing.T, s Store) {
	mustCreateApp(t, s, "a1")
	app, err := s.FindAppByID(ctx, "a1")
	if err != nil || app.Name != "app a1" || app.Tags["k"] != "v" || !app.CreatedAt.Equal(t0) {
		t.Fatalf("FindAppByID = %+v, %v", app, err)
	}
	_, err = s.FindAppByID(ctx, "nope")
	wantCode(t, err, pinfold.ENOTFOUND)
	_, err = s.DeleteApp(ctx, "nope")
	wantCode(t, err, pinfold.ENOTFOUND)
	deleted, err := s.DeleteApp(ctx, "a1")
	if err != nil || deleted.ID != "a1" {
		t.Fatalf("DeleteApp = %+v, %v", deleted, err)
	}
	_, err = s.FindAppByID(ctx, "a1")
	wantCode(t, err, pinfold.ENOTFOUND)
}

func testAppsPaging(t *testing.T, s Store) {
	var want []string
	for i := range 5 {
		id := fmt.Sprintf("app-%d", i)
		mustCreateApp(t, s, id)
		want = append(want, id)
	}
	var got []string
	page := pinfold.Page{Size: 2}
	for pages := 0; ; pages++ {
		apps, next, err := s.FindApps(ctx, page)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range apps {
			got = append(got, a.ID)
		}
		if next == "" {
			if pages != 2 {
				t.Fatalf("%d pages, want 3", pages+1)
			}
			break
		}
		page.Token = next
	}
	if !slices.Equal(got, want) {
		t.Fatalf("apps %v, want %v (oldest first)", got, want)
	}
	_, _, err := s.FindApps(ctx, pinfold.Page{Token: "garbage"})
	wantCode(t, err, pinfold.EINVALID)
}

func testImportJobsPaging(t *testing.T, s Store) {
	mustCreateApp(t, s, "a")
	for i := range 5 {
		def := pinfold.ImportDefinition{}
		if i%2 == 0 {
			def = pinfold.ImportDefinition{Format: "JSON", S3URL: "s3://b/x", RoleARN: "r", SegmentID: "seg", DefineSegment: true, RegisterEndpoints: true, ExternalID: "x", SegmentName: "n"}
		}
		mustCreateJob(t, s, "a", fmt.Sprintf("job-%d", i), def)
	}
	j := mustJob(t, s, "a", "job-0")
	if j.Status != pinfold.JobCreated || !j.CreatedAt.Equal(t0) || j.Definition.SegmentName != "n" || !j.Definition.DefineSegment || j.Definition.Format != "JSON" {
		t.Fatalf("job-0 = %+v", j)
	}
	_, err := s.FindImportJob(ctx, "a", "nope")
	wantCode(t, err, pinfold.ENOTFOUND)
	_, err = s.FindImportJob(ctx, "other-app", "job-0")
	wantCode(t, err, pinfold.ENOTFOUND)
	for _, tc := range []struct {
		segment string
		want    []string
	}{
		{"", []string{"job-4", "job-3", "job-2", "job-1", "job-0"}},
		{"seg", []string{"job-4", "job-2", "job-0"}},
	} {
		var got []string
		page := pinfold.Page{Size: 2}
		for {
			jobs, next, err := s.FindImportJobs(ctx, "a", tc.segment, page)
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
			t.Fatalf("jobs of segment %q = %v, want %v", tc.segment, got, tc.want)
		}
	}
}

// testActiveJobCap checks that no more than maxActive jobs run, that the others wait in
// PENDING_JOB in creation order, and that planning a dead node left behind is taken over.
func testActiveJobCap(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	for _, id := range []string{"a", "b", "c"} {
		mustCreateJob(t, s, "app", id, pinfold.ImportDefinition{})
	}
	j, err := s.ClaimImportJob(ctx, "node-a", 1, t0, t0.Add(time.Minute))
	if err != nil || j == nil || j.ID != "a" || j.Status != pinfold.JobPreparingForInitialization {
		t.Fatalf("first claim = %+v, %v", j, err)
	}
	if j, err := s.ClaimImportJob(ctx, "node-b", 1, t0, t0.Add(time.Minute)); err != nil || j != nil {
		t.Fatalf("claim over the cap = %+v, %v", j, err)
	}
	if b, c := mustJob(t, s, "app", "b"), mustJob(t, s, "app", "c"); b.Status != pinfold.JobPendingJob || c.Status != pinfold.JobPendingJob {
		t.Fatalf("waiting jobs are %s and %s, want PENDING_JOB", b.Status, c.Status)
	}
	later := t0.Add(2 * time.Minute)
	j, err = s.ClaimImportJob(ctx, "node-b", 1, later, later.Add(time.Minute))
	if err != nil || j == nil || j.ID != "a" {
		t.Fatalf("claim after the lease = %+v, %v", j, err)
	}
	if err := s.FailImportJob(ctx, "a", "no objects", later); err != nil {
		t.Fatal(err)
	}
	j, err = s.ClaimImportJob(ctx, "node-b", 1, later, later.Add(time.Minute))
	if err != nil || j == nil || j.ID != "b" || mustJob(t, s, "app", "b").Status != pinfold.JobPreparingForInitialization {
		t.Fatalf("claim after a slot freed = %+v, %v", j, err)
	}
	if err := s.FailImportJob(ctx, "a", "again", later); err != nil {
		t.Fatal(err)
	}
	if a := mustJob(t, s, "app", "a"); a.Status != pinfold.JobFailed || !slices.Equal(a.Failures, []string{"no objects"}) || !a.CompletedAt.Equal(later) {
		t.Fatalf("job a = %+v", a)
	}
}

// testPieceLeases checks that a piece whose lease ran out is claimed again and that the node
// that lost it can no longer commit it.
func testPieceLeases(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateJob(t, s, "app", "a", pinfold.ImportDefinition{})
	mustPlan(t, s, "app", "a", 2)
	if ok, _ := s.SetImportJobStatus(ctx, "a", []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); ok {
		t.Fatal("a PROCESSING job moved back to INITIALIZING")
	}
	if j := mustJob(t, s, "app", "a"); j.Status != pinfold.JobProcessing || j.TotalPieces != 2 {
		t.Fatalf("planned job = %+v", j)
	}
	lease := t0.Add(time.Minute)
	p0, job, err := s.ClaimPiece(ctx, "node-a", t0, lease)
	if err != nil || p0 == nil || p0.No != 0 || p0.Attempts != 1 || job.ID != "a" || p0.ETag != `"e"` || p0.End != 100 || p0.Gzip {
		t.Fatalf("claim = %+v %+v, %v", p0, job, err)
	}
	p1, _, _ := s.ClaimPiece(ctx, "node-b", t0, lease)
	if p1 == nil || p1.No != 1 || p1.Header != "Id" || p1.FirstLine != 11 || !p1.Gzip || p1.Start != 100 {
		t.Fatalf("second claim = %+v", p1)
	}
	if p, _, _ := s.ClaimPiece(ctx, "node-c", t0, lease); p != nil {
		t.Fatalf("claimed a held piece: %+v", p)
	}
	later := t0.Add(2 * time.Minute)
	if ok, _ := s.ExtendPieceLease(ctx, p1, "node-b", later.Add(time.Minute)); !ok {
		t.Fatal("node-b could not extend its lease")
	}
	if ok, _ := s.ExtendPieceLease(ctx, p1, "node-x", later.Add(time.Minute)); ok {
		t.Fatal("another node extended node-b's lease")
	}
	taken, _, err := s.ClaimPiece(ctx, "node-c", later, later.Add(time.Minute))
	if err != nil || taken == nil || taken.No != 0 || taken.Attempts != 2 {
		t.Fatalf("claim of an expired piece = %+v, %v", taken, err)
	}
	called := false
	if err := s.CommitPiece(ctx, p0, "node-a", func(pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		called = true
		return &pinfold.PieceOutcome{Processed: 5}, nil
	}); err != nil || called {
		t.Fatalf("the node that lost the piece committed it: %v %v", called, err)
	}
	// A released piece waits until its notBefore.
	if err := s.ReleasePiece(ctx, taken, "node-c", later.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if p, _, _ := s.ClaimPiece(ctx, "node-c", later, later.Add(time.Minute)); p != nil {
		t.Fatalf("claimed a released piece before its time: %+v", p)
	}
	if taken, _, _ = s.ClaimPiece(ctx, "node-c", later.Add(2*time.Hour), later.Add(3*time.Hour)); taken == nil || taken.Attempts != 3 {
		t.Fatalf("claim after the backoff = %+v", taken)
	}
	for _, c := range []struct {
		p    *pinfold.Piece
		node string
		out  pinfold.PieceOutcome
	}{
		{taken, "node-c", pinfold.PieceOutcome{Processed: 2, Failures: []pinfold.Failure{{Piece: 0, Line: 2, Message: "k:2: bad"}}}},
		{p1, "node-b", pinfold.PieceOutcome{Processed: 3}},
	} {
		if err := s.CommitPiece(ctx, c.p, c.node, func(pinfold.PieceTx) (*pinfold.PieceOutcome, error) { return &c.out, nil }); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err := s.UnfinishedImportJobs(ctx); err != nil || !slices.Equal(ids, []string{"a"}) {
		t.Fatalf("UnfinishedImportJobs = %v, %v", ids, err)
	}
	if ended, err := s.FinishImportJob(ctx, "a", later); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	j := mustJob(t, s, "app", "a")
	if j.Status != pinfold.JobCompleted || j.TotalProcessed != 5 || j.TotalFailures != 1 || j.CompletedPieces != 2 ||
		j.TotalPieces != 2 || !slices.Equal(j.Failures, []string{"k:2: bad"}) || !j.CompletedAt.Equal(later) {
		t.Fatalf("job = %+v", j)
	}
	if ended, _ := s.FinishImportJob(ctx, "a", later); ended {
		t.Fatal("a finished job finished again")
	}
	if ids, _ := s.UnfinishedImportJobs(ctx); len(ids) != 0 {
		t.Fatalf("UnfinishedImportJobs after the end = %v", ids)
	}
}

func endpoint(app, id, channel, address, user string) *pinfold.Endpoint {
	lat := 47.6
	return &pinfold.Endpoint{ID: id, AppID: app, ChannelType: channel, Address: address, User: pinfold.User{UserID: user,
		UserAttributes: pinfold.AttributesOf(map[string][]string{"tier": {"gold"}})}, Attributes: pinfold.AttributesOf(map[string][]string{"color": {"red", "blue"}}),
		Metrics: pinfold.MetricsOf(map[string]float64{"visits": 3.5}), Location: pinfold.Location{Country: "US", Latitude: &lat},
		Demographic: pinfold.Demographic{Platform: "iOS"}, EffectiveDate: "2026-11-28T12:00:00.000Z", EndpointStatus: "ACTIVE",
		OptOut: "NONE", CohortID: pinfold.CohortID(id), CreatedAt: t0}
}

// commit claims the job's next piece and commits fn in it.
func commit(t *testing.T, s Store, fn func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error)) {
	t.Helper()
	p, _, err := s.ClaimPiece(ctx, "n", t0, t0.Add(time.Minute))
	if err != nil || p == nil {
		t.Fatalf("claim: %+v %v", p, err)
	}
	if err := s.CommitPiece(ctx, p, "n", fn); err != nil {
		t.Fatal(err)
	}
}

// testPieceWrites checks what a piece's transaction offers: endpoint lookups and bulk writes,
// user lookups, and segment members.
func testPieceWrites(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateJob(t, s, "app", "j", pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv", RoleARN: "r", ExternalID: "x",
		DefineSegment: true, SegmentID: "seg", SegmentName: "imported"})
	mustPlan(t, s, "app", "j", 2)
	e1, e2 := endpoint("app", "e1", "EMAIL", "a@example.com", "u1"), endpoint("app", "e2", "SMS", "+1", "u1")
	commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		found, err := tx.FindEndpoints(ctx, "app", []string{"e1", "e2"})
		if err != nil || len(found) != 0 {
			t.Fatalf("FindEndpoints before any write = %v, %v", found, err)
		}
		if err := tx.PutEndpoints(ctx, []*pinfold.Endpoint{e1, e2}); err != nil {
			return nil, err
		}
		updated := *e2
		updated.Address = "+2"
		if err := tx.PutEndpoints(ctx, []*pinfold.Endpoint{&updated}); err != nil {
			return nil, err
		}
		found, err = tx.FindEndpoints(ctx, "app", []string{"e1", "e2", "e3"})
		if err != nil || len(found) != 2 || found["e2"].Address != "+2" {
			t.Fatalf("FindEndpoints in the transaction = %v, %v", found, err)
		}
		return &pinfold.PieceOutcome{Processed: 2}, tx.AddJobMembers(ctx, "j", []pinfold.Member{member("e1", "EMAIL"), member("e2", "SMS"), member("e1", "EMAIL")})
	})
	got, err := s.FindEndpoint(ctx, "app", "e1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, e1) {
		t.Fatalf("stored endpoint\n%+v\nwant\n%+v", got, e1)
	}
	_, err = s.FindEndpoint(ctx, "app", "e3")
	wantCode(t, err, pinfold.ENOTFOUND)
	_, err = s.FindEndpoint(ctx, "no-app", "e1")
	wantCode(t, err, pinfold.ENOTFOUND)
	commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		users, err := tx.FindUserEndpoints(ctx, "app", []string{"u1", "nobody"})
		if err != nil || len(users) != 1 || len(users["u1"]) != 2 {
			t.Fatalf("FindUserEndpoints = %v, %v", users, err)
		}
		return &pinfold.PieceOutcome{Processed: 1}, tx.AddJobMembers(ctx, "j", users["u1"])
	})
	if ended, err := s.FinishImportJob(ctx, "j", t0.Add(time.Hour)); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	seg, err := s.FindSegment(ctx, "app", "seg")
	if err != nil {
		t.Fatal(err)
	}
	if seg.Type != pinfold.SegmentTypeImport || seg.Name != "imported" || seg.Version != 1 || !seg.CreatedAt.Equal(t0.Add(time.Hour)) ||
		seg.Import == nil || seg.Import.Size != 2 || seg.Import.ChannelCounts["SMS"] != 1 || seg.Import.ExternalID != "x" || seg.Import.S3URL != "s3://b/k.csv" {
		t.Fatalf("segment = %+v %+v", seg, seg.Import)
	}
	ids, next, err := s.FindSegmentMembers(ctx, "app", "seg", 1, pinfold.Page{Size: 1})
	if err != nil || !slices.Equal(ids, []string{"e1"}) || next == "" {
		t.Fatalf("members page 1 = %v %q %v", ids, next, err)
	}
	ids, next, err = s.FindSegmentMembers(ctx, "app", "seg", 1, pinfold.Page{Size: 1, Token: next})
	if err != nil || !slices.Equal(ids, []string{"e2"}) || next != "" {
		t.Fatalf("members page 2 = %v %q %v", ids, next, err)
	}
}

// testBulkPut writes a piece's worth of endpoints in one PutEndpoints, and as many segment
// members in one AddJobMembers, more than a store writes in one statement and not a multiple
// of it, then writes them again with some changed and the others as they were.
func testBulkPut(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateJob(t, s, "app", "j", pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv", RoleARN: "r",
		DefineSegment: true, SegmentID: "seg", SegmentName: "bulk"})
	mustPlan(t, s, "app", "j", 2)
	const n = 203
	var ids []string
	written := map[string]*pinfold.Endpoint{}
	var batch []*pinfold.Endpoint
	for i := range n {
		// Not in key order: the store may sort, the result must not depend on it.
		id := fmt.Sprintf("e%03d", (i*11)%n) // 11 and n are coprime: every ID once
		e := endpoint("app", id, "EMAIL", id+"@example.com", fmt.Sprintf("u%02d", i/3))
		ids = append(ids, id)
		written[id] = e
		batch = append(batch, e)
	}
	check := func(what string) {
		t.Helper()
		for _, id := range ids {
			got, err := s.FindEndpoint(ctx, "app", id)
			if err != nil {
				t.Fatalf("%s: endpoint %s: %v", what, id, err)
			}
			if !reflect.DeepEqual(got, written[id]) {
				t.Fatalf("%s: endpoint %s\n%+v\nwant\n%+v", what, id, got, written[id])
			}
		}
	}
	members := func() []pinfold.Member {
		var m []pinfold.Member
		for _, e := range batch {
			m = append(m, member(e.ID, e.ChannelType))
		}
		return m
	}
	commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		if err := tx.PutEndpoints(ctx, batch); err != nil {
			return nil, err
		}
		return &pinfold.PieceOutcome{Processed: n}, tx.AddJobMembers(ctx, "j", members())
	})
	check("first write")
	// Every 10th endpoint moves to a new user, address and channel, the rest are written
	// unchanged.
	for i, e := range batch {
		if i%10 == 0 {
			changed := *e
			changed.Address = e.ID + "@moved.example.com"
			changed.User.UserID = "mover"
			changed.ChannelType = "SMS"
			batch[i], written[e.ID] = &changed, &changed
		}
	}
	commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		if err := tx.PutEndpoints(ctx, batch); err != nil {
			return nil, err
		}
		return &pinfold.PieceOutcome{Processed: n}, tx.AddJobMembers(ctx, "j", members())
	})
	check("second write")
	if ended, err := s.FinishImportJob(ctx, "j", t0.Add(time.Hour)); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	seg, err := s.FindSegment(ctx, "app", "seg")
	if err != nil {
		t.Fatal(err)
	}
	if movers := (n + 9) / 10; seg.Import == nil || seg.Import.Size != n || seg.Import.ChannelCounts["SMS"] != movers ||
		seg.Import.ChannelCounts["EMAIL"] != n-movers {
		t.Fatalf("segment of the job = %+v; want %d members, %d of them SMS", seg.Import, n, movers)
	}
	movers, err := s.FindEndpointsByUser(ctx, "app", "mover")
	if err != nil || len(movers) != (n+9)/10 {
		t.Fatalf("FindEndpointsByUser(mover) = %d endpoints, %v; want %d", len(movers), err, (n+9)/10)
	}
	// u00 had batch[0] to batch[2]; batch[0] moved away.
	if left, err := s.FindEndpointsByUser(ctx, "app", "u00"); err != nil || len(left) != 2 {
		t.Fatalf("FindEndpointsByUser(u00) = %d endpoints, %v; want 2", len(left), err)
	}
}

// runImport runs a one-piece job that adds members to segment seg.
func runImport(t *testing.T, s Store, job, seg, name string, members []pinfold.Member, at time.Time) {
	t.Helper()
	mustCreateJob(t, s, "app", job, pinfold.ImportDefinition{Format: "JSON", S3URL: "s3://b/" + job, RoleARN: "r", SegmentID: seg, SegmentName: name, DefineSegment: name != ""})
	mustPlan(t, s, "app", job, 1)
	commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		return &pinfold.PieceOutcome{Processed: int64(len(members))}, tx.AddJobMembers(ctx, job, members)
	})
	if ended, err := s.FinishImportJob(ctx, job, at); !ended || err != nil {
		t.Fatalf("finish %s: %v %v", job, ended, err)
	}
}

func testSegmentVersions(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	runImport(t, s, "j1", "seg", "first", []pinfold.Member{member("a", "EMAIL"), member("b", "SMS")}, t0)
	runImport(t, s, "j2", "seg", "", []pinfold.Member{member("b", "SMS"), member("c", "EMAIL")}, t0.Add(time.Hour))
	runImport(t, s, "j3", "other", "second", []pinfold.Member{member("z", "PUSH")}, t0.Add(2*time.Hour))
	seg, err := s.FindSegment(ctx, "app", "seg")
	if err != nil || seg.Version != 2 || seg.Name != "first" || seg.Import.Size != 3 || seg.Import.S3URL != "s3://b/j2" ||
		!seg.CreatedAt.Equal(t0) || !seg.UpdatedAt.Equal(t0.Add(time.Hour)) {
		t.Fatalf("latest = %+v %+v, %v", seg, seg.Import, err)
	}
	v1, err := s.FindSegmentVersion(ctx, "app", "seg", 1)
	if err != nil || v1.Version != 1 || v1.Import.Size != 2 || v1.Import.ChannelCounts["EMAIL"] != 1 {
		t.Fatalf("v1 = %+v, %v", v1, err)
	}
	ids, _, _ := s.FindSegmentMembers(ctx, "app", "seg", 1, pinfold.Page{})
	if !slices.Equal(ids, []string{"a", "b"}) {
		t.Fatalf("v1 members = %v", ids)
	}
	ids, _, _ = s.FindSegmentMembers(ctx, "app", "seg", 0, pinfold.Page{})
	if !slices.Equal(ids, []string{"a", "b", "c"}) {
		t.Fatalf("latest members = %v", ids)
	}
	_, err = s.FindSegmentVersion(ctx, "app", "seg", 3)
	wantCode(t, err, pinfold.ENOTFOUND)
	_, err = s.FindSegment(ctx, "app", "nope")
	wantCode(t, err, pinfold.ENOTFOUND)
	versions, next, err := s.FindSegmentVersions(ctx, "app", "seg", pinfold.Page{Size: 1})
	if err != nil || len(versions) != 1 || versions[0].Version != 1 || next == "" {
		t.Fatalf("versions page 1 = %+v %q %v", versions, next, err)
	}
	versions, next, err = s.FindSegmentVersions(ctx, "app", "seg", pinfold.Page{Size: 1, Token: next})
	if err != nil || len(versions) != 1 || versions[0].Version != 2 || next != "" {
		t.Fatalf("versions page 2 = %+v %q %v", versions, next, err)
	}
	segs, next, err := s.FindSegments(ctx, "app", pinfold.Page{})
	if err != nil || len(segs) != 2 || segs[0].ID != "seg" || segs[0].Version != 2 || segs[1].ID != "other" || next != "" {
		t.Fatalf("segments = %+v %q %v", segs, next, err)
	}
}

func testFailingJob(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateJob(t, s, "app", "j", pinfold.ImportDefinition{Format: "CSV", S3URL: "s3://b/k.csv", RoleARN: "r", SegmentID: "seg", DefineSegment: true})
	mustPlan(t, s, "app", "j", 2)
	p0, _, _ := s.ClaimPiece(ctx, "n", t0, t0.Add(time.Minute))
	if err := s.FailPiece(ctx, p0, "n", "s3://b/k.csv: the object no longer exists"); err != nil {
		t.Fatal(err)
	}
	if j := mustJob(t, s, "app", "j"); j.Status != pinfold.JobFailing || j.FailedPieces != 1 {
		t.Fatalf("after a failed piece: %+v", j)
	}
	if ended, _ := s.FinishImportJob(ctx, "j", t0); ended {
		t.Fatal("a job with a piece left finished")
	}
	commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		return &pinfold.PieceOutcome{Processed: 4}, tx.AddJobMembers(ctx, "j", []pinfold.Member{member("e", "EMAIL")})
	})
	if ended, err := s.FinishImportJob(ctx, "j", t0); !ended || err != nil {
		t.Fatalf("finish: %v %v", ended, err)
	}
	j := mustJob(t, s, "app", "j")
	if j.Status != pinfold.JobFailed || j.CompletedPieces != 1 || j.FailedPieces != 1 || j.TotalProcessed != 4 ||
		!slices.Equal(j.Failures, []string{"s3://b/k.csv: the object no longer exists"}) {
		t.Fatalf("failed job = %+v", j)
	}
	_, err := s.FindSegment(ctx, "app", "seg")
	wantCode(t, err, pinfold.ENOTFOUND)
}

// testPolledJob checks that FindImportJob, called again and again as clients poll, always
// returns the job as it is now: its state, counters and failures change between the reads,
// its constant parts read back as written, and it is not found in another app or once its
// app is deleted (even when an app of the same ID is made again).
func testPolledJob(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateApp(t, s, "other")
	def := pinfold.ImportDefinition{Format: "JSON", S3URL: "s3://b/in/", RoleARN: "arn:aws:iam::123456789012:role/r", ExternalID: "x",
		RegisterEndpoints: true, DefineSegment: true, SegmentName: "polled", SegmentID: "seg"}
	mustCreateJob(t, s, "app", "j", def)
	want := pinfold.ImportJob{ID: "j", AppID: "app", Definition: def, Status: pinfold.JobCreated, CreatedAt: t0}
	check := func(when string) {
		t.Helper()
		for range 2 {
			if j := mustJob(t, s, "app", "j"); !reflect.DeepEqual(*j, want) {
				t.Fatalf("%s: FindImportJob = %+v, want %+v", when, *j, want)
			}
		}
	}
	check("created")
	_, err := s.FindImportJob(ctx, "other", "j")
	wantCode(t, err, pinfold.ENOTFOUND)
	check("after a read in another app")

	mustPlan(t, s, "app", "j", 2)
	want.Status, want.TotalPieces = pinfold.JobProcessing, 2
	check("planned")
	commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		return &pinfold.PieceOutcome{Processed: 10, Failures: []pinfold.Failure{{Line: 3, Message: "k:3: \"bad\" <&>"}}}, nil
	})
	want.CompletedPieces, want.TotalProcessed, want.TotalFailures, want.Failures = 1, 10, 1, []string{"k:3: \"bad\" <&>"}
	check("after a piece")
	if err := s.FailImportJob(ctx, "j", "the role cannot read s3://b/in/", t0.Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	want.Status, want.CompletedAt = pinfold.JobFailed, t0.Add(time.Second)
	want.Failures = []string{"the role cannot read s3://b/in/", "k:3: \"bad\" <&>"}
	check("failed")

	if _, err := s.DeleteApp(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	_, err = s.FindImportJob(ctx, "app", "j")
	wantCode(t, err, pinfold.ENOTFOUND)
	mustCreateApp(t, s, "app")
	_, err = s.FindImportJob(ctx, "app", "j")
	wantCode(t, err, pinfold.ENOTFOUND)
}

func testFailuresPaging(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateJob(t, s, "app", "j", pinfold.ImportDefinition{})
	mustPlan(t, s, "app", "j", 2)
	var want []string
	// Pieces commit out of order; failures still list in file order, and the first 100 are kept.
	p0, _, _ := s.ClaimPiece(ctx, "n", t0, t0.Add(time.Minute))
	p1, _, _ := s.ClaimPiece(ctx, "n", t0, t0.Add(time.Minute))
	for _, p := range []*pinfold.Piece{p1, p0} {
		var failures []pinfold.Failure
		for line := range int64(80) {
			failures = append(failures, pinfold.Failure{Piece: p.No, Line: p.FirstLine + line, Message: fmt.Sprintf("k:%d: bad", p.FirstLine+line)})
		}
		failures = append(failures, pinfold.Failure{Piece: p.No, Line: p.FirstLine, Message: fmt.Sprintf("k:%d: second", p.FirstLine)})
		if err := s.CommitPiece(ctx, p, "n", func(pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
			return &pinfold.PieceOutcome{Processed: 80, Failures: failures}, nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []*pinfold.Piece{p0, p1} {
		for line := range int64(80) {
			want = append(want, fmt.Sprintf("k:%d: bad", p.FirstLine+line))
			if line == 0 {
				want = append(want, fmt.Sprintf("k:%d: second", p.FirstLine))
			}
		}
	}
	j := mustJob(t, s, "app", "j")
	if j.TotalFailures != 162 || !slices.Equal(j.Failures, want[:pinfold.MaxJobFailures]) {
		t.Fatalf("TotalFailures %d, Failures %q", j.TotalFailures, j.Failures)
	}
	var got []string
	page := pinfold.Page{Size: 50}
	for {
		failures, next, err := s.FindImportFailures(ctx, "app", "j", page)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range failures {
			got = append(got, f.Message)
		}
		if page.Token = next; next == "" {
			break
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("all failures (%d) differ from %d wanted", len(got), len(want))
	}
	_, _, err := s.FindImportFailures(ctx, "app", "j", pinfold.Page{Token: "bad"})
	wantCode(t, err, pinfold.EINVALID)
	_, _, err = s.FindImportFailures(ctx, "app", "nope", pinfold.Page{})
	wantCode(t, err, pinfold.ENOTFOUND)
}

// testConcurrentPieces has several workers claim and commit the pieces of one job at once:
// every piece is worked once and the counters are exact.
func testConcurrentPieces(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateJob(t, s, "app", "j", pinfold.ImportDefinition{})
	const pieces = 40
	mustPlan(t, s, "app", "j", pieces)
	var mu sync.Mutex
	worked := map[int]int{}
	var wg sync.WaitGroup
	for w := range 6 {
		node := fmt.Sprintf("node-%d", w)
		wg.Go(func() {
			for {
				p, _, err := s.ClaimPiece(ctx, node, t0, t0.Add(time.Minute))
				if err != nil {
					t.Error(err)
					return
				} else if p == nil {
					return
				}
				err = s.CommitPiece(ctx, p, node, func(pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
					return &pinfold.PieceOutcome{Processed: 10, Failures: []pinfold.Failure{{Piece: p.No, Line: p.FirstLine, Message: "x"}}}, nil
				})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				worked[p.No]++
				mu.Unlock()
				s.FinishImportJob(ctx, "j", t0)
			}
		})
	}
	wg.Wait()
	j := mustJob(t, s, "app", "j")
	if len(worked) != pieces || j.Status != pinfold.JobCompleted || j.CompletedPieces != pieces || j.TotalProcessed != 10*pieces || j.TotalFailures != pieces {
		t.Fatalf("worked %d pieces; job %+v", len(worked), j)
	}
	for no, n := range worked {
		if n != 1 {
			t.Fatalf("piece %d worked %d times", no, n)
		}
	}
}

func testDeleteApp(t *testing.T, s Store) {
	mustCreateApp(t, s, "app")
	mustCreateApp(t, s, "keep")
	runImport(t, s, "j1", "seg", "s", []pinfold.Member{member("a", "EMAIL")}, t0)
	mustCreateJob(t, s, "app", "j2", pinfold.ImportDefinition{})
	mustPlan(t, s, "app", "j2", 1)
	commit(t, s, func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		return &pinfold.PieceOutcome{}, tx.PutEndpoints(ctx, []*pinfold.Endpoint{endpoint("app", "e", "EMAIL", "a@x", "u"), endpoint("keep", "e", "EMAIL", "a@x", "u")})
	})
	for _, app := range []string{"app", "keep"} {
		MustWriteEndpoints(t, s, app, t0, &pinfold.EndpointUpdate{ID: "n", ChannelType: sp("SMS"), Address: sp("+1"), Attributes: pinfold.AttributesOf(map[string][]string{"plan": {"gold"}})})
	}
	mustCreateSegment(t, s, "app", "dim", &pinfold.SegmentUpdate{Name: sp("dim"), Dimensions: &pinfold.SegmentDimensions{}}, t0)
	if _, err := s.DeleteApp(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	mustCreateApp(t, s, "app")
	if names, _ := attributeNames(t, s, "app"); len(names) != 0 {
		t.Fatalf("attribute names survived their app: %v", names)
	}
	if names, _ := attributeNames(t, s, "keep"); !slices.Equal(names, []string{pinfold.AttributeKindEndpoint + ":plan"}) {
		t.Fatalf("another app's attribute names: %v", names)
	}
	if _, err := s.FindSegment(ctx, "app", "dim"); pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Fatalf("a DIMENSIONAL segment survived its app: %v", err)
	}
	if _, err := s.FindEndpoint(ctx, "app", "e"); pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Fatalf("endpoint survived its app: %v", err)
	}
	if _, err := s.FindSegment(ctx, "app", "seg"); pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		t.Fatalf("segment survived its app: %v", err)
	}
	if jobs, _, err := s.FindImportJobs(ctx, "app", "", pinfold.Page{}); err != nil || len(jobs) != 0 {
		t.Fatalf("jobs survived their app: %v %v", jobs, err)
	}
	if p, _, _ := s.ClaimPiece(ctx, "n", t0, t0.Add(time.Minute)); p != nil {
		t.Fatalf("a piece survived its app: %+v", p)
	}
	if _, err := s.FindEndpoint(ctx, "keep", "e"); err != nil {
		t.Fatalf("another app's endpoint was deleted: %v", err)
	}

	// A piece claimed before its app was deleted commits nothing, and without an error:
	// the deletion took the piece with it.
	mustCreateJob(t, s, "app", "j3", pinfold.ImportDefinition{})
	mustPlan(t, s, "app", "j3", 1)
	p, _, err := s.ClaimPiece(ctx, "n", t0, t0.Add(time.Minute))
	if err != nil || p == nil {
		t.Fatalf("claim: %+v %v", p, err)
	}
	if _, err := s.DeleteApp(ctx, "app"); err != nil {
		t.Fatal(err)
	}
	err = s.CommitPiece(ctx, p, "n", func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error) {
		t.Error("the piece of a deleted app ran")
		return &pinfold.PieceOutcome{}, nil
	})
	if err != nil {
		t.Fatalf("CommitPiece of a deleted app's piece: %v", err)
	}
}
