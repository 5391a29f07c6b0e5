package s3

import (
	"cmp"
	"crypto/md5"
	"crypto/rand"
	"io"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/johannesboyne/gofakes3"
)

// uploads holds the multipart uploads in progress. Parts are files under dir/UPLOAD_ID/, so
// that `aws s3 cp` of a large file does not hold it in memory (gofakes3's own uploader would,
// twice); the index is in memory, so uploads in progress do not survive a restart, and the
// server clears dir when it opens.
type uploads struct {
	dir string
	now func() time.Time

	mu     sync.Mutex
	byID   map[gofakes3.UploadID]*upload
	locked map[gofakes3.UploadID]bool // being completed
}

// upload is one multipart upload in progress.
type upload struct {
	id        gofakes3.UploadID
	bucket    string
	key       string
	meta      map[string]string
	initiated time.Time
	parts     map[int]part
}

// part is one uploaded part, stored in the file named by its number.
type part struct {
	etag     string
	size     int64
	modified time.Time
}

func newUploads(dir string, now func() time.Time) *uploads {
	return &uploads{dir: dir, now: now, byID: map[gofakes3.UploadID]*upload{}, locked: map[gofakes3.UploadID]bool{}}
}

// get returns the upload id of bucket/key, or NoSuchUpload. The caller holds u.mu.
func (u *uploads) get(bucket, key string, id gofakes3.UploadID) (*upload, error) {
	up, ok := u.byID[id]
	if !ok || up.bucket != bucket || up.key != key || u.locked[id] {
		return nil, gofakes3.ErrNoSuchUpload
	}
	return up, nil
}

// CreateMultipartUpload implements gofakes3.MultipartBackend.
func (b *backend) CreateMultipartUpload(bucket, key string, meta map[string]string) (gofakes3.UploadID, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	u := b.uploads
	id := gofakes3.UploadID(rand.Text())
	if err := os.MkdirAll(filepath.Join(u.dir, string(id)), 0o700); err != nil {
		return "", err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	u.byID[id] = &upload{id: id, bucket: bucket, key: key, meta: meta, initiated: u.now(), parts: map[int]part{}}
	return id, nil
}

// UploadPart implements gofakes3.MultipartBackend. A part uploaded again under the same number
// replaces the earlier one.
func (b *backend) UploadPart(bucket, key string, id gofakes3.UploadID, number int, size int64, input io.Reader) (string, error) {
	u := b.uploads
	u.mu.Lock()
	_, err := u.get(bucket, key, id)
	u.mu.Unlock()
	if err != nil {
		return "", err
	}

	dir := filepath.Join(u.dir, string(id))
	f, err := os.CreateTemp(dir, "part-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(f.Name())
	defer f.Close()
	hash := md5.New()
	n, err := io.Copy(io.MultiWriter(f, hash), input)
	if err != nil {
		return "", err
	}
	if n != size {
		return "", gofakes3.ErrIncompleteBody
	}
	if err := f.Close(); err != nil {
		return "", err
	}

	u.mu.Lock()
	defer u.mu.Unlock()
	up, err := u.get(bucket, key, id)
	if err != nil {
		return "", err
	}
	if err := os.Rename(f.Name(), filepath.Join(dir, strconv.Itoa(number))); err != nil {
		return "", err
	}
	etag := gofakes3.FormatETag(hash.Sum(nil))
	up.parts[number] = part{etag: etag, size: n, modified: u.now()}
	return etag, nil
}

// CompleteMultipartUpload implements gofakes3.MultipartBackend. It joins the listed parts into
// the object and returns the object's ETag: the MD5 of its content, which is what HEAD, GET
// and List report for it afterwards (S3 would return an MD5 of the parts' MD5s with a "-N"
// suffix, which s3afero cannot store).
func (b *backend) CompleteMultipartUpload(bucket, key string, id gofakes3.UploadID, in *gofakes3.CompleteMultipartUploadRequest) (gofakes3.VersionID, string, error) {
	if len(in.Parts) == 0 {
		return "", "", gofakes3.ErrorMessage(gofakes3.ErrMalformedXML, "the request must list at least one part")
	}
	u := b.uploads
	u.mu.Lock()
	up, err := u.get(bucket, key, id)
	if err != nil {
		u.mu.Unlock()
		return "", "", err
	}
	var files []string
	var size int64
	for i, p := range in.Parts {
		stored, ok := up.parts[p.PartNumber]
		if !ok || strings.Trim(p.ETag, `"`) != strings.Trim(stored.etag, `"`) {
			u.mu.Unlock()
			return "", "", gofakes3.ErrorMessagef(gofakes3.ErrInvalidPart, "part %d was not uploaded with ETag %s", p.PartNumber, p.ETag)
		}
		if i > 0 && p.PartNumber <= in.Parts[i-1].PartNumber {
			u.mu.Unlock()
			return "", "", gofakes3.ErrInvalidPartOrder
		}
		files = append(files, filepath.Join(u.dir, string(id), strconv.Itoa(p.PartNumber)))
		size += stored.size
	}
	u.locked[id] = true // parts stay as they are until the object is written
	u.mu.Unlock()

	etag, err := b.join(up, files, size)

	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.locked, id)
	if err != nil {
		return "", "", err
	}
	delete(u.byID, id)
	os.RemoveAll(filepath.Join(u.dir, string(id)))
	return "", etag, nil
}

// join writes the concatenation of files as the upload's object and returns its ETag.
func (b *backend) join(up *upload, files []string, size int64) (string, error) {
	readers := make([]io.Reader, 0, len(files))
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return "", err
		}
		defer f.Close()
		readers = append(readers, f)
	}
	meta := maps.Clone(up.meta)
	if meta == nil {
		meta = map[string]string{}
	}
	meta["Last-Modified"] = b.uploads.now().UTC().Format(http.TimeFormat)
	hash := md5.New()
	body := io.TeeReader(io.MultiReader(readers...), hash)
	if _, err := b.put(up.bucket, up.key, meta, body, size, nil); err != nil {
		return "", err
	}
	return gofakes3.FormatETag(hash.Sum(nil)), nil
}

// AbortMultipartUpload implements gofakes3.MultipartBackend.
func (b *backend) AbortMultipartUpload(bucket, key string, id gofakes3.UploadID) error {
	u := b.uploads
	u.mu.Lock()
	defer u.mu.Unlock()
	if _, err := u.get(bucket, key, id); err != nil {
		return err
	}
	delete(u.byID, id)
	return os.RemoveAll(filepath.Join(u.dir, string(id)))
}

// ListParts implements gofakes3.MultipartBackend: the parts numbered above marker, at most
// limit of them.
func (b *backend) ListParts(bucket, key string, id gofakes3.UploadID, marker int, limit int64) (*gofakes3.ListMultipartUploadPartsResult, error) {
	u := b.uploads
	u.mu.Lock()
	defer u.mu.Unlock()
	up, err := u.get(bucket, key, id)
	if err != nil {
		return nil, err
	}
	result := &gofakes3.ListMultipartUploadPartsResult{
		Bucket:           bucket,
		Key:              key,
		UploadID:         id,
		StorageClass:     gofakes3.StorageStandard,
		PartNumberMarker: marker,
		MaxParts:         limit,
	}
	for _, n := range slices.Sorted(maps.Keys(up.parts)) {
		if n <= marker {
			continue
		}
		if int64(len(result.Parts)) == limit {
			result.IsTruncated = true
			break
		}
		p := up.parts[n]
		result.Parts = append(result.Parts, gofakes3.ListMultipartUploadPartItem{
			PartNumber:   n,
			ETag:         p.etag,
			Size:         p.size,
			LastModified: gofakes3.NewContentTime(p.modified),
		})
		result.NextPartNumberMarker = n
	}
	return result, nil
}

// ListMultipartUploads implements gofakes3.MultipartBackend: the uploads in progress in
// bucket, by key then initiation time, after marker and at most limit of them.
func (b *backend) ListMultipartUploads(bucket string, marker *gofakes3.UploadListMarker, prefix gofakes3.Prefix, limit int64) (*gofakes3.ListMultipartUploadsResult, error) {
	u := b.uploads
	u.mu.Lock()
	var ups []*upload
	for _, up := range u.byID {
		if up.bucket == bucket && !u.locked[up.id] {
			ups = append(ups, up)
		}
	}
	u.mu.Unlock()
	slices.SortFunc(ups, func(a, b *upload) int {
		return cmp.Or(strings.Compare(a.key, b.key), a.initiated.Compare(b.initiated), strings.Compare(string(a.id), string(b.id)))
	})

	result := &gofakes3.ListMultipartUploadsResult{
		Bucket:     bucket,
		Prefix:     prefix.Prefix,
		Delimiter:  prefix.Delimiter,
		MaxUploads: limit,
	}
	if marker != nil {
		result.KeyMarker, result.UploadIDMarker = marker.Object, marker.UploadID
		i := slices.IndexFunc(ups, func(up *upload) bool { return up.key == marker.Object && up.id == marker.UploadID })
		if marker.UploadID == "" || i < 0 {
			ups = slices.DeleteFunc(ups, func(up *upload) bool { return up.key <= marker.Object })
		} else {
			ups = ups[i+1:]
		}
	}
	var match gofakes3.PrefixMatch
	for _, up := range ups {
		if !prefix.Match(up.key, &match) {
			continue
		}
		if int64(len(result.Uploads)+len(result.CommonPrefixes)) == limit {
			result.IsTruncated = true
			break
		}
		if match.CommonPrefix {
			if !slices.Contains(result.CommonPrefixes, match.AsCommonPrefix()) {
				result.CommonPrefixes = append(result.CommonPrefixes, match.AsCommonPrefix())
			}
			continue
		}
		result.Uploads = append(result.Uploads, gofakes3.ListMultipartUploadItem{
			Key:          up.key,
			UploadID:     up.id,
			StorageClass: gofakes3.StorageStandard,
			Initiated:    gofakes3.NewContentTime(up.initiated),
		})
		result.NextKeyMarker, result.NextUploadIDMarker = up.key, up.id
	}
	return result, nil
}
