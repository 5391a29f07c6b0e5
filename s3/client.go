// Package s3 is Pinfold's object storage: a Client that reads import files from (and writes
// exports to) any S3 API — AWS, MinIO, or Pinfold's own — and the Server that `pinfold serve`
// starts as an embedded S3-compatible endpoint when no external S3 is configured.
//
// Errors from S3 are translated here, once: a missing bucket is a *pinfold.Error ENOTFOUND,
// a refused request is EFORBIDDEN, a missing object wraps os.ErrNotExist and an object that
// changed since it was listed wraps ErrChanged.
package s3

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"

	"github.com/pinfold/pinfold"
)

// ErrChanged is wrapped by the error Open returns when the object's ETag is no longer the one
// it was asked for: the object was overwritten after it was listed.
var ErrChanged = errors.New("object changed since it was listed")

// DefaultRegion is the region a Config without one uses.
const DefaultRegion = "us-east-1"

// Config says how to reach S3.
type Config struct {
	// Endpoint is the S3 API's base URL, e.g. "http://127.0.0.1:9000"; "" resolves AWS's
	// endpoint for Region the usual way.
	Endpoint string
	// Region is the signing region; "" means DefaultRegion.
	Region string
	// PathStyle addresses buckets as http://host/bucket/key instead of http://bucket.host/key,
	// which most self-hosted servers (and the embedded one) need.
	PathStyle bool
	// AccessKeyID and SecretAccessKey are static credentials; both "" means the SDK's
	// default chain (environment, shared profile, instance role, …).
	AccessKeyID     string
	SecretAccessKey string
}

// Validate reports the first problem with c as an EINVALID *pinfold.Error naming the field.
func (c Config) Validate() error {
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return pinfold.Errorf(pinfold.EINVALID, "Endpoint must be an http:// or https:// URL, got %q", c.Endpoint)
		}
	}
	if (c.AccessKeyID == "") != (c.SecretAccessKey == "") {
		return pinfold.Errorf(pinfold.EINVALID, "AccessKeyID and SecretAccessKey must be set together or both left empty")
	}
	return nil
}

// Client reads and writes objects through aws-sdk-go-v2's S3 client and translates its errors.
// It is safe for concurrent use.
type Client struct {
	s3 *awss3.Client
}

// NewClient returns a Client for cfg. It does not contact S3; use HeadBucket to check that a
// bucket is reachable.
func NewClient(ctx context.Context, cfg Config) (*Client, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	region := cfg.Region
	if region == "" {
		region = DefaultRegion
	}
	opts := []func(*config.LoadOptions) error{
		config.WithRegion(region),
		// Recent SDKs add CRC checksums to every upload and validate them on every download;
		// self-hosted servers (MinIO, gofakes3, older Ceph) often reject or lack them.
		config.WithRequestChecksumCalculation(aws.RequestChecksumCalculationWhenRequired),
		config.WithResponseChecksumValidation(aws.ResponseChecksumValidationWhenRequired),
	}
	if cfg.AccessKeyID != "" {
		opts = append(opts, config.WithCredentialsProvider(
			credentials.NewStaticCredentialsProvider(cfg.AccessKeyID, cfg.SecretAccessKey, "")))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load aws config: %w", err)
	}
	client := awss3.NewFromConfig(awsCfg, func(o *awss3.Options) {
		if cfg.Endpoint != "" {
			o.BaseEndpoint = aws.String(cfg.Endpoint)
		}
		o.UsePathStyle = cfg.PathStyle
	})
	return &Client{s3: client}, nil
}

// Object is one object found by List.
type Object struct {
	Bucket string
	Key    string
	// ETag is the entity tag exactly as S3 reports it, quotes included; pass it to Open.
	ETag string
	Size int64
}

// ParseURL splits "s3://bucket/key-or-prefix" into the bucket and the (possibly empty) key or
// prefix. It returns an EINVALID *pinfold.Error naming the problem for anything else.
func ParseURL(u string) (bucket, prefix string, err error) {
	rest, ok := strings.CutPrefix(u, "s3://")
	if !ok {
		return "", "", pinfold.Errorf(pinfold.EINVALID, "S3 URL must start with s3://, got %q", u)
	}
	bucket, prefix, _ = strings.Cut(rest, "/")
	if bucket == "" {
		return "", "", pinfold.Errorf(pinfold.EINVALID, "S3 URL %q has no bucket name", u)
	}
	if err := validateBucketName(bucket); err != nil {
		return "", "", pinfold.Errorf(pinfold.EINVALID, "S3 URL %q: bucket name %q %s", u, bucket, err)
	}
	return bucket, prefix, nil
}

// validateBucketName checks S3's naming rules and says which one name breaks.
func validateBucketName(name string) error {
	if len(name) < 3 || len(name) > 63 {
		return fmt.Errorf("must be 3 to 63 characters long, not %d", len(name))
	}
	for _, c := range name {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("may contain only lowercase letters, digits, dots and hyphens, not %q", c)
		}
	}
	if !isAlnum(name[0]) || !isAlnum(name[len(name)-1]) {
		return errors.New("must start and end with a lowercase letter or a digit")
	}
	return nil
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// List returns every object under prefix, across all pages and subfolders, sorted by key. If
// prefix names an object exactly, List returns only that object. Keys ending in "/" (the empty
// "folder" objects some consoles create) are left out.
//
// A missing bucket is an ENOTFOUND *pinfold.Error, a refused request EFORBIDDEN.
func (c *Client) List(ctx context.Context, bucket, prefix string) ([]Object, error) {
	var objects []Object
	pages := awss3.NewListObjectsV2Paginator(c.s3, &awss3.ListObjectsV2Input{
		Bucket: aws.String(bucket),
		Prefix: aws.String(prefix),
	})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, translate(err, bucket, prefix)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			if strings.HasSuffix(key, "/") {
				continue
			}
			objects = append(objects, Object{
				Bucket: bucket,
				Key:    key,
				ETag:   aws.ToString(o.ETag),
				Size:   aws.ToInt64(o.Size),
			})
		}
	}
	slices.SortFunc(objects, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	if prefix != "" && len(objects) > 0 && objects[0].Key == prefix {
		return objects[:1], nil
	}
	return objects, nil
}

// Open returns a reader for bytes [start, end) of the object, or from start to the end of the
// object when end is -1. If etag is not "", the read fails unless the object still has that
// ETag: the error then wraps ErrChanged. A missing object's error wraps os.ErrNotExist; a
// missing bucket is an ENOTFOUND *pinfold.Error.
func (c *Client) Open(ctx context.Context, bucket, key, etag string, start, end int64) (io.ReadCloser, error) {
	if start < 0 || (end != -1 && end <= start) {
		return nil, fmt.Errorf("open s3://%s/%s: invalid byte range [%d, %d)", bucket, key, start, end)
	}
	in := &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if etag != "" {
		if !strings.HasPrefix(etag, `"`) {
			etag = `"` + etag + `"`
		}
		in.IfMatch = aws.String(etag)
	}
	if end == -1 && start > 0 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", start))
	} else if end != -1 {
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", start, end-1))
	}
	out, err := c.s3.GetObject(ctx, in)
	if err != nil {
		return nil, translate(err, bucket, key)
	}
	return out.Body, nil
}

// Put stores body as the object bucket/key, replacing any object there. body must be seekable:
// the SDK reads it twice (to sign it, then to send it) when the endpoint is plain http.
func (c *Client) Put(ctx context.Context, bucket, key string, body io.ReadSeeker) error {
	_, err := c.s3.PutObject(ctx, &awss3.PutObjectInput{
		Bucket: aws.String(bucket),
		Key:    aws.String(key),
		Body:   body,
	})
	if err != nil {
		return translate(err, bucket, key)
	}
	return nil
}

// HeadBucket checks that bucket exists and that the credentials may use it: ENOTFOUND or
// EFORBIDDEN *pinfold.Error otherwise.
func (c *Client) HeadBucket(ctx context.Context, bucket string) error {
	if _, err := c.s3.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return translate(err, bucket, "")
	}
	return nil
}

// translate turns an SDK error about s3://bucket/key into Pinfold's vocabulary. It uses the
// S3 error code when the response had a body, and the HTTP status for HEAD responses, which
// have none.
func translate(err error, bucket, key string) error {
	code, message := "", ""
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code, message = apiErr.ErrorCode(), apiErr.ErrorMessage()
	}
	status := 0
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	where := "s3://" + bucket + "/" + key

	switch {
	case code == "NoSuchBucket":
		return pinfold.Errorf(pinfold.ENOTFOUND, "bucket %q does not exist", bucket)
	case code == "NoSuchKey":
		return fmt.Errorf("%s: %w", where, os.ErrNotExist)
	case code == "PreconditionFailed" || status == http.StatusPreconditionFailed:
		return fmt.Errorf("%s: %w", where, ErrChanged)
	case code == "AccessDenied" || code == "Forbidden" || code == "InvalidAccessKeyId" ||
		code == "SignatureDoesNotMatch" || status == http.StatusForbidden:
		if message == "" {
			message = "access denied"
		}
		return pinfold.Errorf(pinfold.EFORBIDDEN, "S3 refused access to %s: %s", where, message)
	case status == http.StatusNotFound && key == "":
		return pinfold.Errorf(pinfold.ENOTFOUND, "bucket %q does not exist", bucket)
	case status == http.StatusNotFound:
		return fmt.Errorf("%s: %w", where, os.ErrNotExist)
	}
	return fmt.Errorf("%s: %w", where, err)
}
