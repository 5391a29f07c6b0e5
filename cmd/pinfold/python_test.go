package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestBoto3AndAWSCLI drives the real server with the machine's second family of clients:
// boto3 (an import end to end) and the AWS CLI v1.
func TestBoto3AndAWSCLI(t *testing.T) {
	t.Parallel()
	if err := exec.Command("python3", "-c", "import boto3").Run(); err != nil {
		t.Skip("python3 with boto3 is not installed:", err)
	}
	data := filepath.Join(t.TempDir(), "data")
	p := startServe(t, data)
	env := append(os.Environ(), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(data, "credentials"), "AWS_PROFILE=pinfold",
		"AWS_CONFIG_FILE=/dev/null", "AWS_DEFAULT_REGION=us-east-1")
	cmd := exec.Command("python3", "testdata/boto3_import.py", p.URL, p.S3URL)
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "boto3 ok") {
		t.Fatalf("boto3 script: %v\n%s", err, out)
	}
	appID := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "boto3 ok"))

	if _, err := exec.LookPath("aws"); err != nil {
		t.Log("the AWS CLI is not installed; boto3 alone was checked")
		return
	}
	aws := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("aws", append(args, "--endpoint-url", p.URL, "--output", "json")...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := aws("pinpoint", "get-apps"); !strings.Contains(out, appID) || !strings.Contains(out, `"ApplicationsResponse"`) {
		t.Fatalf("aws pinpoint get-apps: %s", out)
	}
	if out := aws("pinpoint", "get-import-jobs", "--application-id", appID); !strings.Contains(out, `"JobStatus": "COMPLETED"`) {
		t.Fatalf("aws pinpoint get-import-jobs: %s", out)
	}
	p.stop(t)
}
