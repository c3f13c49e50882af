package clayout

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestValues evaluates expressions whose values are known for both
// 64-bit targets, including a negative one and several of equal value.
func TestValues(t *testing.T) {
	for _, goarch := range []string{"amd64", "arm64"} {
		t.Run(goarch, func(t *testing.T) {
			if _, pkg, err := Compiler(goarch); err != nil && testing.Short() {
				t.Skipf("needs %s, which make test installs: -short skips it without", pkg)
			}
			want := map[string]uint64{
				"sizeof(long)": 8, "sizeof(void *)": 8, "sizeof(short)": 2, "sizeof(int)": 4,
				"-1": ^uint64(0), "0x2285": 0x2285, "offsetof(struct { char c; long l; }, l)": 8,
			}
			var exprs []string
			for e := range want {
				exprs = append(exprs, e)
			}
			got, err := Values(t.Context(), goarch, nil, exprs)
			if err != nil {
				t.Fatal(err)
			}
			for e, w := range want {
				if got[e] != w {
					t.Errorf("%s = %#x, want %#x", e, got[e], w)
				}
			}
		})
	}
}

// TestWrongMachineRefused: an object for another architecture is never
// read as this one's.
func TestWrongMachineRefused(t *testing.T) {
	cc, pkg, err := Compiler("amd64")
	if err != nil {
		if testing.Short() {
			t.Skipf("needs %s", pkg)
		}
		t.Fatal(err)
	}
	dir := t.TempDir()
	src, obj := filepath.Join(dir, "x.c"), filepath.Join(dir, "x.o")
	if err := os.WriteFile(src, []byte("const unsigned long long "+symbol+"[] = {1};\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(cc, "-c", "-o", obj, src).CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if v, err := readValues(obj, elf.EM_X86_64, 1); err != nil || v[0] != 1 {
		t.Fatalf("amd64 object read as amd64: %v, %v", v, err)
	}
	if _, err := readValues(obj, elf.EM_AARCH64, 1); err == nil || !strings.Contains(err.Error(), "want 64-bit EM_AARCH64") {
		t.Errorf("amd64 object read as arm64: %v", err)
	}
	if _, err := readValues(obj, elf.EM_X86_64, 2); err == nil {
		t.Error("one value read as two")
	}
}
