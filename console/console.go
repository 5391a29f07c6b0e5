// Package console is Pinfold's web console, served at /console/ beside the API: apps, import
// jobs with live progress, uploads, segments and endpoint lookup, for people rather than SDKs.
//
// It holds no API logic of its own. A person signs in with an access key and its secret, which
// are checked as a signed request's would be; every page then calls the API in process
// (api.Server.ServeAs) as that key and renders the API's JSON, so a key limited to some apps
// sees only those and every refusal is the API's own. Pages are html/template, embedded with
// the little CSS and JavaScript they use (docs/console.md).
package console

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/api"
)

// pathPrefix is where the console is mounted.
const pathPrefix = "/console/"

// Defaults of the upload and job fields, the ones `pinfold import` uses.
const (
	DefaultUploadBucket = "pinfold-imports"
	DefaultRoleARN      = "arn:aws:iam::000000000000:role/pinfold-import"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Uploader stores uploaded files where import jobs can read them: the S3 the server reads
// from. *s3.Client is one.
type Uploader interface {
	// EnsureBucket creates bucket unless it exists.
	EnsureBucket(ctx context.Context, bucket string) error
	// PutStream stores r as bucket/key with bounded memory and returns the bytes stored.
	PutStream(ctx context.Context, bucket, key string, r io.Reader) (int64, error)
}

// Console serves the web console. Set the fields, then serve Handler() at /console/.
type Console struct {
	// API is the server whose operations the console calls as the signed-in key. Required.
	API *api.Server
	// Uploader stores uploaded files; nil turns uploads off (an s3:// location still works).
	Uploader Uploader
	// UploadBucket is the bucket uploads go to, under console-uploads/ (default
	// DefaultUploadBucket); it is created when missing.
	UploadBucket string
	// RoleARN fills the RoleArn fields of the import and export forms (default DefaultRoleARN).
	RoleARN string

	// SessionIdle ends a session unused this long (default DefaultSessionIdle); SessionMax
	// ends any session this long after sign-in (default DefaultSessionMax).
	SessionIdle, SessionMax time.Duration

	Logger *slog.Logger
	Now    func() time.Time

	once     sync.Once
	handler  http.Handler
	sessions *sessions
	pages    map[string]*template.Template
	failures *failureLimiter
}

// Handler returns the console's handler; it answers paths under /console/ only.
func (c *Console) Handler() http.Handler {
	c.once.Do(c.init)
	return c.handler
}

func (c *Console) init() {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.UploadBucket == "" {
		c.UploadBucket = DefaultUploadBucket
	}
	if c.RoleARN == "" {
		c.RoleARN = DefaultRoleARN
	}
	c.sessions = &sessions{idle: c.SessionIdle, max: c.SessionMax, now: c.Now}
	if c.sessions.idle <= 0 {
		c.sessions.idle = DefaultSessionIdle
	}
	if c.sessions.max <= 0 {
		c.sessions.max = DefaultSessionMax
	}
	c.failures = &failureLimiter{now: c.Now}
	c.pages = parsePages()

	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /console/static/", http.StripPrefix("/console/static/", staticHandler(static)))
	mux.HandleFunc("GET /console/{$}", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/console/apps", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /console/signin", c.signInPage)
	mux.HandleFunc("POST /console/signin", c.signIn)
	mux.Handle("POST /console/signout", c.auth(c.signOut))

	mux.Handle("GET /console/apps", c.auth(c.appsPage))
	mux.Handle("POST /console/apps", c.auth(c.createApp))
	mux.Handle("GET /console/switch", c.auth(c.switchApp))
	mux.Handle("GET /console/apps/{app}/delete", c.auth(c.deleteAppPage))
	mux.Handle("POST /console/apps/{app}/delete", c.auth(c.deleteApp))
	mux.Handle("GET /console/apps/{app}", c.auth(func(w http.ResponseWriter, r *http.Request, _ *session) {
		http.Redirect(w, r, appPath(r.PathValue("app"), "jobs"), http.StatusSeeOther)
	}))
	mux.Handle("GET /console/apps/{app}/jobs", c.auth(c.jobsPage))
	mux.Handle("GET /console/apps/{app}/jobs.json", c.auth(c.jobsJSON))
	mux.Handle("GET /console/apps/{app}/jobs/{job}", c.auth(c.jobPage))
	mux.Handle("GET /console/apps/{app}/jobs/{job}/failures", c.auth(c.failureReport))
	mux.Handle("GET /console/apps/{app}/import", c.auth(c.importPage))
	mux.Handle("POST /console/apps/{app}/import", c.auth(c.createImport))
	mux.Handle("GET /console/apps/{app}/segments", c.auth(c.segmentsPage))
	mux.Handle("GET /console/apps/{app}/segments/{segment}", c.auth(c.segmentPage))
	mux.Handle("POST /console/apps/{app}/segments/{segment}/export", c.auth(c.createExport))
	mux.Handle("GET /console/apps/{app}/endpoints", c.auth(c.endpointsPage))
	mux.HandleFunc("/console/", func(w http.ResponseWriter, r *http.Request) {
		c.render(w, r, http.StatusNotFound, "error", &page{Title: "Not found",
			Error: "There is no console page at " + r.URL.Path + "."})
	})
	c.handler = securityHeaders(mux)
}

// securityHeaders sets the headers every console response carries: no script or style from
// anywhere but the console itself, never in a frame, no Referer sent on.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "+
			"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// staticHandler serves the embedded CSS and JS whole; they may be cached briefly. Range
// requests are answered with the whole file: the files are small, and the Range parser of Go
// before 1.26.9 spends CPU without bound on a header of many small ranges (GO-2026-6609), on
// a path that needs no sign-in.
func staticHandler(files fs.FS) http.Handler {
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		r.Header.Del("Range")
		fileServer.ServeHTTP(w, r)
	})
}

// sessionHandler is a page that needs a signed-in session.
type sessionHandler func(w http.ResponseWriter, r *http.Request, sess *session)

// auth runs h for a live session whose key is still valid, checking the CSRF token and
// origin of every request that is not a read. Without a session a page redirects to sign-in
// (a JSON request gets 401).
func (c *Console) auth(h sessionHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var sess *session
		if ck, err := r.Cookie(sessionCookie); err == nil {
			sess = c.sessions.get(ck.Value)
		}
		if sess != nil {
			if reason := c.keyInvalid(r.Context(), sess.accessKeyID); reason != "" {
				c.sessions.end(sess.id)
				c.Logger.Info("console session ended", "access_key_id", sess.accessKeyID, "reason", reason)
				sess = nil
			}
		}
		if sess == nil {
			http.SetCookie(w, clearCookie(r))
			if strings.HasSuffix(r.URL.Path, ".json") || r.Method != http.MethodGet {
				http.Error(w, "Your console session has ended: sign in again.", http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameOrigin(r) {
				c.forbidden(w, r, "The request came from another site.")
				return
			}
			// A multipart upload carries its token in the form, checked by its handler
			// before any file is stored; every other form is small and parsed here.
			if !isMultipart(r) && !tokensEqual(c.formToken(r), sess.csrf) {
				c.forbidden(w, r, "The form has expired or did not come from this console. Go back, reload the page and try again.")
				return
			}
		}
		http.SetCookie(w, c.sessions.cookie(r, sess))
		h(w, r, sess)
	})
}

// formToken returns the CSRF token of a request: its header (JS), else its form field.
func (c *Console) formToken(r *http.Request) string {
	if t := r.Header.Get(csrfHeader); t != "" {
		return t
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<20)
	return r.PostFormValue(csrfField)
}

func isMultipart(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
}

// keyInvalid says why a session's key may no longer be used (revoked, deleted), or "".
// The API would refuse the key's every call; the session ends now instead.
func (c *Console) keyInvalid(ctx context.Context, keyID string) string {
	if keyID == c.API.RootAccessKeyID || c.API.Keys == nil {
		return ""
	}
	key, err := c.API.Keys.FindKey(ctx, keyID)
	switch {
	case pinfold.ErrorCode(err) == pinfold.ENOTFOUND:
		return "the access key no longer exists"
	case err != nil:
		c.Logger.Error("find access key", "access_key_id", keyID, "error", err)
		return "" // the API call will fail with the store's error and say so
	case key.Revoked():
		return "the access key was revoked"
	}
	return ""
}

func (c *Console) forbidden(w http.ResponseWriter, r *http.Request, msg string) {
	c.render(w, r, http.StatusForbidden, "error", &page{Title: "Refused", Error: msg})
}

// apiError is an error response of the API: its status, exception type and message.
type apiError struct {
	Status  int
	Type    string
	Message string
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.Type, e.Message) }

// recorder is the http.ResponseWriter an in-process API call writes to.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (r *recorder) Header() http.Header { return r.header }
func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

// apiRequest builds the request of an in-process API call.
func apiRequest(ctx context.Context, method, path string, query url.Values, in any) (*http.Request, error) {
	var body io.Reader = http.NoBody
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(b)
	}
	target := "http://pinfold.internal" + path
	if len(query) > 0 {
		target += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}

// call runs one API operation as the session's key: in (nil for none) is the JSON body, out
// receives the JSON response. An error response is an *apiError.
func (c *Console) call(ctx context.Context, sess *session, method, path string, query url.Values, in, out any) error {
	req, err := apiRequest(ctx, method, path, query, in)
	if err != nil {
		return err
	}
	rec := &recorder{header: http.Header{}}
	c.API.ServeAs(rec, req, sess.accessKeyID)
	return decodeResponse(rec.status, rec.header, rec.body.Bytes(), out)
}

// decodeResponse turns an API response into out or an *apiError.
func decodeResponse(status int, header http.Header, body []byte, out any) error {
	if status >= 300 {
		var e struct{ Message string }
		json.Unmarshal(body, &e)
		if e.Message == "" {
			e.Message = http.StatusText(status)
		}
		return &apiError{Status: status, Type: header.Get("X-Amzn-ErrorType"), Message: e.Message}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("decode API response: %w", err)
	}
	return nil
}

// fail renders the page of an error: the API's own status and message, or a generic message
// for an internal error (logged).
func (c *Console) fail(w http.ResponseWriter, r *http.Request, sess *session, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		c.Logger.Error("console", "path", r.URL.Path, "error", err)
		ae = &apiError{Status: http.StatusInternalServerError, Message: "Something went wrong on the server; the log says what."}
	}
	p := &page{Title: http.StatusText(ae.Status), Error: ae.Message}
	if sess != nil {
		p.CSRF, p.KeyID = sess.csrf, sess.accessKeyID
	}
	c.render(w, r, ae.Status, "error", p)
}

// remoteIP is the address a request came from, without its port.
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// appPath is the console path of one of an app's pages.
func appPath(appID string, rest ...string) string {
	p := "/console/apps/" + url.PathEscape(appID)
	for _, s := range rest {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// apiPath is the API path of an app's resource.
func apiPath(appID string, rest ...string) string {
	p := "/v1/apps/" + url.PathEscape(appID)
	for _, s := range rest {
		p += "/" + url.PathEscape(s)
	}
	return p
}
