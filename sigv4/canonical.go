package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// canonicalRequest returns the SigV4 canonical request of r:
//
//	METHOD \n URI \n QUERY \n name:value\n... \n signed;headers \n payloadHash
//
// signedHeaders must be lower-case and sorted (ParseAuthorization checks that). When
// doubleEncode is set the URI is the escaped path percent-encoded once more, as every AWS
// SDK signs for services other than S3; otherwise it is the escaped path as sent.
func canonicalRequest(r *http.Request, signedHeaders []string, payloadHash string, doubleEncode bool) (string, error) {
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL.EscapedPath(), doubleEncode))
	b.WriteByte('\n')
	b.WriteString(query)
	b.WriteByte('\n')
	for _, name := range signedHeaders {
		b.WriteString(name)
		b.WriteByte(':')
		if name == "host" {
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			b.WriteString(canonicalHeaderValue(host))
		} else {
			for i, v := range r.Header.Values(name) {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(canonicalHeaderValue(v))
			}
		}
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(strings.Join(signedHeaders, ";"))
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String(), nil
}

// canonicalURI returns the canonical URI for the escaped request path.
//
// A Pinpoint client percent-encodes each path label (a user ID "a b/c" goes on the wire as
// "a%20b%2Fc") and then signs that path encoded again ("a%2520b%252Fc"). S3 clients turn
// the second encoding off and sign the path exactly as sent.
func canonicalURI(escapedPath string, doubleEncode bool) string {
	if escapedPath == "" {
		escapedPath = "/"
	}
	if !doubleEncode {
		return escapedPath
	}
	return uriEncode(escapedPath, false)
}

// canonicalQuery returns the canonical query string of rawQuery: every name and value
// decoded, encoded again with uriEncode, and the pairs sorted by encoded name, then by
// encoded value. A name without "=" gets an empty value. A query that does not decode is
// refused, since the handler would not see what was signed.
func canonicalQuery(rawQuery string) (string, error) {
	if rawQuery == "" {
		return "", nil
	}
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", forbidden("the query string is malformed: %v", err)
	}
	type pair struct{ name, value string }
	pairs := make([]pair, 0, len(values))
	for name, vs := range values {
		name = uriEncode(name, true)
		for _, v := range vs {
			pairs = append(pairs, pair{name, uriEncode(v, true)})
		}
	}
	slices.SortFunc(pairs, func(x, y pair) int {
		if c := strings.Compare(x.name, y.name); c != 0 {
			return c
		}
		return strings.Compare(x.value, y.value)
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.name)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String(), nil
}

// uriEncode percent-encodes every byte of s outside the RFC 3986 unreserved set
// (A-Z a-z 0-9 - _ . ~) with upper-case hex. '/' is left alone unless encodeSlash is set.
func uriEncode(s string, encodeSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || c == '/' && !encodeSlash {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&0xF])
	}
	return b.String()
}

// isUnreserved reports whether c is an RFC 3986 unreserved character.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// canonicalHeaderValue trims v and collapses each run of spaces inside it to one space.
func canonicalHeaderValue(v string) string {
	v = strings.TrimSpace(v)
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	b.Grow(len(v))
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
