package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/pinfold/pinfold/endpointfile"
)

// minMeasure is how long a decode measurement runs at least: small files are decoded again
// until it has passed, so that a smoke run still gives a stable rate.
const minMeasure = 300 * time.Millisecond

// rate is work done over time.
type rate struct {
	rows  int64
	bytes int64
	took  time.Duration
}

func (r rate) rowsPerSec() float64 { return float64(r.rows) / r.took.Seconds() }
func (r rate) mbPerSec() float64   { return float64(r.bytes) / 1e6 / r.took.Seconds() }

// measurements is how many times a decode measurement is taken; the fastest counts, as the
// one least disturbed by other work on the machine.
const measurements = 3

// repeat runs pass (which returns the rows it saw) until minMeasure has passed, at least once,
// and returns the rate; it does so measurements times and returns the fastest.
func repeat(size int64, pass func() (int64, error)) (rate, error) {
	var best rate
	for range measurements {
		runtime.GC()
		var r rate
		start := time.Now()
		for r.took < minMeasure {
			n, err := pass()
			if err != nil {
				return r, err
			}
			r.rows += n
			r.bytes += size
			r.took = time.Since(start)
		}
		if best.took == 0 || r.rowsPerSec() > best.rowsPerSec() {
			best = r
		}
	}
	return best, nil
}

// measureDecode decodes data (a whole CSV or NDJSON file) with the endpointfile decoder on
// one goroutine, and splits the same bytes into lines with bufio.Scanner as the baseline.
// Every row must decode without a row error: the generator makes only valid rows.
func measureDecode(data []byte, csv bool) (decoded, split rate, err error) {
	decoded, err = repeat(int64(len(data)), func() (int64, error) {
		var dec endpointfile.Decoder
		if csv {
			var err error
			if dec, err = endpointfile.NewCSVDecoder(bytes.NewReader(data), "", 1); err != nil {
				return 0, err
			}
		} else {
			dec = endpointfile.NewJSONDecoder(bytes.NewReader(data), 1)
		}
		var n int64
		for {
			row, err := dec.Next()
			if err == io.EOF {
				return n, nil
			} else if err != nil {
				return n, err
			}
			if row.Err != nil {
				return n, fmt.Errorf("line %d: %w", row.Line, row.Err)
			}
			n++
		}
	})
	if err != nil {
		return decoded, split, fmt.Errorf("decode: %w", err)
	}
	split, err = repeat(int64(len(data)), func() (int64, error) {
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 64<<10), endpointfile.MaxLineBytes+2)
		var n int64
		for sc.Scan() {
			if len(sc.Bytes()) > 0 {
				n++
			}
		}
		if csv {
			n-- // the header is no row
		}
		return n, sc.Err()
	})
	return decoded, split, err
}
