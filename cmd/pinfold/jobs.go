package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
)

const jobsUsage = `Usage: pinfold jobs [flags]

Lists the most recent jobs of a running Pinfold server, newest first: of one app with --app,
else of every app.

Flags:
`

// jobRow is one line of "pinfold jobs": a job of any kind.
type jobRow struct {
	AppID, Kind, ID, State  string
	Pieces, TotalPieces     int
	Processed, Failures     int64
	Created                 time.Time
	Duration                time.Duration
	HasCreated, HasDuration bool
}

// jobLister returns the newest jobs of one kind in an app, at most limit of them, newest first.
type jobLister func(ctx context.Context, c *client, appID string, limit int) ([]jobRow, error)

// jobListers are the kinds of job "pinfold jobs" lists.
func jobListers() []jobLister {
	return []jobLister{importJobRows, exportJobRows}
}

// runJobs lists recent jobs in a table.
func runJobs(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cf clientFlags
	var appID string
	var limit int
	fs := flag.NewFlagSet("jobs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&appID, "app", "", "list the jobs of this app only (default: every app)")
	fs.IntVar(&limit, "limit", 20, "list at most this many jobs")
	cf.bind(fs, false)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), jobsUsage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+credentialsHelp)
	}
	rest, err := parseArgs(fs, args)
	switch {
	case err != nil:
		return err
	case len(rest) > 0:
		return fmt.Errorf("pinfold jobs takes no arguments, got %q (one job: pinfold job JOB_ID)", rest[0])
	case limit < 1:
		return fmt.Errorf("--limit: must be at least 1, got %d", limit)
	}
	c, err := cf.connect(ctx, getenv)
	if err != nil {
		return err
	}
	appIDs := []string{appID}
	if appID == "" {
		apps, err := c.apps(ctx)
		if err != nil {
			return err
		}
		appIDs = appIDs[:0]
		for _, a := range apps {
			appIDs = append(appIDs, aws.ToString(a.Id))
		}
	}
	var rows []jobRow
	for _, app := range appIDs {
		for _, list := range jobListers() {
			more, err := list(ctx, c, app, limit)
			if err != nil {
				return err
			}
			rows = append(rows, more...)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].Created.After(rows[j].Created) })
	rows = rows[:min(len(rows), limit)]
	if len(rows) == 0 {
		fmt.Fprintf(stderr, "no jobs at %s\n", c.endpoint)
		return nil
	}
	writeJobTable(stdout, rows)
	return nil
}

// writeJobTable writes rows as aligned columns under a header.
func writeJobTable(w io.Writer, rows []jobRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tJOB\tTYPE\tSTATE\tPIECES\tPROCESSED\tFAILURES\tCREATED\tDURATION")
	for _, r := range rows {
		created, took := "-", "-"
		if r.HasCreated {
			created = r.Created.Local().Format("2006-01-02 15:04:05")
		}
		if r.HasDuration {
			took = formatDuration(r.Duration)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d\t%s\t%s\t%s\t%s\n", r.AppID, r.ID, r.Kind, r.State, r.Pieces, r.TotalPieces,
			formatCount(r.Processed), formatCount(r.Failures), created, took)
	}
	tw.Flush()
}

// importJobRows lists an app's newest import jobs (the server returns them newest first).
func importJobRows(ctx context.Context, c *client, appID string, limit int) ([]jobRow, error) {
	var rows []jobRow
	var token *string
	now := time.Now()
	for len(rows) < limit {
		out, err := c.pinpoint.GetImportJobs(ctx, &pinpoint.GetImportJobsInput{ApplicationId: &appID,
			PageSize: aws.String(strconv.Itoa(min(limit-len(rows), 1000))), Token: token})
		var notFound *types.NotFoundException
		if errors.As(err, &notFound) {
			return nil, fmt.Errorf("--app: no app %s at %s", appID, c.endpoint)
		} else if err != nil {
			return nil, c.explain(err)
		}
		for _, j := range out.ImportJobsResponse.Item {
			rows = append(rows, importJobRow(&j, now))
		}
		if token = out.ImportJobsResponse.NextToken; aws.ToString(token) == "" {
			break
		}
	}
	return rows, nil
}

func importJobRow(j *types.ImportJobResponse, now time.Time) jobRow {
	v := viewOf(j)
	r := jobRow{AppID: aws.ToString(j.ApplicationId), Kind: "IMPORT", ID: aws.ToString(j.Id), State: v.State,
		Pieces: v.Pieces, TotalPieces: v.TotalPieces, Processed: v.Processed, Failures: v.Failures}
	if t, err := time.Parse(time.RFC3339Nano, aws.ToString(j.CreationDate)); err == nil {
		r.Created, r.HasCreated = t, true
	}
	r.Duration, r.HasDuration = jobDuration(j, now)
	return r
}
