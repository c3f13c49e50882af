package gateway_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The README's emergency restore, run as written on a disk danzen wrote,
// with stock restic: only the device, the mount point and the restore
// directory are this machine's, and the password is typed in (here: from
// a file, as RESTIC_PASSWORD_FILE).
func TestREADMEEmergencyRestoreWorks(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "### Emergency restore without danzen")
	if !ok {
		t.Fatal("README has no emergency restore section")
	}
	_, after, _ = strings.Cut(after, "```sh\n")
	block, _, ok := strings.Cut(after, "```")
	if !ok {
		t.Fatal("README's emergency restore has no sh block")
	}

	r, _ := backedUp(t, nil)
	p := r.hw.Powers["disk-a"]
	if err := p.SetPower(true); err != nil {
		t.Fatal(err)
	}
	powerOffAtEnd(t, p)
	work := t.TempDir()
	mnt, restore := filepath.Join(work, "mnt"), filepath.Join(work, "srv-restore")
	// restic from PATH, as on the technician's PC.
	binDir := filepath.Join(work, "bin")
	for _, d := range []string{mnt, binDir} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	unmountAtEnd(t, mnt) // the script mounts it
	if err := os.Symlink(resticBin(t), filepath.Join(binDir, "restic")); err != nil {
		t.Fatal(err)
	}
	script := strings.NewReplacer("/dev/sdX1", p.Loop().Path, "/srv/restore", restore, "/mnt", mnt).Replace(block)
	cmd := exec.Command("sh", "-ec", script)
	cmd.Env = append(os.Environ(), "PATH="+binDir+":"+os.Getenv("PATH"),
		"RESTIC_PASSWORD_FILE="+filepath.Join(r.cfg.SecretsDir, "disk-a.restic-password"), "RESTIC_CACHE_DIR="+filepath.Join(work, "cache"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the README's emergency restore failed: %v\n%s\n%s", err, script, out)
	}
	for _, rel := range []string{"db/emr.dmp", "カルテ/患者 一覧.csv"} {
		got, err := os.ReadFile(filepath.Join(restore, "data", filepath.FromSlash(rel)))
		want, _ := os.ReadFile(filepath.Join(r.sshd.Export, filepath.FromSlash(rel)))
		if err != nil || string(got) != string(want) {
			t.Fatalf("%s not restored as exported: %v", rel, err)
		}
	}
	// The checksum line really checks: a damaged file makes it fail.
	if err := os.WriteFile(filepath.Join(restore, "data", "db", "emr.dmp"), []byte("damaged"), 0o644); err != nil {
		t.Fatal(err)
	}
	last := script[strings.LastIndex(strings.TrimSpace(script), "\n")+1:]
	if out, err := exec.Command("sh", "-ec", last).CombinedOutput(); err == nil {
		t.Fatalf("the checksum step passed a damaged file:\n%s", out)
	}
}
