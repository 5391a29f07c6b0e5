package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// FuzzVerifySDKSigned holds the verifier to the SDK's signer: any request the signer signs,
// configured as the SDK's Pinpoint client (path encoded twice) or S3 client (path as sent,
// X-Amz-Content-Sha256 header), must verify once it has crossed the wire.
func FuzzVerifySDKSigned(f *testing.F) {
	f.Add("GET", "v1/apps/app1/users/user%20with%20space%2Fslash", "page-size=5&token=a%20b%2Bc", "", "", []byte(nil), false)
	f.Add("POST", "v1/apps", "", "  a   b  ", "c", []byte(`{"Name":"my app"}`), false)
	f.Add("PUT", "bucket/imports/2024%2003/endpoints%2Bmore%3D%C3%BC.csv", "x-id=PutObject", "", "", []byte("Id\nep1\n"), true)
	f.Add("GET", "bucket", "list-type=2&prefix=imports%2Fwith%20spaces%20&delimiter=%2F", "", "", []byte(nil), true)
	f.Add("DELETE", "a//b/./c/../%7e%7E!$&'()*+,;=:@", "b=2&a-b=1&a=3&a=1&uploads", "\tx\t", "", []byte{0}, false)
	f.Fuzz(func(t *testing.T, method, path, query, value1, value2 string, body []byte, isS3 bool) {
		service := "mobiletargeting"
		if isS3 {
			service = "s3"
		}
		u, err := url.ParseRequestURI("http://pinfold.test/" + path)
		if err != nil {
			t.Skip("not a request path")
		}
		if _, err := url.ParseQuery(query); err != nil {
			t.Skip("a query the server cannot read is refused, not verified")
		}
		u.RawQuery = query
		req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
		if err != nil {
			t.Skip("not a request")
		}
		for _, v := range []string{value1, value2} {
			if v != "" {
				req.Header.Add("X-Test", v)
			}
		}
		payloadHash := sha256Hex(body)
		if isS3 {
			req.Header.Set("X-Amz-Content-Sha256", payloadHash)
		}
		signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = isS3 })
		creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
		if err := signer.SignHTTP(context.Background(), creds, req, payloadHash, service, testRegion, signTime); err != nil {
			t.Fatalf("sign: %v", err)
		}
		var wire bytes.Buffer
		if err := req.Write(&wire); err != nil {
			t.Skip("cannot be sent")
		}
		r, err := http.ReadRequest(bufio.NewReader(&wire))
		if err != nil {
			t.Skip("the server cannot read it")
		}
		if r.URL.RequestURI() != req.URL.RequestURI() || !sameHeader(r.Header.Values("X-Test"), req.Header.Values("X-Test")) {
			t.Skip("changed on the wire")
		}
		if _, err := newVerifier(service).Verify(r, body); err != nil {
			t.Fatalf("Verify of %s %s: %v\nAuthorization: %s", r.Method, r.RequestURI, err, r.Header.Get("Authorization"))
		}
	})
}

// sameHeader reports whether header values survived the wire: the reader trims the
// spaces and tabs around each value, which canonicalization trims anyway.
func sameHeader(got, sent []string) bool {
	if len(got) != len(sent) {
		return false
	}
	for i := range got {
		if string(appendHeaderValue(nil, got[i])) != string(appendHeaderValue(nil, sent[i])) {
			return false
		}
	}
	return true
}
