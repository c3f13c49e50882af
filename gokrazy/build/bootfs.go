package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// DefaultSystemdBoot is Debian's systemd-boot (package systemd-boot-efi),
// installed as the removable-media loader of amd64 images.
const DefaultSystemdBoot = "/usr/lib/systemd/boot/efi/systemd-bootx64.efi"

// cmdlinePadding leaves room for gokrazy to rewrite cmdline.txt in place
// (root=… switches and flags) without changing the file's length.
const cmdlinePadding = 64

// kernelCmdline derives the command line like gok: consoles, the kernel
// package's cmdline.txt with root= pointed at this disk by PARTUUID, then
// KernelExtraArgs.
func kernelCmdline(cfg *Config, kernelCmdlineTxt string) (string, error) {
	line := "console=tty1 "
	switch sc := cfg.SerialConsoleOrDefault(); sc {
	case "disabled", "off":
	case "UART0":
		line += "console=serial0,115200 "
	default:
		line += "console=" + sc + " "
	}
	base := strings.TrimSpace(kernelCmdlineTxt)
	root := "root=" + rootCmdlineValue(cfg.Hostname)
	replaced := false
	for _, placeholder := range []string{"root=/dev/mmcblk0p2", "root=/dev/sda2"} {
		if strings.Contains(base, placeholder) {
			base = strings.ReplaceAll(base, placeholder, root)
			replaced = true
		}
	}
	if !replaced {
		return "", fmt.Errorf("the kernel package's cmdline.txt %q has no root=/dev/mmcblk0p2 or root=/dev/sda2 to point at this disk; is KernelPackage a gokrazy kernel?", base)
	}
	line += base
	if len(cfg.KernelExtraArgs) > 0 {
		line += " " + strings.Join(cfg.KernelExtraArgs, " ")
	}
	return line, nil
}

// bootFiles is the boot file system as a map from FAT path to content source.
type bootFiles struct {
	files map[string]bootFile
}

type bootFile struct {
	hostPath string // copy from here, or
	data     []byte // write this
}

func (b *bootFiles) add(p string, f bootFile) error {
	p = strings.TrimPrefix(p, "/")
	for existing := range b.files {
		if strings.EqualFold(existing, p) { // FAT names are case-insensitive
			return fmt.Errorf("boot file system: /%s is provided twice (kernel, firmware and EEPROM packages overlap)", p)
		}
	}
	b.files[p] = f
	return nil
}

func (b *bootFiles) addGlobs(srcDir string, globs []string) error {
	for _, g := range globs {
		matches, err := filepath.Glob(filepath.Join(srcDir, g))
		if err != nil {
			return err
		}
		for _, m := range matches {
			rel, err := filepath.Rel(srcDir, m)
			if err != nil {
				return err
			}
			if err := b.add(filepath.ToSlash(rel), bootFile{hostPath: m}); err != nil {
				return err
			}
		}
	}
	return nil
}

// kernelGlobs and firmwareGlobs are the files gok takes from each package
// (gokrazy's instance config reference).
func kernelGlobs() []string {
	return []string{"boot.scr", "vmlinuz", "*.dtb", "overlays/*.dtbo", "overlays/overlay_map.dtb"}
}

func firmwareGlobs() []string {
	return []string{"*.bin", "*.dat", "*.elf", "*.upd", "*.sig", "overlays/*.dtbo"}
}

// addEEPROM installs the newest EEPROM images for the Pi bootloader to flash,
// each with the .sig file (SHA-256) the bootloader checks.
func (b *bootFiles) addEEPROM(dir string) error {
	newest := func(glob string) (string, error) {
		m, err := filepath.Glob(filepath.Join(dir, glob))
		if err != nil || len(m) == 0 {
			return "", fmt.Errorf("EEPROMPackage %s has no %s", dir, glob)
		}
		sort.Strings(m) // names carry yyyy-mm-dd or a hex version
		return m[len(m)-1], nil
	}
	for _, e := range []struct{ glob, target string }{
		{"pieeprom-*.bin", "pieeprom.upd"},
		{"vl805-*.bin", "vl805.bin"},
	} {
		src, err := newest(e.glob)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := b.add(e.target, bootFile{data: data}); err != nil {
			return err
		}
		sig := strings.TrimSuffix(e.target, filepath.Ext(e.target)) + ".sig"
		if err := b.add(sig, bootFile{data: fmt.Appendf(nil, "%x\n", sha256.Sum256(data))}); err != nil {
			return err
		}
	}
	recovery := filepath.Join(dir, "recovery.bin")
	if _, err := os.Stat(recovery); err != nil {
		return fmt.Errorf("EEPROMPackage %s has no recovery.bin: %w", dir, err)
	}
	return b.add("recovery.bin", bootFile{hostPath: recovery})
}

// stage writes the boot files into a host directory for mcopy.
func (b *bootFiles) stage(dir string) (int64, error) {
	var total int64
	for p, f := range b.files {
		dest := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(dest), 0o755); err != nil {
			return 0, err
		}
		data := f.data
		if f.hostPath != "" {
			var err error
			if data, err = os.ReadFile(f.hostPath); err != nil {
				return 0, err
			}
		}
		if err := os.WriteFile(dest, data, 0o644); err != nil {
			return 0, err
		}
		total += int64(len(data))
	}
	return total, nil
}

// FAT16 with 2 KiB clusters and a single FAT, as gokrazy's own FAT writer
// makes it: gokrazy's FAT reader (used on the device to switch the root
// partition) understands exactly this shape.
const (
	fatSectorsPerCluster = 4
	fatMinClusters       = 4096  // FAT16 needs at least 4085 clusters
	fatMaxClusters       = 65524 // and at most 65524
)

// bootFSSize sizes the FAT to its content plus headroom, so that an update
// uploads megabytes, not the whole 100 MiB partition.
func bootFSSize(content int64, files int) (int64, error) {
	const mib = 1 << 20
	clusterBytes := int64(fatSectorsPerCluster * 512)
	need := content + int64(files)*clusterBytes // per-file slack
	need += need/10 + 8*mib                     // directories, FAT, headroom
	size := (need + mib - 1) / mib * mib
	if min := int64(fatMinClusters+64) * clusterBytes; size < min {
		size = (min + mib - 1) / mib * mib
	}
	if size > bootSectors*512 {
		return 0, fmt.Errorf("boot files need %d MiB, more than the %d MiB boot partition", size/mib, bootSectors*512/mib)
	}
	if size/clusterBytes > fatMaxClusters {
		return 0, fmt.Errorf("boot file system of %d MiB is too large for FAT16 with 2 KiB clusters", size/mib)
	}
	return size, nil
}

// makeFAT creates the boot file system image from a staged directory with
// dosfstools and mtools. The volume id is derived from the hostname so that
// rebuilding gives the same file system.
func makeFAT(ctx context.Context, stagedDir, out string, size int64, hostname string) error {
	if err := removeStale(out); err != nil { // mkfs.vfat -C creates the file
		return err
	}
	volID := fmt.Sprintf("%08x", fnv32a(hostname))
	mkfs := exec.CommandContext(ctx, "mkfs.vfat",
		"-F", "16", "-f", "1", "-s", strconv.Itoa(fatSectorsPerCluster), "-S", "512",
		"-h", strconv.Itoa(bootStart), "-n", "GOKRAZY", "-i", volID,
		"-C", out, strconv.FormatInt(size/1024, 10))
	if b, err := mkfs.CombinedOutput(); err != nil {
		return fmt.Errorf("mkfs.vfat (Debian package dosfstools) failed: %w\n%s", err, tail(string(b), 20))
	}
	entries, err := os.ReadDir(stagedDir)
	if err != nil {
		return err
	}
	args := []string{"-i", out, "-s", "-m", "-Q"}
	for _, e := range entries {
		args = append(args, filepath.Join(stagedDir, e.Name()))
	}
	args = append(args, "::/")
	mcopy := exec.CommandContext(ctx, "mcopy", args...)
	mcopy.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if b, err := mcopy.CombinedOutput(); err != nil {
		return fmt.Errorf("mcopy (Debian package mtools) failed: %w\n%s", err, tail(string(b), 20))
	}
	return nil
}

// checkBootFS verifies that gokrazy's on-device FAT reader will find each
// file it rewrites during an update, with the content that was written.
func checkBootFS(img string, want map[string][]byte) error {
	f, err := os.Open(img)
	if err != nil {
		return err
	}
	defer closeQuietly(f)
	var errs []error
	for p, data := range want {
		got, err := ReadGokrazyFATFile(f, p)
		if err != nil {
			errs = append(errs, fmt.Errorf("gokrazy's FAT reader would not find %s: %w", p, err))
			continue
		}
		if !bytes.Equal(got, data) {
			errs = append(errs, fmt.Errorf("gokrazy's FAT reader reads %s as %q, want %q", p, got, data))
		}
	}
	return errors.Join(errs...)
}
