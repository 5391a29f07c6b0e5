package importer_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/api"
	"github.com/pinfold/pinfold/internal/testserver"
)

const exportRole = "arn:aws:iam::123456789012:role/export"

// exportJob creates an export job, checks the answer, and waits for the job to end.
func exportJob(t *testing.T, s *testserver.Server, app string, req types.ExportJobRequest) *types.ExportJobResponse {
	t.Helper()
	if req.RoleArn == nil {
		req.RoleArn = aws.String(exportRole)
	}
	out, err := s.Pinpoint.CreateExportJob(ctx, &pinpoint.CreateExportJobInput{ApplicationId: aws.String(app), ExportJobRequest: &req})
	if err != nil {
		t.Fatalf("CreateExportJob: %v", err)
	}
	j := out.ExportJobResponse
	if j.JobStatus != types.JobStatusCreated || *j.Type != "EXPORT" || *j.ApplicationId != app || *j.Definition.S3UrlPrefix != *req.S3UrlPrefix ||
		*j.Definition.RoleArn != *req.RoleArn || aws.ToString(j.Definition.SegmentId) != aws.ToString(req.SegmentId) ||
		aws.ToInt32(j.Definition.SegmentVersion) != aws.ToInt32(req.SegmentVersion) || j.CreationDate == nil {
		t.Fatalf("created export job = %+v %+v", j, j.Definition)
	}
	return waitExport(t, s, app, *j.Id)
}

// waitExport polls GetExportJob until the job ends, checking that it never goes back.
func waitExport(t *testing.T, s *testserver.Server, app, id string) *types.ExportJobResponse {
	t.Helper()
	var last *types.ExportJobResponse
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out, err := s.Pinpoint.GetExportJob(ctx, &pinpoint.GetExportJobInput{ApplicationId: aws.String(app), JobId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetExportJob: %v", err)
		}
		j := out.ExportJobResponse
		if last != nil && (order[j.JobStatus] < order[last.JobStatus] || *j.CompletedPieces < *last.CompletedPieces || *j.TotalProcessed < *last.TotalProcessed) {
			t.Fatalf("export job went back: %+v then %+v", last, j)
		}
		last = j
		if j.JobStatus == types.JobStatusCompleted || j.JobStatus == types.JobStatusFailed {
			if j.CompletionDate == nil {
				t.Fatalf("ended job has no CompletionDate: %+v", j)
			}
			return j
		}
	}
	t.Fatalf("export job %s did not end; last %+v", id, last)
	return nil
}

// exported is what an export job wrote: its objects' keys, and every line of every object in
// key order, decoded as the SDK decodes GetEndpoint.
type exported struct {
	keys      []string
	endpoints []*types.EndpointResponse
	raw       [][]byte
}

// readExport downloads and decompresses every object under s3://bucket/prefix.
func readExport(t *testing.T, s *testserver.Server, bucket, prefix string) exported {
	t.Helper()
	var out exported
	list, err := s.S3.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list.Contents {
		out.keys = append(out.keys, *o.Key)
		obj, err := s.S3.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		gz, err := gzip.NewReader(obj.Body)
		if err != nil {
			t.Fatalf("%s: %v", *o.Key, err)
		}
		sc := bufio.NewScanner(gz)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var e types.EndpointResponse
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("%s: %v: %s", *o.Key, err, sc.Bytes())
			}
			out.endpoints = append(out.endpoints, &e)
			out.raw = append(out.raw, bytes.Clone(sc.Bytes()))
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("%s: %v", *o.Key, err)
		}
		obj.Body.Close()
	}
	return out
}

func (x exported) ids() []string {
	var ids []string
	for _, e := range x.endpoints {
		ids = append(ids, *e.Id)
	}
	return ids
}

// partKeys returns the keys an export job of n pieces writes under prefix.
func partKeys(prefix, jobID string, n int) []string {
	var keys []string
	for i := range n {
		keys = append(keys, fmt.Sprintf("%s%s/part-%05d.json.gz", prefix, jobID, i))
	}
	return keys
}

// richItem is endpoint i of a test audience: every channel and every field a client can set.
func richItem(i int) types.EndpointBatchItem {
	channels := []types.ChannelType{types.ChannelTypeEmail, types.ChannelTypeSms, types.ChannelTypeApns, types.ChannelTypeGcm,
		types.ChannelTypeVoice, types.ChannelTypeCustom, types.ChannelTypePush, types.ChannelTypeAdm, types.ChannelTypeBaidu,
		types.ChannelTypeInApp, types.ChannelTypeApnsSandbox}
	item := types.EndpointBatchItem{
		Id:          aws.String(fmt.Sprintf("ep-%05d", i)),
		ChannelType: channels[i%len(channels)],
		Address:     aws.String(fmt.Sprintf("address-%d@example.com", i)),
		User:        &types.EndpointUser{UserId: aws.String(fmt.Sprintf("user-%d", i/10))},
	}
	switch i % 7 {
	case 0:
		item.Id = aws.String(fmt.Sprintf("ep-%05d-é<&>", i)) // not ASCII, and HTML-escaped by encoding/json
		item.Attributes = map[string][]string{"plan": {"gold"}, "tags": {"a", "b, with comma", `"quoted"`}}
		item.Metrics = map[string]float64{"visits": float64(i), "score": 0.25}
	case 1:
		item.Demographic = &types.EndpointDemographic{AppVersion: aws.String("1.2.3"), Locale: aws.String("en_US"), Make: aws.String("apple"),
			Model: aws.String("iPhone"), ModelVersion: aws.String("15"), Platform: aws.String("ios"), PlatformVersion: aws.String("17.1"),
			Timezone: aws.String("America/Los_Angeles")}
		item.Location = &types.EndpointLocation{City: aws.String("Seattle"), Country: aws.String("US"), Latitude: aws.Float64(47.6),
			Longitude: aws.Float64(-122.3), PostalCode: aws.String("98121"), Region: aws.String("WA")}
	case 2:
		item.OptOut = aws.String("ALL")
		item.EffectiveDate = aws.String("2025-01-02T03:04:05.678Z")
		item.RequestId = aws.String(fmt.Sprintf("req-%d", i))
	case 3:
		item.EndpointStatus = aws.String("INACTIVE")
		item.User.UserAttributes = map[string][]string{"tier": {"vip", "early"}, "name": {"Zoë"}}
	case 4:
		if i%3 == 0 {
			item.User = nil
		}
		item.Location = &types.EndpointLocation{Country: aws.String("CA"), Latitude: aws.Float64(-0.0001)}
	case 5:
		item.Attributes = map[string][]string{"plan": {"silver"}}
		item.Metrics = map[string]float64{"visits": -1e6}
	}
	return item
}

// putEndpoints writes n endpoints of richItem through UpdateEndpointsBatch.
func putEndpoints(t *testing.T, s *testserver.Server, app string, n int) {
	t.Helper()
	for start := 0; start < n; start += 100 {
		var items []types.EndpointBatchItem
		for i := start; i < min(n, start+100); i++ {
			items = append(items, richItem(i))
		}
		if _, err := s.Pinpoint.UpdateEndpointsBatch(ctx, &pinpoint.UpdateEndpointsBatchInput{ApplicationId: aws.String(app),
			EndpointBatchRequest: &types.EndpointBatchRequest{Item: items}}); err != nil {
			t.Fatal(err)
		}
	}
}

// served returns the endpoints as the API serves them, for every endpoint x holds: through
// GetUserEndpoints for those with a user (one call for up to 15 endpoints, the same
// EndpointResponse as GetEndpoint's), through GetEndpoint for the others.
func served(t *testing.T, s *testserver.Server, app string, x exported) map[string]*types.EndpointResponse {
	t.Helper()
	got := map[string]*types.EndpointResponse{}
	for _, e := range x.endpoints {
		if _, ok := got[*e.Id]; ok {
			continue
		}
		if e.User == nil || e.User.UserId == nil {
			got[*e.Id] = getEndpoint(t, s, app, *e.Id)
			continue
		}
		out, err := s.Pinpoint.GetUserEndpoints(ctx, &pinpoint.GetUserEndpointsInput{ApplicationId: aws.String(app), UserId: e.User.UserId})
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range out.EndpointsResponse.Item {
			got[*u.Id] = &u
		}
	}
	return got
}

func createBucket(t *testing.T, s *testserver.Server, bucket string) {
	t.Helper()
	if _, err := s.S3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
}

// TestExportApp exports a few thousand endpoints in several objects and checks every line
// against what the API serves; then imports the export into a second app and checks that it
// holds the same endpoints, field by field.
func TestExportApp(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{ExportPieceEndpoints: 200, Workers: 3})
	app := newApp(t, s)
	createBucket(t, s, "exports")
	const n = 2000
	putEndpoints(t, s, app, n)

	j := exportJob(t, s, app, types.ExportJobRequest{S3UrlPrefix: aws.String("s3://exports/all/")})
	if j.JobStatus != types.JobStatusCompleted || *j.TotalPieces != 10 || *j.CompletedPieces != 10 || *j.FailedPieces != 0 ||
		*j.TotalProcessed != n || *j.TotalFailures != 0 || len(j.Failures) != 0 {
		t.Fatalf("export job = %+v", j)
	}
	x := readExport(t, s, "exports", "all/")
	if want := partKeys("all/", *j.Id, 10); !slices.Equal(x.keys, want) {
		t.Fatalf("objects %q, want %q", x.keys, want)
	}
	ids := x.ids()
	if len(ids) != n || !slices.IsSorted(ids) || len(slices.Compact(slices.Clone(ids))) != n {
		t.Fatalf("export holds %d IDs (sorted %v), want %d distinct in ID order", len(ids), slices.IsSorted(ids), n)
	}
	source := served(t, s, app, x)
	if len(source) != n {
		t.Fatalf("the API serves %d endpoints, want %d", len(source), n)
	}
	for _, e := range x.endpoints {
		if got := source[*e.Id]; !reflect.DeepEqual(e, got) {
			t.Fatalf("exported\n%+v\nserved\n%+v", e, got)
		}
	}
	// The lines are exactly GetEndpoint's JSON body: HTML characters escaped, as encoding/json does.
	if !bytes.Contains(x.raw[0], []byte(`"Id":"ep-00000-é\u003c\u0026\u003e"`)) {
		t.Fatalf("first line = %s", x.raw[0])
	}

	// Round trip: the export imports as it is into a new app, with the same endpoints.
	app2 := newApp(t, s)
	imp := importJob(t, s, app2, types.ImportJobRequest{Format: types.FormatJson, S3Url: aws.String("s3://exports/all/" + *j.Id + "/"),
		RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, imp, counts{types.JobStatusCompleted, 10, 10, 0, n, 0})
	before, err := s.DB.FindEndpointsByID(ctx, app, ids)
	if err != nil {
		t.Fatal(err)
	}
	after, err := s.DB.FindEndpointsByID(ctx, app2, ids)
	if err != nil || len(after) != n {
		t.Fatalf("%d endpoints after the round trip, %v", len(after), err)
	}
	for i, e := range before {
		want := *e
		want.AppID, want.CreatedAt = app2, after[i].CreatedAt
		if !reflect.DeepEqual(after[i], &want) {
			t.Fatalf("after the round trip\n%+v\nwant\n%+v", after[i], &want)
		}
	}
	// And as a client sees them, for a few.
	for _, e := range x.endpoints[:50] {
		got := getEndpoint(t, s, app2, *e.Id)
		want := *e
		want.ApplicationId, want.CreationDate = aws.String(app2), got.CreationDate
		if !reflect.DeepEqual(&want, got) {
			t.Fatalf("after the round trip\n%+v\nwant\n%+v", got, &want)
		}
	}

	jobs, err := s.Pinpoint.GetExportJobs(ctx, &pinpoint.GetExportJobsInput{ApplicationId: aws.String(app)})
	if err != nil || len(jobs.ExportJobsResponse.Item) != 1 || *jobs.ExportJobsResponse.Item[0].Id != *j.Id || jobs.ExportJobsResponse.NextToken != nil {
		t.Fatalf("GetExportJobs = %+v, %v", jobs, err)
	}
	if imports, err := s.Pinpoint.GetImportJobs(ctx, &pinpoint.GetImportJobsInput{ApplicationId: aws.String(app)}); err != nil || len(imports.ImportJobsResponse.Item) != 0 {
		t.Fatalf("GetImportJobs lists the export: %+v, %v", imports, err)
	}
}

// members returns the IDs of a segment version that are endpoints of the app.
func members(t *testing.T, s *testserver.Server, app, segment string, version int) []string {
	t.Helper()
	var ids []string
	page := pinfold.Page{Size: pinfold.MaxPageSize}
	for {
		some, next, err := s.DB.FindSegmentMembers(ctx, app, segment, version, page)
		if err != nil {
			t.Fatal(err)
		}
		found, err := s.DB.FindEndpointsByID(ctx, app, some)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range found {
			ids = append(ids, e.ID)
		}
		if page.Token = next; next == "" {
			return ids
		}
	}
}

// TestExportSegments exports IMPORT segments (the latest version and an older one, with
// members that are not endpoints) and a DIMENSIONAL segment: each export holds exactly the
// segment's endpoints.
func TestExportSegments(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{ExportPieceEndpoints: 4})
	app := newApp(t, s)
	createBucket(t, s, "exports")
	putEndpoints(t, s, app, 60)

	rows := func(from, to int) []byte {
		var b strings.Builder
		b.WriteString("Id,ChannelType,Address\n")
		for i := from; i < to; i++ {
			fmt.Fprintf(&b, "seg-%02d,EMAIL,seg%d@example.com\n", i, i)
		}
		return []byte(b.String())
	}
	s.Put(t, "imports", "v1.csv", rows(0, 10))
	s.Put(t, "imports", "v2.csv", rows(10, 15))
	s.Put(t, "imports", "v3.csv", rows(20, 22))
	v1 := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/v1.csv"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true)})
	seg := v1.Definition.SegmentId
	importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/v2.csv"), RegisterEndpoints: aws.Bool(true), SegmentId: seg})
	importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/v3.csv"), SegmentId: seg}) // members only
	if _, err := s.Pinpoint.DeleteEndpoint(ctx, &pinpoint.DeleteEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String("seg-03")}); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name    string
		version *int32
		want    []string
	}{
		{"latest", nil, []string{"seg-00", "seg-01", "seg-02", "seg-04", "seg-05", "seg-06", "seg-07", "seg-08", "seg-09",
			"seg-10", "seg-11", "seg-12", "seg-13", "seg-14"}},
		{"version 1", aws.Int32(1), []string{"seg-00", "seg-01", "seg-02", "seg-04", "seg-05", "seg-06", "seg-07", "seg-08", "seg-09"}},
	} {
		j := exportJob(t, s, app, types.ExportJobRequest{S3UrlPrefix: aws.String("s3://exports/" + tc.name), SegmentId: seg, SegmentVersion: tc.version})
		if j.JobStatus != types.JobStatusCompleted || *j.TotalProcessed != int32(len(tc.want)) || *j.CompletedPieces != *j.TotalPieces {
			t.Fatalf("%s: export = %+v", tc.name, j)
		}
		x := readExport(t, s, "exports", tc.name+"/")
		version := int(aws.ToInt32(tc.version))
		if got := x.ids(); !slices.Equal(got, tc.want) || !slices.Equal(got, members(t, s, app, *seg, version)) {
			t.Fatalf("%s: exported %v, want %v", tc.name, got, tc.want)
		}
		if len(x.keys) != int(*j.TotalPieces) {
			t.Fatalf("%s: %d objects for %d pieces", tc.name, len(x.keys), *j.TotalPieces)
		}
	}

	// A DIMENSIONAL segment: the endpoints whose plan is gold, as they are when it runs.
	dim, err := s.Pinpoint.CreateSegment(ctx, &pinpoint.CreateSegmentInput{ApplicationId: aws.String(app), WriteSegmentRequest: &types.WriteSegmentRequest{
		Name: aws.String("gold"), Dimensions: &types.SegmentDimensions{Attributes: map[string]types.AttributeDimension{
			"plan": {AttributeType: types.AttributeTypeInclusive, Values: []string{"gold"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	dimID := dim.SegmentResponse.Id
	j := exportJob(t, s, app, types.ExportJobRequest{S3UrlPrefix: aws.String("s3://exports/gold/"), SegmentId: dimID})
	x := readExport(t, s, "exports", "gold/")
	want := members(t, s, app, *dimID, 0)
	if len(want) != 9 || !slices.Equal(x.ids(), want) || *j.TotalProcessed != 9 {
		t.Fatalf("gold export = %v (job %+v), want %v", x.ids(), j, want)
	}
	for _, e := range x.endpoints {
		if !slices.Equal(e.Attributes["plan"], []string{"gold"}) {
			t.Fatalf("not gold: %+v", e)
		}
	}

	listed := func(segment *string) []string {
		out, err := s.Pinpoint.GetSegmentExportJobs(ctx, &pinpoint.GetSegmentExportJobsInput{ApplicationId: aws.String(app), SegmentId: segment})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, j := range out.ExportJobsResponse.Item {
			ids = append(ids, aws.ToString(j.Definition.SegmentId)+"@"+fmt.Sprint(aws.ToInt32(j.Definition.SegmentVersion)))
		}
		return ids
	}
	if got := listed(seg); !slices.Equal(got, []string{*seg + "@1", *seg + "@0"}) {
		t.Fatalf("GetSegmentExportJobs (newest first) = %v", got)
	}
	if got := listed(dimID); !slices.Equal(got, []string{*dimID + "@0"}) {
		t.Fatalf("GetSegmentExportJobs = %v", got)
	}
}

// TestExportEmptyAndFailures checks the edges: an app without endpoints exports one empty
// object that imports as nothing, and a bucket that is not there fails the job.
func TestExportEmptyAndFailures(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	createBucket(t, s, "exports")
	j := exportJob(t, s, app, types.ExportJobRequest{S3UrlPrefix: aws.String("s3://exports")})
	if j.JobStatus != types.JobStatusCompleted || *j.TotalPieces != 1 || *j.TotalProcessed != 0 {
		t.Fatalf("empty export = %+v", j)
	}
	x := readExport(t, s, "exports", "")
	if !slices.Equal(x.keys, partKeys("", *j.Id, 1)) || len(x.endpoints) != 0 {
		t.Fatalf("empty export wrote %q with %d lines", x.keys, len(x.endpoints))
	}
	imp := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatJson, S3Url: aws.String("s3://exports/" + *j.Id), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, imp, counts{types.JobStatusCompleted, 1, 1, 0, 0, 0})

	j = exportJob(t, s, app, types.ExportJobRequest{S3UrlPrefix: aws.String("s3://no-such-bucket/x/")})
	if j.JobStatus != types.JobStatusFailed || *j.TotalPieces != 0 || len(j.Failures) != 1 ||
		j.Failures[0] != `cannot write s3://no-such-bucket/x/: bucket "no-such-bucket" does not exist` {
		t.Fatalf("export to a missing bucket = %+v", j)
	}
}

func TestCreateExportJobValidation(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Server: func(a *api.Server) { a.AllowedBuckets = []string{"exports", "imports"} }})
	app := newApp(t, s)
	s.Put(t, "imports", "e.csv", []byte("Id,ChannelType,Address\nx,EMAIL,x@example.com\n"))
	seg := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/e.csv"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true)}).Definition.SegmentId
	ok := types.ExportJobRequest{S3UrlPrefix: aws.String("s3://exports/out/"), RoleArn: aws.String(exportRole)}
	for _, tc := range []struct {
		name string
		edit func(r *types.ExportJobRequest)
		msg  string
	}{
		{"scheme", func(r *types.ExportJobRequest) { r.S3UrlPrefix = aws.String("https://exports/out/") }, "S3UrlPrefix: S3 URL must start with s3://"},
		{"bucket name", func(r *types.ExportJobRequest) { r.S3UrlPrefix = aws.String("s3://Exports/") }, "S3UrlPrefix"},
		{"bucket not allowed", func(r *types.ExportJobRequest) { r.S3UrlPrefix = aws.String("s3://secrets/") }, `bucket "secrets", which this server may not write`},
		{"role", func(r *types.ExportJobRequest) { r.RoleArn = aws.String("export-role") }, "RoleArn must be an IAM role ARN"},
		{"version without segment", func(r *types.ExportJobRequest) { r.SegmentVersion = aws.Int32(1) }, "SegmentVersion needs SegmentId"},
		{"version zero", func(r *types.ExportJobRequest) { r.SegmentId, r.SegmentVersion = seg, aws.Int32(0) }, "SegmentVersion must be 1 or more"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := ok
			tc.edit(&req)
			_, err := s.Pinpoint.CreateExportJob(ctx, &pinpoint.CreateExportJobInput{ApplicationId: aws.String(app), ExportJobRequest: &req})
			var bad *types.BadRequestException
			if !errors.As(err, &bad) || !strings.Contains(*bad.Message, tc.msg) {
				t.Fatalf("error = %v, want BadRequestException containing %q", err, tc.msg)
			}
		})
	}
	for _, tc := range []struct {
		name string
		app  string
		edit func(r *types.ExportJobRequest)
		msg  string
	}{
		{"unknown app", "0123456789abcdef0123456789abcdef", func(*types.ExportJobRequest) {}, "Application"},
		{"unknown segment", app, func(r *types.ExportJobRequest) { r.SegmentId = aws.String("0123456789abcdef0123456789abcdef") }, "Segment"},
		{"unknown version", app, func(r *types.ExportJobRequest) { r.SegmentId, r.SegmentVersion = seg, aws.Int32(2) }, "Version 2 of segment"},
	} {
		req := ok
		tc.edit(&req)
		_, err := s.Pinpoint.CreateExportJob(ctx, &pinpoint.CreateExportJobInput{ApplicationId: aws.String(tc.app), ExportJobRequest: &req})
		var nf *types.NotFoundException
		if !errors.As(err, &nf) || !strings.Contains(*nf.Message, tc.msg) {
			t.Fatalf("%s: %v, want NotFoundException containing %q", tc.name, err, tc.msg)
		}
	}
	_, err := s.Pinpoint.GetExportJob(ctx, &pinpoint.GetExportJobInput{ApplicationId: aws.String(app), JobId: aws.String("nope")})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) || !strings.Contains(*nf.Message, "Export job") {
		t.Fatalf("unknown job: %v", err)
	}
	imports, _ := s.Pinpoint.GetImportJobs(ctx, &pinpoint.GetImportJobsInput{ApplicationId: aws.String(app)})
	_, err = s.Pinpoint.GetExportJob(ctx, &pinpoint.GetExportJobInput{ApplicationId: aws.String(app), JobId: imports.ImportJobsResponse.Item[0].Id})
	if !errors.As(err, &nf) {
		t.Fatalf("GetExportJob of an import job: %v", err)
	}
}

func TestGetExportJobsPaging(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	createBucket(t, s, "exports")
	var ids []string
	for range 5 {
		out, err := s.Pinpoint.CreateExportJob(ctx, &pinpoint.CreateExportJobInput{ApplicationId: aws.String(app),
			ExportJobRequest: &types.ExportJobRequest{S3UrlPrefix: aws.String("s3://exports/p/"), RoleArn: aws.String(exportRole)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{*out.ExportJobResponse.Id}, ids...) // newest first
	}
	var got []string
	var token *string
	for {
		out, err := s.Pinpoint.GetExportJobs(ctx, &pinpoint.GetExportJobsInput{ApplicationId: aws.String(app), PageSize: aws.String("2"), Token: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range out.ExportJobsResponse.Item {
			got = append(got, *j.Id)
		}
		if token = out.ExportJobsResponse.NextToken; token == nil {
			break
		}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("GetExportJobs = %v, want newest first %v", got, ids)
	}
	for _, id := range ids {
		if j := waitExport(t, s, app, id); j.JobStatus != types.JobStatusCompleted {
			t.Fatalf("export %s = %+v", id, j)
		}
	}
}

// normalized returns e without the empty maps and objects that a client cannot tell from
// absent ones (GetEndpoint leaves them out).
func normalized(e *types.EndpointResponse) *types.EndpointResponse {
	n := *e
	if len(n.Attributes) == 0 {
		n.Attributes = nil
	}
	if len(n.Metrics) == 0 {
		n.Metrics = nil
	}
	if u := n.User; u != nil {
		u := *u
		if len(u.UserAttributes) == 0 {
			u.UserAttributes = nil
		}
		n.User = &u
		if u.UserId == nil && u.UserAttributes == nil {
			n.User = nil
		}
	}
	return &n
}

// TestImportPinpointExportFiles imports files in Pinpoint's export format (gzip NDJSON with
// the read-only members Pinpoint writes, named only by ".gz"), as a team leaving Pinpoint
// has them, and checks that every endpoint arrives as it was.
func TestImportPinpointExportFiles(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	data, err := os.ReadFile("testdata/pinpoint-export/endpoints.json")
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(bytes.TrimSpace(data), []byte("\n"))
	gzipped := func(lines [][]byte) []byte {
		var b bytes.Buffer
		w := gzip.NewWriter(&b)
		w.Write(bytes.Join(lines, nil))
		w.Close()
		return b.Bytes()
	}
	dir := "pinpoint/exports/6e0b7591a90841d2b5d93fa11143e5a7/7390e0de8e0b462380603c5a4df90bc4/"
	s.Put(t, "imports", dir+"c1f4d.gz", gzipped(lines[:4]))
	s.Put(t, "imports", dir+"9a0e2.json.gz", gzipped(lines[4:]))
	s.Put(t, "imports", dir+"manifest", []byte("written by the export")) // not endpoints: left out

	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatJson, S3Url: aws.String("s3://imports/pinpoint/exports/"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true), SegmentName: aws.String("from-pinpoint")})
	wantCounts(t, j, counts{types.JobStatusCompleted, 2, 2, 0, int32(len(lines)), 0})
	for _, line := range lines {
		var want types.EndpointResponse
		if err := json.Unmarshal(line, &want); err != nil {
			t.Fatal(err)
		}
		got := getEndpoint(t, s, app, *want.Id)
		// Pinfold's own: the app, the time of the import, and the cohort derived from the ID.
		if *got.ApplicationId != app || *got.CohortId != pinfold.CohortID(*want.Id) || *got.CreationDate == *want.CreationDate {
			t.Fatalf("bookkeeping of %s: %+v", *want.Id, got)
		}
		want.ApplicationId, want.CohortId, want.CreationDate = got.ApplicationId, got.CohortId, got.CreationDate
		if w := normalized(&want); !reflect.DeepEqual(got, w) {
			t.Fatalf("imported\n%+v\nwant\n%+v", got, w)
		}
	}
	if seg := getSegment(t, s, app, *j.Definition.SegmentId); *seg.ImportDefinition.Size != int32(len(lines)) {
		t.Fatalf("segment = %+v", seg.ImportDefinition)
	}
}

// TestExportLineIsGetEndpointBody checks that each line of an export is, byte for byte, the
// body GetEndpoint answers for that endpoint.
func TestExportLineIsGetEndpointBody(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	createBucket(t, s, "exports")
	putEndpoints(t, s, app, 7)
	j := exportJob(t, s, app, types.ExportJobRequest{S3UrlPrefix: aws.String("s3://exports/")})
	x := readExport(t, s, "exports", "")
	if *j.TotalProcessed != 7 || len(x.raw) != 7 {
		t.Fatalf("export = %+v, %d lines", j, len(x.raw))
	}
	for i, line := range x.raw {
		_, body := signedGet(t, s, "/v1/apps/"+app+"/endpoints/"+url.PathEscape(*x.endpoints[i].Id))
		if !bytes.Equal(line, body) {
			t.Fatalf("export line\n%s\nGetEndpoint body\n%s", line, body)
		}
	}
}
