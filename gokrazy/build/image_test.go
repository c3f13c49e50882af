package build_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/build"
	"github.com/danzen-gw/danzen/gokrazy/bundle"
	"github.com/danzen-gw/danzen/gokrazy/push"
	"github.com/danzen-gw/danzen/sysupdate"
)

// maxRootSize is the budget for the root file system with danzend and
// restic (about 60 MiB packed) and the recovery kit (restic for three
// platforms, about 75 MiB packed); each root partition holds 500 MiB.
const maxRootSize = 160 << 20

type sfdiskTable struct {
	PartitionTable struct {
		Label      string
		ID         string
		SectorSize int
		Partitions []struct {
			Start, Size int64
			Type, UUID  string
			Name        string
		}
	}
}

// checkPartitionTable verifies gok's layout with sfdisk (an independent GPT
// reader) and the hybrid MBR by hand.
func checkPartitionTable(t *testing.T, img, rootType string) {
	t.Helper()
	if out := run(t, "sfdisk", "-V", img); !strings.Contains(out, "No errors detected") {
		t.Errorf("sfdisk -V %s:\n%s", img, out)
	}
	var tab sfdiskTable
	if err := json.Unmarshal([]byte(run(t, "sfdisk", "--json", img)), &tab); err != nil {
		t.Fatal(err)
	}
	pt := tab.PartitionTable
	if pt.Label != "gpt" || pt.SectorSize != 512 {
		t.Fatalf("label %s, sector size %d; want gpt, 512", pt.Label, pt.SectorSize)
	}
	if want := strings.ToUpper(build.PartUUID("danzen", 0)); pt.ID != want {
		t.Errorf("disk GUID %s, want %s", pt.ID, want)
	}
	st, err := os.Stat(img)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		start, size int64
		typ         string
	}{
		{8192, 204800, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"}, // EFI system (FAT boot)
		{212992, 1024000, rootType},                            // root A
		{1236992, 1024000, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"},
		{2260992, st.Size()/512 - 2260992 - 33, "0FC63DAF-8483-4772-8E79-3D69D8477DE4"}, // perm to the end
	}
	if len(pt.Partitions) != len(want) {
		t.Fatalf("%d partitions, want %d: %+v", len(pt.Partitions), len(want), pt.Partitions)
	}
	for i, w := range want {
		p := pt.Partitions[i]
		if p.Start != w.start || p.Size != w.size || p.Type != w.typ {
			t.Errorf("partition %d: start %d size %d type %s; want %d %d %s", i+1, p.Start, p.Size, p.Type, w.start, w.size, w.typ)
		}
		if wantUUID := strings.ToUpper(build.PartUUID("danzen", i+1)); p.UUID != wantUUID {
			t.Errorf("partition %d: PARTUUID %s, want %s", i+1, p.UUID, wantUUID)
		}
	}

	// Hybrid MBR: the FAT partition for the Raspberry Pi firmware, then the
	// 0xEE entry that makes Linux and UEFI read the GPT.
	f := mustOpen(t, img)
	mbr := make([]byte, 512)
	if _, err := f.ReadAt(mbr, 0); err != nil {
		t.Fatal(err)
	}
	entry := func(i int) (status, typ byte, start, count uint32) {
		e := mbr[446+16*i:]
		return e[0], e[4], binary.LittleEndian.Uint32(e[8:]), binary.LittleEndian.Uint32(e[12:])
	}
	if s, typ, start, n := entry(0); s != 0x80 || typ != 0x0C || start != 8192 || n != 204800 {
		t.Errorf("MBR entry 1 = status %#x type %#x start %d count %d; want active FAT32-LBA at 8192 for 204800", s, typ, start, n)
	}
	if _, typ, start, n := entry(1); typ != 0xEE || start != 1 || n != 8191 {
		t.Errorf("MBR entry 2 = type %#x start %d count %d; want the GPT protective entry 1+8191", typ, start, n)
	}
	if mbr[510] != 0x55 || mbr[511] != 0xAA {
		t.Error("MBR lacks the 55AA signature")
	}
}

// checkRoot verifies the root squashfs has what gokrazy expects, and
// that it pins key (nil: a bench image) with no gokrazy password.
func checkRoot(t *testing.T, img string, wantMachine elf.Machine, key ed25519.PublicKey) {
	t.Helper()
	ls := squashfsListing(t, img)
	for _, p := range []string{
		"/gokrazy/init", "/gokrazy/dhcp", "/gokrazy/randomd",
		"/user/danzend", "/user/restic",
		"/usr/share/danzen/recovery-kit/restic_0.19.1_linux_amd64",
		"/usr/share/danzen/recovery-kit/restic_0.19.1_linux_arm64",
		"/usr/share/danzen/recovery-kit/restic_0.19.1_windows_amd64.exe",
	} {
		if !strings.HasPrefix(ls[p], "-rwxr-xr-x root/root") {
			t.Errorf("%s: %q, want an executable owned by root", p, ls[p])
		}
	}
	// danzend keeps the time from the hospital's servers; gokrazy's ntp
	// would ask the public pool.
	if _, ok := ls["/gokrazy/ntp"]; ok {
		t.Error("/gokrazy/ntp is in the image; danzend keeps the time itself")
	}
	for _, p := range []string{"/usr/share/danzen/recovery-kit/SHA256SUMS", "/etc/hostname", "/etc/hosts", "/etc/http-port.txt", "/etc/https-port.txt",
		"/etc/danzen/image.json", "/etc/ssl/ca-bundle.pem", "/etc/gokrazy/sbom.json", "/etc/gokrazy/mountdevices.json"} {
		if !strings.HasPrefix(ls[p], "-r") {
			t.Errorf("%s missing or not a regular file: %q", p, ls[p])
		}
	}
	// One machine ID per gateway, made on its first start (/perm), not
	// one for every gateway of the image.
	if _, ok := ls["/etc/machine-id"]; ok {
		t.Error("/etc/machine-id is in the image: every gateway from it would share one identity")
	}
	// With an update key, no gokrazy password: gokrazy then serves only
	// its root-only unix socket. A bench image keeps it (mode 0400).
	if pw, ok := ls["/etc/gokr-pw.txt"]; key != nil && ok {
		t.Errorf("/etc/gokr-pw.txt is in an image with an update key: %q", pw)
	} else if key == nil && !strings.HasPrefix(pw, "-r-------- root/root") {
		t.Errorf("/etc/gokr-pw.txt: %q, want mode 0400 in a bench image", pw)
	}
	for p, target := range map[string]string{"/etc/resolv.conf": "/tmp/resolv.conf", "/var": "/perm/var"} {
		if !strings.HasPrefix(ls[p], "lrwxrwxrwx") || !strings.HasSuffix(ls[p], " -> "+target) {
			t.Errorf("%s: %q, want a symlink to %s", p, ls[p], target)
		}
	}
	for _, p := range []string{"/dev", "/proc", "/sys", "/tmp", "/perm", "/run", "/mnt", "/bin", "/lib/modules"} {
		if !strings.HasPrefix(ls[p], "d") {
			t.Errorf("%s: %q, want a directory", p, ls[p])
		}
	}
	for p := range ls {
		for _, empty := range []string{"/dev/", "/proc/", "/sys/", "/tmp/", "/perm/", "/run/"} {
			if strings.HasPrefix(p, empty) {
				t.Errorf("%s: mount points must be empty", p)
			}
		}
	}
	cat := func(p string) string { return run(t, "unsquashfs", "-cat", img, p) }
	if got := cat("/etc/hostname"); got != "danzen" {
		t.Errorf("/etc/hostname = %q", got)
	}
	if key == nil {
		if got := cat("/etc/gokr-pw.txt"); got != testPassword {
			t.Errorf("/etc/gokr-pw.txt = %q, want the configured password", got)
		}
	}
	var info sysupdate.ImageInfo
	if err := json.Unmarshal([]byte(cat("/etc/danzen/image.json")), &info); err != nil {
		t.Errorf("/etc/danzen/image.json: %v", err)
	}
	if got, err := info.Key(); err != nil || !got.Equal(key) && !(key == nil && got == nil) {
		t.Errorf("/etc/danzen/image.json pins key %x (%v), want %x", got, err, key)
	}
	if want := map[elf.Machine]string{elf.EM_X86_64: "amd64", elf.EM_AARCH64: "arm64"}[wantMachine]; info.Arch != want || info.Build.IsZero() {
		t.Errorf("/etc/danzen/image.json: arch %q build %s, want %s and the build time", info.Arch, info.Build, want)
	}
	if got := cat("/etc/http-port.txt"); got != "80" {
		t.Errorf("/etc/http-port.txt = %q", got)
	}
	for _, p := range []string{"/gokrazy/init", "/user/danzend", "/user/restic"} {
		f, err := elf.NewFile(bytes.NewReader([]byte(cat(p))))
		if err != nil {
			t.Errorf("%s is not an ELF binary: %v", p, err)
			continue
		}
		if f.Machine != wantMachine {
			t.Errorf("%s is built for %s, want %s", p, f.Machine, wantMachine)
		}
		if slices.ContainsFunc(f.Progs, func(p *elf.Prog) bool { return p.Type == elf.PT_INTERP }) {
			t.Errorf("%s is dynamically linked; gokrazy has no C library", p)
		}
	}
	// Superblock: magic "hsqs", compression id at byte 20 (1 = gzip/zlib).
	sb := make([]byte, 22)
	if _, err := mustOpen(t, img).ReadAt(sb, 0); err != nil {
		t.Fatal(err)
	}
	if string(sb[:4]) != "hsqs" || binary.LittleEndian.Uint16(sb[20:]) != 1 {
		t.Errorf("root superblock %x: want a gzip squashfs (gokrazy kernels have only SQUASHFS_ZLIB)", sb)
	}
}

// fatFiles lists a FAT image's files (mtools), paths without "::".
func fatFiles(t *testing.T, img string) []string {
	t.Helper()
	var files []string
	for _, l := range strings.Split(run(t, "mdir", "-/", "-b", "-i", img, "::/"), "\n") {
		if p := strings.TrimPrefix(strings.TrimSpace(l), "::"); p != "" && !strings.HasSuffix(p, "/") {
			files = append(files, p)
		}
	}
	return files
}

func mtype(t *testing.T, img, p string) string { return run(t, "mtype", "-i", img, "::"+p) }

func wantCmdline(t *testing.T, got string, parts ...string) {
	t.Helper()
	root := "root=PARTUUID=" + build.PartUUID("danzen", 1) + "/PARTNROFF=1"
	for _, p := range append([]string{root, "init=/gokrazy/init", "panic=10", "oops=panic"}, parts...) {
		if !slices.Contains(strings.Fields(got), p) {
			t.Errorf("kernel command line %q lacks %s", got, p)
		}
	}
	if !strings.HasSuffix(got, strings.Repeat(" ", 64)) {
		t.Errorf("kernel command line %q lacks the padding gokrazy rewrites in place", got)
	}
}

// TestAmd64Image builds the amd64 image with a vendor's update key, checks
// its partition table, root and boot file systems, boots it in QEMU (TCG,
// UEFI) and checks, as a LAN attacker would find it, that gokrazy's port
// 80 gives nothing and that bundles not signed by the vendor are refused
// with the old build running on; then the vendor's signed bundle goes in
// through the page over HTTPS (`danzen image push`'s path) and the
// gateway comes back with the new build from root B.
func TestAmd64Image(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the amd64 image and boots it in QEMU (minutes): make test runs it, -short skips it")
	}
	inst := testInstance(t, "danzen-amd64")
	out := t.TempDir()
	pub, priv := updateKeys(t)
	ts1 := time.Now().UTC().Truncate(time.Second)
	start := time.Now()
	res, err := build.Build(context.Background(), inst, out, build.Options{BuildTimestamp: ts1, ImageSize: 1536 << 20, UpdateKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("amd64 image built in %s (compile %s, root %s, boot %s, assemble %s); root squashfs %.1f MiB, boot FAT %.1f MiB",
		time.Since(start).Round(time.Second), res.Compile.Round(time.Second), res.RootFS.Round(time.Millisecond),
		res.BootFS.Round(time.Millisecond), res.Assemble.Round(time.Millisecond),
		float64(res.RootSize)/(1<<20), float64(res.BootSize)/(1<<20))
	for _, p := range res.Programs {
		t.Logf("  %-16s %6.1f MiB  %s", p.Path, float64(p.Size)/(1<<20), p.Module)
	}
	if res.RootSize > maxRootSize {
		t.Errorf("root squashfs is %.1f MiB, over the %d MiB budget", float64(res.RootSize)/(1<<20), maxRootSize>>20)
	}

	t.Run("partitions", func(t *testing.T) {
		checkPartitionTable(t, res.Image, "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709")
		// /perm is a clean ext4 file system.
		run(t, "e2fsck", "-fn", fmt.Sprintf("%s?offset=%d", res.Image, 2260992*512))
		// The image carries exactly the built boot and root file systems.
		for _, part := range []struct {
			file string
			off  int64
		}{{res.Boot, 8192 * 512}, {res.Root, 212992 * 512}} {
			want, err := os.ReadFile(part.file)
			if err != nil {
				t.Fatal(err)
			}
			got := make([]byte, len(want))
			_, err = mustOpen(t, res.Image).ReadAt(got, part.off)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("image at %d does not hold %s (%v)", part.off, part.file, err)
			}
		}
	})

	t.Run("root", func(t *testing.T) { checkRoot(t, res.Root, elf.EM_X86_64, pub) })

	t.Run("boot", func(t *testing.T) {
		files := fatFiles(t, res.Boot)
		for _, f := range []string{"/vmlinuz", "/cmdline.txt", "/config.txt", "/EFI/BOOT/BOOTX64.EFI",
			"/loader/loader.conf", "/loader/entries/gokrazy.conf"} {
			if !slices.Contains(files, f) {
				t.Errorf("boot file system lacks %s (has %v)", f, files)
			}
		}
		efi := mtype(t, res.Boot, "/EFI/BOOT/BOOTX64.EFI")
		if want, err := os.ReadFile(build.DefaultSystemdBoot); err != nil || efi != string(want) {
			t.Errorf("BOOTX64.EFI is not Debian's systemd-boot (%v)", err)
		}
		cmdline := mtype(t, res.Boot, "/cmdline.txt")
		wantCmdline(t, cmdline, "console=ttyS0,115200", "rootwait", "rootdelay=0")
		if i, j := strings.Index(cmdline, "rootdelay=10"), strings.Index(cmdline, "rootdelay=0"); i > j {
			t.Errorf("rootdelay=0 must come after the kernel's rootdelay=10 to override it: %q", cmdline)
		}
		entry := mtype(t, res.Boot, "/loader/entries/gokrazy.conf")
		if want := "title gokrazy\nlinux /vmlinuz\noptions " + cmdline; entry != want {
			t.Errorf("loader entry = %q, want %q", entry, want)
		}
		// gokrazy's on-device FAT reader finds both files it rewrites.
		part := io.NewSectionReader(mustOpen(t, res.Image), 8192*512, 204800*512)
		for p, want := range map[string]string{"/cmdline.txt": cmdline, "/loader/entries/gokrazy.conf": entry} {
			if got, err := build.ReadGokrazyFATFile(part, p); err != nil || string(got) != want {
				t.Errorf("gokrazy's FAT reader: %s = %q, %v", p, got, err)
			}
		}
		run(t, "fsck.vfat", "-n", res.Boot) // dosfstools finds no errors
	})

	if t.Failed() {
		t.Fatal("not booting an image that failed its checks")
	}

	t.Run("boot in QEMU and update", func(t *testing.T) { bootAndUpdate(t, inst, res, ts1, priv) })
}

// bootAndUpdate is TestAmd64Image's QEMU part.
func bootAndUpdate(t *testing.T, inst *build.Instance, res *build.Result, ts1 time.Time, priv ed25519.PrivateKey) {
	// The update is a second build (new timestamp), made and signed
	// before the VM starts so that compiling does not compete with TCG.
	ts2 := ts1.Add(time.Minute)
	updStart := time.Now()
	upd, err := build.BuildUpdate(context.Background(), inst, t.TempDir(), build.Options{BuildTimestamp: ts2, UpdateKey: res.UpdateKey})
	if err != nil {
		t.Fatal(err)
	}
	signed, err := build.WriteBundle(upd, priv)
	if err != nil {
		t.Fatal(err)
	}
	bad := badBundles(t, upd.GOARCH, ts2)
	t.Logf("update rebuilt and signed in %s", time.Since(updStart).Round(time.Second))

	testStart := time.Now()
	d := &dayOne{t: t, vm: startVM(t, res.Image, "")}
	base := fmt.Sprintf("https://127.0.0.1:%d", d.vm.appPort)
	firstAdmin(t, d, base, "vendor", vendorPW)
	t.Logf("booted to the page and made the first admin in %s (TCG)", time.Since(d.vm.started).Round(time.Second))
	log := d.vm.serial()
	for _, want := range []string{
		"gokrazy build timestamp " + res.BuildTimestamp,
		"init: supervising /user/danzend (start)",
		"init: supervising /user/restic (dontstart)",
		"init: supervising /gokrazy/dhcp (dontstart)",
		"cmdline: console=tty1 console=ttyS0,115200 root=PARTUUID=" + build.PartUUID("danzen", 1) + "/PARTNROFF=1",
		"inactiveRootPartition = 3",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("serial log lacks %q", want)
		}
	}
	if strings.Contains(log, "Could not mount permanent storage") {
		t.Error("gokrazy could not mount /perm")
	}

	// What a LAN attacker finds: no gokrazy on port 80.
	port80Closed(t, d.vm.port)

	// With the vendor's password but no vendor signature: refused,
	// recorded, and the old build runs on.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	target := push.Target{URL: base, CertSHA256: d.fp, User: "vendor", Password: vendorPW, SendAnyKey: true}
	for _, name := range []string{"wrongly signed", "unsigned"} {
		_, err := push.Send(ctx, target, bad[name])
		var refused *push.Refused
		if !errors.As(err, &refused) || refused.Status != http.StatusUnprocessableEntity || !strings.Contains(refused.Answer, "署名") && !strings.Contains(refused.Answer, "sign") {
			t.Fatalf("the %s bundle: %v, want the page's refusal naming the signature", name, err)
		}
		t.Logf("the %s bundle is refused: %s", name, refused.Answer)
	}
	st, err := push.Status(ctx, target)
	if err != nil || !st.Build.Equal(ts1) || st.Key != bundle.KeyID(res.UpdateKey) {
		t.Fatalf("after the refusals the page says build %s key %s (%v); want build %s, key %s", st.Build, st.Key, err, ts1, bundle.KeyID(res.UpdateKey))
	}
	if n := refusedRows(t, ctx, target); n != 2 {
		t.Errorf("the update view lists %d refusals, want 2", n)
	}
	port80Closed(t, d.vm.port)

	// The vendor's signed bundle, the way `danzen image push` sends it.
	before := d.vm.serial()
	pushStart := time.Now()
	target.SendAnyKey = false
	m, err := push.Push(ctx, target, signed, 4*time.Minute)
	if err != nil {
		t.Fatalf("push: %v\nserial log:\n%s", err, d.vm.serial()[len(before):])
	}
	t.Logf("signed bundle (%s) verified, written, switched and back with build %s in %s",
		bytesOf(t, signed), m.Build.Format(time.RFC3339), time.Since(pushStart).Round(time.Second))
	after := d.vm.serial()[len(before):]
	for _, want := range []string{
		"gokrazy build timestamp " + upd.BuildTimestamp,
		"/PARTNROFF=2",
		"inactiveRootPartition = 2",
	} {
		if !strings.Contains(after, want) {
			t.Errorf("after the update the serial log lacks %q", want)
		}
	}
	page, err := push.Get(ctx, target, "/system/update")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), ts2.Format(time.RFC3339)) || strings.Count(string(page), `<tr class="bad">`) != 2 {
		t.Errorf("after the update the update view lacks the new build or the two refusals:\n%s", page)
	}
	port80Closed(t, d.vm.port)
	t.Logf("QEMU boot, refusals and update took %s", time.Since(testStart).Round(time.Second))
}

func bytesOf(t *testing.T, p string) string {
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%.1f MiB", float64(st.Size())/(1<<20))
}

type vm struct {
	port    int // 127.0.0.1 port forwarded to gokrazy's web interface (80)
	appPort int // 127.0.0.1 port forwarded to danzend's page (8443, HTTPS)
	started time.Time
	log     string
	cmd     *exec.Cmd
}

// stop ends the VM at once, like pulling its plug.
func (v *vm) stop() { kill(v.cmd) }

// kill ends cmd at once. Kill fails only when cmd has ended already, and
// Wait then reports the "signal: killed" that was asked for.
func kill(cmd *exec.Cmd) {
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

func (v *vm) serial() string {
	b, _ := os.ReadFile(v.log)
	return string(b)
}

// startVM boots img under QEMU TCG with OVMF. The only network is QEMU's
// user-mode stack with restrict=on; the forwards are 127.0.0.1:port →
// guest port 80 and 127.0.0.1:appPort → 8443, plus what nicExtra adds
// (guestfwd rules); extra holds more QEMU arguments (drives).
func startVM(t *testing.T, img, nicExtra string, extra ...string) *vm {
	t.Helper()
	vars := filepath.Join(t.TempDir(), "OVMF_VARS.fd")
	b, err := os.ReadFile("/usr/share/OVMF/OVMF_VARS.fd")
	if err != nil {
		t.Fatalf("OVMF firmware missing (Debian package ovmf): %v", err)
	}
	if err := os.WriteFile(vars, b, 0o644); err != nil {
		t.Fatal(err)
	}
	machine := []string{
		"-drive", "if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd",
		"-drive", "if=pflash,format=raw,file=" + vars}
	return bootVM(t, "qemu-system-x86_64", "qemu-system-x86", img, nicExtra, append(machine, extra...))
}

// bootVM starts qemu (from Debian package pkg) under TCG with img as a
// virtio disk, the closed network startVM describes and the serial
// console in a file; args are the machine's own and the caller's.
func bootVM(t *testing.T, qemu, pkg, img, nicExtra string, args []string) *vm {
	t.Helper()
	v := &vm{port: freePort(t), appPort: freePort(t), log: filepath.Join(t.TempDir(), "serial.log"), started: time.Now()}
	args = append([]string{
		"-accel", "tcg", "-m", "1024", "-smp", "2", "-nographic", "-monitor", "none",
		"-drive", "file=" + img + ",format=raw,if=virtio",
		"-device", "virtio-rng-pci",
		"-nic", fmt.Sprintf("user,model=virtio-net-pci,restrict=on,hostfwd=tcp:127.0.0.1:%d-:80,hostfwd=tcp:127.0.0.1:%d-:8443%s",
			v.port, v.appPort, nicExtra),
		"-serial", "file:" + v.log}, args...)
	cmd := exec.Command(qemu, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s (Debian package %s): %v", qemu, pkg, err)
	}
	v.cmd = cmd
	t.Cleanup(func() {
		kill(cmd)
		if t.Failed() {
			t.Logf("qemu stderr: %s", stderr.String())
		}
	})
	return v
}

// TestRpiImage builds the Raspberry Pi image and checks what the Pi
// firmware reads: the hybrid MBR's FAT partition with firmware, kernel, DTBs,
// overlays, EEPROM update files, config.txt and cmdline.txt.
func TestRpiImage(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the Raspberry Pi image (minutes): make test runs it, -short skips it")
	}
	inst := testInstance(t, "danzen-rpi")
	start := time.Now()
	pub, _ := updateKeys(t)
	res, err := build.Build(context.Background(), inst, t.TempDir(), build.Options{ImageSize: 1536 << 20, UpdateKey: pub})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("rpi image built in %s; root squashfs %.1f MiB, boot FAT %.1f MiB",
		time.Since(start).Round(time.Second), float64(res.RootSize)/(1<<20), float64(res.BootSize)/(1<<20))

	checkPartitionTable(t, res.Image, "B921B045-1DF0-41C3-AF44-4C6F280D3FAE")
	checkRoot(t, res.Root, elf.EM_AARCH64, pub)

	files := fatFiles(t, res.Boot)
	for _, f := range []string{
		"/vmlinuz", "/cmdline.txt", "/config.txt",
		"/bcm2711-rpi-4-b.dtb", "/bcm2712-rpi-5-b.dtb", "/bcm2711-rpi-cm4.dtb",
		"/start4.elf", "/fixup4.dat", "/bootcode.bin",
		"/pieeprom.upd", "/pieeprom.sig", "/vl805.bin", "/vl805.sig", "/recovery.bin",
		"/overlays/overlay_map.dtb",
	} {
		if !slices.Contains(files, f) {
			t.Errorf("Pi boot file system lacks %s", f)
		}
	}
	var overlays int
	for _, f := range files {
		if strings.HasPrefix(f, "/overlays/") && strings.HasSuffix(f, ".dtbo") {
			overlays++
		}
		if strings.HasPrefix(f, "/EFI/") || strings.HasPrefix(f, "/loader/") {
			t.Errorf("%s: a Pi image boots by its firmware, not UEFI", f)
		}
	}
	if overlays < 100 {
		t.Errorf("only %d device tree overlays", overlays)
	}
	upd, sig := mtype(t, res.Boot, "/pieeprom.upd"), mtype(t, res.Boot, "/pieeprom.sig")
	if want := fmt.Sprintf("%x\n", sha256.Sum256([]byte(upd))); sig != want {
		t.Errorf("pieeprom.sig = %q, want the SHA-256 of pieeprom.upd %q", sig, want)
	}
	config := mtype(t, res.Boot, "/config.txt")
	for _, l := range []string{"kernel=vmlinuz", "enable_uart=1", "arm_64bit=1"} {
		if !slices.Contains(strings.Split(config, "\n"), l) {
			t.Errorf("config.txt lacks %q:\n%s", l, config)
		}
	}
	cmdline := mtype(t, res.Boot, "/cmdline.txt")
	wantCmdline(t, cmdline, "console=serial0,115200", "rootwait")
	if got, err := build.ReadGokrazyFATFile(mustOpen(t, res.Boot), "/cmdline.txt"); err != nil || string(got) != cmdline {
		t.Errorf("gokrazy's FAT reader: cmdline.txt = %q, %v", got, err)
	}
}

func mustOpen(t *testing.T, p string) *os.File {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = f.Close() }) // only read
	return f
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	if err := l.Close(); err != nil { // the port must be free for QEMU
		t.Fatal(err)
	}
	return port
}
