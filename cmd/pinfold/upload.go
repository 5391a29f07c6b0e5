package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// Import formats, as CreateImportJob spells them.
const (
	formatCSV  = "CSV"
	formatJSON = "JSON"
)

// maxPutObject is the largest object one PutObject may carry.
const maxPutObject = 5 << 30

// localFile is a file to upload: where it is and the key it gets under the upload's prefix.
type localFile struct {
	Path     string // on disk
	Key      string // relative, slash-separated: the name of a file argument, or the path inside a folder argument
	Size     int64
	Format   string // CSV, JSON or "" (not an import file)
	Explicit bool   // named on the command line rather than found in a folder
}

// fileFormat returns the import format a file name stands for, by the extensions the server
// reads (docs/import-jobs.md): .csv is CSV; .json, .jsonl and .ndjson are JSON; each may end in .gz.
// Any other .gz is JSON, as Pinpoint names its export files by .gz alone. Any other name
// returns "".
func fileFormat(name string) string {
	lower := strings.ToLower(name)
	switch path.Ext(strings.TrimSuffix(lower, ".gz")) {
	case ".csv":
		return formatCSV
	case ".json", ".jsonl", ".ndjson":
		return formatJSON
	}
	if strings.HasSuffix(lower, ".gz") {
		return formatJSON
	}
	return ""
}

// formatExtensions says which file names a format reads, for messages.
func formatExtensions(format string) string {
	if format == formatCSV {
		return ".csv"
	}
	return ".json, .jsonl or .ndjson"
}

// collectFiles lists the files the arguments name: a file is itself (its key is its base name),
// a folder is every file under it, recursively (keyed by the path inside the folder). Two
// files that would get one key are an error.
func collectFiles(args []string) ([]localFile, error) {
	var files []localFile
	byKey := map[string]string{}
	add := func(f localFile) error {
		if other, ok := byKey[f.Key]; ok {
			return fmt.Errorf("%s and %s would both be uploaded as %q: import them separately, or put them in one folder", other, f.Path, f.Key)
		}
		byKey[f.Key] = f.Path
		files = append(files, f)
		return nil
	}
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", arg, errors.Unwrap(err))
		}
		if !st.IsDir() {
			if err := add(localFile{Path: arg, Key: filepath.Base(arg), Size: st.Size(), Format: fileFormat(arg), Explicit: true}); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(arg, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := os.Stat(p) // follows a symbolic link to a file
			if err != nil {
				return err
			}
			if !info.Mode().IsRegular() {
				return nil
			}
			rel, err := filepath.Rel(arg, p)
			if err != nil {
				return err
			}
			return add(localFile{Path: p, Key: filepath.ToSlash(rel), Size: info.Size(), Format: fileFormat(p)})
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// chooseFormat decides the job's format and the files to upload. With --format, files of the
// other format found in folders are left out (and listed in skipped); without it, every file
// must be of one format: a job reads one format, so mixed folders are refused with the two
// commands to run instead. Files of no import format found in folders are skipped; named on
// the command line, they are an error, since the server would not read them.
func chooseFormat(format string, files []localFile) (string, []localFile, []localFile, error) {
	var keep, skipped []localFile
	counts := map[string]int{}
	for _, f := range files {
		switch {
		case f.Format == "" && f.Explicit:
			return "", nil, nil, fmt.Errorf("%s: cannot tell its format: the server imports files named .csv, .json, .jsonl or .ndjson (optionally .gz); rename it", f.Path)
		case f.Format != "" && format != "" && f.Format != format && f.Explicit:
			return "", nil, nil, fmt.Errorf("%s is a %s file but --format is %s; the server reads only %s files for %s", f.Path, f.Format, format, formatExtensions(format), format)
		case f.Format == "" || (format != "" && f.Format != format):
			skipped = append(skipped, f)
		default:
			keep = append(keep, f)
			counts[f.Format]++
		}
	}
	switch {
	case len(keep) == 0 && format != "":
		return "", nil, nil, fmt.Errorf("no %s files (%s, optionally .gz) to import", format, formatExtensions(format))
	case len(keep) == 0:
		return "", nil, nil, errors.New("no files to import: the server imports files named .csv, .json, .jsonl or .ndjson (optionally .gz)")
	case counts[formatCSV] > 0 && counts[formatJSON] > 0:
		return "", nil, nil, fmt.Errorf("found %d CSV and %d JSON files; an import job reads one format: run once with --format CSV and once with --format JSON",
			counts[formatCSV], counts[formatJSON])
	case format == "":
		format = keep[0].Format
	}
	return format, keep, skipped, nil
}

// uploadPrefix returns a fresh folder for one upload: the time and a random suffix, so that
// uploads never mix and sort by time.
func uploadPrefix(now time.Time) string {
	b := make([]byte, 4)
	rand.Read(b)
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b) + "/"
}

// uploadURL is the S3Url a job of the uploaded files reads: the object itself for one file,
// the upload's folder for several.
func uploadURL(bucket, prefix string, files []localFile) string {
	if len(files) == 1 {
		return "s3://" + bucket + "/" + prefix + files[0].Key
	}
	return "s3://" + bucket + "/" + prefix
}

// uploader puts local files into a bucket of the S3 endpoint, creating the bucket if needed.
type uploader struct {
	c      *client
	bucket string
	prefix string
	show   func(done, total int, doneBytes, totalBytes int64, current string)
}

// upload uploads files one by one, each with a single PutObject of the open file (seekable,
// so the SDK can sign its digest over plain http).
func (u *uploader) upload(ctx context.Context, files []localFile) error {
	var total int64
	for _, f := range files {
		if f.Size > maxPutObject {
			return fmt.Errorf("%s is %s; one upload carries at most 5 GiB: split the file, or copy it with \"aws s3 cp\" and import its s3:// URL",
				f.Path, formatBytes(f.Size))
		}
		total += f.Size
	}
	if err := u.ensureBucket(ctx); err != nil {
		return err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Key < files[j].Key })
	var done int64
	for i, f := range files {
		u.show(i, len(files), done, total, f.Key)
		if err := u.put(ctx, f); err != nil {
			return err
		}
		done += f.Size
	}
	return nil
}

func (u *uploader) put(ctx context.Context, f localFile) error {
	file, err := os.Open(f.Path)
	if err != nil {
		return err
	}
	defer file.Close()
	contentType := "text/csv"
	if f.Format == formatJSON {
		contentType = "application/x-ndjson"
	}
	_, err = u.c.s3.PutObject(ctx, &awss3.PutObjectInput{Bucket: &u.bucket, Key: aws.String(u.prefix + f.Key),
		Body: file, ContentLength: aws.Int64(f.Size), ContentType: &contentType})
	if err != nil {
		return fmt.Errorf("upload %s to s3://%s/%s%s: %w", f.Path, u.bucket, u.prefix, f.Key, u.c.explain(err))
	}
	return nil
}

// ensureBucket creates the bucket unless it exists.
func (u *uploader) ensureBucket(ctx context.Context) error {
	_, err := u.c.s3.HeadBucket(ctx, &awss3.HeadBucketInput{Bucket: &u.bucket})
	var notFound *s3types.NotFound
	var apiErr smithy.APIError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &notFound), errors.As(err, &apiErr) && apiErr.ErrorCode() == "NoSuchBucket":
	default:
		return fmt.Errorf("bucket %s: %w", u.bucket, u.c.explain(err))
	}
	_, err = u.c.s3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: &u.bucket})
	var owned *s3types.BucketAlreadyOwnedByYou
	if err != nil && !errors.As(err, &owned) {
		return fmt.Errorf("create bucket %s at %s: %w", u.bucket, u.c.s3Endpoint, u.c.explain(err))
	}
	return nil
}

// formatBytes writes a size the way people read it: 812 B, 4.2 MB, 1.3 GB.
func formatBytes(n int64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	v, suffix := float64(n)/unit, "kB"
	for _, s := range []string{"MB", "GB", "TB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
