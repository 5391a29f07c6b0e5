package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/mattn/go-isatty"
	"github.com/pinfold/pinfold/api"
	"github.com/pinfold/pinfold/console"
	"github.com/pinfold/pinfold/importer"
	"github.com/pinfold/pinfold/s3"
	"github.com/pinfold/pinfold/sigv4"
	"github.com/pinfold/pinfold/sqlite"
	"github.com/prometheus/client_golang/prometheus"
)

// runServe runs the API, the embedded S3 endpoint (unless an external one is configured) and
// the import engine until ctx ends, then stops them in order: no new requests, work in
// flight finishes (or returns to the queue after --shutdown-timeout), storage closes.
func runServe(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cfg Config
	fs, errs := cfg.flagSet("serve", getenv, stderr)
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := firstError(*errs, cfg.Validate()); err != nil {
		return err
	}
	log, err := newLogger(cfg, stderr)
	if err != nil {
		return err
	}
	setMemoryLimit(cfg.MemoryLimit, getenv)
	if err := os.MkdirAll(cfg.Data, 0o700); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	creds, credsPath, generated, err := rootCredentials(cfg.Data, getenv)
	if err != nil {
		return err
	}

	db, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := sqlite.PageCacheBuffer(); err != nil {
		log.Warn("SQLite's page cache takes its pages from malloc, at about twice --sqlite-cache in memory", "error", err)
	}

	// The embedded S3 endpoint knows only the root key: its objects belong to no app, so a key
	// limited to apps or to reading could reach beyond its scope there.
	rootLookup := func(id string) (string, bool) {
		return creds.SecretAccessKey, id == creds.AccessKeyID
	}
	s3cfg := s3.Config{Endpoint: cfg.S3Endpoint, Region: cfg.S3Region, PathStyle: cfg.S3PathStyle}
	if s3cfg.Region == "" {
		s3cfg.Region = cfg.Region
	}
	if cfg.S3Endpoint == "" {
		verifier := &sigv4.Verifier{Region: cfg.Region, Service: "s3", Lookup: rootLookup}
		srv := &s3.Server{Addr: cfg.S3Addr, Dir: filepath.Join(cfg.Data, "s3"), Logger: log.With("component", "s3"),
			Authenticate: func(r *http.Request) error { _, err := verifier.Verify(r, nil); return err }}
		if err := srv.Open(); err != nil {
			return fmt.Errorf("start embedded S3 endpoint: %w", err)
		}
		defer srv.Close()
		s3cfg.Endpoint, s3cfg.PathStyle = srv.URL(), true
		s3cfg.AccessKeyID, s3cfg.SecretAccessKey = creds.AccessKeyID, creds.SecretAccessKey
		log.Info("embedded S3 endpoint listening", "url", srv.URL(), "dir", srv.Dir)
	}
	objects, err := s3.NewClient(ctx, s3cfg)
	if err != nil {
		return fmt.Errorf("S3 client: %w", err)
	}

	registry := prometheus.NewRegistry()
	registerMetrics(registry, db)
	// Export pieces are compressed here before upload; what a killed process left is stale.
	tempDir := filepath.Join(cfg.Data, "tmp")
	if err := errors.Join(os.RemoveAll(tempDir), os.MkdirAll(tempDir, 0o700)); err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	hostname, _ := os.Hostname()
	im := &importer.Importer{Store: db, Objects: objects, Logger: log.With("component", "importer"),
		Node:    fmt.Sprintf("%s-%d-%s", hostname, os.Getpid(), api.NewID()[:8]),
		Workers: cfg.importWorkers(), RowsInFlight: cfg.ImportRowsInFlight, MaxActive: cfg.MaxActiveImports, PieceSize: cfg.PieceSize, Lease: cfg.ImportLease,
		Registerer: registry, Exports: db, Endpoints: db, Segments: db,
		MaxActiveExports: cfg.MaxActiveExports, ExportPieceEndpoints: cfg.ExportPieceEndpoints, TempDir: tempDir}
	im.Start()

	var buckets []string
	for _, b := range strings.Split(cfg.S3AllowedBuckets, ",") {
		if b = strings.TrimSpace(b); b != "" {
			buckets = append(buckets, b)
		}
	}
	keys := &api.KeyCache{KeyStore: db, TTL: api.DefaultKeyCacheTTL}
	apiServer := &api.Server{
		Apps: db, Endpoints: db, Segments: db, ImportJobs: db, ExportJobs: db, Jobs: im, Keys: keys,
		Verifier: &sigv4.Verifier{Region: cfg.Region, Service: "mobiletargeting",
			Lookup: api.SecretLookup(creds.AccessKeyID, creds.SecretAccessKey, keys, log.With("component", "api"))},
		RootAccessKeyID: creds.AccessKeyID, Region: cfg.Region, AccountID: cfg.Account,
		AllowedBuckets: buckets, MaxBodyBytes: cfg.MaxBodyBytes,
		RateLimit: cfg.RateLimit, RootRateLimit: cfg.RootRateLimit, RateBurst: cfg.RateBurst,
		Logger: log.With("component", "api"), Registry: registry,
		Ready: func(ctx context.Context) error {
			if err := db.Ping(ctx); err != nil {
				return fmt.Errorf("the database does not answer: %w", err)
			}
			return nil
		},
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		im.Stop(context.Background())
		return fmt.Errorf("--addr: %w", err)
	}
	var handler http.Handler = apiServer.Handler()
	if cfg.Console {
		handler = withConsole(handler, &console.Console{API: apiServer, Uploader: objects,
			SessionIdle: cfg.ConsoleSession, SessionMax: cfg.ConsoleSessionMax, Logger: log.With("component", "console")})
	}
	httpServer := api.NewHTTPServer(handler, slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	if cfg.DebugAddr != "" {
		stop, err := serveDebug(cfg.DebugAddr, log)
		if err != nil {
			im.Stop(context.Background())
			ln.Close()
			return fmt.Errorf("--debug-addr: %w", err)
		}
		defer stop()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- httpServer.Serve(ln) }()
	endpoint := "http://" + ln.Addr().String()
	if generated {
		fmt.Fprintf(stdout, "Generated root credentials in %s (profile %s). Try:\n\n"+
			"  AWS_SHARED_CREDENTIALS_FILE=%s AWS_PROFILE=%s aws pinpoint get-apps --endpoint-url %s --region %s\n\n",
			credsPath, credentialsProfile, credsPath, credentialsProfile, endpoint, cfg.Region)
	}
	log.Info("pinfold listening", "url", endpoint, "data", cfg.Data, "region", cfg.Region)
	if cfg.Console {
		fmt.Fprintf(stdout, "Console: %s/console/ (sign in with an access key and its secret)\n", endpoint)
	}

	select {
	case <-ctx.Done():
	case err := <-serveErr:
		log.Error("API server stopped", "error", err)
	}
	log.Info("stopping")
	stopCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if err := httpServer.Shutdown(stopCtx); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		log.Warn("API shutdown", "error", err)
	}
	if err := im.Stop(stopCtx); err != nil {
		log.Warn("import work in flight was cancelled; it resumes on the next start", "error", err)
	}
	log.Info("stopped")
	return nil
}

// withConsole serves the console at /console/ (and /console, redirected there) and
// everything else with the API, whose 404 stays the answer for unknown paths.
func withConsole(apiHandler http.Handler, c *console.Console) http.Handler {
	consoleHandler := c.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/console":
			http.Redirect(w, r, "/console/", http.StatusMovedPermanently)
		case strings.HasPrefix(r.URL.Path, "/console/"):
			consoleHandler.ServeHTTP(w, r)
		default:
			apiHandler.ServeHTTP(w, r)
		}
	})
}

// newLogger returns the slog logger: text on a terminal, JSON otherwise, unless told.
func newLogger(cfg Config, w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(cfg.LogLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: must be debug, info, warn or error, got %q", cfg.LogLevel)
	}
	opts := &slog.HandlerOptions{Level: level}
	text := cfg.LogFormat == "text"
	if f, ok := w.(*os.File); ok && cfg.LogFormat == "auto" {
		text = isatty.IsTerminal(f.Fd())
	}
	if text {
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return slog.New(slog.NewJSONHandler(w, opts)), nil
}
