package importer

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
	"github.com/pinfold/pinfold/s3"
)

// Export jobs run on the same engine as imports: the scheduler claims them under their own
// cap (MaxActiveExports) and plans them into pieces, the same workers work their pieces under
// the same leases, and the same finishing ends them.
//
// A piece is a range of endpoint IDs: ExportPieceEndpoints consecutive IDs of the job's
// source (the app's endpoints, or the members of a segment version), as the planner found
// them, with open ends for the first and last piece so that an endpoint written after
// planning still falls in exactly one piece. A worker reads its range a page at a time,
// writes it as gzip-compressed NDJSON to a temporary file, uploads the file to
// PREFIX/JOB_ID/part-NNNNN.json.gz and completes the piece; a piece run again (after a crash or
// a lost lease) writes the same object again.

// exportObject returns the key of piece no's object: the job's folder under the prefix.
func exportObject(prefix, jobID string, no int) string {
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	return fmt.Sprintf("%s%s/part-%05d.json.gz", prefix, jobID, no)
}

// idLister lists one page of the IDs an export writes, in ID order.
type idLister func(ctx context.Context, page pinfold.Page) ([]string, string, error)

// exportSource returns the lister of a job's IDs: its segment's members at version, or every
// endpoint of its app.
func (im *Importer) exportSource(job *pinfold.ExportJob, version int) idLister {
	if seg := job.Definition.SegmentID; seg != "" {
		return func(ctx context.Context, page pinfold.Page) ([]string, string, error) {
			return im.Segments.FindSegmentMembers(ctx, job.AppID, seg, version, page)
		}
	}
	return func(ctx context.Context, page pinfold.Page) ([]string, string, error) {
		return im.Endpoints.FindEndpointIDs(ctx, job.AppID, page)
	}
}

// planExport moves a claimed export job through PREPARING_FOR_INITIALIZATION (is the bucket
// there, does the segment version exist?) and INITIALIZING (cut its IDs into pieces) to
// PROCESSING. A job that cannot be written ends FAILED with the reason.
func (im *Importer) planExport(ctx context.Context, job *pinfold.ExportJob) {
	log := im.Logger.With("job_id", job.ID, "app_id", job.AppID)
	reason, err := im.planExportJob(ctx, job)
	switch {
	case err != nil && ctx.Err() != nil:
		log.Info("planning interrupted; the job is planned again on the next start", "error", err)
	case err != nil:
		log.Error("plan export job", "error", err)
	case reason != "":
		log.Info("export job failed", "reason", reason)
		if err := im.Exports.FailExportJob(context.WithoutCancel(ctx), job.ID, reason, im.Now()); err != nil {
			log.Error("fail export job", "error", err)
		}
		im.Notify()
	default:
		im.Notify()
	}
}

// planExportJob returns a reason when the job must fail, or an error when planning could not
// be done now (it is retried when the job's lease runs out).
func (im *Importer) planExportJob(ctx context.Context, job *pinfold.ExportJob) (reason string, err error) {
	def := job.Definition
	bucket, prefix, err := s3.ParseURL(def.S3URLPrefix)
	if err != nil {
		return pinfold.ErrorMessage(err), nil
	}
	if job.Status == pinfold.JobPreparingForInitialization {
		if err := im.retry(ctx, func() error { return im.Objects.HeadBucket(ctx, bucket) }); err != nil {
			return fmt.Sprintf("cannot write s3://%s/%s: %s", bucket, prefix, sourceMessage(err)), nil
		}
		if _, err := im.Exports.SetExportJobStatus(ctx, job.ID, []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); err != nil {
			return "", err
		}
	}
	// Every piece reads the same version of the segment, even if an import adds one meanwhile.
	version := def.SegmentVersion
	if def.SegmentID != "" {
		var seg *pinfold.Segment
		if version > 0 {
			seg, err = im.Segments.FindSegmentVersion(ctx, job.AppID, def.SegmentID, version)
		} else {
			seg, err = im.Segments.FindSegment(ctx, job.AppID, def.SegmentID)
		}
		if pinfold.ErrorCode(err) == pinfold.ENOTFOUND {
			return pinfold.ErrorMessage(err), nil
		} else if err != nil {
			return "", err
		}
		version = seg.Version
	}

	perPiece := im.ExportPieceEndpoints
	pageSize := min(perPiece, pinfold.MaxPageSize)
	pagesPerPiece := (perPiece + pageSize - 1) / pageSize
	list := im.exportSource(job, version)
	var pieces []*pinfold.Piece
	cut := func(start, through string) {
		no := len(pieces)
		pieces = append(pieces, &pinfold.Piece{JobID: job.ID, AppID: job.AppID, No: no, Bucket: bucket, Key: exportObject(prefix, job.ID, no),
			End: -1, Gzip: true, StartToken: start, ThroughID: through, SegmentVersion: version})
	}
	start, token := "", ""
	for pages := 1; ; pages++ {
		ids, next, err := list(ctx, pinfold.Page{Size: pageSize, Token: token})
		if code := pinfold.ErrorCode(err); code == pinfold.ENOTFOUND {
			return pinfold.ErrorMessage(err), nil
		} else if err != nil {
			return "", err
		}
		if next == "" {
			cut(start, "") // the last piece has no end, and an empty source one empty piece
			break
		}
		if pages%pagesPerPiece == 0 {
			cut(start, ids[len(ids)-1])
			start = next
		}
		token = next
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
	}
	return "", im.Exports.PlanExportJob(ctx, job.ID, pieces)
}

// processExport writes a claimed export piece's object and completes the piece. A transient
// error returns the piece to the queue with backoff; after MaxAttempt tries, or for an error
// no retry can fix, the piece fails.
func (im *Importer) processExport(ctx context.Context, job *pinfold.ExportJob, p *pinfold.Piece) {
	log := im.Logger.With("job_id", job.ID, "app_id", job.AppID, "piece", p.No)
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	keeperDone := make(chan struct{})
	go func() {
		defer close(keeperDone)
		im.keepLease(pctx, cancel, p, log)
	}()
	written, err := im.writeExportPiece(pctx, job, p)
	if err == nil {
		err = im.Exports.CompleteExportPiece(pctx, p, im.Node, written)
	}
	cancel()
	<-keeperDone

	bg := context.WithoutCancel(ctx)
	var failure *pieceFailure
	switch {
	case err == nil:
		log.Debug("export piece done", "endpoints", written)
		im.exportPieces.WithLabelValues("done").Inc()
		im.exportEndpoints.Add(float64(written))
	case ctx.Err() != nil:
		if err := im.Store.ReleasePiece(bg, p, im.Node, im.Now()); err != nil {
			log.Error("release piece", "error", err)
		}
		return
	case errors.As(err, &failure):
		im.failExportPiece(bg, p, failure.reason, log)
	case p.Attempts >= im.MaxAttempt:
		im.failExportPiece(bg, p, fmt.Sprintf("%s: could not be written after %d attempts: %v", p.Location(), p.Attempts, err), log)
	default:
		im.exportPieces.WithLabelValues("retried").Inc()
		wait := im.Backoff << min(p.Attempts-1, 10)
		log.Warn("export piece will be retried", "error", err, "attempt", p.Attempts, "wait", wait)
		if err := im.Store.ReleasePiece(bg, p, im.Node, im.Now().Add(wait)); err != nil {
			log.Error("release piece", "error", err)
		}
		return
	}
	im.finishExport(bg, job.ID)
}

func (im *Importer) failExportPiece(ctx context.Context, p *pinfold.Piece, reason string, log interface {
	Error(string, ...any)
	Info(string, ...any)
}) {
	log.Info("export piece failed", "reason", reason)
	im.exportPieces.WithLabelValues("failed").Inc()
	if err := im.Store.FailPiece(ctx, p, im.Node, reason); err != nil {
		log.Error("fail piece", "error", err)
	}
}

func (im *Importer) finishExport(ctx context.Context, jobID string) {
	ended, err := im.Exports.FinishExportJob(ctx, jobID, im.Now())
	if err != nil {
		im.Logger.Error("finish export job", "job_id", jobID, "error", err)
	} else if ended {
		im.Logger.Info("export job ended", "job_id", jobID)
		im.Notify()
	}
}

// writeExportPiece writes the piece's endpoints, a page at a time, as gzip-compressed NDJSON
// to a temporary file, uploads it, and returns how many endpoints it holds. Members of an
// IMPORT segment that are not endpoints of the app (imported without RegisterEndpoints, or
// deleted since) are left out.
func (im *Importer) writeExportPiece(ctx context.Context, job *pinfold.ExportJob, p *pinfold.Piece) (int64, error) {
	f, err := os.CreateTemp(im.TempDir, "pinfold-export-*.json.gz")
	if err != nil {
		return 0, fmt.Errorf("export piece: %w", err)
	}
	defer func() {
		f.Close()
		os.Remove(f.Name())
	}()
	gz := gzip.NewWriter(f)
	enc := endpointfile.NewEncoder(gz)
	list := im.exportSource(job, p.SegmentVersion)
	var written int64
	for token := p.StartToken; ; {
		ids, next, err := list(ctx, pinfold.Page{Size: pinfold.MaxPageSize, Token: token})
		if err != nil {
			return 0, exportFailure(p, err)
		}
		last := next == ""
		if p.ThroughID != "" {
			// IDs order by their bytes in both stores, as Go compares strings.
			if i := slices.IndexFunc(ids, func(id string) bool { return id > p.ThroughID }); i >= 0 {
				ids, last = ids[:i], true
			} else if len(ids) > 0 && ids[len(ids)-1] == p.ThroughID {
				last = true
			}
		}
		endpoints, err := im.Endpoints.FindEndpointsByID(ctx, job.AppID, ids)
		if err != nil {
			return 0, exportFailure(p, err)
		}
		for _, e := range endpoints {
			if err := enc.Encode(e); err != nil {
				return 0, fmt.Errorf("export piece: %w", err)
			}
		}
		written += int64(len(endpoints))
		if last {
			break
		}
		token = next
	}
	if err := enc.Flush(); err != nil {
		return 0, fmt.Errorf("export piece: %w", err)
	}
	if err := gz.Close(); err != nil {
		return 0, fmt.Errorf("export piece: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if err := im.Objects.Put(ctx, p.Bucket, p.Key, f); err != nil {
		return 0, exportFailure(p, err)
	}
	return written, nil
}

// exportFailure classifies an error of a piece's reads or its upload: a *pinfold.Error (a
// segment or app gone, a missing bucket, a refused write) fails the piece; anything else is
// worth another try.
func exportFailure(p *pinfold.Piece, err error) error {
	if code := pinfold.ErrorCode(err); code != pinfold.EINTERNAL {
		return &pieceFailure{fmt.Sprintf("%s: %s", p.Location(), pinfold.ErrorMessage(err))}
	}
	return err
}
