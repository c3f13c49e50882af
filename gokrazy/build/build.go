package build

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultImageSize is the size of a full disk image when Options.ImageSize is
// zero; the file is sparse, and /perm takes whatever the fixed partitions
// leave.
const DefaultImageSize = 2 << 30

// Options tune a build; the zero value builds with defaults.
type Options struct {
	Logger *slog.Logger
	// GoTool is the go command (default "go").
	GoTool string
	// WorkDir holds builddir copies, binaries and staging; default a
	// temporary directory that is removed afterwards.
	WorkDir string
	// BuildTimestamp is shown by gokrazy and stamps every file; default now.
	BuildTimestamp time.Time
	// ImageSize is the full image's size in bytes (default DefaultImageSize);
	// /perm fills what the fixed partitions leave.
	ImageSize int64
	// SystemdBoot is the EFI loader for amd64 images (default DefaultSystemdBoot).
	SystemdBoot string
	// NoImage skips the full disk image: only the update payload is built.
	NoImage bool
}

// Program is one program installed in the root file system.
type Program struct {
	Path   string // e.g. /user/danzend
	Pkg    string
	Module string // module@version, or "module (local checkout)" for replaced local code
	Size   int64
}

// Result describes what a build wrote.
type Result struct {
	Instance       string
	GOARCH         string
	BuildTimestamp string
	SBOMHash       string
	// Root is the squashfs root file system, Boot the FAT16 boot file system:
	// together the payload of an over-the-air update (see package update).
	Root, Boot         string
	RootSize, BootSize int64
	// Image is the full disk image ("" with Options.NoImage).
	Image     string
	ImageSize int64
	// Cmdline is the kernel command line written to cmdline.txt.
	Cmdline  string
	Programs []Program
	// Durations of the phases, for the build log and the report.
	Compile, RootFS, BootFS, Assemble time.Duration
}

// BuildUpdate builds only the update payload: <instance>.root.squashfs and
// <instance>.boot.fat in outDir.
func BuildUpdate(ctx context.Context, inst *Instance, outDir string, opts Options) (*Result, error) {
	opts.NoImage = true
	return Build(ctx, inst, outDir, opts)
}

// Build builds an instance into outDir: the update payload
// (<instance>.root.squashfs, <instance>.boot.fat) and, unless opts.NoImage,
// the full disk image <instance>.img with gokrazy's partition layout.
func Build(ctx context.Context, inst *Instance, outDir string, opts Options) (*Result, error) {
	log := opts.Logger
	if log == nil {
		log = slog.Default()
	}
	log = log.With("instance", inst.Name)
	if opts.GoTool == "" {
		opts.GoTool = "go"
	}
	if opts.SystemdBoot == "" {
		opts.SystemdBoot = DefaultSystemdBoot
	}
	if opts.ImageSize == 0 {
		opts.ImageSize = DefaultImageSize
	}
	if opts.ImageSize%sectorSize != 0 || opts.ImageSize < MinImageSize {
		return nil, fmt.Errorf("image size %d: must be a multiple of 512 and at least %d bytes", opts.ImageSize, int64(MinImageSize))
	}
	ts := opts.BuildTimestamp
	if ts.IsZero() {
		ts = time.Now()
	}
	ts = ts.UTC().Truncate(time.Second)
	if err := checkTools(inst.Config.GOARCH(), opts); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return nil, fmt.Errorf("creating the output directory: %w", err)
	}
	work := opts.WorkDir
	if work == "" {
		var err error
		if work, err = os.MkdirTemp("", "danzen-image-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(work)
	}

	b := &builder{
		inst: inst,
		cfg:  inst.Config,
		log:  log,
		opts: opts,
		ts:   ts,
		work: work,
		res: &Result{
			Instance:       inst.Name,
			GOARCH:         inst.Config.GOARCH(),
			BuildTimestamp: ts.Format(time.RFC3339),
			Root:           filepath.Join(outDir, inst.Name+".root.squashfs"),
			Boot:           filepath.Join(outDir, inst.Name+".boot.fat"),
		},
	}
	b.gt = newGoTool(opts.GoTool, inst, work, log)
	if err := b.build(ctx); err != nil {
		return nil, fmt.Errorf("building image %s: %w", inst.Name, err)
	}
	if !opts.NoImage {
		b.res.Image = filepath.Join(outDir, inst.Name+".img")
		start := time.Now()
		if err := b.assemble(ctx, b.res.Image, opts.ImageSize); err != nil {
			return nil, fmt.Errorf("writing disk image %s: %w", b.res.Image, err)
		}
		b.res.Assemble = time.Since(start)
		b.res.ImageSize = opts.ImageSize
	}
	log.Info("image built", "root", b.res.Root, "root_mib", mib(b.res.RootSize), "boot_mib", mib(b.res.BootSize),
		"image", b.res.Image, "compile", b.res.Compile.Round(time.Second), "rootfs", b.res.RootFS.Round(time.Millisecond),
		"bootfs", b.res.BootFS.Round(time.Millisecond), "assemble", b.res.Assemble.Round(time.Millisecond))
	return b.res, nil
}

func mib(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }

// checkTools fails early, naming the Debian package, when a tool is missing.
func checkTools(goarch string, opts Options) error {
	var errs []error
	for _, t := range []struct{ bin, pkg string }{
		{opts.GoTool, "Go toolchain"},
		{"mksquashfs", "Debian package squashfs-tools"},
		{"mkfs.vfat", "Debian package dosfstools"},
		{"mcopy", "Debian package mtools"},
		{"mkfs.ext4", "Debian package e2fsprogs"},
	} {
		if t.bin == "mkfs.ext4" && opts.NoImage {
			continue
		}
		if _, err := exec.LookPath(t.bin); err != nil {
			errs = append(errs, fmt.Errorf("%s not found: install the %s", t.bin, t.pkg))
		}
	}
	if goarch == "amd64" {
		if _, err := os.Stat(opts.SystemdBoot); err != nil {
			errs = append(errs, fmt.Errorf("EFI loader %s missing: install the Debian package systemd-boot-efi", opts.SystemdBoot))
		}
	}
	return errors.Join(errs...)
}

type builder struct {
	inst *Instance
	cfg  *Config
	log  *slog.Logger
	opts Options
	ts   time.Time
	work string
	gt   *goTool
	res  *Result
}

func (b *builder) build(ctx context.Context) error {
	root := &rootTree{dir: filepath.Join(b.work, "root")}
	if err := os.RemoveAll(root.dir); err != nil {
		return err
	}
	for _, d := range []string{"/bin", "/dev", "/etc", "/proc", "/sys", "/tmp", "/perm", "/lib", "/run", "/mnt", "/gokrazy", "/user"} {
		if err := root.mkdir(d); err != nil {
			return err
		}
	}

	compileStart := time.Now()
	kernelPkg := b.cfg.KernelPackageOrDefault()
	kernelDir, err := b.gt.packageDir(ctx, kernelPkg)
	if err != nil {
		return fmt.Errorf("KernelPackage: %w", err)
	}
	var firmwareDir, eepromDir string
	if p := b.cfg.FirmwarePackageOrDefault(); p != "" {
		if firmwareDir, err = b.gt.packageDir(ctx, p); err != nil {
			return fmt.Errorf("FirmwarePackage: %w", err)
		}
	}
	if p := b.cfg.EEPROMPackageOrDefault(); p != "" {
		if eepromDir, err = b.gt.packageDir(ctx, p); err != nil {
			return fmt.Errorf("EEPROMPackage: %w", err)
		}
	}

	// Programs: gokrazy's system programs in /gokrazy, the instance's in /user.
	var progs []*builtProgram
	var services []initService
	for _, group := range []struct {
		dir  string
		pkgs []string
	}{
		{"/gokrazy", b.cfg.GokrazyPackagesOrDefault()},
		{"/user", b.cfg.Packages},
	} {
		pkgs := append([]string{}, group.pkgs...)
		sort.Slice(pkgs, func(i, j int) bool { return b.cfg.Basename(pkgs[i]) < b.cfg.Basename(pkgs[j]) })
		for _, pkg := range pkgs {
			p := path.Join(group.dir, b.cfg.Basename(pkg))
			b.log.Info("compiling", "pkg", pkg, "as", p, "goarch", b.cfg.GOARCH())
			start := time.Now()
			bp, err := b.gt.buildProgram(ctx, pkg, root.host(p))
			if err != nil {
				return err
			}
			bp.Path = p
			st, err := os.Stat(bp.HostBin)
			if err != nil {
				return err
			}
			b.log.Debug("compiled", "pkg", pkg, "took", time.Since(start).Round(time.Millisecond), "mib", mib(st.Size()))
			progs = append(progs, bp)
			b.res.Programs = append(b.res.Programs, Program{Path: p, Pkg: pkg, Module: bp.Module, Size: st.Size()})
			pc := b.cfg.PackageConfig[pkg]
			mode := "start"
			switch {
			case pc.DontStart:
				mode = "dontstart"
			case pc.WaitForClock:
				mode = "waitforclock"
			}
			services = append(services, initService{Path: p, Args: pc.CommandLineFlags, Env: pc.Environment, Start: mode})
		}
	}

	initSrc, err := generateInit(filepath.Join(b.inst.Name, "config.json"), b.res.BuildTimestamp, services)
	if err != nil {
		return err
	}
	b.log.Info("compiling the gokrazy init", "services", len(services))
	if err := b.gt.buildInit(ctx, initSrc, root.host("/gokrazy/init")); err != nil {
		return err
	}
	b.res.Compile = time.Since(compileStart)

	rootStart := time.Now()
	if err := b.populateRoot(root, kernelDir, progs); err != nil {
		return err
	}
	if err := mksquashfs(ctx, root.dir, b.res.Root, b.ts); err != nil {
		return err
	}
	st, err := os.Stat(b.res.Root)
	if err != nil {
		return err
	}
	if st.Size() > rootSectors*sectorSize {
		return fmt.Errorf("root file system is %d MiB, larger than the %d MiB root partition: drop programs or extra files",
			st.Size()>>20, rootSectors*sectorSize>>20)
	}
	b.res.RootSize = st.Size()
	b.res.RootFS = time.Since(rootStart)

	bootStart := time.Now()
	if err := b.makeBoot(ctx, kernelDir, firmwareDir, eepromDir); err != nil {
		return err
	}
	b.res.BootFS = time.Since(bootStart)
	return nil
}

// populateRoot adds everything but the programs: gokrazy's expected
// directories and /etc files, kernel modules and the extra files.
func (b *builder) populateRoot(root *rootTree, kernelDir string, progs []*builtProgram) error {
	if err := root.symlink("/var", "/perm/var"); err != nil {
		return err
	}
	for _, md := range b.cfg.MountDevices {
		rest := strings.Trim(strings.TrimPrefix(md.Target, "/mnt/"), "/")
		if strings.HasPrefix(md.Target, "/mnt/") && rest != "" && !strings.Contains(rest, "/") {
			if err := root.mkdir("/mnt/" + rest); err != nil {
				return err
			}
		}
	}
	if modules := filepath.Join(kernelDir, "lib", "modules"); dirExists(modules) {
		if err := root.copyTree("/lib/modules", modules); err != nil {
			return fmt.Errorf("copying kernel modules: %w", err)
		}
	}

	caCerts, err := hostCACerts()
	if err != nil {
		return err
	}
	mountDevices, err := json.Marshal(b.cfg.MountDevices)
	if err != nil {
		return err
	}
	etc := []struct {
		path string
		data string
		mode os.FileMode
	}{
		{"/etc/hostname", b.cfg.Hostname, 0o444},
		{"/etc/hosts", "127.0.0.1 localhost\n::1 localhost\n", 0o444},
		{"/etc/ssl/ca-bundle.pem", string(caCerts), 0o444},
		{"/etc/http-port.txt", b.cfg.HTTPPort(), 0o444},
		{"/etc/https-port.txt", b.cfg.HTTPSPort(), 0o444},
		{"/etc/gokrazy/mountdevices.json", string(mountDevices), 0o444},
	}
	if !b.cfg.NoPassword() {
		pw, err := b.cfg.ensureHTTPPassword()
		if err != nil {
			return err
		}
		etc = append(etc, struct {
			path string
			data string
			mode os.FileMode
		}{"/etc/gokr-pw.txt", pw, 0o400})
	}
	for _, f := range etc {
		if err := root.writeFile(f.path, []byte(f.data), f.mode); err != nil {
			return err
		}
	}
	if err := root.symlink("/etc/resolv.conf", "/tmp/resolv.conf"); err != nil {
		return err
	}

	// Extra files: PackageConfig first, then each program's _gokrazy/extrafiles.
	pkgs := make([]string, 0, len(b.cfg.PackageConfig))
	for pkg := range b.cfg.PackageConfig {
		pkgs = append(pkgs, pkg)
	}
	sort.Strings(pkgs)
	for _, pkg := range pkgs {
		pc := b.cfg.PackageConfig[pkg]
		for _, dest := range sortedKeys(pc.ExtraFileContents) {
			if err := root.writeFile(path.Clean(dest), []byte(pc.ExtraFileContents[dest]), 0o644); err != nil {
				return fmt.Errorf("PackageConfig[%s].ExtraFileContents: %w", pkg, err)
			}
		}
		for _, dest := range sortedKeys(pc.ExtraFilePaths) {
			src := pc.ExtraFilePaths[dest]
			if !filepath.IsAbs(src) {
				src = filepath.Join(b.inst.Dir, src)
			}
			if err := root.addExtraPath(path.Clean(dest), src, b.cfg.GOARCH()); err != nil {
				return fmt.Errorf("PackageConfig[%s].ExtraFilePaths: %w", pkg, err)
			}
		}
	}
	for _, p := range progs {
		extra := filepath.Join(p.Dir, "_gokrazy", "extrafiles")
		if !fileExists(extra+"_"+b.cfg.GOARCH()+".tar") && !fileExists(extra+".tar") && !dirExists(extra) {
			continue
		}
		if err := root.addExtraPath("/", extra, b.cfg.GOARCH()); err != nil {
			return fmt.Errorf("extra files of %s: %w", p.Pkg, err)
		}
	}

	configJSON, err := os.ReadFile(filepath.Join(b.inst.Dir, "config.json"))
	if err != nil {
		return err
	}
	sb, hash, err := sbomJSON(configJSON, b.gt.hashes, progs)
	if err != nil {
		return err
	}
	b.res.SBOMHash = hash
	return root.writeFile("/etc/gokrazy/sbom.json", sb, 0o444)
}

// makeBoot writes the FAT16 boot file system: kernel, DTBs and overlays,
// Pi firmware and EEPROM updates, cmdline.txt and config.txt, and for amd64
// systemd-boot with a loader entry carrying the same command line.
func (b *builder) makeBoot(ctx context.Context, kernelDir, firmwareDir, eepromDir string) error {
	files := &bootFiles{files: make(map[string]bootFile)}
	if err := files.addGlobs(kernelDir, kernelGlobs()); err != nil {
		return err
	}
	if _, ok := files.files["vmlinuz"]; !ok {
		return fmt.Errorf("KernelPackage %s has no vmlinuz", b.cfg.KernelPackageOrDefault())
	}
	if firmwareDir != "" {
		if err := files.addGlobs(firmwareDir, firmwareGlobs()); err != nil {
			return err
		}
	}
	if eepromDir != "" {
		if err := files.addEEPROM(eepromDir); err != nil {
			return err
		}
	}

	kcmd, err := os.ReadFile(filepath.Join(kernelDir, "cmdline.txt"))
	if err != nil {
		return fmt.Errorf("KernelPackage %s has no cmdline.txt: %w", b.cfg.KernelPackageOrDefault(), err)
	}
	cmdline, err := kernelCmdline(b.cfg, string(kcmd))
	if err != nil {
		return err
	}
	b.res.Cmdline = cmdline
	padded := cmdline + strings.Repeat(" ", cmdlinePadding)
	if err := files.add("cmdline.txt", bootFile{data: []byte(padded)}); err != nil {
		return err
	}

	// config.txt configures the Raspberry Pi firmware; gok writes it always.
	configTxt := ""
	if data, err := os.ReadFile(filepath.Join(kernelDir, "config.txt")); err == nil {
		configTxt = string(data)
	}
	if b.cfg.SerialConsoleOrDefault() != "off" {
		configTxt = strings.ReplaceAll(configTxt, "enable_uart=0", "enable_uart=1")
	}
	configTxt += "\n" + strings.Join(b.cfg.BootloaderExtraLines, "\n")
	if len(b.cfg.BootloaderExtraLines) > 0 {
		configTxt += "\n"
	}
	if err := files.add("config.txt", bootFile{data: []byte(configTxt)}); err != nil {
		return err
	}

	gokrazyChecks := map[string][]byte{"/cmdline.txt": []byte(padded)}
	if b.cfg.GOARCH() == "amd64" {
		// systemd-boot as the removable-media loader; gokrazy rewrites the
		// entry's options line in place like cmdline.txt when switching roots.
		entry := "title gokrazy\nlinux /vmlinuz\noptions " + padded
		for _, f := range []struct {
			p string
			f bootFile
		}{
			{"EFI/BOOT/BOOTX64.EFI", bootFile{hostPath: b.opts.SystemdBoot}},
			{"loader/loader.conf", bootFile{data: []byte("default gokrazy.conf\ntimeout 0\neditor no\n")}},
			{"loader/entries/gokrazy.conf", bootFile{data: []byte(entry)}},
		} {
			if err := files.add(f.p, f.f); err != nil {
				return err
			}
		}
		gokrazyChecks["/loader/entries/gokrazy.conf"] = []byte(entry)
	}

	staged := filepath.Join(b.work, "boot")
	if err := os.RemoveAll(staged); err != nil {
		return err
	}
	total, err := files.stage(staged)
	if err != nil {
		return err
	}
	size, err := bootFSSize(total, len(files.files))
	if err != nil {
		return err
	}
	if err := makeFAT(ctx, staged, b.res.Boot, size, b.cfg.Hostname); err != nil {
		return err
	}
	if err := checkBootFS(b.res.Boot, gokrazyChecks); err != nil {
		return fmt.Errorf("the boot file system would break gokrazy updates: %w", err)
	}
	b.res.BootSize = size
	return nil
}

// assemble writes the full disk image: partition table, boot, root A, and
// an empty ext4 /perm. Root B stays empty until the first update.
func (b *builder) assemble(ctx context.Context, img string, size int64) error {
	os.Remove(img)
	f, err := os.OpenFile(img, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	total := uint64(size / sectorSize)
	if err := writePartitionTable(f, b.cfg.Hostname, b.cfg.GOARCH(), total); err != nil {
		return err
	}
	if _, err := copyInto(f, b.res.Boot, bootStart*sectorSize, bootSectors*sectorSize); err != nil {
		return err
	}
	if _, err := copyInto(f, b.res.Root, rootAStart*sectorSize, rootSectors*sectorSize); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return makePerm(ctx, img, total)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
