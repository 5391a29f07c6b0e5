package sigv4

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/pinfold/pinfold"
)

// seen is one request a verifyingServer received.
type seen struct {
	method, requestURI string
	header             http.Header
	keyID              string
	err                error
}

// verifyingServer is an httptest server that checks every request with v and records the
// outcome. Verified requests get reply's answer; refused ones a 403 in the service's error
// format, so the client call fails with the verifier's message.
type verifyingServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []seen
}

// startVerifyingServer starts a verifyingServer, over TLS if useTLS is set, and stops it
// when t ends.
func startVerifyingServer(t *testing.T, v *Verifier, useTLS bool, reply func(w http.ResponseWriter, r *http.Request)) *verifyingServer {
	t.Helper()
	s := &verifyingServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id, err := v.Verify(r, body)
		s.mu.Lock()
		s.seen = append(s.seen, seen{r.Method, r.RequestURI, r.Header.Clone(), id, err})
		s.mu.Unlock()
		if err == nil {
			reply(w, r)
			return
		}
		if v.Service == "s3" {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			fmt.Fprintf(w, "<Error><Code>AccessDenied</Code><Message>%s</Message></Error>", pinfold.ErrorMessage(err))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "ForbiddenException")
		w.WriteHeader(http.StatusForbidden)
		json.NewEncoder(w).Encode(map[string]string{"Message": pinfold.ErrorMessage(err), "RequestID": "test"})
	}))
	if useTLS {
		s.StartTLS()
	} else {
		s.Start()
	}
	t.Cleanup(s.Close)
	return s
}

// requests returns what the server has received so far.
func (s *verifyingServer) requests() []seen {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]seen(nil), s.seen...)
}

// last returns the most recent request, failing t if there is none.
func (s *verifyingServer) last(t *testing.T) seen {
	t.Helper()
	all := s.requests()
	if len(all) == 0 {
		t.Fatal("the server received no request")
	}
	return all[len(all)-1]
}

// newPinpointClient returns the real SDK client for srv, signing with secret.
func newPinpointClient(srv *verifyingServer, secret string) *pinpoint.Client {
	return pinpoint.New(pinpoint.Options{
		BaseEndpoint:     aws.String(srv.URL),
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, secret, ""),
		RetryMaxAttempts: 1,
	})
}

// replyJSON answers every Pinpoint call with an empty JSON object.
func replyJSON(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, "{}")
}

func TestPinpointClient(t *testing.T) {
	t.Parallel()
	v := &Verifier{Region: testRegion, Service: "mobiletargeting", Lookup: testLookup}
	srv := startVerifyingServer(t, v, false, replyJSON)
	client := newPinpointClient(srv, testSecret)
	ctx := context.Background()

	calls := []struct {
		name string
		call func() error
		// wantURI is how the request target must look on the wire, so the test notices if
		// the client stops sending what makes the case interesting.
		wantURI string
	}{
		{"GetApps", func() error {
			_, err := client.GetApps(ctx, &pinpoint.GetAppsInput{PageSize: aws.String("5"), Token: aws.String("a b+c")})
			return err
		}, "/v1/apps?page-size=5&token=a%20b%2Bc"},
		{"CreateApp", func() error {
			_, err := client.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{
				Name: aws.String("my app"),
				Tags: map[string]string{"team": "growth & retention"},
			}})
			return err
		}, "/v1/apps"},
		{"GetUserEndpoints", func() error {
			_, err := client.GetUserEndpoints(ctx, &pinpoint.GetUserEndpointsInput{ApplicationId: aws.String("app1"), UserId: aws.String("user with space/slash")})
			return err
		}, "/v1/apps/app1/users/user%20with%20space%2Fslash"},
		{"GetUserEndpoints with reserved and non-ASCII characters", func() error {
			_, err := client.GetUserEndpoints(ctx, &pinpoint.GetUserEndpointsInput{ApplicationId: aws.String("app1"), UserId: aws.String("ü+~!*'();:@&=$,%")})
			return err
		}, "/v1/apps/app1/users/%C3%BC%2B~%21%2A%27%28%29%3B%3A%40%26%3D%24%2C%25"},
		{"UpdateEndpointsBatch", func() error {
			_, err := client.UpdateEndpointsBatch(ctx, &pinpoint.UpdateEndpointsBatchInput{
				ApplicationId: aws.String("app1"),
				EndpointBatchRequest: &types.EndpointBatchRequest{Item: []types.EndpointBatchItem{{
					Id:          aws.String("ep 1"),
					Address:     aws.String("someone@example.com"),
					ChannelType: types.ChannelTypeEmail,
					User:        &types.EndpointUser{UserId: aws.String("user with space/slash")},
					Attributes:  map[string][]string{"Interests": {"cats", "dogs"}},
				}}},
			})
			return err
		}, "/v1/apps/app1/endpoints"},
	}
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := srv.last(t)
		if got.err != nil || got.keyID != testKeyID {
			t.Fatalf("%s: Verify = %q, %v", c.name, got.keyID, got.err)
		}
		if got.requestURI != c.wantURI {
			t.Fatalf("%s: request target %q, want %q", c.name, got.requestURI, c.wantURI)
		}
		if h := got.header.Get("X-Amz-Content-Sha256"); h != "" {
			t.Fatalf("%s: the client sent X-Amz-Content-Sha256 %q; the verifier is meant to hash the body itself", c.name, h)
		}
	}
	if n := len(srv.requests()); n != len(calls) {
		t.Fatalf("the server received %d requests, want %d", n, len(calls))
	}
}

// TestPinpointClientRefused checks what a user of the real client sees when Verify refuses.
func TestPinpointClientRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		v      *Verifier
		secret string
		want   string
	}{
		{"wrong secret", &Verifier{Region: testRegion, Service: "mobiletargeting", Lookup: testLookup}, "not-the-secret",
			"the signature does not match: check your secret access key and signing method"},
		{"wrong region", &Verifier{Region: "eu-west-1", Service: "mobiletargeting", Lookup: testLookup}, testSecret,
			`credential scope region "us-east-1" does not match "eu-west-1"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startVerifyingServer(t, tt.v, false, replyJSON)
			_, err := newPinpointClient(srv, tt.secret).GetApps(context.Background(), &pinpoint.GetAppsInput{})
			var forbidden *types.ForbiddenException
			if !errors.As(err, &forbidden) {
				t.Fatalf("GetApps error = %v, want *types.ForbiddenException", err)
			}
			if got := aws.ToString(forbidden.Message); got != tt.want {
				t.Fatalf("message = %q, want %q", got, tt.want)
			}
		})
	}
}

// replyS3 answers the S3 calls TestS3Client makes.
func replyS3(object []byte) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodGet && r.URL.Query().Get("list-type") == "2":
			w.Header().Set("Content-Type", "application/xml")
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>bucket</Name><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>`)
		case r.Method == http.MethodGet:
			w.Header().Set("Content-Type", "text/plain")
			w.Write(object)
		default:
			w.Header().Set("ETag", `"0"`)
		}
	}
}

// TestS3Client drives the verifier with the real S3 client, over plain HTTP and over TLS:
// the client signs its uploads differently on each (see the PutObject log line).
func TestS3Client(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			t.Parallel()
			testS3Client(t, useTLS)
		})
	}
}

func testS3Client(t *testing.T, useTLS bool) {
	object := []byte("Id,ChannelType,Address\nep1,EMAIL,someone@example.com\n")
	v := &Verifier{Region: testRegion, Service: "s3", Lookup: testLookup}
	srv := startVerifyingServer(t, v, useTLS, replyS3(object))
	client := s3.New(s3.Options{
		BaseEndpoint:     aws.String(srv.URL),
		HTTPClient:       srv.Client(),
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		UsePathStyle:     true,
		RetryMaxAttempts: 1,
	})
	ctx := context.Background()
	const key = "imports/2024 03/endpoints+more=ü.csv"

	if _, err := client.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key), Body: bytes.NewReader(object)}); err != nil {
		t.Fatalf("PutObject: %v", err)
	}
	put := srv.last(t)
	t.Logf("PutObject: %s %s, X-Amz-Content-Sha256 %q, Authorization %q", put.method, put.requestURI, put.header.Get("X-Amz-Content-Sha256"), put.header.Get("Authorization"))
	if put.method != http.MethodPut || !strings.Contains(put.requestURI, "%20") {
		t.Fatalf("PutObject sent %s %s, want a PUT with an escaped key", put.method, put.requestURI)
	}
	// Over plain HTTP the client signs the body's digest, so Verify compared it with the
	// body; over TLS it signs UNSIGNED-PAYLOAD.
	if h := put.header.Get("X-Amz-Content-Sha256"); !useTLS && h != sha256Hex(object) {
		t.Fatalf("PutObject over HTTP sent X-Amz-Content-Sha256 %q, want the body's digest", h)
	}

	out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("bucket"), Key: aws.String(key)})
	if err != nil {
		t.Fatalf("GetObject: %v", err)
	}
	got, err := io.ReadAll(out.Body)
	out.Body.Close()
	if err != nil || !bytes.Equal(got, object) {
		t.Fatalf("GetObject body = %q, %v", got, err)
	}

	if _, err := client.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("bucket"), Prefix: aws.String("imports/with spaces and+plus/")}); err != nil {
		t.Fatalf("ListObjectsV2: %v", err)
	}
	if list := srv.last(t); !strings.Contains(list.requestURI, "prefix=imports%2Fwith%20spaces%20and%2Bplus%2F") {
		t.Fatalf("ListObjectsV2 sent %s, want the prefix escaped", list.requestURI)
	}

	all := srv.requests()
	if len(all) != 3 {
		t.Fatalf("the server received %d requests, want 3", len(all))
	}
	for _, r := range all {
		if r.err != nil || r.keyID != testKeyID {
			t.Fatalf("%s %s: Verify = %q, %v", r.method, r.requestURI, r.keyID, r.err)
		}
	}
}

// TestS3ClientWrongSecret checks that the S3 client's requests are refused with a wrong
// secret, and that the refusal reaches the user.
func TestS3ClientWrongSecret(t *testing.T) {
	t.Parallel()
	v := &Verifier{Region: testRegion, Service: "s3", Lookup: testLookup}
	srv := startVerifyingServer(t, v, false, replyS3(nil))
	client := s3.New(s3.Options{
		BaseEndpoint:     aws.String(srv.URL),
		HTTPClient:       srv.Client(),
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, "not-the-secret", ""),
		UsePathStyle:     true,
		RetryMaxAttempts: 1,
	})
	_, err := client.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String("bucket"), Key: aws.String("k"), Body: strings.NewReader("x")})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" || !strings.Contains(apiErr.ErrorMessage(), "the signature does not match") {
		t.Fatalf("PutObject error = %v, want AccessDenied about the signature", err)
	}
}
