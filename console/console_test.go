package console_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pinfold/pinfold/internal/testserver"
)

func TestSignIn(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := e.browser(t)

	// Without a session every page leads to the sign-in form.
	if resp, _ := b.get("/console/apps"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("apps without a session: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	b.get("/console/signin")
	resp, body := b.post("/console/signin", url.Values{"access_key_id": {testserver.AccessKeyID}, "secret_access_key": {"wrong-secret"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "The access key ID or the secret access key is wrong.") {
		t.Fatalf("wrong secret: %d %s", resp.StatusCode, body)
	}
	if strings.Contains(body, "wrong-secret") || !strings.Contains(body, `value="`+testserver.AccessKeyID+`"`) {
		t.Fatalf("the form shown again must keep the key ID and drop the secret: %s", body)
	}
	for _, c := range resp.Cookies() {
		if c.Name == "pinfold_console" && c.MaxAge >= 0 {
			t.Fatalf("a wrong secret set a session cookie: %v", c)
		}
	}
	// An unknown key reads the same as a wrong secret.
	resp, body = b.post("/console/signin", url.Values{"access_key_id": {"PFNOSUCHKEY000000000"}, "secret_access_key": {"x"}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "is wrong") {
		t.Fatalf("unknown key: %d %s", resp.StatusCode, body)
	}
	// The sign-in form's own token is required (double submit).
	resp, _ = b.post("/console/signin", url.Values{"access_key_id": {testserver.AccessKeyID},
		"secret_access_key": {testserver.SecretAccessKey}, "csrf_token": {"forged"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("sign-in with a forged token: %d", resp.StatusCode)
	}

	resp, body = b.post("/console/signin", url.Values{"access_key_id": {testserver.AccessKeyID}, "secret_access_key": {testserver.SecretAccessKey}})
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/apps" {
		t.Fatalf("sign-in: %d %s", resp.StatusCode, body)
	}
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "pinfold_console" {
			session = c
		}
	}
	switch {
	case session == nil:
		t.Fatal("no session cookie")
	case !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Path != "/console/" || session.Secure:
		t.Fatalf("session cookie = %+v; want HttpOnly, SameSite=Strict, Path=/console/, not Secure over http", session)
	case session.MaxAge <= 0 || session.MaxAge > 30*60:
		t.Fatalf("session cookie Max-Age = %d, want at most the 30 minute idle limit", session.MaxAge)
	case len(session.Value) < 43:
		t.Fatalf("session ID %q is shorter than 32 random bytes", session.Value)
	}
	if resp, body := b.get("/console/apps"); resp.StatusCode != 200 || !strings.Contains(body, testserver.AccessKeyID) {
		t.Fatalf("apps after sign-in: %d", resp.StatusCode)
	}

	// Sign-out ends the session on the server, not only in the browser.
	b.post("/console/signout", nil)
	replay := e.browser(t)
	u, _ := url.Parse(e.URL + "/console/")
	replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: "pinfold_console", Value: session.Value}})
	if resp, _ := replay.get("/console/apps"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a signed-out session still works: %d", resp.StatusCode)
	}
}

func TestSignInFailuresAreLimited(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := e.browser(t)
	b.get("/console/signin")
	var resp *http.Response
	for range 11 {
		resp, _ = b.post("/console/signin", url.Values{"access_key_id": {testserver.AccessKeyID}, "secret_access_key": {"guess"}})
	}
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("11th wrong secret in a minute: %d, want 429", resp.StatusCode)
	}
	// Even the right secret waits out the window.
	resp, _ = b.post("/console/signin", url.Values{"access_key_id": {testserver.AccessKeyID}, "secret_access_key": {testserver.SecretAccessKey}})
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("sign-in while limited: %d, want 429", resp.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := e.browser(t)
	b.signIn(testserver.AccessKeyID, testserver.SecretAccessKey)
	token := b.csrf
	wrong := "A" + token[1:]
	if wrong == token { // a token that starts with A: change it still
		wrong = "B" + token[1:]
	}
	for _, tt := range []struct {
		name   string
		form   url.Values
		origin string
	}{
		{"no token", url.Values{"name": {"x"}, "csrf_token": nil}, ""},
		{"wrong token", url.Values{"name": {"x"}, "csrf_token": {wrong}}, ""},
		{"other origin", url.Values{"name": {"x"}, "csrf_token": {token}}, "http://evil.example"},
	} {
		form := tt.form
		if form["csrf_token"] == nil {
			form.Del("csrf_token")
		}
		req, _ := http.NewRequest("POST", e.URL+"/console/apps", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		if resp, body := b.do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d %s", tt.name, resp.StatusCode, body)
		}
	}
	// A multipart upload checks its token before it stores anything.
	app := e.createApp(t, "csrf")
	b.csrf = "forged"
	if resp, _ := b.upload(app, url.Values{"format": {"CSV"}}, map[string][]byte{"a.csv": []byte("Id,ChannelType,Address\n")}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("upload with a forged token: %d", resp.StatusCode)
	}
	if objs, _ := e.Objects.List(t.Context(), "pinfold-imports", ""); len(objs) != 0 {
		t.Errorf("a refused upload stored %v", objs)
	}
	b.csrf = token
	resp, body := b.post("/console/apps", url.Values{"name": {"made"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create app with the token: %d %s", resp.StatusCode, body)
	}
}

func TestScopedKey(t *testing.T) {
	t.Parallel()
	e := start(t)
	mine, other := e.createApp(t, "mine"), e.createApp(t, "other")
	k := e.createKey(t, `{"AppIds":["`+mine+`"]}`)
	b := e.browser(t)
	b.signIn(k.AccessKeyId, k.SecretAccessKey)
	_, body := b.get("/console/apps")
	if !strings.Contains(body, mine) || strings.Contains(body, other) {
		t.Fatalf("a key for %s sees on the apps page: %s", mine, body)
	}
	for _, p := range []string{"/jobs", "/segments", "/import", "/endpoints", "/jobs.json"} {
		resp, body := b.get("/console/apps/" + other + p)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "may not use application") {
			t.Errorf("%s of another app: %d %s", p, resp.StatusCode, body)
		}
	}
	// Creating an app is refused with the API's reason, shown on the page.
	resp, body := b.post("/console/apps", url.Values{"name": {"new"}})
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "may not CreateApp") {
		t.Fatalf("create app with a scoped key: %d %s", resp.StatusCode, body)
	}
}

func TestRevokedKeyEndsSession(t *testing.T) {
	t.Parallel()
	e := start(t)
	k := e.createKey(t, `{}`)
	b := e.browser(t)
	b.signIn(k.AccessKeyId, k.SecretAccessKey)
	if code, body := e.apiCall(t, "DELETE", "/v1/pinfold/keys/"+k.AccessKeyId, ""); code != 200 {
		t.Fatalf("revoke: %d %s", code, body)
	}
	if resp, _ := b.get("/console/apps"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/signin" {
		t.Fatalf("page after revocation: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	// And the session is gone for good, and the key cannot sign in again.
	b.get("/console/signin")
	resp, body := b.post("/console/signin", url.Values{"access_key_id": {k.AccessKeyId}, "secret_access_key": {k.SecretAccessKey}})
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "was revoked") {
		t.Fatalf("sign-in with a revoked key: %d %s", resp.StatusCode, body)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := e.browser(t)
	for _, p := range []string{"/console/signin", "/console/static/console.css", "/console/nowhere"} {
		resp, _ := b.get(p)
		h := resp.Header
		if csp := h.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "script-src 'self'") ||
			strings.Contains(csp, "unsafe-inline") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: Content-Security-Policy %q", p, csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, h)
		}
	}
	// No inline script anywhere in the pages.
	_, body := b.get("/console/signin")
	if regexp.MustCompile(`<script(?:\s+[^>]*)?>\s*[^<\s]`).MatchString(body) || strings.Contains(body, " on") && regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
		t.Errorf("the sign-in page has inline script: %s", body)
	}
	// The API's 404 still answers every other path.
	if code, body := e.apiCall(t, "GET", "/nowhere", ""); code != http.StatusNotFound || !strings.Contains(string(body), "no operation at GET /nowhere") {
		t.Errorf("GET /nowhere: %d %s", code, body)
	}
}

// A static file is sent whole, whatever Range a request asks for.
func TestStaticIgnoresRange(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := e.browser(t)
	_, whole := b.get("/console/static/console.css")
	if len(whole) < 100 {
		t.Fatalf("console.css is %d bytes", len(whole))
	}
	for _, rng := range []string{"bytes=0-9", "bytes=-5", "bytes=" + strings.Repeat("0-0,", 5000) + "0-0"} {
		req, _ := http.NewRequest("GET", b.base+"/console/static/console.css", nil)
		req.Header.Set("Range", rng)
		resp, body := b.do(req)
		if resp.StatusCode != http.StatusOK || body != whole || resp.Header.Get("Content-Range") != "" {
			t.Errorf("Range %.20s: %d, %d bytes, Content-Range %q; want 200 and the whole file", rng, resp.StatusCode, len(body), resp.Header.Get("Content-Range"))
		}
	}
}

// The whole flow through the console's HTTP: upload, live progress JSON, the job and its
// failures, the report, the segment, the endpoint lookup. The secret appears in no response
// and no log line.
func TestUploadToSegment(t *testing.T) {
	t.Parallel()
	e := start(t)
	b := e.browser(t)
	k := e.createKey(t, `{}`)
	var bodies []string
	b.signIn(k.AccessKeyId, k.SecretAccessKey)
	resp, body := b.post("/console/apps", url.Values{"name": {"shop"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("create app: %d %s", resp.StatusCode, body)
	}
	appPath := resp.Header.Get("Location") // /console/apps/{id}/jobs
	app := strings.Split(appPath, "/")[3]
	_, body = b.get("/console/apps/" + app + "/import")
	bodies = append(bodies, body)
	data, err := os.ReadFile("testdata/upload/endpoints.csv")
	if err != nil {
		t.Fatal(err)
	}
	resp, body = b.upload(app, url.Values{"format": {"auto"}, "mode": {"register"}, "segment_mode": {"new"},
		"segment_name": {"november"}, "role_arn": {"arn:aws:iam::123456789012:role/import"}, "s3_url": {""}},
		map[string][]byte{"endpoints.csv": data})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "?created=") {
		t.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	jobID := strings.SplitN(resp.Header.Get("Location"), "?created=", 2)[1]

	// Poll the progress JSON the jobs page polls until the job ends.
	var jobs struct {
		Jobs []struct {
			ID, Status, Processed, Failures string
			Percent                         int
			Terminal                        bool
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, body = b.get("/console/apps/" + app + "/jobs.json")
		if err := json.Unmarshal([]byte(body), &jobs); err != nil || len(jobs.Jobs) != 1 || jobs.Jobs[0].ID != jobID {
			t.Fatalf("jobs.json: %v %s", err, body)
		}
		if jobs.Jobs[0].Terminal {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the job did not end: %s", body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if j := jobs.Jobs[0]; j.Status != "COMPLETED" || j.Percent != 100 || j.Processed != "300" || j.Failures != "1" {
		t.Fatalf("finished job: %+v", j)
	}
	// The job page polls its one job.
	_, body = b.get("/console/apps/" + app + "/jobs.json?job=" + jobID)
	if err := json.Unmarshal([]byte(body), &jobs); err != nil || len(jobs.Jobs) != 1 || jobs.Jobs[0].ID != jobID || jobs.Jobs[0].Status != "COMPLETED" {
		t.Fatalf("jobs.json?job=: %v %s", err, body)
	}
	var one struct {
		Timeline []struct {
			State, Time, Note string
			Current           bool
		}
	}
	if err := json.Unmarshal([]byte(body), &one); err != nil || len(one.Timeline) != 6 || one.Timeline[0].State != "CREATED" ||
		one.Timeline[5].State != "COMPLETED" || one.Timeline[5].Current || !strings.HasPrefix(one.Timeline[5].Note, "ended after ") {
		t.Fatalf("jobs.json?job= timeline: %v %s", err, body)
	}
	if resp, body := b.get("/console/apps/" + app + "/jobs.json?job=nope"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"error"`) {
		t.Fatalf("jobs.json of no job: %d %s", resp.StatusCode, body)
	}
	_, body = b.get("/console/apps/" + app + "/jobs")
	bodies = append(bodies, body)
	if !strings.Contains(body, `value="100"`) || !strings.Contains(body, "COMPLETED") {
		t.Fatalf("jobs page: %s", body)
	}
	_, body = b.get("/console/apps/" + app + "/jobs/" + jobID)
	bodies = append(bodies, body)
	wantFailure := "s3://pinfold-imports/console-uploads/"
	if !strings.Contains(body, wantFailure) || !strings.Contains(body, "/endpoints.csv:101: ") {
		t.Fatalf("job page does not show the failure at line 101: %s", body)
	}
	wantStates := []string{"CREATED", "PREPARING_FOR_INITIALIZATION", "INITIALIZING", "PROCESSING", "COMPLETING", "COMPLETED"}
	if got := timelineStates(t, body); !slices.Equal(got, wantStates) {
		t.Fatalf("job page timeline = %v, want %v", got, wantStates)
	}
	m := regexp.MustCompile(`href="(/console/apps/[^"]+/segments/[^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("job page links no segment: %s", body)
	}
	segPath := m[1]

	resp, body = b.get("/console/apps/" + app + "/jobs/" + jobID + "/failures")
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment;") {
		t.Fatalf("failure report: %d %v", resp.StatusCode, resp.Header)
	}
	var line struct {
		Line    int64
		Message string
	}
	if err := json.Unmarshal([]byte(strings.TrimSpace(body)), &line); err != nil || line.Line != 101 || !strings.Contains(line.Message, "FAX") {
		t.Fatalf("failure report = %q (%v)", body, err)
	}

	_, body = b.get(segPath)
	bodies = append(bodies, body)
	if !strings.Contains(body, "299 endpoints") || !strings.Contains(body, `aria-label="Endpoints by channel: EMAIL 199, SMS 100"`) {
		t.Fatalf("segment page: %s", body)
	}
	_, body = b.get("/console/apps/" + app + "/segments")
	bodies = append(bodies, body)
	if !strings.Contains(body, "november") || !strings.Contains(body, "<svg") {
		t.Fatalf("segments page: %s", body)
	}
	resp, body = b.post(segPath+"/export", url.Values{"s3_url_prefix": {"s3://pinfold-exports/november/"}, "role_arn": {"arn:aws:iam::123456789012:role/export"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("export: %d %s", resp.StatusCode, body)
	}
	_, body = b.get(resp.Header.Get("Location"))
	if !strings.Contains(body, "s3://pinfold-exports/november/") {
		t.Fatalf("segment page lists no export: %s", body)
	}

	_, body = b.get("/console/apps/" + app + "/endpoints?endpoint_id=ep-0003")
	bodies = append(bodies, body)
	if !strings.Contains(body, "12065550003") || !strings.Contains(body, "user-0003") {
		t.Fatalf("endpoint lookup: %s", body)
	}
	_, body = b.get("/console/apps/" + app + "/endpoints?user_id=user-0004")
	if !strings.Contains(body, "user4@example.com") {
		t.Fatalf("user lookup: %s", body)
	}
	resp, body = b.get("/console/apps/" + app + "/endpoints?endpoint_id=nope")
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("lookup of no endpoint: %d %s", resp.StatusCode, body)
	}

	for _, body := range append(bodies, e.Log.String()) {
		if strings.Contains(body, k.SecretAccessKey) {
			t.Fatalf("the secret appears in a page or the log")
		}
	}
	if !strings.Contains(e.Log.String(), "console sign-in") {
		t.Fatalf("the log has no sign-in line: %s", e.Log.String())
	}
}

// timelineStates returns the states of a job page's timeline, in order.
func timelineStates(t *testing.T, page string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<ol class="timeline" data-timeline>(.*?)</ol>`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("job page has no timeline: %s", page)
	}
	var states []string
	for _, li := range regexp.MustCompile(`<li[^>]*><span class="badge [a-z]+">([A-Z_]+)</span> <time datetime="[^"]+">[^<]+</time> <span class="muted">[^<]+</span></li>`).FindAllStringSubmatch(m[1], -1) {
		states = append(states, li[1])
	}
	return states
}

func TestDeleteApp(t *testing.T) {
	t.Parallel()
	e := start(t)
	app := e.createApp(t, "doomed")
	b := e.browser(t)
	b.signIn(testserver.AccessKeyID, testserver.SecretAccessKey)
	resp, body := b.get("/console/apps/" + app + "/delete")
	if resp.StatusCode != 200 || !strings.Contains(body, "Delete doomed?") {
		t.Fatalf("confirmation page: %d %s", resp.StatusCode, body)
	}
	resp, _ = b.post("/console/apps/"+app+"/delete", nil)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", resp.StatusCode)
	}
	if code, _ := e.apiCall(t, "GET", "/v1/apps/"+app, ""); code != http.StatusNotFound {
		t.Fatalf("GetApp after delete: %d", code)
	}
}

// The first load of the sign-in page and of the jobs page, with the CSS and JS they load,
// weighs under 200 KB.
func TestPageWeight(t *testing.T) {
	t.Parallel()
	e := start(t)
	app := e.createApp(t, "weight")
	b := e.browser(t)
	_, css := b.get("/console/static/console.css")
	_, js := b.get("/console/static/console.js")
	_, signin := b.get("/console/signin")
	b.signIn(testserver.AccessKeyID, testserver.SecretAccessKey)
	_, jobs := b.get("/console/apps/" + app + "/jobs")
	const limit = 200 << 10
	for name, n := range map[string]int{"sign-in": len(signin) + len(css) + len(js), "jobs": len(jobs) + len(css) + len(js)} {
		t.Logf("%s page with CSS and JS: %d bytes", name, n)
		if n > limit {
			t.Errorf("%s page weighs %d bytes, over %d", name, n, limit)
		}
	}
}
