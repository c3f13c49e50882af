package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/relay"
)

// The example configurations are complete: each passes the CLI's check
// (`danzen config check`), and each is the gateway its name says.
func TestExamplesAreCompleteConfigurations(t *testing.T) {
	readme, err := os.ReadFile(filepath.Join("examples", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]func(*Config) bool{
		"pi5-two-disks.json": func(c *Config) bool {
			return len(c.Media) == 2 && c.Media[0].Disk != nil && c.Media[1].Disk != nil && c.Rotation.PerCycle == 1 &&
				realRelays(c, relay.DriverGPIO) == 2 && c.Relays[0].Chip == "pinctrl-rp1"
		},
		"amd64-rdx-s3.json": func(c *Config) bool {
			return len(c.Media) == 2 && c.Media[0].Disk != nil && c.Media[0].Disk.RDX && c.Media[1].S3 != nil && realRelays(c, relay.DriverModbus) == 1
		},
		"amd64-tape.json": func(c *Config) bool {
			return len(c.Media) == 1 && c.Media[0].Tape != nil && realRelays(c, relay.DriverGPIO) == 1
		},
	}
	files, err := filepath.Glob(filepath.Join("examples", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		name := filepath.Base(f)
		names = append(names, name)
		c, err := Load(f)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if is, ok := want[name]; !ok || !is(c) {
			t.Errorf("%s is not the gateway its name says", name)
		}
		if !strings.Contains(string(readme), "`"+name+"`") {
			t.Errorf("examples/README.md says nothing about %s", name)
		}
	}
	for name := range want {
		if !slices.Contains(names, name) {
			t.Errorf("examples/%s is missing", name)
		}
	}
}

// realRelays counts the relays of driver that power a medium.
func realRelays(c *Config, driver string) int {
	n := 0
	for _, m := range c.Media {
		for _, r := range c.Relays {
			if r.Name == m.Relay && r.Driver == driver {
				n++
			}
		}
	}
	return n
}
