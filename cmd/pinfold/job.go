package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
)

const jobUsage = `Usage: pinfold job [flags] JOB_ID

Shows one job of a running Pinfold server: its state, counters, definition and every failure
(for an import, from Pinfold's full failure report, not only the first 100). Without --app,
the job is looked for in every app.

Flags:
`

// runJob shows one job and all its failures.
func runJob(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cf clientFlags
	var appID string
	var asJSON bool
	fs := flag.NewFlagSet("job", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&appID, "app", "", "the job's app (default: look in every app)")
	fs.BoolVar(&asJSON, "json", false, "print the ImportJobResponse (or ExportJobResponse) JSON as the API returns it")
	cf.bind(fs, false)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), jobUsage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+credentialsHelp)
	}
	rest, err := parseArgs(fs, args)
	switch {
	case err != nil:
		return err
	case len(rest) != 1:
		return errors.New("give one job ID (pinfold jobs lists them)")
	}
	c, err := cf.connect(ctx, getenv)
	if err != nil {
		return err
	}
	j, err := c.findImportJob(ctx, appID, rest[0])
	if err != nil {
		if x, xerr := c.findExportJob(ctx, appID, rest[0]); xerr == nil {
			return writeExportJob(ctx, stdout, c, x, asJSON)
		}
		return err
	}
	if asJSON {
		return writeJobJSON(ctx, stdout, c, aws.ToString(j.ApplicationId), aws.ToString(j.Id))
	}
	writeFacts(stdout, j, time.Now())
	writeDefinition(stdout, j)
	return writeAllFailures(ctx, stdout, c, jobPath(aws.ToString(j.ApplicationId), aws.ToString(j.Id)))
}

// writeDefinition writes the job's ImportJobResource, by Pinpoint's names.
func writeDefinition(w io.Writer, j *types.ImportJobResponse) {
	d := j.Definition
	if d == nil {
		return
	}
	fmt.Fprintln(w, "Definition:")
	for _, f := range []struct{ name, value string }{
		{"Format", string(d.Format)},
		{"S3Url", aws.ToString(d.S3Url)},
		{"RoleArn", aws.ToString(d.RoleArn)},
		{"ExternalId", aws.ToString(d.ExternalId)},
		{"RegisterEndpoints", fmt.Sprint(aws.ToBool(d.RegisterEndpoints))},
		{"DefineSegment", fmt.Sprint(aws.ToBool(d.DefineSegment))},
		{"SegmentId", aws.ToString(d.SegmentId)},
		{"SegmentName", aws.ToString(d.SegmentName)},
	} {
		if f.value != "" {
			fmt.Fprintf(w, "  %-18s %s\n", f.name, f.value)
		}
	}
	fmt.Fprintf(w, "  %-18s %s\n", "CreationDate", aws.ToString(j.CreationDate))
	if j.CompletionDate != nil {
		fmt.Fprintf(w, "  %-18s %s\n", "CompletionDate", *j.CompletionDate)
	}
}

// failureLine is one line of Pinfold's full failure report (GET …/failures, NDJSON).
type failureLine struct {
	Piece   int
	Line    int64
	Message string // "s3://bucket/key:LINE: reason", or the reason alone for a whole piece or job
}

// writeAllFailures streams the job's full failure report as it arrives.
func writeAllFailures(ctx context.Context, w io.Writer, c *client, jobPath string) error {
	resp, err := c.get(ctx, jobPath+"/failures")
	if err != nil {
		return fmt.Errorf("failure report: %w", err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	n := 0
	for sc.Scan() {
		var f failureLine
		if err := json.Unmarshal(sc.Bytes(), &f); err != nil {
			return fmt.Errorf("failure report, line %d: %w", n+1, err)
		}
		if n == 0 {
			fmt.Fprintln(w, "Failures:")
		}
		fmt.Fprintln(w, "  "+f.Message)
		n++
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("failure report, after %d failures: %w", n, err)
	}
	if n == 0 {
		fmt.Fprintln(w, "No failures.")
	} else {
		fmt.Fprintf(w, "%s failures in all.\n", formatCount(int64(n)))
	}
	return nil
}
