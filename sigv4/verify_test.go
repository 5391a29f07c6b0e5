package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/pinfold/pinfold"
)

// The access key of AWS's SigV4 documentation and test suite.
const (
	testKeyID  = "AKIDEXAMPLE"
	testSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	testRegion = "us-east-1"
)

// signTime is when the requests built by signRequest are signed.
var signTime = time.Date(2024, 3, 5, 10, 30, 0, 0, time.UTC)

// testLookup knows testKeyID only.
func testLookup(id string) (string, bool) {
	if id == testKeyID {
		return testSecret, true
	}
	return "", false
}

// newVerifier returns a Verifier for service in testRegion whose clock reads signTime.
func newVerifier(service string) *Verifier {
	return &Verifier{
		Region:  testRegion,
		Service: service,
		Lookup:  testLookup,
		Now:     func() time.Time { return signTime },
	}
}

// sha256Hex returns the hex SHA-256 of b.
func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// signRequest signs a request for target (path and query as they go on the wire) with the
// SDK's signer the way the SDK's clients configure it for service (S3 turns off the second
// path encoding), at signTime, then writes it out and reads it back, so the result is the
// request a server sees. payloadHash "" means sha256(body).
func signRequest(t testing.TB, service, method, target string, body []byte, header http.Header, payloadHash string) *http.Request {
	t.Helper()
	req, err := http.NewRequest(method, "http://pinfold.test"+target, bytes.NewReader(body))
	if err != nil {
		t.Fatalf("new request: %v", err)
	}
	for name, values := range header {
		req.Header[name] = values
	}
	if payloadHash == "" {
		payloadHash = sha256Hex(body)
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = service == "s3" })
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	if err := signer.SignHTTP(context.Background(), creds, req, payloadHash, service, testRegion, signTime); err != nil {
		t.Fatalf("sign: %v", err)
	}
	return roundTrip(t, req)
}

// roundTrip writes a client request in HTTP/1.1 and parses it as a server does.
func roundTrip(t testing.TB, req *http.Request) *http.Request {
	t.Helper()
	var wire bytes.Buffer
	if err := req.Write(&wire); err != nil {
		t.Fatalf("write request: %v", err)
	}
	r, err := http.ReadRequest(bufio.NewReader(&wire))
	if err != nil {
		t.Fatalf("read request: %v", err)
	}
	return r
}

// canonicalRequest returns the canonical request appendCanonicalRequest builds.
func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string, doubleEncode bool) (string, error) {
	b, err := appendCanonicalRequest(nil, r, signedHeaders, payloadHash, doubleEncode)
	return string(b), err
}

// assertForbidden fails t unless err is an EFORBIDDEN *pinfold.Error whose message
// contains want.
func assertForbidden(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Verify succeeded, want an error containing %q", want)
	}
	e, ok := err.(*pinfold.Error)
	if !ok {
		t.Fatalf("error is %T (%v), want *pinfold.Error", err, err)
	}
	if e.Code != pinfold.EFORBIDDEN {
		t.Fatalf("code = %q, want %q (message %q)", e.Code, pinfold.EFORBIDDEN, e.Message)
	}
	if !strings.Contains(e.Message, want) {
		t.Fatalf("message = %q, want it to contain %q", e.Message, want)
	}
}

func TestVerifyTampered(t *testing.T) {
	t.Parallel()
	const (
		target          = "/v1/apps/app1/users/user%20with%20space%2Fslash?page-size=5&token=a%20b%2Bc"
		mismatch        = "the signature does not match: check your secret access key and signing method"
		stale           = "is more than 15m0s from the server's time"
		wantAuthzPrefix = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240305/us-east-1/mobiletargeting/aws4_request, SignedHeaders=content-length;content-type;host;x-amz-date, Signature="
	)
	body := []byte(`{"Name":"my app"}`)
	// editAuthz rewrites the Authorization header the client sent.
	editAuthz := func(old, new string) func(*http.Request, *Verifier) {
		return func(r *http.Request, _ *Verifier) {
			r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
		}
	}

	tests := []struct {
		name   string
		body   []byte // nil: the signed body
		mutate func(*http.Request, *Verifier)
		want   string // "" = success
	}{
		{name: "untouched", mutate: func(*http.Request, *Verifier) {}},
		{name: "unsigned header changed", mutate: func(r *http.Request, _ *Verifier) { r.Header.Set("User-Agent", "other") }},
		{name: "clock 14 minutes ahead", mutate: func(_ *http.Request, v *Verifier) { v.Now = func() time.Time { return signTime.Add(14 * time.Minute) } }},
		{name: "skew allowed by MaxSkew", mutate: func(_ *http.Request, v *Verifier) {
			v.Now = func() time.Time { return signTime.Add(time.Hour) }
			v.MaxSkew = 61 * time.Minute
		}},

		{name: "method", mutate: func(r *http.Request, _ *Verifier) { r.Method = "PUT" }, want: mismatch},
		{name: "path", mutate: func(r *http.Request, _ *Verifier) {
			r.URL.Path, r.URL.RawPath = "/v1/apps/app2/users/user with space/slash", "/v1/apps/app2/users/user%20with%20space%2Fslash"
		}, want: mismatch},
		{name: "path separator decoded", mutate: func(r *http.Request, _ *Verifier) {
			r.URL.RawPath = "" // the same Path, but sent as "/slash" instead of "%2Fslash"
		}, want: mismatch},
		{name: "query value", mutate: func(r *http.Request, _ *Verifier) { r.URL.RawQuery = "page-size=6&token=a%20b%2Bc" }, want: mismatch},
		{name: "query parameter added", mutate: func(r *http.Request, _ *Verifier) { r.URL.RawQuery += "&x=1" }, want: mismatch},
		{name: "query malformed", mutate: func(r *http.Request, _ *Verifier) { r.URL.RawQuery = "token=%zz" }, want: "the query string is malformed"},
		{name: "body", body: []byte(`{"Name":"my apq"}`), mutate: func(*http.Request, *Verifier) {}, want: mismatch},
		{name: "empty body", body: []byte{}, mutate: func(*http.Request, *Verifier) {}, want: mismatch},
		{name: "signed header", mutate: func(r *http.Request, _ *Verifier) { r.Header.Set("Content-Type", "text/plain") }, want: mismatch},
		{name: "signed header removed", mutate: func(r *http.Request, _ *Verifier) { r.Header.Del("Content-Type") }, want: `signed header "content-type" is not in the request`},
		{name: "host", mutate: func(r *http.Request, _ *Verifier) { r.Host = "other.test" }, want: mismatch},
		{name: "X-Amz-Date same day", mutate: func(r *http.Request, _ *Verifier) { r.Header.Set("X-Amz-Date", "20240305T103100Z") }, want: mismatch},
		{name: "X-Amz-Date malformed", mutate: func(r *http.Request, _ *Verifier) { r.Header.Set("X-Amz-Date", "2024-03-05T10:30:00Z") }, want: `X-Amz-Date "2024-03-05T10:30:00Z" is not in the form YYYYMMDDTHHMMSSZ`},
		{name: "X-Amz-Date missing", mutate: func(r *http.Request, _ *Verifier) { r.Header.Del("X-Amz-Date") }, want: "missing X-Amz-Date header"},
		{name: "stale", mutate: func(_ *http.Request, v *Verifier) { v.Now = func() time.Time { return signTime.Add(16 * time.Minute) } }, want: "request time 20240305T103000Z " + stale},
		{name: "from the future", mutate: func(_ *http.Request, v *Verifier) {
			v.Now = func() time.Time { return signTime.Add(-16 * time.Minute) }
		}, want: stale},
		{name: "scope date", mutate: editAuthz("/20240305/", "/20240304/"), want: "credential scope date does not match X-Amz-Date"},
		{name: "region", mutate: func(_ *http.Request, v *Verifier) { v.Region = "eu-west-1" }, want: `credential scope region "us-east-1" does not match "eu-west-1"`},
		{name: "service", mutate: func(_ *http.Request, v *Verifier) { v.Service = "s3" }, want: `credential scope service "mobiletargeting" does not match "s3"`},
		{name: "secret", mutate: func(_ *http.Request, v *Verifier) {
			v.Lookup = func(string) (string, bool) { return "another-secret", true }
		}, want: mismatch},
		{name: "unknown key", mutate: func(_ *http.Request, v *Verifier) {
			v.Lookup = func(string) (string, bool) { return "", false }
		}, want: `the access key ID "AKIDEXAMPLE" does not exist`},
		{name: "nil lookup", mutate: func(_ *http.Request, v *Verifier) { v.Lookup = nil }, want: `the access key ID "AKIDEXAMPLE" does not exist`},
		{name: "other key ID", mutate: editAuthz("Credential=AKIDEXAMPLE/", "Credential=AKIDOTHER/"), want: `the access key ID "AKIDOTHER" does not exist`},
		{name: "missing Authorization", mutate: func(r *http.Request, _ *Verifier) { r.Header.Del("Authorization") }, want: "missing Authorization header"},
		{name: "Authorization twice", mutate: func(r *http.Request, _ *Verifier) { r.Header.Add("Authorization", r.Header.Get("Authorization")) }, want: "Authorization header is malformed: the header is sent more than once"},
		{name: "malformed", mutate: editAuthz(" SignedHeaders=content-length;content-type;host;x-amz-date,", ""), want: "Authorization header is malformed: missing SignedHeaders"},
		{name: "algorithm", mutate: editAuthz("AWS4-HMAC-SHA256 ", "AWS4-ECDSA-P256-SHA256 "), want: `unsupported algorithm "AWS4-ECDSA-P256-SHA256"; only AWS4-HMAC-SHA256 is supported`},
		{name: "host not signed", mutate: editAuthz("content-type;host;", "content-type;"), want: "the host header must be signed"},
		{name: "X-Amz-Date not signed", mutate: editAuthz(";x-amz-date,", ","), want: "the X-Amz-Date header must be signed"},
		{name: "extra header signed", mutate: editAuthz(";x-amz-date,", ";x-amz-date;x-other,"), want: `signed header "x-other" is not in the request`},
		{name: "signature", mutate: func(r *http.Request, _ *Verifier) {
			h := r.Header.Get("Authorization")
			last := h[len(h)-1]
			flipped := byte('0')
			if last == '0' {
				flipped = '1'
			}
			r.Header.Set("Authorization", h[:len(h)-1]+string(flipped))
		}, want: mismatch},
		{name: "security token", mutate: func(r *http.Request, _ *Verifier) { r.Header.Set("X-Amz-Security-Token", "FwoGZXIvYXdzE") }, want: "temporary credentials (X-Amz-Security-Token) are not supported; use a long-term access key"},
		{name: "content hash header of another body", mutate: func(r *http.Request, _ *Verifier) {
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex([]byte("other")))
		}, want: "x-amz-content-sha256 does not match the body"},
		{name: "content hash header of this body", mutate: func(r *http.Request, _ *Verifier) {
			r.Header.Set("X-Amz-Content-Sha256", sha256Hex(body))
		}},
		{name: "unsigned payload outside S3", mutate: func(r *http.Request, _ *Verifier) { r.Header.Set("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD") }, want: "x-amz-content-sha256 does not match the body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := http.Header{"Content-Type": {"application/json"}}
			r := signRequest(t, "mobiletargeting", "POST", target, body, header, "")
			if got := r.Header.Get("Authorization"); !strings.HasPrefix(got, wantAuthzPrefix) {
				t.Fatalf("the SDK signed %q, want the prefix %q", got, wantAuthzPrefix)
			}
			v := newVerifier("mobiletargeting")
			tt.mutate(r, v)
			gotBody := body
			if tt.body != nil {
				gotBody = tt.body
			}
			id, err := v.Verify(r, gotBody)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if id != testKeyID {
					t.Fatalf("access key ID = %q, want %q", id, testKeyID)
				}
				return
			}
			assertForbidden(t, err, tt.want)
			if id != "" {
				t.Fatalf("access key ID = %q on failure, want \"\"", id)
			}
		})
	}
}

// TestVerifyNeverRevealsSignature checks that no message carries the signature the server
// computed, whatever failed.
func TestVerifyNeverRevealsSignature(t *testing.T) {
	t.Parallel()
	r := signRequest(t, "mobiletargeting", "GET", "/v1/apps", nil, nil, "")
	want := r.Header.Get("Authorization")
	want = want[strings.LastIndex(want, "=")+1:]
	r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), want, strings.Repeat("0", 64), 1))
	_, err := newVerifier("mobiletargeting").Verify(r, nil)
	assertForbidden(t, err, "the signature does not match")
	if strings.Contains(err.Error(), want) {
		t.Fatalf("error %q contains the expected signature", err)
	}
}

func TestVerifyS3PayloadHash(t *testing.T) {
	t.Parallel()
	const target = "/bucket/dir/a%20file%2Bplus.txt"
	body := []byte("hello, world\n")
	tests := []struct {
		name         string
		signed       string // X-Amz-Content-Sha256 the client signs
		body         []byte // what Verify is given
		sent         string // X-Amz-Content-Sha256 on the wire when it differs from signed
		want         string
		noHashHeader bool
	}{
		{name: "digest", signed: sha256Hex(body), body: body},
		{name: "digest, body streamed by the caller", signed: sha256Hex(body), body: nil},
		{name: "digest of another body", signed: sha256Hex(body), body: []byte("hello, world!"), want: "x-amz-content-sha256 does not match the body"},
		{name: "unsigned payload", signed: "UNSIGNED-PAYLOAD", body: []byte("anything")},
		{name: "streaming", signed: "STREAMING-UNSIGNED-PAYLOAD-TRAILER", body: []byte("5\r\nhello\r\n0\r\n\r\n")},
		{name: "unsigned payload swapped for a digest", signed: "UNSIGNED-PAYLOAD", sent: sha256Hex(body), body: body, want: "the signature does not match"},
		{name: "not a digest", signed: "SHA256", body: body, want: `x-amz-content-sha256 "SHA256" is not a lower-case hex SHA-256 digest`},
		{name: "no header", noHashHeader: true, body: body},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			header := http.Header{}
			payloadHash := ""
			if !tt.noHashHeader {
				header.Set("X-Amz-Content-Sha256", tt.signed)
				payloadHash = tt.signed
			}
			r := signRequest(t, "s3", "PUT", target, body, header, payloadHash)
			if tt.sent != "" {
				r.Header.Set("X-Amz-Content-Sha256", tt.sent)
			}
			id, err := newVerifier("s3").Verify(r, tt.body)
			if tt.want != "" {
				assertForbidden(t, err, tt.want)
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if id != testKeyID {
				t.Fatalf("access key ID = %q, want %q", id, testKeyID)
			}
		})
	}
}

// TestVerifyPathEncoding checks the one difference between the services: S3 signs the
// path as sent, everything else signs it encoded twice.
func TestVerifyPathEncoding(t *testing.T) {
	t.Parallel()
	const target = "/v1/apps/app1/users/%C3%BCser%20%2F%7E%21"
	for _, tt := range []struct {
		signedAs, verifiedAs string
		want                 string
	}{
		{"mobiletargeting", "mobiletargeting", ""},
		{"s3", "s3", ""},
		{"s3", "mobiletargeting", `credential scope service "s3" does not match "mobiletargeting"`},
	} {
		t.Run(tt.signedAs+" as "+tt.verifiedAs, func(t *testing.T) {
			t.Parallel()
			r := signRequest(t, tt.signedAs, "GET", target, nil, nil, "")
			if got := r.URL.EscapedPath(); got != strings.Split(target, "?")[0] {
				t.Fatalf("escaped path = %q, want %q", got, target)
			}
			_, err := newVerifier(tt.verifiedAs).Verify(r, nil)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				return
			}
			assertForbidden(t, err, tt.want)
		})
	}

	// A double-encoding verifier must refuse a request whose path was signed once.
	t.Run("single encoding refused", func(t *testing.T) {
		t.Parallel()
		req := httptest.NewRequest("GET", "http://pinfold.test"+target, nil)
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
		creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
		if err := signer.SignHTTP(context.Background(), creds, req, sha256Hex(nil), "mobiletargeting", testRegion, signTime); err != nil {
			t.Fatalf("sign: %v", err)
		}
		_, err := newVerifier("mobiletargeting").Verify(req, nil)
		assertForbidden(t, err, "the signature does not match")
	})
}

// TestVerifyAWSTestSuite checks requests from AWS's published SigV4 test suite: the 2015
// suite (X-Amz-Date) and the 2011 one, which dates requests with the Date header.
func TestVerifyAWSTestSuite(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, target, service string
		header                map[string]string
		now                   time.Time
	}{
		{
			name:    "get-vanilla",
			target:  "http://example.amazonaws.com/",
			service: "service",
			header: map[string]string{
				"X-Amz-Date":    "20150830T123600Z",
				"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
			},
			now: time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC),
		},
		{
			name:    "get-vanilla-query-order-key-case",
			target:  "http://example.amazonaws.com/?Param2=value2&Param1=value1",
			service: "service",
			header: map[string]string{
				"X-Amz-Date":    "20150830T123600Z",
				"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
			},
			now: time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC),
		},
		{
			name:    "2011 get-vanilla, dated by the Date header",
			target:  "http://host.foo.com/",
			service: "host",
			header: map[string]string{
				"Date":          "Mon, 09 Sep 2011 23:36:00 GMT",
				"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20110909/us-east-1/host/aws4_request, SignedHeaders=date;host, Signature=b27ccfbfa7df52a200ff74193ca6e32d4b48b8856fab7ebf1c595d0670a7e470",
			},
			now: time.Date(2011, 9, 9, 23, 36, 0, 0, time.UTC),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := httptest.NewRequest("GET", tt.target, nil)
			for name, value := range tt.header {
				r.Header.Set(name, value)
			}
			v := &Verifier{Region: "us-east-1", Service: tt.service, Lookup: testLookup, Now: func() time.Time { return tt.now }}
			if _, err := v.Verify(r, nil); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			v.Now = func() time.Time { return tt.now.Add(time.Hour) }
			_, err := v.Verify(r, nil)
			assertForbidden(t, err, "is more than 15m0s from the server's time")
		})
	}
}

func TestCanonicalRequest(t *testing.T) {
	t.Parallel()
	// The canonical request of get-vanilla-query-order-key-case in AWS's test suite.
	r := httptest.NewRequest("GET", "http://example.amazonaws.com/?Param2=value2&Param1=value1", nil)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	got, err := canonicalRequest(r, []string{"host", "x-amz-date"}, sha256Hex(nil), true)
	if err != nil {
		t.Fatal(err)
	}
	want := "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
	if got != want {
		t.Fatalf("canonical request =\n%s\nwant\n%s", got, want)
	}

	// Header values: trimmed, inner runs of spaces collapsed, repeated headers joined by ",".
	r = httptest.NewRequest("GET", "http://example.amazonaws.com/", nil)
	r.Header.Add("My-Header1", "  a   b   c  ")
	r.Header.Add("My-Header1", "d")
	got, err = canonicalRequest(r, []string{"host", "my-header1"}, "UNSIGNED-PAYLOAD", false)
	if err != nil {
		t.Fatal(err)
	}
	want = "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:a b c,d\n\nhost;my-header1\nUNSIGNED-PAYLOAD"
	if got != want {
		t.Fatalf("canonical request =\n%s\nwant\n%s", got, want)
	}
}

func TestCanonicalURI(t *testing.T) {
	t.Parallel()
	tests := []struct {
		escapedPath string
		double      bool
		want        string
	}{
		{"/v1/apps/app1/users/user%20with%20space%2Fslash", true, "/v1/apps/app1/users/user%2520with%2520space%252Fslash"},
		{"/v1/apps/app1/users/user%20with%20space%2Fslash", false, "/v1/apps/app1/users/user%20with%20space%2Fslash"},
		{"/-._~AZaz09/", true, "/-._~AZaz09/"},
		{"/a:b@c!d", true, "/a%3Ab%40c%21d"},
		{"", true, "/"},
		{"", false, "/"},
	}
	for _, tt := range tests {
		if got := string(appendCanonicalURI(nil, tt.escapedPath, tt.double)); got != tt.want {
			t.Errorf("appendCanonicalURI(%q, %v) = %q, want %q", tt.escapedPath, tt.double, got, tt.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	t.Parallel()
	tests := []struct{ raw, want string }{
		{"", ""},
		{"page-size=5&token=a%20b%2Bc", "page-size=5&token=a%20b%2Bc"},
		{"token=a+b", "token=a%20b"},               // '+' is a space, as url.ParseQuery reads it
		{"b=2&a-b=1&a=3&a=1", "a=1&a=3&a-b=1&b=2"}, // by name, then value; "a" before "a-b"
		{"uploads", "uploads="},
		{"prefix=dir/with%20spaces%20&list-type=2", "list-type=2&prefix=dir%2Fwith%20spaces%20"},
		{"k=%c3%bc%7e", "k=%C3%BC~"},
	}
	for _, tt := range tests {
		got, err := canonicalQuery(tt.raw)
		if err != nil {
			t.Errorf("canonicalQuery(%q): %v", tt.raw, err)
		} else if got != tt.want {
			t.Errorf("canonicalQuery(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
	for _, raw := range []string{"a=%zz", "a=1;b=2"} {
		_, err := canonicalQuery(raw)
		assertForbidden(t, err, "the query string is malformed")
	}
}
