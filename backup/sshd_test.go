package backup_test

import (
	"os"
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/backup"
)

// The README shows vendors the same block the tests run sshd with.
func TestREADMEShowsTheTestedMatchBlock(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []backup.SSHDAccount{
		{User: "danzen-pull", Chroot: "/srv/danzen-chroot", ExportDir: "/export", GatewayIP: "192.0.2.10"},
		{User: "danzen-restore", Chroot: "/srv/danzen-chroot", ExportDir: "/restore", GatewayIP: "192.0.2.10", Write: true},
	} {
		block := backup.SSHDMatchBlock(a)
		if !strings.Contains(string(readme), block) {
			t.Fatalf("README.md does not contain the sshd block the tests use:\n%s", block)
		}
	}
}
