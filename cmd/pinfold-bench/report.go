package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is one measured figure beside the baseline measured in the same run.
type Result struct {
	Section  string  `json:"section"` // decode, store, import, api or memory
	Figure   string  `json:"figure"`
	Value    float64 `json:"value"`
	Unit     string  `json:"unit"`
	Baseline string  `json:"baseline,omitempty"` // what the baseline is
	BaseVal  float64 `json:"baseline_value,omitempty"`
	// Ratio is Value / BaseVal, or 0 without a baseline.
	Ratio float64 `json:"ratio,omitempty"`
	// Target is the goal of issue #8 for this figure, and Met whether this run reached it
	// (absent when the figure has no target of its own).
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
}

// Machine describes where the run happened.
type Machine struct {
	CPUs      int    `json:"cpus"`
	CPUModel  string `json:"cpu_model"`
	Memory    string `json:"memory"`
	GoVersion string `json:"go_version"`
	OS        string `json:"os"`
	// LoadBefore and LoadAfter are /proc/loadavg at the start and the end of the run: other
	// work on the machine skews every figure.
	LoadBefore string `json:"load_before"`
	LoadAfter  string `json:"load_after"`
}

// Report is everything one run measured.
type Report struct {
	Date          time.Time `json:"date"`
	Machine       Machine   `json:"machine"`
	Rows          int       `json:"rows"`
	Seed          uint64    `json:"seed"`
	Formats       []string  `json:"formats"`
	ImportWorkers int       `json:"import_workers"` // 0: the server's default for its store
	StoreWriters  int       `json:"store_writers"`
	Postgres      string    `json:"postgres,omitempty"` // "", "auto" or "url"
	Results       []Result  `json:"results"`
}

// add appends res, with its ratio to its baseline when it has one, and returns it for a target.
func (r *Report) add(res Result) *Result {
	if res.BaseVal > 0 {
		res.Ratio = res.Value / res.BaseVal
	}
	r.Results = append(r.Results, res)
	return &r.Results[len(r.Results)-1]
}

// atLeast sets a target "≥ min unit" on the result's value.
func (res *Result) atLeast(min float64, unit string) {
	res.Target = "≥ " + number(min) + " " + unit
	res.Met = ptr(res.Value >= min)
}

// ratioAtLeast sets a target on the result's ratio to its baseline.
func (res *Result) ratioAtLeast(min float64) {
	res.Target = fmt.Sprintf("ratio ≥ %.2f", min)
	res.Met = ptr(res.Ratio >= min)
}

// below sets a target "< max unit" on the result's value.
func (res *Result) below(max float64, unit string) {
	res.Target = "< " + number(max) + " " + unit
	res.Met = ptr(res.Value < max)
}

func ptr[T any](v T) *T { return &v }

// number formats v with thousands separators, and decimals only when v is small.
func number(v float64) string {
	switch {
	case v == 0:
		return "0"
	case math.Abs(v) < 10:
		return fmt.Sprintf("%.2f", v)
	case math.Abs(v) < 100:
		return fmt.Sprintf("%.1f", v)
	}
	s := fmt.Sprintf("%.0f", v)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[i-1] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

// WriteTable prints the report as an aligned text table.
func (r *Report) WriteTable(w io.Writer) error {
	workers := "the server's default import workers"
	if r.ImportWorkers > 0 {
		workers = fmt.Sprintf("%d import workers", r.ImportWorkers)
	}
	fmt.Fprintf(w, "pinfold-bench %s: %d rows, seed %d, formats %s, %s, %d store-limit writers\n",
		r.Date.Format(time.RFC3339), r.Rows, r.Seed, strings.Join(r.Formats, "+"), workers, r.StoreWriters)
	fmt.Fprintf(w, "machine: %d CPUs (%s), %s memory, %s %s\n", r.Machine.CPUs, r.Machine.CPUModel, r.Machine.Memory, r.Machine.GoVersion, r.Machine.OS)
	fmt.Fprintf(w, "load average (1, 5, 15 min): %s before, %s after\n\n", r.Machine.LoadBefore, r.Machine.LoadAfter)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "section\tfigure\tvalue\tunit\tbaseline\tbaseline value\tratio\ttarget\tmet\t")
	for _, res := range r.Results {
		ratio, base, met := "", "", ""
		if res.BaseVal > 0 {
			base, ratio = number(res.BaseVal), fmt.Sprintf("%.3g", res.Ratio)
		}
		if res.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*res.Met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", res.Section, res.Figure, number(res.Value), res.Unit,
			res.Baseline, base, ratio, res.Target, met)
	}
	return tw.Flush()
}

// WriteJSON prints the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// thisMachine describes the machine the run is on.
func thisMachine() Machine {
	m := Machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if name, ok := strings.CutPrefix(line, "model name"); ok {
				m.CPUModel = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(name), ":"))
				break
			}
		}
	}
	if out, err := exec.Command("free", "-h").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if f := strings.Fields(line); len(f) > 1 && f[0] == "Mem:" {
				m.Memory = f[1]
			}
		}
	}
	m.LoadBefore = loadAverage()
	return m
}

// loadAverage returns the 1, 5 and 15 minute load averages of /proc/loadavg.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}
