package documents_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup/pull"
	"github.com/danzen-gw/danzen/documents"
	"github.com/danzen-gw/danzen/internal/rig"
)

// TestRecoverySheetCommandsRestore runs the recovery sheet's commands for
// disk-a, as printed, with stock restic against a real repository laid out
// as the gateway writes it (only the mount point, /root and /srv are moved
// under a temporary directory). The files come back and the manifest check
// passes; a changed file makes the check fail.
func TestRecoverySheetCommandsRestore(t *testing.T) {
	resticBin := rig.Restic(t)
	w := newWorld(t)
	root := t.TempDir()
	repo := filepath.Join(root, "mnt/disk-a/restic")
	pw := filepath.Join(root, "root/disk-a.restic-password")
	must(t, os.MkdirAll(filepath.Dir(pw), 0o700))
	must(t, os.WriteFile(pw, []byte("drill-password\n"), 0o600))
	restic := func(dir string, args ...string) {
		t.Helper()
		cmd := exec.Command(resticBin, append([]string{"-r", repo, "--password-file", pw, "--no-cache"}, args...)...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("restic %v: %v\n%s", args, err, out)
		}
	}
	restic(root, "init")
	want := map[string]map[string]string{
		"emr":   {"db/emr.dmp": "INSERT INTO karte VALUES (1, '山田 太郎');\n", "カルテ/一覧.csv": "1,山田\n"},
		"order": {"orders.csv": "order,1\n"},
	}
	for src, files := range want {
		dir := pull.SourceDir(filepath.Join(root, "staging"), src)
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
		restic(dir, "backup", "--host", w.cfg.GatewayID, "--tag", "source="+src, ".")
	}

	_, files := build(t, gather(t, w.cfg))
	md := files[documents.FileName("recovery-sheet", "en", documents.FormatMarkdown)]
	_, section, _ := strings.Cut(md, "## 3. Medium disk-a")
	_, block, _ := strings.Cut(section, "```\n")
	block, _, _ = strings.Cut(block, "```")
	var script []string
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		switch strings.Fields(line)[0] {
		case "lsblk", "mount", "umount", "mkdir": // the disk is "mounted" already
			continue
		}
		line = strings.NewReplacer("/mnt/", root+"/mnt/", "/root/", root+"/root/", "/srv/restore", root+"/srv/restore").Replace(line)
		if strings.HasPrefix(line, "restic ") {
			line = resticBin + strings.TrimPrefix(line, "restic")
		}
		script = append(script, line)
	}
	if len(script) != 5 { // snapshots, then restore + check per source
		t.Fatalf("unexpected commands:\n%s", strings.Join(script, "\n"))
	}
	run := func(lines ...string) (string, error) {
		cmd := exec.Command("bash", "-e", "-o", "pipefail", "-c", strings.Join(lines, "\n"))
		cmd.Env = append(os.Environ(), "RESTIC_CACHE_DIR="+filepath.Join(root, "cache"))
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run(script...); err != nil {
		t.Fatalf("the recovery sheet's commands failed: %v\n%s\n%s", err, strings.Join(script, "\n"), out)
	}
	for src, files := range want {
		for p, body := range files {
			got, err := os.ReadFile(filepath.Join(root, "srv/restore", src, "data", p))
			if err != nil || string(got) != body {
				t.Errorf("%s/%s restored as %q, %v", src, p, got, err)
			}
		}
	}
	must(t, os.WriteFile(filepath.Join(root, "srv/restore/emr/data/db/emr.dmp"), []byte("changed"), 0o644))
	if out, err := run(script[2]); err == nil {
		t.Errorf("the manifest check passed a changed file:\n%s\n%s", script[2], out)
	}
}
