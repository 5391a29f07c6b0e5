package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
)

// apiLevels are the numbers of concurrent clients the API is measured with.
var apiLevels = []int{1, 8, 64}

// loadResult is a load test's throughput and latency.
type loadResult struct {
	perSec   float64
	p50, p99 float64 // milliseconds
}

// apiResult is GetImportJob on Pinfold and the bare handler, by number of clients.
type apiResult struct {
	signed, bare map[int]loadResult
	bodyBytes    int
}

// The clients the API can be measured with (--api-client).
const (
	// sdkClient is the SDK's Pinpoint client, as users call Pinfold.
	sdkClient = "sdk"
	// httpClient is a plain net/http GET signed with the SDK's SigV4 signer: a fraction of the
	// SDK client's CPU, which on a small machine the clients share with the server.
	httpClient = "http"
)

// measureAPI starts a server holding one completed import job and calls GetImportJob on it
// with clients of kind client (every call signed), 1, 8 and 64 at once, for dur each.
// Beside it, a bare net/http handler in this process answers every request with the same
// response body, and the same kind of client, unsigned, calls it the same way.
func measureAPI(ctx context.Context, bin, data, file string, rows int, dur time.Duration, client string) (apiResult, error) {
	res := apiResult{signed: map[int]loadResult{}, bare: map[int]loadResult{}}
	p, err := startServe(ctx, bin, data, newKeyPair())
	if err != nil {
		return res, err
	}
	defer p.stop()
	if err := p.upload(ctx, "bench", "small.csv", file); err != nil {
		return res, err
	}
	sdk := pinpointClient(p.URL, p.keys, newHTTPClient())
	app, err := sdk.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("pinfold-bench-api")}})
	if err != nil {
		return res, fmt.Errorf("create app: %w", err)
	}
	in := &pinpoint.GetImportJobInput{ApplicationId: app.ApplicationResponse.Id}
	created, err := sdk.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: in.ApplicationId, ImportJobRequest: &types.ImportJobRequest{
		Format: types.FormatCsv, S3Url: aws.String("s3://bench/small.csv"), RoleArn: aws.String(benchRole),
		RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true)}})
	if err != nil {
		return res, fmt.Errorf("create import job: %w", err)
	}
	in.JobId = created.ImportJobResponse.Id
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(20 * time.Millisecond) {
		out, err := sdk.GetImportJob(ctx, in)
		if err != nil {
			return res, err
		}
		if out.ImportJobResponse.JobStatus == types.JobStatusCompleted {
			break
		}
		if time.Now().After(deadline) {
			return res, fmt.Errorf("the API's import job is still %s after a minute", out.ImportJobResponse.JobStatus)
		}
	}

	path := "/v1/apps/" + *in.ApplicationId + "/jobs/import/" + *in.JobId
	body, err := rawGet(ctx, p, path)
	if err != nil {
		return res, err
	}
	res.bodyBytes = len(body)
	bareURL, closeBare, err := bareServer(body)
	if err != nil {
		return res, err
	}
	defer closeBare()

	var signed, bare func(context.Context) error
	switch client {
	case sdkClient:
		signed = sdkCaller(pinpointClient(p.URL, p.keys, newHTTPClient()), in, rows)
		bare = sdkCaller(pinpointClient(bareURL, keyPair{}, newHTTPClient()), in, rows)
	case httpClient:
		signed = httpCaller(p.URL+path, p.keys, rows)
		bare = httpCaller(bareURL+path, keyPair{}, rows)
	default:
		return res, fmt.Errorf("unknown API client %q", client)
	}
	for _, level := range apiLevels {
		for _, target := range []struct {
			call func(context.Context) error
			into map[int]loadResult
		}{{signed, res.signed}, {bare, res.bare}} {
			if _, err := load(ctx, level, dur/5, target.call); err != nil { // warm-up: connections, caches
				return res, err
			}
			r, err := load(ctx, level, dur, target.call)
			if err != nil {
				return res, err
			}
			target.into[level] = r
		}
	}
	return res, nil
}

// sdkCaller returns a call of GetImportJob in through c that checks the job's rows.
func sdkCaller(c *pinpoint.Client, in *pinpoint.GetImportJobInput, rows int) func(context.Context) error {
	return func(ctx context.Context) error {
		out, err := c.GetImportJob(ctx, in)
		if err == nil && aws.ToInt32(out.ImportJobResponse.TotalProcessed) != int32(rows) {
			err = fmt.Errorf("GetImportJob says %d rows processed, want %d", aws.ToInt32(out.ImportJobResponse.TotalProcessed), rows)
		}
		return err
	}
}

// httpCaller returns a GET of url, signed for Pinpoint with keys (unsigned when they are
// empty), that checks the job's rows in the response.
func httpCaller(url string, keys keyPair, rows int) func(context.Context) error {
	hc := &http.Client{Transport: &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: keys.id, SecretAccessKey: keys.secret}
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		if keys.id != "" {
			if err := signer.SignHTTP(ctx, creds, req, emptySHA256, "mobiletargeting", region, time.Now()); err != nil {
				return err
			}
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var job struct{ TotalProcessed int }
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET %s: %s: %s", url, resp.Status, body)
		} else if err := json.Unmarshal(body, &job); err != nil {
			return fmt.Errorf("GET %s: %w", url, err)
		} else if job.TotalProcessed != rows {
			return fmt.Errorf("GET %s says %d rows processed, want %d", url, job.TotalProcessed, rows)
		}
		return nil
	}
}

// emptySHA256 is the hex SHA-256 of an empty body, the payload hash of a GET.
var emptySHA256 = func() string {
	sum := sha256.Sum256(nil)
	return hex.EncodeToString(sum[:])
}()

// rawGet makes one signed GET of the server's API and returns the response body.
func rawGet(ctx context.Context, p *serveProc, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.URL+path, nil)
	if err != nil {
		return nil, err
	}
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: p.keys.id, SecretAccessKey: p.keys.secret}, req,
		emptySHA256, "mobiletargeting", region, time.Now()); err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body, err
}

// bareServer serves body as JSON to every request, on loopback.
func bareServer(body []byte) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

// load runs call from n goroutines at once, each calling again as soon as a call returns,
// for dur; it returns calls per second and the latency percentiles. Any failed call fails it.
// Each goroutine makes one call at least, even one that starts after dur has passed, as it
// may on a loaded machine when dur is short: there is always a latency to report.
func load(ctx context.Context, n int, dur time.Duration, call func(context.Context) error) (loadResult, error) {
	var (
		mu        sync.Mutex
		latencies []time.Duration
		firstErr  error
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(dur)
	for range n {
		wg.Go(func() {
			var mine []time.Duration
			var err error
			for { // a call first, then whether to make another
				t := time.Now()
				err = call(ctx)
				mine = append(mine, time.Since(t))
				if err != nil || ctx.Err() != nil || !time.Now().Before(deadline) {
					break
				}
			}
			mu.Lock()
			defer mu.Unlock()
			latencies = append(latencies, mine...)
			if firstErr == nil {
				firstErr = errors.Join(err, ctx.Err())
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	if firstErr != nil {
		return loadResult{}, firstErr
	}
	slices.Sort(latencies)
	return loadResult{perSec: float64(len(latencies)) / took.Seconds(), p50: quantileMS(latencies, 0.50), p99: quantileMS(latencies, 0.99)}, nil
}

// quantileMS returns quantile q of sorted, in milliseconds.
func quantileMS(sorted []time.Duration, q float64) float64 {
	return float64(sorted[int(q*float64(len(sorted)-1))]) / float64(time.Millisecond)
}
