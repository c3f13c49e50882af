// Package clayout reads sizes, offsets and constants as a C compiler lays
// them out for one Go architecture, so that tests can check Go mirrors of
// kernel ioctl structures against the kernel's own headers, for arm64 as
// well as amd64, on a machine of either kind.
//
// The C file is only compiled to an object, never linked or run: the values
// are read from the object's data. A cross compiler therefore needs no C
// library for the target, and nothing runs under emulation.
package clayout

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// target is a Go architecture's C compiler and ELF machine.
type target struct {
	compiler string // Debian's triplet-prefixed gcc (also the native one's name)
	machine  elf.Machine
	pkg      string // the Debian package that provides compiler
}

var targets = map[string]target{
	"amd64": {"x86_64-linux-gnu-gcc", elf.EM_X86_64, "gcc (native) or gcc-x86-64-linux-gnu"},
	"arm64": {"aarch64-linux-gnu-gcc", elf.EM_AARCH64, "gcc-aarch64-linux-gnu (with libc6-dev-arm64-cross)"},
}

// Compiler is the C compiler Values uses for goarch, and the Debian
// package that provides it; err is set when it is not installed.
func Compiler(goarch string) (path, pkg string, err error) {
	tg, ok := targets[goarch]
	if !ok {
		return "", "", fmt.Errorf("no C compiler known for GOARCH=%s", goarch)
	}
	path, err = exec.LookPath(tg.compiler)
	if err != nil {
		return "", tg.pkg, fmt.Errorf("%s not found: install the Debian package %s", tg.compiler, tg.pkg)
	}
	return path, tg.pkg, nil
}

// symbol holds the values in the compiled object.
const symbol = "clayout_values"

// Values compiles a C file that includes headers and evaluates each of
// exprs (sizeof, offsetof, macros) as an unsigned 64-bit constant for
// goarch, and returns the values by expression. The object must be for
// goarch's ELF machine, so a wrong compiler cannot answer for another
// architecture.
func Values(ctx context.Context, goarch string, headers, exprs []string) (map[string]uint64, error) {
	if len(exprs) == 0 {
		return nil, errors.New("no expressions to evaluate")
	}
	cc, _, err := Compiler(goarch)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "clayout-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(dir) }() // scratch files only
	var src strings.Builder
	src.WriteString("#include <stddef.h>\n")
	for _, h := range headers {
		fmt.Fprintf(&src, "#include <%s>\n", h)
	}
	fmt.Fprintf(&src, "const unsigned long long %s[] = {\n", symbol)
	for _, e := range exprs {
		fmt.Fprintf(&src, "\t(unsigned long long)(%s),\n", e)
	}
	src.WriteString("};\n")
	cfile, obj := filepath.Join(dir, "layout.c"), filepath.Join(dir, "layout.o")
	if err := os.WriteFile(cfile, []byte(src.String()), 0o600); err != nil {
		return nil, err
	}
	if out, err := exec.CommandContext(ctx, cc, "-c", "-O0", "-o", obj, cfile).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%s -c: %w\n%s\nsource:\n%s", cc, err, out, src.String())
	}
	raw, err := readValues(obj, targets[goarch].machine, len(exprs))
	if err != nil {
		return nil, fmt.Errorf("object compiled by %s: %w", cc, err)
	}
	vals := make(map[string]uint64, len(exprs))
	for i, e := range exprs {
		vals[e] = raw[i]
	}
	return vals, nil
}

// readValues reads n 64-bit values of the symbol from a relocatable object.
func readValues(obj string, machine elf.Machine, n int) ([]uint64, error) {
	f, err := elf.Open(obj)
	if err != nil {
		return nil, err
	}
	defer func() { _ = f.Close() }() // only read
	if f.Machine != machine || f.Class != elf.ELFCLASS64 {
		return nil, fmt.Errorf("object is %s %s, want 64-bit %s", f.Class, f.Machine, machine)
	}
	syms, err := f.Symbols()
	if err != nil {
		return nil, err
	}
	for _, s := range syms {
		if s.Name != symbol {
			continue
		}
		if s.Size != uint64(8*n) || int(s.Section) >= len(f.Sections) {
			return nil, fmt.Errorf("%s has %d bytes in section %d, want %d values", symbol, s.Size, s.Section, n)
		}
		data, err := f.Sections[s.Section].Data()
		if err != nil {
			return nil, err
		}
		if s.Value+s.Size > uint64(len(data)) {
			return nil, fmt.Errorf("%s lies outside its section", symbol)
		}
		vals := make([]uint64, n)
		for i := range vals {
			vals[i] = f.ByteOrder.Uint64(data[s.Value+uint64(8*i):])
		}
		return vals, nil
	}
	return nil, fmt.Errorf("no symbol %s", symbol)
}
