package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/aws/smithy-go"
)

// followRetry is how long following a job survives a server that does not answer: long
// enough for a restart (a job resumes after one), short enough not to hang a script.
const followRetry = 30 * time.Second

// pollInterval is the pause between two looks at a job: short at first, so that small jobs
// end without waiting, then longer.
func pollInterval(elapsed time.Duration) time.Duration {
	switch {
	case elapsed < 2*time.Second:
		return 200 * time.Millisecond
	case elapsed < 30*time.Second:
		return 500 * time.Millisecond
	}
	return time.Second
}

// follow polls an import job until it ends, reporting every observation to p, and returns the
// job as it ended. ctx ending stops the following, not the job.
func follow(ctx context.Context, c *client, appID, jobID string, p *progress) (*types.ImportJobResponse, error) {
	var failingSince time.Time
	for {
		out, err := c.pinpoint.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: &appID, JobId: &jobID})
		switch {
		case err == nil:
			failingSince = time.Time{}
			j := out.ImportJobResponse
			p.job(viewOf(j))
			if jobEnded(j.JobStatus) {
				p.done()
				return j, nil
			}
		case ctx.Err() != nil:
			p.done()
			return nil, stoppedFollowing(appID, jobID)
		case !retryable(err):
			p.done()
			return nil, c.explain(err)
		case failingSince.IsZero():
			failingSince = p.now()
			p.println("%v; retrying for up to %s", c.explain(err), followRetry)
		case p.now().Sub(failingSince) > followRetry:
			return nil, fmt.Errorf("import job %s: the server did not answer for %s: %w", jobID, followRetry, c.explain(err))
		}
		timer := time.NewTimer(pollInterval(p.now().Sub(p.start)))
		select {
		case <-ctx.Done():
			timer.Stop()
			p.done()
			return nil, stoppedFollowing(appID, jobID)
		case <-timer.C:
		}
	}
}

func stoppedFollowing(appID, jobID string) error {
	return fmt.Errorf("stopped following import job %s; it goes on on the server: see it with \"pinfold job --app %s %s\"", jobID, appID, jobID)
}

// retryable reports whether a failed GetImportJob may succeed when asked again: any error but
// an answer that says the request itself is wrong.
func retryable(err error) bool {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		switch apiErr.ErrorCode() {
		case "NotFoundException", "ForbiddenException", "BadRequestException", "MethodNotAllowedException":
			return false
		}
	}
	return true
}
