package s3

import (
	"bytes"
	"context"
	"errors"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	awss3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/pinfold/pinfold"
)

// StreamPartSize is the size of the parts PutStream sends: S3's smallest part but one, so that
// a stream holds at most this much memory.
const StreamPartSize = 8 << 20

// EnsureBucket creates bucket unless it exists already.
func (c *Client) EnsureBucket(ctx context.Context, bucket string) error {
	err := c.HeadBucket(ctx, bucket)
	if err == nil || pinfold.ErrorCode(err) != pinfold.ENOTFOUND {
		return err
	}
	_, err = c.s3.CreateBucket(ctx, &awss3.CreateBucketInput{Bucket: aws.String(bucket)})
	var owned *s3types.BucketAlreadyOwnedByYou
	var exists *s3types.BucketAlreadyExists
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return translate(err, bucket, "")
	}
	return nil
}

// PutStream stores what r holds as the object bucket/key, reading r once and holding at most
// StreamPartSize of it in memory: a stream that fits one part is sent with PutObject, a
// longer one as a multipart upload, aborted when anything fails. It returns the bytes stored.
func (c *Client) PutStream(ctx context.Context, bucket, key string, r io.Reader) (int64, error) {
	buf := make([]byte, StreamPartSize)
	n, err := io.ReadFull(r, buf)
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return int64(n), c.Put(ctx, bucket, key, bytes.NewReader(buf[:n]))
	} else if err != nil {
		return 0, err
	}
	up, err := c.s3.CreateMultipartUpload(ctx, &awss3.CreateMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key)})
	if err != nil {
		return 0, translate(err, bucket, key)
	}
	total, err := c.putParts(ctx, bucket, key, up.UploadId, buf, n, r)
	if err != nil {
		// A fresh context: the upload is abandoned also when ctx ended.
		c.s3.AbortMultipartUpload(context.WithoutCancel(ctx), &awss3.AbortMultipartUploadInput{
			Bucket: aws.String(bucket), Key: aws.String(key), UploadId: up.UploadId})
		return 0, err
	}
	return total, nil
}

// putParts uploads buf[:n] and the rest of r as the parts of upload id, then completes it.
func (c *Client) putParts(ctx context.Context, bucket, key string, id *string, buf []byte, n int, r io.Reader) (int64, error) {
	var parts []s3types.CompletedPart
	var total int64
	for number := int32(1); n > 0; number++ {
		out, err := c.s3.UploadPart(ctx, &awss3.UploadPartInput{Bucket: aws.String(bucket), Key: aws.String(key),
			UploadId: id, PartNumber: aws.Int32(number), Body: bytes.NewReader(buf[:n])})
		if err != nil {
			return 0, translate(err, bucket, key)
		}
		parts = append(parts, s3types.CompletedPart{ETag: out.ETag, PartNumber: aws.Int32(number)})
		total += int64(n)
		n, err = io.ReadFull(r, buf)
		if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
			return 0, err
		}
	}
	_, err := c.s3.CompleteMultipartUpload(ctx, &awss3.CompleteMultipartUploadInput{Bucket: aws.String(bucket), Key: aws.String(key),
		UploadId: id, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return 0, translate(err, bucket, key)
	}
	return total, nil
}
