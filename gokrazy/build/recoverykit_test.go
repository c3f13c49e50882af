package build

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/recoverykit"
)

// smallKit is a recovery kit of stand-in binaries with its SHA256SUMS.
func smallKit(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	var sums strings.Builder
	for _, p := range recoverykit.Platforms {
		name := recoverykit.BinaryName(recoverykit.ResticVersion, p)
		data := []byte("restic " + p.OS + "/" + p.Arch)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		fmt.Fprintf(&sums, "%s  %s\n", hex.EncodeToString(sum[:]), name)
	}
	if err := os.WriteFile(filepath.Join(dir, recoverykit.SumsName), []byte(sums.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestAddRecoveryKit(t *testing.T) {
	kit := smallKit(t)
	root := &rootTree{dir: t.TempDir()}
	if err := addRecoveryKit(root, kit); err != nil {
		t.Fatal(err)
	}
	// What danzend reads at the appliance path is a kit that verifies.
	shipped := root.host(recoverykit.AppliancePath)
	if _, err := recoverykit.Open(shipped); err != nil {
		t.Errorf("the kit in the image does not verify: %v", err)
	}
	for _, p := range recoverykit.Platforms {
		name := recoverykit.BinaryName(recoverykit.ResticVersion, p)
		fi, err := os.Stat(filepath.Join(shipped, name))
		if err != nil || fi.Mode().Perm() != 0o755 {
			t.Errorf("%s in the image: %v, %v; want mode 0755", name, fi, err)
		}
	}

	t.Run("damaged kit refused", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(kit, "restic_0.19.1_linux_arm64"), []byte("damaged"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := addRecoveryKit(&rootTree{dir: t.TempDir()}, kit); err == nil {
			t.Error("a damaged kit went into the image")
		}
	})
	t.Run("no kit refused", func(t *testing.T) {
		err := addRecoveryKit(&rootTree{dir: t.TempDir()}, "")
		if err == nil || !strings.Contains(err.Error(), "make recovery-kit") {
			t.Errorf("an image without a kit: %v, want a refusal naming make recovery-kit", err)
		}
	})
}
