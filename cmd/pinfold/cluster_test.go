package main

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/pinfold/pinfold/postgres/pgtest"
	"github.com/pinfold/pinfold/s3/s3test"
)

// cluster is several `pinfold serve` nodes on one PostgreSQL and one external S3 (moto).
type cluster struct {
	nodes []*proc
	s3    *awss3.Client
	args  []string
	env   []string
}

const clusterKey, clusterSecret = "PFCLUSTERROOTKEY0001", "cluster-secret-access-key-000000000000000"

func startCluster(t *testing.T, n int, args ...string) *cluster {
	t.Helper()
	s3url := s3test.StartMoto(t)
	c := &cluster{
		args: append([]string{"--database", pgtest.URL(t), "--s3-endpoint", s3url, "--import-lease", "2s"}, args...),
		env: []string{"PINFOLD_ROOT_ACCESS_KEY_ID=" + clusterKey, "PINFOLD_ROOT_SECRET_ACCESS_KEY=" + clusterSecret,
			"AWS_ACCESS_KEY_ID=testing", "AWS_SECRET_ACCESS_KEY=testing", "AWS_REGION=us-east-1"},
	}
	for range n {
		c.nodes = append(c.nodes, startServeEnv(t, t.TempDir(), c.env, c.args...))
	}
	c.s3 = awss3.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: awscreds.NewStaticCredentialsProvider("testing", "testing", "")},
		func(o *awss3.Options) {
			o.BaseEndpoint, o.UsePathStyle = aws.String(s3url), true
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		})
	return c
}

func (c *cluster) pinpoint(node int) *pinpoint.Client {
	return pinpoint.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: awscreds.NewStaticCredentialsProvider(clusterKey, clusterSecret, ""),
		RetryMaxAttempts: 1}, func(o *pinpoint.Options) { o.BaseEndpoint = aws.String(c.nodes[node].URL) })
}

func (c *cluster) put(t *testing.T, bucket, key string, data []byte) {
	t.Helper()
	ctx := context.Background()
	c.s3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)})
	if _, err := c.s3.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: bytes.NewReader(data)}); err != nil {
		t.Fatal(err)
	}
}

// piecesDone reads a node's pinfold_import_pieces_total{result="done"}.
func piecesDone(t *testing.T, p *proc) int {
	t.Helper()
	return int(metric(t, p, `pinfold_import_pieces_total{result="done"}`))
}

func createJob(t *testing.T, c *pinpoint.Client, app *string, url string) *string {
	t.Helper()
	out, err := c.CreateImportJob(context.Background(), &pinpoint.CreateImportJobInput{ApplicationId: app, ImportJobRequest: &types.ImportJobRequest{
		Format: types.FormatCsv, S3Url: aws.String(url), RoleArn: aws.String("arn:aws:iam::000000000000:role/import"),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true)}})
	if err != nil {
		t.Fatal(err)
	}
	return out.ImportJobResponse.Id
}

func waitEnded(t *testing.T, c *pinpoint.Client, app, job *string) *types.ImportJobResponse {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out, err := c.GetImportJob(context.Background(), &pinpoint.GetImportJobInput{ApplicationId: app, JobId: job})
		if err != nil {
			t.Fatal(err)
		}
		if j := out.ImportJobResponse; j.JobStatus == types.JobStatusCompleted || j.JobStatus == types.JobStatusFailed {
			return j
		}
	}
	t.Fatal("the job did not end within 10 minutes")
	return nil
}

// wantExact checks a crashCSV import of rows rows ended exactly as an uninterrupted run.
func wantExact(t *testing.T, c *pinpoint.Client, app *string, j *types.ImportJobResponse, rows int32) {
	t.Helper()
	bad := rows / 1000
	if j.JobStatus != types.JobStatusCompleted || *j.TotalProcessed != rows || *j.TotalFailures != bad ||
		*j.CompletedPieces != *j.TotalPieces || *j.FailedPieces != 0 {
		t.Fatalf("job: %s pieces %d/%d failed %d processed %d failures %d", j.JobStatus, *j.CompletedPieces, *j.TotalPieces,
			*j.FailedPieces, *j.TotalProcessed, *j.TotalFailures)
	}
	seg, err := c.GetSegment(context.Background(), &pinpoint.GetSegmentInput{ApplicationId: app, SegmentId: j.Definition.SegmentId})
	if err != nil || *seg.SegmentResponse.ImportDefinition.Size != rows-bad {
		t.Fatalf("segment: %+v, %v", seg, err)
	}
}

// TestClusterSharesOneImport runs one large import on two nodes: both work pieces, and the
// counters are exact. Then again with one node killed mid-job: the other finishes it.
func TestClusterSharesOneImport(t *testing.T) {
	t.Parallel()
	const rows = 100000
	c := startCluster(t, 2, "--piece-size", "65536", "--import-workers", "2")
	c.put(t, "imports", "crash.csv", crashCSV(rows))
	ctx := context.Background()
	a, b := c.pinpoint(0), c.pinpoint(1)
	app, err := a.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("cluster")}})
	if err != nil {
		t.Fatal(err)
	}
	appID := app.ApplicationResponse.Id
	job := createJob(t, a, appID, "s3://imports/crash.csv")
	j := waitEnded(t, b, appID, job)
	wantExact(t, b, appID, j, rows)
	// A node counts a piece after its commit, so the last count may land after COMPLETED.
	var done0, done1 int
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		done0, done1 = piecesDone(t, c.nodes[0]), piecesDone(t, c.nodes[1])
		if int32(done0+done1) >= *j.TotalPieces || time.Now().After(deadline) {
			break
		}
	}
	if done0 == 0 || done1 == 0 || int32(done0+done1) != *j.TotalPieces {
		t.Fatalf("pieces done by node 0: %d, node 1: %d, of %d: want both working and each piece once", done0, done1, *j.TotalPieces)
	}
	t.Logf("%d pieces: %d on node 0, %d on node 1", *j.TotalPieces, done0, done1)
	// Each piece took the app's lock on the node that committed it.
	if locks := metric(t, c.nodes[0], `pinfold_postgres_app_locks_total{writer="import_piece"}`) +
		metric(t, c.nodes[1], `pinfold_postgres_app_locks_total{writer="import_piece"}`); locks < float64(*j.TotalPieces) {
		t.Errorf("%g app locks taken by import pieces, want at least the job's %d pieces", locks, *j.TotalPieces)
	}

	// Kill node 1 in the middle of a second job; node 0 finishes it.
	job = createJob(t, b, appID, "s3://imports/crash.csv")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		out, err := a.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: appID, JobId: job})
		if err != nil {
			t.Fatal(err)
		}
		if j := out.ImportJobResponse; *j.CompletedPieces >= 3 || time.Now().After(deadline) {
			t.Logf("killing node 1 at %s, %d/%d pieces", j.JobStatus, *j.CompletedPieces, *j.TotalPieces)
			break
		}
	}
	c.nodes[1].kill(t)
	j = waitEnded(t, a, appID, job)
	wantExact(t, a, appID, j, rows)
	c.nodes[0].stop(t)
}

// TestClusterActiveCap creates ten jobs at once across two nodes with a cap of two: never
// more than two are active, and all finish.
func TestClusterActiveCap(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 2, "--max-active-imports", "2", "--piece-size", "65536")
	c.put(t, "imports", "small.csv", crashCSV(20000))
	ctx := context.Background()
	clients := []*pinpoint.Client{c.pinpoint(0), c.pinpoint(1)}
	app, err := clients[0].CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("cap")}})
	if err != nil {
		t.Fatal(err)
	}
	appID := app.ApplicationResponse.Id
	for i := range 10 {
		createJob(t, clients[i%2], appID, "s3://imports/small.csv")
	}
	active := map[types.JobStatus]bool{types.JobStatusPreparingForInitialization: true, types.JobStatusInitializing: true,
		types.JobStatusProcessing: true, types.JobStatusCompleting: true, types.JobStatusFailing: true}
	sawPending := false
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(20 * time.Millisecond) {
		out, err := clients[0].GetImportJobs(ctx, &pinpoint.GetImportJobsInput{ApplicationId: appID, PageSize: aws.String("20")})
		if err != nil {
			t.Fatal(err)
		}
		running, ended := 0, 0
		for _, j := range out.ImportJobsResponse.Item {
			switch {
			case active[j.JobStatus]:
				running++
			case j.JobStatus == types.JobStatusPendingJob:
				sawPending = true
			case j.JobStatus == types.JobStatusCompleted:
				ended++
				if *j.TotalProcessed != 20000 || *j.TotalFailures != 20 {
					t.Fatalf("job %s: processed %d failures %d", *j.Id, *j.TotalProcessed, *j.TotalFailures)
				}
			case j.JobStatus == types.JobStatusFailed:
				t.Fatalf("job failed: %q", j.Failures)
			}
		}
		if running > 2 {
			t.Fatalf("%d jobs active at once with a cap of 2", running)
		}
		if ended == 10 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 10 jobs ended", ended)
		}
	}
	if !sawPending {
		t.Fatal("no job was seen waiting in PENDING_JOB")
	}
}
