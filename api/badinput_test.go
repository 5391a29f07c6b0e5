package api_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold/api"
	"github.com/pinfold/pinfold/internal/testserver"
)

// badRequest is one malformed request of the matrix. The request is signed as the SDKs sign
// it (at the time signedAt from now), then edit may change it, then it is written to the wire;
// wire, when set, changes the bytes that are sent.
type badRequest struct {
	name         string
	method, path string
	body         string
	header       map[string]string
	signedAt     time.Duration
	unsigned     bool
	edit         func(r *http.Request)
	wire         func(b []byte) []byte

	status    int
	exception string // "" for net/http's own refusals, which come before Pinfold sees the request
	msg       string
}

// sendRaw writes raw to the server on a new connection and reads one response.
func sendRaw(t *testing.T, addr string, raw []byte) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	go conn.Write(raw) // a large body may not be read: the response comes first
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, body
}

// wireBytes signs the request of tc and returns it as it goes on the wire.
func wireBytes(t *testing.T, s *testserver.Server, tc badRequest) []byte {
	t.Helper()
	req, err := http.NewRequest(tc.method, s.URL+tc.path, strings.NewReader(tc.body))
	if err != nil {
		t.Fatal(err)
	}
	if tc.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range tc.header {
		req.Header.Set(k, v)
	}
	if !tc.unsigned {
		testserver.SignAt(t, req, []byte(tc.body), time.Now().Add(tc.signedAt))
	}
	if tc.edit != nil {
		tc.edit(req)
	}
	var b bytes.Buffer
	if err := req.Write(&b); err != nil {
		t.Fatal(err)
	}
	if tc.wire != nil {
		return tc.wire(b.Bytes())
	}
	return b.Bytes()
}

// replaceOnce returns a wire edit that replaces the first old with new.
func replaceOnce(old, new string) func([]byte) []byte {
	return func(b []byte) []byte { return bytes.Replace(b, []byte(old), []byte(new), 1) }
}

// nested returns n opening brackets, then n closing ones.
func nested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

// TestBadInput sends malformed requests of every kind: each is answered with the Pinpoint
// exception that says what is wrong (X-Amzn-ErrorType and a JSON {Message, RequestID}), and the
// server stays healthy. Requests that break HTTP itself are refused by net/http before any
// handler runs, with a plain 4xx; the test checks the status and that the server lives on.
func TestBadInput(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Server: func(a *api.Server) {
		a.AllowedBuckets = []string{"imports", "allowed"}
		a.MaxBodyBytes = 1 << 20
	}})
	addr := strings.TrimPrefix(s.URL, "http://")
	app := *createApp(t, s.Pinpoint, "bad-input").Id
	seg, err := s.Pinpoint.CreateSegment(ctx, &pinpoint.CreateSegmentInput{ApplicationId: &app, WriteSegmentRequest: &types.WriteSegmentRequest{
		Name: aws.String("s"), Dimensions: &types.SegmentDimensions{Demographic: &types.SegmentDemographics{Channel: &types.SetDimension{Values: []string{"EMAIL"}}}}}})
	if err != nil {
		t.Fatal(err)
	}
	segID := *seg.SegmentResponse.Id
	apps, appPath := "/v1/apps", "/v1/apps/"+app
	const role = `"RoleArn":"arn:aws:iam::123456789012:role/import"`
	manyItems := make([]string, 101)
	for i := range manyItems {
		manyItems[i] = fmt.Sprintf(`{"Id":"e%d","ChannelType":"EMAIL","Address":"e%d@example.com"}`, i, i)
	}
	const (
		bad       = 400
		badReq    = "BadRequestException"
		forbidden = "ForbiddenException"
		notFound  = "NotFoundException"
	)

	tests := []badRequest{
		// Malformed JSON, for every operation that takes a body.
		{name: "truncated JSON", method: "POST", path: apps, body: `{"Name":`, status: bad, exception: badReq, msg: "not valid JSON"},
		{name: "trailing comma", method: "POST", path: apps, body: `{"Name":"a",}`, status: bad, exception: badReq, msg: "not valid JSON"},
		{name: "single quotes", method: "POST", path: apps, body: `{'Name':'a'}`, status: bad, exception: badReq, msg: "not valid JSON"},
		{name: "missing comma", method: "POST", path: apps, body: `{"Name":"a" "tags":{}}`, status: bad, exception: badReq, msg: "not valid JSON"},
		{name: "two objects", method: "POST", path: apps, body: `{"Name":"a"}{"Name":"b"}`, status: bad, exception: badReq, msg: "not valid JSON"},
		{name: "NaN", method: "POST", path: apps, body: `NaN`, status: bad, exception: badReq, msg: "not valid JSON"},
		{name: "empty body", method: "POST", path: apps, status: bad, exception: badReq, msg: "request body is empty"},
		{name: "blank body", method: "POST", path: apps, body: " \n\t ", status: bad, exception: badReq, msg: "request body is empty"},
		{name: "null body", method: "POST", path: apps, body: `null`, status: bad, exception: badReq, msg: "Name is required"},
		{name: "string body", method: "POST", path: apps, body: `"app"`, status: bad, exception: badReq, msg: "must be a JSON CreateApplicationRequest object, got a JSON string"},
		{name: "array body", method: "PUT", path: appPath + "/endpoints/e1", body: `[{"Address":"a"}]`, status: bad, exception: badReq, msg: "must be a JSON EndpointRequest object, got a JSON array"},
		{name: "number body", method: "POST", path: appPath + "/segments", body: `12`, status: bad, exception: badReq, msg: "must be a JSON WriteSegmentRequest object, got a JSON number"},
		{name: "import job, truncated", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV"`, status: bad, exception: badReq, msg: "not valid JSON"},
		{name: "batch, truncated", method: "PUT", path: appPath + "/endpoints", body: `{"Item":[{"Id":"a"}`, status: bad, exception: badReq, msg: "not valid JSON"},
		{name: "update segment, truncated", method: "PUT", path: appPath + "/segments/" + segID, body: `{"Name":"x",`, status: bad, exception: badReq, msg: "not valid JSON"},

		// Members of the wrong type.
		{name: "Name a number", method: "POST", path: apps, body: `{"Name":42}`, status: bad, exception: badReq, msg: "Name must be a string, got a JSON number"},
		{name: "tags an array", method: "POST", path: apps, body: `{"Name":"a","tags":["x"]}`, status: bad, exception: badReq, msg: "tags must be an object, got a JSON array"},
		{name: "Format a boolean", method: "POST", path: appPath + "/jobs/import", body: `{"Format":true}`, status: bad, exception: badReq, msg: "Format must be a string, got a JSON bool"},
		{name: "RegisterEndpoints a string", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV","RegisterEndpoints":"yes"}`, status: bad, exception: badReq, msg: "RegisterEndpoints must be a boolean, got a JSON string"},
		{name: "attribute values a string", method: "PUT", path: appPath + "/endpoints/e1", body: `{"Attributes":{"a":"b"}}`, status: bad, exception: badReq, msg: "Attributes.a must be an array, got a JSON string"},
		{name: "metric a string", method: "PUT", path: appPath + "/endpoints/e1", body: `{"Metrics":{"m":"1"}}`, status: bad, exception: badReq, msg: "Metrics.m must be a number, got a JSON string"},
		{name: "latitude a string", method: "PUT", path: appPath + "/endpoints/e1", body: `{"Location":{"Latitude":"north"}}`, status: bad, exception: badReq, msg: "Location.Latitude must be a number, got a JSON string"},
		{name: "Item an object", method: "PUT", path: appPath + "/endpoints", body: `{"Item":{"Id":"a"}}`, status: bad, exception: badReq, msg: "Item must be an array, got a JSON object"},
		{name: "Item Id a number", method: "PUT", path: appPath + "/endpoints", body: `{"Item":[{"Id":7}]}`, status: bad, exception: badReq, msg: "Item.0.Id must be a string, got a JSON number"},
		{name: "Dimensions an array", method: "POST", path: appPath + "/segments", body: `{"Name":"x","Dimensions":[]}`, status: bad, exception: badReq, msg: "Dimensions must be an object, got a JSON array"},
		{name: "number out of range", method: "PUT", path: appPath + "/endpoints/e1", body: `{"Metrics":{"m":1e400}}`, status: bad, exception: badReq, msg: "Metrics.m must be a number, got a JSON number 1e400"},
		{name: "page-size not a number", method: "GET", path: apps + "?page-size=abc", status: bad, exception: badReq, msg: "page-size must be a whole number from 1 to 1000"},
		{name: "page-size zero", method: "GET", path: apps + "?page-size=0", status: bad, exception: badReq, msg: "page-size must be a whole number"},
		{name: "page-size too big", method: "GET", path: apps + "?page-size=1001", status: bad, exception: badReq, msg: "page-size must be a whole number"},
		{name: "token not issued", method: "GET", path: apps + "?token=%2e%2e%2f", status: bad, exception: badReq, msg: "token"},
		{name: "version not a number", method: "GET", path: appPath + "/segments/" + segID + "/versions/one", status: bad, exception: badReq, msg: `version must be a whole number from 1, got "one"`},

		// Bad values and limits.
		{name: "Format XML", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"XML","S3Url":"s3://imports/x",` + role + `}`, status: bad, exception: badReq, msg: `Format must be CSV or JSON, got "XML"`},
		{name: "RoleArn not a role", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV","S3Url":"s3://imports/x","RoleArn":"arn:aws:iam::1:user/x"}`, status: bad, exception: badReq, msg: "RoleArn must be an IAM role ARN"},
		{name: "Name of 65 characters", method: "POST", path: apps, body: `{"Name":"` + strings.Repeat("n", 65) + `"}`, status: bad, exception: badReq, msg: "at most 64 characters"},
		{name: "Name of 900 KB", method: "POST", path: apps, body: `{"Name":"` + strings.Repeat("n", 900<<10) + `"}`, status: bad, exception: badReq, msg: "at most 64 characters"},
		{name: "SegmentName of 65 characters", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV","S3Url":"s3://imports/x",` + role + `,"SegmentName":"` + strings.Repeat("s", 65) + `"}`, status: bad, exception: badReq, msg: "SegmentName may be at most 64 characters"},
		{name: "attribute value of 101 characters", method: "PUT", path: appPath + "/endpoints/e1", body: `{"ChannelType":"EMAIL","Address":"a@example.com","Attributes":{"a":["` + strings.Repeat("v", 101) + `"]}}`, status: bad, exception: badReq, msg: "at most 100"},
		{name: "attribute name of 51 characters", method: "PUT", path: appPath + "/endpoints/e1", body: `{"ChannelType":"EMAIL","Address":"a@example.com","Attributes":{"` + strings.Repeat("n", 51) + `":["v"]}}`, status: bad, exception: badReq, msg: "at most 50"},
		{name: "endpoint over 15 KB", method: "PUT", path: appPath + "/endpoints/e1", body: `{"ChannelType":"EMAIL","Address":"` + strings.Repeat("a", 16<<10) + `@example.com"}`, status: bad, exception: badReq, msg: "15"},
		{name: "batch of 101", method: "PUT", path: appPath + "/endpoints", body: `{"Item":[` + strings.Join(manyItems, ",") + `]}`, status: bad, exception: badReq, msg: "a batch may have at most 100"},
		{name: "ChannelType unknown", method: "PUT", path: appPath + "/endpoints/e1", body: `{"ChannelType":"PIGEON","Address":"coo"}`, status: bad, exception: badReq, msg: `got "PIGEON"`},

		// Deep nesting: encoding/json stops at 10,000 levels.
		{name: "100,000 nested arrays", method: "POST", path: apps, body: nested("[", "]", 100000), status: bad, exception: badReq, msg: "exceeded max depth"},
		{name: "100,000 nested objects in a tag", method: "POST", path: apps, body: `{"Name":"a","tags":` + nested(`{"a":`, "}", 100000) + `}`, status: bad, exception: badReq, msg: "exceeded max depth"},
		{name: "deep nesting in Dimensions", method: "POST", path: appPath + "/segments", body: `{"Dimensions":{"Attributes":` + nested("[", "]", 20000) + `}}`, status: bad, exception: badReq, msg: "exceeded max depth"},

		// Encoding: invalid UTF-8 and NUL characters.
		{name: "invalid UTF-8", method: "POST", path: apps, body: "{\"Name\":\"caf\xe9\"}", status: bad, exception: badReq, msg: "not valid UTF-8"},
		{name: "overlong UTF-8", method: "PUT", path: appPath + "/endpoints/e1", body: "{\"Address\":\"\xc0\xaf\"}", status: bad, exception: badReq, msg: "not valid UTF-8"},
		{name: "escaped NUL", method: "POST", path: apps, body: `{"Name":"a\u0000b"}`, status: bad, exception: badReq, msg: `NUL character (\u0000) in "a\u0000b"`},
		{name: "escaped NUL in a key", method: "PUT", path: appPath + "/endpoints/e1", body: `{"Attributes":{"a\u0000":["x"]}}`, status: bad, exception: badReq, msg: "NUL character"},
		{name: "raw NUL byte", method: "POST", path: apps, body: "{\"Name\":\"a\x00b\"}", status: bad, exception: badReq, msg: "not valid JSON"},

		// IDs that look like paths: percent-encoded, they are only IDs that do not exist.
		{name: "traversal in an app ID", method: "GET", path: "/v1/apps/%2e%2e%2f%2e%2e%2fetc%2fpasswd", status: 404, exception: notFound, msg: "../../etc/passwd"},
		{name: "traversal, mixed", method: "GET", path: "/v1/apps/..%2F..%2Fsecret", status: 404, exception: notFound, msg: "../../secret"},
		{name: "dot-dot app ID", method: "GET", path: "/v1/apps/%2e%2e", status: 404, exception: notFound, msg: `".."`},
		{name: "traversal in an endpoint ID", method: "GET", path: appPath + "/endpoints/%2e%2e%2f%2e%2e%2fapps", status: 404, exception: notFound, msg: "../../apps"},
		{name: "dot segments in the path", method: "GET", path: "/v1/apps/x/../../v1/apps", status: 404, exception: notFound, msg: `may not have empty, "." or ".." segments`},
		{name: "empty segment", method: "GET", path: "/v1//apps", status: 404, exception: notFound, msg: "may not have empty"},
		{name: "NUL in an ID", method: "GET", path: "/v1/apps/a%00b", status: 404, exception: notFound, msg: "not found"},
		{name: "CR LF in an ID", method: "GET", path: "/v1/apps/a%0D%0AX-Injected:%201", status: 404, exception: notFound, msg: "not found"},
		{name: "ID of 8,000 characters", method: "GET", path: "/v1/apps/" + strings.Repeat("i", 8000), status: 404, exception: notFound, msg: "not found"},
		{name: "unknown route", method: "GET", path: appPath + "/nothing", status: 404, exception: notFound, msg: "no operation at GET"},
		{name: "wrong method", method: "PATCH", path: apps, status: 405, exception: "MethodNotAllowedException", msg: "PATCH is not allowed"},

		// Authorization and header abuse.
		{name: "no signature", method: "GET", path: apps, unsigned: true, status: 403, exception: forbidden, msg: "missing Authorization header"},
		{name: "Authorization twice", method: "GET", path: apps, wire: func(b []byte) []byte {
			i := bytes.Index(b, []byte("Authorization: "))
			j := i + bytes.Index(b[i:], []byte("\r\n")) + 2
			return append(b[:j:j], b[i:]...)
		}, status: 403, exception: forbidden, msg: "the header is sent more than once"},
		{name: "Authorization garbage", method: "GET", path: apps, edit: func(r *http.Request) { r.Header.Set("Authorization", "Basic YWRtaW46YWRtaW4=") }, status: 403, exception: forbidden, msg: `unsupported algorithm "Basic"`},
		{name: "replayed 20 minutes later", method: "POST", path: apps, body: `{"Name":"replay"}`, signedAt: -20 * time.Minute, status: 403, exception: forbidden, msg: "is more than 15m0s from the server's time"},
		{name: "signed 20 minutes ahead", method: "GET", path: apps, signedAt: 20 * time.Minute, status: 403, exception: forbidden, msg: "is more than 15m0s from the server's time"},
		{name: "X-Amz-Date malformed", method: "GET", path: apps, edit: func(r *http.Request) { r.Header.Set("X-Amz-Date", "yesterday") }, status: 403, exception: forbidden, msg: `X-Amz-Date "yesterday" is not in the form`},
		{name: "session token", method: "GET", path: apps, edit: func(r *http.Request) { r.Header.Set("X-Amz-Security-Token", "FwoG") }, status: 403, exception: forbidden, msg: "temporary credentials"},
		{name: "body changed after signing", method: "POST", path: apps, body: `{"Name":"aaaa"}`, wire: replaceOnce(`"aaaa"`, `"bbbb"`), status: 403, exception: forbidden, msg: "the signature does not match"},
		{name: "signed header changed", method: "POST", path: apps, body: `{"Name":"a"}`, wire: replaceOnce("Content-Type: application/json", "Content-Type: text/plain"), status: 403, exception: forbidden, msg: "the signature does not match"},
		{name: "signed for another region", method: "GET", path: apps, edit: func(r *http.Request) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), "/us-east-1/", "/eu-west-1/", 1))
		}, status: 403, exception: forbidden, msg: `credential scope region "eu-west-1"`},
		{name: "CR LF in a header value", method: "GET", path: apps, wire: replaceOnce("User-Agent: Go-http-client/1.1\r\n", "User-Agent: a\rInjected: 1\r\n"), status: 400, msg: "400 Bad Request"},
		{name: "NUL in a header value", method: "GET", path: apps, wire: replaceOnce("User-Agent: Go-http-client/1.1", "User-Agent: a\x00b"), status: 400, msg: "400 Bad Request"},
		{name: "space in a header name", method: "GET", path: apps, wire: replaceOnce("User-Agent:", "User Agent:"), status: 400, msg: "400 Bad Request"},
		{name: "headers over 1 MB", method: "GET", path: apps, header: map[string]string{"X-Big": strings.Repeat("h", 1<<20+4096)}, status: 431, msg: "431 Request Header Fields Too Large"},
		{name: "two Content-Lengths", method: "POST", path: apps, body: `{"Name":"a"}`, wire: replaceOnce("Content-Length: 12\r\n", "Content-Length: 12\r\nContent-Length: 13\r\n"), status: 400, msg: "400 Bad Request"},

		// Duplicate and case-variant keys: the last one wins, as with Jackson's defaults.
		{name: "duplicate key, last wins", method: "POST", path: apps, body: `{"Name":"first","Name":"last"}`, status: 201, msg: `"Name":"last"`},
		{name: "key case differs, last wins", method: "POST", path: apps, body: `{"Name":"exact","name":"lower"}`, status: 201, msg: `"Name":"lower"`},
		{name: "lone surrogate becomes U+FFFD", method: "POST", path: apps, body: `{"Name":"\ud800"}`, status: 201, msg: `"Name":"` + "\ufffd" + `"`},

		// Oversized bodies: refused before they are read.
		{name: "Content-Length over the cap", method: "POST", path: apps, body: `{"Name":"a"}`, wire: replaceOnce("Content-Length: 12", "Content-Length: 500000000"), status: 413, exception: "PayloadTooLargeException", msg: "larger than 1048576 bytes"},
		{name: "body just over the cap", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV","x":"` + strings.Repeat("x", 1<<20) + `"}`, status: 413, exception: "PayloadTooLargeException", msg: "larger than 1048576 bytes"},

		// S3Url must stay within the allowed buckets.
		{name: "S3Url in another bucket", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV","S3Url":"s3://secret/x.csv",` + role + `}`, status: bad, exception: badReq, msg: `bucket "secret", which this server may not read; allowed: imports, allowed`},
		{name: "S3Url bucket with an encoded slash", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV","S3Url":"s3://allowed%2F..%2Fsecret/x.csv",` + role + `}`, status: bad, exception: badReq, msg: "may contain only lowercase letters"},
		{name: "S3Url bucket ..", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV","S3Url":"s3://../secret/x.csv",` + role + `}`, status: bad, exception: badReq, msg: "must be 3 to 63 characters"},
		{name: "S3Url bucket prefix of an allowed one", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV","S3Url":"s3://allowed.evil/x.csv",` + role + `}`, status: bad, exception: badReq, msg: "may not read"},
		{name: "S3Url not s3", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV","S3Url":"file:///etc/passwd",` + role + `}`, status: bad, exception: badReq, msg: "S3 URL must start with s3://"},
		{name: "S3Url with a traversal key is a prefix in its bucket", method: "POST", path: appPath + "/jobs/import", body: `{"Format":"CSV","S3Url":"s3://allowed/../secret/",` + role + `}`, status: 201, msg: `"S3Url":"s3://allowed/../secret/"`},
	}
	if len(tests) < 60 {
		t.Fatalf("the matrix has %d cases, want at least 60", len(tests))
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp, body := sendRaw(t, addr, wireBytes(t, s, tc))
			switch {
			case tc.exception != "":
				wantErrorResponse(t, resp, body, tc.status, tc.exception, tc.msg)
			case resp.StatusCode != tc.status || !strings.Contains(string(body), tc.msg):
				t.Fatalf("status %d, body %.300q; want %d with %q", resp.StatusCode, body, tc.status, tc.msg)
			case resp.Header.Get("X-Injected") != "":
				t.Fatal("a header was injected into the response")
			}
		})
	}
	t.Cleanup(func() {
		// The server is as healthy after the matrix as before.
		if _, err := s.Pinpoint.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil {
			t.Errorf("GetApps after the bad input: %v", err)
		}
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil || resp.StatusCode != 200 {
			t.Errorf("healthz after the bad input: %v %v", resp, err)
		} else {
			resp.Body.Close()
		}
	})
}

// TestBadImportFiles imports files with malformed rows through real jobs: each bad row is a
// failure naming its line, the good rows are imported, and the job completes.
// (importer/importer_test.go and endpointfile/ cover the row rules one by one.)
func TestBadImportFiles(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	app := *createApp(t, s.Pinpoint, "bad-files").Id
	for _, tc := range []struct {
		name, key, format, file string
		processed, failed       int32
		failure                 string // in the first failure
	}{
		{"CSV with invalid UTF-8, a NUL, a long row and a bare quote", "bad.csv", "CSV",
			"Id,ChannelType,Address\nok1,EMAIL,a@example.com\nbad1,EMAIL,caf\xe9@example.com\nbad2,EMAIL,a\x00b@example.com\n" +
				"bad3,EMAIL," + strings.Repeat("x", 20000) + "\nbad4,EMAIL,\"unterminated\nok2,SMS,+15555550100\n",
			6, 4, "s3://imports/bad.csv:3: "},
		{"NDJSON with broken lines", "bad.ndjson", "JSON",
			`{"Id":"j1","ChannelType":"EMAIL","Address":"j1@example.com"}` + "\n" + `{"Id":` + "\n" + nested("[", "]", 50000) + "\n" +
				`{"Id":"j2","ChannelType":"EMAIL","Address":"j2\u0000@example.com"}` + "\n" + `{"Id":"j3","ChannelType":"EMAIL","Address":"j3@example.com","Id":"j4"}` + "\n",
			5, 4, "s3://imports/bad.ndjson:2: "}, // the import file decoder refuses a repeated member
	} {
		t.Run(tc.name, func(t *testing.T) {
			s.Put(t, "imports", tc.key, []byte(tc.file))
			out, err := s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: &app, ImportJobRequest: &types.ImportJobRequest{
				Format: types.Format(tc.format), S3Url: aws.String("s3://imports/" + tc.key), RoleArn: aws.String("arn:aws:iam::123456789012:role/import"),
				RegisterEndpoints: aws.Bool(true)}})
			if err != nil {
				t.Fatal(err)
			}
			j := waitImport(t, s, app, *out.ImportJobResponse.Id)
			if j.JobStatus != types.JobStatusCompleted || *j.TotalProcessed != tc.processed || *j.TotalFailures != tc.failed ||
				len(j.Failures) == 0 || !strings.HasPrefix(j.Failures[0], tc.failure) {
				t.Fatalf("job: %s processed %d failures %d %q", j.JobStatus, *j.TotalProcessed, *j.TotalFailures, j.Failures)
			}
			t.Logf("failures: %q", j.Failures)
		})
	}
}

// waitImport polls an import job until it ends.
func waitImport(t *testing.T, s *testserver.Server, app, id string) *types.ImportJobResponse {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		out, err := s.Pinpoint.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: &app, JobId: &id})
		if err != nil {
			t.Fatal(err)
		}
		if j := out.ImportJobResponse; j.JobStatus == types.JobStatusCompleted || j.JobStatus == types.JobStatusFailed {
			return j
		}
	}
	t.Fatal("the job did not end within 30s")
	return nil
}

// TestSlowClients holds connections open the slowloris way against the server's real
// timeouts (api.NewHTTPServer, as `pinfold serve` uses): headers that never end are cut off
// after ReadHeaderTimeout, and the server answers others meanwhile. With
// PINFOLD_LONG_TESTS=1, also a body that trickles past ReadTimeout (a 400 saying the body
// could not be read) and an idle keep-alive connection closed after IdleTimeout.
func TestSlowClients(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{})
	addr := strings.TrimPrefix(s.URL, "http://")
	dial := func(t *testing.T) net.Conn {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedAfter waits until the server closes c and returns how long that took.
	closedAfter := func(t *testing.T, c net.Conn, start time.Time, limit time.Duration) (time.Duration, []byte) {
		c.SetReadDeadline(start.Add(limit))
		got, err := io.ReadAll(c)
		if ne, ok := err.(net.Error); ok && ne.Timeout() {
			t.Fatalf("the server kept the connection open for %v", limit)
		}
		return time.Since(start), got
	}

	t.Run("headers that never end", func(t *testing.T) {
		t.Parallel()
		var conns []net.Conn
		start := time.Now()
		for range 20 {
			c := dial(t)
			fmt.Fprintf(c, "GET /v1/apps HTTP/1.1\r\nHost: %s\r\nX-Slow: ", addr)
			conns = append(conns, c)
		}
		// Meanwhile the server answers everyone else.
		if _, err := s.Pinpoint.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil {
			t.Fatalf("GetApps while slow clients hold connections: %v", err)
		}
		for _, c := range conns {
			c.Write([]byte("a")) // a byte now and then does not help
		}
		took, _ := closedAfter(t, conns[0], start, api.ReadHeaderTimeout+5*time.Second)
		if took < api.ReadHeaderTimeout-time.Second {
			t.Fatalf("closed after %v, before ReadHeaderTimeout %v", took, api.ReadHeaderTimeout)
		}
		t.Logf("a never-ending header was cut off after %v", took.Round(time.Millisecond))
	})

	t.Run("body that trickles", func(t *testing.T) {
		if os.Getenv("PINFOLD_LONG_TESTS") != "1" {
			t.Skip("waits ReadTimeout (1 minute): set PINFOLD_LONG_TESTS=1")
		}
		t.Parallel()
		c := dial(t)
		body := `{"Name":"slow"}`
		req, _ := http.NewRequest("POST", s.URL+"/v1/apps", strings.NewReader(body))
		testserver.SignAt(t, req, []byte(body), time.Now())
		req.ContentLength = int64(len(body)) + 1000
		var b bytes.Buffer
		req.Write(&b)
		head, _, _ := bytes.Cut(b.Bytes(), []byte("\r\n\r\n"))
		start := time.Now()
		c.Write(append(head, "\r\n\r\n"...))
		go func() {
			for range int(api.ReadTimeout/(5*time.Second)) + 5 {
				if _, err := c.Write([]byte(" ")); err != nil {
					return
				}
				time.Sleep(5 * time.Second)
			}
		}()
		took, got := closedAfter(t, c, start, api.ReadTimeout+30*time.Second)
		if took < api.ReadTimeout-time.Second || !bytes.Contains(got, []byte("400 Bad Request")) || !bytes.Contains(got, []byte("the request body could not be read")) {
			t.Fatalf("after %v: %q", took, got)
		}
		t.Logf("a trickling body was refused after %v", took.Round(time.Millisecond))
	})

	t.Run("idle keep-alive connection", func(t *testing.T) {
		if os.Getenv("PINFOLD_LONG_TESTS") != "1" {
			t.Skip("waits IdleTimeout (2 minutes): set PINFOLD_LONG_TESTS=1")
		}
		t.Parallel()
		c := dial(t)
		fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: %s\r\n\r\n", addr)
		r := bufio.NewReader(c)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		start := time.Now()
		c.SetReadDeadline(start.Add(api.IdleTimeout + 30*time.Second))
		_, err = r.ReadByte()
		if ne, ok := err.(net.Error); (ok && ne.Timeout()) || time.Since(start) < api.IdleTimeout-time.Second {
			t.Fatalf("idle connection: %v after %v", err, time.Since(start))
		}
		t.Logf("an idle connection was closed after %v", time.Since(start).Round(time.Millisecond))
	})
}

// TestServerTimeouts checks the timeouts `pinfold serve` and the tests use: every one set,
// each long enough for a 7 MB body on a slow link and short enough to bound a slow client.
func TestServerTimeouts(t *testing.T) {
	t.Parallel()
	srv := api.NewHTTPServer(http.NotFoundHandler(), nil)
	if srv.ReadHeaderTimeout != 10*time.Second || srv.ReadTimeout != time.Minute || srv.WriteTimeout != 10*time.Minute || srv.IdleTimeout != 2*time.Minute {
		t.Fatalf("timeouts: header %v, read %v, write %v, idle %v", srv.ReadHeaderTimeout, srv.ReadTimeout, srv.WriteTimeout, srv.IdleTimeout)
	}
}

// TestS3URLTraversal imports from S3Urls that look like they climb out of their bucket: an
// S3 key is a flat name, so "s3://imports/../secret/" is the prefix "../secret/" inside
// bucket imports, and the files of bucket secret are never read.
// (importer/importer_test.go TestCreateImportJobValidation covers --s3-allowed-buckets.)
func TestS3URLTraversal(t *testing.T) {
	t.Parallel()
	s := testserver.Start(t, testserver.Options{Server: func(a *api.Server) { a.AllowedBuckets = []string{"imports"} }})
	app := *createApp(t, s.Pinpoint, "traversal").Id
	s.Put(t, "secret", "secret.csv", []byte("Id,ChannelType,Address\nstolen,EMAIL,stolen@example.com\n"))
	s.Put(t, "imports", "ok.csv", []byte("Id,ChannelType,Address\nok,EMAIL,ok@example.com\n"))
	for _, u := range []string{"s3://imports/../secret/", "s3://imports/../secret/secret.csv", "s3://imports/..%2Fsecret%2Fsecret.csv", "s3://imports/./../secret"} {
		out, err := s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: &app, ImportJobRequest: &types.ImportJobRequest{
			Format: types.FormatCsv, S3Url: aws.String(u), RoleArn: aws.String("arn:aws:iam::123456789012:role/import"), RegisterEndpoints: aws.Bool(true)}})
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		j := waitImport(t, s, app, *out.ImportJobResponse.Id)
		if j.JobStatus != types.JobStatusFailed || len(j.Failures) != 1 || !strings.HasPrefix(j.Failures[0], "no objects found under "+u) {
			t.Fatalf("%s: %s %q", u, j.JobStatus, j.Failures)
		}
	}
	if _, err := s.Pinpoint.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: &app, EndpointId: aws.String("stolen")}); err == nil {
		t.Fatal("an endpoint of bucket secret was imported")
	}
	_, err := s.Pinpoint.CreateImportJob(ctx, &pinpoint.CreateImportJobInput{ApplicationId: &app, ImportJobRequest: &types.ImportJobRequest{
		Format: types.FormatCsv, S3Url: aws.String("s3://secret/secret.csv"), RoleArn: aws.String("arn:aws:iam::123456789012:role/import")}})
	wantAPIError[*types.BadRequestException](t, err, `bucket "secret", which this server may not read`)
}
