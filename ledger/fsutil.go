package ledger

import (
	"errors"
	"os"
	"syscall"
)

// flock retries on EINTR, which a signal to the daemon can cause.
func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}
