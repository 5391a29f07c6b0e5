package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/stored"
)

var _ pinfold.ImportJobStore = (*DB)(nil)

// activeStatuses are the states that take a slot under the active-jobs cap.
var activeStatuses = []any{pinfold.JobPreparingForInitialization, pinfold.JobInitializing,
	pinfold.JobProcessing, pinfold.JobCompleting, pinfold.JobFailing}

// CreateImportJob stores a new job.
func (db *DB) CreateImportJob(ctx context.Context, job *pinfold.ImportJob) error {
	def, err := json.Marshal(job.Definition)
	if err != nil {
		return err
	}
	_, err = db.exec(ctx, `INSERT INTO import_jobs (id, app_id, segment_id, definition, status, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		job.ID, job.AppID, job.Definition.SegmentID, string(def), job.Status, stored.Nanos(job.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert import job: %w", err)
	}
	return nil
}

const jobColumns = `seq, id, app_id, definition, status, created_at, completed_at, total_pieces,
	completed_pieces, failed_pieces, total_processed, total_failures`

func scanJob(row interface{ Scan(...any) error }) (*pinfold.ImportJob, int64, error) {
	var j pinfold.ImportJob
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

func findJob(ctx context.Context, q queryer, appID, jobID string) (*pinfold.ImportJob, error) {
	row := q.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM import_jobs WHERE id = ? AND kind = ? AND (? = '' OR app_id = ?)`,
		jobID, pinfold.JobTypeImport, appID, appID)
	j, _, err := scanJob(row)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Import job %q not found in application %q", jobID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find import job: %w", err)
	}
	return j, nil
}

// FindImportJob returns a job with its first failures. A job read since the last write to
// the database ended is taken as it was read (jobSnapshots); otherwise its constant parts
// come from db.jobs once it has been read, so that a poll reads only the columns that change.
func (db *DB) FindImportJob(ctx context.Context, appID, jobID string) (*pinfold.ImportJob, error) {
	// The read runs to its end even if the request is canceled: it takes microseconds, and
	// waits for no writer (WAL), only for one of the other reads' connections. A context that
	// can be canceled costs more than that: database/sql and the driver each start a
	// goroutine per statement to watch it (BenchmarkFindImportJob: 9.6 → 5.9 µs of CPU).
	ctx = context.WithoutCancel(ctx)
	writes := db.writes.Load()
	if j, ok := db.polled.get(jobID, writes); ok && (appID == "" || appID == j.AppID) {
		return j, nil
	}
	j, err := db.readImportJob(ctx, appID, jobID)
	if err == nil {
		db.polled.put(j, writes)
	}
	return j, err
}

// readImportJob is FindImportJob's read of the database.
func (db *DB) readImportJob(ctx context.Context, appID, jobID string) (*pinfold.ImportJob, error) {
	q := cachedQueryer{c: db.reads}
	if k, ok := db.jobs.Get(jobID); ok && (appID == "" || appID == k.AppID) {
		j := &pinfold.ImportJob{ID: jobID, AppID: k.AppID, Definition: k.Definition, CreatedAt: k.CreatedAt}
		var p jobProgress
		err := q.QueryRowContext(ctx, `SELECT `+progressColumns+` FROM import_jobs WHERE id = ?`,
			pinfold.MaxJobFailures, jobID).Scan(p.dest(j)...)
		if err == nil {
			return j, p.fill(j)
		} else if !errors.Is(err, sql.ErrNoRows) {
			return nil, fmt.Errorf("find import job: %w", err)
		}
		db.jobs.Forget(jobID) // gone: the read below says how
	}
	j := &pinfold.ImportJob{ID: jobID}
	var p jobProgress
	var def string
	var created int64
	err := q.QueryRowContext(ctx, `SELECT app_id, definition, created_at, `+progressColumns+`
		FROM import_jobs WHERE id = ? AND kind = ? AND (? = '' OR app_id = ?)`,
		pinfold.MaxJobFailures, jobID, pinfold.JobTypeImport, appID, appID).Scan(append([]any{&j.AppID, &def, &created}, p.dest(j)...)...)
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := findApp(ctx, q, appID); err != nil {
			return nil, err // the app's own NotFound
		}
		return nil, pinfold.Errorf(pinfold.ENOTFOUND, "Import job %q not found in application %q", jobID, appID)
	} else if err != nil {
		return nil, fmt.Errorf("find import job: %w", err)
	}
	if err := json.Unmarshal([]byte(def), &j.Definition); err != nil {
		return nil, fmt.Errorf("job %s definition: %w", jobID, err)
	}
	j.CreatedAt = stored.FromNanos(created)
	if err := p.fill(j); err != nil {
		return nil, err
	}
	db.jobs.Put(j)
	return j, nil
}

// progressColumns are the columns of a job that change, and its first failures (the
// statement's first parameter is how many): one statement reads them, so that the counters
// and the failures agree without a transaction around two statements. The failures are NULL
// when there are none: the EXISTS probe spares most jobs the ordered aggregate's sorter, a
// quarter of the read (BenchmarkFindImportJob, CPU time: 6.9 → 5.2 µs without failures, 8.5
// → 8.8 µs with).
const progressColumns = `status, completed_at, total_pieces, completed_pieces, failed_pieces, total_processed, total_failures,
	CASE WHEN EXISTS (SELECT 1 FROM import_failures WHERE job_id = import_jobs.id) THEN
	(SELECT json_group_array(message ORDER BY piece, line, seq) FROM
		(SELECT piece, line, seq, message FROM import_failures WHERE job_id = import_jobs.id
		ORDER BY piece, line, seq LIMIT ?)) END`

// jobProgress is what a job's progressColumns scan into beside the job itself.
type jobProgress struct {
	completed int64
	failures  sql.NullString
}

func (p *jobProgress) dest(j *pinfold.ImportJob) []any {
	return []any{&j.Status, &p.completed, &j.TotalPieces, &j.CompletedPieces, &j.FailedPieces,
		&j.TotalProcessed, &j.TotalFailures, &p.failures}
}

// fill sets the job's fields that dest could not scan into directly.
func (p *jobProgress) fill(j *pinfold.ImportJob) error {
	j.CompletedAt = stored.FromNanos(p.completed)
	if p.failures.Valid && p.failures.String != "[]" {
		if err := json.Unmarshal([]byte(p.failures.String), &j.Failures); err != nil {
			return fmt.Errorf("job %s failures: %w", j.ID, err)
		}
	}
	return nil
}

// FindImportJobs returns one page of an app's jobs, newest first.
func (db *DB) FindImportJobs(ctx context.Context, appID, segmentID string, page pinfold.Page) ([]*pinfold.ImportJob, string, error) {
	return findJobPage(ctx, db, pinfold.JobTypeImport, appID, segmentID, page, scanJob)
}

// findJobPage returns one page of an app's jobs of kind (of one segment, unless segmentID is
// ""), newest first, each read with scan.
func findJobPage[J any](ctx context.Context, db *DB, kind, appID, segmentID string, page pinfold.Page,
	scan func(interface{ Scan(...any) error }) (J, int64, error)) ([]J, string, error) {
	q := cachedQueryer{c: db.reads}
	if _, err := findApp(ctx, q, appID); err != nil {
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
	rows, err := q.QueryContext(ctx, `SELECT `+jobColumns+` FROM import_jobs
		WHERE app_id = ? AND kind = ? AND (? = '' OR segment_id = ?) AND seq < ? ORDER BY seq DESC LIMIT ?`,
		appID, kind, segmentID, segmentID, before, size+1)
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
	if _, err := findApp(ctx, db.read, appID); err != nil {
		return nil, "", err
	}
	if _, err := findJob(ctx, db.read, appID, jobID); err != nil {
		return nil, "", err
	}
	piece, line, seq, err := stored.DecodeFailureToken(page.Token)
	if err != nil {
		return nil, "", err
	}
	return findFailures(ctx, db.read, jobID, piece, line, seq, stored.PageSize(page))
}

// FindImportJobStates returns the states the job has entered, in order. The rows are written
// by triggers (migration 0006), not by the methods that change a status.
func (db *DB) FindImportJobStates(ctx context.Context, appID, jobID string) ([]pinfold.JobStateChange, error) {
	if _, err := findApp(ctx, db.read, appID); err != nil {
		return nil, err
	}
	if _, err := findJob(ctx, db.read, appID, jobID); err != nil {
		return nil, err
	}
	rows, err := db.read.QueryContext(ctx, `SELECT status, at FROM job_states WHERE job_id = ? ORDER BY seq`, jobID)
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

func findFailures(ctx context.Context, q queryer, jobID string, piece, line, seq int64, size int) ([]pinfold.Failure, string, error) {
	rows, err := q.QueryContext(ctx, `SELECT piece, line, seq, message FROM import_failures
		WHERE job_id = ? AND (piece, line, seq) > (?, ?, ?) ORDER BY piece, line, seq LIMIT ?`,
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
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		id, err := claimJob(ctx, tx, pinfold.JobTypeImport, node, maxActive, now, leaseUntil)
		if err != nil || id == "" {
			return err
		}
		job, err = findJob(ctx, tx, "", id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("claim import job: %w", err)
	}
	return job, nil
}

// claimJob starts the oldest waiting job of a kind if fewer than maxActive jobs of that kind
// are active, and returns its ID ("" when there is none to start). Jobs of the kind that must
// wait move to PENDING_JOB.
func claimJob(ctx context.Context, tx *sql.Tx, kind, node string, maxActive int, now, leaseUntil time.Time) (string, error) {
	// Planning that a dead node left behind comes first: it already holds a slot.
	var id string
	err := tx.QueryRowContext(ctx, `SELECT id FROM import_jobs WHERE kind = ? AND status IN (?, ?) AND lease_until < ? ORDER BY seq LIMIT 1`,
		kind, pinfold.JobPreparingForInitialization, pinfold.JobInitializing, stored.Nanos(now)).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		var active int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM import_jobs WHERE kind = ? AND status IN (?, ?, ?, ?, ?)`,
			append([]any{kind}, activeStatuses...)...).Scan(&active); err != nil {
			return "", err
		}
		if active >= maxActive {
			_, err := tx.ExecContext(ctx, `UPDATE import_jobs SET status = ? WHERE kind = ? AND status = ?`, pinfold.JobPendingJob, kind, pinfold.JobCreated)
			return "", err
		}
		err = tx.QueryRowContext(ctx, `SELECT id FROM import_jobs WHERE kind = ? AND status IN (?, ?) ORDER BY seq LIMIT 1`,
			kind, pinfold.JobCreated, pinfold.JobPendingJob).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return "", nil
		} else if err != nil {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE import_jobs SET status = ? WHERE id = ?`, pinfold.JobPreparingForInitialization, id); err != nil {
			return "", err
		}
	} else if err != nil {
		return "", err
	}
	_, err = tx.ExecContext(ctx, `UPDATE import_jobs SET owner = ?, lease_until = ? WHERE id = ?`, node, stored.Nanos(leaseUntil), id)
	return id, err
}

// SetImportJobStatus moves a job from one of from to to.
func (db *DB) SetImportJobStatus(ctx context.Context, jobID string, from []string, to string) (bool, error) {
	return db.setJobStatus(ctx, pinfold.JobTypeImport, jobID, from, to)
}

func (db *DB) setJobStatus(ctx context.Context, kind, jobID string, from []string, to string) (bool, error) {
	args := []any{to, jobID, kind}
	for _, s := range from {
		args = append(args, s)
	}
	res, err := db.exec(ctx, `UPDATE import_jobs SET status = ? WHERE id = ? AND kind = ? AND status IN (`+placeholders(len(from))+`)`, args...)
	if err != nil {
		return false, fmt.Errorf("set job status: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// PlanImportJob writes the job's pieces and moves it to PROCESSING.
func (db *DB) PlanImportJob(ctx context.Context, jobID string, pieces []*pinfold.Piece) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if err := startProcessing(ctx, tx, pinfold.JobTypeImport, jobID, len(pieces)); err != nil {
			return err
		}
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO import_pieces (job_id, no, app_id, bucket, key, etag, start_byte, end_byte, first_line, header, gzip, state)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, p := range pieces {
			if _, err := stmt.ExecContext(ctx, jobID, p.No, p.AppID, p.Bucket, p.Key, p.ETag, p.Start, p.End, p.FirstLine, p.Header, p.Gzip); err != nil {
				return fmt.Errorf("insert piece: %w", err)
			}
		}
		return nil
	})
}

// startProcessing moves a planned job of kind from INITIALIZING to PROCESSING with n pieces
// and deletes the pieces an earlier, interrupted planning wrote; the caller writes the new
// ones in the same transaction.
func startProcessing(ctx context.Context, tx *sql.Tx, kind, jobID string, n int) error {
	res, err := tx.ExecContext(ctx, `UPDATE import_jobs SET status = ?, total_pieces = ?, owner = '', lease_until = 0 WHERE id = ? AND kind = ? AND status = ?`,
		pinfold.JobProcessing, n, jobID, kind, pinfold.JobInitializing)
	if err != nil {
		return fmt.Errorf("plan job: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return fmt.Errorf("plan job %s: job is not INITIALIZING", jobID)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM import_pieces WHERE job_id = ?`, jobID)
	return err
}

// FailImportJob ends a job as FAILED with a job-level failure.
func (db *DB) FailImportJob(ctx context.Context, jobID, reason string, now time.Time) error {
	return db.failJob(ctx, pinfold.JobTypeImport, jobID, reason, now)
}

func (db *DB) failJob(ctx context.Context, kind, jobID, reason string, now time.Time) error {
	// On a full disk, recordTx uses the reserve file's room so that the failure is recorded.
	return db.recordTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE import_jobs SET status = ?, completed_at = ?, owner = '', lease_until = 0
			WHERE id = ? AND kind = ? AND status NOT IN (?, ?)`,
			pinfold.JobFailed, stored.Nanos(now), jobID, kind, pinfold.JobCompleted, pinfold.JobFailed)
		if err != nil {
			return fmt.Errorf("fail job: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		if err := insertFailures(ctx, tx, jobID, []pinfold.Failure{{Piece: -1, Message: reason}}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM import_job_members WHERE job_id = ?`, jobID)
		return err
	})
}

func insertFailures(ctx context.Context, tx *sql.Tx, jobID string, failures []pinfold.Failure) error {
	if len(failures) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO import_failures (job_id, piece, line, seq, message)
		VALUES (?, ?, ?, (SELECT count(*) FROM import_failures WHERE job_id = ? AND piece = ? AND line = ?), ?)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	return eachRow(ctx, len(failures), func(rowCtx context.Context, i int) error {
		f := failures[i]
		if _, err := stmt.ExecContext(rowCtx, jobID, f.Piece, f.Line, jobID, f.Piece, f.Line, f.Message); err != nil {
			return fmt.Errorf("insert failure: %w", err)
		}
		return nil
	})
}

const pieceColumns = `job_id, no, app_id, bucket, key, etag, start_byte, end_byte, first_line, header, gzip, attempts`

// ClaimPiece claims one waiting piece.
func (db *DB) ClaimPiece(ctx context.Context, node string, now, leaseUntil time.Time) (*pinfold.Piece, *pinfold.ImportJob, error) {
	var p pinfold.Piece
	var job *pinfold.ImportJob
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `UPDATE import_pieces SET state = 'running', owner = ?, lease_until = ?, attempts = attempts + 1
			WHERE (job_id, no) = (`+nextPiece+`) RETURNING `+pieceColumns,
			append([]any{node, stored.Nanos(leaseUntil)}, nextPieceArgs(pinfold.JobTypeImport, now)...)...).
			Scan(&p.JobID, &p.No, &p.AppID, &p.Bucket, &p.Key, &p.ETag, &p.Start, &p.End, &p.FirstLine, &p.Header, &p.Gzip, &p.Attempts)
		if err != nil {
			return err
		}
		job, err = findJob(ctx, tx, "", p.JobID)
		return err
	})
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, nil
	} else if err != nil {
		db.failClaimable(ctx, pinfold.JobTypeImport, now, err)
		return nil, nil, fmt.Errorf("claim piece: %w", err)
	}
	return &p, job, nil
}

// nextPiece selects the job ID and number of the piece of a kind (nextPieceArgs) that the next
// claim takes: a waiting piece whose time has come, or one whose lease ran out, of the oldest
// job that is working.
const nextPiece = `SELECT p.job_id, p.no FROM import_pieces p JOIN import_jobs j ON j.id = p.job_id
	WHERE j.kind = ? AND j.status IN (?, ?) AND ((p.state = 'pending' AND p.not_before <= ?) OR (p.state = 'running' AND p.lease_until < ?))
	ORDER BY j.seq, p.no LIMIT 1`

func nextPieceArgs(kind string, now time.Time) []any {
	return []any{kind, pinfold.JobProcessing, pinfold.JobFailing, stored.Nanos(now), stored.Nanos(now)}
}

// failClaimable ends as FAILED the job whose piece a claim of kind could not take because
// the disk is full (err). Piece commits fail their job on a full disk; but when the disk
// fills up between pieces, claims are the only writes left, and every worker would retry
// them for as long as the disk stays full while the job waited in PROCESSING. The failure
// is recorded with the reserve's room, as piece failures are.
func (db *DB) failClaimable(ctx context.Context, kind string, now time.Time, err error) {
	if !errors.Is(err, pinfold.ErrDiskFull) {
		return
	}
	var jobID string
	var no int
	if db.read.QueryRowContext(ctx, nextPiece, nextPieceArgs(kind, now)...).Scan(&jobID, &no) != nil {
		return
	}
	reason := "the job's remaining pieces could not be claimed: " + pinfold.ErrorMessage(err)
	db.failJob(ctx, kind, jobID, reason, now) // when even this fails, the next claim tries again
}

// ExtendPieceLease keeps a claimed piece's lease alive.
func (db *DB) ExtendPieceLease(ctx context.Context, p *pinfold.Piece, node string, leaseUntil time.Time) (bool, error) {
	res, err := db.exec(ctx, `UPDATE import_pieces SET lease_until = ? WHERE job_id = ? AND no = ? AND owner = ? AND state = 'running'`,
		stored.Nanos(leaseUntil), p.JobID, p.No, node)
	if err != nil {
		return false, fmt.Errorf("extend piece lease: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// holdsPiece reports whether node still holds p.
func holdsPiece(ctx context.Context, tx *sql.Tx, p *pinfold.Piece, node string) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM import_pieces WHERE job_id = ? AND no = ? AND owner = ? AND state = 'running'`,
		p.JobID, p.No, node).Scan(&n)
	return n == 1, err
}

// FailPiece marks a piece failed and the job FAILING.
func (db *DB) FailPiece(ctx context.Context, p *pinfold.Piece, node, reason string) error {
	return db.writeTx(ctx, func(tx *sql.Tx) error {
		if held, err := holdsPiece(ctx, tx, p, node); err != nil || !held {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE import_pieces SET state = 'failed', owner = '', lease_until = 0 WHERE job_id = ? AND no = ?`, p.JobID, p.No); err != nil {
			return fmt.Errorf("fail piece: %w", err)
		}
		if err := insertFailures(ctx, tx, p.JobID, []pinfold.Failure{{Piece: p.No, Message: reason}}); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE import_jobs SET failed_pieces = failed_pieces + 1,
			status = CASE WHEN status = ? THEN ? ELSE status END WHERE id = ?`, pinfold.JobProcessing, pinfold.JobFailing, p.JobID)
		return err
	})
}

// ReleasePiece returns a piece to the queue after a transient error.
func (db *DB) ReleasePiece(ctx context.Context, p *pinfold.Piece, node string, notBefore time.Time) error {
	_, err := db.exec(ctx, `UPDATE import_pieces SET state = 'pending', owner = '', lease_until = 0, not_before = ?
		WHERE job_id = ? AND no = ? AND owner = ? AND state = 'running'`, stored.Nanos(notBefore), p.JobID, p.No, node)
	if err != nil {
		return fmt.Errorf("release piece: %w", err)
	}
	return nil
}

// FinishImportJob ends a job whose pieces are all done; the import's segment version is
// written as the job leaves COMPLETING.
func (db *DB) FinishImportJob(ctx context.Context, jobID string, now time.Time) (bool, error) {
	return db.finishJob(ctx, pinfold.JobTypeImport, jobID, now, func(tx *sql.Tx) error {
		job, err := findJob(ctx, tx, "", jobID)
		if err != nil {
			return err
		}
		if job.Definition.WritesSegment() {
			return writeImportSegment(ctx, tx, job, now, db.writeKiB)
		}
		return nil
	})
}

// finishJob ends a job of kind whose pieces are all done: FAILING becomes FAILED; PROCESSING
// becomes COMPLETING (its own commit, so that readers see it while complete runs), then
// COMPLETED in the transaction of complete. It reports whether the job ended now.
func (db *DB) finishJob(ctx context.Context, kind, jobID string, now time.Time, complete func(tx *sql.Tx) error) (bool, error) {
	completing, failed := false, false
	err := db.writeTx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM import_jobs WHERE id = ? AND kind = ?`, jobID, kind).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return pinfold.Errorf(pinfold.ENOTFOUND, "job %q not found", jobID)
		} else if err != nil {
			return err
		}
		var remaining int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM import_pieces WHERE job_id = ? AND state IN ('pending', 'running')`, jobID).Scan(&remaining); err != nil {
			return err
		}
		if remaining > 0 {
			return nil
		}
		switch status {
		case pinfold.JobFailing:
			if _, err := tx.ExecContext(ctx, `UPDATE import_jobs SET status = ?, completed_at = ? WHERE id = ?`, pinfold.JobFailed, stored.Nanos(now), jobID); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `DELETE FROM import_job_members WHERE job_id = ?`, jobID)
			failed = true
			return err
		case pinfold.JobProcessing:
			completing = true
			_, err := tx.ExecContext(ctx, `UPDATE import_jobs SET status = ? WHERE id = ?`, pinfold.JobCompleting, jobID)
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
	err = db.writeTx(ctx, func(tx *sql.Tx) error {
		// Whoever moves the job out of COMPLETING completes it; a racing finisher stops here.
		res, err := tx.ExecContext(ctx, `UPDATE import_jobs SET status = ?, completed_at = ? WHERE id = ? AND status = ?`,
			pinfold.JobCompleted, stored.Nanos(now), jobID, pinfold.JobCompleting)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return nil
		}
		ended = true
		return complete(tx)
	})
	if err != nil {
		return false, fmt.Errorf("complete job: %w", err)
	}
	return ended, nil
}

// sortCacheKiB is the write connection's cache_size while a job's segment members are sorted
// (withSortCache).
const sortCacheKiB = 8 << 10

// withSortCache runs fn, whose statements sort a job's segment members, with the write
// connection's cache_size at sortCacheKiB, then puts it back at cacheKiB. SQLite's sorter
// keeps up to cache_size of rows in memory before it writes sorted runs to a temporary file:
// at the default 48 MiB, the end of a 1M-member import took 50–60 MB more RSS, past the memory
// target (docs/performance.md). The cache gives up its clean pages meanwhile. cache_size
// belongs to the connection, not to the transaction: it is put back whatever fn returns.
func withSortCache(ctx context.Context, tx *sql.Tx, cacheKiB int64, fn func() error) error {
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, -sortCacheKiB)); err != nil {
		return err
	}
	err := fn()
	if _, restoreErr := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA cache_size = %d`, -cacheKiB)); err == nil {
		err = restoreErr
	}
	return err
}

// writeImportSegment adds the job's members to its segment as a new version (version 1 of a
// segment the job defines) with the version's size and channel counts. cacheKiB is the
// write connection's cache_size.
func writeImportSegment(ctx context.Context, tx *sql.Tx, job *pinfold.ImportJob, now time.Time, cacheKiB int64) error {
	def := job.Definition
	var latest int
	var name string
	err := tx.QueryRowContext(ctx, `SELECT s.latest_version, v.name FROM segments s JOIN segment_versions v
		ON v.app_id = s.app_id AND v.segment_id = s.id AND v.version = s.latest_version WHERE s.app_id = ? AND s.id = ?`,
		job.AppID, def.SegmentID).Scan(&latest, &name)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if _, err := tx.ExecContext(ctx, `INSERT INTO segments (app_id, id, type, tags, created_at, latest_version) VALUES (?, ?, ?, '{}', ?, 1)`,
			job.AppID, def.SegmentID, pinfold.SegmentTypeImport, stored.Nanos(now)); err != nil {
			return fmt.Errorf("create segment: %w", err)
		}
	case err != nil:
		return err
	default:
		if _, err := tx.ExecContext(ctx, `UPDATE segments SET latest_version = ? WHERE app_id = ? AND id = ?`, latest+1, job.AppID, def.SegmentID); err != nil {
			return err
		}
	}
	version := latest + 1
	if def.SegmentName != "" {
		name = def.SegmentName
	}
	// The members were appended as pieces committed (migration 0008) and go into the segment
	// in endpoint ID order, and in the order they were added for one endpoint, so that the
	// last channel stays. Both that and counting the channels sort every member.
	imp := pinfold.SegmentImport{Format: def.Format, S3URL: def.S3URL, RoleARN: def.RoleARN, ExternalID: def.ExternalID,
		ChannelCounts: map[string]int{}}
	err = withSortCache(ctx, tx, cacheKiB, func() error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO segment_members (app_id, segment_id, endpoint_id, version, channel_type)
			SELECT ?, ?, endpoint_id, ?, channel_type FROM import_job_members WHERE job_id = ? ORDER BY endpoint_id, rowid
			ON CONFLICT (app_id, segment_id, endpoint_id) DO UPDATE SET channel_type = excluded.channel_type`,
			job.AppID, def.SegmentID, version, job.ID); err != nil {
			return fmt.Errorf("add segment members: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `SELECT channel_type, count(*) FROM segment_members
			WHERE app_id = ? AND segment_id = ? AND version <= ? GROUP BY channel_type`, job.AppID, def.SegmentID, version)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var channel string
			var n int
			if err := rows.Scan(&channel, &n); err != nil {
				return err
			}
			imp.ChannelCounts[channel] = n
			imp.Size += n
		}
		return rows.Err()
	})
	if err != nil {
		return err
	}
	data, err := json.Marshal(imp)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO segment_versions (app_id, segment_id, version, name, updated_at, import) VALUES (?, ?, ?, ?, ?, ?)`,
		job.AppID, def.SegmentID, version, name, stored.Nanos(now), string(data)); err != nil {
		return fmt.Errorf("insert segment version: %w", err)
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM import_job_members WHERE job_id = ?`, job.ID)
	return err
}

// UnfinishedImportJobs returns import jobs with no piece left to run that have not ended.
func (db *DB) UnfinishedImportJobs(ctx context.Context) ([]string, error) {
	return db.unfinishedJobs(ctx, pinfold.JobTypeImport)
}

func (db *DB) unfinishedJobs(ctx context.Context, kind string) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id FROM import_jobs j WHERE kind = ? AND status IN (?, ?, ?)
		AND NOT EXISTS (SELECT 1 FROM import_pieces p WHERE p.job_id = j.id AND p.state IN ('pending', 'running'))`,
		kind, pinfold.JobProcessing, pinfold.JobFailing, pinfold.JobCompleting)
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
