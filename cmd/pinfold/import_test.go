package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// cleanAWSEnv is the environment the client subcommands run with in tests: the machine's
// own AWS settings cannot leak in, and no instance metadata is asked for.
func cleanAWSEnv(t *testing.T) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	return append(env, "AWS_CONFIG_FILE="+none, "AWS_SHARED_CREDENTIALS_FILE="+none, "AWS_EC2_METADATA_DISABLED=true")
}

// result is what a run of the binary printed and how it exited.
type result struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary in dir (the test's working folder when empty) with the clean
// environment plus env.
func runCLI(t *testing.T, dir string, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Dir = dir
	cmd.Env = append(cleanAWSEnv(t), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("pinfold %v: %v", args, err)
	}
	return result{stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()}
}

// endpointsCSV is an import file of rows endpoints whose IDs start with prefix; the rows
// whose index is in bad have an unknown channel, and are rejected.
func endpointsCSV(prefix string, rows int, bad ...int) []byte {
	var b bytes.Buffer
	b.WriteString("Id,ChannelType,Address,Attributes.n\n")
	for i := range rows {
		channel := "EMAIL"
		for _, k := range bad {
			if i == k {
				channel = "PIGEON"
			}
		}
		fmt.Fprintf(&b, "%s-%d,%s,%s%d@example.com,%d\n", prefix, i, channel, prefix, i, i)
	}
	return b.Bytes()
}

// writeFile writes data to dir/name, making the folders.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// importServer is one `pinfold serve` the import tests share, with its data folder named as
// the default --data expects it beside the working folder.
type importServer struct {
	*proc
	dir  string // holds pinfold-data
	data string
	pp   *pinpoint.Client
	s3   *awss3.Client
}

func startImportServer(t *testing.T) *importServer {
	t.Helper()
	dir := t.TempDir()
	s := &importServer{dir: dir, data: filepath.Join(dir, "pinfold-data")}
	s.proc = startServe(t, s.data)
	s.pp, s.s3 = s.clients(t, s.data)
	return s
}

// flags are the flags that point a client subcommand at the server; import also needs
// --s3-endpoint-url.
func (s *importServer) flags(command string) []string {
	flags := []string{"--endpoint-url", s.URL, "--data", s.data}
	if command == "import" {
		flags = append(flags, "--s3-endpoint-url", s.S3URL)
	}
	return flags
}

// run runs a client subcommand against the server, with its flags after the arguments.
func (s *importServer) run(t *testing.T, args ...string) result {
	t.Helper()
	return runCLI(t, "", nil, append(args, s.flags(args[0])...)...)
}

func (s *importServer) createApp(t *testing.T, name string) string {
	t.Helper()
	out, err := s.pp.CreateApp(context.Background(), &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: &name}})
	if err != nil {
		t.Fatal(err)
	}
	return *out.ApplicationResponse.Id
}

var summaryApp = regexp.MustCompile(`(?m)^  app +([0-9a-f]+)$`)
var summaryJob = regexp.MustCompile(`(?m)^Import job ([0-9a-f]+) `)

// wantCode checks the exit status and shows the output when it is not the expected one.
func wantCode(t *testing.T, r result, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

func TestImport(t *testing.T) {
	t.Parallel()
	s := startImportServer(t)
	ctx := context.Background()

	t.Run("good file, nothing configured", func(t *testing.T) {
		t.Parallel()
		in := writeFile(t, t.TempDir(), "good.csv", endpointsCSV("good", 1000, 1, 500))
		// Run from the folder holding pinfold-data: the default --data finds the credentials;
		// the server's random ports come from the standard variables.
		cmd := runCLI(t, s.dir, []string{"AWS_ENDPOINT_URL_PINPOINT=" + s.URL, "AWS_ENDPOINT_URL_S3=" + s.S3URL},
			"import", "--create-app", "good", "--define-segment", "november", in)
		wantCode(t, cmd, 0)
		for _, want := range []string{" COMPLETED in ", "  pieces     1 of 1 done, 0 failed\n", "  rows       1,000 processed, 2 rejected\n",
			"  endpoints  stored in the app\n", `"november"`, "Failures:\n"} {
			if !strings.Contains(cmd.stdout, want) {
				t.Errorf("summary lacks %q:\n%s", want, cmd.stdout)
			}
		}
		if !regexp.MustCompile(`(?m)^  s3://pinfold-imports/\d{8}T\d{6}Z-[0-9a-f]{8}/good\.csv:3: ChannelType must be`).MatchString(cmd.stdout) {
			t.Errorf("the summary does not list the failure of line 3 with its place:\n%s", cmd.stdout)
		}
		// Not a terminal: plain lines, nothing redrawn.
		if strings.ContainsAny(cmd.stderr, "\r\x1b") {
			t.Errorf("stderr is not a terminal but has control characters: %q", cmd.stderr)
		}
		if !regexp.MustCompile(`(?m)^\[\d+\.\ds\] COMPLETED: 1/1 pieces, 1,000 rows processed, 2 failed, [\d,–]+ rows/s$`).MatchString(cmd.stderr) {
			t.Errorf("no plain progress line for COMPLETED in stderr:\n%s", cmd.stderr)
		}
		app := summaryApp.FindStringSubmatch(cmd.stdout)[1]
		e, err := s.pp.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: &app, EndpointId: aws.String("good-999")})
		if err != nil || *e.EndpointResponse.Address != "good999@example.com" {
			t.Fatalf("GetEndpoint good-999: %+v, %v", e, err)
		}
		segs, err := s.pp.GetSegments(ctx, &pinpoint.GetSegmentsInput{ApplicationId: &app})
		if err != nil || len(segs.SegmentsResponse.Item) != 1 || *segs.SegmentsResponse.Item[0].ImportDefinition.Size != 998 {
			t.Fatalf("segments: %+v, %v", segs, err)
		}
	})

	t.Run("job fails", func(t *testing.T) {
		t.Parallel()
		in := writeFile(t, t.TempDir(), "typo.csv", []byte("ChannelType,Adress\nEMAIL,a@example.com\n"))
		cmd := s.run(t, "import", "--create-app", "typo", in)
		wantCode(t, cmd, 1)
		lines := strings.Split(strings.TrimSpace(cmd.stderr), "\n")
		last := lines[len(lines)-1]
		if !regexp.MustCompile(`^pinfold: import job [0-9a-f]{32} FAILED: s3://pinfold-imports/\S+/typo\.csv:1: .*unknown column "Adress"`).MatchString(last) {
			t.Errorf("last line of stderr: %q", last)
		}
		if !strings.Contains(cmd.stdout, " FAILED in ") || !strings.Contains(cmd.stdout, "none stored: the job failed before any piece completed") {
			t.Errorf("summary:\n%s", cmd.stdout)
		}
	})

	t.Run("json", func(t *testing.T) {
		t.Parallel()
		in := writeFile(t, t.TempDir(), "j.ndjson", []byte(`{"Id":"j-1","ChannelType":"SMS","Address":"+15550100"}`+"\n"+
			`{"Id":"j-2","ChannelType":"EMAIL","Address":"j2@example.com"}`+"\n"))
		cmd := s.run(t, "import", "--json", "--create-app", "json", in)
		wantCode(t, cmd, 0)
		var job map[string]any
		if err := json.Unmarshal([]byte(cmd.stdout), &job); err != nil {
			t.Fatalf("--json output is not JSON: %v\n%s", err, cmd.stdout)
		}
		def, _ := job["Definition"].(map[string]any)
		if job["JobStatus"] != "COMPLETED" || job["TotalProcessed"] != 2.0 || job["TotalFailures"] != 0.0 || job["Type"] != "IMPORT" ||
			def["Format"] != "JSON" || def["RegisterEndpoints"] != true || job["ApplicationId"] == nil {
			t.Fatalf("--json output: %s", cmd.stdout)
		}
	})

	t.Run("dry run", func(t *testing.T) {
		t.Parallel()
		app := s.createApp(t, "dry")
		in := writeFile(t, t.TempDir(), "dry.csv", endpointsCSV("dry", 50, 7))
		cmd := s.run(t, "import", "--app", app, "--dry-run", in)
		wantCode(t, cmd, 0)
		if !strings.Contains(cmd.stdout, "50 processed, 1 rejected") || !strings.Contains(cmd.stdout, "none stored: a dry run") {
			t.Errorf("summary:\n%s", cmd.stdout)
		}
		_, err := s.pp.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: &app, EndpointId: aws.String("dry-1")})
		var notFound *types.NotFoundException
		if !errors.As(err, &notFound) {
			t.Fatalf("GetEndpoint after a dry run: %v, want NotFoundException", err)
		}
	})

	t.Run("no wait", func(t *testing.T) {
		t.Parallel()
		app := s.createApp(t, "nowait")
		in := writeFile(t, t.TempDir(), "w.csv", endpointsCSV("w", 10))
		cmd := s.run(t, "import", in, "--app", app, "--wait=false")
		wantCode(t, cmd, 0)
		jobID := strings.TrimSpace(cmd.stdout)
		if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(jobID) {
			t.Fatalf("--wait=false printed %q, want the job ID alone", cmd.stdout)
		}
		if j := waitEnded(t, s.pp, &app, &jobID); j.JobStatus != types.JobStatusCompleted || *j.TotalProcessed != 10 {
			t.Fatalf("job: %s, %d processed", j.JobStatus, *j.TotalProcessed)
		}
	})

	t.Run("folder with subfolders", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "a.csv", endpointsCSV("a", 20))
		writeFile(t, dir, "sub/b.csv", endpointsCSV("b", 30, 1))
		var gz bytes.Buffer
		zw := gzip.NewWriter(&gz)
		zw.Write(endpointsCSV("c", 40))
		zw.Close()
		writeFile(t, dir, "sub/deeper/c.csv.gz", gz.Bytes())
		writeFile(t, dir, "sub/notes.txt", []byte("not endpoints"))
		cmd := s.run(t, "import", "--create-app", "folder", dir)
		wantCode(t, cmd, 0)
		if !strings.Contains(cmd.stdout, "3 of 3 done") || !strings.Contains(cmd.stdout, "90 processed, 1 rejected") {
			t.Errorf("summary:\n%s", cmd.stdout)
		}
		if !regexp.MustCompile(`(?m)^  s3://pinfold-imports/\S+/sub/b\.csv:3: `).MatchString(cmd.stdout) {
			t.Errorf("the failure is not reported at sub/b.csv:3:\n%s", cmd.stdout)
		}
		if !strings.Contains(cmd.stderr, "skipping 1 file(s) that are not CSV files: "+filepath.Join(dir, "sub", "notes.txt")) ||
			!strings.Contains(cmd.stderr, "uploaded 3 file(s)") {
			t.Errorf("stderr:\n%s", cmd.stderr)
		}
		app := summaryApp.FindStringSubmatch(cmd.stdout)[1]
		if _, err := s.pp.GetEndpoint(ctx, &pinpoint.GetEndpointInput{ApplicationId: &app, EndpointId: aws.String("c-39")}); err != nil {
			t.Fatalf("the endpoint of the gzip file in sub/deeper: %v", err)
		}
	})

	t.Run("mixed formats", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		writeFile(t, dir, "a.csv", endpointsCSV("mix", 5))
		writeFile(t, dir, "more/b.jsonl", []byte(`{"Id":"mix-json","ChannelType":"SMS","Address":"+15550101"}`+"\n"))
		cmd := s.run(t, "import", "--create-app", "mixed", dir)
		wantCode(t, cmd, 1)
		if want := "pinfold: found 1 CSV and 1 JSON files; an import job reads one format: run once with --format CSV and once with --format JSON\n"; cmd.stderr != want {
			t.Errorf("stderr %q, want %q", cmd.stderr, want)
		}
		cmd = s.run(t, "import", "--create-app", "mixed", "--format", "json", dir)
		wantCode(t, cmd, 0)
		if !strings.Contains(cmd.stdout, "1 processed, 0 rejected") || !strings.Contains(cmd.stderr, "that are not JSON files: "+filepath.Join(dir, "a.csv")) {
			t.Errorf("--format json:\nstdout:\n%s\nstderr:\n%s", cmd.stdout, cmd.stderr)
		}
	})

	t.Run("existing S3 URL", func(t *testing.T) {
		t.Parallel()
		if _, err := s.s3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String("existing")}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.s3.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("existing"), Key: aws.String("in/place.csv"),
			Body: bytes.NewReader(endpointsCSV("s3", 25))}); err != nil {
			t.Fatal(err)
		}
		cmd := s.run(t, "import", "--create-app", "s3url", "s3://existing/in/place.csv")
		wantCode(t, cmd, 0)
		if !strings.Contains(cmd.stdout, "  source     s3://existing/in/place.csv (CSV)\n") || !strings.Contains(cmd.stdout, "25 processed") {
			t.Errorf("summary:\n%s", cmd.stdout)
		}
		if strings.Contains(cmd.stderr, "uploaded") {
			t.Errorf("an s3:// URL was uploaded: %s", cmd.stderr)
		}
		cmd = s.run(t, "import", "--create-app", "s3url", "s3://existing/in/")
		if wantCode(t, cmd, 1); !strings.Contains(cmd.stderr, "pinfold: cannot tell the format of s3://existing/in/ from its name: give --format CSV or --format JSON") {
			t.Errorf("stderr: %s", cmd.stderr)
		}
	})

	t.Run("jobs and job", func(t *testing.T) {
		t.Parallel()
		bad := make([]int, 150)
		for i := range bad {
			bad[i] = 2 * i
		}
		in := writeFile(t, t.TempDir(), "many.csv", endpointsCSV("many", 400, bad...))
		cmd := s.run(t, "import", "--create-app", "jobs", in)
		wantCode(t, cmd, 0)
		app, job := summaryApp.FindStringSubmatch(cmd.stdout)[1], summaryJob.FindStringSubmatch(cmd.stdout)[1]
		if !strings.Contains(cmd.stdout, "First 10 of 150 failures (all of them: pinfold job --app "+app+" "+job+"):") {
			t.Errorf("summary:\n%s", cmd.stdout)
		}

		row := regexp.MustCompile(`(?m)^` + app + ` +` + job + ` +IMPORT +COMPLETED +1/1 +400 +150 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +\d`)
		list := s.run(t, "jobs", "--limit", "1000")
		wantCode(t, list, 0)
		if !strings.HasPrefix(list.stdout, "APP ") || !row.MatchString(list.stdout) {
			t.Errorf("pinfold jobs:\n%s", list.stdout)
		}
		list = s.run(t, "jobs", "--app", app, "--limit", "1")
		if lines := strings.Split(strings.TrimSpace(list.stdout), "\n"); len(lines) != 2 || !row.MatchString(list.stdout) {
			t.Errorf("pinfold jobs --app --limit 1:\n%s", list.stdout)
		}

		show := s.run(t, "job", job)
		wantCode(t, show, 0)
		for _, want := range []string{"Import job " + job + " COMPLETED in ", "  RegisterEndpoints  true\n", "  S3Url              s3://pinfold-imports/",
			"150 failures in all.\n"} {
			if !strings.Contains(show.stdout, want) {
				t.Errorf("pinfold job lacks %q:\n%s", want, show.stdout)
			}
		}
		failures := regexp.MustCompile(`(?m)^  s3://pinfold-imports/\S+/many\.csv:(\d+): ChannelType must be`).FindAllStringSubmatch(show.stdout, -1)
		if len(failures) != 150 || failures[0][1] != "2" || failures[149][1] != "300" {
			t.Errorf("pinfold job lists %d failures, want all 150 from line 2 to line 300", len(failures))
		}
		asJSON := s.run(t, "job", "--json", "--app", app, job)
		var j struct{ Id, JobStatus string }
		if err := json.Unmarshal([]byte(asJSON.stdout), &j); err != nil || j.Id != job || j.JobStatus != "COMPLETED" {
			t.Errorf("pinfold job --json: %v\n%s", err, asJSON.stdout)
		}
		missing := s.run(t, "job", "0123456789abcdef0123456789abcdef")
		if wantCode(t, missing, 1); !strings.Contains(missing.stderr, "pinfold: no import job 0123456789abcdef0123456789abcdef in any of the ") {
			t.Errorf("a missing job: %s", missing.stderr)
		}
	})

	t.Run("credentials precedence", func(t *testing.T) {
		t.Parallel()
		// $AWS_ACCESS_KEY_ID comes before the data folder's file: these keys are refused.
		cmd := runCLI(t, "", []string{"AWS_ACCESS_KEY_ID=AKIDNOTPINFOLD", "AWS_SECRET_ACCESS_KEY=wrong"}, append([]string{"jobs"}, s.flags("jobs")...)...)
		wantCode(t, cmd, 1)
		if !strings.Contains(cmd.stderr, "pinfold: GetApps: ForbiddenException: ") || !strings.Contains(cmd.stderr, "(signed with credentials from $AWS_ACCESS_KEY_ID)") {
			t.Errorf("stderr: %s", cmd.stderr)
		}
	})
}

// TestClientUsageErrors checks the messages of arguments that cannot work, before any server
// is asked.
func TestClientUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	csv := writeFile(t, dir, "a.csv", endpointsCSV("u", 1))
	txt := writeFile(t, dir, "a.txt", []byte("x"))
	writeFile(t, dir, "other/a.csv", endpointsCSV("u", 1))
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"import", "--app", "x"}, "give the files, folders or the s3:// URL to import"},
		{[]string{"import", csv}, "which app? give --app ID"},
		{[]string{"import", "--app", "x", "--create-app", "y", csv}, "give --app or --create-app, not both"},
		{[]string{"import", "--app", "x", "--format", "XML", csv}, `--format: must be CSV or JSON, got "XML"`},
		{[]string{"import", "--app", "x", "--dry-run", "--define-segment", "s", csv}, "--dry-run stores nothing, so it makes no segment"},
		{[]string{"import", "--app", "x", "--define-segment", "s", "--segment-id", "i", csv}, "give --define-segment (a new segment) or --segment-id (an existing one), not both"},
		{[]string{"import", "--create-app", "x", "--segment-id", "s", csv}, "--segment-id names a segment of an existing app: give its --app"},
		{[]string{"import", "--app", "x", "--define-segment", strings.Repeat("n", 65), csv}, "--define-segment: a segment name has at most 64 characters"},
		{[]string{"import", "--app", "x", txt}, txt + ": cannot tell its format"},
		{[]string{"import", "--app", "x", "--format", "JSON", csv}, csv + " is a CSV file but --format is JSON"},
		{[]string{"import", "--app", "x", csv, filepath.Join(dir, "other", "a.csv")}, `would both be uploaded as "a.csv"`},
		{[]string{"import", "--app", "x", filepath.Join(dir, "missing.csv")}, "missing.csv: no such file or directory"},
		{[]string{"import", "--app", "x", "s3://b/k.csv", csv}, "give one s3:// URL, or local files and folders"},
		{[]string{"import", "--app", "x", "--json", "--wait=false", csv}, "--json prints the job once it ended: it needs --wait"},
		{[]string{"import", "--app", "x", "--endpoint-url", "localhost:8080", csv}, `--endpoint-url: must be an http:// or https:// URL`},
		{[]string{"jobs", "extra"}, `pinfold jobs takes no arguments, got "extra"`},
		{[]string{"jobs", "--limit", "0"}, "--limit: must be at least 1"},
		{[]string{"job"}, "give one job ID"},
		{[]string{"jobs", "--data", filepath.Join(dir, "nowhere")}, "no credentials found: run next to the server's data folder"},
	} {
		cmd := runCLI(t, dir, nil, tc.args...)
		if cmd.code != 1 || !strings.HasPrefix(cmd.stderr, "pinfold: ") || !strings.Contains(cmd.stderr, tc.msg) {
			t.Errorf("pinfold %v: exit %d, stderr %q; want 1 and %q", tc.args, cmd.code, cmd.stderr, tc.msg)
		}
	}
}

// TestImportTerminal runs import under a pseudo-terminal: the progress is one line redrawn in
// place, with a bar, and no plain lines.
func TestImportTerminal(t *testing.T) {
	t.Parallel()
	if out, err := exec.Command("script", "--version").CombinedOutput(); err != nil || !strings.Contains(string(out), "util-linux") {
		t.Skipf("needs util-linux script(1) to run under a pseudo-terminal: %v %s", err, out)
	}
	s := startImportServer(t)
	dir := t.TempDir()
	in := writeFile(t, dir, "tty.csv", endpointsCSV("tty", 20000, 3))
	typescript := filepath.Join(dir, "typescript")
	command := strings.Join(append([]string{binary, "import", "--create-app", "tty", in}, s.flags("import")...), " ")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "script", "-q", "-e", "-f", "-c", command, typescript)
	cmd.Env = append(cleanAWSEnv(t), "COLUMNS=120", "TERM=xterm")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("script: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(typescript)
	if err != nil {
		t.Fatal(err)
	}
	out := string(raw)
	draws := strings.Count(out, "\x1b[K")
	final := regexp.MustCompile(`\rCOMPLETED +\[█{30}\] 1/1 pieces  20,000 rows  1 failed  [^\r]*\x1b\[K`)
	switch {
	case draws < 2:
		t.Errorf("the progress line was drawn %d times, want it redrawn in place:\n%q", draws, out)
	case !final.MatchString(out):
		t.Errorf("no final progress line with a full bar:\n%q", out)
	case regexp.MustCompile(`\[\d+\.\ds\] [A-Z_]+: `).MatchString(out):
		t.Errorf("plain progress lines on a terminal:\n%q", out)
	case !strings.Contains(out, "20,000 processed, 1 rejected"):
		t.Errorf("no summary:\n%q", out)
	}
	for _, line := range strings.FieldsFunc(out, func(r rune) bool { return r == '\r' || r == '\n' }) {
		if n := len([]rune(strings.TrimSuffix(line, "\x1b[K"))); strings.HasSuffix(line, "\x1b[K") && n >= 120 {
			t.Errorf("a progress line of %d columns on a terminal of 120: %q", n, line)
		}
	}
}
