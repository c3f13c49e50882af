package tape

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// TestIoctlLayout checks the structures and request numbers against the C
// definitions of <linux/mtio.h> on 64-bit Linux.
func TestIoctlLayout(t *testing.T) {
	if got := unsafe.Sizeof(mtop{}); got != 8 {
		t.Errorf("sizeof(struct mtop) = %d, want 8", got)
	}
	if got := unsafe.Sizeof(mtget{}); got != 48 {
		t.Errorf("sizeof(struct mtget) = %d, want 48", got)
	}
	if got := unsafe.Offsetof(mtop{}.Count); got != 4 {
		t.Errorf("offsetof(mt_count) = %d, want 4", got)
	}
	if got := unsafe.Offsetof(mtget{}.Fileno); got != 40 {
		t.Errorf("offsetof(mt_fileno) = %d, want 40", got)
	}
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"MTIOCTOP", mtIOCTOP, 0x40086d01},
		{"MTIOCGET", mtIOCGET, 0x80306d02},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
	for _, c := range []struct {
		name      string
		got, want int
	}{
		{"MTFSF", mtFSF, 1}, {"MTWEOF", mtWEOF, 5}, {"MTREW", mtREW, 6}, {"MTOFFL", mtOFFL, 7},
		{"MTEOM", mtEOM, 12}, {"MTSETBLK", mtSETBLK, 20}, {"MTLOAD", mtLOAD, 30},
		{"GMT_BOT", gmtBOT, 0x40000000}, {"GMT_ONLINE", gmtOnline, 0x01000000},
		{"GMT_WR_PROT", gmtWrProt, 0x04000000}, {"GMT_EOD", gmtEOD, 0x08000000},
	} {
		if c.got != c.want {
			t.Errorf("%s = %#x, want %#x", c.name, c.got, c.want)
		}
	}
}

// TestIoctlLayoutMatchesC compiles the kernel's own header with gcc and
// compares every size, offset and number with the Go definitions.
func TestIoctlLayoutMatchesC(t *testing.T) {
	if _, err := exec.LookPath("gcc"); err != nil && testing.Short() {
		t.Skip("needs gcc and linux-libc-dev, which make test installs: -short skips it without them")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "mtio.c")
	prog := `#include <stdio.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <linux/mtio.h>
int main(void) {
	printf("mtop %zu\nmtget %zu\nmt_count %zu\nmt_gstat %zu\nmt_fileno %zu\nmt_blkno %zu\n",
		sizeof(struct mtop), sizeof(struct mtget), offsetof(struct mtop, mt_count),
		offsetof(struct mtget, mt_gstat), offsetof(struct mtget, mt_fileno), offsetof(struct mtget, mt_blkno));
	printf("MTIOCTOP %lu\nMTIOCGET %lu\n", (unsigned long)MTIOCTOP, (unsigned long)MTIOCGET);
	printf("MTFSF %d\nMTBSF %d\nMTWEOF %d\nMTREW %d\nMTOFFL %d\nMTNOP %d\nMTEOM %d\nMTSETBLK %d\nMTLOAD %d\n",
		MTFSF, MTBSF, MTWEOF, MTREW, MTOFFL, MTNOP, MTEOM, MTSETBLK, MTLOAD);
	printf("GMT_EOF %lu\nGMT_BOT %lu\nGMT_EOT %lu\nGMT_EOD %lu\nGMT_WR_PROT %lu\nGMT_ONLINE %lu\nGMT_DR_OPEN %lu\n",
		GMT_EOF(~0UL), GMT_BOT(~0UL), GMT_EOT(~0UL), GMT_EOD(~0UL), GMT_WR_PROT(~0UL), GMT_ONLINE(~0UL), GMT_DR_OPEN(~0UL));
	return 0;
}
`
	if err := os.WriteFile(src, []byte(prog), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "mtio")
	if out, err := exec.Command("gcc", "-o", bin, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc (make test installs gcc and linux-libc-dev): %v\n%s", err, out)
	}
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	c := map[string]uint64{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		name, v, _ := strings.Cut(line, " ")
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		c[name] = n
	}
	goValues := map[string]uint64{
		"mtop": uint64(unsafe.Sizeof(mtop{})), "mtget": uint64(unsafe.Sizeof(mtget{})),
		"mt_count": uint64(unsafe.Offsetof(mtop{}.Count)), "mt_gstat": uint64(unsafe.Offsetof(mtget{}.Gstat)),
		"mt_fileno": uint64(unsafe.Offsetof(mtget{}.Fileno)), "mt_blkno": uint64(unsafe.Offsetof(mtget{}.Blkno)),
		"MTIOCTOP": uint64(mtIOCTOP), "MTIOCGET": uint64(mtIOCGET),
		"MTFSF": mtFSF, "MTBSF": mtBSF, "MTWEOF": mtWEOF, "MTREW": mtREW, "MTOFFL": mtOFFL, "MTNOP": mtNOP,
		"MTEOM": mtEOM, "MTSETBLK": mtSETBLK, "MTLOAD": mtLOAD,
		"GMT_EOF": gmtEOF, "GMT_BOT": gmtBOT, "GMT_EOT": gmtEOT, "GMT_EOD": gmtEOD,
		"GMT_WR_PROT": gmtWrProt, "GMT_ONLINE": gmtOnline, "GMT_DR_OPEN": gmtDrOpen,
	}
	if len(c) != len(goValues) {
		t.Fatalf("C printed %d values, Go has %d", len(c), len(goValues))
	}
	for name, want := range c {
		if got := goValues[name]; got != want {
			t.Errorf("%s: Go %#x, C %#x", name, got, want)
		}
	}
}
