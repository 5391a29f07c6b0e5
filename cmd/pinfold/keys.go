package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pinfold/pinfold/api"
)

const keysUsage = `Usage: pinfold keys create [--app ID]... [--read-only] [--json]
       pinfold keys list [--json]
       pinfold keys revoke [--json] KEY_ID

Manages the access keys of a running Pinfold server beyond its root key. A key may be limited
to some apps (--app, once per app; it then cannot create or delete apps) and to reads
(--read-only); the server refuses anything outside its scope with 403 ForbiddenException.

  create   makes a key and prints its secret: the only time the secret is shown
  list     lists the keys, revoked ones too, never their secrets (the root key is not listed)
  revoke   revokes a key; every node refuses it within a second

Only the root key may manage keys: by default the one in the data folder's credentials file.

Flags:
`

// accessKey is an access key as Pinfold's key routes return it.
type accessKey struct {
	AccessKeyID     string   `json:"AccessKeyId"`
	SecretAccessKey string   `json:"SecretAccessKey,omitempty"`
	AppIDs          []string `json:"AppIds"`
	ReadOnly        bool     `json:"ReadOnly"`
	CreationDate    string   `json:"CreationDate"`
	RevokedDate     string   `json:"RevokedDate,omitempty"`
}

const keysPath = "/v1/pinfold/keys"

// runKeys runs pinfold keys create, list or revoke.
func runKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	var cf clientFlags
	var apps []string
	var readOnly, asJSON bool
	command := ""
	if len(args) > 0 {
		command, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("keys "+command, flag.ContinueOnError)
	fs.SetOutput(stderr)
	if command == "create" {
		fs.Func("app", "limit the key to this app (repeat for more apps; default: every app)", func(v string) error {
			if v = strings.TrimSpace(v); v == "" {
				return errors.New("must be an app ID")
			}
			apps = append(apps, v)
			return nil
		})
		fs.BoolVar(&readOnly, "read-only", false, "the key may only read (GET operations)")
	}
	fs.BoolVar(&asJSON, "json", false, "print the server's JSON answer")
	cf.bind(fs, false)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), keysUsage)
		fs.PrintDefaults()
		fmt.Fprint(fs.Output(), "\n"+credentialsHelp)
	}
	switch command {
	case "create", "list", "revoke":
	case "":
		fs.Usage()
		return errors.New("give a keys command: create, list or revoke")
	case "-h", "-help", "--help", "help":
		fs.SetOutput(stdout)
		fs.Usage()
		return nil
	default:
		return fmt.Errorf("unknown keys command %q: use create, list or revoke", command)
	}
	rest, err := parseArgs(fs, args)
	switch {
	case err != nil:
		return err
	case command == "revoke" && len(rest) != 1:
		return errors.New("give one access key ID to revoke (pinfold keys list shows them)")
	case command != "revoke" && len(rest) > 0:
		return fmt.Errorf("pinfold keys %s takes no arguments, got %q", command, rest[0])
	}
	c, err := cf.connect(ctx, getenv)
	if err != nil {
		return err
	}
	switch command {
	case "create":
		return createKey(ctx, c, apps, readOnly, asJSON, stdout)
	case "list":
		return listKeys(ctx, c, asJSON, stdout, stderr)
	}
	return revokeKey(ctx, c, rest[0], asJSON, stdout)
}

// send sends a signed request to a key route and decodes its JSON answer into v; raw is the
// answer as the server sent it.
func (c *client) send(ctx context.Context, method, path string, body []byte, v any) (raw json.RawMessage, err error) {
	resp, err := c.do(ctx, method, path, body)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	raw, err = io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return nil, fmt.Errorf("%s: the server's answer is not the JSON expected: %w", path, err)
	}
	return raw, nil
}

func createKey(ctx context.Context, c *client, apps []string, readOnly, asJSON bool, stdout io.Writer) error {
	body, err := json.Marshal(map[string]any{"AppIds": append([]string{}, apps...), "ReadOnly": readOnly})
	if err != nil {
		return err
	}
	var k accessKey
	raw, err := c.send(ctx, "POST", keysPath, body, &k)
	if err != nil {
		return err
	}
	if asJSON {
		_, err := fmt.Fprintf(stdout, "%s\n", raw)
		return err
	}
	fmt.Fprintf(stdout, "Created access key %s: %s. Its secret is shown this once: keep it now.\n\n", k.AccessKeyID, describeScope(k))
	fmt.Fprintf(stdout, "  aws_access_key_id     = %s\n  aws_secret_access_key = %s\n\n", k.AccessKeyID, k.SecretAccessKey)
	fmt.Fprintf(stdout, "Use it from the AWS CLI, boto3 or an AWS SDK:\n\n"+
		"  export AWS_ACCESS_KEY_ID=%s AWS_SECRET_ACCESS_KEY=%s AWS_DEFAULT_REGION=%s\n"+
		"  aws pinpoint get-apps --endpoint-url %s\n\n"+
		"or keep it in a profile:\n\n"+
		"  aws configure set aws_access_key_id %s --profile NAME\n"+
		"  aws configure set aws_secret_access_key %s --profile NAME\n",
		k.AccessKeyID, k.SecretAccessKey, c.aws.Region, c.endpoint, k.AccessKeyID, k.SecretAccessKey)
	return nil
}

// describeScope says in words what a key may do.
func describeScope(k accessKey) string {
	access := "read and write"
	if k.ReadOnly {
		access = "read-only"
	}
	if len(k.AppIDs) == 0 {
		return access + ", every application"
	}
	return access + ", applications " + strings.Join(k.AppIDs, ", ")
}

func listKeys(ctx context.Context, c *client, asJSON bool, stdout, stderr io.Writer) error {
	var keys []accessKey
	token := ""
	for {
		var page struct {
			Item      []accessKey
			NextToken string
		}
		path := keysPath + "?page-size=1000"
		if token != "" {
			path += "&token=" + url.QueryEscape(token)
		}
		if _, err := c.send(ctx, "GET", path, nil, &page); err != nil {
			return err
		}
		keys = append(keys, page.Item...)
		if token = page.NextToken; token == "" {
			break
		}
	}
	if asJSON {
		out, err := json.MarshalIndent(map[string][]accessKey{"Item": append([]accessKey{}, keys...)}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", out)
		return err
	}
	if len(keys) == 0 {
		fmt.Fprintf(stderr, "no access keys at %s besides the root key (pinfold keys create makes one)\n", c.endpoint)
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ACCESS KEY ID\tACCESS\tAPPS\tCREATED\tREVOKED")
	for _, k := range keys {
		access, apps := "read-write", "all"
		if k.ReadOnly {
			access = "read-only"
		}
		if len(k.AppIDs) > 0 {
			apps = strings.Join(k.AppIDs, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", k.AccessKeyID, access, apps, localTime(k.CreationDate), localTime(k.RevokedDate))
	}
	return tw.Flush()
}

// localTime shows an ISO-8601 date of the API in local time, "-" when there is none.
func localTime(iso string) string {
	t, err := time.Parse(time.RFC3339Nano, iso)
	if err != nil {
		return "-"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func revokeKey(ctx context.Context, c *client, id string, asJSON bool, stdout io.Writer) error {
	var k accessKey
	raw, err := c.send(ctx, "DELETE", keysPath+"/"+url.PathEscape(id), nil, &k)
	if err != nil {
		return err
	}
	if asJSON {
		_, err := fmt.Fprintf(stdout, "%s\n", raw)
		return err
	}
	fmt.Fprintf(stdout, "Revoked access key %s at %s: every node refuses it within %s.\n", k.AccessKeyID, localTime(k.RevokedDate), api.DefaultKeyCacheTTL)
	return nil
}
