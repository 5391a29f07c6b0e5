package sigv4

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
)

// appendCanonicalRequest appends the SigV4 canonical request of r to dst:
//
//	METHOD \n URI \n QUERY \n name:value\n... \n signed;headers \n payloadHash
//
// signedHeaders must be lower-case and sorted (ParseAuthorization checks that). When
// doubleEncode is set the URI is the escaped path percent-encoded once more, as every AWS
// SDK signs for services other than S3; otherwise it is the escaped path as sent.
func appendCanonicalRequest(dst []byte, r *http.Request, signedHeaders []string, payloadHash string, doubleEncode bool) ([]byte, error) {
	query, err := canonicalQuery(r.URL.RawQuery)
	if err != nil {
		return dst, err
	}
	dst = append(dst, r.Method...)
	dst = append(dst, '\n')
	dst = appendCanonicalURI(dst, r.URL.EscapedPath(), doubleEncode)
	dst = append(dst, '\n')
	dst = append(dst, query...)
	dst = append(dst, '\n')
	for _, name := range signedHeaders {
		dst = append(dst, name...)
		dst = append(dst, ':')
		if name == "host" {
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			dst = appendHeaderValue(dst, host)
		} else {
			for i, v := range headerValues(r.Header, name) {
				if i > 0 {
					dst = append(dst, ',')
				}
				dst = appendHeaderValue(dst, v)
			}
		}
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	for i, name := range signedHeaders {
		if i > 0 {
			dst = append(dst, ';')
		}
		dst = append(dst, name...)
	}
	dst = append(dst, '\n')
	dst = append(dst, payloadHash...)
	return dst, nil
}

// headerValues returns the values of the header whose lower-case name is name, as
// h.Values(name) does, without allocating the canonical form of name for the look-up.
func headerValues(h http.Header, name string) []string {
	var buf [64]byte
	if len(name) > len(buf) {
		return h.Values(name)
	}
	return h[string(appendCanonicalHeaderKey(buf[:0], name))]
}

// appendCanonicalHeaderKey appends the form net/textproto gives the header name name when it
// parses a request: the first letter and each letter after a hyphen upper-case, the rest
// lower-case. name must be a valid header name (ParseAuthorization checks the signed ones);
// textproto leaves other names as they are.
func appendCanonicalHeaderKey(dst []byte, name string) []byte {
	upper := true
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case upper && 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		case !upper && 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		dst = append(dst, c)
		upper = c == '-'
	}
	return dst
}

// appendCanonicalURI appends the canonical URI for the escaped request path to dst.
//
// A Pinpoint client percent-encodes each path label (a user ID "a b/c" goes on the wire as
// "a%20b%2Fc") and then signs that path encoded again ("a%2520b%252Fc"). S3 clients turn
// the second encoding off and sign the path exactly as sent.
func appendCanonicalURI(dst []byte, escapedPath string, doubleEncode bool) []byte {
	if escapedPath == "" {
		escapedPath = "/"
	}
	if !doubleEncode {
		return append(dst, escapedPath...)
	}
	return appendURIEncode(dst, escapedPath, false)
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
	return string(appendURIEncode(make([]byte, 0, len(s)), s, encodeSlash))
}

// appendURIEncode appends uriEncode(s, encodeSlash) to dst.
func appendURIEncode(dst []byte, s string, encodeSlash bool) []byte {
	const hexDigits = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isUnreserved(c) || c == '/' && !encodeSlash {
			dst = append(dst, c)
			continue
		}
		dst = append(dst, '%', hexDigits[c>>4], hexDigits[c&0xF])
	}
	return dst
}

// isUnreserved reports whether c is an RFC 3986 unreserved character.
func isUnreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '_' || c == '.' || c == '~'
}

// appendHeaderValue appends v to dst trimmed, with each run of spaces inside it collapsed
// to one space.
func appendHeaderValue(dst []byte, v string) []byte {
	v = strings.TrimSpace(v)
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' && i > 0 && v[i-1] == ' ' {
			continue
		}
		dst = append(dst, v[i])
	}
	return dst
}
