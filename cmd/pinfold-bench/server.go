package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

const region = "us-east-1"

// buildPinfold builds the pinfold binary of the module the working directory is in.
func buildPinfold(ctx context.Context, dir string) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("run inside the pinfold module, or pass --pinfold: go env GOMOD: %q %v", gomod, err)
	}
	bin := filepath.Join(dir, "pinfold")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/pinfold")
	cmd.Dir = filepath.Dir(gomod)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/pinfold: %v\n%s", err, out)
	}
	return bin, nil
}

// keyPair is the root key a started server trusts.
type keyPair struct{ id, secret string }

func newKeyPair() keyPair {
	return keyPair{id: "PFBENCH" + strings.ToUpper(newID()[:13]), secret: newID() + newID()[:8]}
}

// serveProc is a running `pinfold serve`.
type serveProc struct {
	cmd    *exec.Cmd
	URL    string // the Pinpoint API
	S3URL  string // the embedded S3 endpoint
	keys   keyPair
	exited chan struct{}

	mu   sync.Mutex
	tail []string // the last lines of the server's log, for error messages
}

// startServe starts bin serve on free ports with data as its data folder and keys as its root
// key, and waits until it listens.
func startServe(ctx context.Context, bin, data string, keys keyPair, args ...string) (*serveProc, error) {
	p := &serveProc{keys: keys, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--s3-addr", "127.0.0.1:0",
		"--data", data, "--log-format", "json"}, args...)...)
	p.cmd.Env = append(os.Environ(), "PINFOLD_ROOT_ACCESS_KEY_ID="+keys.id, "PINFOLD_ROOT_SECRET_ACCESS_KEY="+keys.secret)
	stderr, err := p.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := p.cmd.Start(); err != nil {
		return nil, err
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			var line struct{ Msg, URL string }
			json.Unmarshal(sc.Bytes(), &line)
			switch line.Msg {
			case "embedded S3 endpoint listening":
				p.S3URL = line.URL
			case "pinfold listening":
				p.URL = line.URL
				close(ready)
			}
			p.mu.Lock()
			if p.tail = append(p.tail, sc.Text()); len(p.tail) > 20 {
				p.tail = p.tail[1:]
			}
			p.mu.Unlock()
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	select {
	case <-ready:
		return p, nil
	case <-p.exited:
		return nil, fmt.Errorf("pinfold serve exited before listening:\n%s", p.log())
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	case <-time.After(60 * time.Second):
		p.stop()
		return nil, fmt.Errorf("pinfold serve did not listen within 60s:\n%s", p.log())
	}
}

// log returns the last lines the server logged.
func (p *serveProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.tail, "\n")
}

// pid is the server's process ID.
func (p *serveProc) pid() int { return p.cmd.Process.Pid }

// stop asks the server to stop and kills it if it has not stopped within a minute.
func (p *serveProc) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(time.Minute):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// newHTTPClient is the HTTP client of every SDK client of the run: the SDK's own, keeping
// enough idle connections for the most concurrent clients measured.
func newHTTPClient() *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 512
	})
}

// pinpointClient returns an SDK Pinpoint client of url that does not retry. With empty keys
// it sends requests unsigned (anonymous credentials).
func pinpointClient(url string, keys keyPair, hc aws.HTTPClient) *pinpoint.Client {
	var creds aws.CredentialsProvider = aws.AnonymousCredentials{}
	if keys.id != "" {
		creds = credentials.NewStaticCredentialsProvider(keys.id, keys.secret, "")
	}
	return pinpoint.NewFromConfig(aws.Config{Region: region, Credentials: creds, HTTPClient: hc}, func(o *pinpoint.Options) {
		o.BaseEndpoint = aws.String(url)
		o.Retryer = aws.NopRetryer{}
	})
}

// s3Client returns an SDK S3 client of the server's embedded endpoint, as a user would
// configure one for it: path style, checksums only when required.
func (p *serveProc) s3Client() *awss3.Client {
	creds := credentials.NewStaticCredentialsProvider(p.keys.id, p.keys.secret, "")
	return awss3.NewFromConfig(aws.Config{Region: region, Credentials: creds, HTTPClient: newHTTPClient()}, func(o *awss3.Options) {
		o.BaseEndpoint, o.UsePathStyle = aws.String(p.S3URL), true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
}

// upload puts the file at path into bucket/key of the server's embedded S3 endpoint.
func (p *serveProc) upload(ctx context.Context, bucket, key, path string) error {
	c := p.s3Client()
	if _, err := c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: f}); err != nil {
		return fmt.Errorf("put s3://%s/%s: %w", bucket, key, err)
	}
	return nil
}

// rssSampler follows the resident memory of a process: the kernel's high-water mark
// (VmHWM), reset when sampling starts, and VmRSS sampled every 50 ms in case the reset is
// not allowed.
type rssSampler struct {
	pid  int
	stop chan struct{}
	done chan struct{}
	peak int64 // kB
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{pid: pid, stop: make(chan struct{}), done: make(chan struct{})}
	// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux ≥ 4.0).
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
	go func() {
		defer close(s.done)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			s.sample()
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

func (s *rssSampler) sample() {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.pid))
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "VmHWM" && name != "VmRSS") {
			continue
		}
		kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		s.peak = max(s.peak, kb)
	}
}

// end stops sampling and returns the peak resident memory in MB.
func (s *rssSampler) end() float64 {
	close(s.stop)
	<-s.done
	s.sample()
	return float64(s.peak) / 1024
}
