package build

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// defaultTags are the build tags gok builds every program with.
func defaultTags() []string { return []string{"gokrazy", "netgo", "osusergo"} }

// goTool runs the go command for one target architecture inside copies of
// an instance's builddir/, so that a build never edits the checked-in pins.
type goTool struct {
	bin     string
	goarch  string
	log     *slog.Logger
	inst    *Instance
	workDir string // copies of builddir/ go.mod and go.sum live under workDir/builddir

	copied map[string]string // builddir-relative dir → its work copy
	hashes map[string]string // builddir-relative go.mod/go.sum path → sha256, for the SBOM
}

func newGoTool(bin string, inst *Instance, workDir string, log *slog.Logger) *goTool {
	return &goTool{
		bin:     bin,
		goarch:  inst.Config.GOARCH(),
		log:     log,
		inst:    inst,
		workDir: workDir,
		copied:  make(map[string]string),
		hashes:  make(map[string]string),
	}
}

// env is the environment for every go invocation: cross-compiled, static,
// never in a workspace that happens to surround the work directory.
func (g *goTool) env(extra []string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "GOOS", "GOARCH", "CGO_ENABLED", "GOWORK", "GOBIN":
			return true
		}
		return false
	})
	env = append(env, "GOOS=linux", "GOARCH="+g.goarch, "CGO_ENABLED=0", "GOWORK=off", "GOBIN=")
	return append(env, extra...)
}

func (g *goTool) run(ctx context.Context, dir string, extraEnv []string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Dir = dir
	cmd.Env = g.env(extraEnv)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	g.log.Debug("go", "args", args, "dir", dir)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go %s (in %s): %w\n%s", strings.Join(args, " "), dir, err, tail(stderr.String(), 40))
	}
	return out, nil
}

// tail keeps the last n lines of a tool's output for an error message.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"…"}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

// buildDirFor finds the go.mod that pins pkg the way gok does: the most
// specific of builddir/<pkg>, its parents, …, builddir itself.
func (g *goTool) buildDirFor(pkg string) (string, error) {
	root := filepath.Join(g.inst.Dir, "builddir")
	rel := filepath.FromSlash(pkg)
	for {
		if _, err := os.Stat(filepath.Join(root, rel, "go.mod")); err == nil {
			return rel, nil
		}
		if rel == "." {
			break
		}
		rel = filepath.Dir(rel)
	}
	return "", fmt.Errorf("no go.mod pins %s in %s: create one with "+
		"`mkdir -p builddir/%s && cd builddir/%s && go mod init gokrazy/build/%s && go get %s@VERSION`",
		pkg, root, pkg, pkg, g.inst.Name, pkg)
}

// workCopy returns a private copy of the builddir that governs pkg, with
// relative replace directives made absolute and the go.sum of each locally
// replaced module merged in (so local code builds without fetching sums).
func (g *goTool) workCopy(ctx context.Context, pkg string) (string, error) {
	rel, err := g.buildDirFor(pkg)
	if err != nil {
		return "", err
	}
	if dir, ok := g.copied[rel]; ok {
		return dir, nil
	}
	src := filepath.Join(g.inst.Dir, "builddir", rel)
	dst := filepath.Join(g.workDir, "builddir", g.goarch, rel)
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err
	}
	for _, name := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if errors.Is(err, os.ErrNotExist) && name == "go.sum" {
			b = nil
		} else if err != nil {
			return "", fmt.Errorf("reading the pins of %s: %w", pkg, err)
		}
		g.hashes[filepath.ToSlash(filepath.Join(rel, name))] = fmt.Sprintf("%x", sha256.Sum256(b))
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			return "", err
		}
	}

	out, err := g.run(ctx, dst, nil, "mod", "edit", "-json")
	if err != nil {
		return "", err
	}
	var mod struct {
		Replace []struct {
			Old, New struct{ Path, Version string }
		}
	}
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", fmt.Errorf("reading %s/go.mod: %w", src, err)
	}
	for _, r := range mod.Replace {
		if r.New.Version != "" {
			continue // module replacement, not a directory
		}
		target := r.New.Path
		if !filepath.IsAbs(target) {
			target = filepath.Join(src, target)
		}
		if _, err := os.Stat(filepath.Join(target, "go.mod")); err != nil {
			return "", fmt.Errorf("%s/go.mod replaces %s with %s, which has no go.mod: %w", src, r.Old.Path, target, err)
		}
		old := r.Old.Path
		if r.Old.Version != "" {
			old += "@" + r.Old.Version
		}
		if _, err := g.run(ctx, dst, nil, "mod", "edit", "-replace="+old+"="+target); err != nil {
			return "", err
		}
		if err := mergeGoSum(filepath.Join(dst, "go.sum"), filepath.Join(target, "go.sum")); err != nil {
			return "", err
		}
	}
	g.copied[rel] = dst
	return dst, nil
}

func mergeGoSum(dst, src string) error {
	add, err := os.ReadFile(src)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	have, err := os.ReadFile(dst)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	seen := make(map[string]bool)
	for _, l := range strings.Split(string(have), "\n") {
		seen[l] = true
	}
	var buf bytes.Buffer
	buf.Write(have)
	sc := bufio.NewScanner(bytes.NewReader(add))
	for sc.Scan() {
		if l := sc.Text(); l != "" && !seen[l] {
			seen[l] = true
			buf.WriteString(l + "\n")
		}
	}
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}

// packageDir is the source directory of pkg as pinned by its builddir
// (downloading the module through the module proxy if needed).
func (g *goTool) packageDir(ctx context.Context, pkg string) (string, error) {
	dir, err := g.workCopy(ctx, pkg)
	if err != nil {
		return "", err
	}
	out, err := g.run(ctx, dir, nil, "list", "-mod=mod", "-tags="+strings.Join(defaultTags(), ","), "-f", "{{.Dir}}", pkg)
	if err != nil {
		return "", fmt.Errorf("locating %s: %w", pkg, err)
	}
	return strings.TrimSpace(string(out)), nil
}

type builtProgram struct {
	Pkg     string
	Path    string // path in the root file system, e.g. /user/danzend
	HostBin string
	Dir     string // package source directory
	Module  string // module@version it came from, or "module (local checkout)"
}

// buildProgram compiles pkg (a main package) with gokrazy's tags plus the
// package's GoBuildTags, GoBuildFlags and GoBuildEnvironment.
func (g *goTool) buildProgram(ctx context.Context, pkg, out string) (*builtProgram, error) {
	dir, err := g.workCopy(ctx, pkg)
	if err != nil {
		return nil, err
	}
	pc := g.inst.Config.PackageConfig[pkg]
	tags := strings.Join(append(defaultTags(), pc.GoBuildTags...), ",")
	list, err := g.run(ctx, dir, pc.GoBuildEnvironment, "list", "-mod=mod", "-tags="+tags,
		"-f", "{{.Name}}\t{{.Dir}}\t{{with .Module}}{{.Path}}{{if and .Replace (not .Replace.Version)}} (local checkout){{else}}@{{.Version}}{{end}}{{end}}", pkg)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", pkg, err)
	}
	name, rest, _ := strings.Cut(strings.TrimSpace(string(list)), "\t")
	srcDir, module, _ := strings.Cut(rest, "\t")
	if name != "main" {
		return nil, fmt.Errorf("%s is package %q, not a program (package main): remove it from Packages", pkg, name)
	}
	args := []string{"build", "-mod=mod", "-trimpath", "-tags=" + tags}
	args = append(args, pc.GoBuildFlags...)
	args = append(args, "-o", out, pkg)
	if _, err := g.run(ctx, dir, pc.GoBuildEnvironment, args...); err != nil {
		return nil, fmt.Errorf("building %s for %s: %w", pkg, g.goarch, err)
	}
	return &builtProgram{Pkg: pkg, HostBin: out, Dir: srcDir, Module: module}, nil
}
