package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

var _ pinfold.ImportJobStore = (*DB)(nil)

// activeStatuses are the states that take a slot under the active-jobs cap.
var activeStatuses = []string{pinfold.JobPreparingForInitialization, pinfold.JobInitializing,
	pinfold.JobProcessing, pinfold.JobCompleting, pinfold.JobFailing}

// CreateImportJob stores a new job.
func (db *DB) CreateImportJob(ctx context.Context, job *pinfold.ImportJob) error {
	def, err := json.Marshal(job.Definition)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO import_jobs (id, app_id, segment_id, definition, status, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		job.ID, job.AppID, job.Definition.SegmentID, string(def), job.Status, stored.Nanos(job.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert import job: %w", err)
	}
	return nil
}

const jobColumns = `seq, id, app_id, definition, status, created_at, completed_at, total_pieces,
	completed_pieces, failed_pieces, total_processed, total_failures`

func scanJob(row pgx.Row) (*pinfold.ImportJob, int64, error) {
	var j pinfold.ImportJob
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

// findJob finds a job of appID ("" for any app); lock adds FOR UPDATE.
func findJob(ctx context.Context, q querier, appID, jobID string, lock bool) (*pinfold.ImportJob, error) {
	query := `SELECT ` + jobColumns + ` FROM import_jobs WHERE id = $1 AND kind = 'IMPORT' AND ($2 = '' OR app_id = $2)`
	if lock {
		query += ` FOR UPDATE`
	}
	j, _, err := scanJob(q.QueryRow(ctx, query, jobID, appID))
	if isNoRows(err) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Import job %q not found in application %q", jobID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find import job: %w", err)
	}
	return j, nil
}

// FindImportJob returns a job with its first failures. The job's constant parts come from
// db.jobs once this node has read it, so that a poll reads only the columns that change; one
// statement reads them and the failures, so that the two agree without a transaction.
func (db *DB) FindImportJob(ctx context.Context, appID, jobID string) (*pinfold.ImportJob, error) {
	if k, ok := db.jobs.Get(jobID); ok && (appID == "" || appID == k.AppID) {
		j := &pinfold.ImportJob{ID: jobID, AppID: k.AppID, Definition: k.Definition, CreatedAt: k.CreatedAt}
		var p jobProgress
		err := db.pool.QueryRow(ctx, `SELECT `+progressColumns+` FROM import_jobs WHERE id = $1`,
			jobID, pinfold.MaxJobFailures).Scan(p.dest(j)...)
		if err == nil {
			p.fill(j)
			return j, nil
		} else if !isNoRows(err) {
			return nil, fmt.Errorf("find import job: %w", err)
		}
		db.jobs.Forget(jobID) // gone, perhaps by another node: the read below says how
	}
	j := &pinfold.ImportJob{ID: jobID}
	var p jobProgress
	var def []byte
	var created int64
	err := db.pool.QueryRow(ctx, `SELECT app_id, definition, created_at, `+progressColumns+`
		FROM import_jobs WHERE id = $1 AND kind = 'IMPORT' AND ($3 = '' OR app_id = $3)`,
		jobID, pinfold.MaxJobFailures, appID).Scan(append([]any{&j.AppID, &def, &created}, p.dest(j)...)...)
	if isNoRows(err) {
		if _, err := findApp(ctx, db.pool, appID); err != nil {
			return nil, err // the app's own NotFound
		}
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Import job %q not found in application %q", jobID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find import job: %w", err)
	}
	if err := json.Unmarshal(def, &j.Definition); err != nil {
		return nil, fmt.Errorf("job %s definition: %w", jobID, err)
	}
	j.CreatedAt = stored.FromNanos(created)
	p.fill(j)
	db.jobs.Put(j)
	return j, nil
}

// progressColumns are the columns of a job that change, and its first failures ($2 is how
// many).
const progressColumns = `status, completed_at, total_pieces, completed_pieces, failed_pieces, total_processed, total_failures,
	ARRAY(SELECT message FROM import_failures WHERE job_id = import_jobs.id ORDER BY piece, line, seq LIMIT $2)`

// jobProgress is what a job's progressColumns scan into beside the job itself.
type jobProgress struct {
	completed int64
}

func (p *jobProgress) dest(j *pinfold.ImportJob) []any {
	return []any{&j.Status, &p.completed, &j.TotalPieces, &j.CompletedPieces, &j.FailedPieces,
		&j.TotalProcessed, &j.TotalFailures, &j.Failures}
}

// fill sets the job's fields that dest could not scan into directly.
func (p *jobProgress) fill(j *pinfold.ImportJob) {
	j.CompletedAt = stored.FromNanos(p.completed)
	if len(j.Failures) == 0 {
		j.Failures = nil
	}
}

// FindImportJobs returns one page of an app's jobs, newest first.
func (db *DB) FindImportJobs(ctx context.Context, appID, segmentID string, page pinfold.Page) ([]*pinfold.ImportJob, string, error) {
	return findJobPage(ctx, db, pinfold.JobTypeImport, appID, segmentID, page, scanJob)
}

// findJobPage returns one page of an app's jobs of kind (of one segment, unless segmentID is
// ""), newest first, each read with scan.
func findJobPage[J any](ctx context.Context, db *DB, kind, appID, segmentID string, page pinfold.Page,
	scan func(pgx.Row) (J, int64, error)) ([]J, string, error) {
	if _, err := findApp(ctx, db.pool, appID); err != nil {
		return nil, "", err
	}
	before, err := stored.DecodeSeqToken("jobs", page.Token)
	if err != nil {
		return nil, "", err
	}
	if before == 0 {
		before = 1<<63 - 1
	}
	size := stored.PageSize(page)
	rows, err := db.pool.Query(ctx, `SELECT `+jobColumns+` FROM import_jobs
		WHERE app_id = $1 AND kind = $2 AND ($3 = '' OR segment_id = $3) AND seq < $4 ORDER BY seq DESC LIMIT $5`,
		appID, kind, segmentID, before, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("find %s jobs: %w", kind, err)
	}
	defer rows.Close()
	var jobs []J
	var last int64
	for rows.Next() {
		if len(jobs) == size {
			return jobs, stored.EncodeToken("jobs", fmt.Sprint(last)), nil
		}
		j, seq, err := scan(rows)
		if err != nil {
			return nil, "", err
		}
		jobs, last = append(jobs, j), seq
	}
	return jobs, "", rows.Err()
}

// FindImportFailures returns one page of all of a job's failures, in file order.
func (db *DB) FindImportFailures(ctx context.Context, appID, jobID string, page pinfold.Page) ([]pinfold.Failure, string, error) {
	if _, err := findApp(ctx, db.pool, appID); err != nil {
		return nil, "", err
	}
	if _, err := findJob(ctx, db.pool, appID, jobID, false); err != nil {
		return nil, "", err
	}
	piece, line, seq, err := stored.DecodeFailureToken(page.Token)
	if err != nil {
		return nil, "", err
	}
	return findFailures(ctx, db.pool, jobID, piece, line, seq, stored.PageSize(page))
}

// FindImportJobStates returns the states the job has entered, in order. The rows are written
// by triggers (migration 0005), not by the methods that change a status.
func (db *DB) FindImportJobStates(ctx context.Context, appID, jobID string) ([]pinfold.JobStateChange, error) {
	if _, err := findApp(ctx, db.pool, appID); err != nil {
		return nil, err
	}
	if _, err := findJob(ctx, db.pool, appID, jobID, false); err != nil {
		return nil, err
	}
	rows, err := db.pool.Query(ctx, `SELECT status, at FROM job_states WHERE job_id = $1 ORDER BY seq`, jobID)
	if err != nil {
		return nil, fmt.Errorf("find job states: %w", err)
	}
	defer rows.Close()
	var states []pinfold.JobStateChange
	for rows.Next() {
		var c pinfold.JobStateChange
		var at int64
		if err := rows.Scan(&c.Status, &at); err != nil {
			return nil, err
		}
		c.At = stored.FromNanos(at)
		states = append(states, c)
	}
	return states, rows.Err()
}

func findFailures(ctx context.Context, q querier, jobID string, piece, line, seq int64, size int) ([]pinfold.Failure, string, error) {
	rows, err := q.Query(ctx, `SELECT piece, line, seq, message FROM import_failures
		WHERE job_id = $1 AND (piece, line, seq) > ($2, $3, $4) ORDER BY piece, line, seq LIMIT $5`,
		jobID, piece, line, seq, size+1)
	if err != nil {
		return nil, "", fmt.Errorf("find failures: %w", err)
	}
	defer rows.Close()
	var failures []pinfold.Failure
	var lastSeq int64
	for rows.Next() {
		if len(failures) == size {
			f := failures[len(failures)-1]
			return failures, stored.EncodeToken("failures", fmt.Sprint(f.Piece), fmt.Sprint(f.Line), fmt.Sprint(lastSeq)), nil
		}
		var f pinfold.Failure
		if err := rows.Scan(&f.Piece, &f.Line, &lastSeq, &f.Message); err != nil {
			return nil, "", err
		}
		failures = append(failures, f)
	}
	return failures, "", rows.Err()
}

// ClaimImportJob starts the oldest waiting import job if a slot is free.
func (db *DB) ClaimImportJob(ctx context.Context, node string, maxActive int, now, leaseUntil time.Time) (*pinfold.ImportJob, error) {
	var job *pinfold.ImportJob
	err := db.tx(ctx, func(tx pgx.Tx) error {
		id, err := claimJob(ctx, tx, pinfold.JobTypeImport, node, maxActive, now, leaseUntil)
		if err != nil || id == "" {
			return err
		}
		job, err = findJob(ctx, tx, "", id, false)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim import job: %w", err)
	}
	return job, nil
}

// claimJob starts the oldest waiting job of a kind if fewer than maxActive jobs of that kind
// are active, and returns its ID ("" when there is none to start); jobs of the kind that must
// wait move to PENDING_JOB. Claims are serialised by a transaction-scoped advisory lock, so
// the cap holds across nodes.
func claimJob(ctx context.Context, tx pgx.Tx, kind, node string, maxActive int, now, leaseUntil time.Time) (string, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, claimJobLock); err != nil {
		return "", err
	}
	// Planning that a dead node left behind comes first: it already holds a slot.
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM import_jobs WHERE kind = $1 AND status = ANY($2) AND lease_until < $3 ORDER BY seq LIMIT 1`,
		kind, []string{pinfold.JobPreparingForInitialization, pinfold.JobInitializing}, stored.Nanos(now)).Scan(&id)
	if isNoRows(err) {
		var active int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM import_jobs WHERE kind = $1 AND status = ANY($2)`, kind, activeStatuses).Scan(&active); err != nil {
			return "", err
		}
		if active >= maxActive {
			_, err := tx.Exec(ctx, `UPDATE import_jobs SET status = $1 WHERE kind = $2 AND status = $3`, pinfold.JobPendingJob, kind, pinfold.JobCreated)
			return "", err
		}
		err = tx.QueryRow(ctx, `SELECT id FROM import_jobs WHERE kind = $1 AND status = ANY($2) ORDER BY seq LIMIT 1`,
			kind, []string{pinfold.JobCreated, pinfold.JobPendingJob}).Scan(&id)
		if isNoRows(err) {
			return "", nil
		} else if err != nil {
			return "", err
		}
		if _, err := tx.Exec(ctx, `UPDATE import_jobs SET status = $1 WHERE id = $2`, pinfold.JobPreparingForInitialization, id); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	_, err = tx.Exec(ctx, `UPDATE import_jobs SET owner = $1, lease_until = $2 WHERE id = $3`, node, stored.Nanos(leaseUntil), id)
	return id, err
}

// SetImportJobStatus moves a job from one of from to to.
func (db *DB) SetImportJobStatus(ctx context.Context, jobID string, from []string, to string) (bool, error) {
	return db.setJobStatus(ctx, pinfold.JobTypeImport, jobID, from, to)
}

func (db *DB) setJobStatus(ctx context.Context, kind, jobID string, from []string, to string) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE import_jobs SET status = $1 WHERE id = $2 AND kind = $3 AND status = ANY($4)`, to, jobID, kind, from)
	if err != nil {
		return false, fmt.Errorf("set job status: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// PlanImportJob writes the job's pieces and moves it to PROCESSING.
func (db *DB) PlanImportJob(ctx context.Context, jobID string, pieces []*pinfold.Piece) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if err := startProcessing(ctx, tx, pinfold.JobTypeImport, jobID, len(pieces)); err != nil {
			return err
		}
		rows := make([][]any, len(pieces))
		for i, p := range pieces {
			rows[i] = []any{jobID, p.No, p.AppID, p.Bucket, p.Key, p.ETag, p.Start, p.End, p.FirstLine, p.Header, p.Gzip, "pending"}
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"import_pieces"},
			[]string{"job_id", "no", "app_id", "bucket", "key", "etag", "start_byte", "end_byte", "first_line", "header", "gzip", "state"},
			pgx.CopyFromRows(rows))
		if err != nil {
			return fmt.Errorf("insert pieces: %w", err)
		}
		return nil
	})
}

// startProcessing moves a planned job of kind from INITIALIZING to PROCESSING with n pieces
// and deletes the pieces an earlier, interrupted planning wrote; the caller writes the new
// ones in the same transaction.
func startProcessing(ctx context.Context, tx pgx.Tx, kind, jobID string, n int) error {
	tag, err := tx.Exec(ctx, `UPDATE import_jobs SET status = $1, total_pieces = $2, owner = '', lease_until = 0 WHERE id = $3 AND kind = $4 AND status = $5`,
		pinfold.JobProcessing, n, jobID, kind, pinfold.JobInitializing)
	if err != nil {
		return fmt.Errorf("plan job: %w", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("plan job %s: job is not INITIALIZING", jobID)
	}
	_, err = tx.Exec(ctx, `DELETE FROM import_pieces WHERE job_id = $1`, jobID)
	return err
}

// FailImportJob ends a job as FAILED with a job-level failure.
func (db *DB) FailImportJob(ctx context.Context, jobID, reason string, now time.Time) error {
	return db.failJob(ctx, pinfold.JobTypeImport, jobID, reason, now)
}

func (db *DB) failJob(ctx context.Context, kind, jobID, reason string, now time.Time) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE import_jobs SET status = $1, completed_at = $2, owner = '', lease_until = 0
			WHERE id = $3 AND kind = $4 AND status <> ALL($5)`,
			pinfold.JobFailed, stored.Nanos(now), jobID, kind, []string{pinfold.JobCompleted, pinfold.JobFailed})
		if err != nil {
			return fmt.Errorf("fail job: %w", err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		if err := insertFailures(ctx, tx, jobID, []pinfold.Failure{{Piece: -1, Message: reason}}); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM import_job_members WHERE job_id = $1`, jobID)
		return err
	})
}

// insertFailures adds failures; seq numbers failures that share a place (a piece's own
// failure and a row failure both at line 0 never collide with rows, which start at 1).
func insertFailures(ctx context.Context, tx pgx.Tx, jobID string, failures []pinfold.Failure) error {
	if len(failures) == 0 {
		return nil
	}
	pieces := make([]int32, len(failures))
	lines := make([]int64, len(failures))
	messages := make([]string, len(failures))
	for i, f := range failures {
		pieces[i], lines[i], messages[i] = int32(f.Piece), f.Line, f.Message
	}
	_, err := tx.Exec(ctx, `INSERT INTO import_failures (job_id, piece, line, seq, message)
		SELECT $1, f.piece, f.line,
			(SELECT count(*) FROM import_failures o WHERE o.job_id = $1 AND o.piece = f.piece AND o.line = f.line)
			+ row_number() OVER (PARTITION BY f.piece, f.line ORDER BY f.n) - 1,
			f.message
		FROM unnest($2::integer[], $3::bigint[], $4::text[]) WITH ORDINALITY AS f(piece, line, message, n)`,
		jobID, pieces, lines, messages)
	if err != nil {
		return fmt.Errorf("insert failures: %w", err)
	}
	return nil
}

// ClaimPiece claims one waiting piece in one statement; SKIP LOCKED lets nodes claim side by
// side without waiting on each other.
func (db *DB) ClaimPiece(ctx context.Context, node string, now, leaseUntil time.Time) (*pinfold.Piece, *pinfold.ImportJob, error) {
	var p pinfold.Piece
	err := db.pool.QueryRow(ctx, `UPDATE import_pieces p SET state = 'running', owner = $1, lease_until = $2, attempts = p.attempts + 1
		FROM (SELECT c.job_id, c.no FROM import_pieces c JOIN import_jobs j ON j.id = c.job_id
			WHERE j.kind = 'IMPORT' AND j.status = ANY($3) AND c.state IN ('pending', 'running')
			AND ((c.state = 'pending' AND c.not_before <= $4) OR (c.state = 'running' AND c.lease_until < $4))
			ORDER BY j.seq, c.no LIMIT 1 FOR UPDATE OF c SKIP LOCKED) claimed
		WHERE p.job_id = claimed.job_id AND p.no = claimed.no
		RETURNING p.job_id, p.no, p.app_id, p.bucket, p.key, p.etag, p.start_byte, p.end_byte, p.first_line, p.header, p.gzip, p.attempts`,
		node, stored.Nanos(leaseUntil), []string{pinfold.JobProcessing, pinfold.JobFailing}, stored.Nanos(now)).
		Scan(&p.JobID, &p.No, &p.AppID, &p.Bucket, &p.Key, &p.ETag, &p.Start, &p.End, &p.FirstLine, &p.Header, &p.Gzip, &p.Attempts)
	if isNoRows(err) {
		return nil, nil, nil
	} else if err != nil {
		return nil, nil, fmt.Errorf("claim piece: %w", err)
	}
	job, err := findJob(ctx, db.pool, "", p.JobID, false)
	if err != nil {
		return nil, nil, err
	}
	return &p, job, nil
}

// ExtendPieceLease keeps a claimed piece's lease alive.
func (db *DB) ExtendPieceLease(ctx context.Context, p *pinfold.Piece, node string, leaseUntil time.Time) (bool, error) {
	tag, err := db.pool.Exec(ctx, `UPDATE import_pieces SET lease_until = $1 WHERE job_id = $2 AND no = $3 AND owner = $4 AND state = 'running'`,
		stored.Nanos(leaseUntil), p.JobID, p.No, node)
	if err != nil {
		return false, fmt.Errorf("extend piece lease: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// holdsPiece locks the piece's row and reports whether node still holds it.
func holdsPiece(ctx context.Context, tx pgx.Tx, p *pinfold.Piece, node string) (bool, error) {
	var owner, state string
	err := tx.QueryRow(ctx, `SELECT owner, state FROM import_pieces WHERE job_id = $1 AND no = $2 FOR UPDATE`, p.JobID, p.No).Scan(&owner, &state)
	if isNoRows(err) {
		return false, nil
	}
	return owner == node && state == "running", err
}

// CommitPiece runs fn and completes the piece in one transaction. The transaction locks the
// piece's app first, as every writer of the app's endpoints does, and then the piece.
func (db *DB) CommitPiece(ctx context.Context, p *pinfold.Piece, node string, fn func(tx pinfold.PieceTx) (*pinfold.PieceOutcome, error)) error {
	// An app deleted meanwhile took its pieces with it.
	return db.appTx(ctx, p.AppID, true, goneIsNothing, func(tx pgx.Tx) error {
		if held, err := holdsPiece(ctx, tx, p, node); err != nil || !held {
			return err
		}
		out, err := fn(&pieceTx{endpointTx{tx: tx, db: db, app: p.AppID, piece: true}})
		if err != nil {
			return err
		}
		if err := insertFailures(ctx, tx, p.JobID, out.Failures); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE import_pieces SET state = 'done', owner = '', lease_until = 0 WHERE job_id = $1 AND no = $2`, p.JobID, p.No); err != nil {
			return fmt.Errorf("complete piece: %w", err)
		}
		_, err = tx.Exec(ctx, `UPDATE import_jobs SET completed_pieces = completed_pieces + 1,
			total_processed = total_processed + $1, total_failures = total_failures + $2 WHERE id = $3`,
			out.Processed, len(out.Failures), p.JobID)
		return err
	})
}

// FailPiece marks a piece failed and the job FAILING.
func (db *DB) FailPiece(ctx context.Context, p *pinfold.Piece, node, reason string) error {
	return db.tx(ctx, func(tx pgx.Tx) error {
		if held, err := holdsPiece(ctx, tx, p, node); err != nil || !held {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE import_pieces SET state = 'failed', owner = '', lease_until = 0 WHERE job_id = $1 AND no = $2`, p.JobID, p.No); err != nil {
			return fmt.Errorf("fail piece: %w", err)
		}
		if err := insertFailures(ctx, tx, p.JobID, []pinfold.Failure{{Piece: p.No, Message: reason}}); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE import_jobs SET failed_pieces = failed_pieces + 1,
			status = CASE WHEN status = $1 THEN $2 ELSE status END WHERE id = $3`, pinfold.JobProcessing, pinfold.JobFailing, p.JobID)
		return err
	})
}

// ReleasePiece returns a piece to the queue after a transient error.
func (db *DB) ReleasePiece(ctx context.Context, p *pinfold.Piece, node string, notBefore time.Time) error {
	_, err := db.pool.Exec(ctx, `UPDATE import_pieces SET state = 'pending', owner = '', lease_until = 0, not_before = $1
		WHERE job_id = $2 AND no = $3 AND owner = $4 AND state = 'running'`, stored.Nanos(notBefore), p.JobID, p.No, node)
	if err != nil {
		return fmt.Errorf("release piece: %w", err)
	}
	return nil
}

// FinishImportJob ends a job whose pieces are all done; the import's segment version is
// written as the job leaves COMPLETING.
func (db *DB) FinishImportJob(ctx context.Context, jobID string, now time.Time) (bool, error) {
	return db.finishJob(ctx, pinfold.JobTypeImport, jobID, now, func(tx pgx.Tx) error {
		job, err := findJob(ctx, tx, "", jobID, false)
		if err != nil {
			return err
		}
		if job.Definition.WritesSegment() {
			return writeImportSegment(ctx, tx, job, now)
		}
		return nil
	})
}

// finishJob ends a job of kind whose pieces are all done: FAILING becomes FAILED; PROCESSING
// becomes COMPLETING (its own commit, so that readers see it while complete runs), then
// COMPLETED in the transaction of complete. It reports whether the job ended now.
func (db *DB) finishJob(ctx context.Context, kind, jobID string, now time.Time, complete func(tx pgx.Tx) error) (bool, error) {
	var appID string
	completing, failed := false, false
	err := db.tx(ctx, func(tx pgx.Tx) error {
		var status string
		err := tx.QueryRow(ctx, `SELECT app_id, status FROM import_jobs WHERE id = $1 AND kind = $2 FOR UPDATE`, jobID, kind).Scan(&appID, &status)
		if isNoRows(err) {
			return pinfold.Errorf(pinfold.ENOTFOUND, "job %q not found", jobID)
		} else if err != nil {
			return err
		}
		var remaining int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM import_pieces WHERE job_id = $1 AND state IN ('pending', 'running')`, jobID).Scan(&remaining); err != nil {
			return err
		}
		if remaining > 0 {
			return nil
		}
		switch status {
		case pinfold.JobFailing:
			if _, err := tx.Exec(ctx, `UPDATE import_jobs SET status = $1, completed_at = $2 WHERE id = $3`, pinfold.JobFailed, stored.Nanos(now), jobID); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `DELETE FROM import_job_members WHERE job_id = $1`, jobID)
			failed = true
			return err
		case pinfold.JobProcessing:
			completing = true
			_, err := tx.Exec(ctx, `UPDATE import_jobs SET status = $1 WHERE id = $2`, pinfold.JobCompleting, jobID)
			return err
		case pinfold.JobCompleting:
			completing = true
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("finish job: %w", err)
	} else if !completing {
		return failed, nil
	}
	ended := false
	// The app's lock first (appTx), as every writer of its segments takes it, so that an
	// import segment's next version is not also written by UpdateSegment. An app deleted
	// meanwhile took the job with it.
	err = db.appTx(ctx, appID, false, goneIsNothing, func(tx pgx.Tx) error {
		// Whoever moves the job out of COMPLETING completes it; a racing finisher stops here.
		tag, err := tx.Exec(ctx, `UPDATE import_jobs SET status = $1, completed_at = $2 WHERE id = $3 AND status = $4`,
			pinfold.JobCompleted, stored.Nanos(now), jobID, pinfold.JobCompleting)
		if err != nil || tag.RowsAffected() != 1 {
			return err
		}
		ended = true
		return complete(tx)
	})
	if err != nil {
		return false, fmt.Errorf("complete job: %w", err)
	}
	return ended, nil
}

// writeImportSegment adds the job's members to its segment as a new version (version 1 of a
// segment the job defines) with the version's size and channel counts.
func writeImportSegment(ctx context.Context, tx pgx.Tx, job *pinfold.ImportJob, now time.Time) error {
	def := job.Definition
	var latest int
	var name string
	err := tx.QueryRow(ctx, `SELECT s.latest_version, v.name FROM segments s JOIN segment_versions v
		ON v.app_id = s.app_id AND v.segment_id = s.id AND v.version = s.latest_version WHERE s.app_id = $1 AND s.id = $2 FOR UPDATE OF s`,
		job.AppID, def.SegmentID).Scan(&latest, &name)
	switch {
	case isNoRows(err):
		if _, err := tx.Exec(ctx, `INSERT INTO segments (app_id, id, type, tags, created_at, latest_version) VALUES ($1, $2, $3, '{}', $4, 1)`,
			job.AppID, def.SegmentID, pinfold.SegmentTypeImport, stored.Nanos(now)); err != nil {
			return fmt.Errorf("create segment: %w", err)
		}
	case err != nil:
		return err
	default:
		if _, err := tx.Exec(ctx, `UPDATE segments SET latest_version = $1 WHERE app_id = $2 AND id = $3`, latest+1, job.AppID, def.SegmentID); err != nil {
			return err
		}
	}
	version := latest + 1
	if def.SegmentName != "" {
		name = def.SegmentName
	}
	if _, err := tx.Exec(ctx, `INSERT INTO segment_members (app_id, segment_id, endpoint_id, version, channel_type)
		SELECT $1, $2, endpoint_id, $3, channel_type FROM import_job_members WHERE job_id = $4
		ON CONFLICT (app_id, segment_id, endpoint_id) DO UPDATE SET channel_type = excluded.channel_type`,
		job.AppID, def.SegmentID, version, job.ID); err != nil {
		return fmt.Errorf("add segment members: %w", err)
	}
	imp := pinfold.SegmentImport{Format: def.Format, S3URL: def.S3URL, RoleARN: def.RoleARN, ExternalID: def.ExternalID,
		ChannelCounts: map[string]int{}}
	rows, err := tx.Query(ctx, `SELECT channel_type, count(*) FROM segment_members
		WHERE app_id = $1 AND segment_id = $2 AND version <= $3 GROUP BY channel_type`, job.AppID, def.SegmentID, version)
	if err != nil {
		return err
	}
	for rows.Next() {
		var channel string
		var n int
		if err := rows.Scan(&channel, &n); err != nil {
			rows.Close()
			return err
		}
		imp.ChannelCounts[channel] = n
		imp.Size += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	data, err := json.Marshal(imp)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO segment_versions (app_id, segment_id, version, name, updated_at, import) VALUES ($1, $2, $3, $4, $5, $6)`,
		job.AppID, def.SegmentID, version, name, stored.Nanos(now), string(data)); err != nil {
		return fmt.Errorf("insert segment version: %w", err)
	}
	_, err = tx.Exec(ctx, `DELETE FROM import_job_members WHERE job_id = $1`, job.ID)
	return err
}

// UnfinishedImportJobs returns import jobs with no piece left to run that have not ended.
func (db *DB) UnfinishedImportJobs(ctx context.Context) ([]string, error) {
	return db.unfinishedJobs(ctx, pinfold.JobTypeImport)
}

func (db *DB) unfinishedJobs(ctx context.Context, kind string) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT id FROM import_jobs j WHERE kind = $1 AND status = ANY($2)
		AND NOT EXISTS (SELECT 1 FROM import_pieces p WHERE p.job_id = j.id AND p.state IN ('pending', 'running'))`,
		kind, []string{pinfold.JobProcessing, pinfold.JobFailing, pinfold.JobCompleting})
	if err != nil {
		return nil, fmt.Errorf("find unfinished jobs: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}
