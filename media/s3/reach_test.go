package s3_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/internal/duration"
	"github.com/danzen-gw/danzen/media/s3"
)

// A caller that gives up while the uplink still answers must not read
// that as "the line is gone": the cut is then NOT verified.
func TestWaitUnreachableNeverTakesCancelForGone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	secret := filepath.Join(t.TempDir(), "s3.secret")
	if err := os.WriteFile(secret, []byte("secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := s3.Open(s3.Spec{Name: "cloud", Endpoint: ln.Addr().String(), Bucket: "backups", AccessKeyID: "k", SecretKeyFile: "s3.secret",
		MinRetentionDays: 7, GoneTimeout: duration.Duration(2 * time.Second)}, s3.Options{SecretKeyPath: secret})
	if err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := b.WaitUnreachable(cancelled); err == nil {
		t.Fatal("WaitUnreachable with a cancelled context reported an answering endpoint as gone")
	}
	if err := b.WaitUnreachable(context.Background()); err == nil {
		t.Fatal("WaitUnreachable reported an answering endpoint as gone")
	}
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.WaitUnreachable(context.Background()); err != nil {
		t.Fatalf("closed endpoint: %v", err)
	}
}
