package sigv4

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
)

// errCaptured stops a client call once captureTransport has the request.
var errCaptured = errors.New("captured")

// captureTransport keeps the request a client sends, as a server would read it, and sends
// nothing.
type captureTransport struct {
	t   testing.TB
	req *http.Request
}

func (c *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	c.req = roundTrip(c.t, req)
	return nil, errCaptured
}

// sdkGetImportJob returns a GetImportJob request signed now by the real Pinpoint client,
// the request GetImportJob polling sends.
func sdkGetImportJob(t testing.TB) *http.Request {
	t.Helper()
	capture := &captureTransport{t: t}
	client := pinpoint.New(pinpoint.Options{
		BaseEndpoint:     aws.String("http://pinfold.test"),
		Region:           testRegion,
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: capture},
	})
	client.GetImportJob(context.Background(), &pinpoint.GetImportJobInput{
		ApplicationId: aws.String("0123456789abcdef0123456789abcdef"), JobId: aws.String("fedcba9876543210fedcba9876543210")})
	if capture.req == nil {
		t.Fatal("the client sent no request")
	}
	return capture.req
}

// BenchmarkVerify measures the signature check of one GetImportJob request from the SDK.
func BenchmarkVerify(b *testing.B) {
	r := sdkGetImportJob(b)
	v := &Verifier{Region: testRegion, Service: "mobiletargeting", Lookup: testLookup}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := v.Verify(r, nil); err != nil {
			b.Fatal(err)
		}
	}
}
