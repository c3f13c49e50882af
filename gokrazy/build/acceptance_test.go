package build_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/gokrazy/build"
	"github.com/danzen-gw/danzen/internal/sshdtest"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/relay"
)

// guestSFTP is where the guest reaches the host's sshd: QEMU's guestfwd
// carries it to 127.0.0.1 on the host, so nothing leaves the machine.
const guestSFTP = "10.0.2.100"

// TestImageBootsAndBacksUp is the appliance's acceptance test: the real
// amd64 image boots under QEMU, danzend drives its (simulated) relays off,
// pulls an export from an OpenSSH server on the host, writes a restic
// snapshot onto a second virtual disk, and after the VM is gone stock
// restic on the host restores the files from that disk image.
func TestImageBootsAndBacksUp(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the image in QEMU against sshd and restic (root, minutes): make test runs it, -short skips it")
	}
	restic := os.Getenv("DANZEN_RESTIC")
	if restic == "" {
		t.Fatal("DANZEN_RESTIC is not set: run make test, which builds bin/restic")
	}
	ctx := context.Background()

	// The e-chart server on the host.
	sshd, err := sshdtest.Start(ctx, sshdtest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := sshd.Close(); err != nil {
			t.Error(err)
		}
	}()
	want := map[string][]byte{
		"db/emr.sql":         []byte(strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎', 'HbA1c 7.2%');\n", 40000)),
		"カルテ/患者 一覧 2026.csv": []byte("患者ID,氏名\n1,山田 太郎\n2,佐藤 花子\n"),
	}
	for rel, b := range want {
		if err := sshd.WriteFile(rel, b, time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}

	// The backup medium: an ext4 disk prepared as `danzen medium init` would.
	dir := t.TempDir()
	const mediaID = "DANZEN-VM-A"
	medium, err := looptest.CreateExt4(filepath.Join(dir, "medium.img"), 256<<20, looptest.ImageOptions{Label: "disk-a"})
	if err != nil {
		t.Fatal(err)
	}
	password := "vm-acceptance-password-0123456789abcdef"
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte(password), 0o600); err != nil {
		t.Fatal(err)
	}
	withMounted(t, medium.Path, false, func(mnt string) {
		if err := os.WriteFile(filepath.Join(mnt, disk.MediaIDFile), []byte(mediaID+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(restic, "-r", filepath.Join(mnt, disk.RepoDir), "--password-file", pwFile, "init").CombinedOutput(); err != nil {
			t.Fatalf("restic init: %v\n%s", err, out)
		}
	})

	// The image, with danzend told to run one cycle after start.
	inst := testInstance(t, "danzen-amd64")
	pc := inst.Config.PackageConfig[danzendPkg]
	pc.CommandLineFlags = append(pc.CommandLineFlags, "-cycle-now")
	inst.Config.PackageConfig[danzendPkg] = pc
	res, err := build.Build(ctx, inst, t.TempDir(), build.Options{ImageSize: 1536 << 20, Bench: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("root squashfs: %.1f MiB (budget 80 MiB)", float64(res.RootSize)/(1<<20))
	if res.RootSize > maxRootSize {
		t.Errorf("root squashfs %.1f MiB is over budget", float64(res.RootSize)/(1<<20))
	}

	// /perm as a first installation leaves it: configuration and secrets.
	writePerm(t, res.Image, permConfig(t, sshd, medium.UUID, mediaID, password))

	vm := startVM(t, res.Image, guestFwd(sshd.Port),
		"-drive", "file="+medium.Path+",format=raw,if=virtio")
	metrics := waitForMetric(t, vm, "danzen_last_cycle_ok ", 6*time.Minute)
	t.Logf("booted, pulled and backed up in %s (TCG)", time.Since(vm.started).Round(time.Second))
	if !strings.Contains(metrics, `danzen_medium_last_snapshot_timestamp_seconds{medium="disk-a"}`) {
		t.Fatalf("the cycle wrote no snapshot:\n%s\ndanzend log:\n%s", metrics, danzendLog(t, vm))
	}
	if !strings.Contains(metrics, `danzen_medium_state{medium="disk-a",state="simulated"} 1`) {
		t.Errorf("a simulated relay must show as simulated, not offline:\n%s", metrics)
	}
	if rss := metricValue(metrics, "process_resident_memory_bytes"); rss > 0 {
		t.Logf("danzend resident memory after the cycle: %.1f MiB (target ≤ 40 MiB idle)", rss/(1<<20))
	} else {
		t.Error("danzend's resident memory is not reported")
	}
	// gokrazy copies its services' output to the serial console.
	if !strings.Contains(vm.serial(), "all relays driven off at start") {
		t.Errorf("the serial console lacks danzend's fail-safe line:\n%s", vm.serial())
	}
	// The cycle has detached the medium; stop the VM like a power cut.
	vm.stop()

	// Stock restic on the host restores from the disk the VM wrote.
	target := restoreFromDisk(t, restic, medium.Path, pwFile, want)
	var man struct {
		Files []struct{ Path, SHA256 string }
	}
	raw, err := os.ReadFile(filepath.Join(target, "manifest.json"))
	if err != nil || json.Unmarshal(raw, &man) != nil || len(man.Files) != len(want) {
		t.Fatalf("restored manifest: %v %s", err, raw)
	}
	for _, f := range man.Files {
		sum := sha256.Sum256(want[f.Path])
		if f.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("manifest SHA-256 of %s does not match the source", f.Path)
		}
	}
}

// permConfig is the /perm/danzen tree the VM starts with.
func permConfig(t *testing.T, s *sshdtest.Server, fsUUID, mediaID, password string) map[string][]byte {
	key, err := os.ReadFile(s.ClientKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	hostKey := strings.Fields(s.KnownHosts)[1:] // type and key, for the guest's view of the address
	cfg := config.Default()
	cfg.GatewayID = "danzen-vm"
	cfg.StagingDir, cfg.SecretsDir, cfg.LedgerDir = "/perm/danzen/staging", "/perm/danzen/secrets", "/perm/danzen/ledger"
	src := config.DefaultSource()
	src.Name, src.Host, src.Port, src.User = "emr", guestSFTP, 22, sshdtest.User
	src.KeyFile = "emr_ed25519"
	src.KnownHosts = []string{guestSFTP + " " + strings.Join(hostKey, " ")}
	src.ExportDir = "/export"
	src.Completion = config.Completion{Mode: config.CompletionStable, StableFor: config.Duration(time.Second)}
	src.Connections, src.Workers = 1, 4
	cfg.Sources = []config.Source{src}
	cfg.Relays = []relay.Spec{{Name: "relay-a", Driver: relay.DriverSimulated}}
	cfg.Media = []config.Medium{{Name: "disk-a", Type: config.MediumDisk, Relay: "relay-a", PasswordFile: "disk-a.restic-password",
		Disk: &disk.Spec{Name: "disk-a", FSUUID: fsUUID, MediaID: mediaID, AppearTimeout: disk.Duration(60 * time.Second),
			GoneTimeout: disk.Duration(5 * time.Second)}}}
	cfg.Schedule = "0 3 * * *"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(cfg, "", "  ")
	return map[string][]byte{
		"danzen/config.json":                    b,
		"danzen/secrets/emr_ed25519":            key,
		"danzen/secrets/disk-a.restic-password": []byte(password),
	}
}

// writePerm makes the image's /perm partition an ext4 file system holding
// files (0600 under secrets/), as a first installation would leave it.
func writePerm(t *testing.T, img string, files map[string][]byte) {
	root := t.TempDir()
	for rel, b := range files {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	fi, err := os.Stat(img)
	if err != nil {
		t.Fatal(err)
	}
	// The partition ends before the backup GPT (33 sectors at the end):
	// a file system past it would not mount.
	const permStart, gptTail = 2260992, 33
	kib := (fi.Size()/512 - gptTail - permStart) * 512 / 1024 / 4 * 4
	run(t, "mkfs.ext4", "-F", "-q", "-L", "perm", "-E", "offset="+strconv.Itoa(permStart*512), "-d", root, img, strconv.FormatInt(kib, 10)+"k")
	run(t, "sfdisk", "-V", img) // the partition table is intact
}

func withMounted(t *testing.T, image string, readOnly bool, fn func(mnt string)) {
	t.Helper()
	l, err := looptest.Attach(image)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := l.Detach(); err != nil {
			t.Error(err)
		}
	}()
	mnt := t.TempDir()
	args := []string{l.Path, mnt}
	if readOnly {
		args = append([]string{"-o", "ro"}, args...)
	}
	if out, err := exec.Command("mount", args...).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	defer func() {
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount: %v %s", err, out)
		}
	}()
	fn(mnt)
}

// waitForMetric polls danzend's /metrics through the forward until line
// appears, and returns the page.
func waitForMetric(t *testing.T, v *vm, line string, within time.Duration) string {
	deadline := time.Now().Add(within)
	url := fmt.Sprintf("https://127.0.0.1:%d/metrics", v.appPort)
	// The page's certificate is self-signed and generated in the VM; its
	// fingerprint check is cmd/danzend's test. Here only the data matters.
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	var last string
	for time.Now().Before(deadline) {
		if resp, err := client.Get(url); err == nil {
			b, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close() // read: a short page is polled again
			last = string(b)
			if strings.Contains(last, line) {
				return last
			}
		}
		time.Sleep(2 * time.Second)
	}
	t.Fatalf("no %s within %s\nlast metrics:\n%s\nserial log:\n%s\ndanzend log:\n%s", line, within, last, v.serial(), danzendLog(t, v))
	return ""
}

// danzendLog is danzend's output as gokrazy keeps it.
func danzendLog(t *testing.T, v *vm) string {
	req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("http://127.0.0.1:%d/log?path=/user/danzend&stream=stderr", v.port), nil)
	req.SetBasicAuth("gokrazy", testPassword)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	resp, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		return "(gokrazy log unavailable: " + err.Error() + ")"
	}
	defer func() { _ = resp.Body.Close() }() // read for a failure message only
	var b strings.Builder
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		b.WriteString(sc.Text() + "\n")
	}
	return b.String()
}

func metricValue(page, name string) float64 {
	for _, l := range strings.Split(page, "\n") {
		if v, ok := strings.CutPrefix(l, name+" "); ok {
			f, _ := strconv.ParseFloat(v, 64)
			return f
		}
	}
	return 0
}

// restoreFromDisk restores the latest snapshot from the disk image with
// stock restic on the host and checks that every file of want came back
// unchanged; it returns the restore's target folder.
func restoreFromDisk(t *testing.T, restic, image, pwFile string, want map[string][]byte) string {
	t.Helper()
	target := t.TempDir()
	withMounted(t, image, true, func(mnt string) {
		out, err := exec.Command(restic, "-r", filepath.Join(mnt, disk.RepoDir), "--password-file", pwFile, "--no-lock", "--no-cache",
			"restore", "latest", "--target", target).CombinedOutput()
		if err != nil {
			t.Fatalf("stock restic restore: %v\n%s", err, out)
		}
	})
	for rel, b := range want {
		got, err := os.ReadFile(filepath.Join(target, "data", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatalf("restored %s: %v", rel, err)
		}
		if sha256.Sum256(got) != sha256.Sum256(b) {
			t.Fatalf("restored %s differs from the source", rel)
		}
	}
	return target
}
