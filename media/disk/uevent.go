package disk

import (
	"bytes"
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// listenUevents subscribes to the kernel's device announcements (there is
// no udev on the appliance; the kernel multicasts them on netlink group 1).
// They only wake the scanner early: sysfs stays the source of truth, and
// the poll still runs if messages are lost.
func listenUevents() (<-chan struct{}, func(), error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, unix.NETLINK_KOBJECT_UEVENT)
	if err != nil {
		return nil, nil, err
	}
	if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK, Groups: 1}); err != nil {
		_ = unix.Close(fd) // unused socket: the bind error is what matters
		return nil, nil, err
	}
	// A non-blocking fd in an *os.File uses the runtime poller, so Close
	// unblocks the reader.
	f := os.NewFile(uintptr(fd), "uevent")
	ch := make(chan struct{}, 1)
	go func() {
		buf := make([]byte, 64<<10)
		for {
			n, err := f.Read(buf)
			if err != nil {
				if errors.Is(err, unix.ENOBUFS) {
					signal(ch) // messages lost: rescan
					continue
				}
				return
			}
			if relevantUevent(buf[:n]) {
				signal(ch)
			}
		}
	}()
	// Closing stops the reader; a netlink socket has nothing to flush.
	return ch, func() { _ = f.Close() }, nil
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func relevantUevent(msg []byte) bool {
	for _, f := range bytes.Split(msg, []byte{0}) {
		if sub, ok := bytes.CutPrefix(f, []byte("SUBSYSTEM=")); ok {
			switch string(sub) {
			case "block", "usb", "scsi", "scsi_disk":
				return true
			}
		}
	}
	return false
}
