package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/sigv4"
	"github.com/pinfold/pinfold/sqlite"
)

const (
	fuzzKeyID  = "AKIDFUZZ"
	fuzzSecret = "fuzz-secret"
	fuzzRegion = "us-east-1"
)

// fuzzTime is the server's clock and the signing time of every fuzzed request.
var fuzzTime = time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)

// fuzzServer is the whole API on a SQLite store, with one app and one DIMENSIONAL segment.
type fuzzServer struct {
	handler          http.Handler
	appID, segmentID string
}

func newFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	db := sqlite.NewDB(filepath.Join(tb.TempDir(), "pinfold.db"))
	if err := db.Open(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	s := &Server{Apps: db, Endpoints: db, Segments: db, ImportJobs: db,
		Verifier: &sigv4.Verifier{Region: fuzzRegion, Service: "mobiletargeting",
			Lookup: func(id string) (string, bool) { return fuzzSecret, id == fuzzKeyID },
			Now:    func() time.Time { return fuzzTime }},
		Region: fuzzRegion, AccountID: "123456789012", MaxBodyBytes: 64 << 10,
		Now: func() time.Time { return fuzzTime }}
	fs := &fuzzServer{handler: s.Handler(), appID: "fuzzapp"}
	if err := db.CreateApp(context.Background(), &pinfold.App{ID: fs.appID, Name: "fuzz", CreatedAt: fuzzTime}); err != nil {
		tb.Fatal(err)
	}
	w := fs.do(tb, "POST", "/v1/apps/"+fs.appID+"/segments", []byte(`{"Name":"base","Dimensions":{"Demographic":{"Channel":{"Values":["EMAIL"]}}}}`))
	var seg struct{ Id string }
	if err := json.Unmarshal(w.Body.Bytes(), &seg); w.Code != http.StatusCreated || err != nil {
		tb.Fatalf("create segment: %d %s", w.Code, w.Body)
	}
	fs.segmentID = seg.Id
	return fs
}

// do sends a request signed as the SDKs sign it to the handler and returns the response.
func (fs *fuzzServer) do(tb testing.TB, method, path string, body []byte) *httptest.ResponseRecorder {
	tb.Helper()
	req := httptest.NewRequest(method, "http://pinfold.test"+path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256(body)
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: fuzzKeyID, SecretAccessKey: fuzzSecret},
		req, hex.EncodeToString(sum[:]), "mobiletargeting", fuzzRegion, fuzzTime)
	if err != nil {
		tb.Fatal(err)
	}
	if len(body) > 0 { // as a server sees a request off the wire
		req.Header.Set("Content-Length", strconv.Itoa(len(body)))
	}
	w := httptest.NewRecorder()
	fs.handler.ServeHTTP(w, req)
	return w
}

// checkResponse fails tb unless the response is a success or a Pinpoint error other than
// a 500: X-Amzn-ErrorType, and a JSON MessageBody with a message and the request ID.
func checkResponse(tb testing.TB, what string, w *httptest.ResponseRecorder) {
	tb.Helper()
	if w.Code >= 200 && w.Code < 300 {
		return
	}
	if w.Code == http.StatusInternalServerError || w.Code < 400 || w.Code > 499 {
		tb.Fatalf("%s: status %d: %s", what, w.Code, w.Body)
	}
	var mb struct{ Message, RequestID string }
	if err := json.Unmarshal(w.Body.Bytes(), &mb); err != nil || mb.Message == "" {
		tb.Fatalf("%s: status %d with body %q: not a MessageBody (%v)", what, w.Code, w.Body, err)
	}
	if exc := w.Header().Get("X-Amzn-ErrorType"); !strings.HasSuffix(exc, "Exception") {
		tb.Fatalf("%s: status %d with X-Amzn-ErrorType %q", what, w.Code, exc)
	}
	if id := w.Header().Get("x-amzn-RequestId"); id == "" || mb.RequestID != id {
		tb.Fatalf("%s: RequestID %q, header %q", what, mb.RequestID, id)
	}
}

// FuzzRequestBodies sends one body to every operation that takes one, signed, through the
// whole handler on a real store: decoding, validation and the store's own checks. No body
// may make a handler panic or fail with a 500, and every refusal is a Pinpoint error. id is
// used as the endpoint ID in the path. Seeds are in testdata/fuzz/FuzzRequestBodies.
func FuzzRequestBodies(f *testing.F) {
	for _, body := range []string{
		`{"Name":"my app","tags":{"team":"growth"}}`,
		`{"Format":"CSV","S3Url":"s3://imports/2026/e.csv","RoleArn":"arn:aws:iam::123456789012:role/import","RegisterEndpoints":true,"DefineSegment":true,"SegmentName":"nov"}`,
		`{"Format":"JSON","S3Url":"s3://imports/","RoleArn":"arn:aws:iam::123456789012:role/import","SegmentId":"nope","ExternalId":"x"}`,
		`{"ChannelType":"EMAIL","Address":"a@example.com","Attributes":{"plan":["pro"],"gone":[]},"Metrics":{"visits":3,"x":null},"User":{"UserId":"u1","UserAttributes":{"a":["b"]}},"Demographic":{"Platform":"ios"},"Location":{"Latitude":47.6,"Longitude":-122.3},"EffectiveDate":"2026-11-28T11:00:00.000Z","OptOut":"NONE"}`,
		`{"Item":[{"Id":"e1","ChannelType":"SMS","Address":"+15555550100"},{"Id":"e2","ChannelType":"EMAIL","Address":"b@example.com","EndpointStatus":"INACTIVE"}]}`,
		`{"Name":"s","Dimensions":{"Attributes":{"plan":{"AttributeType":"INCLUSIVE","Values":["pro"]}},"Metrics":{"visits":{"ComparisonOperator":"GREATER_THAN","Value":2}},"Behavior":{"Recency":{"Duration":"DAY_7","RecencyType":"ACTIVE"}},"Location":{"GPSPoint":{"Coordinates":{"Latitude":1,"Longitude":2},"RangeInKilometers":10}}}}`,
		`{"Name":"g","SegmentGroups":{"Include":"ANY","Groups":[{"Type":"ALL","SourceType":"ANY","SourceSegments":[{"Id":"fuzzseg","Version":1}],"Dimensions":[{"Demographic":{"Platform":{"DimensionType":"EXCLUSIVE","Values":["android"]}}}]}]},"tags":{}}`,
	} {
		f.Add([]byte(body), "ep1")
	}
	fs := newFuzzServer(f)
	f.Fuzz(func(t *testing.T, body []byte, id string) {
		// Segment references to "fuzzseg" name the real segment, so that groups get past
		// the store's existence check.
		body = bytes.ReplaceAll(body, []byte("fuzzseg"), []byte(fs.segmentID))
		if id == "" {
			id = "ep1"
		}
		app := "/v1/apps/" + fs.appID
		for _, op := range []struct{ name, method, path string }{
			{"CreateApp", "POST", "/v1/apps"},
			{"CreateImportJob", "POST", app + "/jobs/import"},
			{"UpdateEndpoint", "PUT", app + "/endpoints/" + url.PathEscape(id)},
			{"UpdateEndpointsBatch", "PUT", app + "/endpoints"},
			{"CreateSegment", "POST", app + "/segments"},
			{"UpdateSegment", "PUT", app + "/segments/" + fs.segmentID},
		} {
			checkResponse(t, op.name, fs.do(t, op.method, op.path, body))
		}
		checkResponse(t, "GetEndpoint", fs.do(t, "GET", app+"/endpoints/"+url.PathEscape(id), nil))
	})
}

// TestDecodeBodyShapes runs decodeBody on awkward bodies for every request shape: each is
// decoded or refused with an EINVALID error, never anything else.
func TestDecodeBodyShapes(t *testing.T) {
	t.Parallel()
	shapes := map[string]func() any{
		"CreateApplicationRequest": func() any { return new(createApplicationRequest) },
		"ImportJobRequest":         func() any { return new(importJobRequest) },
		"EndpointRequest":          func() any { return new(endpointRequest) },
		"EndpointBatchRequest":     func() any { return new(endpointBatchRequest) },
		"WriteSegmentRequest":      func() any { return new(writeSegmentRequest) },
	}
	bodies := []string{
		``, ` `, `null`, `{}`, `[]`, `"x"`, `1e400`, `{"Name":"a","Name":"b"}`, `{"name":"lower"}`,
		strings.Repeat("[", 100000) + strings.Repeat("]", 100000),
		`{"Item":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`,
		"{\"Name\":\"\xff\"}", `{"Name":"\u0000"}`, `{"Name":"\ud800"}`, `{"Tags":{"a":1}}`,
		`{"Metrics":{"m":"1"}}`, `{"Dimensions":{"Metrics":{"m":{"Value":"x"}}}}`, `{"Item":[{"Id":1}]}`,
		`{} {}`, `{"Name":"a"} trailing`,
	}
	for shape, newV := range shapes {
		for _, body := range bodies {
			err := decodeBody([]byte(body), shape, newV())
			if err != nil && pinfold.ErrorCode(err) != pinfold.EINVALID {
				t.Errorf("%s %.40q: %v, want nil or EINVALID", shape, body, err)
			}
		}
	}
}
