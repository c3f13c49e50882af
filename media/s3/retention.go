package s3

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

const day = 24 * time.Hour

// lockState is what KeepLocked knows of each object's lock, so that it
// need not ask the server every night (GetObjectRetention is not reliable
// on every store, and it is one request per object) and touches each
// object only about every half retention period.
type lockState struct {
	Objects map[string]lockedObject `json:"objects"`
}

type lockedObject struct {
	Modified time.Time `json:"modified"` // identifies the version the lock is known for
	Until    time.Time `json:"until"`
}

// KeepLocked extends, in COMPLIANCE mode, the lock of every current object
// of the repository whose lock would end within MinRetentionDays, to one
// and a half MinRetentionDays from now. So after every upload everything
// the kept snapshots need (old packs included, which the bucket's default
// retention let age out) stays locked at least MinRetentionDays, and each
// object is touched about once every half period. Locks, and objects that
// forget/prune removed (no longer current), are left to age out.
//
// statePath keeps what was set; without it, a lock is assumed to end at
// the object's write time plus the default retention Verify read, which
// is never later than the truth. It returns how many objects it extended.
// Verify must have passed first.
func (b *Bucket) KeepLocked(ctx context.Context, statePath string) (int, error) {
	if b.verified == nil {
		return 0, errors.New("s3: KeepLocked before a successful Verify")
	}
	st := lockState{Objects: map[string]lockedObject{}}
	if raw, err := os.ReadFile(statePath); err == nil {
		if err := json.Unmarshal(raw, &st); err != nil || st.Objects == nil {
			st.Objects = map[string]lockedObject{} // start over: the estimate is safe
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, err
	}
	now := time.Now()
	need := now.Add(time.Duration(b.spec.MinRetentionDays) * day)
	until := now.Add(time.Duration(b.spec.MinRetentionDays) * day * 3 / 2).Truncate(time.Second)
	dflt := time.Duration(b.verified.RetentionDays) * day

	prefix := ""
	if b.spec.Prefix != "" {
		prefix = b.spec.Prefix + "/"
	}
	next := lockState{Objects: map[string]lockedObject{}}
	var mu sync.Mutex
	extended := 0
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for o := range b.client.ListObjects(ctx, b.spec.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			err := msg.Errorf("媒体 %s のオブジェクト一覧を取得できません: %w", "medium %s: cannot list objects: %w", b.spec.Name, o.Err)
			if werr := g.Wait(); werr != nil {
				err = errors.Join(err, werr)
			}
			return extended, err
		}
		rel := strings.TrimPrefix(o.Key, prefix)
		if strings.HasPrefix(rel, "locks/") || rel == CanaryName {
			continue
		}
		known, ok := st.Objects[o.Key]
		if !ok || !known.Modified.Equal(o.LastModified) {
			known = lockedObject{Modified: o.LastModified, Until: o.LastModified.Add(dflt)}
		}
		if !known.Until.Before(need) {
			next.Objects[o.Key] = known
			continue
		}
		g.Go(func() error {
			mode := minio.Compliance
			err := b.client.PutObjectRetention(gctx, b.spec.Bucket, o.Key, minio.PutObjectRetentionOptions{Mode: &mode, RetainUntilDate: &until})
			if err != nil {
				return msg.Errorf("媒体 %s の %s の保持期間を延長できません: %w", "medium %s: cannot extend the retention of %s: %w", b.spec.Name, o.Key, err)
			}
			mu.Lock()
			next.Objects[o.Key] = lockedObject{Modified: o.LastModified, Until: until}
			extended++
			mu.Unlock()
			return nil
		})
	}
	err := g.Wait()
	raw, merr := json.Marshal(next)
	if merr == nil {
		if e := os.MkdirAll(filepath.Dir(statePath), 0o700); e != nil {
			merr = e
		} else {
			merr = atomicfile.Write(statePath, raw, 0o600)
		}
	}
	return extended, errors.Join(err, merr)
}
