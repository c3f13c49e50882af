//go:build gokrazy

package main

import (
	"io"
	"os"
	"syscall"
)

// console is where lines for the person at the gateway go: stderr (kept
// by gokrazy's log) and the serial console itself, which gokrazy does not
// copy service output to. The setup code and the certificate fingerprint
// must be readable there before anyone can log in.
func console() io.Writer {
	f, err := os.OpenFile("/dev/console", os.O_WRONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		return os.Stderr
	}
	return io.MultiWriter(os.Stderr, f)
}
