package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pinfold/pinfold/postgres/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// TestSmoke runs the tool as a user would, small: every figure of the decode, store and
// import sections must be in the table with a positive value, baseline and ratio.
func TestSmoke(t *testing.T) {
	t.Parallel()
	rows := smokeRows(t, "--rows", "2000", "--only", "decode,store,import", "--dir", t.TempDir())
	for _, want := range []string{
		"CSV decoder, 1 goroutine [rows/s]", "CSV decoder, 1 goroutine [MB/s]",
		"NDJSON decoder, 1 goroutine [rows/s]", "NDJSON decoder, 1 goroutine [MB/s]",
		"SQLite store limit [endpoints/s]",
		"SQLite CSV import, fresh app [endpoints/s]", "SQLite CSV import, re-import (all updates) [endpoints/s]",
		"SQLite NDJSON import, fresh app [endpoints/s]", "SQLite NDJSON import, re-import (all updates) [endpoints/s]",
		"UpdateEndpoint during the SQLite CSV import, p50 [ms]", "UpdateEndpoint during the SQLite CSV import, p99 [ms]",
	} {
		if !rows[want] {
			t.Errorf("no row %q in the table", want)
		}
	}
	if len(rows) != 11 {
		t.Errorf("the table has %d rows, want 11", len(rows))
	}
}

// TestSmokePostgresAlone runs the store and import sections on PostgreSQL alone
// (--sqlite=false), small, with the memory case, which is SQLite's and so skipped, and with
// the loops of --postgres-loops beside the store limit.
func TestSmokePostgresAlone(t *testing.T) {
	t.Parallel()
	rows := smokeRows(t, "--rows", "2000", "--format", "csv", "--only", "store,import,memory", "--sqlite=false",
		"--postgres", pgtest.URL(t), "--postgres-loops", "--dir", t.TempDir())
	for _, want := range []string{
		"PostgreSQL store limit [endpoints/s]", "PostgreSQL upsert loop [rows/s]", "PostgreSQL upsert loop, 4 connections [rows/s]",
		"PostgreSQL loop of the store's statements [rows/s]", "PostgreSQL loop of the store's statements, 4 connections [rows/s]",
		"PostgreSQL CSV import, fresh app [endpoints/s]", "PostgreSQL CSV import, re-import (all updates) [endpoints/s]",
		"UpdateEndpoint during the PostgreSQL CSV import, p50 [ms]", "UpdateEndpoint during the PostgreSQL CSV import, p99 [ms]",
	} {
		if !rows[want] {
			t.Errorf("no row %q in the table", want)
		}
	}
	if len(rows) != 9 {
		t.Errorf("the table has %d rows, want 9", len(rows))
	}
}

// TestSmokeAPI runs the API section briefly with each kind of client: every figure must be in
// the table with a positive value, baseline and ratio.
func TestSmokeAPI(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ client, name string }{{"sdk", "GetImportJob, %d client"}, {"http", "GetImportJob, %d net/http client"}} {
		t.Run(tc.client, func(t *testing.T) {
			t.Parallel()
			rows := smokeRows(t, "--only", "api", "--api-client", tc.client, "--api-duration", "100ms", "--dir", t.TempDir())
			for _, n := range []int{1, 8, 64} {
				name := fmt.Sprintf(tc.name, n)
				if n > 1 {
					name += "s"
				}
				for _, want := range []string{name + " [requests/s]", name + ", p50 [ms]", name + ", p99 [ms]"} {
					if !rows[want] {
						t.Errorf("no row %q in the table", want)
					}
				}
			}
			if len(rows) != 9 {
				t.Errorf("the table has %d rows, want 9", len(rows))
			}
		})
	}
}

// smokeRows runs the tool with args and returns the figures of its table ("FIGURE [UNIT]"),
// checking that each has a positive value, baseline value and ratio.
func smokeRows(t *testing.T, args ...string) map[string]bool {
	t.Helper()
	var out, log bytes.Buffer
	if err := Run(context.Background(), args, &out, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	t.Logf("\n%s", out.String())
	rows := map[string]bool{}
	for _, line := range strings.Split(out.String(), "\n") {
		cells := regexp.MustCompile(`\s{2,}`).Split(strings.TrimSpace(line), -1)
		if len(cells) < 7 || cells[0] == "section" {
			continue
		}
		name := cells[1] + " [" + cells[3] + "]"
		rows[name] = true
		for _, i := range []int{2, 5, 6} { // value, baseline value, ratio
			if v, err := strconv.ParseFloat(strings.ReplaceAll(cells[i], ",", ""), 64); err != nil || v <= 0 {
				t.Errorf("%s: cell %d is %q, want a positive number", name, i, cells[i])
			}
		}
	}
	return rows
}

func TestJSONReport(t *testing.T) {
	t.Parallel()
	var out, log bytes.Buffer
	if err := Run(context.Background(), []string{"--rows", "100", "--only", "decode", "--format", "json", "--json", "--seed", "3", "--dir", t.TempDir()}, &out, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if rep.Rows != 100 || rep.Seed != 3 || len(rep.Results) != 2 || rep.Machine.CPUs == 0 {
		t.Fatalf("report: %+v", rep)
	}
	if r := rep.Results[0]; r.Figure != "NDJSON decoder, 1 goroutine" || r.Unit != "rows/s" || r.Value <= 0 || r.BaseVal <= 0 || r.Met == nil {
		t.Fatalf("first result: %+v", r)
	}
}

func TestOptionErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--format", "xml"}, `--format: must be csv, json or both, got "xml"`},
		{[]string{"--api-client", "boto3"}, `--api-client: must be sdk or http, got "boto3"`},
		{[]string{"--only", "decode,speed"}, `--only: "speed" is not one of decode,store,import,api,memory`},
		{[]string{"--postgres", "mysql://x"}, `--postgres: must be a postgres:// URL or "auto"`},
		{[]string{"--rows", "0"}, "--rows: must be at least 1"},
		{[]string{"--sqlite=false"}, "--sqlite=false: without --postgres there is no store to measure"},
		{[]string{"--postgres-settings", "shared_buffers=1GB"}, "--postgres-settings: only for --postgres=auto"},
		{[]string{"--postgres-loops"}, "--postgres-loops: the loops are PostgreSQL's; give --postgres too"},
		{[]string{"--postgres", "auto", "--postgres-settings", "shared_buffers=1GB,fsync=off -c x=y"}, `--postgres-settings: "fsync=off -c x=y" is not name=value`},
	} {
		err := Run(context.Background(), tc.args, &bytes.Buffer{}, &bytes.Buffer{})
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.msg)
		}
	}
}

// TestRepeat runs two sections in three rounds: each figure is one result whose value is the
// median of its three runs and whose ratio is the median of the rounds' ratios, and the table
// gives their ranges.
func TestRepeat(t *testing.T) {
	t.Parallel()
	args := []string{"--rows", "300", "--only", "decode,store", "--format", "csv", "--repeat", "3", "--dir", t.TempDir()}
	t.Run("every section", func(t *testing.T) {
		// Each round's servers start on fresh data folders (a second round's API server once
		// found the first one's bucket), and the memory case runs once.
		t.Parallel()
		var out, log bytes.Buffer
		dir := t.TempDir()
		err := Run(context.Background(), []string{"--rows", "300", "--memory-rows", "600", "--only", "store,import,api,memory", "--format", "csv",
			"--repeat", "2", "--api-duration", "50ms", "--json", "--dir", dir}, &out, &log)
		if err != nil {
			t.Fatalf("run: %v\n%s", err, log.String())
		}
		var rep Report
		if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
			t.Fatalf("%v:\n%s", err, out.String())
		}
		for _, r := range rep.Results {
			if want := map[bool]int{true: 0, false: 2}[r.Section == "memory"]; len(r.Runs) != want {
				t.Errorf("%s %s: %d runs, want %d", r.Section, r.Figure, len(r.Runs), want)
			}
		}
		if left, _ := os.ReadDir(dir); len(left) != 0 {
			t.Errorf("%d files left in --dir", len(left))
		}
	})
	var out, log bytes.Buffer
	if err := Run(context.Background(), append(args, "--json"), &out, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	var rep Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if rep.Rounds != 3 || len(rep.Results) != 3 {
		t.Fatalf("%d rounds, %d results, want 3 and 3 (two decode figures and the store limit):\n%s", rep.Rounds, len(rep.Results), out.String())
	}
	for _, r := range rep.Results {
		if len(r.Runs) != 3 || len(r.Ratios) != 3 {
			t.Errorf("%s: runs %v, ratios %v, want three of each", r.Figure, r.Runs, r.Ratios)
			continue
		}
		if r.Value != median(r.Runs) || r.Ratio != median(r.Ratios) || r.Value <= 0 || r.Ratio <= 0 {
			t.Errorf("%s: value %v, ratio %v, want the medians of %v and %v", r.Figure, r.Value, r.Ratio, r.Runs, r.Ratios)
		}
	}
	if !strings.Contains(log.String(), "round 3 of 3") {
		t.Errorf("no round 3 in the log:\n%s", log.String())
	}

	out.Reset()
	if err := Run(context.Background(), args, &out, &log); err != nil {
		t.Fatalf("run: %v\n%s", err, log.String())
	}
	if !strings.Contains(out.String(), "value range") || !regexp.MustCompile(`SQLite store limit .*\d–\d`).MatchString(out.String()) {
		t.Errorf("no ranges in the table:\n%s", out.String())
	}
}

// TestMergeRounds merges hand-made rounds: the medians, a target tested on the median ratio,
// and a figure measured once left alone.
func TestMergeRounds(t *testing.T) {
	rep := &Report{}
	for _, v := range []struct{ value, base float64 }{{70, 100}, {90, 100}, {85, 110}} {
		rep.add(Result{Section: "import", Figure: "fresh", Value: v.value, Unit: "endpoints/s", BaseVal: v.base}).ratioAtLeast(0.8)
		rep.add(Result{Section: "decode", Figure: "rows", Value: v.value * 1000, Unit: "rows/s"}).atLeast(80_000, "rows/s")
	}
	rep.add(Result{Section: "memory", Figure: "peak", Value: 270, Unit: "MB"}).below(300, "MB")
	got := mergeRounds(rep.Results)
	if len(got) != 3 {
		t.Fatalf("%d results, want 3", len(got))
	}
	fresh, rows, peak := got[0], got[1], got[2]
	// Ratios 0.70, 0.90 and 0.773: the median is 0.773, under 0.8, although the median value
	// (85) over the median baseline (100) would be 0.85.
	if fresh.Value != 85 || fresh.BaseVal != 100 || fresh.Ratio != 85.0/110 || fresh.Met == nil || *fresh.Met {
		t.Errorf("fresh: %+v", *fresh)
	}
	if rows.Value != 85_000 || rows.Met == nil || !*rows.Met || len(rows.Ratios) != 0 || !slices.Equal(rows.Runs, []float64{70_000, 90_000, 85_000}) {
		t.Errorf("rows: %+v", *rows)
	}
	if peak.Value != 270 || peak.Runs != nil || peak.Met == nil || !*peak.Met {
		t.Errorf("peak: %+v", *peak)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 1..4 = %v, want 2.5", m)
	}
}
