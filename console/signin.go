package console

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Sign-in failures allowed from one address in a window, before it must wait.
const (
	maxSignInFailures   = 10
	signInFailureWindow = time.Minute
)

// failureLimiter counts failed sign-ins per remote address in fixed windows.
type failureLimiter struct {
	now func() time.Time

	mu     sync.Mutex
	counts map[string]*failureCount
}

type failureCount struct {
	n     int
	start time.Time
}

// blocked reports whether ip has failed too often in the current window.
func (l *failureLimiter) blocked(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.counts[ip]
	return c != nil && l.now().Sub(c.start) < signInFailureWindow && c.n >= maxSignInFailures
}

// fail counts a failure of ip.
func (l *failureLimiter) fail(ip string) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.counts == nil {
		l.counts = map[string]*failureCount{}
	}
	for k, c := range l.counts { // forget old windows, so the map stays small
		if now.Sub(c.start) >= signInFailureWindow {
			delete(l.counts, k)
		}
	}
	c := l.counts[ip]
	if c == nil {
		c = &failureCount{start: now}
		l.counts[ip] = c
	}
	c.n++
}

// signInData is what the sign-in page shows.
type signInData struct {
	AccessKeyID string
}

func (c *Console) signInPage(w http.ResponseWriter, r *http.Request) {
	if ck, err := r.Cookie(sessionCookie); err == nil && c.sessions.get(ck.Value) != nil {
		http.Redirect(w, r, "/console/apps", http.StatusSeeOther)
		return
	}
	c.render(w, r, http.StatusOK, "signin", &page{Title: "Sign in", CSRF: preSessionToken(w, r), Data: signInData{}})
}

// signIn checks an access key and secret as the API checks a signed request, then starts a
// session that remembers only the key ID.
func (c *Console) signIn(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	keyID := strings.TrimSpace(r.PostFormValue("access_key_id"))
	secret := r.PostFormValue("secret_access_key")
	token := preSessionToken(w, r)
	again := func(status int, msg string) {
		c.render(w, r, status, "signin", &page{Title: "Sign in", CSRF: token, Error: msg, Data: signInData{AccessKeyID: keyID}})
	}
	ck, err := r.Cookie(preSessionCookie)
	if !sameOrigin(r) || err != nil || !tokensEqual(r.PostFormValue(csrfField), ck.Value) {
		again(http.StatusForbidden, "The sign-in form expired. Please try again.")
		return
	}
	ip := remoteIP(r)
	if c.failures.blocked(ip) {
		c.Logger.Warn("console sign-in refused: too many failures", "remote_ip", ip)
		again(http.StatusTooManyRequests, "Too many failed sign-ins from your address. Wait a minute and try again.")
		return
	}
	if keyID == "" || secret == "" {
		again(http.StatusBadRequest, "Enter an access key ID and its secret access key.")
		return
	}
	if msg := c.checkKey(r.Context(), r.Host, keyID, secret); msg != "" {
		c.failures.fail(ip)
		c.Logger.Info("console sign-in failed", "access_key_id", keyID, "remote_ip", ip)
		again(http.StatusUnauthorized, msg)
		return
	}
	sess := c.sessions.create(keyID)
	c.Logger.Info("console sign-in", "access_key_id", keyID, "remote_ip", ip)
	http.SetCookie(w, c.sessions.cookie(r, sess))
	http.Redirect(w, r, "/console/apps", http.StatusSeeOther)
}

// checkKey verifies that secret is keyID's secret by signing a request with them and running
// it through the API's own SigV4 verifier, then that the key may still call the API (not
// revoked). It returns what to tell the user, or "" when the key is good.
func (c *Console) checkKey(ctx context.Context, host, keyID, secret string) string {
	const wrong = "The access key ID or the secret access key is wrong."
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+host+"/v1/apps", nil)
	if err != nil {
		return wrong
	}
	empty := sha256.Sum256(nil)
	now := c.Now()
	if c.API.Verifier.Now != nil {
		now = c.API.Verifier.Now()
	}
	err = v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: keyID, SecretAccessKey: secret}, req,
		hex.EncodeToString(empty[:]), c.API.Verifier.Service, c.API.Verifier.Region, now)
	if err != nil {
		return wrong
	}
	if _, err := c.API.Verifier.Verify(req, nil); err != nil {
		return wrong
	}
	// The secret is right; the key must also still work (the API refuses revoked keys).
	err = c.call(ctx, &session{accessKeyID: keyID}, http.MethodGet, "/v1/apps", url.Values{"page-size": {"1"}}, nil, nil)
	if ae, ok := err.(*apiError); ok && ae.Status == http.StatusForbidden {
		return "This access key may not be used: " + ae.Message
	} else if err != nil {
		return "The server could not check the key: " + err.Error()
	}
	return ""
}

func (c *Console) signOut(w http.ResponseWriter, r *http.Request, sess *session) {
	c.sessions.end(sess.id)
	http.SetCookie(w, clearCookie(r))
	c.Logger.Info("console sign-out", "access_key_id", sess.accessKeyID)
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}
