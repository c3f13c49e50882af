package tape

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The st driver's ioctl interface from <linux/mtio.h>; x/sys/unix lacks it.
// The layouts are those of 64-bit Linux (amd64, arm64), where C long is
// 8 bytes and __kernel_daddr_t is an int.

// mtop is struct mtop: an operation and its count (8 bytes with padding).
type mtop struct {
	Op    int16
	_     int16
	Count int32
}

// mtget is struct mtget (48 bytes): the drive's status.
type mtget struct {
	Type   int64 // mt_type: drive type
	Resid  int64 // mt_resid: residual count
	Dsreg  int64 // mt_dsreg: block size and density
	Gstat  int64 // mt_gstat: generic status bits (GMT_*)
	Erreg  int64 // mt_erreg: error register
	Fileno int32 // mt_fileno: current file number
	Blkno  int32 // mt_blkno: current block number in the file
}

// Operations for MTIOCTOP.
const (
	mtFSF    = 1  // forward space over count filemarks
	mtBSF    = 2  // backward space over count filemarks
	mtWEOF   = 5  // write count filemarks
	mtREW    = 6  // rewind
	mtOFFL   = 7  // rewind and unload (eject)
	mtNOP    = 8  // no operation: refreshes the status
	mtEOM    = 12 // space to end of recorded data
	mtSETBLK = 20 // set the block size; 0 = variable
	mtLOAD   = 30 // SCSI LOAD: pull in a cartridge left in the slot
)

// Generic status bits in mtget.Gstat.
const (
	gmtEOF    = 0x80000000
	gmtBOT    = 0x40000000
	gmtEOT    = 0x20000000
	gmtEOD    = 0x08000000
	gmtWrProt = 0x04000000
	gmtOnline = 0x01000000
	gmtDrOpen = 0x00040000
)

// _IOC encoding from <asm-generic/ioctl.h>.
const (
	iocWrite = 1
	iocRead  = 2
)

func ioc(dir, typ, nr, size uintptr) uintptr {
	return dir<<30 | size<<16 | typ<<8 | nr
}

var (
	mtIOCTOP = ioc(iocWrite, 'm', 1, unsafe.Sizeof(mtop{})) // _IOW('m', 1, struct mtop)
	mtIOCGET = ioc(iocRead, 'm', 2, unsafe.Sizeof(mtget{})) // _IOR('m', 2, struct mtget)
)

func ioctl(fd int, req uintptr, arg unsafe.Pointer) error {
	for {
		_, _, e := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), req, uintptr(arg))
		switch e {
		case 0:
			return nil
		case unix.EINTR:
			continue
		}
		return e
	}
}

func mtOp(fd int, op int16, count int32) error {
	m := mtop{Op: op, Count: count}
	if err := ioctl(fd, mtIOCTOP, unsafe.Pointer(&m)); err != nil {
		return fmt.Errorf("MTIOCTOP %s: %w", opName(op), err)
	}
	return nil
}

func mtStatus(fd int) (mtget, error) {
	var g mtget
	err := ioctl(fd, mtIOCGET, unsafe.Pointer(&g))
	if err != nil {
		return g, fmt.Errorf("MTIOCGET: %w", err)
	}
	return g, nil
}

func opName(op int16) string {
	switch op {
	case mtFSF:
		return "MTFSF"
	case mtBSF:
		return "MTBSF"
	case mtWEOF:
		return "MTWEOF"
	case mtREW:
		return "MTREW"
	case mtOFFL:
		return "MTOFFL"
	case mtNOP:
		return "MTNOP"
	case mtEOM:
		return "MTEOM"
	case mtSETBLK:
		return "MTSETBLK"
	case mtLOAD:
		return "MTLOAD"
	}
	return fmt.Sprintf("op %d", op)
}
