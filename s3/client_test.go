package s3_test

import (
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/s3"
	"github.com/pinfold/pinfold/s3/s3test"
)

func TestParseURL(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		url, bucket, prefix string
		wantErr             string // the error message, "" for none
	}{
		{url: "s3://imports/2026-11/", bucket: "imports", prefix: "2026-11/"},
		{url: "s3://imports/2026-11/endpoints file.csv", bucket: "imports", prefix: "2026-11/endpoints file.csv"},
		{url: "s3://imports", bucket: "imports", prefix: ""},
		{url: "s3://imports/", bucket: "imports", prefix: ""},
		{url: "s3://my.bucket-1/a", bucket: "my.bucket-1", prefix: "a"},
		{url: "https://imports/a", wantErr: `S3 URL must start with s3://, got "https://imports/a"`},
		{url: "imports/a", wantErr: `S3 URL must start with s3://, got "imports/a"`},
		{url: "s3:///a", wantErr: `S3 URL "s3:///a" has no bucket name`},
		{url: "s3://ab/a", wantErr: `S3 URL "s3://ab/a": bucket name "ab" must be 3 to 63 characters long, not 2`},
		{url: "s3://" + strings.Repeat("a", 64), wantErr: `S3 URL "s3://` + strings.Repeat("a", 64) + `": bucket name "` + strings.Repeat("a", 64) + `" must be 3 to 63 characters long, not 64`},
		{url: "s3://Imports/a", wantErr: `S3 URL "s3://Imports/a": bucket name "Imports" may contain only lowercase letters, digits, dots and hyphens, not 'I'`},
		{url: "s3://my_bucket/a", wantErr: `S3 URL "s3://my_bucket/a": bucket name "my_bucket" may contain only lowercase letters, digits, dots and hyphens, not '_'`},
		{url: "s3://-imports/a", wantErr: `S3 URL "s3://-imports/a": bucket name "-imports" must start and end with a lowercase letter or a digit`},
		{url: "s3://imports./a", wantErr: `S3 URL "s3://imports./a": bucket name "imports." must start and end with a lowercase letter or a digit`},
	} {
		bucket, prefix, err := s3.ParseURL(tt.url)
		if tt.wantErr != "" {
			if got := pinfold.ErrorCode(err); got != pinfold.EINVALID {
				t.Errorf("ParseURL(%q) error code = %q, want %q (err %v)", tt.url, got, pinfold.EINVALID, err)
			}
			if got := pinfold.ErrorMessage(err); got != tt.wantErr {
				t.Errorf("ParseURL(%q) error message = %q, want %q", tt.url, got, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseURL(%q) error: %v", tt.url, err)
			continue
		}
		if bucket != tt.bucket || prefix != tt.prefix {
			t.Errorf("ParseURL(%q) = %q, %q; want %q, %q", tt.url, bucket, prefix, tt.bucket, tt.prefix)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		cfg     s3.Config
		wantErr string
	}{
		{cfg: s3.Config{}},
		{cfg: s3.Config{Endpoint: "http://127.0.0.1:9000", AccessKeyID: "a", SecretAccessKey: "b"}},
		{cfg: s3.Config{Endpoint: "127.0.0.1:9000"}, wantErr: `Endpoint must be an http:// or https:// URL, got "127.0.0.1:9000"`},
		{cfg: s3.Config{AccessKeyID: "a"}, wantErr: "AccessKeyID and SecretAccessKey must be set together or both left empty"},
	} {
		err := tt.cfg.Validate()
		if got := pinfold.ErrorMessage(err); got != tt.wantErr {
			t.Errorf("%+v.Validate() = %q, want %q", tt.cfg, got, tt.wantErr)
		}
		if err != nil && pinfold.ErrorCode(err) != pinfold.EINVALID {
			t.Errorf("%+v.Validate() code = %q, want %q", tt.cfg, pinfold.ErrorCode(err), pinfold.EINVALID)
		}
	}
}

func TestClientEmbedded(t *testing.T) {
	t.Parallel()
	srv := openServer(t, t.TempDir(), nil)
	c := newClient(t, srv.URL())
	createBucket(t, sdkClient(t, srv.URL()), "imports")
	checkClient(t, c, "imports")
}

func TestClientMoto(t *testing.T) {
	t.Parallel()
	url := s3test.StartMoto(t)
	c := newClient(t, url)
	createBucket(t, sdkClient(t, url), "imports")
	checkClient(t, c, "imports")
}

// checkClient runs the checks every S3 server must pass with Client: bucket exists and is
// empty.
func checkClient(t *testing.T, c *s3.Client, bucket string) {
	ctx := t.Context()
	put := func(key, body string) {
		t.Helper()
		if err := c.Put(ctx, bucket, key, strings.NewReader(body)); err != nil {
			t.Fatalf("Put %s: %v", key, err)
		}
	}
	files := map[string]string{
		"2026-11/a.csv":           "Id,Address\n1,a@example.com\n",
		"2026-11/sub dir/b c.csv": "Id,Address\n2,b@example.com\n3,c@example.com\n",
		"2026-11-old/x.csv":       "Id\n4\n",
		"data.csv":                "0123456789\nabcdefghij\n",
		"data.csv.bak":            "old\n",
	}
	for key, body := range files {
		put(key, body)
	}
	etag := func(body string) string { return fmt.Sprintf(`"%x"`, md5.Sum([]byte(body))) }

	t.Run("List", func(t *testing.T) {
		for _, tt := range []struct {
			prefix string
			keys   []string
		}{
			{"2026-11/", []string{"2026-11/a.csv", "2026-11/sub dir/b c.csv"}},
			{"2026-11", []string{"2026-11-old/x.csv", "2026-11/a.csv", "2026-11/sub dir/b c.csv"}},
			{"2026-11/sub", []string{"2026-11/sub dir/b c.csv"}},
			{"data.csv", []string{"data.csv"}},
			{"data", []string{"data.csv", "data.csv.bak"}},
			{"", []string{"2026-11-old/x.csv", "2026-11/a.csv", "2026-11/sub dir/b c.csv", "data.csv", "data.csv.bak"}},
			{"nothing/", nil},
		} {
			objects, err := c.List(ctx, bucket, tt.prefix)
			if err != nil {
				t.Fatalf("List %q: %v", tt.prefix, err)
			}
			var keys []string
			for _, o := range objects {
				keys = append(keys, o.Key)
				want := s3.Object{Bucket: bucket, Key: o.Key, ETag: etag(files[o.Key]), Size: int64(len(files[o.Key]))}
				if o != want {
					t.Errorf("List %q: object %+v, want %+v", tt.prefix, o, want)
				}
			}
			if got, want := strings.Join(keys, "|"), strings.Join(tt.keys, "|"); got != want {
				t.Errorf("List %q keys = %q, want %q", tt.prefix, got, want)
			}
		}
	})

	t.Run("ListManyKeys", func(t *testing.T) {
		const n = 1100 // more than one page of 1000
		putMany(t, func(key string) error { return c.Put(ctx, bucket, key, strings.NewReader(key)) }, "many/", n)
		objects, err := c.List(ctx, bucket, "many/")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(objects) != n {
			t.Fatalf("List returned %d objects, want %d", len(objects), n)
		}
		for i, o := range objects {
			if want := fmt.Sprintf("many/%04d", i); o.Key != want {
				t.Fatalf("object %d is %q, want %q", i, o.Key, want)
			}
		}
	})

	t.Run("Open", func(t *testing.T) {
		body := files["data.csv"]
		for _, tt := range []struct {
			start, end int64
			want       string
		}{
			{0, -1, body},
			{11, -1, "abcdefghij\n"},
			{11, 21, "abcdefghij"},
			{0, 11, "0123456789\n"},
			{20, 100, "j\n"}, // a range past the end stops at the end
		} {
			if got := readAll(t, c, bucket, "data.csv", etag(body), tt.start, tt.end); got != tt.want {
				t.Errorf("Open [%d, %d) = %q, want %q", tt.start, tt.end, got, tt.want)
			}
		}
		// Without a precondition, and with an ETag given without its quotes.
		if got := readAll(t, c, bucket, "2026-11/sub dir/b c.csv", "", 0, -1); got != files["2026-11/sub dir/b c.csv"] {
			t.Errorf("Open without ETag = %q", got)
		}
		if got := readAll(t, c, bucket, "data.csv", strings.Trim(etag(body), `"`), 0, 10); got != "0123456789" {
			t.Errorf("Open with unquoted ETag = %q", got)
		}
	})

	t.Run("OpenChanged", func(t *testing.T) {
		put("changing.csv", "first\n")
		old := etag("first\n")
		put("changing.csv", "second\n")
		_, err := c.Open(ctx, bucket, "changing.csv", old, 0, -1)
		if !errors.Is(err, s3.ErrChanged) {
			t.Fatalf("Open with old ETag: err = %v, want ErrChanged", err)
		}
		if got := readAll(t, c, bucket, "changing.csv", etag("second\n"), 0, -1); got != "second\n" {
			t.Errorf("Open with new ETag = %q", got)
		}
	})

	t.Run("Missing", func(t *testing.T) {
		if _, err := c.Open(ctx, bucket, "missing.csv", "", 0, -1); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Open missing key: err = %v, want os.ErrNotExist", err)
		}
		const missing = "no-such-bucket"
		wantMessage := `bucket "no-such-bucket" does not exist`
		_, err := c.List(ctx, missing, "")
		if pinfold.ErrorCode(err) != pinfold.ENOTFOUND || pinfold.ErrorMessage(err) != wantMessage {
			t.Errorf("List missing bucket: err = %v, want ENOTFOUND %q", err, wantMessage)
		}
		_, err = c.Open(ctx, missing, "a.csv", "", 0, -1)
		if pinfold.ErrorCode(err) != pinfold.ENOTFOUND || pinfold.ErrorMessage(err) != wantMessage {
			t.Errorf("Open in missing bucket: err = %v, want ENOTFOUND %q", err, wantMessage)
		}
		err = c.HeadBucket(ctx, missing)
		if pinfold.ErrorCode(err) != pinfold.ENOTFOUND || pinfold.ErrorMessage(err) != wantMessage {
			t.Errorf("HeadBucket missing bucket: err = %v, want ENOTFOUND %q", err, wantMessage)
		}
		if err := c.HeadBucket(ctx, bucket); err != nil {
			t.Errorf("HeadBucket %s: %v", bucket, err)
		}
	})
}

// readAll reads bytes [start, end) of bucket/key with Client.Open.
func readAll(t *testing.T, c *s3.Client, bucket, key, etag string, start, end int64) string {
	t.Helper()
	r, err := c.Open(t.Context(), bucket, key, etag, start, end)
	if err != nil {
		t.Fatalf("Open %s [%d, %d): %v", key, start, end, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return string(b)
}

// putMany stores n small objects named prefix + 0000, 0001, … with a few uploads at a time.
func putMany(t *testing.T, put func(key string) error, prefix string, n int) {
	t.Helper()
	keys := make(chan string)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for key := range keys {
				errs <- put(key)
			}
		})
	}
	for i := range n {
		keys <- fmt.Sprintf("%s%04d", prefix, i)
	}
	close(keys)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("put: %v", err)
		}
	}
}

// newClient returns a Client for the S3 endpoint at url.
func newClient(t *testing.T, url string) *s3.Client {
	t.Helper()
	c, err := s3.NewClient(t.Context(), s3.Config{
		Endpoint:        url,
		PathStyle:       true,
		AccessKeyID:     "AKIDPINFOLDTEST",
		SecretAccessKey: "secret",
	})
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	return c
}

// sdkClient returns a plain aws-sdk-go-v2 S3 client for url, configured as a user would, with
// the SDK's default checksum behaviour.
func sdkClient(t *testing.T, url string) *awss3.Client {
	t.Helper()
	cfg, err := config.LoadDefaultConfig(t.Context(),
		config.WithRegion("us-east-1"),
		config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIDPINFOLDTEST", "secret", "")),
	)
	if err != nil {
		t.Fatalf("load aws config: %v", err)
	}
	return awss3.NewFromConfig(cfg, func(o *awss3.Options) {
		o.BaseEndpoint = aws.String(url)
		o.UsePathStyle = true
		o.DisableLogOutputChecksumValidationSkipped = true
	})
}

// createBucket creates bucket with sdk.
func createBucket(t *testing.T, sdk *awss3.Client, bucket string) {
	t.Helper()
	if _, err := sdk.CreateBucket(t.Context(), &awss3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatalf("CreateBucket %s: %v", bucket, err)
	}
}
