// Command pinfold-bench measures Pinfold's import pipeline and API, each figure beside a
// baseline measured in the same run on the same data, and prints a table (or JSON):
//
//   - decode: the endpointfile decoders on one goroutine, against splitting the same bytes
//     into lines with bufio.Scanner;
//   - store: pre-decoded, pre-merged endpoints written through a store's bulk path as import
//     pieces (ClaimPiece, CommitPiece, PutEndpoints), against a plain INSERT OR REPLACE loop
//     on SQLite and a COPY into a plain table on PostgreSQL;
//   - import: whole import jobs through the API of a real `pinfold serve` (fresh app, then a
//     re-import of the same file), against the store limit;
//   - api: signed GetImportJob calls from 1, 8 and 64 SDK clients (or plain signed net/http
//     requests), against a bare net/http handler answering the same body;
//   - memory: the server's peak RSS while importing a file ten times the size, against the
//     default size.
//
// With --repeat N the sections before memory run N times, one round after the other, and each
// figure is reported as the median of its rounds, each ratio as the median of the rounds'
// ratios. The data is generated deterministically from --seed. See docs/performance.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime/pprof"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := Run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "pinfold-bench:", err)
		}
		os.Exit(1)
	}
}

// sections are the parts of a run, in the order they run.
var sections = []string{"decode", "store", "import", "api", "memory"}

// options is what a run is told.
type options struct {
	rows          int
	formats       []string // "csv", "json"
	seed          uint64
	only          map[string]bool
	postgres      string   // "", "auto" or a postgres:// URL
	pgSettings    []string // name=value settings of the "auto" cluster, besides its own
	pgLoops       bool     // measure the loops of the store's statements beside the PostgreSQL store limit
	sqlite        bool     // measure SQLite in the store and import sections
	json          bool
	keep          bool
	importWorkers int // the server's --import-workers; 0 for its default
	storeWriters  int // concurrent writers of the store limit
	pieceSize     int64
	dir           string
	pinfold       string // a built pinfold binary; "" builds one
	apiDuration   time.Duration
	apiClient     string // sdkClient or httpClient
	memoryRows    int
	cpuProfile    string
	repeat        int // rounds of the sections other than memory
}

// pgSetting is one setting of --postgres-settings: what pg_ctl's -o passes on unquoted.
var pgSetting = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.]*=[A-Za-z0-9_.-]+$`)

func parseOptions(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("pinfold-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: pinfold-bench [flags]\n\nMeasures decode, store, import, API and memory figures of Pinfold, each beside a baseline of the same run.\n\n")
		fs.PrintDefaults()
	}
	format := fs.String("format", "both", "file formats: csv, json or both")
	only := fs.String("only", strings.Join(sections, ","), "sections to run, comma-separated: "+strings.Join(sections, ","))
	fs.IntVar(&o.rows, "rows", 1_000_000, "rows of the generated endpoint files (the targets are stated for 1,000,000)")
	fs.Uint64Var(&o.seed, "seed", 1, "seed of the generated data; the same seed gives the same files")
	fs.StringVar(&o.postgres, "postgres", "", `measure PostgreSQL too: a postgres:// URL of a role that may create databases, or "auto" to start a throwaway cluster`)
	pgSettings := fs.String("postgres-settings", "", `settings of --postgres=auto's cluster besides its own (synchronous_commit=off), comma-separated name=value pairs passed as -c options, e.g. "shared_buffers=1GB,max_wal_size=4GB"`)
	fs.BoolVar(&o.pgLoops, "postgres-loops", false, "with --postgres, also measure beside the store limit the upsert loop on --store-writers connections, and the store's own statements (its table and indexes, the INACTIVE rule's UPDATE) on one and on --store-writers connections, without the store or the app's lock")
	fs.BoolVar(&o.sqlite, "sqlite", true, "measure SQLite in the store and import sections; --sqlite=false with --postgres measures PostgreSQL alone there, and skips the memory case, which is SQLite's")
	fs.BoolVar(&o.json, "json", false, "print the report as JSON instead of a table")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (files, databases, server data) and print its path")
	fs.IntVar(&o.importWorkers, "import-workers", 0, "import workers of the server (its --import-workers; 0: the server's default for its store)")
	fs.IntVar(&o.storeWriters, "store-writers", 4, "concurrent writers of the store limit, whose groups commit together")
	fs.Int64Var(&o.pieceSize, "piece-size", 4<<20, "bytes per import piece (the server's --piece-size); the store limit writes pieces of as many rows")
	fs.StringVar(&o.dir, "dir", "", "folder for the temporary folder (default: the system's)")
	fs.StringVar(&o.pinfold, "pinfold", "", "a built pinfold binary (default: go build ./cmd/pinfold of this module)")
	fs.DurationVar(&o.apiDuration, "api-duration", 3*time.Second, "how long each API load runs")
	fs.StringVar(&o.apiClient, "api-client", sdkClient, `clients of the API section: "sdk" (the SDK's Pinpoint client) or "http" (net/http GETs signed with the SDK's signer, a fraction of the SDK client's CPU)`)
	fs.IntVar(&o.memoryRows, "memory-rows", 0, "rows of the memory case (default: 10 × --rows)")
	fs.IntVar(&o.repeat, "repeat", 1, "rounds of the decode, store, import and api sections, one after the other: each figure is then the median of its rounds and each ratio the median of the rounds' ratios, every round's figures against the baselines of that round, with their ranges (the memory case runs once)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of this process (decode and store run here; import and api in the server) to the file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q; see -h", fs.Arg(0))
	}
	switch *format {
	case "csv", "json":
		o.formats = []string{*format}
	case "both":
		o.formats = []string{"csv", "json"}
	default:
		return nil, fmt.Errorf("--format: must be csv, json or both, got %q", *format)
	}
	o.only = map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); !slices.Contains(sections, s) {
			return nil, fmt.Errorf("--only: %q is not one of %s", s, strings.Join(sections, ","))
		}
		o.only[s] = true
	}
	if o.postgres != "" && o.postgres != "auto" && !strings.HasPrefix(o.postgres, "postgres://") && !strings.HasPrefix(o.postgres, "postgresql://") {
		return nil, fmt.Errorf(`--postgres: must be a postgres:// URL or "auto", got %q`, o.postgres)
	}
	if *pgSettings != "" {
		if o.postgres != "auto" {
			return nil, fmt.Errorf("--postgres-settings: only for --postgres=auto; set a server of your own as you like")
		}
		for _, kv := range strings.Split(*pgSettings, ",") {
			if !pgSetting.MatchString(kv) {
				return nil, fmt.Errorf("--postgres-settings: %q is not name=value (a name of letters, digits, '_' and '.', a value of letters, digits, '_', '.' and '-')", kv)
			}
			o.pgSettings = append(o.pgSettings, kv)
		}
	}
	if o.pgLoops && o.postgres == "" {
		return nil, fmt.Errorf("--postgres-loops: the loops are PostgreSQL's; give --postgres too")
	}
	if !o.sqlite && o.postgres == "" {
		return nil, fmt.Errorf("--sqlite=false: without --postgres there is no store to measure")
	}
	switch {
	case o.rows < 1:
		return nil, fmt.Errorf("--rows: must be at least 1")
	case o.importWorkers < 0:
		return nil, fmt.Errorf("--import-workers: must be 0 (the server's default) or more")
	case o.repeat < 1:
		return nil, fmt.Errorf("--repeat: must be at least 1")
	case o.storeWriters < 1:
		return nil, fmt.Errorf("--store-writers: must be at least 1")
	case o.pieceSize < 64<<10:
		return nil, fmt.Errorf("--piece-size: must be at least 65536 bytes, as the server's")
	case o.apiDuration <= 0:
		return nil, fmt.Errorf("--api-duration: must be positive")
	case o.apiClient != sdkClient && o.apiClient != httpClient:
		return nil, fmt.Errorf("--api-client: must be %s or %s, got %q", sdkClient, httpClient, o.apiClient)
	}
	if o.memoryRows == 0 {
		o.memoryRows = 10 * o.rows
	}
	return o, nil
}

// Run runs pinfold-bench with args and prints the report to stdout and progress to stderr.
// When a section fails, what was measured before is printed and the error returned.
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseOptions(args, stderr)
	if err != nil {
		return err
	}
	if o.cpuProfile != "" {
		f, err := os.Create(o.cpuProfile)
		if err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	rep, err := run(ctx, o, stderr)
	if rep != nil && len(rep.Results) > 0 {
		write := rep.WriteTable
		if o.json {
			write = rep.WriteJSON
		}
		if werr := write(stdout); werr != nil && err == nil {
			err = werr
		}
	}
	return err
}
