// Package testserver runs a whole Pinfold in a test: the SQLite store in a temporary folder,
// the embedded S3 endpoint, the importer and the API, and hands out real aws-sdk-go-v2
// Pinpoint and S3 clients pointed at it.
package testserver

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/api"
	"github.com/pinfold/pinfold/importer"
	"github.com/pinfold/pinfold/s3"
	"github.com/pinfold/pinfold/sigv4"
	"github.com/pinfold/pinfold/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// Test credentials and region.
const (
	AccessKeyID     = "PFTESTROOTKEY0000001"
	SecretAccessKey = "test-secret-access-key-0000000000000000"
	Region          = "us-east-1"
)

// Options changes the server a test gets; the zero value is the embedded default.
type Options struct {
	Dir           string // data folder to reuse (default: a new temporary one)
	S3Endpoint    string // external S3 (default: an embedded endpoint)
	S3AccessKeyID string // credentials for the external S3
	S3Secret      string
	PieceSize     int64
	// ExportPieceEndpoints is the number of endpoints per export piece (default 10000).
	ExportPieceEndpoints int
	MaxActive            int
	Workers              int
	RowsInFlight         int // the importer's bound on rows in flight (default 50,000)
	// Backoff and MaxAttempt set the importer's retries (defaults: 20ms, the importer's default).
	Backoff    time.Duration
	MaxAttempt int
	// MaxAttributeNames is the store's quota of custom attribute names per app (default 250).
	MaxAttributeNames int
	// Server, when set, is called on the API server before it starts serving.
	Server func(*api.Server)
	// Stores, when set, may wrap the stores the API uses (for fault injection).
	Stores func(*sqlite.DB) (pinfold.AppStore, pinfold.ImportJobStore)
}

// Server is a running Pinfold.
type Server struct {
	URL      string
	S3URL    string
	Dir      string
	DB       *sqlite.DB
	API      *api.Server
	Importer *importer.Importer
	Pinpoint *pinpoint.Client
	S3       *awss3.Client
	Objects  *s3.Client
}

// Start starts a Pinfold for t and stops it when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	ctx := context.Background()
	dir := opts.Dir
	if dir == "" {
		dir = t.TempDir()
	}
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db := sqlite.NewDB(filepath.Join(dir, "pinfold.db"))
	db.MaxAttributeNames = opts.MaxAttributeNames
	if err := db.Open(); err != nil {
		t.Fatalf("open db: %v", err)
	}
	lookup := func(id string) (string, bool) { return SecretAccessKey, id == AccessKeyID }
	s := &Server{Dir: dir, DB: db}
	cfg := s3.Config{Endpoint: opts.S3Endpoint, Region: Region, PathStyle: true,
		AccessKeyID: opts.S3AccessKeyID, SecretAccessKey: opts.S3Secret}
	if opts.S3Endpoint == "" {
		verifier := &sigv4.Verifier{Region: Region, Service: "s3", Lookup: lookup}
		srv := &s3.Server{Addr: "127.0.0.1:0", Dir: filepath.Join(dir, "s3"), Logger: log,
			Authenticate: func(r *http.Request) error { _, err := verifier.Verify(r, nil); return err }}
		if err := srv.Open(); err != nil {
			t.Fatalf("start embedded s3: %v", err)
		}
		t.Cleanup(func() { srv.Close() })
		cfg.Endpoint, cfg.AccessKeyID, cfg.SecretAccessKey = srv.URL(), AccessKeyID, SecretAccessKey
	}
	s.S3URL = cfg.Endpoint
	objects, err := s3.NewClient(ctx, cfg)
	if err != nil {
		t.Fatalf("s3 client: %v", err)
	}
	s.Objects = objects
	registry := prometheus.NewRegistry()
	s.Importer = &importer.Importer{Registerer: registry, Store: db, Objects: objects, Logger: log, Node: "test-node",
		PieceSize: opts.PieceSize, MaxActive: opts.MaxActive, Workers: opts.Workers, RowsInFlight: opts.RowsInFlight,
		Poll: 50 * time.Millisecond, Backoff: 20 * time.Millisecond, MaxAttempt: opts.MaxAttempt,
		Exports: db, Endpoints: db, Segments: db, ExportPieceEndpoints: opts.ExportPieceEndpoints, TempDir: t.TempDir()}
	if opts.Backoff > 0 {
		s.Importer.Backoff = opts.Backoff
	}
	s.Importer.Start()

	var apps pinfold.AppStore = db
	var jobs pinfold.ImportJobStore = db
	if opts.Stores != nil {
		apps, jobs = opts.Stores(db)
	}
	keys := &api.KeyCache{KeyStore: db, TTL: api.DefaultKeyCacheTTL}
	s.API = &api.Server{Apps: apps, Endpoints: db, Segments: db, ImportJobs: jobs, ExportJobs: db, Jobs: s.Importer, Keys: keys,
		Verifier:        &sigv4.Verifier{Region: Region, Service: "mobiletargeting", Lookup: api.SecretLookup(AccessKeyID, SecretAccessKey, keys, log)},
		RootAccessKeyID: AccessKeyID, Region: Region, AccountID: "123456789012", Logger: log, Registry: registry}
	if opts.Server != nil {
		opts.Server(s.API)
	}
	// The HTTP server of `pinfold serve`, with its timeouts.
	hs := httptest.NewUnstartedServer(nil)
	hs.Config = api.NewHTTPServer(s.API.Handler(), nil)
	hs.Start()
	s.URL = hs.URL
	t.Cleanup(func() {
		hs.Close()
		stopCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		s.Importer.Stop(stopCtx)
		db.Close()
	})
	s.Pinpoint = s.NewPinpoint(AccessKeyID, SecretAccessKey)
	s.S3 = awss3.NewFromConfig(aws.Config{Region: Region,
		Credentials: credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")},
		func(o *awss3.Options) {
			o.BaseEndpoint, o.UsePathStyle = aws.String(cfg.Endpoint), true
			o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
			o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		})
	return s
}

// NewPinpoint returns a Pinpoint client for the server signing with the given key pair. It
// does not retry, so that tests see every error as it was sent.
func (s *Server) NewPinpoint(id, secret string) *pinpoint.Client {
	return pinpoint.NewFromConfig(aws.Config{Region: Region,
		Credentials: credentials.NewStaticCredentialsProvider(id, secret, "")},
		func(o *pinpoint.Options) {
			o.BaseEndpoint = aws.String(s.URL)
			o.RetryMaxAttempts = 1
		})
}

// Put uploads data to bucket/key on the server's S3, creating the bucket if needed.
func (s *Server) Put(t testing.TB, bucket, key string, data []byte) {
	t.Helper()
	ctx := context.Background()
	s.S3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)})
	if _, err := s.S3.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key),
		Body: bytes.NewReader(data)}); err != nil {
		t.Fatalf("put s3://%s/%s: %v", bucket, key, err)
	}
}

// PutFile uploads a local file.
func (s *Server) PutFile(t testing.TB, bucket, key, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Put(t, bucket, key, data)
}

// Sign signs req with the test root key as the SDKs do, for requests an SDK cannot make.
func Sign(t testing.TB, req *http.Request, body []byte) {
	t.Helper()
	SignAt(t, req, body, time.Now())
}

// SignAt is Sign at another time, for requests signed too long ago or ahead.
func SignAt(t testing.TB, req *http.Request, body []byte, at time.Time) {
	t.Helper()
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: AccessKeyID, SecretAccessKey: SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "mobiletargeting", Region, at)
	if err != nil {
		t.Fatal(err)
	}
}

// testWriter sends log lines to the test's log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(bytes.TrimRight(p, "\n")))
	return len(p), nil
}
