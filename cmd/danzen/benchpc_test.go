package main_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
)

// A configuration written for the appliance, on a bench PC: the relay
// driver the CLI cannot drive is refused by the check, and restic is
// looked up when restic_binary is left at the image's path.

func TestConfigCheckRefusesTheFakeRelayDriver(t *testing.T) {
	bin := build(t)
	dir := t.TempDir()
	c := checkedConfig(dir)
	c.Relays[1].Driver = relay.DriverFake
	out, code := runIn(t, "en_US.UTF-8", bin, "config", "check", "--config", writeCheckedConfig(t, dir, c))
	if code != 1 || !strings.Contains(out, `  relays[1].driver: driver "fake" is for tests and the demo only`) || !strings.Contains(out, `use "simulated"`) {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestCLIFindsResticWhenRestic_binaryIsLeftAtItsDefault(t *testing.T) {
	if _, err := os.Stat(config.DefaultResticBinary); err == nil {
		t.Skipf("%s exists here: this is not a bench PC", config.DefaultResticBinary)
	}
	bin := build(t)
	dir := t.TempDir()
	c := checkedConfig(dir)
	c.Relays = []relay.Spec{{Name: "relay-disk-a", Driver: relay.DriverSimulated}}
	c.Media = []config.Medium{{Name: "disk-a", Type: config.MediumDisk, Relay: "relay-disk-a", PasswordFile: "disk-a.restic-password",
		Disk: &disk.Spec{Name: "disk-a", Serial: "DANZEN-NO-SUCH-DISK", MediaID: "disk-a", AppearTimeout: disk.Duration(time.Second)}}}
	p := writeCheckedConfig(t, dir, c)
	medium := func(env ...string) string {
		t.Helper()
		for _, kv := range env {
			k, v, _ := strings.Cut(kv, "=")
			t.Setenv(k, v)
		}
		out, code := runIn(t, "en_US.UTF-8", bin, "medium", "init", "--config", p, "--medium", "disk-a", "--password-recorded")
		if code != 1 {
			t.Fatalf("exit %d, want 1 (no such disk):\n%s", code, out)
		}
		return out
	}
	emptyPath := t.TempDir()
	out := medium("PATH="+emptyPath, config.ResticEnv+"=")
	if !strings.Contains(out, "restic not found") || !strings.Contains(out, config.ResticEnv) {
		t.Fatalf("no restic anywhere:\n%s", out)
	}
	// Found through DANZEN_RESTIC, and on PATH: the medium init goes on
	// to power the disk, which does not appear.
	fake := filepath.Join(t.TempDir(), "restic")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, env := range [][]string{{"PATH=" + emptyPath, config.ResticEnv + "=" + fake}, {"PATH=" + filepath.Dir(fake), config.ResticEnv + "="}} {
		if out := medium(env...); strings.Contains(out, "restic not found") || !strings.Contains(out, "DANZEN-NO-SUCH-DISK") {
			t.Errorf("%s: restic was not found, or the medium init stopped before the disk:\n%s", env, out)
		}
	}
}
