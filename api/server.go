// Package api serves Amazon Pinpoint's REST API (restJson1) over plain net/http: the routes
// in routes.go, Pinpoint's JSON shapes in wire.go, and one error writer in errors.go. Every
// /v1 request is SigV4-verified, size-capped and rate-limited before its handler runs.
package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/sigv4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Notifier is told when there is new work for the job engine.
type Notifier interface{ Notify() }

// Server answers the Pinpoint API. Set the fields, then serve Handler().
type Server struct {
	Apps       pinfold.AppStore
	Endpoints  pinfold.EndpointStore
	Segments   pinfold.SegmentStore
	ImportJobs pinfold.ImportJobStore
	ExportJobs pinfold.ExportJobStore // nil: the export routes answer 404
	Jobs       Notifier

	// Keys holds the access keys beyond the root key, each limited to what it may do (give a
	// KeyCache). When nil, every key the Verifier knows may do everything.
	Keys pinfold.KeyStore

	// Verifier checks every /v1 request's signature (service mobiletargeting). Required. Its
	// Lookup must know the root key and the keys in Keys: see SecretLookup.
	Verifier *sigv4.Verifier
	// RootAccessKeyID is the key that may do everything, and that RootRateLimit applies to.
	RootAccessKeyID string

	Region         string   // for ARNs
	AccountID      string   // for ARNs and ExternalId
	AllowedBuckets []string // buckets an S3Url may name; empty = any
	MaxBodyBytes   int64    // request bodies over this are 413

	// RateLimit is the requests per second (and burst) each access key may make; 0 is no limit.
	// The root key has its own, RootRateLimit, off (0) by default.
	RateLimit, RootRateLimit float64
	RateBurst                int

	// Ready reports whether the server can answer: /readyz is 503 while it returns an error
	// (the store out of reach, say), which is logged and not sent (/readyz needs no
	// signature), and 200 when it returns nil. It gets ReadyTimeout. nil: /readyz answers 200
	// like /healthz.
	Ready func(ctx context.Context) error

	Logger   *slog.Logger
	Now      func() time.Time
	NewID    func() string
	Registry *prometheus.Registry

	limiters sync.Map    // access key ID → *tokenBucket
	notReady atomic.Bool // the last Ready failed
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec

	once    sync.Once
	handler http.Handler
}

// DefaultMaxBodyBytes is Pinpoint's 7 MB payload quota.
const DefaultMaxBodyBytes = 7 << 20

// ReadyTimeout bounds Server.Ready's check for one /readyz request.
const ReadyTimeout = 5 * time.Second

// Handler returns the HTTP handler of the whole API, /healthz, /readyz and /metrics included.
// Every call returns the same handler.
func (s *Server) Handler() http.Handler {
	s.once.Do(s.init)
	return s.handler
}

// ServeAs serves r through the API's routes as a request of accessKeyID whose identity the
// caller has already established (the console's session, which checked the key's secret at
// sign-in): everything a signed request gets happens — body cap, rate limit, the key's scope
// and revocation (authorize), validation, metrics — except SigV4 verification, which r need
// not carry.
func (s *Server) ServeAs(w http.ResponseWriter, r *http.Request, accessKeyID string) {
	h := s.Handler()
	h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), callerKey, accessKeyID)))
}

func (s *Server) init() {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Now == nil {
		s.Now = time.Now
	}
	if s.NewID == nil {
		s.NewID = NewID
	}
	if s.MaxBodyBytes <= 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.Registry == nil {
		s.Registry = prometheus.NewRegistry()
	}
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "pinfold_http_requests_total", Help: "API requests by operation and HTTP status.",
	}, []string{"operation", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "pinfold_http_request_duration_seconds", Help: "API request latency by operation.",
		Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
	}, []string{"operation"})
	s.Registry.MustRegister(s.requests, s.latency)
	mux := http.NewServeMux()
	s.routes(mux)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"Status": "ok"})
	})
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.Registry, promhttp.HandlerOpts{}))
	s.handler = s.cleanPaths(mux)
}

// readyz answers whether the server can serve requests: /healthz says only that the process
// answers, /readyz also that what it serves from answers (Ready), e.g. for a load balancer in
// front of several nodes.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if s.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
		defer cancel()
		// Logged when it changes, not at every probe of a load balancer.
		if err := s.Ready(ctx); err != nil {
			if !s.notReady.Swap(true) {
				s.Logger.Warn("/readyz: not ready", "error", err)
			}
			writeJSON(w, http.StatusServiceUnavailable, map[string]string{"Status": "unavailable",
				"Message": "Pinfold cannot serve requests now; its log says why"})
			return
		}
		if s.notReady.Swap(false) {
			s.Logger.Info("/readyz: ready again")
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"Status": "ok"})
}

// handlerFunc is an API operation: it gets the request's whole body and returns an error
// instead of writing one.
type handlerFunc func(w http.ResponseWriter, r *http.Request, body []byte) error

type ctxKey int

const (
	callKey   ctxKey = iota // the request's *call; op sets it
	callerKey               // the access key ID ServeAs established; only ServeAs sets it
)

// call is what the API knows about the request it serves. op puts it in the request's
// context once, and serve fills in key, so that a request is copied for its context once
// rather than once per value.
type call struct {
	requestID string
	key       *pinfold.AccessKey // the key authorize accepted; nil until then
}

func callOf(ctx context.Context) *call {
	c, _ := ctx.Value(callKey).(*call)
	if c == nil {
		return &call{}
	}
	return c
}

func requestID(ctx context.Context) string { return callOf(ctx).requestID }

// statusWriter remembers the status a handler wrote, for metrics and logs.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// op wraps an operation with what every /v1 request gets, in order: a request ID, panic
// recovery, metrics, the body cap, SigV4 verification, the rate limit and the access key's
// scope (authorize).
func (s *Server) op(name string, h handlerFunc) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		start := time.Now()
		c := &call{requestID: newRequestID()}
		// The canonical form of x-amzn-RequestId, set directly to spare Set canonicalizing it.
		rw.Header()["X-Amzn-Requestid"] = []string{c.requestID}
		r = r.WithContext(context.WithValue(r.Context(), callKey, c))
		w := &statusWriter{ResponseWriter: rw}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.writeError(w, r, fmt.Errorf("panic in %s: %v", name, v))
			}
			s.requests.WithLabelValues(name, strconv.Itoa(w.status)).Inc()
			s.latency.WithLabelValues(name).Observe(time.Since(start).Seconds())
			if s.Logger.Enabled(r.Context(), slog.LevelDebug) {
				s.Logger.Debug("request", append(logAttrs(r), "operation", name, "status", w.status, "duration", time.Since(start))...)
			}
		}()
		if err := s.serve(w, r, name, h); err != nil {
			s.writeError(w, r, err)
		}
	})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request, op string, h handlerFunc) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	keyID, trusted := r.Context().Value(callerKey).(string)
	if trusted && keyID == "" {
		return pinfold.Errorf(pinfold.EFORBIDDEN, "no access key: sign in first")
	}
	if !trusted {
		if keyID, err = s.Verifier.Verify(r, body); err != nil {
			return err
		}
	}
	if !s.allow(keyID) {
		return pinfold.Errorf(pinfold.ETOOMANY, "Too many requests: access key %s is over its rate of %v requests per second", keyID, s.rateFor(keyID))
	}
	key, err := s.authorize(r, op, keyID)
	if err != nil {
		return err
	}
	callOf(r.Context()).key = key
	return h(w, r, body)
}

// readBody reads the whole body, refusing one over MaxBodyBytes without reading it all.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := func() error {
		return pinfold.Errorf(pinfold.ETOOLARGE, "the request body is larger than %d bytes", s.MaxBodyBytes)
	}
	if r.ContentLength > s.MaxBodyBytes {
		return nil, tooLarge()
	}
	if r.Body == nil || r.Body == http.NoBody {
		// What the server gives a request without a body (every GET): nothing to read.
		return []byte{}, nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.MaxBodyBytes))
	var maxErr *http.MaxBytesError
	if errors.As(err, &maxErr) {
		return nil, tooLarge()
	} else if err != nil {
		return nil, pinfold.Errorf(pinfold.EINVALID, "the request body could not be read: %v", err)
	}
	return body, nil
}

// NewID returns a new 32-character lowercase hex ID, the form of Pinpoint's IDs.
func NewID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newRequestID returns a UUID-shaped request ID, as AWS sends.
func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// tokenBucket is a rate limiter: rate tokens a second, up to burst.
type tokenBucket struct {
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func (s *Server) rateFor(key string) float64 {
	if key == s.RootAccessKeyID {
		return s.RootRateLimit
	}
	return s.RateLimit
}

// allow takes a token from key's bucket; false when it is empty.
func (s *Server) allow(key string) bool {
	rate := s.rateFor(key)
	if rate <= 0 {
		return true
	}
	burst := float64(max(s.RateBurst, 1))
	v, _ := s.limiters.LoadOrStore(key, &tokenBucket{tokens: burst, last: s.Now()})
	b := v.(*tokenBucket)
	b.mu.Lock()
	defer b.mu.Unlock()
	now := s.Now()
	b.tokens = min(burst, b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}
