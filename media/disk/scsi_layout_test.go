package disk

import (
	"runtime"
	"testing"
	"unsafe"

	"github.com/danzen-gw/danzen/internal/clayout"
)

// TestSGIOHeaderMatchesC checks sgIOHdr, SG_IO and the command and status
// codes, as this test binary lays them out (arm64 under qemu-user in make
// test-arm64, amd64 natively), against <scsi/sg.h> and <scsi/scsi.h>
// compiled for the same architecture. The kernel checks none of it for us:
// a misplaced field would send the wrong pointer or timeout, and qemu-user
// does not pass SG_IO through at all. (TestSGIOHeaderLayout pins the
// offsets by number; this one takes them from the C headers.)
func TestSGIOHeaderMatchesC(t *testing.T) {
	if _, pkg, err := clayout.Compiler(runtime.GOARCH); err != nil && testing.Short() {
		t.Skipf("needs %s, which make test installs: -short skips it without", pkg)
	}
	var h sgIOHdr
	dxferNone := int64(sgDxferNone) // a variable: -1 as a constant cannot become a uint64
	field := func(member string, off, size uintptr) [2]cValue {
		return [2]cValue{
			{uint64(off), "offsetof(struct sg_io_hdr, " + member + ")"},
			{uint64(size), "sizeof(((struct sg_io_hdr *)0)->" + member + ")"},
		}
	}
	checks := []cValue{
		{uint64(unsafe.Sizeof(h)), "sizeof(struct sg_io_hdr)"},
		{sgIO, "SG_IO"},
		{uint64(dxferNone), "SG_DXFER_NONE"},
		{sgInfoOKMask, "SG_INFO_OK_MASK"},
		{opSyncCache10, "SYNCHRONIZE_CACHE"},
		{opStartStop, "START_STOP"},
		{opAllowRemove, "ALLOW_MEDIUM_REMOVAL"},
		{statusCheck, "CHECK_CONDITION << 1"}, // scsi.h's status codes are shifted right by one
	}
	for _, f := range [][2]cValue{
		field("interface_id", unsafe.Offsetof(h.interfaceID), unsafe.Sizeof(h.interfaceID)),
		field("dxfer_direction", unsafe.Offsetof(h.dxferDirection), unsafe.Sizeof(h.dxferDirection)),
		field("cmd_len", unsafe.Offsetof(h.cmdLen), unsafe.Sizeof(h.cmdLen)),
		field("mx_sb_len", unsafe.Offsetof(h.mxSbLen), unsafe.Sizeof(h.mxSbLen)),
		field("iovec_count", unsafe.Offsetof(h.iovecCount), unsafe.Sizeof(h.iovecCount)),
		field("dxfer_len", unsafe.Offsetof(h.dxferLen), unsafe.Sizeof(h.dxferLen)),
		field("dxferp", unsafe.Offsetof(h.dxferp), unsafe.Sizeof(h.dxferp)),
		field("cmdp", unsafe.Offsetof(h.cmdp), unsafe.Sizeof(h.cmdp)),
		field("sbp", unsafe.Offsetof(h.sbp), unsafe.Sizeof(h.sbp)),
		field("timeout", unsafe.Offsetof(h.timeout), unsafe.Sizeof(h.timeout)),
		field("flags", unsafe.Offsetof(h.flags), unsafe.Sizeof(h.flags)),
		field("pack_id", unsafe.Offsetof(h.packID), unsafe.Sizeof(h.packID)),
		field("usr_ptr", unsafe.Offsetof(h.usrPtr), unsafe.Sizeof(h.usrPtr)),
		field("status", unsafe.Offsetof(h.status), unsafe.Sizeof(h.status)),
		field("masked_status", unsafe.Offsetof(h.maskedStatus), unsafe.Sizeof(h.maskedStatus)),
		field("msg_status", unsafe.Offsetof(h.msgStatus), unsafe.Sizeof(h.msgStatus)),
		field("sb_len_wr", unsafe.Offsetof(h.sbLenWr), unsafe.Sizeof(h.sbLenWr)),
		field("host_status", unsafe.Offsetof(h.hostStatus), unsafe.Sizeof(h.hostStatus)),
		field("driver_status", unsafe.Offsetof(h.driverStatus), unsafe.Sizeof(h.driverStatus)),
		field("resid", unsafe.Offsetof(h.resid), unsafe.Sizeof(h.resid)),
		field("duration", unsafe.Offsetof(h.duration), unsafe.Sizeof(h.duration)),
		field("info", unsafe.Offsetof(h.info), unsafe.Sizeof(h.info)),
	} {
		checks = append(checks, f[0], f[1])
	}
	exprs := make([]string, len(checks))
	for i, c := range checks {
		exprs[i] = c.c
	}
	c, err := clayout.Values(t.Context(), runtime.GOARCH, []string{"scsi/sg.h", "scsi/scsi.h"}, exprs)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range checks {
		if c[v.c] != v.got {
			t.Errorf("%s: Go %d (%#x), C %d (%#x)", v.c, v.got, v.got, c[v.c], c[v.c])
		}
	}
	if !t.Failed() {
		t.Logf("%d values agree with <scsi/sg.h> for %s", len(checks), runtime.GOARCH)
	}
}

// cValue is a value of the Go code and the C expression it must equal.
type cValue struct {
	got uint64
	c   string
}
