package gateway_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/gateway"
	"github.com/danzen-gw/danzen/media/disk/looptest"
)

// closeGatewayAtEnd closes g when the test ends. Close cuts every relay
// once more; a test that welds one expects that to fail, so it is only
// logged.
func closeGatewayAtEnd(t testing.TB, g *gateway.Gateway) {
	t.Helper()
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Logf("closing the gateway: %v", err)
		}
	})
}

// unmountAtEnd unmounts mnt, if it is still mounted, when the test ends
// (before its temporary directory is removed, as that was made first).
func unmountAtEnd(t testing.TB, mnt string) {
	t.Helper()
	t.Cleanup(func() {
		if !mounted(mnt) {
			return
		}
		if out, err := exec.Command("umount", mnt).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", mnt, err, out)
		}
	})
}

// mounted reports whether dir is a mount point: it sits on another
// device than its parent.
func mounted(dir string) bool {
	var st, parent unix.Stat_t
	return unix.Stat(dir, &st) == nil && unix.Stat(filepath.Dir(dir), &parent) == nil && st.Dev != parent.Dev
}

// powerOffAtEnd switches a test disk off when the test ends.
func powerOffAtEnd(t testing.TB, p *looptest.Power) {
	t.Helper()
	t.Cleanup(func() {
		if err := p.SetPower(false); err != nil {
			t.Errorf("power the disk off: %v", err)
		}
	})
}
