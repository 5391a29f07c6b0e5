package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"
	awscreds "github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint"
	"github.com/aws/aws-sdk-go-v2/service/pinpoint/types"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/logging"
)

// Where a client subcommand looks for a server when nothing says otherwise: the addresses
// `pinfold serve` listens on by default.
const (
	defaultEndpointURL   = "http://127.0.0.1:8080"
	defaultS3EndpointURL = "http://127.0.0.1:9000"
	defaultRegion        = "us-east-1"
	pinpointSigningName  = "mobiletargeting"
	emptyPayloadSHA256   = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
)

// clientFlags are the flags every client subcommand (import, jobs, job) shares: where the
// server is and which credentials sign the requests.
type clientFlags struct {
	EndpointURL   string
	S3EndpointURL string
	Data          string
	Region        string
}

// bind registers the flags on fs; withS3 adds --s3-endpoint-url, which only import uses.
func (f *clientFlags) bind(fs *flag.FlagSet, withS3 bool) {
	fs.StringVar(&f.EndpointURL, "endpoint-url", "", "the Pinpoint API of the server (default: $AWS_ENDPOINT_URL_PINPOINT, $AWS_ENDPOINT_URL, "+defaultEndpointURL+")")
	if withS3 {
		fs.StringVar(&f.S3EndpointURL, "s3-endpoint-url", "", "the S3 endpoint local files are uploaded to (default: $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, "+defaultS3EndpointURL+")")
	}
	fs.StringVar(&f.Data, "data", "./pinfold-data", "the server's data folder, for its credentials file")
	fs.StringVar(&f.Region, "region", "", "region to sign for (default: $AWS_REGION, $AWS_DEFAULT_REGION, the AWS profile's region, "+defaultRegion+")")
}

// credentialsHelp explains, for every client subcommand's -h, how the server and the
// credentials are found.
const credentialsHelp = `The server: --endpoint-url, else $AWS_ENDPOINT_URL_PINPOINT, else $AWS_ENDPOINT_URL, else
` + defaultEndpointURL + ` (S3 uploads: --s3-endpoint-url, $AWS_ENDPOINT_URL_S3, $AWS_ENDPOINT_URL, ` + defaultS3EndpointURL + `).

Credentials, first match wins:
  1. $AWS_ACCESS_KEY_ID or $AWS_PROFILE is set: the standard AWS chain, as the AWS CLI uses it;
  2. <--data>/credentials exists (written by "pinfold serve"): its [pinfold] profile, and no
     AWS profile is read (the region is --region, $AWS_REGION, $AWS_DEFAULT_REGION or us-east-1);
  3. otherwise the standard AWS chain (default profile, SSO, instance role, ...).
Next to a "pinfold serve" with default settings, nothing needs configuring.
`

// client talks to one Pinfold server: aws-sdk-go-v2's Pinpoint and S3 clients for Pinpoint's
// operations, and SigV4-signed plain requests for Pinfold's own routes.
type client struct {
	pinpoint    *pinpoint.Client
	s3          *awss3.Client
	aws         aws.Config
	endpoint    string // the Pinpoint API, without a trailing slash
	s3Endpoint  string
	credentials string // where the credentials came from, for error messages
	http        *http.Client
}

// connect resolves the endpoints, the region and the credentials and returns a client. It
// sends no request.
func (f *clientFlags) connect(ctx context.Context, getenv func(string) string) (*client, error) {
	endpoint, err := endpointURL("--endpoint-url", f.EndpointURL, getenv("AWS_ENDPOINT_URL_PINPOINT"), getenv("AWS_ENDPOINT_URL"), defaultEndpointURL)
	if err != nil {
		return nil, err
	}
	s3Endpoint, err := endpointURL("--s3-endpoint-url", f.S3EndpointURL, getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL"), defaultS3EndpointURL)
	if err != nil {
		return nil, err
	}
	cfg, source, err := f.awsConfig(ctx, getenv)
	if err != nil {
		return nil, err
	}
	c := &client{aws: cfg, endpoint: endpoint, s3Endpoint: s3Endpoint, credentials: source, http: &http.Client{}}
	c.pinpoint = pinpoint.NewFromConfig(cfg, func(o *pinpoint.Options) { o.BaseEndpoint = aws.String(endpoint) })
	c.s3 = awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.BaseEndpoint, o.UsePathStyle = aws.String(s3Endpoint), true
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
	})
	return c, nil
}

// awsConfig loads the AWS configuration with the credentials credentialsHelp's precedence
// picks, and says where they came from.
func (f *clientFlags) awsConfig(ctx context.Context, getenv func(string) string) (aws.Config, string, error) {
	region := firstNonEmpty(f.Region, getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"))
	// The SDK's own warnings (IMDS fallbacks) would interleave with the progress; errors say it all.
	opts := []func(*config.LoadOptions) error{config.WithLogger(logging.Nop{})}
	source := ""
	if useDataCredentials(getenv) {
		path := filepath.Join(f.Data, "credentials")
		creds, err := readCredentials(path)
		switch {
		case err == nil:
			// The server's own key: the AWS profiles (and their regions) are not in play.
			opts = append(opts, config.WithCredentialsProvider(awscreds.NewStaticCredentialsProvider(creds.AccessKeyID, creds.SecretAccessKey, "")),
				config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}))
			source = path + " (profile " + credentialsProfile + ")"
			region = firstNonEmpty(region, defaultRegion)
		case !errors.Is(err, fs.ErrNotExist):
			return aws.Config{}, "", fmt.Errorf("--data: %w", err)
		}
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, "", fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = defaultRegion
	}
	if source != "" {
		return cfg, source, nil
	}
	switch source = "the standard AWS credential chain"; {
	case getenv("AWS_ACCESS_KEY_ID") != "":
		source = "$AWS_ACCESS_KEY_ID"
	case getenv("AWS_PROFILE") != "":
		source = "AWS profile " + getenv("AWS_PROFILE")
	}
	err = errors.New("no credentials provider")
	if cfg.Credentials != nil {
		_, err = cfg.Credentials.Retrieve(ctx)
	}
	switch {
	case err != nil && useDataCredentials(getenv):
		return cfg, "", fmt.Errorf("%w (%v)", noCredentials(f.Data), err)
	case err != nil:
		return cfg, "", fmt.Errorf("credentials from %s: %w", source, err)
	}
	return cfg, source, nil
}

// useDataCredentials reports whether the data folder's credentials file may be used: only
// when the environment names no credentials of its own (precedence in credentialsHelp).
func useDataCredentials(getenv func(string) string) bool {
	return getenv("AWS_ACCESS_KEY_ID") == "" && getenv("AWS_PROFILE") == ""
}

func noCredentials(data string) error {
	return fmt.Errorf("no credentials found: run next to the server's data folder (--data, now %q, holds the credentials file "+
		"\"pinfold serve\" writes), or set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY", data)
}

// endpointURL returns the first non-empty candidate, checked to be an http(s) URL.
func endpointURL(flagName string, candidates ...string) (string, error) {
	raw := firstNonEmpty(candidates...)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: must be an http:// or https:// URL such as %s, got %q", flagName, defaultEndpointURL, raw)
	}
	return strings.TrimSuffix(raw, "/"), nil
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// explain turns an error of a call to the server into one line that says what to do.
func (c *client) explain(err error) error {
	var apiErr smithy.APIError
	var opErr *smithy.OperationError
	op := ""
	if errors.As(err, &opErr) {
		op = opErr.OperationName + ": "
	}
	switch {
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, syscall.ECONNREFUSED) && errors.As(err, &opErr) && opErr.ServiceID == "S3":
		return fmt.Errorf("%snothing answers at %s: is \"pinfold serve\" running there? (set --s3-endpoint-url or $AWS_ENDPOINT_URL_S3)", op, c.s3Endpoint)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("%snothing answers at %s: is \"pinfold serve\" running there? (set --endpoint-url or $AWS_ENDPOINT_URL_PINPOINT)", op, c.endpoint)
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "ForbiddenException":
		return fmt.Errorf("%s%s: %s (signed with credentials from %s)", op, apiErr.ErrorCode(), apiErr.ErrorMessage(), c.credentials)
	case errors.As(err, &apiErr):
		return fmt.Errorf("%s%s: %s", op, apiErr.ErrorCode(), apiErr.ErrorMessage())
	}
	return err
}

// get sends a SigV4-signed GET of a path of the Pinpoint API (for Pinfold's own routes,
// which the SDK does not know) and returns the response of a 2xx status; any other status is
// returned as a smithy.GenericAPIError built from Pinpoint's error body. The caller closes
// the body.
func (c *client) get(ctx context.Context, path string) (*http.Response, error) {
	return c.do(ctx, http.MethodGet, path, nil)
}

// do is get for any method, with a JSON body when body is not nil.
func (c *client) do(ctx context.Context, method, path string, body []byte) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.endpoint+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	payloadHash := emptyPayloadSHA256
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
		sum := sha256.Sum256(body)
		payloadHash = hex.EncodeToString(sum[:])
	}
	creds, err := c.aws.Credentials.Retrieve(ctx)
	if err != nil {
		return nil, fmt.Errorf("credentials: %w", err)
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, payloadHash, pinpointSigningName, c.aws.Region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign request: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.explain(err)
	}
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	defer resp.Body.Close()
	var msg struct{ Message string }
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	json.Unmarshal(data, &msg)
	code := resp.Header.Get("X-Amzn-ErrorType")
	if code == "" {
		code = resp.Status
	}
	return nil, c.explain(&smithy.GenericAPIError{Code: code, Message: msg.Message})
}

// getJSON returns the body of a signed GET of a Pinpoint API path, as the server sent it.
func (c *client) getJSON(ctx context.Context, path string) (json.RawMessage, error) {
	resp, err := c.get(ctx, path)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("%s: the server's answer is not JSON", path)
	}
	return data, nil
}

// jobPath is the API path of an import job.
func jobPath(appID, jobID string) string {
	return "/v1/apps/" + url.PathEscape(appID) + "/jobs/import/" + url.PathEscape(jobID)
}

// apps returns every app of the server.
func (c *client) apps(ctx context.Context) ([]types.ApplicationResponse, error) {
	var apps []types.ApplicationResponse
	var token *string
	for {
		out, err := c.pinpoint.GetApps(ctx, &pinpoint.GetAppsInput{PageSize: aws.String("1000"), Token: token})
		if err != nil {
			return nil, c.explain(err)
		}
		apps = append(apps, out.ApplicationsResponse.Item...)
		if token = out.ApplicationsResponse.NextToken; aws.ToString(token) == "" {
			return apps, nil
		}
	}
}

// findImportJob returns an import job; with appID empty it looks for the job in every app.
func (c *client) findImportJob(ctx context.Context, appID, jobID string) (*types.ImportJobResponse, error) {
	if appID != "" {
		out, err := c.pinpoint.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: &appID, JobId: &jobID})
		if err != nil {
			return nil, c.explain(err)
		}
		return out.ImportJobResponse, nil
	}
	apps, err := c.apps(ctx)
	if err != nil {
		return nil, err
	}
	for _, app := range apps {
		out, err := c.pinpoint.GetImportJob(ctx, &pinpoint.GetImportJobInput{ApplicationId: app.Id, JobId: &jobID})
		var notFound *types.NotFoundException
		switch {
		case err == nil:
			return out.ImportJobResponse, nil
		case !errors.As(err, &notFound):
			return nil, c.explain(err)
		}
	}
	return nil, fmt.Errorf("no import job %s in any of the %d apps at %s", jobID, len(apps), c.endpoint)
}

// parseArgs parses flags that may come before, between or after the positional arguments
// ("pinfold import data.csv --app X" as well as "pinfold import --app X data.csv"), and
// returns the positional ones. After "--" every argument is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if n := len(args) - len(rest); n > 0 && args[n-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}
