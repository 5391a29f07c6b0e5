// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests, so that the
// stock AWS SDKs and CLIs can talk to Pinfold with an access key and secret.
//
// Only header-based signing is accepted (an Authorization header with algorithm
// AWS4-HMAC-SHA256). Presigned URLs, SigV4a and temporary credentials are refused.
//
// The canonical request is built here rather than by re-signing a copy of the request with
// the SDK's signer, because that signer cannot reproduce every request a client may sign:
// it always adds and signs X-Amz-Date (so a request dated by the Date header cannot be
// rebuilt), it never signs a Content-Length of 0, and it skips User-Agent and Expect. The
// tests hold this package to the SDK: requests from the real aws-sdk-go-v2 Pinpoint and S3
// clients must verify, and a fuzz target checks that whatever the SDK signer signs verifies.
package sigv4

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Header names this package reads.
const (
	headerAuthorization = "Authorization"
	headerAmzDate       = "X-Amz-Date"
	headerDate          = "Date"
	headerContentSHA256 = "X-Amz-Content-Sha256"
	headerSecurityToken = "X-Amz-Security-Token"
)

// Payload hash values S3 clients may send in X-Amz-Content-Sha256 instead of a digest.
const (
	unsignedPayload = "UNSIGNED-PAYLOAD"
	streamingPrefix = "STREAMING-"
)

// amzDateFormat is the ISO 8601 basic format of X-Amz-Date and of the string to sign.
const amzDateFormat = "20060102T150405Z"

// DefaultMaxSkew is how far a request's time may be from the server's clock when
// Verifier.MaxSkew is zero. It is the limit AWS applies.
const DefaultMaxSkew = 15 * time.Minute

// SecretLookup returns the secret access key for an access key ID, and ok=false when the
// key is unknown.
type SecretLookup func(accessKeyID string) (secret string, ok bool)

// Verifier checks SigV4 signatures for one region and one signing service. It is safe for
// concurrent use and must not be copied after first use: besides its configuration it
// remembers the signing keys it derived (see signingKeys).
type Verifier struct {
	// Region is the region clients are configured with, e.g. "us-east-1". The region in a
	// request's credential scope must equal it.
	Region string
	// Service is the signing name: "mobiletargeting" for the Pinpoint API, "s3" for the
	// embedded S3 endpoint. It also decides how the path is canonicalized: S3 clients sign
	// the path as sent, every other service signs it percent-encoded a second time.
	Service string
	// Lookup finds the secret for an access key ID. A nil Lookup knows no keys.
	Lookup SecretLookup
	// Now returns the server's time; nil means time.Now.
	Now func() time.Time
	// MaxSkew is how far the request time may be from Now; 0 means DefaultMaxSkew.
	MaxSkew time.Duration

	keys signingKeys
}

// Verify checks the SigV4 signature of r, whose complete body is body: the caller has
// already read it, and r.Body is not touched. On success it returns the access key ID the
// request was signed with.
//
// The payload hash is computed from body. S3 clients send their own hash in
// X-Amz-Content-Sha256; when Service is "s3" that value is signed as given, which admits
// UNSIGNED-PAYLOAD and the STREAMING-* values of aws-chunked uploads (the chunk signatures
// of a STREAMING-AWS4-HMAC-SHA256-PAYLOAD body are not checked here). A literal digest must
// equal sha256(body), unless body is nil: for S3 a nil body means the caller streams the
// body and checks the digest itself. For any other service a nil body is an empty one.
//
// Every failure is a *pinfold.Error with code EFORBIDDEN whose message names the check that
// failed. The message never contains the signature the server expected.
func (v *Verifier) Verify(r *http.Request, body []byte) (accessKeyID string, err error) {
	authz := r.Header.Values(headerAuthorization)
	switch {
	case len(authz) == 0 || strings.TrimSpace(authz[0]) == "":
		return "", forbidden("missing Authorization header")
	case len(authz) > 1:
		return "", malformed("the header is sent more than once")
	}
	if len(r.Header.Values(headerSecurityToken)) > 0 {
		return "", forbidden("temporary credentials (X-Amz-Security-Token) are not supported; use a long-term access key")
	}
	a, err := ParseAuthorization(authz[0])
	if err != nil {
		return "", err
	}
	if a.Region != v.Region {
		return "", forbidden("credential scope region %q does not match %q", a.Region, v.Region)
	}
	if a.Service != v.Service {
		return "", forbidden("credential scope service %q does not match %q", a.Service, v.Service)
	}
	if !a.signs("host") {
		return "", forbidden("the host header must be signed (listed in SignedHeaders)")
	}

	t, err := requestTime(r, a)
	if err != nil {
		return "", err
	}
	var dateBuf [len(amzDateFormat)]byte
	if a.Date != string(t.AppendFormat(dateBuf[:0], "20060102")) {
		return "", forbidden("credential scope date does not match X-Amz-Date: the scope says %s, the request time is %s", a.Date, t.Format(amzDateFormat))
	}
	now, maxSkew := time.Now, v.MaxSkew
	if v.Now != nil {
		now = v.Now
	}
	if maxSkew <= 0 {
		maxSkew = DefaultMaxSkew
	}
	serverTime := now().UTC()
	if skew := serverTime.Sub(t); skew > maxSkew || skew < -maxSkew {
		return "", forbidden("request time %s is more than %s from the server's time %s", t.Format(amzDateFormat), maxSkew, serverTime.Format(amzDateFormat))
	}

	for _, name := range a.SignedHeaders {
		if name != "host" && len(headerValues(r.Header, name)) == 0 {
			return "", forbidden("signed header %q is not in the request", name)
		}
	}

	var secret string
	ok := false
	if v.Lookup != nil {
		secret, ok = v.Lookup(a.AccessKeyID)
	}
	if !ok {
		return "", forbidden("the access key ID %q does not exist", a.AccessKeyID)
	}

	payloadHash, err := v.payloadHash(r, body)
	if err != nil {
		return "", err
	}
	// Most canonical requests fit this buffer, which then stays on the stack.
	var creqBuf [1024]byte
	creq, err := appendCanonicalRequest(creqBuf[:0], r, a.SignedHeaders, payloadHash, v.Service != "s3")
	if err != nil {
		return "", err
	}
	want := signature(v.keys.get(secret, a), a, t, creq)
	var got [sha256.Size]byte
	hexDecode(got[:], a.Signature)
	if !hmac.Equal(want[:], got[:]) {
		return "", forbidden("the signature does not match: check your secret access key and signing method")
	}
	return a.AccessKeyID, nil
}

// signs reports whether the lower-case header name is among a's signed headers.
func (a Authorization) signs(name string) bool {
	for _, h := range a.SignedHeaders {
		if h == name {
			return true
		}
	}
	return false
}

// requestTime returns the signing time of r: X-Amz-Date, or the Date header when there is
// no X-Amz-Date. Whichever is used must be signed.
func requestTime(r *http.Request, a Authorization) (time.Time, error) {
	if v := r.Header.Get(headerAmzDate); v != "" {
		if !a.signs("x-amz-date") {
			return time.Time{}, forbidden("the X-Amz-Date header must be signed (listed in SignedHeaders)")
		}
		t, err := time.Parse(amzDateFormat, v)
		if err != nil {
			return time.Time{}, forbidden("X-Amz-Date %q is not in the form YYYYMMDDTHHMMSSZ", v)
		}
		return t, nil
	}
	if v := r.Header.Get(headerDate); v != "" {
		if !a.signs("date") {
			return time.Time{}, forbidden("the Date header must be signed (listed in SignedHeaders) when there is no X-Amz-Date")
		}
		t, err := http.ParseTime(v)
		if err != nil {
			return time.Time{}, forbidden("Date %q is not an HTTP date", v)
		}
		return t.UTC(), nil
	}
	return time.Time{}, forbidden("missing X-Amz-Date header")
}

// emptyPayloadHash is the hex SHA-256 of an empty body: the payload hash of every GET.
const emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

// payloadHash returns the last line of the canonical request: the hex SHA-256 of body, or
// for S3 the X-Amz-Content-Sha256 value the client signed.
func (v *Verifier) payloadHash(r *http.Request, body []byte) (string, error) {
	computed := emptyPayloadHash
	if len(body) > 0 {
		sum := sha256.Sum256(body)
		computed = hex.EncodeToString(sum[:])
	}
	values := r.Header.Values(headerContentSHA256)
	if len(values) == 0 {
		return computed, nil
	}
	sent := values[0]
	if len(values) > 1 {
		return "", forbidden("x-amz-content-sha256 is sent more than once")
	}
	if v.Service == "s3" {
		switch {
		case sent == unsignedPayload, strings.HasPrefix(sent, streamingPrefix):
			return sent, nil
		case !isHex(sent, 64):
			return "", forbidden("x-amz-content-sha256 %q is not a lower-case hex SHA-256 digest, %s or a %s* value", sent, unsignedPayload, streamingPrefix)
		case body == nil:
			return sent, nil
		}
	}
	if sent != computed {
		return "", forbidden("x-amz-content-sha256 does not match the body")
	}
	return computed, nil
}

// signature returns the signature (not hex-encoded) of the canonical request creq under the
// signing key key, for the scope and time of a and t: HMAC-SHA256 of the string to sign.
//
// The HMAC is computed here as RFC 2104 defines it, with two sha256.Sum256 calls over stack
// buffers, instead of through crypto/hmac: hmac.New allocates two digests and, behind its
// interface, the buffers written to it, on every request the server verifies. The key is
// one SHA-256 output, shorter than the block, so it is only padded with zeros.
// TestSignatureIsHMAC holds it to crypto/hmac.
func signature(key [sha256.Size]byte, a Authorization, t time.Time, creq []byte) [sha256.Size]byte {
	creqHash := sha256.Sum256(creq)
	// (key ^ ipad) then the string to sign: Algorithm \n time \n
	// date/region/service/terminal \n hex(creqHash)
	var buf [sha256.BlockSize + 256]byte
	s := padKey(buf[:0], key, 0x36)
	s = append(s, Algorithm...)
	s = append(s, '\n')
	s = t.AppendFormat(s, amzDateFormat)
	s = append(s, '\n')
	s = append(s, a.Date...)
	s = append(s, '/')
	s = append(s, a.Region...)
	s = append(s, '/')
	s = append(s, a.Service...)
	s = append(s, '/')
	s = append(s, a.Terminal...)
	s = append(s, '\n')
	s = hex.AppendEncode(s, creqHash[:])
	inner := sha256.Sum256(s)
	var outerBuf [sha256.BlockSize + sha256.Size]byte
	outer := padKey(outerBuf[:0], key, 0x5c)
	outer = append(outer, inner[:]...)
	return sha256.Sum256(outer)
}

// padKey appends to b the block-sized HMAC key of key XORed with pad (RFC 2104's ipad 0x36
// or opad 0x5c).
func padKey(b []byte, key [sha256.Size]byte, pad byte) []byte {
	for i := range sha256.BlockSize {
		c := pad
		if i < len(key) {
			c ^= key[i]
		}
		b = append(b, c)
	}
	return b
}

// deriveSigningKey returns the SigV4 signing key of secret for a's credential scope: four
// HMACs, from "AWS4"+secret through the date, region, service and terminator.
func deriveSigningKey(secret string, a Authorization) [sha256.Size]byte {
	key := hmacSHA256([]byte("AWS4"+secret), a.Date)
	key = hmacSHA256(key, a.Region)
	key = hmacSHA256(key, a.Service)
	key = hmacSHA256(key, a.Terminal)
	return [sha256.Size]byte(key)
}

// hmacSHA256 returns HMAC-SHA256(key, data).
func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// maxSigningKeys bounds a signingKeys cache. A key is used for one scope date, so a client
// needs one entry a day (two around midnight); when the cache is full it starts over.
const maxSigningKeys = 256

// signingKeys remembers derived signing keys by secret and credential scope, so that a
// client's requests cost one HMAC each instead of five. The derivation is a pure function
// of what the entry is keyed by, so a cached key is never stale: a changed secret is a
// different entry, and a revoked key is refused by the lookup before its entry is used.
type signingKeys struct {
	mu   sync.Mutex
	keys map[scopeKey][sha256.Size]byte
}

// scopeKey is what a signing key is derived from.
type scopeKey struct{ secret, date, region, service, terminal string }

// get returns the signing key of secret for a's scope, deriving it on a miss.
func (c *signingKeys) get(secret string, a Authorization) [sha256.Size]byte {
	k := scopeKey{secret, a.Date, a.Region, a.Service, a.Terminal}
	c.mu.Lock()
	key, ok := c.keys[k]
	c.mu.Unlock()
	if ok {
		return key
	}
	key = deriveSigningKey(secret, a)
	c.mu.Lock()
	if c.keys == nil || len(c.keys) >= maxSigningKeys {
		c.keys = make(map[scopeKey][sha256.Size]byte)
	}
	c.keys[k] = key
	c.mu.Unlock()
	return key
}

// hexDecode decodes s, which isHex has checked, into dst.
func hexDecode(dst []byte, s string) {
	for i := range dst {
		dst[i] = unhex(s[2*i])<<4 | unhex(s[2*i+1])
	}
}

// unhex returns the value of the lower-case hex digit c.
func unhex(c byte) byte {
	if c >= 'a' {
		return c - 'a' + 10
	}
	return c - '0'
}
