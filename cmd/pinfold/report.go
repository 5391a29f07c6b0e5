package main

import (
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
)

// summaryFailures is how many failures the summary of an import lists; "pinfold job" lists
// them all.
const summaryFailures = 10

// writeSummary writes how an import job ended, or where it stands: state and duration,
// counters, where the endpoints went, and its first failures (each "s3://bucket/key:LINE:
// reason"), at most maxFailures of them.
func writeSummary(w io.Writer, j *types.ImportJobResponse, maxFailures int) {
	writeFacts(w, j, time.Now())
	shown := j.Failures[:min(len(j.Failures), maxFailures)]
	if len(shown) == 0 {
		return
	}
	if total := int64(aws.ToInt32(j.TotalFailures)); total > int64(len(shown)) {
		fmt.Fprintf(w, "First %d of %s failures (all of them: pinfold job --app %s %s):\n", len(shown), formatCount(total),
			aws.ToString(j.ApplicationId), aws.ToString(j.Id))
	} else {
		fmt.Fprintln(w, "Failures:")
	}
	for _, f := range shown {
		fmt.Fprintln(w, "  "+f)
	}
}

// writeFacts writes a job's state, duration and counters.
func writeFacts(w io.Writer, j *types.ImportJobResponse, now time.Time) {
	v, d := viewOf(j), j.Definition
	if d == nil {
		d = &types.ImportJobResource{}
	}
	took := ""
	if dur, ok := jobDuration(j, now); ok && jobEnded(j.JobStatus) {
		took = " in " + formatDuration(dur)
	} else if ok {
		took = ", running for " + formatDuration(dur)
	}
	fmt.Fprintf(w, "Import job %s %s%s\n", aws.ToString(j.Id), v.State, took)
	fmt.Fprintf(w, "  app        %s\n", aws.ToString(j.ApplicationId))
	fmt.Fprintf(w, "  source     %s (%s)\n", aws.ToString(d.S3Url), d.Format)
	fmt.Fprintf(w, "  pieces     %d of %d done, %d failed\n", v.Pieces, v.TotalPieces, v.FailedPieces)
	fmt.Fprintf(w, "  rows       %s processed, %s rejected\n", formatCount(v.Processed), formatCount(v.Failures))
	segment := aws.ToString(d.SegmentId)
	switch {
	case aws.ToBool(d.RegisterEndpoints) && j.JobStatus == types.JobStatusCompleted:
		fmt.Fprintln(w, "  endpoints  stored in the app")
	case aws.ToBool(d.RegisterEndpoints) && j.JobStatus == types.JobStatusFailed && v.Pieces == 0:
		fmt.Fprintln(w, "  endpoints  none stored: the job failed before any piece completed")
	case aws.ToBool(d.RegisterEndpoints) && j.JobStatus == types.JobStatusFailed:
		fmt.Fprintf(w, "  endpoints  stored from the %d piece(s) that completed\n", v.Pieces)
	case aws.ToBool(d.RegisterEndpoints):
		fmt.Fprintln(w, "  endpoints  stored in the app as pieces complete")
	case segment != "":
		fmt.Fprintln(w, "  endpoints  not stored (RegisterEndpoints=false); the segment lists them")
	default:
		fmt.Fprintln(w, "  endpoints  none stored: a dry run, every row was only checked")
	}
	if segment != "" {
		name := ""
		if d.SegmentName != nil {
			name = fmt.Sprintf(" %q", *d.SegmentName)
		}
		if j.JobStatus == types.JobStatusFailed {
			name += " (not written: the job failed)"
		}
		fmt.Fprintf(w, "  segment    %s%s\n", segment, name)
	}
}

// jobDuration is how long a job ran: to its CompletionDate when it ended, to now otherwise.
func jobDuration(j *types.ImportJobResponse, now time.Time) (time.Duration, bool) {
	created, err := time.Parse(time.RFC3339Nano, aws.ToString(j.CreationDate))
	if err != nil {
		return 0, false
	}
	if done, err := time.Parse(time.RFC3339Nano, aws.ToString(j.CompletionDate)); err == nil {
		return done.Sub(created), true
	}
	return now.Sub(created), true
}

// failureReason says in one line why a job failed.
func failureReason(j *types.ImportJobResponse) string {
	switch {
	case len(j.Failures) == 1:
		return j.Failures[0]
	case len(j.Failures) > 1:
		return fmt.Sprintf("%s (and %d more failures)", j.Failures[0], len(j.Failures)-1)
	case aws.ToInt32(j.FailedPieces) > 0:
		return fmt.Sprintf("%d pieces could not be processed", aws.ToInt32(j.FailedPieces))
	}
	return "the server gave no reason"
}
