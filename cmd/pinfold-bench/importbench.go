package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
)

// importCase is one server on a fresh data folder (and, for PostgreSQL, a fresh database)
// importing one file.
type importCase struct {
	bin       string
	data      string // the server's data folder
	database  string // a postgres:// URL, or "" for SQLite in data
	workers   int
	pieceSize int64
	format    string // "csv" or "json"
	file      string
	rows      int
	again     bool // import the file a second time into the same app
	// removeFile deletes file once uploaded: the 10× file of the memory case is large.
	removeFile bool
	// probe times UpdateEndpoint calls while the server is idle and during the fresh import
	// (startProbe).
	probe bool
}

// importResult is what an importCase measured.
type importResult struct {
	fresh, again float64 // endpoints per second
	peakMB       float64 // the server's peak RSS during the first import
	// idle and busy are, with importCase.probe, UpdateEndpoint's latencies on the server
	// before the first import and during it (perSec is then calls per second).
	idle, busy loadResult
}

// measureImport starts the server, uploads the file to its embedded S3 endpoint, and times
// CreateImportJob (RegisterEndpoints) until GetImportJob says COMPLETED, for a fresh app and,
// with c.again, once more for the same app: every row is then an update.
func measureImport(ctx context.Context, c importCase) (importResult, error) {
	var res importResult
	args := []string{"--import-workers", fmt.Sprint(c.workers), "--piece-size", fmt.Sprint(c.pieceSize)}
	if c.database != "" {
		args = append(args, "--database", c.database)
	}
	p, err := startServe(ctx, c.bin, c.data, newKeyPair(), args...)
	if err != nil {
		return res, err
	}
	defer p.stop()
	key := "endpoints" + map[string]string{"csv": ".csv", "json": ".ndjson"}[c.format]
	if err := p.upload(ctx, "bench", key, c.file); err != nil {
		return res, err
	}
	if c.removeFile {
		os.Remove(c.file)
	}
	client := pinpointClient(p.URL, p.keys, newHTTPClient())
	app, err := client.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("pinfold-bench")}})
	if err != nil {
		return res, fmt.Errorf("create app: %w", err)
	}
	appID := app.ApplicationResponse.Id
	format := map[string]types.Format{"csv": types.FormatCsv, "json": types.FormatJson}[c.format]

	if c.probe {
		stop := startProbe(ctx, p, appID)
		time.Sleep(probeIdle)
		if res.idle, err = stop(); err != nil {
			return res, err
		}
	}
	run := func(probe bool) (rate float64, err error) {
		settle() // the upload, or the fresh import, wrote GBs that the kernel still holds dirty
		if probe {
			stop := startProbe(ctx, p, appID)
			defer func() {
				var perr error
				res.busy, perr = stop()
				err = errors.Join(err, perr)
			}()
		}
		start := time.Now()
		created, err := client.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: appID, ImportJobRequest: &types.ImportJobRequest{
			Format: format, S3Url: aws.String("s3://bench/" + key), RoleArn: aws.String(benchRole), RegisterEndpoints: aws.Bool(true)}})
		if err != nil {
			return 0, fmt.Errorf("create import job: %w", err)
		}
		for {
			out, err := client.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: appID, JobId: created.ImportJobResponse.Id})
			if err != nil {
				return 0, fmt.Errorf("get import job: %w", err)
			}
			j := out.ImportJobResponse
			switch j.JobStatus {
			case types.JobStatusCompleted:
				took := time.Since(start)
				if aws.ToInt32(j.TotalProcessed) != int32(c.rows) || aws.ToInt32(j.TotalFailures) != 0 {
					return 0, fmt.Errorf("import of %s: %d rows processed and %d failures (%v), want %d and 0",
						filepath.Base(c.file), aws.ToInt32(j.TotalProcessed), aws.ToInt32(j.TotalFailures), j.Failures, c.rows)
				}
				return float64(c.rows) / took.Seconds(), nil
			case types.JobStatusFailed:
				return 0, fmt.Errorf("import of %s failed: %v", filepath.Base(c.file), j.Failures)
			}
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-p.exited:
				return 0, fmt.Errorf("pinfold serve exited during the import:\n%s", p.log())
			case <-time.After(50 * time.Millisecond):
			}
		}
	}

	rss := sampleRSS(p.pid())
	res.fresh, err = run(c.probe)
	res.peakMB = rss.end()
	if err != nil || !c.again {
		return res, err
	}
	res.again, err = run(false)
	return res, err
}

// probeIdle is how long the write probe runs on the idle server before an import.
const probeIdle = time.Second

// probePause is the probe's pause between one call's answer and the next call.
const probePause = 20 * time.Millisecond

// startProbe starts calling UpdateEndpoint on p, one call after another with probePause
// between them (the first at once, so that stopping makes at least one), each call on one of
// 16 endpoints of the app that no file has: an application or the console updating endpoints
// while an import runs. The function it returns stops the calls and returns their rate and
// latencies. On SQLite such a write waits for the import's transaction that holds the one
// writer (sqlite/groupcommit.go); on PostgreSQL for the app's lock, which pieces hold
// (postgres.appGates).
func startProbe(ctx context.Context, p *serveProc, appID *string) func() (loadResult, error) {
	client := pinpointClient(p.URL, p.keys, newHTTPClient())
	stop := make(chan struct{})
	type result struct {
		r   loadResult
		err error
	}
	done := make(chan result, 1)
	go func() {
		var latencies []time.Duration
		start := time.Now()
		var err error
	calls:
		for i := 0; err == nil; i++ {
			t := time.Now()
			_, err = client.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: appID,
				EndpointId: aws.String(fmt.Sprintf("pinfold-bench-probe-%d", i%16)),
				EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeEmail,
					Address:    aws.String(fmt.Sprintf("probe-%d@example.com", i%16)),
					Attributes: map[string][]string{"Probe": {fmt.Sprint(i)}}}})
			latencies = append(latencies, time.Since(t))
			if err != nil {
				err = fmt.Errorf("UpdateEndpoint: %w", err)
				break
			}
			select {
			case <-stop:
				break calls
			case <-ctx.Done():
				err = ctx.Err()
			case <-time.After(probePause):
			}
		}
		r := loadResult{perSec: float64(len(latencies)) / time.Since(start).Seconds()}
		if len(latencies) > 0 {
			slices.Sort(latencies)
			r.p50, r.p99 = quantileMS(latencies, 0.50), quantileMS(latencies, 0.99)
		}
		done <- result{r, err}
	}()
	return func() (loadResult, error) {
		close(stop)
		res := <-done
		return res.r, res.err
	}
}
