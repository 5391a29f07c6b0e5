package sigv4

import (
	"slices"
	"strings"
	"testing"

	"github.com/pinfold/pinfold"
)

// validAuthz is an Authorization header as aws-sdk-go-v2 sends it to the Pinpoint API.
const validAuthz = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240305/us-east-1/mobiletargeting/aws4_request, SignedHeaders=amz-sdk-invocation-id;amz-sdk-request;host;x-amz-date, Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseAuthorization(t *testing.T) {
	t.Parallel()
	got, err := ParseAuthorization(validAuthz)
	if err != nil {
		t.Fatalf("ParseAuthorization: %v", err)
	}
	want := Authorization{
		Algorithm:     "AWS4-HMAC-SHA256",
		AccessKeyID:   "AKIDEXAMPLE",
		Date:          "20240305",
		Region:        "us-east-1",
		Service:       "mobiletargeting",
		Terminal:      "aws4_request",
		SignedHeaders: []string{"amz-sdk-invocation-id", "amz-sdk-request", "host", "x-amz-date"},
		Signature:     "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	}
	if got.Algorithm != want.Algorithm || got.AccessKeyID != want.AccessKeyID || got.Date != want.Date ||
		got.Region != want.Region || got.Service != want.Service || got.Terminal != want.Terminal ||
		!slices.Equal(got.SignedHeaders, want.SignedHeaders) || got.Signature != want.Signature {
		t.Fatalf("ParseAuthorization =\n%+v\nwant\n%+v", got, want)
	}

	// Fields separated by a bare comma, as some clients send them, in another order.
	compact := "AWS4-HMAC-SHA256 Signature=" + want.Signature + ",SignedHeaders=host;x-amz-date,Credential=AKIDEXAMPLE/20240305/us-east-1/s3/aws4_request"
	if got, err := ParseAuthorization(compact); err != nil {
		t.Fatalf("ParseAuthorization(%q): %v", compact, err)
	} else if got.Service != "s3" || !slices.Equal(got.SignedHeaders, []string{"host", "x-amz-date"}) {
		t.Fatalf("ParseAuthorization(%q) = %+v", compact, got)
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	t.Parallel()
	const sig = "Signature=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	const cred = "Credential=AKIDEXAMPLE/20240305/us-east-1/mobiletargeting/aws4_request"
	tests := []struct{ header, want string }{
		{"", `unsupported algorithm ""`},
		{"AWS AKIDEXAMPLE:c2lnbmF0dXJl", `unsupported algorithm "AWS"; only AWS4-HMAC-SHA256 is supported`},
		{"Bearer abc", `unsupported algorithm "Bearer"`},
		{"AWS4-HMAC-SHA256", "Authorization header is malformed: missing Credential"},
		{"AWS4-HMAC-SHA256 " + cred + ", " + sig, "Authorization header is malformed: missing SignedHeaders"},
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host", "Authorization header is malformed: missing Signature"},
		{"AWS4-HMAC-SHA256 SignedHeaders=host, " + sig, "Authorization header is malformed: missing Credential"},
		{"AWS4-HMAC-SHA256 " + cred + ", " + cred + ", SignedHeaders=host, " + sig, "Credential is given more than once"},
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Expires=60, " + sig, `unknown field "Expires"`},
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders, " + sig, `field "SignedHeaders" has no "="`},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240305/us-east-1/aws4_request, SignedHeaders=host, " + sig, "Credential must be AccessKeyID/YYYYMMDD/region/service/aws4_request"},
		{"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240305/us-east-1/mobiletargeting/aws4_request/x, SignedHeaders=host, " + sig, "Credential must be AccessKeyID/YYYYMMDD/region/service/aws4_request"},
		{"AWS4-HMAC-SHA256 Credential=/20240305/us-east-1/s3/aws4_request, SignedHeaders=host, " + sig, "Credential has an empty access key ID"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240305/us-east-1//aws4_request, SignedHeaders=host, " + sig, "Credential has an empty service"},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240305//s3/aws4_request, SignedHeaders=host, " + sig, "Credential has an empty region"},
		{"AWS4-HMAC-SHA256 Credential=AKID/2024-03-05/us-east-1/s3/aws4_request, SignedHeaders=host, " + sig, `credential scope date "2024-03-05" is not YYYYMMDD`},
		{"AWS4-HMAC-SHA256 Credential=AKID/20240305/us-east-1/s3/aws4_requests, SignedHeaders=host, " + sig, `credential scope terminator "aws4_requests" must be "aws4_request"`},
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=, " + sig, "SignedHeaders is empty"},
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=Host;x-amz-date, " + sig, `signed header name "Host" is not a lower-case header name`},
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;;x-amz-date, " + sig, `signed header name "" is not a lower-case header name`},
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=x-amz-date;host, " + sig, "SignedHeaders must be sorted and without duplicates"},
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host;host, " + sig, "SignedHeaders must be sorted and without duplicates"},
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=ABCDEF", "Signature must be 64 lower-case hexadecimal digits"},
		{"AWS4-HMAC-SHA256 " + cred + ", SignedHeaders=host, Signature=" + strings.Repeat("A", 64), "Signature must be 64 lower-case hexadecimal digits"},
	}
	for _, tt := range tests {
		_, err := ParseAuthorization(tt.header)
		if err == nil {
			t.Errorf("ParseAuthorization(%q) succeeded, want %q", tt.header, tt.want)
			continue
		}
		if code, msg := pinfold.ErrorCode(err), pinfold.ErrorMessage(err); code != pinfold.EFORBIDDEN || !strings.Contains(msg, tt.want) {
			t.Errorf("ParseAuthorization(%q) = %s %q, want %s containing %q", tt.header, code, msg, pinfold.EFORBIDDEN, tt.want)
		}
	}
}

// FuzzParseAuthorization checks that no header makes ParseAuthorization panic, that every
// error is an EFORBIDDEN *pinfold.Error, and that what it accepts is well formed. Seeds
// are in testdata/fuzz/FuzzParseAuthorization.
func FuzzParseAuthorization(f *testing.F) {
	f.Add(validAuthz)
	f.Fuzz(func(t *testing.T, h string) {
		a, err := ParseAuthorization(h)
		if err != nil {
			if _, ok := err.(*pinfold.Error); !ok || pinfold.ErrorCode(err) != pinfold.EFORBIDDEN {
				t.Fatalf("error %T %v, want an EFORBIDDEN *pinfold.Error", err, err)
			}
			return
		}
		if a.Algorithm != Algorithm || a.Terminal != scopeTerminator {
			t.Fatalf("accepted algorithm %q, terminator %q", a.Algorithm, a.Terminal)
		}
		if a.AccessKeyID == "" || a.Region == "" || a.Service == "" || !isDate(a.Date) || !isHex(a.Signature, 64) {
			t.Fatalf("accepted a bad credential or signature: %+v", a)
		}
		if len(a.SignedHeaders) == 0 || !slices.IsSorted(a.SignedHeaders) || len(slices.Compact(slices.Clone(a.SignedHeaders))) != len(a.SignedHeaders) {
			t.Fatalf("accepted SignedHeaders %q", a.SignedHeaders)
		}
	})
}
