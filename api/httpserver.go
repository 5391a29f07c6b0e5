package api

import (
	"log"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/pinfold/pinfold"
)

// The timeouts of the HTTP server that serves the API. A client must send its request
// headers within ReadHeaderTimeout and its whole request (at most DefaultMaxBodyBytes) within
// ReadTimeout, so a slow client holds a connection for a bounded time; WriteTimeout bounds a
// response (the longest is a full failure report); IdleTimeout closes unused keep-alive
// connections.
const (
	ReadHeaderTimeout = 10 * time.Second
	ReadTimeout       = time.Minute
	WriteTimeout      = 10 * time.Minute
	IdleTimeout       = 2 * time.Minute
)

// NewHTTPServer returns the http.Server that serves h with the timeouts above; errorLog
// receives net/http's own errors (nil: the log package's standard logger).
func NewHTTPServer(h http.Handler, errorLog *log.Logger) *http.Server {
	return &http.Server{Handler: h, ReadHeaderTimeout: ReadHeaderTimeout, ReadTimeout: ReadTimeout,
		WriteTimeout: WriteTimeout, IdleTimeout: IdleTimeout, ErrorLog: errorLog}
}

// cleanPaths answers a request whose path is not in canonical form ("." or ".." segments,
// "//") with a NotFoundException, where http.ServeMux would answer a redirect without a JSON
// body. No SDK sends such a path: each label is percent-encoded, so "%2E%2E%2F" in an ID
// arrives as part of the ID and is simply an ID that does not exist.
func (s *Server) cleanPaths(next http.Handler) http.Handler {
	notFound := s.op("NotFound", func(w http.ResponseWriter, r *http.Request, _ []byte) error {
		return pinfold.Errorf(pinfold.ENOTFOUND, "no operation at %s %s: a path may not have empty, \".\" or \"..\" segments", r.Method, r.URL.EscapedPath())
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.EscapedPath()
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if p != clean && p != "" && r.Method != http.MethodConnect {
			notFound.ServeHTTP(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}
