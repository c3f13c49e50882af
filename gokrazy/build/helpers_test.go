package build_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/gokrazy/build"
)

const (
	testPassword = "danzen-test-pw"
	danzendPkg   = "github.com/danzen-gw/danzen/cmd/danzend"
	resticPkg    = "github.com/restic/restic/cmd/restic"
	danzenModule = "github.com/danzen-gw/danzen"
)

// repoRoot is the danzen checkout the tests run in (gokrazy/build → ../..).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repository root %s has no go.mod: %v", root, err)
	}
	return root
}

// testInstance copies gokrazy/<name> (config.json and builddir pins) into a
// temporary directory, sets a known web password, and points danzend's
// builddir at this checkout — or, while cmd/danzend does not exist yet, at a
// placeholder program of the same import path that just waits.
func testInstance(t *testing.T, name string) *build.Instance {
	t.Helper()
	root := repoRoot(t)
	src := filepath.Join(root, "gokrazy", name)
	dst := filepath.Join(t.TempDir(), name)
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}

	var cfg map[string]any
	b, err := os.ReadFile(filepath.Join(dst, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["Update"] = map[string]any{"HTTPPassword": testPassword}
	if b, err = json.MarshalIndent(cfg, "", "    "); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "config.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}

	target := root
	if _, err := os.Stat(filepath.Join(root, "cmd", "danzend")); err != nil {
		target = placeholderDanzend(t)
		t.Logf("cmd/danzend does not exist yet: building a placeholder in its place")
	}
	goModEdit(t, filepath.Join(dst, "builddir", filepath.FromSlash(danzendPkg)), "-replace="+danzenModule+"="+target)

	inst, err := build.LoadInstance(dst)
	if err != nil {
		t.Fatal(err)
	}
	return inst
}

func placeholderDanzend(t *testing.T) string {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod": "module " + danzenModule + "\n\ngo 1.26\n",
		"cmd/danzend/main.go": `package main

import (
	"fmt"
	"time"
)

func main() {
	fmt.Println("danzend placeholder running")
	for {
		time.Sleep(time.Hour)
	}
}
`,
	}
	for p, content := range files {
		fn := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(fn), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(fn, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func goModEdit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("go", append([]string{"mod", "edit"}, args...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go mod edit %v in %s: %v\n%s", args, dir, err, out)
	}
}

// run runs a command and returns its stdout, failing the test on error.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr)
	}
	return string(out)
}

// squashfsListing maps each path in the root file system (without the
// squashfs-root prefix) to its `unsquashfs -lls` line.
func squashfsListing(t *testing.T, img string) map[string]string {
	t.Helper()
	listing := make(map[string]string)
	for _, line := range strings.Split(run(t, "unsquashfs", "-lls", img), "\n") {
		i := strings.Index(line, "squashfs-root")
		if i < 0 {
			continue
		}
		p := strings.TrimPrefix(line[i:], "squashfs-root")
		name, _, _ := strings.Cut(p, " -> ")
		if name == "" {
			name = "/"
		}
		listing[name] = line
	}
	return listing
}
