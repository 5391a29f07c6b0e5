package main

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	"github.com/pinfold/pinfold/api"
)

// keyClient returns a Pinpoint client of the server that signs with the given key pair.
func keyClient(url, id, secret string) *pinpoint.Client {
	return pinpoint.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: awscreds.NewStaticCredentialsProvider(id, secret, "")},
		func(o *pinpoint.Options) {
			o.BaseEndpoint = aws.String(url)
			o.RetryMaxAttempts = 1
		})
}

func wantForbidden(t *testing.T, err error, msg string) {
	t.Helper()
	var forbidden *types.ForbiddenException
	if !errors.As(err, &forbidden) || !strings.Contains(forbidden.ErrorMessage(), msg) {
		t.Fatalf("error = %v, want a ForbiddenException saying %q", err, msg)
	}
}

// TestKeys runs pinfold keys against the real binary, logging at debug level, and uses the
// keys it makes with the AWS SDK.
func TestKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := &importServer{dir: dir, data: filepath.Join(dir, "pinfold-data")}
	s.proc = startServe(t, s.data, "--log-level", "debug")
	s.pp, s.s3 = s.clients(t, s.data)
	ctx := context.Background()
	app := s.createApp(t, "keys")
	other := s.createApp(t, "other")

	// A read-only key, as JSON.
	cmd := s.run(t, "keys", "create", "--read-only", "--json")
	wantCode(t, cmd, 0)
	var ro struct {
		AccessKeyId, SecretAccessKey string
		AppIds                       []string
		ReadOnly                     bool
	}
	if err := json.Unmarshal([]byte(cmd.stdout), &ro); err != nil || !ro.ReadOnly || ro.AppIds == nil || len(ro.AppIds) != 0 ||
		!regexp.MustCompile(`^PF[A-Z2-7]{18}$`).MatchString(ro.AccessKeyId) || len(ro.SecretAccessKey) != 40 {
		t.Fatalf("keys create --read-only --json: %v\n%s", err, cmd.stdout)
	}
	c := keyClient(s.URL, ro.AccessKeyId, ro.SecretAccessKey)
	if out, err := c.GetApps(ctx, &pinpoint.GetAppsInput{}); err != nil || len(out.ApplicationsResponse.Item) != 2 {
		t.Fatalf("GetApps with the read-only key: %+v, %v", out, err)
	}
	_, err := c.CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("no")}})
	wantForbidden(t, err, "access key "+ro.AccessKeyId+" is read-only")

	// A key for one app, as text: the pair once, and how to use it.
	cmd = s.run(t, "keys", "create", "--app", app)
	wantCode(t, cmd, 0)
	m := regexp.MustCompile(`(?m)^  aws_access_key_id     = (PF\w+)\n  aws_secret_access_key = (\S+)$`).FindStringSubmatch(cmd.stdout)
	if m == nil || !strings.Contains(cmd.stdout, "Created access key "+m[1]+": read and write, applications "+app+".") ||
		!strings.Contains(cmd.stdout, "export AWS_ACCESS_KEY_ID="+m[1]+" AWS_SECRET_ACCESS_KEY="+m[2]+" AWS_DEFAULT_REGION=us-east-1\n") ||
		!strings.Contains(cmd.stdout, "aws pinpoint get-apps --endpoint-url "+s.URL+"\n") {
		t.Fatalf("keys create --app:\n%s", cmd.stdout)
	}
	scopedID, scopedSecret := m[1], m[2]
	c = keyClient(s.URL, scopedID, scopedSecret)
	if _, err := c.UpdateEndpoint(ctx, &pinpoint.UpdateEndpointInput{ApplicationId: &app, EndpointId: aws.String("e1"),
		EndpointRequest: &types.EndpointRequest{ChannelType: types.ChannelTypeEmail, Address: aws.String("e1@example.com")}}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: &other})
	wantForbidden(t, err, "may not use application "+other)

	// Only the root key manages keys: the scoped key, through the same command, may not.
	env := []string{"AWS_ACCESS_KEY_ID=" + scopedID, "AWS_SECRET_ACCESS_KEY=" + scopedSecret, "AWS_REGION=us-east-1"}
	cmd = runCLI(t, "", env, "keys", "list", "--endpoint-url", s.URL)
	if wantCode(t, cmd, 1); !strings.Contains(cmd.stderr, "ForbiddenException: access key "+scopedID+" may not use GetAccessKeys: only the root access key may") {
		t.Fatalf("keys list with a scoped key: %s", cmd.stderr)
	}

	list := s.run(t, "keys", "list")
	wantCode(t, list, 0)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^ACCESS KEY ID +ACCESS +APPS +CREATED +REVOKED$`),
		regexp.MustCompile(`(?m)^` + ro.AccessKeyId + ` +read-only +all +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +-$`),
		regexp.MustCompile(`(?m)^` + scopedID + ` +read-write +` + app + ` +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +-$`),
	} {
		if !want.MatchString(list.stdout) {
			t.Errorf("keys list does not match %s:\n%s", want, list.stdout)
		}
	}

	cmd = s.run(t, "keys", "revoke", scopedID)
	if wantCode(t, cmd, 0); !strings.HasPrefix(cmd.stdout, "Revoked access key "+scopedID+" at ") {
		t.Fatalf("keys revoke: %s", cmd.stdout)
	}
	_, err = c.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: &app})
	wantForbidden(t, err, "access key "+scopedID+" was revoked at ")
	list = s.run(t, "keys", "list", "--json")
	var listed struct {
		Item []struct{ AccessKeyId, RevokedDate string }
	}
	if err := json.Unmarshal([]byte(list.stdout), &listed); err != nil || len(listed.Item) != 2 || listed.Item[1].AccessKeyId != scopedID || listed.Item[1].RevokedDate == "" {
		t.Fatalf("keys list --json after the revoke: %v\n%s", err, list.stdout)
	}
	cmd = s.run(t, "keys", "revoke", "PFNOSUCHKEY")
	if wantCode(t, cmd, 1); !strings.Contains(cmd.stderr, `pinfold: NotFoundException: access key "PFNOSUCHKEY" not found`) {
		t.Fatalf("keys revoke of an unknown key: %s", cmd.stderr)
	}

	// The secrets are in no list and in no line of the log.
	for _, secret := range []string{ro.SecretAccessKey, scopedSecret} {
		if strings.Contains(list.stdout, secret) || strings.Contains(s.stderr.String(), secret) {
			t.Fatalf("a secret is in the list or the log:\n%s\n%s", list.stdout, s.stderr.String())
		}
	}
	if !strings.Contains(s.stderr.String(), `"msg":"access key created"`) || !strings.Contains(s.stderr.String(), `"operation":"CreateAccessKey"`) {
		t.Fatalf("the debug log does not show the key's creation:\n%s", s.stderr.String())
	}
}

// TestKeysOnTwoNodes makes a key on one node of a PostgreSQL cluster, uses it on the other,
// and revokes it on the first: the second refuses it within api.DefaultKeyCacheTTL.
func TestKeysOnTwoNodes(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 2)
	ctx := context.Background()
	out, err := c.pinpoint(0).CreateApp(ctx, &pinpoint.CreateAppInput{CreateApplicationRequest: &types.CreateApplicationRequest{Name: aws.String("k")}})
	if err != nil {
		t.Fatal(err)
	}
	app := *out.ApplicationResponse.Id
	env := []string{"AWS_ACCESS_KEY_ID=" + clusterKey, "AWS_SECRET_ACCESS_KEY=" + clusterSecret, "AWS_REGION=us-east-1"}
	cmd := runCLI(t, "", env, "keys", "create", "--app", app, "--read-only", "--json", "--endpoint-url", c.nodes[0].URL)
	wantCode(t, cmd, 0)
	var k struct{ AccessKeyId, SecretAccessKey string }
	if err := json.Unmarshal([]byte(cmd.stdout), &k); err != nil {
		t.Fatal(err)
	}
	onSecond := keyClient(c.nodes[1].URL, k.AccessKeyId, k.SecretAccessKey)
	if _, err := onSecond.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: &app}); err != nil {
		t.Fatalf("a key made on one node, used on another: %v", err)
	}
	cmd = runCLI(t, "", env, "keys", "revoke", k.AccessKeyId, "--endpoint-url", c.nodes[0].URL)
	wantCode(t, cmd, 0)
	revoked := time.Now()
	for {
		_, err := onSecond.GetApp(ctx, &pinpoint.GetAppInput{ApplicationId: &app})
		var forbidden *types.ForbiddenException
		if errors.As(err, &forbidden) {
			wantForbidden(t, err, "was revoked at")
			break
		} else if err != nil {
			t.Fatal(err)
		}
		if time.Since(revoked) > api.DefaultKeyCacheTTL+time.Second {
			t.Fatalf("the other node still accepts a revoked key after %v", time.Since(revoked))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestKeysUsageErrors checks the messages of pinfold keys arguments that cannot work, before
// any server is asked.
func TestKeysUsageErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"keys"}, "pinfold: give a keys command: create, list or revoke\n"},
		{[]string{"keys", "rotate"}, `pinfold: unknown keys command "rotate": use create, list or revoke` + "\n"},
		{[]string{"keys", "revoke"}, "pinfold: give one access key ID to revoke (pinfold keys list shows them)\n"},
		{[]string{"keys", "list", "extra"}, `pinfold: pinfold keys list takes no arguments, got "extra"` + "\n"},
		{[]string{"keys", "create", "--app", " "}, `pinfold: invalid value " " for flag -app: must be an app ID` + "\n"},
		{[]string{"keys", "list", "--read-only"}, "pinfold: flag provided but not defined: -read-only\n"},
	} {
		cmd := runCLI(t, t.TempDir(), nil, tc.args...)
		if cmd.code != 1 || !strings.HasSuffix(cmd.stderr, tc.msg) {
			t.Errorf("pinfold %v: exit %d, stderr %q; want 1 and a last line %q", tc.args, cmd.code, cmd.stderr, tc.msg)
		}
	}
}
