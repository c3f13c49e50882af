package disk

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/msg"
)

// blockDev is one block device (whole disk or partition) as sysfs shows it.
type blockDev struct {
	name      string // kernel name, e.g. "sdb1"
	disk      string // whole disk, e.g. "sdb" (== name for a whole disk)
	partition bool
	major     uint32
	minor     uint32
	size      int64  // bytes
	diskSeq   uint64 // of the whole disk; 0 when the kernel has none
	kind      string // "scsi", "loop", "mmc", "nvme", "virtio", "other"
	usb       string // resolved sysfs path of the USB device, "" if not on USB
	serials   []string
	vendor    string
	model     string
	removable bool
	backing   string // loop backing file
	holders   bool   // something (dm, md) is stacked on it
}

func (b blockDev) key() string {
	return fmt.Sprintf("%s/%d:%d/%d", b.name, b.major, b.minor, b.diskSeq)
}

// ignoredName reports kernel block devices that are never a removable
// medium (RAM disks, device-mapper, RAID, optical, network block devices).
func ignoredName(n string) bool {
	for _, p := range []string{"ram", "zram", "dm-", "md", "sr", "fd", "mtdblock", "nbd", "rbd", "zd"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// listBlock reads every block device from <sysroot>/class/block. Entries
// that vanish while being read are skipped: devices come and go during a
// scan.
func (d *Driver) listBlock() ([]blockDev, error) {
	classDir := filepath.Join(d.opt.SysRoot, "class", "block")
	ents, err := os.ReadDir(classDir)
	if err != nil {
		return nil, msg.Errorf("%s を読めません: %w", "cannot read %s: %w", classDir, err)
	}
	disks := map[string]*blockDev{}
	var out []blockDev
	for _, e := range ents {
		name := e.Name()
		if ignoredName(name) {
			continue
		}
		real, err := filepath.EvalSymlinks(filepath.Join(classDir, name))
		if err != nil {
			continue
		}
		b := blockDev{name: name, disk: name}
		diskDir := real
		if exists(filepath.Join(real, "partition")) {
			b.partition = true
			diskDir = filepath.Dir(real)
			b.disk = filepath.Base(diskDir)
		}
		if b.major, b.minor, err = readDevNum(filepath.Join(real, "dev")); err != nil {
			continue
		}
		sectors, err := readUint(filepath.Join(real, "size"))
		if err != nil {
			continue
		}
		b.size = int64(sectors) * 512
		b.holders = nonEmptyDir(filepath.Join(real, "holders"))
		dk, ok := disks[diskDir]
		if !ok {
			dk = d.diskInfo(b.disk, diskDir)
			disks[diskDir] = dk
		}
		b.diskSeq, b.kind, b.usb, b.serials = dk.diskSeq, dk.kind, dk.usb, dk.serials
		b.vendor, b.model, b.removable, b.backing = dk.vendor, dk.model, dk.removable, dk.backing
		if b.kind == "loop" && b.backing == "" {
			// A detached loop device keeps its /sys entry: it is absent.
			b.size = 0
		}
		out = append(out, b)
	}
	return out, nil
}

// diskInfo reads what belongs to the whole disk: sequence number, bus,
// serials.
func (d *Driver) diskInfo(name, dir string) *blockDev {
	b := &blockDev{name: name, disk: name}
	b.diskSeq, _ = readUint(filepath.Join(dir, "diskseq"))
	b.removable = readString(filepath.Join(dir, "removable")) == "1"
	devDir, _ := filepath.EvalSymlinks(filepath.Join(dir, "device"))
	switch {
	case strings.HasPrefix(name, "loop"):
		b.kind = "loop"
		b.backing = readString(filepath.Join(dir, "loop", "backing_file"))
	case devDir != "" && (exists(filepath.Join(devDir, "scsi_disk")) || exists(filepath.Join(devDir, "scsi_device")) || exists(filepath.Join(devDir, "delete"))):
		b.kind = "scsi"
	case strings.HasPrefix(name, "sd"):
		// Named like a SCSI disk: try SCSI commands and report what fails.
		b.kind = "scsi"
	case strings.HasPrefix(name, "mmcblk"):
		b.kind = "mmc"
	case strings.HasPrefix(name, "nvme"):
		b.kind = "nvme"
	case strings.HasPrefix(name, "vd"):
		b.kind = "virtio"
	default:
		b.kind = "other"
	}
	if devDir != "" {
		b.vendor = readString(filepath.Join(devDir, "vendor"))
		b.model = readString(filepath.Join(devDir, "model"))
		b.usb = d.usbAncestor(devDir)
	}
	b.serials = serialsOf(dir, devDir, b.usb)
	return b
}

// usbAncestor returns the nearest USB device (not interface) above dir: the
// thing that vanishes when the relay cuts the disk's power.
func (d *Driver) usbAncestor(dir string) string {
	devices := filepath.Join(d.opt.SysRoot, "devices")
	for p := dir; strings.HasPrefix(p, devices+"/"); p = filepath.Dir(p) {
		if exists(filepath.Join(p, "idVendor")) && exists(filepath.Join(p, "busnum")) {
			return p
		}
	}
	return ""
}

// serialsOf collects every identifier a person might copy from a label or
// a tool: USB serial, SCSI unit serial (VPD page 0x80), WWID/WWN, and the
// device's own serial attribute (NVMe, MMC) or the disk's (virtio-blk).
func serialsOf(diskDir, devDir, usb string) []string {
	var out []string
	add := func(s string) {
		s = strings.TrimSpace(strings.Trim(s, "\x00"))
		if s == "" {
			return
		}
		for _, o := range out {
			if o == s {
				return
			}
		}
		out = append(out, s)
	}
	if usb != "" {
		add(readString(filepath.Join(usb, "serial")))
	}
	if devDir != "" {
		if b, err := os.ReadFile(filepath.Join(devDir, "vpd_pg80")); err == nil && len(b) > 4 && b[1] == 0x80 {
			n := int(b[2])<<8 | int(b[3])
			add(string(b[4:min(len(b), 4+n)]))
		}
		add(readString(filepath.Join(devDir, "serial")))
		add(wwidSerial(readString(filepath.Join(devDir, "wwid"))))
	}
	add(wwidSerial(readString(filepath.Join(diskDir, "wwid"))))
	add(readString(filepath.Join(diskDir, "serial"))) // virtio-blk keeps it on the disk itself
	return out
}

// wwidSerial strips the designator type ("naa.", "eui.", "t10.") so that the
// WWN printed on a drive label matches.
func wwidSerial(w string) string {
	w = strings.TrimSpace(w)
	for _, p := range []string{"naa.", "eui.", "t10.", "nvme."} {
		if rest, ok := strings.CutPrefix(w, p); ok {
			return strings.Join(strings.Fields(rest), " ")
		}
	}
	return w
}

// normSerial makes serials comparable: case, spaces, a "0x" prefix.
func normSerial(s string) string {
	s = strings.ToLower(strings.Join(strings.Fields(s), " "))
	return strings.TrimPrefix(s, "0x")
}

func serialMatches(want string, have []string) bool {
	w := normSerial(want)
	for _, h := range have {
		if normSerial(h) == w {
			return true
		}
	}
	return false
}

// mountEntry is one line of /proc/self/mountinfo.
type mountEntry struct {
	major, minor uint32
	dir          string
	fstype       string
	source       string
}

func (d *Driver) mounts() ([]mountEntry, error) {
	p := filepath.Join(d.opt.ProcRoot, "self", "mountinfo")
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, msg.Errorf("%s を読めません: %w", "cannot read %s: %w", p, err)
	}
	var out []mountEntry
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		sep := -1
		for i, x := range f {
			if x == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+2 >= len(f) {
			continue
		}
		var e mountEntry
		maj, mnr, ok := strings.Cut(f[2], ":")
		if !ok {
			continue
		}
		a, err1 := strconv.ParseUint(maj, 10, 32)
		c, err2 := strconv.ParseUint(mnr, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		e.major, e.minor = uint32(a), uint32(c)
		e.dir = unescapeMount(f[4])
		e.fstype = f[sep+1]
		e.source = unescapeMount(f[sep+2])
		out = append(out, e)
	}
	return out, sc.Err()
}

// unescapeMount decodes the octal escapes (\040 for space) of mountinfo.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+4 <= len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// openNode opens the device node of a block device and proves that it is
// the device sysfs named (a stale or planted node must not redirect a
// mount). Without udev a missing node is created from sysfs's numbers.
func (d *Driver) openNode(name string, major, minor uint32, flag int) (*os.File, string, error) {
	p := filepath.Join(d.opt.DevDir, strings.ReplaceAll(name, "!", "/"))
	want := unix.Mkdev(major, minor)
	if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) && !d.fakeNodes {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return nil, p, msg.Errorf("デバイスノード %s を作れません: %w", "cannot create device node %s: %w", p, err)
		}
		if err := unix.Mknod(p, unix.S_IFBLK|0o600, int(want)); err != nil && !errors.Is(err, unix.EEXIST) {
			return nil, p, msg.Errorf("デバイスノード %s を作れません: %w", "cannot create device node %s: %w", p, err)
		}
	}
	f, err := os.OpenFile(p, flag|unix.O_CLOEXEC|unix.O_NOFOLLOW, 0)
	if err != nil {
		return nil, p, msg.Errorf("デバイス %s を開けません: %w", "cannot open device %s: %w", p, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(f.Fd()), &st); err != nil {
		_ = f.Close() // not used: nothing was read or written
		return nil, p, fmt.Errorf("fstat %s: %w", p, err)
	}
	if d.fakeNodes && st.Mode&unix.S_IFMT == unix.S_IFREG {
		return f, p, nil
	}
	if st.Mode&unix.S_IFMT != unix.S_IFBLK || st.Rdev != want {
		_ = f.Close() // not used: nothing was read or written
		return nil, p, msg.Errorf("デバイスノード %s は %d:%d ではありません(sysfs と不一致)", "device node %s is not block device %d:%d as sysfs says",
			p, major, minor)
	}
	return f, p, nil
}

func readString(p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func readUint(p string) (uint64, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return 0, err
	}
	return strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
}

func readDevNum(p string) (uint32, uint32, error) {
	s := readString(p)
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return 0, 0, fmt.Errorf("bad dev %q in %s", s, p)
	}
	maj, err1 := strconv.ParseUint(a, 10, 32)
	mnr, err2 := strconv.ParseUint(b, 10, 32)
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bad dev %q in %s", s, p)
	}
	return uint32(maj), uint32(mnr), nil
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func nonEmptyDir(p string) bool {
	ents, err := os.ReadDir(p)
	return err == nil && len(ents) > 0
}
