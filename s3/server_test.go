package s3_test

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"go.uber.org/goleak"

	"github.com/pinfold/pinfold"
	"github.com/pinfold/pinfold/s3"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// openServer starts an embedded endpoint on a free loopback port, stopped in t.Cleanup.
func openServer(t *testing.T, dir string, authenticate func(*http.Request) error) *s3.Server {
	t.Helper()
	srv := &s3.Server{
		Addr:         "127.0.0.1:0",
		Dir:          dir,
		Logger:       slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn})),
		Authenticate: authenticate,
	}
	if err := srv.Open(); err != nil {
		t.Fatalf("open server: %v", err)
	}
	t.Cleanup(func() {
		if err := srv.Close(); err != nil {
			t.Errorf("close server: %v", err)
		}
	})
	return srv
}

// quotedMD5 is the ETag S3 gives an object with body b.
func quotedMD5(b []byte) string { return fmt.Sprintf(`"%x"`, md5.Sum(b)) }

// apiError returns the S3 error code and HTTP status of err, failing if err is nil.
func apiError(t *testing.T, err error) (code string, status int) {
	t.Helper()
	if err == nil {
		t.Fatal("got no error")
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		code = apiErr.ErrorCode()
	}
	var respErr *awshttp.ResponseError
	if errors.As(err, &respErr) {
		status = respErr.HTTPStatusCode()
	}
	return code, status
}

// TestServerSDK drives the endpoint with a stock aws-sdk-go-v2 client.
func TestServerSDK(t *testing.T) {
	t.Parallel()
	srv := openServer(t, t.TempDir(), nil)
	sdk := sdkClient(t, srv.URL())
	ctx := t.Context()
	const bucket = "pinfold-test"
	createBucket(t, sdk, bucket)

	files := map[string][]byte{
		"a.csv":                                  []byte("Id,Address\n1,a@example.com\n"),
		"folder/b.csv":                           []byte("Id\n2\n"),
		"folder/sub folder/file with spaces.csv": []byte("0123456789abcdef"),
	}
	for key, body := range files {
		out, err := sdk.PutObject(ctx, &awss3.PutObjectInput{
			Bucket:   aws.String(bucket),
			Key:      aws.String(key),
			Body:     bytes.NewReader(body),
			Metadata: map[string]string{"source": "crm"},
		})
		if err != nil {
			t.Fatalf("PutObject %s: %v", key, err)
		}
		if got, want := aws.ToString(out.ETag), quotedMD5(body); got != want {
			t.Errorf("PutObject %s ETag = %s, want %s", key, got, want)
		}
	}
	const key = "folder/sub folder/file with spaces.csv"
	etag := quotedMD5(files[key])

	t.Run("HeadObject", func(t *testing.T) {
		out, err := sdk.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("HeadObject: %v", err)
		}
		if got := aws.ToString(out.ETag); got != etag {
			t.Errorf("ETag = %s, want %s", got, etag)
		}
		if got := aws.ToInt64(out.ContentLength); got != 16 {
			t.Errorf("ContentLength = %d, want 16", got)
		}
		if got := out.Metadata["source"]; got != "crm" {
			t.Errorf("Metadata[source] = %q, want crm", got)
		}
	})

	t.Run("GetObjectRange", func(t *testing.T) {
		out, err := sdk.GetObject(ctx, &awss3.GetObjectInput{
			Bucket: aws.String(bucket), Key: aws.String(key), Range: aws.String("bytes=2-5"), IfMatch: aws.String(etag),
		})
		if err != nil {
			t.Fatalf("GetObject: %v", err)
		}
		defer out.Body.Close()
		body, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		if string(body) != "2345" {
			t.Errorf("body = %q, want 2345", body)
		}
		if got := aws.ToString(out.ContentRange); got != "bytes 2-5/16" {
			t.Errorf("ContentRange = %q, want bytes 2-5/16", got)
		}
		if got := aws.ToString(out.ETag); got != etag {
			t.Errorf("ETag = %s, want %s", got, etag)
		}
	})

	t.Run("IfMatch", func(t *testing.T) {
		wrong := quotedMD5([]byte("something else"))
		_, err := sdk.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), IfMatch: aws.String(wrong)})
		if code, status := apiError(t, err); code != "PreconditionFailed" || status != http.StatusPreconditionFailed {
			t.Errorf("GetObject with wrong If-Match: code %q status %d, want PreconditionFailed 412", code, status)
		}
		_, err = sdk.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), IfMatch: aws.String(wrong)})
		if _, status := apiError(t, err); status != http.StatusPreconditionFailed {
			t.Errorf("HeadObject with wrong If-Match: status %d, want 412", status)
		}
		if _, err := sdk.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), IfMatch: aws.String(etag)}); err != nil {
			t.Errorf("HeadObject with right If-Match: %v", err)
		}
	})

	t.Run("ListDelimiter", func(t *testing.T) {
		out, err := sdk.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{
			Bucket: aws.String(bucket), Prefix: aws.String("folder/"), Delimiter: aws.String("/"),
		})
		if err != nil {
			t.Fatalf("ListObjectsV2: %v", err)
		}
		if len(out.Contents) != 1 || aws.ToString(out.Contents[0].Key) != "folder/b.csv" {
			t.Errorf("Contents = %v, want folder/b.csv", keysOf(out.Contents))
		}
		if len(out.CommonPrefixes) != 1 || aws.ToString(out.CommonPrefixes[0].Prefix) != "folder/sub folder/" {
			t.Errorf("CommonPrefixes = %d, want [folder/sub folder/]", len(out.CommonPrefixes))
		}
	})

	t.Run("ListPages", func(t *testing.T) {
		pages := awss3.NewListObjectsV2Paginator(sdk, &awss3.ListObjectsV2Input{Bucket: aws.String(bucket), MaxKeys: aws.Int32(1)})
		var keys []string
		n := 0
		for pages.HasMorePages() {
			page, err := pages.NextPage(ctx)
			if err != nil {
				t.Fatalf("ListObjectsV2: %v", err)
			}
			n++
			keys = append(keys, keysOf(page.Contents)...)
			for _, o := range page.Contents {
				if got, want := aws.ToString(o.ETag), quotedMD5(files[aws.ToString(o.Key)]); got != want {
					t.Errorf("%s ETag = %s, want %s", aws.ToString(o.Key), got, want)
				}
			}
		}
		want := []string{"a.csv", "folder/b.csv", key}
		if !slices.Equal(keys, want) || n != 3 {
			t.Errorf("listed %q in %d pages, want %q in 3", keys, n, want)
		}
	})

	t.Run("StoredHeaders", func(t *testing.T) {
		// The PUT's signing headers must not be stored and sent back to readers.
		resp, err := http.Get(srv.URL() + "/" + bucket + "/a.csv")
		if err != nil {
			t.Fatalf("GET: %v", err)
		}
		resp.Body.Close()
		for _, h := range []string{"X-Amz-Content-Sha256", "X-Amz-Date", "Authorization", "X-Amz-Decoded-Content-Length"} {
			if v := resp.Header.Get(h); v != "" {
				t.Errorf("GET sent back %s: %s", h, v)
			}
		}
		if got := resp.Header.Get("X-Amz-Meta-Source"); got != "crm" {
			t.Errorf("X-Amz-Meta-Source = %q, want crm", got)
		}
	})

	t.Run("Delete", func(t *testing.T) {
		if _, err := sdk.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String("a.csv")}); err != nil {
			t.Fatalf("DeleteObject: %v", err)
		}
		_, err := sdk.HeadObject(ctx, &awss3.HeadObjectInput{Bucket: aws.String(bucket), Key: aws.String("a.csv")})
		var notFound *types.NotFound
		if !errors.As(err, &notFound) {
			t.Errorf("HeadObject after delete: %v, want NotFound", err)
		}
		_, err = sdk.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String("a.csv")})
		var noSuchKey *types.NoSuchKey
		if !errors.As(err, &noSuchKey) {
			t.Errorf("GetObject after delete: %v, want NoSuchKey", err)
		}
	})
}

func keysOf(objects []types.Object) []string {
	var keys []string
	for _, o := range objects {
		keys = append(keys, aws.ToString(o.Key))
	}
	return keys
}

// TestServerLargeObjects stores objects over 5 MB, in one PUT and in a multipart upload.
func TestServerLargeObjects(t *testing.T) {
	t.Parallel()
	srv := openServer(t, t.TempDir(), nil)
	sdk := sdkClient(t, srv.URL())
	c := newClient(t, srv.URL())
	ctx := t.Context()
	const bucket = "large"
	createBucket(t, sdk, bucket)

	big := make([]byte, 6<<20+123)
	for i := range big {
		big[i] = byte('a' + i%26)
	}

	t.Run("Put", func(t *testing.T) {
		if err := c.Put(ctx, bucket, "put.csv", bytes.NewReader(big)); err != nil {
			t.Fatalf("Put: %v", err)
		}
		objects, err := c.List(ctx, bucket, "put.csv")
		if err != nil {
			t.Fatalf("List: %v", err)
		}
		if len(objects) != 1 || objects[0].Size != int64(len(big)) || objects[0].ETag != quotedMD5(big) {
			t.Fatalf("List = %+v, want one object of %d bytes, ETag %s", objects, len(big), quotedMD5(big))
		}
		start, end := int64(len(big)-100), int64(len(big)-10)
		if got := readAll(t, c, bucket, "put.csv", objects[0].ETag, start, end); got != string(big[start:end]) {
			t.Errorf("range [%d, %d) = %q, want %q", start, end, got, big[start:end])
		}
	})

	t.Run("Multipart", func(t *testing.T) {
		const key = "2026-11/multi part.csv"
		created, err := sdk.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		cut := 5 << 20
		var parts []types.CompletedPart
		for i, body := range [][]byte{big[:cut], big[cut:]} {
			out, err := sdk.UploadPart(ctx, &awss3.UploadPartInput{
				Bucket: aws.String(bucket), Key: aws.String(key), UploadId: created.UploadId,
				PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body),
			})
			if err != nil {
				t.Fatalf("UploadPart %d: %v", i+1, err)
			}
			parts = append(parts, types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(int32(i + 1))})
		}
		listed, err := sdk.ListParts(ctx, &awss3.ListPartsInput{Bucket: aws.String(bucket), Key: aws.String(key), UploadId: created.UploadId})
		if err != nil {
			t.Fatalf("ListParts: %v", err)
		}
		if len(listed.Parts) != 2 || aws.ToInt64(listed.Parts[0].Size) != int64(cut) {
			t.Errorf("ListParts = %d parts, want 2 with the first of %d bytes", len(listed.Parts), cut)
		}
		done, err := sdk.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: created.UploadId,
			MultipartUpload: &types.CompletedMultipartUpload{Parts: parts},
		})
		if err != nil {
			t.Fatalf("CompleteMultipartUpload: %v", err)
		}
		if got := aws.ToString(done.ETag); got != quotedMD5(big) {
			t.Errorf("CompleteMultipartUpload ETag = %s, want %s", got, quotedMD5(big))
		}
		// Across the boundary between the parts.
		if got := readAll(t, c, bucket, key, quotedMD5(big), int64(cut-5), int64(cut+5)); got != string(big[cut-5:cut+5]) {
			t.Errorf("range across parts = %q, want %q", got, big[cut-5:cut+5])
		}
		if got := readAll(t, c, bucket, key, "", 0, -1); got != string(big) {
			t.Errorf("whole object differs from what was uploaded (%d bytes, want %d)", len(got), len(big))
		}
		uploads, err := sdk.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		if len(uploads.Uploads) != 0 {
			t.Errorf("%d uploads still in progress, want 0", len(uploads.Uploads))
		}
	})

	t.Run("AbortMultipart", func(t *testing.T) {
		created, err := sdk.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("aborted.csv")})
		if err != nil {
			t.Fatalf("CreateMultipartUpload: %v", err)
		}
		uploads, err := sdk.ListMultipartUploads(ctx, &awss3.ListMultipartUploadsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatalf("ListMultipartUploads: %v", err)
		}
		if len(uploads.Uploads) != 1 || aws.ToString(uploads.Uploads[0].Key) != "aborted.csv" {
			t.Fatalf("ListMultipartUploads = %d uploads, want aborted.csv", len(uploads.Uploads))
		}
		if _, err := sdk.AbortMultipartUpload(ctx, &awss3.AbortMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String("aborted.csv"), UploadId: created.UploadId}); err != nil {
			t.Fatalf("AbortMultipartUpload: %v", err)
		}
		_, err = sdk.UploadPart(ctx, &awss3.UploadPartInput{
			Bucket: aws.String(bucket), Key: aws.String("aborted.csv"), UploadId: created.UploadId,
			PartNumber: aws.Int32(1), Body: bytes.NewReader([]byte("x")),
		})
		if code, _ := apiError(t, err); code != "NoSuchUpload" {
			t.Errorf("UploadPart after abort: code %q, want NoSuchUpload", code)
		}
	})
}

// TestServerRestart reads objects written before the server was restarted on the same folder.
func TestServerRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := openServer(t, dir, nil)
	c := newClient(t, srv.URL())
	ctx := t.Context()
	body := "Id,Address\n1,a@example.com\n"
	if err := c.Put(ctx, "imports", "2026-11/a b.csv", strings.NewReader(body)); err != nil {
		t.Fatalf("Put: %v", err)
	}
	before, err := c.List(ctx, "imports", "2026-11/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if err := srv.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	srv = openServer(t, dir, nil)
	c = newClient(t, srv.URL())
	after, err := c.List(ctx, "imports", "2026-11/")
	if err != nil {
		t.Fatalf("List after restart: %v", err)
	}
	if !slices.Equal(after, before) {
		t.Fatalf("List after restart = %+v, want %+v", after, before)
	}
	if got := readAll(t, c, "imports", "2026-11/a b.csv", before[0].ETag, 11, -1); got != body[11:] {
		t.Errorf("read after restart = %q, want %q", got, body[11:])
	}
}

// deniedError is an error carrying an S3 error code, as the SigV4 verifier's errors will.
type deniedError struct{ code, message string }

func (e deniedError) Error() string     { return e.message }
func (e deniedError) ErrorCode() string { return e.code }

func TestServerAuthenticate(t *testing.T) {
	t.Parallel()
	srv := openServer(t, t.TempDir(), func(r *http.Request) error {
		switch {
		case strings.HasPrefix(r.URL.Path, "/secret"):
			return pinfold.Errorf(pinfold.EFORBIDDEN, "key AKIDPINFOLDTEST may not use bucket secret")
		case strings.HasPrefix(r.URL.Path, "/badsig"):
			return deniedError{"SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."}
		}
		return nil
	})
	sdk := sdkClient(t, srv.URL())
	c := newClient(t, srv.URL())
	ctx := t.Context()

	_, err := sdk.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("secret")})
	if code, status := apiError(t, err); code != "AccessDenied" || status != http.StatusForbidden {
		t.Errorf("ListObjectsV2 secret: code %q status %d, want AccessDenied 403", code, status)
	}
	_, err = sdk.ListObjectsV2(ctx, &awss3.ListObjectsV2Input{Bucket: aws.String("badsig")})
	if code, status := apiError(t, err); code != "SignatureDoesNotMatch" || status != http.StatusForbidden {
		t.Errorf("ListObjectsV2 badsig: code %q status %d, want SignatureDoesNotMatch 403", code, status)
	}

	_, err = c.List(ctx, "secret", "2026-11/")
	want := "S3 refused access to s3://secret/2026-11/: key AKIDPINFOLDTEST may not use bucket secret"
	if pinfold.ErrorCode(err) != pinfold.EFORBIDDEN || pinfold.ErrorMessage(err) != want {
		t.Errorf("List secret: err = %v, want EFORBIDDEN %q", err, want)
	}
	if err := c.HeadBucket(ctx, "secret"); pinfold.ErrorCode(err) != pinfold.EFORBIDDEN {
		t.Errorf("HeadBucket secret: err = %v, want EFORBIDDEN", err)
	}
	if err := c.Put(ctx, "open", "a.csv", strings.NewReader("a")); err != nil {
		t.Errorf("Put into an allowed bucket: %v", err)
	}
}

// TestServerBuckets checks that uploads create their bucket and reads do not.
func TestServerBuckets(t *testing.T) {
	t.Parallel()
	srv := openServer(t, t.TempDir(), nil)
	sdk := sdkClient(t, srv.URL())
	ctx := t.Context()

	_, err := sdk.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("never"), Key: aws.String("a.csv")})
	if code, _ := apiError(t, err); code != "NoSuchBucket" {
		t.Errorf("GetObject in a missing bucket: code %q, want NoSuchBucket", code)
	}
	if _, err := sdk.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("fresh"), Key: aws.String("dir/a.csv"), Body: strings.NewReader("a")}); err != nil {
		t.Fatalf("PutObject into a new bucket: %v", err)
	}
	out, err := sdk.ListBuckets(ctx, &awss3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets: %v", err)
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, aws.ToString(b.Name))
	}
	if !slices.Equal(names, []string{"fresh"}) {
		t.Errorf("buckets = %q, want [fresh]", names)
	}
	_, err = sdk.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String("Bad_Name"), Key: aws.String("a.csv"), Body: strings.NewReader("a")})
	if code, status := apiError(t, err); code != "InvalidBucketName" || status != http.StatusBadRequest {
		t.Errorf("PutObject into Bad_Name: code %q status %d, want InvalidBucketName 400", code, status)
	}

	_, err = sdk.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String("fresh")})
	if code, status := apiError(t, err); code != "BucketNotEmpty" || status != http.StatusConflict {
		t.Errorf("DeleteBucket with an object: code %q status %d, want BucketNotEmpty 409", code, status)
	}
	if _, err := sdk.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("fresh"), Key: aws.String("dir/a.csv")}); err != nil {
		t.Fatalf("DeleteObject: %v", err)
	}
	if _, err := sdk.DeleteBucket(ctx, &awss3.DeleteBucketInput{Bucket: aws.String("fresh")}); err != nil {
		t.Errorf("DeleteBucket once empty: %v", err)
	}
	if _, err := sdk.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: aws.String("fresh")}); err == nil {
		t.Errorf("HeadBucket after DeleteBucket found the bucket")
	}
}

// TestServerKeys checks the keys a file system cannot hold: they are refused, never written
// outside their bucket.
func TestServerKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := openServer(t, dir, nil)
	sdk := sdkClient(t, srv.URL())
	ctx := t.Context()
	put := func(bucket, key string) error {
		_, err := sdk.PutObject(ctx, &awss3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(key)})
		return err
	}
	if err := put("other", "secret.csv"); err != nil {
		t.Fatalf("PutObject: %v", err)
	}

	for _, key := range []string{"../other/secret.csv", "a/../../other/x", "folder/", "a//b", "./a"} {
		if code, status := apiError(t, put("imports", key)); code != "InvalidArgument" || status != http.StatusBadRequest {
			t.Errorf("PutObject %q: code %q status %d, want InvalidArgument 400", key, code, status)
		}
	}
	_, err := sdk.GetObject(ctx, &awss3.GetObjectInput{Bucket: aws.String("imports"), Key: aws.String("../other/secret.csv")})
	if code, _ := apiError(t, err); code != "NoSuchKey" {
		t.Errorf("GetObject ../other/secret.csv: code %q, want NoSuchKey", code)
	}

	// A key below another object, or where a folder of objects is.
	if err := put("imports", "a"); err != nil {
		t.Fatalf("PutObject a: %v", err)
	}
	if code, _ := apiError(t, put("imports", "a/b")); code != "InvalidArgument" {
		t.Errorf("PutObject a/b below object a: code %q, want InvalidArgument", code)
	}
	if err := put("imports", "c/d"); err != nil {
		t.Fatalf("PutObject c/d: %v", err)
	}
	if code, _ := apiError(t, put("imports", "c")); code != "InvalidArgument" {
		t.Errorf("PutObject c over folder c/: code %q, want InvalidArgument", code)
	}
	// Once c/d is gone, c can be stored.
	if _, err := sdk.DeleteObject(ctx, &awss3.DeleteObjectInput{Bucket: aws.String("imports"), Key: aws.String("c/d")}); err != nil {
		t.Fatalf("DeleteObject c/d: %v", err)
	}
	if err := put("imports", "c"); err != nil {
		t.Errorf("PutObject c after c/d was deleted: %v", err)
	}

	if _, err := os.Stat(filepath.Join(dir, "buckets", "other", "x")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file was written outside its bucket: %v", err)
	}
}

// TestServerChunked stores an aws-chunked upload with a trailing checksum, as SDKs stream
// uploads, and reads back the data without the framing.
func TestServerChunked(t *testing.T) {
	t.Parallel()
	srv := openServer(t, t.TempDir(), nil)
	body := "0123456789abcdefghij"
	framed := "a;chunk-signature=0000\r\n0123456789\r\n" +
		"a\r\nabcdefghij\r\n" +
		"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n"
	req, err := http.NewRequest(http.MethodPut, srv.URL()+"/imports/chunked.csv", strings.NewReader(framed))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Amz-Content-Sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(body)))
	req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("PUT status %d, want 200", resp.StatusCode)
	}
	if got, want := resp.Header.Get("ETag"), quotedMD5([]byte(body)); got != want {
		t.Errorf("ETag = %s, want %s", got, want)
	}
	c := newClient(t, srv.URL())
	if got := readAll(t, c, "imports", "chunked.csv", quotedMD5([]byte(body)), 0, -1); got != body {
		t.Errorf("stored %q, want %q", got, body)
	}
}

// TestServerAWSCLI runs the AWS CLI commands a user runs (DESIGN.md §1) against the endpoint.
func TestServerAWSCLI(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("aws"); err != nil {
		t.Skip("the aws command is not installed")
	}
	srv := openServer(t, t.TempDir(), nil)
	home := t.TempDir() // the CLI's config and the files it copies
	configFile := filepath.Join(home, "config")
	if err := os.WriteFile(configFile, []byte("[default]\nregion = us-east-1\ns3 =\n    addressing_style = path\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	aws := func(args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(t.Context(), "aws", append(args, "--endpoint-url", srv.URL())...)
		cmd.Env = append(os.Environ(),
			"AWS_ACCESS_KEY_ID=AKIDPINFOLDTEST", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_CONFIG_FILE="+configFile, "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(home, "credentials"),
			"AWS_PROFILE=default")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	big := make([]byte, 9<<20) // above the CLI's 8 MB multipart threshold
	for i := range big {
		big[i] = byte('0' + i%10)
	}
	file := filepath.Join(home, "endpoints.csv")
	if err := os.WriteFile(file, big, 0o600); err != nil {
		t.Fatal(err)
	}

	aws("s3", "mb", "s3://made")
	aws("s3", "cp", file, "s3://imports/2026-11/")
	aws("s3", "cp", file, "s3://made/2026-11/endpoints copy.csv")
	listing := aws("s3", "ls", "--recursive", "s3://imports/")
	if !strings.Contains(listing, "9437184 2026-11/endpoints.csv") {
		t.Errorf("aws s3 ls output lacks the uploaded file:\n%s", listing)
	}
	downloaded := filepath.Join(home, "downloaded.csv")
	aws("s3", "cp", "s3://made/2026-11/endpoints copy.csv", downloaded)
	got, err := os.ReadFile(downloaded)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, big) {
		t.Errorf("downloaded file differs from the uploaded one (%d bytes, want %d)", len(got), len(big))
	}
}
