package importer

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
	"github.com/pinfold/pinfold/s3"
)

// pieceFailure is an error that running a piece again cannot fix: the piece fails, and with
// it the job.
type pieceFailure struct{ reason string }

func (e *pieceFailure) Error() string { return e.reason }

// process reads, decodes and validates a claimed piece, then commits its writes, failures and
// counters in one transaction. A transient error returns the piece to the queue with backoff;
// after MaxAttempt tries, or for an error no retry can fix, the piece fails. A full disk fails
// the whole job.
// The piece's rows count in im.budget (reserved rows before it was read) until it ends.
func (im *Importer) process(ctx context.Context, job *pinfold.ImportJob, p *pinfold.Piece, reserved int) {
	log := im.Logger.With("job_id", job.ID, "app_id", job.AppID, "piece", p.No)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		im.keepLease(pctx, cancel, p, log)
	}()

	im.busy.Inc()
	defer im.busy.Dec()
	start := time.Now()
	rows, err := im.readPiece(pctx, job, p)
	if err == nil {
		im.pieceTimes.WithLabelValues("read").Observe(time.Since(start).Seconds())
	}
	im.budget.settle(reserved, len(rows))
	stored := 0 // the piece's stored endpoints, read in its transaction, count in the budget too
	defer func() { im.budget.release(len(rows) + stored) }()
	var out *pinfold.PieceOutcome
	var commitTime time.Duration
	if err == nil {
		start = time.Now()
		err = im.Store.CommitPiece(pctx, p, im.Node, func(tx pinfold.PieceTx) (o *pinfold.PieceOutcome, err error) {
			out, err = applyRows(pctx, tx, job, p, rows, im.Now(), func(n int) {
				// A group that runs again reads them again.
				im.budget.grow(n - stored)
				stored = n
			})
			return out, err
		})
		commitTime = time.Since(start)
	}
	cancel()
	<-keeperDone

	bg := context.WithoutCancel(ctx)
	var failure *pieceFailure
	switch {
	case err == nil:
		log.Debug("piece done", "rows", len(rows))
		if out != nil {
			im.pieceTimes.WithLabelValues("commit").Observe(commitTime.Seconds())
			im.pieces.WithLabelValues("done").Inc()
			im.rows.WithLabelValues("processed").Add(float64(out.Processed))
			im.rows.WithLabelValues("failed").Add(float64(len(out.Failures)))
		}
	case ctx.Err() != nil:
		// Stopping: the piece goes back to the queue for the next claim.
		if err := im.Store.ReleasePiece(bg, p, im.Node, im.Now()); err != nil {
			log.Error("release piece", "error", err)
		}
		return
	case errors.As(err, &failure):
		im.failPiece(bg, p, failure.reason, log)
	case errors.Is(err, pinfold.ErrDiskFull):
		// Another try, of this piece or the next, would meet the same full disk: the job
		// fails now, with the room the store keeps in reserve for recording it.
		reason := fmt.Sprintf("%s: rows from line %d could not be stored: %s", p.Location(), p.FirstLine, pinfold.ErrorMessage(err))
		log.Error("import job failed: the disk is full", "error", err)
		im.pieces.WithLabelValues("failed").Inc()
		if err := im.Store.FailImportJob(bg, job.ID, reason, im.Now()); err != nil {
			log.Error("fail import job", "error", err)
		}
		im.Notify()
		return
	case p.Attempts >= im.MaxAttempt:
		im.failPiece(bg, p, fmt.Sprintf("%s: could not be read after %d attempts: %v", p.Location(), p.Attempts, err), log)
	default:
		im.pieces.WithLabelValues("retried").Inc()
		wait := im.Backoff << min(p.Attempts-1, 10)
		log.Warn("piece will be retried", "error", err, "attempt", p.Attempts, "wait", wait)
		if err := im.Store.ReleasePiece(bg, p, im.Node, im.Now().Add(wait)); err != nil {
			log.Error("release piece", "error", err)
		}
		return
	}
	im.finish(bg, job.ID)
}

func (im *Importer) failPiece(ctx context.Context, p *pinfold.Piece, reason string, log interface {
	Error(string, ...any)
	Info(string, ...any)
}) {
	log.Info("piece failed", "reason", reason)
	im.pieces.WithLabelValues("failed").Inc()
	if err := im.Store.FailPiece(ctx, p, im.Node, reason); err != nil {
		log.Error("fail piece", "error", err)
	}
}

// keepLease renews the piece's lease until ctx ends; if the lease was lost (another node took
// the piece over), it cancels the work.
func (im *Importer) keepLease(ctx context.Context, cancel context.CancelFunc, p *pinfold.Piece, log interface{ Warn(string, ...any) }) {
	t := time.NewTicker(im.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			held, err := im.Store.ExtendPieceLease(ctx, p, im.Node, im.Now().Add(im.Lease))
			if err == nil && !held {
				log.Warn("piece lease lost; abandoning the piece")
				cancel()
				return
			}
		}
	}
}

// readPiece reads and decodes a piece's rows.
func (im *Importer) readPiece(ctx context.Context, job *pinfold.ImportJob, p *pinfold.Piece) ([]endpointfile.Row, error) {
	rc, err := im.Objects.Open(ctx, p.Bucket, p.Key, p.ETag, p.Start, p.End)
	switch {
	case errors.Is(err, s3.ErrChanged):
		return nil, &pieceFailure{fmt.Sprintf("%s: the object changed after the job started (ETag %s); import it again", p.Location(), p.ETag)}
	case errors.Is(err, os.ErrNotExist):
		return nil, &pieceFailure{fmt.Sprintf("%s: the object no longer exists", p.Location())}
	case pinfold.ErrorCode(err) == pinfold.EFORBIDDEN || pinfold.ErrorCode(err) == pinfold.ENOTFOUND:
		return nil, &pieceFailure{fmt.Sprintf("%s: %s", p.Location(), pinfold.ErrorMessage(err))}
	case err != nil:
		return nil, err
	}
	defer rc.Close()
	var r io.Reader = rc
	if p.Gzip {
		gz, err := gzip.NewReader(rc)
		if err != nil {
			return nil, readFailure(p, err)
		}
		defer gz.Close()
		r = gz
	}
	var dec endpointfile.Decoder
	if job.Definition.Format == pinfold.FormatCSV {
		if dec, err = endpointfile.NewCSVDecoder(r, p.Header, p.FirstLine); err != nil {
			if pinfold.ErrorCode(err) == pinfold.EINVALID {
				return nil, &pieceFailure{fmt.Sprintf("%s:1: %s", p.Location(), pinfold.ErrorMessage(err))}
			}
			return nil, readFailure(p, err)
		}
	} else {
		dec = endpointfile.NewJSONDecoder(r, p.FirstLine)
	}
	var rows []endpointfile.Row
	for {
		row, err := dec.Next()
		if err == io.EOF {
			return rows, nil
		} else if err != nil {
			return nil, readFailure(p, err)
		}
		rows = append(rows, row)
	}
}

// readFailure classifies an error met while reading: corrupt compressed data fails the
// piece; anything else (a dropped connection) is worth another try.
func readFailure(p *pinfold.Piece, err error) error {
	var corrupt flate.CorruptInputError
	if errors.Is(err, gzip.ErrHeader) || errors.Is(err, gzip.ErrChecksum) || errors.As(err, &corrupt) || errors.Is(err, io.ErrUnexpectedEOF) && p.Gzip {
		return &pieceFailure{fmt.Sprintf("%s: not a valid gzip file: %v", p.Location(), err)}
	}
	return err
}
