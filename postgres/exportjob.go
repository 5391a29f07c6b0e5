package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
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
	_, err = db.pool.Exec(ctx, `INSERT INTO import_jobs (id, app_id, kind, segment_id, definition, status, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		job.ID, job.AppID, pinfold.JobTypeExport, job.Definition.SegmentID, string(def), job.Status, stored.Nanos(job.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert export job: %w", err)
	}
	return nil
}

func scanExportJob(row pgx.Row) (*pinfold.ExportJob, int64, error) {
	var j pinfold.ExportJob
	var seq, created, completed int64
	var def []byte
	if err := row.Scan(&seq, &j.ID, &j.AppID, &def, &j.Status, &created, &completed, &j.TotalPieces,
		&j.CompletedPieces, &j.FailedPieces, &j.TotalProcessed, &j.TotalFailures); err != nil {
		return nil, 0, err
	}
	j.CreatedAt, j.CompletedAt = stored.FromNanos(created), stored.FromNanos(completed)
	if err := json.Unmarshal(def, &j.Definition); err != nil {
		return nil, 0, fmt.Errorf("job %s definition: %w", j.ID, err)
	}
	return &j, seq, nil
}

// findExportJob finds an export job of appID ("" for any app).
func findExportJob(ctx context.Context, q querier, appID, jobID string) (*pinfold.ExportJob, error) {
	j, _, err := scanExportJob(q.QueryRow(ctx, `SELECT `+jobColumns+` FROM import_jobs WHERE id = $1 AND kind = $2 AND ($3 = '' OR app_id = $3)`,
		jobID, pinfold.JobTypeExport, appID))
	if isNoRows(err) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Export job %q not found in application %q", jobID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find export job: %w", err)
	}
	return j, nil
}

// FindExportJob returns an export job with its first failures.
func (db *DB) FindExportJob(ctx context.Context, appID, jobID string) (*pinfold.ExportJob, error) {
	if _, err := findApp(ctx, db.pool, appID); err != nil {
		return nil, err
	}
	var job *pinfold.ExportJob
	err := pgx.BeginTxFunc(ctx, db.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if job, err = findExportJob(ctx, tx, appID, jobID); err != nil {
			return err
		}
		failures, _, err := findFailures(ctx, tx, jobID, -2, 0, 0, pinfold.MaxJobFailures)
		for _, f := range failures {
			job.Failures = append(job.Failures, f.Message)
		}
		return err
	})
	return job, err
}

// FindExportJobs returns one page of an app's export jobs, newest first.
func (db *DB) FindExportJobs(ctx context.Context, appID, segmentID string, page pinfold.Page) ([]*pinfold.ExportJob, string, error) {
	return findJobPage(ctx, db, pinfold.JobTypeExport, appID, segmentID, page, scanExportJob)
}

// ClaimExportJob starts the oldest waiting export job if a slot is free.
func (db *DB) ClaimExportJob(ctx context.Context, node string, maxActive int, now, leaseUntil time.Time) (*pinfold.ExportJob, error) {
	var job *pinfold.ExportJob
	err := db.tx(ctx, func(tx pgx.Tx) error {
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
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := startProcessing(ctx, tx, pinfold.JobTypeExport, jobID, len(pieces)); err != nil {
			return err
		}
		rows := make([][]any, len(pieces))
		for i, p := range pieces {
			rows[i] = []any{jobID, p.No, p.AppID, p.Bucket, p.Key, "", int64(0), int64(-1), int64(0), "", true, "pending",
				p.StartToken, p.ThroughID, p.SegmentVersion}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_pieces"},
			[]string{"job_id", "no", "app_id", "bucket", "key", "etag", "start_byte", "end_byte", "first_line", "header", "gzip", "state",
				"start_token", "through_id", "segment_version"},
			pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("insert pieces: %w", err)
		}
		return nil
	})
}

// FailExportJob ends an export job as FAILED with a job-level failure.
func (db *DB) FailExportJob(ctx context.Context, jobID, reason string, now time.Time) error {
	return db.failJob(ctx, pinfold.JobTypeExport, jobID, reason, now)
}

// ClaimExportPiece claims one waiting piece of an export job in one statement.
func (db *DB) ClaimExportPiece(ctx context.Context, node string, now, leaseUntil time.Time) (*pinfold.Piece, *pinfold.ExportJob, error) {
	p := pinfold.Piece{End: -1}
	err := db.pool.QueryRow(ctx, `UPDATE import_pieces p SET state = 'running', owner = $1, lease_until = $2, attempts = p.attempts + 1
		FROM (SELECT c.job_id, c.no FROM import_pieces c JOIN import_jobs j ON j.id = c.job_id
			WHERE j.kind = 'EXPORT' AND j.status = ANY($3) AND c.state IN ('pending', 'running')
			AND ((c.state = 'pending' AND c.not_before <= $4) OR (c.state = 'running' AND c.lease_until < $4))
			ORDER BY j.seq, c.no LIMIT 1 FOR UPDATE OF c SKIP LOCKED) claimed
		WHERE p.job_id = claimed.job_id AND p.no = claimed.no
		RETURNING p.job_id, p.no, p.app_id, p.bucket, p.key, p.gzip, p.attempts, p.start_token, p.through_id, p.segment_version`,
		node, stored.Nanos(leaseUntil), []string{pinfold.JobProcessing, pinfold.JobFailing}, stored.Nanos(now)).
		Scan(&p.JobID, &p.No, &p.AppID, &p.Bucket, &p.Key, &p.Gzip, &p.Attempts, &p.StartToken, &p.ThroughID, &p.SegmentVersion)
	if isNoRows(err) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("claim export piece: %w", err)
	}
	job, err := findExportJob(ctx, db.pool, "", p.JobID)
	if err != nil {
		return nil, nil, err
	}
	return &p, job, nil
}

// CompleteExportPiece marks a piece done and counts its endpoints.
func (db *DB) CompleteExportPiece(ctx context.Context, p *pinfold.Piece, node string, written int64) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if held, err := holdsPiece(ctx, tx, p, node); err != nil || !held {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE import_pieces SET state = 'done', owner = '', lease_until = 0 WHERE job_id = $1 AND no = $2`, p.JobID, p.No); err != nil {
			return fmt.Errorf("complete piece: %w", err)
		}
		_, err := tx.Exec(ctx, `UPDATE import_jobs SET completed_pieces = completed_pieces + 1, total_processed = total_processed + $1 WHERE id = $2`,
			written, p.JobID)
		return err
	})
}

// FinishExportJob ends an export job whose pieces are all done.
func (db *DB) FinishExportJob(ctx context.Context, jobID string, now time.Time) (bool, error) {
	return db.finishJob(ctx, pinfold.JobTypeExport, jobID, now, func(pgx.Tx) error { return nil })
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
	if _, err := findApp(ctx, db.pool, appID); err != nil {
		return nil, "", err
	}
	size := stored.PageSize(page)
	rows, err := db.pool.Query(ctx, `SELECT id FROM endpoints WHERE app = (SELECT seq FROM apps WHERE id = $1) AND id > $2 ORDER BY id LIMIT $3`, appID, after, size+1)
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
	if _, err := findApp(ctx, db.pool, appID); err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := db.pool.Query(ctx, endpointsByID, lookupMode, appID, ids)
	if err != nil {
		return nil, fmt.Errorf("find endpoints: %w", err)
	}
	defer rows.Close()
	var endpoints []*pinfold.Endpoint
	for rows.Next() {
		var id string
		var data []byte
		if err := rows.Scan(&id, &data); err != nil {
			return nil, err
		}
		e, err := stored.DecodeEndpoint(appID, id, data)
		if err != nil {
			return nil, err
		}
		endpoints = append(endpoints, e)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Sorted here rather than by the database, whose collation may not order bytes as Go does.
	slices.SortFunc(endpoints, func(a, b *pinfold.Endpoint) int { return strings.Compare(a.ID, b.ID) })
	return endpoints, nil
}
