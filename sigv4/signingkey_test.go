package sigv4

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// TestSigningKeysMiss checks that the signing-key cache answers a different secret or scope
// with that secret's and scope's own key, never with one derived for another.
func TestSigningKeysMiss(t *testing.T) {
	t.Parallel()
	base := Authorization{Date: "20240305", Region: "us-east-1", Service: "mobiletargeting", Terminal: scopeTerminator}
	variants := map[string]struct {
		secret string
		a      Authorization
	}{
		"base":    {testSecret, base},
		"secret":  {testSecret + "x", base},
		"date":    {testSecret, Authorization{Date: "20240306", Region: base.Region, Service: base.Service, Terminal: base.Terminal}},
		"region":  {testSecret, Authorization{Date: base.Date, Region: "eu-west-1", Service: base.Service, Terminal: base.Terminal}},
		"service": {testSecret, Authorization{Date: base.Date, Region: base.Region, Service: "s3", Terminal: base.Terminal}},
	}
	var c signingKeys
	seen := map[[sha256.Size]byte]string{}
	for range 2 { // the second round is served from the cache
		for name, v := range variants {
			got := c.get(v.secret, v.a)
			if want := deriveSigningKey(v.secret, v.a); got != want {
				t.Fatalf("%s: cached key %x, want %x", name, got, want)
			}
			if other, ok := seen[got]; ok && other != name {
				t.Fatalf("%s and %s got the same signing key", name, other)
			}
			seen[got] = name
		}
	}
}

// TestSigningKeysBounded checks that the cache never holds more than maxSigningKeys keys.
func TestSigningKeysBounded(t *testing.T) {
	t.Parallel()
	a := Authorization{Date: "20240305", Region: "us-east-1", Service: "mobiletargeting", Terminal: scopeTerminator}
	var c signingKeys
	for i := range 3 * maxSigningKeys {
		secret := fmt.Sprint("secret", i)
		if got, want := c.get(secret, a), deriveSigningKey(secret, a); got != want {
			t.Fatalf("key %d: %x, want %x", i, got, want)
		}
		if n := len(c.keys); n > maxSigningKeys {
			t.Fatalf("the cache holds %d keys, more than %d", n, maxSigningKeys)
		}
	}
}

// TestVerifySecretChanged checks that a request signed with a key's old secret is refused
// once the lookup returns a new one, though the old secret's signing key was cached.
func TestVerifySecretChanged(t *testing.T) {
	t.Parallel()
	secret := testSecret
	v := newVerifier("mobiletargeting")
	v.Lookup = func(id string) (string, bool) { return secret, id == testKeyID }
	r := signRequest(t, "mobiletargeting", "GET", "/v1/apps/app1/jobs/import/job1", nil, nil, "")
	if _, err := v.Verify(r, nil); err != nil {
		t.Fatalf("Verify with the signing secret: %v", err)
	}
	secret = testSecret + "rotated"
	_, err := v.Verify(r, nil)
	assertForbidden(t, err, "the signature does not match")
}

// TestVerifyNextDay checks that the same key signing on the next day is verified with that
// day's signing key.
func TestVerifyNextDay(t *testing.T) {
	t.Parallel()
	v := newVerifier("mobiletargeting")
	r := signRequest(t, "mobiletargeting", "GET", "/v1/apps", nil, nil, "")
	if _, err := v.Verify(r, nil); err != nil {
		t.Fatal(err)
	}
	// The same request with the date of the next day (and the scope date changed to match)
	// still carries the old signature, so it must fail; signed anew for the next day, it
	// must pass.
	next := signTime.Add(24 * time.Hour)
	v.Now = func() time.Time { return next }
	moved := r.Clone(r.Context())
	moved.Header.Set("X-Amz-Date", next.Format(amzDateFormat))
	moved.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), signTime.Format("20060102"), next.Format("20060102"), 1))
	_, err := v.Verify(moved, nil)
	assertForbidden(t, err, "the signature does not match")

	req, err := http.NewRequest("GET", "http://pinfold.test/v1/apps", nil)
	if err != nil {
		t.Fatal(err)
	}
	creds := aws.Credentials{AccessKeyID: testKeyID, SecretAccessKey: testSecret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, req, emptyPayloadHash, "mobiletargeting", testRegion, next); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Verify(roundTrip(t, req), nil); err != nil {
		t.Fatalf("Verify of a request signed the next day: %v", err)
	}
}

// TestCanonicalHeaderKey holds appendCanonicalHeaderKey to the keys net/textproto gives the
// headers of a parsed request.
func TestCanonicalHeaderKey(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"host", "x-amz-date", "amz-sdk-invocation-id", "content-md5", "x-", "-x", "a--b",
		"x-1a", "1a-b", "a_b-c", "a.b~c", "!#$%&'*+-.^_`|~"} {
		if !isHeaderName(name) {
			t.Fatalf("%q is not a header name; the test means to use valid ones", name)
		}
		if got, want := string(appendCanonicalHeaderKey(nil, name)), textproto.CanonicalMIMEHeaderKey(name); got != want {
			t.Errorf("appendCanonicalHeaderKey(%q) = %q, want %q", name, got, want)
		}
	}
}

// FuzzCanonicalHeaderKey checks appendCanonicalHeaderKey against net/textproto for every
// name ParseAuthorization accepts as a signed header.
func FuzzCanonicalHeaderKey(f *testing.F) {
	f.Add("x-amz-date")
	f.Add("a--b-1c")
	f.Fuzz(func(t *testing.T, name string) {
		if !isHeaderName(name) {
			return
		}
		if got, want := string(appendCanonicalHeaderKey(nil, name)), textproto.CanonicalMIMEHeaderKey(name); got != want {
			t.Fatalf("appendCanonicalHeaderKey(%q) = %q, want %q", name, got, want)
		}
	})
}

func TestEmptyPayloadHash(t *testing.T) {
	t.Parallel()
	if got := sha256Hex(nil); got != emptyPayloadHash {
		t.Fatalf("sha256 of nothing is %s, the constant says %s", got, emptyPayloadHash)
	}
}

// TestSignatureIsHMAC holds signature, which computes its HMAC by hand, to crypto/hmac over
// the string to sign as the SigV4 documentation writes it, for random keys and for scopes
// long enough to outgrow signature's stack buffer.
func TestSignatureIsHMAC(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	at := time.Date(2026, 11, 29, 18, 30, 5, 0, time.UTC)
	for i := range 200 {
		var key [sha256.Size]byte
		for j := range key {
			key[j] = byte(rng.Uint32())
		}
		a := Authorization{Date: "20261129", Region: "us-east-1", Service: "mobiletargeting", Terminal: "aws4_request"}
		if i%2 == 1 {
			a.Region = strings.Repeat("r", i)
		}
		creq := []byte(fmt.Sprintf("GET\n/v1/apps/%d\n\nhost:localhost\n\nhost\n%s", i, strings.Repeat("e", i)))
		hash := sha256.Sum256(creq)
		toSign := fmt.Sprintf("AWS4-HMAC-SHA256\n20261129T183005Z\n20261129/%s/%s/aws4_request\n%x", a.Region, a.Service, hash)
		m := hmac.New(sha256.New, key[:])
		m.Write([]byte(toSign))
		if got, want := signature(key, a, at, creq), m.Sum(nil); !bytes.Equal(got[:], want) {
			t.Fatalf("case %d: signature %x, crypto/hmac %x", i, got, want)
		}
	}
}
