package disk

// Real USB/SCSI disks cannot exist on the test machine (its kernel has no
// SCSI or USB), so identification by serial, the partition rules and the
// USB-device check of WaitGone run against a sysfs tree laid out as the
// kernel does for a USB disk, with regular files as device nodes.

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unsafe"
)

type fakeSys struct {
	sys, dev string
}

func write(t *testing.T, p, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

func link(t *testing.T, target, at string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(at), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, at); err != nil {
		t.Fatal(err)
	}
}

// fakeSuperblock is a volume image holding only an ext4 superblock.
func fakeSuperblock(uuid string) string {
	b := make([]byte, 4096)
	sb := b[1024:]
	binary.LittleEndian.PutUint32(sb[0x04:], 1000)
	binary.LittleEndian.PutUint32(sb[0x18:], 2)
	binary.LittleEndian.PutUint16(sb[0x38:], 0xEF53)
	binary.LittleEndian.PutUint32(sb[0x60:], incompatExtents)
	u := strings.ReplaceAll(uuid, "-", "")
	for i := 0; i < 16; i++ {
		var x byte
		for _, c := range u[2*i : 2*i+2] {
			x = x<<4 | byte(strings.IndexRune("0123456789abcdef", c))
		}
		sb[0x68+i] = x
	}
	return string(b)
}

// addUSBDisk lays out a USB mass-storage disk with one partition; wholeFS
// and partFS are the volume contents ("" for zeros).
func (f fakeSys) addUSBDisk(t *testing.T, port, usbSerial, name string, major, minor int, wholeFS, partFS string) (usb string) {
	usb = filepath.Join(f.sys, "devices/pci0000:00/0000:00:14.0/usb2", port)
	write(t, filepath.Join(usb, "idVendor"), "1058\n")
	write(t, filepath.Join(usb, "busnum"), "2\n")
	write(t, filepath.Join(usb, "serial"), usbSerial+"\n")
	link(t, usb, filepath.Join(f.sys, "bus/usb/devices", port))
	scsi := filepath.Join(usb, port+":1.0/host3/target3:0:0/3:0:0:0")
	write(t, filepath.Join(scsi, "vendor"), "WD      \n")
	write(t, filepath.Join(scsi, "model"), "Elements 25A2    \n")
	write(t, filepath.Join(scsi, "wwid"), "naa.5000c500a1b2c3d4\n")
	write(t, filepath.Join(scsi, "vpd_pg80"), "\x00\x80\x00\x08WX12AB34")
	write(t, filepath.Join(scsi, "delete"), "")
	write(t, filepath.Join(scsi, "scsi_disk/3:0:0:0/uevent"), "")
	blk := filepath.Join(scsi, "block", name)
	write(t, filepath.Join(blk, "dev"), strconv.Itoa(major)+":"+strconv.Itoa(minor)+"\n")
	write(t, filepath.Join(blk, "size"), "2000000\n")
	write(t, filepath.Join(blk, "diskseq"), "42\n")
	write(t, filepath.Join(blk, "removable"), "0\n")
	link(t, scsi, filepath.Join(blk, "device"))
	part := filepath.Join(blk, name+"1")
	write(t, filepath.Join(part, "partition"), "1\n")
	write(t, filepath.Join(part, "dev"), strconv.Itoa(major)+":"+strconv.Itoa(minor+1)+"\n")
	write(t, filepath.Join(part, "size"), "1998000\n")
	link(t, blk, filepath.Join(f.sys, "class/block", name))
	link(t, part, filepath.Join(f.sys, "class/block", name+"1"))
	write(t, filepath.Join(f.dev, name), wholeFS)
	write(t, filepath.Join(f.dev, name+"1"), partFS)
	return usb
}

func newFakeSys(t *testing.T) fakeSys {
	r := t.TempDir()
	f := fakeSys{sys: filepath.Join(r, "sys"), dev: filepath.Join(r, "dev")}
	if err := os.MkdirAll(filepath.Join(f.sys, "class/block"), 0o755); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fakeSys) driver(t *testing.T, s Spec) *Driver {
	t.Helper()
	s.Name = "usb1"
	if s.MediaID == "" {
		s.MediaID = "M1"
	}
	if s.AppearTimeout == 0 {
		s.AppearTimeout = Duration(300 * time.Millisecond)
	}
	if s.GoneTimeout == 0 {
		s.GoneTimeout = Duration(200 * time.Millisecond)
	}
	s.MountDir = filepath.Join(t.TempDir(), "mnt")
	d, err := New(s, Options{SysRoot: f.sys, DevDir: f.dev, Poll: 20 * time.Millisecond, Settle: 30 * time.Millisecond, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	d.fakeNodes = true
	return d
}

const (
	uuidA = "0b6f1c2e-3d4a-4f5b-8c6d-7e8f9a0b1c2d"
	uuidB = "11111111-2222-4333-8444-555555555555"
)

func TestSerialIdentity(t *testing.T) {
	f := newFakeSys(t)
	// A stale superblock on the whole disk (same UUID) must be ignored: the
	// disk has a partition, so only the partition counts.
	usb := f.addUSBDisk(t, "2-1", "ABC123", "sdb", 8, 16, fakeSuperblock(uuidA), fakeSuperblock(uuidA))

	for _, serial := range []string{"ABC123", "wx12ab34", "0x5000C500A1B2C3D4"} {
		d := f.driver(t, Spec{Serial: serial})
		dev, err := d.WaitAppear(t.Context())
		if err != nil {
			t.Fatalf("serial %s: %v", serial, err)
		}
		if dev.Name != "sdb1" || dev.Disk != "sdb" || dev.Kind != "scsi" || dev.USB != usb || dev.FSUUID != uuidA || dev.DiskSeq != 42 {
			t.Fatalf("serial %s: device %+v", serial, dev)
		}
		if !slices.Equal(dev.Serials, []string{"ABC123", "WX12AB34", "5000c500a1b2c3d4"}) {
			t.Fatalf("serials %q", dev.Serials)
		}
	}
	// Serial and fs_uuid together: both must match.
	d := f.driver(t, Spec{Serial: "ABC123", FSUUID: strings.ToUpper(uuidA)})
	if _, err := d.WaitAppear(t.Context()); err != nil {
		t.Fatal(err)
	}
	d = f.driver(t, Spec{Serial: "ABC123", FSUUID: uuidB})
	_, err := d.WaitAppear(t.Context())
	var dd *DifferentDiskError
	if !errors.As(err, &dd) || !strings.Contains(err.Error(), "sdb: serial ABC123 fs_uuid "+uuidA) {
		t.Fatalf("reformatted disk: %v", err)
	}
}

func TestDifferentUSBDisk(t *testing.T) {
	f := newFakeSys(t)
	f.addUSBDisk(t, "2-2", "OTHER9", "sdc", 8, 32, "", fakeSuperblock(uuidB))
	d := f.driver(t, Spec{Serial: "ABC123"})
	_, err := d.WaitAppear(t.Context())
	var dd *DifferentDiskError
	if !errors.As(err, &dd) {
		t.Fatalf("WaitAppear = %v", err)
	}
	if !strings.Contains(err.Error(), "別のディスクが接続されています(sdc: serial OTHER9") ||
		!strings.Contains(err.Error(), "a different disk is connected: sdc: serial OTHER9 fs_uuid "+uuidB+" WD Elements 25A2, expected serial ABC123") {
		t.Fatalf("message: %s", err)
	}
}

func TestAmbiguousFSUUID(t *testing.T) {
	f := newFakeSys(t)
	f.addUSBDisk(t, "2-1", "ABC123", "sdb", 8, 16, "", fakeSuperblock(uuidA))
	f.addUSBDisk(t, "2-2", "DEF456", "sdc", 8, 32, "", fakeSuperblock(uuidA)) // a dd clone
	d := f.driver(t, Spec{FSUUID: uuidA, AppearTimeout: Duration(5 * time.Second)})
	start := time.Now()
	_, err := d.WaitAppear(t.Context())
	var amb *AmbiguousError
	if !errors.As(err, &amb) || !slices.Equal(amb.Devices, []string{"sdb1", "sdc1"}) {
		t.Fatalf("WaitAppear = %v, want *AmbiguousError for sdb1, sdc1", err)
	}
	if time.Since(start) > time.Second {
		t.Error("an ambiguous match must be refused at once")
	}
}

func TestUnformattedDisk(t *testing.T) {
	f := newFakeSys(t)
	f.addUSBDisk(t, "2-1", "ABC123", "sdb", 8, 16, "", "")
	d := f.driver(t, Spec{Serial: "ABC123"})
	_, err := d.WaitAppear(t.Context())
	var na *NotAppearedError
	if !errors.As(err, &na) || !slices.Equal(na.Unformatted, []string{"sdb"}) || !strings.Contains(err.Error(), "carries no ext4 filesystem") {
		t.Fatalf("WaitAppear = %v", err)
	}
}

// After the SCSI device is deleted its block device is gone, but only the
// USB device vanishing proves the power was cut.
func TestGoneNeedsTheUSBDeviceGone(t *testing.T) {
	f := newFakeSys(t)
	usb := f.addUSBDisk(t, "2-1", "ABC123", "sdb", 8, 16, "", fakeSuperblock(uuidA))
	d := f.driver(t, Spec{FSUUID: uuidA})
	if _, err := d.WaitAppear(t.Context()); err != nil {
		t.Fatal(err)
	}
	err := d.WaitGone(t.Context())
	var sp *StillPresentError
	if !errors.As(err, &sp) || !strings.Contains(err.Error(), "sdb1") {
		t.Fatalf("WaitGone with the disk present = %v", err)
	}
	// "delete": the block devices go, the USB device stays powered.
	for _, n := range []string{"sdb", "sdb1"} {
		if err := os.Remove(filepath.Join(f.sys, "class/block", n)); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.RemoveAll(filepath.Join(usb, "2-1:1.0/host3/target3:0:0/3:0:0:0/block")); err != nil {
		t.Fatal(err)
	}
	err = d.WaitGone(t.Context())
	if !errors.As(err, &sp) || len(sp.Present) != 1 || !strings.Contains(sp.Present[0], "USB device 2-1") {
		t.Fatalf("WaitGone with the USB device present = %v", err)
	}
	// A driver without memory of WaitAppear (daemon restarted) still finds
	// the powered USB device by its serial.
	fresh := f.driver(t, Spec{Serial: "ABC123"})
	if err := fresh.WaitGone(t.Context()); !errors.As(err, &sp) || !strings.Contains(err.Error(), "USB device 2-1 (serial ABC123)") {
		t.Fatalf("WaitGone by serial with the USB device present = %v", err)
	}
	// Power cut: the USB device disappears.
	if err := os.RemoveAll(usb); err != nil {
		t.Fatal(err)
	}
	if err := d.WaitGone(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := fresh.WaitGone(t.Context()); err != nil {
		t.Fatal(err)
	}
}

func TestSerialsFromSysfs(t *testing.T) {
	if got := wwidSerial("t10.ATA     WDC WD40EFRX-68N32N0                    WD-WCC7K1234567"); got != "ATA WDC WD40EFRX-68N32N0 WD-WCC7K1234567" {
		t.Errorf("t10 wwid: %q", got)
	}
	if !serialMatches("ws-1234", []string{" WS-1234  "}) || serialMatches("WS-1234", []string{"WS-12345"}) {
		t.Error("serialMatches")
	}
	if got := unescapeMount(`/run/a\040b\134c`); got != `/run/a b\c` {
		t.Errorf("unescape: %q", got)
	}
}

// Detach on a SCSI disk whose node refuses SG_IO (here a regular file):
// every failure is reported, none is swallowed, and the device is still
// deleted so the kernel lets go of it.
func TestDetachReportsFailedSteps(t *testing.T) {
	f := newFakeSys(t)
	usb := f.addUSBDisk(t, "2-1", "ABC123", "sdb", 8, 16, "", fakeSuperblock(uuidA))
	d := f.driver(t, Spec{Serial: "ABC123", RDX: true})
	dev, err := d.WaitAppear(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := d.Detach(t.Context(), Mounted{Device: dev, Dir: d.spec.Dir()})
	var de *DetachError
	if !errors.As(err, &de) {
		t.Fatalf("Detach = %v, want *DetachError", err)
	}
	want := map[string]StepStatus{
		StepSyncFS: StepNotApplicable, StepUnmount: StepNotApplicable, StepFlush: StepFailed,
		StepSyncCache: StepFailed, StepStop: StepFailed, StepDelete: StepDone,
	}
	for _, s := range rep.Steps {
		if want[s.Step] != s.Status {
			t.Errorf("step %s = %s (%s), want %s", s.Step, s.Status, s.Detail, want[s.Step])
		}
	}
	if s, _ := rep.Step(StepSyncCache); !errors.Is(s.Err, ErrNotSCSI) {
		t.Errorf("sync-cache error %v, want ErrNotSCSI", s.Err)
	}
	if s, _ := rep.Step(StepStop); !strings.Contains(s.Detail.EN, "PREVENT ALLOW MEDIUM REMOVAL") {
		t.Errorf("RDX stop did not start by allowing removal: %s", s.Detail)
	}
	if b, _ := os.ReadFile(filepath.Join(usb, "2-1:1.0/host3/target3:0:0/3:0:0:0/delete")); string(b) != "1" {
		t.Errorf("delete attribute = %q, want 1", b)
	}
	if !strings.Contains(err.Error(), "synchronize-cache") || !strings.Contains(err.Error(), "切り離し手順の一部が失敗") {
		t.Errorf("message: %s", err)
	}
}

func TestSGIOHeaderLayout(t *testing.T) {
	var h sgIOHdr
	offs := []struct {
		name string
		got  uintptr
		want uintptr
	}{
		{"dxfer_direction", unsafe.Offsetof(h.dxferDirection), 4}, {"cmd_len", unsafe.Offsetof(h.cmdLen), 8},
		{"iovec_count", unsafe.Offsetof(h.iovecCount), 10}, {"dxfer_len", unsafe.Offsetof(h.dxferLen), 12},
		{"dxferp", unsafe.Offsetof(h.dxferp), 16}, {"cmdp", unsafe.Offsetof(h.cmdp), 24}, {"sbp", unsafe.Offsetof(h.sbp), 32},
		{"timeout", unsafe.Offsetof(h.timeout), 40}, {"pack_id", unsafe.Offsetof(h.packID), 48}, {"usr_ptr", unsafe.Offsetof(h.usrPtr), 56},
		{"status", unsafe.Offsetof(h.status), 64}, {"sb_len_wr", unsafe.Offsetof(h.sbLenWr), 67}, {"host_status", unsafe.Offsetof(h.hostStatus), 68},
		{"driver_status", unsafe.Offsetof(h.driverStatus), 70}, {"resid", unsafe.Offsetof(h.resid), 72}, {"info", unsafe.Offsetof(h.info), 80},
	}
	for _, o := range offs {
		if o.got != o.want {
			t.Errorf("%s at %d, want %d", o.name, o.got, o.want)
		}
	}
	if unsafe.Sizeof(h) != 88 {
		t.Errorf("size %d", unsafe.Sizeof(h))
	}
}

func TestSenseDecoding(t *testing.T) {
	var e SCSIError
	parseSense(&e, []byte{0x70, 0, 0x05, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0x00})
	if e.SenseKey != 5 || e.ASC != 0x20 || !e.unsupported() {
		t.Errorf("fixed: %+v", e)
	}
	e = SCSIError{}
	parseSense(&e, []byte{0x72, 0x02, 0x04, 0x02})
	if e.SenseKey != 2 || e.ASC != 4 || e.ASCQ != 2 || e.unsupported() {
		t.Errorf("descriptor: %+v", e)
	}
	if !strings.Contains(e.Error(), "NOT READY") {
		t.Errorf("message: %s", e.Error())
	}
}
