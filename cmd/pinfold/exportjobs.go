package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
)

// exportJobRows lists an app's newest export jobs for "pinfold jobs".
func exportJobRows(ctx context.Context, c *client, appID string, limit int) ([]jobRow, error) {
	var rows []jobRow
	var token *string
	now := time.Now()
	for len(rows) < limit {
		out, err := c.pinpoint.GetExportJobs(ctx, &pinpoint.GetExportJobsInput{ApplicationId: &appID,
			PageSize: aws.String(strconv.Itoa(min(limit-len(rows), 1000))), Token: token})
		var notFound *types.NotFoundException
		if errors.As(err, &notFound) {
			return nil, fmt.Errorf("--app: no app %s at %s", appID, c.endpoint)
		} else if err != nil {
			return nil, c.explain(err)
		}
		for _, j := range out.ExportJobsResponse.Item {
			rows = append(rows, exportJobRow(&j, now))
		}
		if token = out.ExportJobsResponse.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	return rows, nil
}

func exportJobRow(j *types.ExportJobResponse, now time.Time) jobRow {
	r := jobRow{AppID: aws.ToString(j.ApplicationId), Kind: "EXPORT", ID: aws.ToString(j.Id), State: string(j.JobStatus),
		Pieces: int(aws.ToInt32(j.CompletedPieces)), TotalPieces: int(aws.ToInt32(j.TotalPieces)),
		Processed: int64(aws.ToInt32(j.TotalProcessed)), Failures: int64(aws.ToInt32(j.TotalFailures))}
	created, err := time.Parse(time.RFC3339Nano, aws.ToString(j.CreationDate))
	if err != nil {
		return r
	}
	r.Created, r.HasCreated, r.HasDuration = created, true, true
	r.Duration = now.Sub(created)
	if done, err := time.Parse(time.RFC3339Nano, aws.ToString(j.CompletionDate)); err == nil {
		r.Duration = done.Sub(created)
	}
	return r
}

// findExportJob returns an export job; with appID empty it looks for the job in every app.
func (c *client) findExportJob(ctx context.Context, appID, jobID string) (*types.ExportJobResponse, error) {
	appIDs := []string{appID}
	if appID == "" {
		apps, err := c.apps(ctx)
		if err != nil {
			return nil, err
		}
		appIDs = appIDs[:0]
		for _, a := range apps {
			appIDs = append(appIDs, aws.ToString(a.Id))
		}
	}
	for _, app := range appIDs {
		out, err := c.pinpoint.GetExportJob(ctx, &pinpoint.GetExportJobInput{ApplicationId: &app, JobId: &jobID})
		var notFound *types.NotFoundException
		switch {
		case err == nil:
			return out.ExportJobResponse, nil
		case !errors.As(err, &notFound) || appID != "":
			return nil, c.explain(err)
		}
	}
	return nil, fmt.Errorf("no export job %s in any of the %d apps at %s", jobID, len(appIDs), c.endpoint)
}

// writeExportJob writes what "pinfold job" shows of an export job: its state, counters,
// definition and failures, or with asJSON the ExportJobResponse as the API returns it.
func writeExportJob(ctx context.Context, w io.Writer, c *client, j *types.ExportJobResponse, asJSON bool) error {
	appID, jobID := aws.ToString(j.ApplicationId), aws.ToString(j.Id)
	if asJSON {
		raw, err := c.getJSON(ctx, "/v1/apps/"+url.PathEscape(appID)+"/jobs/export/"+url.PathEscape(jobID))
		if err != nil {
			return err
		}
		var out bytes.Buffer
		if err := json.Indent(&out, raw, "", "  "); err != nil {
			return err
		}
		fmt.Fprintln(w, out.String())
		return nil
	}
	r := exportJobRow(j, time.Now())
	took := ""
	if r.HasDuration && jobEnded(j.JobStatus) {
		took = " in " + formatDuration(r.Duration)
	} else if r.HasDuration {
		took = ", running for " + formatDuration(r.Duration)
	}
	d := j.Definition
	if d == nil {
		d = &types.ExportJobResource{}
	}
	fmt.Fprintf(w, "Export job %s %s%s\n", jobID, r.State, took)
	fmt.Fprintf(w, "  app        %s\n", appID)
	fmt.Fprintf(w, "  objects    %s%s/part-NNNNN.json.gz\n", withSlash(aws.ToString(d.S3UrlPrefix)), jobID)
	switch seg := aws.ToString(d.SegmentId); {
	case seg == "":
		fmt.Fprintln(w, "  endpoints  every endpoint of the app")
	case d.SegmentVersion != nil:
		fmt.Fprintf(w, "  endpoints  segment %s, version %d\n", seg, *d.SegmentVersion)
	default:
		fmt.Fprintf(w, "  endpoints  segment %s, its latest version\n", seg)
	}
	fmt.Fprintf(w, "  pieces     %d of %d done, %d failed\n", r.Pieces, r.TotalPieces, aws.ToInt32(j.FailedPieces))
	fmt.Fprintf(w, "  written    %s endpoints\n", formatCount(r.Processed))
	fmt.Fprintln(w, "Definition:")
	fmt.Fprintf(w, "  %-18s %s\n", "RoleArn", aws.ToString(d.RoleArn))
	fmt.Fprintf(w, "  %-18s %s\n", "CreationDate", aws.ToString(j.CreationDate))
	if j.CompletionDate != nil {
		fmt.Fprintf(w, "  %-18s %s\n", "CompletionDate", *j.CompletionDate)
	}
	if len(j.Failures) == 0 {
		fmt.Fprintln(w, "No failures.")
		return nil
	}
	fmt.Fprintln(w, "Failures:")
	for _, f := range j.Failures {
		fmt.Fprintln(w, "  "+f)
	}
	return nil
}

// withSlash returns an S3 URL prefix as the folder it names.
func withSlash(prefix string) string {
	if prefix != "" && prefix[len(prefix)-1] != '/' {
		return prefix + "/"
	}
	return prefix
}
