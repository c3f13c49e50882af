package gateway_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/demo"
	"github.com/danzen-gw/danzen/gateway"
	testrig "github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/internal/sshdtest"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/relay/fake"
	"github.com/danzen-gw/danzen/status"
)

func resticBin(t *testing.T) string { return testrig.Restic(t) }

// rig is a gateway's world: a real sshd with an export, file-backed disks
// behind fake relays, and a configuration for them.
type rig struct {
	sshd *sshdtest.Server
	hw   *demo.Hardware
	cfg  *config.Config
	dir  string
}

func newRig(t *testing.T, media []string, diskSize int64) *rig {
	t.Helper()
	x := testrig.New(t, map[string]string{
		"db/emr.dmp":    strings.Repeat("INSERT INTO karte VALUES (1, '山田 太郎');\n", 50000),
		"カルテ/患者 一覧.csv": "患者ID,氏名\n1,山田 太郎\n",
	}, media, diskSize)
	return &rig{sshd: x.SSHD, hw: x.HW, cfg: x.Cfg, dir: x.Dir}
}

func (r *rig) open(t *testing.T) *gateway.Gateway {
	t.Helper()
	g, err := gateway.Open(context.Background(), r.cfg, gateway.Options{RelaySources: r.hw.Sources()})
	if err != nil {
		t.Fatal(err)
	}
	closeGatewayAtEnd(t, g)
	return g
}

func (r *rig) prepare(t *testing.T, g *gateway.Gateway, name string) {
	t.Helper()
	pw, created, err := g.NewPassword(name)
	if err != nil || !created || len(pw) < 40 {
		t.Fatalf("password: %q %v %v", pw, created, err)
	}
	if _, again, _ := g.NewPassword(name); again {
		t.Fatal("a second password was created")
	}
	mr, err := g.PrepareMedium(context.Background(), name, false, nil)
	if err != nil || !mr.CutVerified {
		t.Fatalf("prepare %s: %v (cut verified %v: %s)", name, err, mr.CutVerified, mr.CutReason)
	}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// TestCycleRestoresWithStockRestic is the heart of the product: a cycle
// writes the medium only while its relay is on, cuts it with proof, and
// stock restic alone restores every file with the pulled SHA-256.
func TestCycleRestoresWithStockRestic(t *testing.T) {
	r := newRig(t, []string{"disk-a", "disk-b"}, 256<<20)
	g := r.open(t)
	r.prepare(t, g, "disk-a")
	r.prepare(t, g, "disk-b")

	rep, err := g.RunCycle(ctxT(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || len(rep.Media) != 1 || rep.Media[0].Name != "disk-a" {
		t.Fatalf("first cycle: %+v", rep)
	}
	m := rep.Media[0]
	if !m.CutVerified || m.Simulated || len(m.Snapshots) != 1 || m.Snapshots[0].ID == "" || !m.Checked {
		t.Fatalf("disk-a: %+v", m)
	}
	// The medium really is gone: no loop device, relay open.
	if r.hw.Powers["disk-a"].Loop() != nil || r.hw.Board.Relay("relay-disk-a").Powered() {
		t.Fatal("disk-a still attached or powered after the cycle")
	}

	// Rotation: the next cycle writes the other disk.
	rep, err = g.RunCycle(ctxT(t), nil)
	if err != nil || len(rep.Media) != 1 || rep.Media[0].Name != "disk-b" || !rep.Media[0].CutVerified {
		t.Fatalf("second cycle: %v %+v", err, rep)
	}

	// The ledger verifies and shows disk-a cut with proof.
	if vr, err := ledger.Verify(r.cfg.LedgerDir); err != nil {
		t.Fatalf("ledger: %v\n%s", err, vr)
	}
	st, err := g.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, sm := range st.Media {
		if sm.State != status.Cut || sm.Period.VerifiedCuts < 2 || sm.LastSnapshot == nil {
			t.Fatalf("status of %s: %+v", sm.Name, sm)
		}
	}

	restoreWithStockRestic(t, r, "disk-a", m.Snapshots[0].ID)
}

// restoreWithStockRestic powers the disk by hand, mounts it with the
// system's mount command and restores with the restic binary alone, as a
// technician with a PC would, then checks every file against the manifest
// inside the snapshot.
func restoreWithStockRestic(t *testing.T, r *rig, medium, snapshot string) {
	p := r.hw.Powers[medium]
	if err := p.SetPower(true); err != nil {
		t.Fatal(err)
	}
	powerOffAtEnd(t, p)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-o", "ro", p.Loop().Path, mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	unmountAtEnd(t, mnt)
	target := t.TempDir()
	pwFile := filepath.Join(r.cfg.SecretsDir, medium+".restic-password")
	cmd := exec.Command(resticBin(t), "-r", filepath.Join(mnt, disk.RepoDir), "--password-file", pwFile, "--no-cache", "--no-lock",
		"restore", snapshot, "--target", target)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("stock restic restore: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(filepath.Join(target, pull.ManifestName))
	if err != nil {
		t.Fatalf("the snapshot holds no manifest: %v", err)
	}
	var man pull.Manifest
	if err := json.Unmarshal(raw, &man); err != nil {
		t.Fatal(err)
	}
	if len(man.Files) != 2 {
		t.Fatalf("manifest lists %d files", len(man.Files))
	}
	for _, f := range man.Files {
		fh, err := os.Open(filepath.Join(target, "data", filepath.FromSlash(f.Path)))
		if err != nil {
			t.Fatal(err)
		}
		h := sha256.New()
		n, err := io.Copy(h, fh)
		_ = fh.Close() // read-only, read to the end
		if err != nil {
			t.Fatal(err)
		}
		if n != f.Size || hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
			t.Fatalf("%s: restored file differs from the pulled one", f.Path)
		}
	}
}

func TestWeldedRelayIsNeverReportedOffline(t *testing.T) {
	r := newRig(t, []string{"disk-a"}, 128<<20)
	// The hospital's alert endpoint, on loopback.
	var mu sync.Mutex
	var got []map[string]any
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var a map[string]any
		if err := json.NewDecoder(req.Body).Decode(&a); err != nil {
			t.Errorf("webhook body: %v", err)
		}
		mu.Lock()
		got = append(got, a)
		mu.Unlock()
	}))
	defer hook.Close()
	r.cfg.Alerts.Webhook = &alert.WebhookSpec{URL: hook.URL}
	g := r.open(t)
	r.prepare(t, g, "disk-a")
	r.hw.Board.Relay("relay-disk-a").SetMode(fake.Welded)
	rep, err := g.RunCycle(ctxT(t), nil)
	if err == nil || rep.OK() {
		t.Fatal("a cycle with a welded relay succeeded")
	}
	m := rep.Media[0]
	if m.CutVerified || !strings.Contains(m.CutReason.String(), "relay-disk-a") {
		t.Fatalf("welded relay: %+v", m)
	}
	st, _ := g.Status(context.Background())
	if st.Media[0].State != status.Fault {
		t.Fatalf("state %s, want fault", st.Media[0].State)
	}
	entries, _ := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Medium: "disk-a", Kinds: []ledger.Kind{ledger.KindPowerOffUnverified}})
	if len(entries) != 1 {
		t.Fatalf("%d unverified-cut entries, want 1", len(entries))
	}
	// The most serious alert went out, naming the medium.
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		var found bool
		for _, a := range got {
			found = found || (a["kind"] == "medium_not_off" && a["medium"] == "disk-a" && a["resolved"] == false)
		}
		mu.Unlock()
		if found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no medium_not_off alert for disk-a; received %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDiskThatNeverDisappearsIsNotOffline(t *testing.T) {
	r := newRig(t, []string{"disk-a"}, 128<<20)
	g := r.open(t)
	r.prepare(t, g, "disk-a")
	r.hw.Powers["disk-a"].SetMode(looptest.NeverDisappears)
	rep, err := g.RunCycle(ctxT(t), nil)
	if err == nil || rep.Media[0].CutVerified {
		t.Fatalf("a disk that stayed present was reported cut: %+v", rep.Media)
	}
	var sp *disk.StillPresentError
	if !errors.As(rep.Media[0].Err, &sp) && !strings.Contains(rep.Media[0].CutReason.String(), "disk-a") {
		t.Fatalf("reason does not name the disk: %v / %s", rep.Media[0].Err, rep.Media[0].CutReason)
	}
	r.hw.Powers["disk-a"].SetMode(looptest.Healthy)
}

func TestUnknownDiskIsRefusedAndNothingWritten(t *testing.T) {
	r := newRig(t, []string{"disk-a"}, 128<<20)
	r.cfg.Media[0].Disk.AppearTimeout = disk.Duration(3 * time.Second)
	g := r.open(t)
	r.prepare(t, g, "disk-a")
	// Someone plugs another disk in disk-a's place.
	other, err := looptest.CreateExt4(filepath.Join(r.dir, "other.img"), 64<<20, looptest.ImageOptions{})
	if err != nil {
		t.Fatal(err)
	}
	r.hw.Powers["disk-a"].SetMode(looptest.NeverAppears)
	stranger := looptest.NewPower(other.Path, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		stranger.Follow(ctx, r.hw.Board.Relay("relay-disk-a").Powered, 10*time.Millisecond)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		if err := stranger.Close(); err != nil {
			t.Errorf("detach the unknown disk: %v", err)
		}
	})

	rep, err := g.RunCycle(ctxT(t), nil)
	if err == nil || len(rep.Media[0].Snapshots) != 0 {
		t.Fatalf("cycle wrote to an unknown disk: %v %+v", err, rep.Media)
	}
	if !strings.Contains(rep.Media[0].Err.Error(), "別のディスク") {
		t.Fatalf("error does not say a different disk is connected: %v", rep.Media[0].Err)
	}
	if !rep.Media[0].CutVerified {
		t.Fatalf("the stranger disk was not cut: %s", rep.Media[0].CutReason)
	}
	cancel()
	<-done
	// Nothing was written to the stranger.
	if err := stranger.SetPower(true); err != nil {
		t.Fatal(err)
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-o", "ro", stranger.Loop().Path, mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	unmountAtEnd(t, mnt)
	for _, name := range []string{disk.MediaIDFile, disk.RepoDir} {
		if _, err := os.Stat(filepath.Join(mnt, name)); err == nil {
			t.Fatalf("%s was written to the unknown disk", name)
		}
	}
}

func TestMediumFullIsReportedAsFull(t *testing.T) {
	r := newRig(t, []string{"disk-a"}, 8<<20)
	// More incompressible data than the disk holds.
	big := make([]byte, 12<<20)
	if _, err := rand.Read(big); err != nil {
		t.Fatal(err)
	}
	if err := r.sshd.WriteFile("db/big.bin", big, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	g := r.open(t)
	r.prepare(t, g, "disk-a")
	rep, err := g.RunCycle(ctxT(t), nil)
	if err == nil || rep.OK() {
		t.Fatal("a cycle onto a full disk succeeded")
	}
	m := rep.Media[0]
	if len(m.Snapshots) != 0 {
		t.Fatalf("a snapshot was reported on a full disk: %+v", m.Snapshots)
	}
	if !disk.IsDiskFull(m.Err) || !strings.Contains(m.Err.Error(), "媒体の空き容量がありません") {
		t.Fatalf("error does not say the medium is full: %v", m.Err)
	}
	if !m.CutVerified {
		t.Fatalf("full disk not cut: %s", m.CutReason)
	}
}

func TestStartUpDrivesRelaysOffAndFlagsAWeldedOne(t *testing.T) {
	r := newRig(t, []string{"disk-a"}, 64<<20)
	rl := r.hw.Board.Relay("relay-disk-a")
	rl.SetMode(fake.Welded)
	g := r.open(t)
	if rl.Energised() {
		t.Fatal("relay left energised at start")
	}
	st, err := g.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.Media[0].State != status.Fault {
		t.Fatalf("welded relay at start shows %s, want fault", st.Media[0].State)
	}
}

// A cycle stopped in the middle (daemon shutdown) still cuts the medium
// and proves the cut.
func TestCancelledCycleStillCutsTheMedium(t *testing.T) {
	r := newRig(t, []string{"disk-a"}, 128<<20)
	g := r.open(t)
	r.prepare(t, g, "disk-a")
	ctx, cancel := context.WithCancel(ctxT(t))
	rep, err := g.RunCycle(ctx, func(ev backup.CycleEvent) {
		if ev.Phase == "backup" {
			cancel()
		}
	})
	if err == nil {
		t.Fatal("a cancelled cycle reported success")
	}
	if len(rep.Media) != 1 || !rep.Media[0].CutVerified {
		t.Fatalf("cancelled cycle left the medium uncut: %+v", rep.Media)
	}
	if r.hw.Board.Relay("relay-disk-a").Energised() || r.hw.Powers["disk-a"].Loop() != nil {
		t.Fatal("relay energised or disk attached after a cancelled cycle")
	}
}
