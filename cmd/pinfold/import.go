package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
)

const importUsage = `Usage: pinfold import [flags] FILE_OR_FOLDER...
       pinfold import [flags] s3://BUCKET/KEY_OR_PREFIX

Imports endpoints into an app of a running Pinfold server and follows the job to its end.
Local files are uploaded first, with a single PutObject each (up to 5 GiB a file), to
s3://BUCKET/TIME-RANDOM/ on the server's S3 endpoint; a folder means every file in it and its
subfolders, keeping their paths. An s3:// URL is imported where it is.

A job reads one format, CSV (.csv) or JSON (.json, .jsonl, .ndjson), each optionally .gz;
any other .gz is JSON, as Pinpoint's export files are. The format comes from the file names,
or --format. A folder holding both needs --format, and then
only the files of that format are imported: run once with --format CSV and once with
--format JSON.

Progress goes to stderr: a bar redrawn in place on a terminal, else a line on each state
change and every 5s. The summary (or, with --json, the final ImportJobResponse as the API
returned it) goes to stdout. Exit status 0 when the job COMPLETED (rejected rows count in its
failures), 1 when it FAILED or anything else went wrong.

Flags:
`

// importFlags are the flags of pinfold import.
type importFlags struct {
	clientFlags
	App, CreateApp           string
	Format                   string
	DefineSegment, SegmentID string
	NoRegister, DryRun       bool
	Bucket, RoleARN          string
	Wait, JSON               bool
}

func (f *importFlags) flagSet(stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.App, "app", "", "ID of the app to import into")
	fs.StringVar(&f.CreateApp, "create-app", "", "create an app of this name and import into it")
	fs.StringVar(&f.Format, "format", "", "CSV or JSON (default: from the file names)")
	fs.StringVar(&f.DefineSegment, "define-segment", "", "create an IMPORT segment of this name with the imported endpoints")
	fs.StringVar(&f.SegmentID, "segment-id", "", "add the imported endpoints to this IMPORT segment, as a new version")
	fs.BoolVar(&f.NoRegister, "no-register", false, "do not store the endpoints (RegisterEndpoints=false); with a segment, the segment lists them")
	fs.BoolVar(&f.DryRun, "dry-run", false, "only check every row: RegisterEndpoints=false and no segment; nothing is stored")
	fs.StringVar(&f.Bucket, "bucket", "pinfold-imports", "bucket local files are uploaded to; created if missing")
	fs.StringVar(&f.RoleARN, "role-arn", "arn:aws:iam::000000000000:role/pinfold-import", "the job's RoleArn (Pinfold records it and reads with its own credentials)")
	fs.BoolVar(&f.Wait, "wait", true, "follow the job to its end; --wait=false prints the job ID and returns")
	fs.BoolVar(&f.JSON, "json", false, "print the final ImportJobResponse JSON instead of the summary")
	f.clientFlags.bind(fs, true)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), importUsage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+credentialsHelp)
	}
	return fs
}

// validate checks the flags and the sources before anything is sent.
func (f *importFlags) validate(sources []string) error {
	f.Format = strings.ToUpper(f.Format)
	urls := 0
	for _, s := range sources {
		if strings.HasPrefix(s, "s3://") {
			urls++
		}
	}
	switch {
	case len(sources) == 0:
		return errors.New("give the files, folders or the s3:// URL to import (pinfold import -h)")
	case urls > 0 && len(sources) > 1:
		return errors.New("give one s3:// URL, or local files and folders, not several URLs nor both: a job reads one S3 location")
	case f.App == "" && f.CreateApp == "":
		return errors.New("which app? give --app ID (\"pinfold jobs\" or \"aws pinpoint get-apps\" lists them) or --create-app NAME")
	case f.App != "" && f.CreateApp != "":
		return errors.New("give --app or --create-app, not both")
	case f.Format != "" && f.Format != formatCSV && f.Format != formatJSON:
		return fmt.Errorf("--format: must be CSV or JSON, got %q", f.Format)
	case f.DefineSegment != "" && f.SegmentID != "":
		return errors.New("give --define-segment (a new segment) or --segment-id (an existing one), not both")
	case f.DryRun && (f.DefineSegment != "" || f.SegmentID != ""):
		return errors.New("--dry-run stores nothing, so it makes no segment: drop --define-segment and --segment-id")
	case f.Bucket == "":
		return errors.New("--bucket: must name the bucket local files are uploaded to")
	case f.SegmentID != "" && f.App == "":
		return errors.New("--segment-id names a segment of an existing app: give its --app")
	case len(f.DefineSegment) > 64:
		return errors.New("--define-segment: a segment name has at most 64 characters")
	case f.JSON && !f.Wait:
		return errors.New("--json prints the job once it ended: it needs --wait")
	}
	return nil
}

// request is the ImportJobRequest the flags ask for, for a source of format at s3URL.
func (f *importFlags) request(format, s3URL string) *types.ImportJobRequest {
	req := &types.ImportJobRequest{Format: types.Format(format), S3Url: &s3URL, RoleArn: &f.RoleARN,
		RegisterEndpoints: aws.Bool(!f.NoRegister && !f.DryRun)}
	if f.DefineSegment != "" {
		req.DefineSegment, req.SegmentName = aws.Bool(true), &f.DefineSegment
	}
	if f.SegmentID != "" {
		req.SegmentId = &f.SegmentID
	}
	return req
}

// runImport uploads the sources if they are local, creates the import job and follows it.
func runImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var f importFlags
	fs := f.flagSet(stderr)
	sources, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if err := f.validate(sources); err != nil {
		return err
	}
	src, err := f.source(sources)
	if err != nil {
		return err
	}
	c, err := f.connect(ctx, getenv)
	if err != nil {
		return err
	}
	if err := f.checkTargets(ctx, c); err != nil {
		return err
	}
	p := newProgress(stderr, getenv, time.Now)
	if src.files != nil {
		if src.s3URL, err = f.upload(ctx, c, p, src.files, src.skipped); err != nil {
			return err
		}
	}
	appID := f.App
	if f.CreateApp != "" {
		out, err := c.pinpoint.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: &f.CreateApp}})
		if err != nil {
			return c.explain(err)
		}
		appID = aws.ToString(out.ApplicationResponse.Id)
		p.println("created app %q: %s", f.CreateApp, appID)
	}
	out, err := c.pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: &appID, ImportJobRequest: f.request(src.format, src.s3URL)})
	if err != nil && f.CreateApp != "" {
		return fmt.Errorf("%w (app %s was created for it: use it with --app %s)", c.explain(err), appID, appID)
	} else if err != nil {
		return c.explain(err)
	}
	jobID := aws.ToString(out.ImportJobResponse.Id)
	if !f.Wait {
		fmt.Fprintln(stdout, jobID)
		return nil
	}
	p.println("import job %s of %s (%s) in app %s; Ctrl-C stops following, not the job", jobID, src.s3URL, src.format, appID)
	p.begin()
	job, err := follow(ctx, c, appID, jobID, p)
	if err != nil {
		return err
	}
	if f.JSON {
		if err := writeJobJSON(ctx, stdout, c, appID, jobID); err != nil {
			return err
		}
	} else {
		writeSummary(stdout, job, summaryFailures)
	}
	if job.JobStatus == types.JobStatusFailed {
		return fmt.Errorf("import job %s FAILED: %s", jobID, failureReason(job))
	}
	return nil
}

// importSource is what a job imports: an S3 URL as given, or local files to upload first.
type importSource struct {
	format         string
	s3URL          string
	files, skipped []localFile
}

// source works out the format and the files or URL to import, without the network.
func (f *importFlags) source(args []string) (*importSource, error) {
	src := &importSource{format: f.Format}
	if !strings.HasPrefix(args[0], "s3://") {
		all, err := collectFiles(args)
		if err != nil {
			return nil, err
		}
		src.format, src.files, src.skipped, err = chooseFormat(f.Format, all)
		return src, err
	}
	src.s3URL = args[0]
	if rest := strings.TrimPrefix(src.s3URL, "s3://"); rest == "" || strings.HasPrefix(rest, "/") {
		return nil, fmt.Errorf("%s: an S3 URL is s3://BUCKET/KEY or s3://BUCKET/PREFIX/", src.s3URL)
	}
	if src.format == "" {
		if src.format = fileFormat(src.s3URL); src.format == "" {
			return nil, fmt.Errorf("cannot tell the format of %s from its name: give --format CSV or --format JSON", src.s3URL)
		}
	}
	return src, nil
}

// checkTargets checks that the app and the segment the flags name exist, before uploading.
func (f *importFlags) checkTargets(ctx context.Context, c *client) error {
	if f.App == "" {
		return nil
	}
	_, err := c.pinpoint.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: &f.App})
	var notFound *types.NotFoundException
	if errors.As(err, &notFound) {
		return fmt.Errorf("--app: no app %s at %s (\"pinfold jobs\" lists the apps with jobs; --create-app NAME makes one)", f.App, c.endpoint)
	} else if err != nil {
		return c.explain(err)
	}
	if f.SegmentID != "" {
		if _, err := c.pinpoint.GetSegment(ctx, &pinpoint.GetSegmentInput{ApplicationId: &f.App, SegmentId: &f.SegmentID}); err != nil {
			return fmt.Errorf("--segment-id: %w", c.explain(err))
		}
	}
	return nil
}

// writeJobJSON writes an import job's JSON as the API returns it (ImportJobResponse, with
// Pinpoint's member names), indented.
func writeJobJSON(ctx context.Context, w io.Writer, c *client, appID, jobID string) error {
	raw, err := c.getJSON(ctx, jobPath(appID, jobID))
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

// upload puts the files into a fresh folder of the bucket and returns the S3Url to import.
func (f *importFlags) upload(ctx context.Context, c *client, p *progress, files, skipped []localFile) (string, error) {
	if len(skipped) > 0 {
		names := make([]string, 0, 5)
		for _, s := range skipped[:min(len(skipped), 5)] {
			names = append(names, s.Path)
		}
		more := ""
		if len(skipped) > len(names) {
			more = fmt.Sprintf(" and %d more", len(skipped)-len(names))
		}
		p.println("skipping %d file(s) that are not %s files: %s%s", len(skipped), files[0].Format, strings.Join(names, ", "), more)
	}
	u := &uploader{c: c, bucket: f.Bucket, prefix: uploadPrefix(time.Now()), show: func(done, total int, doneBytes, totalBytes int64, current string) {
		p.status(fmt.Sprintf("uploading %d/%d files, %s of %s: %s", done+1, total, formatBytes(doneBytes), formatBytes(totalBytes), current))
	}}
	var size int64
	for _, f := range files {
		size += f.Size
	}
	start := time.Now()
	if err := u.upload(ctx, files); err != nil {
		p.done()
		return "", err
	}
	url := uploadURL(f.Bucket, u.prefix, files)
	p.println("uploaded %d file(s), %s, to %s in %s", len(files), formatBytes(size), url, formatDuration(time.Since(start)))
	return url, nil
}
