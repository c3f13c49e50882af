package gateway_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/s3/s3test"
	"github.com/danzen-gw/danzen/recoverykit"
)

// builtKit is the kit `make recovery-kit` built (make test sets
// DANZEN_RECOVERY_KIT); building it here would cost minutes of CPU.
func builtKit(t *testing.T) string {
	t.Helper()
	dir := os.Getenv(recoverykit.Env)
	if dir == "" {
		t.Fatal(recoverykit.Env + " is not set: run make test, which builds bin/recovery-kit")
	}
	return dir
}

// kitEntries are the recovery-kit entries of the ledger, oldest first.
func kitEntries(t *testing.T, ledgerDir string) []ledger.RecoveryKitData {
	t.Helper()
	es, err := ledger.Read(ledgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindRecoveryKit}})
	if err != nil {
		t.Fatal(err)
	}
	var out []ledger.RecoveryKitData
	for _, e := range es {
		d, err := ledger.Decode[ledger.RecoveryKitData](e)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, d)
	}
	return out
}

// TestCycleLeavesTheRecoveryKitOnTheDisk: after preparing and a cycle, the
// disk holds danzen-recovery/ with restic for the three platforms, whose
// SHA-256 match SHA256SUMS and of which the linux/amd64 one runs from the
// medium, and the recovery sheet in both languages; an unchanged kit is
// not written again.
func TestCycleLeavesTheRecoveryKitOnTheDisk(t *testing.T) {
	if testing.Short() {
		t.Skip("needs root, loop devices, sshd, restic and the built recovery kit: make test runs it")
	}
	kit := builtKit(t)
	t.Setenv(recoverykit.Env, kit)
	r := newRig(t, []string{"disk-a"}, 512<<20)
	g := r.open(t)
	r.prepare(t, g, "disk-a")
	rep, err := g.RunCycle(ctxT(t), nil)
	if err != nil || !rep.OK() {
		t.Fatalf("cycle: %v %+v", err, rep)
	}

	st, err := g.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if k := st.Media[0].RecoveryKit; k == nil || !k.OK {
		t.Errorf("the medium's card: recovery kit %+v, want checked", k)
	}
	ks := kitEntries(t, r.cfg.LedgerDir)
	if len(ks) != 2 || ks[0].Use != "prepare" || ks[1].Use != "cycle" || !ks[0].OK || !ks[1].OK {
		t.Fatalf("recovery kit entries: %+v, want prepare and cycle, both ok", ks)
	}
	bins := []string{"restic_0.19.1_linux_amd64", "restic_0.19.1_linux_arm64", "restic_0.19.1_windows_amd64.exe"}
	for _, b := range bins {
		if !slices.Contains(ks[0].Written, b) {
			t.Errorf("prepare did not write %s: %v", b, ks[0].Written)
		}
		if slices.Contains(ks[1].Written, b) {
			t.Errorf("the cycle wrote the unchanged %s again", b)
		}
	}

	// A technician's PC: power the disk by hand and mount it read-only.
	p := r.hw.Powers["disk-a"]
	if err := p.SetPower(true); err != nil {
		t.Fatal(err)
	}
	powerOffAtEnd(t, p)
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-o", "ro,noload", p.Loop().Path, mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v %s", err, out)
	}
	unmountAtEnd(t, mnt)
	dir := filepath.Join(mnt, recoverykit.Dir)
	check := exec.Command("sha256sum", "--strict", "-c", recoverykit.SumsName)
	check.Dir = dir
	out, err := check.CombinedOutput()
	if err != nil {
		t.Fatalf("sha256sum -c SHA256SUMS on the medium: %v\n%s", err, out)
	}
	for _, name := range append(bins, recoverykit.SheetJA, recoverykit.SheetEN) {
		if !strings.Contains(string(out), name+": OK") {
			t.Errorf("SHA256SUMS on the medium does not check %s:\n%s", name, out)
		}
	}
	// The binaries are the kit's, byte for byte (its own SHA256SUMS).
	kitSums, err := os.ReadFile(filepath.Join(kit, recoverykit.SumsName))
	if err != nil {
		t.Fatal(err)
	}
	medSums, err := os.ReadFile(filepath.Join(dir, recoverykit.SumsName))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(kitSums)), "\n") {
		if !strings.Contains(string(medSums), line+"\n") {
			t.Errorf("the medium's SHA256SUMS lacks the kit's line %q", line)
		}
	}
	v, err := exec.Command(filepath.Join(dir, "restic_0.19.1_linux_amd64"), "version").Output()
	if err != nil || !strings.HasPrefix(string(v), "restic 0.19.1 ") {
		t.Errorf("restic from the medium: %q, %v", v, err)
	}
	for name, title := range map[string]string{recoverykit.SheetJA: "復旧手順書", recoverykit.SheetEN: "Recovery sheet"} {
		html, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(string(html))), "<!doctype html>") || !strings.Contains(string(html), title) {
			t.Errorf("%s is not the recovery sheet (%d bytes, title %q wanted)", name, len(html), title)
		}
	}
}

// TestDamagedKitIsRecordedNotFatal: a kit that does not verify is never
// written, the ledger and the page say so, and the backup stands.
func TestDamagedKitIsRecordedNotFatal(t *testing.T) {
	if testing.Short() {
		t.Skip("needs root, loop devices, sshd and restic: make test runs it")
	}
	damaged := t.TempDir()
	if err := os.WriteFile(filepath.Join(damaged, recoverykit.SumsName), []byte("not a checksum line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv(recoverykit.Env, damaged)
	r := newRig(t, []string{"disk-a"}, 256<<20)
	g := r.open(t)
	r.prepare(t, g, "disk-a")
	rep, err := g.RunCycle(ctxT(t), nil)
	if err != nil || !rep.OK() {
		t.Fatalf("a damaged kit failed the cycle: %v %+v", err, rep)
	}
	es, err := ledger.Read(r.cfg.LedgerDir, ledger.Filter{Kinds: []ledger.Kind{ledger.KindRecoveryKit}})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 {
		t.Fatalf("%d recovery kit entries, want 2 (prepare, cycle)", len(es))
	}
	last := es[len(es)-1]
	d, err := ledger.Decode[ledger.RecoveryKitData](last)
	if err != nil || d.OK || len(d.Written) != 0 {
		t.Fatalf("entry %+v (%v): want not OK, nothing written", d, err)
	}
	if ja := last.Message.Localize(msg.JA); !strings.HasPrefix(ja, "リカバリーキットを書けませんでした(バックアップ自体は有効です): ") {
		t.Errorf("Japanese message %q", ja)
	}
	if en := last.Message.Localize(msg.EN); !strings.HasPrefix(en, "recovery kit not written (the backup itself is valid): ") ||
		!strings.Contains(en, "is damaged and is not used") {
		t.Errorf("English message %q", en)
	}
	st, err := g.Status(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if st.LastCycle == nil || !st.LastCycle.OK {
		t.Fatalf("last cycle %+v, want OK", st.LastCycle)
	}
	found := false
	for _, f := range st.LastCycle.Failures {
		found = found || f.Medium == "disk-a" && strings.HasPrefix(f.Detail.Localize(msg.EN), "recovery kit not written")
	}
	if !found {
		t.Errorf("the page's last cycle does not say the recovery kit was not written: %+v", st.LastCycle.Failures)
	}
	if k := st.Media[0].RecoveryKit; k == nil || k.OK || !strings.HasPrefix(k.Text.Localize(msg.EN), "recovery kit not written") {
		t.Errorf("the medium's card: recovery kit %+v, want not written", k)
	}
}

// TestS3CycleLeavesTheRecoveryKitInTheBucket: the kit's objects lie under
// <prefix>/danzen-recovery/, locked like the repository's, unchanged ones
// are not uploaded again, and restic downloaded from there runs.
func TestS3CycleLeavesTheRecoveryKitInTheBucket(t *testing.T) {
	r := newS3Rig(t, &s3test.Lock{Mode: minio.Compliance, Days: 30})
	t.Setenv(recoverykit.Env, builtKit(t))
	g := r.open(t)
	if _, _, err := g.NewPassword("cloud"); err != nil {
		t.Fatal(err)
	}
	if mr, err := g.PrepareMedium(ctxT(t), "cloud", false, nil); err != nil || !mr.CutVerified {
		t.Fatalf("prepare: %v %+v", err, mr)
	}
	if rep, err := g.RunCycle(ctxT(t), nil); err != nil || !rep.OK() {
		t.Fatalf("cycle: %v %+v", err, rep)
	}
	ks := kitEntries(t, r.Cfg.LedgerDir)
	if len(ks) != 2 || !ks[0].OK || !ks[1].OK || len(ks[0].Written) != 6 {
		t.Fatalf("recovery kit entries %+v: want prepare writing 6 files and the cycle, both ok", ks)
	}
	if slices.Contains(ks[1].Written, "restic_0.19.1_linux_amd64") {
		t.Errorf("the cycle uploaded the unchanged restic again: %v", ks[1].Written)
	}

	ctx := ctxT(t)
	c := r.srv.Client
	var names []string
	for o := range c.ListObjects(ctx, "hospital-backup", minio.ListObjectsOptions{Prefix: "danzen/danzen-recovery/"}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		names = append(names, strings.TrimPrefix(o.Key, "danzen/danzen-recovery/"))
	}
	want := []string{recoverykit.SumsName, recoverykit.SheetEN, recoverykit.SheetJA,
		"restic_0.19.1_linux_amd64", "restic_0.19.1_linux_arm64", "restic_0.19.1_windows_amd64.exe"}
	slices.Sort(names)
	slices.Sort(want)
	if !slices.Equal(names, want) {
		t.Fatalf("objects under danzen/danzen-recovery/: %v, want %v", names, want)
	}
	key := "danzen/danzen-recovery/restic_0.19.1_linux_amd64"
	info, err := c.StatObject(ctx, "hospital-backup", key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mode, until := info.Metadata.Get("X-Amz-Object-Lock-Mode"), info.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date")
	if u, err := time.Parse(time.RFC3339, until); mode != "COMPLIANCE" || err != nil || u.Before(time.Now().Add(29*24*time.Hour)) {
		t.Errorf("%s lock: %q until %q, want COMPLIANCE for the bucket's 30 days", key, mode, until)
	}
	if err := c.RemoveObject(ctx, "hospital-backup", key, minio.RemoveObjectOptions{VersionID: info.VersionID}); err == nil {
		t.Errorf("the locked %s could be deleted", key)
	}
	bin := filepath.Join(t.TempDir(), "restic")
	if err := c.FGetObject(ctx, "hospital-backup", key, bin, minio.GetObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if v, err := exec.Command(bin, "version").Output(); err != nil || !strings.HasPrefix(string(v), "restic 0.19.1 ") {
		t.Errorf("restic from the bucket: %q, %v", v, err)
	}
}
