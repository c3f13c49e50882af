package disk

import (
	"fmt"
	"runtime"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/msg"
)

// SG_IO and struct sg_io_hdr from <scsi/sg.h>; x/sys/unix has neither.
const (
	sgIO          = 0x2285
	sgDxferNone   = -1
	sgInfoOKMask  = 0x1
	driverSense   = 0x08
	statusCheck   = 0x02
	senseBufLen   = 32
	opSyncCache10 = 0x35
	opStartStop   = 0x1B
	opAllowRemove = 0x1E
)

// sgIOHdr mirrors struct sg_io_hdr on 64-bit Linux (88 bytes).
type sgIOHdr struct {
	interfaceID    int32
	dxferDirection int32
	cmdLen         uint8
	mxSbLen        uint8
	iovecCount     uint16
	dxferLen       uint32
	dxferp         unsafe.Pointer
	cmdp           unsafe.Pointer
	sbp            unsafe.Pointer
	timeout        uint32 // ms
	flags          uint32
	packID         int32
	usrPtr         unsafe.Pointer
	status         uint8
	maskedStatus   uint8
	msgStatus      uint8
	sbLenWr        uint8
	hostStatus     uint16
	driverStatus   uint16
	resid          int32
	duration       uint32
	info           uint32
}

// The appliance is arm64 or amd64; a 32-bit build must not silently send a
// wrongly laid out header.
const (
	_ = uint(88 - unsafe.Sizeof(sgIOHdr{}))
	_ = uint(unsafe.Sizeof(sgIOHdr{}) - 88)
)

// ErrNotSCSI is wrapped when a device rejects SG_IO itself (loop, virtio, …).
var ErrNotSCSI = msg.New("SCSI コマンド(SG_IO)を受け付けないデバイスです", "the device does not accept SCSI commands (SG_IO)")

// SCSIError is a SCSI command that the device or the host adapter failed.
type SCSIError struct {
	Op           string
	Status       uint8
	HostStatus   uint16
	DriverStatus uint16
	SenseKey     uint8
	ASC, ASCQ    uint8
}

func (e *SCSIError) Error() string { return e.Localize(msg.Both) }

// Localize names the command and gives the device's status codes, in l.
func (e *SCSIError) Localize(l msg.Lang) string {
	codes := fmt.Sprintf("status 0x%02x host 0x%04x driver 0x%04x sense key 0x%x asc/ascq 0x%02x/0x%02x (%s)",
		e.Status, e.HostStatus, e.DriverStatus, e.SenseKey, e.ASC, e.ASCQ, senseKeyName(e.SenseKey))
	return msg.Sprintf("SCSI %s が失敗しました: %s", "SCSI %s failed: %s", e.Op, codes).Localize(l)
}

// unsupported reports ILLEGAL REQUEST with "invalid opcode" or "invalid
// field in CDB": the device does not implement the command. Linux's sd
// driver treats SYNCHRONIZE CACHE failing this way as nothing to flush.
func (e *SCSIError) unsupported() bool {
	return e.SenseKey == 0x5 && (e.ASC == 0x20 || e.ASC == 0x24)
}

func senseKeyName(k uint8) string {
	names := [...]string{"NO SENSE", "RECOVERED ERROR", "NOT READY", "MEDIUM ERROR", "HARDWARE ERROR",
		"ILLEGAL REQUEST", "UNIT ATTENTION", "DATA PROTECT", "BLANK CHECK", "VENDOR SPECIFIC",
		"COPY ABORTED", "ABORTED COMMAND", "reserved", "VOLUME OVERFLOW", "MISCOMPARE", "COMPLETED"}
	if int(k) < len(names) {
		return names[k]
	}
	return "?"
}

// scsiNoData sends a command without a data phase and decodes the outcome.
func scsiNoData(fd int, op string, cdb []byte, timeout time.Duration) error {
	sense := make([]byte, senseBufLen)
	h := sgIOHdr{
		interfaceID:    'S',
		dxferDirection: sgDxferNone,
		cmdLen:         uint8(len(cdb)),
		mxSbLen:        senseBufLen,
		cmdp:           unsafe.Pointer(&cdb[0]),
		sbp:            unsafe.Pointer(&sense[0]),
		timeout:        uint32(timeout / time.Millisecond),
	}
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), sgIO, uintptr(unsafe.Pointer(&h)))
	runtime.KeepAlive(cdb)
	runtime.KeepAlive(sense)
	if errno != 0 {
		if errno == unix.EINVAL || errno == unix.ENOTTY || errno == unix.EOPNOTSUPP {
			return msg.Errorf("SCSI %s: %w: %w", "SCSI %s: %w: %w", op, ErrNotSCSI, errno)
		}
		return fmt.Errorf("SCSI %s: SG_IO: %w", op, errno)
	}
	if h.info&sgInfoOKMask == 0 {
		return nil
	}
	e := &SCSIError{Op: op, Status: h.status, HostStatus: h.hostStatus, DriverStatus: h.driverStatus}
	if n := int(h.sbLenWr); n > 0 && (h.status&0x7e == statusCheck || h.driverStatus&0xf == driverSense) {
		parseSense(e, sense[:min(n, len(sense))])
	}
	return e
}

func parseSense(e *SCSIError, sb []byte) {
	switch sb[0] & 0x7f {
	case 0x70, 0x71: // fixed format
		if len(sb) > 13 {
			e.SenseKey, e.ASC, e.ASCQ = sb[2]&0xf, sb[12], sb[13]
		} else if len(sb) > 2 {
			e.SenseKey = sb[2] & 0xf
		}
	case 0x72, 0x73: // descriptor format
		if len(sb) > 3 {
			e.SenseKey, e.ASC, e.ASCQ = sb[1]&0xf, sb[2], sb[3]
		}
	}
}

// syncCache sends SYNCHRONIZE CACHE(10) for the whole medium.
func syncCache(fd int) error {
	return scsiNoData(fd, "SYNCHRONIZE CACHE", []byte{opSyncCache10, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 2*time.Minute)
}

// stopUnit sends START STOP UNIT with START=0 (spin down) and, for a
// cartridge, LOEJ=1 (eject). IMMED=0: the command returns once stopped.
func stopUnit(fd int, eject bool) error {
	b4 := byte(0)
	op := "START STOP UNIT (stop)"
	if eject {
		b4 = 0x02
		op = "START STOP UNIT (stop+eject)"
		// sd locks removable media while the node is open; allow removal first.
		if err := scsiNoData(fd, "PREVENT ALLOW MEDIUM REMOVAL (allow)", []byte{opAllowRemove, 0, 0, 0, 0, 0}, 30*time.Second); err != nil {
			return err
		}
	}
	return scsiNoData(fd, op, []byte{opStartStop, 0, 0, 0, b4, 0}, 2*time.Minute)
}
