package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

var _ pinfold.ExportJobStore = (*DB)(nil)

// Export jobs are rows of import_jobs with kind EXPORT, and their pieces rows of
// import_pieces (migration 0004); claiming, planning, failing and finishing share the import
// jobs' statements (importjob.go) with the kind as a parameter.

// CreateExportJob stores a new export job.
func (db *DB) CreateExportJob(ctx context.Context, job *pinfold.ExportJob) error {
	def, err := json.Marshal(job.Definition)
	if err != nil {
		return err
	}
	_, err = db.exec(ctx, `INSERT INTO import_jobs (id, app_id, kind, segment_id, definition, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		job.ID, job.AppID, pinfold.JobTypeExport, job.Definition.SegmentID, string(def), job.Status, stored.Nanos(job.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert export job: %w", err)
	}
	return nil
}

func scanExportJob(row interface{ Scan(...any) error }) (*pinfold.ExportJob, int64, error) {
	var j pinfold.ExportJob
	var seq, created, completed int64
	var def string
	if err := row.Scan(&seq, &j.ID, &j.AppID, &def, &j.Status, &created, &completed, &j.TotalPieces,
		&j.CompletedPieces, &j.FailedPieces, &j.TotalProcessed, &j.TotalFailures); err != nil {
		return nil, 0, err
	}
	j.CreatedAt, j.CompletedAt = stored.FromNanos(created), stored.FromNanos(completed)
	if err := json.Unmarshal([]byte(def), &j.Definition); err != nil {
		return nil, 0, fmt.Errorf("job %s definition: %w", j.ID, err)
	}
	return &j, seq, nil
}

func findExportJob(ctx context.Context, q queryer, appID, jobID string) (*pinfold.ExportJob, error) {
	row := q.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM import_jobs WHERE id = ? AND kind = ? AND (? = '' OR app_id = ?)`,
		jobID, pinfold.JobTypeExport, appID, appID)
	j, _, err := scanExportJob(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Export job %q not found in application %q", jobID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find export job: %w", err)
	}
	return j, nil
}

// FindExportJob returns an export job with its first failures.
func (db *DB) FindExportJob(ctx context.Context, appID, jobID string) (*pinfold.ExportJob, error) {
	if _, err := findApp(ctx, db.read, appID); err != nil {
		return nil, err
	}
	tx, err := db.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	j, err := findExportJob(ctx, tx, appID, jobID)
	if err != nil {
		return nil, err
	}
	failures, _, err := findFailures(ctx, tx, jobID, -2, 0, 0, pinfold.MaxJobFailures)
	if err != nil {
		return nil, err
	}
	for _, f := range failures {
		j.Failures = append(j.Failures, f.Message)
	}
	return j, nil
}

// FindExportJobs returns one page of an app's export jobs, newest first.
func (db *DB) FindExportJobs(ctx context.Context, appID, segmentID string, page pinfold.Page) ([]*pinfold.ExportJob, string, error) {
	return findJobPage(ctx, db, pinfold.JobTypeExport, appID, segmentID, page, scanExportJob)
}

// ClaimExportJob starts the oldest waiting export job if a slot is free.
func (db *DB) ClaimExportJob(ctx context.Context, node string, maxActive int, now, leaseUntil time.Time) (*pinfold.ExportJob, error) {
	var job *pinfold.ExportJob
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		id, err := claimJob(ctx, tx, pinfold.JobTypeExport, node, maxActive, now, leaseUntil)
		if err != nil || id == "" {
			return err
		}
		job, err = findExportJob(ctx, tx, "", id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim export job: %w", err)
	}
	return job, nil
}

// SetExportJobStatus moves an export job from one of from to to.
func (db *DB) SetExportJobStatus(ctx context.Context, jobID string, from []string, to string) (bool, error) {
	return db.setJobStatus(ctx, pinfold.JobTypeExport, jobID, from, to)
}

// PlanExportJob writes the job's pieces and moves it to PROCESSING.
func (db *DB) PlanExportJob(ctx context.Context, jobID string, pieces []*pinfold.Piece) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := startProcessing(ctx, tx, pinfold.JobTypeExport, jobID, len(pieces)); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO import_pieces (job_id, no, app_id, bucket, key, etag, start_byte, end_byte,
			first_line, header, gzip, state, start_token, through_id, segment_version)
			VALUES (?, ?, ?, ?, ?, '', 0, -1, 0, '', 1, 'pending', ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, p := range pieces {
			if _, err := stmt.ExecContext(ctx, jobID, p.No, p.AppID, p.Bucket, p.Key, p.StartToken, p.ThroughID, p.SegmentVersion); err != nil {
				return fmt.Errorf("insert piece: %w", err)
			}
		}
		return nil
	})
}

// FailExportJob ends an export job as FAILED with a job-level failure.
func (db *DB) FailExportJob(ctx context.Context, jobID, reason string, now time.Time) error {
	return db.failJob(ctx, pinfold.JobTypeExport, jobID, reason, now)
}

// ClaimExportPiece claims one waiting piece of an export job.
func (db *DB) ClaimExportPiece(ctx context.Context, node string, now, leaseUntil time.Time) (*pinfold.Piece, *pinfold.ExportJob, error) {
	var p pinfold.Piece
	var job *pinfold.ExportJob
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE import_pieces SET state = 'running', owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE (job_id, no) = (`+nextPiece+`)
			RETURNING job_id, no, app_id, bucket, key, gzip, attempts, start_token, through_id, segment_version`,
			append([]any{node, stored.Nanos(leaseUntil)}, nextPieceArgs(pinfold.JobTypeExport, now)...)...).
			Scan(&p.JobID, &p.No, &p.AppID, &p.Bucket, &p.Key, &p.Gzip, &p.Attempts, &p.StartToken, &p.ThroughID, &p.SegmentVersion)
		if err != nil {
			return err
		}
		p.End = -1
		job, err = findExportJob(ctx, tx, "", p.JobID)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	} else if err != nil {
		db.failClaimable(ctx, pinfold.JobTypeExport, now, err)
		return nil, nil, fmt.Errorf("claim export piece: %w", err)
	}
	return &p, job, nil
}

// CompleteExportPiece marks a piece done and counts its endpoints.
func (db *DB) CompleteExportPiece(ctx context.Context, p *pinfold.Piece, node string, written int64) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if held, err := holdsPiece(ctx, tx, p, node); err != nil || !held {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE import_pieces SET state = 'done', owner = '', lease_until = 0 WHERE job_id = ? AND no = ?`, p.JobID, p.No); err != nil {
			return fmt.Errorf("complete piece: %w", err)
		}
		_, err := tx.ExecContext(ctx, `UPDATE import_jobs SET completed_pieces = completed_pieces + 1, total_processed = total_processed + ? WHERE id = ?`,
			written, p.JobID)
		return err
	})
}

// FinishExportJob ends an export job whose pieces are all done.
func (db *DB) FinishExportJob(ctx context.Context, jobID string, now time.Time) (bool, error) {
	return db.finishJob(ctx, pinfold.JobTypeExport, jobID, now, func(*sql.Tx) error { return nil })
}

// UnfinishedExportJobs returns export jobs with no piece left to run that have not ended.
func (db *DB) UnfinishedExportJobs(ctx context.Context) ([]string, error) {
	return db.unfinishedJobs(ctx, pinfold.JobTypeExport)
}

// FindEndpointIDs returns one page of the app's endpoint IDs, in ID order.
func (db *DB) FindEndpointIDs(ctx context.Context, appID string, page pinfold.Page) ([]string, string, error) {
	pos, err := stored.DecodeToken("endpoints", page.Token)
	if err != nil {
		return nil, "", err
	}
	after := ""
	if pos != nil {
		after = pos[0]
	}
	if _, err := findApp(ctx, db.read, appID); err != nil {
		return nil, "", err
	}
	size := stored.PageSize(page)
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = ?) AND id > ? ORDER BY id LIMIT ?`, appID, after, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("find endpoint IDs: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		if len(ids) == size {
			return ids, stored.EncodeToken("endpoints", ids[len(ids)-1]), nil
		}
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, "", err
		}
		ids = append(ids, id)
	}
	return ids, "", rows.Err()
}

// FindEndpointsByID returns the app's endpoints among ids, in ID order.
func (db *DB) FindEndpointsByID(ctx context.Context, appID string, ids []string) ([]*pinfold.Endpoint, error) {
	if _, err := findApp(ctx, db.read, appID); err != nil {
		return nil, err
	}
	var endpoints []*pinfold.Endpoint
	if err := endpointsByID(ctx, db.read, appID, ids, func(e *pinfold.Endpoint, _ []byte) { endpoints = append(endpoints, e) }); err != nil {
		return nil, err
	}
	slices.SortFunc(endpoints, func(a, b *pinfold.Endpoint) int { return strings.Compare(a.ID, b.ID) })
	return endpoints, nil
}
