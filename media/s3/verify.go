package s3

import (
	"context"
	"fmt"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
)

// Evidence is what was read back from the bucket, as the evidence ledger
// stores it (lock.verified, lock.failed).
type Evidence = ledger.LockEvidence

// Settings a LockError names.
const (
	SettingConnection = "connection"
	SettingVersioning = "versioning"
	SettingObjectLock = "object_lock"
	SettingMode       = "default_retention_mode"
	SettingDays       = "default_retention_days"
	SettingCanary     = "canary_delete"
)

// LockError says which bucket setting keeps the medium from being offline.
type LockError struct {
	Medium  string
	Setting string
	Reason  msg.Text // what is wrong with Setting, for the person who fixes the bucket
	Err     error    // the server's error, if any
}

func (e *LockError) Error() string { return e.Localize(msg.Both) }

// Localize says that the medium is not offline and why, in l.
func (e *LockError) Localize(l msg.Lang) string {
	t := msg.Sprintf("媒体 %s はオフラインではありません: %s", "medium %s is NOT offline: %s", e.Medium, e.Reason)
	if e.Err != nil {
		return msg.In(msg.WrapText(e.Err, t), l)
	}
	return t.Localize(l)
}

func (e *LockError) Unwrap() error { return e.Err }

// Verify proves, before an upload, that what is written cannot be removed
// with this key: versioning on, Object Lock on, default retention in
// COMPLIANCE mode of at least MinRetentionDays, and a canary object's
// version delete refused by the server. It returns the evidence either
// way and a *LockError naming the first wrong setting.
func (b *Bucket) Verify(ctx context.Context) (Evidence, error) {
	s := b.spec
	ev := Evidence{Endpoint: s.Endpoint, Bucket: s.Bucket, Prefix: s.Prefix, MinRetentionDays: s.MinRetentionDays}
	fail := func(setting string, reason msg.Text, err error) (Evidence, error) {
		le := &LockError{Medium: s.Name, Setting: setting, Reason: reason, Err: err}
		ev.Setting, ev.Reason = setting, msg.TextOf(le)
		return ev, le
	}
	vc, err := b.client.GetBucketVersioning(ctx, s.Bucket)
	if err != nil {
		return fail(SettingConnection, msg.Sprintf("バケット %s の設定を読めません(接続先・鍵・CAを確認してください)",
			"cannot read bucket %s's settings (check endpoint, key and CA)", s.Bucket), err)
	}
	ev.Versioning = vc.Status
	if !vc.Enabled() {
		return fail(SettingVersioning, msg.Sprintf("バケット %s のバージョニングが有効ではありません(%q)",
			"bucket %s does not have versioning enabled (%q)", s.Bucket, vc.Status), nil)
	}
	lock, mode, validity, unit, err := b.client.GetObjectLockConfig(ctx, s.Bucket)
	if err != nil && minio.ToErrorResponse(err).StatusCode == 0 {
		return fail(SettingConnection, msg.T("オブジェクトロック設定を読めません",
			"cannot read the Object Lock configuration"), err)
	}
	ev.ObjectLock = lock
	if lock != "Enabled" {
		return fail(SettingObjectLock, msg.Sprintf("バケット %s にオブジェクトロックが設定されていません(作成時に有効化が必要です)",
			"bucket %s has no Object Lock (it must be enabled when the bucket is created)", s.Bucket), err)
	}
	if mode != nil {
		ev.Mode = string(*mode)
	}
	if mode == nil || validity == nil || unit == nil {
		return fail(SettingMode, msg.T("既定の保持期間(デフォルトリテンション)が設定されていません。COMPLIANCE モードで設定してください",
			"the bucket has no default retention: set one in COMPLIANCE mode"), nil)
	}
	if *mode != minio.Compliance {
		return fail(SettingMode, msg.Sprintf("既定の保持モードが %s です。COMPLIANCE にしてください(GOVERNANCE は権限があれば解除できます)",
			"the default retention mode is %s, it must be COMPLIANCE (GOVERNANCE can be bypassed with a permission)", *mode), nil)
	}
	ev.RetentionDays = int(*validity)
	if *unit == minio.Years {
		ev.RetentionDays *= 365
	}
	if ev.RetentionDays < s.MinRetentionDays {
		return fail(SettingDays, msg.Sprintf("既定の保持期間が %d 日で、最低 %d 日に足りません",
			"the default retention is %d days, less than the minimum of %d days", ev.RetentionDays, s.MinRetentionDays), nil)
	}
	return b.canary(ctx, ev, fail)
}

// failFunc records that setting keeps the medium from being offline.
type failFunc func(setting string, reason msg.Text, err error) (Evidence, error)

// canary writes a small object and tries to delete that very version: the
// server must refuse, and the version must still be there afterwards.
func (b *Bucket) canary(ctx context.Context, ev Evidence, fail failFunc) (Evidence, error) {
	s := b.spec
	ev.CanaryKey = s.key(CanaryName)
	body := fmt.Appendf(nil, "danzen canary %s: this version must not be deletable\n", time.Now().UTC().Format(time.RFC3339))
	vid, err := b.putSmall(ctx, ev.CanaryKey, body)
	if err != nil {
		return fail(SettingCanary, msg.T("確認用オブジェクトを書き込めません(鍵の書き込み権限を確認してください)",
			"cannot write the canary object (check the key's write permission)"), err)
	}
	ev.CanaryVersion = vid
	if vid == "" {
		return fail(SettingVersioning, msg.T("書き込んだ確認用オブジェクトにバージョンIDがありません",
			"the canary object got no version ID"), nil)
	}
	err = b.client.RemoveObject(ctx, s.Bucket, ev.CanaryKey, minio.RemoveObjectOptions{VersionID: vid})
	switch {
	case err == nil:
		return fail(SettingCanary, msg.T("この鍵でロック中の版を削除できてしまいました。保持設定かキーの権限(s3:DeleteObjectVersion、ガバナンス解除)を見直してください",
			"this key deleted a locked version: fix the retention or the key's permissions (s3:DeleteObjectVersion, governance bypass)"), nil)
	case !isDenied(err):
		return fail(SettingConnection, msg.T("確認用オブジェクトの削除拒否を確かめられません",
			"could not test that deleting the canary version is refused"), err)
	}
	ev.DeleteRefused = minio.ToErrorResponse(err).Message
	if ev.DeleteRefused == "" {
		ev.DeleteRefused = err.Error()
	}
	if _, err := b.client.StatObject(ctx, s.Bucket, ev.CanaryKey, minio.StatObjectOptions{VersionID: vid}); err != nil {
		return fail(SettingCanary, msg.T("削除は拒否されましたが確認用オブジェクトの版が見つかりません",
			"the delete was refused but the canary version is gone"), err)
	}
	b.verified = &ev
	b.log.Info("object lock verified", "medium", s.Name, "bucket", s.Bucket, "retention_days", ev.RetentionDays, "canary_version", vid)
	return ev, nil
}
