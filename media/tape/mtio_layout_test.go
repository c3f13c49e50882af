package tape

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/danzen-gw/danzen/internal/clayout"
)

// TestMtioMatchesCForGOARCH checks the mtio structures, requests and codes
// as this test binary lays them out against <linux/mtio.h> compiled for the
// same architecture: arm64 under qemu-user in make test-arm64, amd64
// natively. TestIoctlLayoutMatchesC runs the host's gcc output instead, so
// under qemu-user it would compare arm64 Go with amd64 C; make test-arm64
// skips it and relies on this one.
func TestMtioMatchesCForGOARCH(t *testing.T) {
	if _, pkg, err := clayout.Compiler(runtime.GOARCH); err != nil && testing.Short() {
		t.Skipf("needs %s, which make test installs: -short skips it without", pkg)
	}
	var op mtop
	var g mtget
	checks := map[string]uint64{
		"sizeof(struct mtop)":                   uint64(unsafe.Sizeof(op)),
		"offsetof(struct mtop, mt_op)":          uint64(unsafe.Offsetof(op.Op)),
		"offsetof(struct mtop, mt_count)":       uint64(unsafe.Offsetof(op.Count)),
		"sizeof(struct mtget)":                  uint64(unsafe.Sizeof(g)),
		"offsetof(struct mtget, mt_type)":       uint64(unsafe.Offsetof(g.Type)),
		"offsetof(struct mtget, mt_resid)":      uint64(unsafe.Offsetof(g.Resid)),
		"offsetof(struct mtget, mt_dsreg)":      uint64(unsafe.Offsetof(g.Dsreg)),
		"offsetof(struct mtget, mt_gstat)":      uint64(unsafe.Offsetof(g.Gstat)),
		"offsetof(struct mtget, mt_erreg)":      uint64(unsafe.Offsetof(g.Erreg)),
		"offsetof(struct mtget, mt_fileno)":     uint64(unsafe.Offsetof(g.Fileno)),
		"offsetof(struct mtget, mt_blkno)":      uint64(unsafe.Offsetof(g.Blkno)),
		"sizeof(((struct mtget *)0)->mt_gstat)": uint64(unsafe.Sizeof(g.Gstat)),
		"MTIOCTOP":                              uint64(mtIOCTOP),
		"MTIOCGET":                              uint64(mtIOCGET),
		"MTFSF":                                 mtFSF, "MTBSF": mtBSF, "MTWEOF": mtWEOF, "MTREW": mtREW, "MTOFFL": mtOFFL,
		"MTNOP": mtNOP, "MTEOM": mtEOM, "MTSETBLK": mtSETBLK, "MTLOAD": mtLOAD,
		"GMT_EOF(~0UL)": gmtEOF, "GMT_BOT(~0UL)": gmtBOT, "GMT_EOT(~0UL)": gmtEOT, "GMT_EOD(~0UL)": gmtEOD,
		"GMT_WR_PROT(~0UL)": gmtWrProt, "GMT_ONLINE(~0UL)": gmtOnline, "GMT_DR_OPEN(~0UL)": gmtDrOpen,
	}
	exprs := make([]string, 0, len(checks))
	for e := range checks {
		exprs = append(exprs, e)
	}
	c, err := clayout.Values(t.Context(), runtime.GOARCH, []string{"linux/mtio.h"}, exprs)
	if err != nil {
		t.Fatal(err)
	}
	for e, got := range checks {
		if c[e] != got {
			t.Errorf("%s: Go %d (%#x), C %d (%#x)", e, got, got, c[e], c[e])
		}
	}
	if !t.Failed() {
		t.Logf("%d values agree with <linux/mtio.h> for %s", len(checks), runtime.GOARCH)
	}
}
