package importer_test

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold/internal/testserver"
	"github.com/pinfold/pinfold/s3"
)

// faultyS3 is an embedded S3 endpoint behind a proxy that can drop the connections of object
// reads, as a network outage between Pinfold and its S3 would.
type faultyS3 struct {
	URL   string
	down  atomic.Bool  // every object read drops
	drops atomic.Int32 // the next object reads that drop
}

func startFaultyS3(t *testing.T) *faultyS3 {
	t.Helper()
	srv := &s3.Server{Addr: "127.0.0.1:0", Dir: filepath.Join(t.TempDir(), "s3")}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	target, _ := url.Parse(srv.URL())
	f := &faultyS3{}
	proxy := httputil.NewSingleHostReverseProxy(target)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Object reads are GETs of a key (path-style: /bucket/key); listing is a GET of /bucket.
		if r.Method == http.MethodGet && strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1 {
			if f.down.Load() || f.drops.Add(-1) >= 0 {
				panic(http.ErrAbortHandler) // the connection drops mid-request
			}
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	f.URL = hs.URL
	return f
}

// TestImportSurvivesShortS3Outage drops the first object reads of a job (more than the S3
// client's own retries): the piece is retried with backoff and the job completes with exact
// counters.
func TestImportSurvivesShortS3Outage(t *testing.T) {
	t.Parallel()
	f := startFaultyS3(t)
	s := testserver.Start(t, testserver.Options{S3Endpoint: f.URL, S3AccessKeyID: "k", S3Secret: "s",
		Backoff: 200 * time.Millisecond, MaxAttempt: 8})
	app := newApp(t, s)
	s.PutFile(t, "imports", "e.csv", "testdata/basic/endpoints.csv")
	f.drops.Store(8)
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/e.csv"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 3, 0})
	if got := retried(t, s); got == 0 {
		t.Fatal("no piece was retried: the outage did not hit the job")
	}
}

// TestImportFailsOnLongS3Outage keeps object reads down: after its attempts the piece fails,
// and the job ends FAILED with a reason that says what could not be read.
func TestImportFailsOnLongS3Outage(t *testing.T) {
	t.Parallel()
	f := startFaultyS3(t)
	s := testserver.Start(t, testserver.Options{S3Endpoint: f.URL, S3AccessKeyID: "k", S3Secret: "s",
		Backoff: 10 * time.Millisecond, MaxAttempt: 3})
	app := newApp(t, s)
	s.PutFile(t, "imports", "e.csv", "testdata/basic/endpoints.csv")
	f.down.Store(true)
	j := importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/e.csv"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusFailed, 1, 0, 1, 0, 0})
	if len(j.Failures) != 1 || !strings.HasPrefix(j.Failures[0], "s3://imports/e.csv: could not be read after 3 attempts: ") {
		t.Fatalf("Failures = %q", j.Failures)
	}
	// The server keeps working: the same import succeeds once S3 is back.
	f.down.Store(false)
	j = importJob(t, s, app, types.ImportJobRequest{Format: types.FormatCsv, S3Url: aws.String("s3://imports/e.csv"), RegisterEndpoints: aws.Bool(true)})
	wantCounts(t, j, counts{types.JobStatusCompleted, 1, 1, 0, 3, 0})
}

// retried reads the importer's count of retried pieces from the server's metrics.
func retried(t *testing.T, s *testserver.Server) int {
	t.Helper()
	_, body := signedGet(t, s, "/metrics")
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, `pinfold_import_pieces_total{result="retried"} `); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return int(n)
		}
	}
	return 0
}
