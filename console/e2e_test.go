package console_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/internal/testlog"
	"github.com/pinfold/pinfold/internal/testserver"
)

// The end-to-end test drives a real headless Chromium through chromedriver with a small
// W3C WebDriver client, against a real Pinfold (store, embedded S3, importer, API, console).

const (
	chromiumPath     = "/usr/bin/chromium"
	chromedriverPath = "/usr/bin/chromedriver"
	elementKey       = "element-6066-11e4-a52e-4f735466cecf" // the W3C web element identifier
)

// webDriver is one WebDriver session.
type webDriver struct {
	t       *testing.T
	base    string // http://127.0.0.1:PORT/session/ID
	shots   string // folder for screenshots
	counter int
}

// wd sends a WebDriver command and returns its "value", failing the test on an error.
func (d *webDriver) wd(method, path string, in any) json.RawMessage {
	d.t.Helper()
	v, err := wdCall(method, d.base+path, in)
	if err != nil {
		d.t.Fatalf("webdriver %s %s: %v", method, path, err)
	}
	return v
}

func wdCall(method, url string, in any) (json.RawMessage, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out struct {
		Value json.RawMessage `json:"value"`
	}
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &out); err != nil {
		return nil, fmt.Errorf("%d %s", resp.StatusCode, data)
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("%d %s", resp.StatusCode, out.Value)
	}
	return out.Value, nil
}

func (d *webDriver) open(url string) {
	d.t.Helper()
	d.wd("POST", "/url", map[string]string{"url": url})
}

// find returns the element the CSS selector finds, waiting up to 10s for it to appear.
func (d *webDriver) find(css string) string {
	d.t.Helper()
	var id string
	d.waitFor("element "+css, 10*time.Second, func() bool {
		v, err := wdCall("POST", d.base+"/element", map[string]string{"using": "css selector", "value": css})
		if err != nil {
			return false
		}
		var el map[string]string
		json.Unmarshal(v, &el)
		id = el[elementKey]
		return id != ""
	})
	return id
}

func (d *webDriver) click(css string) {
	d.t.Helper()
	d.wd("POST", "/element/"+d.find(css)+"/click", map[string]any{})
}

func (d *webDriver) typeInto(css, text string) {
	d.t.Helper()
	d.wd("POST", "/element/"+d.find(css)+"/value", map[string]string{"text": text})
}

// script runs JavaScript in the page and decodes its result into out.
func (d *webDriver) script(js string, out any) {
	d.t.Helper()
	v := d.wd("POST", "/execute/sync", map[string]any{"script": js, "args": []any{}})
	if err := json.Unmarshal(v, out); err != nil {
		d.t.Fatalf("script %q returned %s", js, v)
	}
}

func (d *webDriver) text(css string) string {
	d.t.Helper()
	var s string
	json.Unmarshal(d.wd("GET", "/element/"+d.find(css)+"/text", nil), &s)
	return s
}

func (d *webDriver) url() string {
	var s string
	json.Unmarshal(d.wd("GET", "/url", nil), &s)
	return s
}

// waitFor polls cond every 100ms until it holds, or fails the test after timeout.
func (d *webDriver) waitFor(what string, timeout time.Duration, cond func() bool) {
	d.t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			d.screenshot("timeout")
			d.t.Fatalf("waited %v for %s; the page is %s", timeout, what, d.url())
		}
	}
}

// screenshot saves the page as NN-name.png in the artifacts folder.
func (d *webDriver) screenshot(name string) {
	d.t.Helper()
	var b64 string
	json.Unmarshal(d.wd("GET", "/screenshot", nil), &b64)
	png, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		d.t.Fatalf("screenshot: %v", err)
	}
	d.counter++
	path := filepath.Join(d.shots, fmt.Sprintf("%02d-%s.png", d.counter, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		d.t.Fatal(err)
	}
}

// startChrome starts chromedriver and a headless Chromium session downloading into downloads.
func startChrome(t *testing.T, downloads string) *webDriver {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(chromedriverPath, fmt.Sprintf("--port=%d", port))
	var logs testlog.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chromedriver: %v", err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if v, err := wdCall("GET", base+"/status", nil); err == nil && bytes.Contains(v, []byte(`"ready":true`)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("chromedriver did not start: %s", logs.String())
		}
	}
	caps := map[string]any{"capabilities": map[string]any{"alwaysMatch": map[string]any{
		"browserName": "chrome",
		"goog:chromeOptions": map[string]any{
			"binary": chromiumPath,
			"args": []string{"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
				"--disable-background-networking", "--disable-component-update", "--disable-sync",
				"--disable-dev-shm-usage", "--window-size=1280,900", "--user-data-dir=" + t.TempDir()},
			"prefs": map[string]any{"download.default_directory": downloads, "download.prompt_for_download": false},
		},
	}}}
	v, err := wdCall("POST", base+"/session", caps)
	if err != nil {
		t.Fatalf("new WebDriver session: %v\n%s", err, logs.String())
	}
	var s struct {
		SessionID string `json:"sessionId"`
	}
	json.Unmarshal(v, &s)
	d := &webDriver{t: t, base: base + "/session/" + s.SessionID}
	t.Cleanup(func() { wdCall("DELETE", d.base, nil) })
	// Headless Chromium downloads only when told where to.
	d.wd("POST", "/goog/cdp/execute", map[string]any{"cmd": "Browser.setDownloadBehavior",
		"params": map[string]any{"behavior": "allow", "downloadPath": downloads}})
	return d
}

// artifactsDir is where the screenshots go: $PINFOLD_CONSOLE_ARTIFACTS, or a fixed folder
// under the system's temporary folder.
func artifactsDir(t *testing.T) string {
	dir := os.Getenv("PINFOLD_CONSOLE_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "pinfold-console-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestBrowser(t *testing.T) {
	for _, p := range []string{chromiumPath, chromedriverPath} {
		if _, err := os.Stat(p); err != nil {
			t.Skip("chromium/chromedriver not installed: .ci/run installs them (apt-get install chromium chromium-driver)")
		}
	}
	t.Parallel()
	e := start(t)
	csvPath, err := filepath.Abs("testdata/upload/endpoints.csv")
	if err != nil {
		t.Fatal(err)
	}
	downloads := t.TempDir()
	d := startChrome(t, downloads)
	d.shots = artifactsDir(t)
	t.Logf("screenshots: %s", d.shots)

	// Sign in.
	d.open(e.URL + "/console/")
	d.find("#secret_access_key")
	d.screenshot("signin")
	d.typeInto("#access_key_id", testserver.AccessKeyID)
	d.typeInto("#secret_access_key", testserver.SecretAccessKey)
	d.click("form[action='/console/signin'] button")
	d.waitFor("the apps page", 10*time.Second, func() bool { return strings.HasSuffix(d.url(), "/console/apps") })

	// Create an app; the console opens its jobs page.
	d.typeInto("#app-name", "Shop")
	d.screenshot("apps")
	d.click("form[action='/console/apps'] button")
	d.waitFor("the new app's jobs page", 10*time.Second, func() bool { return strings.HasSuffix(d.url(), "/jobs") })

	// Upload the CSV into a new segment.
	d.click("nav.tabs a[href$='/import']")
	d.typeInto("input[name=segment_name]", "november")
	d.typeInto("#files", csvPath)
	d.screenshot("import")
	d.script(`window.pinfoldMarker = "same page"; return true`, new(bool))
	d.click("form[data-upload] button[type=submit]")
	d.waitFor("the jobs page after the upload", 20*time.Second, func() bool { return strings.Contains(d.url(), "/jobs?created=") })

	// The progress bar reaches 100% and the job completes. A job still running when the page
	// loaded must get there without a reload (console.js polls).
	d.script(`window.pinfoldMarker = "jobs page"; return true`, new(bool))
	var first string
	d.script(`return document.querySelector("[data-job] [data-field=status]").textContent`, &first)
	d.waitFor("the progress bar at 100% and COMPLETED", 30*time.Second, func() bool {
		var state struct {
			Value  float64
			Status string
			Marker string
		}
		d.script(`var r = document.querySelector("[data-job]");
			return {Value: r.querySelector("progress").value, Status: r.querySelector("[data-field=status]").textContent,
				Marker: String(window.pinfoldMarker)}`, &state)
		if state.Marker != "jobs page" {
			d.t.Fatalf("the jobs page reloaded while the job ran")
		}
		return state.Value == 100 && state.Status == "COMPLETED"
	})
	t.Logf("the job was %s when the jobs page loaded", first)
	if got := d.text("[data-job] [data-field=processed]"); got != "300" {
		t.Errorf("endpoints read = %q, want 300", got)
	}
	d.screenshot("jobs")

	// The job: its failure with file and line, the report, the segment.
	d.click("[data-job] td a")
	d.find("ol.failures")
	if got := d.text("ol.failures li"); !strings.Contains(got, "/endpoints.csv:101:") || !strings.Contains(got, "FAX") {
		t.Errorf("first failure = %q, want endpoints.csv line 101 (ChannelType FAX)", got)
	}
	// The timeline: every state in order, on screen beside the progress.
	var timeline struct {
		States  []string
		Visible bool
	}
	d.script(`var ol = document.querySelector("ol[data-timeline]"), r = ol.getBoundingClientRect();
		return {States: Array.prototype.map.call(ol.querySelectorAll("li .badge"), function (b) { return b.textContent; }),
			Visible: r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight}`, &timeline)
	if want := []string{"CREATED", "PREPARING_FOR_INITIALIZATION", "INITIALIZING", "PROCESSING", "COMPLETING", "COMPLETED"}; !slices.Equal(timeline.States, want) || !timeline.Visible {
		t.Errorf("job page timeline = %v (on screen: %v), want %v on screen", timeline.States, timeline.Visible, want)
	}
	if got := d.text("ol[data-timeline] li:last-child"); !strings.Contains(got, "ended after") {
		t.Errorf("the timeline's last state says %q, want how long the job took", got)
	}
	d.screenshot("job")
	d.script(`document.querySelector("ol.failures").scrollIntoView({block: "center"}); return true`, new(bool))
	d.screenshot("job-failures")
	d.click("a[href$='/failures']")
	var report []byte
	d.waitFor("the failure report download", 20*time.Second, func() bool {
		files, _ := filepath.Glob(filepath.Join(downloads, "failures-*.ndjson"))
		if len(files) != 1 {
			return false
		}
		report, _ = os.ReadFile(files[0])
		return len(report) > 0
	})
	var line struct {
		Line    int64
		Message string
	}
	if err := json.Unmarshal(bytes.TrimSpace(report), &line); err != nil || line.Line != 101 || !strings.Contains(line.Message, "FAX") {
		t.Errorf("failure report = %q (%v)", report, err)
	}
	d.click("a.button[href*='/segments/']")
	d.find("svg.chart")
	if got := d.text(".big-number"); got != "299 endpoints" {
		t.Errorf("segment size = %q, want 299 endpoints", got)
	}
	d.screenshot("segment")
	d.click("nav.tabs a[href$='/segments']")
	d.find("svg.chart")
	d.screenshot("segments")

	// Endpoint lookup.
	d.click("nav.tabs a[href$='/endpoints']")
	d.typeInto("#endpoint_id", "ep-0003")
	d.click("form.lookup button")
	d.find("section.endpoint")
	if got := d.text("section.endpoint dl"); !strings.Contains(got, "+12065550003") || !strings.Contains(got, "user-0003") {
		t.Errorf("endpoint lookup shows %q", got)
	}
	d.screenshot("endpoint")

	// The apps list, and the confirmation a deletion asks for (not given).
	d.open(e.URL + "/console/apps")
	d.find("table a[href$='/delete']")
	d.screenshot("apps-list")
	d.click("table a[href$='/delete']")
	if got := d.text("main h1"); got != "Delete Shop?" {
		t.Errorf("delete confirmation heading = %q", got)
	}
	d.screenshot("delete-confirm")

	// A phone-sized window.
	d.wd("POST", "/window/rect", map[string]int{"width": 375, "height": 812})
	d.click("a.button.secondary") // "Keep it"
	d.click("table a[href$='/jobs']")
	d.find("[data-job]")
	d.screenshot("jobs-375px")
}

// TestBrowserLiveTimeline watches a running job's page: its timeline marks the current state
// and is redrawn as the page polls, without a reload, until the job ends and the page shows
// the end. The job waits in PREPARING_FOR_INITIALIZATION on an S3 endpoint that answers only
// when the test lets it.
func TestBrowserLiveTimeline(t *testing.T) {
	for _, p := range []string{chromiumPath, chromedriverPath} {
		if _, err := os.Stat(p); err != nil {
			t.Skip("chromium/chromedriver not installed: .ci/run installs them (apt-get install chromium chromium-driver)")
		}
	}
	t.Parallel()
	release := make(chan struct{})
	slowS3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
			w.WriteHeader(http.StatusNotFound) // HeadBucket: no such bucket
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(slowS3.Close)
	var once sync.Once
	letGo := func() { once.Do(func() { close(release) }) }
	t.Cleanup(letGo) // before slowS3.Close, which waits for its requests
	e := startWith(t, testserver.Options{S3Endpoint: slowS3.URL, S3AccessKeyID: "slow", S3Secret: "slow"})
	app := e.createApp(t, "Live")
	code, body := e.apiCall(t, "POST", "/v1/apps/"+app+"/jobs/import",
		`{"Format":"CSV","S3Url":"s3://slow/endpoints.csv","RoleArn":"arn:aws:iam::123456789012:role/import"}`)
	var created struct{ Id string }
	if err := json.Unmarshal(body, &created); code != 201 || err != nil {
		t.Fatalf("CreateImportJob: %d %s", code, body)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		j, err := e.DB.FindImportJob(context.Background(), app, created.Id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == pinfold.JobPreparingForInitialization {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job is %s, want it waiting on S3 in PREPARING_FOR_INITIALIZATION", j.Status)
		}
	}

	d := startChrome(t, t.TempDir())
	d.shots = artifactsDir(t)
	d.open(e.URL + "/console/")
	d.typeInto("#access_key_id", testserver.AccessKeyID)
	d.typeInto("#secret_access_key", testserver.SecretAccessKey)
	d.click("form[action='/console/signin'] button")
	d.waitFor("the apps page", 10*time.Second, func() bool { return strings.HasSuffix(d.url(), "/console/apps") })
	d.open(e.URL + "/console/apps/" + app + "/jobs/" + created.Id)

	type timeline struct {
		States  []string
		Current string // the text of the entry marked current
		Old     bool   // an entry from before the last redraw is still there
		Marker  string
	}
	// read reads the timeline; while the page reloads, the new document may not have it yet.
	read := func() timeline {
		var tl timeline
		d.script(`var ol = document.querySelector("ol[data-timeline]");
			if (!ol) { return {States: [], Current: "", Old: false, Marker: String(window.pinfoldMarker)}; }
			var cur = ol.querySelector("li.current");
			return {States: Array.prototype.map.call(ol.querySelectorAll("li .badge"), function (b) { return b.textContent; }),
				Current: cur ? cur.textContent : "", Old: !!ol.querySelector("li[data-old]"), Marker: String(window.pinfoldMarker)}`, &tl)
		return tl
	}
	d.find("ol[data-timeline] li.current")
	if tl := read(); !slices.Equal(tl.States, []string{"CREATED", "PREPARING_FOR_INITIALIZATION"}) ||
		!strings.Contains(tl.Current, "PREPARING_FOR_INITIALIZATION") || !strings.Contains(tl.Current, "now, for ") {
		t.Fatalf("running job's timeline = %+v, want CREATED then PREPARING_FOR_INITIALIZATION marked now", tl)
	}
	d.screenshot("job-running")

	// The page polls: the timeline is drawn again from the job's JSON, in the same page.
	d.script(`window.pinfoldMarker = "job page";
		document.querySelectorAll("ol[data-timeline] li").forEach(function (li) { li.setAttribute("data-old", "1"); });
		return true`, new(bool))
	d.waitFor("the timeline redrawn by a poll", 10*time.Second, func() bool {
		tl := read()
		if tl.Marker != "job page" {
			t.Fatalf("the job page reloaded while its job ran")
		}
		return !tl.Old && strings.Contains(tl.Current, "now, for ")
	})

	// The job ends: the page reloads once and shows the end.
	letGo()
	d.waitFor("the ended job's timeline", 20*time.Second, func() bool {
		tl := read()
		return tl.Marker != "job page" && slices.Equal(tl.States, []string{"CREATED", "PREPARING_FOR_INITIALIZATION", "FAILED"}) && tl.Current == ""
	})
	if got := d.text("ol[data-timeline] li:last-child"); !strings.Contains(got, "ended after") {
		t.Errorf("the timeline's last state says %q, want how long the job took", got)
	}
}
