package api_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/aws/smithy-go"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/api"
	"github.com/pinfold/pinfold/internal/testlog"
	"github.com/pinfold/pinfold/internal/testserver"
	"github.com/pinfold/pinfold/sqlite"
)

var ctx = context.Background()

func createApp(t *testing.T, c *pinpoint.Client, name string) *types.ApplicationResponse {
	t.Helper()
	out, err := c.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{
		Name: aws.String(name), Tags: map[string]string{"team": "growth"}}})
	if err != nil {
		t.Fatalf("CreateApp: %v", err)
	}
	return out.ApplicationResponse
}

// wantAPIError checks that err is the typed Pinpoint exception E with a message containing msg.
func wantAPIError[E smithy.APIError](t *testing.T, err error, msg string) E {
	t.Helper()
	var e E
	if !errors.As(err, &e) {
		t.Fatalf("error = %T %v, want %T", err, err, e)
	}
	if !strings.Contains(e.ErrorMessage(), msg) {
		t.Fatalf("message = %q, want it to contain %q", e.ErrorMessage(), msg)
	}
	return e
}

func TestApps(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	c := s.Pinpoint
	app := createApp(t, c, "ExampleCorp")
	if len(*app.Id) != 32 || strings.Trim(*app.Id, "0123456789abcdef") != "" {
		t.Fatalf("Id = %q, want 32 lowercase hex characters", *app.Id)
	}
	if want := "arn:aws:mobiletargeting:us-east-1:123456789012:apps/" + *app.Id; *app.Arn != want {
		t.Fatalf("Arn = %q, want %q", *app.Arn, want)
	}
	if _, err := time.Parse(pinfold.ISO8601, *app.CreationDate); err != nil {
		t.Fatalf("CreationDate = %q: %v", *app.CreationDate, err)
	}
	if app.Tags["team"] != "growth" || *app.Name != "ExampleCorp" {
		t.Fatalf("app = %+v", app)
	}

	got, err := c.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: app.Id})
	if err != nil {
		t.Fatal(err)
	}
	if *got.ApplicationResponse.Id != *app.Id || *got.ApplicationResponse.CreationDate != *app.CreationDate {
		t.Fatalf("GetApp = %+v, want %+v", got.ApplicationResponse, app)
	}

	deleted, err := c.DeleteApp(ctx, &pinpoint.DeleteAppInput{ApplicationId: app.Id})
	if err != nil {
		t.Fatal(err)
	}
	if *deleted.ApplicationResponse.Id != *app.Id || *deleted.ApplicationResponse.Name != "ExampleCorp" {
		t.Fatalf("DeleteApp returned %+v", deleted.ApplicationResponse)
	}
	_, err = c.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: app.Id})
	wantAPIError[*types.NotFoundException](t, err, *app.Id)
	_, err = c.DeleteApp(ctx, &pinpoint.DeleteAppInput{ApplicationId: app.Id})
	wantAPIError[*types.NotFoundException](t, err, "not found")
}

func TestGetAppsPaging(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	var want []string
	for i := range 7 {
		want = append(want, *createApp(t, s.Pinpoint, "app-"+string(rune('a'+i))).Id)
	}
	var got []string
	var token *string
	pages := 0
	for {
		out, err := s.Pinpoint.GetApps(ctx, &pinpoint.GetAppsInput{PageSize: aws.String("3"), Token: token})
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, a := range out.ApplicationsResponse.Item {
			got = append(got, *a.Id)
		}
		if token = out.ApplicationsResponse.NextToken; token == nil {
			break
		}
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %d pages %v, want 3 pages %v", pages, got, want)
	}
	_, err := s.Pinpoint.GetApps(ctx, &pinpoint.GetAppsInput{PageSize: aws.String("zero")})
	wantAPIError[*types.BadRequestException](t, err, "page-size must be a whole number")
	_, err = s.Pinpoint.GetApps(ctx, &pinpoint.GetAppsInput{Token: aws.String("not-a-token")})
	wantAPIError[*types.BadRequestException](t, err, "token")
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	for _, tc := range []struct {
		name, body, msg string
	}{
		{"malformed JSON", `{"Name":`, "not valid JSON"},
		{"missing Name", `{"tags":{}}`, "Name is required"},
		{"wrong type", `{"Name":42}`, "Name must be a string, got a JSON number"},
		{"array body", `[1,2]`, "must be a JSON CreateApplicationRequest object"},
		{"empty body", ``, "request body is empty"},
		{"tag of wrong type", `{"Name":"x","tags":{"a":1}}`, "tags.a must be a string, got a JSON number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := signedRequest(t, s.URL, "POST", "/v1/apps", tc.body)
			wantErrorResponse(t, resp, body, 400, "BadRequestException", tc.msg)
		})
	}
}

// signedRequest sends a request signed as the SDK signs it, for what the SDK cannot send.
func signedRequest(t *testing.T, base, method, path, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256([]byte(body))
	err = v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: testserver.AccessKeyID, SecretAccessKey: testserver.SecretAccessKey},
		req, hex.EncodeToString(sum[:]), "mobiletargeting", testserver.Region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, data
}

// wantErrorResponse checks an error response's status, exception header and MessageBody.
func wantErrorResponse(t *testing.T, resp *http.Response, body []byte, status int, exception, msg string) {
	t.Helper()
	if resp.StatusCode != status || resp.Header.Get("X-Amzn-ErrorType") != exception {
		t.Fatalf("status %d, X-Amzn-ErrorType %q (%s); want %d %s", resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body, status, exception)
	}
	var mb struct{ Message, RequestID string }
	if err := json.Unmarshal(body, &mb); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	if !strings.Contains(mb.Message, msg) {
		t.Fatalf("Message = %q, want it to contain %q", mb.Message, msg)
	}
	if id := resp.Header.Get("x-amzn-RequestId"); id == "" || mb.RequestID != id {
		t.Fatalf("RequestID = %q, header x-amzn-RequestId = %q; want equal and set", mb.RequestID, id)
	}
}

func TestRouteErrors(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	resp, body := signedRequest(t, s.URL, "GET", "/v1/nothing-here", "")
	wantErrorResponse(t, resp, body, 404, "NotFoundException", "no operation at GET /v1/nothing-here")
	resp, body = signedRequest(t, s.URL, "PATCH", "/v1/apps", "")
	wantErrorResponse(t, resp, body, 405, "MethodNotAllowedException", "PATCH is not allowed on /v1/apps")
	if allow := resp.Header.Get("Allow"); allow != "POST, GET" {
		t.Fatalf("Allow = %q", allow)
	}
	resp, body = signedRequest(t, s.URL, "PUT", "/v1/apps/abc/jobs/import/def", "{}")
	wantErrorResponse(t, resp, body, 405, "MethodNotAllowedException", "allowed: GET")
}

func TestPayloadTooLarge(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Server: func(a *api.Server) { a.MaxBodyBytes = 2048 }})
	_, err := s.Pinpoint.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{
		Name: aws.String(strings.Repeat("x", 4000))}})
	wantAPIError[*types.PayloadTooLargeException](t, err, "larger than 2048 bytes")
	// A chunked body of unknown length is cut off at the limit too.
	req, _ := http.NewRequest("POST", s.URL+"/v1/apps", io.MultiReader(strings.NewReader(`{"Name":"`), bytes.NewReader(make([]byte, 1<<20))))
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantErrorResponse(t, resp, body, 413, "PayloadTooLargeException", "larger than 2048 bytes")
}

func TestRateLimit(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Server: func(a *api.Server) {
		a.RootRateLimit, a.RateBurst = 0.001, 2
	}})
	for range 2 {
		if _, err := s.Pinpoint.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := s.Pinpoint.GetApps(ctx, &pinpoint.GetAppsInput{})
	wantAPIError[*types.TooManyRequestsException](t, err, "Too many requests")
}

func TestRootKeyHasNoRateLimitByDefault(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Server: func(a *api.Server) { a.RateLimit, a.RateBurst = 0.001, 1 }})
	for range 20 {
		if _, err := s.Pinpoint.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil {
			t.Fatal(err)
		}
	}
}

// panickingApps is a store whose FindAppByID panics: a bug in a handler must be a 500, not a
// dead server.
type panickingApps struct{ pinfold.AppStore }

func (panickingApps) FindAppByID(context.Context, string) (*pinfold.App, error) { panic("boom") }

func TestInternalError(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Stores: func(db *sqlite.DB) (pinfold.AppStore, pinfold.ImportJobStore) {
		return panickingApps{db}, db
	}})
	_, err := s.Pinpoint.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: aws.String("0123456789abcdef0123456789abcdef")})
	e := wantAPIError[*types.InternalServerErrorException](t, err, "Internal server error.")
	if e.RequestID == nil || *e.RequestID == "" {
		t.Fatalf("RequestID missing in %+v", e)
	}
	if _, err := s.Pinpoint.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil {
		t.Fatalf("server unhealthy after a panic: %v", err)
	}
}

func TestSignatureErrors(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	_, err := s.NewPinpoint(testserver.AccessKeyID, "wrong-secret").GetApps(ctx, &pinpoint.GetAppsInput{})
	wantAPIError[*types.ForbiddenException](t, err, "signature does not match")
	_, err = s.NewPinpoint("PFUNKNOWNKEY00000000", "x").GetApps(ctx, &pinpoint.GetAppsInput{})
	wantAPIError[*types.ForbiddenException](t, err, "PFUNKNOWNKEY00000000")
	resp, err := http.Get(s.URL + "/v1/apps")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	wantErrorResponse(t, resp, body, 403, "ForbiddenException", "Authorization")
}

func TestPathIDsWithSpacesAndSlashes(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	_, err := s.Pinpoint.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: aws.String("an id/with slash")})
	wantAPIError[*types.NotFoundException](t, err, `"an id/with slash"`)
}

func TestHealthAndMetrics(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	createApp(t, s.Pinpoint, "m")
	for _, path := range []string{"/healthz", "/readyz"} {
		resp, err := http.Get(s.URL + path)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, resp, err)
		}
		resp.Body.Close()
	}
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`pinfold_http_requests_total{operation="CreateApp",status="201"} 1`, `pinfold_http_request_duration_seconds_bucket{operation="CreateApp"`} {
		if !strings.Contains(string(body), want) {
			t.Fatalf("metrics lack %q:\n%s", want, body)
		}
	}
}

// TestReadyz checks that /readyz answers with what Server.Ready says, bounded in time, and
// keeps the reason for the log, where it says so once, not at every probe.
func TestReadyz(t *testing.T) {
	t.Parallel()
	var fail atomic.Bool
	var deadline atomic.Bool
	var log testlog.Buffer
	s := testserver.Start(t, testserver.Options{Server: func(a *api.Server) {
		a.Logger = slog.New(slog.NewTextHandler(&log, nil))
		a.Ready = func(ctx context.Context) error {
			_, ok := ctx.Deadline()
			deadline.Store(ok)
			if fail.Load() {
				return errors.New("dial tcp 10.1.2.3:5432: connection refused")
			}
			return nil
		}
	}})
	get := func() (int, string) {
		resp, err := http.Get(s.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get(); code != 200 || body != `{"Status":"ok"}` {
		t.Fatalf("ready: %d %s", code, body)
	}
	fail.Store(true)
	for range 3 {
		code, body := get()
		if code != 503 || !strings.Contains(body, `"Status":"unavailable"`) || strings.Contains(body, "10.1.2.3") {
			t.Fatalf("not ready: %d %s", code, body)
		}
	}
	if !deadline.Load() {
		t.Fatal("Ready got a context without a deadline")
	}
	fail.Store(false)
	for range 2 {
		if code, body := get(); code != 200 {
			t.Fatalf("ready again: %d %s", code, body)
		}
	}
	if n := strings.Count(log.String(), "/readyz: not ready"); n != 1 || !strings.Contains(log.String(), "10.1.2.3:5432: connection refused") {
		t.Fatalf("%d lines say not ready, want one with the reason:\n%s", n, log.String())
	}
	if n := strings.Count(log.String(), "/readyz: ready again"); n != 1 {
		t.Fatalf("%d lines say ready again, want one:\n%s", n, log.String())
	}
}

func TestBodyEncodingErrors(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	resp, body := signedRequest(t, s.URL, "POST", "/v1/apps", "{\"Name\":\"a\xffb\"}")
	wantErrorResponse(t, resp, body, 400, "BadRequestException", "not valid UTF-8")
	resp, body = signedRequest(t, s.URL, "POST", "/v1/apps", `{"Name":"a\u0000b"}`)
	wantErrorResponse(t, resp, body, 400, "BadRequestException", `NUL character (\u0000) in "a\u0000b"`)
	resp, body = signedRequest(t, s.URL, "POST", "/v1/apps", `{"Name":"a\\u0000b"}`)
	if resp.StatusCode != 201 {
		t.Fatalf("an escaped backslash before u0000 is no NUL: %d %s", resp.StatusCode, body)
	}
}
