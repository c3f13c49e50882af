package s3_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/danzen-gw/danzen/media/s3"
	"github.com/danzen-gw/danzen/media/s3/s3test"
)

// startServer runs versitygw for one test.
func startServer(t *testing.T) *s3test.Server { return s3test.Run(t) }

// openBucket opens bucket on srv as a medium with the server's key.
func openBucket(t *testing.T, srv *s3test.Server, bucket string, minDays int) *s3.Bucket {
	t.Helper()
	secret := filepath.Join(t.TempDir(), "s3.secret")
	if err := os.WriteFile(secret, []byte(srv.SecretKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := s3.Open(s3.Spec{Name: "cloud", Endpoint: srv.Endpoint, Bucket: bucket, Prefix: "hospital/emr", AccessKeyID: srv.AccessKey,
		SecretKeyFile: "s3.secret", CAFile: "ca.pem", MinRetentionDays: minDays}, s3.Options{SecretKeyPath: secret, CAPath: srv.CAFile})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVerifyRefusesWrongBuckets(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	for _, tc := range []struct {
		bucket     string
		versioning bool
		lock       *s3test.Lock
		setting    string
		words      string
	}{
		{"plain", false, nil, s3.SettingVersioning, "versioning"},
		{"versioned-no-lock", true, nil, s3.SettingObjectLock, "no Object Lock"},
		{"lock-no-default", true, &s3test.Lock{}, s3.SettingMode, "no default retention"},
		{"governance", true, &s3test.Lock{Mode: minio.Governance, Days: 30}, s3.SettingMode, "GOVERNANCE"},
		{"too-short", true, &s3test.Lock{Mode: minio.Compliance, Days: 3}, s3.SettingDays, "3 days, less than the minimum of 14"},
	} {
		t.Run(tc.bucket, func(t *testing.T) {
			if err := srv.MakeBucket(ctx, tc.bucket, tc.versioning, tc.lock); err != nil {
				t.Fatal(err)
			}
			ev, err := openBucket(t, srv, tc.bucket, 14).Verify(ctx)
			var le *s3.LockError
			if !errors.As(err, &le) || le.Setting != tc.setting {
				t.Fatalf("Verify = %v, want a LockError on %s", err, tc.setting)
			}
			if !strings.Contains(err.Error(), tc.words) || !strings.Contains(err.Error(), "オフラインではありません") {
				t.Errorf("message %q does not name the setting (%q) in both languages", err, tc.words)
			}
			if ev.Setting != tc.setting || ev.CanaryVersion != "" {
				t.Errorf("evidence %+v: want setting %s and no canary written", ev, tc.setting)
			}
		})
	}
}

func TestVerifyLockedBucket(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	if err := srv.MakeBucket(ctx, "locked", true, &s3test.Lock{Mode: minio.Compliance, Days: 30}); err != nil {
		t.Fatal(err)
	}
	b := openBucket(t, srv, "locked", 14)
	ev, err := b.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Mode != "COMPLIANCE" || ev.RetentionDays != 30 || ev.CanaryVersion == "" || ev.DeleteRefused == "" {
		t.Fatalf("evidence %+v", ev)
	}
	t.Logf("canary delete refused: %s", ev.DeleteRefused)
	// Even the server's root key cannot remove the canary version.
	err = srv.Client.RemoveObject(ctx, "locked", "hospital/emr/"+s3.CanaryName, minio.RemoveObjectOptions{VersionID: ev.CanaryVersion})
	if err == nil {
		t.Fatal("the canary version was deleted: the lock does not hold")
	}
	// A second verification writes a second canary version; both stay.
	if _, err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	n := 0
	for o := range srv.Client.ListObjects(ctx, "locked", minio.ListObjectsOptions{Prefix: "hospital/emr/", WithVersions: true, Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		if o.Key == "hospital/emr/"+s3.CanaryName && !o.IsDeleteMarker {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d canary versions kept, want 2", n)
	}
}

func TestKeepLockedExtendsAgingLocks(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	if err := srv.MakeBucket(ctx, "locked", true, &s3test.Lock{Mode: minio.Compliance, Days: 14}); err != nil {
		t.Fatal(err)
	}
	b := openBucket(t, srv, "locked", 10)
	if _, err := b.KeepLocked(ctx, "unused"); err == nil {
		t.Fatal("KeepLocked ran before the lock was verified")
	}
	if _, err := b.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"data/aa", "index/bb", "locks/cc"} {
		body := strings.NewReader(k)
		if _, err := srv.Client.PutObject(ctx, "locked", "hospital/emr/"+k, body, body.Size(), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	state := filepath.Join(t.TempDir(), "state", "cloud.json")
	// Fresh objects carry the bucket's 14 days, more than the 10 needed.
	if n, err := b.KeepLocked(ctx, state); err != nil || n != 0 {
		t.Fatalf("first run extended %d: %v", n, err)
	}
	raw, err := os.ReadFile(state)
	if err != nil || !strings.Contains(string(raw), "hospital/emr/data/aa") || strings.Contains(string(raw), "locks/") || strings.Contains(string(raw), s3.CanaryName) {
		t.Fatalf("state %s %v", raw, err)
	}
	// Age data/aa: its lock now ends in a day.
	raw = []byte(strings.Replace(string(raw), `"until":"`, `"until":"2000-01-01T00:00:00Z","old":"`, 1))
	if err := os.WriteFile(state, raw, 0o600); err != nil {
		t.Fatal(err)
	}
	if n, err := b.KeepLocked(ctx, state); err != nil || n != 1 {
		t.Fatalf("second run extended %d, want 1: %v", n, err)
	}
	// Until is now 15 days (one and a half times the minimum) away.
	info, err := srv.Client.StatObject(ctx, "locked", "hospital/emr/data/aa", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	until, err := time.Parse(time.RFC3339, info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date"))
	mode := info.Metadata.Get("X-Amz-Object-Lock-Mode")
	if d := time.Until(until); err != nil || d < 29*12*time.Hour || d > 31*12*time.Hour || mode != "COMPLIANCE" {
		t.Errorf("data/aa retained %s until %v (in %v, %v), want COMPLIANCE about 15 days; headers %v", mode, until, d, err, info.Metadata)
	}
	// A forgotten object (delete marker) is no longer kept locked.
	if err := srv.Client.RemoveObject(ctx, "locked", "hospital/emr/index/bb", minio.RemoveObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.KeepLocked(ctx, state); err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(state); strings.Contains(string(raw), "index/bb") {
		t.Errorf("state still holds the removed object: %s", raw)
	}
}

// An endpoint that does not answer proves nothing: not offline.
func TestVerifyUnreachableIsNotOffline(t *testing.T) {
	srv := startServer(t)
	if err := srv.MakeBucket(context.Background(), "locked", true, &s3test.Lock{Mode: minio.Compliance, Days: 30}); err != nil {
		t.Fatal(err)
	}
	b := openBucket(t, srv, "locked", 14)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := b.Verify(ctx)
	var le *s3.LockError
	if !errors.As(err, &le) || le.Setting != s3.SettingConnection || !strings.Contains(err.Error(), "NOT offline") {
		t.Fatalf("Verify against a stopped server = %v", err)
	}
}
