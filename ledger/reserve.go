package ledger

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/internal/atomicfile"
	"github.com/danzen-gw/danzen/internal/msg"
)

// The ledger shares /perm with staging and the configuration. A pull or
// anything else filling that disk must not leave a powered medium without
// a record of its connection or its cut, so the ledger keeps space of its
// own: a preallocated reserve file it gives up when an append hits ENOSPC.
const (
	ReserveFileName = "reserve"
	// DefaultReserve holds thousands of entries: weeks of nightly cycles.
	DefaultReserve = 4 << 20
)

// ErrNoRoom: the ledger's reserve is used up and cannot be set aside
// again; new evidence may not be storable.
const ErrNoRoom = sentinel("ledger: no room")

// Room makes sure the reserve is in place, setting it aside again when
// there is space, and says when it cannot be: then a medium must not be
// powered, since its connection and cut might go unrecorded.
func (l *Ledger) Room() error {
	l.sem <- struct{}{}
	defer func() { <-l.sem }()
	if l.closed {
		return ErrClosed
	}
	return l.ensureReserve()
}

// ensureReserve needs sem.
func (l *Ledger) ensureReserve() error {
	if l.reserve <= 0 {
		return nil
	}
	p := filepath.Join(l.dir, ReserveFileName)
	if fi, err := os.Stat(p); err == nil && fi.Size() >= l.reserve && allocated(fi) >= l.reserve {
		return nil
	}
	err := allocate(p, l.reserve)
	if err == nil {
		err = atomicfile.SyncDir(l.dir)
	}
	if err != nil {
		// A short reserve would promise room that is not there.
		if rerr := os.Remove(p); rerr != nil && !errors.Is(rerr, fs.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
		return &Error{Path: l.dir,
			Text: msg.Sprintf("証跡台帳のディスクに空きがありません（予備領域 %d MiB を確保できません）。媒体には給電しません。不要なファイルを削除するか保守ベンダに連絡してください",
				"the evidence ledger's disk is full (its %d MiB reserve cannot be set aside), so no medium is powered; free space or call the maintenance vendor",
				l.reserve>>20),
			Err: fmt.Errorf("%w: %w", ErrNoRoom, err)}
	}
	return nil
}

// allocate writes real blocks (fallocate, or zeros where the filesystem
// cannot), so the space is taken now and not when it is needed.
func allocate(p string, size int64) error {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	err = unix.Fallocate(int(f.Fd()), 0, 0, size)
	if errors.Is(err, unix.EOPNOTSUPP) {
		err = nil
		zero := make([]byte, 64<<10)
		for off := int64(0); off < size && err == nil; off += int64(len(zero)) {
			_, err = f.WriteAt(zero[:min(int64(len(zero)), size-off)], off)
		}
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

func allocated(fi os.FileInfo) int64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Blocks * 512
	}
	return fi.Size()
}

// releaseReserve frees the reserve after ENOSPC so the append can be
// retried; false when there was none to free.
func (l *Ledger) releaseReserve() bool {
	if l.reserve <= 0 {
		return false
	}
	p := filepath.Join(l.dir, ReserveFileName)
	if _, err := os.Stat(p); err != nil {
		return false
	}
	if err := os.Remove(p); err != nil {
		return false
	}
	if err := atomicfile.SyncDir(l.dir); err != nil {
		// The space is free for the retry either way; after a crash the
		// reserve may be back, which Room then sees as in place.
		l.log.Warn("ledger: the reserve's removal may not be durable", "dir", l.dir, "err", err)
	}
	l.log.Warn("evidence ledger disk full: its reserve was released to keep recording", "dir", l.dir)
	return true
}

func noSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
