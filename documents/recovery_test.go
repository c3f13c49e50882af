package documents_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/msg"
	"github.com/danzen-gw/danzen/internal/rig"
	"github.com/danzen-gw/danzen/ledger"
)

// TestRecoverySheetCommandsRestore runs the recovery sheet's commands for
// disk-a, as printed, with stock restic against a real repository laid out
// as the gateway writes it (only the mount point, /root, /usr/local/bin
// and /srv are moved under a temporary directory). The restic used is the
// one the sheet installs from the medium's recovery kit after checking
// its SHA256SUMS. The last emr snapshot was pulled from an export flagged
// as encrypted: the sheet flags it and restores the one before, the files
// come back as they were, and a changed file fails the manifest check.
func TestRecoverySheetCommandsRestore(t *testing.T) {
	resticBin := rig.Restic(t)
	w := newWorld(t)
	root := t.TempDir()
	mnt := filepath.Join(root, "mnt/disk-a")
	repo := filepath.Join(mnt, "restic")
	pw := filepath.Join(root, "root/disk-a.restic-password")
	must(t, os.MkdirAll(filepath.Dir(pw), 0o700))
	must(t, os.WriteFile(pw, []byte("drill-password\n"), 0o600))
	writeKit(t, filepath.Join(mnt, "danzen-recovery"), resticBin)
	restic := func(dir string, args ...string) string {
		t.Helper()
		cmd := exec.Command(resticBin, append([]string{"-r", repo, "--password-file", pw, "--no-cache"}, args...)...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("restic %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	restic(root, "init")
	good := map[string]map[string]string{
		"emr":   {"db/emr.dmp": "INSERT INTO karte VALUES (1, '山田 太郎');\n", "カルテ/一覧.csv": "1,山田\n"},
		"order": {"orders.csv": "order,1\n"},
	}
	encrypted := map[string]string{"db/emr.dmp": "\x8f\x1a ENCRYPTED \x00\x17", "カルテ/一覧.csv": "\x01\x02 ENCRYPTED"}
	// snapshot backs up one source's files and returns the snapshot's ID.
	snapshot := func(src string, files map[string]string) string {
		dir := pull.SourceDir(filepath.Join(root, "staging"), src)
		must(t, os.RemoveAll(dir))
		m := pull.Manifest{Version: 1, Source: src, Finished: time.Now()}
		for p, body := range files {
			f := filepath.Join(dir, "data", p)
			must(t, os.MkdirAll(filepath.Dir(f), 0o755))
			must(t, os.WriteFile(f, []byte(body), 0o644))
			sum := sha256.Sum256([]byte(body))
			m.Files = append(m.Files, pull.FileEntry{Path: p, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])})
		}
		b, err := json.Marshal(m)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, pull.ManifestName), b, 0o644))
		out := restic(dir, "backup", "--json", "--host", w.cfg.GatewayID, "--tag", "source="+src, ".")
		var summary struct {
			MessageType string `json:"message_type"`
			SnapshotID  string `json:"snapshot_id"`
		}
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			if json.Unmarshal([]byte(line), &summary) == nil && summary.MessageType == "summary" {
				return summary.SnapshotID
			}
		}
		t.Fatalf("no snapshot ID in restic's output:\n%s", out)
		return ""
	}
	goodEMR, goodOrder := snapshot("emr", good["emr"]), snapshot("order", good["order"])
	badEMR := snapshot("emr", encrypted)
	recordSnapshots(t, w.cfg.LedgerDir, goodEMR, goodOrder, badEMR)

	_, files := build(t, gather(t, w.cfg))
	for _, l := range []string{"ja", "en"} {
		sheet := doc(t, files, "recovery-sheet", l)
		flag := map[string]string{"ja": "この取得で異常検知", "en": "this pull flagged"}[l]
		mustContain(t, "recovery."+l, sheet, badEMR[:8], goodEMR[:8], flag,
			"restore "+goodEMR[:8]+" --target /srv/restore/emr", "restore "+goodOrder[:8]+" --target /srv/restore/order")
		for _, form := range sheet {
			if strings.Contains(form, "restore "+badEMR[:8]) || strings.Contains(form, "restore latest --host gw-sakura --tag source=emr") {
				t.Errorf("recovery.%s restores the flagged snapshot or latest", l)
			}
		}
	}
	md := files[documents.FileName("recovery-sheet", "en", documents.FormatMarkdown)]
	_, section, _ := strings.Cut(md, "## 4. Medium disk-a")
	_, block, _ := strings.Cut(section, "```\n")
	block, _, _ = strings.Cut(block, "```")
	bin := filepath.Join(root, "usr/local/bin")
	must(t, os.MkdirAll(bin, 0o755))
	var script []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		switch strings.Fields(line)[0] {
		case "lsblk", "mount", "umount", "mkdir": // the disk is "mounted" already
			continue
		}
		line = strings.NewReplacer("/mnt/", root+"/mnt/", "/root/", root+"/root/", "/srv/restore", root+"/srv/restore", "/usr/local/bin/", bin+"/").Replace(line)
		script = append(script, line)
	}
	// kit check, install, version; snapshots; restore + check per source
	if len(script) != 8 {
		t.Fatalf("unexpected commands:\n%s", strings.Join(script, "\n"))
	}
	run := func(lines ...string) (string, error) {
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", strings.Join(lines, "\n"))
		cmd.Env = append(os.Environ(), "RESTIC_CACHE_DIR="+filepath.Join(root, "cache"), "PATH="+bin+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run(script...)
	if err != nil {
		t.Fatalf("the recovery sheet's commands failed: %v\n%s\n%s", err, strings.Join(script, "\n"), out)
	}
	if !strings.Contains(out, "restic 0.19.1") {
		t.Errorf("the kit's restic did not run as restic 0.19.1:\n%s", out)
	}
	for src, files := range good {
		for p, body := range files {
			got, err := os.ReadFile(filepath.Join(root, "srv/restore", src, "data", p))
			if err != nil || string(got) != body {
				t.Errorf("%s/%s restored as %q, %v", src, p, got, err)
			}
		}
	}
	emrCheck := slices.IndexFunc(script, func(s string) bool { return strings.Contains(s, "srv/restore/emr/data && jq") })
	must(t, os.WriteFile(filepath.Join(root, "srv/restore/emr/data/db/emr.dmp"), []byte("changed"), 0o644))
	if out, err := run(script[emrCheck]); err == nil {
		t.Errorf("the manifest check passed a changed file:\n%s\n%s", script[emrCheck], out)
	}
	// A damaged kit is refused before its restic is used.
	must(t, os.WriteFile(filepath.Join(mnt, "danzen-recovery", "restic_0.19.1_linux_arm64"), []byte("damaged"), 0o755))
	if out, err := run(script[0]); err == nil {
		t.Errorf("the kit check passed a damaged binary:\n%s\n%s", script[0], out)
	}
}

// writeKit lays out a recovery kit as recoverykit writes it: the real
// restic as the linux/amd64 binary, stand-ins for the others, SHA256SUMS.
func writeKit(t *testing.T, dir, resticBin string) {
	t.Helper()
	must(t, os.MkdirAll(dir, 0o755))
	real, err := os.ReadFile(resticBin)
	must(t, err)
	files := map[string][]byte{
		"restic_0.19.1_linux_amd64":       real,
		"restic_0.19.1_linux_arm64":       []byte("restic for linux/arm64"),
		"restic_0.19.1_windows_amd64.exe": []byte("restic for windows/amd64"),
		"recovery-sheet-ja.html":          []byte("<html>ja</html>"),
		"recovery-sheet-en.html":          []byte("<html>en</html>"),
	}
	var sums strings.Builder
	for _, name := range slices.Sorted(maps.Keys(files)) {
		must(t, os.WriteFile(filepath.Join(dir, name), files[name], 0o755))
		sum := sha256.Sum256(files[name])
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
	}
	must(t, os.WriteFile(filepath.Join(dir, "SHA256SUMS"), []byte(sums.String()), 0o644))
}

// recordSnapshots appends to the world's ledger a good cycle on disk-a
// (c07) and a cycle whose emr pull was flagged as encrypted (c08).
func recordSnapshots(t *testing.T, dir, goodEMR, goodOrder, badEMR string) {
	t.Helper()
	now := at(7, 2, 0)
	l, err := ledger.OpenWith(dir, ledger.Options{Now: func() time.Time { return now }})
	must(t, err)
	defer func() { must(t, l.Close()) }()
	add := func(when time.Time, e ledger.Entry) {
		now = when
		e.Actor = ledger.ActorSystem
		if _, err := l.Append(context.Background(), e); err != nil {
			t.Fatal(err)
		}
	}
	snap := func(cycle, src, id string) ledger.Entry {
		return ledger.Entry{Kind: ledger.KindSnapshot, Medium: "disk-a", Message: msg.Plain(id), Payload: ledger.SnapshotData{Cycle: cycle, Source: src, Snapshot: id, Files: 2}}
	}
	add(at(7, 2, 5), snap("c07", "emr", goodEMR))
	add(at(7, 2, 6), snap("c07", "order", goodOrder))
	add(at(7, 13, 0), ledger.Entry{Kind: ledger.KindAnomaly, Message: msg.T("異常", "anomaly"),
		Payload: ledger.AnomalyData{ID: "emr-c08", Source: "emr", Detected: at(7, 13, 0), Sample: ledger.AnomalySample{Cycle: "c08"}}})
	add(at(7, 13, 5), snap("c08", "emr", badEMR))
}

// TestRecoverySheetKitMountAndSecret: the sheet mounts with ro,noload by
// UUID after lsblk, says where the recovery kit is on each medium and how
// to check it (Linux and Windows), gives the Windows-only route, and the
// S3 secret key is written down when the bucket is prepared.
func TestRecoverySheetKitMountAndSecret(t *testing.T) {
	w := newWorld(t)
	withCloudAndTape(t, w)
	_, files := build(t, gather(t, w.cfg))
	common := []string{"lsblk -o NAME,SERIAL,SIZE,FSTYPE,UUID", "mount -t ext4 -o ro,noload /dev/disk/by-uuid/0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d /mnt/disk-a",
		"mount -t ext4 -o ro,noload /dev/sdX1 /mnt/disk-b", "(cd /mnt/disk-a/danzen-recovery && sha256sum -c SHA256SUMS)",
		"install -m 0755 /mnt/disk-a/danzen-recovery/restic_0.19.1_linux_amd64 /usr/local/bin/restic",
		"restic_0.19.1_linux_arm64", "restic_0.19.1_windows_amd64.exe", "recovery-sheet-ja.html",
		`Get-FileHash -Algorithm SHA256 .\restic_0.19.1_windows_amd64.exe`, `wsl --mount \\.\PHYSICALDRIVEn --bare`, `wsl --unmount \\.\PHYSICALDRIVEn`,
		"(cd /root/danzen-recovery && sha256sum -c SHA256SUMS)"}
	mustContain(t, "recovery.ja", doc(t, files, "recovery-sheet", "ja"), append(common,
		"ro だけでは、前回の取り外しが不完全だった場合にジャーナルの書き戻しで媒体に書き込まれることがあります",
		"lsblk の一覧で SERIAL が RDX-0099887766 のディスクを探し",
		"Linux のライブUSB", "最新のスナップショット(latest)をそのまま復元しないでください",
		"テープには復旧キット(danzen-recovery/)を書き込みません")...)
	mustContain(t, "recovery.en", doc(t, files, "recovery-sheet", "en"), append(common,
		"ro alone may still write to the medium to replay its journal after an unclean detach",
		"find the disk whose SERIAL is RDX-0099887766",
		"A Linux live USB stick", "Do not simply restore the newest snapshot (latest).",
		"(this prefix in bucket sakura-backup)",
		"The recovery kit (danzen-recovery/) is not written to tape. Use restic 0.19.1 from danzen-recovery/ on a disk or S3 medium")...)
	for _, form := range doc(t, files, "recovery-sheet", "en") {
		if strings.Contains(form, "apt-get install") || strings.Contains(form, "mount -o ro ") {
			t.Error("the recovery sheet still installs with apt-get or mounts with ro alone")
		}
	}
	mustContain(t, "runbook.ja", doc(t, files, "build-runbook", "ja"), "シークレットキーを紙に控える: ", "この媒体のリポジトリのパスワードと同じ封筒に封をし")
	mustContain(t, "runbook.en", doc(t, files, "build-runbook", "en"), "Write the secret key down: ", "seal it in the same envelope as this medium's repository password")
}
