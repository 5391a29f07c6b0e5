// Package importer runs import and export jobs: it plans each job into pieces, works pieces
// on a pool of workers, and finishes jobs. It is the only package that starts job goroutines.
// Every state change goes through the store, so any number of importers (one per node) can
// share the work and a killed one loses only the pieces it had in flight, which are run again.
package importer

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/s3"
	"github.com/prometheus/client_golang/prometheus"
)

// Objects is the object storage the importer reads from and exports write to; *s3.Client is
// one.
type Objects interface {
	HeadBucket(ctx context.Context, bucket string) error
	List(ctx context.Context, bucket, prefix string) ([]s3.Object, error)
	Open(ctx context.Context, bucket, key, etag string, start, end int64) (io.ReadCloser, error)
	Put(ctx context.Context, bucket, key string, body io.ReadSeeker) error
}

// Importer runs import jobs, and export jobs when Exports is set. Set the fields, then Start;
// Stop lets work in flight finish.
type Importer struct {
	Store   pinfold.ImportJobStore
	Objects Objects
	Logger  *slog.Logger
	Now     func() time.Time
	// Registerer, when set, receives the importer's metrics.
	Registerer prometheus.Registerer

	// Exports, when set, has the importer run export jobs too (export.go), reading endpoints
	// and segment members from Endpoints and Segments.
	Exports   pinfold.ExportJobStore
	Endpoints pinfold.EndpointStore
	Segments  pinfold.SegmentStore

	Node       string        // this node's name, recorded on the work it claims
	Workers    int           // pieces worked at once
	MaxActive  int           // jobs past CREATED/PENDING_JOB at once, across all nodes
	PieceSize  int64         // target bytes per piece
	Lease      time.Duration // how long a claim lasts without renewal
	Poll       time.Duration // how often idle loops look for work without a wake-up
	MaxAttempt int           // tries of a piece before a transient error fails it
	Backoff    time.Duration // wait before the first retry of a piece; doubles each try

	// RowsInFlight bounds the rows of the import pieces this node holds at once, decoded
	// or read from the store (the stored endpoints a re-import merges into): a worker claims
	// another import piece only while one more piece, as heavy as the last, fits
	// (rowbudget.go). One piece is always allowed.
	RowsInFlight int

	MaxActiveExports     int    // export jobs past CREATED/PENDING_JOB at once, across all nodes
	ExportPieceEndpoints int    // endpoints per export piece (and object)
	TempDir              string // where export pieces are compressed before upload; "" is os.TempDir()

	pieces     *prometheus.CounterVec   // pieces this node ended, by result
	rows       *prometheus.CounterVec   // rows this node committed, by result
	pieceTimes *prometheus.HistogramVec // the stages of the import pieces this node worked
	busy       prometheus.Gauge         // workers working an import piece

	exportPieces    *prometheus.CounterVec // export pieces this node ended, by result
	exportEndpoints prometheus.Counter     // endpoints this node exported

	budget  *rowBudget
	wake    chan struct{}
	cancel  context.CancelFunc // cancels work in flight (second phase of Stop)
	stopped chan struct{}      // closed to stop claiming (first phase of Stop)
	wg      sync.WaitGroup
}

// Defaults for the zero fields of an Importer.
const (
	DefaultWorkers      = 4
	DefaultRowsInFlight = 50_000
	DefaultMaxActive    = 10
	DefaultPieceSize    = 4 << 20
	DefaultLease        = time.Minute
	DefaultPoll         = time.Second
	DefaultMaxAttempt   = 5
	DefaultBackoff      = time.Second

	DefaultMaxActiveExports     = 10
	DefaultExportPieceEndpoints = 10000
)

func (im *Importer) setDefaults() {
	if im.Now == nil {
		im.Now = time.Now
	}
	if im.Logger == nil {
		im.Logger = slog.New(slog.DiscardHandler)
	}
	if im.Workers <= 0 {
		im.Workers = DefaultWorkers
	}
	if im.RowsInFlight <= 0 {
		im.RowsInFlight = DefaultRowsInFlight
	}
	if im.MaxActive <= 0 {
		im.MaxActive = DefaultMaxActive
	}
	if im.PieceSize <= 0 {
		im.PieceSize = DefaultPieceSize
	}
	if im.Lease <= 0 {
		im.Lease = DefaultLease
	}
	if im.Poll <= 0 {
		im.Poll = DefaultPoll
	}
	if im.MaxAttempt <= 0 {
		im.MaxAttempt = DefaultMaxAttempt
	}
	if im.Backoff <= 0 {
		im.Backoff = DefaultBackoff
	}
	if im.MaxActiveExports <= 0 {
		im.MaxActiveExports = DefaultMaxActiveExports
	}
	if im.ExportPieceEndpoints <= 0 {
		im.ExportPieceEndpoints = DefaultExportPieceEndpoints
	}
}

// Start starts the scheduler and the workers.
func (im *Importer) Start() {
	im.setDefaults()
	im.pieces = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinfold_import_pieces_total", Help: "Import pieces this node worked, by result (done, failed, retried).",
	}, []string{"result"})
	im.rows = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinfold_import_rows_total", Help: "Import rows this node committed, by result (processed, failed).",
	}, []string{"result"})
	im.pieceTimes = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "pinfold_import_piece_seconds",
		Help: "Time of each stage of an import piece on this node: read (from S3, decoded and validated) " +
			"and commit (written to the store in one transaction, waits for the store's writer included).",
		Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
	}, []string{"stage"})
	im.busy = prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "pinfold_import_workers_busy", Help: "Workers of this node working an import piece, of --import-workers.",
	})
	im.exportPieces = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinfold_export_pieces_total", Help: "Export pieces this node worked, by result (done, failed, retried).",
	}, []string{"result"})
	im.exportEndpoints = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "pinfold_export_endpoints_total", Help: "Endpoints this node wrote to export objects.",
	})
	if im.Registerer != nil {
		im.Registerer.MustRegister(im.pieces, im.rows, im.pieceTimes, im.busy, im.exportPieces, im.exportEndpoints)
	}
	im.budget = newRowBudget(im.RowsInFlight)
	im.wake = make(chan struct{}, 1+im.Workers)
	im.stopped = make(chan struct{})
	var ctx context.Context
	ctx, im.cancel = context.WithCancel(context.Background())
	im.wg.Add(1 + im.Workers)
	go im.schedule(ctx)
	for range im.Workers {
		go im.work(ctx)
	}
}

// Stop stops claiming work and waits for the work in flight; when ctx ends first, it cancels
// that work (its pieces go back to the queue) and waits for the goroutines to return.
func (im *Importer) Stop(ctx context.Context) error {
	close(im.stopped)
	done := make(chan struct{})
	go func() { im.wg.Wait(); close(done) }()
	select {
	case <-done:
		im.cancel()
		return nil
	case <-ctx.Done():
		im.cancel()
		<-done
		return ctx.Err()
	}
}

// Notify wakes the importer: a job was created or a piece became available.
func (im *Importer) Notify() {
	for {
		select {
		case im.wake <- struct{}{}:
		default:
			return
		}
	}
}

// idle waits for a wake-up, the poll interval, or the stop; it reports whether to go on.
func (im *Importer) idle() bool {
	t := time.NewTimer(im.Poll)
	defer t.Stop()
	select {
	case <-im.stopped:
		return false
	case <-im.wake:
	case <-t.C:
	}
	return true
}

func (im *Importer) claiming() bool {
	select {
	case <-im.stopped:
		return false
	default:
		return true
	}
}

// schedule starts waiting jobs and finishes jobs whose pieces are done.
func (im *Importer) schedule(ctx context.Context) {
	defer im.wg.Done()
	for {
		for im.claiming() {
			now := im.Now()
			job, err := im.Store.ClaimImportJob(ctx, im.Node, im.MaxActive, now, now.Add(im.Lease))
			if err != nil {
				im.Logger.Error("claim import job", "error", err)
				break
			} else if job == nil {
				break
			}
			im.wg.Add(1)
			go func() {
				defer im.wg.Done()
				im.plan(ctx, job)
			}()
		}
		for im.Exports != nil && im.claiming() {
			now := im.Now()
			job, err := im.Exports.ClaimExportJob(ctx, im.Node, im.MaxActiveExports, now, now.Add(im.Lease))
			if err != nil {
				im.Logger.Error("claim export job", "error", err)
				break
			} else if job == nil {
				break
			}
			im.wg.Add(1)
			go func() {
				defer im.wg.Done()
				im.planExport(ctx, job)
			}()
		}
		if im.claiming() {
			im.finishLeftovers(ctx)
		}
		if !im.idle() {
			return
		}
	}
}

// finishLeftovers finishes jobs whose last piece was committed by a node that died before it
// could finish the job.
func (im *Importer) finishLeftovers(ctx context.Context) {
	ids, err := im.Store.UnfinishedImportJobs(ctx)
	if err != nil {
		im.Logger.Error("find unfinished jobs", "error", err)
		return
	}
	for _, id := range ids {
		im.finish(ctx, id)
	}
	if im.Exports == nil {
		return
	}
	if ids, err = im.Exports.UnfinishedExportJobs(ctx); err != nil {
		im.Logger.Error("find unfinished export jobs", "error", err)
		return
	}
	for _, id := range ids {
		im.finishExport(ctx, id)
	}
}

func (im *Importer) finish(ctx context.Context, jobID string) {
	ended, err := im.Store.FinishImportJob(ctx, jobID, im.Now())
	if err != nil {
		im.Logger.Error("finish import job", "job_id", jobID, "error", err)
	} else if ended {
		im.Logger.Info("import job ended", "job_id", jobID)
		im.Notify()
	}
}

// work claims and processes pieces until stopped. When there are pieces of both kinds, it
// takes an import piece and an export piece in turn.
func (im *Importer) work(ctx context.Context) {
	defer im.wg.Done()
	exportFirst := false
	for {
		for im.claiming() && im.workOne(ctx, exportFirst) {
			exportFirst = !exportFirst
		}
		if !im.idle() {
			return
		}
	}
}

// workOne claims a piece, of the kind whose turn it is if there is one, and works it; it
// reports whether there was a piece.
func (im *Importer) workOne(ctx context.Context, exportFirst bool) bool {
	kinds := []func(ctx context.Context) (bool, error){im.workImportPiece, im.workExportPiece}
	if exportFirst {
		slices.Reverse(kinds)
	}
	for _, work := range kinds {
		worked, err := work(ctx)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				im.Logger.Error("claim piece", "error", err)
			}
			return false
		} else if worked {
			return true
		}
	}
	return false
}

func (im *Importer) workImportPiece(ctx context.Context) (bool, error) {
	// A worker that waits here while the importer stops claims nothing more.
	reserved, err := im.budget.reserve(ctx, im.stopped)
	if errors.Is(err, errStopped) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	now := im.Now()
	p, job, err := im.Store.ClaimPiece(ctx, im.Node, now, now.Add(im.Lease))
	if err != nil || p == nil {
		im.budget.release(reserved)
		if err == nil {
			im.budget.forget() // idle: the next import's pieces may weigh anything
		}
		return false, err
	}
	im.process(ctx, job, p, reserved)
	return true, nil
}

func (im *Importer) workExportPiece(ctx context.Context) (bool, error) {
	if im.Exports == nil {
		return false, nil
	}
	now := im.Now()
	p, job, err := im.Exports.ClaimExportPiece(ctx, im.Node, now, now.Add(im.Lease))
	if err != nil || p == nil {
		return false, err
	}
	im.processExport(ctx, job, p)
	return true, nil
}
