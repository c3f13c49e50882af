package build_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/gokrazy/build"
)

// dhcpPkg is gokrazy's DHCP client, which danzend runs (netconf).
const dhcpPkg = "github.com/gokrazy/gokrazy/cmd/dhcp"

// TestInstanceConfigs checks both shipped instances: the settings the
// product depends on, and that every package they name is pinned by a
// go.mod in builddir/ where gok looks for it.
func TestInstanceConfigs(t *testing.T) {
	root := repoRoot(t)
	for _, tc := range []struct {
		name, goarch, kernel, firmware, eeprom, serial string
		extraArgs                                      []string
		pinned                                         []string
	}{
		{
			name: "danzen-amd64", goarch: "amd64",
			kernel: "github.com/gokrazy/kernel.amd64", serial: "ttyS0,115200",
			extraArgs: []string{"rootdelay=0"},
			pinned:    []string{"github.com/gokrazy/kernel.amd64"},
		},
		{
			name: "danzen-rpi", goarch: "arm64",
			kernel: "github.com/gokrazy/kernel.rpi", firmware: "github.com/gokrazy/firmware",
			eeprom: "github.com/gokrazy/rpi-eeprom", serial: "serial0,115200",
			pinned: []string{"github.com/gokrazy/kernel.rpi", "github.com/gokrazy/firmware", "github.com/gokrazy/rpi-eeprom"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(root, "gokrazy", tc.name)
			inst, err := build.LoadInstance(dir)
			if err != nil {
				t.Fatal(err)
			}
			c := inst.Config
			if c.Hostname != "danzen" {
				t.Errorf("Hostname = %q, want danzen", c.Hostname)
			}
			if got := c.GOARCH(); got != tc.goarch {
				t.Errorf("GOARCH = %s, want %s", got, tc.goarch)
			}
			if !slices.Equal(c.Packages, []string{danzendPkg, resticPkg}) {
				t.Errorf("Packages = %v, want danzend and restic", c.Packages)
			}
			if !c.PackageConfig[resticPkg].DontStart {
				t.Error("restic must be DontStart: it is a tool danzend runs, not a service")
			}
			if c.PackageConfig[danzendPkg].DontStart {
				t.Error("danzend must start on boot")
			}
			// danzend runs gokrazy's DHCP client itself (DHCP or the static
			// address from the page) and keeps the time from the
			// hospital's NTP servers, never the public pool.
			if !slices.Contains(c.GokrazyPackagesOrDefault(), dhcpPkg) || !c.PackageConfig[dhcpPkg].DontStart {
				t.Error("gokrazy's dhcp must be installed DontStart: danzend runs it with the page's settings")
			}
			if slices.Contains(c.GokrazyPackagesOrDefault(), "github.com/gokrazy/gokrazy/cmd/ntp") {
				t.Error("gokrazy's ntp asks the public pool; danzend keeps the time itself and it must not be in the image")
			}
			if got := c.KernelPackageOrDefault(); got != tc.kernel {
				t.Errorf("KernelPackage = %s, want %s", got, tc.kernel)
			}
			if got := c.FirmwarePackageOrDefault(); got != tc.firmware {
				t.Errorf("FirmwarePackage = %q, want %q", got, tc.firmware)
			}
			if got := c.EEPROMPackageOrDefault(); got != tc.eeprom {
				t.Errorf("EEPROMPackage = %q, want %q", got, tc.eeprom)
			}
			if got := c.SerialConsoleOrDefault(); got != tc.serial {
				t.Errorf("SerialConsole = %q, want %q", got, tc.serial)
			}
			for _, a := range tc.extraArgs {
				if !slices.Contains(c.KernelExtraArgs, a) {
					t.Errorf("KernelExtraArgs %v lacks %s", c.KernelExtraArgs, a)
				}
			}
			if slices.Contains(c.GokrazyPackagesOrDefault(), "github.com/gokrazy/gokrazy/cmd/heartbeat") {
				t.Error("heartbeat reports to a gokrazy update server; an offline-backup appliance must not include it")
			}
			if c.Update != nil && c.Update.HTTPPassword != "" {
				t.Error("the checked-in config must not carry the device password")
			}
			if c.HTTPPort() != "80" {
				t.Errorf("HTTPPort = %s, want gokrazy's 80", c.HTTPPort())
			}

			// Every package has pins where gok's builddir lookup finds them.
			pkgs := append(append(append([]string{"init"}, c.Packages...), c.GokrazyPackagesOrDefault()...), tc.pinned...)
			for _, pkg := range pkgs {
				if pinningGoMod(dir, pkg) == "" {
					t.Errorf("no builddir go.mod pins %s", pkg)
				}
			}

			// danzend is local code: its builddir replaces the module with this checkout.
			mod := goModJSON(t, filepath.Join(dir, "builddir", filepath.FromSlash(danzendPkg), "go.mod"))
			var replaced string
			for _, r := range mod.Replace {
				if r.Old.Path == danzenModule {
					replaced = filepath.Join(dir, "builddir", filepath.FromSlash(danzendPkg), r.New.Path)
				}
			}
			if replaced != root {
				t.Errorf("danzend's builddir replaces %s with %q, want the repository root %s", danzenModule, replaced, root)
			}
		})
	}
}

// pinningGoMod mirrors gok's lookup: builddir/<pkg>/go.mod, then each parent.
func pinningGoMod(instDir, pkg string) string {
	rel := filepath.FromSlash(pkg)
	for {
		fn := filepath.Join(instDir, "builddir", rel, "go.mod")
		if _, err := os.Stat(fn); err == nil {
			return fn
		}
		if rel == "." {
			return ""
		}
		rel = filepath.Dir(rel)
	}
}

type goMod struct {
	Require []struct{ Path, Version string }
	Replace []struct {
		Old, New struct{ Path, Version string }
	}
}

func goModJSON(t *testing.T, fn string) goMod {
	t.Helper()
	out, err := exec.Command("go", "mod", "edit", "-json", fn).Output()
	if err != nil {
		t.Fatalf("go mod edit -json %s: %v", fn, err)
	}
	var m goMod
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// TestResticPinnedAsResticSays checks that restic's builddir builds restic
// v0.19.1 with exactly the dependency versions of restic's own go.mod.
func TestResticPinnedAsResticSays(t *testing.T) {
	out, err := exec.Command("go", "mod", "download", "-json", "github.com/restic/restic@v0.19.1").Output()
	if err != nil {
		t.Fatalf("go mod download restic@v0.19.1: %v", err)
	}
	var dl struct{ GoMod string }
	if err := json.Unmarshal(out, &dl); err != nil {
		t.Fatal(err)
	}
	want := make(map[string]string)
	for _, r := range goModJSON(t, dl.GoMod).Require {
		want[r.Path] = r.Version
	}
	for _, inst := range []string{"danzen-amd64", "danzen-rpi"} {
		fn := pinningGoMod(filepath.Join(repoRoot(t), "gokrazy", inst), resticPkg)
		if !strings.HasSuffix(fn, filepath.FromSlash("builddir/"+resticPkg+"/go.mod")) {
			t.Errorf("%s: restic should have its own builddir, got %q", inst, fn)
			continue
		}
		m := goModJSON(t, fn)
		var sawRestic bool
		for _, r := range m.Require {
			if r.Path == "github.com/restic/restic" {
				sawRestic = r.Version == "v0.19.1"
				continue
			}
			if v, ok := want[r.Path]; !ok || v != r.Version {
				t.Errorf("%s: %s %s, but restic v0.19.1's go.mod says %q", inst, r.Path, r.Version, v)
			}
		}
		if !sawRestic {
			t.Errorf("%s: restic's builddir does not require github.com/restic/restic v0.19.1", inst)
		}
	}
}

func TestParseConfigRejects(t *testing.T) {
	for _, tc := range []struct{ name, json, want string }{
		{"unknown field", `{"Hostname":"x","Packagez":[]}`, "Packagez"},
		{"no hostname", `{"Packages":[]}`, "Hostname"},
		{"device type", `{"Hostname":"x","DeviceType":"odroidhc1"}`, "DeviceType"},
		{"eeprom config", `{"Hostname":"x","BootloaderExtraEEPROM":["BOOT_ORDER=0xf41"]}`, "BootloaderExtraEEPROM"},
		{"tls", `{"Hostname":"x","Update":{"UseTLS":"self-signed"}}`, "UseTLS"},
		{"wildcard", `{"Hostname":"x","Packages":["example.com/cmd/..."]}`, "wildcards"},
		{"perm extra file", `{"Hostname":"x","PackageConfig":{"p":{"ExtraFileContents":{"/perm/x":"y"}}}}`, "/perm"},
		{"relative extra file", `{"Hostname":"x","PackageConfig":{"p":{"ExtraFileContents":{"etc/x":"y"}}}}`, "absolute"},
		{"tags in flags", `{"Hostname":"x","PackageConfig":{"p":{"GoBuildFlags":["-tags=foo"]}}}`, "GoBuildTags"},
		{"basename clash", `{"Hostname":"x","Packages":["a.example/x/tool","b.example/y/tool"]}`, "Basename"},
		{"386", `{"Hostname":"x","Environment":["GOARCH=386"]}`, "GOARCH"},
		{"no kernel", `{"Hostname":"x","KernelPackage":""}`, "KernelPackage"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := build.ParseConfig([]byte(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseConfig(%s) = %v, want an error mentioning %q", tc.json, err, tc.want)
			}
		})
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := build.ParseConfig([]byte(`{"Hostname":"h","Packages":["example.com/foo/v2","example.com/bar/cmd/baz"],
		"PackageConfig":{"example.com/bar/cmd/baz":{"Basename":"qux"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	if c.GOARCH() != "arm64" || c.KernelPackageOrDefault() != "github.com/gokrazy/kernel.rpi" ||
		c.FirmwarePackageOrDefault() != "github.com/gokrazy/firmware" || c.EEPROMPackageOrDefault() != "github.com/gokrazy/rpi-eeprom" ||
		c.SerialConsoleOrDefault() != "serial0,115200" || c.HTTPPort() != "80" || len(c.GokrazyPackagesOrDefault()) != 4 {
		t.Errorf("defaults differ from gokrazy's: %+v", c)
	}
	if got := c.Basename("example.com/foo/v2"); got != "foo" {
		t.Errorf("Basename(example.com/foo/v2) = %s, want foo", got)
	}
	if got := c.Basename("example.com/bar/cmd/baz"); got != "qux" {
		t.Errorf("Basename override = %s, want qux", got)
	}
}

func TestPartUUID(t *testing.T) {
	// gokrazy derives PARTUUIDs from the FNV-1a hash of the hostname.
	if got, want := build.PartUUID("danzen", 1), "60c24cc1-f3f9-427a-8199-578f8a250001"; got != want {
		t.Errorf("PartUUID(danzen, 1) = %s, want %s", got, want)
	}
}
