package s3

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
	"github.com/spf13/afero"

	"github.com/pinfold/pinfold"
)

// ShutdownTimeout is how long Close lets requests in flight finish before it cuts them off.
const ShutdownTimeout = 10 * time.Second

// Server is the embedded S3 endpoint: objects stored under Dir (a folder inside Pinfold's data
// folder), served over plain HTTP with path-style addressing (http://host/bucket/key).
//
// It serves what importing needs: buckets (made by CreateBucket or by the first upload),
// PutObject, multipart uploads (as `aws s3 cp` makes for files over 8 MB), GetObject with
// Range and If-Match, HeadObject, ListObjects (v1 and v2) with prefix, delimiter and
// continuation, DeleteObject(s) and CopyObject. Objects, their ETags (the MD5 of the content)
// and their headers survive restarts; multipart uploads in progress do not. Objects are files
// under Dir/buckets/BUCKET/KEY, so a key cannot end in "/" or also be a folder of other keys.
// Write into Dir only through the endpoint.
type Server struct {
	// Addr is the listen address, e.g. "127.0.0.1:9000"; with port 0, URL tells the port
	// chosen once Open returns.
	Addr string
	// Dir is the folder holding the objects; Open creates it.
	Dir string
	// Logger receives the server's errors; nil discards them.
	Logger *slog.Logger
	// Authenticate, when non-nil, is called with each request before it is served. A non-nil
	// error is answered with a 403 S3 XML error carrying the error's message (an
	// *pinfold.Error's Message) and code: the error's ErrorCode() string if it has that
	// method (e.g. "SignatureDoesNotMatch"), else "AccessDenied". Authenticate sees the
	// request as sent; it may read headers but must leave the body for the server, or replace
	// r.Body with a reader that yields the same bytes.
	Authenticate func(r *http.Request) error

	listener net.Listener
	http     *http.Server
	served   sync.WaitGroup

	mu    sync.Mutex
	fresh map[net.Conn]bool // connections that have not sent a request yet
}

// Open prepares Dir and starts serving on Addr in the background.
func (s *Server) Open() error {
	if s.Dir == "" {
		return pinfold.Errorf(pinfold.EINVALID, "Dir must name the folder for the embedded S3 endpoint's objects")
	}
	if s.Addr == "" {
		return pinfold.Errorf(pinfold.EINVALID, "Addr must be a listen address such as 127.0.0.1:9000")
	}
	logger := s.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return fmt.Errorf("create s3 folder: %w", err)
	}
	// Uploads in progress and unfinished writes of an earlier run cannot be resumed.
	for _, name := range []string{"tmp", "uploads"} {
		if err := os.RemoveAll(filepath.Join(s.Dir, name)); err != nil {
			return fmt.Errorf("clear s3 %s folder: %w", name, err)
		}
	}

	root := &atomicFs{Fs: afero.NewBasePathFs(afero.NewOsFs(), s.Dir), tmpDir: "tmp"}
	files, err := s3afero.MultiBucket(root)
	if err != nil {
		return fmt.Errorf("open s3 folder: %w", err)
	}
	b := &backend{
		MultiBucketBackend: files,
		dir:                s.Dir,
		uploads:            newUploads(filepath.Join(s.Dir, "uploads"), time.Now),
	}
	fake := gofakes3.New(b, gofakes3.WithLogger(logAdapter{logger}))

	ln, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return fmt.Errorf("listen for s3: %w", err)
	}
	s.listener = ln
	s.fresh = map[net.Conn]bool{}
	srv := &http.Server{
		Handler:           s.handler(fake.Server(), b),
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		ConnState:         s.trackFresh,
	}
	srv.RegisterOnShutdown(s.closeFresh)
	s.http = srv
	s.served.Go(func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			logger.Error("s3 endpoint stopped", "error", err)
		}
	})
	return nil
}

// URL returns the endpoint's base URL, e.g. "http://127.0.0.1:9000": the address it listens
// on, with 127.0.0.1 for a wildcard host. Valid after Open.
func (s *Server) URL() string {
	addr := s.listener.Addr().(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, fmt.Sprint(addr.Port))
}

// Close stops accepting requests, lets those in flight finish for up to ShutdownTimeout, then
// closes the remaining connections. Closing a closed Server does nothing.
func (s *Server) Close() error {
	srv := s.http
	if srv == nil {
		return nil
	}
	s.http = nil
	ctx, cancel := context.WithTimeout(context.Background(), ShutdownTimeout)
	defer cancel()
	err := srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, srv.Close())
	}
	s.served.Wait()
	return err
}

// trackFresh records which connections have not sent a request yet.
func (s *Server) trackFresh(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == http.StateNew {
		s.fresh[c] = true
	} else {
		delete(s.fresh, c)
	}
}

// closeFresh closes the connections that have not sent a request yet. http.Server.Shutdown
// waits 5 seconds for those, and HTTP clients keep such spare connections open: they dial one
// for a request, then send the request on another that became free first.
func (s *Server) closeFresh() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.fresh {
		c.Close()
	}
}

// handler wraps gofakes3's handler with what it lacks: authentication, aws-chunked bodies,
// buckets created by the first upload into them, and If-Match on GET and HEAD.
func (s *Server) handler(next http.Handler, b *backend) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Authenticate != nil {
			if err := s.Authenticate(r); err != nil {
				code := "AccessDenied"
				var coded interface{ ErrorCode() string }
				if errors.As(err, &coded) {
					code = coded.ErrorCode()
				}
				message := err.Error()
				var e *pinfold.Error
				if errors.As(err, &e) {
					message = e.Message
				}
				writeError(w, r, http.StatusForbidden, code, message)
				return
			}
		}
		if err := unchunk(r); err != nil {
			writeError(w, r, err.Code.Status(), string(err.Code), err.Message)
			return
		}
		if isUpload(r) {
			// gofakes3's WithAutoBucket would also create buckets on reads, so that a
			// mistyped bucket name would read as an empty bucket instead of NoSuchBucket.
			bucket, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
			if err := validateBucketName(bucket); err != nil {
				writeError(w, r, http.StatusBadRequest, string(gofakes3.ErrInvalidBucketName),
					fmt.Sprintf("bucket name %q %s", bucket, err))
				return
			}
			if exists, err := b.BucketExists(bucket); err == nil && !exists {
				b.CreateBucket(bucket) // on failure, gofakes3 answers NoSuchBucket
			}
		}
		if ifMatch := r.Header.Get("If-Match"); ifMatch != "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
			mw := &ifMatchWriter{ResponseWriter: w, r: r, ifMatch: ifMatch}
			next.ServeHTTP(mw, r)
			mw.decide(http.StatusOK) // HEAD writes no status when it succeeds
			return
		}
		next.ServeHTTP(w, r)
	})
}

// isUpload reports whether r writes an object: PutObject, CopyObject, UploadPart or
// CreateMultipartUpload.
func isUpload(r *http.Request) bool {
	_, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if key == "" {
		return false
	}
	_, uploads := r.URL.Query()["uploads"]
	return r.Method == http.MethodPut || r.Method == http.MethodPost && uploads
}

// ifMatchWriter answers 412 PreconditionFailed instead of the object when the object's ETag,
// set by gofakes3 before the status, does not match If-Match. Deciding on the ETag of the very
// object being sent (not one looked up before) keeps the check and the read together.
type ifMatchWriter struct {
	http.ResponseWriter
	r       *http.Request
	ifMatch string
	decided bool
	failed  bool
}

// WriteHeader implements http.ResponseWriter.
func (w *ifMatchWriter) WriteHeader(status int) {
	if !w.decided {
		w.decide(status)
	}
}

// Write implements http.ResponseWriter. After a failed match it stops gofakes3 from reading
// the rest of the object.
func (w *ifMatchWriter) Write(p []byte) (int, error) {
	w.decide(http.StatusOK)
	if w.failed {
		return 0, gofakes3.ErrPreconditionFailed
	}
	return w.ResponseWriter.Write(p)
}

// decide writes either status or the 412 error, once.
func (w *ifMatchWriter) decide(status int) {
	if w.decided {
		return
	}
	w.decided = true
	etag := w.Header().Get("ETag")
	if status >= 300 && status != http.StatusNotModified || etag == "" || etagMatches(w.ifMatch, etag) {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.failed = true
	h := w.Header()
	requestID := h.Get("X-Amz-Request-Id")
	clear(h)
	h.Set("X-Amz-Request-Id", requestID)
	writeError(w.ResponseWriter, w.r, http.StatusPreconditionFailed, string(gofakes3.ErrPreconditionFailed), gofakes3.ErrPreconditionFailed.Message())
}

// etagMatches reports whether etag is one of the entity tags in an If-Match header value.
func etagMatches(ifMatch, etag string) bool {
	for candidate := range strings.SplitSeq(ifMatch, ",") {
		candidate = strings.TrimSpace(candidate)
		if candidate == "*" || strings.Trim(candidate, `"`) == strings.Trim(etag, `"`) {
			return true
		}
	}
	return false
}

// xmlError is the body of an S3 error response.
type xmlError struct {
	XMLName   xml.Name `xml:"Error"`
	Code      string   `xml:"Code"`
	Message   string   `xml:"Message"`
	Resource  string   `xml:"Resource,omitempty"`
	RequestID string   `xml:"RequestId,omitempty"`
}

// writeError writes an S3 error response for the errors this package finds before gofakes3
// sees the request (gofakes3 writes its own, in the same format).
func writeError(w http.ResponseWriter, r *http.Request, status int, code, message string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	body, _ := xml.Marshal(xmlError{
		Code:      code,
		Message:   message,
		Resource:  r.URL.Path,
		RequestID: w.Header().Get("X-Amz-Request-Id"),
	})
	w.Write([]byte(xml.Header))
	w.Write(body)
}

// logAdapter sends gofakes3's log lines to slog. gofakes3 logs every request at its info
// level, which becomes debug here.
type logAdapter struct{ logger *slog.Logger }

// Print implements gofakes3.Logger.
func (a logAdapter) Print(level gofakes3.LogLevel, v ...any) {
	l := slog.LevelDebug
	switch level {
	case gofakes3.LogErr:
		l = slog.LevelError
	case gofakes3.LogWarn:
		l = slog.LevelWarn
	}
	a.logger.Log(context.Background(), l, "s3 endpoint", "detail", strings.TrimSuffix(fmt.Sprintln(v...), "\n"))
}
