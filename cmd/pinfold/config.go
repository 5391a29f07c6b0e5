package main

import (
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/pinfold/pinfold/importer"
	"github.com/pinfold/pinfold/sqlite"
)

// Config is everything serve and migrate can be told, from flags or PINFOLD_* variables.
type Config struct {
	Addr     string
	Data     string
	Database string
	// SQLiteCache is the SQLite write connection's page cache in bytes.
	SQLiteCache int64
	Region      string
	Account     string

	S3Addr           string
	S3Endpoint       string
	S3Region         string
	S3PathStyle      bool
	S3AllowedBuckets string

	MaxActiveImports int
	ImportWorkers    int
	// ImportRowsInFlight bounds the rows of import pieces a node holds (importer.Importer).
	ImportRowsInFlight int
	PieceSize          int64
	ImportLease        time.Duration

	MaxActiveExports     int
	ExportPieceEndpoints int

	MaxBodyBytes  int64
	RateLimit     float64
	RootRateLimit float64
	RateBurst     int

	Console           bool
	ConsoleSession    time.Duration
	ConsoleSessionMax time.Duration

	LogFormat       string
	LogLevel        string
	DebugAddr       string
	MemoryLimit     int64
	ShutdownTimeout time.Duration
}

// flagSet binds cfg's fields to flags whose defaults come from the environment.
func (cfg *Config) flagSet(name string, getenv func(string) string, stderr io.Writer) (*flag.FlagSet, *[]error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var errs []error
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	str := func(p *string, flagName, key, def, help string) {
		fs.StringVar(p, flagName, env(key, def), help+" ($"+key+")")
	}
	num := func(p *int64, flagName, key string, def int64, help string) {
		v, err := strconv.ParseInt(env(key, fmt.Sprint(def)), 10, 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: must be a whole number, got %q", key, getenv(key)))
		}
		fs.Int64Var(p, flagName, v, help+" ($"+key+")")
	}
	integer := func(p *int, flagName, key string, def int, help string) {
		v, err := strconv.Atoi(env(key, fmt.Sprint(def)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: must be a whole number, got %q", key, getenv(key)))
		}
		fs.IntVar(p, flagName, v, help+" ($"+key+")")
	}
	float := func(p *float64, flagName, key string, def float64, help string) {
		v, err := strconv.ParseFloat(env(key, fmt.Sprint(def)), 64)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: must be a number, got %q", key, getenv(key)))
		}
		fs.Float64Var(p, flagName, v, help+" ($"+key+")")
	}
	boolean := func(p *bool, flagName, key string, def bool, help string) {
		v, err := strconv.ParseBool(env(key, fmt.Sprint(def)))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: must be true or false, got %q", key, getenv(key)))
		}
		fs.BoolVar(p, flagName, v, help+" ($"+key+")")
	}
	str(&cfg.Addr, "addr", "PINFOLD_ADDR", "127.0.0.1:8080", "address the Pinpoint API listens on")
	str(&cfg.Data, "data", "PINFOLD_DATA", "./pinfold-data", "data folder: database, credentials, embedded S3 objects")
	str(&cfg.Database, "database", "PINFOLD_DATABASE_URL", "", "postgres:// URL shared by every node; empty means SQLite in the data folder")
	num(&cfg.SQLiteCache, "sqlite-cache", "PINFOLD_SQLITE_CACHE", sqlite.DefaultCacheBytes, "bytes of SQLite page cache for writes (imports); more is faster on large apps and costs that much memory")
	str(&cfg.Region, "region", "PINFOLD_REGION", "us-east-1", "region clients sign requests for")
	str(&cfg.Account, "account-id", "PINFOLD_ACCOUNT_ID", "000000000000", "12-digit account ID used in ARNs")
	str(&cfg.S3Addr, "s3-addr", "PINFOLD_S3_ADDR", "127.0.0.1:9000", "address of the embedded S3 endpoint")
	str(&cfg.S3Endpoint, "s3-endpoint", "PINFOLD_S3_ENDPOINT", "", "external S3 endpoint URL (AWS, MinIO, …); set, no embedded endpoint starts")
	str(&cfg.S3Region, "s3-region", "PINFOLD_S3_REGION", "", "region of the external S3 (default: --region)")
	boolean(&cfg.S3PathStyle, "s3-path-style", "PINFOLD_S3_PATH_STYLE", true, "use path-style S3 URLs")
	str(&cfg.S3AllowedBuckets, "s3-allowed-buckets", "PINFOLD_S3_ALLOWED_BUCKETS", "", "comma-separated buckets an S3Url may name (default: any)")
	integer(&cfg.MaxActiveImports, "max-active-imports", "PINFOLD_MAX_ACTIVE_IMPORTS", 10, "import jobs running at once; more wait in PENDING_JOB")
	integer(&cfg.ImportWorkers, "import-workers", "PINFOLD_IMPORT_WORKERS", 0, fmt.Sprintf("pieces of import and export jobs worked at once on this node (0: %d on SQLite, %d on PostgreSQL)", sqliteImportWorkers, importer.DefaultWorkers))
	integer(&cfg.ImportRowsInFlight, "import-rows-in-flight", "PINFOLD_IMPORT_ROWS_IN_FLIGHT", importer.DefaultRowsInFlight, "rows of import pieces held at once on this node, decoded or read from the store (1-2 KB of memory each); a worker claims another piece only while one more fits")
	num(&cfg.PieceSize, "piece-size", "PINFOLD_PIECE_SIZE", 4<<20, "target size of an import piece in bytes")
	integer(&cfg.MaxActiveExports, "max-active-exports", "PINFOLD_MAX_ACTIVE_EXPORTS", 10, "export jobs running at once (apart from imports); more wait in PENDING_JOB")
	integer(&cfg.ExportPieceEndpoints, "export-piece-endpoints", "PINFOLD_EXPORT_PIECE_ENDPOINTS", 10000, "endpoints per export piece, each written as one object")
	num(&cfg.MaxBodyBytes, "max-body-bytes", "PINFOLD_MAX_BODY_BYTES", 7<<20, "largest request body accepted")
	float(&cfg.RateLimit, "rate-limit", "PINFOLD_RATE_LIMIT", 0, "requests per second per access key (0: no limit)")
	float(&cfg.RootRateLimit, "root-rate-limit", "PINFOLD_ROOT_RATE_LIMIT", 0, "requests per second for the root key (0: no limit)")
	integer(&cfg.RateBurst, "rate-burst", "PINFOLD_RATE_BURST", 50, "requests a key may make at once above its rate")
	boolean(&cfg.Console, "console", "PINFOLD_CONSOLE", true, "serve the web console at /console/ on --addr")
	str(&cfg.LogFormat, "log-format", "PINFOLD_LOG_FORMAT", "auto", "log format: auto (text on a terminal), text or json")
	str(&cfg.LogLevel, "log-level", "PINFOLD_LOG_LEVEL", "info", "log level: debug, info, warn or error")
	num(&cfg.MemoryLimit, "memory-limit", "PINFOLD_MEMORY_LIMIT", DefaultMemoryLimit, "soft limit in bytes of the memory the Go runtime holds: past it, garbage is collected more often (0: no limit; $GOMEMLIMIT, when set, wins)")
	str(&cfg.DebugAddr, "debug-addr", "PINFOLD_DEBUG_ADDR", "", "address of Go's profiling endpoints (/debug/pprof/); empty: none. Keep it on localhost")
	fs.DurationVar(&cfg.ImportLease, "import-lease", 30*time.Second, "how long a node's claim on a piece lasts without renewal; a dead node's pieces are taken over after it")
	fs.DurationVar(&cfg.ConsoleSession, "console-session", 30*time.Minute, "a console session ends after this long unused")
	fs.DurationVar(&cfg.ConsoleSessionMax, "console-session-max", 8*time.Hour, "a console session ends this long after sign-in, used or not")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 30*time.Second, "how long a stop waits for work in flight")
	return fs, &errs
}

// Validate reports the first field that cannot work, by its flag name.
func (cfg *Config) Validate() error {
	if cfg.Database != "" && !isPostgres(cfg.Database) {
		return fmt.Errorf("--database: must be empty (SQLite in --data) or a postgres:// URL, got %q", cfg.Database)
	}
	addrs := map[string]string{"--addr": cfg.Addr, "--s3-addr": cfg.S3Addr}
	if cfg.DebugAddr != "" {
		addrs["--debug-addr"] = cfg.DebugAddr
	}
	for name, addr := range addrs {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("%s: must be host:port, got %q", name, addr)
		}
	}
	switch {
	case cfg.Data == "":
		return fmt.Errorf("--data: must name a folder")
	case len(cfg.Account) != 12 || strings.Trim(cfg.Account, "0123456789") != "":
		return fmt.Errorf("--account-id: must be 12 digits, got %q", cfg.Account)
	case cfg.Region == "":
		return fmt.Errorf("--region: must not be empty")
	case cfg.MaxActiveImports < 1:
		return fmt.Errorf("--max-active-imports: must be at least 1")
	case cfg.ImportWorkers < 0:
		return fmt.Errorf("--import-workers: must be 0 (the store's default) or more")
	case cfg.ImportRowsInFlight < 1:
		return fmt.Errorf("--import-rows-in-flight: must be at least 1")
	case cfg.PieceSize < 64<<10:
		return fmt.Errorf("--piece-size: must be at least 65536 bytes")
	case cfg.MaxActiveExports < 1:
		return fmt.Errorf("--max-active-exports: must be at least 1")
	case cfg.ExportPieceEndpoints < 100:
		return fmt.Errorf("--export-piece-endpoints: must be at least 100")
	case cfg.ImportLease < time.Second:
		return fmt.Errorf("--import-lease: must be at least 1s")
	case cfg.ConsoleSession < time.Minute:
		return fmt.Errorf("--console-session: must be at least 1m")
	case cfg.ConsoleSessionMax < cfg.ConsoleSession:
		return fmt.Errorf("--console-session-max: must be at least --console-session (%v)", cfg.ConsoleSession)
	case cfg.MaxBodyBytes < 1024:
		return fmt.Errorf("--max-body-bytes: must be at least 1024")
	case cfg.LogFormat != "auto" && cfg.LogFormat != "text" && cfg.LogFormat != "json":
		return fmt.Errorf("--log-format: must be auto, text or json, got %q", cfg.LogFormat)
	}
	return nil
}

// sqliteImportWorkers is --import-workers' default on SQLite. Pieces that wait for its one
// writer commit together in one transaction, and the more rows a transaction holds, the fewer
// index pages each row costs: eight workers fill the groups that four leave half empty with
// NDJSON's smaller pieces, while --import-rows-in-flight keeps their memory where four left it
// (docs/performance.md). On PostgreSQL an app's pieces commit one at a time under its row
// lock, and more workers only wait for it, each holding a connection of the pool the API
// shares (eight measured no faster): it keeps importer.DefaultWorkers.
const sqliteImportWorkers = 8

// importWorkers is --import-workers, or the default of the store when it is 0.
func (cfg *Config) importWorkers() int {
	switch {
	case cfg.ImportWorkers > 0:
		return cfg.ImportWorkers
	case cfg.Database == "":
		return sqliteImportWorkers
	}
	return importer.DefaultWorkers
}
