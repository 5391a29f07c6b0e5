package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
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
	// Runs and Ratios are, with --repeat, each round's value and its ratio to the baseline of
	// the same round, in the order of the rounds; Value and Ratio are then their medians, and
	// BaseVal the median of the baselines (so Ratio need not be Value / BaseVal).
	Runs   []float64 `json:"runs,omitempty"`
	Ratios []float64 `json:"ratios,omitempty"`

	check func(*Result) bool // the target's test, for Met
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
	// PostgresSettings are --postgres-settings: the "auto" cluster's settings besides its own.
	PostgresSettings []string  `json:"postgres_settings,omitempty"`
	Rounds           int       `json:"rounds"` // --repeat
	Results          []*Result `json:"results"`
}

// add appends res, with its ratio to its baseline when it has one, and returns it for a target.
func (r *Report) add(res Result) *Result {
	if res.BaseVal > 0 {
		res.Ratio = res.Value / res.BaseVal
	}
	r.Results = append(r.Results, &res)
	return &res
}

// atLeast sets a target "≥ min unit" on the result's value.
func (res *Result) atLeast(min float64, unit string) {
	res.target("≥ "+number(min)+" "+unit, func(r *Result) bool { return r.Value >= min })
}

// ratioAtLeast sets a target on the result's ratio to its baseline.
func (res *Result) ratioAtLeast(min float64) {
	res.target(fmt.Sprintf("ratio ≥ %.2f", min), func(r *Result) bool { return r.Ratio >= min })
}

// below sets a target "< max unit" on the result's value.
func (res *Result) below(max float64, unit string) {
	res.target("< "+number(max)+" "+unit, func(r *Result) bool { return r.Value < max })
}

func (res *Result) target(name string, check func(*Result) bool) {
	res.Target, res.check = name, check
	res.Met = ptr(check(res))
}

// mergeRounds makes the results of each figure measured in more than one round (--repeat)
// one result, in the place of its first round: its value and baseline value the medians of
// the rounds', its ratio the median of the rounds' ratios, and its target tested on those.
func mergeRounds(results []*Result) []*Result {
	type key struct{ section, figure, unit string }
	byKey := map[key][]*Result{}
	var order []key
	for _, r := range results {
		k := key{r.Section, r.Figure, r.Unit}
		if byKey[k] == nil {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	merged := make([]*Result, 0, len(order))
	for _, k := range order {
		rounds := byKey[k]
		if len(rounds) == 1 {
			merged = append(merged, rounds[0])
			continue
		}
		m := *rounds[0]
		var bases []float64
		m.Runs, m.Ratios = nil, nil
		for _, r := range rounds {
			m.Runs = append(m.Runs, r.Value)
			if r.BaseVal > 0 {
				bases = append(bases, r.BaseVal)
				m.Ratios = append(m.Ratios, r.Ratio)
			}
		}
		m.Value, m.BaseVal, m.Ratio = median(m.Runs), median(bases), median(m.Ratios)
		if m.check != nil {
			m.Met = ptr(m.check(&m))
		}
		merged = append(merged, &m)
	}
	return merged
}

// median returns the median of vs (the mean of the middle two for an even count), or 0 for none.
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(vs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// spread formats the range of vs as "min–max", with digits as f gives them.
func spread(vs []float64, f func(float64) string) string {
	if len(vs) < 2 {
		return ""
	}
	return f(slices.Min(vs)) + "–" + f(slices.Max(vs))
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
	if len(r.PostgresSettings) > 0 {
		fmt.Fprintf(w, "PostgreSQL cluster settings: synchronous_commit=off, %s\n", strings.Join(r.PostgresSettings, ", "))
	}
	fmt.Fprintf(w, "load average (1, 5, 15 min): %s before, %s after\n\n", r.Machine.LoadBefore, r.Machine.LoadAfter)
	if r.Rounds > 1 {
		fmt.Fprintf(w, "%d rounds: each value is the median of its rounds, each ratio the median of the rounds' ratios\n\n", r.Rounds)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	header := "section\tfigure\tvalue\tunit\tbaseline\tbaseline value\tratio\ttarget\tmet\t"
	if r.Rounds > 1 {
		header += "value range\tratio range\t"
	}
	fmt.Fprintln(tw, header)
	ratioText := func(v float64) string { return fmt.Sprintf("%.3g", v) }
	for _, res := range r.Results {
		ratio, base, met := "", "", ""
		if res.BaseVal > 0 {
			base, ratio = number(res.BaseVal), ratioText(res.Ratio)
		}
		if res.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*res.Met]
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", res.Section, res.Figure, number(res.Value), res.Unit,
			res.Baseline, base, ratio, res.Target, met)
		if r.Rounds > 1 {
			fmt.Fprintf(tw, "%s\t%s\t", spread(res.Runs, number), spread(res.Ratios, ratioText))
		}
		fmt.Fprintln(tw)
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
