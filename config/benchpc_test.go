package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/relay"
)

// On a bench PC restic_binary is left at the image's path, which is not
// there: restic is looked up instead.
func TestResticIsFoundOnABenchPC(t *testing.T) {
	if _, err := os.Stat(DefaultResticBinary); err == nil {
		t.Skipf("%s exists here: this is not a bench PC", DefaultResticBinary)
	}
	c := validConfig()
	if c.ResticBinary != DefaultResticBinary {
		t.Fatalf("restic_binary defaults to %q", c.ResticBinary)
	}
	onPath := t.TempDir()
	if err := os.WriteFile(filepath.Join(onPath, "restic"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}

	t.Setenv("PATH", onPath)
	t.Setenv(ResticEnv, "/opt/restic-0.19.1/restic")
	if got, err := c.Restic(); err != nil || got != "/opt/restic-0.19.1/restic" {
		t.Errorf("with %s set: %q, %v", ResticEnv, got, err)
	}
	t.Setenv(ResticEnv, "")
	if got, err := c.Restic(); err != nil || got != filepath.Join(onPath, "restic") {
		t.Errorf("restic on PATH: %q, %v", got, err)
	}

	t.Setenv("PATH", t.TempDir())
	_, err := c.Restic()
	for _, l := range []msg.Lang{msg.JA, msg.EN} {
		if s := msg.In(err, l); err == nil || !strings.Contains(s, ResticEnv) || !strings.Contains(s, "PATH") || !strings.Contains(s, "restic_binary") {
			t.Errorf("%v: no restic anywhere says %q", l, s)
		}
	}

	// A path written in the file is what runs, wherever that is.
	t.Setenv(ResticEnv, "/opt/restic-0.19.1/restic")
	c.ResticBinary = "/srv/tools/restic"
	if got, err := c.Restic(); err != nil || got != "/srv/tools/restic" {
		t.Errorf("restic_binary set: %q, %v", got, err)
	}
}

// The fake relay driver takes its pins from the program that opens the
// gateway (tests, the demo): the CLI refuses a file that names it, and
// says what to use on a PC without relays.
func TestFakeRelayIsRefusedForTheCLI(t *testing.T) {
	c := validConfig()
	c.Relays[1] = relay.Spec{Name: "r2", Driver: relay.DriverFake, Chip: "fake0", Line: 3}
	if err := c.Validate(); err != nil {
		t.Fatalf("the demo's and the tests' configuration is refused: %v", err)
	}
	p := filepath.Join(t.TempDir(), "config.json")
	if err := Save(p, c); err != nil {
		t.Fatal(err)
	}
	if _, _, err := LoadUnfinished(p); err != nil {
		t.Fatalf("the gateway's start-up (which is given the pins in the demo) refuses it: %v", err)
	}
	for name, load := range map[string]func(string) (*Config, error){"Load": Load, "LoadUnpinned": LoadUnpinned} {
		_, err := load(p)
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "relays[1].driver" {
			t.Fatalf("%s: %v", name, err)
		}
		for _, l := range []msg.Lang{msg.JA, msg.EN} {
			if s := msg.In(err, l); !strings.Contains(s, `"fake"`) || !strings.Contains(s, `"simulated"`) {
				t.Errorf("%s, %v: %q does not name simulated", name, l, s)
			}
		}
	}
	c.Relays[1].Driver = relay.DriverSimulated
	if err := Save(p, c); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err != nil {
		t.Fatalf("simulated is refused: %v", err)
	}
}
