// Package rig builds a gateway's whole world for tests: a real OpenSSH
// sshd on 127.0.0.1 serving an export, file-backed disks behind fake
// relays (demo.Hardware), and a configuration for them. It needs root,
// sshd, loop devices and the restic binary that `make test` builds
// (DANZEN_RESTIC), so every test that uses it is skipped under -short
// (`make check`) and runs in `make test`.
package rig

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	if testing.Short() {
		t.Skip("runs restic: make test runs it, -short skips it")
	}
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
	if testing.Short() {
		t.Skip("needs root, sshd, loop devices and restic: make test runs it, -short skips it")
	}
	ctx := context.Background()
	s, err := sshdtest.Start(ctx, sshdtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("remove the sshd directories: %v", err)
		}
	})
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
	t.Cleanup(func() {
		if err := hw.Close(); err != nil {
			t.Errorf("close the test disks: %v", err)
		}
	})
	cfg := config.Default()
	cfg.GatewayID = "gw-test"
	cfg.StagingDir = filepath.Join(dir, "staging")
	cfg.SecretsDir = filepath.Join(dir, "secrets")
	cfg.LedgerDir = filepath.Join(dir, "ledger")
	cfg.ResticBinary = Restic(t)
	// The configuration takes secrets only from secrets/: the client keys
	// sshd made move there, so every account the rig hands out uses them.
	for _, key := range []*string{&s.ClientKeyFile, &s.RestoreKeyFile} {
		moved, err := intoSecrets(cfg.SecretsDir, *key)
		if err != nil {
			t.Fatal(err)
		}
		*key = moved
	}
	src := s.Source("emr")
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(time.Second)}
	cfg.Sources = []config.Source{src}
	cfg.Relays, cfg.Media, cfg.RelayModules = hw.Relays, hw.Media, hw.Modules
	cfg.CheckSubset = "100%"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	return &Rig{SSHD: s, HW: hw, Cfg: cfg, Dir: dir, CfgPath: filepath.Join(dir, "config.json")}
}

// intoSecrets copies the key file at p (0600) into dir and returns its
// path there.
func intoSecrets(dir, p string) (string, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", err
	}
	dst := filepath.Join(dir, filepath.Base(p))
	return dst, os.WriteFile(dst, b, 0o600)
}

// DamagePack overwrites bytes in the middle of the biggest pack the
// restic repository's index lists, as a failing sector would, and returns
// the pack's ID. (A pack an aborted backup left outside the index holds
// nothing restorable: damaging it would prove nothing.)
func DamagePack(t testing.TB, repo, passwordFile string) string {
	t.Helper()
	restic := func(args ...string) []byte {
		t.Helper()
		args = append([]string{"--repo", repo, "--password-file", passwordFile, "--no-cache", "--no-lock"}, args...)
		out, err := exec.Command(Restic(t), args...).Output()
		if err != nil {
			t.Fatalf("restic %v: %v", args, err)
		}
		return out
	}
	var biggest string
	var size int64
	for _, idx := range strings.Fields(string(restic("list", "index"))) {
		var ix struct{ Packs []struct{ ID string } }
		if err := json.Unmarshal(restic("cat", "index", idx), &ix); err != nil {
			t.Fatal(err)
		}
		for _, p := range ix.Packs {
			fi, err := os.Stat(filepath.Join(repo, "data", p.ID[:2], p.ID))
			if err == nil && fi.Size() > size {
				biggest, size = p.ID, fi.Size()
			}
		}
	}
	if biggest == "" {
		t.Fatalf("no indexed pack in %s", repo)
	}
	f, err := os.OpenFile(filepath.Join(repo, "data", biggest[:2], biggest), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.WriteAt([]byte("a failing sector"), size/2)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("damage pack %s: %v", biggest, err)
	}
	return biggest
}
