// Package s3test starts external S3 servers for tests, so that code reading objects is tested
// against an S3 that is not Pinfold's own.
package s3test

import (
	"bytes"
	"errors"
	"github.com/pinfold/pinfold/internal/testlog"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// MotoStartTimeout bounds how long StartMoto waits for moto to answer.
const MotoStartTimeout = 60 * time.Second

// StartMoto starts a moto S3 server (the Python AWS mock: `python3 -m moto.server`) on a free
// loopback port, waits until it answers and returns its endpoint URL, e.g.
// "http://127.0.0.1:41234". It accepts any credentials and needs path-style addressing and
// buckets created before use. The server is stopped in t.Cleanup. The test is skipped only if
// moto is not installed.
func StartMoto(t testing.TB) string {
	t.Helper()
	if out, err := exec.Command("python3", "-c", "import moto").CombinedOutput(); err != nil {
		t.Skipf("moto is not installed (python3 -c 'import moto': %v %s); install it with: pip install 'moto[server]'", err, bytes.TrimSpace(out))
	}

	port := freePort(t)
	var output testlog.Buffer
	cmd := exec.Command("python3", "-m", "moto.server", "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout = &output
	cmd.Stderr = &output
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	url := "http://127.0.0.1:" + strconv.Itoa(port)
	deadline := time.After(MotoStartTimeout)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url + "/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return url
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("moto exited before answering (%v); its output:\n%s", err, output.String())
		case <-deadline:
			t.Fatalf("moto did not answer on %s within %v; its output:\n%s", url, MotoStartTimeout, output.String())
		case <-tick.C:
		}
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("find a free port: %v", err)
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatal(errors.New("listener has no TCP address"))
	}
	return addr.Port
}
