package sigv4

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pinfold/pinfold"
)

// FuzzCanonicalRequest feeds raw HTTP/1.1 requests, as any client could send them, to the
// canonical-request builder and to Verify. Neither may panic; the builder is a function of
// the request (the same input gives the same canonical request), its output has the six
// lines of a canonical request, and every refusal is an EFORBIDDEN *pinfold.Error. Seeds are
// in testdata/fuzz/FuzzCanonicalRequest: requests from AWS's test suite and from the SDKs.
func FuzzCanonicalRequest(f *testing.F) {
	f.Add([]byte("GET / HTTP/1.1\r\nHost: example.amazonaws.com\r\nX-Amz-Date: 20150830T123600Z\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31\r\n\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
		if err != nil {
			t.Skip("net/http refuses it before any handler runs")
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			body = nil
		}
		for _, service := range []string{"service", "s3"} {
			if _, err := (&Verifier{Region: "us-east-1", Service: service, Lookup: testLookup, Now: func() time.Time { return suiteTime }}).Verify(r, body); err != nil {
				if _, ok := err.(*pinfold.Error); !ok || pinfold.ErrorCode(err) != pinfold.EFORBIDDEN {
					t.Fatalf("Verify (%s): %T %v, want an EFORBIDDEN *pinfold.Error", service, err, err)
				}
			}
		}
		a, err := ParseAuthorization(r.Header.Get("Authorization"))
		if err != nil {
			return
		}
		for _, double := range []bool{true, false} {
			c1, err1 := canonicalRequest(r, a.SignedHeaders, sha256Hex(body), double)
			c2, err2 := canonicalRequest(r, a.SignedHeaders, sha256Hex(body), double)
			if c1 != c2 || (err1 == nil) != (err2 == nil) {
				t.Fatalf("canonical request differs between two calls:\n%q\n%q", c1, c2)
			}
			if err1 != nil {
				if pinfold.ErrorCode(err1) != pinfold.EFORBIDDEN {
					t.Fatalf("canonicalRequest: %v, want EFORBIDDEN", err1)
				}
				continue
			}
			if !strings.HasPrefix(c1, r.Method+"\n") || !strings.HasSuffix(c1, "\n"+strings.Join(a.SignedHeaders, ";")+"\n"+sha256Hex(body)) {
				t.Fatalf("canonical request %q lacks its method, URI or last lines", c1)
			}
			// Method, URI, query, one line per signed header, a blank line, the list, the hash.
			if got, want := strings.Count(c1, "\n"), 5+len(a.SignedHeaders); got < want {
				t.Fatalf("canonical request has %d line breaks, want at least %d:\n%s", got, want, c1)
			}
		}
	})
}
