// Package rig builds a gateway's whole world for tests: a real OpenSSH
// sshd on 127.0.0.1 serving an export, file-backed disks behind fake
// relays (demo.Hardware), and a configuration for them. It needs root,
// sshd and the restic binary that `make test` builds (DANZEN_RESTIC).
package rig

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/internal/sshdtest"
)

// Rig is one test's gateway world.
type Rig struct {
	SSHD    *sshdtest.Server
	HW      *demo.Hardware
	Cfg     *config.Config
	Dir     string
	CfgPath string
}

// Restic returns the restic binary the tests use, failing the test with
// what to do when it is missing.
func Restic(t testing.TB) string {
	t.Helper()
	p := os.Getenv("DANZEN_RESTIC")
	if p == "" {
		t.Fatal("DANZEN_RESTIC is not set: run make test, which builds bin/restic")
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("restic binary: %v (run make test, which builds bin/restic)", err)
	}
	return p
}

// New starts sshd with files (path → content, an hour old), creates one
// disk image of diskSize per medium name, and a valid configuration.
func New(t testing.TB, files map[string]string, media []string, diskSize int64) *Rig {
	return NewWith(t, files, media, diskSize, demo.HardwareOptions{})
}

// NewWith is New with hardware options.
func NewWith(t testing.TB, files map[string]string, media []string, diskSize int64, hwo demo.HardwareOptions) *Rig {
	t.Helper()
	ctx := context.Background()
	s, err := sshdtest.Start(ctx, sshdtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	past := time.Now().Add(-time.Hour)
	for rel, data := range files {
		if err := s.WriteFile(rel, []byte(data), past); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	hw, err := demo.NewHardwareWith(ctx, filepath.Join(dir, "disks"), media, diskSize, slog.New(slog.DiscardHandler), hwo)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hw.Close() })
	cfg := config.Default()
	cfg.GatewayID = "gw-test"
	cfg.StagingDir = filepath.Join(dir, "staging")
	cfg.SecretsDir = filepath.Join(dir, "secrets")
	cfg.LedgerDir = filepath.Join(dir, "ledger")
	cfg.ResticBinary = Restic(t)
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(time.Second)}
	cfg.Sources = []config.Source{src}
	cfg.Relays, cfg.Media = hw.Relays, hw.Media
	cfg.CheckSubset = "100%"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &Rig{SSHD: s, HW: hw, Cfg: cfg, Dir: dir, CfgPath: filepath.Join(dir, "config.json")}
}

// DamagePack overwrites bytes in the middle of the biggest pack of the
// restic repository at repo, as a failing sector would, and returns the
// pack's path.
func DamagePack(repo string) (string, error) {
	var biggest string
	var size int64
	err := filepath.WalkDir(filepath.Join(repo, "data"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if fi, err := d.Info(); err == nil && fi.Mode().IsRegular() && fi.Size() > size {
			biggest, size = p, fi.Size()
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if biggest == "" {
		return "", errors.New("no pack in " + repo)
	}
	f, err := os.OpenFile(biggest, os.O_WRONLY, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	_, err = f.WriteAt([]byte("a failing sector"), size/2)
	return biggest, err
}
