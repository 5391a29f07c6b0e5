package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// TestServeDebugAddr checks that --debug-addr serves Go's profiles on its own listener, and
// that the API's listener does not.
func TestServeDebugAddr(t *testing.T) {
	t.Parallel()
	p := startServe(t, filepath.Join(t.TempDir(), "data"), "--debug-addr", "127.0.0.1:0", "--memory-limit", "104857600")
	var debugURL string
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	for sc.Scan() {
		var line struct{ Msg, URL string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "profiling endpoints" {
			debugURL = line.URL
		}
	}
	if debugURL == "" {
		t.Fatalf("no profiling endpoints logged:\n%s", p.stderr.String())
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if status, body := get(debugURL + "heap?debug=1"); status != 200 || !strings.Contains(body, "heap profile") {
		t.Fatalf("GET %sheap: %d %.200s", debugURL, status, body)
	}
	if status, _ := get(p.URL + "/debug/pprof/"); status == 200 {
		t.Fatal("the API's listener serves /debug/pprof/")
	}
	p.stop(t)
}

// TestSetMemoryLimit checks that --memory-limit sets the runtime's soft limit, and that
// GOMEMLIMIT, when set, wins.
func TestSetMemoryLimit(t *testing.T) {
	before := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(before) })
	setMemoryLimit(123<<20, func(string) string { return "" })
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Fatalf("limit after --memory-limit: %d", got)
	}
	setMemoryLimit(456<<20, func(k string) string { return map[string]string{"GOMEMLIMIT": "1GiB"}[k] })
	if got := debug.SetMemoryLimit(-1); got != 123<<20 {
		t.Fatalf("limit changed although GOMEMLIMIT is set: %d", got)
	}
}
