package importer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/endpointfile"
	"github.com/pinfold/pinfold/s3"
)

// formatExtensions are the object name endings each format imports, compared in lower case;
// each may also end in ".gz" (an addition to Pinpoint, so its export files import as they are).
var formatExtensions = map[string][]string{
	pinfold.FormatCSV:  {".csv"},
	pinfold.FormatJSON: {".json", ".jsonl", ".ndjson"},
}

// matchFormat reports whether key is a file of format, and whether it is gzip-compressed.
// Pinpoint names its export files by ".gz" alone (PINPOINT.md §2.3), so for JSON a ".gz"
// object is read unless its name says it holds another format ("x.csv.gz").
func matchFormat(key, format string) (ok, gz bool) {
	k := strings.ToLower(key)
	if strings.HasSuffix(k, "/") {
		return false, false
	}
	if strings.HasSuffix(k, ".gz") {
		gz, k = true, strings.TrimSuffix(k, ".gz")
		if format == pinfold.FormatJSON && !slices.Contains(formatExtensions[pinfold.FormatCSV], path.Ext(k)) {
			return true, true
		}
	}
	return slices.Contains(formatExtensions[format], path.Ext(k)), gz
}

// plan moves a claimed job through PREPARING_FOR_INITIALIZATION (is the source reachable?)
// and INITIALIZING (list the objects, cut them into pieces) to PROCESSING. A job whose source
// cannot be read, or that has no file of its format, ends FAILED with the reason.
func (im *Importer) plan(ctx context.Context, job *pinfold.ImportJob) {
	log := im.Logger.With("job_id", job.ID, "app_id", job.AppID)
	reason, err := im.planJob(ctx, job)
	switch {
	case err != nil && ctx.Err() != nil:
		log.Info("planning interrupted; the job is planned again on the next start", "error", err)
	case errors.Is(err, pinfold.ErrDiskFull):
		log.Error("plan import job", "error", err)
		if err := im.Store.FailImportJob(context.WithoutCancel(ctx), job.ID, "the job could not be planned: "+pinfold.ErrorMessage(err), im.Now()); err != nil {
			log.Error("fail import job", "error", err)
		}
		im.Notify()
	case err != nil:
		log.Error("plan import job", "error", err)
	case reason != "":
		log.Info("import job failed", "reason", reason)
		if err := im.Store.FailImportJob(context.WithoutCancel(ctx), job.ID, reason, im.Now()); err != nil {
			log.Error("fail import job", "error", err)
		}
		im.Notify()
	default:
		im.Notify()
	}
}

// planJob returns a reason when the job must fail, or an error when planning could not be
// done now (it is retried when the job's lease runs out).
func (im *Importer) planJob(ctx context.Context, job *pinfold.ImportJob) (reason string, err error) {
	def := job.Definition
	bucket, prefix, err := s3.ParseURL(def.S3URL)
	if err != nil {
		return pinfold.ErrorMessage(err), nil
	}
	source := "s3://" + bucket + "/" + prefix
	if job.Status == pinfold.JobPreparingForInitialization {
		if err := im.retry(ctx, func() error { return im.Objects.HeadBucket(ctx, bucket) }); err != nil {
			return fmt.Sprintf("cannot read %s: %s", source, sourceMessage(err)), nil
		}
		if _, err := im.Store.SetImportJobStatus(ctx, job.ID, []string{pinfold.JobPreparingForInitialization}, pinfold.JobInitializing); err != nil {
			return "", err
		}
	}
	var objects []s3.Object
	if err := im.retry(ctx, func() (err error) { objects, err = im.Objects.List(ctx, bucket, prefix); return err }); err != nil {
		return fmt.Sprintf("cannot list %s: %s", source, sourceMessage(err)), nil
	}
	for _, o := range objects {
		if o.Key == prefix {
			objects = []s3.Object{o} // the URL names one object
			break
		}
	}
	var pieces []*pinfold.Piece
	var others []string
	for _, o := range objects {
		ok, gz := matchFormat(o.Key, def.Format)
		if !ok {
			if !strings.HasSuffix(o.Key, "/") {
				others = append(others, o.Key)
			}
			continue
		}
		if o.Size == 0 {
			continue
		}
		var split []*pinfold.Piece
		err := im.retry(ctx, func() (err error) { split, err = im.split(ctx, job, o, gz); return err })
		if pinfold.ErrorCode(err) == pinfold.EINVALID {
			return pinfold.ErrorMessage(err), nil // the file itself is unusable: a bad CSV header
		} else if err != nil {
			return fmt.Sprintf("cannot read s3://%s/%s: %s", o.Bucket, o.Key, sourceMessage(err)), nil
		}
		for _, p := range split {
			p.No = len(pieces)
			pieces = append(pieces, p)
		}
	}
	if len(pieces) == 0 {
		return noFilesReason(def.Format, source, objects, others), nil
	}
	return "", im.Store.PlanImportJob(ctx, job.ID, pieces)
}

// noFilesReason says what a job with nothing to import found instead.
func noFilesReason(format, source string, objects []s3.Object, others []string) string {
	exts := strings.Join(formatExtensions[format], ", ")
	switch {
	case len(objects) == 0:
		return fmt.Sprintf("no objects found under %s", source)
	case len(others) == 0:
		return fmt.Sprintf("the %s files (%s) under %s are all empty", format, exts, source)
	}
	shown := others[:min(len(others), 5)]
	more := ""
	if len(others) > len(shown) {
		more = fmt.Sprintf(" and %d more", len(others)-len(shown))
	}
	return fmt.Sprintf("no %s files (%s, optionally .gz) found under %s; found %d other object(s): %s%s",
		format, exts, source, len(others), strings.Join(shown, ", "), more)
}

// split cuts an object into pieces of about PieceSize bytes at line ends, counting lines so
// that every piece knows the file line it starts at and failures name exact lines. A gzip
// object cannot be cut by byte ranges and is one piece; so is a small object.
func (im *Importer) split(ctx context.Context, job *pinfold.ImportJob, o s3.Object, gz bool) ([]*pinfold.Piece, error) {
	newPiece := func(start, end, line int64, header string) *pinfold.Piece {
		return &pinfold.Piece{JobID: job.ID, AppID: job.AppID, Bucket: o.Bucket, Key: o.Key, ETag: o.ETag,
			Start: start, End: end, FirstLine: line, Header: header, Gzip: gz}
	}
	if gz || o.Size <= im.PieceSize {
		return []*pinfold.Piece{newPiece(0, -1, 1, "")}, nil
	}
	rc, err := im.Objects.Open(ctx, o.Bucket, o.Key, o.ETag, 0, -1)
	if err != nil {
		return nil, err
	}
	defer rc.Close()

	var pieces []*pinfold.Piece
	var header string
	csv := job.Definition.Format == pinfold.FormatCSV
	start, pos, lines := int64(0), int64(0), int64(0) // lines: line ends before pos
	startLine := int64(1)
	buf := make([]byte, 256<<10)
	for {
		n, err := io.ReadFull(rc, buf)
		chunk := buf[:n]
		if csv && pos == 0 && n > 0 {
			// A bad header fails the job once here instead of once in every piece.
			var herr error
			if header, herr = endpointfile.HeaderLine(bytes.NewReader(chunk)); herr != nil {
				if pinfold.ErrorCode(herr) == pinfold.EINVALID {
					return nil, pinfold.Errorf(pinfold.EINVALID, "s3://%s/%s:1: %s", o.Bucket, o.Key, pinfold.ErrorMessage(herr))
				}
				return nil, herr
			}
		}
		for len(chunk) > 0 {
			// Bytes still needed before this piece may end; then cut at the next line end.
			need := max(im.PieceSize-(pos-start), 0)
			if need >= int64(len(chunk)) {
				lines += int64(bytes.Count(chunk, []byte{'\n'}))
				pos += int64(len(chunk))
				break
			}
			i := bytes.IndexByte(chunk[need:], '\n')
			if i < 0 {
				lines += int64(bytes.Count(chunk, []byte{'\n'}))
				pos += int64(len(chunk))
				break
			}
			cut := need + int64(i) + 1
			lines += int64(bytes.Count(chunk[:cut], []byte{'\n'}))
			pos += cut
			chunk = chunk[cut:]
			pieces = append(pieces, newPiece(start, pos, startLine, ""))
			start, startLine = pos, lines+1
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		} else if err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
	}
	if pos != o.Size {
		return nil, fmt.Errorf("object is %d bytes, listed as %d: it changed while it was planned", pos, o.Size)
	}
	if start < pos {
		pieces = append(pieces, newPiece(start, pos, startLine, ""))
	}
	for i, p := range pieces {
		if i > 0 && csv {
			p.Header = header
		}
		if i == len(pieces)-1 && p.End == o.Size {
			p.End = -1
		}
	}
	return pieces, nil
}

// retry runs fn until it succeeds, fails with an error that retrying cannot fix (a
// *pinfold.Error: missing bucket, access denied, …), or MaxAttempt tries have failed.
func (im *Importer) retry(ctx context.Context, fn func() error) error {
	wait := im.Backoff
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt >= im.MaxAttempt || pinfold.ErrorCode(err) != pinfold.EINTERNAL || ctx.Err() != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
}

// sourceMessage is what a job failure says about an error of the object storage.
func sourceMessage(err error) string {
	if pinfold.ErrorCode(err) != pinfold.EINTERNAL {
		return pinfold.ErrorMessage(err)
	}
	return err.Error()
}
