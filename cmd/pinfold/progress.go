package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/mattn/go-isatty"
)

// jobView is what a progress report shows of an import job.
type jobView struct {
	State                             string
	Pieces, TotalPieces, FailedPieces int
	Processed, Failures               int64
}

// viewOf reads the counters of a job as the API returned it.
func viewOf(j *types.ImportJobResponse) jobView {
	return jobView{State: string(j.JobStatus), Pieces: int(aws.ToInt32(j.CompletedPieces)), TotalPieces: int(aws.ToInt32(j.TotalPieces)),
		FailedPieces: int(aws.ToInt32(j.FailedPieces)), Processed: int64(aws.ToInt32(j.TotalProcessed)), Failures: int64(aws.ToInt32(j.TotalFailures))}
}

// jobEnded reports whether a job state is final.
func jobEnded(state types.JobStatus) bool {
	return state == types.JobStatusCompleted || state == types.JobStatusFailed
}

// progress reports a job's progress on w: on a terminal, one line redrawn in place (\r and
// "erase to end of line"); otherwise plain lines, one on each state change and at least one
// every period while the job runs.
type progress struct {
	w      io.Writer
	tty    bool
	width  func() int
	now    func() time.Time
	period time.Duration

	start      time.Time // when following began: elapsed time counts from here
	processing time.Time // when the job was first seen PROCESSING: the estimate counts from here
	rate       rateMeter
	last       jobView
	lastLine   time.Time
	drawn      bool // a line is on the terminal waiting to be redrawn
	passing    bool // and it is a status line, erased rather than kept
}

// newProgress returns a progress report on w, which draws in place when w is a terminal
// (and $TERM is not "dumb").
func newProgress(w io.Writer, getenv func(string) string, now func() time.Time) *progress {
	p := &progress{w: w, now: now, period: 5 * time.Second, width: func() int { return 0 }}
	if f, ok := w.(*os.File); ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd())) && getenv("TERM") != "dumb" {
		p.tty = true
		p.width = func() int {
			if n := terminalWidth(f); n > 0 {
				return n
			}
			n, _ := strconv.Atoi(getenv("COLUMNS"))
			return n
		}
	}
	return p
}

// begin starts the clock of elapsed time.
func (p *progress) begin() {
	p.start = p.now()
	p.lastLine = time.Time{}
	p.last = jobView{}
}

// job reports one observation of the job.
func (p *progress) job(v jobView) {
	now := p.now()
	if v.State == string(types.JobStatusProcessing) && p.processing.IsZero() {
		p.processing = now
	}
	rate := p.rate.observe(now, v.Processed)
	elapsed := now.Sub(p.start)
	if p.tty {
		p.draw(barLine(v, rate, elapsed, p.estimate(v, now), p.columns()))
	} else if v.State != p.last.State || now.Sub(p.lastLine) >= p.period {
		fmt.Fprintln(p.w, plainLine(v, rate, elapsed))
		p.lastLine = now
	}
	p.last = v
}

// status shows a passing message: drawn in place on a terminal, not shown otherwise.
func (p *progress) status(line string) {
	if p.tty {
		p.draw(truncate(line, p.columns()-1))
		p.passing = true
	}
}

// println prints a line that stays: below the progress line, or over a status line.
func (p *progress) println(format string, args ...any) {
	p.done()
	fmt.Fprintf(p.w, format+"\n", args...)
}

// done ends the line drawn in place, if any, so that what follows starts on its own line:
// a progress line stays, a status line is erased.
func (p *progress) done() {
	switch {
	case p.drawn && p.passing:
		fmt.Fprint(p.w, "\r\x1b[K")
	case p.drawn:
		fmt.Fprintln(p.w)
	}
	p.drawn, p.passing = false, false
}

func (p *progress) draw(line string) {
	fmt.Fprint(p.w, "\r"+line+"\x1b[K")
	p.drawn, p.passing = true, false
}

func (p *progress) columns() int {
	if n := p.width(); n > 0 {
		return n
	}
	return 80
}

// estimate returns the time the job still needs, from the share of pieces done since it
// started processing, or -1 when it cannot tell yet.
func (p *progress) estimate(v jobView, now time.Time) time.Duration {
	done := v.Pieces + v.FailedPieces
	if v.State != string(types.JobStatusProcessing) || v.TotalPieces == 0 || done == 0 || p.processing.IsZero() {
		return -1
	}
	if done >= v.TotalPieces {
		return 0
	}
	spent := now.Sub(p.processing)
	return time.Duration(float64(spent) * float64(v.TotalPieces-done) / float64(done))
}

// barLine is the line drawn in place on a terminal, fitted to width columns:
//
//	PROCESSING   [██████░░░░░░] 6/12 pieces  60,000 rows  3 failed  20,000 rows/s  3.0s  ~3s left
//
// The bar's width depends on the terminal's width alone, so that it stays put while the
// numbers change; below 93 columns there is no bar, only the numbers.
func barLine(v jobView, rate float64, elapsed, left time.Duration, width int) string {
	pieces := fmt.Sprintf("%d/%d pieces", v.Pieces, v.TotalPieces)
	if v.TotalPieces == 0 {
		pieces = "pieces: planning"
	}
	line := fmt.Sprintf("%-12s", v.State)
	if n := min(width-1-barText, 30); n >= 8 {
		full := 0
		switch {
		case v.State == string(types.JobStatusCompleted):
			full = n
		case v.TotalPieces > 0:
			full = n * min(v.Pieces+v.FailedPieces, v.TotalPieces) / v.TotalPieces
		}
		line += " [" + strings.Repeat("█", full) + strings.Repeat("░", n-full) + "]"
	}
	line += fmt.Sprintf(" %s  %s rows  %s failed  %s rows/s  %s", pieces, formatCount(v.Processed), formatCount(v.Failures),
		formatRate(rate), formatDuration(elapsed))
	if left >= 0 {
		line += "  ~" + formatDuration(left) + " left"
	}
	return truncate(line, width-1)
}

// barText is the room barLine keeps for its text beside the bar.
const barText = 84

// plainLine is one line of progress where nothing is redrawn:
//
//	[3.0s] PROCESSING: 6/12 pieces, 60,000 rows processed, 3 failed, 20,000 rows/s
func plainLine(v jobView, rate float64, elapsed time.Duration) string {
	return fmt.Sprintf("[%s] %s: %d/%d pieces, %s rows processed, %s failed, %s rows/s", formatDuration(elapsed), v.State,
		v.Pieces, v.TotalPieces, formatCount(v.Processed), formatCount(v.Failures), formatRate(rate))
}

// truncate cuts s to at most n runes.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:max(n, 0)])
}

// rateMeter measures rows per second over the last few seconds.
type rateMeter struct {
	samples []rateSample
}

type rateSample struct {
	at   time.Time
	rows int64
}

// rateWindow is how far back the rate looks: long enough to smooth the steps of pieces
// finishing, short enough to follow a change of pace.
const rateWindow = 5 * time.Second

// observe records a count and returns the rate over the window, or -1 while less than a
// fraction of a second has been seen.
func (m *rateMeter) observe(now time.Time, rows int64) float64 {
	m.samples = append(m.samples, rateSample{now, rows})
	for len(m.samples) > 2 && now.Sub(m.samples[1].at) >= rateWindow {
		m.samples = m.samples[1:]
	}
	first := m.samples[0]
	span := now.Sub(first.at)
	if span < 200*time.Millisecond {
		return -1
	}
	return float64(rows-first.rows) / span.Seconds()
}

// formatCount writes n with thousands separators: 1,234,567.
func formatCount(n int64) string {
	if n < 0 {
		return "-" + formatCount(-n)
	}
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func formatRate(rate float64) string {
	if rate < 0 {
		return "–"
	}
	return formatCount(int64(rate + 0.5))
}

// formatDuration writes a duration short and readable: 0.4s, 12s, 3m05s, 2h07m.
func formatDuration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	}
	return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
}
