package tape

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// St is a drive behind the Linux st driver, e.g. /dev/nst0 (the
// non-rewinding node, so filemarks written stay where they are).
type St struct {
	Path string
}

func (s St) String() string { return s.Path }

// Present reports whether the kernel has the drive: the node exists in
// devtmpfs and the st driver lists it in /sys/class/scsi_tape.
func (s St) Present() bool {
	real, err := filepath.EvalSymlinks(s.Path) // e.g. a /dev/tape/by-id link
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join("/sys/class/scsi_tape", filepath.Base(real)))
	return err == nil
}

// Open opens the drive. The st driver refuses a write open of a
// write-protected cartridge with EROFS; that is returned as ErrWriteProtected.
func (s St) Open(write bool) (Device, error) {
	flags := unix.O_RDONLY
	if write {
		flags = unix.O_RDWR
	}
	// O_NONBLOCK lets the open succeed without a loaded cartridge, so
	// that Load can pull in one left in the slot; reads and writes then
	// block again.
	fd, err := unix.Open(s.Path, flags|unix.O_NONBLOCK|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.EROFS) || errors.Is(err, unix.EACCES) && write {
		return nil, fmt.Errorf("%s: %w", s.Path, ErrWriteProtected)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", s.Path, err)
	}
	if err := unix.SetNonblock(fd, false); err != nil {
		_ = unix.Close(fd) // never used: the error above is what matters
		return nil, fmt.Errorf("%s: %w", s.Path, err)
	}
	return &stDevice{fd: fd, path: s.Path}, nil
}

type stDevice struct {
	fd   int
	path string
}

func (d *stDevice) Status() (Status, error) {
	g, err := mtStatus(d.fd)
	if err != nil {
		return Status{}, fmt.Errorf("%s: %w", d.path, err)
	}
	st := uint64(g.Gstat)
	return Status{
		Online: st&gmtOnline != 0, BOT: st&gmtBOT != 0, EOD: st&gmtEOD != 0,
		WriteProtected: st&gmtWrProt != 0, File: int(g.Fileno), Block: int(g.Blkno),
	}, nil
}

func (d *stDevice) op(op int16, count int32) error {
	if err := mtOp(d.fd, op, count); err != nil {
		return fmt.Errorf("%s: %w", d.path, err)
	}
	return nil
}

func (d *stDevice) Load() error             { return d.op(mtLOAD, 1) }
func (d *stDevice) SetVariableBlock() error { return d.op(mtSETBLK, 0) }
func (d *stDevice) Rewind() error           { return d.op(mtREW, 1) }
func (d *stDevice) SpaceEOD() error         { return d.op(mtEOM, 1) }
func (d *stDevice) WriteFilemark() error    { return d.op(mtWEOF, 1) }
func (d *stDevice) Unload() error           { return d.op(mtOFFL, 1) }

func (d *stDevice) SpaceFiles(n int) error {
	if n == 0 {
		return nil
	}
	return d.op(mtFSF, int32(n))
}

// WriteRecord writes p with one write(2): in variable-block mode that is
// one record. st reports the end of the medium as ENOSPC.
func (d *stDevice) WriteRecord(p []byte) error {
	for {
		n, err := unix.Write(d.fd, p)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.ENOSPC):
			return fmt.Errorf("%s: %w", d.path, ErrEndOfMedium)
		case errors.Is(err, unix.EROFS):
			return fmt.Errorf("%s: %w", d.path, ErrWriteProtected)
		case err != nil:
			return fmt.Errorf("write %s: %w", d.path, err)
		case n != len(p):
			return fmt.Errorf("write %s: short record %d of %d bytes: %w", d.path, n, len(p), ErrEndOfMedium)
		}
		return nil
	}
}

// ReadRecord reads one record. st returns 0 bytes at a filemark, and at
// blank tape 0 bytes and then EIO; the status tells the two apart.
func (d *stDevice) ReadRecord(p []byte) (int, error) {
	for {
		n, err := unix.Read(d.fd, p)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if n > 0 && err == nil {
			return n, nil
		}
		if st, serr := d.Status(); serr == nil && st.EOD {
			return 0, ErrEndOfData
		}
		if err != nil {
			return 0, fmt.Errorf("read %s: %w", d.path, err)
		}
		return 0, ErrFilemark
	}
}

func (d *stDevice) Close() error { return unix.Close(d.fd) }
