package rtusim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"
)

// StartPTY serves m (and more, on the same line) on the master side of a
// new pseudo-terminal pair and returns the slave's path, for
// ModuleSpec.Device: the driver opens it as a serial port, with real
// termios. The slave is put in raw mode and kept open here, so that no
// line discipline rewrites bytes (CR to LF, echo) before the driver sets
// its own mode, and the master does not fail while the driver has the
// slave closed. stop (or the end of ctx) closes the pair, as if the adapter
// were unplugged.
func StartPTY(ctx context.Context, m *Module, more ...*Module) (device string, stop func(), err error) {
	master, slave, err := openPair()
	if err != nil {
		return "", nil, err
	}
	if _, err := term.MakeRaw(int(slave.Fd())); err != nil {
		return "", nil, errors.Join(fmt.Errorf("rtusim: raw mode: %w", err), master.Close(), slave.Close())
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		// Ends with an error once stop closes the master: nothing to report.
		_ = Serve(ctx, master, append([]*Module{m}, more...)...)
	})
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			_ = master.Close() // unblocks Serve; an error here changes nothing
			wg.Wait()
			_ = slave.Close()
		})
	}
	context.AfterFunc(ctx, stop)
	return slave.Name(), stop, nil
}

// openPair opens a pty pair whose master is in Go's poller (non-blocking),
// so that closing it ends a pending Read.
func openPair() (master, slave *os.File, err error) {
	m, slave, err := pty.Open()
	if err != nil {
		return nil, nil, fmt.Errorf("rtusim: open pty: %w", err)
	}
	fd, err := unix.Dup(int(m.Fd()))
	if err == nil {
		err = unix.SetNonblock(fd, true)
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, errors.Join(fmt.Errorf("rtusim: pty master: %w", err), slave.Close())
	}
	return os.NewFile(uintptr(fd), m.Name()), slave, nil
}
