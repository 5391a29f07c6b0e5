package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/postgres"
	"github.com/pinfold/pinfold/sqlite"
)

// bench is one run: its options, its folder, what it generated and what it measured.
type bench struct {
	o     *options
	log   io.Writer
	start time.Time
	dir   string
	rep   *Report
	files map[string]string // "FORMAT-ROWS" → generated file
	bin   string            // the pinfold binary
	pg    *pgServer

	storeLimit map[string]float64 // "SQLite", "PostgreSQL" → endpoints/s
	importPeak float64            // MB, the default-size CSV import on SQLite
	importRate float64            // endpoints/s of that import
	cases      int                // import cases so far, so that each has its own data folder
	round      int                // the round of the sections (--repeat), from 1
}

var formatNames = map[string]string{"csv": "CSV", "json": "NDJSON"}

// run runs the sections o asks for and returns the report, partial when err is not nil.
func run(ctx context.Context, o *options, log io.Writer) (rep *Report, err error) {
	b := &bench{o: o, log: log, start: time.Now(), files: map[string]string{}, storeLimit: map[string]float64{}}
	b.rep = &Report{Date: b.start.UTC().Truncate(time.Second), Machine: thisMachine(), Rows: o.rows, Seed: o.seed,
		Formats: o.formats, ImportWorkers: o.importWorkers, StoreWriters: o.storeWriters, Rounds: o.repeat,
		PostgresSettings: o.pgSettings}
	if b.dir, err = os.MkdirTemp(o.dir, "pinfold-bench-"); err != nil {
		return nil, err
	}
	defer func() {
		if o.keep {
			b.logf("kept %s", b.dir)
		} else {
			os.RemoveAll(b.dir)
		}
	}()
	if o.postgres != "" && (o.only["store"] || o.only["import"]) {
		b.rep.Postgres = "url"
		if o.postgres == "auto" {
			b.rep.Postgres = "auto"
			b.logf("starting a throwaway PostgreSQL")
			b.pg, err = startPostgres(ctx, o.dir, o.pgSettings)
		} else {
			b.pg = &pgServer{url: o.postgres}
		}
		if err != nil {
			return b.rep, err
		}
		defer func() {
			b.pg.close(o.keep)
			if o.keep && b.pg.dir != "" {
				b.logf("kept %s (stopped)", b.pg.dir)
			}
		}()
	}
	// With --repeat, the report holds every round's results until the end, where each figure's
	// rounds become one result (mergeRounds), also when a section fails.
	defer func() { b.rep.Results = mergeRounds(b.rep.Results) }()
	for b.round = 1; b.round <= o.repeat; b.round++ {
		if o.repeat > 1 {
			b.logf("round %d of %d", b.round, o.repeat)
		}
		for _, s := range []struct {
			name string
			run  func(context.Context) error
		}{{"decode", b.decode}, {"store", b.store}, {"import", b.imports}, {"api", b.api}, {"memory", b.memory}} {
			if !o.only[s.name] || s.name == "memory" && b.round < o.repeat {
				continue
			}
			err := s.run(ctx)
			b.rep.Machine.LoadAfter = loadAverage()
			if err != nil {
				return b.rep, fmt.Errorf("%s: %w", s.name, err)
			}
		}
	}
	return b.rep, nil
}

// settle readies the machine for a timed measurement: the garbage of what came before is
// collected, and the files written before it (the generated files, the last case's database
// and WAL) are flushed to the disk, which the kernel would otherwise do in the background
// during the measurement, beside the store's own writes and fsyncs.
func settle() {
	runtime.GC()
	syscall.Sync()
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, "[%6.1fs] %s\n", time.Since(b.start).Seconds(), fmt.Sprintf(format, args...))
}

// file returns the generated file of rows rows in format, writing it on first use.
func (b *bench) file(format string, rows int) (string, error) {
	key := fmt.Sprintf("%s-%d", format, rows)
	if path, ok := b.files[key]; ok {
		return path, nil
	}
	path := filepath.Join(b.dir, fmt.Sprintf("endpoints-%d.%s", rows, map[string]string{"csv": "csv", "json": "ndjson"}[format]))
	f, err := os.Create(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	g := &Generator{Seed: b.o.seed, Rows: rows}
	write := map[string]func(io.Writer) (int64, error){"csv": g.WriteCSV, "json": g.WriteNDJSON}[format]
	n, err := write(f)
	if err != nil {
		return "", err
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	b.logf("generated %s: %d rows, %.1f MB", filepath.Base(path), rows, float64(n)/1e6)
	b.files[key] = path
	return path, nil
}

// binary returns the pinfold binary, building it on first use.
func (b *bench) binary(ctx context.Context) (string, error) {
	if b.bin == "" {
		if b.bin = b.o.pinfold; b.bin == "" {
			b.logf("building pinfold")
			var err error
			if b.bin, err = buildPinfold(ctx, b.dir); err != nil {
				return "", err
			}
		}
	}
	return b.bin, nil
}

func (b *bench) decode(ctx context.Context) error {
	for _, format := range b.o.formats {
		path, err := b.file(format, b.o.rows)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		decoded, split, err := measureDecode(data, format == "csv")
		if err != nil {
			return fmt.Errorf("%s: %w", formatNames[format], err)
		}
		name := formatNames[format] + " decoder, 1 goroutine"
		b.rep.add(Result{Section: "decode", Figure: name, Value: decoded.rowsPerSec(), Unit: "rows/s",
			Baseline: "bufio.Scanner lines", BaseVal: split.rowsPerSec()}).atLeast(1_000_000, "rows/s")
		b.rep.add(Result{Section: "decode", Figure: name, Value: decoded.mbPerSec(), Unit: "MB/s",
			Baseline: "bufio.Scanner lines", BaseVal: split.mbPerSec()})
		b.logf("decode %s: %.0f rows/s (lines: %.0f rows/s)", formatNames[format], decoded.rowsPerSec(), split.rowsPerSec())
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return nil
}

func (b *bench) store(ctx context.Context) error {
	path, err := b.file("csv", b.o.rows)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	perPiece := rowsPerPiece(int64(len(data)), b.o.rows, b.o.pieceSize)
	appID := newID()
	pieces, err := buildPieces(data, appID, perPiece)
	if err != nil {
		return err
	}
	data = nil
	all, docs, err := encodeAll(pieces)
	if err != nil {
		return err
	}
	defer debug.FreeOSMemory()
	b.logf("store: %d endpoints in %d pieces of %d", len(all), len(pieces), perPiece)

	if b.o.sqlite {
		if err := b.storeSQLite(ctx, appID, pieces, all, docs); err != nil {
			return err
		}
	}
	if b.pg != nil {
		return b.storePostgres(ctx, appID, pieces, all, docs)
	}
	return nil
}

// storeSQLite measures the SQLite store limit and its baseline.
func (b *bench) storeSQLite(ctx context.Context, appID string, pieces [][]*pinfold.Endpoint, all []*pinfold.Endpoint, docs []string) error {
	dir := filepath.Join(b.dir, fmt.Sprintf("store-sqlite-%d", b.round))
	if !b.o.keep {
		defer os.RemoveAll(dir) // the next round writes a database of its own
	}
	db := sqlite.NewDB(filepath.Join(dir, "pinfold.db"))
	if err := db.Open(); err != nil {
		return err
	}
	settle()
	limit, err := measureStore(ctx, db, appID, pieces, b.o.storeWriters)
	db.Close()
	if err != nil {
		return fmt.Errorf("SQLite: %w", err)
	}
	settle()
	base, err := sqliteBaseline(ctx, filepath.Join(dir, "baseline.db"), all, docs)
	if err != nil {
		return fmt.Errorf("SQLite baseline: %w", err)
	}
	b.storeLimit["SQLite"] = limit
	b.rep.add(Result{Section: "store", Figure: "SQLite store limit", Value: limit, Unit: "endpoints/s",
		Baseline: "INSERT OR REPLACE loop", BaseVal: base}).atLeast(60_000, "endpoints/s")
	b.logf("store SQLite: %.0f endpoints/s (INSERT OR REPLACE loop: %.0f rows/s)", limit, base)
	return nil
}

// storePostgres measures the PostgreSQL store limit and its baseline, each in a database of
// its own.
func (b *bench) storePostgres(ctx context.Context, appID string, pieces [][]*pinfold.Endpoint, all []*pinfold.Endpoint, docs []string) error {
	url, err := b.pg.newDatabase(ctx, "store")
	if err != nil {
		return err
	}
	pdb := postgres.NewDB(url)
	if err := pdb.Open(ctx); err != nil {
		return err
	}
	settle()
	limit, err := measureStore(ctx, pdb, appID, pieces, b.o.storeWriters)
	pdb.Close()
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	if err := b.pg.dropDatabase(ctx, url, b.o.keep); err != nil {
		return err
	}
	if url, err = b.pg.newDatabase(ctx, "copy"); err != nil {
		return err
	}
	settle()
	base, err := postgresBaseline(ctx, url, all, docs)
	if err != nil {
		return fmt.Errorf("PostgreSQL baseline: %w", err)
	}
	if err := b.pg.dropDatabase(ctx, url, b.o.keep); err != nil {
		return err
	}
	b.storeLimit["PostgreSQL"] = limit
	b.rep.add(Result{Section: "store", Figure: "PostgreSQL store limit", Value: limit, Unit: "endpoints/s",
		Baseline: "COPY into plain table", BaseVal: base}).atLeast(60_000, "endpoints/s")
	b.logf("store PostgreSQL: %.0f endpoints/s (COPY: %.0f rows/s)", limit, base)

	// The loops to read the store limit against, with no target of their own: issue #8's,
	// and with --postgres-loops, what PostgreSQL does of the store's statements alone.
	loops := []pgLoop{{conns: 1}}
	if b.o.pgLoops {
		if w := b.o.storeWriters; w > 1 {
			loops = append(loops, pgLoop{conns: w}, pgLoop{store: true, conns: 1}, pgLoop{store: true, conns: w})
		} else {
			loops = append(loops, pgLoop{store: true, conns: 1})
		}
	}
	for _, l := range loops {
		if url, err = b.pg.newDatabase(ctx, "loop"); err != nil {
			return err
		}
		settle()
		rate, err := l.run(ctx, url, pieces, docs)
		if err != nil {
			return fmt.Errorf("%s: %w", l.figure(), err)
		}
		if err := b.pg.dropDatabase(ctx, url, b.o.keep); err != nil {
			return err
		}
		b.rep.add(Result{Section: "store", Figure: l.figure(), Value: rate, Unit: "rows/s", Baseline: "COPY into plain table", BaseVal: base})
		b.logf("store PostgreSQL: %s %.0f rows/s", l.figure(), rate)
	}
	return nil
}

// importCase returns the case of importing the rows-row file of format on a fresh server of
// the named store.
func (b *bench) importCase(ctx context.Context, store, format string, rows int) (importCase, error) {
	bin, err := b.binary(ctx)
	if err != nil {
		return importCase{}, err
	}
	path, err := b.file(format, rows)
	if err != nil {
		return importCase{}, err
	}
	b.cases++
	c := importCase{bin: bin, data: filepath.Join(b.dir, fmt.Sprintf("serve-%d-%s-%s-%d", b.cases, store, format, rows)),
		workers: b.o.importWorkers, pieceSize: b.o.pieceSize, format: format, file: path, rows: rows}
	if store == "PostgreSQL" {
		if c.database, err = b.pg.newDatabase(ctx, "import_"+format); err != nil {
			return c, err
		}
	}
	return c, nil
}

func (b *bench) imports(ctx context.Context) error {
	var stores []string
	if b.o.sqlite {
		stores = append(stores, "SQLite")
	}
	if b.pg != nil {
		stores = append(stores, "PostgreSQL")
	}
	for _, store := range stores {
		for _, format := range b.o.formats {
			c, err := b.importCase(ctx, store, format, b.o.rows)
			if err != nil {
				return err
			}
			c.again = true
			c.probe = format == "csv"
			res, err := measureImport(ctx, c)
			if !b.o.keep {
				os.RemoveAll(c.data) // its database and its copy of the file: a GB or two a case, every round
			}
			if err != nil {
				return fmt.Errorf("%s %s: %w", store, formatNames[format], err)
			}
			if c.database != "" {
				if err := b.pg.dropDatabase(ctx, c.database, b.o.keep); err != nil {
					return err
				}
			}
			name := fmt.Sprintf("%s %s import", store, formatNames[format])
			r := b.rep.add(Result{Section: "import", Figure: name + ", fresh app", Value: res.fresh, Unit: "endpoints/s",
				Baseline: store + " store limit", BaseVal: b.storeLimit[store]})
			if r.BaseVal > 0 {
				r.ratioAtLeast(0.8)
			}
			b.rep.add(Result{Section: "import", Figure: name + ", re-import (all updates)", Value: res.again, Unit: "endpoints/s",
				Baseline: "fresh import", BaseVal: res.fresh}).ratioAtLeast(0.5)
			b.logf("import %s: fresh %.0f endpoints/s, re-import %.0f endpoints/s, peak RSS %.0f MB", name, res.fresh, res.again, res.peakMB)
			if c.probe {
				probe := fmt.Sprintf("UpdateEndpoint during the %s %s import", store, formatNames[format])
				b.rep.add(Result{Section: "import", Figure: probe + ", p50", Value: res.busy.p50, Unit: "ms",
					Baseline: "idle server", BaseVal: res.idle.p50})
				b.rep.add(Result{Section: "import", Figure: probe + ", p99", Value: res.busy.p99, Unit: "ms",
					Baseline: "idle server", BaseVal: res.idle.p99})
				b.logf("import %s: UpdateEndpoint p50 %.1f ms p99 %.1f ms, %.1f calls/s (idle: p50 %.1f ms p99 %.1f ms)",
					name, res.busy.p50, res.busy.p99, res.busy.perSec, res.idle.p50, res.idle.p99)
			}
			if store == "SQLite" && b.importPeak == 0 {
				b.importPeak, b.importRate = res.peakMB, res.fresh
			}
		}
	}
	return nil
}

func (b *bench) api(ctx context.Context) error {
	bin, err := b.binary(ctx)
	if err != nil {
		return err
	}
	const rows = 1000
	path, err := b.file("csv", rows)
	if err != nil {
		return err
	}
	data := filepath.Join(b.dir, fmt.Sprintf("serve-api-%d", b.round)) // a fresh server every round
	res, err := measureAPI(ctx, bin, data, path, rows, b.o.apiDuration, b.o.apiClient)
	if !b.o.keep {
		os.RemoveAll(data)
	}
	if err != nil {
		return err
	}
	for _, n := range apiLevels {
		s, bare := res.signed[n], res.bare[n]
		name := fmt.Sprintf("GetImportJob, %d client", n)
		if b.o.apiClient == httpClient {
			name = fmt.Sprintf("GetImportJob, %d net/http client", n)
		}
		if n > 1 {
			name += "s"
		}
		perSec := b.rep.add(Result{Section: "api", Figure: name, Value: s.perSec, Unit: "requests/s",
			Baseline: fmt.Sprintf("bare net/http, %d-byte body", res.bodyBytes), BaseVal: bare.perSec})
		b.rep.add(Result{Section: "api", Figure: name + ", p50", Value: s.p50, Unit: "ms", Baseline: "bare net/http", BaseVal: bare.p50})
		p99 := b.rep.add(Result{Section: "api", Figure: name + ", p99", Value: s.p99, Unit: "ms", Baseline: "bare net/http", BaseVal: bare.p99})
		if n == 64 {
			perSec.ratioAtLeast(0.5)
			p99.below(5, "ms")
		}
		b.logf("api %s: %.0f req/s p50 %.2f ms p99 %.2f ms (bare: %.0f req/s, p99 %.2f ms)", name, s.perSec, s.p50, s.p99, bare.perSec, bare.p99)
	}
	return nil
}

func (b *bench) memory(ctx context.Context) error {
	if !b.o.sqlite {
		b.logf("memory: skipped, --sqlite=false (the memory case imports into SQLite)")
		return nil
	}
	if b.importPeak == 0 {
		c, err := b.importCase(ctx, "SQLite", "csv", b.o.rows)
		if err != nil {
			return err
		}
		res, err := measureImport(ctx, c)
		if err != nil {
			return err
		}
		b.importPeak, b.importRate = res.peakMB, res.fresh
	}
	c, err := b.importCase(ctx, "SQLite", "csv", b.o.memoryRows)
	if err != nil {
		return err
	}
	c.removeFile = true
	res, err := measureImport(ctx, c)
	if err != nil {
		return err
	}
	b.rep.add(Result{Section: "memory", Figure: fmt.Sprintf("peak RSS, SQLite CSV import of %d rows", b.o.rows), Value: b.importPeak,
		Unit: "MB"}).below(300, "MB")
	b.rep.add(Result{Section: "memory", Figure: fmt.Sprintf("peak RSS, SQLite CSV import of %d rows", b.o.memoryRows), Value: res.peakMB,
		Unit: "MB", Baseline: fmt.Sprintf("%d rows", b.o.rows), BaseVal: b.importPeak}).below(300, "MB")
	b.rep.add(Result{Section: "memory", Figure: fmt.Sprintf("SQLite CSV import of %d rows", b.o.memoryRows), Value: res.fresh,
		Unit: "endpoints/s", Baseline: fmt.Sprintf("%d rows", b.o.rows), BaseVal: b.importRate})
	b.logf("memory: peak RSS %.0f MB at %d rows, %.0f MB at %d rows (%.0f endpoints/s)", b.importPeak, b.o.rows, res.peakMB, b.o.memoryRows, res.fresh)
	return nil
}
