package console

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestSessionLifetimes(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	s := &sessions{idle: 30 * time.Minute, max: 8 * time.Hour, now: func() time.Time { return now }}

	// Used every 29 minutes, a session lives until its absolute end, and no longer.
	sess := s.create("PFKEY")
	for now.Add(29 * time.Minute).Before(sess.created.Add(8 * time.Hour)) {
		now = now.Add(29 * time.Minute)
		if s.get(sess.id) == nil {
			t.Fatalf("session ended %v after sign-in although used every 29 minutes", now.Sub(sess.created))
		}
	}
	now = sess.created.Add(8 * time.Hour)
	if s.get(sess.id) != nil {
		t.Fatal("session outlived its 8 hour limit")
	}

	// Unused for 30 minutes, it ends.
	idle := s.create("PFKEY")
	now = now.Add(30 * time.Minute)
	if s.get(idle.id) != nil {
		t.Fatal("session outlived 30 idle minutes")
	}
	if len(s.byID) != 0 {
		t.Fatalf("expired sessions are kept: %d", len(s.byID))
	}
}

func TestSessionCookie(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	s := &sessions{idle: 30 * time.Minute, max: time.Hour, now: func() time.Time { return now }}
	sess := s.create("PFKEY")
	r := httptest.NewRequest("GET", "/console/apps", nil)
	if c := s.cookie(r, sess); c.Secure || c.MaxAge != 1800 || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/console/" {
		t.Fatalf("cookie over http = %+v", c)
	}
	r.TLS = &tls.ConnectionState{}
	now = now.Add(50 * time.Minute) // 10 minutes left of the absolute limit
	if c := s.cookie(r, sess); !c.Secure || c.MaxAge != 600 {
		t.Fatalf("cookie over TLS near the end = %+v, want Secure and Max-Age 600", c)
	}
}
