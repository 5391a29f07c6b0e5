package pinfold

import (
	"context"
	"time"
)

// Job states (DESIGN.md §3.4). A job never goes backwards.
const (
	JobCreated                    = "CREATED"
	JobPendingJob                 = "PENDING_JOB"
	JobPreparingForInitialization = "PREPARING_FOR_INITIALIZATION"
	JobInitializing               = "INITIALIZING"
	JobProcessing                 = "PROCESSING"
	JobCompleting                 = "COMPLETING"
	JobCompleted                  = "COMPLETED"
	JobFailing                    = "FAILING"
	JobFailed                     = "FAILED"
)

// Import file formats.
const (
	FormatCSV  = "CSV"
	FormatJSON = "JSON"
)

// MaxJobFailures is how many failures GetImportJob reports, as Pinpoint does. Every failure is
// kept and can be listed in full (ImportJobStore.FindImportFailures).
const MaxJobFailures = 100

// ImportDefinition is what a caller asked an import job to do.
type ImportDefinition struct {
	Format            string // FormatCSV or FormatJSON
	S3URL             string
	RoleARN           string
	ExternalID        string
	RegisterEndpoints bool
	DefineSegment     bool
	SegmentName       string
	SegmentID         string // the segment the job adds to, or the one it defines
}

// ImportJob is an import job and its progress.
type ImportJob struct {
	ID              string
	AppID           string
	Definition      ImportDefinition
	Status          string
	CreatedAt       time.Time
	CompletedAt     time.Time // zero until the job ends
	TotalPieces     int
	CompletedPieces int
	FailedPieces    int
	TotalProcessed  int64    // rows read
	TotalFailures   int64    // rows rejected
	Failures        []string // the first MaxJobFailures, in file order
}

// JobStateChange is a state a job entered and when. Pinpoint keeps only a job's creation and
// completion times; Pinfold records every state, for the console's timeline.
type JobStateChange struct {
	Status string
	At     time.Time
}

// Terminal reports whether the job has ended.
func (j *ImportJob) Terminal() bool { return j.Status == JobCompleted || j.Status == JobFailed }

// WritesSegment reports whether the job's endpoints go into a segment.
func (d *ImportDefinition) WritesSegment() bool { return d.DefineSegment || d.SegmentID != "" }

// Piece is a share of a job's work. An import piece is a byte range of one object, cut at
// line ends; an export piece is a range of endpoint IDs, written to one object. Both kinds
// live in one table and share leases, failing and releasing (ImportJobStore).
type Piece struct {
	JobID     string
	AppID     string
	No        int // 0-based, in file order
	Bucket    string
	Key       string // the object the piece reads (import) or writes (export)
	ETag      string // the object's ETag at planning; a change fails the piece
	Start     int64  // first byte
	End       int64  // one past the last byte; -1 for the whole object
	FirstLine int64  // 1-based line number of the piece's first line
	Header    string // the CSV header line when the piece does not start at byte 0
	Gzip      bool
	Attempts  int // times the piece was claimed before

	// An export piece's endpoints are the IDs its job's source lists from the page at
	// StartToken ("" for the first page) through ThroughID ("" for no end), read from
	// SegmentVersion of the job's segment (pinned at planning) when it exports a segment.
	StartToken     string
	ThroughID      string
	SegmentVersion int
}

// Location returns the "s3://bucket/key" a failure in the piece is reported against.
func (p *Piece) Location() string { return "s3://" + p.Bucket + "/" + p.Key }

// Failure is one rejected row (Line > 0) or a problem of a whole piece or job (Line == 0).
type Failure struct {
	Piece   int
	Line    int64
	Message string // "s3://bucket/key:LINE: reason" or a job-level reason
}

// Member is an endpoint an import put into a segment.
type Member struct {
	EndpointID  string
	ChannelType string
}

// PieceOutcome is what processing a piece produced, committed with the piece's completion.
type PieceOutcome struct {
	Processed int64     // rows read
	Failures  []Failure // rows rejected, in line order
}

// PieceTx is what a store offers an import piece inside the transaction that also completes
// the piece, so that its writes, its counters and its failures commit together.
// Its endpoint writes follow the same rules as the API's (EndpointTx, EndpointWriter).
type PieceTx interface {
	EndpointTx
	// AddJobMembers records segment members found by the job; duplicates are ignored.
	AddJobMembers(ctx context.Context, jobID string, members []Member) error
}

// ImportJobStore keeps import jobs, their pieces and their failures, and is the only place
// job states change. Every state change is guarded by the state it leaves, so that a job
// never goes backwards even when several workers race.
type ImportJobStore interface {
	// CreateImportJob stores a new job (status CREATED).
	CreateImportJob(ctx context.Context, job *ImportJob) error
	// FindImportJob returns a job with its first failures, or ENOTFOUND.
	FindImportJob(ctx context.Context, appID, jobID string) (*ImportJob, error)
	// FindImportJobs returns one page of an app's jobs, newest first; with segmentID, only the
	// jobs that wrote that segment.
	FindImportJobs(ctx context.Context, appID, segmentID string, page Page) ([]*ImportJob, string, error)
	// FindImportFailures returns one page of all of a job's failures, in file order.
	FindImportFailures(ctx context.Context, appID, jobID string, page Page) ([]Failure, string, error)
	// FindImportJobStates returns every state the job has entered, first to current, with the
	// time it entered it; the times never decrease. A job stored before states were recorded
	// has only its CREATED state and, when it has ended, its end. It returns ENOTFOUND for an
	// unknown app or job.
	FindImportJobStates(ctx context.Context, appID, jobID string) ([]JobStateChange, error)

	// ClaimImportJob starts the oldest waiting job when fewer than maxActive jobs are active,
	// moving it to PREPARING_FOR_INITIALIZATION under a lease held by node until leaseUntil; it
	// moves the CREATED jobs that must wait to PENDING_JOB. A job whose planning lease expired
	// (its node died) is claimed again. It returns nil when there is nothing to start.
	ClaimImportJob(ctx context.Context, node string, maxActive int, now, leaseUntil time.Time) (*ImportJob, error)
	// SetImportJobStatus moves a job from one of from to to; it reports whether it did.
	SetImportJobStatus(ctx context.Context, jobID string, from []string, to string) (bool, error)
	// PlanImportJob replaces the job's pieces with pieces and moves it from INITIALIZING to
	// PROCESSING with TotalPieces set, in one transaction.
	PlanImportJob(ctx context.Context, jobID string, pieces []*Piece) error
	// FailImportJob ends a job that is not yet terminal as FAILED with a job-level failure.
	FailImportJob(ctx context.Context, jobID, reason string, now time.Time) error

	// ClaimPiece claims one waiting piece of a PROCESSING or FAILING job (or one whose lease
	// expired) for node until leaseUntil. It returns nil when there is none.
	ClaimPiece(ctx context.Context, node string, now, leaseUntil time.Time) (*Piece, *ImportJob, error)
	// ExtendPieceLease keeps a claimed piece's lease alive; false when the piece is no longer
	// held by node. It, FailPiece and ReleasePiece serve pieces of export jobs too.
	ExtendPieceLease(ctx context.Context, p *Piece, node string, leaseUntil time.Time) (bool, error)
	// CommitPiece runs fn in one transaction with the piece's completion: fn's writes, the
	// outcome's failures, the job's counters and the piece's state commit together or not at
	// all. It does nothing (and calls nothing) when the piece is no longer held by node. The
	// transaction may hold other pieces too (SQLite commits pieces ready at the same time
	// together), and fn may be called again in a new transaction when the first one is lost,
	// so fn must have no effect outside the transaction but its result.
	CommitPiece(ctx context.Context, p *Piece, node string, fn func(tx PieceTx) (*PieceOutcome, error)) error
	// FailPiece marks a piece failed with a reason, counts it in FailedPieces and moves the job
	// to FAILING.
	FailPiece(ctx context.Context, p *Piece, node, reason string) error
	// ReleasePiece returns a piece held by node to the queue after a transient error; it is
	// not claimed again before notBefore.
	ReleasePiece(ctx context.Context, p *Piece, node string, notBefore time.Time) error

	// FinishImportJob ends a PROCESSING, FAILING or COMPLETING job whose pieces are all done:
	// FAILING becomes FAILED; otherwise the job passes COMPLETING, its segment version is
	// written (Size and ChannelCounts from its members), and it becomes COMPLETED. It reports
	// whether the job ended now; false when pieces remain or it had ended already.
	FinishImportJob(ctx context.Context, jobID string, now time.Time) (bool, error)
	// UnfinishedImportJobs returns the IDs of jobs in PROCESSING, FAILING or COMPLETING with no
	// piece left to run: work a node that died while finishing left behind.
	UnfinishedImportJobs(ctx context.Context) ([]string, error)
}
