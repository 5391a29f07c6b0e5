package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/pinfold/pinfold/s3"
)

// longTests reports whether PINFOLD_LONG_TESTS=1 asks for the full-size reliability runs.
func longTests() bool { return os.Getenv("PINFOLD_LONG_TESTS") == "1" }

// signed sends a request signed with the data folder's root key and returns the response
// and its body, and the Authorization header it sent.
func (p *proc) signed(t *testing.T, data, method, path string, body []byte) (*http.Response, []byte, string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"),
		config.WithSharedCredentialsFiles([]string{filepath.Join(data, "credentials")}), config.WithSharedConfigProfile("pinfold"))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(method, p.URL+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "mobiletargeting", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, got, req.Header.Get("Authorization")
}

// countMembers pages through GetSegmentEndpoints (a Pinfold route) and returns how many
// endpoint IDs the segment's latest version has, checking they come sorted and unique.
func (p *proc) countMembers(t *testing.T, data, app, segment string) int {
	t.Helper()
	n, token, last := 0, "", ""
	for {
		q := url.Values{"page-size": {"1000"}}
		if token != "" {
			q.Set("token", token)
		}
		resp, body, _ := p.signed(t, data, "GET", "/v1/apps/"+app+"/segments/"+segment+"/endpoints?"+q.Encode(), nil)
		var page struct {
			Item      []string
			NextToken string
		}
		if err := json.Unmarshal(body, &page); err != nil || resp.StatusCode != 200 {
			t.Fatalf("GetSegmentEndpoints: %d %s", resp.StatusCode, body)
		}
		for _, id := range page.Item {
			if id <= last {
				t.Fatalf("member %q after %q: not sorted and unique", id, last)
			}
			last = id
		}
		n += len(page.Item)
		if token = page.NextToken; token == "" {
			return n
		}
	}
}

// importOutcome is what an import left behind: the job's counters and the endpoints.
type importOutcome struct {
	status                           string
	processed, failures              int32
	pieces, completed, failedPieces  int32
	failureList                      []string
	segmentSize, members, registered int
	spot                             map[string]string // endpoint ID → "address attribute"
	took                             time.Duration
	killedAt                         []time.Duration
	completedBeforeKill              bool
}

// runKilledImport imports a crashCSV file of rows rows on a fresh server, kills the server
// with SIGKILL at each moment of kills (measured from the job's creation, then from each
// restart) and restarts it, and returns what the import left once it ended.
func runKilledImport(t *testing.T, file []byte, kills []time.Duration, spotIDs []int) importOutcome {
	t.Helper()
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "data")
	args := []string{"--piece-size", strconv.Itoa(max(65536, len(file)/40))}
	p := startServe(t, data, args...)
	c, s3c := p.clients(t, data)
	app, err := c.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("kill")}})
	if err != nil {
		t.Fatal(err)
	}
	appID := app.ApplicationResponse.Id
	if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("imports")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String("kill.csv"), Body: bytes.NewReader(file)}); err != nil {
		t.Fatal(err)
	}
	jobID := createJob(t, c, appID, "s3://imports/kill.csv")
	start := time.Now()
	var out importOutcome
	for _, d := range kills {
		// The kill moment is the point of this test: a random time, not an event to wait for.
		time.Sleep(d)
		j, err := c.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: appID, JobId: jobID})
		if err == nil && j.ImportJobResponse.JobStatus == types.JobStatusCompleted {
			out.completedBeforeKill = true
		}
		p.kill(t)
		out.killedAt = append(out.killedAt, d)
		p = startServe(t, data, args...)
		c, _ = p.clients(t, data)
	}
	j := waitEnded(t, c, appID, jobID)
	out.took = time.Since(start)
	out.status = string(j.JobStatus)
	out.processed, out.failures = *j.TotalProcessed, *j.TotalFailures
	out.pieces, out.completed, out.failedPieces = *j.TotalPieces, *j.CompletedPieces, *j.FailedPieces
	out.failureList = j.Failures
	seg, err := c.GetSegment(ctx, &pinpoint.GetSegmentInput{ApplicationId: appID, SegmentId: j.Definition.SegmentId})
	if err != nil {
		t.Fatal(err)
	}
	out.segmentSize = int(*seg.SegmentResponse.ImportDefinition.Size)
	out.members = p.countMembers(t, data, *appID, *j.Definition.SegmentId)
	// Every registered endpoint of the app: a DIMENSIONAL segment of all EMAIL endpoints.
	dim, err := c.CreateSegment(ctx, &pinpoint.CreateSegmentInput{ApplicationId: appID, WriteSegmentRequest: &types.WriteSegmentRequest{
		Name: aws.String("all"), Dimensions: &types.SegmentDimensions{Demographic: &types.SegmentDemographics{
			Channel: &types.SetDimension{Values: []string{"EMAIL"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	out.registered = p.countMembers(t, data, *appID, *dim.SegmentResponse.Id)
	out.spot = map[string]string{}
	for _, i := range spotIDs {
		id := fmt.Sprintf("crash-%06d", i)
		e, err := c.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: appID, EndpointId: aws.String(id)})
		var notFound *types.NotFoundException
		if errors.As(err, &notFound) {
			out.spot[id] = "not found" // a bad row
			continue
		} else if err != nil {
			t.Fatal(err)
		}
		out.spot[id] = fmt.Sprintf("%s n=%v m=%v user=%s", *e.EndpointResponse.Address, e.EndpointResponse.Attributes["n"],
			e.EndpointResponse.Metrics["m"], *e.EndpointResponse.User.UserId)
	}
	p.stop(t)
	return out
}

// TestKillNineRandomly imports a file, kills the real binary with SIGKILL at random moments
// (once, sometimes twice), restarts it on the same data folder, and checks that every run
// ends COMPLETED with exactly the endpoints and counters of an uninterrupted run. The normal
// suite runs 3 runs of 20,000 rows; PINFOLD_LONG_TESTS=1 runs 20 of 200,000. The moments
// come from a logged seed; PINFOLD_KILL_SEED repeats them.
func TestKillNineRandomly(t *testing.T) {
	t.Parallel()
	runs, rows := 3, 20000
	if longTests() {
		runs, rows = 20, 200000
	}
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PINFOLD_KILL_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	t.Logf("PINFOLD_KILL_SEED=%d, %d runs of %d rows", seed, runs, rows)
	rng := rand.New(rand.NewPCG(seed, 0))
	file := crashCSV(rows)
	spot := []int{0, 1, rows / 3, rows / 2, rows - 2, rows - 1}
	for range 4 {
		spot = append(spot, rng.IntN(rows))
	}

	ref := runKilledImport(t, file, nil, spot)
	bad := int32(rows / 1000)
	if ref.status != "COMPLETED" || ref.processed != int32(rows) || ref.failures != bad || ref.failedPieces != 0 ||
		ref.completed != ref.pieces || ref.segmentSize != rows-int(bad) || ref.members != ref.segmentSize || ref.registered != ref.segmentSize {
		t.Fatalf("uninterrupted run: %+v", ref)
	}
	t.Logf("uninterrupted: %d rows in %v, %d pieces, %d endpoints", rows, ref.took.Round(time.Millisecond), ref.pieces, ref.registered)

	killed := 0
	for i := range runs {
		kills := []time.Duration{time.Duration(rng.Int64N(int64(ref.took * 6 / 10)))}
		if rng.IntN(3) == 0 { // some runs are killed again, at a moment of the resumed import
			kills = append(kills, time.Duration(rng.Int64N(int64(ref.took/2))))
		}
		got := runKilledImport(t, file, kills, spot)
		if !got.completedBeforeKill {
			killed++
		}
		t.Logf("run %d: killed at %v, completed in %v overall (completed before a kill: %v)", i, got.killedAt, got.took.Round(time.Millisecond), got.completedBeforeKill)
		got.took, got.killedAt, got.completedBeforeKill = ref.took, nil, false
		if fmt.Sprint(got) != fmt.Sprint(ref) {
			t.Fatalf("run %d, killed at %v: the result differs from the uninterrupted run's:\n%s", i, kills, diffOutcomes(got, ref))
		}
	}
	t.Logf("%d of %d runs were killed before the job completed", killed, runs)
}

// diffOutcomes lists the fields in which got differs from want.
func diffOutcomes(got, want importOutcome) string {
	var b strings.Builder
	add := func(name string, g, w any) {
		if fmt.Sprint(g) != fmt.Sprint(w) {
			fmt.Fprintf(&b, "  %s: got %v, want %v\n", name, g, w)
		}
	}
	add("status", got.status, want.status)
	add("processed", got.processed, want.processed)
	add("failures", got.failures, want.failures)
	add("pieces", got.pieces, want.pieces)
	add("completed pieces", got.completed, want.completed)
	add("failed pieces", got.failedPieces, want.failedPieces)
	add("failure list", got.failureList, want.failureList)
	add("segment size", got.segmentSize, want.segmentSize)
	add("segment members", got.members, want.members)
	add("registered endpoints", got.registered, want.registered)
	add("spot checks", got.spot, want.spot)
	return b.String()
}

// mountTmpfs mounts a tmpfs of size bytes on a new folder and unmounts it when t ends. It
// skips t where mounting is not permitted (not root, or a container without the right).
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", fmt.Sprintf("size=%d", size), "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("disk-full test skipped: cannot mount a small tmpfs here (needs root): %v %s", err, strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillDisk writes a file of zeros in dir until leave bytes are free on its file system.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zeros := make([]byte, 64<<10)
	for n := int64(fs.Bavail)*int64(fs.Bsize) - leave; n > 0; n -= int64(len(zeros)) {
		if _, err := f.Write(zeros[:min(n, int64(len(zeros)))]); err != nil {
			t.Fatalf("fill: %v", err)
		}
	}
	return path
}

// TestDiskFull runs the server with its data folder on a small tmpfs and fills it during an
// import: the job ends FAILED saying the disk is full, what was committed before is still
// readable, the server keeps answering, and once space is freed the same import completes.
func TestDiskFull(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	data := filepath.Join(mountTmpfs(t, 48<<20), "data")
	p := startServe(t, data, "--piece-size", "262144")
	c, s3c := p.clients(t, data)
	app, err := c.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("full")}})
	if err != nil {
		t.Fatal(err)
	}
	appID := app.ApplicationResponse.Id
	if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("imports")}); err != nil {
		t.Fatal(err)
	}
	put := func(key string, body []byte) {
		if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	put("small.csv", crashCSV(500))
	first := waitEnded(t, c, appID, createJob(t, c, appID, "s3://imports/small.csv"))
	wantExact(t, c, appID, first, 500)

	// Rows of about 1.5 KB: 6 MB of them need more room than is left.
	var big bytes.Buffer
	big.WriteString("Id,ChannelType,Address")
	for c := 'a'; c < 'o'; c++ {
		fmt.Fprintf(&big, ",Attributes.%c", c)
	}
	for i := range 4000 {
		fmt.Fprintf(&big, "\nbig-%05d,EMAIL,big%d@example.com", i, i)
		for c := 'a'; c < 'o'; c++ {
			fmt.Fprintf(&big, ",%c%s", c, strings.Repeat("v", 99))
		}
	}
	big.WriteByte('\n')
	put("big.csv", big.Bytes())
	filler := fillDisk(t, data, 2<<20)

	j := waitEnded(t, c, appID, createJob(t, c, appID, "s3://imports/big.csv"))
	if j.JobStatus != types.JobStatusFailed ||
		!slices.ContainsFunc(j.Failures, func(f string) bool { return strings.Contains(f, "the disk holding Pinfold's database is full") }) {
		t.Fatalf("job on a full disk: %s, failed pieces %d, %d failures, the first %q", j.JobStatus, *j.FailedPieces, len(j.Failures), j.Failures[:min(3, len(j.Failures))])
	}
	t.Logf("on a full disk: %s, pieces %d/%d, %d failed; %q", j.JobStatus, *j.CompletedPieces, *j.TotalPieces, *j.FailedPieces, j.Failures[0])

	// A write through the API says why it failed.
	_, err = c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: appID, EndpointId: aws.String("late"),
		EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String(strings.Repeat("x", 200) + "@example.com"),
			Attributes: map[string][]string{"a": {strings.Repeat("a", 100)}}}})
	var internal *types.InternalServerErrorException
	if err != nil && (!errors.As(err, &internal) || !strings.Contains(internal.ErrorMessage(), "disk holding Pinfold's database is full")) {
		t.Fatalf("UpdateEndpoint on a full disk: %v", err)
	}
	t.Logf("UpdateEndpoint on a full disk: %v", err)

	// Nothing committed before is lost, and the server answers.
	wantExact(t, c, appID, first, 500)
	if e, err := c.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: appID, EndpointId: aws.String("crash-000042")}); err != nil || *e.EndpointResponse.Address != "user42@example.com" {
		t.Fatalf("endpoint of the first import: %+v, %v", e, err)
	}
	if _, err := c.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil {
		t.Fatalf("GetApps on a full disk: %v", err)
	}
	resp, err := http.Get(p.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz on a full disk: %v %v", resp, err)
	}
	resp.Body.Close()
	if code, _, _ := getStatus(t, p, "/readyz"); code != 200 {
		t.Fatalf("readyz on a full disk, which reads are served from: %d", code)
	}

	// Space again: the same import completes.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	j = waitEnded(t, c, appID, createJob(t, c, appID, "s3://imports/big.csv"))
	if j.JobStatus != types.JobStatusCompleted || *j.TotalProcessed != 4000 || *j.TotalFailures != 0 {
		t.Fatalf("after space was freed: %s processed %d failures %d %q", j.JobStatus, *j.TotalProcessed, *j.TotalFailures, j.Failures)
	}
	p.stop(t)
}

// TestS3OutageBinary runs the binary against an external S3 behind a proxy that drops every
// object read for three seconds: pieces are retried with backoff and the job completes with
// exact counters. (importer/fault_test.go covers short and long outages in process.)
func TestS3OutageBinary(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := &s3.Server{Addr: "127.0.0.1:0", Dir: filepath.Join(t.TempDir(), "s3")}
	if err := srv.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	target, _ := url.Parse(srv.URL())
	proxy := httputil.NewSingleHostReverseProxy(target)
	var down atomic.Bool
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() && r.Method == http.MethodGet && strings.Count(strings.Trim(r.URL.Path, "/"), "/") >= 1 {
			panic(http.ErrAbortHandler) // an object read: the connection drops
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)

	data := filepath.Join(t.TempDir(), "data")
	p := startServeEnv(t, data, []string{"PINFOLD_ROOT_ACCESS_KEY_ID=", "PINFOLD_ROOT_SECRET_ACCESS_KEY=",
		"AWS_ACCESS_KEY_ID=outage", "AWS_SECRET_ACCESS_KEY=outage-secret", "AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=/nonexistent", "AWS_SHARED_CREDENTIALS_FILE=/nonexistent"},
		"--s3-endpoint", hs.URL, "--piece-size", "65536", "--import-workers", "1")
	c, _ := p.clients(t, data)
	s3c := awss3.New(awss3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL()), UsePathStyle: true,
		Credentials: aws.AnonymousCredentials{}})
	if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("imports")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String("o.csv"), Body: bytes.NewReader(crashCSV(30000))}); err != nil {
		t.Fatal(err)
	}
	app, err := c.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("outage")}})
	if err != nil {
		t.Fatal(err)
	}
	jobID := createJob(t, c, app.ApplicationResponse.Id, "s3://imports/o.csv")
	for deadline := time.Now().Add(time.Minute); ; time.Sleep(5 * time.Millisecond) {
		out, err := c.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: app.ApplicationResponse.Id, JobId: jobID})
		if err != nil {
			t.Fatal(err)
		}
		if j := out.ImportJobResponse; j.JobStatus == types.JobStatusProcessing {
			t.Logf("S3 down at %d/%d pieces", *j.CompletedPieces, *j.TotalPieces)
			break
		} else if j.JobStatus == types.JobStatusCompleted || time.Now().After(deadline) {
			t.Fatalf("the job reached %s before S3 went down", j.JobStatus)
		}
	}
	down.Store(true)
	outage := time.AfterFunc(3*time.Second, func() { down.Store(false) })
	defer outage.Stop()
	j := waitEnded(t, c, app.ApplicationResponse.Id, jobID)
	wantExact(t, c, app.ApplicationResponse.Id, j, 30000)
	if n := metric(t, p, `pinfold_import_pieces_total{result="retried"}`); n == 0 {
		t.Fatal("no piece was retried: the outage did not hit the job")
	}
	p.stop(t)
}

// TestSecretsNotLogged captures the server's whole log, at debug level, while it serves
// signed requests with bodies, a request with a wrong signature and an import: neither the
// secret access key nor any signature appears in it.
func TestSecretsNotLogged(t *testing.T) {
	t.Parallel()
	const secret = "pinfold-test-secret-that-must-never-be-logged"
	data := filepath.Join(t.TempDir(), "data")
	p := startServeEnv(t, data, []string{"PINFOLD_ROOT_ACCESS_KEY_ID=PFLOGTEST0000000001", "PINFOLD_ROOT_SECRET_ACCESS_KEY=" + secret},
		"--log-level", "debug")
	creds := "[pinfold]\naws_access_key_id = PFLOGTEST0000000001\naws_secret_access_key = " + secret + "\n"
	if err := os.WriteFile(filepath.Join(data, "credentials"), []byte(creds), 0o600); err != nil {
		t.Fatal(err)
	}
	var sigs []string
	signature := func(authz string) string { return authz[strings.LastIndex(authz, "=")+1:] }
	resp, body, authz := p.signed(t, data, "POST", "/v1/apps", []byte(`{"Name":"logged"}`))
	if resp.StatusCode != 201 {
		t.Fatalf("CreateApp: %d %s", resp.StatusCode, body)
	}
	sigs = append(sigs, signature(authz))
	var app struct{ Id string }
	json.Unmarshal(body, &app)
	_, _, authz = p.signed(t, data, "PUT", "/v1/apps/"+app.Id+"/endpoints/e1", []byte(`{"ChannelType":"EMAIL","Address":"a@example.com"}`))
	sigs = append(sigs, signature(authz))
	_, _, authz = p.signed(t, data, "POST", "/v1/apps/"+app.Id+"/jobs/import", []byte(`{"Format":"CSV","S3Url":"s3://none/x.csv","RoleArn":"arn:aws:iam::000000000000:role/r"}`))
	sigs = append(sigs, signature(authz))
	// A wrong signature: refused, and the signature it sent and the one expected stay unlogged.
	req, _ := http.NewRequest("GET", p.URL+"/v1/apps", nil)
	bogus := strings.Repeat("ab", 32)
	req.Header.Set("X-Amz-Date", time.Now().UTC().Format("20060102T150405Z"))
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=PFLOGTEST0000000001/"+time.Now().UTC().Format("20060102")+
		"/us-east-1/mobiletargeting/aws4_request, SignedHeaders=host;x-amz-date, Signature="+bogus)
	r, err := http.DefaultClient.Do(req)
	if err != nil || r.StatusCode != 403 {
		t.Fatalf("wrong signature: %v %v", r, err)
	}
	r.Body.Close()
	sigs = append(sigs, bogus)
	p.stop(t)

	log := p.stderr.String() + p.stdout.String()
	if !strings.Contains(log, `"operation":"CreateApp"`) {
		t.Fatalf("the debug log lacks the request lines; captured:\n%s", log)
	}
	if strings.Contains(log, secret) {
		t.Fatal("the secret access key is in the log")
	}
	for _, s := range sigs {
		if strings.Contains(log, s) {
			t.Fatalf("signature %s is in the log", s)
		}
	}
}
