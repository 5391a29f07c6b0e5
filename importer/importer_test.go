package importer_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/api"
	"github.com/pinfold/pinfold/internal/testserver"
	"github.com/pinfold/pinfold/s3/s3test"
)

var ctx = context.Background()

const role = "arn:aws:iam::123456789012:role/import"

func newApp(t *testing.T, s *testserver.Server) string {
	t.Helper()
	out, err := s.Pinpoint.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("imports")}})
	if err != nil {
		t.Fatal(err)
	}
	return *out.ApplicationResponse.Id
}

// order is the position of each state on the way to the end; a job may skip states but never
// go back.
var order = map[types.JobStatus]int{
	types.JobStatusCreated: 0, types.JobStatusPendingJob: 1, types.JobStatusPreparingForInitialization: 2,
	types.JobStatusInitializing: 3, types.JobStatusProcessing: 4, types.JobStatusFailing: 5,
	types.JobStatusCompleting: 5, types.JobStatusCompleted: 6, types.JobStatusFailed: 6,
}

// importJob creates a job and polls GetImportJob until it ends, checking on the way that the
// state never goes back and the counters never shrink.
func importJob(t *testing.T, s *testserver.Server, app string, req types.ImportJobRequest) *types.ImportJobResponse {
	t.Helper()
	if req.RoleArn == nil {
		req.RoleArn = aws.String(role)
	}
	out, err := s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: aws.String(app), ImportJobRequest: &req})
	if err != nil {
		t.Fatalf("CreateImportJob: %v", err)
	}
	created := out.ImportJobResponse
	if created.JobStatus != types.JobStatusCreated || *created.Type != "IMPORT" || *created.ApplicationId != app {
		t.Fatalf("created job = %+v", created)
	}
	return waitJob(t, s, app, *created.Id)
}

func waitJob(t *testing.T, s *testserver.Server, app, id string) *types.ImportJobResponse {
	t.Helper()
	var last *types.ImportJobResponse
	deadline := time.Now().Add(3 * time.Minute) // generous: shared CI machines can be slow
	for time.Now().Before(deadline) {
		out, err := s.Pinpoint.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: aws.String(app), JobId: aws.String(id)})
		if err != nil {
			t.Fatalf("GetImportJob: %v", err)
		}
		j := out.ImportJobResponse
		if last != nil {
			if order[j.JobStatus] < order[last.JobStatus] {
				t.Fatalf("job went back from %s to %s", last.JobStatus, j.JobStatus)
			}
			if *j.TotalProcessed < *last.TotalProcessed || *j.CompletedPieces < *last.CompletedPieces || *j.TotalFailures < *last.TotalFailures {
				t.Fatalf("counters shrank: %+v then %+v", last, j)
			}
		}
		last = j
		if j.JobStatus == types.JobStatusCompleted || j.JobStatus == types.JobStatusFailed {
			if j.CompletionDate == nil {
				t.Fatalf("ended job has no CompletionDate: %+v", j)
			}
			return j
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("job %s did not end; last %+v", id, last)
	return nil
}

type counts struct {
	status                          types.JobStatus
	pieces, completed, failedPieces int32
	processed, failures             int32
}

func wantCounts(t *testing.T, j *types.ImportJobResponse, want counts) {
	t.Helper()
	got := counts{j.JobStatus, *j.TotalPieces, *j.CompletedPieces, *j.FailedPieces, *j.TotalProcessed, *j.TotalFailures}
	if got != want {
		t.Fatalf("job = %+v\nfailures: %q\nwant %+v", got, j.Failures, want)
	}
}

func getEndpoint(t *testing.T, s *testserver.Server, app, id string) *types.EndpointResponse {
	t.Helper()
	out, err := s.Pinpoint.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetEndpoint %s: %v", id, err)
	}
	return out.EndpointResponse
}

func getSegment(t *testing.T, s *testserver.Server, app, id string) *types.SegmentResponse {
	t.Helper()
	out, err := s.Pinpoint.GetSegment(ctx, &pinpoint.GetSegmentInput{ApplicationId: aws.String(app), SegmentId: aws.String(id)})
	if err != nil {
		t.Fatalf("GetSegment: %v", err)
	}
	return out.SegmentResponse
}

func TestImportCSV(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	s.PutFile(t, "imports", "2026-11/endpoints.csv", "testdata/basic/endpoints.csv")
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/2026-11/endpoints.csv"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 3, 0})
	d := j.Definition
	if *d.SegmentName != "endpoints" || d.SegmentId == nil || *d.ExternalId != "123456789012" || !*d.RegisterEndpoints || !*d.DefineSegment {
		t.Fatalf("Definition = %+v", d)
	}

	e := getEndpoint(t, s, app, pinfold.DerivedEndpointID("SMS", "+16045550182"))
	if *e.Address != "+16045550182" || e.ChannelType != types.ChannelTypeSms || *e.Location.Country != "CA" ||
		*e.Demographic.Platform != "Android" || *e.Demographic.Make != "LG" || *e.User.UserId != "example-user-id-1" ||
		!slices.Equal(e.Attributes["plan"], []string{"gold"}) || e.Metrics["visits"] != 3 ||
		*e.EndpointStatus != "ACTIVE" || *e.OptOut != "NONE" || *e.CohortId == "" || *e.ApplicationId != app {
		t.Fatalf("endpoint = %+v", e)
	}
	e = getEndpoint(t, s, app, pinfold.DerivedEndpointID("EMAIL", "mary.major@example.com"))
	if !slices.Equal(e.Attributes["plan"], []string{"gold, with comma"}) || e.Metrics["visits"] != 0 {
		t.Fatalf("quoted values: %+v", e)
	}

	seg := getSegment(t, s, app, *d.SegmentId)
	imp := seg.ImportDefinition
	if seg.SegmentType != types.SegmentTypeImport || *seg.Name != "endpoints" || *seg.Version != 1 ||
		*imp.Size != 3 || imp.ChannelCounts["EMAIL"] != 2 || imp.ChannelCounts["SMS"] != 1 ||
		imp.Format != types.FormatCsv || *imp.S3Url != "s3://imports/2026-11/endpoints.csv" || *imp.RoleArn != role || *imp.ExternalId != "123456789012" {
		t.Fatalf("segment = %+v, import = %+v", seg, imp)
	}
	jobs, err := s.Pinpoint.GetSegmentImportJobs(ctx, &pinpoint.GetSegmentImportJobsInput{ApplicationId: aws.String(app), SegmentId: d.SegmentId})
	if err != nil || len(jobs.ImportJobsResponse.Item) != 1 || *jobs.ImportJobsResponse.Item[0].Id != *j.Id {
		t.Fatalf("GetSegmentImportJobs = %+v, %v", jobs, err)
	}
}

func TestImportNDJSON(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	s.PutFile(t, "imports", "nd/endpoints.json", "testdata/ndjson/endpoints.json")
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatJson, S3Url: aws.String("s3://imports/nd/"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 3, 1})
	if len(j.Failures) != 1 || !strings.HasPrefix(j.Failures[0], "s3://imports/nd/endpoints.json:4: ") {
		t.Fatalf("Failures = %q", j.Failures)
	}
	e := getEndpoint(t, s, app, "nd-1")
	if !slices.Equal(e.Attributes["Ride"], []string{"Bus", "Train"}) || *e.Location.Latitude != 47.6 || *e.Location.Longitude != -122.3 ||
		!slices.Equal(e.User.UserAttributes["tier"], []string{"vip"}) || e.Metrics["rides"] != 12 {
		t.Fatalf("endpoint = %+v", e)
	}
	e = getEndpoint(t, s, app, pinfold.DerivedEndpointID("SMS", "+16045550199"))
	if *e.Demographic.Timezone != "America/Vancouver" {
		t.Fatalf("endpoint = %+v", e)
	}
}

func TestImportGzipAndPrefixWithSubfolders(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	for _, name := range []string{"2026/a.csv", "2026/nov/b.CSV", "2026/nov/c.json", "2026/readme.txt"} {
		s.PutFile(t, "imports", "p/"+name, "testdata/prefix/"+name)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write([]byte("ChannelType,Address\nEMAIL,gz1@example.com\nEMAIL,gz2@example.com\n"))
	w.Close()
	s.Put(t, "imports", "p/2026/nov/packed.csv.gz", gz.Bytes())

	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/p/2026"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true), SegmentName: aws.String("november")})
	wantCounts(t, j, counts{types.JobStatusCompleted, 3, 3, 0, 5, 0})
	seg := getSegment(t, s, app, *j.Definition.SegmentId)
	if *seg.Name != "november" || *seg.ImportDefinition.Size != 5 || seg.ImportDefinition.ChannelCounts["EMAIL"] != 4 {
		t.Fatalf("segment = %+v %+v", seg, seg.ImportDefinition)
	}
	getEndpoint(t, s, app, pinfold.DerivedEndpointID("EMAIL", "gz2@example.com"))
	_, err := s.Pinpoint.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: aws.String(app),
		EndpointId: aws.String(pinfold.DerivedEndpointID("EMAIL", "json-ignored@example.com"))})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("JSON file under a CSV import was imported: %v", err)
	}
}

func TestImportMultiValuedAndBOM(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	s.PutFile(t, "imports", "mv.csv", "testdata/multi-valued/endpoints.csv")
	s.PutFile(t, "imports", "bom.csv", "testdata/bom-crlf/endpoints.csv")
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/mv.csv"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 2, 0})
	e := getEndpoint(t, s, app, "ep-1")
	if !slices.Equal(e.User.UserAttributes["interests"], []string{"music", "travel"}) || !slices.Equal(e.Attributes["color"], []string{"red", "blue"}) {
		t.Fatalf("ep-1 = %+v %+v", e.Attributes, e.User)
	}
	e = getEndpoint(t, s, app, "ep-2")
	if !slices.Equal(e.User.UserAttributes["interests"], []string{"books"}) || !slices.Equal(e.Attributes["color"], []string{"green", "green"}) {
		t.Fatalf("ep-2 = %+v %+v", e.Attributes, e.User)
	}
	j = importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/bom.csv"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 2, 0})
	if e := getEndpoint(t, s, app, "bom-1"); *e.OptOut != "ALL" || *e.Address != "bom1@example.com" {
		t.Fatalf("bom-1 = %+v", e)
	}
	if e := getEndpoint(t, s, app, "bom-2"); *e.Address != "+12065550111" {
		t.Fatalf("bom-2 = %+v (CR left in a value?)", e)
	}
}

func TestImportBadRows(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	s.PutFile(t, "imports", "bad.csv", "testdata/bad-rows/endpoints.csv")
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/bad.csv"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 4, 4})
	for i, want := range []string{
		"s3://imports/bad.csv:2: ", "s3://imports/bad.csv:3: ", "s3://imports/bad.csv:4: ", "s3://imports/bad.csv:5: ",
	} {
		if !strings.HasPrefix(j.Failures[i], want) {
			t.Fatalf("Failures[%d] = %q, want prefix %q", i, j.Failures[i], want)
		}
	}
	for i, want := range []string{"ChannelType", "Metrics.score", "OptOut", "ChannelType and Address"} {
		if !strings.Contains(j.Failures[i], want) {
			t.Fatalf("Failures[%d] = %q, want it to name %q", i, j.Failures[i], want)
		}
	}
	// A row with Id of an endpoint that does not exist needs ChannelType and Address too.
	s.Put(t, "imports", "update.csv", []byte("Id,OptOut\nno-such-endpoint,ALL\n"))
	j = importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/update.csv"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 1, 1})
	if j.Failures[0] != "s3://imports/update.csv:2: "+pinfold.NewEndpointMissingFields {
		t.Fatalf("Failures = %q", j.Failures)
	}
}

func TestImportIDLessTwiceAndPartialUpdate(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	s.PutFile(t, "imports", "e.csv", "testdata/basic/endpoints.csv")
	req := types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/e.csv"), RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true)}
	first := importJob(t, s, app, req)
	second := importJob(t, s, app, req)
	wantCounts(t, second, counts{types.JobStatusCompleted, 1, 1, 0, 3, 0})
	a, b := getSegment(t, s, app, *first.Definition.SegmentId), getSegment(t, s, app, *second.Definition.SegmentId)
	if *a.ImportDefinition.Size != 3 || *b.ImportDefinition.Size != 3 {
		t.Fatalf("sizes %d and %d, want 3 and 3", *a.ImportDefinition.Size, *b.ImportDefinition.Size)
	}
	ids, _, err := s.DB.FindSegmentMembers(ctx, app, *a.Id, 1, pinfold.Page{})
	ids2, _, err2 := s.DB.FindSegmentMembers(ctx, app, *b.Id, 1, pinfold.Page{})
	if err != nil || err2 != nil || !slices.Equal(ids, ids2) {
		t.Fatalf("members differ: %v %v (%v %v)", ids, ids2, err, err2)
	}

	// A partial update keeps what the row does not name and replaces the attributes it does.
	id := pinfold.DerivedEndpointID("SMS", "+16045550182")
	s.Put(t, "imports", "u.csv", []byte("Id,Attributes.plan,Attributes.plan,Location.City\n"+id+",platinum,diamond,Vancouver\n"))
	importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/u.csv"), RegisterEndpoints: aws.Bool(true)})
	e := getEndpoint(t, s, app, id)
	if !slices.Equal(e.Attributes["plan"], []string{"platinum", "diamond"}) || *e.Location.City != "Vancouver" ||
		*e.Location.Country != "CA" || *e.Demographic.Make != "LG" || e.Metrics["visits"] != 3 {
		t.Fatalf("after partial update: %+v", e)
	}
}

func TestImportUserIDsAndSegmentVersions(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	s.PutFile(t, "imports", "mv.csv", "testdata/multi-valued/endpoints.csv")
	base := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/mv.csv"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true), SegmentName: aws.String("people")})
	segID := base.Definition.SegmentId

	s.PutFile(t, "imports", "users.csv", "testdata/user-ids/users.csv")
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/users.csv"),
		DefineSegment: aws.Bool(true), SegmentName: aws.String("by-user")})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 3, 1})
	if j.Failures[0] != `s3://imports/users.csv:4: user "nobody" has no endpoints in the application` {
		t.Fatalf("Failures = %q", j.Failures)
	}
	seg := getSegment(t, s, app, *j.Definition.SegmentId)
	if *seg.ImportDefinition.Size != 2 || seg.ImportDefinition.ChannelCounts["SMS"] != 1 {
		t.Fatalf("user segment = %+v", seg.ImportDefinition)
	}

	// Adding to the first segment makes version 2 with the old and the new members.
	s.Put(t, "imports", "more.csv", []byte("ChannelType,Address\nEMAIL,more@example.com\n"))
	add := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/more.csv"),
		RegisterEndpoints: aws.Bool(true), SegmentId: segID})
	wantCounts(t, add, counts{types.JobStatusCompleted, 1, 1, 0, 1, 0})
	seg = getSegment(t, s, app, *segID)
	if *seg.Version != 2 || *seg.ImportDefinition.Size != 3 || *seg.Name != "people" || *seg.ImportDefinition.S3Url != "s3://imports/more.csv" {
		t.Fatalf("segment v2 = %+v %+v", seg, seg.ImportDefinition)
	}
	v1, err := s.Pinpoint.GetSegmentVersion(ctx, &pinpoint.GetSegmentVersionInput{ApplicationId: aws.String(app), SegmentId: segID, Version: aws.String("1")})
	if err != nil || *v1.SegmentResponse.ImportDefinition.Size != 2 {
		t.Fatalf("version 1 = %+v, %v", v1, err)
	}
	versions, err := s.Pinpoint.GetSegmentVersions(ctx, &pinpoint.GetSegmentVersionsInput{ApplicationId: aws.String(app), SegmentId: segID})
	if err != nil || len(versions.SegmentsResponse.Item) != 2 {
		t.Fatalf("versions = %+v, %v", versions, err)
	}
	jobs, err := s.Pinpoint.GetSegmentImportJobs(ctx, &pinpoint.GetSegmentImportJobsInput{ApplicationId: aws.String(app), SegmentId: segID})
	if err != nil || len(jobs.ImportJobsResponse.Item) != 2 || *jobs.ImportJobsResponse.Item[0].Id != *add.Id {
		t.Fatalf("segment jobs (newest first) = %+v, %v", jobs, err)
	}
	all, err := s.Pinpoint.GetSegments(ctx, &pinpoint.GetSegmentsInput{ApplicationId: aws.String(app)})
	if err != nil || len(all.SegmentsResponse.Item) != 2 {
		t.Fatalf("segments = %+v, %v", all, err)
	}
}

func TestImportValidateOnly(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	s.PutFile(t, "imports", "e.csv", "testdata/basic/endpoints.csv")
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/e.csv")})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 3, 0})
	_, err := s.Pinpoint.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: aws.String(app), EndpointId: aws.String(pinfold.DerivedEndpointID("SMS", "+16045550182"))})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("a validate-only job wrote an endpoint: %v", err)
	}
}

func TestImportSourceFailures(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://no-such-bucket/x.csv")})
	wantCounts(t, j, counts{types.JobStatusFailed, 0, 0, 0, 0, 0})
	if len(j.Failures) != 1 || !strings.Contains(j.Failures[0], `bucket "no-such-bucket" does not exist`) {
		t.Fatalf("Failures = %q", j.Failures)
	}
	s.PutFile(t, "imports", "only/c.json", "testdata/prefix/2026/nov/c.json")
	j = importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/only/")})
	wantCounts(t, j, counts{types.JobStatusFailed, 0, 0, 0, 0, 0})
	if want := "no CSV files (.csv, optionally .gz) found under s3://imports/only/; found 1 other object(s): only/c.json"; len(j.Failures) != 1 || j.Failures[0] != want {
		t.Fatalf("Failures = %q, want %q", j.Failures, want)
	}
	j = importJob(t, s, app, types.ImportJobRequest{Format: types.FormatJson, S3Url: aws.String("s3://imports/nothing-here/")})
	if j.JobStatus != types.JobStatusFailed || j.Failures[0] != "no objects found under s3://imports/nothing-here/" {
		t.Fatalf("job = %+v", j)
	}
}

// TestImportManyPieces cuts a file into many small pieces and checks that counters add up and
// that failures in later pieces name their exact file lines.
func TestImportManyPieces(t *testing.T) {
	t.Parallel()
	// Pieces of about 50 rows, at most two held at once by three workers: a piece whose
	// rows were not given back would stop the job.
	s := testserver.Start(t, testserver.Options{PieceSize: 2048, Workers: 3, RowsInFlight: 100})
	app := newApp(t, s)
	var b strings.Builder
	b.WriteString("Id,ChannelType,Address,Attributes.n\n")
	const rows = 2000
	for i := range rows {
		if i%250 == 249 {
			fmt.Fprintf(&b, "row-%d,PIGEON,p%d@example.com,%d\n", i, i, i) // line i+2 is bad
			continue
		}
		fmt.Fprintf(&b, "row-%d,EMAIL,p%d@example.com,%d\n", i, i, i)
	}
	s.Put(t, "imports", "big.csv", []byte(b.String()))
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/big.csv"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true)})
	if *j.TotalPieces < 20 {
		t.Fatalf("TotalPieces = %d, want a file of %d bytes cut into pieces of about 2 KiB", *j.TotalPieces, b.Len())
	}
	wantCounts(t, j, counts{types.JobStatusCompleted, *j.TotalPieces, *j.TotalPieces, 0, rows, rows / 250})
	for k, f := range j.Failures {
		want := fmt.Sprintf("s3://imports/big.csv:%d: ", 250*(k+1)+1)
		if !strings.HasPrefix(f, want) {
			t.Fatalf("Failures[%d] = %q, want prefix %q", k, f, want)
		}
	}
	if e := getEndpoint(t, s, app, "row-1998"); !slices.Equal(e.Attributes["n"], []string{"1998"}) {
		t.Fatalf("row-1998 = %+v", e)
	}
	if seg := getSegment(t, s, app, *j.Definition.SegmentId); *seg.ImportDefinition.Size != rows-rows/250 {
		t.Fatalf("segment size = %d", *seg.ImportDefinition.Size)
	}
	// Again: every piece now also holds the stored endpoints it merges into.
	again := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/big.csv"),
		RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, again, counts{types.JobStatusCompleted, *j.TotalPieces, *j.TotalPieces, 0, rows, rows / 250})

	// The full report lists every failure; GetImportJob keeps the first 100.
	resp, body := signedGet(t, s, "/v1/apps/"+app+"/jobs/import/"+*j.Id+"/failures")
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if resp.StatusCode != 200 || len(lines) != rows/250 || !strings.Contains(lines[0], `"Line":251`) {
		t.Fatalf("failure report: %d %q", resp.StatusCode, body)
	}
}

func TestCreateImportJobValidation(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Server: func(a *api.Server) { a.AllowedBuckets = []string{"imports"} }})
	app := newApp(t, s)
	ok := types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/x.csv"), RoleArn: aws.String(role)}
	for _, tc := range []struct {
		name string
		edit func(r *types.ImportJobRequest)
		msg  string
	}{
		{"format", func(r *types.ImportJobRequest) { r.Format = "XML" }, `Format must be CSV or JSON, got "XML"`},
		{"scheme", func(r *types.ImportJobRequest) { r.S3Url = aws.String("https://imports/x.csv") }, "S3Url"},
		{"no bucket", func(r *types.ImportJobRequest) { r.S3Url = aws.String("s3://") }, "S3Url"},
		{"bucket not allowed", func(r *types.ImportJobRequest) { r.S3Url = aws.String("s3://secrets/x.csv") }, `bucket "secrets", which this server may not read`},
		{"role", func(r *types.ImportJobRequest) { r.RoleArn = aws.String("import-role") }, "RoleArn must be an IAM role ARN"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := ok
			tc.edit(&req)
			_, err := s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: aws.String(app), ImportJobRequest: &req})
			var bad *types.BadRequestException
			if !errors.As(err, &bad) || !strings.Contains(*bad.Message, tc.msg) {
				t.Fatalf("error = %v, want BadRequestException containing %q", err, tc.msg)
			}
		})
	}
	req := ok
	req.SegmentId = aws.String("0123456789abcdef0123456789abcdef")
	_, err := s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: aws.String(app), ImportJobRequest: &req})
	var nf *types.NotFoundException
	if !errors.As(err, &nf) || !strings.Contains(*nf.Message, "Segment") {
		t.Fatalf("unknown SegmentId: %v", err)
	}
	_, err = s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: aws.String("0123456789abcdef0123456789abcdef"), ImportJobRequest: &ok})
	if !errors.As(err, &nf) || !strings.Contains(*nf.Message, "Application") {
		t.Fatalf("unknown app: %v", err)
	}
	_, err = s.Pinpoint.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: aws.String(app), JobId: aws.String("nope")})
	if !errors.As(err, &nf) || !strings.Contains(*nf.Message, "Import job") {
		t.Fatalf("unknown job: %v", err)
	}
}

func TestGetImportJobsPaging(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := newApp(t, s)
	s.PutFile(t, "imports", "e.csv", "testdata/basic/endpoints.csv")
	var ids []string
	for range 5 {
		out, err := s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: aws.String(app),
			ImportJobRequest: &types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/e.csv"), RoleArn: aws.String(role)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append([]string{*out.ImportJobResponse.Id}, ids...) // newest first
	}
	var got []string
	var token *string
	for {
		out, err := s.Pinpoint.GetImportJobs(ctx, &pinpoint.GetImportJobsInput{ApplicationId: aws.String(app), PageSize: aws.String("2"), Token: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range out.ImportJobsResponse.Item {
			got = append(got, *j.Id)
		}
		if token = out.ImportJobsResponse.NextToken; token == nil {
			break
		}
	}
	if !slices.Equal(got, ids) {
		t.Fatalf("GetImportJobs = %v, want newest first %v", got, ids)
	}
	for _, id := range ids {
		waitJob(t, s, app, id)
	}
}

func signedGet(t *testing.T, s *testserver.Server, path string) (*http.Response, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.URL+path, nil)
	testserver.Sign(t, req, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

func TestImportBadHeader(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{PieceSize: 1024})
	app := newApp(t, s)
	var b strings.Builder
	b.WriteString("ChannelType,Adress\n")
	for i := range 500 {
		fmt.Fprintf(&b, "EMAIL,h%d@example.com\n", i)
	}
	s.Put(t, "imports", "typo.csv", []byte(b.String()))
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/typo.csv"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusFailed, 0, 0, 0, 0, 0})
	if len(j.Failures) != 1 || !strings.HasPrefix(j.Failures[0], "s3://imports/typo.csv:1: ") || !strings.Contains(j.Failures[0], `"Adress"`) {
		t.Fatalf("Failures = %q", j.Failures)
	}
	// A small file is one piece: the same header fails that piece, and so the job.
	s.Put(t, "imports", "small.csv", []byte("ChannelType,Adress\nEMAIL,x@example.com\n"))
	j = importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/small.csv"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusFailed, 1, 0, 1, 0, 0})
	if len(j.Failures) != 1 || !strings.HasPrefix(j.Failures[0], "s3://imports/small.csv:1: ") {
		t.Fatalf("Failures = %q", j.Failures)
	}
}

func TestImportFromExternalS3(t *testing.T) {
	t.Parallel()
	url := s3test.StartMoto(t)
	s := testserver.Start(t, testserver.Options{S3Endpoint: url, S3AccessKeyID: "testing", S3Secret: "testing", PieceSize: 4096})
	app := newApp(t, s)
	var b strings.Builder
	b.WriteString("Id,ChannelType,Address\n")
	for i := range 1000 {
		fmt.Fprintf(&b, "ext-%d,EMAIL,ext%d@example.com\n", i, i)
	}
	s.Put(t, "external", "in/a.csv", []byte(b.String()))
	s.PutFile(t, "external", "in/sub/b.json", "testdata/ndjson/endpoints.json")
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://external/in/"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true)})
	if *j.TotalPieces < 5 {
		t.Fatalf("TotalPieces = %d", *j.TotalPieces)
	}
	wantCounts(t, j, counts{types.JobStatusCompleted, *j.TotalPieces, *j.TotalPieces, 0, 1000, 0})
	if e := getEndpoint(t, s, app, "ext-999"); *e.Address != "ext999@example.com" {
		t.Fatalf("ext-999 = %+v", e)
	}
	j = importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://not-there/in/")})
	if j.JobStatus != types.JobStatusFailed || !strings.Contains(j.Failures[0], `bucket "not-there" does not exist`) {
		t.Fatalf("missing bucket on external S3: %+v", j)
	}
}
