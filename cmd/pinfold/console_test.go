package main

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func TestServeConsole(t *testing.T) {
	t.Parallel()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	get := func(url string) (*http.Response, string) {
		t.Helper()
		resp, err := noRedirect.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp, string(body)
	}

	p := startServe(t, filepath.Join(t.TempDir(), "data"))
	p.waitStdout(t, "Console: "+p.URL+"/console/")
	if resp, _ := get(p.URL + "/console"); resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != "/console/" {
		t.Fatalf("GET /console: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, body := get(p.URL + "/console/signin"); resp.StatusCode != 200 || !strings.Contains(body, "Sign in to Pinfold") {
		t.Fatalf("GET /console/signin: %d %s", resp.StatusCode, body)
	}
	// Everything else is still the API's, which wants a signature.
	if resp, body := get(p.URL + "/v1/apps"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "missing Authorization header") {
		t.Fatalf("GET /v1/apps: %d %s", resp.StatusCode, body)
	}
	p.stop(t)

	p = startServe(t, filepath.Join(t.TempDir(), "data"), "--console=false")
	if resp, body := get(p.URL + "/console/signin"); resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"Message"`) {
		t.Fatalf("GET /console/signin with --console=false: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(p.stdout.String(), "Console:") {
		t.Fatalf("--console=false still prints the console URL: %q", p.stdout.String())
	}
	p.stop(t)
}
