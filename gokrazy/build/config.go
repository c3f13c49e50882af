// Package build turns a gokrazy instance directory (config.json plus the
// builddir/ of go.mod pins, laid out as gokrazy's gok tool lays them out) into
// a bootable gokrazy disk image, or into the root and boot file systems that
// an over-the-air update sends.
//
// gok itself is not available from the module proxy danzen builds with, so
// this package re-implements the part of it that danzen uses, following
// gokrazy's published formats: config.json field names and defaults, the
// partition layout (GPT plus a hybrid MBR so that the Raspberry Pi firmware
// still finds the boot partition), the root file system contents, and a FAT16
// boot file system that gokrazy's own minimal FAT reader can update in place.
package build

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// Config is an instance's config.json, with the field names, JSON encoding
// and defaults of gokrazy's config.Struct (github.com/gokrazy/internal/config),
// so that the same file works with gok.
type Config struct {
	Hostname   string
	DeviceType string        `json:",omitempty"`
	Update     *UpdateConfig `json:",omitempty"`

	// Environment holds KEY=value pairs for the build; GOARCH selects the
	// target architecture (gokrazy's default is arm64).
	Environment []string `json:",omitempty"`

	Packages      []string
	PackageConfig map[string]PackageConfig `json:",omitempty"`

	SerialConsole string `json:",omitempty"`

	// Pointers distinguish "unset" (use gokrazy's default) from "" (none).
	GokrazyPackages *[]string `json:",omitempty"`
	KernelPackage   *string   `json:",omitempty"`
	FirmwarePackage *string   `json:",omitempty"`
	EEPROMPackage   *string   `json:",omitempty"`

	KernelExtraArgs       []string      `json:",omitempty"`
	BootloaderExtraLines  []string      `json:",omitempty"`
	BootloaderExtraEEPROM []string      `json:",omitempty"`
	MountDevices          []MountDevice `json:",omitempty"`

	// InternalCompatibilityFlags is written by older gok versions; it is
	// accepted so their files parse, but none of its fields is used here.
	InternalCompatibilityFlags json.RawMessage `json:",omitempty"`
}

// UpdateConfig is config.json's "Update" object.
type UpdateConfig struct {
	Hostname     string `json:",omitempty"`
	UseTLS       string `json:",omitempty"`
	NoPassword   bool   `json:",omitempty"`
	HTTPPort     string `json:",omitempty"`
	HTTPSPort    string `json:",omitempty"`
	HTTPPassword string `json:",omitempty"`
	CertPEM      string `json:",omitempty"`
	KeyPEM       string `json:",omitempty"`
}

// PackageConfig is one entry of config.json's "PackageConfig" map.
type PackageConfig struct {
	GoBuildEnvironment []string          `json:",omitempty"`
	GoBuildFlags       []string          `json:",omitempty"`
	GoBuildTags        []string          `json:",omitempty"`
	ExtraFilePaths     map[string]string `json:",omitempty"`
	ExtraFileContents  map[string]string `json:",omitempty"`
	Basename           string            `json:",omitempty"`
	Environment        []string          `json:",omitempty"`
	CommandLineFlags   []string          `json:",omitempty"`
	DontStart          bool              `json:",omitempty"`
	WaitForClock       bool              `json:",omitempty"`
}

// MountDevice is one entry of config.json's "MountDevices".
type MountDevice struct {
	Source  string
	Type    string
	Target  string
	Options string
}

// Instance is a loaded instance directory, e.g. gokrazy/danzen-amd64.
type Instance struct {
	Name   string // directory name, e.g. "danzen-amd64"
	Dir    string // absolute path of the instance directory
	Config *Config
}

// LoadInstance reads dir/config.json and checks that this builder can honour
// every field it sets.
func LoadInstance(dir string) (*Instance, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("instance directory %s: %w", dir, err)
	}
	fn := filepath.Join(abs, "config.json")
	b, err := os.ReadFile(fn)
	if err != nil {
		return nil, fmt.Errorf("reading the instance config: %w", err)
	}
	cfg, err := ParseConfig(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", fn, err)
	}
	return &Instance{Name: filepath.Base(abs), Dir: abs, Config: cfg}, nil
}

// ParseConfig decodes a config.json. Unknown fields are an error rather than
// silently ignored: a setting that gok would honour but this builder does not
// know must not produce an image that quietly lacks it.
func ParseConfig(b []byte) (*Config, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var cfg Config
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("decoding config.json: %w", err)
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (c *Config) validate() error {
	var errs []error
	if c.Hostname == "" {
		errs = append(errs, errors.New("the Hostname is empty: set the device's hostname"))
	}
	for _, kv := range c.Environment {
		if !strings.Contains(kv, "=") {
			errs = append(errs, fmt.Errorf("the Environment entry %q is not KEY=value", kv))
		}
	}
	switch c.GOARCH() {
	case "amd64", "arm64":
	default:
		errs = append(errs, fmt.Errorf("GOARCH=%s in Environment: only amd64 and arm64 images can be built", c.GOARCH()))
	}
	if c.KernelPackage != nil && *c.KernelPackage == "" {
		errs = append(errs, errors.New("KernelPackage is empty: an image needs a kernel (e.g. github.com/gokrazy/kernel.amd64)"))
	}
	if c.DeviceType != "" {
		errs = append(errs, fmt.Errorf("DeviceType %q is not supported here (only the default Raspberry Pi / PC layout); build it with gok", c.DeviceType))
	}
	if len(c.BootloaderExtraEEPROM) > 0 {
		errs = append(errs, errors.New("BootloaderExtraEEPROM is not supported here (it needs the EEPROM image rewritten); build it with gok or remove it"))
	}
	if u := c.Update; u != nil {
		if u.UseTLS != "" && u.UseTLS != "off" {
			errs = append(errs, fmt.Errorf("Update.UseTLS %q is not supported here: the image serves plain HTTP; use \"off\" or build with gok", u.UseTLS))
		}
		if u.CertPEM != "" || u.KeyPEM != "" {
			errs = append(errs, errors.New("Update.CertPEM/KeyPEM are not supported here: the image serves plain HTTP"))
		}
	}
	seen := make(map[string]string)
	for _, pkg := range append(c.GokrazyPackagesOrDefault(), c.Packages...) {
		if strings.HasSuffix(pkg, "...") {
			errs = append(errs, fmt.Errorf("package %q: wildcards are not supported; list each program", pkg))
			continue
		}
		dir := "/user/"
		if c.isGokrazyPackage(pkg) {
			dir = "/gokrazy/"
		}
		p := dir + c.Basename(pkg)
		if other, ok := seen[p]; ok {
			errs = append(errs, fmt.Errorf("packages %s and %s would both install %s; set a Basename in PackageConfig", other, pkg, p))
		}
		seen[p] = pkg
	}
	for pkg, pc := range c.PackageConfig {
		for dest := range pc.ExtraFilePaths {
			errs = append(errs, checkExtraDest(pkg, dest))
		}
		for dest := range pc.ExtraFileContents {
			errs = append(errs, checkExtraDest(pkg, dest))
		}
		for _, kv := range append(append([]string{}, pc.Environment...), pc.GoBuildEnvironment...) {
			if !strings.Contains(kv, "=") {
				errs = append(errs, fmt.Errorf("PackageConfig[%s]: environment entry %q is not KEY=value", pkg, kv))
			}
		}
		for _, f := range pc.GoBuildFlags {
			if strings.HasPrefix(f, "-tags") {
				errs = append(errs, fmt.Errorf("PackageConfig[%s].GoBuildFlags: put build tags in GoBuildTags, -tags would drop gokrazy's own", pkg))
			}
		}
	}
	return errors.Join(errs...)
}

func checkExtraDest(pkg, dest string) error {
	clean := path.Clean(dest)
	switch {
	case !path.IsAbs(dest):
		return fmt.Errorf("PackageConfig[%s]: extra file %q must be an absolute path in the root file system", pkg, dest)
	case clean == "/perm" || strings.HasPrefix(clean, "/perm/"):
		return fmt.Errorf("PackageConfig[%s]: extra file %q is on /perm, which belongs to the device, not the image", pkg, dest)
	}
	return nil
}

// GOARCH is the instance's target architecture (gok's default: arm64).
func (c *Config) GOARCH() string {
	if v, ok := c.env("GOARCH"); ok {
		return v
	}
	return "arm64"
}

func (c *Config) env(key string) (string, bool) {
	for _, kv := range c.Environment {
		if k, v, ok := strings.Cut(kv, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// GokrazyPackagesOrDefault lists the system programs installed in /gokrazy.
func (c *Config) GokrazyPackagesOrDefault() []string {
	if c.GokrazyPackages == nil {
		return []string{
			"github.com/gokrazy/gokrazy/cmd/dhcp",
			"github.com/gokrazy/gokrazy/cmd/ntp",
			"github.com/gokrazy/gokrazy/cmd/randomd",
			"github.com/gokrazy/gokrazy/cmd/heartbeat",
		}
	}
	var pkgs []string
	for _, p := range *c.GokrazyPackages {
		if strings.TrimSpace(p) != "" {
			pkgs = append(pkgs, p)
		}
	}
	return pkgs
}

func (c *Config) isGokrazyPackage(pkg string) bool {
	for _, p := range c.GokrazyPackagesOrDefault() {
		if p == pkg {
			return true
		}
	}
	return false
}

// KernelPackageOrDefault is the module holding vmlinuz, DTBs and lib/modules.
func (c *Config) KernelPackageOrDefault() string {
	if c.KernelPackage == nil {
		return "github.com/gokrazy/kernel.rpi"
	}
	return *c.KernelPackage
}

// FirmwarePackageOrDefault is the Raspberry Pi firmware module ("" = none).
func (c *Config) FirmwarePackageOrDefault() string {
	if c.FirmwarePackage == nil {
		return "github.com/gokrazy/firmware"
	}
	return *c.FirmwarePackage
}

// EEPROMPackageOrDefault is the Raspberry Pi EEPROM module ("" = none).
func (c *Config) EEPROMPackageOrDefault() string {
	if c.EEPROMPackage == nil {
		return "github.com/gokrazy/rpi-eeprom"
	}
	return *c.EEPROMPackage
}

// SerialConsoleOrDefault is the console= value, "disabled" or "off".
func (c *Config) SerialConsoleOrDefault() string {
	if c.SerialConsole == "" {
		return "serial0,115200"
	}
	return c.SerialConsole
}

// Basename is the file name a package's program gets under /user or /gokrazy:
// the last import path element (skipping a /vN major version suffix), unless
// PackageConfig sets Basename.
func (c *Config) Basename(pkg string) string {
	if b := c.PackageConfig[pkg].Basename; b != "" {
		return b
	}
	base := path.Base(pkg)
	if isMajorVersion(base) {
		return path.Base(path.Dir(pkg))
	}
	return base
}

func isMajorVersion(s string) bool {
	if len(s) < 2 || s[0] != 'v' || s[1] == '0' || (s[1] == '1' && len(s) == 2) {
		return false
	}
	for _, r := range s[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// HTTPPort is the port of gokrazy's web interface (default 80).
func (c *Config) HTTPPort() string {
	if c.Update != nil && c.Update.HTTPPort != "" {
		return c.Update.HTTPPort
	}
	return "80"
}

// HTTPSPort is written to /etc/https-port.txt as gok does (default 443).
func (c *Config) HTTPSPort() string {
	if c.Update != nil && c.Update.HTTPSPort != "" {
		return c.Update.HTTPSPort
	}
	return "443"
}

// UpdateHost is the address an update is sent to (Update.Hostname, else Hostname).
func (c *Config) UpdateHost() string {
	if c.Update != nil && c.Update.Hostname != "" {
		return c.Update.Hostname
	}
	return c.Hostname
}

// NoPassword reports whether the image is built without /etc/gokr-pw.txt.
func (c *Config) NoPassword() bool { return c.Update != nil && c.Update.NoPassword }

// HTTPPassword finds the web interface password the way gok does:
// Update.HTTPPassword, else ~/.config/gokrazy/hosts/<hostname>/http-password.txt,
// else ~/.config/gokrazy/http-password.txt. ok is false when none is set.
func (c *Config) HTTPPassword() (pw string, ok bool, err error) {
	if c.Update != nil && c.Update.HTTPPassword != "" {
		return c.Update.HTTPPassword, true, nil
	}
	dir, err := gokrazyConfigDir()
	if err != nil {
		return "", false, err
	}
	for _, fn := range []string{
		filepath.Join(dir, "hosts", c.Hostname, "http-password.txt"),
		filepath.Join(dir, "http-password.txt"),
	} {
		b, err := os.ReadFile(fn)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", false, fmt.Errorf("reading the gokrazy password: %w", err)
		}
		if pw := strings.TrimSpace(string(b)); pw != "" {
			return pw, true, nil
		}
	}
	return "", false, nil
}

// ensureHTTPPassword returns the password to bake into the image, creating a
// random one in ~/.config/gokrazy/http-password.txt (as gok does) when none is
// configured, so that later builds and updates use the same one.
func (c *Config) ensureHTTPPassword() (string, error) {
	pw, ok, err := c.HTTPPassword()
	if err != nil || ok {
		return pw, err
	}
	const charset = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	buf := make([]byte, 20)
	for i := range buf {
		n, err := rand.Int(rand.Reader, big.NewInt(int64(len(charset))))
		if err != nil {
			return "", fmt.Errorf("generating a gokrazy password: %w", err)
		}
		buf[i] = charset[n.Int64()]
	}
	dir, err := gokrazyConfigDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("storing the new gokrazy password: %w", err)
	}
	fn := filepath.Join(dir, "http-password.txt")
	if err := os.WriteFile(fn, buf, 0o600); err != nil {
		return "", fmt.Errorf("storing the new gokrazy password: %w", err)
	}
	return string(buf), nil
}

func gokrazyConfigDir() (string, error) {
	d, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding ~/.config for the gokrazy password: %w", err)
	}
	return filepath.Join(d, "gokrazy"), nil
}
