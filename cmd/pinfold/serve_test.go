package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/importer"
	"github.com/pinfold/pinfold/internal/testlog"
	"github.com/pinfold/pinfold/postgres/pgtest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "pinfold-bin")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "pinfold")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build pinfold: %v\n%s", err, out)
		os.Exit(1)
	}
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

// proc is a running `pinfold serve`.
type proc struct {
	cmd    *exec.Cmd
	URL    string // API
	S3URL  string // embedded S3 endpoint
	stdout testlog.Buffer
	stderr testlog.Buffer // the log, line by line
	exited chan error
}

// waitStdout waits until the process has printed want.
func (p *proc) waitStdout(t *testing.T, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if strings.Contains(p.stdout.String(), want) {
			return
		}
	}
	t.Fatalf("stdout %q does not contain %q", p.stdout.String(), want)
}

// startServe starts the real binary on free ports and waits until it listens.
func startServe(t *testing.T, data string, args ...string) *proc {
	t.Helper()
	return startServeEnv(t, data, []string{"PINFOLD_ROOT_ACCESS_KEY_ID=", "PINFOLD_ROOT_SECRET_ACCESS_KEY="}, args...)
}

// startServeEnv is startServe with extra environment variables.
func startServeEnv(t *testing.T, data string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{exited: make(chan error, 1)}
	p.cmd = exec.Command(binary, append([]string{"serve", "--addr", "127.0.0.1:0", "--s3-addr", "127.0.0.1:0",
		"--data", data, "--log-format", "json"}, args...)...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = &p.stdout
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			p.stderr.Write(append(sc.Bytes(), '\n'))
			var line struct{ Msg, URL string }
			json.Unmarshal(sc.Bytes(), &line)
			switch line.Msg {
			case "embedded S3 endpoint listening":
				p.S3URL = line.URL
			case "pinfold listening":
				p.URL = line.URL
				close(ready)
			}
			if testing.Verbose() {
				t.Log(sc.Text())
			}
		}
	}()
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	select {
	case <-ready:
	case err := <-p.exited:
		t.Fatalf("pinfold serve exited before listening: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("pinfold serve did not start listening within 30s")
	}
	return p
}

// stop sends SIGTERM and checks that the server exits cleanly.
func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("pinfold serve exited with %v after SIGTERM", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("pinfold serve did not stop within 30s of SIGTERM")
	}
}

// kill stops the server the hard way.
func (p *proc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}

// clients returns Pinpoint and S3 clients configured the way a user would: the data folder's
// credentials file and its "pinfold" profile.
func (p *proc) clients(t *testing.T, data string) (*pinpoint.Client, *awss3.Client) {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"),
		config.WithSharedCredentialsFiles([]string{filepath.Join(data, "credentials")}),
		config.WithSharedConfigProfile("pinfold"), config.WithRetryMaxAttempts(1))
	if err != nil {
		t.Fatal(err)
	}
	pp := pinpoint.NewFromConfig(cfg, func(o *pinpoint.Options) { o.BaseEndpoint = aws.String(p.URL) })
	s3c := awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.BaseEndpoint, o.UsePathStyle = aws.String(p.S3URL), true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})
	return pp, s3c
}

func TestServeCredentialsAndRestart(t *testing.T) {
	t.Parallel()
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, data)
	p.waitStdout(t, "Generated root credentials in "+filepath.Join(data, "credentials"))
	p.waitStdout(t, "aws pinpoint get-apps --endpoint-url "+p.URL)
	st, err := os.Stat(filepath.Join(data, "credentials"))
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file: %v %v, want mode 0600", st, err)
	}
	before, _ := os.ReadFile(filepath.Join(data, "credentials"))
	c, _ := p.clients(t, data)
	out, err := c.CreateApp(context.Background(), &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("kept")}})
	if err != nil {
		t.Fatal(err)
	}
	p.stop(t)

	p = startServe(t, data)
	if strings.Contains(p.stdout.String(), "Generated") {
		t.Fatalf("second start generated new credentials: %q", p.stdout.String())
	}
	after, _ := os.ReadFile(filepath.Join(data, "credentials"))
	if !bytes.Equal(before, after) {
		t.Fatal("credentials changed across a restart")
	}
	c, _ = p.clients(t, data)
	got, err := c.GetApp(context.Background(), &pinpoint.GetAppInput{ApplicationId: out.ApplicationResponse.Id})
	if err != nil || *got.ApplicationResponse.Name != "kept" {
		t.Fatalf("after restart: %+v, %v", got, err)
	}
	p.stop(t)
}

func TestServeConfigErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--database", "mysql://localhost/pinfold"}, "--database: must be empty (SQLite in --data) or a postgres:// URL"},
		{[]string{"--import-lease", "1ms"}, "--import-lease: must be at least 1s"},
		{[]string{"--import-rows-in-flight", "0"}, "--import-rows-in-flight: must be at least 1"},
		{[]string{"--import-workers", "-1"}, "--import-workers: must be 0 (the store's default) or more"},
		{[]string{"--account-id", "12"}, "--account-id: must be 12 digits"},
		{[]string{"--addr", "nonsense"}, "--addr: must be host:port"},
	} {
		out, err := exec.Command(binary, append([]string{"serve", "--data", t.TempDir()}, tc.args...)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), tc.msg) {
			t.Errorf("serve %v: %v %q, want an error containing %q", tc.args, err, out, tc.msg)
		}
	}
}

// crashCSV is an import file of rows endpoints with a bad row every 1000.
func crashCSV(rows int) []byte {
	var b bytes.Buffer
	b.WriteString("Id,ChannelType,Address,User.UserId,Attributes.n,Metrics.m\n")
	for i := range rows {
		channel := "EMAIL"
		if i%1000 == 999 {
			channel = "PIGEON"
		}
		// Ten endpoints per user: well within Pinpoint's 15 per user.
		fmt.Fprintf(&b, "crash-%06d,%s,user%d@example.com,user-%d,%d,%d\n", i, channel, i, i/10, i, i%7)
	}
	return b.Bytes()
}

// TestCrashResume kills the real server with SIGKILL at several moments of an import and
// checks that, after a restart on the same data folder, the job ends with exactly the result of
// an uninterrupted run.
func TestCrashResume(t *testing.T) {
	t.Parallel()
	const rows = 120000
	file := crashCSV(rows)
	for _, tc := range []struct {
		name string
		// killWhen reports whether to kill now, given the job as last seen.
		killWhen func(j *types.ImportJobResponse) bool
	}{
		{"planning", func(j *types.ImportJobResponse) bool { return true }},
		{"mid-pieces", func(j *types.ImportJobResponse) bool {
			return j.CompletedPieces != nil && *j.CompletedPieces >= 3
		}},
		{"late", func(j *types.ImportJobResponse) bool {
			return j.TotalPieces != nil && *j.TotalPieces > 0 && *j.CompletedPieces >= *j.TotalPieces-3
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			data := filepath.Join(t.TempDir(), "data")
			args := []string{"--piece-size", "65536", "--import-workers", "1"}
			p := startServe(t, data, args...)
			c, s3c := p.clients(t, data)
			app, err := c.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("crash")}})
			if err != nil {
				t.Fatal(err)
			}
			appID := app.ApplicationResponse.Id
			if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("imports")}); err != nil {
				t.Fatal(err)
			}
			if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String("crash.csv"), Body: bytes.NewReader(file)}); err != nil {
				t.Fatal(err)
			}
			created, err := c.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: appID, ImportJobRequest: &types.ImportJobRequest{
				Format: types.FormatCsv, S3Url: aws.String("s3://imports/crash.csv"), RoleArn: aws.String("arn:aws:iam::000000000000:role/import"),
				RegisterEndpoints: aws.Bool(true), DefineSegment: aws.Bool(true)}})
			if err != nil {
				t.Fatal(err)
			}
			jobID := created.ImportJobResponse.Id
			killed := false
			for deadline := time.Now().Add(60 * time.Second); !killed && time.Now().Before(deadline); {
				out, err := c.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: appID, JobId: jobID})
				if err != nil {
					t.Fatal(err)
				}
				j := out.ImportJobResponse
				if j.JobStatus == types.JobStatusCompleted {
					t.Logf("the job completed before the kill point %q", tc.name)
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
				c, _ = p.clients(t, data)
			}
			var j *types.ImportJobResponse
			for deadline := time.Now().Add(120 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				out, err := c.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: appID, JobId: jobID})
				if err != nil {
					t.Fatal(err)
				}
				if j = out.ImportJobResponse; j.JobStatus == types.JobStatusCompleted || j.JobStatus == types.JobStatusFailed {
					break
				}
			}
			bad := int32(rows / 1000)
			if j.JobStatus != types.JobStatusCompleted || *j.TotalProcessed != rows || *j.TotalFailures != bad ||
				*j.CompletedPieces != *j.TotalPieces || *j.FailedPieces != 0 || *j.TotalPieces < 20 || len(j.Failures) != pinfold.MaxJobFailures {
				t.Fatalf("after the crash: %s pieces %d/%d failed %d processed %d failures %d (%d listed)",
					j.JobStatus, *j.CompletedPieces, *j.TotalPieces, *j.FailedPieces, *j.TotalProcessed, *j.TotalFailures, len(j.Failures))
			}
			for k, f := range j.Failures {
				if want := fmt.Sprintf("s3://imports/crash.csv:%d: ", 1000*(k+1)+1); !strings.HasPrefix(f, want) {
					t.Fatalf("Failures[%d] = %q, want prefix %q", k, f, want)
				}
			}
			seg, err := c.GetSegment(ctx, &pinpoint.GetSegmentInput{ApplicationId: appID, SegmentId: j.Definition.SegmentId})
			if err != nil || *seg.SegmentResponse.ImportDefinition.Size != rows-bad || *seg.SegmentResponse.Version != 1 {
				t.Fatalf("segment: %+v, %v", seg, err)
			}
			for _, i := range []int{0, rows / 2, rows - 2} {
				e, err := c.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: appID, EndpointId: aws.String(fmt.Sprintf("crash-%06d", i))})
				if err != nil || *e.EndpointResponse.Address != fmt.Sprintf("user%d@example.com", i) || e.EndpointResponse.Attributes["n"][0] != fmt.Sprint(i) {
					t.Fatalf("endpoint %d: %+v, %v", i, e, err)
				}
			}
			p.stop(t)
		})
	}
}

// TestImportWorkers checks --import-workers' default on each store, and that a value given
// wins on both.
func TestImportWorkers(t *testing.T) {
	for _, tc := range []struct {
		database string
		workers  int
		want     int
	}{
		{"", 0, sqliteImportWorkers},
		{"postgres://localhost/pinfold", 0, importer.DefaultWorkers},
		{"", 3, 3},
		{"postgres://localhost/pinfold", 6, 6},
	} {
		cfg := &Config{Database: tc.database, ImportWorkers: tc.workers}
		if got := cfg.importWorkers(); got != tc.want {
			t.Errorf("database %q, --import-workers %d: %d workers, want %d", tc.database, tc.workers, got, tc.want)
		}
	}
	if sqliteImportWorkers == importer.DefaultWorkers {
		t.Fatal("the stores' defaults are the same: the test says nothing")
	}
}
