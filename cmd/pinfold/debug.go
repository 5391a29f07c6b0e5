package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"time"
)

// serveDebug serves Go's profiling endpoints (/debug/pprof/) on addr, apart from the API so
// that they are never reachable where the API is, and returns a function that stops it.
func serveDebug(addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	log.Info("profiling endpoints", "url", "http://"+ln.Addr().String()+"/debug/pprof/")
	return func() { srv.Close() }, nil
}

// DefaultMemoryLimit is --memory-limit's default: with the default --sqlite-cache and four
// import workers, a node stays under 300 MB of RSS however large the file it imports
// (docs/performance.md).
const DefaultMemoryLimit = 200 << 20

// setMemoryLimit applies --memory-limit unless GOMEMLIMIT was set, which the runtime has
// applied already and which wins.
func setMemoryLimit(limit int64, getenv func(string) string) {
	if limit > 0 && getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
}
