package build_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"testing"
)

// guestFwdEnv makes this test binary a one-connection relay: QEMU runs it
// for each connection the guest opens to a guestfwd address.
const guestFwdEnv = "DANZEN_GUESTFWD_TO"

func TestMain(m *testing.M) {
	if addr := os.Getenv(guestFwdEnv); addr != "" {
		os.Exit(forward(addr))
	}
	os.Exit(m.Run())
}

// guestFwd is a QEMU user-network rule that carries every connection the
// guest opens to guestSFTP:22 to 127.0.0.1:port on the host. A "tcp:"
// chardev target would connect once, at QEMU's start, and serve only the
// first connection; "cmd:" runs a relay per connection.
func guestFwd(port int) string {
	return fmt.Sprintf(",guestfwd=tcp:%s:22-cmd:env %s=127.0.0.1:%d %s", guestSFTP, guestFwdEnv, port, os.Args[0])
}

// forward copies stdin to addr and addr to stdout until either side ends.
func forward(addr string) int {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		fmt.Fprintln(os.Stderr, "guestfwd relay:", err)
		return 1
	}
	done := make(chan error, 2)
	go func() {
		_, err := io.Copy(c, os.Stdin)
		if tc, ok := c.(*net.TCPConn); ok {
			err = errors.Join(err, tc.CloseWrite())
		}
		done <- err
	}()
	go func() { _, err := io.Copy(os.Stdout, c); done <- err }()
	err = <-done
	_ = c.Close() // the other copy ends with it
	if err != nil {
		fmt.Fprintln(os.Stderr, "guestfwd relay:", err)
		return 1
	}
	return 0
}
