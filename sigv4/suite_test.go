package sigv4

import (
	"bufio"
	"context"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// suiteTime is the signing time of every request in AWS's 2015 SigV4 test suite
// (aws-sig-v4-test-suite): 20150830T123600Z, key AKIDEXAMPLE, region us-east-1, service
// "service".
var suiteTime = time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC)

// suiteCase is one request of the suite, with the signature the suite publishes for it.
type suiteCase struct {
	name          string
	request       string // the .req file: request line and headers, "\n"-separated, then the body
	signedHeaders string
	signature     string
}

// suiteRequest parses a suite request with its Authorization header added, the way a
// server reads it off the wire. The suite writes the request line unescaped; it goes on the
// wire escaped, as every client sends it.
func suiteRequest(t *testing.T, tc suiteCase) (*http.Request, []byte) {
	t.Helper()
	head, body, _ := strings.Cut(tc.request, "\n\n")
	lines := strings.Split(head, "\n")
	method, rest, _ := strings.Cut(lines[0], " ")
	target := strings.TrimSuffix(rest, " HTTP/1.1")
	path, query, _ := strings.Cut(target, "?")
	wire := method + " " + uriEncode(path, false)
	if query != "" {
		wire += "?" + query
	}
	authz := "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=" +
		tc.signedHeaders + ", Signature=" + tc.signature
	raw := wire + " HTTP/1.1\r\n" + strings.Join(lines[1:], "\r\n") + "\r\nAuthorization: " + authz +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatalf("read %q: %v", raw, err)
	}
	return r, []byte(body)
}

// TestAWSSuiteHeaderSigning verifies requests of AWS's SigV4 test suite whose canonical
// request is the same whether the path is encoded once or twice (so the Pinpoint verifier,
// which expects the SDKs' double encoding, must accept them as published). Each expected
// signature is the one the suite publishes: a wrong one could not verify. As a second check,
// aws-sdk-go-v2's signer, given the same request, must produce the same signature.
func TestAWSSuiteHeaderSigning(t *testing.T) {
	t.Parallel()
	const host, date = "Host:example.amazonaws.com", "X-Amz-Date:20150830T123600Z"
	tests := []suiteCase{
		{"get-vanilla", "GET / HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-query", "GET / HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"},
		{"get-vanilla-empty-query-key", "GET /?Param1=value1 HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb"},
		{"get-vanilla-query-order-key-case", "GET /?Param2=value2&Param1=value1 HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"},
		{"get-vanilla-query-unreserved", "GET /?-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz=-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"},
		{"get-vanilla-utf8-query", "GET /?%E1%88%B4=bar HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"},
		{"get-unreserved", "GET /-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f"},
		{"get-header-key-duplicate", "GET / HTTP/1.1\n" + host + "\nMy-Header1:value2\nMy-Header1:value2\nMy-Header1:value1\n" + date,
			"host;my-header1;x-amz-date", "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"},
		{"get-header-value-order", "GET / HTTP/1.1\n" + host + "\nMy-Header1:value4\nMy-Header1:value1\nMy-Header1:value3\nMy-Header1:value2\n" + date,
			"host;my-header1;x-amz-date", "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01"},
		{"get-header-value-trim", "GET / HTTP/1.1\n" + host + "\nMy-Header1: value1\nMy-Header2: \"a   b   c\"\n" + date,
			"host;my-header1;my-header2;x-amz-date", "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"},
		{"post-vanilla", "POST / HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"post-vanilla-query", "POST /?Param1=value1 HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
		{"post-vanilla-empty-query-value", "POST /?Param1=value1 HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11"},
		{"post-header-key-case", "POST / HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"},
		{"post-header-key-sort", "POST / HTTP/1.1\n" + host + "\nMy-Header1:value1\n" + date, "host;my-header1;x-amz-date",
			"c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c"},
		{"post-header-value-case", "POST / HTTP/1.1\n" + host + "\nMy-Header1:VALUE1\n" + date, "host;my-header1;x-amz-date",
			"cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"},
		{"post-x-www-form-urlencoded", "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded\n" + host + "\n" + date + "\n\nParam1=value1",
			"content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"},
		{"post-x-www-form-urlencoded-parameters", "POST / HTTP/1.1\nContent-Type:application/x-www-form-urlencoded; charset=utf8\n" + host + "\n" + date + "\n\nParam1=value1",
			"content-type;host;x-amz-date", "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, body := suiteRequest(t, tc)
			v := &Verifier{Region: "us-east-1", Service: "service", Lookup: testLookup, Now: func() time.Time { return suiteTime }}
			if _, err := v.Verify(r, body); err != nil {
				t.Fatalf("Verify: %v", err)
			}
			// A replay of the same request 16 minutes later is refused.
			v.Now = func() time.Time { return suiteTime.Add(16 * time.Minute) }
			_, err := v.Verify(r, body)
			assertForbidden(t, err, "is more than 15m0s from the server's time")

			// The oracle: the SDK's signer signs the same request to the same signature. The
			// suite does not sign Content-Length, so the SDK is given the body's hash only.
			req, _ := http.NewRequest(r.Method, "http://example.amazonaws.com"+r.URL.RequestURI(), nil)
			for name, values := range r.Header {
				if name != "Authorization" && name != "X-Amz-Date" && name != "Content-Length" {
					req.Header[name] = values
				}
			}
			err = v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret},
				req, sha256Hex(body), "service", "us-east-1", suiteTime)
			if err != nil {
				t.Fatal(err)
			}
			if got := req.Header.Get("Authorization"); !strings.HasSuffix(got, "Signature="+tc.signature) {
				t.Errorf("the SDK signer signs %q, want signature %s", got, tc.signature)
			}
		})
	}
}

// TestAWSSuitePathEncoding checks the suite's requests whose path has characters outside
// the unreserved set. The suite encodes such a path once; the SDKs encode a Pinpoint path
// twice and an S3 path once, so these vectors hold for the single encoding only: the
// canonical-request builder in that mode must reproduce the published signature.
func TestAWSSuitePathEncoding(t *testing.T) {
	t.Parallel()
	const host, date = "Host:example.amazonaws.com", "X-Amz-Date:20150830T123600Z"
	for _, tc := range []suiteCase{
		{"get-utf8", "GET /ሴ HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"},
		{"get-space", "GET /example space/ HTTP/1.1\n" + host + "\n" + date, "host;x-amz-date",
			"652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r, body := suiteRequest(t, tc)
			a, err := ParseAuthorization(r.Header.Get("Authorization"))
			if err != nil {
				t.Fatal(err)
			}
			creq, err := canonicalRequest(r, a.SignedHeaders, sha256Hex(body), false)
			if err != nil {
				t.Fatal(err)
			}
			sig := signature(deriveSigningKey(testSecret, a), a, suiteTime, []byte(creq))
			if got := hex.EncodeToString(sig[:]); got != tc.signature {
				t.Fatalf("signature %s, want %s; canonical request:\n%s", got, tc.signature, creq)
			}
			// Verified as Pinpoint requests (path encoded twice), they must not match.
			v := &Verifier{Region: "us-east-1", Service: "service", Lookup: testLookup, Now: func() time.Time { return suiteTime }}
			_, err = v.Verify(r, body)
			assertForbidden(t, err, "the signature does not match")
		})
	}
}
