package faults_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/danzen-gw/danzen/alert"
	"github.com/danzen-gw/danzen/backup"
	"github.com/danzen-gw/danzen/ledger"
	"github.com/danzen-gw/danzen/media/disk/looptest"
	"github.com/danzen-gw/danzen/relay/fake"
)

// smallExt4 mounts a fresh ext4 of size bytes, for a disk that fills up.
func smallExt4(t *testing.T, size int64, label string) string {
	t.Helper()
	dir := t.TempDir()
	img, err := looptest.CreateExt4(filepath.Join(dir, label+".img"), size, looptest.ImageOptions{Label: label})
	if err != nil {
		t.Fatal(err)
	}
	loop, err := looptest.Attach(img.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := loop.Detach(); err != nil {
			t.Error(err)
		}
	})
	mnt := filepath.Join(dir, "mnt")
	must(t, os.Mkdir(mnt, 0o700))
	if err := unix.Mount(loop.Path, mnt, "ext4", 0, ""); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := unix.Unmount(mnt, 0); err != nil {
			t.Error(err)
		}
	})
	return mnt
}

// fillDisk writes dir/filler until the disk is full, to the last block:
// ext4 refuses a large write while small ones still fit.
func fillDisk(t *testing.T, dir string) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { must(t, f.Close()) }()
	for _, n := range []int{1 << 20, 64 << 10, 4 << 10, 512, 1} {
		buf := make([]byte, n)
		for err == nil {
			_, err = f.Write(buf)
		}
		if !errors.Is(err, unix.ENOSPC) {
			t.Fatal(err)
		}
		// A full disk may refuse to sync what is buffered; what counts is
		// that the next, smaller write fails too.
		_ = f.Sync()
		err = nil
	}
}

// /perm, the disk holding the evidence ledger (and, in the appliance,
// staging and the configuration), fills up while a medium is powered: the
// power session is still recorded from the ledger's reserve and the cut
// proven; the next cycle powers no medium while there is no room (it
// could not be recorded) and alerts; once space is freed, backups resume
// and a drill restores everything.
func TestPermFull(t *testing.T) {
	w := newWorld(t)
	res := row{fault: "/perm (the ledger's disk) full while a medium is powered", reached: "PHASE attach"}
	perm := smallExt4(t, 32<<20, "perm")
	moved := filepath.Join(perm, "ledger")
	if err := os.CopyFS(moved, os.DirFS(w.r.Cfg.LedgerDir)); err != nil {
		t.Fatal(err)
	}
	must(t, os.Remove(filepath.Join(moved, ledger.LockFileName)))
	w.r.Cfg.LedgerDir = moved // falseOffline reads it too
	cfg := *w.r.Cfg
	sink := hook(t, &cfg)

	g, b := w.open(t, &cfg)
	closed := false
	closeG := func() {
		if !closed {
			closeGateway(t, g) // waits for alerts in flight
			closed = true
		}
	}
	defer closeG()
	ctx := context.Background()

	// The disk fills up once the medium is powered.
	filled := false
	rep, err := g.RunCycle(ctx, func(ev backup.CycleEvent) {
		if ev.Phase == "attach" && !filled {
			fillDisk(t, perm)
			filled = true
		}
	})
	if err != nil || !rep.OK() {
		t.Fatalf("the cycle during which /perm filled up failed: %v", err)
	}

	ents, err := ledger.Read(moved, ledger.Filter{Medium: "disk-a", Kinds: []ledger.Kind{ledger.KindPowerOn, ledger.KindSnapshot, ledger.KindPowerOffVerified}})
	if err != nil || len(ents) < 3 || ents[len(ents)-1].Kind != ledger.KindPowerOffVerified {
		var kinds []string
		for _, e := range ents {
			kinds = append(kinds, string(e.Kind))
		}
		t.Errorf("the power session on a full disk is not on record: %v %v", err, kinds)
	}
	res.falseOffln += w.falseOffline(t)

	// Still full: no medium is powered, the failure says why.
	commands := b.Relay("relay-disk-a").Commands()
	rep, err = g.RunCycle(ctx, nil)
	switch {
	case err == nil || rep.OK():
		t.Error("a cycle powered a medium with no room left for its evidence")
	case !strings.Contains(err.Error(), "証跡台帳のディスク") || !strings.Contains(err.Error(), "no medium is powered"):
		t.Errorf("the failure does not name the ledger's disk: %v", err)
	case b.Relay("relay-disk-a").Commands() != commands || fake.CoilPersisted(w.board, "relay-disk-a"):
		t.Error("the relay was switched on with no room for the evidence")
	}
	res.falseOffln += w.falseOffline(t)

	// Space again: the reserve comes back and the cycle runs.
	must(t, os.Remove(filepath.Join(perm, "filler")))
	if rep, err := g.RunCycle(ctx, nil); err != nil || !rep.OK() {
		t.Errorf("the cycle after freeing /perm failed: %v", err)
	} else {
		res.survived = 1
	}
	if fi, err := os.Stat(filepath.Join(moved, ledger.ReserveFileName)); err != nil || fi.Size() != ledger.DefaultReserve {
		t.Errorf("the ledger's reserve is not back: %v", err)
	}
	if _, err := g.Drill(ctx, "", "fault-suite", nil); err != nil {
		t.Errorf("the drill after /perm was full failed: %v", err)
		res.dataLost = 1
	}
	closeG()
	if len(sink.of(string(alert.KindLedgerFull), false)) == 0 || len(sink.of(string(alert.KindLedgerFull), true)) == 0 {
		t.Errorf("the ledger_full alert and its resolution were not both sent: %+v", sink.got)
	}
	if rep, err := ledger.Verify(moved); err != nil {
		t.Errorf("ledger: %v\n%s", err, rep)
	}
	res.falseOffln += w.falseOffline(t)
	if t.Failed() {
		res.survived = 0
	}
	record(res)
}
