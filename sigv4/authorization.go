package sigv4

import (
	"strings"

	"github.com/pinfold/pinfold"
)

// Algorithm is the only signing algorithm Pinfold accepts.
const Algorithm = "AWS4-HMAC-SHA256"

// scopeTerminator ends every SigV4 credential scope.
const scopeTerminator = "aws4_request"

// Authorization is a parsed SigV4 Authorization header:
//
//	AWS4-HMAC-SHA256 Credential=AKID/20240102/us-east-1/mobiletargeting/aws4_request, SignedHeaders=host;x-amz-date, Signature=<64 hex>
//
// Date, Region, Service and Terminal are the credential scope after the access key ID.
// SignedHeaders are lower-case and sorted, as the client listed them.
type Authorization struct {
	Algorithm     string
	AccessKeyID   string
	Date          string // YYYYMMDD
	Region        string
	Service       string
	Terminal      string // always "aws4_request" after a successful parse
	SignedHeaders []string
	Signature     string // 64 lower-case hex digits
}

// ParseAuthorization parses the value of an Authorization header. It checks the header's
// form only: the algorithm, the three fields (Credential, SignedHeaders, Signature), a
// five-part credential scope ending in "aws4_request", lower-case sorted signed header
// names and a 64-digit hex signature. Whether the scope fits the request is Verify's job.
// Errors are *pinfold.Error with code EFORBIDDEN and a message naming what is wrong.
func ParseAuthorization(h string) (Authorization, error) {
	var a Authorization
	h = strings.TrimSpace(h)
	algorithm, rest, _ := strings.Cut(h, " ")
	if algorithm != Algorithm {
		return Authorization{}, forbidden("unsupported algorithm %q; only %s is supported", algorithm, Algorithm)
	}
	a.Algorithm = algorithm

	var credential, signedHeaders, signature string
	var seen [3]bool
	for field := range strings.SplitSeq(rest, ",") {
		field = strings.TrimSpace(field)
		if field == "" {
			continue
		}
		name, value, ok := strings.Cut(field, "=")
		if !ok {
			return Authorization{}, malformed("field %q has no \"=\"", field)
		}
		var i int
		var dst *string
		switch name {
		case "Credential":
			i, dst = 0, &credential
		case "SignedHeaders":
			i, dst = 1, &signedHeaders
		case "Signature":
			i, dst = 2, &signature
		default:
			return Authorization{}, malformed("unknown field %q", name)
		}
		if seen[i] {
			return Authorization{}, malformed("%s is given more than once", name)
		}
		seen[i] = true
		*dst = value
	}
	for i, name := range [3]string{"Credential", "SignedHeaders", "Signature"} {
		if !seen[i] {
			return Authorization{}, malformed("missing %s", name)
		}
	}

	if strings.Count(credential, "/") != 4 {
		return Authorization{}, malformed("Credential must be AccessKeyID/YYYYMMDD/region/service/aws4_request, got %q", credential)
	}
	var parts [5]string
	scope := credential
	for i := range 4 {
		parts[i], scope, _ = strings.Cut(scope, "/")
	}
	parts[4] = scope
	for i, what := range [4]string{"access key ID", "date", "region", "service"} {
		if parts[i] == "" {
			return Authorization{}, malformed("Credential has an empty %s", what)
		}
	}
	a.AccessKeyID, a.Date, a.Region, a.Service, a.Terminal = parts[0], parts[1], parts[2], parts[3], parts[4]
	if !isDate(a.Date) {
		return Authorization{}, malformed("credential scope date %q is not YYYYMMDD", a.Date)
	}
	if a.Terminal != scopeTerminator {
		return Authorization{}, forbidden("credential scope terminator %q must be %q", a.Terminal, scopeTerminator)
	}

	if signedHeaders == "" {
		return Authorization{}, malformed("SignedHeaders is empty")
	}
	a.SignedHeaders = strings.Split(signedHeaders, ";")
	for i, name := range a.SignedHeaders {
		if !isHeaderName(name) {
			return Authorization{}, malformed("signed header name %q is not a lower-case header name", name)
		}
		if i > 0 && a.SignedHeaders[i-1] >= name {
			return Authorization{}, malformed("SignedHeaders must be sorted and without duplicates, got %q", signedHeaders)
		}
	}

	if !isHex(signature, 64) {
		return Authorization{}, malformed("Signature must be 64 lower-case hexadecimal digits")
	}
	a.Signature = signature
	return a, nil
}

// isDate reports whether s is eight ASCII digits. The calendar check comes later, when
// Verify compares it with the request time.
func isDate(s string) bool {
	if len(s) != 8 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isHeaderName reports whether s is a non-empty HTTP field name (RFC 9110 token) without
// upper-case letters.
func isHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// isHex reports whether s is n lower-case hexadecimal digits.
func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// forbidden returns an EFORBIDDEN error: every verification failure is a 403.
func forbidden(format string, args ...any) error {
	return pinfold.Errorf(pinfold.EFORBIDDEN, format, args...)
}

// malformed returns an EFORBIDDEN error about the form of the Authorization header.
func malformed(format string, args ...any) error {
	return pinfold.Errorf(pinfold.EFORBIDDEN, "Authorization header is malformed: "+format, args...)
}
