package main

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestExportCrashResume kills the real server with SIGKILL while an export job plans and
// while it writes its pieces, and checks that after a restart the job ends with exactly one
// object per piece and every endpoint in exactly one of them: pieces that ran again wrote
// their objects again.
func TestExportCrashResume(t *testing.T) {
	t.Parallel()
	const rows = 20000
	bad := rows / 1000 // crashCSV's rows with an unknown channel
	file := crashCSV(rows)
	for _, tc := range []struct {
		name     string
		killWhen func(j *types.ExportJobResponse) bool
	}{
		{"planning", func(j *types.ExportJobResponse) bool { return true }},
		{"mid-pieces", func(j *types.ExportJobResponse) bool { return aws.ToInt32(j.CompletedPieces) >= 3 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			data := filepath.Join(t.TempDir(), "data")
			args := []string{"--export-piece-endpoints", "500", "--import-workers", "1"}
			p := startServe(t, data, args...)
			c, s3c := p.clients(t, data)
			app, err := c.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("crash")}})
			if err != nil {
				t.Fatal(err)
			}
			appID := app.ApplicationResponse.Id
			for _, bucket := range []string{"imports", "exports"} {
				if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String("crash.csv"), Body: bytes.NewReader(file)}); err != nil {
				t.Fatal(err)
			}
			imp, err := c.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: appID, ImportJobRequest: &types.ImportJobRequest{
				Format: types.FormatCsv, S3Url: aws.String("s3://imports/crash.csv"), RoleArn: aws.String("arn:aws:iam::000000000000:role/import"),
				RegisterEndpoints: aws.Bool(true)}})
			if err != nil {
				t.Fatal(err)
			}
			for deadline := time.Now().Add(60 * time.Second); ; time.Sleep(50 * time.Millisecond) {
				out, err := c.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: appID, JobId: imp.ImportJobResponse.Id})
				if err != nil {
					t.Fatal(err)
				}
				if out.ImportJobResponse.JobStatus == types.JobStatusCompleted {
					break
				} else if time.Now().After(deadline) {
					t.Fatalf("import did not complete: %+v", out.ImportJobResponse)
				}
			}

			created, err := c.CreateExportJob(ctx, &pinpoint.CreateExportJobInput{ApplicationId: appID, ExportJobRequest: &types.ExportJobRequest{
				S3UrlPrefix: aws.String("s3://exports/crash/"), RoleArn: aws.String("arn:aws:iam::000000000000:role/export")}})
			if err != nil {
				t.Fatal(err)
			}
			jobID := created.ExportJobResponse.Id
			killed := false
			for deadline := time.Now().Add(60 * time.Second); !killed && time.Now().Before(deadline); {
				out, err := c.GetExportJob(ctx, &pinpoint.GetExportJobInput{ApplicationId: appID, JobId: jobID})
				if err != nil {
					t.Fatal(err)
				}
				j := out.ExportJobResponse
				if j.JobStatus == types.JobStatusCompleted {
					t.Logf("the export completed before the kill point %q", tc.name)
					break
				}
				if tc.killWhen(j) {
					t.Logf("killing at %s: %d/%d pieces", j.JobStatus, *j.CompletedPieces, *j.TotalPieces)
					p.kill(t)
					killed = true
				}
			}
			if killed {
				p = startServe(t, data, args...)
				c, s3c = p.clients(t, data)
			}
			var j *types.ExportJobResponse
			for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				out, err := c.GetExportJob(ctx, &pinpoint.GetExportJobInput{ApplicationId: appID, JobId: jobID})
				if err != nil {
					t.Fatal(err)
				}
				if j = out.ExportJobResponse; j.JobStatus == types.JobStatusCompleted || j.JobStatus == types.JobStatusFailed {
					break
				}
			}
			want := int32(rows - bad)
			if j.JobStatus != types.JobStatusCompleted || *j.TotalProcessed != want || *j.TotalPieces != (want+499)/500 ||
				*j.CompletedPieces != *j.TotalPieces || *j.FailedPieces != 0 {
				t.Fatalf("after the crash: %s pieces %d/%d failed %d processed %d", j.JobStatus, *j.CompletedPieces, *j.TotalPieces,
					*j.FailedPieces, *j.TotalProcessed)
			}

			list, err := s3c.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("exports"), Prefix: aws.String("crash/")})
			if err != nil {
				t.Fatal(err)
			}
			var keys, ids []string
			for _, o := range list.Contents {
				keys = append(keys, *o.Key)
				obj, err := s3c.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("exports"), Key: o.Key})
				if err != nil {
					t.Fatal(err)
				}
				gz, err := gzip.NewReader(obj.Body)
				if err != nil {
					t.Fatalf("%s: %v", *o.Key, err)
				}
				sc := bufio.NewScanner(gz)
				for sc.Scan() {
					var e struct{ Id string }
					if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
						t.Fatalf("%s: %v", *o.Key, err)
					}
					ids = append(ids, e.Id)
				}
				if err := sc.Err(); err != nil {
					t.Fatalf("%s: %v", *o.Key, err)
				}
				obj.Body.Close()
			}
			var wantKeys, wantIDs []string
			for i := range int(*j.TotalPieces) {
				wantKeys = append(wantKeys, fmt.Sprintf("crash/%s/part-%05d.json.gz", *jobID, i))
			}
			for i := range rows {
				if i%1000 != 999 {
					wantIDs = append(wantIDs, fmt.Sprintf("crash-%06d", i))
				}
			}
			if !slices.Equal(keys, wantKeys) {
				t.Fatalf("objects %q, want %q", keys, wantKeys)
			}
			if !slices.Equal(ids, wantIDs) {
				t.Fatalf("the objects hold %d IDs, want each of the %d endpoints once, in order", len(ids), len(wantIDs))
			}
			p.stop(t)
		})
	}
}

// TestJobsListsExports checks that "pinfold jobs" lists export jobs beside imports and that
// "pinfold job" shows one.
func TestJobsListsExports(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := startImportServer(t)
	app := s.createApp(t, "exports")
	if _, err := s.s3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("exports")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pp.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: &app, EndpointId: aws.String("e1"),
		EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("e1@example.com")}}); err != nil {
		t.Fatal(err)
	}
	out, err := s.pp.CreateExportJob(ctx, &pinpoint.CreateExportJobInput{ApplicationId: &app, ExportJobRequest: &types.ExportJobRequest{
		S3UrlPrefix: aws.String("s3://exports/cli"), RoleArn: aws.String("arn:aws:iam::000000000000:role/export")}})
	if err != nil {
		t.Fatal(err)
	}
	job := *out.ExportJobResponse.Id
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		got, err := s.pp.GetExportJob(ctx, &pinpoint.GetExportJobInput{ApplicationId: &app, JobId: &job})
		if err != nil {
			t.Fatal(err)
		} else if got.ExportJobResponse.JobStatus == types.JobStatusCompleted {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("export did not complete: %+v", got.ExportJobResponse)
		}
	}

	list := s.run(t, "jobs", "--app", app)
	wantCode(t, list, 0)
	row := regexp.MustCompile(`(?m)^` + app + ` +` + job + ` +EXPORT +COMPLETED +1/1 +1 +0 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d`)
	if !row.MatchString(list.stdout) {
		t.Errorf("pinfold jobs:\n%s", list.stdout)
	}
	show := s.run(t, "job", job)
	wantCode(t, show, 0)
	for _, want := range []string{"Export job " + job + " COMPLETED in ", "  objects    s3://exports/cli/" + job + "/part-NNNNN.json.gz\n",
		"  endpoints  every endpoint of the app\n", "  written    1 endpoints\n", "No failures.\n"} {
		if !strings.Contains(show.stdout, want) {
			t.Errorf("pinfold job lacks %q:\n%s", want, show.stdout)
		}
	}
	asJSON := s.run(t, "job", "--json", "--app", app, job)
	var j struct{ Id, Type, JobStatus string }
	if err := json.Unmarshal([]byte(asJSON.stdout), &j); err != nil || j.Id != job || j.Type != "EXPORT" || j.JobStatus != "COMPLETED" {
		t.Errorf("pinfold job --json: %v\n%s", err, asJSON.stdout)
	}
}
