package api_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/api"
	"github.com/pinfold/pinfold/sigv4"
)

// oneJob is an ImportJobStore that knows one job, so that a benchmark measures the API alone.
type oneJob struct {
	pinfold.ImportJobStore
	job *pinfold.ImportJob
}

func (s oneJob) FindImportJob(_ context.Context, appID, jobID string) (*pinfold.ImportJob, error) {
	if appID != s.job.AppID || jobID != s.job.ID {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Import job %q not found in application %q", jobID, appID)
	}
	j := *s.job
	return &j, nil
}

// errCaptured stops a client call once captureTransport has the request.
var errCaptured = errors.New("captured")

// captureTransport keeps the request a client sends, as a server would read it, and sends
// nothing.
type captureTransport struct {
	t   testing.TB
	req *http.Request
}

func (c *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		c.t.Fatalf("write request: %v", err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		c.t.Fatalf("read request: %v", err)
	}
	c.req = r
	return nil, errCaptured
}

// discardWriter is a ResponseWriter that keeps only the headers, as cheap as a server's.
type discardWriter struct {
	header http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
func (w *discardWriter) Write(b []byte) (int, error) { w.n += len(b); return len(b), nil }

// BenchmarkServeGetImportJob measures what the API adds to GetImportJob around the store:
// routing, the request ID, SigV4, the key's scope, JSON and metrics, for the request the SDK
// sends to poll a completed job with failures.
func BenchmarkServeGetImportJob(b *testing.B) {
	const keyID, secret = "PFBENCHROOT", "bench-secret"
	created := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	job := &pinfold.ImportJob{ID: "fedcba9876543210fedcba9876543210", AppID: "0123456789abcdef0123456789abcdef",
		Definition: pinfold.ImportDefinition{Format: pinfold.FormatCSV, S3URL: "s3://bench/endpoints.csv",
			RoleARN: "arn:aws:iam::123456789012:role/import", RegisterEndpoints: true},
		Status: pinfold.JobCompleted, CreatedAt: created, CompletedAt: created.Add(3 * time.Second),
		TotalPieces: 1, CompletedPieces: 1, TotalProcessed: 1000, TotalFailures: 1,
		Failures: []string{"s3://bench/endpoints.csv:7: Address is missing"}}
	s := &api.Server{ImportJobs: oneJob{job: job}, RootAccessKeyID: keyID, Region: "us-east-1", AccountID: "123456789012",
		Verifier: &sigv4.Verifier{Region: "us-east-1", Service: "mobiletargeting",
			Lookup: api.SecretLookup(keyID, secret, nil, nil)}}
	h := s.Handler()

	capture := &captureTransport{t: b}
	client := pinpoint.New(pinpoint.Options{BaseEndpoint: aws.String("http://pinfold.test"), Region: "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider(keyID, secret, ""), RetryMaxAttempts: 1,
		HTTPClient: &http.Client{Transport: capture}})
	client.GetImportJob(context.Background(), &pinpoint.GetImportJobInput{ApplicationId: &job.AppID, JobId: &job.ID})
	r := capture.req
	if r == nil {
		b.Fatal("the client sent no request")
	}

	w := &discardWriter{header: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.header)
		w.status, w.n = 0, 0
		h.ServeHTTP(w, r)
		if w.status != http.StatusOK {
			b.Fatalf("status %d", w.status)
		}
	}
}
