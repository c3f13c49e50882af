package recoverykit

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/internal/msg"
)

// fakeKit writes a kit of small stand-in binaries with its SHA256SUMS.
func fakeKit(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var sums strings.Builder
	for _, p := range Platforms {
		name := BinaryName(ResticVersion, p)
		data := []byte("restic for " + p.OS + "/" + p.Arch)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
	}
	if err := os.WriteFile(filepath.Join(dir, SumsName), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestOpenVerifiesTheKit(t *testing.T) {
	k, err := Open(fakeKit(t))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range k.Binaries {
		names = append(names, f.Name)
	}
	want := []string{"restic_0.19.1_linux_amd64", "restic_0.19.1_linux_arm64", "restic_0.19.1_windows_amd64.exe"}
	if !slices.Equal(names, want) {
		t.Errorf("binaries %v, want %v", names, want)
	}
}

func TestDamagedKitIsRefused(t *testing.T) {
	for name, damage := range map[string]func(dir string) error{
		"flipped byte": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, "restic_0.19.1_linux_arm64"), []byte("restic for linux/arm65"), 0o755)
		},
		"missing binary":     func(dir string) error { return os.Remove(filepath.Join(dir, "restic_0.19.1_windows_amd64.exe")) },
		"missing SHA256SUMS": func(dir string) error { return os.Remove(filepath.Join(dir, SumsName)) },
		"binary not listed": func(dir string) error {
			b, err := os.ReadFile(filepath.Join(dir, SumsName))
			if err != nil {
				return err
			}
			lines := strings.SplitAfter(string(b), "\n")
			return os.WriteFile(filepath.Join(dir, SumsName), []byte(strings.Join(lines[1:], "")), 0o644)
		},
		"garbled SHA256SUMS": func(dir string) error {
			return os.WriteFile(filepath.Join(dir, SumsName), []byte("not a checksum line\n"), 0o644)
		},
	} {
		t.Run(name, func(t *testing.T) {
			dir := fakeKit(t)
			if err := damage(dir); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir)
			if err == nil {
				t.Fatal("a damaged kit was accepted")
			}
			if ja := msg.In(err, msg.JA); !strings.Contains(ja, "壊れているため使いません") {
				t.Errorf("Japanese error %q does not say the kit is damaged", ja)
			}
			if en := msg.In(err, msg.EN); !strings.Contains(en, "is damaged and is not used") {
				t.Errorf("English error %q does not say the kit is damaged", en)
			}
		})
	}
}

func TestWriteSkipsWhatIsUnchanged(t *testing.T) {
	k, err := Open(fakeKit(t))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	m := DirMedium{Root: root}
	sheets := map[string][]byte{SheetJA: []byte("<html>復旧手順書</html>"), SheetEN: []byte("<html>Recovery sheet</html>")}
	all := []string{"restic_0.19.1_linux_amd64", "restic_0.19.1_linux_arm64", "restic_0.19.1_windows_amd64.exe",
		SheetEN, SheetJA, SumsName}

	r, err := Write(context.Background(), m, k.Files(sheets))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(r.Written, all) || len(r.Unchanged) != 0 {
		t.Fatalf("first write: written %v, unchanged %v", r.Written, r.Unchanged)
	}
	// The medium's SHA256SUMS checks with sha256sum, as the sheet tells.
	if _, err := exec.LookPath("sha256sum"); err == nil {
		cmd := exec.Command("sha256sum", "--strict", "-c", SumsName)
		cmd.Dir = filepath.Join(root, Dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("sha256sum -c on the medium: %v\n%s", err, out)
		}
	}
	before, err := os.Stat(filepath.Join(root, Dir, "restic_0.19.1_linux_amd64"))
	if err != nil {
		t.Fatal(err)
	}
	if before.Mode().Perm() != 0o755 {
		t.Errorf("restic on the medium has mode %v, want 0755", before.Mode().Perm())
	}

	// Unchanged: nothing is rewritten.
	r, err = Write(context.Background(), m, k.Files(sheets))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Written) != 0 || !slices.Equal(r.Unchanged, all) {
		t.Errorf("second write: written %v, unchanged %v", r.Written, r.Unchanged)
	}
	after, err := os.Stat(filepath.Join(root, Dir, "restic_0.19.1_linux_amd64"))
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Error("an unchanged binary was replaced")
	}

	// A changed sheet and a copy damaged on the medium are rewritten,
	// and SHA256SUMS with them.
	sheets[SheetEN] = []byte("<html>Recovery sheet, new configuration</html>")
	if err := os.WriteFile(filepath.Join(root, Dir, "restic_0.19.1_linux_arm64"), []byte("damaged"), 0o755); err != nil {
		t.Fatal(err)
	}
	r, err = Write(context.Background(), m, k.Files(sheets))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"restic_0.19.1_linux_arm64", SheetEN, SumsName}; !slices.Equal(r.Written, want) {
		t.Errorf("third write: written %v, want %v", r.Written, want)
	}
	entries, err := os.ReadDir(filepath.Join(root, Dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(all) {
		t.Errorf("the kit's folder holds %d entries (a temporary file left?), want %d", len(entries), len(all))
	}
}

// TestBuiltKit checks the kit `make recovery-kit` built, when the tests
// are given it.
func TestBuiltKit(t *testing.T) {
	if testing.Short() {
		t.Skip("checks the kit make recovery-kit built: make test runs it, -short skips it")
	}
	dir := os.Getenv(Env)
	if dir == "" {
		t.Fatal(Env + " is not set: run make test, which builds bin/recovery-kit and sets it")
	}
	k, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(dir, BinaryName(ResticVersion, Platform{"linux", "amd64"})), "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "restic "+ResticVersion+" ") {
		t.Errorf("linux/amd64 restic version: %q, %v", out, err)
	}
	for _, f := range k.Binaries {
		if f.Size < 10<<20 {
			t.Errorf("%s is only %d bytes", f.Name, f.Size)
		}
	}
}
