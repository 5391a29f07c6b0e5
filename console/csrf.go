package console

import (
	"crypto/subtle"
	"net/http"
	"net/url"
)

// Cross-site request forgery is refused three ways: the cookies are SameSite=Strict, every
// form and JS POST carries a token that a foreign page cannot read (the session's, or before
// sign-in a double-submit cookie's), and an Origin or Referer naming another host is refused.

// csrfField and csrfHeader carry the token of a form and of a JS request.
const (
	csrfField  = "csrf_token"
	csrfHeader = "X-CSRF-Token"
	// preSessionCookie holds the sign-in form's token (double submit).
	preSessionCookie = "pinfold_console_signin"
)

// tokensEqual compares two tokens in constant time; an empty token never matches.
func tokensEqual(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// sameOrigin reports whether the request's Origin, or else its Referer, names the host the
// request was sent to. A request with neither passes: the token decides. So does "Origin:
// null", which browsers send for the console's own forms because its pages carry
// Referrer-Policy: no-referrer.
func sameOrigin(r *http.Request) bool {
	from := r.Header.Get("Origin")
	if from == "null" {
		from = ""
	}
	if from == "" {
		from = r.Header.Get("Referer")
	}
	if from == "" {
		return true
	}
	u, err := url.Parse(from)
	return err == nil && u.Host == r.Host
}

// preSessionToken returns the sign-in form's token, setting its cookie when there is none.
func preSessionToken(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(preSessionCookie); err == nil && len(c.Value) >= 32 {
		return c.Value
	}
	token := newToken()
	http.SetCookie(w, &http.Cookie{Name: preSessionCookie, Value: token, Path: pathPrefix, MaxAge: 3600,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return token
}
