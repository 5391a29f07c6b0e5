package console

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Session lifetimes when Console leaves them zero.
const (
	DefaultSessionIdle = 30 * time.Minute
	DefaultSessionMax  = 8 * time.Hour
)

// sessionCookie names the cookie that carries a session ID.
const sessionCookie = "pinfold_console"

// session is one signed-in browser. It holds the access key ID only: the secret is checked at
// sign-in and dropped.
type session struct {
	id          string
	accessKeyID string
	csrf        string // the token every form and JS POST of the session carries
	created     time.Time
	lastSeen    time.Time
}

// sessions is the server-side table of sessions. Sessions live in memory: a restart signs
// everyone out, and each node of a cluster keeps its own.
type sessions struct {
	idle, max time.Duration
	now       func() time.Time

	mu   sync.Mutex
	byID map[string]*session
}

// newToken returns 32 random bytes, URL-safe base64.
func newToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create starts a session for an access key whose secret was just checked.
func (s *sessions) create(accessKeyID string) *session {
	now := s.now()
	sess := &session{id: newToken(), accessKeyID: accessKeyID, csrf: newToken(), created: now, lastSeen: now}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.byID == nil {
		s.byID = map[string]*session{}
	}
	for id, old := range s.byID { // sweep expired sessions, so the table stays small
		if s.expired(old, now) {
			delete(s.byID, id)
		}
	}
	s.byID[sess.id] = sess
	return sess
}

// get returns the live session of id and marks it used, or nil.
func (s *sessions) get(id string) *session {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byID[id]
	if sess == nil {
		return nil
	}
	if s.expired(sess, now) {
		delete(s.byID, id)
		return nil
	}
	sess.lastSeen = now
	c := *sess
	return &c
}

// end removes a session.
func (s *sessions) end(id string) {
	s.mu.Lock()
	delete(s.byID, id)
	s.mu.Unlock()
}

func (s *sessions) expired(sess *session, now time.Time) bool {
	return now.Sub(sess.lastSeen) >= s.idle || now.Sub(sess.created) >= s.max
}

// cookie returns the session cookie for sess, valid for as long as the session can be idle
// (and no longer than its absolute end); a request refreshes it.
func (s *sessions) cookie(r *http.Request, sess *session) *http.Cookie {
	left := min(s.idle, sess.created.Add(s.max).Sub(s.now()))
	return &http.Cookie{Name: sessionCookie, Value: sess.id, Path: pathPrefix, MaxAge: max(int(left.Seconds()), 1),
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
}

// clearCookie removes the session cookie from the browser.
func clearCookie(r *http.Request) *http.Cookie {
	return &http.Cookie{Name: sessionCookie, Value: "", Path: pathPrefix, MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode}
}
