package main

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold/internal/testserver"
)

// The benchmarks here run a whole Pinfold in this process (internal/testserver: the API,
// the importer, the SQLite store and the embedded S3 endpoint), so that
// `go test -cpuprofile` shows where the server spends its time; `pinfold serve` exposes no
// profile. PINFOLD_BENCH_ROWS sets the rows of BenchmarkImport's file (default 50,000).

func benchRows(b *testing.B) int {
	if n, err := strconv.Atoi(os.Getenv("PINFOLD_BENCH_ROWS")); err == nil && n > 0 {
		return n
	}
	return 50_000
}

// runImport creates an app and imports the server's s3://bench/endpoints.csv into it, also
// into a segment if segment is set, waiting until the job completes; it returns the
// GetImportJob input of the job.
func runImport(b *testing.B, c *pinpoint.Client, rows int, segment bool) *pinpoint.GetImportJobInput {
	ctx := context.Background()
	app, err := c.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("bench")}})
	if err != nil {
		b.Fatal(err)
	}
	in := &pinpoint.GetImportJobInput{ApplicationId: app.ApplicationResponse.Id}
	created, err := c.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: in.ApplicationId, ImportJobRequest: &types.ImportJobRequest{
		Format: types.FormatCsv, S3Url: aws.String("s3://bench/endpoints.csv"), RoleArn: aws.String(benchRole), RegisterEndpoints: aws.Bool(true),
		DefineSegment: aws.Bool(segment), SegmentName: segmentName(segment)}})
	if err != nil {
		b.Fatal(err)
	}
	in.JobId = created.ImportJobResponse.Id
	for {
		out, err := c.GetImportJob(ctx, in)
		if err != nil {
			b.Fatal(err)
		}
		if j := out.ImportJobResponse; j.JobStatus == types.JobStatusCompleted {
			if aws.ToInt32(j.TotalProcessed) != int32(rows) || aws.ToInt32(j.TotalFailures) != 0 {
				b.Fatalf("job: %d processed, %d failures %v", aws.ToInt32(j.TotalProcessed), aws.ToInt32(j.TotalFailures), j.Failures)
			}
			return in
		} else if j.JobStatus == types.JobStatusFailed {
			b.Fatalf("job failed: %v", j.Failures)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func segmentName(segment bool) *string {
	if segment {
		return aws.String("imported")
	}
	return nil
}

// BenchmarkImport imports a generated CSV file into a fresh app per operation.
func BenchmarkImport(b *testing.B) { benchmarkImport(b, false) }

// BenchmarkImportSegment is BenchmarkImport with DefineSegment: every endpoint also becomes a
// member of the job's segment.
func BenchmarkImportSegment(b *testing.B) { benchmarkImport(b, true) }

func benchmarkImport(b *testing.B, segment bool) {
	rows := benchRows(b)
	s := testserver.Start(b, testserver.Options{Workers: 4})
	s.Put(b, "bench", "endpoints.csv", generate(b, 1, rows, true))
	b.ResetTimer()
	for range b.N {
		runImport(b, s.Pinpoint, rows, segment)
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "endpoints/s")
}

// BenchmarkGetImportJob calls GetImportJob on a completed job from 64 signed SDK clients at
// once (32 per CPU on the 2-CPU machine of docs/performance.md).
func BenchmarkGetImportJob(b *testing.B) {
	const rows = 1000
	s := testserver.Start(b, testserver.Options{})
	s.Put(b, "bench", "endpoints.csv", generate(b, 1, rows, true))
	in := runImport(b, s.Pinpoint, rows, false)
	c := pinpointClient(s.URL, keyPair{testserver.AccessKeyID, testserver.SecretAccessKey}, newHTTPClient())
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.GetImportJob(context.Background(), in); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
