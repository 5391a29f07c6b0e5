package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/jackc/pgx/v5"
	"github.com/pinfold/pinfold/postgres/pgtest"
)

// getStatus returns the status code and the Status and Message of a GET of /healthz or /readyz.
func getStatus(t *testing.T, p *proc, path string) (code int, status, message string) {
	t.Helper()
	resp, err := http.Get(p.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out struct{ Status, Message string }
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatalf("%s: %d %q: %v", path, resp.StatusCode, body, err)
	}
	return resp.StatusCode, out.Status, out.Message
}

// scrape reads the server's /metrics: every sample by its name and labels.
func scrape(t *testing.T, p *proc) map[string]float64 {
	t.Helper()
	resp, err := http.Get(p.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if i := strings.LastIndexByte(line, ' '); i > 0 && !strings.HasPrefix(line, "#") {
			if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
				m[line[:i]] = v
			}
		}
	}
	return m
}

// metric reads one sample of the server's /metrics, 0 when it has none.
func metric(t *testing.T, p *proc, name string) float64 {
	t.Helper()
	return scrape(t, p)[name]
}

// waitMetric waits up to 20 s for ok(the sample name of the server's /metrics) and returns the
// last value read.
func waitMetric(t *testing.T, p *proc, name string, ok func(float64) bool) float64 {
	t.Helper()
	var v float64
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if v = metric(t, p, name); ok(v) || time.Now().After(deadline) {
			return v
		}
	}
}

// TestMetricsSQLite imports into the embedded defaults and reads what /metrics says of the
// process and of the SQLite store: the checkpointer ran during the import, and emptied the WAL
// file once it was over.
func TestMetricsSQLite(t *testing.T) {
	t.Parallel()
	const rows = 20000
	data := t.TempDir()
	p := startServe(t, data, "--piece-size", "65536")
	pp, s3c := p.clients(t, data)
	ctx := context.Background()
	if _, err := s3c.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("imports")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("imports"), Key: aws.String("e.csv"), Body: bytes.NewReader(crashCSV(rows))}); err != nil {
		t.Fatal(err)
	}
	if code, status, _ := getStatus(t, p, "/readyz"); code != 200 || status != "ok" {
		t.Fatalf("/readyz: %d %q", code, status)
	}
	app, err := pp.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("metrics")}})
	if err != nil {
		t.Fatal(err)
	}
	appID := app.ApplicationResponse.Id
	j := waitEnded(t, pp, appID, createJob(t, pp, appID, "s3://imports/e.csv"))
	wantExact(t, pp, appID, j, rows)

	for name, min := range map[string]float64{
		"go_goroutines": 1, "process_resident_memory_bytes": 1 << 20, "process_open_fds": 3,
		"pinfold_sqlite_database_bytes": 1 << 20,
		// 20,000 rows are ten times the rows after which the writer asks for a pass.
		"pinfold_sqlite_checkpoints_total":                      1,
		`pinfold_sqlite_connections{pool="write",state="idle"}`: 1,
		`pinfold_import_rows_total{result="processed"}`:         rows,
	} {
		if v := waitMetric(t, p, name, func(v float64) bool { return v >= min }); v < min {
			t.Errorf("%s is %g, want at least %g", name, v, min)
		}
	}
	// Two seconds after the last write, the WAL file is emptied.
	if v := waitMetric(t, p, "pinfold_sqlite_wal_truncations_total", func(v float64) bool { return v >= 1 }); v < 1 {
		t.Error("the WAL file was not emptied after the import")
	}
	if v := metric(t, p, "pinfold_sqlite_wal_bytes"); v != 0 {
		t.Errorf("pinfold_sqlite_wal_bytes is %g once the WAL was emptied, want 0", v)
	}
	// A group is of two pieces or more.
	groups, pieces := metric(t, p, "pinfold_sqlite_group_commits_total"), metric(t, p, "pinfold_sqlite_grouped_pieces_total")
	if pieces < 2*groups || pieces > float64(*j.TotalPieces) {
		t.Errorf("%g pieces in %g groups, of %d pieces in the job", pieces, groups, *j.TotalPieces)
	}
	// Every piece was read and committed once, and no worker is busy any more.
	pieceCount := float64(*j.TotalPieces)
	for _, stage := range []string{"read", "commit"} {
		name := `pinfold_import_piece_seconds_count{stage="` + stage + `"}`
		if v := waitMetric(t, p, name, func(v float64) bool { return v >= pieceCount }); v != pieceCount {
			t.Errorf("%s is %g, want %g", name, v, pieceCount)
		}
		if v := metric(t, p, `pinfold_import_piece_seconds_sum{stage="`+stage+`"}`); v <= 0 {
			t.Errorf("pieces took %g s to %s", v, stage)
		}
	}
	if v := metric(t, p, "pinfold_import_workers_busy"); v != 0 {
		t.Errorf("pinfold_import_workers_busy is %g after the job", v)
	}
	if v := metric(t, p, "pinfold_sqlite_disk_reserve_released"); v != 0 {
		t.Errorf("pinfold_sqlite_disk_reserve_released is %g with room on the disk", v)
	}
	build := regexp.MustCompile(`^pinfold_build_info\{goversion="go1\.[^"]+",version="dev"\}$`)
	if !slices.ContainsFunc(slices.Collect(maps.Keys(scrape(t, p))), build.MatchString) {
		t.Errorf("no pinfold_build_info naming the build in /metrics")
	}
	t.Logf("%d pieces, %g in %g groups", *j.TotalPieces, pieces, groups)
	p.stop(t)
}

// TestReadinessPostgres runs a node on a PostgreSQL database, then drops the database under
// it: /readyz turns 503 while /healthz stays 200, and the message names nothing of the
// database.
func TestReadinessPostgres(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.URL(t)
	data := t.TempDir()
	p := startServe(t, data, "--database", dbURL)
	if code, status, _ := getStatus(t, p, "/readyz"); code != 200 || status != "ok" {
		t.Fatalf("/readyz: %d %q", code, status)
	}
	// An API write takes its app's lock.
	pp, _ := p.clients(t, data)
	ctx := context.Background()
	app, err := pp.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("ready")}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := pp.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: app.ApplicationResponse.Id, EndpointId: aws.String(fmt.Sprint("e", i)),
			EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String(fmt.Sprint("e", i, "@example.com"))}}); err != nil {
			t.Fatal(err)
		}
	}
	if m := scrape(t, p); m[`pinfold_postgres_app_locks_total{writer="other"}`] != 3 ||
		m[`pinfold_postgres_app_lock_wait_seconds_total{writer="other"}`] <= 0 || m[`pinfold_postgres_app_locks_total{writer="import_piece"}`] != 0 {
		t.Errorf("app locks after three UpdateEndpoint: %g other (%g s), %g import pieces", m[`pinfold_postgres_app_locks_total{writer="other"}`],
			m[`pinfold_postgres_app_lock_wait_seconds_total{writer="other"}`], m[`pinfold_postgres_app_locks_total{writer="import_piece"}`])
	}
	for name, min := range map[string]float64{"pinfold_postgres_max_connections": 1, "pinfold_postgres_acquires_total": 1,
		"go_goroutines": 1} {
		if v := metric(t, p, name); v < min {
			t.Errorf("%s is %g, want at least %g", name, v, min)
		}
	}
	// The pool keeps the connections it opened; the importer's polls may hold one. Both
	// states from one scrape: a connection moves between them.
	m := scrape(t, p)
	if n := m[`pinfold_postgres_connections{state="idle"}`] + m[`pinfold_postgres_connections{state="acquired"}`]; n < 1 {
		t.Errorf("the pool holds %g connections, want at least one", n)
	}

	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "DROP DATABASE "+name+" WITH (FORCE)"); err != nil {
		t.Fatal(err)
	}
	code, status, message := getStatus(t, p, "/readyz")
	if code != 503 || status != "unavailable" || message == "" || strings.Contains(message, name) {
		t.Fatalf("/readyz with the database gone: %d %q %q", code, status, message)
	}
	if code, _, _ := getStatus(t, p, "/healthz"); code != 200 {
		t.Fatalf("/healthz with the database gone: %d", code)
	}
	// The line is logged before the answer is sent, and read from the pipe after.
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(p.stderr.String(), "/readyz: not ready") && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(p.stderr.String(), "/readyz: not ready") {
		t.Errorf("the log does not say why the node is not ready:\n%s", p.stderr.String())
	}
	p.stop(t)
}
