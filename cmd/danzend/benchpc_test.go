package main_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/relay"
)

// danzend on a bench PC, as the README's "Try danzend on a Linux PC" runs
// it: an example configuration with its state folders moved and its
// relays simulated, restic_binary left at the image's path. restic is
// looked up: DANZEN_RESTIC, else PATH; with neither, the cycle says so.
func TestDanzendFindsResticOnABenchPC(t *testing.T) {
	if _, err := os.Stat(config.DefaultResticBinary); err == nil {
		t.Skipf("%s exists here: this is not a bench PC", config.DefaultResticBinary)
	}
	bin := buildDanzend(t)
	dir := exampleOnABenchPC(t, relay.DriverSimulated)
	fake := filepath.Join(t.TempDir(), "restic")
	if err := os.WriteFile(fake, []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()

	logs := cycleOnce(t, bin, dir, empty, "")
	if !strings.Contains(logs, "cycle failed") || !strings.Contains(logs, "restic not found") || !strings.Contains(logs, config.ResticEnv) {
		t.Fatalf("no restic anywhere: the cycle does not say so:\n%s", logs)
	}
	// Found, the cycle goes on to the pull, which fails on the missing
	// pull key: the example's server is not here.
	for _, env := range [][2]string{{empty, fake}, {filepath.Dir(fake), ""}} {
		logs := cycleOnce(t, bin, dir, env[0], env[1])
		if strings.Contains(logs, "restic not found") || !strings.Contains(logs, "emr.key does not exist") {
			t.Errorf("PATH=%s %s=%s: restic was not found, or the cycle stopped before the pull:\n%s", env[0], config.ResticEnv, env[1], logs)
		}
	}
}

// exampleOnABenchPC is the README's recipe: pi5-two-disks.json in a new
// state folder, its state folders moved there and its relays given
// driver ("simulated"). Its disks' serials are on no disk here; they are
// given a second to appear.
func exampleOnABenchPC(t *testing.T, driver string) string {
	t.Helper()
	dir := t.TempDir()
	c, err := config.Load(filepath.Join("..", "..", "config", "examples", "pi5-two-disks.json"))
	if err != nil {
		t.Fatal(err)
	}
	c.StagingDir, c.SecretsDir, c.LedgerDir = filepath.Join(dir, "staging"), filepath.Join(dir, "secrets"), filepath.Join(dir, "ledger")
	for i := range c.Relays {
		c.Relays[i].Driver = driver
	}
	for _, m := range c.Media {
		m.Disk.AppearTimeout = config.Duration(time.Second)
	}
	if c.ResticBinary != config.DefaultResticBinary {
		t.Fatalf("the example sets restic_binary to %q", c.ResticBinary)
	}
	if err := config.Save(filepath.Join(dir, "config.json"), c); err != nil {
		t.Fatal(err)
	}
	return dir
}

// The fake driver's pins are given only by tests and the demo: danzend
// stops at once, saying what to use instead.
func TestDanzendRefusesTheFakeRelayDriver(t *testing.T) {
	bin := buildDanzend(t)
	d := start(t, bin, exampleOnABenchPC(t, relay.DriverFake))
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		logs := d.logs.String()
		if err == nil || !strings.Contains(logs, `driver \"fake\" is for tests and the demo only`) || !strings.Contains(logs, `use \"simulated\"`) {
			t.Fatalf("exit %v:\n%s", err, logs)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("danzend runs on a fake relay:\n%s", d.logs.String())
	}
}

// cycleOnce runs danzend on dir with -cycle-now, PATH and DANZEN_RESTIC
// set as given, and stops it once the cycle is over; it returns what
// danzend logged.
func cycleOnce(t *testing.T, bin, dir, path, restic string) string {
	t.Helper()
	t.Setenv("PATH", path)
	t.Setenv(config.ResticEnv, restic)
	d := start(t, bin, dir, "-cycle-now")
	for deadline := time.Now().Add(time.Minute); !strings.Contains(d.logs.String(), "scheduling cycles"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the cycle did not end within a minute:\n%s", d.logs.String())
		}
	}
	d.stop(t)
	return d.logs.String()
}

func buildDanzend(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "danzend")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}
