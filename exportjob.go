package pinfold

import (
	"context"
	"time"
)

// ExportDefinition is what a caller asked an export job to do: write the app's endpoints, or
// the members of one segment, under an S3 prefix.
type ExportDefinition struct {
	RoleARN        string
	S3URLPrefix    string // s3://bucket[/prefix]; the objects go under PREFIX/JOB_ID/
	SegmentID      string // "" exports every endpoint of the app
	SegmentVersion int    // 0: the segment's latest version when the job is planned
}

// ExportJob is an export job and its progress. Its states and counters mean what an import
// job's do (DESIGN.md §3.4), with endpoints written for rows read.
type ExportJob struct {
	ID              string
	AppID           string
	Definition      ExportDefinition
	Status          string
	CreatedAt       time.Time
	CompletedAt     time.Time // zero until the job ends
	TotalPieces     int
	CompletedPieces int
	FailedPieces    int
	TotalProcessed  int64    // endpoints written
	TotalFailures   int64    // endpoints that could not be written (none so far: a piece fails whole)
	Failures        []string // the first MaxJobFailures: why pieces or the job failed
}

// ExportJobStore keeps export jobs and their pieces. Export jobs share the import jobs'
// tables and state machine: a job has a kind (IMPORT or EXPORT), and the store's claim,
// planning, failing and finishing statements are the import ones with the kind as a
// parameter, so both kinds get the same crash safety, leases and guarded state changes. The
// pieces of both kinds are leased, failed and released with ImportJobStore's
// ExtendPieceLease, FailPiece and ReleasePiece.
//
// The methods are kept apart from ImportJobStore's, rather than made generic over the kind,
// because a job's definition and a piece's content differ by kind: a method that returned
// "a job of some kind" would push a type switch into every caller.
type ExportJobStore interface {
	// CreateExportJob stores a new job (status CREATED).
	CreateExportJob(ctx context.Context, job *ExportJob) error
	// FindExportJob returns a job with its first failures, or ENOTFOUND (also for the ID of an
	// import job).
	FindExportJob(ctx context.Context, appID, jobID string) (*ExportJob, error)
	// FindExportJobs returns one page of an app's export jobs, newest first; with segmentID,
	// only the jobs that export that segment. ENOTFOUND for an unknown app.
	FindExportJobs(ctx context.Context, appID, segmentID string, page Page) ([]*ExportJob, string, error)

	// ClaimExportJob is ClaimImportJob for export jobs, with a cap of its own: maxActive
	// export jobs may be active whatever the import jobs do.
	ClaimExportJob(ctx context.Context, node string, maxActive int, now, leaseUntil time.Time) (*ExportJob, error)
	// SetExportJobStatus moves a job from one of from to to; it reports whether it did.
	SetExportJobStatus(ctx context.Context, jobID string, from []string, to string) (bool, error)
	// PlanExportJob replaces the job's pieces with pieces and moves it from INITIALIZING to
	// PROCESSING with TotalPieces set, in one transaction.
	PlanExportJob(ctx context.Context, jobID string, pieces []*Piece) error
	// FailExportJob ends a job that is not yet terminal as FAILED with a job-level failure.
	FailExportJob(ctx context.Context, jobID, reason string, now time.Time) error

	// ClaimExportPiece claims one waiting piece of a PROCESSING or FAILING export job (or one
	// whose lease expired) for node until leaseUntil. It returns nil when there is none.
	ClaimExportPiece(ctx context.Context, node string, now, leaseUntil time.Time) (*Piece, *ExportJob, error)
	// CompleteExportPiece marks a piece held by node done and adds written to the job's
	// TotalProcessed, in one transaction; it does nothing when node no longer holds the piece.
	// The piece's object is written before: a crash in between runs the piece again, which
	// writes the same object again.
	CompleteExportPiece(ctx context.Context, p *Piece, node string, written int64) error
	// FinishExportJob ends a PROCESSING, FAILING or COMPLETING job whose pieces are all done:
	// FAILING becomes FAILED; otherwise the job passes COMPLETING and becomes COMPLETED. It
	// reports whether the job ended now.
	FinishExportJob(ctx context.Context, jobID string, now time.Time) (bool, error)
	// UnfinishedExportJobs returns the IDs of export jobs in PROCESSING, FAILING or COMPLETING
	// with no piece left to run.
	UnfinishedExportJobs(ctx context.Context) ([]string, error)
}

// Job types, as the API's Type member names them; the stores keep them as a job's kind.
const (
	JobTypeImport = "IMPORT"
	JobTypeExport = "EXPORT"
)
