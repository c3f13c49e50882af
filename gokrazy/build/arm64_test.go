package build_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"debug/elf"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/gokrazy/build"
	"github.com/danzen-gw/danzen/gokrazy/update"
)

// gokrazy's arm64 kernel for PCs and VMs (upstream Linux with virtio and
// PL011), pinned with its go.sum lines so the test needs no checksum server.
const (
	kernelARM64Pkg     = "github.com/gokrazy/kernel.arm64"
	kernelARM64Version = "v0.0.0-20260705071517-37841c4d6ff1"
	kernelARM64Sum     = kernelARM64Pkg + " " + kernelARM64Version + " h1:MYq3OcTlEz46i/DZxG3c6ePjE6Te/024cPW2VHTBVAs=\n" +
		kernelARM64Pkg + " " + kernelARM64Version + "/go.mod h1:WWx72LXHEesuJxbopusRfSoKJQ6ffdwkT0DZditdrLo=\n"
)

// TestARM64VirtBoots builds danzend's arm64 image with kernel.arm64 in
// place of the Pi kernel and firmware, boots it on QEMU's virt machine
// (TCG) and waits until gokrazy reports the build and danzend serves its
// setup page. QEMU 7.2 has no Pi 4/5 machine, so this is as close to the Pi
// as this machine gets: the same arm64 init, danzend, root file system and
// partition layout, under another kernel.
//
// The kernel is started directly (-kernel/-append with vmlinuz and
// cmdline.txt taken from the image's own boot file system), which is what
// the Pi firmware does with the same two files. A UEFI boot would need an
// arm64 EFI loader in the image: Debian's systemd-boot-efi is packaged per
// architecture, and installing the arm64 one means adding a foreign dpkg
// architecture to a shared machine, while the loader is not what a Pi runs.
func TestARM64VirtBoots(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an arm64 image and boots it in QEMU (minutes): make test runs it, -short skips it")
	}
	for _, tool := range []string{"qemu-system-aarch64", "mcopy"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not found: make test installs qemu-system-arm and mtools", tool)
		}
	}
	inst := virtInstance(t)
	start := time.Now()
	res, err := build.Build(context.Background(), inst, t.TempDir(), build.Options{ImageSize: 1536 << 20, Bench: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("arm64 virt image built in %s (compile %s); root squashfs %.1f MiB, boot FAT %.1f MiB",
		time.Since(start).Round(time.Second), res.Compile.Round(time.Second),
		float64(res.RootSize)/(1<<20), float64(res.BootSize)/(1<<20))
	checkPartitionTable(t, res.Image, "B921B045-1DF0-41C3-AF44-4C6F280D3FAE")
	for _, p := range []string{"/gokrazy/init", "/user/danzend"} {
		f, err := elf.NewFile(bytes.NewReader([]byte(run(t, "unsquashfs", "-cat", res.Root, p))))
		if err != nil || f.Machine != elf.EM_AARCH64 {
			t.Fatalf("%s is not an arm64 program (%v)", p, err)
		}
	}

	kernel := filepath.Join(t.TempDir(), "vmlinuz")
	run(t, "mcopy", "-i", res.Boot, "::/vmlinuz", kernel)
	cmdline := strings.TrimSpace(mtype(t, res.Boot, "/cmdline.txt"))
	wantCmdline(t, mtype(t, res.Boot, "/cmdline.txt"), "console=ttyAMA0,115200", "rootwait")

	v := startARM64VM(t, res.Image, kernel, cmdline)
	target := update.NewTarget("127.0.0.1", strconv.Itoa(v.port), testPassword)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	st, err := target.WaitForBuild(ctx, res.BuildTimestamp)
	if err != nil {
		t.Fatalf("gokrazy's web interface did not come up: %v\nserial log:\n%s", err, v.serial())
	}
	t.Logf("booted to gokrazy's web interface in %s (TCG, arm64)", time.Since(v.started).Round(time.Second))
	for _, s := range st.Services {
		if s.Path == "/user/danzend" && s.Stopped {
			t.Errorf("danzend is stopped under gokrazy: %+v", st.Services)
		}
	}
	log := v.serial()
	if i := strings.Index(log, "Linux version "); i >= 0 {
		t.Logf("guest kernel: %s", strings.TrimSpace(strings.SplitN(log[i:], "\n", 2)[0]))
	}
	for _, want := range []string{
		"Booting Linux on physical CPU", // arm64's first line: the guest really is arm64
		"Machine model: linux,dummy-virt",
		"gokrazy build timestamp " + res.BuildTimestamp,
		"init: supervising /user/danzend (start)",
		"root=PARTUUID=" + build.PartUUID("danzen", 1) + "/PARTNROFF=1",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("serial log lacks %q", want)
		}
	}
	checkSetupPage(t, v, 60*time.Second)
	t.Logf("arm64 boot test done %s after QEMU started", time.Since(v.started).Round(time.Second))
}

// virtInstance is danzen-rpi (arm64, the same programs and pins) turned
// into a virt-machine instance: kernel.arm64, no Pi firmware or EEPROM, the
// PL011 console. restic is left out: building it for arm64 takes minutes
// and TestRpiImage already checks it is in the Pi image.
func virtInstance(t *testing.T) *build.Instance {
	t.Helper()
	inst := testInstance(t, "danzen-rpi")
	dir := filepath.Join(inst.Dir, "builddir", filepath.FromSlash(kernelARM64Pkg))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	gomod := "module gokrazy/build/danzen-arm64-virt\n\ngo 1.26\n\nrequire " + kernelARM64Pkg + " " + kernelARM64Version + " // indirect\n"
	for name, content := range map[string]string{"go.mod": gomod, "go.sum": kernelARM64Sum} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cfg := inst.Config
	if cfg.GOARCH() != "arm64" {
		t.Fatalf("danzen-rpi builds for %s, want arm64", cfg.GOARCH())
	}
	kernel, none := kernelARM64Pkg, ""
	cfg.KernelPackage, cfg.FirmwarePackage, cfg.EEPROMPackage = &kernel, &none, &none
	cfg.SerialConsole = "ttyAMA0,115200"
	cfg.BootloaderExtraLines = nil
	cfg.KernelExtraArgs = []string{"rootwait"}
	cfg.Packages = []string{danzendPkg}
	delete(cfg.PackageConfig, resticPkg)
	return inst
}

// startARM64VM boots img on QEMU's virt machine with the Pi 4's core
// (Cortex-A72) under TCG, the kernel loaded directly. The network is the
// same as startVM's: user mode, restrict=on, 127.0.0.1-only forwards.
func startARM64VM(t *testing.T, img, kernel, cmdline string) *vm {
	t.Helper()
	return bootVM(t, "qemu-system-aarch64", "qemu-system-arm", img, "",
		[]string{"-machine", "virt", "-cpu", "cortex-a72", "-kernel", kernel, "-append", cmdline})
}

var fingerprintRE = regexp.MustCompile(`fingerprint: ([0-9A-F:]{95})`)

// checkSetupPage waits for danzend's certificate fingerprint on the serial
// console (gokrazy copies its services' output there) and fetches the
// first-start setup page over HTTPS, trusting exactly that certificate.
func checkSetupPage(t *testing.T, v *vm, within time.Duration) {
	t.Helper()
	var fp string
	deadline := time.Now().Add(within)
	for ; fp == "" && time.Now().Before(deadline); time.Sleep(time.Second) {
		if m := fingerprintRE.FindStringSubmatch(v.serial()); m != nil {
			fp = m[1]
		}
	}
	if fp == "" {
		t.Fatalf("danzend printed no certificate fingerprint within %s\nserial log:\n%s", within, v.serial())
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // self-signed, made in the VM: pinned by the printed fingerprint below
		VerifyConnection: func(cs tls.ConnectionState) error {
			sum := sha256.Sum256(cs.PeerCertificates[0].Raw)
			if got := strings.ToUpper(strings.Join(strings.Fields(fmt.Sprintf("% x", sum[:])), ":")); got != fp {
				return fmt.Errorf("certificate %s, console printed %s", got, fp)
			}
			return nil
		},
	}}}
	url := fmt.Sprintf("https://127.0.0.1:%d/setup", v.appPort)
	var last string
	for ; time.Now().Before(deadline); time.Sleep(2 * time.Second) {
		resp, err := client.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close() // read: a failed read is polled again
		if err == nil && resp.StatusCode == http.StatusOK && len(body) > 0 {
			t.Logf("danzend's setup page answered %d bytes over HTTPS from the arm64 guest", len(body))
			return
		}
		last = fmt.Sprintf("%s: %v", resp.Status, err)
	}
	t.Fatalf("danzend's setup page %s did not answer within %s (last: %s)\nserial log:\n%s", url, within, last, v.serial())
}
