package build

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/recoverykit"
	"github.com/danzen-gw/danzen/sysupdate"
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
	// RecoveryKit is the directory `make recovery-kit` builds (restic for
	// the media, with SHA256SUMS); default $DANZEN_RECOVERY_KIT. It is
	// verified and shipped at recoverykit.AppliancePath; an image without
	// it is refused.
	RecoveryKit string
	// UpdateKey is the vendor's ed25519 public update key, pinned in
	// /etc/danzen/image.json: the gateway takes updates only as bundles
	// signed with its private half (WriteBundle), through danzend's page.
	// Such an image has no gokrazy password (/etc/gokr-pw.txt), so gokrazy
	// serves its web interface and update endpoint only on its root-only
	// unix socket: nothing of it is on the network.
	UpdateKey ed25519.PublicKey
	// Bench builds an image without an update key instead, as before:
	// gokrazy's password-protected plain-HTTP interface on port 80, and
	// no update through the page. For test benches only (the QEMU tests
	// that read danzend's log from gokrazy); never for a hospital. One of
	// UpdateKey and Bench is required.
	Bench bool
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
	// UpdateKey is the update key pinned in the image (nil for a bench image).
	UpdateKey ed25519.PublicKey
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
	if opts.RecoveryKit == "" {
		opts.RecoveryKit = os.Getenv(recoverykit.Env)
	}
	if err := checkUpdateKey(opts, log); err != nil {
		return nil, err
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
		defer func() {
			if err := os.RemoveAll(work); err != nil {
				log.Warn("cannot remove the work directory", "dir", work, "err", err)
			}
		}()
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
			UpdateKey:      opts.UpdateKey,
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

// checkUpdateKey refuses a build that says neither which key updates it
// nor that it is a bench image.
func checkUpdateKey(opts Options, log *slog.Logger) error {
	switch {
	case opts.UpdateKey != nil && opts.Bench:
		return errors.New("an image is either pinned to an update key or a bench image, not both")
	case opts.UpdateKey != nil && len(opts.UpdateKey) != ed25519.PublicKeySize:
		return fmt.Errorf("the update key has %d bytes, an ed25519 public key %d", len(opts.UpdateKey), ed25519.PublicKeySize)
	case opts.UpdateKey == nil && !opts.Bench:
		return errors.New("no update key: pin the vendor's update key (Options.UpdateKey, danzen-image -update-key) or build a bench image (Options.Bench, -bench)")
	case opts.Bench:
		log.Warn("BENCH IMAGE: no update key pinned; gokrazy's web interface listens on port 80 with its password, and the page takes no update. Never install it in a hospital")
	default:
		log.Info("update key pinned; gokrazy's web interface stays off the network", "key", bundle.KeyID(opts.UpdateKey))
	}
	return nil
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
	root, err := b.newRoot()
	if err != nil {
		return err
	}

	compileStart := time.Now()
	pkgs, err := b.packageDirs(ctx)
	if err != nil {
		return err
	}
	progs, services, err := b.compilePrograms(ctx, root)
	if err != nil {
		return err
	}
	if err := b.compileInit(ctx, root, services); err != nil {
		return err
	}
	b.res.Compile = time.Since(compileStart)

	rootStart := time.Now()
	if err := b.makeRoot(ctx, root, pkgs.kernel, progs); err != nil {
		return err
	}
	b.res.RootFS = time.Since(rootStart)

	bootStart := time.Now()
	if err := b.makeBoot(ctx, pkgs); err != nil {
		return err
	}
	b.res.BootFS = time.Since(bootStart)
	return nil
}

// newRoot starts an empty root tree with gokrazy's top-level directories.
func (b *builder) newRoot() (*rootTree, error) {
	root := &rootTree{dir: filepath.Join(b.work, "root")}
	if err := os.RemoveAll(root.dir); err != nil {
		return nil, err
	}
	for _, d := range []string{"/bin", "/dev", "/etc", "/proc", "/sys", "/tmp", "/perm", "/lib", "/run", "/mnt", "/gokrazy", "/user"} {
		if err := root.mkdir(d); err != nil {
			return nil, err
		}
	}
	return root, nil
}

// packageDirs are the module directories of the kernel, firmware and
// EEPROM packages ("" for those the instance does not use).
type packageDirs struct{ kernel, firmware, eeprom string }

func (b *builder) packageDirs(ctx context.Context) (packageDirs, error) {
	var d packageDirs
	var err error
	if d.kernel, err = b.gt.packageDir(ctx, b.cfg.KernelPackageOrDefault()); err != nil {
		return d, fmt.Errorf("KernelPackage: %w", err)
	}
	if p := b.cfg.FirmwarePackageOrDefault(); p != "" {
		if d.firmware, err = b.gt.packageDir(ctx, p); err != nil {
			return d, fmt.Errorf("FirmwarePackage: %w", err)
		}
	}
	if p := b.cfg.EEPROMPackageOrDefault(); p != "" {
		if d.eeprom, err = b.gt.packageDir(ctx, p); err != nil {
			return d, fmt.Errorf("EEPROMPackage: %w", err)
		}
	}
	return d, nil
}

// compilePrograms builds gokrazy's system programs into /gokrazy and the
// instance's into /user, each group in the order of its names, and
// returns them with the services init is to run.
func (b *builder) compilePrograms(ctx context.Context, root *rootTree) ([]*builtProgram, []initService, error) {
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
			bp, err := b.compileProgram(ctx, root, path.Join(group.dir, b.cfg.Basename(pkg)), pkg)
			if err != nil {
				return nil, nil, err
			}
			progs = append(progs, bp)
			services = append(services, b.service(bp.Path, pkg))
		}
	}
	return progs, services, nil
}

// compileProgram builds pkg as the program p of the root.
func (b *builder) compileProgram(ctx context.Context, root *rootTree, p, pkg string) (*builtProgram, error) {
	b.log.Info("compiling", "pkg", pkg, "as", p, "goarch", b.cfg.GOARCH())
	start := time.Now()
	bp, err := b.gt.buildProgram(ctx, pkg, root.host(p))
	if err != nil {
		return nil, err
	}
	bp.Path = p
	st, err := os.Stat(bp.HostBin)
	if err != nil {
		return nil, err
	}
	b.log.Debug("compiled", "pkg", pkg, "took", time.Since(start).Round(time.Millisecond), "mib", mib(st.Size()))
	b.res.Programs = append(b.res.Programs, Program{Path: p, Pkg: pkg, Module: bp.Module, Size: st.Size()})
	return bp, nil
}

// service is how init runs the program p of pkg, by its PackageConfig.
func (b *builder) service(p, pkg string) initService {
	pc := b.cfg.PackageConfig[pkg]
	mode := "start"
	switch {
	case pc.DontStart:
		mode = "dontstart"
	case pc.WaitForClock:
		mode = "waitforclock"
	}
	return initService{Path: p, Args: pc.CommandLineFlags, Env: pc.Environment, Start: mode}
}

// compileInit generates gokrazy's init for services and builds it.
func (b *builder) compileInit(ctx context.Context, root *rootTree, services []initService) error {
	initSrc, err := generateInit(filepath.Join(b.inst.Name, "config.json"), b.res.BuildTimestamp, services)
	if err != nil {
		return err
	}
	b.log.Info("compiling the gokrazy init", "services", len(services))
	return b.gt.buildInit(ctx, initSrc, root.host("/gokrazy/init"))
}

// makeRoot completes the root tree and packs it as the squashfs root file
// system, which must fit its partition.
func (b *builder) makeRoot(ctx context.Context, root *rootTree, kernelDir string, progs []*builtProgram) error {
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
	return nil
}

// populateRoot adds everything but the programs: gokrazy's expected
// directories and /etc files, kernel modules and the extra files.
func (b *builder) populateRoot(root *rootTree, kernelDir string, progs []*builtProgram) error {
	if err := b.addLayout(root, kernelDir); err != nil {
		return err
	}
	if err := b.addEtc(root); err != nil {
		return err
	}
	if err := b.addPackageExtraFiles(root); err != nil {
		return err
	}
	if err := b.addProgramExtraFiles(root, progs); err != nil {
		return err
	}
	if err := addRecoveryKit(root, b.opts.RecoveryKit); err != nil {
		return err
	}
	return b.addSBOM(root, progs)
}

// addLayout adds /var, the mount points of MountDevices under /mnt and
// the kernel's modules.
func (b *builder) addLayout(root *rootTree, kernelDir string) error {
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
	return nil
}

// addEtc writes the /etc files gokrazy reads: hostname, hosts, CA bundle,
// ports, mount devices, resolv.conf's link, and what danzend reads of the
// image (image.json: board, build, update key). A bench image also gets
// gokrazy's password, which puts gokrazy's web interface on port 80; an
// image with an update key has none, and gokrazy then listens only on its
// root-only unix socket (gokrazy's listeners.go).
func (b *builder) addEtc(root *rootTree) error {
	caCerts, err := hostCACerts()
	if err != nil {
		return err
	}
	mountDevices, err := json.Marshal(b.cfg.MountDevices)
	if err != nil {
		return err
	}
	type etcFile struct {
		path string
		data string
		mode os.FileMode
	}
	etc := []etcFile{
		{"/etc/hostname", b.cfg.Hostname, 0o444},
		{"/etc/hosts", "127.0.0.1 localhost\n::1 localhost\n", 0o444},
		{"/etc/ssl/ca-bundle.pem", string(caCerts), 0o444},
		{"/etc/http-port.txt", b.cfg.HTTPPort(), 0o444},
		{"/etc/https-port.txt", b.cfg.HTTPSPort(), 0o444},
		{"/etc/gokrazy/mountdevices.json", string(mountDevices), 0o444},
	}
	info, err := b.imageInfo()
	if err != nil {
		return err
	}
	etc = append(etc, etcFile{sysupdate.ImageInfoPath, info, 0o444})
	if b.opts.Bench && !b.cfg.NoPassword() {
		pw, err := b.cfg.ensureHTTPPassword()
		if err != nil {
			return err
		}
		etc = append(etc, etcFile{"/etc/gokr-pw.txt", pw, 0o400})
	}
	for _, f := range etc {
		if err := root.writeFile(f.path, []byte(f.data), f.mode); err != nil {
			return err
		}
	}
	return root.symlink("/etc/resolv.conf", "/tmp/resolv.conf")
}

// imageInfo is /etc/danzen/image.json (sysupdate.ImageInfo).
func (b *builder) imageInfo() (string, error) {
	info := sysupdate.ImageInfo{Arch: b.cfg.GOARCH(), Build: b.ts}
	if b.opts.UpdateKey != nil {
		info.UpdateKey = base64.StdEncoding.EncodeToString(b.opts.UpdateKey)
	}
	j, err := json.MarshalIndent(info, "", "  ")
	return string(j) + "\n", err
}

// addPackageExtraFiles adds the extra files of PackageConfig, package by
// package in name order.
func (b *builder) addPackageExtraFiles(root *rootTree) error {
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
	return nil
}

// addProgramExtraFiles adds each program's _gokrazy/extrafiles (a
// directory, or a tarball per architecture or for all).
func (b *builder) addProgramExtraFiles(root *rootTree, progs []*builtProgram) error {
	for _, p := range progs {
		extra := filepath.Join(p.Dir, "_gokrazy", "extrafiles")
		if !fileExists(extra+"_"+b.cfg.GOARCH()+".tar") && !fileExists(extra+".tar") && !dirExists(extra) {
			continue
		}
		if err := root.addExtraPath("/", extra, b.cfg.GOARCH()); err != nil {
			return fmt.Errorf("extra files of %s: %w", p.Pkg, err)
		}
	}
	return nil
}

// addSBOM writes /etc/gokrazy/sbom.json and keeps its hash for the result.
func (b *builder) addSBOM(root *rootTree, progs []*builtProgram) error {
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
func (b *builder) makeBoot(ctx context.Context, pkgs packageDirs) error {
	files, err := b.bootPackageFiles(pkgs)
	if err != nil {
		return err
	}
	padded, err := b.addCmdline(files, pkgs.kernel)
	if err != nil {
		return err
	}
	if err := b.addConfigTxt(files, pkgs.kernel); err != nil {
		return err
	}
	// The files gokrazy rewrites in place when it switches roots.
	gokrazyChecks := map[string][]byte{"/cmdline.txt": []byte(padded)}
	if b.cfg.GOARCH() == "amd64" {
		entry, err := b.addSystemdBoot(files, padded)
		if err != nil {
			return err
		}
		gokrazyChecks["/loader/entries/gokrazy.conf"] = []byte(entry)
	}
	return b.writeBootFS(ctx, files, gokrazyChecks)
}

// bootPackageFiles collects the kernel's files (vmlinuz is required), the
// Pi firmware and the EEPROM updates.
func (b *builder) bootPackageFiles(pkgs packageDirs) (*bootFiles, error) {
	files := &bootFiles{files: make(map[string]bootFile)}
	if err := files.addGlobs(pkgs.kernel, kernelGlobs()); err != nil {
		return nil, err
	}
	if _, ok := files.files["vmlinuz"]; !ok {
		return nil, fmt.Errorf("KernelPackage %s has no vmlinuz", b.cfg.KernelPackageOrDefault())
	}
	if pkgs.firmware != "" {
		if err := files.addGlobs(pkgs.firmware, firmwareGlobs()); err != nil {
			return nil, err
		}
	}
	if pkgs.eeprom != "" {
		if err := files.addEEPROM(pkgs.eeprom); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// addCmdline adds cmdline.txt: the kernel package's command line as the
// instance amends it, padded so that gokrazy can rewrite it in place. It
// returns the padded line.
func (b *builder) addCmdline(files *bootFiles, kernelDir string) (string, error) {
	kcmd, err := os.ReadFile(filepath.Join(kernelDir, "cmdline.txt"))
	if err != nil {
		return "", fmt.Errorf("KernelPackage %s has no cmdline.txt: %w", b.cfg.KernelPackageOrDefault(), err)
	}
	cmdline, err := kernelCmdline(b.cfg, string(kcmd))
	if err != nil {
		return "", err
	}
	b.res.Cmdline = cmdline
	padded := cmdline + strings.Repeat(" ", cmdlinePadding)
	if err := files.add("cmdline.txt", bootFile{data: []byte(padded)}); err != nil {
		return "", err
	}
	return padded, nil
}

// addConfigTxt adds config.txt, which configures the Raspberry Pi
// firmware; gok writes it always.
func (b *builder) addConfigTxt(files *bootFiles, kernelDir string) error {
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
	return files.add("config.txt", bootFile{data: []byte(configTxt)})
}

// addSystemdBoot adds systemd-boot as the removable-media loader, with a
// loader entry carrying the padded command line; gokrazy rewrites the
// entry's options line in place like cmdline.txt when switching roots. It
// returns the entry.
func (b *builder) addSystemdBoot(files *bootFiles, padded string) (string, error) {
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
			return "", err
		}
	}
	return entry, nil
}

// writeBootFS stages files and makes the FAT file system of them, then
// checks that gokrazy's own reader finds what it will rewrite.
func (b *builder) writeBootFS(ctx context.Context, files *bootFiles, gokrazyChecks map[string][]byte) error {
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
	if err := removeStale(img); err != nil {
		return err
	}
	f, err := os.OpenFile(img, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer closeQuietly(f) // for the early returns; the image is closed and checked below
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

// removeStale removes the output of an earlier build, if any, before a
// tool that will not overwrite it writes it again.
func removeStale(p string) error {
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// closeQuietly closes a file whose close has nothing to report: one only
// read, or one whose write already failed or was closed and checked.
func closeQuietly(c io.Closer) { _ = c.Close() }

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
