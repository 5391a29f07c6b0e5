package s3

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3afero"
)

// backend is the gofakes3 backend of the embedded endpoint: s3afero's MultiBucketBackend,
// which keeps each object as a file under dir/buckets/BUCKET/KEY and its ETag and headers
// under dir/metadata, with these changes:
//
//   - keys a file system cannot hold safely ("..", empty path segments, a trailing "/", a key
//     below another key) are refused, so no request can reach outside its bucket;
//   - ListBucket is ours: sorted by key, paged (s3afero returns every key in one page, in
//     file system order) and empty rather than NoSuchBucket for a prefix with no folder;
//   - PutObject reads the whole body into a temporary file first, so a broken upload leaves
//     the old object as it was;
//   - only the headers S3 keeps (Content-Type, x-amz-meta-*, …) are stored with an object, not
//     every x-amz-* header of the PUT request (which gofakes3 would echo back on GET);
//   - multipart uploads keep their parts on disk instead of in memory (see uploads).
type backend struct {
	*s3afero.MultiBucketBackend
	dir     string
	uploads *uploads
}

var (
	_ gofakes3.Backend          = (*backend)(nil)
	_ gofakes3.MultipartBackend = (*backend)(nil)
)

// tmpDir is where bodies are written before they become objects or parts.
func (b *backend) tmpDir() string { return filepath.Join(b.dir, "tmp") }

// bucketDir is the folder holding bucket's objects.
func (b *backend) bucketDir(bucket string) string { return filepath.Join(b.dir, "buckets", bucket) }

// checkKey refuses keys that cannot be stored as a file below the bucket's folder.
func checkKey(key string) error {
	if len(key) > gofakes3.KeySizeLimit {
		return gofakes3.ResourceError(gofakes3.ErrKeyTooLong, key)
	}
	if strings.HasSuffix(key, "/") {
		return gofakes3.ErrorMessagef(gofakes3.ErrInvalidArgument,
			"key %q ends with \"/\": Pinfold's embedded S3 endpoint stores objects as files and has no folder objects", key)
	}
	if !fs.ValidPath(key) || strings.ContainsRune(key, '\\') {
		return gofakes3.ErrorMessagef(gofakes3.ErrInvalidArgument,
			"key %q is not supported by Pinfold's embedded S3 endpoint: it may not contain \"\\\", empty path segments, \".\" or \"..\"", key)
	}
	return nil
}

// CreateBucket implements gofakes3.Backend. gofakes3 validates names given to CreateBucket
// but not those of buckets it creates automatically on first use.
func (b *backend) CreateBucket(name string) error {
	if err := gofakes3.ValidateBucketName(name); err != nil {
		return err
	}
	return b.MultiBucketBackend.CreateBucket(name)
}

// DeleteBucket implements gofakes3.Backend: it deletes bucket if it holds no objects. (s3afero
// would also refuse a bucket holding only the empty folders that deleted objects leave.)
func (b *backend) DeleteBucket(name string) error {
	if exists, err := b.BucketExists(name); err != nil {
		return err
	} else if !exists {
		return gofakes3.BucketNotFound(name)
	}
	keys, err := b.keys(name, "")
	if err != nil {
		return err
	}
	if len(keys) > 0 {
		return gofakes3.ResourceError(gofakes3.ErrBucketNotEmpty, name)
	}
	return b.ForceDeleteBucket(name)
}

// GetObject implements gofakes3.Backend.
func (b *backend) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	if checkKey(key) != nil {
		return nil, gofakes3.KeyNotFound(key)
	}
	return b.MultiBucketBackend.GetObject(bucket, key, rng)
}

// HeadObject implements gofakes3.Backend.
func (b *backend) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	if checkKey(key) != nil {
		return nil, gofakes3.KeyNotFound(key)
	}
	return b.MultiBucketBackend.HeadObject(bucket, key)
}

// DeleteObject implements gofakes3.Backend. Deleting a key that cannot exist succeeds, as
// deleting any missing key does.
func (b *backend) DeleteObject(bucket, key string) (gofakes3.ObjectDeleteResult, error) {
	if checkKey(key) != nil {
		return gofakes3.ObjectDeleteResult{}, nil
	}
	return b.MultiBucketBackend.DeleteObject(bucket, key)
}

// DeleteMulti implements gofakes3.Backend.
func (b *backend) DeleteMulti(bucket string, keys ...string) (gofakes3.MultiDeleteResult, error) {
	var valid, invalid []string
	for _, key := range keys {
		if checkKey(key) == nil {
			valid = append(valid, key)
		} else {
			invalid = append(invalid, key)
		}
	}
	result, err := b.MultiBucketBackend.DeleteMulti(bucket, valid...)
	if err != nil {
		return result, err
	}
	for _, key := range invalid {
		result.Deleted = append(result.Deleted, gofakes3.ObjectID{Key: key})
	}
	return result, nil
}

// CopyObject implements gofakes3.Backend through our GetObject and PutObject (s3afero's would
// bypass them).
func (b *backend) CopyObject(srcBucket, srcKey, dstBucket, dstKey string, meta map[string]string) (gofakes3.CopyObjectResult, error) {
	return gofakes3.CopyObject(b, srcBucket, srcKey, dstBucket, dstKey, meta)
}

// spoolInMemory is the largest body PutObject holds in memory rather than in a file.
const spoolInMemory = 1 << 20

// PutObject implements gofakes3.Backend. The body is read to the end, and checked against
// size, before the object is touched: a broken upload changes nothing, and s3afero, which
// holds one lock for all requests while it writes, copies from a local file or memory instead
// of from the network.
func (b *backend) PutObject(bucket, key string, meta map[string]string, input io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if err := checkKey(key); err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if size >= 0 && size <= spoolInMemory {
		body, err := io.ReadAll(io.LimitReader(input, size+1))
		if err != nil {
			return gofakes3.PutObjectResult{}, err
		}
		if int64(len(body)) != size {
			return gofakes3.PutObjectResult{}, gofakes3.ErrIncompleteBody
		}
		return b.put(bucket, key, meta, bytes.NewReader(body), size, conditions)
	}
	if err := os.MkdirAll(b.tmpDir(), 0o700); err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	body, err := os.CreateTemp(b.tmpDir(), "put-*")
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	defer os.Remove(body.Name())
	defer body.Close()
	n, err := io.Copy(body, input)
	if err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if size >= 0 && n != size {
		return gofakes3.PutObjectResult{}, gofakes3.ErrIncompleteBody
	}
	if _, err := body.Seek(0, io.SeekStart); err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	return b.put(bucket, key, meta, body, n, conditions)
}

// put stores a complete body as bucket/key.
func (b *backend) put(bucket, key string, meta map[string]string, body io.Reader, size int64, conditions *gofakes3.PutConditions) (gofakes3.PutObjectResult, error) {
	if err := checkKey(key); err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	if err := b.makeRoom(bucket, key); err != nil {
		return gofakes3.PutObjectResult{}, err
	}
	return b.MultiBucketBackend.PutObject(bucket, key, storedHeaders(meta), body, size, conditions)
}

// makeRoom checks that key's file can be created: no other object is stored where one of its
// folders would be, and its own path is not a folder of other objects. An empty folder left
// behind by deleted objects is removed.
func (b *backend) makeRoom(bucket, key string) error {
	dir := b.bucketDir(bucket)
	segments := strings.Split(key, "/")
	for i := 1; i < len(segments); i++ {
		parent := path.Join(segments[:i]...)
		info, err := os.Stat(filepath.Join(dir, filepath.FromSlash(parent)))
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		} else if err != nil {
			return err
		} else if !info.IsDir() {
			return gofakes3.ErrorMessagef(gofakes3.ErrInvalidArgument,
				"key %q cannot be stored below object %q: Pinfold's embedded S3 endpoint stores objects as files", key, parent)
		}
	}
	file := filepath.Join(dir, filepath.FromSlash(key))
	if info, err := os.Stat(file); err == nil && info.IsDir() {
		if err := os.Remove(file); err != nil {
			return gofakes3.ErrorMessagef(gofakes3.ErrInvalidArgument,
				"key %q is a folder of other objects: Pinfold's embedded S3 endpoint stores objects as files", key)
		}
	}
	return nil
}

// storedHeaders keeps the request headers S3 stores with an object. gofakes3 hands the backend
// every x-amz-* header of the request (dates, content hashes, even session tokens), and
// s3afero would merge them into the object's headers and send them back on every GET.
func storedHeaders(meta map[string]string) map[string]string {
	out := make(map[string]string, len(meta))
	for k, v := range meta {
		switch {
		case k == "Content-Type", k == "Content-Disposition", k == "Content-Encoding",
			k == "Last-Modified", strings.HasPrefix(k, "X-Amz-Meta-"):
			out[k] = v
		}
	}
	return out
}

// ListBucket implements gofakes3.Backend: the keys of bucket matching prefix, in key order,
// at most page.MaxKeys (1000 when unset) after page.Marker, with keys below a delimiter
// grouped into common prefixes.
func (b *backend) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil {
		prefix = &gofakes3.Prefix{}
	}
	if exists, err := b.BucketExists(bucket); err != nil {
		return nil, err
	} else if !exists {
		return nil, gofakes3.BucketNotFound(bucket)
	}
	keys, err := b.keys(bucket, prefix.Prefix)
	if err != nil {
		return nil, err
	}
	limit := int(page.MaxKeys)
	if limit <= 0 || limit > gofakes3.MaxBucketKeys {
		limit = gofakes3.MaxBucketKeys
	}

	list := gofakes3.NewObjectList()
	var match gofakes3.PrefixMatch
	var last string // the last key or common prefix in list
	for _, key := range keys {
		if page.HasMarker && key <= page.Marker || !prefix.Match(key, &match) {
			continue
		}
		if match.CommonPrefix {
			p := match.MatchedPart
			if p == last || page.HasMarker && p <= page.Marker {
				continue // already listed, on this page or an earlier one
			}
			if len(list.Contents)+len(list.CommonPrefixes) == limit {
				list.IsTruncated = true
				break
			}
			list.AddPrefix(p)
			last = p
			continue
		}
		if len(list.Contents)+len(list.CommonPrefixes) == limit {
			list.IsTruncated = true
			break
		}
		obj, err := b.MultiBucketBackend.HeadObject(bucket, key)
		if gofakes3.HasErrorCode(err, gofakes3.ErrNoSuchKey) {
			continue // deleted since the folder was read
		} else if err != nil {
			return nil, err
		}
		obj.Contents.Close()
		// The same time GET and HEAD send as Last-Modified.
		modified, err := http.ParseTime(obj.Metadata["Last-Modified"])
		if err != nil {
			modified = time.Now()
		}
		list.Add(&gofakes3.Content{
			Key:          key,
			LastModified: gofakes3.NewContentTime(modified),
			ETag:         gofakes3.FormatETag(obj.Hash),
			Size:         obj.Size,
			StorageClass: gofakes3.StorageStandard,
		})
		last = key
	}
	if list.IsTruncated {
		list.NextMarker = last
	}
	return list, nil
}

// keys returns the sorted keys of bucket that start with prefix, reading only the folder the
// prefix points into.
func (b *backend) keys(bucket, prefix string) ([]string, error) {
	root, err := os.OpenRoot(b.bucketDir(bucket))
	if err != nil {
		return nil, err
	}
	defer root.Close()

	start := "."
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		start = prefix[:i]
		if !fs.ValidPath(start) {
			return nil, nil // no stored key has such a prefix
		}
	}
	var keys []string
	err = fs.WalkDir(root.FS(), start, func(name string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // folder removed while walking, or no folder for the prefix
		} else if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasPrefix(name, prefix) {
			keys = append(keys, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", bucket, err)
	}
	slices.Sort(keys)
	return keys, nil
}
