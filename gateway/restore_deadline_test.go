package gateway

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/internal/rig"
)

// The deadline cuts the medium while a restore is still running. The
// page refuses deadlines under a minute, so this drives the cycle below
// that check.
func TestRestoreDeadlineCutsTheMediumMidRestore(t *testing.T) {
	x := rig.New(t, map[string]string{"db/emr.dmp": strings.Repeat("x", 1<<20)}, []string{"disk-a"}, 128<<20)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	g, err := Open(ctx, x.Cfg, Options{RelaySources: x.HW.Sources()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if _, _, err := g.NewPassword("disk-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.PrepareMedium(ctx, "disk-a", false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := g.RunCycle(ctx, nil); err != nil {
		t.Fatal(err)
	}
	tg, err := g.target("disk-a", use{restore: true})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	c := g.cycle(func(ev backup.CycleEvent) {
		if ev.Phase == "restore" {
			time.Sleep(time.Until(deadline) + 200*time.Millisecond) // the restore "takes" past the deadline
		}
	})
	rep, err := c.Restore(ctx, tg, backup.RestoreRequest{Dir: filepath.Join(t.TempDir(), "r"), Deadline: deadline})
	if err == nil || !strings.Contains(err.Error(), "deadline") || rep.OK {
		t.Fatalf("restore past its deadline: %v", err)
	}
	if !rep.CutVerified || x.HW.Board.Relay("relay-disk-a").Energised() || x.HW.Powers["disk-a"].Loop() != nil {
		t.Fatalf("the deadline did not cut the medium: %+v", rep.Medium)
	}
}
