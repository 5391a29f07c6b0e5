package main

import (
	"bytes"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestBarLine(t *testing.T) {
	t.Parallel()
	v := jobView{State: "PROCESSING", Pieces: 6, TotalPieces: 12, Processed: 60000, Failures: 3}
	got := barLine(v, 20000, 3*time.Second, 3*time.Second, 120)
	want := "PROCESSING   [" + strings.Repeat("█", 15) + strings.Repeat("░", 15) + "] 6/12 pieces  60,000 rows  3 failed  20,000 rows/s  3.0s  ~3.0s left"
	if got != want {
		t.Errorf("at 120 columns:\n got %q\nwant %q", got, want)
	}
	// The bar keeps its width while the numbers change, and goes below 93 columns.
	long := barLine(jobView{State: "PROCESSING", Pieces: 1, TotalPieces: 1200, Processed: 123456789, Failures: 1234567}, 1234567, time.Hour, time.Hour, 120)
	if strings.Index(long, "]") != strings.Index(got, "]") {
		t.Errorf("the bar moved: %q vs %q", long, got)
	}
	for _, width := range []int{40, 80, 92, 93, 100, 200} {
		line := barLine(v, 20000, 3*time.Second, 3*time.Second, width)
		if n := utf8.RuneCountInString(line); n > width-1 {
			t.Errorf("at %d columns the line has %d: %q", width, n, line)
		}
		if hasBar := strings.Contains(line, "░"); hasBar != (width >= 93) {
			t.Errorf("at %d columns, bar shown: %v: %q", width, hasBar, line)
		}
	}
	if got := barLine(jobView{State: "COMPLETED", Pieces: 0, TotalPieces: 0}, -1, 0, -1, 100); got != "COMPLETED    ["+strings.Repeat("█", 15)+"] pieces: planning  0 rows  0 failed  – rows/s  0.0s" {
		t.Errorf("completed: %q", got)
	}
}

func TestPlainLine(t *testing.T) {
	t.Parallel()
	got := plainLine(jobView{State: "PROCESSING", Pieces: 6, TotalPieces: 12, Processed: 60000, Failures: 3}, 19999.6, 3*time.Second)
	if want := "[3.0s] PROCESSING: 6/12 pieces, 60,000 rows processed, 3 failed, 20,000 rows/s"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestProgressPlain checks when plain lines are written: on each state change and once a
// period while nothing changes.
func TestProgressPlain(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	p := newProgress(&out, func(string) string { return "" }, func() time.Time { return now })
	p.begin()
	for i, state := range []string{"CREATED", "PROCESSING", "PROCESSING", "PROCESSING", "PROCESSING", "COMPLETED"} {
		p.job(jobView{State: state, TotalPieces: 1, Processed: int64(1000 * i)})
		now = now.Add(2 * time.Second)
	}
	p.done()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	want := []string{"[0.0s] CREATED", "[2.0s] PROCESSING", "[8.0s] PROCESSING", "[10s] COMPLETED"}
	if len(lines) != len(want) {
		t.Fatalf("lines:\n%s\nwant %d lines", out.String(), len(want))
	}
	for i := range want {
		if !strings.HasPrefix(lines[i], want[i]+":") {
			t.Errorf("line %d: %q, want it to start %q", i, lines[i], want[i])
		}
	}
}

func TestProgressEstimate(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	p := &progress{now: func() time.Time { return now }}
	if got := p.estimate(jobView{State: "INITIALIZING"}, now); got != -1 {
		t.Errorf("before processing: %v, want -1", got)
	}
	p.processing = now
	if got := p.estimate(jobView{State: "PROCESSING", Pieces: 1, TotalPieces: 4}, now.Add(3*time.Second)); got != 9*time.Second {
		t.Errorf("1 of 4 pieces in 3s: %v left, want 9s", got)
	}
	if got := p.estimate(jobView{State: "PROCESSING", Pieces: 0, TotalPieces: 4}, now.Add(3*time.Second)); got != -1 {
		t.Errorf("no piece done: %v, want -1", got)
	}
}

func TestRateMeter(t *testing.T) {
	t.Parallel()
	var m rateMeter
	t0 := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	if got := m.observe(t0, 0); got != -1 {
		t.Errorf("first sample: %v, want -1", got)
	}
	if got := m.observe(t0.Add(2*time.Second), 10000); got != 5000 {
		t.Errorf("10000 rows in 2s: %v", got)
	}
	// The window forgets the slow start.
	m.observe(t0.Add(8*time.Second), 10000)
	if got := m.observe(t0.Add(10*time.Second), 50000); got != 5000 {
		t.Errorf("over the last window: %v, want 5000", got)
	}
}

func TestFormats(t *testing.T) {
	t.Parallel()
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -1234: "-1,234"} {
		if got := formatCount(n); got != want {
			t.Errorf("formatCount(%d) = %q, want %q", n, got, want)
		}
	}
	for d, want := range map[time.Duration]string{400 * time.Millisecond: "0.4s", 12 * time.Second: "12s",
		185 * time.Second: "3m05s", 127 * time.Minute: "2h07m"} {
		if got := formatDuration(d); got != want {
			t.Errorf("formatDuration(%v) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[int64]string{812: "812 B", 4_200_000: "4.2 MB", 1_300_000_000: "1.3 GB"} {
		if got := formatBytes(n); got != want {
			t.Errorf("formatBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestProgressTerminal checks what is kept on a terminal: a status line is replaced by the
// next permanent line; the last progress line stays.
func TestProgressTerminal(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	var out bytes.Buffer
	p := &progress{w: &out, tty: true, width: func() int { return 60 }, now: func() time.Time { return now }}
	p.status("uploading 1/1 files")
	p.println("uploaded")
	p.begin()
	p.job(jobView{State: "PROCESSING", TotalPieces: 2})
	now = now.Add(time.Second)
	p.job(jobView{State: "COMPLETED", Pieces: 2, TotalPieces: 2, Processed: 10})
	p.done()
	want := "\ruploading 1/1 files\x1b[K\r\x1b[Kuploaded\n" +
		"\rPROCESSING   0/2 pieces  0 rows  0 failed  – rows/s  0.0s\x1b[K" +
		"\rCOMPLETED    2/2 pieces  10 rows  0 failed  10 rows/s  1.0s\x1b[K\n"
	if out.String() != want {
		t.Errorf("terminal output:\n got %q\nwant %q", out.String(), want)
	}
}
