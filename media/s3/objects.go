package s3

import (
	"context"
	"io"
	"time"

	"github.com/minio/minio-go/v7"
)

// sha256Meta is the user metadata that carries an object's SHA-256 (hex)
// as the writer computed it: the next write compares it instead of
// reading the object back.
const sha256Meta = "Sha256"

// ObjectSHA256 returns the SHA-256 recorded with the object name under the
// prefix, "" when there is no such object (or it carries none).
func (b *Bucket) ObjectSHA256(ctx context.Context, name string) (string, error) {
	info, err := b.client.StatObject(ctx, b.spec.Bucket, b.spec.key(name), minio.StatObjectOptions{})
	if err != nil {
		if minio.ToErrorResponse(err).Code == "NoSuchKey" {
			return "", nil
		}
		return "", err
	}
	return info.UserMetadata[sha256Meta], nil
}

// PutObject writes name under the prefix with its SHA-256 recorded. After
// a Verify that passed, it is locked in COMPLIANCE mode for the bucket's
// default retention, set on the upload itself: not every store applies the
// default to a multipart upload (versitygw 1.8 does not). KeepLocked then
// extends it with the repository's objects. A new content is a new
// version; the old one stays until its lock ends.
func (b *Bucket) PutObject(ctx context.Context, name string, r io.Reader, size int64, sha256Hex, contentType string) error {
	opts := minio.PutObjectOptions{ContentType: contentType, SendContentMd5: true, UserMetadata: map[string]string{sha256Meta: sha256Hex}}
	if b.verified != nil {
		opts.Mode = minio.Compliance
		opts.RetainUntilDate = time.Now().Add(time.Duration(b.verified.RetentionDays) * day).Truncate(time.Second)
	}
	_, err := b.client.PutObject(ctx, b.spec.Bucket, b.spec.key(name), r, size, opts)
	return err
}
