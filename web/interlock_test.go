package web_test

import (
	"strings"
	"testing"

	"github.com/danzen-gw/danzen/config"
	"github.com/danzen-gw/danzen/media/disk"
	"github.com/danzen-gw/danzen/relay"
)

// TestRestorePageNamesTheInterlock: with a medium behind an interlock
// timer the restore page says what the timer does to a restore now.
func TestRestorePageNamesTheInterlock(t *testing.T) {
	e := newEnv(t, envOptions{configure: func(_ string, cfg *config.Config) {
		cfg.Relays = []relay.Spec{{Name: "sim", Driver: relay.DriverSimulated}}
		cfg.Media = []config.Medium{{Name: "disk-a", Type: config.MediumDisk, Relay: "sim", PasswordFile: "disk-a.restic-password",
			Disk: &disk.Spec{Name: "disk-a", Serial: "S1", MediaID: "DANZEN-DISK-A"}}}
		cfg.Interlock = &config.Interlock{Start: "00:00", End: "23:59"}
	}})
	page := e.login("admin", adminPW).get("/restore").body
	if !strings.Contains(page, `id="interlock-notice"`) || !strings.Contains(page, "インターロック") || !strings.Contains(page, "00:00–23:59") {
		t.Fatalf("the restore page does not name the interlock:\n%s", page)
	}
}
