package console_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/pinfold/pinfold/api"
	"github.com/pinfold/pinfold/console"
	"github.com/pinfold/pinfold/internal/testlog"
	"github.com/pinfold/pinfold/internal/testserver"
)

// env is a running Pinfold with the console in front of its API, as `pinfold serve` wires
// them, and everything both logged.
type env struct {
	*testserver.Server
	URL     string // the console's server (API and console on one listener)
	Console *console.Console
	Log     *testlog.Buffer
}

// start starts a Pinfold whose API and console log at debug level into env.Log.
func start(t testing.TB) *env {
	t.Helper()
	return startWith(t, testserver.Options{})
}

// startWith is start with a server changed by opts (its Server hook is the logger's).
func startWith(t testing.TB, opts testserver.Options) *env {
	t.Helper()
	logs := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opts.Server = func(s *api.Server) { s.Logger = log }
	ts := testserver.Start(t, opts)
	c := &console.Console{API: ts.API, Uploader: ts.Objects, Logger: log}
	apiHandler, consoleHandler := ts.API.Handler(), c.Handler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/console/") {
			consoleHandler.ServeHTTP(w, r)
			return
		}
		apiHandler.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	return &env{Server: ts, URL: hs.URL, Console: c, Log: logs}
}

// browser is an HTTP client with cookies that does not follow redirects, so tests see them.
type browser struct {
	t    testing.TB
	base string
	c    *http.Client
	csrf string // the last CSRF token a page showed
}

func (e *env) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: e.URL, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRE = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// do sends a request and returns the response with its body read.
func (b *browser) do(req *http.Request) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	if m := csrfRE.FindStringSubmatch(string(body)); m != nil {
		b.csrf = m[1]
	}
	return resp, string(body)
}

func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	req, _ := http.NewRequest("GET", b.base+path, nil)
	return b.do(req)
}

// post sends a form as a same-origin browser would; the CSRF token is the last one seen
// unless form sets csrf_token.
func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.csrf)
	}
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", b.base)
	return b.do(req)
}

// signIn signs in with a key pair and fails the test unless it works.
func (b *browser) signIn(id, secret string) {
	b.t.Helper()
	b.get("/console/signin")
	resp, body := b.post("/console/signin", url.Values{"access_key_id": {id}, "secret_access_key": {secret}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/apps" {
		b.t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	b.get("/console/apps") // picks up the session's CSRF token
}

// upload posts files to the new import form as multipart, text fields first as browsers
// send them.
func (b *browser) upload(appID string, fields url.Values, files map[string][]byte) (*http.Response, string) {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("csrf_token", b.csrf)
	for k, vs := range fields {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for name, data := range files {
		fw, _ := mw.CreateFormFile("files", name)
		fw.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", b.base+"/console/apps/"+appID+"/import", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", b.base)
	return b.do(req)
}

// keyPair is an access key CreateAccessKey made.
type keyPair struct{ AccessKeyId, SecretAccessKey string }

// apiCall sends a request signed with the root key to the API.
func (e *env) apiCall(t testing.TB, method, path, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testserver.AccessKeyID, SecretAccessKey: testserver.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "mobiletargeting", testserver.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, data
}

func (e *env) createApp(t testing.TB, name string) string {
	t.Helper()
	code, body := e.apiCall(t, "POST", "/v1/apps", `{"Name":"`+name+`"}`)
	var app struct{ Id string }
	if err := json.Unmarshal(body, &app); code != 201 || err != nil {
		t.Fatalf("CreateApp: %d %s", code, body)
	}
	return app.Id
}

func (e *env) createKey(t testing.TB, body string) keyPair {
	t.Helper()
	code, data := e.apiCall(t, "POST", "/v1/pinfold/keys", body)
	var k keyPair
	if err := json.Unmarshal(data, &k); code != 201 || err != nil {
		t.Fatalf("CreateAccessKey: %d %s", code, data)
	}
	return k
}
